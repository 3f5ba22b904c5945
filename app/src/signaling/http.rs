//! One connection over plain HTTP, for networks that refuse WebSocket
//! upgrades: server-sent events down, POSTs up (docs/PROTOCOL.md). In the
//! hydrated build it is a wasm chunk of its own, fetched only by a page
//! whose socket could not connect.

use super::FIRST_WORD_MS;
use crate::protocol::{self, ClientMsg, HTTP_EVENTS_PATH, HTTP_SEND_PATH};
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{select, Either, LocalBoxFuture};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{EventSource, MessageEvent};

/// A POST carries what is queued, up to about this much: one request for a
/// burst of ICE candidates, not one each.
const BATCH_BYTES: usize = 16 * 1024;
/// An empty POST after this long without one: the server ends a session it
/// has not heard from for 60 s, as it drops a silent socket, and a POST
/// that fails tells this page the server is gone.
const HEARTBEAT_MS: u32 = 20_000;

pub type Attempt = for<'a> fn(
    &'a str,
    &'a str,
    &'a mut UnboundedReceiver<ClientMsg>,
    &'a dyn Fn(String),
) -> LocalBoxFuture<'a, ()>;

/// The fallback's chunk could not be fetched (the server is down, or a
/// proxy in front of it answers for it): the next reconnect tries again.
#[derive(Debug, thiserror::Error)]
#[error("the HTTP fallback's code could not be fetched")]
pub struct NotLoaded;

#[cfg(feature = "hydrate")]
impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        NotLoaded
    }
}

// Fallible, unlike `leptos::lazy`, whose failed load panics: this one is
// fetched exactly when the server may be unreachable. Not split in the
// static build: Trunk has no wasm-split step.
#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(http_fallback, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn load() -> Result<Attempt, NotLoaded> {
    Ok(attempt)
}

#[cfg(not(feature = "hydrate"))]
pub async fn load() -> Result<Attempt, NotLoaded> {
    Ok(attempt)
}

fn attempt<'a>(
    base: &'a str,
    query: &'a str,
    outgoing: &'a mut UnboundedReceiver<ClientMsg>,
    on_text: &'a dyn Fn(String),
) -> LocalBoxFuture<'a, ()> {
    Box::pin(connection(base, query, outgoing, on_text))
}

enum Down {
    Session(String),
    Text(String),
    Closed,
}

/// The event stream and the listeners that feed it into a channel; closed
/// when dropped (an `EventSource` would otherwise reconnect by itself,
/// without the resume token).
struct Stream {
    source: EventSource,
    listeners: Vec<(&'static str, Listener)>,
}

type Listener = Closure<dyn FnMut(MessageEvent)>;

impl Stream {
    fn open(url: &str, tx: UnboundedSender<Down>) -> Option<Stream> {
        let source = EventSource::new(url).ok()?;
        let mut listeners = Vec::new();
        for kind in ["session", "message", "close", "error"] {
            let tx = tx.clone();
            let listener = Listener::new(move |event: MessageEvent| {
                let data = event.data().as_string();
                let down = match (kind, data) {
                    ("session", Some(key)) => Down::Session(key),
                    ("message", Some(text)) => Down::Text(text),
                    _ => Down::Closed,
                };
                let _ = tx.unbounded_send(down);
            });
            let _ = source.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
            listeners.push((kind, listener));
        }
        Some(Stream { source, listeners })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.source.close();
        for (kind, listener) in &self.listeners {
            let _ = self.source.remove_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        }
    }
}

/// `base` is the socket's URL over http(s); `query`, `?resume=…` or nothing.
async fn connection(
    base: &str,
    query: &str,
    outgoing: &mut UnboundedReceiver<ClientMsg>,
    on_text: &dyn Fn(String),
) {
    let (tx, mut rx) = mpsc::unbounded();
    let Some(_stream) = Stream::open(&format!("{base}{HTTP_EVENTS_PATH}{query}"), tx) else { return };
    let first = select(rx.next(), TimeoutFuture::new(FIRST_WORD_MS)).await;
    let Either::Left((Some(Down::Session(key)), _)) = first else { return };
    // Anything queued while down is stale.
    while outgoing.try_recv().is_ok() {}
    // The key goes in the body, not the URL, which proxies log.
    let send_url = format!("{base}{HTTP_SEND_PATH}");
    let _goodbye = Goodbye::on_pagehide(format!("{send_url}?end=1"), key.clone());
    let reading = async {
        while let Some(Down::Text(text)) = rx.next().await {
            on_text(text);
        }
    };
    let writing = async {
        loop {
            let mut body = key.clone();
            match select(outgoing.next(), TimeoutFuture::new(HEARTBEAT_MS)).await {
                Either::Left((None, _)) => break,
                Either::Left((Some(msg), _)) => {
                    body.push('\n');
                    body.push_str(&protocol::encode(&msg));
                    while body.len() < BATCH_BYTES {
                        let Ok(msg) = outgoing.try_recv() else { break };
                        body.push('\n');
                        body.push_str(&protocol::encode(&msg));
                    }
                }
                Either::Right(_) => {}
            }
            if !post(&send_url, body).await {
                break;
            }
        }
    };
    futures::pin_mut!(reading, writing);
    let _ = select(reading, writing).await;
}

/// One POST; false when the session is gone or the server unreachable.
/// A text body makes it a simple request: no CORS preflight.
async fn post(url: &str, body: String) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str_and_init(url, &init)).await;
    response.ok().and_then(|r| r.dyn_into::<web_sys::Response>().ok()).is_some_and(|r| r.ok())
}

/// A page going away says so, as a socket's close frame would: the others
/// see the leave at once rather than after the resume grace.
struct Goodbye {
    listener: Closure<dyn FnMut()>,
}

impl Goodbye {
    fn on_pagehide(url: String, key: String) -> Option<Goodbye> {
        let window = web_sys::window()?;
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().send_beacon_with_opt_str(&url, Some(&key));
            }
        });
        window.add_event_listener_with_callback("pagehide", listener.as_ref().unchecked_ref()).ok()?;
        Some(Goodbye { listener })
    }
}

impl Drop for Goodbye {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let _ = window
                .remove_event_listener_with_callback("pagehide", self.listener.as_ref().unchecked_ref());
        }
    }
}
