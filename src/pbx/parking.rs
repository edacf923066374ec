//! Parked calls of agents, for `parked`: `ParkedCall` when an agent's call is parked (the agent
//! is the one whose call has the parked channel, else the one the `ParkerDialString` names),
//! then `UnParkedCall` (picked up), `ParkedCallTimeOut` (back to the parker) or
//! `ParkedCallGiveUp` (the caller hung up). A park that no agent of the model made is not
//! published: the event has no one to go to. Bound: `MAX_TRACKED` parked calls, the oldest
//! forgotten first.

use super::codes;
use super::event::{Event, ParkState};
use super::ids::{AgentId, QueueName};
use super::state::{field, text, State};
use crate::ami::AmiMessage;

/// Whose parked call it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parking {
    /// The agent.
    pub agent: AgentId,
    /// The queue the call came through.
    pub queue: Option<QueueName>,
}

impl State {
    /// The agent whose call has the channel `uid`, and the call's queue.
    fn call_with(&self, uid: &str) -> Option<(AgentId, Option<QueueName>)> {
        self.busy.iter().find_map(|agent| {
            let a = self.agents.get(agent)?;
            let c = a
                .calls
                .iter()
                .find(|c| c.remote == uid || c.leg.as_deref() == Some(uid))?;
            Some((agent.clone(), c.queue.clone()))
        })
    }

    fn park_event(state: ParkState, p: &Parking, msg: &AmiMessage) -> Event {
        Event::Parked {
            agent: p.agent.clone(),
            queue: p.queue.clone(),
            state,
            channel: text(msg, "ParkeeChannel").unwrap_or_default().to_owned(),
            caller_id: codes::number(msg.get("ParkeeCallerIDNum")),
            name: codes::name(msg.get("ParkeeCallerIDName")),
            lot: text(msg, "Parkinglot").unwrap_or_default().to_owned(),
            space: text(msg, "ParkingSpace").unwrap_or_default().to_owned(),
            timeout: codes::uint(msg.get("ParkingTimeout")),
        }
    }

    pub(super) fn parked_call(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(uid) = field(msg, "ParkeeUniqueid") else {
            return;
        };
        let from_call = self.call_with(uid);
        let parker = || {
            let dial = field(msg, "ParkerDialString")?;
            self.location
                .agent_of_interface(dial)
                .filter(|a| self.agents.contains_key(a))
        };
        let (agent, queue) = match from_call {
            Some((agent, queue)) => (agent, queue),
            None => match parker() {
                Some(agent) => (agent, self.caller_queue(uid)),
                None => return,
            },
        };
        let p = Parking { agent, queue };
        out.push(Self::park_event(ParkState::Parked, &p, msg));
        self.parked.insert(uid.to_owned(), p);
    }

    pub(super) fn park_ended(&mut self, name: &str, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(p) = field(msg, "ParkeeUniqueid").and_then(|u| self.parked.remove(u)) else {
            return;
        };
        let state = match name {
            "UnParkedCall" => ParkState::Retrieved,
            "ParkedCallTimeOut" => ParkState::Timeout,
            _ => ParkState::Giveup,
        };
        out.push(Self::park_event(state, &p, msg));
    }
}
