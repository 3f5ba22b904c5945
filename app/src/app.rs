use crate::call::Call;
use crate::pages::{LobbyPage, NotFound, RoomPage};
use crate::session::Session;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, StaticSegment,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark"/>
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
    provide_meta_context();
    let session = Session::provide();
    Call::provide(session);
    // Effects run only in the browser: the server renders the "connecting"
    // state and the page opens its socket once hydrated.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        session.connect();
        #[cfg(not(feature = "hydrate"))]
        let _ = session;
    });

    view! {
        <Stylesheet id="noom" href="/pkg/noom.css"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Title formatter=|text: String| if text.is_empty() { "Noom".to_owned() } else { format!("{text} · Noom") }/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=LobbyPage/>
                <Route path=(StaticSegment("r"), ParamSegment("room")) view=RoomPage/>
            </Routes>
        </Router>
    }
}
