#![recursion_limit = "256"]

//! Noom's app: the pages and the wire protocol, compiled into the server
//! (for SSR, feature `ssr`) and into WebAssembly: `hydrate` for pages the
//! server renders, `csr` for the static build served from anywhere.

#[macro_use]
mod tag_first;

pub mod app;
pub mod browser;
pub mod call;
mod components;
pub mod endpoint;
pub mod list_map;
pub mod nav;
mod pages;
pub mod protocol;
pub mod rtc;
pub mod rules;
pub mod session;
#[cfg(feature = "browser")]
mod signaling;
pub mod speaker;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A release wasm (scripts/build-release.sh) traps on panic without
    // calling any hook; the hook would be dead weight in the first load.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    // A room link's page lives in a lazily loaded wasm chunk, which has to
    // be here before that page can hydrate.
    wasm_bindgen_futures::spawn_local(async {
        if matches!(nav::current_page(), nav::Page::Room(_)) {
            pages::load_room_chunk().await;
        }
        leptos::mount::hydrate_body(app::App);
        mark_interactive();
    });
}

/// `performance.mark("noom-interactive")`: from navigation start to a page
/// whose handlers are attached, for time-to-interactive measurements.
#[cfg(feature = "browser")]
fn mark_interactive() {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("noom-interactive");
    }
}

/// The static build's entry point: there is no server-rendered markup to
/// hydrate, so the app renders into an empty body.
#[cfg(feature = "csr")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
    mark_interactive();
}
