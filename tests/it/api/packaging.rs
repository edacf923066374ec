//! What ships: one binary that carries its pages (it serves them from any working directory),
//! generates its shell completions and man pages, and the files that package it (the systemd
//! units' hardening, the Dockerfile's build context).

use std::path::Path;
use std::process::{Output, Stdio};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::app::PATIENCE;

const BIN: &str = env!("CARGO_BIN_EXE_pbxis-ws");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

async fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().await.unwrap()
}

#[tokio::test]
async fn completions_for_every_shell_know_every_command_and_flag() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = run(&["completions", shell]).await;
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        for word in [
            "serve",
            "simulate",
            "demo",
            "limits-max-tickets",
            "ami-host",
        ] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    assert!(!run(&["completions", "cmd.exe"]).await.status.success());
}

#[tokio::test]
async fn man_pages_of_the_command_and_of_each_subcommand() {
    let page = String::from_utf8(run(&["man"]).await.stdout).unwrap();
    assert!(page.contains(".TH pbxis-ws 1"), "{page}");
    assert!(page.contains("serve"));
    let serve = String::from_utf8(run(&["man", "serve"]).await.stdout).unwrap();
    assert!(serve.contains(".TH pbxis-ws-serve 1"), "{serve}");
    // Every key of the configuration, with its variable, from the example's comments.
    for key in pbxis_ws::config::keys::all() {
        let flag = key.flag().replace('-', "\\-");
        assert!(serve.contains(&format!("\\fB\\-\\-{flag}\\fR")), "{flag}");
        assert!(serve.contains(&key.env()), "{}", key.env());
    }
    assert!(serve.contains("Most live tickets in total"));
    for sub in ["simulate", "demo"] {
        let page = String::from_utf8(run(&["man", sub]).await.stdout).unwrap();
        assert!(page.contains(&format!(".TH pbxis-ws-{sub} 1")), "{page}");
    }
    let unknown = run(&["man", "nonsense"]).await;
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn the_binary_alone_serves_its_pages_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("pbxis-ws");
    std::fs::copy(BIN, &bin).unwrap();
    let mut child = Command::new(&bin)
        .args(["demo", "--listen", "127.0.0.1:0", "--call-rate", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let base = first.strip_prefix("pbxis-ws listening on ").unwrap();
    for (path, marker) in [
        ("/pbxis.js", "lastEventId"),
        ("/client/sse/147/q1", "<html"),
        ("/wallboard/sse/q1", "<html"),
        ("/agent/sse/147/q1", "<html"),
    ] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.text().await.unwrap().contains(marker), "{path}");
    }
    child.kill().await.unwrap();
}

#[test]
fn the_systemd_units_are_hardened() {
    for unit in ["pbxis-ws.service", "pbxis-ws@.service"] {
        let path = Path::new(ROOT).join("deploy/systemd").join(unit);
        // Exposure on systemd's scale of 0 (locked down) to 10; above 1.5 fails.
        let output = std::process::Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--threshold=15"])
            .arg(&path)
            .output()
            .expect("systemd-analyze (Debian's systemd) is installed");
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{unit}:\n{report}");
        assert!(report.contains("Overall exposure level"), "{report}");
    }
}

#[test]
fn the_dockerfile_copies_only_what_exists_and_builds_with_the_crate_s_rust() {
    let dockerfile = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).unwrap();
    let ignored = std::fs::read_to_string(Path::new(ROOT).join(".dockerignore")).unwrap();
    let ignored: Vec<&str> = ignored
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut copied = 0;
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        for source in &words[1..words.len() - 1] {
            assert!(Path::new(ROOT).join(source).exists(), "{source}");
            assert!(!ignored.contains(source), "{source} is in .dockerignore");
            copied += 1;
        }
    }
    assert!(copied >= 5);
    for needed in ["src", "web", "pbxis.example.toml", "Cargo.lock"] {
        assert!(dockerfile.contains(needed), "{needed}");
    }
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let rust = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        dockerfile.contains(&format!("FROM rust:{rust}-")),
        "rust {rust}"
    );
    assert!(
        dockerfile.contains("\nUSER 65532:65532\n"),
        "runs as a user without privileges"
    );
}
