use super::devices::DeviceOptions;
use super::icons;
use crate::browser;
use crate::call::use_call;
use crate::protocol::MediaMode;
use leptos::prelude::*;

/// The call's control bar. M and V toggle the microphone and camera.
#[component]
pub fn CallControls() -> impl IntoView {
    let call = use_call();
    let state = call.state;
    let mic_on = Memo::new(move |_| state.with(|s| s.mic_on && s.has_mic));
    let sharing = Memo::new(move |_| state.with(|s| s.sharing));
    let speaker_view = Memo::new(move |_| state.with(|s| s.speaker_view));
    let camera_on = Memo::new(move |_| state.with(|s| s.camera_on && s.has_camera));
    let cameras = Memo::new(move |_| state.with(|s| s.cameras.clone()));
    let camera_id = Memo::new(move |_| state.with(|s| s.camera_id.clone()));
    let mics = Memo::new(move |_| state.with(|s| s.mics.clone()));
    let mic_id = Memo::new(move |_| state.with(|s| s.mic_id.clone()));
    let via_server = Memo::new(move |_| {
        call.session.model.with(|m| m.room.as_ref().is_some_and(|r| r.media == MediaMode::Sfu))
    });

    let shortcuts = browser::on_shortcut(move |key| match key {
        "m" => call.toggle_mic(),
        "v" => call.toggle_camera(),
        _ => {}
    });
    let shortcuts = StoredValue::new_local(Some(shortcuts));
    on_cleanup(move || shortcuts.set_value(None));

    view! {
        <div class="controls" role="toolbar" aria-label="Call controls">
            <button
                class="round" class:off=move || !mic_on.get()
                aria-label=move || if mic_on.get() { "Mute microphone" } else { "Unmute microphone" }
                aria-pressed=move || (!mic_on.get()).to_string()
                title=move || if mic_on.get() { "Mute (M)" } else { "Unmute (M)" }
                on:click=move |_| call.toggle_mic()
            >{move || if mic_on.get() { icons::mic().into_any() } else { icons::mic_off().into_any() }}</button>
            <button
                class="round" class:off=move || !camera_on.get()
                aria-label=move || if camera_on.get() { "Turn camera off" } else { "Turn camera on" }
                aria-pressed=move || (!camera_on.get()).to_string()
                title=move || if camera_on.get() { "Camera off (V)" } else { "Camera on (V)" }
                on:click=move |_| call.toggle_camera()
            >{move || if camera_on.get() { icons::camera().into_any() } else { icons::camera_off().into_any() }}</button>
            <button
                class="round" class:active=move || sharing.get()
                aria-label=move || if sharing.get() { "Stop sharing" } else { "Share screen" }
                aria-pressed=move || sharing.get().to_string()
                title=move || if sharing.get() { "Stop sharing your screen" } else { "Share your screen" }
                on:click=move |_| call.toggle_share()
            >{icons::screen()}</button>
            <button
                class="secondary compact-button"
                aria-pressed=move || speaker_view.get().to_string()
                title="Show the active speaker large"
                on:click=move |_| call.toggle_speaker_view()
            >{move || if speaker_view.get() { "Grid view" } else { "Speaker view" }}</button>
            <select class="compact" aria-label="Switch camera" title="Camera"
                on:change=move |ev| call.use_camera(event_target_value(&ev))>
                <DeviceOptions devices=cameras current=camera_id/>
            </select>
            <select class="compact" aria-label="Switch microphone" title="Microphone"
                on:change=move |ev| call.use_mic(event_target_value(&ev))>
                <DeviceOptions devices=mics current=mic_id/>
            </select>
            // Which kind of call this is matters for privacy: say it.
            <span class="route-badge" class:via-server=move || via_server.get() data-testid="route-badge"
                title=move || route_explanation(via_server.get())>
                {move || if via_server.get() { "Through the server" } else { "End-to-end encrypted" }}
                <span class="visually-hidden">{move || format!(": {}", route_explanation(via_server.get()))}</span>
            </span>
        </div>
    }
}

fn route_explanation(via_server: bool) -> &'static str {
    if via_server {
        "audio and video go through the Noom server, which decrypts them to forward them to everyone \
         (what lets big rooms work)"
    } else {
        "audio and video go straight between browsers, encrypted end to end; the server never sees them"
    }
}
