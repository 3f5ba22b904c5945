//! Reads `getStats` of one connection into plain numbers.

use super::js;
use super::readings::{Counters, Reading};
use crate::protocol::PeerId;
use wasm_bindgen::{JsCast, JsValue};

/// What to read: a person's connection (a mesh), or a person's slots on
/// the server's subscribe connection; no person for our publish one.
pub type Source = (Option<PeerId>, web_sys::RtcPeerConnection, Option<Vec<String>>);

fn num(stat: &JsValue, field: &str) -> Option<f64> {
    js_sys::Reflect::get(stat, &JsValue::from_str(field)).ok()?.as_f64()
}

fn text(stat: &JsValue, field: &str) -> Option<String> {
    js_sys::Reflect::get(stat, &JsValue::from_str(field)).ok()?.as_string()
}

/// `mids`: only the inbound streams of these m-lines (one person's slots
/// on the SFU's subscribe connection); `None` for all of them.
pub async fn read(pc: &web_sys::RtcPeerConnection, now_ms: f64, mids: Option<&[String]>) -> Option<Reading> {
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
                    if let (Some(w), Some(h)) = (num(&stat, "frameWidth"), num(&stat, "frameHeight")) {
                        let size = (w as u32, h as u32);
                        r.counters.frame_size = r.counters.frame_size.max(Some(size));
                    }
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
