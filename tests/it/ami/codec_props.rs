//! Property tests of the AMI codec: encode→decode round trip, any chunking of a byte stream gives
//! the same messages, and arbitrary bytes never panic nor grow the buffer past the cap. Also the
//! framing cases behind the verdict on the crate `asterisk-rs-ami` (see `ami::client`), checked
//! on the same bytes with both codecs.

use bytes::BytesMut;
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

use pbxis_ws::ami::transcript::{self, Direction};
use pbxis_ws::ami::{AmiCodec, AmiFrame, AmiMessage, CodecError};

fn decode_all(codec: &mut AmiCodec, buf: &mut BytesMut) -> Vec<AmiFrame> {
    let mut out = Vec::new();
    while let Some(frame) = codec.decode(buf).expect("decoding never fails") {
        out.push(frame);
    }
    out
}

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_()-]{0,15}"
}

/// Any text without CR, LF or NUL (the only characters the encoder refuses in a value).
fn value() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        any::<char>().prop_filter("no line breakers", |c| !matches!(c, '\r' | '\n' | '\0')),
        0..40,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn event() -> impl Strategy<Value = AmiMessage> {
    (
        "[A-Za-z]{1,20}",
        proptest::collection::vec((key(), value()), 0..20),
    )
        .prop_map(|(name, fields)| {
            let mut m = AmiMessage::event(&name);
            for (k, v) in fields {
                m.push(&k, &v);
            }
            m
        })
}

/// The busy transcript's server stream, for the chunking property.
fn busy_stream() -> Vec<u8> {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/08-busy-load.txt"
    ))
    .unwrap();
    let chunks = transcript::parse(&data).unwrap();
    let mut s = transcript::stream(&chunks, "main", Direction::ServerToClient);
    s.truncate(120_000);
    s
}

/// Makes random bytes look more like AMI: many line ends, colons and blanks.
fn structural(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&b| match b % 16 {
            0 => b'\n',
            1 => b'\r',
            2 => b':',
            3 => b' ',
            _ => b,
        })
        .collect()
}

fn messages(frames: Vec<AmiFrame>) -> Vec<AmiMessage> {
    frames
        .into_iter()
        .filter_map(|f| match f {
            AmiFrame::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_then_decode_gives_the_same_messages(events in proptest::collection::vec(event(), 1..8)) {
        let mut server = AmiCodec::server();
        let mut wire = BytesMut::from(&b"Asterisk Call Manager/11.0.0\r\n"[..]);
        for e in &events {
            server.encode(e, &mut wire).unwrap();
        }
        let mut client = AmiCodec::client();
        let frames = decode_all(&mut client, &mut wire);
        prop_assert_eq!(&frames[0], &AmiFrame::Banner("Asterisk Call Manager/11.0.0".into()));
        prop_assert_eq!(messages(frames), events);
        prop_assert!(wire.is_empty());
    }

    #[test]
    fn a_value_with_a_line_breaker_is_refused_and_nothing_is_written(
        before in value(), after in value(), breaker in prop::sample::select(vec!['\r', '\n', '\0'])
    ) {
        let bad = format!("{before}{breaker}{after}");
        let action = AmiMessage::action("QueuePause").with("Reason", &bad);
        let mut out = BytesMut::new();
        let result = AmiCodec::client().encode(&action, &mut out);
        prop_assert!(
            matches!(result, Err(CodecError::Injection { .. })),
            "{:?}",
            result
        );
        prop_assert!(out.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_under_the_cap(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..40),
        client in any::<bool>(),
    ) {
        const CAP: usize = 512;
        let codec = if client { AmiCodec::client() } else { AmiCodec::server() };
        let mut codec = codec.with_limits(CAP, 16);
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&structural(&chunk));
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                if let AmiFrame::Message(m) = frame {
                    prop_assert!(m.len() <= 17, "{} fields", m.len());
                }
            }
            prop_assert!(buf.len() <= CAP + 300, "buffer holds {} bytes", buf.len());
        }
        let _ = codec.decode_eof(&mut buf).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_chunking_gives_the_same_messages(cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..64)) {
        let stream = busy_stream();
        let whole = decode_all(&mut AmiCodec::client(), &mut BytesMut::from(&stream[..]));
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len())).collect();
        points.push(stream.len());
        points.sort_unstable();
        let mut codec = AmiCodec::client();
        let mut buf = BytesMut::new();
        let mut pieces = Vec::new();
        let mut from = 0;
        for to in points {
            buf.extend_from_slice(&stream[from..to]);
            from = to;
            pieces.extend(decode_all(&mut codec, &mut buf));
        }
        prop_assert_eq!(pieces, whole);
    }
}

/// Decodes `bytes` (banner included) with `asterisk-rs-ami`: the messages, or the error.
fn theirs(bytes: &[u8]) -> Result<usize, String> {
    let mut codec = asterisk_rs_ami::AmiCodec::new();
    let mut buf = BytesMut::from(bytes);
    let mut n = 0;
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(_)) => n += 1,
            Ok(None) => return Ok(n),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn ours(bytes: &[u8]) -> Vec<AmiMessage> {
    messages(decode_all(
        &mut AmiCodec::client(),
        &mut BytesMut::from(bytes),
    ))
}

#[test]
fn verdict_asterisk_13_command_output_ending_in_a_bare_lf() {
    let wire = b"Asterisk Call Manager/2.10.6\r\nResponse: Follows\r\nPrivilege: Command\r\nActionID: 1\r\nline one\nline two\n--END COMMAND--\r\n\r\nEvent: After\r\n\r\n";
    let decoded = ours(wire);
    assert_eq!(decoded.len(), 2);
    assert_eq!(
        decoded[0].get_all("Output").collect::<Vec<_>>(),
        ["line one", "line two"]
    );
    assert_eq!(
        theirs(wire),
        Ok(0),
        "asterisk-rs-ami waits for a \\r\\n--END COMMAND--"
    );
}

#[test]
fn verdict_bare_lf_messages() {
    let wire = b"Asterisk Call Manager/11.0.0\r\nEvent: X\nA: b\n\nEvent: Y\n\n";
    assert_eq!(ours(wire).len(), 2);
    assert_eq!(
        theirs(wire),
        Ok(0),
        "asterisk-rs-ami ends messages only on CRLF CRLF"
    );
}

#[test]
fn verdict_a_message_over_64_kib() {
    let mut wire = b"Asterisk Call Manager/11.0.0\r\nEvent: VarSet\r\nValue: ".to_vec();
    wire.resize(wire.len() + 70 * 1024, b'x');
    wire.extend_from_slice(b"\r\n\r\nEvent: Next\r\n\r\n");
    assert_eq!(ours(&wire).len(), 2, "long lines are valid AMI");
    assert!(
        theirs(&wire).is_err(),
        "asterisk-rs-ami fails the whole stream"
    );
}

#[test]
fn verdict_every_transcript_decodes_alike_with_both_codecs() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let chunks = transcript::parse(&std::fs::read(&file).unwrap()).unwrap();
        let mut conns: Vec<_> = chunks.iter().map(|c| c.conn.clone()).collect();
        conns.sort();
        conns.dedup();
        for conn in conns {
            let wire = transcript::stream(&chunks, &conn, Direction::ServerToClient);
            let n = ours(&wire).len();
            assert!(n > 0, "{file:?} {conn}");
            assert_eq!(theirs(&wire), Ok(n), "{file:?} conn={conn}");
        }
    }
}
