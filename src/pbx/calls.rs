//! Who is patched to whom: the remote party of each agent's calls, for `phoneNumber`.
//!
//! A call is keyed by the remote party's channel (`remote`, its uniqueid) and the agent's own leg
//! (`leg`). It starts when the agent's phone rings for a remote party (`AgentCalled`, a
//! `DialBegin` between an agent channel and another channel, or one of our originates ringing the
//! agent's phone first: a placeholder, `originates.rs`) or when the agent is bridged to one
//! (`BridgeEnter`; bridges are tracked in `bridges.rs`), and ends however it ends: `DialEnd` other
//! than ANSWER, `AgentRingNoAnswer`, `AgentComplete`, `AgentDump`, `QueueCallerAbandon`,
//! `BridgeLeave`, or the `Hangup` of either leg; when the last one ends, `phoneNumber` goes to
//! `null`. With several calls at once, the one on
//! the agent's newest channel is shown ([`shown_call`]).

use super::codes;
use super::event::Event;
use super::ids::{AgentId, QueueName};
use super::originates::is_placeholder;
use super::state::{field, running_average, text, State, MAX_CALLS_PER_AGENT};
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

/// The remote party's name, unless it is only inherited from the agent's own channel: a dialled
/// channel takes over the caller's name, so when the agent dialled out, the remote channel shows
/// the agent's name under another number (recorded: `Local/1562830@pstn` with `Agent 147`).
/// When the agent was dialled, both legs show the caller's number *and* name (recorded: the
/// agent's leg with `Customer 0911555123` under the caller's number), and the name is the
/// caller's: so a name equal to the agent leg's is dropped only under a different number. The
/// live events and a rebuild from the channel list both decide by this one rule.
pub(super) fn remote_name(
    name: Option<String>,
    number: &str,
    own_name: Option<&String>,
    own_number: &str,
) -> Option<String> {
    name.filter(|n| Some(n) != own_name || number == own_number)
}

/// The part of a call subscribers see.
type Shown = Option<(String, Option<String>, Option<QueueName>)>;

fn shown(calls: &[Call]) -> Shown {
    shown_call(calls).map(|c| (c.number.clone(), c.name.clone(), c.queue.clone()))
}

/// Whether the calls still show `before` (compared in place: nothing is copied unless it
/// changed).
fn still_shown(before: &Shown, calls: &[Call]) -> bool {
    match (before, shown_call(calls)) {
        (None, None) => true,
        (Some((number, name, queue)), Some(c)) => {
            *number == c.number && *name == c.name && *queue == c.queue
        }
        _ => false,
    }
}

/// Orders uniqueids by creation: `[system-]epoch.sequence`, numerically.
fn uid_order(uid: &str) -> (u64, u64) {
    let bare = uid.rsplit('-').next().unwrap_or(uid);
    let (a, b) = bare.split_once('.').unwrap_or((bare, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// The call an agent's `phoneNumber` shows: the one on the agent's newest channel (so that the
/// live model and a rebuild from a channel list agree, whatever order they learnt the calls in).
pub fn shown_call(calls: &[Call]) -> Option<&Call> {
    calls.iter().max_by_key(|c| {
        (
            c.leg.as_deref().map(uid_order),
            uid_order(&c.remote),
            c.remote.as_str(),
        )
    })
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
        if !is_placeholder(&call) {
            a.calls
                .retain(|c| !(is_placeholder(c) && c.leg == call.leg));
        }
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
        let changed = !still_shown(&before, &a.calls);
        let after = changed.then(|| shown(&a.calls));
        if !self.busy.contains(agent) {
            self.busy.insert(agent.clone());
        }
        if let Some(after) = after {
            out.push(phone_event(agent, after));
        }
    }

    /// Ends the calls of `agent` that `ends` selects.
    pub(super) fn end_calls(
        &mut self,
        agent: &AgentId,
        ends: impl Fn(&Call) -> bool,
        out: &mut Vec<Event>,
    ) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        if !a.calls.iter().any(&ends) {
            if a.calls.is_empty() {
                self.busy.remove(agent);
            }
            return;
        }
        let before = shown(&a.calls);
        a.calls.retain(|c| !ends(c));
        let changed = !still_shown(&before, &a.calls);
        let after = changed.then(|| shown(&a.calls));
        if a.calls.is_empty() {
            self.busy.remove(agent);
        }
        if let Some(after) = after {
            out.push(phone_event(agent, after));
        }
    }

    /// The channel `old` is replaced by `new` in every call.
    pub(super) fn rename_channel(&mut self, old: &str, new: &str) {
        for agent in &self.busy {
            let Some(a) = self.agents.get_mut(agent) else {
                continue;
            };
            for c in &mut a.calls {
                if c.remote == old {
                    new.clone_into(&mut c.remote);
                }
                if c.leg.as_deref() == Some(old) {
                    c.leg = Some(new.to_owned());
                }
            }
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
            if msg.is_event("AgentConnect") {
                self.answered.insert(leg.to_owned(), remote.to_owned());
            }
        }
        if msg.is_event("AgentConnect") {
            let hold = codes::uint(msg.get("HoldTime"));
            if let Some(s) = field(msg, "Queue").and_then(|q| self.stats_mut(q)) {
                s.hold_time = running_average(s.hold_time, hold);
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
        let talk = codes::uint(msg.get("TalkTime"));
        let hold = codes::uint(msg.get("HoldTime"));
        if let Some(s) = self.stats_mut(queue.as_str()) {
            s.completed += 1;
            if hold <= s.service_level {
                s.completed_in_sl += 1;
            }
            s.talk_time = running_average(s.talk_time, talk);
        }
        let answered = field(msg, "DestUniqueid").and_then(|leg| self.answered.remove(leg));
        let unique_id = field(msg, "Uniqueid")
            .map(str::to_owned)
            .or(answered)
            .or_else(|| field(msg, "DestLinkedid").map(str::to_owned))
            .unwrap_or_default();
        out.push(Event::AgentComplete {
            agent,
            unique_id,
            talk_time: talk,
            hold_time: hold,
            queue,
            reason: text(msg, "Reason").unwrap_or_default().to_owned(),
        });
    }

    pub(super) fn caller_abandon(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        if let Some(s) = field(msg, "Queue").and_then(|q| self.stats_mut(q)) {
            s.abandoned += 1;
        }
        if let Some(uid) = field(msg, "Uniqueid") {
            self.unlist_caller(field(msg, "Queue"), uid, out);
            self.callers.remove(uid);
            self.end_channel(uid, out);
        }
    }

    pub(super) fn dial_begin(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(ch) = field(msg, "Channel") else {
            self.originate_rings(msg, out);
            return;
        };
        let Some(dest) = field(msg, "DestChannel") else {
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
                queue: self.caller_queue(uid),
            };
            self.start_call(&agent, call, out);
        }
        if let Some(agent) = from {
            let number = codes::number(msg.get("DestCallerIDNum"));
            let own_number = codes::number(msg.get("CallerIDNum"));
            let own_name = codes::name(msg.get("CallerIDName"));
            let name = codes::name(msg.get("DestCallerIDName"));
            let call = Call {
                name: remote_name(name, &number, own_name.as_ref(), &own_number),
                remote: dest_uid.to_owned(),
                leg: Some(uid.to_owned()),
                number,
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

    pub(super) fn hangup(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        if let Some(uid) = field(msg, "Uniqueid") {
            self.unlist_caller(None, uid, out);
            self.callers.remove(uid);
            self.channels.remove(uid);
            self.parked.remove(uid);
            self.spies.remove(uid);
            self.end_channel(uid, out);
        }
    }
}
