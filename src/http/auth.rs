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
//! actions and originates calls, `admin` stops the service and reaches operational endpoints. A
//! key that needs two of them lists both.
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
    /// `/stop` and operational endpoints.
    Admin,
}

impl Scope {
    /// The scope's name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Events => "events",
            Scope::Control => "control",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[auth]` section of the configuration: `[[auth.keys]]` tables.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The API keys; none means the service is open.
    #[serde(default)]
    pub keys: Vec<ApiKeyConfig>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("keys", &self.keys)
            .finish()
    }
}

/// One `[[auth.keys]]` table.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// A name for logs and for counting tickets per key (not secret).
    pub name: String,
    /// The SHA-256 digest of the key, 64 hex digits. Preferred.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The key itself. Accepted, but anyone who reads the file can use it: prefer `sha256`.
    #[serde(default)]
    pub key: Option<String>,
    /// What the key may do.
    pub scopes: Vec<Scope>,
    /// When set, the only agents the key may subscribe to or act on.
    #[serde(default)]
    pub agents: Option<Vec<AgentId>>,
    /// When set, the only queues the key may subscribe to or act on.
    #[serde(default)]
    pub queues: Option<Vec<QueueName>>,
}

impl fmt::Debug for ApiKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("ApiKeyConfig")
            .field("name", &self.name)
            .field("sha256", &redact(&self.sha256))
            .field("key", &redact(&self.key))
            .field("scopes", &self.scopes)
            .field("agents", &self.agents)
            .field("queues", &self.queues)
            .finish()
    }
}

/// Why the `[auth]` configuration was refused (start-up error; never names a key's value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    /// A name that is empty, too long or has characters other than letters, digits, `_ - . @`.
    #[error("auth key name {0:?} is not valid: use 1 to {MAX_NAME_LEN} letters, digits, '_', '-', '.', '@'")]
    BadName(String),
    /// Two keys with one name.
    #[error("auth key name {0:?} is used twice")]
    DuplicateName(String),
    /// Neither or both of `sha256` and `key`.
    #[error("auth key {0:?} needs exactly one of `sha256` (preferred) or `key`")]
    NoSecret(String),
    /// `sha256` is not 64 hex digits.
    #[error("auth key {0:?}: `sha256` must be 64 hex digits (printf %s KEY | sha256sum)")]
    BadDigest(String),
    /// A plain key that is too short or has characters a header cannot carry.
    #[error("auth key {0:?}: a plain `key` needs at least {MIN_PLAIN_KEY_LEN} visible ASCII characters, no spaces")]
    BadKey(String),
    /// No scope.
    #[error("auth key {0:?} has no scopes (events, control, admin)")]
    NoScopes(String),
    /// The same digest twice: two names for one key.
    #[error("auth keys {0:?} and {1:?} are the same key")]
    DuplicateKey(String, String),
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
    /// The action would touch every queue, and the key is restricted to some.
    #[error("this API key is restricted to some queues; name the queue")]
    AllQueues,
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

/// Who is calling, once authorized: a key's name and restrictions, or the anonymous principal of
/// an open service. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    name: Option<Arc<str>>,
    agents: Option<Arc<BTreeSet<AgentId>>>,
    queues: Option<Arc<BTreeSet<QueueName>>>,
}

impl Principal {
    /// The principal of an open service: no name, no restriction.
    pub fn anonymous() -> Self {
        Self {
            name: None,
            agents: None,
            queues: None,
        }
    }

    /// The key's name (`None` when the service is open). Use it as the ticket owner.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// True when the key may subscribe to or act on `agent`.
    pub fn allows_agent(&self, agent: &AgentId) -> bool {
        self.agents.as_ref().is_none_or(|set| set.contains(agent))
    }

    /// True when the key may subscribe to or act on `queue`.
    pub fn allows_queue(&self, queue: &QueueName) -> bool {
        self.queues.as_ref().is_none_or(|set| set.contains(queue))
    }

    /// True when the key is not restricted to some queues (it may, say, reset every queue).
    pub fn allows_all_queues(&self) -> bool {
        self.queues.is_none()
    }

    /// `Ok` when every agent is allowed, else the 403 naming the first that is not.
    pub fn check_agents<'a>(
        &self,
        agents: impl IntoIterator<Item = &'a AgentId>,
    ) -> Result<(), AuthError> {
        match agents.into_iter().find(|a| !self.allows_agent(a)) {
            Some(a) => Err(AuthError::Agent(a.clone())),
            None => Ok(()),
        }
    }

    /// `Ok` when every queue is allowed, else the 403 naming the first that is not.
    pub fn check_queues<'a>(
        &self,
        queues: impl IntoIterator<Item = &'a QueueName>,
    ) -> Result<(), AuthError> {
        match queues.into_iter().find(|q| !self.allows_queue(q)) {
            Some(q) => Err(AuthError::Queue(q.clone())),
            None => Ok(()),
        }
    }

    /// `Ok` for a queue the key may use; for `None` (every queue), `Ok` only when the key is not
    /// restricted to some queues.
    pub fn check_queue(&self, queue: Option<&QueueName>) -> Result<(), AuthError> {
        match queue {
            Some(q) => self.check_queues([q]),
            None if self.allows_all_queues() => Ok(()),
            None => Err(AuthError::AllQueues),
        }
    }
}

/// One configured key, digested.
struct ApiKey {
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
            let key = load_key(key)?;
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

    /// True when no key is configured: every request is allowed.
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
            open_request_allowed(headers, &self.trusted_origins)?;
            return Ok(Principal::anonymous());
        }
        let token = bearer_token(headers)?;
        let key = self.find(token).ok_or(AuthError::Invalid)?;
        if key.scopes.contains(&scope) {
            Ok(key.principal.clone())
        } else {
            Err(AuthError::Scope(scope))
        }
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

/// The checks of an open service; see [`Auth::authorize`].
fn open_request_allowed(headers: &HeaderMap, trusted: &[String]) -> Result<(), AuthError> {
    // No Host: not a browser over HTTP/1.1 (browsers speak HTTP/2 only over TLS).
    let host = match headers.get(header::HOST) {
        None => None,
        Some(h) => Some(h.to_str().map_err(|_| AuthError::Host)?),
    };
    if let Some(host) = host {
        if !is_local_or_ip(host) {
            return Err(AuthError::Host);
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| AuthError::CrossOrigin)?
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let same_origin = matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h));
    if same_origin || trusted.iter().any(|t| t == "*" || *t == origin) {
        Ok(())
    } else {
        Err(AuthError::CrossOrigin)
    }
}

/// True for a `Host` that names an IP address or `localhost` (a rebinding page's `Host` is
/// the attacker's domain name).
fn is_local_or_ip(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6]:port
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
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
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic()
}

fn load_key(config: ApiKeyConfig) -> Result<ApiKey, AuthConfigError> {
    let name = config.name;
    let name_ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.@".contains(c));
    if !name_ok {
        return Err(AuthConfigError::BadName(name));
    }
    let digest = match (config.sha256, config.key) {
        (Some(hex_digest), None) => parse_digest(hex_digest.trim())
            .ok_or_else(|| AuthConfigError::BadDigest(name.clone()))?,
        (None, Some(key)) => {
            if key.len() < MIN_PLAIN_KEY_LEN
                || key.len() > MAX_KEY_LEN
                || !key.bytes().all(is_token_byte)
            {
                return Err(AuthConfigError::BadKey(name));
            }
            Sha256::digest(key.as_bytes()).into()
        }
        _ => return Err(AuthConfigError::NoSecret(name)),
    };
    if config.scopes.is_empty() {
        return Err(AuthConfigError::NoScopes(name));
    }
    Ok(ApiKey {
        digest,
        scopes: config.scopes.into_iter().collect(),
        principal: Principal {
            name: Some(Arc::from(name.as_str())),
            agents: config.agents.map(|a| Arc::new(a.into_iter().collect())),
            queues: config.queues.map(|q| Arc::new(q.into_iter().collect())),
        },
    })
}

fn parse_digest(hex_digest: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut digest).ok()?;
    Some(digest)
}

#[cfg(test)]
mod tests;
