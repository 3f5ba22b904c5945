use super::ConnStatus;
use leptos::prelude::*;

/// The bar on every page: the brand (a link home), optional page content
/// in the middle, then optional facts (`end`) beside the connection state:
/// on a phone those share the brand's line, the middle gets its own.
#[component]
pub fn TopBar(
    #[prop(optional)] children: Option<Children>,
    #[prop(optional)] end: Option<Children>,
) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to main content"</a>
        <header class="topbar">
            <a href="/" class="brand" aria-label="Noom home">
                <span class="brand-mark" aria-hidden="true"></span>
                "Noom"
            </a>
            <div class="topbar-middle">{children.map(|c| c())}</div>
            {end.map(|c| c())}
            <ConnStatus/>
        </header>
    }
}
