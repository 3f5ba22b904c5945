use super::ConnStatus;
use leptos::prelude::*;

/// The bar on every page: the brand (a link home), optional page content
/// in the middle, and the connection state.
#[component]
pub fn TopBar(#[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to main content"</a>
        <header class="topbar">
            <a href="/" class="brand" aria-label="Noom home">
                <span class="brand-mark" aria-hidden="true"></span>
                "Noom"
            </a>
            <div class="topbar-middle">{children.map(|c| c())}</div>
            <ConnStatus/>
        </header>
    }
}
