//! The route list, and the OpenAPI 3.1 document generated from it. Every route the service
//! serves is registered here, through `utoipa-axum`: a route and its documentation go in
//! together, so a route cannot be served without being documented ([`api_routes`] and
//! [`page_routes`] are what `router.rs` serves; [`document`] is their documentation, served at
//! `/openapi.json` and rendered at `/docs`).
//!
//! To add an endpoint:
//! 1. its parameters: a struct in `http/api/requests.rs`, `#[derive(Deserialize, ToSchema,
//!    IntoParams)]` with `#[serde(deny_unknown_fields)]` and validated field types (a new
//!    validated type also gets its schema in [`schemas`]);
//! 2. its handler, taking `Key<scope::..>` first, then `PathParams<..>` if it has path
//!    segments, then `Params<YourRequest>` last, answering `Result<_, ApiError>`;
//! 3. `#[utoipa::path(..)]` on the handler: method, path, tag, `params(..)`, the
//!    `request_body` (JSON and form), `security`, and every status it answers, errors with
//!    `body = ErrorBody`;
//! 4. one line here: `.routes(routes!(api::area::your_handler))` in [`api_routes`].
//!
//! A new event type gets its schema in [`events`] (a struct and one line in its list): the
//! tests write one of every event and validate it, so they fail until it is there.
//!
//! The tests check that every route of the router is in the document with its methods, that
//! every `$ref` resolves, that each path's parameters match its route, and that real events
//! validate against the event schemas.

use std::sync::LazyLock;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, Required};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;
use super::{api, longpoll, metrics, pages, sse, websocket};

pub mod events;
pub mod schemas;

/// The REST endpoints and the streams (behind the API layers: body limit, CORS, 405).
/// `/stop` only when `allow_stop`.
pub fn api_routes(allow_stop: bool) -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::queue::queue_status))
        .routes(routes!(api::queue::queue_action))
        .routes(routes!(api::originate::originate))
        .routes(routes!(api::calls::calls))
        .routes(routes!(api::calls::hangup))
        .routes(routes!(api::calls::redirect_to))
        .routes(routes!(api::calls::park_and_announce))
        .routes(routes!(api::spy::spy))
        .routes(routes!(api::ticket::ticket))
        .routes(routes!(api::health::health))
        .routes(routes!(api::health::ready))
        .routes(routes!(api::key_scopes::key_scopes))
        .routes(routes!(metrics::metrics))
        .routes(routes!(longpoll::long_poll))
        .routes(routes!(sse::sse))
        .routes(routes!(websocket::websocket));
    if allow_stop {
        router.routes(routes!(api::health::stop))
    } else {
        router
    }
}

/// The pages, their assets, `/docs` and `/openapi.json` (no key, no API layers).
pub fn page_routes<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    pages::routes().routes(routes!(openapi_json))
}

/// The OpenAPI document of every route ([`api_routes`] with `/stop`, [`page_routes`]).
pub fn document() -> OpenApi {
    let mut document = api_routes(true)
        .merge(page_routes::<AppState>())
        .into_openapi();
    finish(&mut document);
    document
}

/// The document as served, built once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| document().to_json().unwrap_or_else(|_| "{}".into()));

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    summary = "This document",
    tag = "documentation",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        DOCUMENT.as_str(),
    )
        .into_response()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "pbxis-ws",
        description = "An Asterisk call center on the web: agents and queues over REST, long \
            polling, Server-Sent Events and WebSocket.\n\nEvery parameter may come in the query \
            string, a JSON object body or form data; the same parameter in both, a repeated \
            single-valued one and an unknown one are refused (400 naming it). Booleans are JSON \
            `true`/`false` or `\"true\"`/`\"false\"`; lists (`agents`, `queues`) a JSON array, a \
            repeated key or a comma-separated string.\n\nWith API keys configured, REST calls \
            send `Authorization: Bearer <key>` with a key of the scope each operation names; \
            the streams need no key (the ticket is the capability).",
        license(name = "EPL-1.0")
    ),
    tags(
        (name = "queues", description = "Queue status and members"),
        (name = "calls", description = "Calls"),
        (name = "streams", description = "Tickets and the event streams"),
        (name = "operations", description = "Liveness, readiness, metrics, stop"),
        (name = "pages", description = "The HTML pages and their assets"),
        (name = "documentation", description = "This document and its page"),
    ),
    components(schemas(
        schemas::Event,
        schemas::ErrorBody,
        crate::pbx::AgentId,
        crate::pbx::QueueName,
        crate::pbx::MemberName,
        crate::pbx::PauseReason,
        crate::pbx::CallerId,
        crate::pbx::Destination,
        crate::pbx::Variables,
    ))
)]
struct ApiDoc;

/// What applies to many operations at once: the key's security scheme; a query parameter of
/// an operation with a body may come in the body instead (so none is required in the query);
/// 413 and 415 wherever a body is read, 431 everywhere.
fn finish(document: &mut OpenApi) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "key",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            let has_body = operation.request_body.is_some();
            if let Some(body) = operation.request_body.as_mut() {
                relax(body, operation.parameters.as_mut());
            }
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.into())
                    .or_insert_with(|| error_response(description));
            };
            if has_body {
                add("413", "Body larger than `limits.max_body_bytes`");
                add("415", "A body that is neither JSON nor form data");
            }
            add(
                "431",
                "URI and headers larger than `limits.max_header_bytes`",
            );
        }
    }
}

fn relax(body: &mut RequestBody, parameters: Option<&mut Vec<utoipa::openapi::path::Parameter>>) {
    body.required = Some(Required::False);
    for parameter in parameters.into_iter().flatten() {
        if parameter.parameter_in == ParameterIn::Query {
            parameter.required = Required::False;
        }
    }
}

fn error_response(
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
        .into()
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests;
