//! The faults injected into the simulated Asterisk, one every interval, drawn (seeded) from the
//! chosen kinds in shuffled rounds, so that every kind comes once in each round: every AMI connection dropped; a stall (nothing read or
//! written for 0.5 to 3 s); a restart (`Shutdown`, connections refused for 0.2 to 2 s, fresh
//! state); garbage on the socket (a NUL line, random binary, or a 100 KiB line without end).
//! Stalls and downtimes are bounded by half the interval, so faults never overlap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pbxis_ws::sim::SimHandle;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

use super::args::FaultKind;

/// Longest stall.
const MAX_STALL: Duration = Duration::from_secs(3);
/// Longest restart downtime.
const MAX_DOWNTIME: Duration = Duration::from_secs(2);
/// Longest garbage line.
const LONG_LINE: usize = 100 * 1024;

/// Faults injected so far, by kind.
#[derive(Debug, Default)]
pub struct FaultCounts([AtomicU64; 4]);

impl FaultCounts {
    fn add(&self, kind: FaultKind) {
        self.0[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Faults of each kind that happened at least once, in kind order.
    pub fn by_kind(&self) -> Vec<(FaultKind, u64)> {
        FaultKind::ALL
            .iter()
            .map(|k| (*k, self.0[*k as usize].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Faults in all.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|n| n.load(Ordering::Relaxed)).sum()
    }
}

/// What to inject and how often.
pub struct Plan {
    /// The kinds to draw from (not empty).
    pub kinds: Vec<FaultKind>,
    /// Between two faults.
    pub every: Duration,
    /// Seed of the draws.
    pub seed: u64,
}

/// Injects faults into `sim` until `stop`.
pub async fn inject(sim: SimHandle, plan: Plan, counts: Arc<FaultCounts>, stop: CancellationToken) {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let longest = plan.every / 2;
    let mut round = Vec::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(plan.every) => {}
        }
        let Some(kind) = next(&mut round, &plan.kinds, &mut rng) else {
            return;
        };
        match kind {
            FaultKind::Drop => sim.drop_connections().await,
            FaultKind::Stall => {
                let d = between(&mut rng, Duration::from_millis(500), MAX_STALL.min(longest));
                sim.stall(d).await;
            }
            FaultKind::Restart => {
                let d = between(
                    &mut rng,
                    Duration::from_millis(200),
                    MAX_DOWNTIME.min(longest),
                );
                sim.restart(d).await;
            }
            FaultKind::Garbage => sim.send_garbage(&garbage(&mut rng)).await,
        }
        counts.add(kind);
    }
}

/// The next fault of the round; a new shuffled round when it is over (`None`: no kinds).
fn next(round: &mut Vec<FaultKind>, kinds: &[FaultKind], rng: &mut StdRng) -> Option<FaultKind> {
    if round.is_empty() {
        round.extend_from_slice(kinds);
        round.shuffle(rng);
    }
    round.pop()
}

fn between(rng: &mut StdRng, lo: Duration, hi: Duration) -> Duration {
    if hi <= lo {
        return hi;
    }
    Duration::from_secs_f64(rng.gen_range(lo.as_secs_f64()..hi.as_secs_f64()))
}

/// Bytes that are not AMI.
fn garbage(rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = match rng.gen_range(0..3) {
        0 => b"\0garbage".to_vec(),
        1 => (0..rng.gen_range(1..4096))
            .map(|_| rng.gen::<u8>())
            .collect(),
        _ => vec![b'x'; LONG_LINE],
    };
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_stay_in_their_bounds() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let d = between(&mut rng, Duration::from_millis(500), Duration::from_secs(3));
            assert!(d >= Duration::from_millis(500) && d < Duration::from_secs(3));
        }
        let short = between(
            &mut rng,
            Duration::from_millis(500),
            Duration::from_millis(250),
        );
        assert_eq!(short, Duration::from_millis(250), "half the interval wins");
    }

    #[test]
    fn garbage_is_bounded_and_ends_a_message() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..50 {
            let g = garbage(&mut rng);
            assert!(g.len() <= LONG_LINE + 4);
            assert!(g.ends_with(b"\r\n\r\n"));
        }
    }

    #[test]
    fn every_kind_comes_once_in_each_round() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut round = Vec::new();
        let kinds = FaultKind::ALL;
        for _ in 0..3 {
            let mut drawn: Vec<FaultKind> = (0..4)
                .map(|_| next(&mut round, &kinds, &mut rng).unwrap())
                .collect();
            drawn.sort();
            assert_eq!(drawn, kinds);
        }
        assert_eq!(next(&mut Vec::new(), &[], &mut rng), None);
    }

    #[test]
    fn counts_by_kind() {
        let c = FaultCounts::default();
        c.add(FaultKind::Restart);
        c.add(FaultKind::Restart);
        c.add(FaultKind::Drop);
        assert_eq!(c.by_kind(), [(FaultKind::Drop, 1), (FaultKind::Restart, 2)]);
        assert_eq!(c.total(), 3);
    }
}
