//! Supervision of the long-lived tasks (the AMI client, the model): running a task's body with
//! its panic caught, and pacing the restarts.
//!
//! A supervised body *borrows* what must outlive it (the receivers of its channels), so a
//! restart keeps every handle working; everything else the body owned is dropped with it, and
//! the next body starts fresh. Panics are caught with `catch_unwind`, which needs the default
//! `unwind` panic strategy: never set `panic = "abort"` in a profile.
//!
//! Restarts are paced: the first after a healthy run waits [`Pacing::min`], each further
//! failure in a row doubles the wait up to [`Pacing::max`], so a body that panics on every
//! input costs a few wake-ups a minute, not a core. A run that lasted [`Pacing::healthy_after`]
//! starts the count again.

use futures_util::FutureExt;
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// The waits between restarts of one supervised task.
#[derive(Clone, Debug)]
pub struct Pacing {
    /// The wait before the first restart after a healthy run.
    pub min: Duration,
    /// The longest wait.
    pub max: Duration,
    /// A run at least this long was healthy: the next failure waits `min` again.
    pub healthy_after: Duration,
    failures: u32,
}

impl Default for Pacing {
    /// 100 ms, doubling up to 30 s; healthy after a minute.
    fn default() -> Self {
        Self::new(
            Duration::from_millis(100),
            Duration::from_secs(30),
            Duration::from_secs(60),
        )
    }
}

impl Pacing {
    /// Waits from `min`, doubling up to `max`; a run of `healthy_after` resets them.
    pub fn new(min: Duration, max: Duration, healthy_after: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            healthy_after,
            failures: 0,
        }
    }

    /// The wait before restarting a body that failed after running for `ran`.
    pub fn next_delay(&mut self, ran: Duration) -> Duration {
        if ran >= self.healthy_after {
            self.failures = 0;
        }
        let exp = self.failures.min(30);
        self.failures = self.failures.saturating_add(1);
        self.min.saturating_mul(1u32 << exp).min(self.max)
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// Runs `body` to its end; `Err` carries the message of its panic.
///
/// `AssertUnwindSafe` holds because a supervisor reuses nothing of a body that panicked but
/// channel ends (whose state is never left half-changed by user code) and atomics it resets.
pub async fn run_caught<T>(body: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(body)
        .catch_unwind()
        .await
        .map_err(|payload| panic_message(payload.as_ref()).to_owned())
}

/// Calls `f` with its panic caught; `Err` carries the message. For a supervisor's own calls
/// into other layers (the hub's sink), which must not take the supervisor down with them.
pub fn call_caught(f: impl FnOnce()) -> Result<(), String> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|payload| panic_message(payload.as_ref()).to_owned())
}

/// Logs every panic through `tracing` (one event, with its location and, if `RUST_BACKTRACE`
/// asks for it, the backtrace) instead of the default hook's text on stderr, which would
/// break JSON logs.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            tracing::error!(panic = message, %location, backtrace = %trace, "panic");
        } else {
            tracing::error!(panic = message, %location, "panic");
        }
    }));
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a panic without a message"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn failures_in_a_row_double_the_wait_up_to_the_longest() {
        let mut p = Pacing::new(ms(100), ms(1000), ms(60_000));
        let waits: Vec<_> = (0..6).map(|_| p.next_delay(ms(5))).collect();
        assert_eq!(
            waits,
            vec![ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        assert_eq!(p.failures(), 6);
    }

    #[test]
    fn a_healthy_run_starts_again_from_the_shortest_wait() {
        let mut p = Pacing::new(ms(100), ms(1000), ms(60_000));
        p.next_delay(ms(5));
        p.next_delay(ms(5));
        assert_eq!(p.next_delay(ms(60_000)), ms(100));
        assert_eq!(p.next_delay(ms(1)), ms(200));
    }

    #[test]
    fn endless_failures_never_overflow() {
        let mut p = Pacing::default();
        for _ in 0..100 {
            assert!(p.next_delay(Duration::ZERO) <= Duration::from_secs(30));
        }
    }

    #[tokio::test]
    async fn a_panic_becomes_its_message() {
        let caught = run_caught(async { panic!("boom {}", 7) }).await;
        assert_eq!(caught, Err::<(), _>("boom 7".to_owned()));
        assert_eq!(call_caught(|| panic!("sink")), Err("sink".to_owned()));
        let caught = run_caught(async { std::panic::panic_any(3u8) }).await;
        assert_eq!(caught, Err::<(), _>("a panic without a message".to_owned()));
        assert_eq!(run_caught(async { 5 }).await, Ok(5));
    }
}
