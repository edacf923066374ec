//! The HTTP layer's own costs: collecting and validating the parameters of `POST /ticket` (a
//! JSON body and a query string of 100 agents) and of `POST /queue/pause`, and building a
//! long-poll answer of 50 already-serialized events.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

use pbxis_ws::http::api::requests::TicketRequest;
use pbxis_ws::http::longpoll::json_array;
use pbxis_ws::http::params::Sources;
use pbxis_ws::hub::{Delivery, Epoch, EventId, Sent};
use pbxis_ws::pbx::{Event, QueueName};

fn ticket(c: &mut Criterion) {
    let agents: Vec<String> = (1000..1100).map(|n| n.to_string()).collect();
    let json = serde_json::json!({ "agents": agents, "queues": ["q1", "q2"] }).to_string();
    let query = format!("agents={}&queues=q1,q2", agents.join(","));
    let mut group = c.benchmark_group("ticket params (100 agents)");
    group.throughput(Throughput::Elements(1));
    group.bench_function("json body", |b| {
        b.iter(|| {
            let mut p = Sources::default();
            p.add_body(Some("application/json"), json.as_bytes())
                .unwrap();
            black_box(p.decode::<TicketRequest>().unwrap())
        })
    });
    group.bench_function("query string", |b| {
        b.iter(|| {
            let p = Sources::from_query(&query).unwrap();
            black_box(p.decode::<TicketRequest>().unwrap())
        })
    });
    group.finish();
}

fn pause(c: &mut Criterion) {
    let body = br#"{"queue":"q1","agent":"147","paused":true,"reason":"lunch"}"#;
    c.bench_function("pause params (json body)", |b| {
        b.iter(|| {
            let mut p = Sources::default();
            p.add_body(Some("application/json"), body).unwrap();
            black_box(pbxis_ws::http::api::parse_queue_action("pause", p).unwrap())
        })
    });
}

fn long_poll_answer(c: &mut Criterion) {
    let epoch = Epoch::generate();
    let sent: Vec<Sent> = (0..50)
        .filter_map(|n| {
            Delivery::new(&Event::QueueCount {
                queue: QueueName::parse("q1").unwrap(),
                count: n,
            })
        })
        .zip(1..)
        .map(|(delivery, seq)| Sent {
            id: Some(EventId { epoch, seq }),
            delivery,
        })
        .collect();
    let mut group = c.benchmark_group("long-poll answer");
    group.throughput(Throughput::Elements(sent.len() as u64));
    group.bench_function("50 events", |b| b.iter(|| black_box(json_array(&sent))));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = ticket, pause, long_poll_answer
}
criterion_main!(benches);
