use super::icons;
use crate::browser;
use crate::call::human_size;
use crate::call::{use_call, Phase, Transfer};
use crate::protocol::{MediaMode, MAX_CHAT_CHARS};
use crate::session::{use_session, LogEntry, Logged};
use leptos::html::{Input, Ol};
use leptos::prelude::*;

fn entry_view(logged: Logged) -> AnyView {
    match logged.entry {
        LogEntry::Notice { text, .. } => view! { <li class="notice">{text}</li> }.into_any(),
        LogEntry::Chat { from, text, ts, mine, pending, p2p, .. } => view! {
            <li class="msg" class:mine=mine class:pending=pending class:p2p=p2p data-testid="chat-message"
                data-via=if p2p { "p2p" } else { "server" }>
                <div class="msg-meta">
                    <span class="msg-from">{if mine { "You".to_owned() } else { from.nickname }}</span>
                    {p2p.then(|| view! { <span class="p2p-badge" title="Sent directly, browser to browser">"direct"</span> })}
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
pub fn ChatPanel(#[prop(into)] open: Signal<bool>, on_close: Callback<()>) -> impl IntoView {
    let session = use_session();
    let call = use_call();
    let in_call = Memo::new(move |_| call.state.with(|s| s.phase == Phase::InCall));
    let p2p_ready = Memo::new(move |_| call.state.with(|s| s.peers.iter().any(|p| p.p2p_open)));
    // Through the server, direct connections open when asked for.
    let via_server = Memo::new(move |_| {
        session.model.with(|m| m.room.as_ref().is_some_and(|r| r.media == MediaMode::Sfu))
    });
    let direct = RwSignal::new(false);
    let file_input = NodeRef::<Input>::new();
    let transfers = Memo::new(move |_| call.state.with(|s| s.transfers.clone()));
    let log = Memo::new(move |_| {
        session.model.with(|m| m.room.as_ref().map(|r| r.log.clone()).unwrap_or_default())
    });
    // Direct messages need no server: they go on while it is away.
    let can_send = Memo::new(move |_| {
        session.model.with(|m| m.room.is_some() && (m.is_open() || direct.get() && p2p_ready.get()))
    });
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let log_ref = NodeRef::<Ol>::new();

    // Keep the newest message in view, also when the panel opens (a
    // hidden list has no height to scroll).
    Effect::new(move |_| {
        log.with(Vec::len);
        open.track();
        if let Some(el) = log_ref.get() {
            browser::scroll_to_end(&el);
        }
    });

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        let mut result = Ok(());
        if direct.get_untracked() && p2p_ready.get_untracked() {
            result = call.send_p2p_chat(&text);
        } else if direct.get_untracked() && via_server.get_untracked() {
            // Never quietly through the server when "direct" is ticked.
            result = Err("connecting directly to the others; try again in a moment".into());
        } else {
            session.act(|m| match m.send_chat(&text, browser::now_ms()) {
                Ok(msgs) => msgs,
                Err(e) => {
                    result = Err(e);
                    Vec::new()
                }
            });
        }
        match result {
            Ok(()) => draft.set(String::new()),
            Err(e) => error.set(Some(e)),
        }
    };

    view! {
        <section class="chat panel" id="chat-panel" aria-labelledby="chat-title" hidden=move || !open.get()>
            <div class="people-head">
                <h2 id="chat-title">"Chat"</h2>
                <button class="ghost icon-button" aria-label="Close chat" title="Close"
                    on:click=move |_| on_close.run(())>{icons::close()}</button>
            </div>
            <ol class="chat-log" node_ref=log_ref aria-live="polite" data-testid="chat-log">
                <For each=move || log.get() key=|l| (l.seq, l.entry.is_pending()) children=entry_view/>
            </ol>
            <Show when=move || transfers.with(|t| !t.is_empty())>
                <ul class="transfers" aria-label="Files" data-testid="transfers">
                    <For each=move || transfers.get() key=|t| (t.key.clone(), t.done, t.url.clone(), t.error.clone()) children=transfer_view/>
                </ul>
            </Show>
            <Show when=move || in_call.get()>
                <div class="chat-options">
                    <label class="check" title="Send straight to the others in the call, not through the server">
                        <input type="checkbox" aria-label="Send directly (peer-to-peer)"
                            prop:checked=move || direct.get() disabled=move || !p2p_ready.get() && !via_server.get()
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                direct.set(on);
                                if on && via_server.get_untracked() {
                                    call.open_direct();
                                }
                            }/>
                        <span>"Direct (peer-to-peer)"</span>
                    </label>
                    <label class="button secondary file-button" class:disabled=move || !p2p_ready.get() title="Send a file to everyone in the call">
                        {icons::paperclip()}
                        <span>"Send file"</span>
                        <input type="file" class="visually-hidden" aria-label="Send a file" multiple
                            node_ref=file_input disabled=move || !p2p_ready.get()
                            on:change=move |_| if let Some(input) = file_input.get_untracked() { call.send_files(&input) }/>
                    </label>
                </div>
            </Show>
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

fn transfer_view(t: Transfer) -> impl IntoView {
    let percent = (t.done * 100).checked_div(t.size).unwrap_or(100).min(100);
    let who = if t.outgoing { format!("to {}", t.peer_name) } else { format!("from {}", t.peer_name) };
    view! {
        <li class="transfer" data-testid="transfer" data-direction=if t.outgoing { "out" } else { "in" }
            data-done=(t.done == t.size).to_string()>
            <div class="transfer-head">
                <span class="transfer-name">{t.name.clone()}</span>
                <span class="muted">{format!("{} · {who}", human_size(t.size))}</span>
            </div>
            <progress max="100" value=percent.to_string() aria-label=format!("{} progress", t.name)></progress>
            {t.error.clone().map(|e| view! { <p class="form-error">{e}</p> })}
            {t.url.clone().map(|url| view! {
                <a class="button secondary" href=url download=t.name.clone() data-testid="download">"Download"</a>
            })}
        </li>
    }
}
