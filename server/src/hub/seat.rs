//! A member's place in a room's join order, which decides who is host (the
//! first), kept across a server restart in the member's resume token.

/// Where a peer sat: its room, hashed (a token need not carry the name),
/// when (ms since the epoch) it joined, and whether the host had locked
/// the room: the first member back locks it again, before a stranger can
/// walk into the rebuilt room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seat {
    pub room: u64,
    pub since_ms: u64,
    pub locked: bool,
}

/// 64-bit FNV-1a of a room's name: the same in every process and on every
/// build, unlike the standard library's hasher.
pub fn room_hash(room: &str) -> u64 {
    room.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::room_hash;

    #[test]
    fn room_hashes_are_fnv_1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(room_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(room_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(room_hash("standup"), room_hash("Standup"));
    }
}
