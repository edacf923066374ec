//! The configuration as the binary sees it: a bad value from the file, a variable or a flag
//! stops `pbxis-ws serve` at once with one line naming the source, the key and the reason; a
//! flag wins over a variable, which wins over the file.

use std::io::Write;
use std::process::Output;
use tokio::process::Command;

/// `pbxis-ws serve` with `args` and `env`, none of this environment's `PBXIS_*` variables.
async fn serve(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"));
    command.arg("serve").args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PBXIS_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.kill_on_drop(true).output().await.unwrap()
}

/// The refusal: exit status 2 and exactly one line on stderr.
fn refusal(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

fn config(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[tokio::test]
async fn a_bad_value_in_the_file_is_refused_naming_the_file_the_key_and_why() {
    let file = config("[limits]\nmax_connections = 0\n");
    let path = file.path().to_str().unwrap();
    let line = refusal(&serve(&["--config", path], &[]).await);
    assert!(line.contains(path), "{line}");
    assert!(line.contains("`limits.max_connections`"), "{line}");
    assert!(line.contains("at least 1"), "{line}");
}

#[tokio::test]
async fn a_bad_variable_is_refused_naming_the_variable() {
    let file = config("[limits]\nmax_tickets = 10\n");
    let path = file.path().to_str().unwrap();
    let output = serve(&["--config", path], &[("PBXIS_LIMITS_MAX_TICKETS", "lots")]).await;
    let line = refusal(&output);
    assert!(
        line.contains("environment variable PBXIS_LIMITS_MAX_TICKETS"),
        "{line}"
    );
    assert!(line.contains("`limits.max_tickets`"), "{line}");
    assert!(line.contains("whole number"), "{line}");
}

#[tokio::test]
async fn a_flag_wins_over_the_variable_and_is_named_when_bad() {
    // The variable's bad value is overridden by the flag's bad value: the flag is named.
    let output = serve(
        &["--keep-alive-seconds", "301"],
        &[("PBXIS_KEEP_ALIVE_SECONDS", "0")],
    )
    .await;
    let line = refusal(&output);
    assert!(line.contains("flag --keep-alive-seconds"), "{line}");
    assert!(line.contains("1..=300"), "{line}");
    // A good flag over a bad variable: the variable never counts, and the service goes on to
    // the next check (here, the open public address it refuses).
    let output = serve(
        &["--keep-alive-seconds", "5", "--listen", "0.0.0.0:0"],
        &[("PBXIS_KEEP_ALIVE_SECONDS", "0")],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("without an API key"), "{stderr}");
}

#[tokio::test]
async fn an_unknown_key_in_the_file_is_refused() {
    let file = config("[ami]\nhots = \"pbx\"\n");
    let path = file.path().to_str().unwrap();
    let line = refusal(&serve(&["--config", path], &[]).await);
    assert!(line.contains("`ami.hots`: unknown key"), "{line}");
}

#[tokio::test]
async fn a_bad_api_key_from_a_variable_is_refused_naming_the_variable() {
    let keys = r#"[{ name = "has space", key = "0123456789abcdef0123", scopes = ["events"] }]"#;
    let line = refusal(&serve(&[], &[("PBXIS_AUTH_KEYS", keys)]).await);
    assert!(
        line.contains("environment variable PBXIS_AUTH_KEYS"),
        "{line}"
    );
    assert!(line.contains("`auth.keys`"), "{line}");
    assert!(line.contains("has space"), "{line}");
    assert!(
        !line.contains("0123456789abcdef0123"),
        "the key itself: {line}"
    );
}
