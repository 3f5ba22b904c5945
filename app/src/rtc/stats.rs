//! Polls `getStats` on every peer connection while in a call: received
//! audio levels feed the active-speaker detector, and once a second a
//! bitrate / RTT / loss / fps sample goes into each peer's history.

use super::{epoch, js, with};
use crate::call::quality::{self, Counters, Quality};
use crate::call::speaker::SpeakerDetector;
use crate::call::{Call, Phase};
use crate::protocol::PeerId;
use leptos::prelude::*;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};

const TICK_MS: u32 = 500;

/// What to read: each person's connection (a mesh), or each person's slots
/// on the SFU's subscribe connection plus our publish connection (`None`).
type Source = (Option<PeerId>, web_sys::RtcPeerConnection, Option<Vec<String>>);

fn sources(e: &mut super::Engine) -> Vec<Source> {
    match &e.sfu {
        Some(sfu) => std::iter::once((None, sfu.publish.clone(), Some(Vec::new())))
            .chain(sfu.peers().into_iter().map(|id| {
                let mids = sfu.mids_of(&id);
                (Some(id), sfu.subscribe.clone(), Some(mids))
            }))
            .collect(),
        None => e.peers.iter().map(|(id, p)| (Some(id.clone()), p.pc.clone(), None)).collect(),
    }
}

fn num(stat: &JsValue, field: &str) -> Option<f64> {
    js_sys::Reflect::get(stat, &JsValue::from_str(field)).ok()?.as_f64()
}

fn text(stat: &JsValue, field: &str) -> Option<String> {
    js_sys::Reflect::get(stat, &JsValue::from_str(field)).ok()?.as_string()
}

/// What one report says, summed over the connection's streams.
#[derive(Default, Clone, Copy)]
struct Reading {
    counters: Counters,
    /// Received audio: total energy and duration, for the mean level.
    audio: (f64, f64),
    /// Our own microphone as sent (media-source), same units.
    local_audio: Option<(f64, f64)>,
    rtt_ms: Option<f64>,
}

/// `mids`: only the inbound streams of these m-lines (one person's slots
/// on the SFU's subscribe connection); `None` for all of them.
async fn read(pc: &web_sys::RtcPeerConnection, now_ms: f64, mids: Option<&[String]>) -> Option<Reading> {
    let report = js::wait(pc.get_stats()).await.ok()?;
    let mut r = Reading { counters: Counters { at_ms: now_ms, ..Counters::default() }, ..Reading::default() };
    let report: js_sys::Map = report.unchecked_into();
    report.for_each(&mut |stat, _| {
        let kind = text(&stat, "kind").unwrap_or_default();
        let wanted = || mids.is_none_or(|mids| text(&stat, "mid").is_some_and(|m| mids.contains(&m)));
        match text(&stat, "type").as_deref() {
            Some("inbound-rtp") if wanted() => {
                r.counters.bytes += num(&stat, "bytesReceived").unwrap_or(0.0);
                r.counters.packets_received += num(&stat, "packetsReceived").unwrap_or(0.0);
                r.counters.packets_lost += num(&stat, "packetsLost").unwrap_or(0.0);
                if kind == "video" {
                    r.counters.frames_decoded += num(&stat, "framesDecoded").unwrap_or(0.0);
                } else if kind == "audio" {
                    r.audio.0 += num(&stat, "totalAudioEnergy").unwrap_or(0.0);
                    r.audio.1 += num(&stat, "totalSamplesDuration").unwrap_or(0.0);
                }
            }
            Some("media-source") if kind == "audio" => {
                r.local_audio = Some((
                    num(&stat, "totalAudioEnergy").unwrap_or(0.0),
                    num(&stat, "totalSamplesDuration").unwrap_or(0.0),
                ));
            }
            Some("candidate-pair")
                if js_sys::Reflect::get(&stat, &"nominated".into()).ok() == Some(JsValue::TRUE) =>
            {
                if let Some(rtt) = num(&stat, "currentRoundTripTime") {
                    r.rtt_ms = Some(rtt * 1000.0);
                }
            }
            _ => {}
        }
    });
    Some(r)
}

/// RMS level over an interval from energy totals (energy = Σ level² · dt).
fn level(prev: (f64, f64), now: (f64, f64)) -> f32 {
    let duration = now.1 - prev.1;
    if duration <= 0.0 {
        return 0.0;
    }
    ((now.0 - prev.0).max(0.0) / duration).sqrt() as f32
}

pub fn start_stats(call: Call) {
    let started = epoch();
    wasm_bindgen_futures::spawn_local(async move {
        let mut detector = SpeakerDetector::default();
        let mut last: HashMap<PeerId, Reading> = HashMap::new();
        let mut last_sample: HashMap<PeerId, Counters> = HashMap::new();
        let mut local_last: Option<(f64, f64)> = None;
        let mut tick = 0u32;
        loop {
            js::sleep_ms(TICK_MS).await;
            if epoch() != started || call.state.with_untracked(|s| s.phase) != Phase::InCall {
                return;
            }
            tick += 1;
            let now_ms = js_sys::Date::now();
            let mut levels = Vec::new();
            let mut samples = Vec::new();
            let mut local_now = None;
            for (id, pc, mids) in with(sources) {
                let Some(reading) = read(&pc, now_ms, mids.as_deref()).await else { continue };
                local_now = local_now.or(reading.local_audio);
                // Our own publish connection: only our microphone's level.
                let Some(id) = id else { continue };
                if let Some(prev) = last.get(&id) {
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
                    if let Some(prev) = last_sample.get(&id) {
                        samples.push((
                            id.clone(),
                            quality::sample(prev, &reading.counters, reading.rtt_ms, video_expected),
                        ));
                    }
                    last_sample.insert(id.clone(), reading.counters);
                }
                last.insert(id, reading);
            }
            let me = call.session.model.with_untracked(|m| m.me.clone());
            if let (Some(me), Some(now)) = (me, local_now) {
                let mine = local_last.map_or(0.0, |prev| level(prev, now));
                let muted = !call.state.with_untracked(|s| s.mic_on);
                levels.push((me, if muted { 0.0 } else { mine }));
            }
            local_last = local_now;
            let speaker = detector.update(&levels);
            call.state.update(|s| {
                s.active_speaker = speaker;
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
