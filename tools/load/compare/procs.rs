//! What a server costs the machine, read from `/proc`: the resident set (`VmRSS`) and the CPU
//! time (every thread's `schedstat`) of a set of processes, the server's own and its children
//! (Pushpin runs as four processes under one runner).

use std::collections::BTreeSet;

/// A set of processes: a root and, when asked, its children (found again at each reading, so a
/// child started late counts too).
#[derive(Clone, Debug)]
pub struct Procs {
    root: u32,
    children: bool,
}

impl Procs {
    /// The process `root` alone.
    pub fn one(root: u32) -> Procs {
        Procs {
            root,
            children: false,
        }
    }

    /// `root` and its direct children.
    pub fn tree(root: u32) -> Procs {
        Procs {
            root,
            children: true,
        }
    }

    /// The process ids now.
    pub fn pids(&self) -> BTreeSet<u32> {
        let mut pids = BTreeSet::from([self.root]);
        if self.children {
            pids.extend(children_of(self.root));
        }
        pids
    }

    /// Resident memory of them all, KiB.
    pub fn rss_kib(&self) -> u64 {
        self.pids()
            .into_iter()
            .filter_map(|pid| crate::memory::process(pid).map(|(rss, _)| rss))
            .sum()
    }

    /// CPU time of them all (every thread alive now), microseconds.
    pub fn cpu_us(&self) -> u64 {
        self.pids().into_iter().map(cpu_us_of).sum()
    }
}

/// The direct children of `parent` (field 4 of `/proc/<pid>/stat`).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| parent_in_stat(&stat))
                == Some(parent)
        })
        .collect()
}

/// The parent pid in a `stat` line: the second field after the command, which is in
/// parentheses and may hold spaces.
fn parent_in_stat(stat: &str) -> Option<u32> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

fn cpu_us_of(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .map(|t| {
            let schedstat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            crate::usage::cpu_ns(&schedstat) / 1000
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_a_command_with_spaces() {
        assert_eq!(parent_in_stat("42 (a b) c) S 7 42 42 0"), Some(7));
        assert_eq!(parent_in_stat("garbage"), None);
    }

    #[test]
    fn this_process_counts() {
        let me = Procs::one(std::process::id());
        assert!(me.rss_kib() > 0);
        assert!(me.pids().contains(&std::process::id()));
    }
}
