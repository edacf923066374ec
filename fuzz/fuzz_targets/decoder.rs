//! Fuzz target: the AMI decoder on arbitrary bytes, cut into arbitrary chunks, in both modes.
//! It must never panic, never hold more than the cap plus one chunk, and never return a message
//! with more fields than the cap allows. Run with `cargo fuzz run decoder` (nightly).

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

use pbxis_ws::ami::{AmiCodec, AmiFrame};

const CAP: usize = 1024;
const FIELDS: usize = 32;

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let codec = if control & 1 == 0 {
        AmiCodec::client()
    } else {
        AmiCodec::server()
    };
    let mut codec = codec.with_limits(CAP, FIELDS);
    let chunk = usize::from(control >> 1).max(1);
    let mut buf = BytesMut::new();
    for piece in bytes.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            if let AmiFrame::Message(m) = frame {
                assert!(m.len() <= FIELDS + 1, "{} fields", m.len());
            }
        }
        assert!(buf.len() <= CAP + chunk, "buffer holds {} bytes", buf.len());
    }
    let _ = codec.decode_eof(&mut buf);
});
