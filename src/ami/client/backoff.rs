//! Reconnect delays: exponential from `backoff_min` to `backoff_max`, with ±20 % jitter so that
//! many clients restarted together do not reconnect in step; bad credentials wait the longest.

use rand::Rng;
use std::time::Duration;

/// Spread of the jitter around the nominal delay.
const JITTER: f64 = 0.2;

/// The reconnect delay sequence of one client.
#[derive(Clone, Debug)]
pub(super) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(super) fn new(min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        Self {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// After a successful login: the next loss starts again from the shortest delay.
    pub(super) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before the next attempt after a failure (connection refused, lost, ...).
    pub(super) fn next_delay(&mut self) -> Duration {
        let factor = rand::thread_rng().gen_range(-JITTER..=JITTER);
        self.next_with(factor)
    }

    /// The delay after Asterisk refused our credentials: retrying soon would only fill its log
    /// with failures (and each failure costs it a 1 s sleep), so wait the longest delay.
    pub(super) fn auth_failed_delay(&mut self) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        let factor = rand::thread_rng().gen_range(-JITTER..=0.0);
        jittered(self.max, factor, self.min, self.max)
    }

    /// [`Backoff::next_delay`] with the jitter given (`-JITTER..=JITTER`), for tests.
    pub(super) fn next_with(&mut self, factor: f64) -> Duration {
        let exp = self.attempt.min(30);
        self.attempt = self.attempt.saturating_add(1);
        let nominal = self.min.saturating_mul(1u32 << exp).min(self.max);
        jittered(nominal, factor, self.min, self.max)
    }
}

fn jittered(nominal: Duration, factor: f64, min: Duration, max: Duration) -> Duration {
    let factor = factor.clamp(-JITTER, JITTER);
    nominal.mul_f64(1.0 + factor).clamp(min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_from_min_to_max_without_jitter() {
        let mut b = Backoff::new(ms(500), ms(30_000));
        let seq: Vec<_> = (0..9).map(|_| b.next_with(0.0)).collect();
        assert_eq!(
            seq,
            vec![
                ms(500),
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(16000),
                ms(30000),
                ms(30000),
                ms(30000)
            ]
        );
        b.reset();
        assert_eq!(b.next_with(0.0), ms(500));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let mut b = Backoff::new(ms(500), ms(30_000));
        assert_eq!(b.next_with(-0.2), ms(500), "never below the minimum");
        assert_eq!(b.next_with(0.2), ms(1200));
        for _ in 0..20 {
            b.next_with(0.2);
        }
        assert_eq!(b.next_with(0.2), ms(30_000), "never above the maximum");
        let mut r = Backoff::new(ms(500), ms(30_000));
        for _ in 0..100 {
            let d = r.next_delay();
            assert!(d >= ms(500) && d <= ms(30_000), "{d:?}");
        }
    }

    #[test]
    fn bad_credentials_wait_the_longest() {
        let mut b = Backoff::new(ms(500), ms(30_000));
        for _ in 0..50 {
            let d = b.auth_failed_delay();
            assert!(d >= ms(24_000) && d <= ms(30_000), "{d:?}");
        }
    }
}
