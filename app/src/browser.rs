//! Small browser services for components: storage, time, scrolling,
//! clipboard. Each has a server-side stand-in so that components compile
//! and render the same markup during SSR without touching web-sys.

const NICKNAME_KEY: &str = "noom.nickname";

#[cfg(feature = "browser")]
mod imp {
    use wasm_bindgen::JsValue;

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    pub fn load(key: &str) -> Option<String> {
        storage()?.get_item(key).ok()?
    }

    pub fn save(key: &str, value: &str) {
        if let Some(s) = storage() {
            let _ = s.set_item(key, value);
        }
    }

    pub fn now_ms() -> u64 {
        js_sys::Date::now() as u64
    }

    pub fn clock(ts_ms: u64) -> String {
        let date = js_sys::Date::new(&JsValue::from_f64(ts_ms as f64));
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    }

    pub fn scroll_to_end(el: &web_sys::Element) {
        el.set_scroll_top(el.scroll_height());
    }

    pub fn page_url() -> String {
        web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
    }

    pub fn copy_text(text: &str) {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(text);
        }
    }

    pub fn encode_path_segment(s: &str) -> String {
        js_sys::encode_uri_component(s).into()
    }

    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    /// A window `keydown` listener, removed when dropped.
    pub struct KeyListener {
        closure: Closure<dyn FnMut(web_sys::KeyboardEvent)>,
    }

    impl Drop for KeyListener {
        fn drop(&mut self) {
            if let Some(w) = web_sys::window() {
                let _ =
                    w.remove_event_listener_with_callback("keydown", self.closure.as_ref().unchecked_ref());
            }
        }
    }

    /// Watches an element's content size, until dropped.
    pub struct SizeObserver {
        observer: web_sys::ResizeObserver,
        _callback: Closure<dyn FnMut(js_sys::Array)>,
    }

    impl Drop for SizeObserver {
        fn drop(&mut self) {
            self.observer.disconnect();
        }
    }

    /// `f(width, height)` now and whenever `el`'s content box changes size.
    pub fn observe_size(el: &web_sys::Element, f: impl Fn(f64, f64) + 'static) -> Option<SizeObserver> {
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            if let Ok(entry) = entries.get(0).dyn_into::<web_sys::ResizeObserverEntry>() {
                let rect = entry.content_rect();
                f(rect.width(), rect.height());
            }
        });
        let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        observer.observe(el);
        Some(SizeObserver { observer, _callback: callback })
    }

    /// `@media (max-width: 760px)` in style/main.css.
    const NARROW_PX: f64 = 760.0;

    /// Phone width: the same breakpoint as the stylesheet's.
    pub fn is_narrow() -> bool {
        web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w <= NARROW_PX)
    }

    pub fn on_shortcut(f: impl Fn(&str) + 'static) -> KeyListener {
        let closure = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |ev: web_sys::KeyboardEvent| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.repeat() {
                return;
            }
            // Typing an "m" in the chat box must not mute the microphone.
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            // Escape still closes a menu or sheet from the chat box.
            if !typing || ev.key() == "Escape" {
                f(&ev.key().to_lowercase());
            }
        });
        if let Some(w) = web_sys::window() {
            let _ = w.add_event_listener_with_callback("keydown", closure.as_ref().unchecked_ref());
        }
        KeyListener { closure }
    }
}

#[cfg(not(feature = "browser"))]
mod imp {
    pub fn load(_key: &str) -> Option<String> {
        None
    }
    pub fn save(_key: &str, _value: &str) {}
    pub fn now_ms() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
    pub fn clock(ts_ms: u64) -> String {
        let minutes = ts_ms / 60_000;
        format!("{:02}:{:02}", (minutes / 60) % 24, minutes % 60)
    }
    pub fn scroll_to_end(_el: &leptos::web_sys::Element) {}
    pub fn page_url() -> String {
        String::new()
    }
    pub fn copy_text(_text: &str) {}
    pub fn encode_path_segment(s: &str) -> String {
        s.to_owned()
    }
    pub fn is_narrow() -> bool {
        false
    }
    pub struct KeyListener;
    pub fn on_shortcut(_f: impl Fn(&str) + 'static) -> KeyListener {
        KeyListener
    }
    pub struct SizeObserver;
    pub fn observe_size(
        _el: &leptos::web_sys::Element,
        _f: impl Fn(f64, f64) + 'static,
    ) -> Option<SizeObserver> {
        None
    }
}

pub use imp::{
    clock, copy_text, is_narrow, load, now_ms, observe_size, on_shortcut, page_url, save, scroll_to_end,
    KeyListener, SizeObserver,
};

pub fn load_nickname() -> Option<String> {
    imp::load(NICKNAME_KEY).filter(|n| !n.trim().is_empty())
}

pub fn save_nickname(nickname: &str) {
    imp::save(NICKNAME_KEY, nickname);
}

/// The app path of a room's page.
pub fn room_path(room: &str) -> String {
    format!("/r/{}", imp::encode_path_segment(room))
}
