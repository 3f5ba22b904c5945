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
            // People we were with before a server restart who never came
            // back have left by now.
            if call.session.model.with_untracked(|m| m.returning_due(now_ms as u64)) {
                call.session.model.update(|m| m.expire_returning(now_ms as u64));
            }
            let mut levels = Vec::new();
            let mut samples = Vec::new();
            let mut local_now = None;
            let via_server = call.session.model.with_untracked(|m| {
                m.room.as_ref().is_some_and(|r| r.media == crate::protocol::MediaMode::Sfu)
            });
            let mut arrived = Vec::new();
            for (id, pc, mids) in transports::stats_sources(via_server) {
                let Some(reading) = stats::read(&pc, now_ms, mids.as_deref()).await else { continue };
                local_now = local_now.or(reading.local_audio);
                // Our own publish connection: only our microphone's level.
                let Some(id) = id else { continue };
                // The room's route is changing: this person's media decodes
                // on the new path (someone without a camera: sounds there).
                let c = &reading.counters;
                let moving =
                    call.state.with_untracked(|s| s.peer(&id).is_some_and(|p| p.via_server != via_server));
                if moving
                    && mids.is_some() == via_server
                    && (c.frames_decoded > 0.0
                        || (!super::sends_video(call, &id) && c.packets_received > 0.0))
                {
                    arrived.push(id.clone());
                }
                if let Some(prev) = find(&last, &id) {
                    levels.push((id.clone(), level(prev.audio, reading.audio)));
                }
                if tick.is_multiple_of(2) {
                    let video_expected = super::sends_video(call, &id);
                    let prev = find(&last_sample, &id);
                    if let Some(sample) = prev
                        .and_then(|p| quality::sample(p, &reading.counters, reading.rtt_ms, video_expected))
                    {
                        samples.push((id.clone(), sample));
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
            for id in arrived {
                super::dispatch(call, crate::call::core::Input::Decoded(id));
            }
            let speaker = detector.update(&levels);
            // In an SFU room the server's `active_speaker` decides.
            let mesh = !via_server;
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
