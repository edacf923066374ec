//! What a subscriber believes about the call center, folded from the events it applied
//! (`resync` empties it, the snapshot that follows fills it again), and the same shape made from
//! the simulator's truth, to compare the two once the traffic has stopped. Keys are bounded by
//! the agents and queues of the ticket, whatever the stream says.

use std::collections::BTreeMap;

use pbxis_ws::pbx::codes::{device_from_code, device_from_name};
use pbxis_ws::pbx::event::DeviceStatus;
use pbxis_ws::sim::SimSnapshot;
use serde_json::Value;

/// Most entries of each map: a stream that names more agents or queues than this is wrong,
/// and what it says beyond is not kept.
const MAX_KEYS: usize = 100_000;

/// The state a client draws.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Belief {
    /// `pbxStatus`.
    pub pbx: Option<bool>,
    /// `agentName` by agent.
    pub names: BTreeMap<String, String>,
    /// `extensionStatus` by agent.
    pub extensions: BTreeMap<String, String>,
    /// `queueMemberStatus` by `agent/queue`.
    pub members: BTreeMap<String, String>,
    /// `queueCount` by queue.
    pub counts: BTreeMap<String, u64>,
    /// The number of the call each agent is in (`phoneNumber` with a number).
    pub calls: BTreeMap<String, String>,
}

fn text(event: &Value, key: &str) -> String {
    event[key].as_str().unwrap_or("").to_owned()
}

/// A device status as the service writes it (`not_inuse`).
fn word(status: DeviceStatus) -> String {
    match serde_json::to_value(status) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn put<V>(map: &mut BTreeMap<String, V>, key: String, value: V) {
    if map.len() < MAX_KEYS || map.contains_key(&key) {
        map.insert(key, value);
    }
}

impl Belief {
    /// Applies one event (its `type` field says which); other types change nothing.
    pub fn apply(&mut self, event: &Value) {
        let agent = || text(event, "agent");
        match event["type"].as_str().unwrap_or("") {
            "resync" => *self = Belief::default(),
            "pbxStatus" => self.pbx = event["connected"].as_bool(),
            "agentName" => put(&mut self.names, agent(), text(event, "name")),
            "extensionStatus" => put(&mut self.extensions, agent(), text(event, "status")),
            "queueMemberStatus" => {
                let key = format!("{}/{}", agent(), text(event, "queue"));
                put(&mut self.members, key, text(event, "status"));
            }
            "queueCount" => {
                let count = event["count"].as_u64().unwrap_or(u64::MAX);
                put(&mut self.counts, text(event, "queue"), count);
            }
            "phoneNumber" => match event["number"].as_str() {
                Some(number) => put(&mut self.calls, agent(), number.to_owned()),
                None => {
                    self.calls.remove(&agent());
                }
            },
            _ => {}
        }
    }

    /// What a client of `agents` × `queues` should believe when the simulator is in `truth`
    /// (members' interfaces from `location`, devices from `device`, `{agent}` replaced). Only
    /// for a simulator without calls: calls in progress are not part of it.
    pub fn expected(
        truth: &SimSnapshot,
        agents: &[String],
        queues: &[String],
        location: &str,
        device: &str,
    ) -> Belief {
        let mut b = Belief {
            pbx: Some(true),
            ..Belief::default()
        };
        for agent in agents {
            let interface = location.replace("{agent}", agent);
            let dev = device.replace("{agent}", agent);
            if let Some((_, state)) = truth.devices.iter().find(|(d, _)| *d == dev) {
                b.extensions
                    .insert(agent.clone(), word(device_from_name(state)));
            }
            for queue in queues {
                let q = truth.queues.iter().find(|q| q.name == *queue);
                let member = q.and_then(|q| q.members.iter().find(|m| m.interface == interface));
                let s = match member {
                    None => "loggedoff".to_owned(),
                    Some(m) if m.paused => "paused".to_owned(),
                    Some(m) => word(device_from_code(&m.status.to_string())),
                };
                b.members.insert(format!("{agent}/{queue}"), s);
                if let Some(m) = member {
                    b.names
                        .entry(agent.clone())
                        .or_insert_with(|| m.name.clone());
                }
            }
        }
        for queue in queues {
            let waiting = truth.queues.iter().find(|q| q.name == *queue);
            let count = waiting.map_or(0, |q| q.waiting.len() as u64);
            b.counts.insert(queue.clone(), count);
        }
        b
    }

    /// How this belief differs from `truth` (at most `max` lines). Names are compared only for
    /// agents the truth names: the service keeps the name of an agent that left every queue,
    /// which a truth without that membership cannot know.
    pub fn differences(&self, truth: &Belief, max: usize) -> Vec<String> {
        let mut out = Vec::new();
        if self.pbx != truth.pbx {
            out.push(format!("pbxStatus: {:?}, truth {:?}", self.pbx, truth.pbx));
        }
        let names: BTreeMap<String, String> = self
            .names
            .iter()
            .filter(|(a, _)| truth.names.contains_key(*a))
            .map(|(a, n)| (a.clone(), n.clone()))
            .collect();
        diff("agentName", &names, &truth.names, &mut out);
        diff(
            "extensionStatus",
            &self.extensions,
            &truth.extensions,
            &mut out,
        );
        diff("queueMemberStatus", &self.members, &truth.members, &mut out);
        diff("queueCount", &self.counts, &truth.counts, &mut out);
        diff("phoneNumber", &self.calls, &truth.calls, &mut out);
        out.truncate(max);
        out
    }
}

fn diff<V: PartialEq + std::fmt::Debug>(
    what: &str,
    mine: &BTreeMap<String, V>,
    truth: &BTreeMap<String, V>,
    out: &mut Vec<String>,
) {
    for key in mine
        .keys()
        .chain(truth.keys().filter(|k| !mine.contains_key(*k)))
    {
        let (m, t) = (mine.get(key), truth.get(key));
        if m != t {
            out.push(format!("{what} {key}: {m:?}, truth {t:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbxis_ws::sim::{MemberTruth, QueueTruth};
    use serde_json::json;

    fn truth() -> SimSnapshot {
        let member = |agent: &str, paused: bool, status: u8| MemberTruth {
            interface: format!("PJSIP/{agent}"),
            name: format!("Agent {agent}"),
            paused,
            status,
            ..MemberTruth::default()
        };
        SimSnapshot {
            queues: vec![QueueTruth {
                name: "q1".into(),
                waiting: vec!["u1".into()],
                members: vec![member("1", false, 1), member("2", true, 2)],
                ..QueueTruth::default()
            }],
            devices: vec![
                ("PJSIP/1".into(), "NOT_INUSE".into()),
                ("PJSIP/2".into(), "INUSE".into()),
            ],
            calls: Vec::new(),
        }
    }

    fn expected() -> Belief {
        let agents = ["1".to_owned(), "2".to_owned(), "3".to_owned()];
        Belief::expected(
            &truth(),
            &agents,
            &["q1".to_owned()],
            "PJSIP/{agent}",
            "PJSIP/{agent}",
        )
    }

    #[test]
    fn the_truth_reads_as_the_service_words_it() {
        let e = expected();
        assert_eq!(e.members["1/q1"], "not_inuse");
        assert_eq!(e.members["2/q1"], "paused");
        assert_eq!(e.members["3/q1"], "loggedoff");
        assert_eq!(e.extensions["2"], "inuse");
        assert_eq!(e.counts["q1"], 1);
        assert_eq!(e.names["1"], "Agent 1");
        assert!(!e.names.contains_key("3"));
    }

    #[test]
    fn events_fold_and_resync_starts_over() {
        let mut b = Belief::default();
        let events = [
            json!({"type":"pbxStatus","connected":true}),
            json!({"type":"agentName","agent":"1","name":"Agent 1"}),
            json!({"type":"agentName","agent":"2","name":"Agent 2"}),
            json!({"type":"agentName","agent":"3","name":"Old name"}),
            json!({"type":"extensionStatus","agent":"1","status":"not_inuse"}),
            json!({"type":"extensionStatus","agent":"2","status":"inuse"}),
            json!({"type":"queueMemberStatus","agent":"1","queue":"q1","status":"not_inuse"}),
            json!({"type":"queueMemberStatus","agent":"2","queue":"q1","status":"paused"}),
            json!({"type":"queueMemberStatus","agent":"3","queue":"q1","status":"loggedoff"}),
            json!({"type":"queueCount","queue":"q1","count":1}),
            json!({"type":"phoneNumber","agent":"2","number":"0911"}),
            json!({"type":"phoneNumber","agent":"2","number":null}),
        ];
        for e in &events {
            b.apply(e);
        }
        assert_eq!(b.differences(&expected(), 10), Vec::<String>::new());
        b.apply(&json!({"type":"queueCount","queue":"q1","count":0}));
        assert_eq!(
            b.differences(&expected(), 10),
            ["queueCount q1: Some(0), truth Some(1)"]
        );
        b.apply(&json!({"type":"resync","reason":"overflow"}));
        assert_eq!(b, Belief::default());
        assert!(b.differences(&expected(), 3).len() == 3, "bounded");
    }
}
