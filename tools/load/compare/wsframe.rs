//! The lean WebSocket client's wire (RFC 6455), as light as the SSE one beside it: the opening
//! handshake written by hand, the `Sec-WebSocket-Accept` check, a frame reader that hands each
//! text message and ping to the caller without allocating per frame, and the masked pong a
//! client must answer a ping with. Nothing else of the protocol is needed to hold a subscriber.

use base64::Engine as _;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::wire::MAX_LINE;

/// Text frame opcode.
const TEXT: u8 = 0x1;
/// Continuation frame opcode.
const CONTINUATION: u8 = 0x0;
/// Close frame opcode.
const CLOSE: u8 = 0x8;
/// Ping frame opcode.
const PING: u8 = 0x9;
/// Pong frame opcode.
const PONG: u8 = 0xA;
/// Longest control frame payload (RFC 6455, 5.5).
const MAX_CONTROL: usize = 125;

/// The `Sec-WebSocket-Key` of subscriber `index`: 16 bytes, base64 (the key only has to differ
/// between connections in flight; it proves nothing).
pub fn key(index: usize) -> String {
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&(index as u64).to_be_bytes());
    raw[8..].copy_from_slice(b"pbxisws!");
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The opening handshake: `GET path` asking to switch to WebSocket.
pub fn handshake(host: &str, path: &str, key: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Checks a `101` response head (complete, up to its blank line) against the key sent.
pub fn check_accept(head: &[u8], key: &str) -> Result<(), String> {
    let head = String::from_utf8_lossy(head);
    let accept = head.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim().to_owned())
    });
    match accept {
        Some(accept) if accept == derive_accept_key(key.as_bytes()) => Ok(()),
        Some(accept) => Err(format!("a wrong Sec-WebSocket-Accept {accept:?}")),
        None => Err("a 101 without Sec-WebSocket-Accept".into()),
    }
}

/// A masked pong frame carrying `payload` (at most 125 bytes, as the ping's), appended to `out`.
pub fn pong(payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    let len = payload.len().min(MAX_CONTROL);
    out.push(0x80 | PONG);
    out.push(0x80 | len as u8);
    out.extend_from_slice(&mask);
    out.extend(
        payload[..len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4]),
    );
}

/// What the reader hands over.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole text message.
    Text(&'a [u8]),
    /// A ping and its payload.
    Ping(&'a [u8]),
    /// The server closed the stream.
    Close,
}

/// Splits a byte stream from the server into frames. Bytes are kept only while a frame is
/// incomplete (or a message fragmented), never beyond [`MAX_LINE`].
#[derive(Debug, Default)]
pub struct Frames {
    partial: Vec<u8>,
    /// The fragments of a text message so far.
    message: Vec<u8>,
    fragmented: bool,
}

impl Frames {
    /// Feeds bytes read; `on` gets each frame. `Err` on a malformed or oversized frame.
    pub fn feed(&mut self, input: &[u8], mut on: impl FnMut(Frame)) -> Result<(), String> {
        if self.partial.is_empty() {
            let used = self.frames(input, &mut on)?;
            self.partial.extend_from_slice(&input[used..]);
        } else {
            self.partial.extend_from_slice(input);
            let partial = std::mem::take(&mut self.partial);
            let used = self.frames(&partial, &mut on)?;
            self.partial = partial;
            self.partial.drain(..used);
        }
        if self.partial.is_empty() && self.partial.capacity() > 1024 {
            self.partial = Vec::new();
        }
        Ok(())
    }

    /// Reads every whole frame of `buf`; returns the bytes used.
    fn frames(&mut self, buf: &[u8], on: &mut impl FnMut(Frame)) -> Result<usize, String> {
        let mut at = 0;
        while let Some((head, len)) = frame_head(&buf[at..])? {
            let Some(payload) = buf.get(at + head..at + head + len) else {
                break;
            };
            let (fin, opcode) = (buf[at] & 0x80 != 0, buf[at] & 0x0f);
            at += head + len;
            match opcode {
                TEXT if fin && !self.fragmented => on(Frame::Text(payload)),
                TEXT if !self.fragmented => {
                    self.fragmented = true;
                    self.message.extend_from_slice(payload);
                }
                CONTINUATION if self.fragmented => {
                    self.message.extend_from_slice(payload);
                    if self.message.len() > MAX_LINE {
                        return Err(format!("a message over {MAX_LINE} bytes"));
                    }
                    if fin {
                        self.fragmented = false;
                        let whole = std::mem::take(&mut self.message);
                        on(Frame::Text(&whole));
                    }
                }
                PING if fin && len <= MAX_CONTROL => on(Frame::Ping(payload)),
                CLOSE => on(Frame::Close),
                PONG => {}
                _ => {
                    return Err(format!(
                        "an unexpected frame (opcode {opcode:#x}, fin {fin})"
                    ))
                }
            }
        }
        Ok(at)
    }
}

/// The length of a frame's head and of its payload, once the head is whole.
fn frame_head(buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
    let [_, b1, rest @ ..] = buf else {
        return Ok(None);
    };
    if b1 & 0x80 != 0 {
        return Err("a masked frame from the server".into());
    }
    let (head, len) = match b1 & 0x7f {
        126 => match rest {
            [a, b, ..] => (4, usize::from(u16::from_be_bytes([*a, *b]))),
            _ => return Ok(None),
        },
        127 => match rest.get(..8) {
            Some(bytes) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(bytes);
                (
                    10,
                    usize::try_from(u64::from_be_bytes(be)).unwrap_or(usize::MAX),
                )
            }
            None => return Ok(None),
        },
        len => (2, usize::from(len)),
    };
    if len > MAX_LINE {
        return Err(format!("a frame over {MAX_LINE} bytes"));
    }
    Ok(Some((head, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unmasked server frame.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(n as u8),
            n if n <= 0xffff => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn the_handshake_is_rfc_6455s() {
        // The example of RFC 6455, 1.3.
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        assert_eq!(
            handshake("127.0.0.1:80", "/t/websocket", key),
            "GET /t/websocket HTTP/1.1\r\nHost: 127.0.0.1:80\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        let head = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\
            sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        assert_eq!(check_accept(head, key), Ok(()));
        assert!(check_accept(head, &super::key(1)).is_err());
        assert!(check_accept(b"HTTP/1.1 101 X\r\n\r\n", key).is_err());
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(super::key(7))
                .unwrap()
                .len(),
            16
        );
        assert_ne!(super::key(1), super::key(2));
    }

    #[test]
    fn a_pong_is_masked_and_echoes_the_ping() {
        let mut out = Vec::new();
        pong(b"abc", [1, 2, 3, 4], &mut out);
        assert_eq!(out, [0x8a, 0x83, 1, 2, 3, 4, b'a' ^ 1, b'b' ^ 2, b'c' ^ 3]);
        out.clear();
        pong(b"", [9, 9, 9, 9], &mut out);
        assert_eq!(out, [0x8a, 0x80, 9, 9, 9, 9]);
    }

    #[test]
    fn frames_split_anywhere() {
        let long = vec![b'x'; 300];
        let mut bytes = frame(0x81, br#"{"reason":"L1.2"}"#);
        bytes.extend(frame(0x89, b"p"));
        bytes.extend(frame(0x81, &long));
        bytes.extend(frame(0x01, b"frag"));
        bytes.extend(frame(0x8a, b""));
        bytes.extend(frame(0x80, b"ment"));
        bytes.extend(frame(0x88, &[0x03, 0xe8]));
        for cut in 0..bytes.len() {
            let mut frames = Frames::default();
            let mut got = Vec::new();
            let mut on = |f: Frame| {
                got.push(match f {
                    Frame::Text(t) => format!("text {}", t.len()),
                    Frame::Ping(p) => format!("ping {}", String::from_utf8_lossy(p)),
                    Frame::Close => "close".to_owned(),
                })
            };
            frames.feed(&bytes[..cut], &mut on).unwrap();
            frames.feed(&bytes[cut..], &mut on).unwrap();
            assert_eq!(
                got,
                ["text 17", "ping p", "text 300", "text 8", "close"],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn bad_frames_are_errors() {
        let feed = |bytes: &[u8]| Frames::default().feed(bytes, |_| {});
        assert!(feed(&[0x81, 0x85, 0, 0, 0, 0, b'a']).is_err(), "masked");
        assert!(feed(&frame(0x82, b"bin")).is_err(), "binary");
        assert!(feed(&frame(0x80, b"cont")).is_err(), "continuation first");
        assert!(
            feed(&frame(0x81, &vec![b'x'; MAX_LINE + 1])).is_err(),
            "too long"
        );
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(feed(&huge).is_err(), "64-bit length");
        assert!(feed(&frame(0x81, b"ok")).is_ok());
    }
}
