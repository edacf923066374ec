//! Fan-out cost of the hub: publishing N events to 1,000 tickets, each event serialized once and
//! queued on every ticket whose filter matches. Two mixes: agent/queue events that match about
//! one ticket in ten, and `pbxStatus`, which every ticket receives.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

use pbxis_ws::hub::{Hub, HubConfig};
use pbxis_ws::pbx::{AgentId, DeviceStatus, Event, Filter, MemberStatus, QueueName};

const TICKETS: usize = 1_000;

fn agent(n: usize) -> AgentId {
    AgentId::parse(&format!("{}", 100 + n % 100)).unwrap()
}
fn queue(n: usize) -> QueueName {
    QueueName::parse(&format!("q{}", n % 10)).unwrap()
}

/// 1,000 tickets, each for one agent and one queue (100 agents, 10 queues).
fn hub_with_tickets() -> Hub {
    let hub = Hub::new(HubConfig {
        max_tickets: TICKETS,
        max_pending: 10_000,
        unsub_delay: Duration::from_secs(3600),
        ..HubConfig::default()
    });
    for i in 0..TICKETS {
        let filter = Filter::new([agent(i)], [queue(i)]);
        hub.create_ticket(filter, vec![], None).unwrap();
    }
    hub
}

fn selective_events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| match i % 3 {
            0 => Event::ExtensionStatus {
                agent: agent(i),
                status: DeviceStatus::Inuse,
            },
            1 => Event::QueueMemberStatus {
                agent: agent(i),
                queue: queue(i),
                status: MemberStatus::Paused,
                reason: Some("lunch".into()),
            },
            _ => Event::QueueCount {
                queue: queue(i),
                count: i as u32,
            },
        })
        .collect()
}

fn broadcast_events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| Event::PbxStatus {
            connected: i % 2 == 0,
        })
        .collect()
}

fn fan_out(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let mut group = c.benchmark_group("hub_fan_out_1000_tickets");
    for n in [1usize, 10, 100] {
        group.throughput(Throughput::Elements(n as u64));
        for (mix, events) in [
            ("selective", selective_events(n)),
            ("broadcast", broadcast_events(n)),
        ] {
            group.bench_with_input(BenchmarkId::new(mix, n), &events, |b, events| {
                b.iter_batched(
                    hub_with_tickets,
                    |hub| {
                        hub.publish(events);
                        hub
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
