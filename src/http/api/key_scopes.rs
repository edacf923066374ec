//! `GET /key`: what the request's API key may do, its scopes, so that a page or another client
//! offers only the actions it may take. Any valid key may ask; a service without keys answers
//! every scope (it allows everything, with the open service's checks).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use crate::http::error::ApiError;
use crate::http::openapi::schemas::{ErrorBody, KeyScopes};
use crate::http::state::AppState;

/// `GET /key`: `{"scopes":[...]}` of the request's key.
#[utoipa::path(
    get,
    path = "/key",
    summary = "The scopes of the request's API key",
    tag = "operations",
    security(("key" = [])),
    responses(
        (status = 200, description = "The key's scopes; every scope on a service without keys", body = KeyScopes),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "A service without keys asked from another web origin or through a host name", body = ErrorBody),
    )
)]
pub async fn key_scopes(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<KeyScopes>, ApiError> {
    let scopes = state.auth().scopes(&headers)?;
    Ok(Json(KeyScopes {
        scopes: scopes.into_iter().map(|s| s.as_str().to_owned()).collect(),
    }))
}
