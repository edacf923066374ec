//! The AMI actions the model sends, built from typed, validated commands (nothing a client sends
//! reaches AMI unchecked: every value is an [`AgentId`], [`QueueName`] or a validated value
//! type), and the conversion of `QueueStatus` answers into [`QueueStatusReport`]s.

use std::collections::BTreeMap;

use super::ids::{AgentId, QueueName};
use super::names::Location;
use super::service::{QueueAction, QueueStatusReport};
use super::values::{CallerId, Context, Destination};
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

/// An asynchronous `Originate` from `src`'s extension to `dest`.
pub fn originate(
    action_id: &str,
    src: &AgentId,
    dest: &Destination,
    caller_id: Option<&CallerId>,
    context: &Context,
    location: &Location,
) -> AmiMessage {
    let mut m = AmiMessage::action("Originate")
        .with("ActionID", action_id)
        .with("Channel", location.interface(src))
        .with("Exten", dest.as_str())
        .with("Context", context.as_str())
        .with("Priority", "1")
        .with("Async", "true");
    if let Some(cid) = caller_id {
        m.push("CallerID", cid.as_str());
    }
    m
}

/// `Holdtime` → `holdtime`, `ServicelevelPerf` → `servicelevelPerf`.
fn camel(key: &str) -> String {
    let mut c = key.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn properties(item: &AmiMessage, skip: &[&str]) -> BTreeMap<String, String> {
    item.fields()
        .filter(|(k, _)| {
            !["Event", "ActionID"]
                .iter()
                .chain(skip)
                .any(|s| s.eq_ignore_ascii_case(k))
        })
        .map(|(k, v)| (camel(k), v.to_owned()))
        .collect()
}

/// `QueueStatus` items → one report per queue, in Asterisk's order: the queue's `QueueParams`
/// properties and, per `QueueMember`, a map with `location` and the other properties.
pub fn queue_status_reports(items: &[AmiMessage]) -> Vec<QueueStatusReport> {
    let mut out: Vec<QueueStatusReport> = Vec::new();
    for item in items {
        let Some(queue) = item.get("Queue") else {
            continue;
        };
        if item.is_event("QueueParams") {
            out.push(QueueStatusReport {
                queue: queue.to_owned(),
                properties: properties(item, &["Queue"]),
                members: Vec::new(),
            });
        } else if item.is_event("QueueMember") {
            if let Some(r) = out.iter_mut().rev().find(|r| r.queue == queue) {
                r.members.push(properties(item, &["Queue"]));
            }
        }
    }
    out
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
        ] {
            assert_eq!(m.get(k), Some(v), "{k}");
        }
    }

    #[test]
    fn reports_group_members_under_their_queue() {
        let items = vec![
            AmiMessage::event("QueueParams")
                .with("Queue", "q1")
                .with("Calls", "0")
                .with("ServicelevelPerf", "0.0")
                .with("ActionID", "x"),
            AmiMessage::event("QueueMember")
                .with("Queue", "q1")
                .with("Location", "SIP/147")
                .with("Paused", "1"),
        ];
        let r = queue_status_reports(&items);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].queue, "q1");
        assert_eq!(
            r[0].properties.get("servicelevelPerf").map(String::as_str),
            Some("0.0")
        );
        assert!(!r[0].properties.contains_key("actionID"));
        assert_eq!(
            r[0].members[0].get("location").map(String::as_str),
            Some("SIP/147")
        );
    }
}
