//! Our own originates: their failure becomes `originateFailed` for the `src` agent, and while
//! one rings the agent's phone, the agent's `phoneNumber` shows the destination.
//!
//! Asterisk rings the agent's phone first and dials the destination only once the agent
//! answers. The ringing is a `DialBegin` without a calling channel (`Channel` absent) towards
//! the agent's channel; it carries neither the ActionID nor the destination (the channel is
//! still at the location's own extension). An originate that chose its channel's uniqueid
//! (`ChannelId`, as the service's do) is linked exactly: the ringing channel's `DestUniqueid`
//! is that id. Otherwise the model links it to the one originate of ours that is pending, not
//! yet linked, for that agent; with two such originates for the same agent the ringing is
//! ambiguous and nothing is shown until the destination is dialled. The shown
//! placeholder call (remote [`placeholder`]) ends with the agent's channel (hang-up, no answer,
//! busy), with a failed `OriginateResponse`, and gives way to the real remote party as soon as
//! the destination is dialled from, or bridged with, the same channel (`calls.rs`). A rebuild
//! keeps pending originates ([`State::fresh`]) and restores the placeholder of a channel still
//! ringing (`sync.rs`).

use super::calls::Call;
use super::codes;
use super::event::Event;
use super::ids::AgentId;
use super::state::{field, State};
use crate::ami::AmiMessage;

/// One of our originates, until its `OriginateResponse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Originate {
    /// The `src` agent, whose phone rings first.
    pub agent: AgentId,
    /// The destination dialled once the agent answers (`None`: not shown while ringing).
    pub dest: Option<String>,
    /// The uniqueid of the agent's ringing channel, once linked.
    pub leg: Option<String>,
}

/// The prefix of a placeholder's remote key (no uniqueid Asterisk makes contains a `:`).
const PLACEHOLDER: &str = "originate:";

/// The remote key of the placeholder call of originate `action_id`.
pub fn placeholder(action_id: &str) -> String {
    format!("{PLACEHOLDER}{action_id}")
}

/// Whether `call` is the placeholder of a ringing originate.
pub fn is_placeholder(call: &Call) -> bool {
    call.remote.starts_with(PLACEHOLDER)
}

impl State {
    /// The placeholder call of the ringing originate `action_id`.
    pub(super) fn originate_call(action_id: &str, o: &Originate) -> Option<Call> {
        Some(Call {
            remote: placeholder(action_id),
            leg: Some(o.leg.clone()?),
            number: o.dest.clone()?,
            name: None,
            queue: None,
        })
    }

    /// A `DialBegin` without a calling channel: an originate rings the agent's phone.
    pub(super) fn originate_rings(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(dest), Some(leg)) = (field(msg, "DestChannel"), field(msg, "DestUniqueid"))
        else {
            return;
        };
        let Some(agent) = self.channel_agent(dest) else {
            return;
        };
        let exact = self
            .originates
            .iter()
            .find(|(_, o)| o.agent == agent && o.leg.as_deref() == Some(leg))
            .and_then(|(id, o)| Self::originate_call(id, o));
        if let Some(call) = exact {
            self.start_call(&agent, call, out);
            return;
        }
        let mut open = self
            .originates
            .iter_mut()
            .filter(|(_, o)| o.agent == agent && o.leg.is_none());
        let (Some((id, o)), None) = (open.next(), open.next()) else {
            return;
        };
        o.leg = Some(leg.to_owned());
        if let Some(call) = Self::originate_call(id, o) {
            self.start_call(&agent, call, out);
        }
    }

    pub(super) fn originate_response(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(id) = field(msg, "ActionID") else {
            return;
        };
        let Some(o) = self.originates.remove(id) else {
            return;
        };
        let success = msg
            .get("Response")
            .is_some_and(|r| r.eq_ignore_ascii_case("Success"));
        // Linked to the wrong ringing channel (someone else's originate to the same agent):
        // the answered channel is named here.
        let wrong = o.leg.is_some() && field(msg, "Uniqueid") != o.leg.as_deref();
        if !success || wrong {
            let remote = placeholder(id);
            self.end_calls(&o.agent, |c| c.remote == remote, out);
        }
        if !success {
            out.push(Event::OriginateFailed {
                agent: o.agent,
                action_id: id.to_owned(),
                reason: codes::originate_reason(msg.get("Reason").unwrap_or("")),
            });
        }
    }
}
