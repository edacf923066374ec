//! Memory figures. This process's resident set from `/proc/self/status` (`VmRSS`, and its peak
//! `VmHWM`) covers everything in it: with the in-process service, the simulator and the load
//! clients too. So the tool also counts live heap bytes per *side*: a counting global allocator
//! charges each allocation to the side of the thread that makes it (the service's runtime
//! threads, the simulator's, or the clients'), and each free to the side of the thread that
//! frees it. The sides share nothing but sockets, so the service's figure is its own heap, give
//! or take the few KiB of settings handed over at start-up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::Serialize;

/// Whose thread it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The load clients and the driver (and the main thread).
    Clients = 0,
    /// The service under load (AMI client, model, hub, HTTP).
    Service = 1,
    /// The simulated Asterisk.
    Simulator = 2,
}

static LIVE: [AtomicI64; 3] = [AtomicI64::new(0), AtomicI64::new(0), AtomicI64::new(0)];

thread_local! {
    static SIDE: Cell<usize> = const { Cell::new(Side::Clients as usize) };
}

/// Charges this thread's allocations to `side` from now on (a runtime's `on_thread_start`).
pub fn mark_thread(side: Side) {
    SIDE.with(|s| s.set(side as usize));
}

fn charge(delta: i64) {
    let side = SIDE.try_with(Cell::get).unwrap_or(Side::Clients as usize);
    LIVE[side].fetch_add(delta, Ordering::Relaxed);
}

/// The system allocator, counting live bytes per side.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `System`; the counting touches only atomics and
// a const-initialised thread-local without destructor, which allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            charge(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            charge(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        charge(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            charge(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Memory at one moment, KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// `VmRSS` of the whole process (0 without `/proc`).
    pub rss_kib: u64,
    /// `VmHWM`: peak resident set so far (0 without `/proc`).
    pub peak_kib: u64,
    /// Live heap of the service's threads.
    pub service_heap_kib: i64,
    /// Live heap of the simulator's threads.
    pub simulator_heap_kib: i64,
    /// Live heap of the clients' threads.
    pub clients_heap_kib: i64,
}

/// Samples it now.
pub fn sample() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let (rss_kib, peak_kib) = parse(&status).unwrap_or((0, 0));
    let kib = |side: Side| LIVE[side as usize].load(Ordering::Relaxed) / 1024;
    Memory {
        rss_kib,
        peak_kib,
        service_heap_kib: kib(Side::Service),
        simulator_heap_kib: kib(Side::Simulator),
        clients_heap_kib: kib(Side::Clients),
    }
}

/// `(VmRSS, VmHWM)` of another process, KiB (`None` when it is gone or without `/proc`).
pub fn process(pid: u32) -> Option<(u64, u64)> {
    parse(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// `(VmRSS, VmHWM)` in KiB.
fn parse(status: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let s = "Name:\tx\nVmHWM:\t   2048 kB\nVmRSS:\t   1024 kB\n";
        assert_eq!(parse(s), Some((1024, 2048)));
        assert_eq!(parse("Name: x\n"), None);
    }

    #[test]
    fn allocations_are_charged_to_the_thread_side() {
        let before = LIVE[Side::Simulator as usize].load(Ordering::Relaxed);
        let held = std::thread::spawn(|| {
            mark_thread(Side::Simulator);
            let v = vec![0u8; 1 << 20];
            let during = LIVE[Side::Simulator as usize].load(Ordering::Relaxed);
            drop(v);
            during
        })
        .join()
        .unwrap();
        let after = LIVE[Side::Simulator as usize].load(Ordering::Relaxed);
        assert!(held - before >= 1 << 20, "{before} {held}");
        assert!(after - before < 1 << 20, "{before} {after}");
    }
}
