//! Channel variables a client sets on an originated call ([`Variables`]), passed to Asterisk as
//! `Variable: NAME=value` headers of the `Originate`.
//!
//! | value | characters | length |
//! |---|---|---|
//! | [`VariableName`] | ASCII letters, digits, `_`; not starting with a digit | 1–40 |
//! | [`VariableValue`] | letters (any script), digits, space, `_ - . : / @ + # * ( ) ' ! ? % & = ; ~ [ ]`; no comma (Asterisk splits a `Variable` header at commas, so a comma would set another variable); no leading or trailing space | 0–200 |
//! | [`Variables`] | a JSON object of names to values | at most 20 |
//!
//! No control character (CR, LF, NUL, tab, Unicode controls) is in either, so none can inject
//! AMI. A leading `_` or `__` (Asterisk's inheritance prefixes) is allowed in a name.

use std::collections::BTreeMap;

use super::validated::validated_string;
use super::values::ValueError;

/// The punctuation a variable value may hold besides letters (any script) and digits.
const VALUE_PUNCTUATION: &str = " _-.:/@+#*()'!?%&=;~[]";

/// At most this many variables on one call.
pub const MAX_VARIABLES: usize = 20;

fn check_name(s: &str) -> Result<(), ValueError> {
    let what = "variable name";
    if s.is_empty() {
        return Err(ValueError::Empty { what });
    }
    if s.len() > 40 {
        return Err(ValueError::TooLong { what, max: 40 });
    }
    if let Some(found) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(ValueError::BadChar { what, found });
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(ValueError::BadChar {
            what,
            found: s.chars().next().unwrap_or('0'),
        });
    }
    Ok(())
}

fn check_value(s: &str) -> Result<(), ValueError> {
    let what = "variable value";
    if s.chars().count() > 200 {
        return Err(ValueError::TooLong { what, max: 200 });
    }
    let allowed = |c: char| c.is_alphanumeric() || VALUE_PUNCTUATION.contains(c);
    if let Some(found) = s.chars().find(|&c| c.is_control() || !allowed(c)) {
        return Err(ValueError::BadChar { what, found });
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err(ValueError::Padded { what });
    }
    Ok(())
}

validated_string!(
    /// The name of a channel variable (`CRM_ID`).
    VariableName,
    ValueError,
    check_name
);

validated_string!(
    /// The value of a channel variable (`42`); may be empty.
    VariableValue,
    ValueError,
    check_value
);

/// The variables of one originated call, in name order: at most [`MAX_VARIABLES`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Variables(BTreeMap<VariableName, VariableValue>);

impl Variables {
    /// Checks the count.
    pub fn new(map: BTreeMap<VariableName, VariableValue>) -> Result<Self, String> {
        if map.len() > MAX_VARIABLES {
            return Err(format!("at most {MAX_VARIABLES} variables"));
        }
        Ok(Self(map))
    }

    /// `NAME=value` for each variable, as the `Variable` header takes it.
    pub fn headers(&self) -> impl Iterator<Item = String> + '_ {
        self.0.iter().map(|(k, v)| format!("{k}={v}"))
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> serde::Deserialize<'de> for Variables {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<VariableName, VariableValue>::deserialize(d)?;
        Self::new(map).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_keep_to_their_charsets() {
        for ok in ["CRM_ID", "_X", "__CAMPAIGN", "a1"] {
            assert!(VariableName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1A",
            "A-B",
            "A B",
            "A=B",
            "A\r\nAction: Hangup",
            &"A".repeat(41),
        ] {
            assert!(VariableName::parse(bad).is_err(), "{bad:?}");
        }
        for ok in [
            "",
            "42",
            "winter sale",
            "Zoë: 50% off!",
            "a=b",
            &"x".repeat(200),
        ] {
            assert!(VariableValue::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a,B=1",
            "x\ny",
            "x\r",
            "x\0",
            "\t",
            " x",
            "a\u{2028}b",
            "a\u{202e}b",
            &"x".repeat(201),
        ] {
            assert!(VariableValue::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_map_is_capped_and_gives_headers_in_name_order() {
        let v: Variables = serde_json::from_str(r#"{"B":"2","A":"1"}"#).unwrap();
        assert_eq!(v.headers().collect::<Vec<_>>(), ["A=1", "B=2"]);
        let many: BTreeMap<String, String> =
            (0..21).map(|i| (format!("V{i}"), "x".into())).collect();
        let json = serde_json::to_string(&many).unwrap();
        assert!(serde_json::from_str::<Variables>(&json).is_err());
        assert!(serde_json::from_str::<Variables>(r#"{"A":"x,B=1"}"#).is_err());
    }
}
