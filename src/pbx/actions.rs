//! The AMI actions the model sends, built from typed, validated commands (nothing a client sends
//! reaches AMI unchecked: every value is an [`AgentId`], [`QueueName`] or a validated value
//! type; a channel name is one the model knows, or a validated `ChannelName`).

use super::event::SpyMode;
use super::ids::{AgentId, QueueName};
use super::names::Location;
use super::service::QueueAction;
use super::values::{CallerId, Context, Destination};
use super::variables::Variables;
use crate::ami::AmiMessage;

/// The AMI action of a queue command.
pub fn queue_action(action: &QueueAction, location: &Location) -> AmiMessage {
    match action {
        QueueAction::Add {
            queue,
            agent,
            member_name,
            paused,
        } => {
            let mut m = AmiMessage::action("QueueAdd")
                .with("Queue", queue.as_str())
                .with("Interface", location.interface(agent));
            if let Some(name) = member_name {
                m.push("MemberName", name.as_str());
            }
            if let Some(p) = paused {
                m.push("Paused", if *p { "true" } else { "false" });
            }
            m
        }
        QueueAction::Remove { queue, agent } => AmiMessage::action("QueueRemove")
            .with("Queue", queue.as_str())
            .with("Interface", location.interface(agent)),
        QueueAction::Pause {
            queue,
            agent,
            paused,
            reason,
        } => {
            let mut m = AmiMessage::action("QueuePause")
                .with("Queue", queue.as_str())
                .with("Interface", location.interface(agent))
                .with("Paused", if *paused { "true" } else { "false" });
            if let Some(r) = reason {
                m.push("Reason", r.as_str());
            }
            m
        }
        QueueAction::Reset { queue } => {
            let mut m = AmiMessage::action("QueueReset");
            if let Some(q) = queue {
                m.push("Queue", q.as_str());
            }
            m
        }
    }
}

/// The queue a command is about, if any.
pub fn queue_of(action: &QueueAction) -> Option<&QueueName> {
    match action {
        QueueAction::Add { queue, .. }
        | QueueAction::Remove { queue, .. }
        | QueueAction::Pause { queue, .. } => Some(queue),
        QueueAction::Reset { queue } => queue.as_ref(),
    }
}

/// An asynchronous `Originate` from `src`'s extension to `dest`; its first channel gets the
/// uniqueid `action_id` (`ChannelId`), the other half of a Local channel `<action_id>-2`.
pub fn originate(
    action_id: &str,
    src: &AgentId,
    dest: &Destination,
    caller_id: Option<&CallerId>,
    variables: &Variables,
    context: &Context,
    location: &Location,
) -> AmiMessage {
    let mut m = AmiMessage::action("Originate")
        .with("ActionID", action_id)
        .with("Channel", location.interface(src))
        .with("Exten", dest.as_str())
        .with("Context", context.as_str())
        .with("Priority", "1")
        .with("Async", "true")
        .with("ChannelId", action_id)
        .with("OtherChannelId", format!("{action_id}-2"));
    if let Some(cid) = caller_id {
        m.push("CallerID", cid.as_str());
    }
    for v in variables.headers() {
        m.push("Variable", &v);
    }
    m
}

/// `Hangup` of a channel.
pub fn hangup(channel: &str) -> AmiMessage {
    AmiMessage::action("Hangup").with("Channel", channel)
}

/// `Redirect` of a channel to `dest` in `context`.
pub fn redirect(channel: &str, context: &Context, dest: &Destination) -> AmiMessage {
    AmiMessage::action("Redirect")
        .with("Channel", channel)
        .with("Context", context.as_str())
        .with("Exten", dest.as_str())
        .with("Priority", "1")
}

/// `Park` of a channel; with the parker's channel, that one hears the space and gets the call
/// back when it times out (`TimeoutChannel`/`AnnounceChannel`, as recorded).
pub fn park(channel: &str, parker: Option<&str>) -> AmiMessage {
    let mut action = AmiMessage::action("Park").with("Channel", channel);
    if let Some(own) = parker {
        action.push("TimeoutChannel", own);
        action.push("AnnounceChannel", own);
    }
    action
}

/// An asynchronous `Originate` that rings `supervisor`'s phone into `ChanSpy` on `agent`'s
/// channels in `mode`; its channel gets the uniqueid `action_id` (`ChannelId`). The prefix is
/// the agent's device and the `-` before a channel's sequence number, so that it is a prefix of
/// the agent's channels only (`PJSIP/147-` is not one of `PJSIP/1470-0000002a`).
pub fn spy(
    action_id: &str,
    supervisor: &AgentId,
    agent: &AgentId,
    mode: SpyMode,
    location: &Location,
) -> AmiMessage {
    let device = location.device(agent);
    AmiMessage::action("Originate")
        .with("ActionID", action_id)
        .with("Channel", location.interface(supervisor))
        .with("Application", "ChanSpy")
        .with("Data", format!("{device}-,{}", mode.chanspy_options()))
        .with("Async", "true")
        .with("ChannelId", action_id)
        .with("OtherChannelId", format!("{action_id}-2"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Location {
        Location::parse("SIP/{agent}").unwrap()
    }

    #[test]
    fn queue_actions_use_the_template() {
        let a = AgentId::parse("147").unwrap();
        let q = QueueName::parse("q1").unwrap();
        let m = queue_action(
            &QueueAction::Pause {
                queue: q.clone(),
                agent: a.clone(),
                paused: true,
                reason: Some(super::super::values::PauseReason::parse("lunch").unwrap()),
            },
            &loc(),
        );
        assert_eq!(m.action_name(), Some("QueuePause"));
        assert_eq!(m.get("Interface"), Some("SIP/147"));
        assert_eq!(m.get("Paused"), Some("true"));
        assert_eq!(m.get("Reason"), Some("lunch"));
        let m = queue_action(&QueueAction::Reset { queue: None }, &loc());
        assert!(m.get("Queue").is_none());
    }

    #[test]
    fn originate_is_async_from_the_src_interface() {
        let m = originate(
            "pbxis-1",
            &AgentId::parse("147").unwrap(),
            &Destination::parse("1562830").unwrap(),
            Some(&CallerId::parse("7012888").unwrap()),
            &serde_json::from_str(r#"{"CRM_ID":"42","CAMPAIGN":"winter"}"#).unwrap(),
            &Context::parse("default").unwrap(),
            &loc(),
        );
        for (k, v) in [
            ("Channel", "SIP/147"),
            ("Exten", "1562830"),
            ("Context", "default"),
            ("Priority", "1"),
            ("Async", "true"),
            ("CallerID", "7012888"),
            ("ActionID", "pbxis-1"),
            ("ChannelId", "pbxis-1"),
            ("OtherChannelId", "pbxis-1-2"),
        ] {
            assert_eq!(m.get(k), Some(v), "{k}");
        }
    }
}
