//! `GET /metrics` against a known sequence: tickets, streams on two transports, actions (one
//! refused), an unknown route, an AMI cut by the simulator, a ticket that falls too far behind
//! and a resume from an unknown id; every series moves exactly as the sequence says. The
//! scope is `admin`, and no ticket ever appears in the output.

use crate::support::app::{self as support, SseReader, TestApp};
use std::collections::BTreeMap;
use std::time::Duration;

/// One scrape: every series (`name{labels}`) and its value.
async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    parse(&scrape_text(app).await)
}

async fn scrape_text(app: &TestApp) -> String {
    let r = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    r.text().await.unwrap()
}

fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn value(m: &BTreeMap<String, f64>, series: &str) -> f64 {
    m.get(series).copied().unwrap_or(0.0)
}

/// Scrapes until `series` reads `want` (state that follows an AMI cut settles on its own).
async fn until(app: &TestApp, series: &str, want: f64) -> BTreeMap<String, f64> {
    tokio::time::timeout(support::PATIENCE, async {
        loop {
            let m = scrape(app).await;
            if value(&m, series) == want {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{series} never reached {want}"))
}

#[tokio::test]
async fn the_counters_move_exactly_as_the_sequence_says() {
    let app = support::spawn_app_with(|s| s.limits.max_pending_events = 3).await;
    let m = scrape(&app).await;
    assert_eq!(value(&m, "pbxis_ami_connected"), 1.0);
    assert_eq!(value(&m, "pbxis_model_ready"), 1.0);
    assert_eq!(value(&m, "pbxis_ami_connects_total"), 1.0);
    assert_eq!(value(&m, "pbxis_model_rebuilds_total{result=\"ok\"}"), 1.0);
    assert_eq!(value(&m, "pbxis_model_rebuild_duration_seconds_count"), 1.0);
    assert_eq!(value(&m, "pbxis_tickets_open"), 0.0);

    // Two tickets, one stream on each of two transports.
    let t1 = app.ticket(&["147"], &["q1"]).await;
    let t2 = app.ticket(&["148"], &["q1"]).await;
    let (status, mut sse) = SseReader::open(&app.url(&format!("/{t1}/sse"))).await;
    assert_eq!(status, 200);
    let mut sse_read = sse.until(|e| e.event == "queueCount").await.len();
    let polled = app.long_poll(&t2).await.len();
    assert!(polled > 0);

    // Two pauses (answered), one add of a member already there (refused), an unknown route.
    app.set_paused("147", "q1", true).await;
    app.set_paused("147", "q1", false).await;
    let (status, _) = app
        .post_json(
            "/queue/add",
            serde_json::json!({"queue": "q1", "agent": "147"}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(app.get("/no/such/route").await.0, 404);
    sse_read += sse
        .until(|e| e.event == "queueMemberStatus" && e.data["status"] != "paused")
        .await
        .len();

    let m = scrape(&app).await;
    assert_eq!(value(&m, "pbxis_tickets_open"), 2.0);
    assert_eq!(value(&m, "pbxis_streams_open{transport=\"sse\"}"), 1.0);
    assert_eq!(
        value(&m, "pbxis_streams_open{transport=\"long-poll\"}"),
        0.0
    );
    assert_eq!(
        value(&m, "pbxis_events_delivered_total{transport=\"sse\"}"),
        sse_read as f64
    );
    assert_eq!(
        value(&m, "pbxis_events_delivered_total{transport=\"long-poll\"}"),
        polled as f64
    );
    let ok = "pbxis_ami_actions_total{action=\"QueuePause\",result=\"ok\"}";
    assert_eq!(value(&m, ok), 2.0);
    let refused = "pbxis_ami_actions_total{action=\"QueueAdd\",result=\"refused\"}";
    assert_eq!(value(&m, refused), 1.0);
    assert_eq!(
        value(
            &m,
            "pbxis_ami_action_duration_seconds_count{action=\"QueuePause\"}"
        ),
        2.0
    );
    assert_eq!(
        value(&m, "pbxis_ami_events_total{event=\"QueueMemberPause\"}"),
        2.0
    );
    let http = |method: &str, route: &str, status: u16| {
        value(
            &m,
            &format!(
                "pbxis_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(http("POST", "/ticket", 200), 2.0);
    assert_eq!(http("GET", "/{ticket}/sse", 200), 1.0);
    assert_eq!(http("GET", "/{ticket}/long-poll", 200), 1.0);
    assert_eq!(http("POST", "/queue/{action}", 200), 2.0);
    assert_eq!(http("POST", "/queue/{action}", 409), 1.0);
    assert_eq!(http("GET", "unmatched", 404), 1.0);
    assert_eq!(
        value(
            &m,
            "pbxis_http_request_duration_seconds_count{method=\"POST\",route=\"/queue/{action}\"}"
        ),
        3.0
    );

    // The simulator cuts the AMI connection: one loss, one more login, one more rebuild.
    app.sim.drop_connections().await;
    until(&app, "pbxis_ami_connects_total", 2.0).await;
    let m = until(&app, "pbxis_model_rebuilds_total{result=\"ok\"}", 2.0).await;
    assert_eq!(
        value(&m, "pbxis_ami_disconnects_total{reason=\"lost\"}"),
        1.0
    );
    assert_eq!(value(&m, "pbxis_ami_connected"), 1.0);

    // A ticket with no stream falls more than 3 events behind: dropped, then resynced.
    let t3 = app.ticket(&["149"], &["q1"]).await;
    for paused in [true, false, true, false] {
        app.set_paused("149", "q1", paused).await;
    }
    let m = until(&app, "pbxis_slow_clients_dropped_total", 1.0).await;
    assert_eq!(value(&m, "pbxis_resyncs_total{reason=\"overflow\"}"), 0.0);
    let events = app
        .long_poll_until(&t3, |e| e["type"] == "queueCount")
        .await;
    assert_eq!(events[0]["type"], "resync", "{events:?}");
    // A stream that resumes from an id never handed out resyncs too.
    let (_, mut again) =
        SseReader::open(&app.url(&format!("/{t1}/sse?lastEventId=nonsense"))).await;
    again.until(|e| e.event == "queueCount").await;
    let text = scrape_text(&app).await;
    let m = parse(&text);
    assert_eq!(value(&m, "pbxis_resyncs_total{reason=\"overflow\"}"), 1.0);
    assert_eq!(value(&m, "pbxis_resyncs_total{reason=\"unknownId\"}"), 1.0);
    assert_eq!(value(&m, "pbxis_tickets_open"), 3.0);
    for ticket in [&t1, &t2, &t3] {
        assert!(!text.contains(ticket.as_str()), "a ticket in the metrics");
    }
    drop((sse, again));
    app.stop_and_join().await;
}

#[tokio::test]
async fn metrics_need_the_admin_scope() {
    let events = "events-key-0123456789";
    let admin = "admin-key-0123456789";
    let app = support::spawn_app_keyed(
        |s| {
            s.auth = toml::from_str(&format!(
                "[[keys]]\nname = \"crm\"\nkey = \"{events}\"\nscopes = [\"events\"]\n\
                 [[keys]]\nname = \"ops\"\nkey = \"{admin}\"\nscopes = [\"admin\"]\n"
            ))
            .unwrap();
        },
        Some(admin),
    )
    .await;
    let get = |key: Option<&str>| {
        let request = app.http.get(app.url("/metrics"));
        match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
        .send()
    };
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some(events)).await.unwrap().status(), 403);
    let ok = get(Some(admin)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("pbxis_ami_connected 1"));
    app.stop_and_join().await;
}
