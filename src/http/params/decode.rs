//! A serde `Deserializer` over the merged parameters ([`Sources`]), so that an endpoint's
//! parameters are one `#[derive(Deserialize)]` struct with `deny_unknown_fields` and validated
//! field types. It knows the shapes of the seed's rule, and nothing of any endpoint:
//!
//! - a string field takes a string (a JSON integer came as its digits); a list there is "given
//!   more than once";
//! - a boolean takes JSON `true`/`false` or the strings `"true"`/`"false"`;
//! - a sequence takes a list, or a string split at commas (the empty string is no items);
//! - a map takes a JSON object of strings, or a string holding one (from a query or a form);
//! - `Option` is `Some` when the key is present (JSON `null` was dropped as absent).
//!
//! Every error names its parameter: a value refused by its type (a validated newtype's `parse`)
//! is reported under the key being read, a missing field as "is required", an unknown key as
//! "unknown parameter".

use serde::de::value::{SeqDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use std::collections::btree_map;
use std::fmt;

use super::sources::{shown, Raw, Sources};
use crate::http::error::ApiError;

impl Sources {
    /// The parameters as the endpoint's type `T`, or the 400 naming the first one refused.
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        let map = ParamMap {
            entries: self.values.into_iter(),
            current: None,
        };
        T::deserialize(MapDeserializer(map)).map_err(ApiError::from)
    }
}

/// Why the parameters did not decode.
#[derive(Debug, PartialEq)]
pub enum DecodeError {
    /// A parameter is missing or refused: `(name, why)`.
    Param(String, String),
    /// A parameter the endpoint does not know.
    Unknown(String),
    /// Not yet tied to a parameter (raised while reading a value; the map names it).
    Bare(String),
}

impl DecodeError {
    fn at(self, key: &str) -> Self {
        match self {
            DecodeError::Bare(why) => DecodeError::Param(shown(key), why),
            other => other,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Param(name, why) => write!(f, "parameter `{name}`: {why}"),
            DecodeError::Unknown(name) => write!(f, "unknown parameter `{}`", shown(name)),
            DecodeError::Bare(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        DecodeError::Bare(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        DecodeError::Param(field.to_owned(), "is required".into())
    }

    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        DecodeError::Unknown(field.to_owned())
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Param(name, why) => ApiError::BadParam(name, why),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

/// The parameters as a map, remembering the key whose value is being read.
struct ParamMap {
    entries: btree_map::IntoIter<String, Raw>,
    current: Option<(String, Raw)>,
}

/// The top level: a map (an endpoint's struct).
struct MapDeserializer(ParamMap);

impl<'de> de::Deserializer<'de> for MapDeserializer {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_map(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for ParamMap {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some((key, raw)) = self.entries.next() else {
            return Ok(None);
        };
        let named: StringDeserializer<DecodeError> = key.clone().into_deserializer();
        let value = seed.deserialize(named)?;
        self.current = Some((key, raw));
        Ok(Some(value))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let (key, raw) = self
            .current
            .take()
            .ok_or_else(|| DecodeError::Bare("a value without its key".into()))?;
        seed.deserialize(ValueDeserializer(raw))
            .map_err(|e| e.at(&key))
    }
}

/// One parameter's value.
struct ValueDeserializer(Raw);

fn items<'de, V: Visitor<'de>>(items: Vec<String>, visitor: V) -> Result<V::Value, DecodeError> {
    let mut seq = SeqDeserializer::new(items.into_iter());
    let value = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(value)
}

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Raw::Str(s) => visitor.visit_string(s),
            Raw::Bool(b) => visitor.visit_bool(b),
            Raw::List(list) => items(list, visitor),
            Raw::Object(_) | Raw::Other => Err(DecodeError::Bare("must be a string".into())),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let pairs = match self.0 {
            Raw::Object(pairs) => pairs,
            Raw::Str(s) => {
                let object: std::collections::BTreeMap<String, String> = serde_json::from_str(&s)
                    .map_err(|_| {
                    DecodeError::Bare("must be a JSON object of strings".into())
                })?;
                object.into_iter().collect()
            }
            _ => return Err(DecodeError::Bare("must be a JSON object of strings".into())),
        };
        let mut map = de::value::MapDeserializer::new(pairs.into_iter());
        let value = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(value)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Raw::Bool(b) => visitor.visit_bool(b),
            Raw::Str(s) if s == "true" => visitor.visit_bool(true),
            Raw::Str(s) if s == "false" => visitor.visit_bool(false),
            _ => Err(DecodeError::Bare("must be true or false".into())),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Raw::Str(s) => visitor.visit_string(s),
            Raw::List(_) => Err(DecodeError::Bare("given more than once".into())),
            _ => Err(DecodeError::Bare("must be a string".into())),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Raw::List(list) => items(list, visitor),
            Raw::Str(s) if s.is_empty() => items(Vec::new(), visitor),
            Raw::Str(s) => items(s.split(',').map(str::to_owned).collect(), visitor),
            _ => Err(DecodeError::Bare("must be an array of strings".into())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit unit_struct tuple tuple_struct struct enum identifier ignored_any
    }
}
