//! [`ApiError`]: every error a client sees, as JSON `{"error": "..."}` with its status code.
//!
//! Policy (also in the README):
//!
//! | status | when |
//! |---|---|
//! | 400 | a missing or malformed parameter (the message names it), malformed JSON, too many agents or queues |
//! | 401 / 403 | no or wrong API key / wrong scope, or an agent or queue outside the key's (from the auth layer); a WebSocket from a foreign Origin |
//! | 404 | unknown route, ticket, queue action, queue or channel; an agent without a call to act on; `/stop` when disabled |
//! | 405 | wrong method |
//! | 409 | Asterisk refused a valid action (its message is passed on: "Already there"); an agent with several calls where one is needed (`candidates` lists them) |
//! | 413 | body too large |
//! | 415 | a body that is neither JSON nor form data |
//! | 431 | URI and headers larger than `limits.max_header_bytes` |
//! | 429 | too many tickets, or too many concurrent streams from one address |
//! | 503 | not connected to Asterisk, or shutting down |
//! | 504 | Asterisk did not answer in time |
//! | 500 | anything else; the details go to the log, never to the client |

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::AuthError;
use crate::ami::AmiError;
use crate::hub::HubError;
use crate::pbx::channels::CallChannels;
use crate::pbx::service::PbxError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter is missing or malformed: `(name, why)`.
    #[error("parameter `{0}`: {1}")]
    BadParam(String, String),
    /// The request as a whole is malformed (JSON syntax, content type, ...).
    #[error("{0}")]
    BadRequest(String),
    /// A body that is neither JSON nor form data.
    #[error("unsupported content type: send JSON or form data")]
    UnsupportedMedia,
    /// The body is larger than the limit.
    #[error("request body too large")]
    TooLarge,
    /// The API-key layer refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Refused for this client (foreign Origin).
    #[error("{0}")]
    Forbidden(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Wrong method for the route.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Asterisk refused a valid action; its message.
    #[error("Asterisk refused: {0}")]
    Refused(String),
    /// The agent has several calls: 409 with the candidates, so that the client names one.
    #[error("the agent has several calls; name the channel")]
    SeveralCalls(Vec<CallChannels>),
    /// A bound was hit.
    #[error("{0}")]
    TooMany(String),
    /// Asterisk is not reachable right now, or the service is stopping.
    #[error("{0}")]
    Unavailable(String),
    /// Asterisk did not answer in time.
    #[error("Asterisk did not answer in time")]
    Timeout,
    /// An internal failure; logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParam(..) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Auth(e) => e.status(),
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Refused(_) | ApiError::SeveralCalls(_) => StatusCode::CONFLICT,
            ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A parameter error.
    pub fn param(name: impl Into<String>, why: impl std::fmt::Display) -> Self {
        ApiError::BadParam(name.into(), why.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Auth(e) => e.into_response(),
            ApiError::SeveralCalls(calls) => {
                let candidates: Vec<_> = calls
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "agentChannel": c.agent_channel,
                            "bridgedChannel": c.bridged_channel,
                            "callerId": c.caller_id,
                        })
                    })
                    .collect();
                let body = serde_json::json!({
                    "error": "the agent has several calls; name the channel",
                    "candidates": candidates,
                });
                (StatusCode::CONFLICT, Json(body)).into_response()
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
            other => json_error(other.status(), &other.to_string()),
        }
    }
}

/// A JSON error response.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

impl From<PathRejection> for ApiError {
    /// A path parameter that does not decode (`%FF`): 400 naming it.
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    let key = crate::clip::shown(key, crate::clip::SHOWN_BYTES);
                    ApiError::BadRequest(format!("parameter `{key}`: not valid UTF-8"))
                }
                _ => ApiError::BadRequest("malformed path parameter".into()),
            },
            other => ApiError::Internal(other.body_text()),
        }
    }
}

impl From<WebSocketUpgradeRejection> for ApiError {
    /// A request to a WebSocket route that is not a valid upgrade: 400.
    fn from(rejection: WebSocketUpgradeRejection) -> Self {
        ApiError::BadRequest(format!(
            "a WebSocket upgrade is required: {}",
            rejection.body_text()
        ))
    }
}

impl From<PbxError> for ApiError {
    fn from(e: PbxError) -> Self {
        match e {
            PbxError::NotConnected => ApiError::Unavailable("not connected to Asterisk".into()),
            PbxError::Closed => ApiError::Unavailable("the service is shutting down".into()),
            PbxError::Restarting => {
                ApiError::Unavailable("the model is restarting after a failure".into())
            }
            PbxError::Refused(msg) => ApiError::Refused(msg),
            PbxError::UnknownQueue(q) => ApiError::NotFound(format!("no such queue: {q}")),
            e @ (PbxError::NoCall(_) | PbxError::UnknownChannel(_)) => {
                ApiError::NotFound(e.to_string())
            }
            PbxError::SeveralCalls(calls) => ApiError::SeveralCalls(calls),
            PbxError::Ami(e) => e.into(),
        }
    }
}

impl From<AmiError> for ApiError {
    fn from(e: AmiError) -> Self {
        match e {
            AmiError::Refused(msg) => ApiError::Refused(msg),
            AmiError::Timeout => ApiError::Timeout,
            AmiError::NotConnected | AmiError::Disconnected | AmiError::Closed => {
                ApiError::Unavailable("not connected to Asterisk".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::UnknownTicket => ApiError::NotFound("unknown or expired ticket".into()),
            HubError::TooManyTickets => ApiError::TooMany(e.to_string()),
            HubError::SnapshotTooLarge | HubError::TicketTooLarge(_) => {
                ApiError::BadRequest(e.to_string())
            }
            HubError::ShuttingDown | HubError::Entropy => ApiError::Unavailable(e.to_string()),
        }
    }
}

/// The JSON 404 of unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

/// The JSON 405 of known routes with a wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn answer(e: ApiError) -> (StatusCode, String) {
        let response = e.into_response();
        let status = response.status();
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn internals_are_hidden() {
        let (status, body) = answer(ApiError::Internal("codec: secret detail".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, r#"{"error":"internal error"}"#);
    }

    #[tokio::test]
    async fn model_and_ami_errors_map_to_documented_statuses() {
        let cases: Vec<(ApiError, StatusCode)> = vec![
            (
                PbxError::Refused("Already there".into()).into(),
                StatusCode::CONFLICT,
            ),
            (
                PbxError::UnknownQueue("q9".into()).into(),
                StatusCode::NOT_FOUND,
            ),
            (
                PbxError::NotConnected.into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (PbxError::Closed.into(), StatusCode::SERVICE_UNAVAILABLE),
            (PbxError::Restarting.into(), StatusCode::SERVICE_UNAVAILABLE),
            (
                PbxError::Ami(AmiError::Timeout).into(),
                StatusCode::GATEWAY_TIMEOUT,
            ),
            (
                AmiError::Disconnected.into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (HubError::UnknownTicket.into(), StatusCode::NOT_FOUND),
            (
                HubError::TooManyTickets.into(),
                StatusCode::TOO_MANY_REQUESTS,
            ),
            (
                HubError::ShuttingDown.into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (ApiError::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            (
                ApiError::param("agent", "is required"),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (error, want) in cases {
            let (status, body) = answer(error).await;
            assert_eq!(status, want, "{body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(v["error"].is_string(), "{body}");
        }
        let (_, body) = answer(PbxError::Refused("Already there".into()).into()).await;
        assert_eq!(body, r#"{"error":"Asterisk refused: Already there"}"#);
    }

    #[tokio::test]
    async fn several_calls_are_a_409_with_the_candidates() {
        let call = |own: &str, remote: &str, number: &str| CallChannels {
            agent_channel: Some(own.into()),
            bridged_channel: Some(remote.into()),
            caller_id: number.into(),
            name: Some("Caller".into()),
            queue: None,
            shown: true,
        };
        let calls = vec![
            call("PJSIP/147-01", "PJSIP/trunk-02", "0911"),
            call("PJSIP/147-03", "PJSIP/trunk-04", "0912"),
        ];
        let (status, body) = answer(PbxError::SeveralCalls(calls).into()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "error": "the agent has several calls; name the channel",
                "candidates": [
                    {"agentChannel": "PJSIP/147-01", "bridgedChannel": "PJSIP/trunk-02", "callerId": "0911"},
                    {"agentChannel": "PJSIP/147-03", "bridgedChannel": "PJSIP/trunk-04", "callerId": "0912"},
                ]
            })
        );
    }
}
