mod chat;
mod controls;
mod devices;
mod field;
mod icons;
mod members;
mod nickname;
mod panels;
mod prejoin;
mod room_list;
mod stage;
mod stats;
mod status;
mod title;
mod topbar;
mod video;

pub use chat::ChatPanel;
pub use controls::{CallControls, RouteBadge};
pub use field::TextField;
pub use members::MemberList;
pub use nickname::NicknamePrompt;
pub use panels::{log_end, unread, Panel, Panels};
pub use prejoin::PreJoin;
pub use room_list::RoomList;
pub use stage::Stage;
pub use status::{ConnStatus, ProblemBanner};
pub use title::page_title;
pub use topbar::TopBar;

/// Up to two initials for an avatar ("Ada Lovelace" → "AL").
pub fn initials(name: &str) -> String {
    let mut words = name.split_whitespace();
    let first = words.next().and_then(|w| w.chars().next());
    let last = words.last().and_then(|w| w.chars().next());
    first.into_iter().chain(last).flat_map(char::to_uppercase).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_take_first_and_last_words() {
        assert_eq!(super::initials("Ada Lovelace"), "AL");
        assert_eq!(super::initials("ada"), "A");
        assert_eq!(super::initials("  grace  brewster  hopper "), "GH");
        assert_eq!(super::initials(""), "");
    }
}
