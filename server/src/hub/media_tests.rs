//! Rooms whose calls go through this node's SFU: the commands the hub hands
//! the media engine, and the host's switch between mesh and SFU.

use super::*;
use app::protocol::{ErrorCode, MediaTransport, SdpType};

fn id(s: &str) -> PeerId {
    PeerId(s.into())
}

fn hub_with(config: HubConfig, names: &[&str]) -> Hub {
    let mut hub = Hub::with_config(config);
    for n in names {
        let _ = hub.connect(&id(n), 0, None);
        hub.handle(&id(n), ClientMsg::SetNickname { nickname: n.to_string() }, 0).result().unwrap();
    }
    hub
}

fn join(hub: &mut Hub, who: &str, room: &str) -> Output {
    hub.handle(&id(who), ClientMsg::Join { room: room.into(), passcode: None }, 0)
}

/// A join that must succeed.
fn joined(hub: &mut Hub, who: &str, room: &str) {
    assert_eq!(join(hub, who, room).refused, None);
}

fn sfu() -> HubConfig {
    HubConfig { media_mode: MediaMode::Sfu, max_peers_per_room: 2, max_sfu_peers: 3, ..HubConfig::default() }
}

fn offer() -> SignalPayload {
    SignalPayload::Description { sdp_type: SdpType::Offer, sdp: "v=0".into() }
}

#[test]
fn joining_an_sfu_room_tells_the_engine_and_leaving_too() {
    let mut hub = hub_with(sfu(), &["a"]);
    let out = join(&mut hub, "a", "x");
    assert_eq!(out.media, vec![MediaCmd::Join { room: "x".into(), peer: id("a") }]);
    assert!(matches!(&out.deliveries[0].msg, ServerMsg::Joined { media: MediaMode::Sfu, .. }));
    let out = hub.handle(&id("a"), ClientMsg::Leave, 0);
    assert_eq!(out.media, vec![MediaCmd::Leave { peer: id("a") }]);
    joined(&mut hub, "a", "x");
    assert_eq!(hub.disconnect(&id("a")).media, vec![MediaCmd::Leave { peer: id("a") }]);
}

#[test]
fn an_sfu_room_holds_max_sfu_peers_and_a_mesh_max_peers() {
    let mut hub = hub_with(sfu(), &["a", "b", "c", "d"]);
    for p in ["a", "b", "c"] {
        assert!(join(&mut hub, p, "x").refused.is_none());
    }
    assert_eq!(join(&mut hub, "d", "x").refused, Some(HubError::RoomFull(3)));
    let mut mesh = hub_with(HubConfig { max_peers_per_room: 2, ..HubConfig::default() }, &["a", "b", "c"]);
    joined(&mut mesh, "a", "y");
    joined(&mut mesh, "b", "y");
    assert_eq!(join(&mut mesh, "c", "y").refused, Some(HubError::RoomFull(2)));
}

#[test]
fn media_signaling_reaches_the_engine_only_from_an_sfu_room() {
    let mut hub = hub_with(sfu(), &["a"]);
    let msg = || ClientMsg::Media { transport: MediaTransport::Publish, payload: offer() };
    assert_eq!(hub.handle(&id("a"), msg(), 0).refused, Some(HubError::NotInRoom));
    joined(&mut hub, "a", "x");
    let out = hub.handle(&id("a"), msg(), 0);
    assert_eq!(
        out.media,
        vec![MediaCmd::Signal { peer: id("a"), transport: MediaTransport::Publish, payload: offer() }]
    );
    let out = hub.handle(&id("a"), ClientMsg::RestartMedia, 0);
    assert_eq!(out.media, vec![MediaCmd::Restart { peer: id("a") }]);
    let mut mesh = hub_with(HubConfig::default(), &["a"]);
    joined(&mut mesh, "a", "x");
    for msg in [msg(), ClientMsg::RestartMedia] {
        let out = mesh.handle(&id("a"), msg, 0);
        assert_eq!(out.refused, Some(HubError::NotSfuRoom));
        assert!(out.media.is_empty());
    }
}

#[test]
fn the_host_routes_a_mesh_room_through_the_server_and_back() {
    let mut hub = hub_with(HubConfig::default(), &["host", "b"]);
    joined(&mut hub, "host", "x");
    joined(&mut hub, "b", "x");
    let to_sfu = ClientMsg::SetRoomMedia { media: MediaMode::Sfu };
    let refused = hub.handle(&id("b"), to_sfu.clone(), 0);
    assert_eq!(refused.refused, Some(HubError::NotHost));
    assert!(refused.media.is_empty());

    let out = hub.handle(&id("host"), to_sfu, 0);
    let mut joined: Vec<_> = out.media.clone();
    joined.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        joined,
        vec![
            MediaCmd::Join { room: "x".into(), peer: id("b") },
            MediaCmd::Join { room: "x".into(), peer: id("host") },
        ]
    );
    assert!(
        matches!(&out.deliveries[0].msg, ServerMsg::RoomMedia { media: MediaMode::Sfu, by: Some(by) } if by.id == id("host"))
    );
    assert_eq!(out.deliveries[0].to.ids().len(), 2);
    // A newcomer learns it on joining, and gets the SFU's cap.
    let _ = hub.connect(&id("c"), 0, None);
    hub.handle(&id("c"), ClientMsg::SetNickname { nickname: "c".into() }, 0).result().unwrap();
    let out = join(&mut hub, "c", "x");
    assert!(out.refused.is_none());
    assert!(out.deliveries.iter().any(|d| matches!(&d.msg, ServerMsg::Joined { media: MediaMode::Sfu, .. })));

    // Make-before-break: the SFU sessions stay while the browsers open the
    // mesh, and end after the hand-over's time.
    let out = hub.handle(&id("host"), ClientMsg::SetRoomMedia { media: MediaMode::Mesh }, 0);
    assert!(out.media.is_empty());
    assert!(hub.tick(1_000).media.is_empty());
    assert!(hub.tick(1_000 + super::auto_media::DRAIN_MS - 1).media.is_empty());
    let out = hub.tick(1_000 + super::auto_media::DRAIN_MS);
    assert_eq!(out.media.len(), 3, "everyone leaves the SFU");
    assert!(out.media.iter().all(|c| matches!(c, MediaCmd::Leave { .. })));
    assert!(hub.tick(60_000).media.is_empty(), "once");
}

#[test]
fn a_room_too_big_for_a_mesh_stays_through_the_server() {
    let mut hub = hub_with(sfu(), &["a", "b", "c"]);
    for p in ["a", "b", "c"] {
        joined(&mut hub, p, "x");
    }
    let out = hub.handle(&id("a"), ClientMsg::SetRoomMedia { media: MediaMode::Mesh }, 0);
    assert_eq!(out.refused, Some(HubError::TooManyForMesh(2)));
    assert_eq!(out.refused.as_ref().map(HubError::code), Some(ErrorCode::TooManyForMesh));
    assert!(out.media.is_empty());
}

#[test]
fn the_engine_knows_who_presents_in_an_sfu_room_and_nobody_else_does() {
    let mut hub = hub_with(sfu(), &["a", "b"]);
    joined(&mut hub, "a", "x");
    joined(&mut hub, "b", "x");
    let out = hub.handle(&id("a"), ClientMsg::StartShare, 0);
    assert_eq!(out.media, vec![MediaCmd::Presenting { peer: id("a"), on: true }]);
    let out = hub.handle(&id("a"), ClientMsg::StopShare, 0);
    assert_eq!(out.media, vec![MediaCmd::Presenting { peer: id("a"), on: false }]);
    assert!(hub.handle(&id("a"), ClientMsg::StopShare, 0).media.is_empty(), "not sharing: nothing");

    // A mesh has no engine to tell.
    let mut mesh = hub_with(HubConfig::default(), &["a"]);
    joined(&mut mesh, "a", "y");
    assert!(mesh.handle(&id("a"), ClientMsg::StartShare, 0).media.is_empty());
}

#[test]
fn a_call_moved_to_the_server_mid_share_keeps_its_presenter_in_full_size() {
    let mut hub = hub_with(HubConfig::default(), &["host", "b"]);
    joined(&mut hub, "host", "x");
    joined(&mut hub, "b", "x");
    assert!(hub.handle(&id("b"), ClientMsg::StartShare, 0).refused.is_none());
    let out = hub.handle(&id("host"), ClientMsg::SetRoomMedia { media: MediaMode::Sfu }, 0);
    assert_eq!(
        out.media,
        vec![
            MediaCmd::Join { room: "x".into(), peer: id("host") },
            MediaCmd::Join { room: "x".into(), peer: id("b") },
            MediaCmd::Presenting { peer: id("b"), on: true },
        ]
    );
}
