//! End to end over real sockets: a queue action (`POST /queue/pause`) against the simulated
//! Asterisk until every one of 100 WebSocket clients (each on its own ticket) has received the
//! resulting `queueMemberStatus` event.

use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;

use pbxis_ws::app::Application;
use pbxis_ws::config::Settings;
use pbxis_ws::sim::{self, SimConfig};

const CLIENTS: usize = 100;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn setup() -> (String, Vec<Socket>) {
    let simulator = sim::start(SimConfig::quiet(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Settings::default()
    };
    settings.ami.port = simulator.addr().port();
    settings.ami.secret = "pbxis".into();
    settings.limits.max_streams_per_client = CLIENTS + 10;
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    loop {
        let ready = http.get(format!("{base}/ready")).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut sockets = Vec::new();
    for _ in 0..CLIENTS {
        let ticket: String = http
            .post(format!("{base}/ticket"))
            .json(&serde_json::json!({"agents":["147"],"queues":["q1"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = format!("ws://{}/{ticket}/websocket", &base["http://".len()..]);
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        next_member_status(&mut ws).await;
        sockets.push(ws);
    }
    (base, sockets)
}

/// Reads until a `queueMemberStatus` event; its status.
async fn next_member_status(ws: &mut Socket) -> String {
    loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "queueMemberStatus" {
                return v["status"].as_str().unwrap_or_default().to_owned();
            }
        }
    }
}

fn fanout(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let (base, sockets) = rt.block_on(setup());
    let sockets = std::sync::Arc::new(tokio::sync::Mutex::new(sockets));
    let http = reqwest::Client::new();
    let mut paused = false;
    c.bench_function("pause -> 100 WebSockets", |b| {
        b.to_async(&rt).iter(|| {
            paused = !paused;
            let (http, base, sockets) = (http.clone(), base.clone(), sockets.clone());
            let paused = paused;
            async move {
                let body = serde_json::json!({"queue":"q1","agent":"147","paused":paused});
                let r = http
                    .post(format!("{base}/queue/pause"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let mut sockets = sockets.lock().await;
                let reads = sockets.iter_mut().map(next_member_status);
                futures_util::future::join_all(reads).await
            }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = fanout
}
criterion_main!(benches);
