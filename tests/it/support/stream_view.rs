//! What a stream client keeps: every event it applied with its id and ticket, the gaps it was
//! told of (`resync`, a new ticket), the [`View`] they fold into, the cookies a balancer set,
//! and [`problems`], the check that no event was applied twice and no gap went unannounced;
//! [`member_truth`] and [`View::members`] say the same pairs the simulator's and a client's way.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;

/// One applied event: its id, the event without it, and the ticket whose stream carried it.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub id: Option<String>,
    pub event: Value,
    pub ticket: String,
}

/// A gap the client was told of, before the applied event at index `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub at: usize,
    pub kind: GapKind,
}

/// How a gap was announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GapKind {
    /// A `resync` event, with its reason.
    Resync(String),
    /// The ticket was unknown where the client reconnected; it took a new one, whose snapshot
    /// replaces its state.
    NewTicket,
}

/// What the client believes: the latest value of every (type, scope) it was told.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View(pub BTreeMap<String, Value>);

impl View {
    /// Applies one event: `resync` empties the view, state events set their key.
    pub fn apply(&mut self, event: &Value) {
        let kind = event["type"].as_str().unwrap_or("");
        match kind {
            "resync" => self.0.clear(),
            "agentName" | "extensionStatus" | "queueMemberStatus" | "phoneNumber"
            | "queueCount" | "queueCallers" | "pbxStatus" => {
                let key = format!(
                    "{kind}/{}/{}",
                    event["agent"].as_str().unwrap_or(""),
                    event["queue"].as_str().unwrap_or("")
                );
                let key = if kind == "phoneNumber" {
                    format!("{kind}/{}", event["agent"].as_str().unwrap_or(""))
                } else {
                    key
                };
                self.0.insert(key, event.clone());
            }
            _ => {}
        }
    }

    /// The member status of `agent` in `queue`, if told.
    pub fn member(&self, agent: &str, queue: &str) -> Option<&str> {
        self.0
            .get(&format!("queueMemberStatus/{agent}/{queue}"))
            .and_then(|e| e["status"].as_str())
    }
}

/// The cookies a balancer set, sent back on every request as a browser does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cookies(pub BTreeMap<String, String>);

impl Cookies {
    /// The `Cookie` header, if any cookie is kept.
    pub fn header(&self) -> Option<String> {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Keeps the `name=value` of each `Set-Cookie` value.
    pub fn remember<'a>(&mut self, set_cookies: impl Iterator<Item = &'a [u8]>) {
        for value in set_cookies {
            let text = String::from_utf8_lossy(value);
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.0
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
}

/// `<epoch>-<seq>` split.
pub fn parse_id(id: &str) -> Option<(&str, u64)> {
    let (epoch, seq) = id.rsplit_once('-')?;
    Some((epoch, seq.parse().ok()?))
}

/// Everything wrong with a client's log, empty when none: an event without an id; an id not
/// after the previous one of the same ticket and epoch (applied twice, or out of order); a jump
/// in the sequence not at a `resync`; another epoch on the same ticket (another instance took it
/// over) not starting with `resync`; a new ticket not announced as a gap, or whose first event
/// is neither its first (`seq` 1) nor a `resync`.
pub fn problems(applied: &[Applied], gaps: &[Gap]) -> Vec<String> {
    let mut out = Vec::new();
    let mut previous: Option<(&str, &str, u64)> = None;
    for (i, a) in applied.iter().enumerate() {
        let Some((epoch, seq)) = a.id.as_deref().and_then(parse_id) else {
            out.push(format!("#{i}: no id: {:?}", a.event));
            continue;
        };
        let resync = a.event["type"] == "resync";
        match previous {
            Some((ticket, was, last)) if ticket == a.ticket && was == epoch => {
                if seq <= last {
                    out.push(format!(
                        "#{i}: {epoch}-{seq} after {epoch}-{last}: applied twice"
                    ));
                } else if seq != last + 1 && !resync {
                    out.push(format!(
                        "#{i}: {epoch}-{seq} after {epoch}-{last}: unannounced gap"
                    ));
                }
            }
            Some((ticket, was, _)) if ticket == a.ticket => {
                if !resync {
                    out.push(format!("#{i}: epoch {was} -> {epoch} without resync"));
                }
            }
            _ => {
                let announced = gaps
                    .iter()
                    .any(|g| g.at == i && g.kind == GapKind::NewTicket);
                if previous.is_some() && !announced {
                    out.push(format!("#{i}: a new ticket, unannounced"));
                }
                if seq != 1 && !resync {
                    out.push(format!("#{i}: a ticket's stream starting at {seq}"));
                }
            }
        }
        previous = Some((&a.ticket, epoch, seq));
    }
    out
}

/// A member pair as `(agent, queue, "loggedoff" | "paused" | "member" | "untold")`.
pub type PairStatus = (String, String, String);

/// The member statuses the simulator holds for `agents` × `queues` (interfaces `PJSIP/<agent>`).
pub fn member_truth(
    truth: &pbxis_ws::sim::SimSnapshot,
    agents: &[&str],
    queues: &[&str],
) -> Vec<PairStatus> {
    let mut out = Vec::new();
    for agent in agents {
        for queue in queues {
            let q = truth.queues.iter().find(|q| q.name == *queue).unwrap();
            let member = q
                .members
                .iter()
                .find(|m| m.interface == format!("PJSIP/{agent}"));
            let status = match member {
                None => "loggedoff",
                Some(m) if m.paused => "paused",
                Some(_) => "member",
            };
            out.push((agent.to_string(), queue.to_string(), status.to_owned()));
        }
    }
    out
}

impl View {
    /// What the view says of the same pairs as [`member_truth`] (a member not paused shows its
    /// device state: "member").
    pub fn members(&self, agents: &[&str], queues: &[&str]) -> Vec<PairStatus> {
        let mut out = Vec::new();
        for agent in agents {
            for queue in queues {
                let status = match self.member(agent, queue) {
                    Some(s @ ("loggedoff" | "paused")) => s.to_owned(),
                    Some(_) => "member".to_owned(),
                    None => "untold".to_owned(),
                };
                out.push((agent.to_string(), queue.to_string(), status));
            }
        }
        out
    }
}
