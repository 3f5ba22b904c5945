use super::devices::DeviceOptions;
use super::video::LocalVideo;
use crate::call::{use_call, Device, MediaProblem};
use leptos::prelude::*;

fn device_select(
    label: &'static str,
    devices: Memo<Vec<Device>>,
    current: Memo<Option<String>>,
    // An empty list says why: access was blocked, or this (none found).
    blocked: Memo<bool>,
    none_found: &'static str,
    on_pick: impl Fn(String) + Copy + 'static,
) -> impl IntoView {
    let none = move || devices.with(Vec::is_empty);
    view! {
        <label class="field">
            <span>{label}</span>
            <select aria-label=label disabled=none on:change=move |ev| on_pick(event_target_value(&ev))>
                {move || none().then(|| view! {
                    <option selected>{if blocked.get() { "Blocked" } else { none_found }}</option>
                })}
                <DeviceOptions devices=devices current=current/>
            </select>
        </label>
    }
}

/// The pre-join screen: see yourself, hear your microphone move the meter,
/// pick devices, choose to join muted or with the camera off.
#[component]
pub fn PreJoin(room: String) -> impl IntoView {
    let call = use_call();
    let state = call.state;
    let starting = Memo::new(move |_| state.with(|s| s.starting));
    let problem = Memo::new(move |_| state.with(|s| s.problem.clone()));
    let camera_on = Memo::new(move |_| state.with(|s| s.camera_on && s.has_camera));
    let mic_on = Memo::new(move |_| state.with(|s| s.mic_on));
    let has_mic = Memo::new(move |_| state.with(|s| s.has_mic));
    let cameras = Memo::new(move |_| state.with(|s| s.cameras.clone()));
    let mics = Memo::new(move |_| state.with(|s| s.mics.clone()));
    let camera_id = Memo::new(move |_| state.with(|s| s.camera_id.clone()));
    let mic_id = Memo::new(move |_| state.with(|s| s.mic_id.clone()));
    let level = call.level;
    let join = {
        let room = room.clone();
        move |_| call.join(room.clone())
    };
    let join_bare = {
        let room = room.clone();
        move |_| call.join(room.clone())
    };
    let blocked = Memo::new(move |_| problem.with(|p| matches!(p, Some(MediaProblem::Denied))));

    view! {
        <main id="main" tabindex="-1" class="prejoin">
            <section class="card prejoin-card" aria-labelledby="prejoin-title">
                <div class="preview">
                    <Show when=move || camera_on.get() fallback=move || view! {
                        <div class="preview-off">
                            {move || if starting.get() { "Starting camera…" } else { "Camera is off" }}
                        </div>
                    }>
                        <LocalVideo/>
                    </Show>
                    <div class="meter" role="meter" aria-label="Microphone level" aria-valuemin="0" aria-valuemax="100"
                        aria-valuenow=move || ((level.get() * 100.0) as u32).to_string() data-testid="mic-level">
                        <div class="meter-fill" style:width=move || format!("{}%", (level.get() * 100.0).round())></div>
                    </div>
                </div>
                <div class="prejoin-side">
                    <h2 id="prejoin-title">"Ready to join " <span class="room-ref">{room.clone()}</span> "?"</h2>
                    {move || problem.get().map(|p| {
                        let denied = matches!(p, MediaProblem::Denied | MediaProblem::NoDevice);
                        view! {
                            <div class="banner error inline" role="alert" data-testid="media-problem">
                                <p>{p.message()}</p>
                                <div class="row">
                                    <button class="secondary" on:click=move |_| call.start_preview()>"Try again"</button>
                                    <Show when=move || denied>
                                        <button class="secondary" on:click=move |_| call.retry_audio_only()>"Try audio only"</button>
                                    </Show>
                                    <button class="secondary" on:click=join_bare.clone()>"Join without camera or mic"</button>
                                </div>
                            </div>
                        }
                    })}
                    {device_select("Camera", cameras, camera_id, blocked, "No camera found", move |id| call.use_camera(id))}
                    {device_select("Microphone", mics, mic_id, blocked, "No microphone found", move |id| call.use_mic(id))}
                    <div class="row toggles">
                        // Switches named for what they control, their state in
                        // aria-checked (and shown beside the name), so the
                        // name never contradicts the state.
                        <button
                            class="toggle" class:off=move || !mic_on.get()
                            role="switch"
                            aria-checked=move || (has_mic.get() && mic_on.get()).to_string()
                            disabled=move || !has_mic.get()
                            on:click=move |_| call.toggle_mic()
                        >
                            "Microphone"
                            <span class="state" aria-hidden="true">{move || match (has_mic.get(), mic_on.get()) {
                                (false, _) if blocked.get() => "blocked",
                                (false, _) => "none found",
                                (true, true) => "on",
                                (true, false) => "muted",
                            }}</span>
                        </button>
                        <button
                            class="toggle" class:off=move || !camera_on.get()
                            role="switch"
                            aria-checked=move || camera_on.get().to_string()
                            on:click=move |_| call.toggle_camera()
                        >
                            "Camera"
                            <span class="state" aria-hidden="true">{move || if camera_on.get() { "on" } else { "off" }}</span>
                        </button>
                    </div>
                    <button class="primary wide" on:click=join disabled=move || starting.get()>"Join now"</button>
                </div>
            </section>
        </main>
    }
}
