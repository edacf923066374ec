//! The HTTP face: routes, parameters, errors, the three transports, pages, auth and CORS.
//!
//! - [`mod@router`]: the layers around the routes ([`router()`] builds the whole app).
//! - [`openapi`]: the route list and the OpenAPI document generated from it (`/openapi.json`).
//! - [`server`]: the HTTP/1 server loop: header read timeout, connection cap, graceful drain.
//! - [`front`]: the front of each connection: SSE streams served without hyper's buffers.
//! - [`state`]: [`AppState`], what every handler shares.
//! - [`params`]: typed parameters from the query string, a JSON body or form data.
//! - [`error`]: [`error::ApiError`], the JSON errors and their status codes.
//! - [`api`]: the REST endpoints (queue status and actions, originate, tickets, stop, health),
//!   one struct of parameters each, and the API-key extractor.
//! - [`longpoll`], [`sse`], [`websocket`]: the three event streams of a ticket.
//! - [`streams`]: what the streams share: attaching to a ticket, the per-address limit.
//! - [`cors`]: the CORS allow-list and the WebSocket Origin check.
//! - [`auth`]: API keys and scopes.
//! - [`metrics`]: `GET /metrics`, Prometheus text.
//! - [`access`]: the access log line and the request metrics of every request.
//! - [`pages`]: the HTML pages and `pbxis.js`, embedded in the binary.

pub mod access;
pub mod api;
pub mod auth;
pub mod cors;
pub mod error;
pub mod front;
pub mod longpoll;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod params;
pub mod router;
pub mod server;
pub mod sse;
pub mod state;
pub mod streams;
pub mod websocket;

pub use router::router;
pub use state::AppState;
