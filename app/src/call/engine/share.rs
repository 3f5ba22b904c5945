//! Screen sharing: the screen replaces the camera on every video sender
//! (`replaceTrack`, no renegotiation), once the server has confirmed we are
//! the room's one sharer. Stopping (our button, or the browser's own "stop
//! sharing") puts the camera back.

use crate::call::{Call, CallState};
use crate::protocol::{ClientMsg, ErrorCode};
use crate::rtc::{screen, transports};
use leptos::prelude::*;

pub fn toggle_share(call: Call) {
    if transports::has_screen() {
        stop(call, true);
    } else {
        start(call);
    }
}

fn start(call: Call) {
    wasm_bindgen_futures::spawn_local(async move {
        // The browser's own "stop sharing" ends the track. Stop outside the
        // handler: stopping drops the handler itself.
        let on_ended = move || wasm_bindgen_futures::spawn_local(async move { stop(call, true) });
        match screen::capture(on_ended).await {
            Ok(screen) => {
                transports::hold_screen(screen);
                call.session.send(ClientMsg::StartShare);
            }
            // Cancelling the browser's picker is not an error worth showing.
            Err(err) => leptos::logging::warn!("screen capture: {err}"),
        }
    });
}

/// Puts the camera back on the senders; tells the server if asked to.
fn stop(call: Call, tell_server: bool) {
    let had = transports::stop_screen();
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
            if transports::screen_on_air() {
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
            transports::drop_waiting_screen();
        }
    });
}
