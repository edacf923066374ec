//! Who is patched to whom: the remote party of each agent's calls, for `phoneNumber`.
//!
//! A call is keyed by the remote party's channel (`remote`, its uniqueid) and the agent's own leg
//! (`leg`). It starts when the agent's phone rings for a remote party (`AgentCalled`, or a
//! `DialBegin` between an agent channel and another channel) or when the agent is bridged to one
//! (`BridgeEnter`; bridge membership is tracked here), and ends however it ends: `DialEnd` other
//! than ANSWER, `AgentRingNoAnswer`, `AgentComplete`, `AgentDump`, `QueueCallerAbandon`,
//! `BridgeLeave`, or the `Hangup` of either leg. The newest call of an agent is the one shown;
//! when the last one ends, `phoneNumber` goes to `null`.

use std::collections::HashMap;

use super::codes;
use super::event::Event;
use super::ids::{AgentId, QueueName};
use super::state::{field, State, MAX_CALLS_PER_AGENT, MAX_TRACKED};
use crate::ami::AmiMessage;

/// One call of an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The remote party's channel uniqueid.
    pub remote: String,
    /// The agent's own channel uniqueid, when known.
    pub leg: Option<String>,
    /// The remote party's number (empty when Asterisk does not know it).
    pub number: String,
    /// The remote party's name.
    pub name: Option<String>,
    /// The queue the call came through.
    pub queue: Option<QueueName>,
}

/// One channel in a bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leg {
    /// Uniqueid.
    pub uid: String,
    /// Caller id number.
    pub number: String,
    /// Caller id name.
    pub name: Option<String>,
    /// The agent the channel belongs to.
    pub agent: Option<AgentId>,
}

/// Bridges and their legs.
#[derive(Clone, Debug, Default)]
pub struct Bridges {
    pub(super) map: HashMap<String, Vec<Leg>>,
    legs: usize,
}

impl Bridges {
    pub(super) fn enter(&mut self, bridge: &str, leg: Leg) {
        if self.legs >= MAX_TRACKED && !self.map.contains_key(bridge) {
            return;
        }
        let legs = self.map.entry(bridge.to_owned()).or_default();
        let before = legs.len();
        legs.retain(|l| l.uid != leg.uid);
        legs.push(leg);
        self.legs = self.legs + legs.len() - before;
    }

    fn destroy(&mut self, bridge: &str) {
        if let Some(legs) = self.map.remove(bridge) {
            self.legs -= legs.len();
        }
    }

    fn leave(&mut self, bridge: &str, uid: &str) -> Vec<Leg> {
        let Some(legs) = self.map.get_mut(bridge) else {
            return Vec::new();
        };
        let before = legs.len();
        legs.retain(|l| l.uid != uid);
        self.legs -= before - legs.len();
        let rest = legs.clone();
        if rest.is_empty() {
            self.map.remove(bridge);
        }
        rest
    }
}

/// The part of a call subscribers see.
type Shown = Option<(String, Option<String>, Option<QueueName>)>;

fn shown(calls: &[Call]) -> Shown {
    calls
        .last()
        .map(|c| (c.number.clone(), c.name.clone(), c.queue.clone()))
}

fn phone_event(agent: &AgentId, s: Shown) -> Event {
    match s {
        Some((number, name, queue)) => Event::PhoneNumber {
            agent: agent.clone(),
            number: Some(number),
            name,
            queue,
        },
        None => Event::PhoneNumber {
            agent: agent.clone(),
            number: None,
            name: None,
            queue: None,
        },
    }
}

impl State {
    /// The agent a channel belongs to: its name through the template, for an agent the model
    /// knows (a queue member or a hint in the hint context). A trunk whose name happens to fit
    /// the template (`PJSIP/provider-0000002a`) is no agent.
    pub(super) fn channel_agent(&self, channel: &str) -> Option<AgentId> {
        self.location
            .agent_of_channel(channel)
            .filter(|a| self.agents.contains_key(a))
    }

    /// Adds or refreshes a call of `agent` (same remote party: updated in place, queue kept).
    pub(super) fn start_call(&mut self, agent: &AgentId, call: Call, out: &mut Vec<Event>) {
        let Some(a) = self.agent_mut(agent) else {
            return;
        };
        let before = shown(&a.calls);
        if let Some(c) = a.calls.iter_mut().find(|c| c.remote == call.remote) {
            c.leg = call.leg.or(c.leg.take());
            c.number = call.number;
            c.name = call.name.or(c.name.take());
            c.queue = call.queue.or(c.queue.take());
        } else {
            if a.calls.len() >= MAX_CALLS_PER_AGENT {
                a.calls.remove(0);
            }
            a.calls.push(call);
        }
        let after = shown(&a.calls);
        self.busy.insert(agent.clone());
        if before != after {
            out.push(phone_event(agent, after));
        }
    }

    /// Ends the calls of `agent` that `ends` selects.
    fn end_calls(&mut self, agent: &AgentId, ends: impl Fn(&Call) -> bool, out: &mut Vec<Event>) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        let before = shown(&a.calls);
        a.calls.retain(|c| !ends(c));
        let after = shown(&a.calls);
        if a.calls.is_empty() {
            self.busy.remove(agent);
        }
        if before != after {
            out.push(phone_event(agent, after));
        }
    }

    /// Ends every call, of any agent, in which the channel `uid` takes part.
    fn end_channel(&mut self, uid: &str, out: &mut Vec<Event>) {
        let hit: Vec<AgentId> = self
            .busy
            .iter()
            .filter(|a| {
                self.agents.get(*a).is_some_and(|a| {
                    a.calls
                        .iter()
                        .any(|c| c.remote == uid || c.leg.as_deref() == Some(uid))
                })
            })
            .cloned()
            .collect();
        for agent in hit {
            self.end_calls(
                &agent,
                |c| c.remote == uid || c.leg.as_deref() == Some(uid),
                out,
            );
        }
    }

    /// The agent of an `Agent*` event: its `Interface` through the template, else its
    /// `DestChannel`.
    fn queue_agent(&self, msg: &AmiMessage) -> Option<AgentId> {
        field(msg, "Interface")
            .and_then(|i| self.location.agent_of_interface(i))
            .or_else(|| field(msg, "DestChannel").and_then(|c| self.channel_agent(c)))
    }

    /// The caller of an `Agent*` event: its `Uniqueid`, else (AgentComplete after the caller
    /// left) the `DestLinkedid`.
    fn queue_caller(msg: &AmiMessage) -> Option<&str> {
        field(msg, "Uniqueid").or_else(|| field(msg, "DestLinkedid"))
    }

    pub(super) fn agent_called(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(agent), Some(remote)) = (self.queue_agent(msg), Self::queue_caller(msg)) else {
            return;
        };
        if let Some(leg) = field(msg, "DestUniqueid") {
            if msg.is_event("AgentConnect") && self.answered.len() < MAX_TRACKED {
                self.answered.insert(leg.to_owned(), remote.to_owned());
            }
        }
        let call = Call {
            remote: remote.to_owned(),
            leg: field(msg, "DestUniqueid").map(str::to_owned),
            number: codes::number(msg.get("CallerIDNum")),
            name: codes::name(msg.get("CallerIDName")),
            queue: field(msg, "Queue").and_then(|q| QueueName::parse(q).ok()),
        };
        self.start_call(&agent, call, out);
    }

    fn end_queue_call(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) -> Option<AgentId> {
        let agent = self.queue_agent(msg)?;
        let remote = Self::queue_caller(msg).map(str::to_owned);
        let leg = field(msg, "DestUniqueid").map(str::to_owned);
        self.end_calls(
            &agent,
            |c| {
                (leg.is_some() && c.leg == leg)
                    || (leg.is_none() && remote.as_deref() == Some(&c.remote))
            },
            out,
        );
        Some(agent)
    }

    pub(super) fn agent_dropped(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        if let Some(leg) = field(msg, "DestUniqueid") {
            self.answered.remove(leg);
        }
        self.end_queue_call(msg, out);
    }

    pub(super) fn agent_complete(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(agent) = self.end_queue_call(msg, out) else {
            return;
        };
        let Some(queue) = field(msg, "Queue").and_then(|q| QueueName::parse(q).ok()) else {
            return;
        };
        let answered = field(msg, "DestUniqueid").and_then(|leg| self.answered.remove(leg));
        let unique_id = field(msg, "Uniqueid")
            .map(str::to_owned)
            .or(answered)
            .or_else(|| field(msg, "DestLinkedid").map(str::to_owned))
            .unwrap_or_default();
        out.push(Event::AgentComplete {
            agent,
            unique_id,
            talk_time: codes::uint(msg.get("TalkTime")),
            hold_time: codes::uint(msg.get("HoldTime")),
            queue,
            reason: msg.get("Reason").unwrap_or_default().to_owned(),
        });
    }

    pub(super) fn caller_abandon(&mut self, msg: &AmiMessage, _out: &mut Vec<Event>) {
        if let Some(uid) = field(msg, "Uniqueid") {
            self.callers.remove(uid);
            self.end_channel(uid, _out);
        }
    }

    pub(super) fn dial_begin(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(ch), Some(dest)) = (field(msg, "Channel"), field(msg, "DestChannel")) else {
            return;
        };
        let (Some(uid), Some(dest_uid)) = (field(msg, "Uniqueid"), field(msg, "DestUniqueid"))
        else {
            return;
        };
        let from = self.channel_agent(ch);
        let to = self.channel_agent(dest);
        if from == to {
            return;
        }
        if let Some(agent) = to {
            let call = Call {
                remote: uid.to_owned(),
                leg: Some(dest_uid.to_owned()),
                number: codes::number(msg.get("CallerIDNum")),
                name: codes::name(msg.get("CallerIDName")),
                queue: self.callers.get(uid).cloned(),
            };
            self.start_call(&agent, call, out);
        }
        if let Some(agent) = from {
            let own = codes::name(msg.get("CallerIDName"));
            let call = Call {
                remote: dest_uid.to_owned(),
                leg: Some(uid.to_owned()),
                number: codes::number(msg.get("DestCallerIDNum")),
                name: codes::name(msg.get("DestCallerIDName")).filter(|n| Some(n) != own.as_ref()),
                queue: None,
            };
            self.start_call(&agent, call, out);
        }
    }

    pub(super) fn dial_end(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let status = msg.get("DialStatus").unwrap_or_default();
        if status.eq_ignore_ascii_case("ANSWER") {
            return;
        }
        let (Some(uid), Some(dest_uid)) = (field(msg, "Uniqueid"), field(msg, "DestUniqueid"))
        else {
            return;
        };
        for (ch, leg, remote) in [("DestChannel", dest_uid, uid), ("Channel", uid, dest_uid)] {
            if let Some(agent) = field(msg, ch).and_then(|c| self.channel_agent(c)) {
                self.end_calls(
                    &agent,
                    |c| c.remote == remote && c.leg.as_deref() == Some(leg),
                    out,
                );
            }
        }
    }

    pub(super) fn bridge_enter(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(bridge), Some(uid)) = (field(msg, "BridgeUniqueid"), field(msg, "Uniqueid"))
        else {
            return;
        };
        if let Some(swapped) = field(msg, "SwapUniqueid") {
            self.bridges.leave(bridge, swapped);
        }
        let leg = Leg {
            uid: uid.to_owned(),
            number: codes::number(msg.get("CallerIDNum")),
            name: codes::name(msg.get("CallerIDName")),
            agent: field(msg, "Channel").and_then(|c| self.channel_agent(c)),
        };
        self.bridges.enter(bridge, leg);
        self.connect_bridge(bridge, out);
    }

    /// Starts a call for every agent leg of a bridge with every other party in it.
    pub(super) fn connect_bridge(&mut self, bridge: &str, out: &mut Vec<Event>) {
        let Some(legs) = self.bridges.map.get(bridge).cloned() else {
            return;
        };
        for a in legs.iter().filter(|l| l.agent.is_some()) {
            for b in legs.iter().filter(|b| b.uid != a.uid && b.agent != a.agent) {
                let Some(agent) = &a.agent else { continue };
                let call = Call {
                    remote: b.uid.clone(),
                    leg: Some(a.uid.clone()),
                    number: b.number.clone(),
                    name: b.name.clone().filter(|n| Some(n) != a.name.as_ref()),
                    queue: self.callers.get(&b.uid).cloned(),
                };
                self.start_call(agent, call, out);
            }
        }
    }

    pub(super) fn bridge_leave(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(bridge), Some(uid)) = (field(msg, "BridgeUniqueid"), field(msg, "Uniqueid"))
        else {
            return;
        };
        let rest = self.bridges.leave(bridge, uid);
        for other in &rest {
            if let Some(agent) = &other.agent {
                let leg = other.uid.clone();
                self.end_calls(
                    agent,
                    |c| c.remote == uid && c.leg.as_ref() == Some(&leg),
                    out,
                );
            }
        }
        if let Some(agent) = field(msg, "Channel").and_then(|c| self.channel_agent(c)) {
            let remotes: Vec<String> = rest.into_iter().map(|l| l.uid).collect();
            self.end_calls(
                &agent,
                |c| c.leg.as_deref() == Some(uid) && remotes.contains(&c.remote),
                out,
            );
        }
    }

    pub(super) fn bridge_destroy(&mut self, msg: &AmiMessage) {
        if let Some(bridge) = field(msg, "BridgeUniqueid") {
            self.bridges.destroy(bridge);
        }
    }

    /// `Bridge` (1.6–11, `Bridgestate: Link|Unlink`) and `Link`/`Unlink` (1.4).
    pub(super) fn legacy_bridge(&mut self, name: &str, msg: &AmiMessage, out: &mut Vec<Event>) {
        let link = match name {
            "Link" => true,
            "Unlink" => false,
            _ => !msg
                .get("Bridgestate")
                .is_some_and(|s| s.eq_ignore_ascii_case("Unlink")),
        };
        let side = |n: &str| {
            let ch = field(msg, &format!("Channel{n}"));
            let uid = field(msg, &format!("Uniqueid{n}")).or(ch);
            let num = codes::number(
                msg.get(&format!("CallerID{n}"))
                    .or_else(|| msg.get(&format!("CallerIDNum{n}"))),
            );
            (
                ch.and_then(|c| self.channel_agent(c)),
                uid.map(str::to_owned),
                num,
            )
        };
        let sides = [side("1"), side("2")];
        for (i, (agent, uid, _)) in sides.iter().enumerate() {
            let (other_agent, other_uid, other_num) = &sides[1 - i];
            let (Some(agent), Some(uid), Some(other_uid)) = (agent, uid, other_uid) else {
                continue;
            };
            if other_agent.as_ref() == Some(agent) {
                continue;
            }
            if link {
                let call = Call {
                    remote: other_uid.clone(),
                    leg: Some(uid.clone()),
                    number: other_num.clone(),
                    name: None,
                    queue: self.callers.get(other_uid).cloned(),
                };
                self.start_call(agent, call, out);
            } else {
                self.end_calls(agent, |c| &c.remote == other_uid, out);
            }
        }
    }

    pub(super) fn hangup(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        if let Some(uid) = field(msg, "Uniqueid") {
            self.callers.remove(uid);
            self.end_channel(uid, out);
        }
    }
}
