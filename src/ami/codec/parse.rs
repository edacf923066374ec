//! Reading AMI messages: line helpers for the decoder's scan, and the parser that turns the bytes
//! of one complete message into an [`AmiMessage`] (lossy UTF-8, `Key: Value` fields, Asterisk
//! 13's `Response: Follows` output as `Output` fields).

use std::ops::Range;

use super::{Side, END_COMMAND};
use crate::ami::message::AmiMessage;

pub(super) fn is_blank(line: &[u8]) -> bool {
    line.is_empty() || line == b"\r"
}

pub(super) fn trim_bytes(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

pub(super) fn trim_line(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

pub(super) fn starts_follows(line: &[u8]) -> bool {
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
pub(super) fn parse_message(bytes: &[u8], side: Side) -> AmiMessage {
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
        if ranges.is_empty() && starts_follows(&b[line.clone()]) {
            follows = true;
        }
        ranges.push(split_field(b, line, side));
    }
    if ranges.iter().any(|(k, _)| k.is_empty()) {
        return with_output_keys(text, ranges);
    }
    AmiMessage::from_parts(text, ranges)
}

/// The key and value ranges of the non-empty line `line` of `b` (line end excluded): the key up to
/// the first colon, the value after it (see [`parse_message`] for the blanks dropped); a line
/// without a colon is a key with an empty value.
pub(super) fn split_field(
    b: &[u8],
    line: Range<usize>,
    side: Side,
) -> (Range<usize>, Range<usize>) {
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
            (key, vstart..line.end)
        }
        None => (line.clone(), line.end..line.end),
    }
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
