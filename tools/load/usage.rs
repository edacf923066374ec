//! CPU time per side, from `/proc/self/task/<tid>/schedstat` (time on a CPU, nanoseconds),
//! summed over the threads of each side, told apart by thread name (`service`, `simulator`; every
//! other thread is the clients'). Sampled before and after the driving, the difference says what
//! delivering the run's events cost each side. Without `/proc` every figure is 0.
//!
//! (Write calls are not counted: `/proc`'s `syscw` misses `sendto`, which socket writes use.)

use serde::Serialize;

/// Thread name of the in-process service's runtime.
pub const SERVICE_THREAD: &str = "service";
/// Thread name of the in-process simulator's runtime.
pub const SIMULATOR_THREAD: &str = "simulator";

/// Resource use so far, per side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// CPU time of the service's threads, microseconds.
    pub service_cpu_us: u64,
    /// CPU time of the simulator's threads, microseconds.
    pub simulator_cpu_us: u64,
    /// CPU time of the clients' threads, microseconds.
    pub clients_cpu_us: u64,
}

impl Usage {
    /// What was used between `earlier` and `self`.
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            service_cpu_us: self.service_cpu_us.saturating_sub(earlier.service_cpu_us),
            simulator_cpu_us: self
                .simulator_cpu_us
                .saturating_sub(earlier.simulator_cpu_us),
            clients_cpu_us: self.clients_cpu_us.saturating_sub(earlier.clients_cpu_us),
        }
    }
}

/// Samples every thread of this process now.
pub fn sample() -> Usage {
    let mut usage = Usage::default();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return usage;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let cpu_us = cpu_ns(&read("schedstat")) / 1000;
        match read("comm").trim() {
            SERVICE_THREAD => usage.service_cpu_us += cpu_us,
            SIMULATOR_THREAD => usage.simulator_cpu_us += cpu_us,
            _ => usage.clients_cpu_us += cpu_us,
        }
    }
    usage
}

/// The first field of `schedstat`: nanoseconds on a CPU.
pub fn cpu_ns(schedstat: &str) -> u64 {
    schedstat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(cpu_ns("529785612 1689841 42\n"), 529_785_612);
        assert_eq!(cpu_ns(""), 0);
    }

    #[test]
    fn differences_never_underflow() {
        let a = Usage {
            service_cpu_us: 10,
            simulator_cpu_us: 3,
            clients_cpu_us: 1,
        };
        let b = Usage {
            service_cpu_us: 25,
            ..Usage::default()
        };
        assert_eq!(b.since(&a).service_cpu_us, 15);
        assert_eq!(b.since(&a).simulator_cpu_us, 0);
    }
}
