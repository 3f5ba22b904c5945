//! Inline SVG icons (no icon font to fetch); decorative, so aria-hidden.

use leptos::prelude::*;

fn icon(path: &'static str) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round" inner_html=path></svg>
    }
}

pub fn mic() -> impl IntoView {
    icon(r#"<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>"#)
}

pub fn mic_off() -> impl IntoView {
    icon(
        r#"<path d="M15 9.3V6a3 3 0 0 0-5.7-1.3M9 9v2a3 3 0 0 0 5 2.2M19 11a7 7 0 0 1-1.1 3.8M5 11a7 7 0 0 0 10.9 5.8M12 18v3M3 3l18 18"/>"#,
    )
}

pub fn camera() -> impl IntoView {
    icon(r#"<rect x="2" y="6" width="14" height="12" rx="2"/><path d="M16 10l6-3v10l-6-3z"/>"#)
}

pub fn camera_off() -> impl IntoView {
    icon(r#"<path d="M16 16v2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h2M10 6h4a2 2 0 0 1 2 2v3l6-3v9M3 3l18 18"/>"#)
}

pub fn screen() -> impl IntoView {
    icon(
        r#"<rect x="2" y="4" width="20" height="13" rx="2"/><path d="M8 21h8M12 17v4M9 10l3-3 3 3M12 7v6"/>"#,
    )
}

pub fn paperclip() -> impl IntoView {
    icon(
        r#"<path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a2 2 0 0 1-2.8-2.8l8-8"/>"#,
    )
}

pub fn lock() -> impl IntoView {
    icon(r#"<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>"#)
}

pub fn chat() -> impl IntoView {
    icon(r#"<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-5A8 8 0 1 1 21 12z"/>"#)
}

pub fn people() -> impl IntoView {
    icon(
        r#"<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20a6.5 6.5 0 0 1 13 0M16 4.6a3.5 3.5 0 0 1 0 6.8M18.5 14.2A6.5 6.5 0 0 1 21.5 20"/>"#,
    )
}

pub fn more() -> impl IntoView {
    icon(r#"<circle cx="12" cy="5" r="1"/><circle cx="12" cy="12" r="1"/><circle cx="12" cy="19" r="1"/>"#)
}

pub fn hang_up() -> impl IntoView {
    icon(
        r#"<path d="M3.6 14.4l-1.1-1.9a2 2 0 0 1 .6-2.6C8.6 6.3 15.4 6.3 20.9 9.9a2 2 0 0 1 .6 2.6l-1.1 1.9a2 2 0 0 1-2.5.8l-2.4-1a1.5 1.5 0 0 1-.9-1.4v-1.5a12 12 0 0 0-5.2 0v1.5a1.5 1.5 0 0 1-.9 1.4l-2.4 1a2 2 0 0 1-2.5-.8z"/>"#,
    )
}

pub fn close() -> impl IntoView {
    icon(r#"<path d="M6 6l12 12M18 6L6 18"/>"#)
}

pub fn hand() -> impl IntoView {
    icon(
        r#"<path d="M18 11V6.5a1.5 1.5 0 0 0-3 0V11M15 10.5v-6a1.5 1.5 0 0 0-3 0v6M12 10.5V5a1.5 1.5 0 0 0-3 0v7.5M9 12.5V9a1.5 1.5 0 0 0-3 0v5.5a7 7 0 0 0 7 7h.5a6.5 6.5 0 0 0 5.9-3.8L21 13.5a1.5 1.5 0 0 0-2.6-1.4L18 13"/>"#,
    )
}

pub fn smile() -> impl IntoView {
    icon(r#"<circle cx="12" cy="12" r="9"/><path d="M8.5 14a4 4 0 0 0 7 0M9 9.5h.01M15 9.5h.01"/>"#)
}

pub fn pin() -> impl IntoView {
    icon(r#"<path d="M9 4h6l-1 6 3 3v2H7v-2l3-3zM12 15v6"/>"#)
}

pub fn minimise() -> impl IntoView {
    icon(r#"<path d="M4 14h6v6M20 10h-6V4M14 10l7-7M3 21l7-7"/>"#)
}
