//! Path parameters that do not decode (`%FF`) and WebSocket routes called without an upgrade:
//! a JSON error like every other refusal, never axum's plain-text rejection, and on the
//! endpoints that need a key, the 401 comes first. A ticket that does not decode is just an
//! unknown ticket on every transport.

use super::helpers::*;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn undecodable_path_parameters_get_json_errors_after_the_key_check() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for (path, name) in [
            ("/queue/%FF", "action"),
            ("/originate/%FF/1562830", "src"),
            ("/originate/147/%FF%FE", "dest"),
        ] {
            let anonymous = app.request(Method::POST, path).send().await.unwrap();
            expect_error(anonymous, StatusCode::UNAUTHORIZED, path).await;
            let with_key = app
                .request(Method::POST, path)
                .bearer_auth(FULL_KEY)
                .send()
                .await
                .unwrap();
            let msg = expect_error(with_key, StatusCode::BAD_REQUEST, path).await;
            assert!(msg.contains(name), "{path}: {msg}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_undecodable_ticket_is_an_unknown_ticket_on_every_transport() {
    let app = spawn_app(|_| {}).await;
    let poll = app
        .request(Method::GET, "/%FF/long-poll")
        .send()
        .await
        .unwrap();
    let msg = expect_error(poll, StatusCode::NOT_FOUND, "long-poll").await;
    assert!(msg.contains("unknown"), "{msg}");

    let sse = app.request(Method::GET, "/%FF/sse").send().await.unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    let mut body = String::new();
    let mut chunks = sse.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        body.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(
        body.contains("event: close\ndata: {\"reason\":\"unknownTicket\"}"),
        "{body}"
    );

    let url = format!("ws://{}/%FF/websocket", app.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = socket.next().await.unwrap().unwrap();
    assert_eq!(
        first.into_text().unwrap().as_str(),
        r#"{"type":"closed","reason":"unknownTicket"}"#
    );
}

#[tokio::test]
async fn a_websocket_route_without_an_upgrade_gets_a_json_error() {
    let app = spawn_app(|_| {}).await;
    for path in ["/%FF/websocket", "/0123456789abcdef/websocket"] {
        let response = app.request(Method::GET, path).send().await.unwrap();
        let msg = expect_error(response, StatusCode::BAD_REQUEST, path).await;
        assert!(msg.contains("WebSocket"), "{path}: {msg}");
    }
}
