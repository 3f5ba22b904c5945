//! Which page a path shows, and moving between pages without a reload.
//!
//! Noom has two pages and a "not found"; leptos_router's client side (route
//! matching, nested outlets, async route views) was about a quarter of the
//! lobby's first load, so the app routes itself: the path is a signal, links
//! to our own pages and `navigate` push history entries, and back/forward
//! set the signal again. The server renders the same pages from the request
//! path (server/src/routes.rs lists them).

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    Lobby,
    /// `/r/{room}`, the name percent-decoded (validity is the page's business).
    Room(String),
    NotFound,
}

pub fn page_for(path: &str) -> Page {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() || path == "/" {
        return Page::Lobby;
    }
    match path.strip_prefix("/r/") {
        Some(room) if !room.is_empty() && !room.contains('/') => Page::Room(percent_decode(room)),
        _ => Page::NotFound,
    }
}

/// The path of a URL that may be absolute (leptos_axum hands the server's
/// rendering `http://leptos.dev/r/x?y`).
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Control characters become U+FFFD, as the HTML parser would make some
    // of them anyway: a server-rendered text node of only a NUL is dropped
    // by the parser, and hydration then finds a node fewer than the server
    // rendered (`/r/%00` trapped the whole app).
    String::from_utf8_lossy(&out).chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect()
}

/// The current path, shared through context.
#[derive(Clone, Copy)]
pub struct Nav {
    path: RwSignal<String>,
}

impl Nav {
    pub fn provide() -> Self {
        let nav = Nav { path: RwSignal::new(imp::current_path()) };
        provide_context(nav);
        imp::follow_history(nav);
        nav
    }

    pub fn page(&self) -> Memo<Page> {
        let path = self.path;
        Memo::new(move |_| page_for(&path.read()))
    }

    /// Goes to one of our pages (a path like `/r/standup`), adding a
    /// history entry.
    pub fn go(&self, path: &str) {
        if self.path.with_untracked(|p| p != path) {
            imp::push(path);
            self.path.set(path.to_owned());
        }
    }
}

pub fn use_nav() -> Nav {
    expect_context::<Nav>()
}

/// The page the browser is on (or the server is rendering).
pub fn current_page() -> Page {
    page_for(&imp::current_path())
}

#[cfg(feature = "browser")]
mod imp {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    pub fn current_path() -> String {
        window().location().pathname().unwrap_or_else(|_| "/".to_owned())
    }

    pub fn push(path: &str) {
        let window = window();
        if let Ok(history) = window.history() {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
        }
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// Back and forward set the path again; a plain click on a link to one
    /// of our pages moves there without a reload (as a router would).
    pub fn follow_history(nav: super::Nav) {
        let _ = window_event_listener(leptos::ev::popstate, move |_| nav.path.set(current_path()));
        let _ = window_event_listener(leptos::ev::click, move |ev| {
            if ev.default_prevented()
                || ev.button() != 0
                || ev.meta_key()
                || ev.ctrl_key()
                || ev.shift_key()
                || ev.alt_key()
            {
                return;
            }
            let Some(link) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten())
            else {
                return;
            };
            if link.has_attribute("target") || link.has_attribute("download") {
                return;
            }
            let Some(href) = link.get_attribute("href") else { return };
            // Only our pages: other paths (a file, another site) load as usual.
            if !href.starts_with('/')
                || href.starts_with("//")
                || super::page_for(&href) == super::Page::NotFound
            {
                return;
            }
            ev.prevent_default();
            nav.go(&href);
        });
    }
}

#[cfg(not(feature = "browser"))]
mod imp {
    /// On the server, the path of the request being rendered.
    pub fn current_path() -> String {
        #[cfg(feature = "ssr")]
        if let Some(url) = leptos::prelude::use_context::<leptos_router::location::RequestUrl>() {
            return super::path_of(url.as_ref()).to_owned();
        }
        "/".to_owned()
    }

    pub fn push(_path: &str) {}

    pub fn follow_history(_nav: super::Nav) {}
}

#[cfg(test)]
mod tests {
    use super::{page_for, Page};

    #[test]
    fn absolute_urls_give_their_path() {
        assert_eq!(super::path_of("http://leptos.dev/r/x?y=1"), "/r/x?y=1");
        assert_eq!(super::path_of("http://leptos.dev"), "/");
        assert_eq!(super::path_of("/r/x"), "/r/x");
    }

    #[test]
    fn paths_map_to_pages() {
        assert_eq!(page_for("/"), Page::Lobby);
        assert_eq!(page_for(""), Page::Lobby);
        assert_eq!(page_for("/?from=link"), Page::Lobby);
        assert_eq!(page_for("/r/standup"), Page::Room("standup".into()));
        assert_eq!(page_for("/r/standup?x=1#top"), Page::Room("standup".into()));
        assert_eq!(page_for("/r/not%20valid!"), Page::Room("not valid!".into()));
        assert_eq!(page_for("/r/caf%C3%A9"), Page::Room("café".into()));
        assert_eq!(page_for("/r/100%"), Page::Room("100%".into()));
        assert_eq!(page_for("/r/%00"), Page::Room("\u{FFFD}".into()));
        assert_eq!(page_for("/r/a%0D%0Ab%7F"), Page::Room("a\u{FFFD}\u{FFFD}b\u{FFFD}".into()));
        assert_eq!(page_for("/r/%FF"), Page::Room("\u{FFFD}".into()));
        for missing in ["/r/", "/r", "/r/a/b", "/r/a/", "/no/such/page", "/lobby"] {
            assert_eq!(page_for(missing), Page::NotFound, "{missing}");
        }
    }
}
