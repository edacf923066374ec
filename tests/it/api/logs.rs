//! The logs of `pbxis-ws serve`, as JSON (`log.format`): one access line per request (target
//! `pbxis_ws::access`: method, route, status, latency, key name) that never holds a ticket or a
//! key, and one line per login to Asterisk. API keys come from a variable here, as a TOML array.

use pbxis_ws::sim::{self, SimConfig};
use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::app::PATIENCE;

const KEY: &str = "crm-key-0123456789abcdef";

#[tokio::test]
async fn one_access_line_per_request_without_ticket_or_key_and_one_per_login() {
    let sim = sim::start(SimConfig::quiet(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PBXIS_") {
            command.env_remove(key);
        }
    }
    let keys = format!(r#"[{{ name = "crm", key = "{KEY}", scopes = ["events", "admin"] }}]"#);
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--ami-secret", "pbxis"])
        .env("PBXIS_AMI_PORT", sim.addr().port().to_string())
        .env("PBXIS_AUTH_KEYS", keys)
        .env("PBXIS_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen: Vec<String> = Vec::new();
    // Up to the address, then until the model is ready.
    let base = tokio::time::timeout(PATIENCE, async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the service runs");
            let json: Value = serde_json::from_str(&line).expect("a JSON line");
            seen.push(line);
            if json["fields"]["message"] == "service bound" {
                return format!("http://{}", json["fields"]["addr"].as_str().unwrap());
            }
        }
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    tokio::time::timeout(PATIENCE, async {
        while !http
            .get(format!("{base}/ready"))
            .bearer_auth(KEY)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("ready");
    let ticket: String = http
        .post(format!("{base}/ticket"))
        .bearer_auth(KEY)
        .json(&serde_json::json!({"agents": ["147"], "queues": ["q1"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let polled = http
        .get(format!("{base}/{ticket}/long-poll?lastEventId=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(polled.status(), 200);
    let wrong = http
        .get(format!("{base}/{ticket}/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    let stop = http
        .post(format!("{base}/stop"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), 202);
    tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line);
        }
    })
    .await
    .expect("the service exits");
    assert!(child.wait().await.unwrap().success());
    sim.shutdown().await;

    let access: Vec<Value> = seen
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("every line is JSON"))
        .filter(|j| j["target"] == "pbxis_ws::access")
        .collect();
    let find = |method: &str, route: &str| {
        access
            .iter()
            .find(|j| j["fields"]["method"] == method && j["fields"]["route"] == route)
            .unwrap_or_else(|| panic!("no access line for {method} {route}: {access:#?}"))
    };
    let ticket_line = &find("POST", "/ticket")["fields"];
    assert_eq!(ticket_line["status"], 200);
    assert_eq!(ticket_line["key"], "crm");
    assert!(ticket_line["micros"].as_u64().is_some());
    let poll_line = &find("GET", "/{ticket}/long-poll")["fields"];
    assert_eq!(
        (poll_line["status"].as_u64(), poll_line["key"].as_str()),
        (Some(200), Some("-"))
    );
    assert_eq!(find("GET", "unmatched")["fields"]["status"], 404);
    assert_eq!(find("POST", "/stop")["fields"]["status"], 202);
    // Readiness probes, the ticket, the poll, the unknown route, the stop: one line each.
    let polls = access
        .iter()
        .filter(|j| j["fields"]["route"] == "/ready")
        .count();
    assert_eq!(access.len(), polls + 4, "{access:#?}");
    for line in &seen {
        assert!(!line.contains(&ticket), "a ticket in the logs: {line}");
        assert!(!line.contains(KEY), "a key in the logs: {line}");
    }
    let logins: Vec<&String> = seen
        .iter()
        .filter(|l| l.contains("logged in to Asterisk"))
        .collect();
    assert_eq!(logins.len(), 1, "{seen:#?}");
    let login: Value = serde_json::from_str(logins[0]).unwrap();
    assert_eq!(login["fields"]["port"], sim.addr().port());
    assert_eq!(login["fields"]["host"], "127.0.0.1");
}
