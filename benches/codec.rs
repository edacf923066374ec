//! Decoding throughput of the AMI codec on the busiest recorded transcript (what Asterisk sent
//! on the `main` connection of `08-busy-load.txt`), in messages/s and bytes/s, and the same
//! bytes through the decoder of the crate `asterisk-rs-ami`, with the ratio printed at the end.

use bytes::BytesMut;
use criterion::{black_box, criterion_group, BatchSize, Criterion, Throughput};
use std::time::{Duration, Instant};
use tokio_util::codec::Decoder;

use pbxis_ws::ami::transcript::{self, Direction};
use pbxis_ws::ami::{AmiCodec, AmiFrame};

fn busy_stream() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/08-busy-load.txt"
    );
    let data = std::fs::read(path).expect("the busy transcript is in tests/fixtures");
    let chunks = transcript::parse(&data).expect("the busy transcript parses");
    transcript::stream(&chunks, "main", Direction::ServerToClient)
}

/// Decodes the whole stream with our codec; the number of messages.
fn ours(buf: &mut BytesMut) -> usize {
    let mut codec = AmiCodec::client();
    let mut n = 0;
    while let Ok(Some(frame)) = codec.decode(buf) {
        if let AmiFrame::Message(m) = frame {
            black_box(&m);
            n += 1;
        }
    }
    n
}

/// Decodes the whole stream with `asterisk-rs-ami`'s codec; the number of messages.
fn theirs(buf: &mut BytesMut) -> usize {
    let mut codec = asterisk_rs_ami::AmiCodec::new();
    let mut n = 0;
    while let Ok(Some(m)) = codec.decode(buf) {
        black_box(&m);
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let stream = busy_stream();
    let messages = ours(&mut BytesMut::from(&stream[..]));
    let theirs_count = theirs(&mut BytesMut::from(&stream[..]));
    println!(
        "busy transcript: {} bytes, {messages} messages (asterisk-rs-ami decodes {theirs_count})",
        stream.len()
    );
    for (unit, throughput) in [
        ("messages", Throughput::Elements(messages as u64)),
        ("bytes", Throughput::Bytes(stream.len() as u64)),
    ] {
        let mut group = c.benchmark_group(format!("decode busy transcript ({unit})"));
        group.throughput(throughput);
        group.bench_function("pbxis-ws", |b| {
            b.iter_batched_ref(|| BytesMut::from(&stream[..]), ours, BatchSize::LargeInput)
        });
        group.bench_function("asterisk-rs-ami", |b| {
            b.iter_batched_ref(
                || BytesMut::from(&stream[..]),
                theirs,
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
    print_ratio(&stream, messages);
}

/// A direct side-by-side timing (same bytes, same number of runs) so the ratio is printed.
fn print_ratio(stream: &[u8], messages: usize) {
    let time = |decode: fn(&mut BytesMut) -> usize| {
        let mut best = Duration::MAX;
        for _ in 0..15 {
            let mut buf = BytesMut::from(stream);
            let start = Instant::now();
            black_box(decode(&mut buf));
            best = best.min(start.elapsed());
        }
        best
    };
    let ours_t = time(ours);
    let theirs_t = time(theirs);
    let rate = |t: Duration| messages as f64 / t.as_secs_f64();
    let mb = |t: Duration| stream.len() as f64 / t.as_secs_f64() / 1e6;
    println!(
        "pbxis-ws:        {:>10.0} messages/s, {:>7.1} MB/s (best of 15)",
        rate(ours_t),
        mb(ours_t)
    );
    println!(
        "asterisk-rs-ami: {:>10.0} messages/s, {:>7.1} MB/s (best of 15)",
        rate(theirs_t),
        mb(theirs_t)
    );
    println!(
        "ratio pbxis-ws / asterisk-rs-ami: {:.2}x",
        theirs_t.as_secs_f64() / ours_t.as_secs_f64()
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
