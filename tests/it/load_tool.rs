//! The load tool (`pbxis-load`) run for real, briefly: its in-process mode (simulator and
//! service started by the tool) and its `--url` mode (against a service this test starts). Each
//! run must deliver every stamped event exactly once, in order, to every subscriber of every
//! transport, and only the events its ticket asked for; and a run whose events cannot arrive
//! must still end by its time limit, count them lost and fail. The soak mode runs a few seconds
//! with one fault; the mixed mode a few seconds of call traffic with every kind of page. Behaviour only: no figure of speed is asserted here.

use crate::support::app as support;

use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// Generous bound on one run of the tool (it has its own `--time-limit` well inside it).
const RUN_PATIENCE: Duration = Duration::from_secs(240);

/// Runs the tool with `args` and `--json`; returns its exit code and its report.
async fn run_tool(args: &[&str]) -> (i32, Value, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_pbxis-load"))
        .args(args)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the tool starts");
    let output = tokio::time::timeout(RUN_PATIENCE, child.wait_with_output())
        .await
        .expect("the tool stops by itself")
        .expect("the tool's output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), report, stderr)
}

/// Every subscriber got everything it expected, exactly once, in order, nothing foreign.
fn assert_exactly_once(report: &Value, subscribers: usize, events: u64) {
    assert_eq!(report["driver"]["sent"], events, "{report:#}");
    assert_eq!(report["complete"], true, "{report:#}");
    let subs = report["subscribers"].as_array().expect("subscriber rows");
    assert_eq!(subs.len(), subscribers);
    for (i, s) in subs.iter().enumerate() {
        let expected = s["expected"].as_u64().unwrap();
        assert!(expected > 0, "subscriber {i} expected nothing: {s}");
        assert_eq!(s["delivered"], expected, "subscriber {i}: {s}");
        for zero in [
            "lost",
            "duplicates",
            "out_of_order",
            "foreign",
            "unconfirmed",
            "unparsable",
            "closed_early",
            "transport_errors",
        ] {
            assert_eq!(s[zero], 0, "subscriber {i}, {zero}: {s}");
        }
    }
    for t in report["transports"].as_array().unwrap() {
        assert!(t["latency"]["p50_ms"].as_f64().unwrap() > 0.0, "{t}");
    }
    assert_eq!(report["ok"], true);
}

#[tokio::test]
async fn in_process_run_delivers_every_event_once_to_every_subscriber() {
    let (code, report, stderr) = run_tool(&[
        "--sse",
        "2",
        "--websocket",
        "2",
        "--long-poll",
        "2",
        "--agents",
        "3",
        "--queues",
        "2",
        "--events",
        "120",
        "--rate",
        "400",
        "--time-limit",
        "60",
    ])
    .await;
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_exactly_once(&report, 6, 120);
    // Every ticket asked for every agent: each subscriber expects every event.
    for s in report["subscribers"].as_array().unwrap() {
        assert_eq!(s["expected"], 120);
    }
    let names: Vec<&str> = report["transports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transport"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sse", "websocket", "long-poll"]);
    assert!(report["memory"]["after"]["rss_kib"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn narrow_tickets_get_their_agents_events_only() {
    // Four agents, tickets of one agent each: each subscriber expects only its agent's share and
    // must see no other agent's stamp (`foreign`).
    let (code, report, stderr) = run_tool(&[
        "--sse",
        "1",
        "--websocket",
        "1",
        "--long-poll",
        "2",
        "--agents",
        "4",
        "--queues",
        "1",
        "--ticket-agents",
        "1",
        "--events",
        "80",
        "--rate",
        "0",
        "--time-limit",
        "60",
    ])
    .await;
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_exactly_once(&report, 4, 80);
    let expected: u64 = report["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["expected"].as_u64().unwrap())
        .sum();
    // The four tickets cover the four agents once: together they expect each event once.
    assert_eq!(expected, 80);
}

#[tokio::test]
async fn url_mode_loads_a_running_service_and_tidies_up() {
    let app = support::spawn_app().await;
    let url = format!("http://{}", app.addr);
    let ami = app.sim.addr().to_string();
    let (code, report, stderr) = run_tool(&[
        "--url",
        &url,
        "--ami",
        &ami,
        "--agents",
        "147,148,149",
        "--queues",
        "q1,q2",
        "--sse",
        "1",
        "--websocket",
        "1",
        "--long-poll",
        "1",
        "--events",
        "60",
        "--time-limit",
        "60",
    ])
    .await;
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_exactly_once(&report, 3, 60);
    assert_eq!(report["in_process"], false);
    // The tool unpaused every member it paused.
    let truth = app.sim.truth().await;
    let paused: Vec<_> = truth
        .queues
        .iter()
        .flat_map(|q| q.members.iter().filter(|m| m.paused))
        .collect();
    assert!(paused.is_empty(), "{paused:?}");
    app.stop_and_join().await;
}

#[tokio::test]
async fn refuses_a_service_off_loopback() {
    let (code, _, stderr) =
        run_tool(&["--url", "http://192.0.2.1:80", "--ami", "192.0.2.1:5038"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
}

#[tokio::test]
async fn events_that_never_arrive_are_reported_lost_and_the_run_still_ends() {
    // The driver pauses members on a second simulator the service is not connected to: no
    // stamped event can reach the subscribers. The run must end by its time limit, count every
    // expected event as lost, and fail.
    let app = support::spawn_app().await;
    let elsewhere = pbxis_ws::sim::start(
        pbxis_ws::sim::SimConfig::quiet(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("second simulator");
    let url = format!("http://{}", app.addr);
    let ami = elsewhere.addr().to_string();
    let (code, report, stderr) = run_tool(&[
        "--url",
        &url,
        "--ami",
        &ami,
        "--agents",
        "147,148,149",
        "--queues",
        "q1,q2",
        "--sse",
        "1",
        "--websocket",
        "1",
        "--long-poll",
        "1",
        "--events",
        "30",
        "--rate",
        "100",
        "--time-limit",
        "3",
    ])
    .await;
    assert_eq!(code, 1, "{stderr}\n{report:#}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["complete"], false);
    assert_eq!(report["driver"]["sent"], 30);
    for s in report["subscribers"].as_array().unwrap() {
        assert_eq!(s["expected"], 30, "{s}");
        assert_eq!(s["delivered"], 0, "{s}");
        assert_eq!(s["lost"], 30, "{s}");
    }
    elsewhere.shutdown().await;
    app.stop_and_join().await;
}

#[tokio::test]
async fn soak_mode_goes_through_a_restart_and_every_subscriber_ends_with_the_truth() {
    // A few seconds of live calls, one Asterisk restart, half the subscribers behind a proxy
    // that cuts their connections about every half second. Five seconds cannot say whether
    // the RSS is flat (a generous tolerance keeps that verdict out of the exit code); this
    // checks that the mode runs, measures, recovers and judges the end state.
    let service = env!("CARGO_BIN_EXE_pbxis-ws");
    let (code, report, stderr) = run_tool(&[
        "soak",
        "--duration",
        "5s",
        "--report-every",
        "1s",
        "--fault-every",
        "3s",
        "--faults",
        "restart",
        "--call-rate",
        "240",
        "--agents",
        "3",
        "--queues",
        "2",
        "--sse",
        "2",
        "--websocket",
        "2",
        "--long-poll",
        "2",
        "--cut-every",
        "500ms",
        "--away-max",
        "2s",
        "--settle",
        "30s",
        "--rss-tolerance",
        "1000",
        "--service-bin",
        service,
    ])
    .await;
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["faults"], serde_json::json!({"restart": 1}));
    assert_eq!(report["subscribers"], 6);
    assert_eq!(report["via_proxy"], 3);
    let samples = report["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 5, "one per second: {samples:#?}");
    for s in samples {
        assert!(s["rss_kib"].as_u64().unwrap() > 0, "{s}");
    }
    let last = samples.last().unwrap();
    assert!(last["deliveries"].as_u64().unwrap() > 0, "{last}");
    assert!(last["cuts"].as_u64().unwrap() > 0, "{last}");
    assert!(last["reconnects"].as_u64().unwrap() > 0, "{last}");
    assert_eq!(report["converged"], true);
    assert_eq!(
        (report["gaps"].as_u64(), report["repeats"].as_u64()),
        (Some(0), Some(0))
    );
    for s in report["subscriber_ends"].as_array().unwrap() {
        assert_eq!(s["converged"], true, "{s}");
        assert!(s["deliveries"].as_u64().unwrap() > 0, "{s}");
    }
    assert_eq!(report["service_exit_ok"], true);
    // The report lines went to stderr (stdout carries the JSON).
    assert!(stderr.contains("service RSS"), "{stderr}");
}

#[tokio::test]
async fn soak_mode_refuses_flags_out_of_bounds() {
    let (code, _, stderr) = run_tool(&["soak", "--duration", "25h"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--duration"), "{stderr}");
}

#[tokio::test]
async fn mixed_mode_times_probes_to_every_kind_of_page_under_call_traffic() {
    // Two seconds of live calls with every kind of page: the run must count the AMI events the
    // service received and every page kind's events, deliver each probe to its agent's page
    // and to every supervisor exactly once (wallboards ask for no agent: none to them), and
    // time callers' joins on every kind of page.
    let service = env!("CARGO_BIN_EXE_pbxis-ws");
    let (code, report, stderr) = run_tool(&[
        "mixed",
        "--agents",
        "6",
        "--queues",
        "2",
        "--queues-per-agent",
        "1",
        "--supervisors",
        "2",
        "--wallboards",
        "2",
        "--call-rate",
        "120",
        "--time-scale",
        "5",
        "--summary-refresh",
        "1",
        "--probe-rate",
        "20",
        "--seconds",
        "2",
        "--warmup",
        "1",
        "--service-bin",
        service,
    ])
    .await;
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["probes_sent"], 40, "{report:#}");
    assert!(report["ami_events"].as_u64().unwrap() > 0, "{report:#}");
    assert!(report["ami_events_per_s"].as_f64().unwrap() > 0.0);
    let kinds = report["kinds"].as_array().expect("kinds");
    let names: Vec<&str> = kinds.iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(names, ["agent", "supervisor", "wallboard"]);
    for (kind, pages, probes) in [(&kinds[0], 6, 40), (&kinds[1], 2, 80), (&kinds[2], 2, 0)] {
        assert_eq!(kind["pages"], pages, "{kind}");
        assert!(kind["events"].as_u64().unwrap() > 0, "{kind}");
        assert_eq!(kind["probes_expected"], probes, "{kind}");
        assert_eq!(kind["probes_received"], probes, "{kind}");
        for zero in ["lost", "foreign", "resyncs"] {
            assert_eq!(kind[zero], 0, "{zero}: {kind}");
        }
    }
    assert!(kinds[1]["latency"]["p99_ms"].as_f64().unwrap() > 0.0);
    // Callers joined during the window: each kind of page timed some from their AMI event.
    for kind in kinds {
        assert!(kind["joins"].as_u64().unwrap() > 0, "{kind}");
    }
    assert!(
        report["service"]["cpu_s"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
    assert!(report["service"]["rss_kib_end"].as_u64().unwrap() > 0);
    assert_eq!(report["service_exit_ok"], true);
    assert!(stderr.contains("pages open"), "{stderr}");
}

#[tokio::test]
async fn mixed_mode_refuses_flags_out_of_bounds() {
    let (code, _, stderr) = run_tool(&["mixed", "--queues", "2", "--queues-per-agent", "3"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--queues-per-agent"), "{stderr}");
}
