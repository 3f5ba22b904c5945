//! The engine without a socket: SDP from in-process str0m clients, datagrams
//! into a vector.

use super::*;
use str0m::Rtc;

struct Sink(Vec<(SocketAddr, Vec<u8>)>);

impl Wire for Sink {
    fn send(&mut self, _proto: Protocol, to: SocketAddr, data: &[u8]) {
        self.0.push((to, data.to_vec()));
    }
}

fn id(s: &str) -> PeerId {
    PeerId(s.to_owned())
}

fn engine() -> Engine {
    Engine::new(EngineConfig {
        candidate: CANDIDATE.parse().unwrap(),
        tcp_candidate: None,
        slots_per_kind: 16,
        pause_unused_layers: Duration::from_secs(10),
    })
}

const CANDIDATE: &str = "127.0.0.1:40000";

/// A publisher connected to the engine through memory instead of a socket.
struct Publisher {
    rtc: Rtc,
    addr: SocketAddr,
    answer: String,
}

impl Publisher {
    /// Offers one audio and one video track, as a browser does.
    fn offer(engine: &mut Engine, now: Instant, peer: &str, port: u16) -> Publisher {
        Self::offer_edited(engine, now, peer, port, |sdp| sdp)
    }

    /// As `offer`, with the offer's SDP changed by `edit` on its way.
    fn offer_edited(
        engine: &mut Engine,
        now: Instant,
        peer: &str,
        port: u16,
        edit: impl Fn(String) -> String,
    ) -> Publisher {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut rtc = Rtc::builder().clear_codecs().enable_vp8(true).enable_opus(true, false).build(now);
        rtc.add_local_candidate(str0m::Candidate::host(addr, "udp").unwrap());
        let mut api = rtc.sdp_api();
        api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        let payload =
            SignalPayload::Description { sdp_type: SdpType::Offer, sdp: edit(offer.to_sdp_string()) };
        engine.command(now, MediaCmd::Signal { peer: id(peer), transport: MediaTransport::Publish, payload });
        let answer = engine
            .take_events()
            .into_iter()
            .find_map(|e| match e.msg {
                ServerMsg::Media { payload: SignalPayload::Description { sdp, .. }, .. }
                    if e.is_for(&id(peer)) =>
                {
                    Some(sdp)
                }
                _ => None,
            })
            .expect("an answer");
        rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap()).unwrap();
        Publisher { rtc, addr, answer }
    }
}

/// Runs the engine and the publishers for `ms` of simulated time, carrying
/// datagrams between them; returns the engine's messages for browsers.
fn run(engine: &mut Engine, publishers: &mut [&mut Publisher], start: Instant, ms: u64) -> Vec<MediaEvent> {
    let candidate: SocketAddr = CANDIDATE.parse().unwrap();
    let mut events = Vec::new();
    for step in 0..ms {
        let now = start + Duration::from_millis(step);
        for p in publishers.iter_mut() {
            p.rtc.handle_input(Input::Timeout(now)).unwrap();
            while let Ok(out) = p.rtc.poll_output() {
                match out {
                    Output::Transmit(t) => engine.receive(now, p.addr, candidate, &t.contents),
                    Output::Timeout(_) => break,
                    Output::Event(_) => {}
                }
            }
        }
        let mut sink = Sink(Vec::new());
        engine.poll(now, &mut sink);
        events.extend(engine.take_events());
        for (to, data) in sink.0 {
            let Some(p) = publishers.iter_mut().find(|p| p.addr == to) else { continue };
            let contents = data.as_slice().try_into().unwrap();
            let input = Input::Receive(
                now,
                Receive { proto: Protocol::Udp, source: candidate, destination: to, contents },
            );
            p.rtc.handle_input(input).unwrap();
        }
    }
    events
}

#[test]
fn a_publish_offer_is_answered_and_others_are_offered_its_tracks_once_connected() {
    let mut engine = engine();
    let now = Instant::now();
    engine.command(now, MediaCmd::Join { room: "r".into(), peer: id("a") });
    engine.command(now, MediaCmd::Join { room: "r".into(), peer: id("b") });
    let mut a = Publisher::offer(&mut engine, now, "a", 5000);
    assert!(a.answer.contains("a=ice-lite") && a.answer.contains("127.0.0.1 40000 typ host"), "{}", a.answer);
    // Nothing for b until a is connected: then the slot map, then the
    // offer carrying those slots.
    assert!(engine.take_events().is_empty());
    let events = run(&mut engine, &mut [&mut a], now, 300);
    let to_b: Vec<&ServerMsg> = events.iter().filter(|e| e.is_for(&id("b"))).map(|e| &e.msg).collect();
    assert!(
        matches!(to_b[0], ServerMsg::SlotMap { slots } if slots.len() == 2 && slots.iter().all(|s| s.peer == Some(id("a")))),
        "{to_b:?}"
    );
    assert!(matches!(
        to_b[1],
        ServerMsg::Media {
            transport: MediaTransport::Subscribe,
            payload: SignalPayload::Description { sdp_type: SdpType::Offer, .. }
        }
    ));
}

#[test]
fn a_session_that_panics_is_dropped_alone() {
    let mut engine = engine();
    let now = Instant::now();
    for (room, peer) in [("r", "a"), ("r", "b"), ("other", "c"), ("other", "d")] {
        engine.command(now, MediaCmd::Join { room: room.into(), peer: id(peer) });
    }
    let mut a = Publisher::offer(&mut engine, now, "a", 5000);
    let mut c = Publisher::offer(&mut engine, now, "c", 5001);
    run(&mut engine, &mut [&mut a, &mut c], now, 300);
    assert_eq!(engine.session_count(), 4, "a and c publish; b and d subscribe");

    let key = SessionKey::new(&id("a"), MediaTransport::Publish);
    engine.sessions.get_mut(&key).unwrap().poisoned = true;
    let later = now + Duration::from_millis(300);
    // The next time anything reaches a's session (a consent check, a timer).
    let events = run(&mut engine, &mut [&mut a, &mut c], later, 6000);
    assert!(!engine.sessions.contains_key(&key), "the failed session is gone");
    assert_eq!(engine.session_count(), 3, "everyone else's stay");
    // b is told a's tracks left its slots; nobody in the other room hears of it.
    assert!(events.iter().any(|e| e.is_for(&id("b"))
        && matches!(&e.msg, ServerMsg::SlotMap { slots } if slots.iter().all(|s| s.peer.is_none()))));
    assert!(events.iter().all(|e| !e.is_for(&id("d"))));
    // c still reaches d: its session keeps answering keyframe requests.
    let d_slot = engine.rooms.slot_map(&id("d"));
    assert!(d_slot.iter().all(|s| s.peer == Some(id("c"))));
    // And a can publish again.
    let again = later + Duration::from_millis(6000);
    let mut a = Publisher::offer(&mut engine, again, "a", 5002);
    run(&mut engine, &mut [&mut a], again, 300);
    assert!(engine.sessions.contains_key(&key));
}

/// a and b in room "r", each publishing and receiving the other.
fn two_in_a_call(now: Instant) -> (Engine, Publisher, Publisher) {
    let mut engine = engine();
    engine.command(now, MediaCmd::Join { room: "r".into(), peer: id("a") });
    engine.command(now, MediaCmd::Join { room: "r".into(), peer: id("b") });
    let mut a = Publisher::offer(&mut engine, now, "a", 5000);
    let mut b = Publisher::offer(&mut engine, now, "b", 5001);
    run(&mut engine, &mut [&mut a, &mut b], now, 300);
    assert_eq!(engine.session_count(), 4);
    (engine, a, b)
}

#[test]
fn leaving_closes_both_connections() {
    let now = Instant::now();
    let (mut engine, _a, _b) = two_in_a_call(now);
    engine.command(now, MediaCmd::Leave { peer: id("a") });
    assert_eq!(engine.session_count(), 2, "b's publish and subscribe stay");
    assert_eq!(engine.rooms.slot_map(&id("b")).iter().filter(|s| s.peer.is_some()).count(), 0);
}

#[test]
fn a_restart_confirms_first_then_drops_both_sessions_and_offers_the_slots_anew() {
    let now = Instant::now();
    let (mut engine, mut a, _b) = two_in_a_call(now);

    let later = now + Duration::from_millis(300);
    engine.command(later, MediaCmd::Restart { peer: id("b") });
    let mut events = engine.take_events();
    assert_eq!(events.first(), Some(&MediaEvent::one(&id("b"), ServerMsg::MediaRestarted)));
    assert_eq!(engine.session_count(), 2, "only a's two connections are left");
    // a loses b's tracks; b's new subscribe connection is offered a's.
    events.extend(run(&mut engine, &mut [&mut a], later, 50));
    assert!(events.iter().any(|e| e.is_for(&id("a"))
        && matches!(&e.msg, ServerMsg::SlotMap { slots } if slots.iter().all(|s| s.peer.is_none()))));
    let to_b: Vec<&ServerMsg> =
        events.iter().filter(|e| e.is_for(&id("b"))).map(|e| &e.msg).skip(1).collect();
    assert!(
        to_b.iter().any(
            |m| matches!(m, ServerMsg::SlotMap { slots } if slots.iter().any(|s| s.peer == Some(id("a"))))
        ),
        "{to_b:?}"
    );
    assert!(
        to_b.iter().any(|m| matches!(
            m,
            ServerMsg::Media {
                transport: MediaTransport::Subscribe,
                payload: SignalPayload::Description { sdp_type: SdpType::Offer, .. }
            }
        )),
        "{to_b:?}"
    );
    // And b publishes again on a new connection.
    let mut b = Publisher::offer(&mut engine, later, "b", 5002);
    run(&mut engine, &mut [&mut a, &mut b], later, 300);
    assert!(engine.sessions.contains_key(&SessionKey::new(&id("b"), MediaTransport::Publish)));
}

#[test]
fn a_restart_from_outside_an_sfu_room_does_nothing() {
    let mut engine = engine();
    engine.command(Instant::now(), MediaCmd::Restart { peer: id("x") });
    assert!(engine.take_events().is_empty());
}

#[test]
fn a_tcp_candidate_trickled_before_any_check_does_not_end_the_connection() {
    let mut engine = engine();
    let now = Instant::now();
    engine.command(now, MediaCmd::Join { room: "r".into(), peer: id("a") });
    // Its candidates trickle later (the browser's SDP often has none yet)...
    let no_candidates = |sdp: String| {
        sdp.lines().filter(|l| !l.starts_with("a=candidate")).map(|l| format!("{l}\r\n")).collect()
    };
    let mut a = Publisher::offer_edited(&mut engine, now, "a", 5000, no_candidates);
    // ...and Chromium trickles its "active" TCP candidates (port 9) too.
    let tcp = "candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active";
    let payload = SignalPayload::Candidate {
        candidate: tcp.into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    };
    engine.command(now, MediaCmd::Signal { peer: id("a"), transport: MediaTransport::Publish, payload });
    let key = SessionKey::new(&id("a"), MediaTransport::Publish);
    run(&mut engine, &mut [], now, 3_000);
    assert_eq!(engine.sessions[&key].ice_down_since, None, "str0m never had only a TCP candidate to pair");
    run(&mut engine, &mut [&mut a], now + Duration::from_millis(3_000), 300);
    assert!(engine.sessions.contains_key(&key), "still there");
    assert!(a.rtc.is_connected(), "and connected");
}

#[test]
fn a_session_whose_ice_stalls_is_kept_for_a_grace_and_dropped_after() {
    let now = Instant::now();
    let (mut engine, mut a, mut b) = two_in_a_call(now);
    let key = SessionKey::new(&id("a"), MediaTransport::Publish);
    // a's browser sends no check for longer than str0m waits (15 s): its
    // pair goes, and a comes back before the grace is out.
    let stalled = now + Duration::from_millis(300);
    run(&mut engine, &mut [&mut b], stalled, 17_000);
    assert!(engine.sessions[&key].ice_down_since.is_some(), "str0m saw the pair go");
    let back = stalled + Duration::from_millis(17_000);
    run(&mut engine, &mut [&mut a, &mut b], back, 2_000);
    assert_eq!(engine.sessions[&key].ice_down_since, None, "a is back");
    assert_eq!(engine.session_count(), 4);
    // Gone for good: dropped once the grace is out, and only that.
    let gone = back + Duration::from_millis(2_000);
    run(&mut engine, &mut [&mut b], gone, 17_000);
    assert!(engine.sessions[&key].ice_down_since.is_some(), "down again");
    let ms = ICE_GRACE.as_millis() as u64;
    run(&mut engine, &mut [&mut b], gone + Duration::from_millis(17_000), ms);
    assert!(!engine.sessions.contains_key(&key));
    for transport in [MediaTransport::Publish, MediaTransport::Subscribe] {
        assert!(engine.sessions.contains_key(&SessionKey::new(&id("b"), transport)), "b's sessions stay");
    }
}

/// `sub` receives the camera (mid "v") of each of `publishers`, sent in
/// layers q and f; `speaker` speaks.
fn watching(engine: &mut Engine, now: Instant, sub: &str, publishers: &[&str], speaker: &str) {
    for (i, publisher) in publishers.iter().enumerate() {
        let track = TrackKey { peer: id(publisher), mid: "v".into() };
        let mut layers = Layers::new(vec![Rid::from("q"), Rid::from("f")]);
        layers.saw(Rid::from("q"), now, 0);
        layers.saw(Rid::from("f"), now, 0);
        engine.layers.insert(track.clone(), layers);
        engine.switches.insert((id(sub), format!("v{i}")), (track, LayerSwitch::default()));
    }
    engine.presenters.insert(id(speaker));
}

fn held_back_events(engine: &mut Engine, to: &str) -> Vec<Vec<PeerId>> {
    engine
        .take_events()
        .into_iter()
        .filter(|e| e.is_for(&id(to)))
        .filter_map(|e| match e.msg {
            ServerMsg::HeldBack { peers } => Some(peers),
            _ => None,
        })
        .collect()
}

#[test]
fn a_subscriber_whose_downlink_is_too_small_gets_the_others_held_back_and_is_told_once() {
    let now = Instant::now();
    let mut engine = engine();
    watching(&mut engine, now, "s", &["a", "b", "c"], "a");
    engine.aim_layers(now);
    assert!(held_back_events(&mut engine, "s").is_empty(), "nobody held, nothing to say");
    // s reports losing most of what it gets (a in full, 1.5 M, b and c
    // small, 250 k each, unmeasured): the budget falls to 2 M * 0.7 and
    // then * 0.55, 770 k, whose 90 % takes two small layers, not three.
    let downlink = engine.downlinks.entry(id("s")).or_default();
    downlink.report_loss(now, 0.6);
    downlink.report_loss(now, 0.9);
    assert_eq!(downlink.budget(), Some(770_000));
    engine.aim_layers(now);
    assert_eq!(held_back_events(&mut engine, "s"), [vec![id("c")]]);
    let target = |engine: &Engine, i: usize| engine.switches[&(id("s"), format!("v{i}"))].1.pending();
    assert_eq!(target(&engine, 0), Some(Rid::from("q")), "the presenter gets what fits");
    assert_eq!(target(&engine, 1), Some(Rid::from("q")));
    assert_eq!(target(&engine, 2), None, "held: waits for nothing");
    // Nothing changed: nothing is said again.
    engine.aim_layers(now);
    assert!(held_back_events(&mut engine, "s").is_empty());
    // Clean seconds: within the hold nothing moves; after it the budget
    // grows until c fits again.
    let soon = now + Duration::from_secs(1);
    engine.downlinks.entry(id("s")).or_default().report_loss(soon, 0.0);
    engine.aim_layers(soon);
    assert!(held_back_events(&mut engine, "s").is_empty(), "not within 10 s of the cut");
    let later = now + Duration::from_secs(11);
    for track in engine.layers.values_mut() {
        track.saw(Rid::from("q"), later, 0);
        track.saw(Rid::from("f"), later, 0);
    }
    for _ in 0..2 {
        engine.downlinks.entry(id("s")).or_default().report_loss(later, 0.0);
    }
    engine.aim_layers(later);
    assert_eq!(held_back_events(&mut engine, "s"), [Vec::<PeerId>::new()]);
    assert_eq!(target(&engine, 2), Some(Rid::from("q")));
    assert_eq!(target(&engine, 0), Some(Rid::from("q")), "a's full size does not fit yet");
}

#[test]
fn the_census_counts_rooms_and_sessions_and_the_tally_why_sessions_ended() {
    let now = Instant::now();
    let (mut engine, _a, _b) = two_in_a_call(now);
    let census = engine.census();
    assert_eq!((census.rooms, census.publishers, census.subscribers), (1, 2, 2));
    engine.command(now, MediaCmd::Restart { peer: id("b") });
    let restarted = super::super::stats::ENDS.iter().position(|e| *e == "restarted").unwrap();
    assert_eq!(engine.tally().ended[restarted], 2, "both of b's sessions");
    assert_eq!(engine.tally().ended.iter().sum::<u64>(), 2);
    assert_eq!((engine.census().publishers, engine.census().subscribers), (1, 1));
}
