//! The routes and the layers around them: body-size limit, CORS, request tracing, and JSON
//! answers for unknown routes (404) and wrong methods (405).

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::trace::TraceLayer;

use super::error::json_error;
use super::state::AppState;
use super::{access, error, openapi};

/// The whole HTTP application: REST API, streams and pages, from the route list
/// ([`openapi::api_routes`], [`openapi::page_routes`]: every route documented).
pub fn router(state: AppState) -> Router {
    let (api, _) = openapi::api_routes(state.allow_stop()).split_for_parts();
    let (pages, _) = openapi::page_routes().split_for_parts();
    // The 405 fallback goes in before the layers, so that CORS also wraps it (a preflight
    // OPTIONS request reaches a route's method-not-allowed fallback).
    let api = api
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.limits().max_body_bytes))
        .layer(state.origins().layer());
    let max_head = state.limits().max_header_bytes;
    api.merge(pages)
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(max_head, limit_head))
        .layer(TraceLayer::new_for_http().make_span_with(span))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access::record,
        ))
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

/// Refuses a request whose URI and headers together exceed `max` bytes (431), before any
/// handler sees it. (The HTTP server itself bounds what it reads to about 400 KiB.)
async fn limit_head(State(max): State<usize>, request: Request, next: Next) -> Response {
    let uri = request.uri();
    let head = uri.path().len()
        + uri.query().map_or(0, str::len)
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if head > max {
        return json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request headers too large",
        );
    }
    next.run(request).await
}
