//! The document's title: "{text} · Noom", or "Noom" alone.

use leptos::prelude::*;

pub fn full_title(text: &str) -> String {
    if text.is_empty() {
        "Noom".to_owned()
    } else {
        format!("{text} · Noom")
    }
}

/// Called from a page's body, not placed in its view: it renders no node, so
/// server and browser see the same markup. On the server leptos_meta writes
/// the title into the rendered `<head>`; in the browser an effect sets
/// `document.title`, which keeps leptos_meta's client side out of the first
/// load.
pub fn page_title(text: impl Into<Signal<String>>) {
    let text = text.into();
    #[cfg(feature = "ssr")]
    {
        let text = leptos::text_prop::TextProp::from(move || full_title(&text.get()));
        let _registered_by_the_call =
            leptos_meta::Title(leptos_meta::TitleProps::builder().text(text).build());
    }
    #[cfg(not(feature = "ssr"))]
    Effect::new(move |_| document().set_title(&full_title(&text.get())));
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_name_the_page_then_noom() {
        assert_eq!(super::full_title(""), "Noom");
        assert_eq!(super::full_title("standup"), "standup · Noom");
    }
}
