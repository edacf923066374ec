//! What subscribers know: the model as a set of keyed events ([`View`]), the events a new
//! subscriber starts with ([`snapshot`], DESIGN.md "Subscription snapshot"), and the events
//! that take subscribers from one view to another ([`diff`], used after a rebuild).

use std::collections::BTreeMap;

use super::event::{DeviceStatus, Event, Filter, MemberStatus};
use super::ids::{AgentId, QueueName};
use super::state::State;
use super::waiting::callers_event;

/// What one event of a view is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// `agentName` of an agent.
    Name(AgentId),
    /// `extensionStatus` of an agent.
    Extension(AgentId),
    /// `queueMemberStatus` of an agent in a queue.
    Member(AgentId, QueueName),
    /// `phoneNumber` of an agent.
    Phone(AgentId),
    /// `queueCount` of a queue.
    Count(QueueName),
    /// `queueCallers` of a queue.
    Callers(QueueName),
}

/// The state as subscribers were (or must be) told it: one event per key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View(pub BTreeMap<Key, Event>);

impl State {
    /// The subscriber view of the whole model.
    pub fn view(&self) -> View {
        let mut v = BTreeMap::new();
        for (agent, a) in &self.agents {
            for e in agent_events(agent, a, None) {
                let key = match &e {
                    Event::AgentName { .. } => Key::Name(agent.clone()),
                    Event::ExtensionStatus { .. } => Key::Extension(agent.clone()),
                    Event::QueueMemberStatus { queue, .. } => {
                        Key::Member(agent.clone(), queue.clone())
                    }
                    _ => Key::Phone(agent.clone()),
                };
                v.insert(key, e);
            }
        }
        for (queue, q) in &self.queues {
            v.insert(
                Key::Count(queue.clone()),
                Event::QueueCount {
                    queue: queue.clone(),
                    count: q.count,
                },
            );
            if !q.waiting.is_empty() {
                v.insert(
                    Key::Callers(queue.clone()),
                    callers_event(queue, &q.waiting),
                );
            }
        }
        View(v)
    }
}

/// The known facts about one agent, memberships limited to `queues` when given.
fn agent_events(
    agent: &AgentId,
    a: &super::state::Agent,
    queues: Option<&super::ScopeSet<QueueName>>,
) -> Vec<Event> {
    let mut out = Vec::new();
    if let Some(name) = &a.name {
        out.push(Event::AgentName {
            agent: agent.clone(),
            name: name.clone(),
        });
    }
    if let Some(status) = a.device {
        out.push(Event::ExtensionStatus {
            agent: agent.clone(),
            status,
        });
    }
    for (queue, m) in &a.members {
        if queues.is_some_and(|qs| !qs.contains(queue)) {
            continue;
        }
        let (status, reason) = m.shown();
        out.push(Event::QueueMemberStatus {
            agent: agent.clone(),
            queue: queue.clone(),
            status,
            reason,
        });
    }
    if let Some(c) = super::calls::shown_call(&a.calls) {
        out.push(Event::PhoneNumber {
            agent: agent.clone(),
            number: Some(c.number.clone()),
            name: c.name.clone(),
            queue: c.queue.clone(),
        });
    }
    out
}

/// The event that withdraws a key that no longer exists.
fn withdrawn(key: &Key) -> Option<Event> {
    match key {
        Key::Name(_) => None,
        Key::Extension(agent) => Some(Event::ExtensionStatus {
            agent: agent.clone(),
            status: DeviceStatus::Unknown,
        }),
        Key::Member(agent, queue) => Some(Event::QueueMemberStatus {
            agent: agent.clone(),
            queue: queue.clone(),
            status: MemberStatus::LoggedOff,
            reason: None,
        }),
        Key::Phone(agent) => Some(Event::PhoneNumber {
            agent: agent.clone(),
            number: None,
            name: None,
            queue: None,
        }),
        Key::Count(queue) => Some(Event::QueueCount {
            queue: queue.clone(),
            count: 0,
        }),
        Key::Callers(queue) => Some(callers_event(queue, &[])),
    }
}

/// The change events that take subscribers from `old` to `new`: every key whose event differs
/// or is new, and a withdrawal (`loggedoff`, `null`, `0`, `unknown`) for every key gone.
pub fn diff(old: &View, new: &View) -> Vec<Event> {
    let mut out = Vec::new();
    for (key, e) in &old.0 {
        if !new.0.contains_key(key) {
            out.extend(withdrawn(key).filter(|w| w != e));
        }
    }
    for (key, e) in &new.0 {
        if old.0.get(key) != Some(e) {
            out.push(e.clone());
        }
    }
    out
}

/// The events a new subscriber with `filter` starts with: `pbxStatus`, then per agent
/// `agentName` (if known), `extensionStatus` (`unknown` if not known), one `queueMemberStatus`
/// per asked queue (`loggedoff` included) and `phoneNumber` for a call in progress, then
/// `queueCount` and `queueCallers` for every asked queue.
pub fn snapshot(state: &State, filter: &Filter, connected: bool) -> Vec<Event> {
    let mut out = vec![Event::PbxStatus { connected }];
    let empty = super::state::Agent::default();
    for agent in &filter.agents {
        let a = state.agents.get(agent).unwrap_or(&empty);
        if let Some(name) = &a.name {
            out.push(Event::AgentName {
                agent: agent.clone(),
                name: name.clone(),
            });
        }
        out.push(Event::ExtensionStatus {
            agent: agent.clone(),
            status: a.device.unwrap_or(DeviceStatus::Unknown),
        });
        for queue in &filter.queues {
            let (status, reason) = a
                .members
                .get(queue)
                .map_or((MemberStatus::LoggedOff, None), |m| m.shown());
            out.push(Event::QueueMemberStatus {
                agent: agent.clone(),
                queue: queue.clone(),
                status,
                reason,
            });
        }
        out.extend(
            agent_events(agent, a, Some(&filter.queues))
                .into_iter()
                .filter(|e| matches!(e, Event::PhoneNumber { .. })),
        );
    }
    for queue in &filter.queues {
        let q = state.queues.get(queue);
        out.push(Event::QueueCount {
            queue: queue.clone(),
            count: q.map_or(0, |q| q.count),
        });
        out.push(callers_event(queue, q.map_or(&[], |q| &q.waiting)));
    }
    out
}
