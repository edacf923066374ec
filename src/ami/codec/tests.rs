//! Unit tests of the codec: framing corner cases and the recorded transcripts.

use super::*;
use crate::ami::transcript::{self, Direction};
use tokio_util::codec::Encoder;

fn decode_all(codec: &mut AmiCodec, bytes: &[u8]) -> Vec<AmiFrame> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = codec.decode(&mut buf).unwrap() {
        out.push(f);
    }
    if let Some(f) = codec.decode_eof(&mut buf).unwrap() {
        out.push(f);
    }
    out
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

#[test]
fn banner_then_messages_with_crlf_and_bare_lf() {
    let mut c = AmiCodec::client();
    let frames = decode_all(
        &mut c,
        b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nMessage: ok\r\n\r\nEvent: X\nA:b\nC:   d\n\n",
    );
    assert_eq!(
        frames[0],
        AmiFrame::Banner("Asterisk Call Manager/11.0.0".into())
    );
    let msgs = messages(frames);
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].message(), Some("ok"));
    assert_eq!(msgs[1].get("a"), Some("b"));
    assert_eq!(
        msgs[1].get("C"),
        Some("  d"),
        "one space after the colon is the separator"
    );
    let mut s = AmiCodec::server();
    let actions = messages(decode_all(
        &mut s,
        b"Action: Login\r\nUsername:   pbxis\r\n\r\n",
    ));
    assert_eq!(
        actions[0].get("Username"),
        Some("pbxis"),
        "Asterisk skips all leading blanks"
    );
}

#[test]
fn empty_values_and_stray_blank_lines() {
    let mut c = AmiCodec::server();
    let msgs = messages(decode_all(
        &mut c,
        b"\r\n\r\nEvent: X\r\nAccountCode: \r\n\r\nResponse: Success\r\nMessage: Park successful\n\r\n\r\nEvent: Y\r\n\r\n",
    ));
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0].get("AccountCode"), Some(""));
    assert_eq!(msgs[1].message(), Some("Park successful"));
    assert!(msgs[2].is_event("Y"));
}

#[test]
fn old_command_output_becomes_output_fields() {
    let mut c = AmiCodec::server();
    let raw = b"Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\nline one\nKey: looks like a header\n\nlast--END COMMAND--\r\n\r\nEvent: After\r\n\r\n";
    let msgs = messages(decode_all(&mut c, raw));
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0].action_id(), Some("7"));
    let out: Vec<_> = msgs[0].get_all("Output").collect();
    assert_eq!(
        out,
        vec!["line one", "Key: looks like a header", "", "last"]
    );
    assert!(msgs[1].is_event("After"));
}

#[test]
fn non_utf8_is_decoded_lossily() {
    let mut c = AmiCodec::server();
    let msgs = messages(decode_all(
        &mut c,
        b"Event: X\r\nCallerIDName: Ana \xff\xfe\r\n\r\n",
    ));
    assert_eq!(msgs[0].get("CallerIDName"), Some("Ana \u{fffd}\u{fffd}"));
}

#[test]
fn oversized_message_is_skipped_and_the_stream_recovers() {
    let mut c = AmiCodec::server().with_limits(100, 10);
    let mut raw = b"Event: Big\r\n".to_vec();
    for i in 0..50 {
        raw.extend_from_slice(format!("K{i}: vvvvvvvvvv\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\nEvent: Small\r\n\r\n");
    let frames = decode_all(&mut c, &raw);
    assert!(
        matches!(frames[0], AmiFrame::Oversized { .. }),
        "{frames:?}"
    );
    let msgs = messages(frames);
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].is_event("Small"));
}

#[test]
fn one_long_line_without_terminator_stays_bounded() {
    let mut c = AmiCodec::server().with_limits(1000, 10);
    let mut buf = BytesMut::new();
    for _ in 0..100 {
        buf.extend_from_slice(&[b'x'; 500]);
        assert!(c.decode(&mut buf).unwrap().is_none());
        assert!(buf.len() <= 1500, "buffer grew to {}", buf.len());
    }
    buf.extend_from_slice(b"\r\n\r\nEvent: Next\r\n\r\n");
    let first = c.decode(&mut buf).unwrap();
    assert!(
        matches!(first, Some(AmiFrame::Oversized { .. })),
        "{first:?}"
    );
    let next = c.decode(&mut buf).unwrap();
    assert!(
        matches!(next, Some(AmiFrame::Message(ref m)) if m.is_event("Next")),
        "{next:?}"
    );
}

#[test]
fn encoder_refuses_injection_and_writes_nothing() {
    let mut c = AmiCodec::client();
    let mut dst = BytesMut::new();
    for (k, v) in [
        ("CallerID", "x\r\nAction: Originate"),
        ("CallerID", "x\nAction: Originate"),
        ("CallerID", "x\rA"),
        ("CallerID", "x\0A"),
        ("Caller\nID", "x"),
    ] {
        let m = AmiMessage::action("Originate").with(k, v);
        assert!(c.encode(&m, &mut dst).is_err(), "{k:?} {v:?}");
    }
    for k in ["", "A:B", " A", "A\tB"] {
        let m = AmiMessage::action("Ping").with(k, "x");
        assert!(
            matches!(c.encode(&m, &mut dst), Err(CodecError::InvalidKey { .. })),
            "{k:?}"
        );
    }
    assert!(dst.is_empty());
}

#[test]
fn client_side_enforces_asterisk_input_limits() {
    let mut c = AmiCodec::client();
    let mut dst = BytesMut::new();
    let long = AmiMessage::action("Originate").with("CallerID", "x".repeat(1100));
    assert!(matches!(
        c.encode(&long, &mut dst),
        Err(CodecError::LineTooLong { .. })
    ));
    let mut many = AmiMessage::action("Originate");
    for i in 0..130 {
        many.push("Variable", &format!("v{i}=1"));
    }
    assert!(matches!(
        c.encode(&many, &mut dst),
        Err(CodecError::TooManyLines { .. })
    ));
    // The server side writes what Asterisk writes: no such limits.
    let mut s = AmiCodec::server();
    assert!(s.encode(&long, &mut dst).is_ok());
}

#[test]
fn encode_writes_crlf_lines_and_a_blank_line() {
    let mut c = AmiCodec::client();
    let mut dst = BytesMut::new();
    let m = AmiMessage::action("Ping").with("ActionID", "1");
    c.encode(&m, &mut dst).unwrap();
    assert_eq!(&dst[..], b"Action: Ping\r\nActionID: 1\r\n\r\n");
}

fn server_messages(file: &str, conn: &str) -> (Option<String>, Vec<AmiMessage>) {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).unwrap();
    let chunks = transcript::parse(&data).unwrap();
    let bytes = transcript::stream(&chunks, conn, Direction::ServerToClient);
    let mut c = AmiCodec::client();
    let frames = decode_all(&mut c, &bytes);
    let banner = match frames.first() {
        Some(AmiFrame::Banner(b)) => Some(b.clone()),
        _ => None,
    };
    assert!(!frames
        .iter()
        .any(|f| matches!(f, AmiFrame::Oversized { .. })));
    (banner, messages(frames))
}

fn count_events(msgs: &[AmiMessage], name: &str) -> usize {
    msgs.iter().filter(|m| m.is_event(name)).count()
}

#[test]
fn every_transcript_decodes_chunk_for_chunk() {
    // Each recorded S>C chunk is exactly one banner or one message: decoding the joined stream
    // must give as many frames as there are chunks.
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        files += 1;
        let chunks = transcript::parse(&std::fs::read(&path).unwrap()).unwrap();
        let mut conns: Vec<&str> = chunks.iter().map(|c| c.conn.as_str()).collect();
        conns.sort();
        conns.dedup();
        for conn in conns {
            for dir in [Direction::ServerToClient, Direction::ClientToServer] {
                let n = chunks
                    .iter()
                    .filter(|c| c.conn == conn && c.direction == dir)
                    .count();
                let bytes = transcript::stream(&chunks, conn, dir);
                let mut codec = if dir == Direction::ServerToClient {
                    AmiCodec::client()
                } else {
                    AmiCodec::server()
                };
                let frames = decode_all(&mut codec, &bytes);
                assert_eq!(frames.len(), n, "{path:?} conn={conn} {dir:?}");
            }
        }
    }
    assert_eq!(files, 14);
}

#[test]
fn login_transcript() {
    let (banner, msgs) = server_messages("01-login.txt", "plain");
    assert_eq!(banner.as_deref(), Some("Asterisk Call Manager/11.0.0"));
    assert_eq!(msgs[0].response_status(), Some("Error"));
    assert_eq!(msgs[0].message(), Some("Permission denied"));
    assert_eq!(msgs[1].message(), Some("Authentication accepted"));
    assert!(msgs[2].is_event("FullyBooted"));
    let (_, md5) = server_messages("01-login.txt", "md5");
    let challenge = md5[0].get("Challenge").unwrap();
    assert_eq!(challenge.len(), 9);
    assert!(challenge.bytes().all(|b| b.is_ascii_digit()));
}

#[test]
fn queue_status_transcript() {
    let (_, msgs) = server_messages("02-queue-status.txt", "main");
    assert!(count_events(&msgs, "QueueParams") >= 2);
    let member = msgs
        .iter()
        .find(|m| m.is_event("QueueMember") && m.get("PausedReason") == Some("lunch"))
        .unwrap();
    assert_eq!(member.get("Queue"), Some("q1"));
    assert_eq!(member.get("Paused"), Some("1"));
    let complete = msgs
        .iter()
        .find(|m| m.is_event("QueueStatusComplete"))
        .unwrap();
    assert_eq!(complete.get("EventList"), Some("Complete"));
    let entry = msgs.iter().find(|m| m.is_event("QueueEntry")).unwrap();
    assert_eq!(entry.get("Queue"), Some("q2"));
}

#[test]
fn misc_transcript_command_output_and_repeated_variables() {
    let (_, msgs) = server_messages("07-misc-actions.txt", "main");
    let cmd = msgs
        .iter()
        .find(|m| m.action_id() == Some("main-27"))
        .unwrap();
    assert_eq!(cmd.message(), Some("Command output follows"));
    assert!(cmd.get_all("Output").count() > 3);
    assert!(cmd
        .get_all("Output")
        .nth(1)
        .unwrap()
        .starts_with("   Members:"));
    let status = msgs
        .iter()
        .find(|m| m.is_event("Status") && m.get_all("Variable").count() > 1);
    assert!(status.is_some());
}

#[test]
fn busy_transcript_counts() {
    let (_, msgs) = server_messages("08-busy-load.txt", "main");
    assert_eq!(count_events(&msgs, "QueueCallerJoin"), 31);
    assert_eq!(count_events(&msgs, "AgentComplete"), 23);
    assert_eq!(count_events(&msgs, "QueueCallerAbandon"), 8);
    assert_eq!(count_events(&msgs, "AgentRingNoAnswer"), 22);
    let agent_hangups = msgs
        .iter()
        .filter(|m| m.is_event("AgentComplete") && m.get("Reason") == Some("agent"))
        .count();
    assert_eq!(agent_hangups, 16);
    // The AgentComplete without any caller-side field (t≈182.9).
    assert!(msgs
        .iter()
        .any(|m| m.is_event("AgentComplete") && !m.has("Channel") && m.has("DestChannel")));
}

#[test]
fn a_banner_without_line_end_stays_bounded() {
    let mut c = AmiCodec::client().with_limits(1000, 10);
    let mut buf = BytesMut::new();
    let mut oversized = 0;
    for _ in 0..10 {
        buf.extend_from_slice(&[b'x'; 400]);
        if let Some(AmiFrame::Oversized { .. }) = c.decode(&mut buf).unwrap() {
            oversized += 1;
        }
        assert!(buf.len() <= 1400, "buffer grew to {}", buf.len());
    }
    assert!(oversized >= 1);
}

#[test]
fn park_answer_with_a_bare_line_feed_inside_its_message() {
    // Asterisk 22 answers `Park` with `Message: Park successful\n\r\n\r\n` (10-park.txt): a bare
    // LF ends the value's line, then the CRLF blank line ends the message, then one more CRLF.
    let path = format!("{}/tests/fixtures/10-park.txt", env!("CARGO_MANIFEST_DIR"));
    let chunks = transcript::parse(&std::fs::read(&path).unwrap()).unwrap();
    let main: Vec<&transcript::Chunk> = chunks
        .iter()
        .filter(|c| c.conn == "main" && c.direction == Direction::ServerToClient)
        .collect();
    let at = main
        .iter()
        .position(|c| c.bytes.ends_with(b"Park successful\n\r\n\r\n"))
        .expect("the recorded Park answer");
    // The real bytes (the banner, the answer and the message after it), fed whole and one byte
    // at a time.
    let mut bytes = main[0].bytes.clone();
    bytes.extend_from_slice(&main[at].bytes);
    bytes.extend_from_slice(&main[at + 1].bytes);
    let whole = messages(decode_all(&mut AmiCodec::client(), &bytes));
    let mut c = AmiCodec::client();
    let mut buf = BytesMut::new();
    let mut bytewise = Vec::new();
    for b in &bytes {
        buf.extend_from_slice(&[*b]);
        while let Some(AmiFrame::Message(m)) = c.decode(&mut buf).unwrap() {
            bytewise.push(m);
        }
    }
    for msgs in [whole, bytewise] {
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert_eq!(msgs[0].response_status(), Some("Success"));
        assert_eq!(msgs[0].message(), Some("Park successful"));
        assert_eq!(msgs[0].action_id(), Some("main-6"));
        assert_eq!(msgs[0].fields().count(), 3, "{:?}", msgs[0]);
        assert!(msgs[1].event_name().is_some(), "{:?}", msgs[1]);
    }
    let (_, all) = server_messages("10-park.txt", "main");
    let parks: Vec<_> = all
        .iter()
        .filter(|m| m.message() == Some("Park successful"))
        .collect();
    assert_eq!(parks.len(), 2);
}

/// The decoder splits fields while it looks for the end of a message; the full parser reads the
/// bytes of one message again. Both must agree on every message.
fn assert_split_matches_parser(bytes: &[u8], side: Side, what: &str) {
    let mut codec = AmiCodec::new(side);
    codec.state = State::Messages;
    let decoded = messages(decode_all(&mut codec, bytes));
    assert_eq!(decoded.len(), 1, "{what}: {decoded:?}");
    assert_eq!(decoded[0], parse_message(bytes, side), "{what}");
}

#[test]
fn the_split_while_scanning_matches_the_full_parser_on_every_recorded_message() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let chunks = transcript::parse(&std::fs::read(&path).unwrap()).unwrap();
        for c in &chunks {
            if c.bytes.starts_with(b"Asterisk Call Manager") {
                continue;
            }
            let side = match c.direction {
                Direction::ServerToClient => Side::Client,
                Direction::ClientToServer => Side::Server,
            };
            assert_split_matches_parser(&c.bytes, side, &format!("{path:?}"));
            checked += 1;
        }
    }
    assert!(checked > 7000, "{checked} messages");
}

#[test]
fn the_split_while_scanning_matches_the_full_parser_on_odd_lines() {
    let cases: [&[u8]; 7] = [
        b"Event: X\r\n:starts with a colon\r\nB: 2\r\n\r\n",
        b"Event: X\r\nno colon here\r\nEmpty:\r\n\r\n",
        b"Event: X\r\nKey:  two spaces\r\nTab:\tx\r\n\r\n",
        b"Event: X\nBare: lf\n\n",
        b"Event: X\r\nBad: \xff\xfe utf8\r\n\r\n",
        b"Event: X\r\nCR: inside\rvalue\r\n\r\r\n\r\n",
        b"Response: Follows\r\nPrivilege: Command\r\nline one\n--END COMMAND--\r\n\r\n",
    ];
    for bytes in cases {
        for side in [Side::Client, Side::Server] {
            assert_split_matches_parser(bytes, side, &String::from_utf8_lossy(bytes));
        }
    }
}
