//! The scope index: which tickets hold which agent and which queue, so that publishing an event
//! visits only the tickets that may want it (an event with no scope key visits them all). The
//! final word stays with [`Filter::matches`]; the index only narrows the candidates.

use std::collections::{HashMap, HashSet};

use crate::hub::ticket::TicketKey;

/// A set of tickets. Hashed with foldhash (randomly seeded): ticket keys are random bytes or
/// digests the service made, never text a client chose, and they are hashed once per
/// delivery.
pub(super) type Tickets = HashSet<TicketKey, foldhash::fast::RandomState>;
use crate::pbx::{AgentId, Event, Filter, QueueName};

/// The tickets an event may go to.
pub(super) enum Candidates<'a> {
    /// Every ticket (the event has no scope key).
    All,
    /// Only these (possibly none).
    Some(Option<&'a Tickets>),
}

/// Tickets by the agents and queues of their filters.
#[derive(Default)]
pub(super) struct ScopeIndex {
    by_agent: HashMap<AgentId, Tickets>,
    by_queue: HashMap<QueueName, Tickets>,
}

impl ScopeIndex {
    pub fn insert(&mut self, key: TicketKey, filter: &Filter) {
        for agent in &filter.agents {
            self.by_agent.entry(agent.clone()).or_default().insert(key);
        }
        for queue in &filter.queues {
            self.by_queue.entry(queue.clone()).or_default().insert(key);
        }
    }

    pub fn remove(&mut self, key: &TicketKey, filter: &Filter) {
        for agent in &filter.agents {
            remove_from(&mut self.by_agent, agent, key);
        }
        for queue in &filter.queues {
            remove_from(&mut self.by_queue, queue, key);
        }
    }

    /// The tickets that may receive `event`: those holding its agent or its queue (the smaller
    /// set when it has both), or all of them when it has no scope key.
    pub fn candidates(&self, event: &Event) -> Candidates<'_> {
        let scope = event.scope();
        let by_agent = scope.agent.map(|a| self.by_agent.get(a));
        let by_queue = scope.queue.map(|q| self.by_queue.get(q));
        match (by_agent, by_queue) {
            (None, None) => Candidates::All,
            (Some(set), None) | (None, Some(set)) => Candidates::Some(set),
            (Some(a), Some(q)) => match (a, q) {
                (Some(a), Some(q)) => {
                    Candidates::Some(Some(if a.len() <= q.len() { a } else { q }))
                }
                _ => Candidates::Some(None),
            },
        }
    }

    /// Gives memory back after many tickets are gone.
    pub fn shrink(&mut self) {
        self.by_agent.shrink_to_fit();
        self.by_queue.shrink_to_fit();
    }
}

fn remove_from<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Tickets>, scope: &K, key: &TicketKey) {
    if let Some(set) = map.get_mut(scope) {
        set.remove(key);
        if set.is_empty() {
            map.remove(scope);
        }
    }
}
