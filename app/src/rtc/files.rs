//! Files over a DataChannel: chunked, with backpressure on the sending side
//! and reassembly into a Blob (and a download link) on the receiving side.

use super::js;
use super::p2p::{self, P2pMsg, CHUNK_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES};
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag, File, RtcDataChannel, RtcDataChannelState, Url};

/// Bytes read from the file at a time (then cut into chunks).
const READ_BYTES: f64 = 256.0 * 1024.0;

/// Sends `file` as transfer `id`; `progress` gets the bytes handed to the
/// channel so far.
pub async fn send(dc: &RtcDataChannel, file: &File, id: u32, progress: impl Fn(u64)) -> Result<(), String> {
    let fail = |e: JsValue| js::error_name(&e);
    let size = file.size() as u64;
    let start = P2pMsg::FileStart { id, name: file.name(), size, mime: file.type_() };
    dc.send_with_str(&serde_json::to_string(&start).expect("serializable")).map_err(fail)?;
    dc.set_buffered_amount_low_threshold(LOW_WATER_BYTES);
    let mut sent = 0u64;
    while sent < size {
        let end = (sent as f64 + READ_BYTES).min(size as f64);
        let slice = file.slice_with_f64_and_f64(sent as f64, end).map_err(fail)?;
        let buffer = js::wait(slice.array_buffer()).await.map_err(fail)?;
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        for chunk in bytes.chunks(CHUNK_BYTES) {
            while dc.buffered_amount() > HIGH_WATER_BYTES {
                drained(dc).await;
            }
            if dc.ready_state() != RtcDataChannelState::Open {
                return Err("the connection closed".into());
            }
            dc.send_with_u8_array(&p2p::chunk_frame(id, chunk)).map_err(fail)?;
            sent += chunk.len() as u64;
            progress(sent);
        }
    }
    dc.send_with_str(&serde_json::to_string(&P2pMsg::FileEnd { id }).expect("serializable")).map_err(fail)?;
    Ok(())
}

/// Resolves at the channel's next `bufferedamountlow`, or after a short
/// while regardless, so a channel that closes meanwhile is noticed.
async fn drained(dc: &RtcDataChannel) {
    let promise = js_sys::Promise::new(&mut |resolve, _| dc.set_onbufferedamountlow(Some(&resolve)));
    let low = Box::pin(js::wait(promise));
    let _ = futures::future::select(low, js::sleep_ms(500)).await;
    dc.set_onbufferedamountlow(None);
}

/// The chunks of a file being received from one peer (its size and
/// limits are the call model's to check).
#[derive(Default)]
pub struct Receiving {
    chunks: js_sys::Array,
}

impl Receiving {
    /// Takes one chunk's data (a view into the received buffer).
    pub fn push(&mut self, data: &js_sys::Uint8Array) {
        self.chunks.push(data);
    }

    /// The complete file as an object URL for a download link.
    pub fn finish(self, mime: &str) -> Result<String, String> {
        let options = BlobPropertyBag::new();
        options.set_type(mime);
        let blob = Blob::new_with_u8_array_sequence_and_options(&self.chunks, &options)
            .map_err(|e| js::error_name(&e))?;
        Url::create_object_url_with_blob(&blob).map_err(|e| js::error_name(&e))
    }
}
