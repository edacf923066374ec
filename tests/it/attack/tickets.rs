//! Signed tickets under attack: a service with a ticket secret refuses, exactly as it refuses an
//! unknown ticket (so no answer tells which part was wrong), a ticket signed with another
//! secret, one signed with a secret retired from the rotation, a tampered one (its filter
//! widened under the old tag), an expired one, and garbage of a signed ticket's alphabet; none
//! of them reaches Asterisk.

use super::helpers::*;
use super::limits::answers;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use pbxis_ws::hub::signed::TicketSigner;
use pbxis_ws::pbx::{AgentId, Filter, QueueName};
use reqwest::{Method, StatusCode};
use serde_json::json;

const SECRET: &str = "the secret of the service under attack, long";
const RETIRED: &str = "a secret that was in use once and is not now";

fn filter(agents: &[&str], queues: &[&str]) -> Filter {
    Filter::new(
        agents.iter().map(|a| AgentId::parse(a).unwrap()),
        queues.iter().map(|q| QueueName::parse(q).unwrap()),
    )
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn forged_tampered_expired_and_retired_tickets_are_unknown_tickets() {
    let app = spawn_app(|s| s.tickets.secret = SECRET.into()).await;
    let response = app
        .request(Method::POST, "/ticket")
        .bearer_auth(RESTRICTED_KEY)
        .json(&json!({"agents": ["149"], "queues": ["q2"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let genuine: String = response.json().await.unwrap();
    let reference = answers(&app, "00000000000000000000000000000000").await;
    assert_eq!(reference.0, StatusCode::NOT_FOUND);
    let now = unix_now();
    let mine = TicketSigner::new(SECRET, &[], 3600, 4096);
    let forger = TicketSigner::new("a guess at the secret, long enough to try", &[], 3600, 4096);
    let retired = TicketSigner::new(RETIRED, &[], 3600, 4096);
    // What the restricted key (agent 149 in q2) may not see: every agent of both queues.
    let owner = Some("key restricted");
    let wide = filter(&["147", "148", "149"], &["q1", "q2"]);
    let own = filter(&["149"], &["q2"]);
    let mut hostile = vec![
        forger.sign_at(&wide, owner, now, [1; 8]).unwrap(),
        retired.sign_at(&wide, owner, now, [2; 8]).unwrap(),
        // Genuine, but expired: issued two hours ago for one.
        mine.sign_at(&own, owner, now - 7200, [3; 8]).unwrap(),
        // Issued far in the future.
        mine.sign_at(&own, owner, now + 7200, [4; 8]).unwrap(),
    ];
    // The genuine ticket's filter widened, its tag kept.
    let widened = mine.sign_at(&wide, owner, now, [5; 8]).unwrap();
    let genuine_bytes = URL_SAFE_NO_PAD.decode(&genuine).unwrap();
    let mut spliced = URL_SAFE_NO_PAD.decode(&widened).unwrap();
    let tag_len = 16;
    spliced.truncate(spliced.len() - tag_len);
    spliced.extend_from_slice(&genuine_bytes[genuine_bytes.len() - tag_len..]);
    hostile.push(URL_SAFE_NO_PAD.encode(&spliced));
    // Flipped bits in the genuine one, and garbage of the same alphabet and length.
    for i in [0, 5, genuine.len() / 2, genuine.len() - 1] {
        let mut bytes = genuine.clone().into_bytes();
        bytes[i] = if bytes[i] == b'x' { b'y' } else { b'x' };
        hostile.push(String::from_utf8(bytes).unwrap());
    }
    hostile.push("A".repeat(genuine.len()));
    hostile.push("-_".repeat(400));
    app.assert_reaches_nothing(async {
        for ticket in &hostile {
            assert_eq!(answers(&app, ticket).await, reference, "{ticket}");
        }
    })
    .await;
    // The genuine ticket still works.
    let poll = app
        .request(Method::GET, &format!("/{genuine}/long-poll"))
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), StatusCode::OK);
}
