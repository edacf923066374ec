//! Wallboard summary events (`queueSummary`, `memberSummary`), built from the answers of
//! `QueueStatus` (figures per queue and member) and `QueueSummary` (logged-in and available
//! members, longest wait). The service asks for both every `summary_refresh` and publishes
//! the result; only tickets that asked for summary events receive them.

use std::collections::HashMap;

use super::codes;
use super::event::Event;
use super::ids::QueueName;
use super::names::Location;
use crate::ami::AmiMessage;

/// Summary events from `QueueStatus` items and `QueueSummary` items.
pub fn summary_events(
    location: &Location,
    status: &[AmiMessage],
    summary: &[AmiMessage],
) -> Vec<Event> {
    let summaries: HashMap<&str, &AmiMessage> = summary
        .iter()
        .filter(|m| m.is_event("QueueSummary"))
        .filter_map(|m| Some((m.get("Queue")?, m)))
        .collect();
    let mut out = Vec::new();
    for item in status {
        let Some(queue) = item.get("Queue").and_then(|q| QueueName::parse(q).ok()) else {
            continue;
        };
        if item.is_event("QueueParams") {
            let s = summaries.get(queue.as_str());
            let sget = |k: &str| codes::uint(s.and_then(|s| s.get(k)));
            out.push(Event::QueueSummary {
                queue,
                waiting: codes::uint(item.get("Calls")) as u32,
                longest_wait: sget("LongestHoldTime"),
                logged_in: sget("LoggedIn") as u32,
                available: sget("Available") as u32,
                completed: codes::uint(item.get("Completed")),
                abandoned: codes::uint(item.get("Abandoned")),
                hold_time: codes::uint(item.get("Holdtime")),
                talk_time: codes::uint(item.get("TalkTime")),
                service_level: codes::uint(item.get("ServiceLevel")),
                service_level_perf: item
                    .get("ServicelevelPerf")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0.0),
            });
        } else if item.is_event("QueueMember") {
            let Some(iface) = item.get("Location").or_else(|| item.get("Interface")) else {
                continue;
            };
            let Some(agent) = location.agent_of_interface(iface) else {
                continue;
            };
            out.push(Event::MemberSummary {
                agent,
                queue,
                member_name: item.get("Name").unwrap_or(iface).to_owned(),
                location: iface.to_owned(),
                calls_taken: codes::uint(item.get("CallsTaken")),
                last_call: codes::uint(item.get("LastCall")),
                incall: item.get("InCall").is_some_and(codes::is_true),
                paused: item.get("Paused").is_some_and(codes::is_true),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_and_member_summaries() {
        let loc = Location::parse("PJSIP/{agent}").unwrap();
        let status = vec![
            AmiMessage::event("QueueParams")
                .with("Queue", "q1")
                .with("Calls", "2")
                .with("Completed", "5")
                .with("ServicelevelPerf", "80.5"),
            AmiMessage::event("QueueMember")
                .with("Queue", "q1")
                .with("Name", "Agent 147")
                .with("Location", "PJSIP/147")
                .with("CallsTaken", "3")
                .with("InCall", "1")
                .with("Paused", "0"),
            AmiMessage::event("QueueMember")
                .with("Queue", "q1")
                .with("Location", "IAX2/trunk/x"),
        ];
        let summary = vec![AmiMessage::event("QueueSummary")
            .with("Queue", "q1")
            .with("LoggedIn", "1")
            .with("Available", "0")
            .with("LongestHoldTime", "42")];
        let ev = summary_events(&loc, &status, &summary);
        assert_eq!(ev.len(), 2, "the trunk member is not an agent");
        let json = serde_json::to_value(&ev[0]).unwrap();
        assert_eq!(json["waiting"], 2);
        assert_eq!(json["longestWait"], 42);
        assert_eq!(json["serviceLevelPerf"], 80.5);
        let json = serde_json::to_value(&ev[1]).unwrap();
        assert_eq!(json["agent"], "147");
        assert_eq!(json["incall"], true);
        assert_eq!(json["callsTaken"], 3);
    }
}
