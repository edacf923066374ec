//! The three places a parameter may come from, merged into one map: the query string, a JSON
//! object body, and an `application/x-www-form-urlencoded` body. This is where repeats and
//! conflicts are found (the same parameter in the query and the body; a key repeated in a JSON
//! object); what each value must be is the endpoint's struct's business ([`super::decode`]).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use std::collections::BTreeMap;

use super::json::JsonBody;
use crate::http::error::ApiError;

/// A parameter's raw value, before its endpoint gives it a type.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Raw {
    /// One string (a query or form value, a JSON string, a JSON integer's digits).
    Str(String),
    /// A JSON boolean.
    Bool(bool),
    /// Several strings: a JSON array of strings or integers, or a key repeated in the query or
    /// the form.
    List(Vec<String>),
    /// A JSON object whose values are all strings (or integers), in key order.
    Object(Vec<(String, String)>),
    /// A JSON value of another shape (nested object or array, fraction).
    Other,
}

/// The parameters of one request from all three sources, merged, not yet typed. An extractor;
/// [`Sources::decode`] gives them their endpoint's type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sources {
    pub(super) values: BTreeMap<String, Raw>,
}

impl Sources {
    /// Parses a query string (without `?`).
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let mut sources = Sources::default();
        sources.add_pairs(parse_urlencoded(query.as_bytes())?, "query")?;
        Ok(sources)
    }

    /// The parameters of a route's path (already percent-decoded), each a string.
    pub fn from_path(pairs: Vec<(String, String)>) -> Self {
        let values = pairs.into_iter().map(|(k, v)| (k, Raw::Str(v))).collect();
        Sources { values }
    }

    /// Parses a request body by its content type (none: JSON), merging it into `self`; a body
    /// of whitespace only is no parameters.
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
                let mut form = Sources::default();
                form.add_pairs(parse_urlencoded(body)?, "body")?;
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
        let json = Sources {
            values: object
                .into_iter()
                .filter_map(|(key, value)| Some((key, raw_from_json(value)?)))
                .collect(),
        };
        self.merge(json)
    }

    /// Adds query or form pairs: a repeated key becomes a list (`agents[]` is `agents`).
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
                            shown(&key)
                        )));
                    };
                    *slot = Raw::List(vec![first, value]);
                }
            }
        }
        Ok(())
    }

    /// Adds the body's parameters; one that the query already has is a conflict.
    fn merge(&mut self, body: Sources) -> Result<(), ApiError> {
        for (key, value) in body.values {
            if self.values.contains_key(&key) {
                return Err(ApiError::BadRequest(format!(
                    "parameter `{}` given both in the query and the body",
                    shown(&key)
                )));
            }
            self.values.insert(key, value);
        }
        Ok(())
    }
}

/// A JSON value as a raw parameter; `null` is absent.
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
        Value::Object(map) => Some(
            map.iter()
                .map(|(k, v)| scalar(v).map(|v| (k.clone(), v)))
                .collect::<Option<Vec<_>>>()
                .map_or(Raw::Other, Raw::Object),
        ),
        other => Some(scalar(&other).map_or(Raw::Other, Raw::Str)),
    }
}

fn parse_urlencoded(bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed form or query string: {e}")))
}

/// A parameter name as echoed in an error: no control characters, clipped.
pub(super) fn shown(key: &str) -> String {
    crate::clip::shown(key, crate::clip::SHOWN_BYTES)
}

impl<S: Send + Sync> FromRequest<S> for Sources {
    type Rejection = ApiError;

    /// The query first, then the content type, then the body (413 above the body limit).
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut sources = Sources::from_query(req.uri().query().unwrap_or(""))?;
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
        sources.add_body(content_type.as_deref(), &body)?;
        Ok(sources)
    }
}
