//! Traffic: callers arriving at the configured rate, and the timed steps of every call. All
//! randomness comes from the engine's seeded generator and all waiting from its timer queue
//! (tokio time, scaled), so a seed and a paused or scaled clock give a reproducible run.

mod answer;
mod control;
mod inbound;
mod moved;
mod originate;
mod park;
mod ring;
mod spy;

use std::time::Duration;

use rand::Rng;

use super::engine::{Engine, Job};
pub(crate) use control::{hangup_member_leg, hangup_uniqueid, move_to_queue};
pub(crate) use inbound::{inbound_call, join_local_caller, CallerTiming, PendingJoin};
pub(crate) use moved::{redirect as redirect_talking, Leave};
pub(crate) use originate::{originate, originate_fail, OriginateRequest};
pub(crate) use park::{park, times as parked_times, ParkRequest};

/// Runs one timed step.
pub(crate) fn run_job(e: &mut Engine, job: Job) {
    match job {
        Job::Arrival => arrival(e),
        Job::Firehose => e.firehose_tick(),
        Job::LoginFailed { session, action_id } => {
            super::actions::login_failed(e, session, action_id);
        }
        Job::Patience { call } => inbound::patience_over(e, call),
        Job::LocalJoin(p) => inbound::local_join(e, *p),
        Job::QueueTimeout { call } => {
            ring::cancel_rings(e, call, ring::RingEnd::NoAnswer);
            inbound::abandon(e, call);
        }
        Job::Ring { call, gen } => ring::retry(e, call, gen),
        Job::Answer {
            call,
            gen,
            interface,
        } => answer::answer(e, call, gen, &interface),
        Job::RingTimeout { call, gen } => ring::ring_timeout(e, call, gen),
        Job::TalkEnd { call, by_agent } => inbound::talk_end(e, call, by_agent),
        Job::OrigAnswer { orig } => originate::answered(e, orig),
        Job::OrigTimeout { orig } => originate::timed_out(e, orig),
        Job::OrigRemoteAnswer { orig } => originate::remote_answered(e, orig),
        Job::OrigEnd { orig } => originate::end(e, orig),
        Job::SpyStart { orig } => spy::start(e, orig),
        Job::PhoneAnswer { call } => moved::phone_answered(e, call),
        Job::ParkTimeout { call, space, since } => park::timed_out(e, call, space, since),
    }
}

/// Schedules the next automatic caller (exponential inter-arrival times).
pub(crate) fn schedule_arrival(e: &mut Engine) {
    let mean = 60.0 / e.config.call_rate.max(1e-6);
    let u: f64 = e.rng.gen_range(f64::EPSILON..1.0);
    let secs = (-u.ln() * mean).min(24.0 * 3600.0);
    e.after(Duration::from_secs_f64(secs), Job::Arrival);
}

fn arrival(e: &mut Engine) {
    if e.state.queues.is_empty() {
        return;
    }
    let q = e.rng.gen_range(0..e.state.queues.len());
    let queue = e.state.queues[q].name.clone();
    let number = format!("09{:08}", e.rng.gen_range(0..100_000_000u32));
    let name = format!("Customer {number}");
    inbound_call(e, &queue, &number, Some(&name));
    schedule_arrival(e);
}

/// A uniformly random duration in `range` (simulated time).
pub(crate) fn random_between(e: &mut Engine, range: (Duration, Duration)) -> Duration {
    let (lo, hi) = (range.0.min(range.1), range.0.max(range.1));
    if lo == hi {
        return lo;
    }
    Duration::from_secs_f64(e.rng.gen_range(lo.as_secs_f64()..hi.as_secs_f64()))
}

/// A bridge id shaped like Asterisk's (a UUID), from the seeded generator.
pub(crate) fn bridge_id(e: &mut Engine) -> String {
    let a: u32 = e.rng.gen();
    let b: u16 = e.rng.gen();
    let c: u16 = e.rng.gen();
    let d: u16 = e.rng.gen();
    let f: u64 = e.rng.gen::<u64>() & 0xffff_ffff_ffff;
    format!(
        "{a:08x}-{b:04x}-4{:03x}-{:04x}-{f:012x}",
        c & 0xfff,
        (d & 0x3fff) | 0x8000
    )
}

/// How many calls (inbound and originated) exist.
pub(crate) fn call_count(e: &Engine) -> usize {
    e.state.calls.len() + e.state.origs.len()
}

/// Whole seconds as events show them (rounded: Asterisk subtracts whole-second clock
/// readings, so its values straddle the true duration).
pub(crate) fn secs(d: f64) -> String {
    (d.max(0.0).round() as u64).to_string()
}
