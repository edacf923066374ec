//! Validated names of the call center: [`AgentId`] (an agent's extension or endpoint name) and
//! [`QueueName`]. Both are parsed once at the edge (HTTP, configuration) and are safe to place in
//! an AMI header afterwards: the character set excludes every control character, `:` and `,`.
//!
//! Character set, both: ASCII letters, digits, `_`, `-`, `.`, and `+` (agents only);
//! 1 to 64 characters. That covers extension numbers (`147`), PJSIP endpoint names
//! (`agent-07`, `alice.smith`) and queue names (`q1`, `sales_support`).

use super::validated::validated_string;

/// The longest accepted agent id or queue name.
pub const MAX_NAME_LEN: usize = 64;

/// Why a name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty.
    #[error("{what} must not be empty")]
    Empty {
        /// `"agent"` or `"queue"`.
        what: &'static str,
    },
    /// Too long.
    #[error("{what} is longer than {MAX_NAME_LEN} characters")]
    TooLong {
        /// `"agent"` or `"queue"`.
        what: &'static str,
    },
    /// A character outside the set.
    #[error("{what} may contain only letters, digits and {allowed}; found {found:?}")]
    BadChar {
        /// `"agent"` or `"queue"`.
        what: &'static str,
        /// The allowed punctuation.
        allowed: &'static str,
        /// The first refused character.
        found: char,
    },
}

fn validate(
    s: &str,
    what: &'static str,
    allowed: &'static str,
    extra: &[char],
) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::Empty { what });
    }
    if s.chars().count() > MAX_NAME_LEN {
        return Err(NameError::TooLong { what });
    }
    if let Some(found) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(c)))
    {
        return Err(NameError::BadChar {
            what,
            allowed,
            found,
        });
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $allowed:literal, $extra:expr) => {
        validated_string!($(#[$doc])* $name, NameError, |s| validate(s, $what, $allowed, $extra));
    };
}

name_type!(
    /// An agent: the extension number or endpoint name an agent is known by (`147`).
    AgentId,
    "agent",
    "'_', '-', '.', '+'",
    &['_', '-', '.', '+']
);

name_type!(
    /// A queue name as configured in Asterisk (`q1`).
    QueueName,
    "queue",
    "'_', '-', '.'",
    &['_', '-', '.']
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_usual_names() {
        for ok in ["147", "agent-07", "alice.smith", "+38591", "a_b"] {
            assert!(AgentId::parse(ok).is_ok(), "{ok}");
        }
        for ok in ["q1", "sales_support", "q.2-x"] {
            assert!(QueueName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_injection_and_junk() {
        for bad in [
            "",
            "14\r\n7",
            "a:b",
            "a,b",
            "a b",
            "147/1",
            "ä",
            &"x".repeat(65),
        ] {
            assert!(AgentId::parse(bad).is_err(), "{bad:?}");
            assert!(QueueName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(QueueName::parse("+1").is_err());
    }

    #[test]
    fn deserialize_validates() {
        let ok: Vec<AgentId> = serde_json::from_str(r#"["147","148"]"#).unwrap();
        assert_eq!(ok[1].as_str(), "148");
        assert!(serde_json::from_str::<Vec<AgentId>>(r#"["1\n"]"#).is_err());
    }
}
