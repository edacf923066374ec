//! The simulator's AMI protocol as a client sees it over TCP: banner, plain and MD5 logins,
//! failed logins (answered after a second, then closed), actions before login, unknown
//! actions, Ping, Logoff, per-client event masks, the connection limit. Recorded behaviour:
//! `tests/fixtures/01-login.txt`.

use crate::support::sim as sim_support;

use md5::{Digest, Md5};
use pbxis_ws::ami::message::AmiMessage;
use pbxis_ws::sim::SimConfig;
use sim_support::{start, Client};
use tokio::time::Instant;

fn login(user: &str, secret: &str) -> AmiMessage {
    AmiMessage::action("Login")
        .with("Username", user)
        .with("Secret", secret)
}

#[tokio::test(start_paused = true)]
async fn banner_then_plain_login_then_fully_booted() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::connect(sim.addr()).await;
    assert_eq!(c.banner, "Asterisk Call Manager/11.0.0");
    let early = c.action(AmiMessage::action("Ping")).await;
    assert_eq!(early.response_status(), Some("Error"));
    assert_eq!(early.message(), Some("Permission denied"));
    let r = c.action(login("pbxis", "pbxis")).await;
    assert_eq!(r.response_status(), Some("Success"));
    assert_eq!(r.message(), Some("Authentication accepted"));
    let booted = c.wait_event("FullyBooted").await;
    assert_eq!(booted.get("Status"), Some("Fully Booted"));
    let pong = c.action(AmiMessage::action("Ping")).await;
    assert_eq!(pong.get("Ping"), Some("Pong"));
    assert!(pong.get("Timestamp").is_some_and(|t| t.contains('.')));
    let bye = c.action(AmiMessage::action("Logoff")).await;
    assert_eq!(bye.response_status(), Some("Goodbye"));
    assert_eq!(bye.message(), Some("Thanks for all the fish."));
    assert!(c.closed().await);
}

#[tokio::test(start_paused = true)]
async fn wrong_secret_or_user_is_refused_after_a_second_and_closed() {
    let sim = start(SimConfig::quiet()).await;
    for (user, secret) in [("pbxis", "wrong"), ("nosuchuser", "pbxis")] {
        let mut c = Client::connect(sim.addr()).await;
        let began = Instant::now();
        let r = c.action(login(user, secret)).await;
        assert_eq!(r.response_status(), Some("Error"));
        assert_eq!(r.message(), Some("Authentication failed"));
        assert!(began.elapsed().as_millis() >= 1000, "answered too early");
        c.send(AmiMessage::action("Ping").with("ActionID", "after"))
            .await;
        assert!(c.closed().await, "the server closes after a failed login");
    }
}

#[tokio::test(start_paused = true)]
async fn md5_challenge_login() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::connect(sim.addr()).await;
    let ch = c
        .action(AmiMessage::action("Challenge").with("AuthType", "MD5"))
        .await;
    let challenge = ch.get("Challenge").expect("a challenge").to_owned();
    assert_eq!(challenge.len(), 9);
    let key = hex::encode(Md5::digest(format!("{challenge}pbxis")));
    let r = c
        .action(
            AmiMessage::action("Login")
                .with("AuthType", "MD5")
                .with("Username", "pbxis")
                .with("Key", &key),
        )
        .await;
    assert_eq!(r.message(), Some("Authentication accepted"));

    let mut bad = Client::connect(sim.addr()).await;
    bad.action(AmiMessage::action("Challenge").with("AuthType", "MD5"))
        .await;
    let r = bad
        .action(
            AmiMessage::action("Login")
                .with("AuthType", "MD5")
                .with("Username", "pbxis")
                .with("Key", "00000000000000000000000000000000"),
        )
        .await;
    assert_eq!(r.message(), Some("Authentication failed"));
    assert!(bad.closed().await);
}

#[tokio::test(start_paused = true)]
async fn unknown_action_gets_asterisks_error() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    let r = c.action(AmiMessage::action("Queues")).await;
    assert_eq!(
        r.message(),
        Some(
            "Invalid/unknown command: Queues. Use Action: ListCommands to show available commands."
        )
    );
}

async fn add_member(c: &mut Client, iface: &str) {
    let r = c
        .action(
            AmiMessage::action("QueueAdd")
                .with("Queue", "q1")
                .with("Interface", iface),
        )
        .await;
    assert!(r.is_success(), "{r:?}");
}

#[tokio::test(start_paused = true)]
async fn each_client_has_its_own_event_mask() {
    let sim = start(SimConfig::quiet()).await;
    let mut agent_only = Client::logged_in(sim.addr()).await;
    let r = agent_only
        .action(AmiMessage::action("Events").with("EventMask", "agent"))
        .await;
    assert_eq!(r.get("Events"), Some("On"));
    let mut silent = Client::connect(sim.addr()).await;
    let r = silent
        .action(login("pbxis", "pbxis").with("Events", "off"))
        .await;
    assert!(r.is_success());
    let mut all = Client::logged_in(sim.addr()).await;
    add_member(&mut all, "PJSIP/150").await;
    all.wait_event("QueueMemberAdded").await;
    all.wait_event("DeviceStateChange").await;
    // A Ping round trip on each connection: every event sent before it has arrived.
    agent_only.action(AmiMessage::action("Ping")).await;
    silent.action(AmiMessage::action("Ping")).await;
    let names = |c: &Client| -> Vec<String> {
        c.seen
            .iter()
            .filter_map(|m| m.event_name().map(str::to_owned))
            .collect()
    };
    assert!(names(&agent_only).contains(&"QueueMemberAdded".to_owned()));
    assert!(!names(&agent_only).contains(&"DeviceStateChange".to_owned()));
    assert!(names(&silent).is_empty(), "{:?}", names(&silent));
    let r = agent_only
        .action(AmiMessage::action("Events").with("EventMask", "off"))
        .await;
    assert_eq!(r.get("Events"), Some("Off"));
    let before = agent_only.seen.len();
    add_member(&mut all, "PJSIP/151").await;
    all.wait_event("QueueMemberAdded").await;
    agent_only.action(AmiMessage::action("Ping")).await;
    assert_eq!(agent_only.seen.len(), before, "nothing while off");
}

/// The `Events` action as Asterisk answers it: a missing or empty `EventMask` is an error
/// that changes nothing; unknown class words are mask 0 (`Events: Off`); integers are bits;
/// a class list lets through only events all of whose classes it holds.
#[tokio::test(start_paused = true)]
async fn events_action_parses_masks_as_asterisk() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    let events = |mask: Option<&str>| {
        let m = AmiMessage::action("Events");
        match mask {
            Some(v) => m.with("EventMask", v),
            None => m,
        }
    };
    for bad in [None, Some("")] {
        let r = c.action(events(bad)).await;
        assert_eq!(r.response_status(), Some("Error"), "{bad:?}: {r:?}");
        assert_eq!(r.message(), Some("Invalid event mask"));
    }
    for (mask, answer) in [
        ("bogus", "Off"),
        ("Agent", "Off"),
        ("off", "Off"),
        ("0", "Off"),
        ("on", "On"),
        ("true", "On"),
        ("agent,bogus", "On"),
        ("2", "On"),
    ] {
        let r = c.action(events(Some(mask))).await;
        assert!(r.is_success(), "{mask}: {r:?}");
        assert_eq!(r.get("Events"), Some(answer), "{mask}");
    }
    // The mask is now 2 (call): device events arrive, queue (agent) events do not.
    let mut all = Client::logged_in(sim.addr()).await;
    add_member(&mut all, "PJSIP/150").await;
    all.wait_event("QueueMemberAdded").await;
    c.action(AmiMessage::action("Ping")).await;
    let names: Vec<&str> = c.seen.iter().filter_map(|m| m.event_name()).collect();
    assert!(names.contains(&"DeviceStateChange"), "{names:?}");
    assert!(!names.contains(&"QueueMemberAdded"), "{names:?}");
    // An error keeps the mask: still call events only.
    let r = c.action(events(Some(""))).await;
    assert_eq!(r.response_status(), Some("Error"));
    c.seen.clear();
    add_member(&mut all, "PJSIP/151").await;
    all.wait_event("QueueMemberAdded").await;
    c.action(AmiMessage::action("Ping")).await;
    let names: Vec<&str> = c.seen.iter().filter_map(|m| m.event_name()).collect();
    assert!(names.contains(&"DeviceStateChange"), "{names:?}");
    assert!(!names.contains(&"QueueMemberAdded"), "{names:?}");
}

/// Login's `Events:` goes through the same parser; a missing or empty one keeps every class,
/// and `FullyBooted` follows only when the mask holds `system`.
#[tokio::test(start_paused = true)]
async fn login_events_header_sets_the_mask() {
    let sim = start(SimConfig::quiet()).await;
    for (events, booted) in [
        (None, true),
        (Some(""), true),
        (Some("system"), true),
        (Some("1"), true),
        (Some("agent"), false),
        (Some("nonsense"), false),
    ] {
        let mut c = Client::connect(sim.addr()).await;
        let mut m = login("pbxis", "pbxis");
        if let Some(v) = events {
            m = m.with("Events", v);
        }
        assert!(c.action(m).await.is_success());
        c.action(AmiMessage::action("Ping")).await;
        let got = c.seen.iter().any(|m| m.is_event("FullyBooted"));
        assert_eq!(got, booted, "Events: {events:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn connections_over_the_limit_are_closed() {
    let mut config = SimConfig::quiet();
    config.max_connections = 2;
    let sim = start(config).await;
    let _a = Client::logged_in(sim.addr()).await;
    let _b = Client::logged_in(sim.addr()).await;
    let mut third = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::io::AsyncReadExt::read(&mut third, &mut buf)
        .await
        .unwrap_or(0);
    assert_eq!(n, 0, "the third connection gets no banner, only EOF");
}
