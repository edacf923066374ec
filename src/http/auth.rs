//! API keys: who may call which endpoint. A key has a name, one or more [`Scope`]s and,
//! optionally, a list of agents and queues it is restricted to. Clients send it as
//! `Authorization: Bearer <key>`; [`Auth::authorize`] turns the header into a [`Principal`] or an
//! [`AuthError`] (401 or 403, JSON body).
//!
//! Keys are stored as SHA-256 digests (`sha256 = "<hex>"` in the configuration; a plain
//! `key = "..."` is accepted but discouraged, and is hashed at load). A presented key is hashed and
//! compared with *every* configured digest in constant time, with no early exit, so neither the
//! response time nor its status tells how close a guess was or which key it resembled. Keys should
//! carry at least 128 random bits (`openssl rand -hex 32`); the digest of a key is made with
//! `printf %s KEY | sha256sum` or [`hash_key`].
//!
//! Scopes are independent (least privilege): `events` creates tickets, `control` runs queue
//! actions, originates calls and controls calls (redirect, park, hang up), `supervise` spies on
//! agents' calls (listen, whisper, barge), `admin` stops the service and reaches operational
//! endpoints. A key that needs two of them lists both.
//!
//! With no key configured the service is *open*: requests are allowed as an anonymous principal
//! without restrictions. Start-up allows that only on a loopback address (or with an explicit
//! opt-out), which is the caller's job. A service on loopback is still reachable from every web
//! page the machine's browser opens, so an open service also refuses what only a hostile page
//! would send (see [`Auth::authorize`]): a `Host` that is a domain name other than `localhost`
//! (DNS rebinding), and an `Origin` that is neither the service's own nor on the trusted list
//! (cross-site requests, including the form posts browsers send without a preflight).
//!
//! No key, digest or `Authorization` value ever appears in `Debug` output, logs or errors.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::pbx::{AgentId, QueueName};

mod config;
mod open;
mod principal;

pub use config::{ApiKeyConfig, AuthConfig, AuthConfigError};
pub use principal::Principal;

/// The longest bearer token looked at; anything longer is refused as invalid without hashing.
pub const MAX_KEY_LEN: usize = 512;
/// The shortest plain `key` accepted in the configuration (a digest says nothing of its key).
pub const MIN_PLAIN_KEY_LEN: usize = 16;
/// The longest key name (names are logged and used as ticket owners).
pub const MAX_NAME_LEN: usize = 64;

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Create tickets (receive events).
    Events,
    /// Queue actions and originate.
    Control,
    /// `/stop` and operational endpoints (`/health` and `/ready` included).
    Admin,
    /// `/health` and `/ready` only: for load balancers' and orchestrators' probes, which keep
    /// their key in plain configuration.
    Health,
    /// Listen to, whisper to or barge into an agent's call (`POST /spy`).
    Supervise,
}

impl Scope {
    /// Every scope: what a request to an open service may do.
    pub const ALL: [Scope; 5] = [
        Scope::Events,
        Scope::Control,
        Scope::Admin,
        Scope::Health,
        Scope::Supervise,
    ];

    /// The scope's name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Events => "events",
            Scope::Control => "control",
            Scope::Admin => "admin",
            Scope::Health => "health",
            Scope::Supervise => "supervise",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("an API key is required: send Authorization: Bearer <key>")]
    Missing,
    /// A malformed header or a key that matches no configured key.
    #[error("invalid API key")]
    Invalid,
    /// The key lacks the scope.
    #[error("this API key does not have the {0} scope")]
    Scope(Scope),
    /// The key is restricted to other agents.
    #[error("this API key may not use agent {0}")]
    Agent(AgentId),
    /// The key is restricted to other queues.
    #[error("this API key may not use queue {0}")]
    Queue(QueueName),
    /// The action would touch every queue (and all their members), and the key is restricted to
    /// some queues or agents.
    #[error("this API key is restricted to some queues or agents; name the queue")]
    AllQueues,
    /// A raw channel named by a key restricted to some queues or agents (which may act only on
    /// its agents' calls).
    #[error("this API key is restricted to some queues or agents; name an agent, not a channel")]
    Channel,
    /// An open service addressed by a host name (DNS rebinding protection).
    #[error(
        "this service has no API key, so it only answers requests addressed to an IP address or \
         localhost (protection against DNS rebinding); configure an API key to use a host name"
    )]
    Host,
    /// An open service called from another web origin (cross-site request protection).
    #[error(
        "this service has no API key, so it refuses requests from other web origins (protection \
         against cross-site requests); configure an API key, or list the origin in cors_origins"
    )]
    CrossOrigin,
}

impl AuthError {
    /// 401 for a missing or wrong key, 403 for a key that may not do this.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing | AuthError::Invalid => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let body = axum::Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (self.status(), body).into_response();
        if self.status() == StatusCode::UNAUTHORIZED {
            let challenge = match self {
                AuthError::Invalid => r#"Bearer realm="pbxis-ws", error="invalid_token""#,
                _ => r#"Bearer realm="pbxis-ws""#,
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// The SHA-256 digest of a key, lowercase hex: what goes into `sha256 = "..."`.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// One configured key, digested.
pub(crate) struct ApiKey {
    digest: [u8; 32],
    scopes: BTreeSet<Scope>,
    principal: Principal,
}

/// The configured keys; see the module documentation.
#[derive(Clone, Default)]
pub struct Auth {
    keys: Arc<Vec<ApiKey>>,
    /// Origins an open service accepts besides its own (`*`: any).
    trusted_origins: Arc<Vec<String>>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.keys.iter().map(|k| k.principal.name()).collect();
        f.debug_struct("Auth").field("keys", &names).finish()
    }
}

impl Auth {
    /// Checks and digests the configured keys.
    pub fn new(config: AuthConfig) -> Result<Auth, AuthConfigError> {
        let mut keys: Vec<ApiKey> = Vec::with_capacity(config.keys.len());
        for key in config.keys {
            let key = config::load_key(key)?;
            if let Some(same) = keys.iter().find(|k| k.principal.name == key.principal.name) {
                let name = same.principal.name().unwrap_or_default().to_owned();
                return Err(AuthConfigError::DuplicateName(name));
            }
            if let Some(same) = keys.iter().find(|k| k.digest == key.digest) {
                return Err(AuthConfigError::DuplicateKey(
                    same.principal.name().unwrap_or_default().to_owned(),
                    key.principal.name().unwrap_or_default().to_owned(),
                ));
            }
            keys.push(key);
        }
        Ok(Auth {
            keys: Arc::new(keys),
            trusted_origins: Arc::default(),
        })
    }

    /// The web origins an *open* service accepts requests from besides its own: the CORS
    /// allow-list (`https://app.example.com`; `*` for any). Ignored when keys are configured.
    pub fn with_trusted_origins<I, S>(mut self, origins: I) -> Auth
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let origins = origins
            .into_iter()
            .map(|o| o.as_ref().trim().trim_end_matches('/').to_ascii_lowercase())
            .collect();
        self.trusted_origins = Arc::new(origins);
        self
    }

    /// An open service: no keys.
    pub fn open() -> Auth {
        Auth::default()
    }

    /// True when no key is configured: requests need no key (see [`Auth::authorize`]).
    pub fn is_open(&self) -> bool {
        self.keys.is_empty()
    }

    /// The number of configured keys.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Identifies the caller by its bearer key and checks that the key has `scope`.
    ///
    /// An open service (no key) answers everyone as [`Principal::anonymous`], except requests
    /// that only a hostile web page sends: a `Host` that is a domain name other than `localhost`
    /// (a DNS-rebinding page), or an `Origin` that is `null`, or neither the `Host` itself nor a
    /// trusted origin (a cross-site request): both are 403.
    pub fn authorize(&self, headers: &HeaderMap, scope: Scope) -> Result<Principal, AuthError> {
        if self.is_open() {
            open::open_request_allowed(headers, &self.trusted_origins)?;
            return Ok(Principal::anonymous());
        }
        let token = bearer_token(headers)?;
        let key = self.find(token).ok_or(AuthError::Invalid)?;
        let admin_reads_health = scope == Scope::Health && key.scopes.contains(&Scope::Admin);
        if key.scopes.contains(&scope) || admin_reads_health {
            Ok(key.principal.clone())
        } else {
            Err(AuthError::Scope(scope))
        }
    }

    /// The scopes of the request's key, any valid key (what `GET /key` answers, so that a page
    /// offers only what it may do); on an open service every scope, with the open service's
    /// checks of [`Auth::authorize`].
    pub fn scopes(&self, headers: &HeaderMap) -> Result<BTreeSet<Scope>, AuthError> {
        if self.is_open() {
            open::open_request_allowed(headers, &self.trusted_origins)?;
            return Ok(Scope::ALL.into_iter().collect());
        }
        let token = bearer_token(headers)?;
        let key = self.find(token).ok_or(AuthError::Invalid)?;
        Ok(key.scopes.clone())
    }

    /// The name of the key the request carries, if it is one of ours (any scope): for the
    /// access log. Never the key itself.
    pub fn key_name(&self, headers: &HeaderMap) -> Option<&str> {
        let token = bearer_token(headers).ok()?;
        self.find(token)?.principal.name()
    }

    /// The key whose digest matches `token`'s: every key is compared, in constant time.
    fn find(&self, token: &str) -> Option<&ApiKey> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Index + 1 of the matching key, 0 for none; selected without branching on secrets.
        let mut found = 0u32;
        for (i, key) in self.keys.iter().enumerate() {
            let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let hit = key.digest.ct_eq(&digest);
            found = u32::conditional_select(&found, &index, hit);
        }
        let index = usize::try_from(found).ok()?.checked_sub(1)?;
        self.keys.get(index)
    }
}

/// The key of the one `Authorization: Bearer <key>` header (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Invalid);
    }
    let value = value.to_str().map_err(|_| AuthError::Invalid)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Invalid)?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(AuthError::Invalid);
    }
    let token = token.trim_matches(' ');
    if token.is_empty() || token.len() > MAX_KEY_LEN || !token.bytes().all(is_token_byte) {
        return Err(AuthError::Invalid);
    }
    Ok(token)
}

/// Visible ASCII, no space: what a key may consist of.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic()
}

#[cfg(test)]
mod tests;
