//! The AMI client's session against a scripted AMI server over real TCP: login (plain, MD5,
//! refused), ActionID correlation across interleaved events, list actions, the injection guard,
//! duplicate ActionIDs, and shutdown.
//! The long backoff after a refused login runs on tokio's paused clock (paused once the client is
//! idle, resumed before further exchanges).

use crate::support::scripted_ami;

use pbxis_ws::ami::client::{self, AmiError};
use pbxis_ws::ami::{AmiMessage, CodecError};
use scripted_ami::*;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test]
async fn plain_login_then_connected_then_events_in_order() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx) = client::connect(server.config());
    let mut peer = server.accept().await;
    let login = peer.answer_login().await;
    assert_eq!(login.get("AuthType"), None);
    assert!(
        login.action_id().is_some(),
        "every action carries an ActionID"
    );
    peer.send(AmiMessage::event("Newchannel").with("Channel", "PJSIP/147-1"))
        .await;
    expect_connected(&mut rx).await;
    let ev = expect_event(&mut rx, "Newchannel").await;
    assert_eq!(ev.get("channel"), Some("PJSIP/147-1"));
    assert!(handle.is_connected());
    assert!(
        rx.try_recv().is_err(),
        "the login's FullyBooted is not an event"
    );
}

#[tokio::test]
async fn md5_login_answers_the_challenge() {
    let server = ScriptedAmi::start().await;
    let mut config = server.config();
    config.md5 = true;
    let (handle, mut rx) = client::connect(config);
    let mut peer = server.accept().await;
    let challenge = peer.expect("Challenge").await;
    assert_eq!(challenge.get("AuthType"), Some("MD5"));
    // The challenge and key of the recorded Asterisk 22 session (transcript 01, conn=md5).
    peer.send(reply(&challenge, "Success").with("Challenge", "117979957"))
        .await;
    let login = peer.expect("Login").await;
    assert_eq!(login.get("AuthType"), Some("MD5"));
    assert_eq!(login.get("Key"), Some("45ff1c0feddc89f2d71d3951353f1b9d"));
    assert_eq!(login.get("Secret"), None, "the secret never travels");
    assert!(!format!("{login:?}").contains(SECRET));
    peer.send(reply(&login, "Success")).await;
    peer.send(fully_booted()).await;
    expect_connected(&mut rx).await;
    assert!(handle.is_connected());
}

#[tokio::test]
async fn refused_login_is_reported_and_retried_only_after_a_long_backoff() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx) = client::connect(server.config());
    let mut peer = server.accept().await;
    let login = peer.expect("Login").await;
    peer.send(reply(&login, "Error").with("Message", "Authentication failed"))
        .await;
    drop(peer);
    let message = expect_auth_failed(&mut rx).await;
    tokio::time::pause();
    let refused_at = Instant::now();
    assert_eq!(message, "Authentication failed");
    assert!(matches!(
        handle.send(AmiMessage::action("Ping")).await,
        Err(AmiError::NotConnected)
    ));
    let mut again = server.accept().await;
    tokio::time::resume();
    let waited = refused_at.elapsed();
    assert!(
        waited >= Duration::from_secs(23),
        "retried after {waited:?}"
    );
    again.answer_login().await;
    expect_connected(&mut rx).await;
}

#[tokio::test]
async fn responses_match_their_actions_across_interleaved_events() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx, mut peer) = logged_in(&server).await;
    let add = AmiMessage::action("QueueAdd").with("Queue", "q1");
    let get = AmiMessage::action("Getvar").with("Variable", "X");
    let own = AmiMessage::action("Ping").with("ActionID", "mine-1");
    let script = async {
        let a = peer.recv().await;
        let b = peer.recv().await;
        let c = peer.recv().await;
        let ids = [a.action_id(), b.action_id(), c.action_id()];
        assert!(ids.iter().all(Option::is_some), "{ids:?}");
        assert!(
            ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
            "{ids:?}"
        );
        // Answer in reverse order, events in between.
        for action in [&c, &b, &a] {
            peer.send(AmiMessage::event("VarSet").with("Variable", "noise"))
                .await;
            let answer = match action.action_name() {
                Some("QueueAdd") => {
                    reply(action, "Error").with("Message", "Unable to add interface: Already there")
                }
                Some("Getvar") => reply(action, "Success").with("Value", "42"),
                _ => reply(action, "Success").with("Ping", "Pong"),
            };
            peer.send(answer).await;
        }
    };
    let (added, got, pinged, ()) =
        tokio::join!(handle.send(add), handle.send(get), handle.send(own), script);
    match added {
        Err(AmiError::Refused(msg)) => assert_eq!(msg, "Unable to add interface: Already there"),
        other => panic!("{other:?}"),
    }
    assert_eq!(got.unwrap().get("Value"), Some("42"));
    assert_eq!(pinged.unwrap().action_id(), Some("mine-1"));
    for _ in 0..3 {
        expect_event(&mut rx, "VarSet").await;
    }
}

#[tokio::test]
async fn a_list_action_collects_its_items_and_other_events_flow_on() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx, mut peer) = logged_in(&server).await;
    let script = async {
        let qs = peer.expect("QueueStatus").await;
        let id = qs.action_id().unwrap().to_owned();
        peer.send(
            reply(&qs, "Success")
                .with("EventList", "start")
                .with("Message", "Queue status will follow"),
        )
        .await;
        peer.send(
            AmiMessage::event("QueueParams")
                .with("Queue", "q1")
                .with("ActionID", &id),
        )
        .await;
        peer.send(AmiMessage::event("QueueMemberStatus").with("Queue", "q2"))
            .await;
        peer.send(
            AmiMessage::event("QueueMember")
                .with("Name", "Agent 147")
                .with("ActionID", &id),
        )
        .await;
        peer.send(
            AmiMessage::event("QueueStatusComplete")
                .with("ActionID", &id)
                .with("EventList", "Complete")
                .with("ListItems", "2"),
        )
        .await;
    };
    let (list, ()) = tokio::join!(handle.send_list(AmiMessage::action("QueueStatus")), script);
    let list = list.unwrap();
    assert_eq!(list.response.get("EventList"), Some("start"));
    let names: Vec<_> = list.items.iter().filter_map(|m| m.event_name()).collect();
    assert_eq!(names, vec!["QueueParams", "QueueMember"]);
    assert!(list.complete.is_event("QueueStatusComplete"));
    let other = expect_event(&mut rx, "QueueMemberStatus").await;
    assert_eq!(other.get("Queue"), Some("q2"));
    assert!(rx.try_recv().is_err(), "list items are not events");

    // OriginateResponse carries the Originate's ActionID after its response: it is an event.
    let script = async {
        let o = peer.expect("Originate").await;
        peer.send(reply(&o, "Success").with("Message", "Originate successfully queued"))
            .await;
        peer.send(
            AmiMessage::event("OriginateResponse")
                .with("ActionID", o.action_id().unwrap())
                .with("Response", "Failure")
                .with("Reason", "0"),
        )
        .await;
        o.action_id().unwrap().to_owned()
    };
    let originate = AmiMessage::action("Originate").with("Async", "true");
    let (answer, id) = tokio::join!(handle.send(originate), script);
    assert_eq!(answer.unwrap().action_id(), Some(id.as_str()));
    let ev = expect_event(&mut rx, "OriginateResponse").await;
    assert_eq!(ev.action_id(), Some(id.as_str()));
}

#[tokio::test]
async fn injection_is_refused_and_nothing_reaches_the_server() {
    let server = ScriptedAmi::start().await;
    let (handle, _rx, mut peer) = logged_in(&server).await;
    let bad_value = AmiMessage::action("QueuePause")
        .with("Interface", "PJSIP/147")
        .with("Reason", "lunch\r\nAction: Originate");
    let bad_key = AmiMessage::action("QueuePause").with("Reason\nAction", "x");
    let nul = AmiMessage::action("QueuePause").with("Reason", "a\0b");
    for bad in [bad_value, bad_key, nul] {
        let result = handle.send(bad).await;
        assert!(
            matches!(result, Err(AmiError::Codec(CodecError::Injection { .. }))),
            "{result:?}"
        );
    }
    let script = async {
        let first = peer.recv().await;
        assert_eq!(
            first.action_name(),
            Some("Ping"),
            "nothing else came before"
        );
        peer.send(reply(&first, "Success")).await;
    };
    let (pong, ()) = tokio::join!(handle.send(AmiMessage::action("Ping")), script);
    pong.unwrap();
}

#[tokio::test]
async fn shutdown_logs_off_and_ends_the_stream() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx, mut peer) = logged_in(&server).await;
    let script = async {
        let bye = peer.expect("Logoff").await;
        peer.send(reply(&bye, "Goodbye").with("Message", "Thanks for all the fish."))
            .await;
        peer.until_closed().await
    };
    let ((), after) = tokio::join!(handle.shutdown(), script);
    assert!(after.is_empty(), "nothing after Logoff: {after:?}");
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("shut down"), "{reason}");
    assert!(rx.recv().await.is_none(), "the event stream ends");
    assert!(!handle.is_connected());
    assert!(matches!(
        handle.send(AmiMessage::action("Ping")).await,
        Err(AmiError::Closed)
    ));
    handle.shutdown().await;
}

#[tokio::test]
async fn a_duplicate_action_id_is_not_sent() {
    let server = ScriptedAmi::start().await;
    let (handle, _rx, mut peer) = logged_in(&server).await;
    let first = handle.clone();
    let waiting = tokio::spawn(async move {
        first
            .send(AmiMessage::action("Getvar").with("ActionID", "same"))
            .await
    });
    let got = peer.expect("Getvar").await;
    let second = handle
        .send(AmiMessage::action("Ping").with("ActionID", "same"))
        .await;
    assert!(matches!(second, Err(AmiError::NotSent(_))), "{second:?}");
    peer.send(reply(&got, "Success").with("Value", "v")).await;
    assert_eq!(waiting.await.unwrap().unwrap().get("Value"), Some("v"));
}
