//! Supervisors spying on agents' calls, for `spyStarted`/`spyStopped`: `ChanSpyStart` and
//! `ChanSpyStop` name the spying and the spied channel, nothing else: the mode (listen, whisper,
//! barge) is known only for a spy of ours, whose spying channel's uniqueid we chose
//! (`ChannelId` of the originate) and remembered with the request ([`State::expect_spy`]).
//! The spied channel must be an agent's; the supervisor is named when the spying channel is an
//! agent's. Bound: [`MAX_SPIES`] pending spies, the oldest forgotten first; a spy is forgotten
//! with its channel's `Hangup`.

use super::event::{Event, SpyMode};
use super::ids::AgentId;
use super::state::{field, State};
use crate::ami::AmiMessage;

#[cfg(doc)]
use super::state::MAX_SPIES;

/// A spy of ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spy {
    /// The supervisor whose phone spies.
    pub supervisor: AgentId,
    /// The mode asked for.
    pub mode: SpyMode,
}

impl State {
    /// Remembers a spy of ours: the spying channel will have the uniqueid `channel_id`.
    pub fn expect_spy(&mut self, channel_id: &str, supervisor: AgentId, mode: SpyMode) {
        let spy = Spy { supervisor, mode };
        self.spies.insert(channel_id.to_owned(), spy);
    }

    pub(super) fn chan_spy(&mut self, name: &str, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(agent) = field(msg, "SpyeeChannel").and_then(|c| self.channel_agent(c)) else {
            return;
        };
        let ours = field(msg, "SpyerUniqueid").and_then(|u| self.spies.get(u));
        let (supervisor, mode) = match ours {
            Some(s) => (Some(s.supervisor.clone()), Some(s.mode)),
            None => (
                field(msg, "SpyerChannel").and_then(|c| self.channel_agent(c)),
                None,
            ),
        };
        out.push(if name == "ChanSpyStart" {
            Event::SpyStarted {
                agent,
                supervisor,
                mode,
            }
        } else {
            Event::SpyStopped {
                agent,
                supervisor,
                mode,
            }
        });
    }
}
