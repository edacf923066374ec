//! The `[tickets]` section: the secret that makes tickets portable between instances (signed,
//! so that any instance sharing it serves any ticket), the secrets it replaced, a ticket's
//! lifetime, and the cap on what one signed ticket may hold. `Debug` never shows a secret.

use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

use crate::hub::signed::{TicketSigner, MIN_SECRET_LEN};

/// The `[tickets]` section.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketSettings {
    /// Signs tickets; the same on every instance behind one balancer. Empty: tickets are
    /// random and known to this instance only.
    #[serde(serialize_with = "super::redact")]
    pub secret: String,
    /// Earlier secrets: their tickets are still accepted (never signed with), so the secret can
    /// be rotated without dropping clients.
    #[serde(serialize_with = "redact_all")]
    pub previous_secrets: Vec<String>,
    /// How long another instance (or this one, after the ticket expired here) accepts a signed
    /// ticket, in seconds.
    pub lifetime_seconds: u32,
    /// Most bytes of owner, agents and queues in one signed ticket (its length in a URL is
    /// about 4/3 of it plus 60).
    pub max_filter_bytes: usize,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self {
            secret: String::new(),
            previous_secrets: Vec::new(),
            lifetime_seconds: 86_400,
            max_filter_bytes: 4096,
        }
    }
}

fn redact_all<S: Serializer>(secrets: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(secrets.iter().map(|_| "<redacted>"))
}

impl fmt::Debug for TicketSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketSettings")
            .field("secret", &(!self.secret.is_empty()).then_some("<redacted>"))
            .field("previous_secrets", &self.previous_secrets.len())
            .field("lifetime_seconds", &self.lifetime_seconds)
            .field("max_filter_bytes", &self.max_filter_bytes)
            .finish()
    }
}

impl TicketSettings {
    /// Why the section is invalid: `(key, reason)`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let short = |s: &String| !s.is_empty() && s.len() < MIN_SECRET_LEN;
        if short(&self.secret) {
            return Err((
                "tickets.secret",
                format!("must be at least {MIN_SECRET_LEN} bytes (a long random string)"),
            ));
        }
        if self
            .previous_secrets
            .iter()
            .any(|s| s.is_empty() || short(s))
        {
            return Err((
                "tickets.previous_secrets",
                format!("each must be at least {MIN_SECRET_LEN} bytes"),
            ));
        }
        if self.secret.is_empty() && !self.previous_secrets.is_empty() {
            return Err((
                "tickets.previous_secrets",
                "needs tickets.secret: earlier secrets only verify".into(),
            ));
        }
        if self.lifetime_seconds < 60 {
            return Err(("tickets.lifetime_seconds", "must be at least 60".into()));
        }
        if !(256..=16_384).contains(&self.max_filter_bytes) {
            return Err(("tickets.max_filter_bytes", "must be 256..=16384".into()));
        }
        Ok(())
    }

    /// The signer, if a secret is set.
    pub fn signer(&self) -> Option<Arc<TicketSigner>> {
        (!self.secret.is_empty()).then(|| {
            Arc::new(TicketSigner::new(
                &self.secret,
                &self.previous_secrets,
                self.lifetime_seconds,
                self.max_filter_bytes,
            ))
        })
    }
}
