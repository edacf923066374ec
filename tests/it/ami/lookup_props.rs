//! The field lookups of `AmiMessage` agree with each other: `get_each` (several keys in one
//! pass, passing over fields by key length) answers for each key what `get` answers, on
//! generated messages whose keys repeat and differ only in case, and on every message Asterisk
//! sent in the busiest recording.

use bytes::BytesMut;
use proptest::prelude::*;
use tokio_util::codec::Decoder;

use pbxis_ws::ami::transcript::{self, Direction};
use pbxis_ws::ami::{AmiCodec, AmiFrame, AmiMessage};

/// Keys of a few lengths, some of equal length, in any case: collisions are the point.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Channel"),
        Just("Context"),
        Just("Uniqueid"),
        Just("Linkedid"),
        Just("DestChannel"),
        Just("AccountCode"),
        Just("DestUniqueid"),
        Just("X"),
        Just(""),
    ]
    .prop_flat_map(|k| {
        proptest::collection::vec(any::<bool>(), k.len()).prop_map(move |upper| {
            k.chars()
                .zip(upper)
                .map(|(c, u)| {
                    if u {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect::<String>()
        })
    })
}

fn message() -> impl Strategy<Value = AmiMessage> {
    proptest::collection::vec((key(), "[a-z0-9]{0,4}"), 0..24).prop_map(|fields| {
        let mut m = AmiMessage::event("VarSet");
        for (k, v) in fields {
            m.push(&k, &v);
        }
        m
    })
}

proptest! {
    #[test]
    fn get_each_answers_what_get_answers(
        m in message(),
        a in key(),
        b in key(),
        c in key(),
        d in key(),
    ) {
        let each = m.get_each([a.as_str(), b.as_str(), c.as_str(), d.as_str()]);
        prop_assert_eq!(each, [m.get(&a), m.get(&b), m.get(&c), m.get(&d)]);
    }
}

#[test]
fn get_each_answers_what_get_answers_on_the_busy_recording() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/08-busy-load.txt"
    ))
    .unwrap();
    let chunks = transcript::parse(&data).unwrap();
    let bytes = transcript::stream(&chunks, "main", Direction::ServerToClient);
    let mut buf = BytesMut::from(&bytes[..]);
    let mut codec = AmiCodec::client();
    let keys = ["Uniqueid", "Channel", "DestUniqueid", "DestChannel"];
    let mut messages = 0;
    let mut with_dest = 0;
    while let Some(frame) = codec.decode(&mut buf).unwrap() {
        let AmiFrame::Message(m) = frame else {
            continue;
        };
        let each = m.get_each(keys);
        assert_eq!(each, keys.map(|k| m.get(k)), "{m:?}");
        messages += 1;
        with_dest += usize::from(each[2].is_some());
    }
    assert!(messages > 7_000, "{messages}");
    assert!(with_dest > 100, "{with_dest}");
}
