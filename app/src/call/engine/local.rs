//! Our camera and microphone: the pre-join preview, mute, camera on/off
//! and device switching. The tracks live in the transports, which put
//! them on every sender.

use crate::call::{Call, CallState, Phase};
use crate::rtc::media::{self, LevelMeter};
use crate::rtc::transports;
use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::MediaStreamTrack;

type Tracks = (Option<MediaStreamTrack>, Option<MediaStreamTrack>);

/// Asks for the camera and/or microphone for the pre-join screen.
pub fn start_preview(call: Call, audio: bool, video: bool) {
    call.state.update(|s| {
        s.phase = Phase::Preview;
        s.starting = true;
        s.problem = None;
        s.camera_on = video;
    });
    let started = transports::epoch();
    wasm_bindgen_futures::spawn_local(async move {
        let (mic_id, cam_id) = call.state.with_untracked(|s| (s.mic_id.clone(), s.camera_id.clone()));
        let wanted = (audio.then_some(mic_id.as_deref()), video.then_some(cam_id.as_deref()));
        let Some(result) = acquire_unless_left(started, wanted.0, wanted.1).await else { return };
        match result {
            Ok((a, v)) => {
                set_local(call, "audio", a);
                set_local(call, "video", v);
                refresh_devices(call).await;
                call.state.update(|s| s.starting = false);
            }
            Err(err) => call.state.update(|s| {
                s.starting = false;
                s.problem = Some(media::classify(&err));
            }),
        }
    });
}

/// `media::acquire`, unless the call was left meanwhile (a new epoch): then
/// the tracks just obtained are stopped and `None` is returned.
async fn acquire_unless_left(
    started: u32,
    audio: Option<Option<&str>>,
    video: Option<Option<&str>>,
) -> Option<Result<Tracks, JsValue>> {
    let result = media::acquire(audio, video).await;
    if transports::epoch() == started {
        return Some(result);
    }
    if let Ok((a, v)) = result {
        a.iter().chain(v.iter()).for_each(|t| t.stop());
    }
    None
}

async fn refresh_devices(call: Call) {
    let (cameras, mics) = media::devices().await;
    call.state.update(|s| {
        s.cameras = cameras;
        s.mics = mics;
    });
}

/// Makes `track` our `kind` track everywhere: self view, every sender,
/// the level meter.
fn set_local(call: Call, kind: &str, track: Option<MediaStreamTrack>) {
    let id = track.as_ref().and_then(media::device_id);
    let live = track.is_some();
    if kind == "audio" {
        if let Some(t) = &track {
            t.set_enabled(call.state.with_untracked(|s| s.mic_on));
        }
        let meter = track.as_ref().and_then(|t| LevelMeter::start(t, move |level| call.level.set(level)));
        transports::set_meter(meter);
    }
    transports::set_local(kind, track);
    if kind == "audio" && !live {
        call.level.set(0.0);
    }
    call.state.update(|s| {
        s.local_rev += 1;
        if kind == "audio" {
            s.has_mic = live;
            s.mic_id = id.or(s.mic_id.take());
        } else {
            s.has_camera = live;
            s.camera_id = id.or(s.camera_id.take());
        }
    });
    announce_media(call);
}

/// Tells the room what we send now (for the indicators on our tile).
fn announce_media(call: Call) {
    let media = call.state.with_untracked(CallState::media);
    call.session.act(|m| m.set_media(media));
}

pub fn toggle_mic(call: Call) {
    let (on, has) = call.state.with_untracked(|s| (s.mic_on, s.has_mic));
    if !has {
        call.state.update(|s| s.mic_on = true);
        acquire_one(call, "audio", None);
        return;
    }
    transports::set_mic_enabled(!on);
    call.state.update(|s| s.mic_on = !on);
    announce_media(call);
}

/// Camera off releases the camera (its light goes out); on asks for it again.
pub fn toggle_camera(call: Call) {
    if call.state.with_untracked(|s| s.camera_on && s.has_camera) {
        call.state.update(|s| s.camera_on = false);
        set_local(call, "video", None);
    } else {
        call.state.update(|s| s.camera_on = true);
        acquire_one(call, "video", None);
    }
}

pub fn switch_device(call: Call, kind: &'static str, device_id: String) {
    let active =
        call.state.with_untracked(|s| if kind == "audio" { s.has_mic } else { s.camera_on && s.has_camera });
    call.state.update(|s| {
        if kind == "audio" {
            s.mic_id = Some(device_id.clone());
        } else {
            s.camera_id = Some(device_id.clone());
        }
    });
    if active {
        acquire_one(call, kind, Some(device_id));
    }
}

fn acquire_one(call: Call, kind: &'static str, device_id: Option<String>) {
    let started = transports::epoch();
    wasm_bindgen_futures::spawn_local(async move {
        let device_id = device_id.or_else(|| {
            call.state
                .with_untracked(|s| if kind == "audio" { s.mic_id.clone() } else { s.camera_id.clone() })
        });
        let wanted = Some(device_id.as_deref());
        let result = if kind == "audio" {
            acquire_unless_left(started, wanted, None).await
        } else {
            acquire_unless_left(started, None, wanted).await
        };
        let Some(result) = result else { return };
        match result {
            Ok((audio, video)) => set_local(call, kind, if kind == "audio" { audio } else { video }),
            Err(err) => call.state.update(|s| {
                s.problem = Some(media::classify(&err));
                if kind == "video" {
                    s.camera_on = false;
                }
            }),
        }
    });
}
