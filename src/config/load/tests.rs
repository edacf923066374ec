//! Tests of the layers: defaults, file, variables, flags; the key list derived from the model;
//! the example file; refusals naming their source.

use super::super::{example, keys, ConfigError, Origin, ServeArgs, Settings, Sources};
use clap::Parser;
use std::collections::BTreeSet;
use std::io::Write;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn flags(args: &[&str]) -> Vec<(String, String, String)> {
    let mut argv = vec!["serve"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).unwrap().serve.flags.given
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn refusal(sources: Sources) -> (Origin, String, String, String) {
    match sources.load() {
        Err(e @ ConfigError::Invalid { .. }) => {
            let line = e.to_string();
            let ConfigError::Invalid {
                origin,
                key,
                reason,
            } = e
            else {
                unreachable!()
            };
            (origin, key, reason, line)
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn flags_win_over_variables_which_win_over_the_file() {
    let f = file("[limits]\nmax_tickets = 10\nmax_tickets_per_owner = 11\nmax_body_bytes = 500\n");
    let s = Sources {
        file: Some(f.path().to_owned()),
        env: env(&[
            ("PBXIS_LIMITS_MAX_TICKETS", "20"),
            ("PBXIS_LIMITS_MAX_TICKETS_PER_OWNER", "21"),
            ("PBXIS_UNRELATED", "x"),
        ]),
        flags: flags(&["--limits-max-tickets", "30"]),
    }
    .load()
    .unwrap();
    assert_eq!(s.limits.max_tickets, 30);
    assert_eq!(s.limits.max_tickets_per_owner, 21);
    assert_eq!(s.limits.max_body_bytes, 500);
    assert_eq!(s.limits.max_queues_per_ticket, 200, "the default");
}

#[test]
fn every_key_has_a_variable_and_a_flag_of_its_own() {
    let all = keys::all();
    assert!(all.len() > 40, "{}", all.len());
    let envs: BTreeSet<_> = all.iter().map(|k| k.env()).collect();
    let flags: BTreeSet<_> = all.iter().map(|k| k.flag()).collect();
    assert_eq!(envs.len(), all.len());
    assert_eq!(flags.len(), all.len());
    for path in ["ami.host", "limits.max_tickets", "auth.keys", "log.format"] {
        assert!(keys::find(path).is_some(), "{path}");
    }
    let k = keys::find("limits.max_pending_events").unwrap();
    assert_eq!(k.env(), "PBXIS_LIMITS_MAX_PENDING_EVENTS");
    assert_eq!(k.flag(), "limits-max-pending-events");
}

#[test]
fn the_earlier_names_of_variables_and_flags_still_work() {
    let secret = "s".repeat(32);
    let s = Sources {
        env: env(&[
            ("PBXIS_AMI_USER", "old"),
            ("PBXIS_TICKET_SECRET", &secret),
            ("PBXIS_CORS_ORIGINS", "https://a.example, https://b.example"),
            ("PBXIS_INSECURE_NO_AUTH", "true"),
        ]),
        flags: flags(&["--allow-stop", "false", "--insecure-no-auth"]),
        ..Sources::default()
    }
    .load()
    .unwrap();
    assert_eq!(s.ami.username, "old");
    assert_eq!(s.tickets.secret, secret);
    assert_eq!(s.cors_origins, ["https://a.example", "https://b.example"]);
    assert!(!s.allow_stop && s.insecure_no_auth);
    // The variable of the key's own name wins over the earlier one.
    let s = Sources {
        env: env(&[("PBXIS_AMI_USERNAME", "new"), ("PBXIS_AMI_USER", "old")]),
        ..Sources::default()
    }
    .load()
    .unwrap();
    assert_eq!(s.ami.username, "new");
    let s = Sources {
        flags: flags(&["--ami-user", "x", "--ticket-secret", &secret]),
        ..Sources::default()
    }
    .load()
    .unwrap();
    assert_eq!((s.ami.username.as_str(), s.tickets.secret.len()), ("x", 32));
}

#[test]
fn api_keys_and_lists_come_from_a_variable_as_a_toml_array() {
    let s = Sources {
        env: env(&[
            (
                "PBXIS_AUTH_KEYS",
                r#"[{ name = "crm", key = "0123456789abcdef0123", scopes = ["events"] },
                    { name = "ops", sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", scopes = ["admin"] }]"#,
            ),
            ("PBXIS_CORS_ORIGINS", r#"["https://a.example"]"#),
        ]),
        ..Sources::default()
    }
    .load()
    .unwrap();
    let names: Vec<_> = s.auth.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["crm", "ops"]);
    assert_eq!(s.cors_origins, ["https://a.example"]);
    crate::http::auth::Auth::new(s.auth.clone()).unwrap();
}

#[test]
fn a_refusal_names_the_source_the_key_and_the_reason_in_one_line() {
    let f = file("[limits]\nmax_connections = 0\n");
    let (origin, key, _, line) = refusal(Sources {
        file: Some(f.path().to_owned()),
        ..Sources::default()
    });
    assert_eq!(origin, Origin::File(f.path().to_owned()));
    assert_eq!(key, "limits.max_connections");
    assert!(line.contains(&f.path().display().to_string()), "{line}");
    assert!(line.contains("at least 1"), "{line}");

    // The variable overrides the file's good value with a bad one: the variable is named.
    let f = file("unsub_delay_seconds = 5\n");
    let (origin, key, _, line) = refusal(Sources {
        file: Some(f.path().to_owned()),
        env: env(&[("PBXIS_UNSUB_DELAY_SECONDS", "0")]),
        ..Sources::default()
    });
    assert_eq!(origin, Origin::Env("PBXIS_UNSUB_DELAY_SECONDS".into()));
    assert_eq!(key, "unsub_delay_seconds");
    assert!(line.contains("PBXIS_UNSUB_DELAY_SECONDS"), "{line}");

    let (origin, key, reason, _) = refusal(Sources {
        env: env(&[("PBXIS_LIMITS_MAX_TICKETS", "many")]),
        ..Sources::default()
    });
    assert_eq!(origin, Origin::Env("PBXIS_LIMITS_MAX_TICKETS".into()));
    assert_eq!(key, "limits.max_tickets");
    assert!(reason.contains("whole number"), "{reason}");

    let (origin, key, reason, _) = refusal(Sources {
        flags: flags(&["--ami-port", "70000"]),
        ..Sources::default()
    });
    assert_eq!(origin, Origin::Flag("ami-port".into()));
    assert_eq!(key, "ami.port");
    assert!(reason.contains("70000"), "{reason}");

    let (origin, key, reason, _) = refusal(Sources {
        flags: flags(&["--log-format", "xml"]),
        ..Sources::default()
    });
    assert_eq!(
        (origin, key.as_str()),
        (Origin::Flag("log-format".into()), "log.format")
    );
    assert!(reason.contains("json"), "{reason}");

    let f = file("[limits]\nmax_tickts = 3\n");
    let (origin, key, reason, line) = refusal(Sources {
        file: Some(f.path().to_owned()),
        ..Sources::default()
    });
    assert_eq!(origin, Origin::File(f.path().to_owned()), "{line}");
    assert_eq!(
        (key.as_str(), reason.as_str()),
        ("limits.max_tickts", "unknown key")
    );

    let f = file("listne = \"127.0.0.1:1\"\n");
    let (origin, key, reason, _) = refusal(Sources {
        file: Some(f.path().to_owned()),
        ..Sources::default()
    });
    assert_eq!(origin, Origin::File(f.path().to_owned()));
    assert_eq!((key.as_str(), reason.as_str()), ("listne", "unknown key"));

    let f = file("listen = \n[ami]\n");
    let (_, _, reason, line) = refusal(Sources {
        file: Some(f.path().to_owned()),
        ..Sources::default()
    });
    assert!(reason.starts_with("line 1:"), "{reason}");
    assert!(!line.contains('\n'), "{line:?}");
}

#[test]
fn the_example_parses_equals_the_defaults_and_covers_every_key() {
    let example = Settings::from_toml(example::EXAMPLE).unwrap();
    example.validate().unwrap();
    assert_eq!(
        serde_json::to_value(&example).unwrap(),
        serde_json::to_value(Settings::default()).unwrap(),
        "the example shows the defaults"
    );
    let described = example::describe(example::EXAMPLE);
    for key in keys::all() {
        let text = described.get(&key.path);
        assert!(
            text.is_some_and(|t| t.len() > 10),
            "{} is not in the example with a comment",
            key.path
        );
        assert!(example::description(&key.path).is_some());
    }
    let model: BTreeSet<_> = keys::all().iter().map(|k| k.path.clone()).collect();
    let shown: BTreeSet<_> = described.keys().cloned().collect();
    assert_eq!(model, shown, "the example holds the model's keys, no other");
}

#[test]
fn serialized_settings_never_show_a_secret() {
    let mut s = Settings::default();
    s.ami.secret = "hunter2".into();
    s.tickets.secret = "t".repeat(32);
    s.tickets.previous_secrets = vec!["p".repeat(32)];
    let shown = serde_json::to_string(&s).unwrap();
    assert!(!shown.contains("hunter2") && !shown.contains("tttt") && !shown.contains("pppp"));
    assert!(shown.contains("<redacted>"), "{shown}");
}

#[test]
fn the_readme_table_has_every_key_with_its_default() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    let mut rows = std::collections::BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<_> = line.split('|').map(str::trim).collect();
        let key = cells[1].trim_matches('`').to_owned();
        let default = cells[2].split(" (").next().unwrap().trim_matches('`');
        rows.insert(key, default.to_owned());
    }
    for key in keys::all() {
        let shown = rows
            .get(&key.path)
            .unwrap_or_else(|| panic!("{} is not in the README's table", key.path));
        let expected = match key.default.as_str() {
            "\"\"" => "",
            "[]" if key.path == "auth.keys" => "none",
            other => other.trim_matches('"'),
        };
        let shown = if shown == "(empty)" {
            ""
        } else {
            shown.as_str()
        };
        assert_eq!(shown, expected, "{}", key.path);
    }
    assert_eq!(rows.len(), keys::all().len(), "no key the model lacks");
}

/// A value of `key` other than its default, as a variable's or a flag's text.
fn other_value(key: &keys::Key) -> String {
    match (key.kind, key.path.as_str()) {
        (keys::Kind::Bool, _) => (key.default != "true").to_string(),
        (keys::Kind::Integer, _) => (key.default.parse::<u64>().unwrap() + 1).to_string(),
        (keys::Kind::Text, "listen") => "127.0.0.2:1".into(),
        (keys::Kind::Text, "log.format") => "json".into(),
        (keys::Kind::Text, _) => "other".into(),
        (keys::Kind::List, "auth.keys") => {
            r#"[{ name = "k", key = "0123456789abcdef0123", scopes = ["events"] }]"#.into()
        }
        (keys::Kind::List, _) => "one,two".into(),
    }
}

/// The paths where two serialized settings differ.
fn differences(a: &serde_json::Value, b: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            for (name, value) in x {
                let sub = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                differences(value, &y[name], &sub, out);
            }
        }
        _ if a != b => out.push(path.to_owned()),
        _ => {}
    }
}

#[test]
fn every_variable_and_every_flag_sets_its_key_and_no_other() {
    let defaults = serde_json::to_value(Settings::default()).unwrap();
    for key in keys::all() {
        let text = other_value(key);
        let by_env = Sources {
            env: env(&[(&key.env(), &text)]),
            ..Sources::default()
        };
        let flag = format!("--{}", key.flag());
        let by_flag = Sources {
            flags: flags(&[&flag, &text]),
            ..Sources::default()
        };
        for (how, sources) in [("variable", by_env), ("flag", by_flag)] {
            let settings = sources
                .layered(false)
                .unwrap_or_else(|e| panic!("{} by {how}: {e}", key.path));
            let mut changed = Vec::new();
            differences(
                &defaults,
                &serde_json::to_value(settings).unwrap(),
                "",
                &mut changed,
            );
            assert_eq!(
                changed,
                [key.path.as_str()],
                "{} by {how} ({text})",
                key.path
            );
        }
    }
}

#[test]
fn the_shipped_deployments_load_through_the_same_layers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    // systemd: the shared file, the secrets' environment file, the unit's --listen.
    let env_file = std::fs::read_to_string(root.join("systemd/pbxis-ws.env")).unwrap();
    let variables: Vec<(String, String)> = env_file
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    assert!(variables.len() >= 3);
    let s = Sources {
        file: Some(root.join("systemd/pbxis.toml")),
        env: variables,
        flags: flags(&["--listen", "127.0.0.1:58616"]),
    }
    .load()
    .unwrap();
    assert_eq!(s.listen.port(), 58616);
    assert_eq!(s.shutdown_drain_seconds, 3);
    assert!(s.tickets.signer().is_some());
    assert_eq!(s.ami.secret, "change-me");

    // Kubernetes: the ConfigMap's pbxis.toml, and the variables the Deployment sets.
    let manifest = std::fs::read_to_string(root.join("kubernetes/pbxis-ws.yaml")).unwrap();
    let toml: String = manifest
        .lines()
        .skip_while(|l| l.trim() != "pbxis.toml: |")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| format!("{}\n", l.get(4..).unwrap_or("")))
        .collect();
    assert!(toml.contains("[ami]"), "{toml}");
    let f = file(&toml);
    let s = Sources {
        file: Some(f.path().to_owned()),
        env: env(&[
            ("PBXIS_AMI_SECRET", "secret"),
            ("PBXIS_TICKET_SECRET", &"a".repeat(64)),
            ("PBXIS_LOG_JSON", "true"),
        ]),
        ..Sources::default()
    }
    .load()
    .unwrap();
    assert_eq!(s.shutdown_drain_seconds, 5);
    assert!(!s.auth.keys.is_empty());
}
