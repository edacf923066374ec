//! Model benchmarks: events per second through `State::apply` on the busiest recorded
//! transcript (goal: at least 5 million per second on one core), and the memory of a model with
//! 10,000 agents in 500 queues (goal: under 50 MB), measured with a counting global allocator.
//!
//! The rebuild: a fresh model for 10,000 agents in 500 queues from the answers Asterisk gives to
//! the rebuild's list actions (`QueueStatus` items with every recorded field, `ExtensionStatus`
//! items), and the change events from an empty model to it (goal: under a second together).
//!
//! `cargo bench --bench model -- --warm-up-time 1 --measurement-time 3`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use bytes::BytesMut;
use criterion::{black_box, Criterion, Throughput};
use pbxis_ws::ami::transcript::{self, Direction};
use pbxis_ws::ami::{AmiCodec, AmiFrame, AmiMessage, MessageKind};
use pbxis_ws::pbx::sync::{self, Lists};
use pbxis_ws::pbx::{Location, State};
use tokio_util::codec::Decoder;

/// Counts the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - layout.size() as isize, Ordering::Relaxed);
        System.realloc(ptr, layout, new)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn rig() -> State {
    State::new(Location::parse("Local/{agent}@agents/n").unwrap(), "hints")
}

/// The events of the busy transcript as the AMI client hands them to the model.
fn busy_events() -> Vec<AmiMessage> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/08-busy-load.txt"
    );
    let chunks = transcript::parse(&std::fs::read(path).unwrap()).unwrap();
    let bytes = transcript::stream(&chunks, "main", Direction::ServerToClient);
    let mut buf = BytesMut::from(&bytes[..]);
    let mut codec = AmiCodec::client();
    let mut out = Vec::new();
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        if let AmiFrame::Message(m) = frame {
            let list_item = m.action_id().is_some() && !m.is_event("OriginateResponse");
            if m.kind() == MessageKind::Event && !list_item {
                out.push(m);
            }
        }
    }
    out
}

fn bench_apply(c: &mut Criterion) {
    let events = busy_events();
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("apply_busy_transcript", |b| {
        b.iter_batched(
            rig,
            |mut state| {
                let mut n = 0;
                for e in &events {
                    n += state.apply(black_box(e)).len();
                }
                n
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn ev(name: &str, fields: &[(&str, &str)]) -> AmiMessage {
    fields
        .iter()
        .fold(AmiMessage::event(name), |m, (k, v)| m.with(k, v))
}

/// 10,000 agents, each a member of 5 of 500 queues (100 members per queue), with a hint each,
/// 1,000 of them in a queue call and 2,000 callers waiting.
fn big_model() -> State {
    let mut s = State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints");
    for i in 0..10_000u32 {
        let agent = format!("{}", 100_000 + i);
        let iface = format!("PJSIP/{agent}");
        let name = format!("Agent {agent}");
        for k in 0..5 {
            let queue = format!("queue{:03}", (i * 5 + k) % 500);
            s.apply(&ev(
                "QueueMember",
                &[
                    ("Queue", &queue),
                    ("Name", &name),
                    ("Location", &iface),
                    ("StateInterface", &iface),
                    ("Membership", "dynamic"),
                    ("Status", "1"),
                    ("Paused", "0"),
                    ("CallsTaken", "12"),
                ],
            ));
        }
        s.apply(&ev(
            "ExtensionStatus",
            &[("Exten", &agent), ("Context", "hints"), ("Status", "0")],
        ));
        if i % 10 == 0 {
            let caller = format!("1795945000.{i}");
            s.apply(&ev(
                "AgentCalled",
                &[
                    ("Uniqueid", &caller),
                    ("CallerIDNum", "0911000000"),
                    ("CallerIDName", "Customer 0911000000"),
                    ("DestUniqueid", &format!("1795946000.{i}")),
                    ("Queue", "queue001"),
                    ("Interface", &iface),
                ],
            ));
        }
    }
    for i in 0..2_000u32 {
        let queue = format!("queue{:03}", i % 500);
        s.apply(&ev(
            "QueueCallerJoin",
            &[
                ("Queue", &queue),
                ("Count", "4"),
                ("Uniqueid", &format!("1795947000.{i}")),
            ],
        ));
    }
    s
}

/// The list answers of a rebuild of 10,000 agents (Local/<n>@agents/n, hint state Custom:<n>),
/// each a member of 5 of 500 queues, shaped like the recorded `QueueStatus` answer
/// (02-queue-status.txt).
fn big_lists() -> Lists {
    let mut lists = Lists::default();
    for q in 0..500u32 {
        let queue = format!("queue{q:03}");
        lists.queue_status.push(ev(
            "QueueParams",
            &[
                ("Queue", &queue),
                ("Max", "0"),
                ("Strategy", "ringall"),
                ("Calls", "0"),
                ("Holdtime", "2"),
                ("TalkTime", "0"),
                ("Completed", "0"),
                ("Abandoned", "0"),
                ("ServiceLevel", "30"),
                ("ServicelevelPerf", "0.0"),
                ("ServicelevelPerf2", "0.0"),
                ("Weight", "0"),
                ("ActionID", "main-5"),
            ],
        ));
        for m in 0..100u32 {
            let agent = 100_000 + (q * 100 + m) % 10_000;
            let name = format!("Agent {agent}");
            let location = format!("Local/{agent}@agents/n");
            let state = format!("Custom:{agent}");
            lists.queue_status.push(ev(
                "QueueMember",
                &[
                    ("Queue", &queue),
                    ("Name", &name),
                    ("Location", &location),
                    ("StateInterface", &state),
                    ("Membership", "dynamic"),
                    ("Penalty", "0"),
                    ("CallsTaken", "0"),
                    ("LastCall", "0"),
                    ("LastPause", "0"),
                    ("LoginTime", "1795945285"),
                    ("InCall", "0"),
                    ("Status", "1"),
                    ("Paused", "0"),
                    ("PausedReason", ""),
                    ("Wrapuptime", "0"),
                    ("ActionID", "main-5"),
                ],
            ));
        }
    }
    for i in 0..10_000u32 {
        let agent = format!("{}", 100_000 + i);
        lists.extensions.push(ev(
            "ExtensionStatus",
            &[
                ("Exten", &agent),
                ("Context", "agents"),
                ("Hint", &format!("Custom:{agent}")),
                ("Status", "0"),
                ("StatusText", "Idle"),
                ("ActionID", "main-6"),
            ],
        ));
    }
    lists
}

fn bench_rebuild(c: &mut Criterion) {
    let base = State::new(Location::parse("Local/{agent}@agents/n").unwrap(), "agents");
    let lists = big_lists();
    let built = sync::rebuild(&base, &lists);
    println!(
        "rebuild: {} agents in {} queues from {} list items",
        built.agents().len(),
        built.queues().len(),
        lists.queue_status.len() + lists.extensions.len()
    );
    let mut g = c.benchmark_group("rebuild 10,000 agents in 500 queues");
    g.sample_size(10);
    g.bench_function("rebuild", |b| {
        b.iter(|| sync::rebuild(&base, black_box(&lists)))
    });
    g.bench_function("sync_events from empty", |b| {
        b.iter(|| sync::sync_events(&base, black_box(&built)).len())
    });
    g.finish();
}

fn main() {
    let before = LIVE.load(Ordering::Relaxed);
    let model = big_model();
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    println!(
        "model memory: {} agents in {} queues: {:.1} MB ({} bytes)",
        model.agents().len(),
        model.queues().len(),
        bytes as f64 / 1_048_576.0,
        bytes
    );
    drop(model);
    let mut c = Criterion::default().configure_from_args();
    bench_apply(&mut c);
    bench_rebuild(&mut c);
    c.final_summary();
}
