//! What browsers in a call send each other over their RTCDataChannel: chat
//! and files. It never touches the server. Control messages are JSON text;
//! file data goes as binary chunks prefixed with the transfer's id.

use serde::{Deserialize, Serialize};

/// Bytes of file data per DataChannel message: small enough for every
/// browser's SCTP message limit, large enough to keep overhead low.
pub const CHUNK_BYTES: usize = 16 * 1024;
/// Largest file a peer accepts (the receiver holds it in memory).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// Sending pauses while this much is queued in the channel...
pub const HIGH_WATER_BYTES: u32 = 1024 * 1024;
/// ...and resumes when the queue drains below this (`bufferedamountlow`).
pub const LOW_WATER_BYTES: u32 = 256 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum P2pMsg {
    Chat { text: String },
    FileStart { id: u32, name: String, size: u64, mime: String },
    FileEnd { id: u32 },
}

/// A binary DataChannel message: 4-byte big-endian transfer id, then data.
pub fn chunk_frame(id: u32, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + data.len());
    frame.extend_from_slice(&id.to_be_bytes());
    frame.extend_from_slice(data);
    frame
}

pub fn parse_chunk(frame: &[u8]) -> Option<(u32, &[u8])> {
    let (id, data) = frame.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*id), data))
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("file is larger than the {} MB a call accepts", MAX_FILE_BYTES / 1_000_000)]
    TooLarge,
    #[error("received more data than the file's announced size")]
    Overrun,
    #[error("the file ended early ({received} of {size} bytes)")]
    Short { received: u64, size: u64 },
}

/// Bookkeeping for one file being received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub id: u32,
    pub name: String,
    pub size: u64,
    pub mime: String,
    pub received: u64,
}

impl Incoming {
    pub fn start(id: u32, name: String, size: u64, mime: String) -> Result<Self, TransferError> {
        if size > MAX_FILE_BYTES {
            return Err(TransferError::TooLarge);
        }
        Ok(Incoming { id, name: sanitize_file_name(&name), size, mime, received: 0 })
    }

    pub fn accept(&mut self, len: usize) -> Result<(), TransferError> {
        self.received += len as u64;
        if self.received > self.size {
            return Err(TransferError::Overrun);
        }
        Ok(())
    }

    pub fn finish(&self) -> Result<(), TransferError> {
        if self.received != self.size {
            return Err(TransferError::Short { received: self.received, size: self.size });
        }
        Ok(())
    }
}

/// A name from another browser becomes a download's file name: keep it
/// to a plain, bounded base name.
pub fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    let clean = clean.trim().trim_start_matches('.').to_owned();
    if clean.is_empty() {
        "file".to_owned()
    } else {
        clean
    }
}

/// "1.0 MB", "512 KB", "17 B".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json() {
        let msg = P2pMsg::FileStart { id: 7, name: "a.txt".into(), size: 3, mime: "text/plain".into() };
        let text = serde_json::to_string(&msg).unwrap();
        assert_eq!(text, r#"{"kind":"file_start","id":7,"name":"a.txt","size":3,"mime":"text/plain"}"#);
        assert_eq!(serde_json::from_str::<P2pMsg>(&text).unwrap(), msg);
        let chat: P2pMsg = serde_json::from_str(r#"{"kind":"chat","text":"hi"}"#).unwrap();
        assert_eq!(chat, P2pMsg::Chat { text: "hi".into() });
    }

    #[test]
    fn chunks_round_trip() {
        let frame = chunk_frame(0x01020304, b"data");
        assert_eq!(&frame[..4], &[1, 2, 3, 4]);
        assert_eq!(parse_chunk(&frame), Some((0x01020304, &b"data"[..])));
        assert_eq!(parse_chunk(&[1, 2, 3]), None);
        assert_eq!(parse_chunk(&chunk_frame(9, b"")), Some((9, &b""[..])));
    }

    #[test]
    fn incoming_counts_bytes_and_checks_the_size() {
        let mut f = Incoming::start(1, "x".into(), 10, String::new()).unwrap();
        f.accept(6).unwrap();
        assert_eq!(f.finish(), Err(TransferError::Short { received: 6, size: 10 }));
        f.accept(4).unwrap();
        assert_eq!(f.finish(), Ok(()));
        assert_eq!(f.accept(1), Err(TransferError::Overrun));
        assert_eq!(
            Incoming::start(1, "x".into(), MAX_FILE_BYTES + 1, String::new()),
            Err(TransferError::TooLarge)
        );
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_file_name(".bashrc"), "bashrc");
        assert_eq!(sanitize_file_name("a\u{0}b.txt"), "ab.txt");
        assert_eq!(sanitize_file_name(""), "file");
        assert_eq!(sanitize_file_name(&"n".repeat(500)).len(), 120);
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(17), "17 B");
        assert_eq!(human_size(1_048_576), "1.0 MB");
        assert_eq!(human_size(512_000), "512 KB");
        assert_eq!(human_size(25_300_000_000), "25 GB");
    }
}
