//! One connection over a WebSocket, from opening it to its end.

use super::FIRST_WORD_MS;
use crate::protocol::{self, ClientMsg};
use futures::channel::mpsc::UnboundedReceiver;
use futures::future::{select, Either};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};

/// Runs one socket until it ends, passing each text frame to `on_text`.
pub async fn attempt(url: &str, outgoing: &mut UnboundedReceiver<ClientMsg>, on_text: &dyn Fn(String)) {
    let socket = match WebSocket::open(url) {
        Ok(socket) => socket,
        Err(err) => {
            leptos::logging::warn!("cannot open the signaling socket: {err}");
            return;
        }
    };
    // Anything queued while down is stale.
    while outgoing.try_recv().is_ok() {}
    let (mut write, mut read) = socket.split();
    let first = select(read.next(), gloo_timers::future::TimeoutFuture::new(FIRST_WORD_MS)).await;
    match first {
        Either::Left((Some(Ok(Message::Text(text))), _)) => on_text(text),
        _ => return,
    }
    let reading = async {
        while let Some(Ok(frame)) = read.next().await {
            if let Message::Text(text) = frame {
                on_text(text);
            }
        }
    };
    let writing = async {
        while let Some(msg) = outgoing.next().await {
            if write.send(Message::Text(protocol::encode(&msg))).await.is_err() {
                break;
            }
        }
    };
    // Whichever half stops first (socket closed, send failed) ends this
    // connection.
    futures::pin_mut!(reading, writing);
    let _ = select(reading, writing).await;
}
