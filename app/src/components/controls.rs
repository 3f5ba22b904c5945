use super::devices::DeviceOptions;
use super::icons;
use super::panels::{Panel, Panels};
use crate::browser;
use crate::call::use_call;
use crate::protocol::{ClientMsg, MediaMode, Reaction};
use leptos::prelude::*;

/// The call's control bar, always at the bottom of the screen: microphone,
/// camera, share, reactions, raise hand, more (layout and devices), the
/// panels and leave. M and V toggle the microphone and camera, H the hand;
/// Escape closes the menus and, on a phone, an open sheet.
#[component]
pub fn CallControls(
    panels: RwSignal<Panels>,
    #[prop(into)] unread: Signal<usize>,
    sounds: RwSignal<bool>,
    on_leave: Callback<()>,
) -> impl IntoView {
    let call = use_call();
    let state = call.state;
    let mic_on = Memo::new(move |_| state.with(|s| s.mic_on && s.has_mic));
    let sharing = Memo::new(move |_| state.with(|s| s.sharing));
    let camera_on = Memo::new(move |_| state.with(|s| s.camera_on && s.has_camera));
    let menu = RwSignal::new(false);
    let reactions = RwSignal::new(false);
    let hand_up = Memo::new(move |_| {
        call.session.model.with(|m| {
            let me = m.me.as_ref();
            m.room.as_ref().is_some_and(|r| r.members.iter().any(|x| Some(&x.id) == me && x.hand.is_some()))
        })
    });
    let toggle_hand = move || call.session.send(ClientMsg::RaiseHand { up: !hand_up.get_untracked() });

    let shortcuts = browser::on_shortcut(move |key| match key {
        "m" => call.toggle_mic(),
        "v" => call.toggle_camera(),
        "h" => toggle_hand(),
        "escape" => {
            menu.set(false);
            reactions.set(false);
            if browser::is_narrow() {
                panels.set(Panels::initial(true));
            }
        }
        _ => {}
    });
    let shortcuts = StoredValue::new_local(Some(shortcuts));
    on_cleanup(move || shortcuts.set_value(None));
    let toggle = move |panel: Panel| panels.update(|p| *p = p.toggle(panel, browser::is_narrow()));
    let chat_label = move || match unread.get() {
        0 => "Chat".to_owned(),
        1 => "Chat, 1 unread message".to_owned(),
        n => format!("Chat, {n} unread messages"),
    };

    view! {
        <div class="controls" role="toolbar" aria-label="Call controls">
            <div class="controls-group">
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
                <div class="menu-anchor">
                    <button class="round" aria-label="Send a reaction" title="Reactions"
                        aria-expanded=move || reactions.get().to_string() class:active=move || reactions.get()
                        on:click=move |_| reactions.update(|r| *r = !*r)
                    >{icons::smile()}</button>
                    <div class="reaction-bar" role="group" aria-label="Reactions" hidden=move || !reactions.get()>
                        {Reaction::ALL.map(|reaction| view! {
                            <button class="ghost" aria-label=reaction.name() title=reaction.name()
                                on:click=move |_| call.session.send(ClientMsg::React { reaction })
                            >{reaction.emoji()}</button>
                        })}
                        // A phone's bar has no room for its own hand button.
                        <button class="secondary phone-only" aria-pressed=move || hand_up.get().to_string()
                            on:click=move |_| toggle_hand()
                        >{icons::hand()}{move || if hand_up.get() { "Lower hand" } else { "Raise hand" }}</button>
                    </div>
                </div>
                <button class="round wide-only" class:active=move || hand_up.get()
                    aria-label=move || if hand_up.get() { "Lower hand" } else { "Raise hand" }
                    aria-pressed=move || hand_up.get().to_string()
                    title=move || if hand_up.get() { "Lower your hand (H)" } else { "Raise your hand (H)" }
                    on:click=move |_| toggle_hand()
                >{icons::hand()}</button>
                <div class="menu-anchor">
                    <button class="round" aria-label="More options" title="Layout and devices"
                        aria-expanded=move || menu.get().to_string() class:active=move || menu.get()
                        on:click=move |_| menu.update(|m| *m = !*m)
                    >{icons::more()}</button>
                    <MoreMenu open=menu sounds/>
                </div>
            </div>
            <div class="controls-group">
                <button class="round" class:active=move || panels.get().chat
                    aria-label=chat_label title="Chat with everyone"
                    aria-expanded=move || panels.get().chat.to_string() aria-controls="chat-panel"
                    on:click=move |_| toggle(Panel::Chat)
                >
                    {icons::chat()}
                    <span class="count-badge" aria-hidden="true" data-testid="unread" hidden=move || unread.get() == 0>
                        {move || unread.get()}
                    </span>
                </button>
                <button class="round" class:active=move || panels.get().people
                    aria-label="People" title="People in the room"
                    aria-expanded=move || panels.get().people.to_string() aria-controls="people-panel"
                    on:click=move |_| toggle(Panel::People)
                >
                    {icons::people()}
                </button>
                <button class="round leave" aria-label="Leave room" title="Leave the call"
                    on:click=move |_| on_leave.run(())>{icons::hang_up()}</button>
            </div>
        </div>
    }
}

/// Speaker or grid view, and which camera and microphone to use.
#[component]
fn MoreMenu(open: RwSignal<bool>, sounds: RwSignal<bool>) -> impl IntoView {
    let call = use_call();
    let state = call.state;
    let speaker_view = Memo::new(move |_| state.with(|s| s.speaker_view));
    let cameras = Memo::new(move |_| state.with(|s| s.cameras.clone()));
    let camera_id = Memo::new(move |_| state.with(|s| s.camera_id.clone()));
    let mics = Memo::new(move |_| state.with(|s| s.mics.clone()));
    let mic_id = Memo::new(move |_| state.with(|s| s.mic_id.clone()));
    view! {
        <div class="more-menu" id="more-menu" role="group" aria-label="More options" hidden=move || !open.get()>
            <button
                class="secondary"
                aria-pressed=move || speaker_view.get().to_string()
                title="Show the active speaker large"
                on:click=move |_| call.toggle_speaker_view()
            >{move || if speaker_view.get() { "Grid view" } else { "Speaker view" }}</button>
            <button class="toggle" class:off=move || !sounds.get() role="switch"
                aria-checked=move || sounds.get().to_string()
                title="A short sound when someone joins, leaves or raises their hand"
                on:click=move |_| sounds.update(|s| *s = !*s)
            >
                "Sounds"
                <span class="state" aria-hidden="true">{move || if sounds.get() { "on" } else { "off" }}</span>
            </button>
            <label class="field">
                <span>"Camera"</span>
                <select aria-label="Switch camera" on:change=move |ev| call.use_camera(event_target_value(&ev))>
                    <DeviceOptions devices=cameras current=camera_id/>
                </select>
            </label>
            <label class="field">
                <span>"Microphone"</span>
                <select aria-label="Switch microphone" on:change=move |ev| call.use_mic(event_target_value(&ev))>
                    <DeviceOptions devices=mics current=mic_id/>
                </select>
            </label>
        </div>
    }
}

/// Which kind of call this is matters for privacy: the top bar says it.
#[component]
pub fn RouteBadge() -> impl IntoView {
    let call = use_call();
    let via_server = Memo::new(move |_| {
        call.session.model.with(|m| m.room.as_ref().is_some_and(|r| r.media == MediaMode::Sfu))
    });
    view! {
        <span class="route-badge" class:via-server=move || via_server.get() data-testid="route-badge"
            title=move || route_explanation(via_server.get())>
            {move || if via_server.get() { "Through the server" } else { "End-to-end encrypted" }}
            <span class="visually-hidden">{move || format!(": {}", route_explanation(via_server.get()))}</span>
        </span>
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
