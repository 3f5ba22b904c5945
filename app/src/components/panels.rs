//! The call's side panels (chat, people): which are open, and how many
//! chat messages came while the chat was closed.

use crate::session::{LogEntry, Logged};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Chat,
    People,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Panels {
    pub chat: bool,
    pub people: bool,
}

impl Panels {
    /// A wide screen has room for both beside the call; on a phone the call
    /// comes first and panels are opened when wanted.
    pub fn initial(narrow: bool) -> Self {
        Self { chat: !narrow, people: !narrow }
    }

    pub fn is_open(self, panel: Panel) -> bool {
        match panel {
            Panel::Chat => self.chat,
            Panel::People => self.people,
        }
    }

    pub fn any(self) -> bool {
        self.chat || self.people
    }

    /// On a narrow screen a panel is a sheet over the call, so opening one
    /// closes the other; a wide screen stacks them.
    pub fn toggle(self, panel: Panel, narrow: bool) -> Self {
        let open = !self.is_open(panel);
        let mut next = if open && narrow { Self { chat: false, people: false } } else { self };
        match panel {
            Panel::Chat => next.chat = open,
            Panel::People => next.people = open,
        }
        next
    }

    pub fn close(self, panel: Panel) -> Self {
        match panel {
            Panel::Chat => Self { chat: false, ..self },
            Panel::People => Self { people: false, ..self },
        }
    }

    /// A window narrowed to phone width keeps at most one sheet: the chat,
    /// where a conversation was going on.
    pub fn fit(self, narrow: bool) -> Self {
        if narrow && self.chat && self.people {
            Self { chat: true, people: false }
        } else {
            self
        }
    }
}

/// The number the next entry will have: someone with the chat open has
/// seen everything before it.
pub fn log_end(log: &[Logged]) -> u64 {
    log.last().map_or(0, |l| l.seq + 1)
}

/// Other people's messages from `seen` on (notices and our own lines are
/// not news).
pub fn unread(log: &[Logged], seen: u64) -> usize {
    log.iter()
        .rev()
        .take_while(|l| l.seq >= seen)
        .filter(|l| matches!(l.entry, LogEntry::Chat { mine: false, .. }))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Member, PeerId};

    fn chat(seq: u64, mine: bool) -> Logged {
        let from =
            Member { id: PeerId("p".into()), nickname: "Ann".into(), media: Default::default(), hand: None };
        let entry =
            LogEntry::Chat { from, text: "hi".into(), ts: 0, mine, pending: false, nonce: None, p2p: false };
        Logged { seq, entry }
    }

    fn notice(seq: u64) -> Logged {
        Logged { seq, entry: LogEntry::Notice { text: "Ben joined".into(), ts: 0 } }
    }

    #[test]
    fn a_phone_starts_with_the_call_alone_and_a_desktop_with_both_panels() {
        assert!(!Panels::initial(true).any());
        assert_eq!(Panels::initial(false), Panels { chat: true, people: true });
    }

    #[test]
    fn on_a_phone_one_sheet_at_a_time() {
        let p = Panels::initial(true).toggle(Panel::People, true);
        assert_eq!(p, Panels { chat: false, people: true });
        let p = p.toggle(Panel::Chat, true);
        assert_eq!(p, Panels { chat: true, people: false });
        assert!(!p.toggle(Panel::Chat, true).any());
    }

    #[test]
    fn on_a_desktop_panels_open_and_close_independently() {
        let p = Panels::initial(false).toggle(Panel::People, false);
        assert_eq!(p, Panels { chat: true, people: false });
        assert_eq!(p.toggle(Panel::People, false), Panels { chat: true, people: true });
        assert_eq!(p.close(Panel::Chat), Panels { chat: false, people: false });
    }

    #[test]
    fn narrowing_the_window_keeps_the_chat_sheet_only() {
        assert_eq!(Panels::initial(false).fit(true), Panels { chat: true, people: false });
        assert_eq!(Panels::initial(false).fit(false), Panels::initial(false));
    }

    #[test]
    fn unread_counts_other_peoples_messages_after_the_last_seen() {
        let log = vec![chat(0, false), notice(1), chat(2, true), chat(3, false), chat(4, false)];
        assert_eq!(unread(&log, 0), 3);
        assert_eq!(unread(&log, 3), 2);
        assert_eq!(unread(&log, log_end(&log)), 0);
        assert_eq!(unread(&[notice(0), chat(1, true)], 0), 0);
        assert_eq!(log_end(&[]), 0);
    }
}
