//! Property tests ("fuzzing" on stable Rust) for the hub: random sequences
//! of connects, disconnects and client messages (well-formed, malformed and
//! hostile) from a handful of peers. The hub must never panic, and what it
//! sends must respect the room rules: room lists match membership, chat
//! reaches only the sender's room, signals only a peer in the same room.
//! `NOOM_FUZZ_CASES` raises the number of sequences for a longer run.

use app::protocol::{decode_client, ClientMsg, MediaState, PeerId, SdpType, ServerMsg, SignalPayload};
use proptest::prelude::*;
use server::hub::{Delivery, Hub, HubConfig, Output};
use std::collections::{HashMap, HashSet};

const PEERS: usize = 5;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("NOOM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn peer(i: usize) -> PeerId {
    PeerId(format!("peer{i}"))
}

#[derive(Clone, Debug)]
enum Op {
    Connect(usize),
    Disconnect(usize),
    Send(usize, ClientMsg),
    Raw(usize, String),
    FlushLobby,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("x".repeat(2001)),
        Just("tab\there".to_owned()),
        "[a-zA-Z ]{1,12}",
        ".{0,40}",
    ]
}

fn room() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_owned),
        Just(String::new()),
        Just("bad room!".to_owned()),
        Just("r".repeat(65)),
        ".{0,10}",
    ]
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    let target = prop_oneof![(0..PEERS).prop_map(peer), ".{0,8}".prop_map(PeerId)];
    let payload = prop_oneof![
        Just(SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() }),
        ".{0,20}".prop_map(|candidate| SignalPayload::Candidate {
            candidate,
            sdp_mid: None,
            sdp_m_line_index: None
        }),
    ];
    prop_oneof![
        3 => text().prop_map(|nickname| ClientMsg::SetNickname { nickname }),
        4 => room().prop_map(|room| ClientMsg::Join { room, passcode: None }),
        1 => Just(ClientMsg::Leave),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(audio, video)| ClientMsg::SetMedia { media: MediaState { audio, video } }),
        1 => Just(ClientMsg::StartShare),
        1 => Just(ClientMsg::StopShare),
        3 => (text(), proptest::option::of(any::<u64>())).prop_map(|(text, nonce)| ClientMsg::Chat { text, nonce }),
        3 => (target, payload).prop_map(|(to, payload)| ClientMsg::Signal { to, payload }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..PEERS).prop_map(Op::Connect),
        1 => (0..PEERS).prop_map(Op::Disconnect),
        8 => ((0..PEERS), client_msg()).prop_map(|(i, m)| Op::Send(i, m)),
        1 => ((0..PEERS), ".{0,60}").prop_map(|(i, s)| Op::Raw(i, s)),
        1 => Just(Op::FlushLobby),
    ]
}

/// What each peer has been told: which room it is in.
#[derive(Default)]
struct Observed {
    connected: HashSet<PeerId>,
    room_of: HashMap<PeerId, String>,
}

impl Observed {
    /// A refused message is answered with exactly one error, to its sender.
    fn refusal(&self, sender: &PeerId, out: &Output) -> Result<(), TestCaseError> {
        let Some(err) = &out.refused else { return Ok(()) };
        let errors: Vec<&Delivery> =
            out.deliveries.iter().filter(|d| matches!(d.msg, ServerMsg::Error { .. })).collect();
        prop_assert_eq!(errors.len(), 1, "{:?}", out);
        prop_assert_eq!(errors[0].to.ids(), std::slice::from_ref(sender));
        let answered = matches!(&errors[0].msg, ServerMsg::Error { code, .. } if *code == err.code());
        prop_assert!(answered, "error code of {:?}", err);
        Ok(())
    }

    fn apply(&mut self, sender: Option<&PeerId>, out: &[Delivery]) -> Result<(), TestCaseError> {
        for delivery in out {
            for to in delivery.to.ids() {
                prop_assert!(self.connected.contains(to), "{to:?} is not connected: {:?}", delivery.msg);
                match &delivery.msg {
                    ServerMsg::Joined { room, members, .. } => {
                        prop_assert!(members.iter().any(|m| &m.id == to), "the joiner is listed");
                        self.room_of.insert(to.clone(), room.clone());
                    }
                    ServerMsg::Left { .. } | ServerMsg::Removed { .. } => {
                        self.room_of.remove(to);
                    }
                    ServerMsg::Signal { from, .. } => {
                        prop_assert_eq!(Some(from), sender);
                        prop_assert!(self.room_of.contains_key(from), "signals come from a room");
                        prop_assert_eq!(self.room_of.get(from), self.room_of.get(to), "signal across rooms");
                    }
                    ServerMsg::Chat { from, .. } => {
                        prop_assert_eq!(
                            self.room_of.get(&from.id),
                            self.room_of.get(to),
                            "chat across rooms"
                        );
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn check_room_list(&self, hub: &Hub) -> Result<(), TestCaseError> {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for room in self.room_of.values() {
            *counts.entry(room).or_default() += 1;
        }
        let listed: HashMap<String, u32> = hub.room_list().into_iter().map(|r| (r.name, r.count)).collect();
        prop_assert_eq!(listed.len(), counts.len(), "rooms listed {:?} vs joined {:?}", listed, counts);
        for (room, count) in counts {
            prop_assert_eq!(listed.get(room), Some(&count), "count of {}", room);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(cases(600))]

    #[test]
    fn the_hub_survives_any_sequence_and_keeps_its_rules(ops in prop::collection::vec(op(), 1..80)) {
        let mut hub = Hub::with_config(HubConfig { max_peers_per_room: 3, max_rooms: 2, ..HubConfig::default() });
        let mut seen = Observed::default();
        for (now, op) in ops.into_iter().enumerate() {
            let now = now as u64 * 10;
            match op {
                Op::Connect(i) if !seen.connected.contains(&peer(i)) => {
                    seen.connected.insert(peer(i));
                    let out = hub.connect(&peer(i), now, None).deliveries;
                    seen.apply(None, &out)?;
                }
                Op::Disconnect(i) if seen.connected.contains(&peer(i)) => {
                    let out = hub.disconnect(&peer(i)).deliveries;
                    seen.connected.remove(&peer(i));
                    seen.room_of.remove(&peer(i));
                    seen.apply(None, &out)?;
                }
                Op::Send(i, msg) if seen.connected.contains(&peer(i)) => {
                    let out = hub.handle(&peer(i), msg, now);
                    seen.refusal(&peer(i), &out)?;
                    seen.apply(Some(&peer(i)), &out.deliveries)?;
                }
                Op::Raw(i, text) if seen.connected.contains(&peer(i)) => {
                    if let Ok(msg) = decode_client(&text) {
                        let out = hub.handle(&peer(i), msg, now);
                        seen.refusal(&peer(i), &out)?;
                        seen.apply(Some(&peer(i)), &out.deliveries)?;
                    }
                }
                Op::FlushLobby => {
                    if let Some(update) = hub.flush_lobby() {
                        seen.apply(None, &[update])?;
                    }
                }
                _ => {}
            }
            seen.check_room_list(&hub)?;
            let mut busiest = hub.room_list();
            busiest.truncate(server::hub::LOBBY_LIST_MAX);
            prop_assert_eq!(hub.lobby_list(), busiest, "a newcomer's list is the busiest rooms, in order");
            for count in hub.room_list().iter().map(|r| r.count) {
                prop_assert!(count as usize <= 3, "a room over its cap");
            }
            prop_assert!(hub.room_list().len() <= 2, "more rooms than allowed");
        }
    }
}
