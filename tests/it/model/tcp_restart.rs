//! The simulated Asterisk restarts mid-call with agents paused and callers waiting: after the
//! reconnect the model equals the simulator's truth, and subscribers received exactly the
//! corrections, between `pbxStatus` false and true.

use crate::support::model_tcp as rig;

use std::time::Duration;

use pbxis_ws::pbx::{Event, QueueName};
use rig::{key, pause, rig, stable_sim, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_call_converges_with_exactly_the_corrections() {
    let r = rig(stable_sim()).await;
    // 148 and 149 paused in q1, 147 answers a q2 call, two callers wait in q1.
    pause(&r, "148", "q1", "lunch").await;
    pause(&r, "149", "q1", "training").await;
    pause(&r, "147", "q1", "meeting").await;
    r.sim
        .inbound_call("q2", "0911000001", Some("Talking"))
        .await;
    r.sim
        .inbound_call("q1", "0911000002", Some("Waiting A"))
        .await;
    r.sim
        .inbound_call("q1", "0911000003", Some("Waiting B"))
        .await;
    until("147 talks and two callers wait in q1", async || {
        let v = r.model_view().await;
        let talking = v.get("phoneNumber/Some(\"147\")/None").is_some_and(
            |e| matches!(e, Event::PhoneNumber { number: Some(n), .. } if n == "0911000001"),
        );
        let waiting = v.get("queueCount/None/Some(\"q1\")")
            == Some(&Event::QueueCount {
                queue: QueueName::parse("q1").unwrap(),
                count: 2,
            });
        talking && waiting
    })
    .await;
    r.assert_converges().await;
    let before = r.model_view().await;
    r.recorder.take();
    let checker_sessions = r.checker_sessions();

    r.sim.restart(Duration::from_millis(300)).await;
    until("the link went down and the model is rebuilt", async || {
        let seen = r.recorder.snapshot();
        let down = seen.contains(&Event::PbxStatus { connected: false });
        down && seen.last() == Some(&Event::PbxStatus { connected: true })
    })
    .await;
    let published = r.recorder.take();

    // The truth after the restart: fresh state, nothing paused, no calls, read on the checker
    // connection once it is back (it reconnects on its own schedule, not the model's).
    r.checker_session_after(checker_sessions).await;
    let after = r.rebuilt_view().await;
    assert_eq!(
        r.model_view().await,
        after,
        "the model equals the rebuilt truth"
    );
    let truth = r.sim.truth().await;
    assert!(truth.calls.is_empty());
    assert!(truth
        .queues
        .iter()
        .all(|q| q.members.iter().all(|m| !m.paused)));

    // Exactly the corrections: pbxStatus false first, true last, and in between one event per
    // key that changed, each one a real change, leading from `before` to `after`.
    assert_eq!(
        published.first(),
        Some(&Event::PbxStatus { connected: false })
    );
    assert_eq!(
        published.last(),
        Some(&Event::PbxStatus { connected: true })
    );
    let corrections = &published[1..published.len() - 1];
    let mut view = before.clone();
    let mut touched = std::collections::BTreeSet::new();
    for e in corrections {
        assert!(touched.insert(key(e)), "one correction per key: {e:?}");
        assert_ne!(
            view.get(&key(e)),
            Some(e),
            "a correction changes something: {e:?}"
        );
        view.insert(key(e), e.clone());
    }
    for (k, e) in &after {
        assert_eq!(view.get(k), Some(e), "{k} after the corrections");
    }
    let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    for k in &gone {
        assert_ne!(view.get(*k), before.get(*k), "{k} withdrawn");
    }
    let changed = after
        .iter()
        .filter(|(k, e)| before.get(*k) != Some(e))
        .count();
    let expected = changed + gone.len();
    assert_eq!(
        corrections.len(),
        expected,
        "no more than the corrections: {corrections:?}"
    );
    r.sim.shutdown().await;
}
