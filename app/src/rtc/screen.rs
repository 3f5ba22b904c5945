//! Screen sharing: the screen replaces the camera on every video sender
//! (`replaceTrack`, no renegotiation), once the server has confirmed we are
//! the room's one sharer. Stopping (our button, or the browser's own "stop
//! sharing") puts the camera back.

use super::js::{self, Listener};
use super::with;
use crate::call::{Call, CallState};
use crate::protocol::{ClientMsg, ErrorCode};
use leptos::prelude::*;
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

pub fn toggle_share(call: Call) {
    if with(|e| e.screen.is_some()) {
        stop(call, true);
    } else {
        start(call);
    }
}

fn start(call: Call) {
    wasm_bindgen_futures::spawn_local(async move {
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
        let track = match result {
            Ok(track) => track,
            // Cancelling the browser's picker is not an error worth showing.
            Err(err) => return leptos::logging::warn!("screen capture: {}", js::error_name(&err)),
        };
        // The browser's own "stop sharing" ends the track. Stop outside the
        // handler: stopping drops the handler itself.
        let ended =
            Listener::new(move |_| wasm_bindgen_futures::spawn_local(async move { stop(call, true) }));
        track.set_onended(Some(ended.function()));
        with(|e| e.screen = Some(Screen { track, on_air: false, _ended: ended }));
        call.session.send(ClientMsg::StartShare);
    });
}

/// Puts the camera back on the senders; tells the server if asked to.
fn stop(call: Call, tell_server: bool) {
    let had = with(|e| {
        let had = e.screen.take().is_some();
        let camera = e.local.video.clone();
        e.replace_everywhere("video", camera.as_ref());
        had
    });
    call.state.update(|s| {
        s.sharing = false;
        s.local_rev += 1;
    });
    if had && tell_server {
        call.session.send(ClientMsg::StopShare);
    }
}

/// Acts on the server's word: our share confirmed, refused, or ended.
pub fn follow_server(call: Call) {
    let model = call.session.model;
    let mine = Memo::new(move |_| {
        model.with(|m| {
            m.room.as_ref().and_then(|r| r.sharer.as_ref()).is_some_and(|s| Some(s) == m.me.as_ref())
        })
    });
    let refused = Memo::new(move |_| {
        model.with(|m| m.problem.as_ref().is_some_and(|p| p.code == ErrorCode::ShareTaken))
    });
    Effect::new(move |_| {
        if mine.get() {
            let live = with(|e| match e.screen.as_mut() {
                Some(screen) => {
                    screen.on_air = true;
                    let track = screen.track.clone();
                    e.replace_everywhere("video", Some(&track));
                    true
                }
                None => false,
            });
            if live {
                call.state.update(|s| {
                    s.sharing = true;
                    s.local_rev += 1;
                });
            } else {
                // Confirmed after we already stopped (or after a reload).
                call.session.send(ClientMsg::StopShare);
            }
        } else if call.state.with_untracked(|s: &CallState| s.sharing) {
            stop(call, false);
        }
    });
    Effect::new(move |_| {
        if refused.get() {
            // Someone else shares: drop the screen we were about to send.
            with(|e| e.screen.take_if(|s| !s.on_air));
        }
    });
}
