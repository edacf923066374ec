//! Tests of the settings layers.

use super::*;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

#[test]
fn defaults_match_the_design() {
    let s = Settings::default();
    assert_eq!(s.listen.to_string(), "127.0.0.1:58615");
    assert_eq!(s.ami.port, 5038);
    assert_eq!(s.location, "PJSIP/{agent}");
    assert_eq!(s.poll_timeout_seconds, 30);
    assert_eq!(s.unsub_delay_seconds, 15);
    assert_eq!(s.summary_refresh_seconds, 0);
    assert!(s.allow_stop);
    s.validate().unwrap();
    assert!(s.pbx_config().unwrap().summary_refresh.is_none());
}

#[test]
fn file_then_flags() {
    let mut s = Settings::from_toml(
        r#"
        listen = "127.0.0.1:9000"
        unsub_delay_seconds = 5
        cors_origins = ["https://app.example.com"]
        [ami]
        host = "pbx.example.com"
        secret = "s3cret"
        [limits]
        max_agents_per_ticket = 3
        "#,
    )
    .unwrap();
    assert_eq!(s.ami.host, "pbx.example.com");
    assert_eq!(s.limits.max_agents_per_ticket, 3);
    assert_eq!(s.limits.max_queues_per_ticket, 200);
    s.validate().unwrap();
    let cli = Cli::try_parse_from([
        "x",
        "--ami-port",
        "6000",
        "--allow-stop",
        "false",
        "--listen",
        "127.0.0.1:0",
    ])
    .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "listen = \"127.0.0.1:9000\"\nunsub_delay_seconds = 5\n[ami]\nport = 7000",
    )
    .unwrap();
    s = Sources {
        file: Some(file.path().to_owned()),
        env: vec![],
        flags: cli.serve.flags.given,
    }
    .load()
    .unwrap();
    assert_eq!(s.ami.port, 6000);
    assert!(!s.allow_stop);
    assert_eq!(s.listen.port(), 0);
    assert_eq!(s.unsub_delay_seconds, 5);
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    assert!(Settings::from_toml("listne = \"127.0.0.1:1\"").is_err());
    let s = Settings {
        location: "PJSIP/147".into(),
        ..Settings::default()
    };
    assert!(s.validate().is_err());
    let s = Settings {
        originate_context: "from\r\ninternal".into(),
        ..Settings::default()
    };
    assert!(s.validate().is_err());
}

#[test]
fn debug_redacts_secrets() {
    let s = Settings::from_toml("[ami]\nsecret = \"hunter2\"").unwrap();
    let shown = format!("{s:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("<redacted>"));
}

#[test]
fn a_zero_unsub_delay_and_bad_server_limits_are_refused_naming_the_key() {
    let cases = [
        ("unsub_delay_seconds = 0", "unsub_delay_seconds"),
        ("[limits]\nmax_connections = 0", "limits.max_connections"),
        (
            "[limits]\nheader_read_timeout_seconds = 0",
            "limits.header_read_timeout_seconds",
        ),
        (
            "[limits]\nmax_pending_bytes = 10",
            "limits.max_pending_bytes",
        ),
        ("[ami]\nkeepalive_seconds = 0", "ami.keepalive_seconds"),
        (
            "[ami]\nkeepalive_timeout_seconds = 0",
            "ami.keepalive_timeout_seconds",
        ),
        (
            "[ami]\nreconnect_max_seconds = 0",
            "ami.reconnect_max_seconds",
        ),
    ];
    for (toml, key) in cases {
        let s = Settings::from_toml(toml).unwrap();
        let message = s.validate().unwrap_err().to_string();
        assert!(message.contains(key), "{toml}: {message}");
    }
    let s = Settings::from_toml("unsub_delay_seconds = 1\n[limits]\nmax_pairs_per_ticket = 10")
        .unwrap();
    s.validate().unwrap();
    assert_eq!(s.limits.max_pairs_per_ticket, 10);
}

#[test]
fn keepalive_and_reconnect_settings_reach_the_ami_client() {
    let s = Settings::from_toml(
        "[ami]\nkeepalive_seconds = 3\nkeepalive_timeout_seconds = 2\nreconnect_max_seconds = 7",
    )
    .unwrap();
    s.validate().unwrap();
    let c = s.ami_config();
    assert_eq!(c.ping_interval, Duration::from_secs(3));
    assert_eq!(c.ping_timeout, Duration::from_secs(2));
    assert_eq!(c.backoff_max, Duration::from_secs(7));
    let d = Settings::default().ami_config();
    assert_eq!(
        (d.ping_interval, d.ping_timeout, d.backoff_max),
        (
            Duration::from_secs(20),
            Duration::from_secs(10),
            Duration::from_secs(30)
        )
    );
}

#[test]
fn queue_status_reuse_from_file_and_flag_within_a_minute() {
    let s = Settings::default();
    assert_eq!(
        s.pbx_config().unwrap().queue_status_reuse,
        Duration::from_secs(1)
    );
    let s = Settings::from_toml("queue_status_cache_ms = 0").unwrap();
    assert!(s.pbx_config().unwrap().queue_status_reuse.is_zero());
    let cli = Cli::try_parse_from(["x", "--queue-status-cache-ms", "250"]).unwrap();
    let mut s = Sources {
        flags: cli.serve.flags.given,
        ..Sources::default()
    }
    .load()
    .unwrap();
    assert_eq!(
        s.pbx_config().unwrap().queue_status_reuse,
        Duration::from_millis(250)
    );
    s.queue_status_cache_ms = 60_001;
    match s.validate() {
        Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "queue_status_cache_ms"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ticket_secrets_from_file_env_or_flag_checked_and_never_shown() {
    let long = "x".repeat(32);
    let s = Settings::from_toml(&format!(
        "[tickets]\nsecret = \"{long}\"\nprevious_secrets = [\"{}\"]\nlifetime_seconds = 3600",
        "y".repeat(40)
    ))
    .unwrap();
    s.validate().unwrap();
    assert!(s.tickets.signer().is_some());
    let shown = format!("{s:?}");
    assert!(!shown.contains(&long) && !shown.contains("yyyy"), "{shown}");
    for (toml, key) in [
        ("[tickets]\nsecret = \"short\"", "tickets.secret"),
        (
            "[tickets]\nprevious_secrets = [\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"]",
            "tickets.previous_secrets",
        ),
        ("shutdown_drain_seconds = 301", "shutdown_drain_seconds"),
        (
            "[tickets]\nsecret = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\nmax_filter_bytes = 10",
            "tickets.max_filter_bytes",
        ),
    ] {
        let message = Settings::from_toml(toml)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(message.contains(key), "{toml}: {message}");
    }
    assert!(Settings::default().tickets.signer().is_none());
    let cli = Cli::parse_from([
        "serve",
        "--ticket-secret",
        &long,
        "--ticket-previous-secrets",
        &format!("{},{}", "a".repeat(32), "b".repeat(32)),
        "--shutdown-drain-seconds",
        "3",
    ]);
    let s = Settings::load(&cli.serve).unwrap();
    assert_eq!(s.tickets.secret, long);
    assert_eq!(s.tickets.previous_secrets.len(), 2);
    assert_eq!(s.shutdown_drain_seconds, 3);
}

#[test]
fn the_shipped_deployment_configuration_is_valid() {
    let s = Settings::from_toml(include_str!("../../deploy/systemd/pbxis.toml")).unwrap();
    s.validate().unwrap();
    crate::http::auth::Auth::new(s.auth.clone()).unwrap();
}
