use crate::session::{use_session, Conn};
use leptos::prelude::*;

/// The connection state as a small pill, announced to screen readers.
#[component]
pub fn ConnStatus() -> impl IntoView {
    let session = use_session();
    let conn = Memo::new(move |_| session.model.with(|m| m.conn));
    let label = move || match conn.get() {
        Conn::Connecting => "Connecting…".to_owned(),
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
        <div class="conn" data-state=state role="status" aria-live="polite" data-testid="conn-status">
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
