//! Faults, each checked by what an AMI client sees: every connection dropped; a stall (no
//! reading, no writing, then everything resumes in order); a restart (`Shutdown`, close,
//! connections refused, then a fresh state); garbage bytes; writes split at arbitrary points;
//! a client that does not read is disconnected; `Command: core restart now`; logins refused.

use crate::support::sim as sim_support;

use std::time::Duration;

use pbxis_ws::ami::message::AmiMessage;
use pbxis_ws::sim::SimConfig;
use sim_support::{start, Client};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn drop_connections_closes_every_client() {
    let sim = start(SimConfig::quiet()).await;
    let mut a = Client::logged_in(sim.addr()).await;
    let mut b = Client::logged_in(sim.addr()).await;
    sim.drop_connections().await;
    assert!(a.closed().await);
    assert!(b.closed().await);
    // The simulator still accepts new clients.
    let mut c = Client::logged_in(sim.addr()).await;
    assert!(c.action(AmiMessage::action("Ping")).await.is_success());
}

#[tokio::test(start_paused = true)]
async fn stall_delays_answers_until_it_ends() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    sim.stall(Duration::from_secs(5)).await;
    let began = Instant::now();
    let pong = c.action(AmiMessage::action("Ping")).await;
    assert!(pong.is_success());
    assert!(
        began.elapsed() >= Duration::from_secs(4),
        "answered during the stall after {:?}",
        began.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn restart_sends_shutdown_refuses_then_comes_back_fresh() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    let pause = AmiMessage::action("QueuePause")
        .with("Interface", "PJSIP/147")
        .with("Paused", "true")
        .with("Reason", "lunch");
    assert!(c.action(pause).await.is_success());
    sim.restart(Duration::from_secs(3)).await;
    let shutdown = c.wait_event("Shutdown").await;
    assert_eq!(shutdown.get("Restart"), Some("True"));
    assert!(c.closed().await);
    assert!(
        tokio::net::TcpStream::connect(sim.addr()).await.is_err(),
        "connections are refused while down"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut again = Client::logged_in(sim.addr()).await;
    let (_, items, _) = again
        .list(AmiMessage::action("QueueStatus").with("Queue", "q1"))
        .await;
    let m147 = items
        .iter()
        .find(|m| m.get("Location") == Some("PJSIP/147"))
        .expect("147 is a member again");
    assert_eq!(
        m147.get("Paused"),
        Some("0"),
        "fresh state after the restart"
    );
}

#[tokio::test(start_paused = true)]
async fn core_restart_now_command_restarts() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    let r = c
        .action(AmiMessage::action("Command").with("Command", "core restart now"))
        .await;
    assert!(r.is_success());
    c.wait_event("Shutdown").await;
    assert!(c.closed().await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut again = Client::logged_in(sim.addr()).await;
    assert!(again.action(AmiMessage::action("Ping")).await.is_success());
}

#[tokio::test(start_paused = true)]
async fn garbage_reaches_the_client_raw() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    c.action(AmiMessage::action("Ping")).await;
    sim.send_garbage(b"\x00\xffnot ami at all\r\n\r\n").await;
    let m = c
        .recv_raw()
        .await
        .expect("the garbage arrives as a message");
    assert!(
        m.event_name().is_none() && m.response_status().is_none(),
        "{m:?}"
    );
    // The connection goes on.
    assert!(c.action(AmiMessage::action("Ping")).await.is_success());
}

#[tokio::test(start_paused = true)]
async fn split_writes_still_decode_to_the_same_messages() {
    let sim = start(SimConfig::quiet()).await;
    let mut raw = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    sim.split_writes(true);
    let login = "Action: Login\r\nUsername: pbxis\r\nSecret: pbxis\r\nActionID: 1\r\n\r\n";
    tokio::io::AsyncWriteExt::write_all(&mut raw, login.as_bytes())
        .await
        .unwrap();
    let mut reads = 0;
    let mut got = Vec::new();
    let want = b"Message: Authentication accepted\r\n\r\n";
    while !got.windows(want.len()).any(|w| w == want) {
        let mut buf = [0u8; 4096];
        let n = raw.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
        reads += 1;
    }
    assert!(reads > 3, "the answer came in {reads} pieces");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\n")
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_does_not_read_is_disconnected() {
    let mut config = SimConfig::quiet();
    config.max_pending_messages = 64;
    config.firehose = 20_000;
    let sim = start(config).await;
    let mut sleeper = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let login = "Action: Login\r\nUsername: pbxis\r\nSecret: pbxis\r\n\r\n";
    tokio::io::AsyncWriteExt::write_all(&mut sleeper, login.as_bytes())
        .await
        .unwrap();
    // Not reading for a while: the simulator gives up on this client.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match sleeper.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
        assert!(total < 64 << 20, "the stream never ended");
    }
    // A reading client is still served.
    let mut reader = Client::logged_in(sim.addr()).await;
    assert!(reader.action(AmiMessage::action("Ping")).await.is_success());
}

#[tokio::test(start_paused = true)]
async fn refused_logins_fail_like_a_wrong_secret_until_allowed_again() {
    let sim = start(SimConfig::quiet()).await;
    let mut before = Client::logged_in(sim.addr()).await;
    sim.refuse_logins(true);
    let mut c = Client::connect(sim.addr()).await;
    let login = AmiMessage::action("Login")
        .with("Username", "pbxis")
        .with("Secret", "pbxis");
    let r = c.action(login.clone()).await;
    assert_eq!(r.response_status(), Some("Error"), "{r:?}");
    assert_eq!(r.message(), Some("Authentication failed"));
    assert!(c.closed().await, "the refused connection is closed");
    // A session logged in before goes on.
    assert!(before.action(AmiMessage::action("Ping")).await.is_success());
    sim.refuse_logins(false);
    let mut again = Client::connect(sim.addr()).await;
    let r = again.action(login).await;
    assert_eq!(r.message(), Some("Authentication accepted"), "{r:?}");
}
