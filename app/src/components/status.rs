use crate::endpoint::Transport;
use crate::session::{use_session, Conn};
use leptos::prelude::*;

/// The connection state as a small pill, announced to screen readers.
#[component]
pub fn ConnStatus() -> impl IntoView {
    let session = use_session();
    let conn = Memo::new(move |_| session.model.with(|m| m.conn));
    let transport = Memo::new(move |_| session.model.with(|m| m.transport));
    let over_http = move || transport.get() == Transport::Http;
    let label = move || match conn.get() {
        Conn::Connecting => "Connecting…".to_owned(),
        Conn::Open if over_http() => "Connected over HTTP".to_owned(),
        Conn::Open => "Connected".to_owned(),
        Conn::Reconnecting { retry_ms } => {
            format!("Reconnecting to the server… (next try in {}s)", retry_ms.div_ceil(1000))
        }
        Conn::Restarting => "Server restarting, back in a moment…".to_owned(),
    };
    let state = move || match conn.get() {
        Conn::Connecting => "connecting",
        Conn::Open => "open",
        Conn::Reconnecting { .. } => "reconnecting",
        Conn::Restarting => "restarting",
    };
    view! {
        <div
            class="conn"
            data-state=state
            data-transport=move || if over_http() { "http" } else { "websocket" }
            title=move || over_http().then_some("This network blocks WebSocket, so Noom uses plain HTTP: everything works, a little slower")
            role="status"
            aria-live="polite"
            data-testid="conn-status"
        >
            <span class="conn-dot" aria-hidden="true"></span>
            <span class="conn-label">{label}</span>
        </div>
    }
}

/// The last error the server reported, until dismissed.
#[component]
pub fn ProblemBanner() -> impl IntoView {
    let session = use_session();
    let problem = Memo::new(move |_| session.model.with(|m| m.problem.clone()));
    view! {
        {move || problem.get().map(|p| view! {
            <div class="banner error" role="alert" data-code=p.code.as_str() data-testid="problem">
                <span>{p.message}</span>
                <button
                    class="ghost"
                    aria-label="Dismiss error"
                    on:click=move |_| session.model.update(|m| m.dismiss_problem())
                >"✕"</button>
            </div>
        })}
    }
}
