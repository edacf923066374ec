//! Asterisk's refusal of call control passed on end to end (409 with its own message) when the
//! world moved between the service's look and Asterisk's answer: the agent's channel hangs up
//! just before `Hangup` arrives (`No such channel`), the caller just before `Redirect`
//! (`Channel does not exist: <name>`), and the `Originate` into `ChanSpy` is refused
//! (`Originate failed`). The simulator makes each race happen on purpose (`fail_next`).

use std::time::Duration;

use serde_json::json;

use super::call_control::{answered_call, sent, talking_app};

#[tokio::test]
async fn hangup_of_a_channel_gone_meanwhile_is_refused_as_asterisk_says() {
    let app = talking_app().await;
    let call = answered_call(&app, "0911000011").await;
    app.sim.clear_actions();
    app.sim.fail_next("Hangup");
    let (status, body) = app
        .post_json("/hangup", json!({"agent-or-channel": "147"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body, json!({"error": "Asterisk refused: No such channel"}));
    let hangup = sent(&app, "Hangup");
    assert_eq!(hangup.len(), 1);
    assert_eq!(hangup[0].get("Channel"), call["agentChannel"].as_str());
    app.stop_and_join().await;
}

#[tokio::test]
async fn redirect_of_a_caller_gone_meanwhile_is_refused_as_asterisk_says() {
    let app = talking_app().await;
    let call = answered_call(&app, "0911000012").await;
    let caller = call["bridgedChannel"].as_str().unwrap().to_owned();
    app.sim.clear_actions();
    app.sim.fail_next("Redirect");
    let (status, body) = app
        .post_json("/redirect-to/1562830", json!({"agent-or-channel": "147"}))
        .await;
    assert_eq!(status, 409, "{body}");
    let error = format!("Asterisk refused: Channel does not exist: {caller}");
    assert_eq!(body, json!({ "error": error }));
    let redirect = sent(&app, "Redirect");
    assert_eq!(redirect.len(), 1);
    assert_eq!(redirect[0].get("Channel"), Some(caller.as_str()));
    app.stop_and_join().await;
}

#[tokio::test]
async fn spy_refused_by_asterisk_is_passed_on_and_the_next_one_goes_through() {
    let app = talking_app().await;
    answered_call(&app, "0911000013").await;
    app.sim.set_answer_delay("148", Some(Duration::ZERO));
    app.sim.clear_actions();
    app.sim.fail_next("Originate");
    let (status, body) = app
        .post_json("/spy/148/147", json!({"mode": "listen"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body, json!({"error": "Asterisk refused: Originate failed"}));
    let originate = sent(&app, "Originate");
    assert_eq!(originate.len(), 1);
    assert_eq!(originate[0].get("Application"), Some("ChanSpy"));
    // The refusal was Asterisk's once: the next request rings the supervisor.
    let (status, id) = app
        .post_json("/spy/148/147", json!({"mode": "listen"}))
        .await;
    assert_eq!(status, 200, "{id}");
    assert_eq!(sent(&app, "Originate").len(), 2);
    app.stop_and_join().await;
}
