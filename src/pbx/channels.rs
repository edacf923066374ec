//! Channel names by uniqueid, and an agent's calls as channels: what call control acts on.
//!
//! Every event's `Uniqueid`/`Channel` and `DestUniqueid`/`DestChannel` pairs name a channel
//! (`CoreShowChannel` items do it at a rebuild); `Rename` renames it; its `Hangup` forgets it.
//! The calls themselves (`calls.rs`) are keyed by uniqueid, so a call's two channels are looked
//! up here when asked for ([`State::calls_of`]). Bound: `MAX_TRACKED` names, the oldest
//! forgotten first (a channel whose hangup was missed).

use serde::Serialize;

use super::calls::shown_call;
use super::ids::{AgentId, QueueName};
use super::originates::is_placeholder;
use super::state::{field, nonempty, State};
use crate::ami::AmiMessage;

/// One call of an agent, as channels: what `GET /calls` answers and call control acts on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallChannels {
    /// The agent's own channel (its name, when known).
    pub agent_channel: Option<String>,
    /// The channel the agent's channel is bridged (or ringing) to.
    pub bridged_channel: Option<String>,
    /// The remote party's number.
    pub caller_id: String,
    /// The remote party's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The queue the call came through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueName>,
    /// The call the agent's `phoneNumber` shows.
    pub shown: bool,
}

impl State {
    /// Notes the channel names an event carries.
    pub(super) fn note_channels(&mut self, msg: &AmiMessage) {
        let [uid, name, dest_uid, dest_name] =
            msg.get_each(["Uniqueid", "Channel", "DestUniqueid", "DestChannel"]);
        for (uid, name) in [(uid, name), (dest_uid, dest_name)] {
            if let (Some(uid), Some(name)) = (nonempty(uid), nonempty(name)) {
                self.note_channel(uid, name);
            }
        }
    }

    pub(super) fn note_channel(&mut self, uid: &str, name: &str) {
        if self.channels.get(uid).map(String::as_str) != Some(name) {
            self.channels.insert(uid.to_owned(), name.to_owned());
        }
    }

    /// `Rename`: the channel `Uniqueid` is now called `Newname`.
    pub(super) fn rename(&mut self, msg: &AmiMessage) {
        if let (Some(uid), Some(name)) = (field(msg, "Uniqueid"), field(msg, "Newname")) {
            self.note_channel(uid, name);
        }
    }

    /// The name of the channel `uid`, when known.
    pub fn channel_name(&self, uid: &str) -> Option<&str> {
        self.channels.get(uid).map(String::as_str)
    }

    /// Whether a channel of this name is known (alive, as far as the model knows).
    pub fn knows_channel(&self, name: &str) -> bool {
        self.channels.iter().any(|(_, n)| n == name)
    }

    /// The agent's calls in progress, as channels (ringing originates of ours excluded: they
    /// have no remote channel yet), the shown one first.
    pub fn calls_of(&self, agent: &AgentId) -> Vec<CallChannels> {
        let Some(a) = self.agents.get(agent) else {
            return Vec::new();
        };
        let shown = shown_call(&a.calls);
        let mut out: Vec<CallChannels> = a
            .calls
            .iter()
            .filter(|c| !is_placeholder(c))
            .map(|c| CallChannels {
                agent_channel: c
                    .leg
                    .as_deref()
                    .and_then(|l| self.channel_name(l))
                    .map(str::to_owned),
                bridged_channel: self.channel_name(&c.remote).map(str::to_owned),
                caller_id: c.number.clone(),
                name: c.name.clone(),
                queue: c.queue.clone(),
                shown: shown == Some(c),
            })
            .collect();
        out.sort_by_key(|c| !c.shown);
        out
    }
}
