//! `--max-forwarded-tracks`: the SFU takes no more calls than its budget.

use super::*;

fn id(s: &str) -> PeerId {
    PeerId(s.into())
}

fn hub_of(config: HubConfig, people: &[&str]) -> Hub {
    let mut hub = Hub::with_config(config);
    for n in people {
        let _ = hub.connect(&id(n), 0, None);
        hub.handle(&id(n), ClientMsg::SetNickname { nickname: n.to_string() }, 0).result().unwrap();
    }
    hub
}

fn join(hub: &mut Hub, who: &str, room: &str) -> Option<HubError> {
    hub.handle(&id(who), ClientMsg::Join { room: room.into(), passcode: None }, 0).refused
}

#[test]
fn sfu_rooms_take_members_while_the_node_s_tracks_fit_then_the_server_is_full() {
    let config =
        HubConfig { media_mode: MediaMode::Sfu, max_forwarded_tracks: Some(20), ..HubConfig::default() };
    let mut hub = hub_of(config, &["a", "b", "c", "d", "e", "f"]);
    // Three forward 12 tracks; a fourth would make them 24.
    for who in ["a", "b", "c"] {
        assert_eq!(join(&mut hub, who, "x"), None);
    }
    assert_eq!(join(&mut hub, "d", "x"), Some(HubError::ServerFull));
    // Alone, nobody forwards anything; two more make 16; three, 24.
    assert_eq!(join(&mut hub, "d", "y"), None);
    assert_eq!(join(&mut hub, "e", "y"), None);
    assert_eq!(join(&mut hub, "f", "y"), Some(HubError::ServerFull));
    assert_eq!(hub.forwarded_tracks(), 16);
    // Someone leaving makes room.
    let _ = hub.handle(&id("c"), ClientMsg::Leave, 0);
    assert_eq!(join(&mut hub, "f", "y"), None);
    assert_eq!(hub.forwarded_tracks(), 4 + 12);
}

#[test]
fn an_auto_room_the_budget_cannot_take_stays_a_mesh_while_it_can_then_is_full() {
    let config = HubConfig {
        max_peers_per_room: 6,
        max_sfu_peers: 8,
        sfu_from: Some(5),
        max_forwarded_tracks: Some(30),
        ..HubConfig::default()
    };
    let mut hub = hub_of(config, &["a", "b", "c", "d", "e", "f", "g"]);
    // Five through the SFU would be 40 tracks.
    for who in ["a", "b", "c", "d", "e", "f"] {
        assert_eq!(join(&mut hub, who, "x"), None, "{who}");
    }
    assert_eq!(hub.rooms["x"].media, MediaMode::Mesh);
    assert_eq!(hub.forwarded_tracks(), 0);
    assert_eq!(join(&mut hub, "g", "x"), Some(HubError::ServerFull), "past a mesh's six");
}

#[test]
fn the_host_cannot_route_a_room_through_a_full_server() {
    let config = HubConfig { max_forwarded_tracks: Some(10), ..HubConfig::default() };
    let mut hub = hub_of(config, &["a", "b", "c"]);
    for who in ["a", "b", "c"] {
        assert_eq!(join(&mut hub, who, "x"), None);
    }
    let to_sfu = ClientMsg::SetRoomMedia { media: MediaMode::Sfu };
    assert_eq!(hub.handle(&id("a"), to_sfu.clone(), 0).refused, Some(HubError::ServerFull), "12 tracks");
    let _ = hub.handle(&id("c"), ClientMsg::Leave, 0);
    assert_eq!(hub.handle(&id("a"), to_sfu, 0).refused, None, "4 tracks");
    assert_eq!(hub.rooms["x"].media, MediaMode::Sfu);
}
