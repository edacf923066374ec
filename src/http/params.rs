//! Request parameters, typed: an endpoint declares its parameters as one
//! `#[derive(Deserialize)]` struct with `#[serde(deny_unknown_fields)]` and validated field
//! types ([`AgentId`](crate::pbx::AgentId), [`QueueName`](crate::pbx::QueueName),
//! [`MemberName`](crate::pbx::MemberName), ...; see `http::api::requests`), and takes
//! [`Params<T>`] as its last extractor. Every parameter may come from the query string, a JSON
//! object body, or an `application/x-www-form-urlencoded` body:
//!
//! - [`sources`]: the three sources merged into one map ([`Sources`]); the same parameter in
//!   the query and the body is refused (400), as is a key repeated in a JSON object.
//! - [`decode`]: `T` from that map. Strings: a query/form value or a JSON string (a JSON integer
//!   is taken as its digits); a string parameter repeated in the query is refused. Booleans:
//!   JSON `true`/`false` or the strings `"true"`/`"false"`. Lists (`agents`, `queues`): a JSON
//!   array, a repeated key (`agents=1&agents=2`, also `agents[]=`), or a comma-separated string
//!   (names cannot contain commas). JSON `null` counts as absent. A parameter the struct does
//!   not know is refused, so a typo is an error, not a silent no-op. Every error names the
//!   parameter.
//! - [`PathParams<T>`]: the same for a route's path segments (`/originate/{src}/{dest}`).
//! - `json`: the top level of a JSON body, read without losing a repeated key.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub mod decode;
mod json;
pub mod sources;

pub use sources::Sources;

/// An endpoint's parameters as `T`, from the query, a JSON body or a form body (an extractor;
/// it reads the body, so it comes last). Its rejection is the JSON 400 naming the parameter
/// (413 for a body over the limit, 415 for a body neither JSON nor form data).
#[derive(Clone, Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let sources = Sources::from_request(req, state).await?;
        Ok(Params(sources.decode()?))
    }
}

/// A route's path parameters as `T`, decoded like [`Params`]: each error names its segment
/// (`src`, `dest`), and one that is not UTF-8 once percent-decoded is a 400 too.
#[derive(Clone, Debug)]
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(pairs) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e: PathRejection| ApiError::from(e))?;
        Ok(PathParams(Sources::from_path(pairs).decode()?))
    }
}

#[cfg(test)]
mod tests;
