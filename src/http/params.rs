//! Request parameters: every parameter may come from the query string, a JSON object body, or an
//! `application/x-www-form-urlencoded` body. [`Params`] collects them; handlers take each one
//! out as a validated type ([`AgentId`](crate::pbx::AgentId),
//! [`QueueName`](crate::pbx::QueueName), [`MemberName`](crate::pbx::MemberName), ...), and
//! [`Params::finish`] refuses any parameter left over, so a typo is an error, not a silent no-op.
//!
//! - Strings: a query/form value, or a JSON string (a JSON integer is taken as its digits).
//! - Booleans: JSON `true`/`false`, or the strings `"true"`/`"false"`.
//! - Lists (`agents`, `queues`): a JSON array, a repeated key (`agents=1&agents=2`, also
//!   `agents[]=`), or a comma-separated string (names cannot contain commas).
//! - The same parameter in the query and the body is refused (400), as is a repeated key for a
//!   single value, and so is a key repeated in a JSON object; JSON `null` counts as absent.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use std::collections::BTreeMap;

use super::error::ApiError;
use json::JsonBody;

mod json;

/// A parameter's raw value.
#[derive(Clone, Debug, PartialEq)]
enum Raw {
    /// One string.
    Str(String),
    /// A JSON boolean.
    Bool(bool),
    /// Several strings (JSON array or repeated key).
    List(Vec<String>),
    /// A JSON value of another shape (object, nested array, fraction).
    Other,
}

/// The parameters of one request, not yet validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<String, Raw>,
}

impl Params {
    /// Parses a query string (without `?`).
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let mut params = Params::default();
        params.add_pairs(parse_urlencoded(query.as_bytes())?, "query")?;
        Ok(params)
    }

    /// Parses a request body by its content type, merging it into `self`.
    pub fn add_body(&mut self, content_type: Option<&str>, body: &[u8]) -> Result<(), ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let mime = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        match mime.as_deref() {
            None | Some("application/json") => self.add_json(body),
            Some(m) if m.ends_with("+json") => self.add_json(body),
            Some("application/x-www-form-urlencoded") => {
                let pairs = parse_urlencoded(body)?;
                let mut form = Params::default();
                form.add_pairs(pairs, "body")?;
                self.merge(form)
            }
            Some(_) => Err(ApiError::UnsupportedMedia),
        }
    }

    fn add_json(&mut self, body: &[u8]) -> Result<(), ApiError> {
        let value: JsonBody = serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")))?;
        let object = match value {
            JsonBody::Object(o) => o,
            JsonBody::Null => return Ok(()),
            JsonBody::Other => {
                return Err(ApiError::BadRequest(
                    "the JSON body must be an object".into(),
                ))
            }
        };
        let mut json = Params::default();
        for (key, value) in object {
            if let Some(raw) = raw_from_json(value) {
                json.values.insert(key, raw);
            }
        }
        self.merge(json)
    }

    fn add_pairs(&mut self, pairs: Vec<(String, String)>, origin: &str) -> Result<(), ApiError> {
        for (key, value) in pairs {
            let key = key.strip_suffix("[]").unwrap_or(&key).to_owned();
            match self.values.get_mut(&key) {
                None => {
                    self.values.insert(key, Raw::Str(value));
                }
                Some(Raw::List(list)) => list.push(value),
                Some(slot) => {
                    let Raw::Str(first) = std::mem::replace(slot, Raw::Other) else {
                        return Err(ApiError::BadRequest(format!(
                            "parameter `{}` given twice in the {origin}",
                            clip(&key)
                        )));
                    };
                    *slot = Raw::List(vec![first, value]);
                }
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: Params) -> Result<(), ApiError> {
        for (key, value) in other.values {
            if self.values.contains_key(&key) {
                return Err(ApiError::BadRequest(format!(
                    "parameter `{}` given both in the query and the body",
                    clip(&key)
                )));
            }
            self.values.insert(key, value);
        }
        Ok(())
    }

    /// Takes an optional string parameter and parses it.
    pub fn optional<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ApiError> {
        match self.values.remove(name) {
            None => Ok(None),
            Some(Raw::Str(s)) => parse(&s).map(Some).map_err(|e| ApiError::param(name, e)),
            Some(Raw::List(_)) => Err(ApiError::param(name, "given more than once")),
            Some(_) => Err(ApiError::param(name, "must be a string")),
        }
    }

    /// Takes a required string parameter and parses it.
    pub fn required<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ApiError> {
        self.optional(name, parse)?
            .ok_or_else(|| ApiError::param(name, "is required"))
    }

    /// Takes an optional boolean: JSON `true`/`false` or the strings `"true"`/`"false"`.
    pub fn optional_bool(&mut self, name: &'static str) -> Result<Option<bool>, ApiError> {
        match self.values.remove(name) {
            None => Ok(None),
            Some(Raw::Bool(b)) => Ok(Some(b)),
            Some(Raw::Str(s)) if s == "true" => Ok(Some(true)),
            Some(Raw::Str(s)) if s == "false" => Ok(Some(false)),
            Some(_) => Err(ApiError::param(name, "must be true or false")),
        }
    }

    /// Takes a required boolean.
    pub fn required_bool(&mut self, name: &'static str) -> Result<bool, ApiError> {
        self.optional_bool(name)?
            .ok_or_else(|| ApiError::param(name, "is required"))
    }

    /// Takes a list parameter (absent = empty), parsing every element, at most `max` of them.
    pub fn list<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        max: usize,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Vec<T>, ApiError> {
        let items: Vec<String> = match self.values.remove(name) {
            None => return Ok(Vec::new()),
            Some(Raw::List(items)) => items,
            Some(Raw::Str(s)) if s.is_empty() => return Ok(Vec::new()),
            Some(Raw::Str(s)) => s.split(',').map(str::to_owned).collect(),
            Some(_) => return Err(ApiError::param(name, "must be an array of strings")),
        };
        if items.len() > max {
            return Err(ApiError::param(name, format!("at most {max} allowed")));
        }
        items
            .iter()
            .map(|item| parse(item).map_err(|e| ApiError::param(name, e)))
            .collect()
    }

    /// Refuses any parameter not taken.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.values.keys().next() {
            None => Ok(()),
            Some(key) => Err(ApiError::BadRequest(format!(
                "unknown parameter `{}`",
                clip(key)
            ))),
        }
    }
}

fn raw_from_json(value: serde_json::Value) -> Option<Raw> {
    use serde_json::Value;
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(Raw::Bool(b)),
        Value::Array(items) => Some(
            items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .map_or(Raw::Other, Raw::List),
        ),
        other => Some(scalar(&other).map_or(Raw::Other, Raw::Str)),
    }
}

fn parse_urlencoded(bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed form or query string: {e}")))
}

/// A parameter name as echoed in an error: no control characters, clipped.
fn clip(key: &str) -> String {
    crate::clip::shown(key, crate::clip::SHOWN_BYTES)
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut params = Params::from_query(req.uri().query().unwrap_or(""))?;
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().map(str::to_owned))
            .transpose()
            .map_err(|_| ApiError::UnsupportedMedia)?;
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::BadRequest("could not read the request body".into())
            }
        })?;
        params.add_body(content_type.as_deref(), &body)?;
        Ok(params)
    }
}

#[cfg(test)]
mod tests;
