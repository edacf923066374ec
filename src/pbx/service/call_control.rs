//! Call control through the model's handle: the agent's calls as channels (`GET /calls`), and
//! the actions that act on a call: `Hangup`, `Redirect`, `Park`, and spying with `ChanSpy`.
//!
//! An agent is resolved to its one call (a channel the model knows by name): no call is
//! [`PbxError::NoCall`], several are [`PbxError::SeveralCalls`] with the candidates, so that the
//! client names the channel. A raw channel must be one the model knows
//! ([`PbxError::UnknownChannel`]). Asterisk's refusal is [`PbxError::Refused`] with its message.

use std::time::Duration;

use tokio::sync::oneshot;

use super::{new_action_id, refused, PbxError, PbxHandle};
use crate::ami::AmiMessage;
use crate::pbx::actions;
use crate::pbx::channels::CallChannels;
use crate::pbx::event::SpyMode;
use crate::pbx::ids::{AgentId, QueueName};
use crate::pbx::park_wait::ParkedAt;
use crate::pbx::targets::AgentOrChannel;
use crate::pbx::task::Command;
use crate::pbx::values::Destination;

/// How long `park` waits for the `ParkedCall` that tells the space.
pub const PARK_WAIT: Duration = Duration::from_secs(5);

/// The call an action acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The channel the action moves or ends: the remote party of an agent's call (redirect,
    /// park), or the agent's own channel (hang-up); the named channel itself.
    pub channel: String,
    /// The agent's own channel, for an agent's call.
    pub agent_channel: Option<String>,
}

/// Which side of an agent's call an action takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// The agent's own channel.
    Agent,
    /// The channel bridged to it.
    Remote,
}

impl PbxHandle {
    /// The agent's calls in progress, as channels, the one `phoneNumber` shows first.
    pub async fn calls(&self, agent: AgentId) -> Result<Vec<CallChannels>, PbxError> {
        self.ask(|tx| Command::Calls { agent, tx }).await
    }

    /// The queues the agent is a member of (a key restricted to queues may spy on their
    /// members only).
    pub async fn member_queues(&self, agent: AgentId) -> Result<Vec<QueueName>, PbxError> {
        self.ask(|tx| Command::MemberQueues { agent, tx }).await
    }

    async fn target(&self, who: AgentOrChannel, side: Side) -> Result<Target, PbxError> {
        match who {
            AgentOrChannel::Channel(name) => {
                let name = name.as_str().to_owned();
                let known = self
                    .ask(|tx| Command::KnowsChannel {
                        name: name.clone(),
                        tx,
                    })
                    .await?;
                if !known {
                    return Err(PbxError::UnknownChannel(name));
                }
                Ok(Target {
                    channel: name,
                    agent_channel: None,
                })
            }
            AgentOrChannel::Agent(agent) => {
                let calls = self.calls(agent.clone()).await?;
                one_call(&agent, calls, side)
            }
        }
    }

    /// Sends one call-control action; `Ok` carries Asterisk's message.
    async fn control(&self, action: AmiMessage) -> Result<String, PbxError> {
        let response = self.ami.send(action).await.map_err(refused)?;
        Ok(response.message().unwrap_or_default().trim().to_owned())
    }

    /// Hangs up the agent's own channel, or the named channel.
    pub async fn hangup(&self, who: AgentOrChannel) -> Result<String, PbxError> {
        let target = self.target(who, Side::Agent).await?;
        self.control(actions::hangup(&target.channel)).await
    }

    /// Moves the party bridged to the agent (or the named channel) to `dest` in the originate
    /// context.
    pub async fn redirect(
        &self,
        who: AgentOrChannel,
        dest: Destination,
    ) -> Result<String, PbxError> {
        let target = self.target(who, Side::Remote).await?;
        let action = actions::redirect(&target.channel, &self.originate_context, &dest);
        self.control(action).await
    }

    /// Parks the party bridged to the agent (or the named channel); for an agent's call, the
    /// agent's channel hears the space and gets the call back when it times out (Asterisk's
    /// `TimeoutChannel`/`AnnounceChannel`, as recorded).
    /// Answers Asterisk's message and where the call waits (from the `ParkedCall` that follows,
    /// waited for [`PARK_WAIT`]; `None` if it did not come in time).
    pub async fn park(&self, who: AgentOrChannel) -> Result<(String, Option<ParkedAt>), PbxError> {
        let target = self.target(who, Side::Remote).await?;
        let (tx, rx) = oneshot::channel();
        let channel = target.channel.clone();
        // Registered before the action is sent: the event cannot come first.
        self.ask(|registered| Command::AwaitPark {
            channel,
            tx,
            registered,
        })
        .await?;
        let action = actions::park(&target.channel, target.agent_channel.as_deref());
        let message = self.control(action).await?;
        let at = tokio::time::timeout(PARK_WAIT, rx)
            .await
            .ok()
            .and_then(Result::ok);
        Ok((message, at))
    }

    /// Rings `supervisor`'s phone and, once answered, spies on `agent`'s channel in `mode`
    /// (`ChanSpy` on the agent's channel prefix, so it finds whichever of them is up). Returns
    /// the action id; `spyStarted`/`spyStopped` follow with the mode.
    pub async fn spy(
        &self,
        supervisor: AgentId,
        agent: AgentId,
        mode: SpyMode,
    ) -> Result<String, PbxError> {
        let action_id = new_action_id();
        let action = actions::spy(&action_id, &supervisor, &agent, mode, &self.location);
        let id = action_id.clone();
        self.ask(|tx| Command::ExpectSpy {
            action_id: id,
            supervisor,
            mode,
            tx,
        })
        .await?;
        self.send_expected(action, action_id).await
    }
}

/// The one call of `agent` with both channels named, as the target of an action on `side`;
/// none is [`PbxError::NoCall`], several are [`PbxError::SeveralCalls`] (the candidates).
fn one_call(agent: &AgentId, calls: Vec<CallChannels>, side: Side) -> Result<Target, PbxError> {
    let mut calls: Vec<CallChannels> = calls
        .into_iter()
        .filter(|c| c.agent_channel.is_some() && c.bridged_channel.is_some())
        .collect();
    if calls.len() > 1 {
        return Err(PbxError::SeveralCalls(calls));
    }
    let Some(call) = calls.pop() else {
        return Err(PbxError::NoCall(agent.to_string()));
    };
    let (own, remote) = (call.agent_channel, call.bridged_channel);
    let channel = match side {
        Side::Agent => own.clone(),
        Side::Remote => remote,
    };
    Ok(Target {
        channel: channel.unwrap_or_default(),
        agent_channel: own,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(own: Option<&str>, remote: Option<&str>, number: &str) -> CallChannels {
        CallChannels {
            agent_channel: own.map(str::to_owned),
            bridged_channel: remote.map(str::to_owned),
            caller_id: number.into(),
            name: None,
            queue: None,
            shown: false,
        }
    }

    #[test]
    fn an_agents_one_call_is_the_target_several_are_candidates() {
        let agent = AgentId::parse("147").unwrap();
        let a = call(Some("PJSIP/147-01"), Some("PJSIP/trunk-02"), "0911");
        let b = call(Some("PJSIP/147-03"), Some("PJSIP/trunk-04"), "0912");
        let ringing = call(Some("PJSIP/147-05"), None, "1562830");
        let got = one_call(&agent, vec![a.clone(), ringing.clone()], Side::Remote).unwrap();
        assert_eq!(
            got.channel, "PJSIP/trunk-02",
            "a call without its other channel is none"
        );
        assert_eq!(got.agent_channel.as_deref(), Some("PJSIP/147-01"));
        let got = one_call(&agent, vec![a.clone()], Side::Agent).unwrap();
        assert_eq!(got.channel, "PJSIP/147-01");
        match one_call(
            &agent,
            vec![a.clone(), b.clone(), ringing.clone()],
            Side::Agent,
        ) {
            Err(PbxError::SeveralCalls(c)) => assert_eq!(c, vec![a, b]),
            other => panic!("{other:?}"),
        }
        match one_call(&agent, vec![ringing], Side::Agent) {
            Err(PbxError::NoCall(who)) => assert_eq!(who, "147"),
            other => panic!("{other:?}"),
        }
    }
}
