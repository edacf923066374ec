//! The AMI client's bounds against a scripted AMI server over real TCP: the bytes of events
//! waiting for a slow consumer and of events read before `Connected`, the late items of a list
//! action that timed out, and frames that are neither a response nor an event. Timers run on
//! tokio's paused clock, paused only while the timer under test is the next thing to happen.

use crate::support::scripted_ami;

use pbxis_ws::ami::client::{self, AmiError, ClientEvent};
use pbxis_ws::ami::AmiMessage;
use scripted_ami::*;

fn test_event(n: usize) -> AmiMessage {
    AmiMessage::event("Test")
        .with("N", n.to_string())
        .with("Payload", "x".repeat(1000))
}

/// Reads client events until `total` AMI events were either seen or counted as lost.
async fn seen_and_lost(
    rx: &mut tokio::sync::mpsc::Receiver<ClientEvent>,
    total: u64,
) -> (Vec<u64>, u64) {
    let mut seen = Vec::new();
    let mut dropped = 0;
    while seen.len() as u64 + dropped < total {
        match next_event(rx).await {
            ClientEvent::Event(m) => seen.push(m.get("N").unwrap().parse::<u64>().unwrap()),
            ClientEvent::Overflow { dropped: n } => dropped += n,
            other => panic!("{other:?}"),
        }
    }
    (seen, dropped)
}

#[tokio::test]
async fn a_slow_consumer_is_bounded_in_bytes_not_only_in_count() {
    let server = ScriptedAmi::start().await;
    let mut config = server.config();
    config.event_buffer = 10_000;
    config.event_buffer_bytes = 8 * 1024;
    let (handle, mut rx) = client::connect(config);
    let mut peer = server.accept_logged_in().await;
    expect_connected(&mut rx).await;
    for n in 0..100 {
        peer.send(test_event(n)).await;
    }
    // The client has read all of them once it answers an action sent after them.
    let script = async {
        let a = peer.expect("Getvar").await;
        peer.send(reply(&a, "Success")).await;
    };
    let (answer, ()) = tokio::join!(handle.send(AmiMessage::action("Getvar")), script);
    answer.unwrap();
    let (seen, dropped) = seen_and_lost(&mut rx, 100).await;
    assert!(
        !seen.is_empty() && seen.len() <= 8,
        "about 8 KiB of 1 KiB events wait for the consumer: {seen:?}"
    );
    assert_eq!(seen, (0..seen.len() as u64).collect::<Vec<_>>(), "in order");
    assert_eq!(
        seen.len() as u64 + dropped,
        100,
        "every lost event is counted"
    );
    peer.send(test_event(100)).await;
    let after = expect_event(&mut rx, "Test").await;
    assert_eq!(after.get("N"), Some("100"), "delivery resumes once read");
}

#[tokio::test]
async fn events_before_connected_are_bounded_in_bytes() {
    let server = ScriptedAmi::start().await;
    let mut config = server.config();
    config.event_buffer_bytes = 4 * 1024;
    let (_handle, mut rx) = client::connect(config);
    let mut peer = server.accept().await;
    let login = peer.expect("Login").await;
    peer.send(reply(&login, "Success")).await;
    for n in 0..50 {
        peer.send(test_event(n)).await;
    }
    peer.send(fully_booted()).await;
    expect_connected(&mut rx).await;
    let (seen, dropped) = seen_and_lost(&mut rx, 50).await;
    assert!(!seen.is_empty() && seen.len() <= 4, "{seen:?}");
    assert_eq!(seen, (0..seen.len() as u64).collect::<Vec<_>>(), "in order");
    assert_eq!(
        seen.len() as u64 + dropped,
        50,
        "every lost event is counted"
    );
}

#[tokio::test]
async fn late_items_of_a_timed_out_list_are_not_events() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx, mut peer) = logged_in(&server).await;
    tokio::time::pause();
    let (result, qs) = tokio::join!(
        handle.send_list(AmiMessage::action("QueueStatus")),
        peer.expect("QueueStatus")
    );
    assert!(matches!(result, Err(AmiError::Timeout)), "{result:?}");
    tokio::time::resume();
    let id = qs.action_id().unwrap().to_owned();
    peer.send(reply(&qs, "Success").with("EventList", "start"))
        .await;
    for name in ["QueueParams", "QueueMember", "QueueMember"] {
        peer.send(AmiMessage::event(name).with("ActionID", &id))
            .await;
    }
    peer.send(
        AmiMessage::event("QueueStatusComplete")
            .with("ActionID", &id)
            .with("EventList", "Complete"),
    )
    .await;
    peer.send(AmiMessage::event("Newchannel")).await;
    // The first event the consumer sees is the one after the list: no item, no Overflow.
    expect_event(&mut rx, "Newchannel").await;
}

#[tokio::test]
async fn a_frame_neither_response_nor_event_is_counted_as_lost() {
    let server = ScriptedAmi::start().await;
    let (_handle, mut rx, mut peer) = logged_in(&server).await;
    peer.raw(b"Foo: bar\r\nBaz: 1\r\n\r\n").await;
    peer.send(AmiMessage::event("Newchannel")).await;
    match next_event(&mut rx).await {
        ClientEvent::Overflow { dropped } => assert_eq!(dropped, 1),
        other => panic!("expected Overflow, got {other:?}"),
    }
    expect_event(&mut rx, "Newchannel").await;
}

#[tokio::test]
async fn an_auth_failure_is_its_own_signal_to_the_consumer() {
    let server = ScriptedAmi::start().await;
    let mut config = server.config();
    config.secret = "wrong".into();
    let (handle, mut rx) = client::connect(config);
    let mut peer = server.accept().await;
    let login = peer.expect("Login").await;
    assert_eq!(login.get("Secret"), Some("wrong"));
    peer.send(reply(&login, "Error").with("Message", "Authentication failed"))
        .await;
    assert_eq!(expect_auth_failed(&mut rx).await, "Authentication failed");
    assert!(!handle.is_connected());
    handle.shutdown().await;
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("shut down"), "{reason}");
}
