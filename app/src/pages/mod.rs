mod lobby;
mod not_found;
mod room;

pub use lobby::LobbyPage;
pub use not_found::NotFound;
pub use room::RoomRoute;
