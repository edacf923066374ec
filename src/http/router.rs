//! The routes and the layers around them: body-size limit, CORS, request tracing, and JSON
//! answers for unknown routes (404) and wrong methods (405).

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::TraceLayer;

use super::state::AppState;
use super::{api, error, longpoll, sse, websocket};

/// The whole HTTP application: REST API, streams and pages.
pub fn router(state: AppState) -> Router {
    let mut api = Router::new()
        .route("/queue/status", get(api::queue_status))
        .route("/queue/{action}", post(api::queue_action))
        .route("/originate/{src}/{dest}", post(api::originate))
        .route("/ticket", post(api::ticket))
        .route("/health", get(api::health))
        .route("/ready", get(api::ready))
        .route("/{ticket}/long-poll", get(longpoll::long_poll))
        .route("/{ticket}/sse", get(sse::sse))
        .route("/{ticket}/websocket", get(websocket::websocket));
    if state.allow_stop() {
        api = api.route("/stop", post(api::stop));
    }
    // The 405 fallback goes inside the layers: set after them, it would answer a CORS
    // preflight (OPTIONS) before the CORS layer sees it.
    let api = api
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.limits().max_body_bytes))
        .layer(state.origins().layer());
    api.fallback(error::not_found)
        .layer(TraceLayer::new_for_http().make_span_with(span))
        .with_state(state)
}

/// The request span: method and route only, never the path (it may hold a ticket).
fn span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("-", |p| p.as_str());
    tracing::info_span!("http", method = %request.method(), route)
}
