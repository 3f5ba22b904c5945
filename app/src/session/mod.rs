//! The page's one signaling session, shared through Leptos context.
//!
//! Components read [`Session::model`] and call [`Session::act`]; the socket
//! itself lives in the browser-only `signaling` module.

pub mod model;
#[cfg(test)]
mod tests;

pub use model::{Conn, Floating, LogEntry, Logged, Model, Problem, RoomView, REACTION_SHOWN_MS};

use crate::protocol::ClientMsg;
use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Session {
    pub model: RwSignal<Model>,
    /// `None` during server rendering and until the socket task starts.
    outgoing: StoredValue<Option<UnboundedSender<ClientMsg>>>,
}

impl Session {
    pub fn provide() -> Self {
        // Storage is read here rather than in an effect so the room page
        // never flashes its "choose a name" prompt for a known user. The
        // server's stand-in returns None, so hydration sees the same markup.
        let model = Model::with_nickname(crate::browser::load_nickname());
        let session = Session { model: RwSignal::new(model), outgoing: StoredValue::new(None) };
        provide_context(session);
        session
    }

    /// Changes the model and sends whatever the change asks to send.
    pub fn act(&self, change: impl FnOnce(&mut Model) -> Vec<ClientMsg>) {
        let mut msgs = Vec::new();
        self.model.update(|m| msgs = change(m));
        self.send_all(msgs);
    }

    /// Sends one message now (dropped while the socket is down).
    pub fn send(&self, msg: ClientMsg) {
        self.send_all(vec![msg]);
    }

    fn send_all(&self, msgs: Vec<ClientMsg>) {
        if msgs.is_empty() {
            return;
        }
        self.outgoing.with_value(|tx| {
            if let Some(tx) = tx {
                for msg in msgs {
                    let _ = tx.unbounded_send(msg);
                }
            }
        });
    }

    /// Opens the signaling socket (browser only) and keeps it open.
    #[cfg(feature = "browser")]
    pub fn connect(&self) {
        use crate::signaling::{self, Event};
        let session = *self;
        let tx = signaling::start(move |event| match event {
            Event::Up(transport) => session.model.update(|m| m.transport = transport),
            Event::Down { retry_ms } => session.model.update(|m| m.on_connecting(retry_ms)),
            Event::Message(msg) => session.act(|m| m.on_lobby_msg(msg)),
        });
        self.outgoing.set_value(Some(tx));
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
