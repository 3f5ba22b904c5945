//! Two hubs wired together by hand: what one publishes, the other applies.

use super::remote::MISSING_GRACE_MS;
use super::*;
use app::protocol::SdpType;

fn id(s: &str) -> PeerId {
    PeerId(s.into())
}

/// A hub with what the transport does for it: every output's events and
/// releases kept in the order produced, for the test to pump or inspect.
#[derive(Default)]
struct Node {
    hub: Hub,
    published: Vec<Outgoing>,
    released: Vec<String>,
}

impl Node {
    fn keep(&mut self, out: Output) -> Output {
        let Output { deliveries, publish, released, refused, media: _ } = out;
        self.published.extend(publish);
        self.released.extend(released);
        Output { deliveries, refused, ..Output::default() }
    }

    fn connect(&mut self, id: &PeerId, now_ms: u64) -> Vec<Delivery> {
        let out = self.hub.connect(id, now_ms, None);
        self.keep(out).deliveries
    }

    fn handle(&mut self, from: &PeerId, msg: ClientMsg, now_ms: u64) -> Result<Vec<Delivery>, HubError> {
        let out = self.hub.handle(from, msg, now_ms);
        self.keep(out).result()
    }

    fn reconcile(&mut self, room: &str, placed: Vec<Placed>) -> Vec<Delivery> {
        self.reconcile_at(room, placed, 0)
    }

    fn reconcile_at(&mut self, room: &str, placed: Vec<Placed>, now_ms: u64) -> Vec<Delivery> {
        let out = self.hub.reconcile(room, placed, now_ms);
        self.keep(out).deliveries
    }

    fn apply(&mut self, from_node: &str, event: ClusterEvent) -> Vec<Delivery> {
        let out = self.hub.apply(from_node, event);
        self.keep(out).deliveries
    }

    fn take_outgoing(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.published)
    }

    fn take_released(&mut self) -> Vec<String> {
        std::mem::take(&mut self.released)
    }
}

impl std::ops::Deref for Node {
    type Target = Hub;
    fn deref(&self) -> &Hub {
        &self.hub
    }
}

impl std::ops::DerefMut for Node {
    fn deref_mut(&mut self) -> &mut Hub {
        &mut self.hub
    }
}

fn clustered() -> Node {
    let mut node = Node::default();
    node.set_clustered();
    node
}

fn local(hub: &mut Node, who: &str) {
    hub.connect(&id(who), 0);
    hub.handle(&id(who), ClientMsg::SetNickname { nickname: who.into() }, 0).unwrap();
}

/// Delivers everything `from` published to `to`, as node `from_node`.
fn pump(from: &mut Node, from_node: &str, to: &mut Node) -> Vec<Delivery> {
    from.take_outgoing().into_iter().flat_map(|o| to.apply(from_node, o.event)).collect()
}

fn placed(who: &str, node: &str) -> Placed {
    Placed {
        member: Member { id: id(who), nickname: who.into(), media: MediaState::default(), hand: None },
        node: node.into(),
        since: 0,
    }
}

#[test]
fn a_single_node_publishes_nothing() {
    let mut hub = Node::default();
    local(&mut hub, "a");
    hub.handle(&id("a"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    assert!(hub.take_outgoing().is_empty());
}

#[test]
fn joins_chat_and_leaves_reach_the_other_node() {
    let (mut a, mut b) = (clustered(), clustered());
    local(&mut a, "ada");
    local(&mut b, "bob");
    a.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    // Node B replicates the room (as the transport does before a join)...
    b.reconcile("x", vec![placed("ada", "A")]);
    let out = b.handle(&id("bob"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    match &out.last().unwrap().msg {
        ServerMsg::Joined { members, .. } => {
            assert_eq!(members.iter().map(|m| m.nickname.as_str()).collect::<Vec<_>>(), vec!["ada", "bob"])
        }
        other => panic!("{other:?}"),
    }
    let _ = a.take_outgoing();
    // ...and A hears about Bob.
    let seen = pump(&mut b, "B", &mut a);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].to.ids(), &[id("ada")]);
    assert!(matches!(&seen[0].msg, ServerMsg::PeerJoined { peer } if peer.nickname == "bob"));
    assert_eq!(a.room_list(), vec![RoomSummary::open("x", 2)]);

    a.handle(&id("ada"), ClientMsg::Chat { text: "hi".into(), nonce: None }, 5).unwrap();
    let seen = pump(&mut a, "A", &mut b);
    assert_eq!(seen[0].to.ids(), &[id("bob")], "only B's own members");
    assert!(matches!(&seen[0].msg, ServerMsg::Chat { text, .. } if text == "hi"));

    b.handle(&id("bob"), ClientMsg::Leave, 0).unwrap();
    let seen = pump(&mut b, "B", &mut a);
    assert!(seen.iter().any(|d| matches!(&d.msg, ServerMsg::PeerLeft { peer } if peer.nickname == "bob")));
    assert_eq!(a.room_list(), vec![RoomSummary::open("x", 1)]);
    assert_eq!(b.take_released(), vec!["x".to_string()], "B no longer mirrors x");
}

#[test]
fn signals_to_a_remote_peer_go_to_its_node_and_stay_in_the_room() {
    let (mut a, mut b) = (clustered(), clustered());
    local(&mut a, "ada");
    local(&mut b, "bob");
    a.reconcile("x", vec![placed("bob", "B")]);
    a.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    b.reconcile("x", vec![placed("ada", "A")]);
    b.handle(&id("bob"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    let _ = (a.take_outgoing(), b.take_outgoing());
    let payload = SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() };
    let out = a.handle(&id("ada"), ClientMsg::Signal { to: id("bob"), payload: payload.clone() }, 0).unwrap();
    assert!(out.is_empty(), "nothing local");
    let published = a.take_outgoing();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].node.as_deref(), Some("B"));
    let seen = b.apply("A", published[0].event.clone());
    assert_eq!(
        seen,
        vec![Delivery::one(&id("bob"), ServerMsg::Signal { from: id("ada"), payload: payload.clone() })]
    );
    // A forged signal from someone not in Bob's room is dropped.
    let forged = ClusterEvent::Signal { to: id("bob"), from: id("mallory"), payload };
    assert!(b.apply("A", forged).is_empty());
}

#[test]
fn reconcile_adds_and_removes_remote_members() {
    let mut a = clustered();
    local(&mut a, "ada");
    a.reconcile("x", vec![placed("bob", "B"), placed("cat", "C")]);
    a.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    // Cat's node died; the record in Redis lost her and gained Dan. She
    // may yet be registered again (Redis restarted), so she stays a while.
    let now = vec![placed("ada", "A"), placed("bob", "B"), placed("dan", "C")];
    let out = a.reconcile_at("x", now.clone(), 1_000);
    assert!(!out.iter().any(|d| matches!(&d.msg, ServerMsg::PeerLeft { .. })));
    assert!(out.iter().any(|d| matches!(&d.msg, ServerMsg::PeerJoined { peer } if peer.nickname == "dan")));
    assert!(a.reconcile_at("x", now.clone(), 1_000 + MISSING_GRACE_MS - 1).is_empty());
    let out = a.reconcile_at("x", now.clone(), 1_000 + MISSING_GRACE_MS);
    assert!(out.iter().any(|d| matches!(&d.msg, ServerMsg::PeerLeft { peer } if peer.nickname == "cat")));
    assert_eq!(a.room_list()[0].count, 3);
    assert_eq!(a.lobby_list(), a.room_list(), "the lobby's order follows the cluster");
    assert!(a.reconcile_at("x", now, 1_000 + MISSING_GRACE_MS).is_empty());
}

#[test]
fn a_member_registered_again_within_the_grace_never_leaves() {
    let mut a = clustered();
    local(&mut a, "ada");
    a.reconcile("x", vec![placed("bob", "B")]);
    a.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    // Redis came back empty: only Ada, whose node registered first.
    assert!(a.reconcile_at("x", vec![placed("ada", "A")], 10_000).is_empty());
    // Bob's node registers him again: no leave, no join, and his clock is reset.
    assert!(a
        .apply("B", ClusterEvent::Joined { room: "x".into(), member: a.member(&id("bob")), since: 0 })
        .is_empty());
    assert!(a.reconcile_at("x", vec![placed("ada", "A")], 10_000 + MISSING_GRACE_MS - 1).is_empty());
    assert_eq!(a.room_list()[0].count, 2);
}

#[test]
fn rooms_held_only_elsewhere_are_listed_from_their_counts() {
    let mut a = clustered();
    local(&mut a, "watcher");
    a.set_room_count("far", 3);
    assert_eq!(a.room_list(), vec![RoomSummary::open("far", 3)]);
    assert_eq!(a.lobby_list(), a.room_list());
    let update = a.flush_lobby().unwrap();
    assert!(matches!(&update.msg, ServerMsg::RoomsChanged { changed, .. } if changed[0].count == 3));
    a.set_room_count("far", 0);
    assert_eq!(a.lobby_list(), vec![]);
    let update = a.flush_lobby().unwrap();
    assert!(
        matches!(&update.msg, ServerMsg::RoomsChanged { removed, .. } if removed == &vec!["far".to_string()])
    );
}

#[test]
fn a_refused_join_releases_the_replica() {
    let mut a = Node {
        hub: Hub::with_config(HubConfig { max_peers_per_room: 1, ..HubConfig::default() }),
        ..Node::default()
    };
    a.set_clustered();
    local(&mut a, "ada");
    a.reconcile("x", vec![placed("bob", "B")]);
    assert!(a.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).is_err(), "full");
    assert!(!a.is_replicated("x"));
    assert_eq!(a.take_released(), vec!["x".to_string()]);
    // The room stays in the lobby with the count it had.
    assert_eq!(a.room_list(), vec![RoomSummary::open("x", 1)]);
    assert_eq!(a.lobby_list(), a.room_list());
}

#[test]
fn chat_in_a_room_no_other_node_shares_stays_off_the_bus() {
    let mut a = clustered();
    local(&mut a, "ada");
    local(&mut a, "ann");
    a.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    a.handle(&id("ann"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    let _ = a.take_outgoing();
    a.handle(&id("ada"), ClientMsg::Chat { text: "local".into(), nonce: None }, 0).unwrap();
    assert!(a.take_outgoing().is_empty());
    // Once someone elsewhere is in the room, chat is published.
    a.apply("B", ClusterEvent::Joined { room: "x".into(), member: placed("bob", "B").member, since: 0 });
    a.handle(&id("ada"), ClientMsg::Chat { text: "hi bob".into(), nonce: None }, 0).unwrap();
    assert!(matches!(&a.take_outgoing()[..], [Outgoing { event: ClusterEvent::Chat { .. }, .. }]));
}

#[test]
fn a_room_known_elsewhere_but_not_learned_is_not_created_afresh() {
    // Redis did not answer in time: the node knows the room has people on
    // other nodes, but not its members or passcode.
    let mut a = Node::default();
    a.set_clustered();
    local(&mut a, "ada");
    a.set_room_count("vault", 2);
    let err = a.handle(&id("ada"), ClientMsg::Join { room: "vault".into(), passcode: None }, 0).unwrap_err();
    assert_eq!(err, HubError::Unavailable);
    assert!(a.take_outgoing().is_empty(), "no settings published for it");
}

#[test]
fn a_replica_comes_with_its_passcode() {
    let mut a = Node::default();
    a.set_clustered();
    local(&mut a, "ada");
    a.reconcile("vault", vec![placed("bob", "B")]);
    let settings = ClusterEvent::Settings {
        room: "vault".into(),
        passcode: Some(Passcode::new("pw")),
        locked: false,
        media: MediaMode::Mesh,
    };
    a.apply("", settings);
    let join = |p: Option<&str>| ClientMsg::Join { room: "vault".into(), passcode: p.map(Into::into) };
    assert_eq!(a.handle(&id("ada"), join(None), 0).unwrap_err(), HubError::PasscodeRequired);
    a.reconcile("vault", vec![placed("bob", "B")]);
    a.apply(
        "",
        ClusterEvent::Settings {
            room: "vault".into(),
            passcode: Some(Passcode::new("pw")),
            locked: false,
            media: MediaMode::Mesh,
        },
    );
    assert!(a.handle(&id("ada"), join(Some("pw")), 0).is_ok());
}

fn joined_at(hub: &mut Node, who: &str, room: &str, now_ms: u64) {
    local(hub, who);
    hub.handle(&id(who), ClientMsg::Join { room: room.into(), passcode: None }, now_ms).unwrap();
}

fn handed(out: Vec<Outgoing>) -> Handed {
    match out.as_slice() {
        [Outgoing { node: Some(to), event: ClusterEvent::HandedOver { ask: 7, session } }] if to == "B" => {
            session.clone()
        }
        other => panic!("not one answer to B: {other:?}"),
    }
}

#[test]
fn a_session_handed_to_another_node_keeps_its_room_and_place_and_nobody_sees_a_thing() {
    let (mut a, mut b, mut c) = (clustered(), clustered(), clustered());
    joined_at(&mut a, "ada", "x", 10);
    joined_at(&mut c, "cat", "x", 20);
    joined_at(&mut b, "bob", "x", 30);
    let events = [("A", a.take_outgoing()), ("C", c.take_outgoing()), ("B", b.take_outgoing())];
    for (name, events) in &events {
        for other in [&mut a, &mut b, &mut c] {
            for o in events {
                other.apply(name, o.event.clone());
            }
        }
    }
    assert_eq!(b.rooms["x"].members, vec![id("ada"), id("cat"), id("bob")]);

    // Ada's page came back through node B with the token A gave it.
    let out = a.hub.hand_over(&id("ada"), 4, "B", 7);
    let out = a.keep(out);
    assert!(out.deliveries.is_empty());
    let session = handed(a.take_outgoing());
    assert_eq!((session.generation, session.room.as_deref(), session.since), (4, Some("x"), 10));
    assert_eq!(a.take_released(), vec!["x".to_owned()], "nobody of A's own is left in x");

    let out = b.hub.adopt(session);
    assert!(b.keep(out).deliveries.is_empty(), "Bob knew Ada already");
    assert_eq!(b.rooms["x"].members, vec![id("ada"), id("cat"), id("bob")], "Ada is still the host");
    assert!(b.is_local(&id("ada")));
    assert_eq!(b.seat_of(&id("ada")).map(|s| s.since_ms), Some(10), "her next token keeps her place");
    // The record moves her to B; Cat's node sees no leave or join.
    let seen = pump(&mut b, "B", &mut c);
    assert!(seen.is_empty(), "{seen:?}");
    let offer = SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() };
    c.handle(&id("cat"), ClientMsg::Signal { to: id("ada"), payload: offer }, 40).unwrap();
    assert!(
        matches!(c.take_outgoing().as_slice(), [Outgoing { node: Some(n), .. }] if n == "B"),
        "signals for Ada go to B now"
    );
}

#[test]
fn a_session_in_the_lobby_moves_with_its_name_and_one_not_held_is_refused_as_ended() {
    let (mut a, mut b) = (clustered(), clustered());
    local(&mut a, "ada");
    let out = a.hub.hand_over(&id("ada"), 0, "B", 7);
    let _ = a.keep(out);
    let session = handed(a.take_outgoing());
    assert!(!a.knows(&id("ada")));
    let out = b.hub.adopt(session);
    let _ = b.keep(out);
    assert!(b.has_nickname(&id("ada")) && b.lobby.contains(&id("ada")));

    let out = a.hub.hand_over(&id("ada"), 0, "B", 8);
    let _ = a.keep(out);
    assert!(matches!(
        a.take_outgoing().as_slice(),
        [Outgoing { event: ClusterEvent::HandoverRefused { ask: 8, ended: true }, .. }]
    ));
}

#[test]
fn hands_and_reactions_reach_the_other_node_and_its_host_lowers_a_remote_hand() {
    use app::protocol::Reaction;
    let (mut a, mut b) = (clustered(), clustered());
    local(&mut a, "ada");
    local(&mut b, "bob");
    a.handle(&id("ada"), ClientMsg::Join { room: "x".into(), passcode: None }, 0).unwrap();
    b.reconcile("x", vec![placed("ada", "A")]);
    b.handle(&id("bob"), ClientMsg::Join { room: "x".into(), passcode: None }, 10).unwrap();
    let _ = a.take_outgoing();
    pump(&mut b, "B", &mut a);

    b.handle(&id("bob"), ClientMsg::RaiseHand { up: true }, 500).unwrap();
    let seen = pump(&mut b, "B", &mut a);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].to.ids(), &[id("ada")], "only A's own members");
    assert_eq!(seen[0].msg, ServerMsg::PeerHand { id: id("bob"), hand: Some(500) });

    // Ada hosts (she came first) and lowers Bob's hand from her node.
    let here = a.handle(&id("ada"), ClientMsg::LowerHand { id: id("bob") }, 600).unwrap();
    assert_eq!(here[0].to.ids(), &[id("ada")]);
    let there = pump(&mut a, "A", &mut b);
    assert_eq!(there.len(), 1);
    assert_eq!(there[0].to.ids(), &[id("bob")]);
    assert_eq!(there[0].msg, ServerMsg::PeerHand { id: id("bob"), hand: None });
    // Bob's node writes it into the cluster's record (re-read every few
    // seconds by every node, and shown to newcomers).
    let record = b.take_outgoing();
    assert!(
        record.iter().any(|o| matches!(&o.event,
            ClusterEvent::Updated { member, .. } if member.id == id("bob") && member.hand.is_none())),
        "{record:?}"
    );
    // Bob's own node now has it down: raising again is news everywhere.
    let up = b.handle(&id("bob"), ClientMsg::RaiseHand { up: true }, 700).unwrap();
    assert_eq!(up[0].msg, ServerMsg::PeerHand { id: id("bob"), hand: Some(700) });

    a.handle(&id("ada"), ClientMsg::React { reaction: Reaction::Party }, 800).unwrap();
    let seen = pump(&mut a, "A", &mut b);
    assert_eq!(seen[0].to.ids(), &[id("bob")]);
    assert_eq!(seen[0].msg, ServerMsg::Reacted { from: id("ada"), reaction: Reaction::Party });
}
