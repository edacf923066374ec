//! The AMI client's link against a scripted AMI server over real TCP: a cut in the middle of a
//! message (reconnect, re-login, `Connected` before new events), keep-alive, action timeout, a
//! slow consumer (overflow), an oversized event, Asterisk's `Shutdown`, no Asterisk at all, the
//! actor's task crashed (restarted by its supervisor).
//! Timers run on tokio's paused clock: a test pauses it once the client is idle and the timer
//! under test is the next thing to happen, and resumes it before further exchanges (with the
//! clock paused, every wait for I/O jumps the clock to the next timer).

use crate::support::scripted_ami;

use pbxis_ws::ami::client::{self, AmiError, ClientEvent};
use pbxis_ws::ami::AmiMessage;
use scripted_ami::*;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test]
async fn a_cut_mid_message_reconnects_and_connected_comes_before_new_events() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx, mut peer) = logged_in(&server).await;
    let pending = handle.clone();
    let waiting = tokio::spawn(async move {
        pending
            .send(AmiMessage::action("Getvar").with("Variable", "X"))
            .await
    });
    peer.expect("Getvar").await;
    peer.raw(b"Event: Hangup\r\nChannel: PJSIP/147-0000").await;
    drop(peer);
    let cut_at = Instant::now();
    assert!(matches!(
        waiting.await.unwrap(),
        Err(AmiError::Disconnected)
    ));
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("closed"), "{reason}");
    assert!(!handle.is_connected());
    tokio::time::pause();
    let asked = Instant::now();
    assert!(matches!(
        handle.send(AmiMessage::action("Ping")).await,
        Err(AmiError::NotConnected)
    ));
    assert_eq!(
        asked.elapsed(),
        Duration::ZERO,
        "fails at once, waits for no timer"
    );
    tokio::time::resume();

    let mut again = server.accept().await;
    let waited = cut_at.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "reconnected after {waited:?}"
    );
    let login = again.expect("Login").await;
    again.send(reply(&login, "Success")).await;
    // Events of the new session, even before its FullyBooted, come after Connected.
    again
        .send(AmiMessage::event("QueueMemberStatus").with("Queue", "q1"))
        .await;
    again.send(fully_booted()).await;
    again.send(AmiMessage::event("Newchannel")).await;
    expect_connected(&mut rx).await;
    expect_event(&mut rx, "QueueMemberStatus").await;
    expect_event(&mut rx, "Newchannel").await;
    assert!(handle.is_connected());
}

#[tokio::test]
async fn a_ping_without_answer_means_the_link_is_dead() {
    let server = ScriptedAmi::start().await;
    let mut config = server.config();
    config.ping_interval = Duration::from_secs(20);
    config.ping_timeout = Duration::from_secs(10);
    let (_handle, mut rx) = client::connect(config);
    let mut peer = server.accept_logged_in().await;
    expect_connected(&mut rx).await;
    tokio::time::pause();
    let up_at = Instant::now();
    peer.expect("Ping").await;
    assert!(up_at.elapsed() >= Duration::from_secs(19));
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("keep-alive"), "{reason}");
    assert!(up_at.elapsed() >= Duration::from_secs(29));
    tokio::time::resume();
    server.accept_logged_in().await;
    expect_connected(&mut rx).await;
}

#[tokio::test]
async fn answered_pings_keep_the_link() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx, mut peer) = logged_in(&server).await;
    tokio::time::pause();
    let start = Instant::now();
    for _ in 0..5 {
        let ping = peer.expect("Ping").await;
        peer.send(reply(&ping, "Success").with("Ping", "Pong"))
            .await;
    }
    assert!(
        start.elapsed() >= Duration::from_secs(99),
        "{:?}",
        start.elapsed()
    );
    assert!(handle.is_connected());
    tokio::time::resume();
    assert!(
        rx.try_recv().is_err(),
        "no Disconnected, and pongs are not events"
    );
}

#[tokio::test]
async fn an_unanswered_action_times_out_and_the_link_stays() {
    let server = ScriptedAmi::start().await;
    let (handle, _rx, mut peer) = logged_in(&server).await;
    tokio::time::pause();
    let started = Instant::now();
    let (result, _) = tokio::join!(handle.send(AmiMessage::action("Getvar")), peer.recv());
    assert!(matches!(result, Err(AmiError::Timeout)), "{result:?}");
    assert!(started.elapsed() >= Duration::from_secs(10));
    tokio::time::resume();
    let script = async {
        let a = peer.expect("Getvar").await;
        peer.send(reply(&a, "Success").with("Value", "1")).await;
    };
    let (result, ()) = tokio::join!(handle.send(AmiMessage::action("Getvar")), script);
    assert_eq!(result.unwrap().get("Value"), Some("1"));
}

#[tokio::test]
async fn a_slow_consumer_gets_an_overflow_and_the_reader_keeps_reading() {
    let server = ScriptedAmi::start().await;
    let mut config = server.config();
    config.event_buffer = 8;
    let (handle, mut rx) = client::connect(config);
    let mut peer = server.accept_logged_in().await;
    tokio::time::timeout(WAIT, async {
        while !handle.is_connected() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the client did not log in");
    for n in 0..100 {
        peer.send(AmiMessage::event("Test").with("N", n.to_string()))
            .await;
    }
    // Nobody reads the events, yet the client still reads the socket and answers.
    let script = async {
        let a = peer.expect("Getvar").await;
        peer.send(reply(&a, "Success").with("Value", "ok")).await;
    };
    let (answer, ()) = tokio::join!(handle.send(AmiMessage::action("Getvar")), script);
    assert_eq!(answer.unwrap().get("Value"), Some("ok"));

    expect_connected(&mut rx).await;
    let mut seen = Vec::new();
    let mut dropped = 0;
    while seen.len() as u64 + dropped < 100 {
        match next_event(&mut rx).await {
            ClientEvent::Event(m) => seen.push(m.get("N").unwrap().parse::<u64>().unwrap()),
            ClientEvent::Overflow { dropped: n } => dropped += n,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        seen,
        (0..7).collect::<Vec<_>>(),
        "the first events, in order"
    );
    assert_eq!(dropped, 93, "every lost event is counted");
    peer.send(AmiMessage::event("Test").with("N", "100")).await;
    let after = expect_event(&mut rx, "Test").await;
    assert_eq!(
        after.get("N"),
        Some("100"),
        "delivery resumes after the gap"
    );
}

#[tokio::test]
async fn asterisk_shutdown_event_leads_to_a_reconnect() {
    let server = ScriptedAmi::start().await;
    let (_handle, mut rx, mut peer) = logged_in(&server).await;
    peer.send(
        AmiMessage::event("Shutdown")
            .with("Shutdown", "Cleanly")
            .with("Restart", "True"),
    )
    .await;
    expect_event(&mut rx, "Shutdown").await;
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("shutting down"), "{reason}");
    server.accept_logged_in().await;
    expect_connected(&mut rx).await;
}

#[tokio::test]
async fn without_asterisk_actions_fail_at_once_and_the_consumer_is_told() {
    let server = ScriptedAmi::start().await;
    let config = server.config();
    drop(server);
    let (handle, mut rx) = client::connect(config);
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("cannot connect"), "{reason}");
    let result = handle.send(AmiMessage::action("Ping")).await;
    assert!(matches!(result, Err(AmiError::NotConnected)), "{result:?}");
    let result = handle.send(AmiMessage::event("NotAnAction")).await;
    assert!(matches!(result, Err(AmiError::NotSent(_))), "{result:?}");
    handle.shutdown().await;
}

#[tokio::test]
async fn an_oversized_event_is_reported_as_lost_and_the_stream_goes_on() {
    let server = ScriptedAmi::start().await;
    let (_handle, mut rx, mut peer) = logged_in(&server).await;
    let mut huge = b"Event: VarSet\r\nValue: ".to_vec();
    huge.resize(huge.len() + 5 * 1024 * 1024, b'x');
    huge.extend_from_slice(b"\r\n\r\n");
    peer.raw(&huge).await;
    peer.send(AmiMessage::event("Newchannel")).await;
    match next_event(&mut rx).await {
        ClientEvent::Overflow { dropped } => assert_eq!(dropped, 1),
        other => panic!("expected Overflow, got {other:?}"),
    }
    expect_event(&mut rx, "Newchannel").await;
}

#[tokio::test]
async fn a_server_without_banner_times_out_and_is_tried_again() {
    let server = ScriptedAmi::start().await;
    let (_handle, mut rx) = client::connect(server.config());
    let _silent = server.accept_silent().await;
    tokio::time::pause();
    let start = Instant::now();
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("no banner in time"), "{reason}");
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    tokio::time::resume();
    server.accept_logged_in().await;
    expect_connected(&mut rx).await;
}

#[tokio::test]
async fn a_crashed_actor_restarts_and_the_handle_and_event_stream_carry_on() {
    let server = ScriptedAmi::start().await;
    let (handle, mut rx, mut peer) = logged_in(&server).await;
    let pending = handle.clone();
    let waiting = tokio::spawn(async move {
        pending
            .send(AmiMessage::action("Getvar").with("Variable", "X"))
            .await
    });
    peer.expect("Getvar").await;
    handle.crash_for_tests().await;
    // The dead actor's socket closes, its caller is answered, the consumer is told.
    peer.until_closed().await;
    assert!(waiting.await.unwrap().is_err(), "the waiting action fails");
    let reason = expect_disconnected(&mut rx).await;
    assert!(reason.contains("restarts"), "{reason}");
    assert!(!handle.is_connected());
    // The new actor logs in again; the same handle and stream serve it.
    let mut again = server.accept_logged_in().await;
    expect_connected(&mut rx).await;
    again.send(AmiMessage::event("Newchannel")).await;
    expect_event(&mut rx, "Newchannel").await;
    let asking = handle.clone();
    let answer = tokio::spawn(async move { asking.send(AmiMessage::action("Ping")).await });
    let ping = again.expect("Ping").await;
    again.send(reply(&ping, "Success")).await;
    assert!(
        answer.await.unwrap().is_ok(),
        "the handle works after the restart"
    );
    handle.shutdown().await;
    assert!(
        matches!(next_event(&mut rx).await, ClientEvent::Disconnected { .. }),
        "the shutdown is told"
    );
    let end = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert!(matches!(end, Ok(None)), "then the stream ends: {end:?}");
}
