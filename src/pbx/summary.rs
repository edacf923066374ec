//! Wallboard summary events (`queueSummary`, `memberSummary`), taken from the model: the
//! per-queue figures the state keeps current from the events (`state.rs`), the longest wait of
//! the callers waiting now, the logged-in and available members, and each member's calls. The
//! service publishes them every `summary_refresh`; only tickets that asked for summary events
//! receive them. No AMI round trip: the figures are as current as the model.

use tokio::time::Instant;

use super::event::Event;
use super::state::State;

/// Summary events for every queue and every agent's membership, as of `now`.
pub fn summary_events(state: &State, now: Instant) -> Vec<Event> {
    let waits = state.longest_waits(now);
    let members = state.member_counts();
    let mut out = Vec::new();
    for (queue, q) in state.queues() {
        let (logged_in, available) = members.get(queue).copied().unwrap_or_default();
        out.push(Event::QueueSummary {
            queue: queue.clone(),
            waiting: q.count,
            longest_wait: waits.get(queue).copied().unwrap_or(0),
            logged_in,
            available,
            completed: q.stats.completed,
            abandoned: q.stats.abandoned,
            hold_time: q.stats.hold_time,
            talk_time: q.stats.talk_time,
            service_level: q.stats.service_level,
            service_level_perf: q.stats.service_level_perf(),
        });
    }
    let mut agents: Vec<_> = state.agents().iter().collect();
    agents.sort_by(|a, b| a.0.cmp(b.0));
    for (agent, a) in agents {
        for (queue, m) in &a.members {
            out.push(Event::MemberSummary {
                agent: agent.clone(),
                queue: queue.clone(),
                member_name: m.name.clone(),
                location: m.interface.clone(),
                calls_taken: m.calls_taken,
                last_call: m.last_call,
                incall: m.incall,
                paused: m.paused,
            });
        }
    }
    out
}
