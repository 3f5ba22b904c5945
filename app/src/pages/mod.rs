mod lobby;
mod not_found;
mod room;

pub use lobby::LobbyPage;
pub use not_found::NotFound;
#[cfg(feature = "hydrate")]
pub use room::load as load_room_chunk;
pub use room::room_page;
