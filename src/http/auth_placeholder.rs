//! Placeholder of the API-key layer (the real one replaces this file); same public API: every
//! request is allowed while no key is configured.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::pbx::{AgentId, QueueName};

/// `[auth]`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuthConfig {
    /// `[[auth.keys]]`.
    #[serde(default)]
    pub keys: Vec<ApiKeyConfig>,
}

/// One key.
#[derive(Clone, Debug, Deserialize)]
pub struct ApiKeyConfig {
    /// Name.
    pub name: String,
}

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Create tickets.
    Events,
    /// Queue actions, originate.
    Control,
    /// Stop, operational endpoints.
    Admin,
}

/// The key checker.
#[derive(Clone, Debug)]
pub struct Auth {
    open: bool,
}

/// Who is asking.
#[derive(Clone, Debug)]
pub struct Principal;

impl Principal {
    /// The key's name.
    pub fn name(&self) -> Option<&str> {
        None
    }
    /// Whether the key may see this agent.
    pub fn allows_agent(&self, _agent: &AgentId) -> bool {
        true
    }
    /// Whether the key may see this queue.
    pub fn allows_queue(&self, _queue: &QueueName) -> bool {
        true
    }
    /// Every agent allowed.
    pub fn check_agents<'a>(
        &self,
        _agents: impl IntoIterator<Item = &'a AgentId>,
    ) -> Result<(), AuthError> {
        Ok(())
    }
    /// Every queue allowed.
    pub fn check_queues<'a>(
        &self,
        _queues: impl IntoIterator<Item = &'a QueueName>,
    ) -> Result<(), AuthError> {
        Ok(())
    }
    /// The queue (or all) allowed.
    pub fn check_queue(&self, _queue: Option<&QueueName>) -> Result<(), AuthError> {
        Ok(())
    }
}

/// A refusal.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No or wrong key.
    #[error("missing or invalid API key")]
    Unauthorized,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        (axum::http::StatusCode::UNAUTHORIZED, "{}").into_response()
    }
}

/// A configuration error.
#[derive(Debug, thiserror::Error)]
#[error("bad auth configuration")]
pub struct AuthConfigError;

impl Auth {
    /// Builds the checker.
    pub fn new(config: AuthConfig) -> Result<Auth, AuthConfigError> {
        Ok(Auth {
            open: config.keys.is_empty(),
        })
    }
    /// No key configured.
    pub fn is_open(&self) -> bool {
        self.open
    }
    /// Checks the request's key for `scope`.
    pub fn authorize(&self, _headers: &HeaderMap, _scope: Scope) -> Result<Principal, AuthError> {
        if self.open {
            Ok(Principal)
        } else {
            Err(AuthError::Unauthorized)
        }
    }
}
