//! The report as text: what was run, the driver, one line per transport, the ratios between
//! transports, memory, the problems of individual subscribers, and the verdict.

use std::fmt::Write as _;

use crate::memory::Memory;
use crate::report::{Report, TransportRow};

/// The report as a human-readable table.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(out, "{}", header(r));
    let d = &r.driver;
    let _ = writeln!(
        out,
        "driver: {} stamped QueuePause answered in {:.2} s ({:.0}/s){}; AMI round trip p50 {:.2} ms, p99 {:.2} ms; errors {}",
        d.sent,
        d.seconds,
        d.per_s,
        if d.cut { ", CUT by the time limit" } else { "" },
        d.round_trip.p50_ms,
        d.round_trip.p99_ms,
        d.errors.len()
    );
    out.push_str(&table(r));
    out.push_str(&ratios(&r.transports));
    out.push_str(&memory(r));
    out.push_str(&usage(r));
    out.push_str(&problems(r));
    let verdict = if r.ok {
        "OK: every subscriber received every event exactly once, in order"
    } else {
        "FAILED: see the counts and problems above"
    };
    let _ = writeln!(out, "verdict: {verdict}");
    out
}

fn table(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "latency: from the driver sending the stamped action to the subscriber reading the event\n"
    );
    let _ = writeln!(
        out,
        "{:<10} {:>5} {:>9} {:>9} {:>5} {:>4} {:>5} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "transport",
        "subs",
        "expected",
        "delivered",
        "lost",
        "dup",
        "order",
        "errors",
        "events/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms"
    );
    for t in &r.transports {
        let c = &t.counts;
        let _ = writeln!(
            out,
            "{:<10} {:>5} {:>9} {:>9} {:>5} {:>4} {:>5} {:>6} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            t.transport.name(),
            t.subscribers,
            c.expected,
            c.delivered,
            c.lost,
            c.duplicates,
            c.out_of_order,
            c.transport_errors + c.closed_early + c.unparsable + c.foreign,
            t.events_per_s,
            t.latency.p50_ms,
            t.latency.p90_ms,
            t.latency.p99_ms,
            t.latency.max_ms
        );
    }
    out
}

fn header(r: &Report) -> String {
    let mut out = String::new();
    let place = if r.in_process {
        "in-process service (simulator, service and load clients in one process)"
    } else {
        "running service"
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(out, "pbxis-load: {place}; {cores} cores");
    let rate = if r.rate > 0.0 {
        format!("{}/s", r.rate)
    } else {
        "unpaced".to_owned()
    };
    let subs: Vec<String> = r
        .transports
        .iter()
        .map(|t| format!("{} {}", t.subscribers, t.transport.name()))
        .collect();
    let _ = writeln!(
        out,
        "load: {} agents × {} queues = {} pairs; {} events asked, {rate}; subscribers: {} (tickets of {} agents, every queue)",
        r.agents,
        r.queues,
        r.pairs,
        r.events,
        subs.join(", "),
        r.ticket_agents
    );
    if r.firehose > 0 || r.call_rate > 0.0 {
        let _ = writeln!(
            out,
            "background: firehose {}/s, calls {}/simulated minute",
            r.firehose, r.call_rate
        );
    }
    out
}

/// Each transport against the first of websocket, sse, long-poll present.
fn ratios(rows: &[TransportRow]) -> String {
    let Some(base) = rows
        .iter()
        .find(|t| t.transport.name() == "websocket")
        .or(rows.first())
    else {
        return String::new();
    };
    let mut out = String::new();
    for t in rows.iter().filter(|t| t.transport != base.transport) {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        let _ = writeln!(
            out,
            "ratio {}/{}: p50 {:.2}×, p99 {:.2}×, events/s {:.2}×",
            t.transport.name(),
            base.transport.name(),
            ratio(t.latency.p50_ms, base.latency.p50_ms),
            ratio(t.latency.p99_ms, base.latency.p99_ms),
            ratio(t.events_per_s, base.events_per_s)
        );
    }
    out
}

fn memory(r: &Report) -> String {
    let m = &r.memory;
    let mib = |kib: i64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let rss = |m: &Memory| mib(m.rss_kib as i64);
    let mut out = String::new();
    let whose = if r.in_process {
        "service + simulator + clients"
    } else {
        "the load tool only"
    };
    let _ = writeln!(
        out,
        "memory, VmRSS ({whose}): start {}, service ready {}, subscribed {}, after the run {}; peak {}",
        rss(&m.start),
        rss(&m.ready),
        rss(&m.subscribed),
        rss(&m.after),
        mib(m.after.peak_kib as i64)
    );
    if r.in_process {
        let subs = r.subscribers.len().max(1) as f64;
        let per_sub = (m.subscribed.service_heap_kib - m.ready.service_heap_kib) as f64 / subs;
        let _ = writeln!(
            out,
            "heap, service: ready {}, subscribed {} ({per_sub:.1} KiB per subscriber), after the run {}",
            mib(m.ready.service_heap_kib),
            mib(m.subscribed.service_heap_kib),
            mib(m.after.service_heap_kib)
        );
        let _ = writeln!(
            out,
            "heap, simulator {} / clients {} after the run",
            mib(m.after.simulator_heap_kib),
            mib(m.after.clients_heap_kib)
        );
    }
    out
}

fn usage(r: &Report) -> String {
    if !r.in_process {
        return String::new();
    }
    let u = &r.usage;
    let delivered: u64 = r.transports.iter().map(|t| t.counts.delivered).sum();
    let per = |x: u64, n: u64| x as f64 / n.max(1) as f64;
    format!(
        "cpu, first action to last delivery: service {:.2} s ({:.1} µs per stamped event, {:.2} µs per delivery), simulator {:.2} s, clients {:.2} s\n",
        u.service_cpu_us as f64 / 1e6,
        per(u.service_cpu_us, r.driver.sent),
        per(u.service_cpu_us, delivered),
        u.simulator_cpu_us as f64 / 1e6,
        u.clients_cpu_us as f64 / 1e6
    )
}

fn problems(r: &Report) -> String {
    let mut out = String::new();
    if !r.complete {
        out.push_str("not every delivery arrived before the time limit\n");
    }
    for e in r.driver.errors.iter().take(10) {
        let _ = writeln!(out, "driver error: {e}");
    }
    let mut shown = 0;
    for (i, s) in r.subscribers.iter().enumerate() {
        let c = &s.counts;
        let bad =
            c.lost + c.duplicates + c.out_of_order + c.foreign + c.unparsable + c.transport_errors;
        if (bad == 0 && s.closed.is_none()) || shown >= 10 {
            continue;
        }
        shown += 1;
        let _ = writeln!(
            out,
            "subscriber {i} ({}): lost {} dup {} order {} foreign {} unparsable {} closed {:?} errors {:?}",
            s.transport.name(),
            c.lost,
            c.duplicates,
            c.out_of_order,
            c.foreign,
            c.unparsable,
            s.closed,
            s.errors
        );
    }
    out
}
