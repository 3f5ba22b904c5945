//! The SFU end to end: native WebRTC clients (str0m) publish to the real
//! server binary over loopback UDP and receive each other through it.

mod sfu_peer;
mod support;

use app::protocol::{ClientMsg, ErrorCode, MediaTransport, SdpType, ServerMsg, SignalPayload, TrackKind};
use sfu_peer::{in_order, run_until, SfuPeer, SILENT, SPEAKING};
use std::time::{Duration, Instant};
use support::{http_get, Client, Server};

const LIMIT: Duration = Duration::from_secs(20);

async fn sfu_server() -> Server {
    let mut server = Server::start_with(&["--media-mode", "sfu"]).await;
    let media = server.media_addr().await;
    assert!(media.ip().is_loopback(), "announced {media}, the IP of --addr");
    server
}

async fn peer(server: &Server, nickname: &str, room: &str, tag: u8) -> SfuPeer {
    let ws = Client::in_room(server, nickname, room).await;
    SfuPeer::new(ws, tag).await
}

/// Ada, Bo and Cy (tags 1, 2, 3) in `room`, publishing audio and video,
/// the video in simulcast layers if asked.
async fn ada_bo_and_cy_publishing(server: &Server, room: &str, simulcast: bool) -> [SfuPeer; 3] {
    let mut peers = [
        peer(server, "Ada", room, 1).await,
        peer(server, "Bo", room, 2).await,
        peer(server, "Cy", room, 3).await,
    ];
    for p in &mut peers {
        p.simulcast = simulcast;
        p.start_publishing().await;
    }
    peers
}

/// Frames of `from`'s `kind` that `to` received, in arrival order.
fn frames<'a>(to: &'a SfuPeer, from: &SfuPeer, kind: TrackKind) -> &'a [sfu_peer::Got] {
    to.slot_of(from.id(), kind).and_then(|mid| to.received.get(&mid)).map(Vec::as_slice).unwrap_or_default()
}

fn has_all(peers: &[&mut SfuPeer], frames_each: usize) -> bool {
    peers.iter().all(|to| {
        peers.iter().filter(|from| from.tag != to.tag).all(|from| {
            [TrackKind::Audio, TrackKind::Video].iter().all(|kind| {
                frames(to, from, *kind).iter().filter(|g| g.tag == from.tag).count() >= frames_each
            })
        })
    })
}

#[tokio::test]
async fn every_subscriber_receives_every_publishers_frames_in_order() {
    let server = sfu_server().await;
    let [mut a, mut b, mut c] = ada_bo_and_cy_publishing(&server, "forward", false).await;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| has_all(peers, 50)).await;
    for to in [&a, &b, &c] {
        assert!(to.errors.is_empty(), "{:?}", to.errors);
        for from in [&a, &b, &c].into_iter().filter(|p| p.tag != to.tag) {
            for kind in [TrackKind::Audio, TrackKind::Video] {
                let got = frames(to, from, kind);
                assert!(got.iter().all(|g| g.tag == from.tag), "a slot carries one publisher");
                assert!(
                    in_order(got, kind == TrackKind::Video),
                    "{} from {}: {kind:?} {got:?}",
                    to.tag,
                    from.tag
                );
            }
        }
    }
}

#[tokio::test]
async fn a_leavers_slot_goes_to_the_next_publisher_without_a_new_offer() {
    let server = sfu_server().await;
    let mut watcher = peer(&server, "Wat", "reuse", 1).await;
    let mut first = peer(&server, "First", "reuse", 2).await;
    first.start_publishing().await;
    run_until(&mut [&mut watcher, &mut first], LIMIT, |p| frames(p[0], p[1], TrackKind::Video).len() >= 10)
        .await;
    let video_slot = watcher.slot_of(first.id(), TrackKind::Video).expect("a video slot");
    let offers = watcher.subscribe_offers;
    first.ws.send(&ClientMsg::Leave).await;
    run_until(&mut [&mut watcher], LIMIT, |p| p[0].slot_peer(&video_slot).is_none()).await;

    let mut second = peer(&server, "Second", "reuse", 3).await;
    second.start_publishing().await;
    run_until(&mut [&mut watcher, &mut second], LIMIT, |p| {
        p[0].received[&video_slot].iter().filter(|g| g.tag == 3).count() >= 10
    })
    .await;
    assert_eq!(watcher.slot_of(second.id(), TrackKind::Video), Some(video_slot.clone()), "the same slot");
    assert_eq!(watcher.subscribe_offers, offers, "no renegotiation for the new publisher");
    let theirs: Vec<_> = watcher.received[&video_slot].iter().copied().filter(|g| g.tag == 3).collect();
    assert!(theirs[0].keyframe, "the slot restarts on a keyframe");
    assert!(in_order(&theirs, true));
}

#[tokio::test]
async fn a_restart_brings_media_back_both_ways_on_new_connections_with_nobody_leaving() {
    let server = sfu_server().await;
    let mut a = peer(&server, "Ada", "restart", 1).await;
    let mut b = peer(&server, "Bo", "restart", 2).await;
    for p in [&mut a, &mut b] {
        p.start_publishing().await;
    }
    run_until(&mut [&mut a, &mut b], LIMIT, |peers| has_all(peers, 20)).await;

    b.restart().await;
    a.received.clear();
    run_until(&mut [&mut a, &mut b], LIMIT, |peers| has_all(peers, 20)).await;
    for (to, from) in [(&a, &b), (&b, &a)] {
        assert!(to.errors.is_empty(), "{:?}", to.errors);
        for kind in [TrackKind::Audio, TrackKind::Video] {
            let got: Vec<_> = frames(to, from, kind).iter().copied().filter(|g| g.tag == from.tag).collect();
            assert!(
                in_order(&got, kind == TrackKind::Video),
                "{} from {}: {kind:?} {got:?}",
                to.tag,
                from.tag
            );
        }
    }
    assert_eq!((a.left, b.left), (0, 0), "nobody left the room");
}

#[tokio::test]
async fn after_a_publishers_restart_its_layers_start_on_a_keyframe_and_time_goes_on() {
    let server = sfu_server().await;
    let mut a = peer(&server, "Ada", "restart-layers", 1).await;
    let mut b = peer(&server, "Bo", "restart-layers", 2).await;
    for p in [&mut a, &mut b] {
        p.simulcast = true;
        p.start_publishing().await;
    }
    run_until(&mut [&mut a, &mut b], LIMIT, |peers| has_all(peers, 20)).await;
    let slot = a.slot_of(b.id(), TrackKind::Video).expect("Ada gets Bo's video");
    b.restart().await;
    // What the old connection sent is in by now (Bo sends nothing while
    // he is not stepped): everything after this comes from the new one.
    let drained = std::time::Instant::now() + Duration::from_millis(200);
    run_until(&mut [&mut a], LIMIT, |_| std::time::Instant::now() >= drained).await;
    let before = a.received[&slot].len();
    run_until(&mut [&mut a, &mut b], LIMIT, |peers| {
        peers[0].slot_of(peers[1].id(), TrackKind::Video).as_ref() == Some(&slot)
            && peers[0].received[&slot].len() >= before + 20
    })
    .await;
    let got = &a.received[&slot];
    // Bo's new connection's RTP clock starts anywhere; Ada's slot goes on
    // from where it was, moving with every new picture.
    assert!(got.iter().all(|g| g.tag == b.tag), "the slot carries Bo's video only");
    assert!(got.windows(2).all(|w| w[1].time >= w[0].time), "time went back: {got:?}");
    let after = &got[before..];
    assert!(
        after.windows(2).all(|w| w[1].number == w[0].number || w[1].time > w[0].time),
        "time stood still"
    );
    let jump = after[0].time - got[before - 1].time;
    assert!(jump < 10 * 90_000, "the restart moved the slot's clock by {jump} ticks");
    assert!(after[0].keyframe, "the restarted layer began on a delta frame: {:?}", after[0]);
    assert!(a.errors.is_empty() && b.errors.is_empty());
}

#[tokio::test]
async fn the_server_hears_who_speaks_and_tells_the_room_once_per_change() {
    let server = sfu_server().await;
    let [mut a, mut b, mut c] = ada_bo_and_cy_publishing(&server, "voices", false).await;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| has_all(peers, 10)).await;
    assert!([&a, &b, &c].iter().all(|p| p.speakers.is_empty()), "silence: nobody speaks");

    b.level = SPEAKING;
    let b_id = b.id().clone();
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| {
        peers.iter().all(|p| p.speakers.last() == Some(&Some(b_id.clone())))
    })
    .await;

    // Bo stops (muted: silent packets); Cy speaks: the floor moves once.
    b.level = SILENT;
    c.level = SPEAKING;
    let c_id = c.id().clone();
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| {
        peers.iter().all(|p| p.speakers.last() == Some(&Some(c_id.clone())))
    })
    .await;
    // A silent second more changes nothing.
    c.level = SILENT;
    let until = std::time::Instant::now() + Duration::from_secs(1);
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |_| std::time::Instant::now() >= until).await;
    for p in [&a, &b, &c] {
        assert_eq!(p.speakers, vec![Some(b_id.clone()), Some(c_id.clone())], "{}", p.tag);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
    }

    // A newcomer is told who speaks; when the speaker leaves, everyone
    // hears that nobody does.
    let mut d = peer(&server, "Di", "voices", 4).await;
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |peers| !peers[3].speakers.is_empty()).await;
    assert_eq!(d.speakers, vec![Some(c_id.clone())]);
    c.ws.send(&ClientMsg::Leave).await;
    run_until(&mut [&mut a, &mut b, &mut d], LIMIT, |peers| {
        peers.iter().all(|p| p.speakers.last() == Some(&None))
    })
    .await;
}

/// Whether every page gets `speaker`'s video at the top layer and
/// everyone else's at the lowest (by the last frame received).
fn layers_follow(peers: &[&mut SfuPeer], speaker: Option<u8>) -> bool {
    peers.iter().all(|to| {
        peers.iter().filter(|from| from.tag != to.tag).all(|from| {
            let want = if Some(from.tag) == speaker { b'f' } else { b'q' };
            frames(to, from, TrackKind::Video).last().map(|g| g.layer) == Some(want)
        })
    })
}

#[tokio::test]
async fn the_speaker_comes_in_the_top_layer_and_everyone_else_in_the_lowest() {
    let server = sfu_server().await;
    let [mut a, mut b, mut c] = ada_bo_and_cy_publishing(&server, "layers", true).await;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| has_all(peers, 10)).await;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| layers_follow(peers, None)).await;

    b.level = SPEAKING;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| layers_follow(peers, Some(2))).await;
    b.level = SILENT;
    c.level = SPEAKING;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| layers_follow(peers, Some(3))).await;
    // A little more, so the last switch has frames after it too.
    let until = std::time::Instant::now() + Duration::from_millis(300);
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |_| std::time::Instant::now() >= until).await;

    for to in [&a, &b, &c] {
        assert!(to.errors.is_empty(), "{:?}", to.errors);
        for from in [&a, &b, &c].into_iter().filter(|p| p.tag != to.tag) {
            let got = frames(to, from, TrackKind::Video);
            let start = got.iter().position(|g| g.keyframe).expect("a keyframe");
            let mut switches = 0;
            for w in got[start..].windows(2) {
                let (before, after) = (w[0], w[1]);
                assert!(after.tag == from.tag, "one publisher per slot");
                // The same picture may come twice across a switch (both
                // layers of one capture), never one missing or going back.
                assert!(
                    after.number == before.number || after.number == before.number + 1,
                    "{} from {}: {before:?} then {after:?}",
                    to.tag,
                    from.tag
                );
                assert!(after.time >= before.time, "timestamps go back: {before:?} then {after:?}");
                if after.layer != before.layer {
                    assert!(after.keyframe, "a switch on a delta frame: {before:?} then {after:?}");
                    switches += 1;
                }
            }
            // Bo went up and back down; Cy up.
            let least = match from.tag {
                2 => 2,
                3 => 1,
                _ => 0,
            };
            assert!(switches >= least, "{} from {}: {switches} switches", to.tag, from.tag);
        }
    }

    // Ada presents without speaking: everyone gets her in full size too.
    a.ws.send(&ClientMsg::StartShare).await;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| {
        let layer =
            |to: usize, from: usize| frames(peers[to], peers[from], TrackKind::Video).last().map(|g| g.layer);
        layer(1, 0) == Some(b'f')
            && layer(2, 0) == Some(b'f')
            && layer(0, 2) == Some(b'f')
            && layer(0, 1) == Some(b'q')
    })
    .await;
}

#[tokio::test]
async fn layers_nobody_receives_are_paused_and_resume_when_their_owner_speaks() {
    let mut server = Server::start_with(&["--media-mode", "sfu", "--pause-unused-layers-secs", "1"]).await;
    server.media_addr().await;
    let mut a = peer(&server, "Ada", "upkeep", 1).await;
    let mut b = peer(&server, "Bo", "upkeep", 2).await;
    for p in [&mut a, &mut b] {
        p.simulcast = true;
        p.start_publishing().await;
    }
    // Nobody speaks: after a second everyone's top layer is paused, and
    // the others keep getting the lowest.
    run_until(&mut [&mut a, &mut b], LIMIT, |peers| {
        peers.iter().all(|p| p.paused.last().is_some_and(|rids| rids == &["f"]))
    })
    .await;
    let received = |to: &SfuPeer, from: &SfuPeer| frames(to, from, TrackKind::Video).len();
    let before = received(&a, &b);
    run_until(&mut [&mut a, &mut b], LIMIT, |peers| received(peers[0], peers[1]) >= before + 20).await;
    assert!(frames(&a, &b, TrackKind::Video)[before..].iter().all(|g| g.layer == b'q'));

    // Bo speaks: he is told to resume at once, and Ada gets him in full.
    b.level = SPEAKING;
    run_until(&mut [&mut a, &mut b], LIMIT, |peers| {
        peers[1].paused.last().is_some_and(Vec::is_empty)
            && frames(peers[0], peers[1], TrackKind::Video).last().is_some_and(|g| g.layer == b'f')
    })
    .await;
    assert_eq!(b.paused, vec![vec!["f".to_string()], vec![]], "paused once, resumed once");
    assert_eq!(a.paused, vec![vec!["f".to_string()]], "Ada never spoke: hers stays paused");
    let got = frames(&a, &b, TrackKind::Video);
    assert!(got.windows(2).all(|w| w[1].number <= w[0].number + 1), "no frame lost across the pause");
}

#[tokio::test]
async fn a_subscriber_on_a_slow_downlink_gets_video_held_back_and_all_the_sound() {
    let server = sfu_server().await;
    let [mut a, mut b, mut c] = ada_bo_and_cy_publishing(&server, "slow", true).await;
    let mut d = peer(&server, "Dee", "slow", 4).await;
    d.simulcast = true;
    d.start_publishing().await;
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |peers| has_all(peers, 10)).await;

    // Dee's downlink narrows to 600 kbit/s: three small layers (~770 kbit/s
    // with headers) and three voices (~140 kbit/s) no longer fit.
    d.limit_downlink(Some(600_000));
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |peers| {
        peers[3].held_back.last().is_some_and(|held| !held.is_empty())
    })
    .await;
    let cut_at = std::time::Instant::now();
    // The queue that built up drains, and the estimate settles.
    let settled = cut_at + Duration::from_secs(2);
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |_| std::time::Instant::now() >= settled).await;
    // Frames are counted by the number their publisher gave them, not by
    // when they arrived: a frame sent before the window that a busy machine
    // delivers inside it is not one the server forwarded to a held-back
    // subscriber. A window in which the server changed its mind is not a
    // measure of either choice; the next one is.
    let (held, sent_in) = loop {
        let held = d.held_back.clone();
        let first: Vec<u32> = [&a, &b, &c].iter().map(|p| p.sent()).collect();
        let until = std::time::Instant::now() + Duration::from_secs(2);
        run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |_| std::time::Instant::now() >= until).await;
        let last: Vec<u32> = [&a, &b, &c].iter().map(|p| p.sent()).collect();
        if d.held_back == held {
            break (held.last().cloned().unwrap(), first.into_iter().zip(last).collect::<Vec<_>>());
        }
        assert!(cut_at.elapsed() < Duration::from_secs(8), "the held list keeps changing: {:?}", d.held_back);
    };
    // What was sent in the window and is still on its way gets a moment.
    let stragglers = std::time::Instant::now() + Duration::from_millis(500);
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |_| std::time::Instant::now() >= stragglers)
        .await;
    // Their video stops (after what was on its way), their sound does not.
    let count = |d: &SfuPeer, from: &SfuPeer, kind| frames(d, from, kind).len();
    for (i, from) in [&a, &b, &c].into_iter().enumerate() {
        let (first, last) = sent_in[i];
        let in_window = |kind| {
            let frames = frames(&d, from, kind).iter();
            frames.filter(|g| g.tag == from.tag && g.number > first && g.number <= last).count()
        };
        let (audio, video) = (in_window(TrackKind::Audio), in_window(TrackKind::Video));
        let sent = last - first;
        assert!(audio >= 50, "{}'s voice goes on: {audio} of {sent}", from.tag);
        if held.contains(from.id()) {
            assert!(video < 25, "{} is held back, yet {video} of its {sent} frames came in 2 s", from.tag);
        } else {
            assert!(
                video >= 50,
                "{} is not held back, yet only {video} of its {sent} frames came; {:?}",
                from.tag,
                d.held_back
            );
        }
    }
    assert!(held.len() < 3 || d.held_back.len() > 1, "{:?}", d.held_back);
    for p in [&a, &b, &c] {
        assert!(p.held_back.is_empty(), "{} has a fast downlink: {:?}", p.tag, p.held_back);
    }

    // The downlink widens again: nobody is held back any more, but not
    // within 10 s of the cut.
    d.limit_downlink(None);
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], Duration::from_secs(40), |peers| {
        peers[3].held_back.last().is_some_and(Vec::is_empty)
    })
    .await;
    assert!(cut_at.elapsed() >= Duration::from_secs(9), "back after {:?}", cut_at.elapsed());
    let back: Vec<usize> = [&a, &b, &c].iter().map(|p| count(&d, p, TrackKind::Video)).collect();
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |peers| {
        (0..3).all(|i| frames(peers[3], peers[i], TrackKind::Video).len() >= back[i] + 20)
    })
    .await;
    assert!(d.errors.is_empty(), "{:?}", d.errors);
}

#[tokio::test]
async fn media_signaling_is_refused_outside_sfu_rooms_and_when_malformed() {
    let mesh = Server::start().await;
    let mut someone = Client::in_room(&mesh, "Mesh", "plain").await;
    let payload = SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() };
    someone.send(&ClientMsg::Media { transport: MediaTransport::Publish, payload: payload.clone() }).await;
    someone.expect_error(ErrorCode::NotSfuRoom).await;

    let server = sfu_server().await;
    let mut lobby = Client::named(&server, "Lobby").await;
    lobby.send(&ClientMsg::Media { transport: MediaTransport::Publish, payload: payload.clone() }).await;
    lobby.expect_error(ErrorCode::NotInRoom).await;

    let mut bad = Client::in_room(&server, "Bad", "bad").await;
    bad.send(&ClientMsg::Media { transport: MediaTransport::Publish, payload }).await;
    bad.expect_error(ErrorCode::BadMedia).await;
    let answer = SignalPayload::Description { sdp_type: SdpType::Answer, sdp: "v=0".into() };
    bad.send(&ClientMsg::Media { transport: MediaTransport::Publish, payload: answer.clone() }).await;
    bad.expect_error(ErrorCode::BadMedia).await;
    bad.send(&ClientMsg::Media { transport: MediaTransport::Subscribe, payload: answer }).await;
    bad.expect_error(ErrorCode::BadMedia).await;

    // Meanwhile a call in another room goes on.
    let mut a = peer(&server, "Ada", "good", 1).await;
    let mut b = peer(&server, "Bo", "good", 2).await;
    a.start_publishing().await;
    run_until(&mut [&mut a, &mut b], LIMIT, |p| frames(p[1], p[0], TrackKind::Video).len() >= 10).await;
    bad.send(&ClientMsg::Chat { text: "still here".into(), nonce: None }).await;
    bad.recv_until(|m| matches!(m, ServerMsg::Chat { .. })).await;
}

/// `/metrics` once `counted` holds of it, or as it is after 5 s: media
/// threads hand their figures over once a second.
async fn metrics_once(server: &Server, counted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
        let (status, _, body) = http_get(&mut tcp, &server.addr, "/metrics").await;
        assert_eq!(status, 200);
        if counted(&body) || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A value of `/metrics` (0 when absent).
fn metric(body: &str, name: &str) -> f64 {
    let prefix = format!("{name} ");
    body.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_show_sfu_rooms_sessions_forwarding_and_the_media_thread() {
    let server = sfu_server().await;
    let [mut a, mut b, mut c] = ada_bo_and_cy_publishing(&server, "counted", false).await;
    run_until(&mut [&mut a, &mut b, &mut c], LIMIT, |peers| has_all(peers, 30)).await;
    // Three subscribers, each receiving two others' audio and video.
    let (tracks, frames) = (3 * 2 * 2, 3 * 2 * 2 * 30);
    let body = metrics_once(&server, |body| {
        metric(body, "noom_sfu_forwarded_tracks") == f64::from(tracks)
            && metric(body, "noom_sfu_forwarded_frames_total") >= f64::from(frames)
    })
    .await;
    for (name, value) in [
        ("noom_sfu_rooms", 1),
        ("noom_sfu_publishers", 3),
        ("noom_sfu_subscribers", 3),
        ("noom_sfu_forwarded_tracks", tracks),
        ("noom_sfu_paused_videos", 0),
    ] {
        assert_eq!(metric(&body, name), f64::from(value), "{name} in:\n{body}");
    }
    assert!(metric(&body, "noom_sfu_forwarded_frames_total") >= f64::from(frames), "{body}");
    assert!(
        metric(&body, "noom_sfu_forwarded_bytes_total") > metric(&body, "noom_sfu_forwarded_frames_total")
    );
    assert!(metric(&body, "noom_sfu_keyframe_requests_total") >= 1.0, "each video slot asked for one");
    assert!(body.contains("noom_sfu_sessions_ended_total{reason=\"panicked\"} 0"), "{body}");
    assert!(metric(&body, "noom_media_thread_cpu_seconds_total") > 0.0, "{body}");
}

/// ICE over TCP: the server's answer offers a passive TCP candidate on the
/// media port, and a connection there that breaks RFC 4571's framing is
/// closed while calls go on. (A browser's call over it, with UDP blocked,
/// is end2end/tests/turn.spec.ts.)
#[tokio::test]
async fn media_is_offered_over_tcp_and_bad_framing_is_closed() {
    use str0m::media::{Direction, MediaKind};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut server = Server::start_with(&["--media-mode", "sfu"]).await;
    let media = server.media_addr().await;
    let mut ws = Client::in_room(&server, "Ada", "tcp").await;
    let mut rtc = str0m::Rtc::builder().build(Instant::now());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _pending) = api.apply().expect("an offer");
    let payload = SignalPayload::Description { sdp_type: SdpType::Offer, sdp: offer.to_sdp_string() };
    ws.send(&ClientMsg::Media { transport: MediaTransport::Publish, payload }).await;
    let answer = ws.recv_until(|m| matches!(m, ServerMsg::Media { .. })).await;
    let ServerMsg::Media { payload: SignalPayload::Description { sdp, .. }, .. } = answer else {
        panic!("not an answer: {answer:?}")
    };
    let tcp = format!("{} {} typ host tcptype passive", media.ip(), media.port());
    assert!(sdp.lines().any(|l| l.contains(" tcp ") && l.contains(&tcp)), "no TCP candidate in {sdp}");

    // A zero-length frame is no packet: the connection is closed.
    let mut conn = tokio::net::TcpStream::connect(media).await.expect("the media port takes TCP");
    conn.write_all(&[0, 0]).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "still open: {read:?}");

    // Meanwhile a call goes on (over UDP).
    let mut a = peer(&server, "Bo", "good", 1).await;
    let mut b = peer(&server, "Cy", "good", 2).await;
    a.start_publishing().await;
    run_until(&mut [&mut a, &mut b], LIMIT, |p| frames(p[1], p[0], TrackKind::Video).len() >= 10).await;
}

/// With `--media-threads 2` two rooms go to the two media threads, each
/// with its own port, and both calls flow.
#[tokio::test]
async fn rooms_are_spread_over_media_threads_each_on_its_own_port() {
    let mut server = Server::start_with(&["--media-mode", "sfu", "--media-threads", "2"]).await;
    let first = server.media_addr().await;
    let mut a = peer(&server, "Ada", "one", 1).await;
    let mut b = peer(&server, "Bo", "one", 2).await;
    let mut c = peer(&server, "Cy", "two", 3).await;
    let mut d = peer(&server, "Di", "two", 4).await;
    for p in [&mut a, &mut b, &mut c, &mut d] {
        p.start_publishing().await;
    }
    run_until(&mut [&mut a, &mut b, &mut c, &mut d], LIMIT, |p| {
        frames(p[1], p[0], TrackKind::Video).len() >= 10 && frames(p[3], p[2], TrackKind::Video).len() >= 10
    })
    .await;
    // Everyone in a room hears from one port, the other room from another.
    let (one, two) = (a.server_addrs(), c.server_addrs());
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!((b.server_addrs(), d.server_addrs()), (one.clone(), two.clone()));
    assert_eq!(two.len(), 1, "{two:?}");
    assert_ne!(one, two);
    assert!(one.contains(&first) || two.contains(&first), "{first} is one of them");
    // Nobody hears the other room.
    assert!(frames(&a, &c, TrackKind::Video).is_empty() && frames(&c, &a, TrackKind::Video).is_empty());
    // /metrics adds both threads up: 2 rooms, 8 tracks, and CPU time.
    let body = metrics_once(&server, |body| {
        metric(body, "noom_sfu_rooms") == 2.0 && metric(body, "noom_sfu_forwarded_tracks") == 8.0
    })
    .await;
    assert_eq!(metric(&body, "noom_sfu_rooms"), 2.0, "{body}");
    assert_eq!(metric(&body, "noom_sfu_forwarded_tracks"), 8.0, "{body}");
    assert!(metric(&body, "noom_media_thread_cpu_seconds_total") > 0.0, "{body}");
}
