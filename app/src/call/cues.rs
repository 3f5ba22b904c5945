//! Which sounds a change in the room calls for.

use crate::protocol::{Member, PeerId};
pub use crate::rtc::sounds::Cue;

/// The cues for the room going from `before` to `after`: one per kind at
/// most (three people arriving at once is one chime), and none for our own
/// comings, goings and hand.
pub fn cues(before: &[Member], after: &[Member], me: Option<&PeerId>) -> Vec<Cue> {
    let others = |list: &'_ [Member]| -> Vec<PeerId> {
        list.iter().filter(|m| Some(&m.id) != me).map(|m| m.id.clone()).collect()
    };
    let (was, now) = (others(before), others(after));
    let mut out = Vec::new();
    if now.iter().any(|id| !was.contains(id)) {
        out.push(Cue::Joined);
    }
    if was.iter().any(|id| !now.contains(id)) {
        out.push(Cue::Left);
    }
    let raised = |list: &[Member], id: &PeerId| list.iter().any(|m| &m.id == id && m.hand.is_some());
    if after.iter().any(|m| Some(&m.id) != me && m.hand.is_some() && !raised(before, &m.id)) {
        out.push(Cue::Hand);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, hand: Option<u64>) -> Member {
        Member { id: PeerId(id.into()), nickname: id.into(), media: Default::default(), hand }
    }

    #[test]
    fn arrivals_departures_and_raised_hands_each_chime_once() {
        let me = PeerId("me".into());
        let before = vec![m("me", None), m("ann", None), m("bo", None)];
        assert!(cues(&before, &before, Some(&me)).is_empty());
        let two_more = vec![m("me", None), m("ann", None), m("bo", None), m("cy", None), m("di", None)];
        assert_eq!(cues(&before, &two_more, Some(&me)), vec![Cue::Joined]);
        let swap = vec![m("me", None), m("ann", None), m("cy", None)];
        assert_eq!(cues(&before, &swap, Some(&me)), vec![Cue::Joined, Cue::Left]);
        let hand = vec![m("me", None), m("ann", Some(5)), m("bo", None)];
        assert_eq!(cues(&before, &hand, Some(&me)), vec![Cue::Hand]);
        assert!(cues(&hand, &hand, Some(&me)).is_empty(), "still up is not news");
    }

    #[test]
    fn our_own_join_leave_and_hand_are_silent() {
        let me = PeerId("me".into());
        let alone = vec![m("ann", None)];
        let in_it = vec![m("ann", None), m("me", Some(3))];
        assert!(cues(&alone, &in_it, Some(&me)).is_empty());
        assert!(cues(&in_it, &alone, Some(&me)).is_empty());
    }
}
