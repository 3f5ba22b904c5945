//! What each video tile shows, as one pure projection of the room and the
//! call, so a tile has one memo instead of a handful reading whole states.

use super::quality::Quality;
use super::{CallState, PeerLink};
use crate::protocol::{MediaState, Member, PeerId, Reaction};
use crate::session::{Floating, Model};

/// The part of the session the stage needs. The stage keeps it in one memo:
/// a chat line changes the session but not this, so no tile hears of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageFacts {
    pub me: Option<PeerId>,
    pub members: Vec<Member>,
    pub sharer: Option<PeerId>,
    pub signaling_up: bool,
    pub reactions: Vec<Floating>,
}

impl StageFacts {
    pub fn of(model: &Model) -> Self {
        let room = model.room.as_ref();
        StageFacts {
            me: model.me.clone(),
            members: room.map(|r| r.members.clone()).unwrap_or_default(),
            sharer: room.and_then(|r| r.sharer.clone()),
            signaling_up: model.is_open(),
            reactions: room.map(|r| r.reactions.clone()).unwrap_or_default(),
        }
    }

    /// Ourselves first, then everyone else in join order.
    pub fn tile_order(&self) -> Vec<PeerId> {
        let mut ids: Vec<PeerId> = self.members.iter().map(|m| m.id.clone()).collect();
        ids.sort_by_key(|id| Some(id) != self.me.as_ref());
        ids
    }

    /// Someone is pinned or presents, or speaker view is on: one large tile
    /// and a strip.
    pub fn focused(&self, call: &CallState) -> bool {
        self.pinned(call).is_some() || self.sharer.is_some() || call.speaker_view
    }

    /// Our own video floats small in a corner: we asked, someone else is
    /// here to fill the grid, and we are not the one shown large.
    pub fn self_floating(&self, call: &CallState) -> bool {
        call.self_minimised
            && self.members.len() > 1
            && !self.me.as_ref().is_some_and(|me| self.featured(call, me))
    }

    /// The large tile: whoever we pinned, else whoever presents, else the
    /// active speaker in speaker view.
    pub fn featured(&self, call: &CallState, id: &PeerId) -> bool {
        match (self.pinned(call), &self.sharer) {
            (Some(pin), _) => pin == id,
            (None, Some(sharer)) => sharer == id,
            (None, None) => call.speaker_view && call.active_speaker.as_ref() == Some(id),
        }
    }

    /// How many tiles the grid lays out.
    pub fn in_grid(&self, call: &CallState) -> usize {
        self.members.len() - usize::from(self.self_floating(call))
    }

    /// Whom we pinned, while they are still here.
    pub fn pinned<'a>(&self, call: &'a CallState) -> Option<&'a PeerId> {
        call.pinned.as_ref().filter(|p| self.members.iter().any(|m| &m.id == *p))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TileView {
    pub is_me: bool,
    pub nickname: String,
    pub media: MediaState,
    /// `None` for ourselves, and for a member we have no connection to yet.
    pub link: Option<PeerLink>,
    pub speaking: bool,
    pub presenting: bool,
    /// The large tile: whoever we pinned, else whoever presents, else the
    /// active speaker in speaker view.
    pub featured: bool,
    pub pinned: bool,
    /// Our own tile, minimised to a corner.
    pub floating: bool,
    pub quality: Option<Quality>,
    /// The server holds their video back from us (our connection cannot
    /// take it): their initials and the reason, not a frozen picture.
    pub held_back: bool,
    /// What the tile says over the video, if anything.
    pub status: Option<&'static str>,
    pub hand_raised: bool,
    /// Reactions floating over the tile now, each with its own number.
    pub reactions: Vec<(u64, Reaction)>,
}

impl TileView {
    /// `data-link`, for styling and the tests.
    pub fn link_state(&self) -> &'static str {
        match self.link {
            None if self.is_me => "self",
            None | Some(PeerLink::Connecting) => "connecting",
            Some(PeerLink::Connected) => "connected",
            Some(PeerLink::Reconnecting) => "reconnecting",
        }
    }

    /// Initials instead of black when the camera is off (unless
    /// presenting), or instead of a frozen picture when it is held back.
    pub fn shows_avatar(&self) -> bool {
        (!self.media.video && !self.presenting) || self.held_back
    }
}

pub fn tile_view(facts: &StageFacts, call: &CallState, id: &PeerId) -> TileView {
    let is_me = facts.me.as_ref() == Some(id);
    let member = facts.members.iter().find(|m| &m.id == id);
    let peer = if is_me { None } else { call.peer(id) };
    // Our own state shows at once, without waiting for the server's echo.
    let media = if is_me { call.media() } else { member.map_or(MediaState::default(), |m| m.media) };
    let link = peer.map(|p| p.link);
    // Only what comes through the server can be held back by it.
    let held_back = peer.is_some_and(|p| p.via_server) && call.held_back.contains(id);
    let presenting = facts.sharer.as_ref() == Some(id);
    let speaking = call.active_speaker.as_ref() == Some(id);
    let pinned = facts.pinned(call) == Some(id);
    let featured = facts.featured(call, id);
    // No connection to a remote member yet, or none while the signaling
    // socket is down (a server restart): say so rather than show black.
    let status = match link {
        Some(PeerLink::Connecting) => Some("Connecting…"),
        Some(PeerLink::Reconnecting) => Some("Reconnecting…"),
        None if !is_me && facts.signaling_up => Some("Connecting…"),
        None if !is_me => Some("Reconnecting…"),
        // Their sound still comes; say why the picture stopped.
        _ if held_back => Some("Video paused: your connection is slow"),
        _ => None,
    };
    TileView {
        is_me,
        nickname: member.map(|m| m.nickname.clone()).unwrap_or_default(),
        media,
        link,
        speaking,
        presenting,
        featured,
        pinned,
        floating: is_me && facts.self_floating(call),
        quality: peer.and_then(|p| p.quality),
        held_back,
        status,
        hand_raised: member.is_some_and(|m| m.hand.is_some()),
        reactions: facts.reactions.iter().filter(|r| &r.from == id).map(|r| (r.seq, r.reaction)).collect(),
    }
}

/// Tile shapes the grid may use: camera video as it comes, and a portrait
/// crop for tall stages (a phone held upright), as Meet does.
pub const TILE_ASPECTS: [f64; 2] = [16.0 / 9.0, 3.0 / 4.0];

/// The shapes worth trying on a stage: portrait crops only on a portrait
/// stage (on a wide one they win by a few pixels and cut faces for nothing).
pub fn tile_aspects(width: f64, height: f64) -> &'static [f64] {
    if height > width {
        &TILE_ASPECTS
    } else {
        &TILE_ASPECTS[..1]
    }
}

/// How `n` tiles fill a stage: so many columns of tiles this large.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridFit {
    pub columns: usize,
    pub width: f64,
    pub height: f64,
}

/// The largest equal tiles, of one of `aspects` (width / height), that fit
/// `n` of them in a `width` × `height` stage with `gap` between them: tried
/// for every column count, as Jitsi's tile view does, so the grid grows to
/// the stage instead of leaving it empty.
pub fn grid_fit(n: usize, width: f64, height: f64, gap: f64, aspects: &[f64]) -> GridFit {
    let n = n.max(1);
    let mut best = GridFit { columns: 1, width: 0.0, height: 0.0 };
    for columns in 1..=n {
        let rows = n.div_ceil(columns);
        let cell_w = (width - gap * (columns - 1) as f64) / columns as f64;
        let cell_h = (height - gap * (rows - 1) as f64) / rows as f64;
        if cell_w <= 0.0 || cell_h <= 0.0 {
            continue;
        }
        for &aspect in aspects {
            let (w, h) =
                if cell_w / cell_h > aspect { (cell_h * aspect, cell_h) } else { (cell_w, cell_w / aspect) };
            if w * h > best.width * best.height {
                best = GridFit { columns, width: w.floor(), height: h.floor() };
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::PeerView;

    fn fits(fit: GridFit, n: usize, width: f64, height: f64, gap: f64) -> bool {
        let rows = n.div_ceil(fit.columns) as f64;
        let cols = fit.columns as f64;
        fit.width * cols + gap * (cols - 1.0) <= width && fit.height * rows + gap * (rows - 1.0) <= height
    }

    #[test]
    fn the_grid_grows_to_fill_the_stage() {
        let video = &TILE_ASPECTS[..1];
        // One person in a 16:9 stage takes all of it.
        assert_eq!(
            grid_fit(1, 1280.0, 720.0, 12.0, video),
            GridFit { columns: 1, width: 1280.0, height: 720.0 }
        );
        // Three in a 1000x600 stage: two columns, tiles far larger than three in a row.
        let three = grid_fit(3, 1000.0, 600.0, 12.0, video);
        assert_eq!(three.columns, 2);
        assert!(three.width > 480.0, "{three:?}");
        // Every count up to a big room fits inside the stage, and covers most
        // of it while the shape allows.
        for n in 1..=50 {
            for (w, h) in [(860.0, 620.0), (1280.0, 560.0), (366.0, 520.0), (600.0, 1000.0)] {
                let fit = grid_fit(n, w, h, 12.0, tile_aspects(w, h));
                assert!(fits(fit, n, w, h, 12.0), "{n} in {w}x{h}: {fit:?}");
                let covered = n as f64 * fit.width * fit.height / (w * h);
                if n <= 6 {
                    assert!(covered > 0.45, "{n} in {w}x{h}: {covered:.2} of the stage");
                }
            }
        }
    }

    #[test]
    fn a_wide_stage_keeps_the_video_shape() {
        assert_eq!(tile_aspects(870.0, 610.0), &[16.0 / 9.0]);
        let three = grid_fit(3, 870.0, 610.0, 12.0, tile_aspects(870.0, 610.0));
        assert_eq!((three.columns, three.width), (2, 429.0), "two by two, not three portrait strips");
    }

    #[test]
    fn a_tall_stage_uses_portrait_tiles_when_they_are_larger() {
        let one = grid_fit(1, 366.0, 520.0, 12.0, &TILE_ASPECTS);
        assert_eq!((one.width, one.height), (366.0, 488.0));
        let three = grid_fit(3, 366.0, 520.0, 12.0, &TILE_ASPECTS);
        assert_eq!(three.columns, 1, "stacked landscape tiles beat portrait ones side by side: {three:?}");
        assert_eq!(grid_fit(0, 0.0, 0.0, 12.0, &TILE_ASPECTS).width, 0.0, "no stage yet");
    }

    fn id(s: &str) -> PeerId {
        PeerId(s.into())
    }

    fn member(who: &str, audio: bool, video: bool) -> Member {
        Member { id: id(who), nickname: who.to_uppercase(), media: MediaState { audio, video }, hand: None }
    }

    fn facts() -> StageFacts {
        StageFacts {
            me: Some(id("me")),
            members: vec![member("ann", true, false), member("me", false, false), member("bo", false, true)],
            sharer: None,
            signaling_up: true,
            reactions: Vec::new(),
        }
    }

    #[test]
    fn a_tile_shows_its_owners_hand_and_only_their_reactions() {
        let mut facts = facts();
        facts.members[0].hand = Some(7);
        let float = |seq, who: &str| Floating { seq, from: id(who), reaction: Reaction::Wow, at_ms: 0 };
        facts.reactions = vec![float(1, "ann"), float(2, "bo"), float(3, "ann")];
        let ann = tile_view(&facts, &call(), &id("ann"));
        assert!(ann.hand_raised);
        assert_eq!(ann.reactions, vec![(1, Reaction::Wow), (3, Reaction::Wow)]);
        let bo = tile_view(&facts, &call(), &id("bo"));
        assert!(!bo.hand_raised);
        assert_eq!(bo.reactions, vec![(2, Reaction::Wow)]);
    }

    fn call() -> CallState {
        let mut call = CallState { has_mic: true, has_camera: true, ..CallState::default() };
        let mut ann = PeerView::new(id("ann"));
        ann.link = PeerLink::Connected;
        ann.quality = Some(Quality::Good);
        call.peers.push(ann);
        call
    }

    #[test]
    fn own_tile_first_and_own_media_from_the_call_not_the_server() {
        let facts = facts();
        assert_eq!(facts.tile_order(), vec![id("me"), id("ann"), id("bo")]);
        let me = tile_view(&facts, &call(), &id("me"));
        assert!(me.is_me);
        assert_eq!(me.media, MediaState { audio: true, video: true }, "not the stale echo");
        assert_eq!((me.link_state(), me.status), ("self", None));
    }

    #[test]
    fn remote_tiles_show_their_link_media_and_quality() {
        let (facts, call) = (facts(), call());
        let ann = tile_view(&facts, &call, &id("ann"));
        assert_eq!(ann.nickname, "ANN");
        assert_eq!((ann.link_state(), ann.status), ("connected", None));
        assert_eq!(ann.quality, Some(Quality::Good));
        assert!(ann.shows_avatar(), "camera off: initials");
        let bo = tile_view(&facts, &call, &id("bo"));
        assert_eq!((bo.link_state(), bo.status), ("connecting", Some("Connecting…")));
        assert!(!bo.shows_avatar());
        let down = StageFacts { signaling_up: false, ..facts };
        assert_eq!(tile_view(&down, &call, &id("bo")).status, Some("Reconnecting…"));
    }

    #[test]
    fn the_presenter_is_featured_else_the_speaker_in_speaker_view() {
        let mut call = call();
        call.active_speaker = Some(id("ann"));
        let facts = facts();
        assert!(tile_view(&facts, &call, &id("ann")).speaking);
        assert!(!tile_view(&facts, &call, &id("ann")).featured, "grid view features nobody");
        call.speaker_view = true;
        assert!(tile_view(&facts, &call, &id("ann")).featured);
        assert!(facts.focused(&call));
        let sharing = StageFacts { sharer: Some(id("bo")), ..facts };
        let bo = tile_view(&sharing, &call, &id("bo"));
        assert!(bo.featured && bo.presenting && !bo.shows_avatar());
        assert!(!tile_view(&sharing, &call, &id("ann")).featured, "the screen beats the speaker");
    }

    #[test]
    fn a_minimised_self_view_floats_and_leaves_the_grid_unless_alone() {
        let call = CallState { self_minimised: true, ..call() };
        let facts = facts();
        assert!(tile_view(&facts, &call, &id("me")).floating);
        assert!(!tile_view(&facts, &call, &id("ann")).floating);
        assert_eq!(facts.in_grid(&call), 2);
        let alone = StageFacts { members: vec![member("me", true, true)], ..facts.clone() };
        assert!(!tile_view(&alone, &call, &id("me")).floating, "alone, the grid is ours");
        assert_eq!(alone.in_grid(&call), 1);
        // Shown large (pinned, presenting, speaking in speaker view): not shrunk.
        let pinned = CallState { pinned: Some(id("me")), ..call.clone() };
        assert!(!tile_view(&facts, &pinned, &id("me")).floating);
        let presenting = StageFacts { sharer: Some(id("me")), ..facts };
        assert!(!tile_view(&presenting, &call, &id("me")).floating);
    }

    #[test]
    fn a_pin_beats_the_screen_and_the_speaker_and_lapses_when_they_leave() {
        let mut call = call();
        call.active_speaker = Some(id("ann"));
        call.speaker_view = true;
        call.pinned = Some(id("me"));
        let sharing = StageFacts { sharer: Some(id("bo")), ..facts() };
        let me = tile_view(&sharing, &call, &id("me"));
        assert!(me.featured && me.pinned);
        assert!(!tile_view(&sharing, &call, &id("bo")).featured);
        assert!(!tile_view(&sharing, &call, &id("ann")).featured);
        // Pinned someone who left: back to what the room shows.
        call.pinned = Some(id("gone"));
        assert!(tile_view(&sharing, &call, &id("bo")).featured);
        let grid = CallState { speaker_view: false, ..call };
        assert!(!facts().focused(&grid), "nobody left to pin: the grid");
    }

    #[test]
    fn a_person_held_back_shows_initials_and_why_not_a_frozen_picture() {
        let mut call = call();
        let facts = facts();
        let mut bo = PeerView::new(id("bo"));
        bo.link = PeerLink::Connected;
        bo.via_server = true;
        call.peers.push(bo);
        assert!(!tile_view(&facts, &call, &id("bo")).shows_avatar());
        call.held_back = vec![id("bo"), id("me")];
        let bo = tile_view(&facts, &call, &id("bo"));
        assert!(bo.held_back && bo.shows_avatar());
        assert_eq!(bo.status, Some("Video paused: your connection is slow"));
        assert_eq!(tile_view(&facts, &call, &id("me")).status, None, "never ourselves");
        // A connection problem says so first.
        call.peers[1].link = PeerLink::Reconnecting;
        assert_eq!(tile_view(&facts, &call, &id("bo")).status, Some("Reconnecting…"));
        // Back to a mesh, bo's picture no longer passes the server.
        call.peers[1].link = PeerLink::Connected;
        call.peers[1].via_server = false;
        assert!(!tile_view(&facts, &call, &id("bo")).held_back);
    }

    #[test]
    fn a_chat_line_leaves_the_stage_facts_unchanged() {
        let mut model = Model::default();
        model.on_server(
            crate::protocol::ServerMsg::Welcome {
                id: id("me"),
                ice_servers: vec![],
                resume: None,
                resumed: false,
            },
            0,
        );
        model.on_server(crate::protocol::ServerMsg::NicknameSet { nickname: "ME".into() }, 0);
        let _ = model.enter_room("x".into());
        let joined = crate::protocol::ServerMsg::Joined {
            room: "x".into(),
            members: vec![member("me", true, true), member("ann", true, true)],
            locked: false,
            passcode: false,
            sharer: None,
            media: crate::protocol::MediaMode::Mesh,
            resumed: false,
        };
        model.on_server(joined, 0);
        let before = StageFacts::of(&model);
        let chat = crate::protocol::ServerMsg::Chat {
            from: member("ann", true, true),
            text: "hi".into(),
            ts: 1,
            nonce: None,
        };
        model.on_server(chat, 1);
        assert_eq!(StageFacts::of(&model), before);
    }
}
