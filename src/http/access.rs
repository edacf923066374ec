//! The access log and the request metrics: one line per request (target `pbxis_ws::access`:
//! method, matched route, status, latency, API key name) and the `pbxis_http_*` series. The
//! route is the router's pattern (`/{ticket}/sse`), never the path, which may hold a ticket; a
//! request no route matched is `unmatched`. The key's name is not secret; the key never
//! appears.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;

use super::state::AppState;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Logs and counts one request (the outermost layer of the router: it sees every answer, 413
/// and 431 included).
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let key = state.auth().key_name(request.headers()).map(str::to_owned);
    // Layers of the router run per route, after routing: the route is known here.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let took = started.elapsed();
    state
        .metrics()
        .http_request(method.as_str(), &route, status, took);
    tracing::info!(
        target: "pbxis_ws::access",
        method = %method,
        route,
        status,
        micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        key = key.as_deref().unwrap_or("-"),
        "request"
    );
    response
}
