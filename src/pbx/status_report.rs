//! The `GET /queue/status` report: Asterisk's `QueueStatus` answer grouped per queue, each value
//! typed and named as the original service passed them on. That service handed asterisk-java's
//! beans (`QueueParamsEvent`, `QueueMemberEvent`) through, so a known property carries the bean's
//! name (`Holdtime` → `holdTime`, `ServicelevelPerf` → `serviceLevelPerf`, `InCall` → `incall`)
//! and the bean's type: numbers are numbers, `paused` a boolean. A value that does not parse as
//! its type stays the text Asterisk sent (never an error); a field no bean knows keeps its AMI
//! name with the first letter lower-cased (`LoginTime` → `loginTime`) and is a number when its
//! table entry says so, else text.

use std::collections::BTreeMap;

use crate::ami::AmiMessage;

/// One property value of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum StatusValue {
    /// A whole number (counts, seconds, epoch seconds, status codes).
    Int(i64),
    /// A decimal number (`serviceLevelPerf`); always finite.
    Float(f64),
    /// A flag (`paused`).
    Bool(bool),
    /// Text, or a value that did not parse as its property's type.
    Text(String),
}

/// One queue in the report: the queue's properties and its members'.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueStatusReport {
    /// The queue name.
    pub queue: String,
    /// `QueueParams` properties, by property name.
    pub properties: BTreeMap<String, StatusValue>,
    /// One map per member (`QueueMember`), with `location` and the other properties.
    pub members: Vec<BTreeMap<String, StatusValue>>,
}

impl QueueStatusReport {
    /// A member's text property (`location`, `name`), if it is text.
    pub fn member_text<'a>(
        member: &'a BTreeMap<String, StatusValue>,
        key: &str,
    ) -> Option<&'a str> {
        match member.get(key) {
            Some(StatusValue::Text(text)) => Some(text),
            _ => None,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
}

/// `QueueParams` fields: AMI name, property name (asterisk-java's `QueueParamsEvent`), type.
const QUEUE_FIELDS: &[(&str, &str, Kind)] = &[
    ("Max", "max", Kind::Int),
    ("Strategy", "strategy", Kind::Text),
    ("Calls", "calls", Kind::Int),
    ("Holdtime", "holdTime", Kind::Int),
    ("TalkTime", "talkTime", Kind::Int),
    ("Completed", "completed", Kind::Int),
    ("Abandoned", "abandoned", Kind::Int),
    ("ServiceLevel", "serviceLevel", Kind::Int),
    ("ServicelevelPerf", "serviceLevelPerf", Kind::Float),
    ("ServicelevelPerf2", "serviceLevelPerf2", Kind::Float),
    ("Weight", "weight", Kind::Int),
];

/// `QueueMember` fields: AMI name, property name (asterisk-java's `QueueMemberEvent`; the last
/// three, newer than the bean, by the general rule), type.
const MEMBER_FIELDS: &[(&str, &str, Kind)] = &[
    ("Name", "name", Kind::Text),
    ("MemberName", "name", Kind::Text),
    ("Location", "location", Kind::Text),
    ("StateInterface", "stateinterface", Kind::Text),
    ("Membership", "membership", Kind::Text),
    ("Penalty", "penalty", Kind::Int),
    ("CallsTaken", "callsTaken", Kind::Int),
    ("LastCall", "lastCall", Kind::Int),
    ("InCall", "incall", Kind::Int),
    ("Status", "status", Kind::Int),
    ("Paused", "paused", Kind::Bool),
    ("PausedReason", "pausedreason", Kind::Text),
    ("LastPause", "lastPause", Kind::Int),
    ("LoginTime", "loginTime", Kind::Int),
    ("Wrapuptime", "wrapuptime", Kind::Int),
];

/// Fields that are not properties.
const SKIPPED: &[&str] = &["Event", "ActionID", "Queue"];

/// `Holdtime` → `holdtime`: the name of a field no table knows.
fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn typed(kind: Kind, text: &str) -> StatusValue {
    let trimmed = text.trim();
    let parsed = match kind {
        Kind::Int => trimmed.parse().ok().map(StatusValue::Int),
        Kind::Float => trimmed
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(StatusValue::Float),
        Kind::Bool => match trimmed.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(StatusValue::Bool(true)),
            "0" | "false" | "no" | "off" => Some(StatusValue::Bool(false)),
            _ => None,
        },
        Kind::Text => None,
    };
    parsed.unwrap_or_else(|| StatusValue::Text(text.to_owned()))
}

fn properties(item: &AmiMessage, table: &[(&str, &str, Kind)]) -> BTreeMap<String, StatusValue> {
    let mut out = BTreeMap::new();
    for (key, value) in item.fields() {
        if SKIPPED.iter().any(|s| s.eq_ignore_ascii_case(key)) {
            continue;
        }
        let (name, value) = match table.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, name, kind)) => ((*name).to_owned(), typed(*kind, value)),
            None => (lower_first(key), StatusValue::Text(value.to_owned())),
        };
        out.insert(name, value);
    }
    out
}

/// `QueueStatus` items → one report per queue, in Asterisk's order: the queue's `QueueParams`
/// properties and, per `QueueMember`, a map with `location` and the other properties.
/// `QueueEntry` items (waiting callers) are not part of the report.
pub fn from_items(items: &[AmiMessage]) -> Vec<QueueStatusReport> {
    let mut out: Vec<QueueStatusReport> = Vec::new();
    for item in items {
        let Some(queue) = item.get("Queue") else {
            continue;
        };
        if item.is_event("QueueParams") {
            out.push(QueueStatusReport {
                queue: queue.to_owned(),
                properties: properties(item, QUEUE_FIELDS),
                members: Vec::new(),
            });
        } else if item.is_event("QueueMember") {
            if let Some(r) = out.iter_mut().rev().find(|r| r.queue == queue) {
                r.members.push(properties(item, MEMBER_FIELDS));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatusValue::*;

    /// As recorded from Asterisk (transcript 02).
    fn recorded() -> Vec<AmiMessage> {
        vec![
            AmiMessage::event("QueueParams")
                .with("Queue", "q1")
                .with("Max", "0")
                .with("Strategy", "ringall")
                .with("Calls", "0")
                .with("Holdtime", "2")
                .with("TalkTime", "0")
                .with("Completed", "0")
                .with("Abandoned", "0")
                .with("ServiceLevel", "30")
                .with("ServicelevelPerf", "0.0")
                .with("ServicelevelPerf2", "0.0")
                .with("Weight", "0")
                .with("ActionID", "main-5"),
            AmiMessage::event("QueueMember")
                .with("Queue", "q1")
                .with("Name", "Agent 148")
                .with("Location", "Local/148@agents/n")
                .with("StateInterface", "Custom:148")
                .with("Membership", "dynamic")
                .with("Penalty", "0")
                .with("CallsTaken", "0")
                .with("LastCall", "0")
                .with("LastPause", "1795945285")
                .with("LoginTime", "1795945285")
                .with("InCall", "0")
                .with("Status", "1")
                .with("Paused", "1")
                .with("PausedReason", "lunch")
                .with("Wrapuptime", "0")
                .with("ActionID", "main-5"),
            AmiMessage::event("QueueEntry")
                .with("Queue", "q1")
                .with("Position", "1"),
        ]
    }

    #[test]
    fn recorded_values_get_the_beans_names_and_types() {
        let reports = from_items(&recorded());
        assert_eq!(reports.len(), 1);
        let q = &reports[0];
        assert_eq!(q.queue, "q1");
        let p = |k: &str| q.properties.get(k).cloned();
        assert_eq!(p("holdTime"), Some(Int(2)));
        assert_eq!(p("serviceLevelPerf"), Some(Float(0.0)));
        assert_eq!(p("serviceLevelPerf2"), Some(Float(0.0)));
        assert_eq!(p("strategy"), Some(Text("ringall".into())));
        assert_eq!(p("serviceLevel"), Some(Int(30)));
        assert_eq!(q.properties.len(), 11, "no Queue, no ActionID: {q:?}");
        assert_eq!(q.members.len(), 1, "no QueueEntry among the members");
        let m = |k: &str| q.members[0].get(k).cloned();
        assert_eq!(m("paused"), Some(Bool(true)));
        assert_eq!(m("status"), Some(Int(1)));
        assert_eq!(m("incall"), Some(Int(0)));
        assert_eq!(m("lastPause"), Some(Int(1_795_945_285)));
        assert_eq!(m("pausedreason"), Some(Text("lunch".into())));
        assert_eq!(m("stateinterface"), Some(Text("Custom:148".into())));
        assert_eq!(m("name"), Some(Text("Agent 148".into())));
        assert_eq!(
            QueueStatusReport::member_text(&q.members[0], "location"),
            Some("Local/148@agents/n")
        );
    }

    #[test]
    fn values_that_do_not_parse_stay_text() {
        let items = vec![
            AmiMessage::event("QueueParams")
                .with("Queue", "q1")
                .with("Calls", "many")
                .with("ServicelevelPerf", "NaN")
                .with("Weight", "99999999999999999999999")
                .with("Novelty", "7"),
            AmiMessage::event("QueueMember")
                .with("Queue", "q1")
                .with("Paused", "maybe")
                .with("Status", ""),
        ];
        let q = &from_items(&items)[0];
        assert_eq!(q.properties["calls"], Text("many".into()));
        assert_eq!(q.properties["serviceLevelPerf"], Text("NaN".into()));
        assert_eq!(
            q.properties["weight"],
            Text("99999999999999999999999".into())
        );
        assert_eq!(q.properties["novelty"], Text("7".into()));
        assert_eq!(q.members[0]["paused"], Text("maybe".into()));
        assert_eq!(q.members[0]["status"], Text(String::new()));
    }

    #[test]
    fn paused_takes_asterisks_spellings_of_a_flag() {
        for (text, want) in [("0", false), ("1", true), ("true", true), ("No", false)] {
            assert_eq!(typed(Kind::Bool, text), Bool(want), "{text}");
        }
    }

    #[test]
    fn a_member_of_an_unknown_queue_is_dropped() {
        let items = vec![AmiMessage::event("QueueMember")
            .with("Queue", "q9")
            .with("Location", "PJSIP/147")];
        assert!(from_items(&items).is_empty());
    }
}
