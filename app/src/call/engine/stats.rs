//! Polls the connections' statistics while in a call: received audio
//! levels feed the active-speaker detector, and once a second a bitrate /
//! RTT / loss / fps sample goes into each peer's history.

use crate::call::quality::{self, Quality};
use crate::call::{Call, Phase};
use crate::protocol::PeerId;
use crate::rtc::readings::{level, Counters, Reading};
use crate::rtc::{stats, transports};
use crate::speaker::SpeakerDetector;
use leptos::prelude::*;

const TICK_MS: u32 = 500;

pub fn start_stats(call: Call) {
    let started = transports::epoch();
    wasm_bindgen_futures::spawn_local(async move {
        let mut detector = SpeakerDetector::default();
        // By person; lists rather than maps, which would weigh more in the
        // download than a room's worth of entries costs to scan.
        let mut last: Vec<(PeerId, Reading)> = Vec::new();
        let mut last_sample: Vec<(PeerId, Counters)> = Vec::new();
        let mut local_last: Option<(f64, f64)> = None;
        let mut tick = 0u32;
        loop {
            gloo_timers::future::TimeoutFuture::new(TICK_MS).await;
            if transports::epoch() != started || call.state.with_untracked(|s| s.phase) != Phase::InCall {
                return;
            }
            tick += 1;
            let now_ms = js_sys::Date::now();
            let mut levels = Vec::new();
            let mut samples = Vec::new();
            let mut local_now = None;
            for (id, pc, mids) in transports::stats_sources() {
                let Some(reading) = stats::read(&pc, now_ms, mids.as_deref()).await else { continue };
                local_now = local_now.or(reading.local_audio);
                // Our own publish connection: only our microphone's level.
                let Some(id) = id else { continue };
                if let Some(prev) = find(&last, &id) {
                    levels.push((id.clone(), level(prev.audio, reading.audio)));
                }
                if tick.is_multiple_of(2) {
                    let video_expected = call.session.model.with_untracked(|m| {
                        m.room
                            .as_ref()
                            .and_then(|r| r.members.iter().find(|x| x.id == id))
                            .is_some_and(|x| x.media.video)
                            || m.room.as_ref().and_then(|r| r.sharer.as_ref()) == Some(&id)
                    });
                    if let Some(prev) = find(&last_sample, &id) {
                        samples.push((
                            id.clone(),
                            quality::sample(prev, &reading.counters, reading.rtt_ms, video_expected),
                        ));
                    }
                    put(&mut last_sample, &id, reading.counters);
                }
                put(&mut last, &id, reading);
            }
            let me = call.session.model.with_untracked(|m| m.me.clone());
            if let (Some(me), Some(now)) = (me, local_now) {
                let mine = local_last.map_or(0.0, |prev| level(prev, now));
                let muted = !call.state.with_untracked(|s| s.mic_on);
                levels.push((me, if muted { 0.0 } else { mine }));
            }
            local_last = local_now;
            let speaker = detector.update(&levels);
            // In an SFU room the server's `active_speaker` decides.
            let mesh = call.session.model.with_untracked(|m| {
                m.room.as_ref().is_none_or(|r| r.media == crate::protocol::MediaMode::Mesh)
            });
            call.state.update(|s| {
                if mesh {
                    s.active_speaker = speaker;
                }
                for (id, sample) in samples {
                    if let Some(view) = s.peers.iter_mut().find(|p| p.id == id) {
                        quality::push(&mut view.stats, sample);
                        view.quality = Some(Quality::of(&sample));
                    }
                }
            });
        }
    });
}

fn find<'a, V>(list: &'a [(PeerId, V)], id: &PeerId) -> Option<&'a V> {
    list.iter().find(|(k, _)| k == id).map(|(_, v)| v)
}

fn put<V>(list: &mut Vec<(PeerId, V)>, id: &PeerId, value: V) {
    match list.iter_mut().find(|(k, _)| k == id) {
        Some((_, v)) => *v = value,
        None => list.push((id.clone(), value)),
    }
}
