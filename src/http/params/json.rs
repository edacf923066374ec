//! The top level of a JSON body, read without losing repeated keys: `serde_json::Value` keeps
//! the last of two equal keys, which would let `{"agent":"149","agent":"147"}` pass as one
//! value. [`JsonBody`] refuses a repeated key instead, naming it.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

/// A JSON body's top level.
#[derive(Debug, PartialEq)]
pub(super) enum JsonBody {
    /// `null`: no parameters.
    Null,
    /// An object, its keys each given once, in order.
    Object(Vec<(String, Value)>),
    /// Anything else (array, string, number, boolean).
    Other,
}

impl<'de> Deserialize<'de> for JsonBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = JsonBody;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonBody, A::Error> {
        let mut seen = BTreeSet::new();
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let shown = crate::clip::shown(&key, crate::clip::SHOWN_BYTES);
                return Err(de::Error::custom(format_args!(
                    "parameter `{shown}` given twice"
                )));
            }
            pairs.push((key, map.next_value::<Value>()?));
        }
        Ok(JsonBody::Object(pairs))
    }

    fn visit_unit<E>(self) -> Result<JsonBody, E> {
        Ok(JsonBody::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonBody, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonBody::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<JsonBody, E> {
        Ok(JsonBody::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<JsonBody, E> {
        Ok(JsonBody::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<JsonBody, E> {
        Ok(JsonBody::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<JsonBody, E> {
        Ok(JsonBody::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<JsonBody, E> {
        Ok(JsonBody::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<JsonBody, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_repeated_key_is_refused_naming_it() {
        let err = parse(r#"{"agent":"149","queue":"q1","agent":"147"}"#).unwrap_err();
        assert!(err.contains("parameter `agent` given twice"), "{err}");
        // Nested objects are values, not parameters: their keys are not looked at here.
        assert!(parse(r#"{"a":{"b":1},"c":{"b":2}}"#).is_ok());
    }

    #[test]
    fn shapes() {
        assert_eq!(parse("null").unwrap(), JsonBody::Null);
        assert_eq!(parse("[1,[2]]").unwrap(), JsonBody::Other);
        assert_eq!(parse("\"x\"").unwrap(), JsonBody::Other);
        assert_eq!(
            parse(r#"{"a":true}"#).unwrap(),
            JsonBody::Object(vec![("a".into(), Value::Bool(true))])
        );
        assert!(parse("{").is_err());
    }
}
