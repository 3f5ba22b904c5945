use crate::components::{page_title, ProblemBanner, RoomList, TextField, TopBar};
use crate::nav::use_nav;
use crate::protocol::{MAX_NICKNAME_CHARS, MAX_PASSCODE_CHARS, MAX_ROOM_CHARS};
use crate::session::use_session;
use crate::{browser, rules};
use leptos::html::Input;
use leptos::prelude::*;

/// `/`: pick a nickname, see the public rooms, create or join one.
#[component]
pub fn LobbyPage() -> AnyView {
    page_title("");
    let session = use_session();
    let nav = use_nav();
    let nickname = RwSignal::new(String::new());
    let room = RwSignal::new(String::new());
    let passcode = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let nickname_ref = NodeRef::<Input>::new();
    let clear_error = Callback::new(move |()| error.set(None));

    // Fill the field once the stored nickname is known (after hydration).
    Effect::new(move |_| {
        let stored = session.model.with(|m| m.wanted_nickname.clone());
        if let Some(stored) = stored {
            if nickname.get_untracked().is_empty() {
                nickname.set(stored);
            }
        }
    });

    let enter = Callback::new(move |target: String| {
        let nick = match rules::normalize_nickname(&nickname.get_untracked()) {
            Ok(nick) => nick,
            Err(e) => {
                let why = if nickname.get_untracked().trim().is_empty() {
                    "Choose a nickname first (up to 32 characters).".to_owned()
                } else {
                    format!("Choose another nickname: the {e}.")
                };
                error.set(Some(why));
                if let Some(input) = nickname_ref.get_untracked() {
                    let _ = input.focus();
                }
                return;
            }
        };
        browser::save_nickname(&nick);
        session.act(|m| m.set_nickname(nick));
        nav.go(&browser::room_path(&target));
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(slug) = rules::room_slug(&room.get_untracked()) else {
            error.set(Some("Type a room name: letters, digits, '-', '_' or '.'.".into()));
            return;
        };
        if let Err(e) = rules::validate_room(&slug) {
            error.set(Some(format!("Choose another room name: the {e}.")));
            return;
        }
        let code = passcode.get_untracked();
        if let Err(e) = rules::normalize_passcode(Some(&code)) {
            error.set(Some(e.to_string()));
            return;
        }
        // A new room gets this passcode; an existing one is joined with it.
        session.model.update(|m| m.prepare_passcode(&slug, code));
        enter.run(slug);
    };
    // From the list: no passcode yet (the room asks if it has one).
    let join_listed = Callback::new(move |target: String| {
        session.model.update(|m| m.prepare_passcode(&target, String::new()));
        enter.run(target);
    });
    let preview = move || rules::room_slug(&room.get()).map(|slug| format!("noom link: /r/{slug}"));
    let warmed = StoredValue::new(false);
    let warm = move || {
        if !warmed.get_value() {
            warmed.set_value(true);
            super::room::prefetch();
        }
    };

    view! {
        <div class="page lobby">
            <TopBar/>
            <ProblemBanner/>
            <main id="main" tabindex="-1" class="lobby-main" on:focusin=move |_| warm() on:pointerover=move |_| warm()>
                <section class="hero">
                    <h1>"Video calls that just open."</h1>
                    <p class="muted">"Pick a name, open a room, share the link. Nothing to install."</p>
                </section>
                <form class="card join-card" on:submit=submit aria-label="Create or join a room">
                    <TextField label="Your name" value=nickname max_chars=MAX_NICKNAME_CHARS
                        node_ref=nickname_ref placeholder="e.g. Ada" autocomplete="nickname" on_edit=clear_error/>
                    <TextField label="Room" name="Room name" value=room max_chars=MAX_ROOM_CHARS
                        placeholder="e.g. team-standup" on_edit=clear_error/>
                    <TextField label="Passcode" note="(optional)" name="Room passcode" kind="password"
                        value=passcode max_chars=MAX_PASSCODE_CHARS autocomplete="off"
                        placeholder="Set one for a new room, or enter it to join" on_edit=clear_error/>
                    <p class="hint" aria-live="polite">{preview}</p>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                    <button type="submit" class="primary wide">"Create or join room"</button>
                </form>
                <RoomList on_join=join_listed/>
            </main>
        </div>
    }
    .into_any()
}
