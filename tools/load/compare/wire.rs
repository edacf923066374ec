//! The lean SSE client's wire: a response head, a body that may be chunked, and `data:` lines.
//! Made for holding thousands of idle streams in one process with little memory, and for reading
//! a million events a second: no allocation per event, only per partial line.

/// Longest response head or line kept (a longer one is an error).
pub const MAX_LINE: usize = 64 * 1024;

/// The response head: its status and whether the body is chunked. `None` while incomplete;
/// `Some(Err)` when it is not HTTP.
pub fn parse_head(buf: &[u8]) -> Option<Result<(u16, bool, usize), String>> {
    let end = memchr::memmem::find(buf, b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status else {
        return Some(Err(format!(
            "not an HTTP response: {:?}",
            &head[..head.len().min(80)]
        )));
    };
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Some(Ok((status, chunked, end)))
}

/// Undoes chunked transfer encoding, a piece at a time.
#[derive(Debug, Default)]
pub struct Dechunk {
    state: ChunkState,
    size_line: Vec<u8>,
}

#[derive(Debug, Default)]
enum ChunkState {
    /// Reading the size line.
    #[default]
    Size,
    /// Inside a chunk: bytes left.
    Data(usize),
    /// The CRLF after a chunk: bytes left.
    Trailer(usize),
    /// The last chunk was seen.
    Done,
}

impl Dechunk {
    /// Feeds raw body bytes; `out` gets the payload bytes. `Err` on a malformed size line.
    pub fn feed(&mut self, mut input: &[u8], mut out: impl FnMut(&[u8])) -> Result<bool, String> {
        while !input.is_empty() {
            match self.state {
                ChunkState::Size => {
                    let Some(nl) = memchr::memchr(b'\n', input) else {
                        self.size_line.extend_from_slice(input);
                        if self.size_line.len() > 64 {
                            return Err("a chunk size line over 64 bytes".into());
                        }
                        return Ok(true);
                    };
                    self.size_line.extend_from_slice(&input[..nl]);
                    input = &input[nl + 1..];
                    let text = String::from_utf8_lossy(&self.size_line);
                    let hex = text.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(hex, 16)
                        .map_err(|_| format!("bad chunk size {hex:?}"))?;
                    self.size_line.clear();
                    self.state = if size == 0 {
                        ChunkState::Done
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    let n = left.min(input.len());
                    out(&input[..n]);
                    input = &input[n..];
                    self.state = if n == left {
                        ChunkState::Trailer(2)
                    } else {
                        ChunkState::Data(left - n)
                    };
                }
                ChunkState::Trailer(left) => {
                    let n = left.min(input.len());
                    input = &input[n..];
                    self.state = if n == left {
                        ChunkState::Size
                    } else {
                        ChunkState::Trailer(left - n)
                    };
                }
                ChunkState::Done => return Ok(false),
            }
        }
        Ok(!matches!(self.state, ChunkState::Done))
    }
}

/// Splits a byte stream into lines and hands each `data:` line's value to `data`.
#[derive(Debug, Default)]
pub struct DataLines {
    partial: Vec<u8>,
}

impl DataLines {
    /// Feeds body bytes. `Err` on a line over [`MAX_LINE`].
    pub fn feed(&mut self, mut input: &[u8], mut data: impl FnMut(&[u8])) -> Result<(), String> {
        while let Some(nl) = memchr::memchr(b'\n', input) {
            let line = &input[..nl];
            input = &input[nl + 1..];
            if self.partial.is_empty() {
                emit(line, &mut data);
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                emit(&whole, &mut data);
            }
        }
        self.partial.extend_from_slice(input);
        if self.partial.len() > MAX_LINE {
            return Err(format!("an SSE line over {MAX_LINE} bytes"));
        }
        if self.partial.is_empty() && self.partial.capacity() > 1024 {
            self.partial = Vec::new();
        }
        Ok(())
    }
}

fn emit(line: &[u8], data: &mut impl FnMut(&[u8])) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(value) = line.strip_prefix(b"data:") {
        data(value.strip_prefix(b" ").unwrap_or(value));
    }
}

/// The value of `"reason":"..."` in an event's JSON, where the stamp travels.
pub fn reason(data: &[u8]) -> Option<&str> {
    const KEY: &[u8] = br#""reason":""#;
    let start = memchr::memmem::find(data, KEY)? + KEY.len();
    let len = memchr::memchr(b'"', &data[start..])?;
    std::str::from_utf8(&data[start..start + len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nrest";
        assert_eq!(parse_head(head), Some(Ok((200, true, head.len() - 4))));
        assert_eq!(
            parse_head(b"HTTP/1.1 404 No\r\n\r\n"),
            Some(Ok((404, false, 19)))
        );
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\n"), None);
        assert!(matches!(parse_head(b"garbage\r\n\r\n"), Some(Err(_))));
    }

    #[test]
    fn chunks_split_anywhere() {
        let body = b"5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n";
        for cut in 0..body.len() {
            let mut d = Dechunk::default();
            let mut out = Vec::new();
            d.feed(&body[..cut], |b| out.extend_from_slice(b)).unwrap();
            let open = d.feed(&body[cut..], |b| out.extend_from_slice(b)).unwrap();
            assert_eq!(out, b"hello, world", "cut {cut}");
            assert!(!open);
        }
        assert!(Dechunk::default().feed(b"zz\r\n", |_| {}).is_err());
    }

    #[test]
    fn data_lines_and_reasons() {
        let text = b"id: 1\nevent: x\ndata: {\"reason\":\"L1.2\"}\r\n\n:c\ndata:{\"a\":1}\n";
        for cut in 0..text.len() {
            let mut lines = DataLines::default();
            let mut got = Vec::new();
            lines.feed(&text[..cut], |d| got.push(d.to_vec())).unwrap();
            lines.feed(&text[cut..], |d| got.push(d.to_vec())).unwrap();
            assert_eq!(
                got,
                [&br#"{"reason":"L1.2"}"#[..], br#"{"a":1}"#],
                "cut {cut}"
            );
        }
        assert_eq!(
            reason(br#"{"status":"paused","reason":"L1.2"}"#),
            Some("L1.2")
        );
        assert_eq!(reason(br#"{"count":1}"#), None);
    }
}
