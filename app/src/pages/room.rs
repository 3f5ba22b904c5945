use crate::call::cues::cues;
use crate::call::{use_call, Phase};
use crate::components::{
    log_end, page_title, unread, CallControls, ChatPanel, MemberList, NicknamePrompt, Panel, Panels, PreJoin,
    ProblemBanner, RouteBadge, Stage, TextField, TopBar,
};
use crate::protocol::{Member, MAX_PASSCODE_CHARS};
use crate::session::use_session;
use crate::{browser, rules};
use leptos::prelude::*;

/// Where the sounds setting is remembered.
const SOUNDS_KEY: &str = "noom.sounds";

/// The room's page, from its lazily loaded wasm chunk: with
/// `cargo leptos --split` the room page, the call and the WebRTC engine are
/// their own chunk, fetched when a room opens (for a room link the server
/// preloads it and the app loads it before hydrating), so the lobby's first
/// load does not carry them.
pub fn room_page(room: String) -> AnyView {
    if let Some(page) = loaded() {
        return page(room);
    }
    // Navigated here before the chunk arrived: say so until it does.
    let ready = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        load().await;
        ready.try_set(true);
    });
    view! {
        {move || match ready.get().then(loaded).flatten() {
            Some(page) => page(room.clone()),
            None => view! { <main id="main" tabindex="-1" class="center"><p class="muted">"Opening the room…"</p></main> }.into_any(),
        }}
    }
    .into_any()
}

type PageFn = fn(String) -> AnyView;

thread_local! {
    static LOADED: std::cell::Cell<Option<PageFn>> = const { std::cell::Cell::new(None) };
}

fn loaded() -> Option<PageFn> {
    #[cfg(feature = "ssr")]
    {
        // The server has all the code; asking for the chunk is what makes
        // leptos render its preload link into the page.
        use futures::FutureExt;
        room_chunk().now_or_never()
    }
    #[cfg(not(feature = "ssr"))]
    LOADED.with(|l| l.get())
}

/// Fetches and instantiates the room chunk (once).
pub async fn load() {
    if LOADED.with(|l| l.get()).is_none() {
        let page = room_chunk().await;
        LOADED.with(|l| l.set(Some(page)));
    }
}

/// Starts fetching the room chunk before a room opens. The lobby calls this
/// once someone starts heading for a room (focus in the form, pointer over
/// the page), so the first load stays without it and opening a room does
/// not wait for it.
pub fn prefetch() {
    leptos::task::spawn_local(load());
}

// Not split in the static build: Trunk has no wasm-split step.
#[cfg_attr(any(feature = "hydrate", feature = "ssr"), leptos::lazy)]
async fn room_chunk() -> PageFn {
    fn page(room: String) -> AnyView {
        view! { <RoomPage room/> }.into_any()
    }
    page as PageFn
}

/// `/r/{room}`: a nickname if we have none, then the pre-join screen, then
/// the call. Leaving the page (button, navigation, closed tab) leaves.
#[component]
fn RoomPage(room: String) -> AnyView {
    let session = use_session();
    let call = use_call();
    call.activate();
    let room = Signal::stored(room);
    page_title(room);
    let valid = Memo::new(move |_| rules::validate_room(&room.get()).is_ok());
    let nickname = Memo::new(move |_| session.model.with(|m| m.wanted_nickname.clone()));
    let phase = Memo::new(move |_| call.state.with(|s| s.phase));
    let hydrated = RwSignal::new(false);

    Effect::new(move |_| {
        hydrated.set(true);
        if valid.get() && nickname.get().is_some() && phase.get_untracked() == Phase::Idle {
            call.start_preview();
        }
    });
    // A refused join (full, locked, passcode) or being removed sends us back
    // to the pre-join screen, with the reason in the banner.
    let refused = Memo::new(move |_| session.model.with(|m| m.join_refusal().is_some()));
    let needs_passcode = Memo::new(move |_| session.model.with(|m| m.needs_passcode_for(&room.get())));
    Effect::new(move |_| {
        if refused.get() {
            call.state.update(|s| {
                if s.phase == Phase::InCall {
                    s.phase = Phase::Preview;
                }
            });
        }
    });
    on_cleanup(move || {
        call.leave();
        session.act(|m| m.leave_room());
    });

    let joined = Memo::new(move |_| session.model.with(|m| m.in_room(&room.get())));
    let count = Memo::new(move |_| session.model.with(|m| m.room.as_ref().map_or(0, |r| r.members.len())));
    let copied = RwSignal::new(false);
    let copy_link = move |_| {
        browser::copy_text(&browser::page_url());
        copied.set(true);
    };
    // Leaving keeps the page, with a way back in, as Meet does: a mis-click
    // costs one click, and "Back to the lobby" is one more.
    let left = RwSignal::new(false);
    let leave = move |_| left.set(true);
    // Through an effect, not in the click handler: a handler that calls the
    // call engine itself pulled the engine into the lobby's first load
    // (187 -> 224 KB gzip).
    Effect::new(move |_| {
        if left.get() {
            call.leave();
            session.act(|m| m.leave_room());
        }
    });
    let in_call = Memo::new(move |_| !left.get() && phase.get() == Phase::InCall);
    let rejoin = move |_| {
        left.set(false);
        call.start_preview();
    };

    let body = move || {
        if left.get() {
            return view! { <LeftCall room=room.get_untracked() rejoin=rejoin/> }.into_any();
        }
        match phase.get() {
        Phase::Idle => view! { <main id="main" tabindex="-1" class="center"><p class="muted">"Getting ready…"</p></main> }.into_any(),
        Phase::Preview => view! {
            <Show when=move || needs_passcode.get()>
                <PasscodePrompt room=room.get_untracked()/>
            </Show>
            <PreJoin room=room.get_untracked()/>
        }
        .into_any(),
        Phase::InCall => view! { <InCall joined leave=Callback::new(move |()| left.set(true))/> }.into_any(),
    }
    };

    view! {
        <div class="page room">
            <TopBar end=Box::new(move || view! { <Show when=move || in_call.get()><RouteBadge/></Show> }.into_any())>
                <h1 class="room-title">{move || room.get()}</h1>
                <Show when=move || joined.get()>
                    <span class="badge" aria-label="people in the room">{move || count.get()}</span>
                </Show>
                <button class="secondary" on:click=copy_link>
                    {move || if copied.get() { "Link copied" } else { "Copy link" }}
                </button>
                // In the call, leaving is on the control bar.
                <Show when=move || !left.get() && !in_call.get()>
                    <button class="danger" on:click=leave aria-label="Leave room">"Leave"</button>
                </Show>
            </TopBar>
            <ProblemBanner/>
            <Show when=move || valid.get() fallback=move || view! { <BadRoomName/> }>
                <Show when=move || hydrated.get() && nickname.with(Option::is_none)>
                    <NicknamePrompt room=room.get_untracked()/>
                </Show>
                {body}
            </Show>
        </div>
    }
    .into_any()
}

/// The call: the stage, the side panels and the control bar under both.
#[component]
fn InCall(joined: Memo<bool>, leave: Callback<()>) -> impl IntoView {
    let session = use_session();
    let panels = RwSignal::new(Panels::initial(browser::is_narrow()));
    // The newest chat entry seen with the panel open; what came after is
    // unread.
    let seen = RwSignal::new(0u64);
    let end = Memo::new(move |_| session.model.with(|m| m.room.as_ref().map_or(0, |r| log_end(&r.log))));
    Effect::new(move |_| {
        if panels.get().chat {
            seen.set(end.get());
        }
    });
    let unread = Memo::new(move |_| {
        let seen = seen.get();
        session.model.with(|m| m.room.as_ref().map_or(0, |r| unread(&r.log, seen)))
    });
    // A window narrowed to phone width keeps one sheet at most.
    let main = NodeRef::<leptos::html::Main>::new();
    let observer = StoredValue::new_local(None::<browser::SizeObserver>);
    Effect::new(move |_| {
        if let Some(el) = main.get() {
            let fit = move |_, _| {
                let narrow = browser::is_narrow();
                if panels.get_untracked().fit(narrow) != panels.get_untracked() {
                    panels.update(|p| *p = p.fit(narrow));
                }
            };
            observer.set_value(browser::observe_size(&el, fit));
        }
    });
    let close = move |panel: Panel| Callback::new(move |()| panels.update(|p| *p = p.close(panel)));
    // Sounds for arrivals, departures and raised hands, unless turned off.
    let call = use_call();
    let sounds = RwSignal::new(browser::load(SOUNDS_KEY).as_deref() != Some("off"));
    Effect::new(move |_| browser::save(SOUNDS_KEY, if sounds.get() { "on" } else { "off" }));
    // Kept with the join they came from: a rejoin after a reconnect
    // (perhaps as a new session, under a new id of our own) is not people
    // coming and going.
    let members =
        Memo::new(move |_| session.model.with(|m| m.room.as_ref().map(|r| (r.joins, r.members.clone()))));
    Effect::new(move |before: Option<Option<(u32, Vec<Member>)>>| {
        let after = members.get();
        if let (Some(Some((was_join, before))), Some((join, now))) = (&before, &after) {
            if was_join == join && sounds.get_untracked() {
                let me = session.model.with_untracked(|m| m.me.clone());
                for cue in cues(before, now, me.as_ref()) {
                    call.play(cue);
                }
            }
        }
        after
    });
    view! {
        <main id="main" tabindex="-1" class="room-main" node_ref=main data-joined=move || joined.get().to_string()
            class:with-panel=move || panels.get().any()>
            <div class="call-area">
                <Show when=move || joined.get() fallback=|| view! { <div class="stage waiting"><p class="muted">"Joining…"</p></div> }>
                    <Stage/>
                </Show>
            </div>
            <aside class="sidebar" hidden=move || !panels.get().any()>
                <MemberList open=Signal::derive(move || panels.get().people) on_close=close(Panel::People)/>
                <ChatPanel open=Signal::derive(move || panels.get().chat) on_close=close(Panel::Chat)/>
            </aside>
            <CallControls panels unread sounds on_leave=leave/>
        </main>
    }
}

/// After the Leave button: rejoin, or go back to the lobby.
#[component]
fn LeftCall(room: String, rejoin: impl Fn(leptos::ev::MouseEvent) + 'static) -> impl IntoView {
    view! {
        <main id="main" tabindex="-1" class="center">
            <div class="card narrow left-call" data-testid="left-call">
                <h2>"You left the call"</h2>
                <p class="muted">{format!("You were in {room}.")}</p>
                <div class="row">
                    <button class="primary" on:click=rejoin>"Rejoin"</button>
                    <a class="button secondary" href="/">"Back to the lobby"</a>
                </div>
            </div>
        </main>
    }
}

/// The room has a passcode: ask for it, then join with it.
#[component]
fn PasscodePrompt(room: String) -> impl IntoView {
    let call = use_call();
    let code = RwSignal::new(String::new());
    let label = format!("Passcode for {room}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        call.join_with(room.clone(), Some(code.get_untracked()));
    };
    view! {
        <form class="card narrow passcode-prompt" on:submit=submit aria-label="Room passcode">
            <h2>"This room needs a passcode"</h2>
            <TextField label=label name="Passcode" kind="password" value=code max_chars=MAX_PASSCODE_CHARS
                autocomplete="off" required=true/>
            <button type="submit" class="primary wide">"Join with passcode"</button>
        </form>
    }
}

#[component]
fn BadRoomName() -> impl IntoView {
    view! {
        <main id="main" tabindex="-1" class="center">
            <div class="card narrow">
                <h2>"That isn't a room name"</h2>
                <p class="muted">"Room names are 1 to 64 letters, digits, '-', '_' or '.'."</p>
                <a class="button primary" href="/">"Back to the lobby"</a>
            </div>
        </main>
    }
}
