//! Capturing the screen. What to do with it (wait for the server's word,
//! then put it on the video senders) is the call model's.

use super::js::{self, Listener};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DisplayMediaStreamConstraints, MediaStream, MediaStreamTrack};

pub struct Screen {
    pub track: MediaStreamTrack,
    /// Confirmed by the server and on the senders.
    pub on_air: bool,
    _ended: Listener,
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.track.set_onended(None);
        self.track.stop();
    }
}

/// Asks the browser for a screen; `on_ended` runs when the browser's own
/// "stop sharing" ends it. `Err` holds the error's name (cancelling the
/// picker is one).
pub async fn capture(on_ended: impl Fn() + 'static) -> Result<Screen, String> {
    let result: Result<MediaStreamTrack, JsValue> = async {
        let devices = web_sys::window().expect("window").navigator().media_devices()?;
        let constraints = DisplayMediaStreamConstraints::new();
        constraints.set_video(&JsValue::TRUE);
        constraints.set_audio(&JsValue::FALSE);
        let stream: MediaStream =
            js::wait(devices.get_display_media_with_constraints(&constraints)?).await?.unchecked_into();
        stream.get_video_tracks().get(0).dyn_into::<MediaStreamTrack>()
    }
    .await;
    let track = result.map_err(|e| js::error_name(&e))?;
    // Text and edges stay sharp: encoders keep resolution over frame rate.
    let _ = js_sys::Reflect::set(&track, &JsValue::from_str("contentHint"), &JsValue::from_str("detail"));
    let ended = Listener::new(move |_| on_ended());
    track.set_onended(Some(ended.function()));
    Ok(Screen { track, on_air: false, _ended: ended })
}
