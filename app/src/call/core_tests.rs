use super::*;
use crate::protocol::{MediaState, MediaTransport, SdpType, Slot, TrackKind};

fn id(s: &str) -> PeerId {
    PeerId(s.into())
}

fn member(s: &str) -> Member {
    Member { id: id(s), nickname: s.to_uppercase(), media: MediaState::default(), hand: None }
}

fn roster(me: &str, members: &[&str], media: MediaMode) -> Input {
    Input::Roster(Some(Roster { me: id(me), members: members.iter().map(|m| id(m)).collect(), media }))
}

fn offer() -> SignalPayload {
    SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() }
}

struct Call {
    core: CallCore,
    view: CallState,
}

impl Call {
    fn new() -> Self {
        Call { core: CallCore::default(), view: CallState::default() }
    }

    fn on(&mut self, input: Input) -> Vec<Action> {
        self.core.handle(&mut self.view, input)
    }

    fn tiles(&self) -> Vec<&str> {
        self.view.peers.iter().map(|p| p.id.0.as_str()).collect()
    }

    fn open_channel(&mut self, peer: &str) {
        self.on(Input::Channel { peer: id(peer), open: true });
    }
}

#[test]
fn in_a_mesh_the_later_member_offers_to_each_earlier_one() {
    let mut call = Call::new();
    let out = call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    assert_eq!(
        out,
        vec![
            Action::Connect { id: id("a"), media: true, offer: true },
            Action::Connect { id: id("b"), media: true, offer: true },
        ]
    );
    assert_eq!(call.tiles(), ["a", "b"]);
    assert!(call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh)).is_empty(), "a repeat changes nothing");
}

#[test]
fn in_a_mesh_a_later_member_is_answered_on_a_new_connection() {
    let mut call = Call::new();
    assert!(call.on(roster("a", &["a", "b"], MediaMode::Mesh)).is_empty(), "b offers, not us");
    let out = call.on(Input::Signal { from: id("b"), payload: offer() });
    assert_eq!(
        out,
        vec![
            Action::Connect { id: id("b"), media: true, offer: false },
            Action::ToPeer { id: id("b"), payload: offer() },
        ]
    );
    let again = call.on(Input::Signal { from: id("b"), payload: offer() });
    assert_eq!(again, vec![Action::ToPeer { id: id("b"), payload: offer() }]);
}

#[test]
fn someone_leaving_closes_their_connection_and_tile() {
    let mut call = Call::new();
    call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    let out = call.on(roster("c", &["b", "c"], MediaMode::Mesh));
    assert_eq!(out, vec![Action::Disconnect(id("a"))]);
    assert_eq!(call.tiles(), ["b"]);
}

#[test]
fn signals_outside_a_call_are_ignored() {
    let mut call = Call::new();
    assert!(call.on(Input::Signal { from: id("b"), payload: offer() }).is_empty());
    call.on(roster("a", &["a", "b"], MediaMode::Mesh));
    call.on(Input::Leave);
    assert!(call.on(Input::Signal { from: id("b"), payload: offer() }).is_empty());
}

#[test]
fn an_sfu_room_opens_one_link_with_a_tile_per_member_and_replays_early_messages() {
    let mut call = Call::new();
    let early = RoomMsg::Media { transport: MediaTransport::Subscribe, payload: offer() };
    assert!(call.on(Input::FromSfu(early.clone())).is_empty(), "held until the link exists");
    let out = call.on(roster("a", &["a", "b", "c"], MediaMode::Sfu));
    assert_eq!(out, vec![Action::OpenSfu, Action::ToSfu(early)]);
    assert_eq!(call.tiles(), ["b", "c"]);
    assert!(call.view.peers.iter().all(|p| p.link == PeerLink::Connecting));
    let slots = RoomMsg::SlotMap {
        slots: vec![Slot { mid: "0".into(), kind: TrackKind::Video, peer: Some(id("b")) }],
    };
    assert_eq!(call.on(Input::FromSfu(slots.clone())), vec![Action::ToSfu(slots)]);
    call.on(Input::SfuLink(PeerLink::Connected));
    assert!(call.view.peers.iter().all(|p| p.link == PeerLink::Connected));
    let out = call.on(roster("a", &["a", "c", "d"], MediaMode::Sfu));
    assert!(out.is_empty(), "a join or leave needs no new connection: {out:?}");
    assert_eq!(call.tiles(), ["c", "d"]);
    assert_eq!(
        call.view.peer(&id("d")).map(|p| p.link),
        Some(PeerLink::Connected),
        "a newcomer's tile takes the link"
    );
}

#[test]
fn a_rejoin_starts_a_new_link_to_the_server() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Sfu));
    assert_eq!(call.on(Input::Joined), vec![Action::CloseSfu]);
    let stale = RoomMsg::Media { transport: MediaTransport::Subscribe, payload: offer() };
    call.on(Input::FromSfu(stale.clone()));
    assert_eq!(
        call.on(roster("a", &["a", "b"], MediaMode::Sfu)),
        vec![Action::OpenSfu, Action::ToSfu(stale)]
    );
}

#[test]
fn a_link_that_could_not_open_is_tried_again_on_the_next_change() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Sfu));
    call.on(Input::SfuFailed);
    assert_eq!(call.on(roster("a", &["a", "b", "c"], MediaMode::Sfu)), vec![Action::OpenSfu]);
}

impl Call {
    /// (person, via server, picture revision) of each tile.
    fn sources(&self) -> Vec<(&str, bool, u32)> {
        self.view.peers.iter().map(|p| (p.id.0.as_str(), p.via_server, p.stream_rev)).collect()
    }
}

#[test]
fn a_mesh_growing_into_the_server_moves_each_tile_as_its_media_arrives_and_the_mesh_goes_when_due() {
    let mut call = Call::new();
    call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    call.on(Input::PeerLink { peer: id("a"), link: PeerLink::Connected });
    // The server offers as soon as the room is through it, maybe before
    // the page has taken the change in.
    let early = RoomMsg::Media { transport: MediaTransport::Subscribe, payload: offer() };
    assert!(call.on(Input::FromSfu(early.clone())).is_empty());
    let out = call.on(roster("c", &["a", "b", "c", "d"], MediaMode::Sfu));
    assert_eq!(out, vec![Action::OpenSfu, Action::ToSfu(early), Action::HandOver], "nothing closes yet");
    assert_eq!(call.sources(), [("a", false, 0), ("b", false, 0), ("d", true, 0)]);
    // The server link's state is for the tiles it feeds.
    call.on(Input::SfuLink(PeerLink::Connecting));
    assert_eq!(call.view.peer(&id("a")).map(|p| p.link), Some(PeerLink::Connected));
    // a's tile moves; the connection stays: a may still be watching it.
    assert!(call.on(Input::Decoded(id("a"))).is_empty());
    assert_eq!(call.sources(), [("a", true, 1), ("b", false, 0), ("d", true, 0)]);
    assert_eq!(call.view.peer(&id("a")).map(|p| p.link), Some(PeerLink::Connecting));
    call.on(Input::PeerTracks(id("a")));
    assert!(call.on(Input::Decoded(id("a"))).is_empty());
    assert_eq!(call.sources()[0], ("a", true, 1), "once, and the old path no longer redraws it");
    // b's media never came through the server in time: b moves anyway,
    // and the mesh goes.
    assert_eq!(call.on(Input::HandOverDue), vec![Action::Disconnect(id("a")), Action::Disconnect(id("b"))]);
    assert_eq!(call.sources(), [("a", true, 1), ("b", true, 1), ("d", true, 0)]);
    assert!(call.on(Input::HandOverDue).is_empty());
}

#[test]
fn back_to_a_mesh_the_server_link_stays_until_the_hand_over_is_due() {
    let mut call = Call::new();
    call.on(roster("b", &["a", "b", "c"], MediaMode::Sfu));
    call.on(Input::SfuLink(PeerLink::Connected));
    call.on(Input::OpenDirect);
    let out = call.on(roster("b", &["a", "b", "c"], MediaMode::Mesh));
    assert_eq!(
        out,
        vec![
            Action::Disconnect(id("a")),
            Action::Disconnect(id("c")),
            Action::Connect { id: id("a"), media: true, offer: true },
            Action::HandOver,
        ],
        "data-only connections make way for media ones; the server link stays"
    );
    assert_eq!(call.sources(), [("a", true, 0), ("c", true, 0)]);
    // c, the later one, offers; its tile stays on the server's media meanwhile.
    call.on(Input::Signal { from: id("c"), payload: offer() });
    assert_eq!(call.sources(), [("a", true, 0), ("c", true, 0)]);
    call.on(Input::PeerLink { peer: id("c"), link: PeerLink::Connected });
    assert!(call.view.peers.iter().all(|p| p.link == PeerLink::Connected));
    assert!(call.on(Input::Decoded(id("c"))).is_empty());
    assert_eq!(call.sources(), [("a", true, 0), ("c", false, 1)]);
    // Our link to the server carries our media to the others too: it
    // stays until time is up.
    assert_eq!(call.on(Input::HandOverDue), vec![Action::CloseSfu]);
    assert_eq!(call.sources(), [("a", false, 1), ("c", false, 1)]);
    assert_eq!(
        call.view.peer(&id("a")).map(|p| p.link),
        Some(PeerLink::Connecting),
        "a's own link, not yet up"
    );
}

#[test]
fn new_connections_to_the_server_forget_who_was_held_back() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Sfu));
    call.view.held_back = vec![id("b")];
    call.on(Input::FromSfu(RoomMsg::MediaRestarted));
    assert!(call.view.held_back.is_empty());
}

#[test]
fn alone_the_old_path_goes_at_once() {
    let mut call = Call::new();
    call.on(roster("a", &["a"], MediaMode::Mesh));
    assert_eq!(call.on(roster("a", &["a"], MediaMode::Sfu)), vec![Action::OpenSfu]);
    assert_eq!(call.on(roster("a", &["a"], MediaMode::Mesh)), vec![Action::CloseSfu]);
    assert!(call.on(Input::HandOverDue).is_empty());
}

#[test]
fn a_server_link_lost_while_handing_over_to_a_mesh_just_ends_it() {
    let mut call = Call::new();
    call.on(roster("b", &["a", "b"], MediaMode::Sfu));
    call.on(roster("b", &["a", "b"], MediaMode::Mesh));
    assert_eq!(call.on(Input::SfuLost), vec![Action::CloseSfu], "no restart: the room left the server");
    assert_eq!(call.sources(), [("a", false, 1)]);
}

#[test]
fn someone_leaving_mid_hand_over_takes_their_tile_along() {
    let mut call = Call::new();
    call.on(roster("b", &["a", "b", "c"], MediaMode::Sfu));
    call.on(roster("b", &["a", "b", "c"], MediaMode::Mesh));
    call.on(roster("b", &["a", "b"], MediaMode::Mesh));
    assert_eq!(call.tiles(), ["a"]);
}

#[test]
fn direct_chat_in_an_sfu_room_opens_data_only_connections_that_leave_the_tiles_alone() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b", "c"], MediaMode::Sfu));
    let out = call.on(Input::OpenDirect);
    assert_eq!(
        out,
        vec![
            Action::Connect { id: id("b"), media: false, offer: true },
            Action::Connect { id: id("c"), media: false, offer: true },
        ]
    );
    assert!(call.on(Input::OpenDirect).is_empty(), "asked once");
    call.on(Input::SfuLink(PeerLink::Connected));
    call.on(Input::PeerLink { peer: id("b"), link: PeerLink::Connecting });
    call.on(Input::PeerTracks(id("b")));
    let b = call.view.peer(&id("b")).unwrap();
    assert_eq!((b.link, b.stream_rev), (PeerLink::Connected, 0), "the server's link and stream");
    call.open_channel("b");
    assert!(call.view.peer(&id("b")).unwrap().p2p_open);
    // A newcomer gets a direct connection too; someone leaving loses theirs.
    let out = call.on(roster("a", &["a", "c", "d"], MediaMode::Sfu));
    assert_eq!(
        out,
        vec![Action::Disconnect(id("b")), Action::Connect { id: id("d"), media: false, offer: true }]
    );
    assert_eq!(call.tiles(), ["c", "d"]);
}

#[test]
fn a_direct_offer_in_an_sfu_room_is_answered_data_only() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Sfu));
    let out = call.on(Input::Signal { from: id("b"), payload: offer() });
    assert_eq!(
        out,
        vec![
            Action::Connect { id: id("b"), media: false, offer: false },
            Action::ToPeer { id: id("b"), payload: offer() },
        ]
    );
    assert_eq!(call.tiles(), ["b"], "still one tile");
}

#[test]
fn a_connection_that_could_not_be_created_is_forgotten() {
    let mut call = Call::new();
    call.on(roster("b", &["a", "b"], MediaMode::Mesh));
    call.on(Input::ConnectFailed(id("a")));
    assert!(call.tiles().is_empty());
    let out = call.on(roster("b", &["a", "b"], MediaMode::Mesh));
    assert_eq!(out, vec![Action::Connect { id: id("a"), media: true, offer: true }], "tried again");
}

#[test]
fn chat_goes_to_open_channels_only_and_needs_one() {
    let mut call = Call::new();
    call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    let out = call.on(Input::SendChat { me: member("c"), text: "hi".into() });
    assert!(matches!(&out[..], [Action::ChatRefused(_)]), "{out:?}");
    call.open_channel("b");
    let out = call.on(Input::SendChat { me: member("c"), text: "hi".into() });
    assert_eq!(
        out,
        vec![
            Action::SendText { to: vec![id("b")], frame: r#"{"kind":"chat","text":"hi"}"#.into() },
            Action::ShowChat { from: member("c"), text: "hi".into(), mine: true },
        ]
    );
    let out = call.on(Input::SendChat { me: member("c"), text: "   ".into() });
    assert!(matches!(&out[..], [Action::ChatRefused(_)]), "blank is refused: {out:?}");
}

#[test]
fn chat_received_is_shown_and_garbage_is_not() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Mesh));
    let chat = Input::Text { from: member("b"), text: r#"{"kind":"chat","text":"hello"}"#.into() };
    assert_eq!(
        call.on(chat),
        vec![Action::ShowChat { from: member("b"), text: "hello".into(), mine: false }]
    );
    assert!(call.on(Input::Text { from: member("b"), text: "{not json".into() }).is_empty());
    assert!(call
        .on(Input::Text { from: member("b"), text: r#"{"kind":"chat","text":""}"#.into() })
        .is_empty());
}

fn file_start(id: u32, size: u64) -> Input {
    Input::Text {
        from: member("b"),
        text: format!(
            r#"{{"kind":"file_start","id":{id},"name":"../a.txt","size":{size},"mime":"text/plain"}}"#
        ),
    }
}

#[test]
fn a_file_received_whole_is_saved_with_its_progress_shown() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Mesh));
    assert_eq!(call.on(file_start(7, 10)), vec![Action::Receive { from: id("b"), id: 7 }]);
    assert_eq!(call.view.transfers[0].name, "a.txt", "a path is cut to its name");
    assert_eq!(call.view.transfers[0].peer_name, "B");
    assert!(call.on(Input::Chunk { from: id("b"), id: 7, len: 6 }).is_empty());
    call.on(Input::Chunk { from: id("b"), id: 7, len: 4 });
    assert_eq!(call.view.transfers[0].done, 10);
    let out = call.on(Input::Text { from: member("b"), text: r#"{"kind":"file_end","id":7}"#.into() });
    let key = "in-b-7".to_owned();
    assert_eq!(out, vec![Action::Save { from: id("b"), id: 7, key: key.clone(), mime: "text/plain".into() }]);
    call.on(Input::Saved { key, result: Ok("blob:x".into()) });
    assert_eq!(call.view.transfers[0].url.as_deref(), Some("blob:x"));
}

#[test]
fn a_file_that_overruns_or_ends_short_is_an_error_not_a_download() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Mesh));
    call.on(file_start(1, 4));
    assert_eq!(
        call.on(Input::Chunk { from: id("b"), id: 1, len: 5 }),
        vec![Action::Discard { from: id("b"), id: 1 }]
    );
    assert!(call.view.transfers[0].error.is_some());
    assert!(call.on(Input::Chunk { from: id("b"), id: 1, len: 1 }).is_empty(), "forgotten");
    call.on(file_start(2, 4));
    call.on(Input::Chunk { from: id("b"), id: 2, len: 3 });
    let out = call.on(Input::Text { from: member("b"), text: r#"{"kind":"file_end","id":2}"#.into() });
    assert_eq!(out, vec![Action::Discard { from: id("b"), id: 2 }]);
    assert!(call.view.transfers[1].error.as_deref().is_some_and(|e| e.contains("3 of 4")));
}

#[test]
fn a_file_too_large_is_refused_before_any_data() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Mesh));
    assert!(call.on(file_start(1, u64::MAX)).is_empty());
    assert!(call.view.transfers[0].error.is_some());
    assert!(call.on(Input::Chunk { from: id("b"), id: 1, len: 1 }).is_empty());
}

#[test]
fn a_peer_leaving_mid_file_drops_what_was_coming() {
    let mut call = Call::new();
    call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    call.on(Input::Text {
        from: member("a"),
        text: r#"{"kind":"file_start","id":1,"name":"x","size":4,"mime":""}"#.into(),
    });
    call.on(roster("c", &["b", "c"], MediaMode::Mesh));
    assert!(call.on(Input::Chunk { from: id("a"), id: 1, len: 4 }).is_empty());
}

#[test]
fn files_go_to_everyone_reachable_each_with_its_own_transfer() {
    let mut call = Call::new();
    call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    call.open_channel("a");
    call.open_channel("b");
    let files = vec![Outgoing { name: "x.png".into(), size: 3 }, Outgoing { name: "y".into(), size: 5 }];
    let out = call.on(Input::SendFiles { files, people: vec![member("a"), member("b"), member("c")] });
    let sends: Vec<_> = out
        .iter()
        .map(|a| match a {
            Action::SendFile { to, file, id, .. } => (to.0.clone(), *file, *id),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sends, [("a".into(), 0, 1), ("b".into(), 0, 2), ("a".into(), 1, 3), ("b".into(), 1, 4)]);
    let names: Vec<_> = call.view.transfers.iter().map(|t| t.peer_name.as_str()).collect();
    assert_eq!(names, ["A", "B", "A", "B"]);
    call.on(Input::Progress { key: "out-a-1".into(), done: 2 });
    call.on(Input::SendFailed { key: "out-b-2".into(), error: "closed".into() });
    assert_eq!(call.view.transfers[0].done, 2);
    assert_eq!(call.view.transfers[1].error.as_deref(), Some("closed"));
}

#[test]
fn transports_signals_go_out_through_the_server() {
    let mut call = Call::new();
    call.on(roster("b", &["a", "b"], MediaMode::Mesh));
    let out = call.on(Input::PeerSignal { to: id("a"), payload: offer() });
    assert_eq!(out, vec![Action::Relay { to: id("a"), payload: offer() }]);
}

#[test]
fn leaving_closes_everything() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b", "c"], MediaMode::Sfu));
    call.on(Input::OpenDirect);
    let out = call.on(Input::Leave);
    assert_eq!(out, vec![Action::Disconnect(id("b")), Action::Disconnect(id("c")), Action::CloseSfu]);
    assert!(call.tiles().is_empty());
}

#[test]
fn only_signaling_leaves_the_view_untouched() {
    assert!(!Input::Signal { from: id("a"), payload: offer() }.touches_view());
    assert!(!Input::PeerSignal { to: id("a"), payload: offer() }.touches_view());
    assert!(
        Input::Text { from: member("a"), text: String::new() }.touches_view(),
        "a file start adds a transfer"
    );
    assert!(Input::Chunk { from: id("a"), id: 1, len: 1 }.touches_view());
}

#[test]
fn a_lost_link_to_the_server_starts_over_once_the_server_confirms() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Sfu));
    call.on(Input::SfuLink(PeerLink::Connected));
    assert_eq!(call.on(Input::SfuLost), vec![Action::CloseSfu, Action::RestartMedia]);
    assert_eq!(call.view.peer(&id("b")).map(|p| p.link), Some(PeerLink::Reconnecting));
    assert!(call.on(Input::SfuLost).is_empty(), "one restart at a time");
    // What the server sent the old connections before it confirmed is stale.
    let stale = RoomMsg::Media { transport: MediaTransport::Subscribe, payload: offer() };
    assert!(call.on(Input::FromSfu(stale)).is_empty());
    assert!(
        call.on(roster("a", &["a", "b", "c"], MediaMode::Sfu)).is_empty(),
        "no link before the confirmation"
    );
    assert_eq!(call.on(Input::FromSfu(RoomMsg::MediaRestarted)), vec![Action::OpenSfu]);
    assert_eq!(call.view.peer(&id("c")).map(|p| p.link), Some(PeerLink::Reconnecting));
    let fresh = RoomMsg::Media { transport: MediaTransport::Subscribe, payload: offer() };
    assert_eq!(call.on(Input::FromSfu(fresh.clone())), vec![Action::ToSfu(fresh)]);
    call.on(Input::SfuLink(PeerLink::Connected));
    assert!(call.view.peers.iter().all(|p| p.link == PeerLink::Connected));
    assert!(call.on(Input::FromSfu(RoomMsg::MediaRestarted)).is_empty(), "a stray confirmation");
}

#[test]
fn a_rejoin_or_leaving_ends_a_restart() {
    let mut call = Call::new();
    call.on(roster("a", &["a", "b"], MediaMode::Sfu));
    call.on(Input::SfuLost);
    call.on(Input::Joined);
    assert_eq!(call.on(roster("a", &["a", "b"], MediaMode::Sfu)), vec![Action::OpenSfu]);
    call.on(Input::SfuLost);
    call.on(Input::Leave);
    assert!(call.on(Input::FromSfu(RoomMsg::MediaRestarted)).is_empty());
}

#[test]
fn the_same_people_after_a_signaling_reconnect_keep_their_connections() {
    let mut call = Call::new();
    call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    // Back after a restart, first in the room again, the others returning.
    assert!(call.on(roster("c", &["c", "a", "b"], MediaMode::Mesh)).is_empty());
    assert_eq!(call.tiles(), ["a", "b"]);
}

#[test]
fn coming_back_as_someone_else_starts_every_connection_over() {
    let mut call = Call::new();
    call.on(roster("c", &["a", "b", "c"], MediaMode::Mesh));
    let out = call.on(roster("c2", &["a", "b", "c2"], MediaMode::Mesh));
    assert_eq!(
        out,
        vec![
            Action::Disconnect(id("a")),
            Action::Disconnect(id("b")),
            Action::Connect { id: id("a"), media: true, offer: true },
            Action::Connect { id: id("b"), media: true, offer: true },
        ]
    );
}
