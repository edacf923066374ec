//! Unit tests of the page routes: what is served, with which headers, and what is refused.

use super::*;
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use tower::ServiceExt;

async fn get_path(path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let router: Router = routes().into();
    let response = router
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

fn error_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON error body");
    v["error"].as_str().expect("an error string").to_owned()
}

#[tokio::test]
async fn serves_each_page_for_each_transport() {
    for tech in TRANSPORTS {
        for (path, marker) in [
            (format!("/client/{tech}/147,149/q1,q2"), "pbxis-panel.js"),
            (format!("/wallboard/{tech}/q1,q2"), "pbxis-wallboard.js"),
            (format!("/agent/{tech}/147/q1,q2"), "pbxis-agent.js"),
        ] {
            let (status, headers, body) = get_path(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("script-src 'self'"), "{csp}");
            assert!(body.contains(marker), "{path} loads {marker}");
            assert!(body.contains("pbxis.js"), "{path} loads pbxis.js");
        }
    }
}

#[tokio::test]
async fn pages_reference_only_served_assets() {
    let served: Vec<&str> = ASSETS
        .iter()
        .map(|(p, _, _)| p.trim_start_matches('/'))
        .collect();
    for html in [PANEL_HTML, WALLBOARD_HTML, AGENT_HTML] {
        for part in html.split(['"', '\'']) {
            if let Some(name) = part.rsplit("../").next().filter(|_| part.contains("../")) {
                assert!(served.contains(&name), "page references unserved {part}");
            }
            assert!(!part.starts_with("http"), "page references outside {part}");
        }
    }
}

#[tokio::test]
async fn serves_assets_with_their_types() {
    for (path, content_type, body) in ASSETS {
        let (status, headers, got) = get_path(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(got, body);
    }
    let (_, _, js) = get_path("/pbxis.js").await;
    assert!(js.contains("connect"), "pbxis.js exposes connect");
}

#[tokio::test]
async fn unknown_transport_is_404_json() {
    for path in [
        "/client/ajax/147/q1",
        "/wallboard/SSE/q1",
        "/agent/web-socket/147/q1",
    ] {
        let (status, headers, body) = get_path(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert!(error_of(&body).contains("unknown transport"), "{body}");
    }
}

#[tokio::test]
async fn bad_agent_or_queue_is_400_json_naming_the_list() {
    for (path, list) in [
        ("/client/sse/147,,149/q1", "agents"),
        ("/client/sse/14%0A7/q1", "agents"),
        ("/client/sse/147/q1,q%3A2", "queues"),
        ("/client/websocket/147/q%20x", "queues"),
        ("/wallboard/long-poll/q1,", "queues"),
        ("/agent/sse/147,148/q1", "agent"),
        ("/agent/sse/147/q1%0D%0AAction:%20Originate", "queues"),
    ] {
        let (status, _, body) = get_path(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(error_of(&body).starts_with(list), "{path}: {body}");
    }
}

#[tokio::test]
async fn bad_percent_encoding_is_400_json() {
    let (status, _, body) = get_path("/client/sse/%FF/q1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), "malformed page URL");
}

#[tokio::test]
async fn too_long_a_list_is_400() {
    let agents: Vec<String> = (0..=MAX_LIST).map(|i| i.to_string()).collect();
    let (status, _, body) = get_path(&format!("/client/sse/{}/q1", agents.join(","))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("at most"), "{body}");
    let agents: Vec<String> = (0..MAX_LIST).map(|i| i.to_string()).collect();
    let (status, _, _) = get_path(&format!("/client/sse/{}/q1", agents.join(","))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn merges_beside_ticket_routes() {
    // The service's router has `/{ticket}/<transport>` routes beside these; both must resolve.
    let router: Router = Router::new()
        .route("/{ticket}/sse", get(|| async { "stream" }))
        .merge(Router::from(routes()));
    let response = router
        .clone()
        .oneshot(Request::get("/abc/sse").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = router
        .oneshot(Request::get("/pbxis.js").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
