//! An incremental `text/event-stream` parser: bytes in as they arrive, whole events out
//! (`event:` name, `data:` text and `id:`), comments and unknown fields ignored. Bounded: a line longer
//! than [`MAX_LINE`] is an error rather than a growing buffer.

/// Longest line accepted.
pub const MAX_LINE: usize = 1024 * 1024;

/// One server-sent event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub name: String,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
    /// The `id:` field of this event, if it had one.
    pub id: Option<String>,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    name: Option<String>,
    data: Option<String>,
    id: Option<String>,
}

impl SseParser {
    /// Feeds a chunk; calls `emit` for every event it completes.
    pub fn feed(&mut self, chunk: &[u8], mut emit: impl FnMut(SseEvent)) -> Result<(), String> {
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            self.line.extend_from_slice(part);
            if self.line.len() > MAX_LINE {
                return Err(format!("an SSE line over {MAX_LINE} bytes"));
            }
            if self.line.last() != Some(&b'\n') {
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches('\n').trim_end_matches('\r');
            if let Some(event) = self.line_done(text) {
                emit(event);
            }
        }
        Ok(())
    }

    fn line_done(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let data = self.data.take();
            let name = self.name.take();
            let id = self.id.take();
            return data.map(|data| SseEvent {
                name: name.unwrap_or_else(|| "message".to_owned()),
                data,
                id,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = Some(value.to_owned()),
            "id" => self.id = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, |e| out.push(e)).unwrap();
        }
        out
    }

    #[test]
    fn events_split_anywhere() {
        let whole = b"event: queueCount\ndata: {\"count\":1}\n\n:keep-alive\n\nevent: closed\r\ndata: {}\r\n\r\n";
        let expected = vec![
            SseEvent {
                name: "queueCount".into(),
                data: "{\"count\":1}".into(),
                id: None,
            },
            SseEvent {
                name: "closed".into(),
                data: "{}".into(),
                id: None,
            },
        ];
        assert_eq!(parse(&[whole]), expected);
        for cut in 1..whole.len() {
            assert_eq!(
                parse(&[&whole[..cut], &whole[cut..]]),
                expected,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn multi_line_data_and_default_name() {
        assert_eq!(
            parse(&[b"data: a\ndata:b\n\n"]),
            vec![SseEvent {
                name: "message".into(),
                data: "a\nb".into(),
                id: None,
            }]
        );
    }

    #[test]
    fn the_id_belongs_to_its_event_only() {
        let events = parse(&[b"id: e-1\nevent: a\ndata: {}\n\nevent: b\ndata: {}\n\n"]);
        assert_eq!(events[0].id.as_deref(), Some("e-1"));
        assert_eq!(events[1].id, None);
    }

    #[test]
    fn a_huge_line_is_refused() {
        let mut p = SseParser::default();
        let big = vec![b'x'; MAX_LINE + 1];
        assert!(p.feed(&big, |_| {}).is_err());
    }
}
