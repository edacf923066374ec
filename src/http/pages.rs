//! The HTML pages and their assets, embedded in the binary from `web/`: the supervisor panel
//! (`/client/<tech>/<agents>/<queues>`), the wallboard (`/wallboard/<tech>/<queues>`), the agent
//! page (`/agent/<tech>/<agent>/<queues>`), the client library `/pbxis.js` and the pages' shared
//! CSS and scripts.
//!
//! The HTML is static: each page reads its transport, agents and queues from its own URL. The
//! routes validate that URL first (transport one of `long-poll`, `sse`, `websocket`: else 404;
//! every agent an [`AgentId`], every queue a [`QueueName`]: else 400), so a page is only ever
//! served for a request the API would accept. Every error is JSON `{"error": "..."}`.

use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::Content;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::schemas::ErrorBody;
use crate::pbx::ids::{AgentId, NameError, QueueName};

/// The transports a page may use, as they appear in its URL.
pub const TRANSPORTS: [&str; 3] = ["long-poll", "sse", "websocket"];

/// The most agents or queues one page URL may name (a page is for people; the API has its own,
/// configurable ticket limits).
pub const MAX_LIST: usize = 500;

/// Content-Security-Policy of every page: nothing from another origin, no inline script or style.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'self'";

const PANEL_HTML: &str = include_str!("../../web/panel.html");
const WALLBOARD_HTML: &str = include_str!("../../web/wallboard.html");
const AGENT_HTML: &str = include_str!("../../web/agent.html");
const DOCS_HTML: &str = include_str!("../../web/docs.html");

const JS: &str = "text/javascript; charset=utf-8";

/// Static files served at the root: (path, content type, body).
const ASSETS: [(&str, &str, &str); 10] = [
    ("/pbxis.js", JS, include_str!("../../web/pbxis.js")),
    ("/pbxis-ui.js", JS, include_str!("../../web/pbxis-ui.js")),
    (
        "/pbxis-control.js",
        JS,
        include_str!("../../web/pbxis-control.js"),
    ),
    (
        "/pbxis-panel.js",
        JS,
        include_str!("../../web/pbxis-panel.js"),
    ),
    (
        "/pbxis-wallboard.js",
        JS,
        include_str!("../../web/pbxis-wallboard.js"),
    ),
    (
        "/pbxis-agent.js",
        JS,
        include_str!("../../web/pbxis-agent.js"),
    ),
    (
        "/pbxis.css",
        "text/css; charset=utf-8",
        include_str!("../../web/pbxis.css"),
    ),
    ("/docs.js", JS, include_str!("../../web/docs.js")),
    (
        "/docs.css",
        "text/css; charset=utf-8",
        include_str!("../../web/docs.css"),
    ),
    (
        "/favicon.svg",
        "image/svg+xml",
        include_str!("../../web/favicon.svg"),
    ),
];

/// Why a page URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The transport segment is not one of [`TRANSPORTS`].
    #[error("unknown transport {0:?}: use long-poll, sse or websocket")]
    UnknownTransport(String),
    /// An agent or queue in the URL is not a valid name.
    #[error("{list}: {source}")]
    BadName {
        /// Which list (`agents`, `queues`, `agent`).
        list: &'static str,
        /// What was wrong with it.
        source: NameError,
    },
    /// A list names more than [`MAX_LIST`] entries.
    #[error("{0}: at most {MAX_LIST} entries")]
    TooMany(&'static str),
    /// The path could not be read (bad percent-encoding, for one).
    #[error("malformed page URL")]
    BadPath,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = match self {
            PageError::UnknownTransport(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        (status, body).into_response()
    }
}

impl From<PathRejection> for PageError {
    fn from(_: PathRejection) -> Self {
        PageError::BadPath
    }
}

/// The routes of the pages, `/docs` and the assets, documented, for the route list
/// (`http::openapi`).
pub fn routes<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(panel))
        .routes(routes!(wallboard))
        .routes(routes!(agent))
        .routes(routes!(docs));
    for (path, content_type, body) in ASSETS {
        let method = get(move || async move { asset(content_type, body) });
        router = router.routes((Vec::new(), asset_doc(path, content_type), method));
    }
    router
}

/// The documentation of a static asset: `GET`, 200 with its content type.
fn asset_doc(path: &str, content_type: &str) -> utoipa::openapi::path::Paths {
    let text = ObjectBuilder::new().schema_type(Type::String).build();
    let ok = ResponseBuilder::new()
        .description("The file, embedded in the binary")
        .content(content_type, Content::new(Some(text)));
    let operation = OperationBuilder::new()
        .tag("pages")
        .operation_id(Some(format!(
            "asset_{}",
            path.trim_start_matches('/').replace(['.', '-'], "_")
        )))
        .summary(Some(format!("The static file {path}")))
        .response("200", ok);
    PathsBuilder::new()
        .path(path, PathItem::new(HttpMethod::Get, operation))
        .build()
}

#[utoipa::path(
    get,
    path = "/client/{tech}/{agents}/{queues}",
    tag = "pages",
    summary = "Panel: a supervisor's agents and queues",
    params(
        ("tech" = String, Path, description = "The transport: `long-poll`, `sse` or `websocket`"),
        ("agents" = String, Path, description = "Comma-separated agents"),
        ("queues" = String, Path, description = "Comma-separated queues"),
    ),
    responses(
        (status = 200, description = "The page (HTML, embedded in the binary)", content_type = "text/html"),
        (status = 400, description = "An invalid agent or queue name in the URL", body = ErrorBody),
        (status = 404, description = "An unknown transport", body = ErrorBody),
    )
)]
async fn panel(
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((tech, agents, queues)) = path?;
    check_transport(&tech)?;
    parse_list(&agents, "agents", AgentId::parse)?;
    parse_list(&queues, "queues", QueueName::parse)?;
    Ok(page(PANEL_HTML))
}

#[utoipa::path(
    get,
    path = "/wallboard/{tech}/{queues}",
    tag = "pages",
    summary = "Wallboard: queues on a wall screen (`?agents=` adds agents)",
    params(
        ("tech" = String, Path, description = "The transport: `long-poll`, `sse` or `websocket`"),
        ("queues" = String, Path, description = "Comma-separated queues"),
        ("agents" = Option<String>, Query, description = "Comma-separated agents whose status in each queue the wallboard also shows"),
    ),
    responses(
        (status = 200, description = "The page (HTML, embedded in the binary)", content_type = "text/html"),
        (status = 400, description = "An invalid agent or queue name in the URL", body = ErrorBody),
        (status = 404, description = "An unknown transport", body = ErrorBody),
    )
)]
async fn wallboard(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((tech, queues)) = path?;
    check_transport(&tech)?;
    parse_list(&queues, "queues", QueueName::parse)?;
    Ok(page(WALLBOARD_HTML))
}

#[utoipa::path(
    get,
    path = "/agent/{tech}/{agent}/{queues}",
    tag = "pages",
    summary = "Agent page: one agent's own status and calls",
    params(
        ("tech" = String, Path, description = "The transport: `long-poll`, `sse` or `websocket`"),
        ("agent" = String, Path, description = "The agent"),
        ("queues" = String, Path, description = "Comma-separated queues"),
    ),
    responses(
        (status = 200, description = "The page (HTML, embedded in the binary)", content_type = "text/html"),
        (status = 400, description = "An invalid agent or queue name in the URL", body = ErrorBody),
        (status = 404, description = "An unknown transport", body = ErrorBody),
    )
)]
async fn agent(
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((tech, agent, queues)) = path?;
    check_transport(&tech)?;
    AgentId::parse(&agent).map_err(|source| PageError::BadName {
        list: "agent",
        source,
    })?;
    parse_list(&queues, "queues", QueueName::parse)?;
    Ok(page(AGENT_HTML))
}

/// `GET /docs`: the API's documentation, rendered from `/openapi.json` by a script of ours.
#[utoipa::path(
    get,
    path = "/docs",
    summary = "This documentation as a page",
    tag = "documentation",
    responses((status = 200, description = "The documentation page (HTML, embedded in the binary)", content_type = "text/html"))
)]
async fn docs() -> Response {
    page(DOCS_HTML)
}

fn check_transport(tech: &str) -> Result<(), PageError> {
    if TRANSPORTS.contains(&tech) {
        Ok(())
    } else {
        Err(PageError::UnknownTransport(crate::clip::shown(
            tech,
            crate::clip::SHOWN_BYTES,
        )))
    }
}

/// Parses a comma-separated list of names; every entry must parse (so no empty entries).
fn parse_list<T>(
    raw: &str,
    list: &'static str,
    parse: fn(&str) -> Result<T, NameError>,
) -> Result<Vec<T>, PageError> {
    if raw.split(',').nth(MAX_LIST).is_some() {
        return Err(PageError::TooMany(list));
    }
    raw.split(',')
        .map(|item| parse(item).map_err(|source| PageError::BadName { list, source }))
        .collect()
}

fn page(html: &'static str) -> Response {
    let mut response = asset("text/html; charset=utf-8", html);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
#[path = "pages/tests.rs"]
mod tests;
