//! Property tests ("fuzzing" on stable Rust) for the wire decoder: whatever
//! a client sends, decoding returns a message or a typed error, never
//! panics, and every message the types allow survives a round trip.
//! `NOOM_FUZZ_CASES` raises the number of inputs for a longer run.

use app::protocol::{decode_client, encode, ClientMsg, MediaState, PeerId, SdpType, SignalPayload};
use proptest::prelude::*;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("NOOM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// JSON values of any shape, a few levels deep.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects that look like client messages: a real or bogus `type` and
/// fields with the right names but any values.
fn message_like() -> impl Strategy<Value = String> {
    let kind = prop_oneof![prop::sample::select(ClientMsg::TYPES).prop_map(str::to_owned), "[a-z_]{0,12}",];
    let field = prop::sample::select(vec![
        "nickname",
        "room",
        "media",
        "audio",
        "video",
        "text",
        "nonce",
        "to",
        "payload",
        "kind",
        "sdp_type",
        "sdp",
        "candidate",
        "sdp_mid",
        "sdp_m_line_index",
        "passcode",
        "locked",
        "id",
    ]);
    (kind, prop::collection::btree_map(field, json(), 0..5)).prop_map(|(kind, fields)| {
        let mut object: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        object.insert("type".into(), kind.into());
        serde_json::Value::Object(object).to_string()
    })
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    let payload = prop_oneof![
        (
            prop::sample::select(vec![SdpType::Offer, SdpType::Answer, SdpType::Pranswer, SdpType::Rollback]),
            ".*"
        )
            .prop_map(|(sdp_type, sdp)| SignalPayload::Description { sdp_type, sdp }),
        (".*", proptest::option::of(".*"), proptest::option::of(any::<u16>())).prop_map(
            |(candidate, sdp_mid, sdp_m_line_index)| SignalPayload::Candidate {
                candidate,
                sdp_mid,
                sdp_m_line_index
            }
        ),
    ];
    prop_oneof![
        ".*".prop_map(|nickname| ClientMsg::SetNickname { nickname }),
        (".*", proptest::option::of(".*")).prop_map(|(room, passcode)| ClientMsg::Join { room, passcode }),
        any::<bool>().prop_map(|locked| ClientMsg::LockRoom { locked }),
        ".*".prop_map(|id| ClientMsg::RemovePeer { id: PeerId(id) }),
        Just(ClientMsg::MuteAll),
        Just(ClientMsg::Leave),
        (any::<bool>(), any::<bool>())
            .prop_map(|(audio, video)| ClientMsg::SetMedia { media: MediaState { audio, video } }),
        Just(ClientMsg::StartShare),
        Just(ClientMsg::StopShare),
        (".*", proptest::option::of(any::<u64>())).prop_map(|(text, nonce)| ClientMsg::Chat { text, nonce }),
        (".*", payload).prop_map(|(to, payload)| ClientMsg::Signal { to: PeerId(to), payload }),
    ]
}

proptest! {
    #![proptest_config(cases(4000))]

    #[test]
    fn any_text_decodes_or_is_refused(text in ".*") {
        let _ = decode_client(&text);
    }

    #[test]
    fn message_shaped_objects_decode_or_are_refused_with_a_code(text in message_like()) {
        match decode_client(&text) {
            // What decodes is exactly what the types can say.
            Ok(msg) => prop_assert_eq!(decode_client(&encode(&msg)).unwrap(), msg),
            // Every refusal maps to a code the UI knows, with a message.
            Err(err) => {
                prop_assert!(!err.to_string().is_empty());
                let _ = err.code();
            }
        }
    }

    #[test]
    fn every_client_message_round_trips(msg in client_msg()) {
        prop_assert_eq!(decode_client(&encode(&msg)).unwrap(), msg);
    }
}
