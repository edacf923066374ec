//! The REST endpoints, one module per area. Each handler takes, in this order: the API key
//! checked for its scope ([`Key`]), its path ([`PathParams`](super::params::PathParams)), its
//! parameters as one typed struct of [`requests`] ([`Params`](super::params::Params)); so the
//! key is checked before anything else is read, every parameter is validated before the handler
//! runs, and nothing reaches Asterisk unless it is valid and allowed.
//!
//! - [`queue`]: `GET /queue/status`, `POST /queue/{action}`.
//! - [`originate`]: `POST /originate/{src}/{dest}`.
//! - [`calls`]: `GET /calls`, `POST /hangup`, `POST /redirect-to/{dest}`,
//!   `POST /park-and-announce`.
//! - [`spy`]: `POST /spy/{supervisor}/{agent}`.
//! - [`ticket`]: `POST /ticket`.
//! - [`health`]: `GET /health`, `GET /ready`, `POST /stop`.
//! - [`requests`]: the parameters of each endpoint.
//! - [`key`]: the API-key extractor.
//! - [`key_scopes`]: `GET /key`, the scopes of the request's key.

pub mod calls;
pub mod health;
pub mod key;
pub mod key_scopes;
pub mod originate;
pub mod queue;
pub mod requests;
pub mod spy;
pub mod ticket;

pub use health::{health, ready, stop};
pub use key::{scope, Key};
pub use originate::originate;
pub use queue::{parse_queue_action, queue_action, queue_status, report_json};
pub use ticket::ticket;
