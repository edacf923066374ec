//! Writing AMI messages: the checks every message passes before a byte of it is written (no CR,
//! LF or NUL in any key or value; valid keys; Asterisk's input limits on the client side), and
//! the writer itself, which is private so that nothing can skip the checks.

use bytes::{BufMut, BytesMut};
use tokio_util::codec::Encoder;

use super::{AmiCodec, CodecError, Side, ASTERISK_MAX_LINE, ASTERISK_MAX_LINES};
use crate::ami::message::AmiMessage;

impl Encoder<&AmiMessage> for AmiCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: &AmiMessage, dst: &mut BytesMut) -> Result<(), CodecError> {
        check(msg, self.side)?;
        write_message(msg, dst);
        Ok(())
    }
}

impl Encoder<AmiMessage> for AmiCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: AmiMessage, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&msg, dst)
    }
}

/// Checks that `msg` can be written safely: no CR, LF or NUL anywhere, valid keys, and (client
/// side) within Asterisk's input limits. Nothing is written when this fails.
pub fn check(msg: &AmiMessage, side: Side) -> Result<(), CodecError> {
    if side == Side::Client && msg.len() + 1 > ASTERISK_MAX_LINES {
        return Err(CodecError::TooManyLines {
            lines: msg.len() + 1,
        });
    }
    for (k, v) in msg.fields() {
        if k.bytes().any(is_line_breaking) {
            return Err(CodecError::Injection {
                key: k.to_owned(),
                part: "key",
            });
        }
        if k.is_empty() || k.contains(':') || k.chars().any(char::is_control) || k.trim() != k {
            return Err(CodecError::InvalidKey { key: k.to_owned() });
        }
        if v.bytes().any(is_line_breaking) {
            return Err(CodecError::Injection {
                key: k.to_owned(),
                part: "value",
            });
        }
        if side == Side::Client && k.len() + 2 + v.len() + 2 > ASTERISK_MAX_LINE {
            return Err(CodecError::LineTooLong { key: k.to_owned() });
        }
    }
    Ok(())
}

/// Writes a checked message. Private: every path to the wire goes through [`check`] first.
fn write_message(msg: &AmiMessage, dst: &mut BytesMut) {
    let size: usize = msg
        .fields()
        .map(|(k, v)| k.len() + v.len() + 4)
        .sum::<usize>()
        + 2;
    dst.reserve(size);
    for (k, v) in msg.fields() {
        dst.put_slice(k.as_bytes());
        dst.put_slice(b": ");
        dst.put_slice(v.as_bytes());
        dst.put_slice(b"\r\n");
    }
    dst.put_slice(b"\r\n");
}

fn is_line_breaking(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | 0)
}
