//! The service without keys: allowed only on loopback, and even there it refuses what a hostile
//! web page in the machine's browser would send: a DNS-rebinding `Host`, a cross-site `Origin`
//! (including a plain form post, which browsers send without a preflight).

use super::helpers::*;
use pbxis_ws::app::Application;
use pbxis_ws::config::Settings;
use pbxis_ws::http::auth::AuthConfig;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn an_open_service_refuses_a_non_loopback_address() {
    let mut settings = Settings {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Settings::default()
    };
    // Nothing listens there: the built service must not reach any real AMI server.
    settings.ami.port = 1;
    let refused = Application::build(settings.clone()).await;
    let message = refused.err().expect("refused").to_string();
    assert!(
        message.contains("API key") && message.contains("--insecure-no-auth"),
        "{message}"
    );
    let lab = Settings {
        insecure_no_auth: true,
        ..settings
    };
    assert!(
        Application::build(lab).await.is_ok(),
        "the explicit opt-out works"
    );
}

#[tokio::test]
async fn an_open_service_refuses_rebinding_and_cross_site_requests() {
    let app = spawn_app(|s| s.auth = AuthConfig::default()).await;
    let own = format!("http://{}", app.addr);
    app.assert_reaches_nothing(async {
        for path in ["/originate/147/1562830", "/queue/pause", "/ticket", "/stop"] {
            let form = [("queue", "q1"), ("agent", "147"), ("paused", "true")];
            let form: &[(&str, &str)] = if path == "/queue/pause" { &form } else { &[] };
            let rebinding = app
                .request(Method::POST, path)
                .header("host", format!("attacker.example.com:{}", app.addr.port()))
                .header(
                    "origin",
                    format!("http://attacker.example.com:{}", app.addr.port()),
                )
                .form(form)
                .send()
                .await
                .unwrap();
            let msg = expect_error(rebinding, StatusCode::FORBIDDEN, path).await;
            assert!(msg.contains("DNS rebinding"), "{msg}");
            for origin in ["https://evil.example.net", "null"] {
                let cross_site = app
                    .request(Method::POST, path)
                    .header("origin", origin)
                    .form(form)
                    .send()
                    .await
                    .unwrap();
                let msg = expect_error(cross_site, StatusCode::FORBIDDEN, path).await;
                assert!(msg.contains("other web origins"), "{msg}");
            }
        }
    })
    .await;
    app.wait_ready().await;
    // The service's own pages (same origin) and non-browser clients still work.
    let same_origin = app
        .request(Method::POST, "/queue/pause")
        .header("origin", &own)
        .form(&[("queue", "q1"), ("agent", "147"), ("paused", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::OK);
    let listed = app
        .request(Method::POST, "/ticket")
        .header("origin", ALLOWED_ORIGIN)
        .json(&serde_json::json!({"agents": ["147"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.status(),
        StatusCode::OK,
        "an origin on cors_origins is trusted"
    );
    let names: Vec<_> = app
        .foreign_actions()
        .iter()
        .filter_map(|a| a.action_name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["QueuePause"]);
}
