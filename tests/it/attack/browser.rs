//! Hostile web pages: CORS preflights from an allowed and a foreign origin, cross-origin
//! requests, and WebSocket upgrades from a foreign `Origin` (which CORS does not cover).

use super::helpers::*;
use reqwest::{Method, StatusCode};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error as WsError;

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.request(Method::OPTIONS, path)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn allow_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn cors_preflight_is_allowed_for_listed_origins_only() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for path in [
            "/ticket",
            "/queue/pause",
            "/originate/147/1562830",
            "/queue/status",
        ] {
            let ok = preflight(&app, path, ALLOWED_ORIGIN).await;
            assert!(ok.status().is_success(), "{path}: {}", ok.status());
            assert_eq!(allow_origin(&ok).as_deref(), Some(ALLOWED_ORIGIN), "{path}");
            let methods = ok.headers()["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(methods.contains("POST"), "{methods}");
            let headers = ok.headers()["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .to_ascii_lowercase();
            assert!(headers.contains("authorization"), "{headers}");
            for origin in [
                FOREIGN_ORIGIN,
                "null",
                "https://app.example.com.evil.net",
                "http://app.example.com",
            ] {
                let refused = preflight(&app, path, origin).await;
                assert_eq!(allow_origin(&refused), None, "{path} from {origin}");
                assert!(refused
                    .headers()
                    .get("access-control-allow-credentials")
                    .is_none());
            }
        }
    })
    .await;
}

#[tokio::test]
async fn cross_origin_responses_are_readable_only_by_listed_origins() {
    let app = spawn_app(|_| {}).await;
    for (origin, expected) in [
        (ALLOWED_ORIGIN, Some(ALLOWED_ORIGIN)),
        (FOREIGN_ORIGIN, None),
    ] {
        let response = app
            .request(Method::POST, "/ticket")
            .header("origin", origin)
            .bearer_auth(EVENTS_KEY)
            .json(&serde_json::json!({"agents": ["147"], "queues": ["q1"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(allow_origin(&response).as_deref(), expected, "{origin}");
    }
    // A refusal is readable by the listed origin too, so the web app can show it.
    let refused = app
        .request(Method::POST, "/ticket")
        .header("origin", ALLOWED_ORIGIN)
        .json(&serde_json::json!({"agents": ["147"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&refused).as_deref(), Some(ALLOWED_ORIGIN));
    expect_error(refused, StatusCode::UNAUTHORIZED, "no key, cross-origin").await;
}

async fn ticket(app: &TestApp) -> String {
    let response = app
        .request(Method::POST, "/ticket")
        .bearer_auth(EVENTS_KEY)
        .json(&serde_json::json!({"agents": ["147"], "queues": ["q1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn streams_are_readable_cross_origin_only_by_listed_origins() {
    let app = spawn_app(|_| {}).await;
    for (origin, expected) in [
        (ALLOWED_ORIGIN, Some(ALLOWED_ORIGIN)),
        (FOREIGN_ORIGIN, None),
    ] {
        let t = ticket(&app).await;
        let poll = app
            .request(Method::GET, &format!("/{t}/long-poll"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(poll.status(), StatusCode::OK);
        assert_eq!(
            allow_origin(&poll).as_deref(),
            expected,
            "long-poll from {origin}"
        );
        let sse = app
            .request(Method::GET, &format!("/{t}/sse"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(allow_origin(&sse).as_deref(), expected, "SSE from {origin}");
    }
}

async fn websocket_from(app: &TestApp, ticket: &str, origin: &str) -> Result<(), WsError> {
    let url = format!("ws://{}/{ticket}/websocket", app.addr);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(origin).unwrap());
    tokio_tungstenite::connect_async(request).await.map(|_| ())
}

#[tokio::test]
async fn websocket_upgrades_from_foreign_origins_are_refused() {
    let app = spawn_app(|_| {}).await;
    let t = ticket(&app).await;
    for origin in [FOREIGN_ORIGIN, "null", "https://app.example.com.evil.net"] {
        match websocket_from(&app, &t, origin).await {
            Err(WsError::Http(response)) => {
                assert_eq!(response.status().as_u16(), 403, "{origin}");
                let body: serde_json::Value =
                    serde_json::from_slice(response.body().as_deref().unwrap_or(b"")).unwrap();
                assert!(body["error"].is_string(), "{body}");
            }
            other => panic!("upgrade from {origin} was not refused: {other:?}"),
        }
    }
    // The refused attempts did not consume the ticket: the listed origin still gets its stream.
    websocket_from(&app, &t, ALLOWED_ORIGIN)
        .await
        .expect("the allowed origin upgrades");
}
