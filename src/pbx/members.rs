//! Queue members and devices: `QueueMember*` events (and `QueueMember` list items) give each
//! agent's membership, pause state and member status per queue, and its name; `ExtensionStatus`
//! of the hint context and `DeviceStateChange` of the state interface give its extension status
//! (a hint, once seen, decides alone).

use super::codes;
use super::event::{DeviceStatus, Event, MemberStatus};
use super::ids::{AgentId, QueueName};
use super::state::{field, text, Member, State};
use crate::ami::AmiMessage;

impl State {
    /// The agent of a member event: its interface through the template, else its state
    /// interface.
    fn member_agent<'m>(&self, msg: &'m AmiMessage) -> Option<(AgentId, &'m str)> {
        let iface = field(msg, "Interface").or_else(|| field(msg, "Location"))?;
        let agent = self.location.agent_of_interface(iface).or_else(|| {
            field(msg, "StateInterface").and_then(|s| self.location.agent_of_interface(s))
        })?;
        Some((agent, iface))
    }

    pub(super) fn member_update(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some((agent, iface)) = self.member_agent(msg) else {
            return;
        };
        let Some(queue) = field(msg, "Queue").and_then(|q| QueueName::parse(q).ok()) else {
            return;
        };
        if !self.ensure_queue(&queue) {
            return;
        }
        if let Some(si) = field(msg, "StateInterface") {
            self.state_interfaces.insert(si.to_owned(), agent.clone());
        }
        let Some(a) = self.agent_mut(&agent) else {
            return;
        };
        let before = a.members.get(&queue).map(Member::shown);
        let known = before.is_some();
        let m = a.members.entry(queue.clone()).or_insert_with(|| Member {
            name: iface.to_owned(),
            interface: iface.to_owned(),
            dynamic: true,
            paused: false,
            reason: String::new(),
            status: DeviceStatus::Unknown,
            calls_taken: 0,
            last_call: 0,
            incall: false,
        });
        let renamed = update_member(m, msg);
        let said = said_name(msg, known && renamed, m);
        let status = m.status;
        let after = Some(m.shown());
        if before != after {
            if let Some((status, reason)) = after {
                out.push(Event::QueueMemberStatus {
                    agent: agent.clone(),
                    queue,
                    status,
                    reason,
                });
            }
        }
        let device_follows = !a.hint && msg.has("Status");
        // A list item's names are settled once the whole list is in (`settle_names`).
        if !msg.is_event("QueueMember") {
            self.refresh_name(&agent, said, out);
        }
        if device_follows {
            self.set_device(&agent, status, false, out);
        }
    }

    pub(super) fn member_removed(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some((agent, _)) = self.member_agent(msg) else {
            return;
        };
        let Some(queue) = field(msg, "Queue").and_then(|q| QueueName::parse(q).ok()) else {
            return;
        };
        let Some(a) = self.agents.get_mut(&agent) else {
            return;
        };
        if a.members.remove(&queue).is_some() {
            out.push(Event::QueueMemberStatus {
                agent: agent.clone(),
                queue,
                status: MemberStatus::LoggedOff,
                reason: None,
            });
        }
    }

    /// After a rebuild's `QueueStatus` list: every agent keeps its name while one of its
    /// memberships still holds it, else takes the name derived from them (names changed while
    /// the link was down are followed; the order of the list does not matter).
    pub(super) fn settle_names(&mut self) {
        let agents: Vec<AgentId> = self.agents.keys().cloned().collect();
        let mut ignored = Vec::new();
        for agent in agents {
            self.refresh_name(&agent, None, &mut ignored);
        }
    }

    /// Names the agent after the latest word of Asterisk: `said`, a name just given to one of
    /// its memberships, renames it (a name that is only the interface, what Asterisk gives a
    /// member added without one, names only an agent without a name). Without news the name
    /// stays while one of the memberships still holds it, else it is derived from them (a
    /// rebuild then follows names changed while the link was down). Publishes `agentName` on
    /// a change. A name is never withdrawn, and a log-off does not rename the agent.
    fn refresh_name(
        &mut self,
        agent: &AgentId,
        said: Option<(String, bool)>,
        out: &mut Vec<Event>,
    ) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        let name = match said {
            Some((name, is_interface)) if !is_interface || a.name.is_none() => name,
            _ => {
                let held = |n: &String| a.members.values().any(|m| &m.name == n);
                if a.name.as_ref().is_some_and(held) {
                    return;
                }
                match a.derived_name() {
                    Some(derived) => derived.to_owned(),
                    None => return,
                }
            }
        };
        if a.name.as_deref() != Some(name.as_str()) {
            a.name = Some(name.clone());
            out.push(Event::AgentName {
                agent: agent.clone(),
                name,
            });
        }
    }

    pub(super) fn set_device(
        &mut self,
        agent: &AgentId,
        status: DeviceStatus,
        from_hint: bool,
        out: &mut Vec<Event>,
    ) {
        let Some(a) = self.agent_mut(agent) else {
            return;
        };
        if from_hint {
            a.hint = true;
        } else if a.hint {
            return;
        }
        if a.device != Some(status) {
            a.device = Some(status);
            out.push(Event::ExtensionStatus {
                agent: agent.clone(),
                status,
            });
        }
    }

    pub(super) fn extension_status(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(exten), Some(ctx)) = (field(msg, "Exten"), field(msg, "Context")) else {
            return;
        };
        if !ctx.eq_ignore_ascii_case(&self.hint_context) {
            return;
        }
        let Ok(agent) = AgentId::parse(exten) else {
            return;
        };
        let status = codes::device_from_extension_state(msg.get("Status").unwrap_or(""));
        self.set_device(&agent, status, true, out);
    }

    pub(super) fn device_state(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(device) = field(msg, "Device") else {
            return;
        };
        let agent = match self.state_interfaces.get(device) {
            // A hint decides alone: nothing to do (and nothing to copy).
            Some(a) if self.agents.get(a).is_some_and(|a| a.hint) => return,
            Some(a) => a.clone(),
            None if !self.location.is_local() => match self.location.agent_of_interface(device) {
                Some(a) if self.agents.contains_key(&a) => a,
                _ => return,
            },
            None => return,
        };
        let status = codes::device_from_name(msg.get("State").unwrap_or(""));
        self.set_device(&agent, status, false, out);
    }
}

/// The name a live member event gives, with whether it is only the interface: news when the
/// member was just added, or a known member's name changed (`renamed`). A membership first seen
/// in another event (the model catching up) reports state: no news.
fn said_name(msg: &AmiMessage, renamed: bool, m: &Member) -> Option<(String, bool)> {
    let news = renamed || msg.is_event("QueueMemberAdded");
    news.then(|| (m.name.clone(), m.name == m.interface))
}

/// Updates the membership from the event's fields; true when its name changed.
fn update_member(m: &mut Member, msg: &AmiMessage) -> bool {
    let mut renamed = false;
    if let Some(n) = field(msg, "MemberName").or_else(|| field(msg, "Name")) {
        if m.name != n {
            m.name = n.to_owned();
            renamed = true;
        }
    }
    if let Some(v) = field(msg, "Membership") {
        m.dynamic = v.eq_ignore_ascii_case("dynamic");
    }
    if let Some(v) = field(msg, "Paused") {
        m.paused = codes::is_true(v);
    }
    let reason = text(msg, "PausedReason").or_else(|| text(msg, "Reason"));
    match reason {
        Some(r) if m.paused => r.clone_into(&mut m.reason),
        _ if !m.paused => m.reason.clear(),
        _ => {}
    }
    if let Some(v) = field(msg, "Status") {
        m.status = codes::device_from_code(v);
    }
    if let Some(v) = field(msg, "CallsTaken") {
        m.calls_taken = codes::uint(Some(v));
    }
    if let Some(v) = field(msg, "LastCall") {
        m.last_call = codes::uint(Some(v));
    }
    if let Some(v) = field(msg, "InCall") {
        m.incall = codes::is_true(v);
    }
    renamed
}
