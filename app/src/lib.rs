#![recursion_limit = "256"]

//! Noom's app: the pages and the wire protocol, compiled into the server
//! (for SSR, feature `ssr`) and into WebAssembly (feature `hydrate`).

pub mod app;
pub mod browser;
pub mod call;
mod components;
mod pages;
pub mod protocol;
#[cfg(feature = "hydrate")]
mod rtc;
pub mod rules;
pub mod session;
#[cfg(feature = "hydrate")]
mod signaling;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
