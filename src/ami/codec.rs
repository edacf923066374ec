//! Bytes ⇄ AMI frames, no I/O: a `tokio_util` [`Decoder`]/[`Encoder`] pair.
//!
//! Decoding: the banner line (`Asterisk Call Manager/x.y.z`, no blank line after it, expected
//! first in client mode), then `Key: Value` lines ended by CRLF or a bare LF, a blank line ending
//! each message; Asterisk 13's `Response: Follows` command output is read up to its
//! `--END COMMAND--` marker and turned into `Output:` fields, like the newer format. Bytes that are
//! not UTF-8 are decoded lossily. A message larger than the caps is skipped up to its terminator
//! and reported as [`AmiFrame::Oversized`], so the connection recovers and memory stays bounded.
//!
//! Encoding: every key and value is checked first; a CR, LF or NUL anywhere is refused with
//! [`CodecError::Injection`]. This is the one place all AMI output passes through, so no caller can
//! inject a header or a whole action. In client mode Asterisk's own input limits (a line of at most
//! 1024 bytes, at most 128 lines) are enforced too, since Asterisk would otherwise drop the action.

use bytes::{Buf, BufMut, BytesMut};
use std::ops::Range;
use tokio_util::codec::{Decoder, Encoder};

use super::message::AmiMessage;

/// Default cap on one decoded message, in bytes (Asterisk output lines have no length limit, so
/// this is far above 64 KiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Default cap on the fields of one decoded message.
pub const DEFAULT_MAX_FIELDS: usize = 16 * 1024;
/// Asterisk's input buffer holds one line of at most this many bytes (line end included).
pub const ASTERISK_MAX_LINE: usize = 1024;
/// Asterisk reads at most this many lines per action (`AST_MAX_MANHEADERS`).
pub const ASTERISK_MAX_LINES: usize = 128;

const END_COMMAND: &str = "--END COMMAND--";

/// One decoded unit of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmiFrame {
    /// The banner line, e.g. `Asterisk Call Manager/11.0.0` (client mode, first frame only).
    Banner(String),
    /// A complete message.
    Message(AmiMessage),
    /// A message over the caps was skipped; `bytes` were discarded. The stream goes on.
    Oversized {
        /// How many bytes were thrown away.
        bytes: usize,
    },
}

/// Codec errors.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// A key or value holds CR, LF or NUL: writing it would inject AMI.
    #[error("refused to send field {key:?}: its {part} contains a CR, LF or NUL character")]
    Injection {
        /// The offending key (as given, with control characters escaped by `Debug`).
        key: String,
        /// `"key"` or `"value"`.
        part: &'static str,
    },
    /// A key that is empty, holds a colon or a control character.
    #[error(
        "refused to send field {key:?}: a key must be non-empty, without ':' or control characters"
    )]
    InvalidKey {
        /// The offending key.
        key: String,
    },
    /// A line longer than Asterisk accepts.
    #[error("refused to send field {key:?}: the line is longer than Asterisk's {ASTERISK_MAX_LINE} bytes")]
    LineTooLong {
        /// The key of the long line.
        key: String,
    },
    /// More lines than Asterisk accepts in one action.
    #[error(
        "refused to send an action of {lines} lines: Asterisk reads at most {ASTERISK_MAX_LINES}"
    )]
    TooManyLines {
        /// How many lines the action had.
        lines: usize,
    },
    /// A socket error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Which side of the connection this codec serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// We are the client: expect a banner, enforce Asterisk's input limits on what we send.
    Client,
    /// We are the server (the simulator): no banner to read, no action limits on output.
    Server,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Banner,
    Messages,
    /// Discarding an oversized message up to its terminator; the count so far.
    Skipping(usize),
}

/// The AMI codec. See the module documentation.
#[derive(Debug)]
pub struct AmiCodec {
    side: Side,
    state: State,
    max_message_bytes: usize,
    max_fields: usize,
    /// Where to resume scanning for the terminator in the buffered bytes.
    scan: usize,
    /// Start of the line being scanned, relative to the buffer.
    line_start: usize,
    /// Lines seen so far in the message being scanned.
    lines: usize,
    /// Scanning a `Response: Follows` body (ends at `--END COMMAND--`).
    follows: bool,
}

impl AmiCodec {
    /// A codec for the client side (reads a banner first).
    pub fn client() -> Self {
        Self::new(Side::Client)
    }

    /// A codec for the server side (the simulator).
    pub fn server() -> Self {
        Self::new(Side::Server)
    }

    fn new(side: Side) -> Self {
        Self {
            side,
            state: if side == Side::Client {
                State::Banner
            } else {
                State::Messages
            },
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_fields: DEFAULT_MAX_FIELDS,
            scan: 0,
            line_start: 0,
            lines: 0,
            follows: false,
        }
    }

    /// Sets the caps on one decoded message (bytes, fields).
    pub fn with_limits(mut self, max_message_bytes: usize, max_fields: usize) -> Self {
        self.max_message_bytes = max_message_bytes.max(64);
        self.max_fields = max_fields.max(1);
        self
    }

    /// The cap on one decoded message, in bytes.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    fn reset_scan(&mut self) {
        self.scan = 0;
        self.line_start = 0;
        self.lines = 0;
        self.follows = false;
    }

    fn decode_banner(&mut self, src: &mut BytesMut) -> Option<AmiFrame> {
        let Some(nl) = memchr::memchr(b'\n', src) else {
            // A peer that never ends its first line: bounded like any message.
            if src.len() > self.max_message_bytes {
                let bytes = src.len();
                src.clear();
                return Some(AmiFrame::Oversized { bytes });
            }
            return None;
        };
        let line = src.split_to(nl + 1);
        self.state = State::Messages;
        Some(AmiFrame::Banner(
            trim_line(&String::from_utf8_lossy(&line)).to_owned(),
        ))
    }

    /// Skips bytes until a blank line; returns the frame when the terminator was found.
    fn skip(&mut self, src: &mut BytesMut, mut skipped: usize) -> Option<AmiFrame> {
        loop {
            let Some(nl) = memchr::memchr(b'\n', &src[self.line_start..]) else {
                // Keep only the partial line (bounded: drop it too once it is over the cap).
                let keep = src.len() - self.line_start;
                let drop = if keep > self.max_message_bytes {
                    src.len()
                } else {
                    self.line_start
                };
                skipped += drop;
                src.advance(drop);
                self.line_start = 0;
                self.state = State::Skipping(skipped);
                return None;
            };
            let end = self.line_start + nl;
            let blank = is_blank(&src[self.line_start..end]);
            self.line_start = end + 1;
            if blank {
                skipped += self.line_start;
                src.advance(self.line_start);
                self.reset_scan();
                self.state = State::Messages;
                return Some(AmiFrame::Oversized { bytes: skipped });
            }
        }
    }

    fn oversized(&mut self, src: &mut BytesMut) -> Option<AmiFrame> {
        // Drop every complete line scanned so far; keep scanning from the current line.
        let drop = self.line_start;
        src.advance(drop);
        self.line_start = 0;
        self.scan = 0;
        self.lines = 0;
        self.follows = false;
        self.skip(src, drop)
    }

    /// Scans for the end of the next message; returns its length (terminator included), or
    /// `Err` when the message grew over the caps before its end was seen.
    fn find_end(&mut self, src: &mut BytesMut) -> Result<Option<usize>, ()> {
        loop {
            let Some(nl) = memchr::memchr(b'\n', &src[self.scan..]) else {
                self.scan = src.len();
                if src.len() > self.max_message_bytes {
                    return Err(());
                }
                return Ok(None);
            };
            let end = self.scan + nl;
            let line = &src[self.line_start..end];
            self.scan = end + 1;
            self.line_start = end + 1;
            if self.lines == 0 && is_blank(line) {
                // A stray empty line between messages (after Park's "successful\n", or after
                // `--END COMMAND--`): skip it.
                src.advance(end + 1);
                self.reset_scan();
                continue;
            }
            self.lines += 1;
            let done = if self.lines == 1 {
                self.follows = starts_follows(line);
                false
            } else if self.follows {
                trim_bytes(line).ends_with(END_COMMAND.as_bytes())
            } else {
                is_blank(line)
            };
            if done {
                return Ok(Some(end + 1));
            }
            if end + 1 > self.max_message_bytes || self.lines > self.max_fields {
                return Err(());
            }
        }
    }
}

impl Default for AmiCodec {
    fn default() -> Self {
        Self::client()
    }
}

impl Decoder for AmiCodec {
    type Item = AmiFrame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<AmiFrame>, CodecError> {
        match self.state {
            State::Banner => return Ok(self.decode_banner(src)),
            State::Skipping(n) => {
                if let Some(frame) = self.skip(src, n) {
                    return Ok(Some(frame));
                }
                return Ok(None);
            }
            State::Messages => {}
        }
        match self.find_end(src) {
            Ok(None) => Ok(None),
            Ok(Some(len)) if len > self.max_message_bytes || self.lines > self.max_fields + 1 => {
                src.advance(len);
                self.reset_scan();
                Ok(Some(AmiFrame::Oversized { bytes: len }))
            }
            Ok(Some(len)) => {
                let bytes = src.split_to(len);
                self.reset_scan();
                Ok(Some(AmiFrame::Message(parse_message(&bytes, self.side))))
            }
            Err(()) => Ok(self.oversized(src)),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<AmiFrame>, CodecError> {
        self.finish(src)
    }
}

impl AmiCodec {
    /// At end of stream a partial message is dropped (the peer went away in the middle of it).
    fn finish(&mut self, src: &mut BytesMut) -> Result<Option<AmiFrame>, CodecError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        src.clear();
        self.reset_scan();
        Ok(None)
    }
}

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

fn is_blank(line: &[u8]) -> bool {
    line.is_empty() || line == b"\r"
}

fn trim_bytes(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

fn trim_line(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

fn starts_follows(line: &[u8]) -> bool {
    let line = trim_bytes(line);
    line.len() >= 9
        && line[..9].eq_ignore_ascii_case(b"response:")
        && trim_ascii(&line[9..]).eq_ignore_ascii_case(b"follows")
}

fn is_follows_header(line: &str) -> bool {
    let key = line.split(':').next().unwrap_or("");
    line.contains(':')
        && (key.eq_ignore_ascii_case("Privilege") || key.eq_ignore_ascii_case("ActionID"))
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Parses the bytes of one complete message (terminator included).
///
/// After the colon, the client side (reading what Asterisk wrote as `Key: Value`) drops exactly
/// one space, so that indented command output survives; the server side drops every leading
/// blank, as Asterisk's own parser does with what clients send.
fn parse_message(bytes: &[u8], side: Side) -> AmiMessage {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    let mut ranges: Vec<(Range<usize>, Range<usize>)> = Vec::with_capacity(24);
    let mut follows = false;
    // Right after `Response: Follows` come `Privilege:` and `ActionID:` headers, then raw output.
    let mut header_phase = true;
    let mut pos = 0;
    let b = text.as_bytes();
    while pos < b.len() {
        let end = memchr::memchr(b'\n', &b[pos..]).map_or(b.len(), |n| pos + n);
        let mut line_end = end;
        if line_end > pos && b[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let line = pos..line_end;
        pos = end + 1;
        if follows && !(header_phase && is_follows_header(&text[line.clone()])) {
            header_phase = false;
            let s = &text[line.clone()];
            if let Some(before) = s.strip_suffix(END_COMMAND) {
                if !before.is_empty() {
                    ranges.push((0..0, line.start..line.start + before.len()));
                }
                follows = false;
                continue;
            }
            ranges.push((0..0, line));
            continue;
        }
        if line.is_empty() {
            continue;
        }
        match memchr::memchr(b':', &b[line.clone()]) {
            Some(colon) => {
                let key = line.start..line.start + colon;
                let mut vstart = key.end + 1;
                match side {
                    Side::Client => {
                        if vstart < line.end && b[vstart] == b' ' {
                            vstart += 1;
                        }
                    }
                    Side::Server => {
                        while vstart < line.end && matches!(b[vstart], b' ' | b'\t') {
                            vstart += 1;
                        }
                    }
                }
                if ranges.is_empty() && starts_follows(&b[line.clone()]) {
                    follows = true;
                }
                ranges.push((key, vstart..line.end));
            }
            None => ranges.push((line.clone(), line.end..line.end)),
        }
    }
    if ranges.iter().any(|(k, _)| k.is_empty()) {
        return with_output_keys(text, ranges);
    }
    AmiMessage::from_parts(text, ranges)
}

/// Command output lines (recorded with an empty key range) become `Output` fields.
fn with_output_keys(text: String, ranges: Vec<(Range<usize>, Range<usize>)>) -> AmiMessage {
    let mut msg = AmiMessage::new();
    for (k, v) in ranges {
        let value = &text[v];
        if k.is_empty() {
            msg.push("Output", value);
        } else {
            msg.push(&text[k], value);
        }
    }
    msg
}

#[cfg(test)]
mod tests;
