use crate::components::{ChatPanel, MemberList, NicknamePrompt, ProblemBanner, Stage, TopBar};
use crate::session::use_session;
use crate::{browser, rules};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

/// `/r/{room}`: the room. Entering the page joins; leaving it (button,
/// navigation, closed tab) leaves.
#[component]
pub fn RoomPage() -> AnyView {
    let session = use_session();
    let params = use_params_map();
    let room = Memo::new(move |_| params.read().get("room").unwrap_or_default());
    let valid = Memo::new(move |_| rules::validate_room(&room.get()).is_ok());
    let nickname = Memo::new(move |_| session.model.with(|m| m.wanted_nickname.clone()));
    let hydrated = RwSignal::new(false);

    Effect::new(move |_| {
        hydrated.set(true);
        if valid.get() && nickname.get().is_some() {
            let name = room.get();
            session.act(|m| m.enter_room(name));
        }
    });
    on_cleanup(move || session.act(|m| m.leave_room()));

    let joined = Memo::new(move |_| session.model.with(|m| m.in_room(&room.get())));
    let count = Memo::new(move |_| {
        session
            .model
            .with(|m| m.room.as_ref().map_or(0, |r| r.members.len()))
    });
    let copied = RwSignal::new(false);
    let copy_link = move |_| {
        browser::copy_text(&browser::page_url());
        copied.set(true);
    };
    let navigate = use_navigate();
    let leave = move |_| navigate("/", Default::default());

    view! {
        <Title text=move || room.get()/>
        <div class="page room">
            <TopBar>
                <h1 class="room-title">{move || room.get()}</h1>
                <span class="badge" aria-label="people in the room">{move || count.get()}</span>
                <button class="secondary" on:click=copy_link aria-label="Copy room link">
                    {move || if copied.get() { "Link copied" } else { "Copy link" }}
                </button>
                <button class="danger" on:click=leave aria-label="Leave room">"Leave"</button>
            </TopBar>
            <ProblemBanner/>
            <Show when=move || valid.get() fallback=move || view! { <BadRoomName/> }>
                <Show when=move || hydrated.get() && nickname.with(Option::is_none)>
                    <NicknamePrompt room=room.get_untracked()/>
                </Show>
                <main class="room-main" data-joined=move || joined.get().to_string()>
                    <Show when=move || joined.get() fallback=|| view! { <div class="stage waiting"><p class="muted">"Joining…"</p></div> }>
                        <Stage/>
                    </Show>
                    <aside class="sidebar">
                        <MemberList/>
                        <ChatPanel/>
                    </aside>
                </main>
            </Show>
        </div>
    }
    .into_any()
}

#[component]
fn BadRoomName() -> impl IntoView {
    view! {
        <main class="center">
            <div class="card narrow">
                <h2>"That isn't a room name"</h2>
                <p class="muted">"Room names are 1 to 64 letters, digits, '-', '_' or '.'."</p>
                <a class="button primary" href="/">"Back to the lobby"</a>
            </div>
        </main>
    }
}
