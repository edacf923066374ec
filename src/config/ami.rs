//! The `[ami]` section: how to reach Asterisk and keep the link alive. `Debug` and `Serialize`
//! never show the secret.

use serde::{Deserialize, Serialize};

use super::redact;

/// How to reach Asterisk.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmiSettings {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Manager user (`manager.conf`).
    pub username: String,
    /// Manager secret (redacted in `Debug` and `Serialize`).
    #[serde(serialize_with = "redact")]
    pub secret: String,
    /// Log in with the MD5 challenge.
    pub md5: bool,
    /// Keep-alive `Ping` period.
    pub keepalive_seconds: u64,
    /// No answer to a `Ping` within this: the link is dead.
    pub keepalive_timeout_seconds: u64,
    /// Longest wait between reconnect attempts, and the wait after a refused login.
    pub reconnect_max_seconds: u64,
}

impl Default for AmiSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 5038,
            username: "pbxis".into(),
            secret: String::new(),
            md5: false,
            keepalive_seconds: 20,
            keepalive_timeout_seconds: 10,
            reconnect_max_seconds: 30,
        }
    }
}

impl std::fmt::Debug for AmiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmiSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("md5", &self.md5)
            .field("keepalive_seconds", &self.keepalive_seconds)
            .field("keepalive_timeout_seconds", &self.keepalive_timeout_seconds)
            .field("reconnect_max_seconds", &self.reconnect_max_seconds)
            .finish()
    }
}
