//! Validated free-text values that travel to AMI: [`MemberName`], [`PauseReason`],
//! [`Destination`], [`CallerId`], [`Context`]. Each has a documented character set and length;
//! no control character (CR, LF, NUL, tab, Unicode controls) is in any of them, so none can
//! inject AMI, whatever the encoder does.
//!
//! | type | characters | length |
//! |---|---|---|
//! | `MemberName` | letters (any script), digits, space, `_ - . ' ( ) @ +` | 1–64 |
//! | `PauseReason` | letters, digits, space, `_ - . ' ( ) / : + ! ?` | 1–80 |
//! | `Destination` | ASCII letters, digits, `* # + _ . -` | 1–40 |
//! | `CallerId` | letters, digits, space, `+ * # _ - . ' ( ) < > " @` | 1–80 |
//! | `Context` | ASCII letters, digits, `_ - .` | 1–80 |
//!
//! Values may not start or end with a space. A `Destination` may not start with `_` (Asterisk
//! would read it as a dialplan pattern such as `_X.`, reaching a pattern's extension directly)
//! and may not be one of Asterisk's special extensions (`s`, `h`, `i`, `t`, `T`, `o`, `a`, `e`,
//! `failed`, `talk`, any case), so an originated call only ever enters the originate context at
//! an ordinary extension.

use super::validated::validated_string;

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Empty.
    #[error("{what} must not be empty")]
    Empty {
        /// Which value.
        what: &'static str,
    },
    /// Too long.
    #[error("{what} is longer than {max} characters")]
    TooLong {
        /// Which value.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// A refused character.
    #[error("{what} contains a character that is not allowed: {found:?}")]
    BadChar {
        /// Which value.
        what: &'static str,
        /// The first refused character.
        found: char,
    },
    /// Leading or trailing space.
    #[error("{what} must not start or end with a space")]
    Padded {
        /// Which value.
        what: &'static str,
    },
    /// Not of the shape the value must have.
    #[error("{what} must look like {shape}")]
    Shape {
        /// Which value.
        what: &'static str,
        /// The shape, in words.
        shape: &'static str,
    },
    /// A dialplan pattern or special extension where a plain number is expected.
    #[error(
        "{what} must be a plain number or extension, not a dialplan pattern or special extension"
    )]
    Reserved {
        /// Which value.
        what: &'static str,
    },
}

/// Asterisk's special extensions (start, hangup, invalid, timeouts, operator, ...).
const SPECIAL_EXTENSIONS: [&str; 10] = ["s", "h", "i", "t", "T", "o", "a", "e", "failed", "talk"];

fn check_destination(s: &str) -> Result<(), ValueError> {
    let what = "destination";
    check(s, what, 40, |c| {
        c.is_ascii_alphanumeric() || "*#+_.-".contains(c)
    })?;
    if s.starts_with('_') || SPECIAL_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(s)) {
        return Err(ValueError::Reserved { what });
    }
    Ok(())
}

fn check(s: &str, what: &'static str, max: usize, ok: fn(char) -> bool) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError::Empty { what });
    }
    if s.chars().count() > max {
        return Err(ValueError::TooLong { what, max });
    }
    if let Some(found) = s.chars().find(|&c| c.is_control() || !ok(c)) {
        return Err(ValueError::BadChar { what, found });
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err(ValueError::Padded { what });
    }
    Ok(())
}

macro_rules! value_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, $ok:expr) => {
        value_type!($(#[$doc])* $name, |s| check(s, $what, $max, $ok));
    };
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        validated_string!($(#[$doc])* $name, ValueError, $check);
    };
}

value_type!(
    /// The member name Asterisk shows for an agent in a queue (`Agent 147`).
    MemberName,
    "memberName",
    64,
    |c| c.is_alphanumeric() || " _-.'()@+".contains(c)
);

value_type!(
    /// Why an agent pauses (`lunch`).
    PauseReason,
    "reason",
    80,
    |c| c.is_alphanumeric() || " _-.'()/:+!?".contains(c)
);

value_type!(
    /// A number or extension to call (`1562830`, `*97`).
    Destination,
    check_destination
);

value_type!(
    /// The caller id presented to the remote party (`7012888`, `"Sales" <7012888>`).
    CallerId,
    "callerId",
    80,
    |c| c.is_alphanumeric() || " +*#_-.'()<>\"@".contains(c)
);

value_type!(
    /// A dialplan context (`default`).
    Context,
    "context",
    80,
    |c| c.is_ascii_alphanumeric() || "_-.".contains(c)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_values_pass() {
        assert!(MemberName::parse("Agent 147").is_ok());
        assert!(MemberName::parse("Ana Šarić").is_ok());
        assert!(PauseReason::parse("lunch: back at 13:00!").is_ok());
        assert!(Destination::parse("*97").is_ok());
        assert!(CallerId::parse("\"Sales\" <7012888>").is_ok());
        assert!(Context::parse("from-internal").is_ok());
    }

    #[test]
    fn control_characters_and_padding_are_refused() {
        for bad in [
            "a\r\nAction: Originate",
            "a\nb",
            "a\0",
            "a\tb",
            "a\u{85}b",
            " a",
            "a ",
            "",
        ] {
            assert!(MemberName::parse(bad).is_err(), "{bad:?}");
            assert!(PauseReason::parse(bad).is_err(), "{bad:?}");
            assert!(CallerId::parse(bad).is_err(), "{bad:?}");
            assert!(Destination::parse(bad).is_err(), "{bad:?}");
            assert!(Context::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Destination::parse("Local/1@x").is_err());
        assert!(Destination::parse(&"1".repeat(41)).is_err());
    }

    #[test]
    fn deserialize_validates() {
        let ok: CallerId = serde_json::from_str(r#""\"Sales\" <7012888>""#).unwrap();
        assert_eq!(ok.as_str(), "\"Sales\" <7012888>");
        assert!(serde_json::from_str::<PauseReason>(r#""a\r\nAction: Logoff""#).is_err());
    }

    #[test]
    fn destinations_are_never_patterns_or_special_extensions() {
        for bad in [
            "_X.", "_0900X", "s", "h", "I", "t", "T", "failed", "FAILED", "talk",
        ] {
            assert_eq!(
                Destination::parse(bad),
                Err(ValueError::Reserved {
                    what: "destination"
                }),
                "{bad:?}"
            );
        }
        for ok in ["1562830", "+38512345", "*97", "alice", "sales", "0_1", "hx"] {
            assert!(Destination::parse(ok).is_ok(), "{ok:?}");
        }
    }
}
