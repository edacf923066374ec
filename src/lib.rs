//! pbxis-ws puts an Asterisk call center on the web.
//!
//! - [`ami`]: the Asterisk Manager Interface: codec, messages, the client connection.
//! - [`pbx`]: the call-center model: AMI events in, agent and queue events out.
//! - [`hub`]: tickets, filters, fan-out, expiry, bounds.
//! - [`http`]: the REST API, long-poll, SSE, WebSocket, pages, auth.
//! - [`sim`]: a simulated Asterisk (an AMI server with a live call center).
//! - [`supervise`]: restarts of a task that panicked, paced.
//! - [`config`]: one model of every setting, layered: file, environment, flags.
//! - [`app`]: start-up wiring of all the above.
//! - [`clip`]: shortening text from outside on a character boundary, in one place.
//! - [`telemetry`]: the metrics of one service instance, Prometheus text.
//! - [`logs`]: logging to stderr through a bounded, lossy, non-blocking writer.

pub mod ami;
pub mod app;
pub mod clip;
pub mod config;
pub mod http;
pub mod hub;
pub mod logs;
pub mod pbx;
pub mod sim;
pub mod supervise;
pub mod telemetry;
