//! The `[auth]` section of the configuration (`[[auth.keys]]` tables), its checks, and the
//! digesting of each key at load. `Debug` shows names, scopes and restrictions, never a key or
//! digest.

use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

use super::{
    is_token_byte, ApiKey, Principal, Scope, MAX_KEY_LEN, MAX_NAME_LEN, MIN_PLAIN_KEY_LEN,
};
use crate::pbx::{AgentId, QueueName};

/// The `[auth]` section of the configuration: `[[auth.keys]]` tables.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The API keys; none means the service is open. Serialized as their names only.
    #[serde(default, serialize_with = "key_names")]
    pub keys: Vec<ApiKeyConfig>,
}

fn key_names<S: Serializer>(keys: &[ApiKeyConfig], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(keys.iter().map(|k| &k.name))
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

pub(super) fn load_key(config: ApiKeyConfig) -> Result<ApiKey, AuthConfigError> {
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
