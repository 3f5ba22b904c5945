use crate::browser;
use crate::protocol::MAX_CHAT_CHARS;
use crate::session::{use_session, LogEntry, Logged};
use leptos::html::Ol;
use leptos::prelude::*;

fn entry_view(logged: Logged) -> AnyView {
    match logged.entry {
        LogEntry::Notice { text, .. } => view! { <li class="notice">{text}</li> }.into_any(),
        LogEntry::Chat {
            from,
            text,
            ts,
            mine,
            pending,
            ..
        } => view! {
            <li class="msg" class:mine=mine class:pending=pending data-testid="chat-message">
                <div class="msg-meta">
                    <span class="msg-from">{if mine { "You".to_owned() } else { from.nickname }}</span>
                    <time class="msg-time">{browser::clock(ts)}</time>
                </div>
                <p class="msg-text">{text}</p>
            </li>
        }
        .into_any(),
    }
}

/// The room's chat: history, notices and the message box.
#[component]
pub fn ChatPanel() -> impl IntoView {
    let session = use_session();
    let log = Memo::new(move |_| {
        session
            .model
            .with(|m| m.room.as_ref().map(|r| r.log.clone()).unwrap_or_default())
    });
    let can_send = Memo::new(move |_| session.model.with(|m| m.is_open() && m.room.is_some()));
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let log_ref = NodeRef::<Ol>::new();

    // Keep the newest message in view.
    Effect::new(move |_| {
        log.track();
        if let Some(el) = log_ref.get() {
            browser::scroll_to_end(&el);
        }
    });

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        let mut result = Ok(());
        session.act(|m| match m.send_chat(&text, browser::now_ms()) {
            Ok(msgs) => msgs,
            Err(e) => {
                result = Err(e);
                Vec::new()
            }
        });
        match result {
            Ok(()) => draft.set(String::new()),
            Err(e) => error.set(Some(e)),
        }
    };

    view! {
        <section class="chat" aria-label="Chat">
            <ol class="chat-log" node_ref=log_ref aria-live="polite" data-testid="chat-log">
                <For each=move || log.get() key=|l| (l.seq, l.entry.is_pending()) children=entry_view/>
            </ol>
            <form class="chat-form" on:submit=send>
                <input
                    type="text"
                    aria-label="Message"
                    placeholder="Message everyone"
                    maxlength=MAX_CHAT_CHARS.to_string()
                    autocomplete="off"
                    prop:value=move || draft.get()
                    on:input=move |ev| { draft.set(event_target_value(&ev)); error.set(None); }
                />
                <button type="submit" class="primary" aria-label="Send message" disabled=move || !can_send.get()>"Send"</button>
            </form>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </section>
    }
}
