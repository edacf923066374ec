//! Bytes ⇄ AMI frames, no I/O: a `tokio_util` [`Decoder`]/[`Encoder`](tokio_util::codec::Encoder) pair.
//!
//! Decoding: the banner line (`Asterisk Call Manager/x.y.z`, no blank line after it, expected
//! first in client mode), then `Key: Value` lines ended by CRLF or a bare LF, a blank line ending
//! each message; Asterisk 13's `Response: Follows` command output is read up to its
//! `--END COMMAND--` marker and turned into `Output:` fields, like the newer format. Bytes that are
//! not UTF-8 are decoded lossily. A message larger than the caps is skipped up to its terminator
//! and reported as [`AmiFrame::Oversized`], so the connection recovers and memory stays bounded.
//! Fields are split while the end of a message is searched, so the bytes of an ordinary message
//! are scanned once and copied once (command output and odd lines go through the full parser).
//!
//! Encoding: every key and value is checked first; a CR, LF or NUL anywhere is refused with
//! [`CodecError::Injection`]. This is the one place all AMI output passes through, so no caller can
//! inject a header or a whole action. In client mode Asterisk's own input limits (a line of at most
//! 1024 bytes, at most 128 lines) are enforced too, since Asterisk would otherwise drop the action.

use bytes::{Buf, BytesMut};
use tokio_util::codec::Decoder;

use super::message::{to_u32, AmiMessage, Field};

mod encode;
mod parse;

pub use encode::check;
use parse::{is_blank, parse_message, split_field, starts_follows, trim_bytes, trim_line};

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
    /// The fields of the message being scanned, split as its lines are found (offsets from the
    /// start of the buffer), so that a complete message is not read a second time. Kept between
    /// messages (its capacity is reused); bounded by the field cap.
    spans: Vec<Field>,
    /// False when the message needs the full parser: command output, or a key that is empty.
    plain: bool,
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
            spans: Vec::new(),
            plain: true,
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
        self.spans.clear();
        self.plain = true;
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
        self.spans.clear();
        self.plain = true;
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
            let start = self.line_start;
            let line = &src[start..end];
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
            if self.follows {
                self.plain = false;
            } else if self.plain && self.lines <= self.max_fields {
                self.split(src, start, end);
            }
            if end + 1 > self.max_message_bytes || self.lines > self.max_fields {
                return Err(());
            }
        }
    }
}

impl AmiCodec {
    /// Records the field of the line that ends at `end` (its line feed).
    /// Records the field of the line `src[start..end]` (`end` is its line feed).
    fn split(&mut self, src: &[u8], start: usize, end: usize) {
        let mut line_end = end;
        if line_end > start && src[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let (key, value) = split_field(src, start..line_end, self.side);
        if key.is_empty() {
            // The full parser names such a line `Output`.
            self.plain = false;
            return;
        }
        self.spans.push(Field {
            key: (to_u32(key.start), to_u32(key.end)),
            value: (to_u32(value.start), to_u32(value.end)),
        });
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
                let bytes = &src[..len];
                let msg = match std::str::from_utf8(bytes) {
                    // Every split is at an ASCII byte, so the spans are on character boundaries.
                    Ok(text) if self.plain => AmiMessage::from_spans(text.to_owned(), &self.spans),
                    _ => parse_message(bytes, self.side),
                };
                src.advance(len);
                self.reset_scan();
                Ok(Some(AmiFrame::Message(msg)))
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

#[cfg(test)]
mod tests;
