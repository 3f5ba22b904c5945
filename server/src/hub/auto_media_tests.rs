//! `--media-mode auto`: rooms move to the SFU as they grow and back to a
//! mesh when down to two, without flapping in between.

use super::auto_media::{DRAIN_MS, MESH_AGAIN_AFTER_MS};
use super::*;

fn id(s: &str) -> PeerId {
    PeerId(s.into())
}

const PEOPLE: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

fn auto() -> HubConfig {
    HubConfig { max_peers_per_room: 6, max_sfu_peers: 7, sfu_from: Some(5), ..HubConfig::default() }
}

fn hub_with(config: HubConfig) -> Hub {
    let mut hub = Hub::with_config(config);
    for n in PEOPLE {
        let _ = hub.connect(&id(n), 0, None);
        hub.handle(&id(n), ClientMsg::SetNickname { nickname: n.to_string() }, 0).result().unwrap();
    }
    hub
}

fn join(hub: &mut Hub, who: &str) -> Output {
    hub.handle(&id(who), ClientMsg::Join { room: "x".into(), passcode: None }, 0)
}

fn leave(hub: &mut Hub, who: &str) -> Output {
    hub.handle(&id(who), ClientMsg::Leave, 0)
}

fn room_media(out: &Output) -> Vec<(MediaMode, usize)> {
    out.deliveries
        .iter()
        .filter_map(|d| match &d.msg {
            ServerMsg::RoomMedia { media, by: None } => Some((*media, d.to.ids().len())),
            _ => None,
        })
        .collect()
}

fn joins(out: &Output) -> usize {
    out.media.iter().filter(|c| matches!(c, MediaCmd::Join { .. })).count()
}

fn leaves(out: &Output) -> usize {
    out.media.iter().filter(|c| matches!(c, MediaCmd::Leave { .. })).count()
}

/// `n` people in room "x", the last join's output.
fn room_of(hub: &mut Hub, n: usize) -> Output {
    let mut last = Output::default();
    for who in &PEOPLE[..n] {
        last = join(hub, who);
        assert_eq!(last.refused, None, "{who} joins");
    }
    last
}

#[test]
fn the_join_that_makes_five_routes_the_call_through_the_server() {
    let mut hub = hub_with(auto());
    let fourth = room_of(&mut hub, 4);
    assert!(fourth.media.is_empty(), "four is still a mesh");
    let fifth = join(&mut hub, "e");
    assert_eq!(joins(&fifth), 5, "everyone, the newcomer too, gets an SFU session");
    assert_eq!(room_media(&fifth), vec![(MediaMode::Sfu, 4)], "the four already in are told");
    let mine = fifth.deliveries.iter().find(|d| d.to.ids() == [id("e")]).expect("joined");
    assert!(
        matches!(mine.msg, ServerMsg::Joined { media: MediaMode::Sfu, .. }),
        "the newcomer joins the SFU call"
    );
    // The sixth simply joins the SFU call.
    let sixth = join(&mut hub, "f");
    assert_eq!(fifth.refused, None);
    assert_eq!((joins(&sixth), room_media(&sixth)), (1, vec![]));
}

#[test]
fn an_auto_room_holds_the_sfus_number_and_no_more() {
    let mut hub = hub_with(auto());
    let _ = room_of(&mut hub, 7);
    assert_eq!(
        join(&mut hub, "h").refused,
        Some(HubError::RoomFull(7)),
        "--max-peers (6) no longer refuses the 7th"
    );
}

#[test]
fn between_four_and_five_it_does_not_flap() {
    let mut hub = hub_with(auto());
    let _ = room_of(&mut hub, 5);
    let out = leave(&mut hub, "e");
    assert_eq!((leaves(&out), room_media(&out)), (1, vec![]), "only the leaver's session ends");
    let again = join(&mut hub, "e");
    assert_eq!((joins(&again), room_media(&again)), (1, vec![]));
    for t in 0..20 {
        assert!(hub.tick(t * 1_000).is_empty(), "five and four stay through the server");
    }
    let _ = leave(&mut hub, "e");
    let _ = leave(&mut hub, "d");
    for t in 20..40 {
        assert!(hub.tick(t * 1_000).is_empty(), "three too");
    }
}

#[test]
fn down_to_two_for_five_seconds_it_goes_back_to_a_mesh() {
    let mut hub = hub_with(auto());
    let _ = room_of(&mut hub, 5);
    for who in ["c", "d", "e"] {
        let _ = leave(&mut hub, who);
    }
    assert!(hub.tick(10_000).is_empty(), "the clock starts");
    assert!(hub.tick(10_000 + MESH_AGAIN_AFTER_MS - 1).is_empty());
    let out = hub.tick(10_000 + MESH_AGAIN_AFTER_MS);
    assert_eq!(room_media(&out), vec![(MediaMode::Mesh, 2)]);
    assert_eq!(leaves(&out), 0, "their SFU sessions stay while they hand over");
    let at = 10_000 + MESH_AGAIN_AFTER_MS;
    assert!(hub.tick(at + 1).is_empty(), "the drain starts");
    let out = hub.tick(at + 1 + DRAIN_MS);
    assert_eq!((leaves(&out), room_media(&out)), (2, vec![]));

    // A newcomer now joins a mesh.
    let out = join(&mut hub, "c");
    assert!(out.media.is_empty());
    assert!(out.deliveries.iter().any(|d| matches!(d.msg, ServerMsg::Joined { media: MediaMode::Mesh, .. })));
}

#[test]
fn someone_coming_back_in_time_keeps_the_call_through_the_server() {
    let mut hub = hub_with(auto());
    let _ = room_of(&mut hub, 5);
    for who in ["c", "d", "e"] {
        let _ = leave(&mut hub, who);
    }
    assert!(hub.tick(0).is_empty());
    let _ = join(&mut hub, "c");
    assert!(hub.tick(MESH_AGAIN_AFTER_MS).is_empty(), "three again: the clock stopped");
    let _ = leave(&mut hub, "c");
    assert!(hub.tick(MESH_AGAIN_AFTER_MS + 1).is_empty(), "and starts over");
    assert_eq!(room_media(&hub.tick(2 * MESH_AGAIN_AFTER_MS + 1)), vec![(MediaMode::Mesh, 2)]);
}

#[test]
fn a_room_back_in_a_mesh_grows_into_the_server_again_even_while_draining() {
    let mut hub = hub_with(auto());
    let _ = room_of(&mut hub, 5);
    for who in ["c", "d", "e"] {
        let _ = leave(&mut hub, who);
    }
    let _ = hub.tick(0);
    assert_eq!(room_media(&hub.tick(MESH_AGAIN_AFTER_MS)), vec![(MediaMode::Mesh, 2)]);
    for who in ["c", "d"] {
        assert!(join(&mut hub, who).media.is_empty());
    }
    let out = join(&mut hub, "e");
    // a and b still had sessions: they start over, then everyone joins.
    assert_eq!((leaves(&out), joins(&out)), (5, 5));
    assert!(hub.tick(MESH_AGAIN_AFTER_MS + DRAIN_MS + 1).is_empty(), "the drain was cancelled");
}

#[test]
fn the_hosts_choice_turns_the_automatic_switch_off() {
    let mut hub = hub_with(auto());
    let _ = room_of(&mut hub, 2);
    let out = hub.handle(&id("a"), ClientMsg::SetRoomMedia { media: MediaMode::Sfu }, 0);
    assert_eq!(joins(&out), 2);
    for t in 0..20 {
        assert!(hub.tick(t * 1_000).is_empty(), "two, but the host asked for the server");
    }
    let out = hub.handle(&id("a"), ClientMsg::SetRoomMedia { media: MediaMode::Mesh }, 0);
    assert_eq!(out.refused, None);
    // The host's mesh is capped by --max-peers and does not grow into the SFU.
    for who in &PEOPLE[2..6] {
        let out = join(&mut hub, who);
        assert_eq!((out.refused, out.media.len()), (None, 0), "{who}");
    }
    assert_eq!(join(&mut hub, "g").refused, Some(HubError::RoomFull(6)));
}

#[test]
fn with_other_nodes_rooms_stay_a_mesh() {
    let mut hub = hub_with(auto());
    hub.set_clustered();
    let out = room_of(&mut hub, 6);
    assert!(out.media.is_empty() && room_media(&out).is_empty());
    assert_eq!(join(&mut hub, "g").refused, Some(HubError::RoomFull(6)));
}
