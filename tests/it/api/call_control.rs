//! Call control over the REST API against the simulator over real TCP: `variables` on
//! originate (passed as `Variable` headers, validated first).

use serde_json::json;

use crate::support::app::spawn_app;
use pbxis_ws::ami::message::AmiMessage;

fn originates(actions: Vec<AmiMessage>) -> Vec<AmiMessage> {
    actions
        .into_iter()
        .filter(|m| {
            m.get("Action")
                .is_some_and(|a| a.eq_ignore_ascii_case("originate"))
        })
        .collect()
}

#[tokio::test]
async fn originate_passes_variables_as_variable_headers() {
    let app = spawn_app().await;
    app.sim.clear_actions();
    let body =
        json!({"callerId": "7012888", "variables": {"CRM_ID": "42", "CAMPAIGN": "winter sale"}});
    let (status, id) = app.post_json("/originate/148/1562830", body).await;
    assert_eq!(status, 200, "{id}");
    // From a query string (or a form), the object comes as a JSON string.
    let (status, body) = app
        .post_query(
            "/originate/147/1562830",
            &[("variables", r#"{"__TICKET":"A-17"}"#)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = originates(app.sim.actions_received());
    assert_eq!(sent.len(), 2);
    let vars = |m: &AmiMessage| m.get_all("Variable").map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(vars(&sent[0]), ["CAMPAIGN=winter sale", "CRM_ID=42"]);
    assert_eq!(vars(&sent[1]), ["__TICKET=A-17"]);
    app.stop_and_join().await;
}

#[tokio::test]
async fn bad_variables_are_refused_and_never_reach_asterisk() {
    let app = spawn_app().await;
    app.sim.clear_actions();
    let many: serde_json::Map<String, serde_json::Value> =
        (0..21).map(|i| (format!("V{i}"), json!("x"))).collect();
    for variables in [
        json!({"CRM-ID": "42"}),
        json!({"1ST": "42"}),
        json!({"CRM_ID": "4,2"}),
        json!({"CRM_ID": "x\r\nAction: Hangup"}),
        json!({"CRM_ID": 4.5}),
        json!({"CRM_ID": {"nested": "x"}}),
        json!(["CRM_ID=42"]),
        json!("not an object"),
        serde_json::Value::Object(many),
    ] {
        let body = json!({ "variables": variables });
        let (status, body) = app.post_json("/originate/148/1562830", body).await;
        assert_eq!(status, 400, "{variables}: {body}");
        assert!(
            body["error"].as_str().unwrap_or("").contains("variables"),
            "{body}"
        );
    }
    let (status, _) = app
        .post_query("/originate/148/1562830", &[("variables", "CRM_ID=42")])
        .await;
    assert_eq!(status, 400);
    assert!(originates(app.sim.actions_received()).is_empty());
    app.stop_and_join().await;
}
