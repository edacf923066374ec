//! The checks of values that their types alone do not make: numeric ranges (one table), the
//! dialplan contexts and the location template, the ticket secrets, and what start-up builds
//! from the settings (origins, API keys), so that a refusal names its key before anything runs.

use super::{ConfigError, Origin, Settings};
use crate::pbx::values::Context;

/// No upper bound.
const ANY: u64 = u64::MAX;

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        origin: Origin::Unknown,
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

impl Settings {
    /// Every numeric key with a range: (key, value, least, most, why).
    fn ranges(&self) -> [(&'static str, u64, u64, u64, &'static str); 13] {
        let (ami, limits) = (&self.ami, &self.limits);
        let size = |n: usize| u64::try_from(n).unwrap_or(ANY);
        [
            ("ami.keepalive_seconds", ami.keepalive_seconds, 1, 3600, ""),
            (
                "ami.keepalive_timeout_seconds",
                ami.keepalive_timeout_seconds,
                1,
                3600,
                "",
            ),
            (
                "ami.reconnect_max_seconds",
                ami.reconnect_max_seconds,
                1,
                3600,
                "",
            ),
            (
                "poll_timeout_seconds",
                self.poll_timeout_seconds,
                1,
                3600,
                "",
            ),
            (
                "unsub_delay_seconds",
                self.unsub_delay_seconds,
                1,
                ANY,
                " (0 would drop every ticket before a stream could attach)",
            ),
            (
                "queue_status_cache_ms",
                self.queue_status_cache_ms,
                0,
                60_000,
                " (a queue's status older than a minute is not a status)",
            ),
            ("keep_alive_seconds", self.keep_alive_seconds, 1, 300, ""),
            (
                "shutdown_drain_seconds",
                self.shutdown_drain_seconds,
                0,
                300,
                "",
            ),
            (
                "limits.max_connections",
                size(limits.max_connections),
                1,
                ANY,
                "",
            ),
            (
                "limits.header_read_timeout_seconds",
                limits.header_read_timeout_seconds,
                1,
                3600,
                "",
            ),
            (
                "limits.max_pending_bytes",
                size(limits.max_pending_bytes),
                4096,
                ANY,
                "",
            ),
            (
                "limits.max_body_bytes",
                size(limits.max_body_bytes),
                256,
                ANY,
                "",
            ),
            (
                "limits.max_header_bytes",
                size(limits.max_header_bytes),
                1024,
                ANY,
                "",
            ),
        ]
    }

    /// Checks values that the types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.location.contains("{agent}") {
            return Err(invalid("location", "must contain {agent}"));
        }
        if self.location.chars().any(char::is_control) {
            return Err(invalid("location", "must not contain control characters"));
        }
        for (key, value) in [
            ("hint_context", &self.hint_context),
            ("originate_context", &self.originate_context),
        ] {
            Context::parse(value).map_err(|e| invalid(key, &e.to_string()))?;
        }
        for (key, value, least, most, why) in self.ranges() {
            if !(least..=most).contains(&value) {
                let range = if most == ANY {
                    format!("at least {least}")
                } else {
                    format!("{least}..={most}")
                };
                return Err(invalid(key, &format!("must be {range}{why}")));
            }
        }
        self.tickets
            .check()
            .map_err(|(key, reason)| invalid(key, &reason))?;
        // What start-up builds from them, checked here so that a refusal names its source.
        crate::pbx::names::Location::parse(&self.location)
            .map_err(|e| invalid("location", &e.to_string()))?;
        crate::http::cors::Origins::parse(&self.cors_origins)
            .map_err(|e| invalid("cors_origins", &e.to_string()))?;
        crate::http::auth::Auth::new(self.auth.clone())
            .map_err(|e| invalid("auth.keys", &e.to_string()))?;
        Ok(())
    }
}
