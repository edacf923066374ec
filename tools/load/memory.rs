//! This process's memory from `/proc/self/status`: resident set (`VmRSS`) and its peak
//! (`VmHWM`), in KiB. With the in-process service that is the service, the simulator and the
//! load clients together; elsewhere (no `/proc`) the figures are absent.

use serde::Serialize;

/// Resident memory at one moment, KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// `VmRSS`.
    pub rss_kib: u64,
    /// `VmHWM` (peak resident set so far).
    pub peak_kib: u64,
}

/// Reads it now; `None` without `/proc`.
pub fn sample() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse(&status)
}

fn parse(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let s = "Name:\tx\nVmHWM:\t   2048 kB\nVmRSS:\t   1024 kB\n";
        assert_eq!(
            parse(s),
            Some(Memory {
                rss_kib: 1024,
                peak_kib: 2048
            })
        );
        assert_eq!(parse("Name: x\n"), None);
    }
}
