//! Shortening text that came from outside, in one place. [`clip`] keeps the longest prefix of a
//! string that fits a byte budget and ends on a character boundary (never splitting a UTF-8
//! sequence, never panicking); [`shown`] is what an error message or a log line echoes of a
//! client's or a peer's input: control characters removed, then clipped.

/// Bytes of client or peer input an error message or a log line echoes ([`shown`]).
pub const SHOWN_BYTES: usize = 40;

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
pub fn clip(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` without control characters, clipped to `max_bytes`: safe to echo in a message or a
/// log (no terminal escapes, no forged lines, bounded).
pub fn shown(text: &str, max_bytes: usize) -> String {
    let visible: String = text.chars().filter(|c| !c.is_control()).collect();
    clip(&visible, max_bytes).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_on_a_character_boundary() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abc", 2), "ab");
        assert_eq!(clip("abc", 0), "");
        // "č" is two bytes, "😀" four: never cut inside one.
        assert_eq!(clip("ačb", 2), "a");
        assert_eq!(clip("ačb", 3), "ač");
        assert_eq!(clip("😀😀", 7), "😀");
        assert_eq!(clip("😀", 3), "");
    }

    #[test]
    fn every_budget_gives_a_valid_prefix_within_it() {
        let text = "Ana Horvat – 🎧 agent, Zagreb";
        for max in 0..=text.len() + 1 {
            let c = clip(text, max);
            assert!(c.len() <= max && text.starts_with(c), "{max}");
            // The longest such prefix: one more character would not fit.
            if let Some(next) = text[c.len()..].chars().next() {
                assert!(c.len() + next.len_utf8() > max, "{max}");
            }
        }
    }

    #[test]
    fn shown_drops_control_characters_then_clips() {
        assert_eq!(shown("a\u{1b}[31mb\r\nc", 40), "a[31mbc");
        assert_eq!(shown(&"x".repeat(100), SHOWN_BYTES).len(), SHOWN_BYTES);
    }
}
