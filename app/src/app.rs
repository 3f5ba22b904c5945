use crate::call::Call;
use crate::nav::{Nav, Page};
use crate::pages::{room_page, LobbyPage, NotFound};
use crate::session::Session;
use leptos::prelude::*;
use leptos_meta::MetaTags;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark"/>
                // Here rather than in `App`: the static build's index.html
                // links its own copies (Trunk hashes the file names).
                <link rel="stylesheet" id="noom" href="/pkg/noom.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Before the app's scripts: it must be listening when they fail.
                <script src="/crash.js"></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    // Only the server renders <Title> (components::page_title).
    #[cfg(feature = "ssr")]
    leptos_meta::provide_meta_context();
    let page = Nav::provide().page();
    let session = Session::provide();
    Call::provide(session);
    // Effects run only in the browser: the server renders the "connecting"
    // state and the page opens its socket once hydrated.
    Effect::new(move |_| {
        #[cfg(feature = "browser")]
        session.connect();
        #[cfg(not(feature = "browser"))]
        let _ = session;
    });

    view! {
        {move || match page.get() {
            Page::Lobby => view! { <LobbyPage/> }.into_any(),
            Page::Room(room) => room_page(room),
            Page::NotFound => view! { <NotFound/> }.into_any(),
        }}
    }
}
