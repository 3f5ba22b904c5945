//! The camera and microphone: acquiring tracks, listing devices, and the
//! level meter on the pre-join screen.

use super::devices::{Device, MediaProblem};
use super::js::{self, Listener};
use std::cell::Cell;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AnalyserNode, AudioContext, MediaDeviceInfo, MediaDeviceKind, MediaStream, MediaStreamTrack};

/// A stream of the tracks present (for a `<video>`'s `srcObject`).
pub fn stream_of(tracks: &[Option<MediaStreamTrack>]) -> MediaStream {
    let stream = MediaStream::new().expect("MediaStream constructor");
    for track in tracks.iter().flatten() {
        stream.add_track(track);
    }
    stream
}

/// The tracks this page sends. Either may be absent (camera off, no mic).
#[derive(Default)]
pub struct LocalMedia {
    pub audio: Option<MediaStreamTrack>,
    pub video: Option<MediaStreamTrack>,
}

impl LocalMedia {
    /// Replaces the track of `kind`, stopping the old one (its light goes out).
    pub fn set(&mut self, kind: &str, track: Option<MediaStreamTrack>) {
        let slot = if kind == "audio" { &mut self.audio } else { &mut self.video };
        if let Some(old) = std::mem::replace(slot, track) {
            old.stop();
        }
    }

    pub fn stop_all(&mut self) {
        self.set("audio", None);
        self.set("video", None);
    }

    pub fn live_tracks(&self) -> usize {
        [&self.audio, &self.video]
            .into_iter()
            .flatten()
            .filter(|t| t.ready_state() == web_sys::MediaStreamTrackState::Live)
            .count()
    }
}

thread_local! {
    /// The camera is asked for 1280×720 while the call goes through the
    /// server, which forwards each person only the size they are shown:
    /// three simulcast layers need at least 960×540 from the camera. A
    /// mesh uploads one copy per person, so there it stays at 640×360.
    static LARGE_CAMERA: Cell<bool> = const { Cell::new(false) };
}

fn camera_dimensions() -> (u32, u32) {
    if LARGE_CAMERA.with(Cell::get) {
        (1280, 720)
    } else {
        (640, 360)
    }
}

fn camera_size() -> [(&'static str, JsValue); 2] {
    let (width, height) = camera_dimensions();
    [
        ("width", js::object(&[("ideal", width.into())]).into()),
        ("height", js::object(&[("ideal", height.into())]).into()),
    ]
}

fn constraints(kind: &str, device_id: Option<&str>) -> JsValue {
    let mut entries: Vec<(&str, JsValue)> = Vec::new();
    if let Some(id) = device_id {
        entries.push(("deviceId", js::object(&[("exact", JsValue::from_str(id))]).into()));
    }
    if kind == "video" {
        entries.extend(camera_size());
    }
    js::object(&entries).into()
}

/// Asks `camera` (and every camera acquired later) for the size a call
/// through the server (`large`) or a mesh wants; returns once the camera
/// runs at it, or could not (it keeps its size: still a working call).
pub async fn size_camera(camera: Option<MediaStreamTrack>, large: bool) {
    LARGE_CAMERA.with(|l| l.set(large));
    let Some(camera) = camera else { return };
    // The browser runs one capture per device: while another tab (or a
    // page just closed) still holds the camera at its own size, the size
    // cannot change, and the request quietly settles for what runs. Asked
    // again a moment later, once that one let go, it can.
    for wait_ms in SIZE_RETRY_MS {
        js::sleep_ms(wait_ms).await;
        // A later call (the route changed again) decides the size now.
        if LARGE_CAMERA.with(Cell::get) != large {
            return;
        }
        // A camera restarts to change size, and every picture it feeds
        // stops meanwhile (a mesh's too, mid-switch): only when it changes.
        let height = camera.get_settings().get_height().map(|h| h as u32);
        if height == Some(camera_dimensions().1.min(tallest(&camera).unwrap_or(u32::MAX))) {
            return;
        }
        let apply = || -> Result<js_sys::Promise, JsValue> {
            js::call(&camera, "applyConstraints", &js_sys::Array::of1(&js::object(&camera_size())))?
                .dyn_into()
        };
        if async { js::wait(apply()?).await }.await.is_err() {
            return;
        }
    }
}

/// Before each try at a camera's size (ms): at once, then twice more
/// within 2 s, the longest a call through the server waits to publish.
const SIZE_RETRY_MS: [u32; 3] = [0, 500, 1_500];

/// The most lines `camera` can give, if it says.
fn tallest(camera: &MediaStreamTrack) -> Option<u32> {
    let capabilities = js::call(camera, "getCapabilities", &js_sys::Array::new()).ok()?;
    let height = js_sys::Reflect::get(&capabilities, &JsValue::from_str("height")).ok()?;
    js_sys::Reflect::get(&height, &JsValue::from_str("max")).ok()?.as_f64().map(|h| h as u32)
}

/// Waits before asking again after a device failed to start.
const RETRY_AFTER_MS: [u32; 2] = [300, 1_000];

/// Asks for the tracks wanted; `None` for a kind not asked for. A device
/// that could not start (`NotReadableError`, `AbortError`: another tab or
/// app still letting go of the camera, a driver's hiccup) usually starts a
/// moment later, so those are asked again before the person sees an error.
pub async fn acquire(
    audio: Option<Option<&str>>,
    video: Option<Option<&str>>,
) -> Result<(Option<MediaStreamTrack>, Option<MediaStreamTrack>), JsValue> {
    let mut waits = RETRY_AFTER_MS.iter();
    loop {
        match acquire_once(audio, video).await {
            Err(err) if matches!(js::error_name(&err).as_str(), "NotReadableError" | "AbortError") => {
                let Some(&ms) = waits.next() else { return Err(err) };
                js::sleep_ms(ms).await;
            }
            result => return result,
        }
    }
}

async fn acquire_once(
    audio: Option<Option<&str>>,
    video: Option<Option<&str>>,
) -> Result<(Option<MediaStreamTrack>, Option<MediaStreamTrack>), JsValue> {
    let devices = web_sys::window().expect("window").navigator().media_devices()?;
    let request = web_sys::MediaStreamConstraints::new();
    request.set_audio(&audio.map_or(JsValue::FALSE, |id| constraints("audio", id)));
    request.set_video(&video.map_or(JsValue::FALSE, |id| constraints("video", id)));
    let stream: MediaStream =
        js::wait(devices.get_user_media_with_constraints(&request)?).await?.unchecked_into();
    let first = |tracks: js_sys::Array| tracks.get(0).dyn_into::<MediaStreamTrack>().ok();
    Ok((first(stream.get_audio_tracks()), first(stream.get_video_tracks())))
}

pub fn classify(err: &JsValue) -> MediaProblem {
    match js::error_name(err).as_str() {
        "NotAllowedError" | "SecurityError" => MediaProblem::Denied,
        "NotFoundError" | "OverconstrainedError" => MediaProblem::NoDevice,
        other => MediaProblem::Other(other.to_owned()),
    }
}

/// Cameras and microphones; labels are real once permission was given.
pub async fn devices() -> (Vec<Device>, Vec<Device>) {
    let (mut cameras, mut mics) = (Vec::new(), Vec::new());
    let Ok(media) = web_sys::window().expect("window").navigator().media_devices() else {
        return (cameras, mics);
    };
    let Ok(promise) = media.enumerate_devices() else { return (cameras, mics) };
    let Ok(list) = js::wait(promise).await else { return (cameras, mics) };
    for info in js_sys::Array::from(&list).iter() {
        let info: MediaDeviceInfo = info.unchecked_into();
        let list = match info.kind() {
            MediaDeviceKind::Videoinput => &mut cameras,
            MediaDeviceKind::Audioinput => &mut mics,
            _ => continue,
        };
        let n = list.len() + 1;
        let label = info.label();
        let label = if label.is_empty() { format!("Device {n}") } else { label };
        list.push(Device { id: info.device_id(), label });
    }
    (cameras, mics)
}

pub fn device_id(track: &MediaStreamTrack) -> Option<String> {
    track.get_settings().get_device_id()
}

/// Reads the microphone's loudness a few times a second.
pub struct LevelMeter {
    context: AudioContext,
    interval: i32,
    _tick: Listener,
}

impl LevelMeter {
    pub fn start(track: &MediaStreamTrack, on_level: impl Fn(f32) + 'static) -> Option<LevelMeter> {
        let context = AudioContext::new().ok()?;
        let stream = MediaStream::new().ok()?;
        stream.add_track(track);
        let source = context.create_media_stream_source(&stream).ok()?;
        let analyser: AnalyserNode = context.create_analyser().ok()?;
        analyser.set_fft_size(512);
        source.connect_with_audio_node(&analyser).ok()?;
        let mut samples = vec![0f32; 512];
        let tick = Listener::new(move |_| {
            analyser.get_float_time_domain_data(&mut samples);
            let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt();
            // Speech sits around 0.02–0.2 RMS; stretch that over the meter.
            on_level((rms * 5.0).min(1.0));
        });
        let interval = web_sys::window()?
            .set_interval_with_callback_and_timeout_and_arguments_0(tick.function(), 100)
            .ok()?;
        Some(LevelMeter { context, interval, _tick: tick })
    }
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.interval);
        }
        let _ = self.context.close();
    }
}
