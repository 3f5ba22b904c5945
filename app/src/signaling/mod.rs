//! The browser's signaling connection (feature `browser`): typed messages
//! in and out, reconnecting with exponential backoff after it drops. A
//! WebSocket when the network allows one, plain HTTP when it does not.

mod http;
mod websocket;

use crate::endpoint::{self, Transport};
use crate::protocol::{self, ClientMsg, LobbyMsg, LobbyMsgs};
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Where messages about the room go: the room's lazily loaded code decodes
/// and applies them (`set_room_handler`), so the lobby's first load carries
/// neither their decoders nor their handling. Until that code is there
/// (only a room page sends what they answer, so it normally is) they wait.
enum RoomInbox {
    Waiting(Vec<String>),
    Ready(Rc<dyn Fn(String)>),
}

/// More waiting than this means something is wrong; drop the excess.
const MAX_WAITING: usize = 256;

thread_local! {
    static ROOM_INBOX: RefCell<RoomInbox> = const { RefCell::new(RoomInbox::Waiting(Vec::new())) };
}

pub fn set_room_handler(handler: impl Fn(String) + 'static) {
    let handler: Rc<dyn Fn(String)> = Rc::new(handler);
    let previous = ROOM_INBOX.with(|inbox| inbox.replace(RoomInbox::Ready(handler.clone())));
    if let RoomInbox::Waiting(waiting) = previous {
        for text in waiting {
            handler(text);
        }
    }
}

fn to_room(text: String) {
    let mut text = Some(text);
    let handler = ROOM_INBOX.with(|inbox| match &mut *inbox.borrow_mut() {
        RoomInbox::Ready(handler) => Some(handler.clone()),
        RoomInbox::Waiting(waiting) => {
            if waiting.len() < MAX_WAITING {
                waiting.extend(text.take());
            }
            None
        }
    });
    // Called outside the borrow: the handler may register itself again.
    if let (Some(handler), Some(text)) = (handler, text) {
        handler(text);
    }
}

/// The server speaks first (`welcome` on a socket, the session's key on
/// the HTTP fallback), at once. A connection silent this long is held by
/// something between us (a proxy holding the upgrade, or buffering the
/// event stream), and is given up.
const FIRST_WORD_MS: u32 = 5_000;

const FIRST_RETRY_MS: u32 = 500;
const MAX_RETRY_MS: u32 = 8_000;

pub enum Event {
    /// Connected, over this transport.
    Up(Transport),
    /// The connection is down; the next attempt starts in `retry_ms`.
    Down { retry_ms: u32 },
    /// A message for the lobby; the room's go to the room's code.
    Message(LobbyMsg),
}

/// Starts the connection task; messages sent while the connection is down are
/// dropped (the session replays what matters when it is back).
pub fn start(on_event: impl Fn(Event) + 'static) -> UnboundedSender<ClientMsg> {
    let (tx, rx) = mpsc::unbounded();
    wasm_bindgen_futures::spawn_local(run(rx, Rc::new(on_event)));
    tx
}

async fn socket_url() -> String {
    let location = web_sys::window().expect("a window").location();
    let protocol = location.protocol().unwrap_or_default();
    let host = location.host().unwrap_or_default();
    #[cfg(feature = "csr")]
    {
        let file = fetch_site_config().await;
        let built_in = option_env!("NOOM_SIGNALING_URL");
        let (url, problems) = endpoint::choose(file.as_ref(), built_in, &protocol, &host);
        for problem in problems {
            leptos::logging::warn!("ignored: {problem}");
        }
        url
    }
    #[cfg(not(feature = "csr"))]
    endpoint::same_origin(&protocol, &host)
}

/// The static build's run-time settings; a missing or unreadable file means
/// "use what was built in".
#[cfg(feature = "csr")]
async fn fetch_site_config() -> Option<endpoint::SiteConfig> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window()?;
    let response = JsFuture::from(window.fetch_with_str(endpoint::CONFIG_FILE)).await.ok()?;
    let response: web_sys::Response = response.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
    match serde_json::from_str(&text) {
        Ok(config) => Some(config),
        Err(err) => {
            leptos::logging::warn!("{} is not valid: {err}", endpoint::CONFIG_FILE);
            None
        }
    }
}

/// 0.5 s, 1 s, 2 s … up to 8 s, with ±20 % jitter so that clients dropped
/// together (a server restart) do not all come back in the same instant.
fn backoff_ms(failures: u32) -> u32 {
    let base = FIRST_RETRY_MS.saturating_mul(1 << failures.saturating_sub(1).min(5)).min(MAX_RETRY_MS);
    let jitter = 0.8 + 0.4 * js_sys::Math::random();
    (base as f64 * jitter) as u32
}

async fn run(mut outgoing: UnboundedReceiver<ClientMsg>, on_event: Rc<dyn Fn(Event)>) {
    let failures = Cell::new(0u32);
    // The latest `welcome`'s token: presented when the connection opens
    // again, it brings this page back as the same person, still in its call.
    let resume = Cell::new(None::<String>);
    let url = socket_url().await;
    let http_base = endpoint::http_base(&url);
    loop {
        let token = resume.take();
        // Base64url: nothing in it needs escaping.
        let query = token.as_ref().map_or_else(String::new, |token| format!("?resume={token}"));
        resume.set(token);
        let heard = Cell::new(false);
        let deliver = |via: Transport, text: String| {
            if !heard.replace(true) {
                on_event(Event::Up(via));
            }
            receive(text, &resume, &failures, &*on_event);
        };
        let on_socket = |text| deliver(Transport::WebSocket, text);
        websocket::attempt(&format!("{url}{query}"), &mut outgoing, &on_socket).await;
        // A socket that never said a word was refused or held up on the
        // way (a proxy that strips upgrades): try plain HTTP, whose code
        // is fetched only now.
        if !heard.get() {
            match http::load().await {
                Ok(over_http) => {
                    let on_http = |text| deliver(Transport::Http, text);
                    over_http(&http_base, &query, &mut outgoing, &on_http).await;
                }
                Err(err) => leptos::logging::warn!("{err}"),
            }
        }
        failures.set(failures.get() + 1);
        let retry_ms = backoff_ms(failures.get());
        on_event(Event::Down { retry_ms });
        gloo_timers::future::TimeoutFuture::new(retry_ms).await;
    }
}

/// One message from the server, whichever transport brought it.
fn receive(text: String, resume: &Cell<Option<String>>, failures: &Cell<u32>, on_event: &dyn Fn(Event)) {
    match protocol::decode_server_some::<LobbyMsgs>(&text) {
        Ok(Some(msg)) => {
            // The filter decoded only the lobby's messages.
            let Ok(msg) = msg.into_lobby() else { return };
            // Only the connection's business: the next attempt presents it.
            if let LobbyMsg::ResumeToken { resume: token } = msg {
                resume.set(Some(token));
                return;
            }
            if let LobbyMsg::Welcome { resume: token, .. } = &msg {
                failures.set(0);
                resume.set(token.clone());
            }
            on_event(Event::Message(msg));
        }
        Ok(None) => to_room(text),
        Err(err) => leptos::logging::warn!("unreadable server message: {err}"),
    }
}
