//! Small wasm-bindgen helpers shared by the engine.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

thread_local! {
    static LIVE_LISTENERS: Cell<usize> = const { Cell::new(0) };
}

/// A JS event handler kept alive for as long as the value lives. Counted,
/// so a test can check that leaving a call releases every one of them.
pub struct Listener {
    closure: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    pub fn new(f: impl FnMut(JsValue) + 'static) -> Self {
        LIVE_LISTENERS.with(|n| n.set(n.get() + 1));
        Listener { closure: Closure::new(f) }
    }

    pub fn function(&self) -> &js_sys::Function {
        self.closure.as_ref().unchecked_ref()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        LIVE_LISTENERS.with(|n| n.set(n.get() - 1));
    }
}

/// JS objects whose event handlers call back into a Rust owner: a handler
/// reaches the owner only while it lives and is not closed, and is kept in
/// the owner's list, so closing (clearing it) releases them all.
pub trait Handlers: Sized + 'static {
    fn is_closed(&self) -> bool;
    fn listeners(&self) -> &RefCell<Vec<Listener>>;

    /// Installs `f` through `set` (e.g. `|f| pc.set_ontrack(Some(f))`).
    fn on(self: &Rc<Self>, set: impl FnOnce(&js_sys::Function), f: impl Fn(&Rc<Self>, JsValue) + 'static) {
        let weak: Weak<Self> = Rc::downgrade(self);
        let listener = Listener::new(move |event| {
            if let Some(owner) = weak.upgrade().filter(|o| !o.is_closed()) {
                f(&owner, event);
            }
        });
        set(listener.function());
        self.listeners().borrow_mut().push(listener);
    }
}

pub fn live_listeners() -> usize {
    LIVE_LISTENERS.with(Cell::get)
}

pub async fn wait(promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// `{ key: value, … }` for constraint dictionaries.
pub fn object(entries: &[(&str, JsValue)]) -> js_sys::Object {
    let obj = js_sys::Object::new();
    for (key, value) in entries {
        let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj
}

/// Calls `target.name(...args)`: for methods web-sys would need a feature
/// (and its bindings' weight) to reach.
pub fn call(target: &JsValue, name: &str, args: &js_sys::Array) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(target, &JsValue::from_str(name))?.dyn_into()?;
    f.apply(target, args)
}

/// The `name` of a DOMException (e.g. "NotAllowedError"), or its text.
pub fn error_name(err: &JsValue) -> String {
    js_sys::Reflect::get(err, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .or_else(|| err.as_string())
        .unwrap_or_else(|| format!("{err:?}"))
}

/// The name and message of an error, for a log line that says what broke.
pub fn error_text(err: &JsValue) -> String {
    let message = js_sys::Reflect::get(err, &JsValue::from_str("message")).ok().and_then(|v| v.as_string());
    match message {
        Some(message) => format!("{}: {message}", error_name(err)),
        None => error_name(err),
    }
}

pub fn sleep_ms(ms: u32) -> gloo_timers::future::TimeoutFuture {
    gloo_timers::future::TimeoutFuture::new(ms)
}
