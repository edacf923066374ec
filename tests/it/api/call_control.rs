//! Call control over the REST API against the simulator over real TCP: `variables` on
//! originate (passed as `Variable` headers, validated first); `GET /calls`, `POST /hangup`,
//! `POST /redirect-to/{dest}`, `POST /park-and-announce`: success, Asterisk's refusal passed on
//! (409), an agent without a call or an unknown channel (404), bad input (400, nothing sent).
//! Keys and scopes (403) are in the attack suite (`attack::keys`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::app::{spawn_app, spawn_app_on, status_json, PATIENCE};
use pbxis_ws::ami::message::AmiMessage;
use pbxis_ws::sim::SimConfig;

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

/// A service whose simulated calls last (600 s of talk) and whose agent 147 answers at once.
pub(super) async fn talking_app() -> crate::support::app::TestApp {
    let sim = SimConfig {
        talk_time: (Duration::from_secs(600), Duration::from_secs(600)),
        ..SimConfig::quiet()
    };
    let app = spawn_app_on(sim, |_| {}, None).await;
    app.sim.set_answer_delay("147", Some(Duration::ZERO));
    app
}

/// A q1 caller answered by 147: its one call, as `GET /calls` lists it.
pub(super) async fn answered_call(app: &crate::support::app::TestApp, number: &str) -> Value {
    let uid = app.sim.inbound_call("q1", number, Some("Caller")).await;
    assert!(!uid.is_empty());
    let call = tokio::time::timeout(PATIENCE, async {
        loop {
            let (status, calls) = app.get("/calls?agent=147").await;
            assert_eq!(status, 200, "{calls}");
            let found = calls.as_array().and_then(|c| {
                c.iter()
                    .find(|c| c["callerId"] == number && c["bridgedChannel"].is_string())
                    .cloned()
            });
            if let Some(call) = found {
                return call;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    call.expect("147 answers the caller")
}

pub(super) fn sent(app: &crate::support::app::TestApp, action: &str) -> Vec<AmiMessage> {
    app.sim
        .actions_received()
        .into_iter()
        .filter(|m| {
            m.action_name()
                .is_some_and(|a| a.eq_ignore_ascii_case(action))
        })
        .collect()
}

#[tokio::test]
async fn calls_lists_both_channels_and_redirect_moves_the_caller() {
    let app = talking_app().await;
    let call = answered_call(&app, "0911000001").await;
    let agent_channel = call["agentChannel"].as_str().unwrap().to_owned();
    let caller_channel = call["bridgedChannel"].as_str().unwrap().to_owned();
    assert!(agent_channel.starts_with("PJSIP/147-"), "{call}");
    assert!(caller_channel.starts_with("PJSIP/trunk-"), "{call}");
    assert_eq!(call["queue"], "q1");
    assert_eq!(call["name"], "Caller");
    assert_eq!(call["shown"], true);
    let (status, calls) = app.get("/calls?agent=148").await;
    assert_eq!((status, calls), (200, json!([])));

    app.sim.clear_actions();
    let body = json!({"agent-or-channel": "147"});
    let (status, body) = app.post_json("/redirect-to/1562830", body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"message": "Redirect successful"}));
    let redirect = sent(&app, "Redirect");
    assert_eq!(redirect.len(), 1);
    for (k, v) in [
        ("Channel", caller_channel.as_str()),
        ("Context", "default"),
        ("Exten", "1562830"),
        ("Priority", "1"),
    ] {
        assert_eq!(redirect[0].get(k), Some(v), "{k}");
    }
    app.stop_and_join().await;
}

#[tokio::test]
async fn hangup_ends_the_agents_own_channel() {
    let app = talking_app().await;
    let call = answered_call(&app, "0911000002").await;
    app.sim.clear_actions();
    let (status, body) = app
        .post_query("/hangup", &[("agent-or-channel", "147")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"message": "Channel Hungup"}));
    let hangup = sent(&app, "Hangup");
    assert_eq!(hangup[0].get("Channel"), call["agentChannel"].as_str());
    // The call is gone from the model.
    tokio::time::timeout(PATIENCE, async {
        while app.get("/calls?agent=147").await.1 != json!([]) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the call ends");
    app.stop_and_join().await;
}

#[tokio::test]
async fn park_parks_the_caller_and_tells_where_it_waits() {
    let app = talking_app().await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let call = answered_call(&app, "0911000003").await;
    app.sim.clear_actions();
    let (status, body) = app
        .post_json("/park-and-announce", json!({"agent-or-channel": "147"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Park successful");
    assert_eq!(body["lot"], "default");
    assert!(body["timeout"].as_u64().is_some_and(|t| t > 0), "{body}");
    let park = sent(&app, "Park");
    assert_eq!(park[0].get("Channel"), call["bridgedChannel"].as_str());
    assert_eq!(park[0].get("TimeoutChannel"), call["agentChannel"].as_str());
    assert_eq!(
        park[0].get("AnnounceChannel"),
        call["agentChannel"].as_str()
    );
    let events = app
        .long_poll_until(&ticket, |e| e["type"] == "parked")
        .await;
    let parked = events.iter().find(|e| e["type"] == "parked").unwrap();
    assert_eq!(parked["agent"], "147");
    assert_eq!(parked["queue"], "q1");
    assert_eq!(parked["state"], "parked");
    assert_eq!(parked["channel"], call["bridgedChannel"]);
    assert_eq!(parked["callerId"], "0911000003");
    assert!(
        parked["space"].as_str().is_some_and(|s| !s.is_empty()),
        "{parked}"
    );
    assert_eq!(
        parked["space"], body["space"],
        "the answer tells the same space"
    );
    app.stop_and_join().await;
}

#[tokio::test]
async fn refusals_unknowns_and_bad_input() {
    let app = talking_app().await;
    let call = answered_call(&app, "0911000004").await;
    // Asterisk's refusal, passed on: the agent's own channel is no caller to park.
    let own = call["agentChannel"].as_str().unwrap();
    let (status, body) = app
        .post_json("/park-and-announce", json!({"agent-or-channel": own}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "Asterisk refused: Park action failed");
    // Unknown: an agent without a call, a channel the model does not know.
    app.sim.clear_actions();
    for (path, who, error) in [
        ("/hangup", "148", "agent 148 has no call"),
        ("/park-and-announce", "149", "agent 149 has no call"),
        (
            "/redirect-to/1562830",
            "PJSIP/147-7fffffff",
            "no such channel: PJSIP/147-7fffffff",
        ),
        (
            "/hangup",
            "PJSIP/nobody-01",
            "no such channel: PJSIP/nobody-01",
        ),
    ] {
        let (status, body) = app.post_json(path, json!({"agent-or-channel": who})).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some(error)),
            "{path} {who}"
        );
    }
    // Bad input: nothing reaches Asterisk.
    for (path, body) in [
        (
            "/hangup",
            json!({"agent-or-channel": "PJSIP/147\r\nAction: Hangup"}),
        ),
        ("/hangup", json!({"agent-or-channel": "PJSIP/147-01,q"})),
        ("/hangup", json!({"agent-or-channel": "14 7"})),
        ("/hangup", json!({})),
        ("/hangup", json!({"agent-or-channel": "147", "cause": "17"})),
        ("/redirect-to/_X.", json!({"agent-or-channel": "147"})),
        ("/redirect-to/s", json!({"agent-or-channel": "147"})),
        ("/park-and-announce", json!({"agent": "147"})),
    ] {
        let (status, answer) = app.post_json(path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (status, _) = app.get("/calls").await;
    assert_eq!(status, 400);
    let (status, _) = app.get("/calls?agent=1%0A47").await;
    assert_eq!(status, 400);
    let control: Vec<_> = app
        .sim
        .actions_received()
        .into_iter()
        .filter(|m| {
            m.action_name()
                .is_some_and(|a| ["Hangup", "Redirect", "Park"].contains(&a))
        })
        .collect();
    assert!(control.is_empty(), "{control:?}");
    app.stop_and_join().await;
}

#[tokio::test]
async fn spy_rings_the_supervisor_into_chanspy_and_tells_the_mode() {
    let app = talking_app().await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    answered_call(&app, "0911000005").await;
    app.sim.set_answer_delay("148", Some(Duration::ZERO));
    app.sim.clear_actions();
    let (status, id) = app
        .post_json("/spy/148/147", json!({"mode": "whisper"}))
        .await;
    assert_eq!(status, 200, "{id}");
    let originate = sent(&app, "Originate");
    assert_eq!(originate.len(), 1);
    for (k, v) in [
        ("Channel", "PJSIP/148"),
        ("Application", "ChanSpy"),
        ("Data", "PJSIP/147-,qw"),
        ("Async", "true"),
    ] {
        assert_eq!(originate[0].get(k), Some(v), "{k}");
    }
    assert_eq!(originate[0].get("ChannelId"), id.as_str());
    let events = app
        .long_poll_until(&ticket, |e| e["type"] == "spyStarted")
        .await;
    let started = events.iter().find(|e| e["type"] == "spyStarted").unwrap();
    assert_eq!(
        (&started["agent"], &started["supervisor"], &started["mode"]),
        (&json!("147"), &json!("148"), &json!("whisper"))
    );
    // Bad input: nothing is sent.
    app.sim.clear_actions();
    for (path, body) in [
        ("/spy/148/147", json!({"mode": "shout"})),
        ("/spy/148/147", json!({})),
        ("/spy/148/147", json!({"mode": "listen", "options": "qB"})),
        ("/spy/148/14%0A7", json!({"mode": "listen"})),
        ("/spy/148/PJSIP%2F147", json!({"mode": "listen"})),
    ] {
        let (status, answer) = app.post_json(path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
    }
    assert!(sent(&app, "Originate").is_empty());
    app.stop_and_join().await;
}

#[tokio::test]
async fn spying_needs_the_supervise_scope_and_a_member_of_the_keys_queues() {
    use pbxis_ws::http::auth::{hash_key, ApiKeyConfig, AuthConfig, Scope};
    use pbxis_ws::pbx::QueueName;
    const ADMIN: &str = "call-control-admin-key-0123456789";
    const CONTROL: &str = "call-control-control-key-0123456789";
    const SUPERVISE_Q2: &str = "call-control-supervise-q2-0123456789";
    let key = |name: &str, secret: &str, scopes: &[Scope]| ApiKeyConfig {
        name: name.into(),
        sha256: Some(hash_key(secret)),
        key: None,
        scopes: scopes.to_vec(),
        agents: None,
        queues: None,
    };
    let mut q2 = key("supervise-q2", SUPERVISE_Q2, &[Scope::Supervise]);
    q2.queues = Some(vec![QueueName::parse("q2").unwrap()]);
    let keys = AuthConfig {
        keys: vec![
            key("admin", ADMIN, &[Scope::Admin]),
            key("control", CONTROL, &[Scope::Control, Scope::Events]),
            q2,
        ],
    };
    let app = spawn_app_on(SimConfig::quiet(), |s| s.auth = keys, Some(ADMIN)).await;
    let spy = |key: &'static str| {
        app.http
            .post(app.url("/spy/148/147"))
            .bearer_auth(key)
            .json(&json!({"mode": "listen"}))
            .send()
    };
    let (status, body) = status_json(spy(CONTROL).await.unwrap()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("supervise"),
        "{body}"
    );
    // 147 is a member of q2: the key may spy on it.
    let (status, body) = status_json(spy(SUPERVISE_Q2).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    // Once 147 left q2, no more.
    let removed = app
        .http
        .post(app.url("/queue/remove"))
        .bearer_auth(CONTROL)
        .json(&json!({"queue": "q2", "agent": "147"}))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    let refused = tokio::time::timeout(PATIENCE, async {
        loop {
            let (status, body) = status_json(spy(SUPERVISE_Q2).await.unwrap()).await;
            if status == 403 {
                return body;
            }
            assert_eq!(status, 200, "{body}");
        }
    })
    .await
    .expect("refused once the model knows 147 left q2");
    assert_eq!(refused["error"], "this API key may not use agent 147");
    app.stop_and_join().await;
}
