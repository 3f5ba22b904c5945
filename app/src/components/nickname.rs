use super::TextField;
use crate::protocol::MAX_NICKNAME_CHARS;
use crate::{browser, rules, session::use_session};
use leptos::prelude::*;

/// Asks for a nickname before entering `room` (a shared link opened by
/// someone new). Remembers it for next time.
#[component]
pub fn NicknamePrompt(room: String) -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match rules::normalize_nickname(&name.get_untracked()) {
            Ok(nickname) => {
                browser::save_nickname(&nickname);
                session.act(|m| m.set_nickname(nickname));
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <div class="overlay">
            <form class="card prompt" on:submit=submit aria-labelledby="prompt-title">
                <h2 id="prompt-title">"Join " <span class="room-ref">{room}</span></h2>
                <p class="muted">"Choose the name others will see."</p>
                <TextField label="Your name" value=name max_chars=MAX_NICKNAME_CHARS autocomplete="nickname"
                    autofocus=true on_edit=Callback::new(move |()| error.set(None))/>
                <p class="form-error" role="alert">{move || error.get()}</p>
                <button type="submit" class="primary">"Join room"</button>
            </form>
        </div>
    }
}
