//! Rebuilding the model from Asterisk's list actions, and the corrections that follow.
//!
//! [`collect`] asks Asterisk for them (a refused list counts as empty, with a warning, so the
//! model is built from what Asterisk does tell), [`rebuild`] turns the answers of `QueueStatus`
//! (queues, members, waiting callers),
//! `ExtensionStateList` (or one `ExtensionState` per agent) and `CoreShowChannels` (calls in
//! progress) into a fresh [`State`]; [`sync_events`] is what subscribers must be told to get from
//! the old state to the new one, as ordinary change events. Live events that arrive while the
//! lists are collected are applied afterwards by the service (they carry absolute values, so
//! applying one that the lists already reflect changes nothing).

use std::collections::{BTreeSet, HashMap};

use super::bridges::Leg;
use super::calls::Call;
use super::codes;
use super::event::Event;
use super::ids::{AgentId, QueueName};
use super::names::Location;
use super::snapshot::diff;
use super::state::{field, text, Caller, State};
use crate::ami::{AmiError, AmiHandle, AmiMessage};

/// Most agents asked one by one with `ExtensionState` when `ExtensionStateList` is refused.
const MAX_EXTENSION_STATE: usize = 10_000;

/// The answers a rebuild starts from.
#[derive(Clone, Debug, Default)]
pub struct Lists {
    /// `QueueStatus` items: `QueueParams`, `QueueMember`, `QueueEntry`.
    pub queue_status: Vec<AmiMessage>,
    /// `ExtensionStateList` items (`ExtensionStatus`), or `ExtensionState` responses.
    pub extensions: Vec<AmiMessage>,
    /// `CoreShowChannels` items (`CoreShowChannel`).
    pub channels: Vec<AmiMessage>,
}

/// A fresh model built from `lists`, with the configuration (and pending originates) of `base`.
pub fn rebuild(base: &State, lists: &Lists) -> State {
    let mut state = base.fresh();
    let mut sink = Vec::new();
    for item in &lists.queue_status {
        state.apply(item);
    }
    state.settle_names();
    for item in &lists.extensions {
        extension(&mut state, item, &mut sink);
    }
    channels(&mut state, &lists.channels, &mut sink);
    keep_joined(base, &mut state);
    state
}

/// A caller still waiting keeps the time it joined as first seen (a rebuild only knows its
/// wait in whole seconds).
fn keep_joined(base: &State, state: &mut State) {
    for (name, q) in state.queues.iter_mut() {
        let Some(old) = base.queues.get(name) else {
            continue;
        };
        for w in &mut q.waiting {
            if let Some(o) = old.waiting.iter().find(|o| o.uid == w.uid) {
                w.joined = o.joined;
            }
        }
    }
}

/// The change events that take subscribers from `old` to `new`.
pub fn sync_events(old: &State, new: &State) -> Vec<Event> {
    diff(&old.view(), &new.view())
}

/// An `ExtensionStatus` item, or an `ExtensionState` response (no hint: `Status: -1`, skipped).
fn extension(state: &mut State, item: &AmiMessage, out: &mut Vec<Event>) {
    let status = item.get("Status").unwrap_or("-1");
    if status.trim().starts_with('-') {
        return;
    }
    let mut ev = AmiMessage::event("ExtensionStatus");
    for key in ["Exten", "Context", "Status"] {
        ev.push(key, item.get(key).unwrap_or_default());
    }
    out.extend(state.apply(&ev));
}

/// The queue of a channel running `Queue(q1,...)`.
fn queue_of(item: &AmiMessage) -> Option<QueueName> {
    if !item
        .get("Application")
        .is_some_and(|a| a.eq_ignore_ascii_case("Queue"))
    {
        return None;
    }
    let data = item.get("ApplicationData")?;
    QueueName::parse(data.split([',', '|']).next()?.trim()).ok()
}

/// Calls in progress from `CoreShowChannels`: bridged parties, agents ringing for a queue
/// caller (same `Linkedid` as a channel in `Queue()`), and agents' channels rung by one of our
/// pending originates (known from the live events before the rebuild).
fn channels(state: &mut State, items: &[AmiMessage], out: &mut Vec<Event>) {
    let mut in_queue: HashMap<&str, (&AmiMessage, QueueName)> = HashMap::new();
    for item in items {
        if let (Some(uid), Some(q)) = (field(item, "Uniqueid"), queue_of(item)) {
            let caller = Caller {
                queue: q.clone(),
                waiting_since: None,
            };
            // A caller the `QueueStatus` list shows waiting keeps its wait.
            state.callers.insert_if_absent(uid.to_owned(), caller);
            if let Some(linked) = field(item, "Linkedid") {
                in_queue.insert(linked, (item, q));
            }
        }
    }
    let mut bridges = Vec::new();
    for item in items {
        let Some(uid) = field(item, "Uniqueid") else {
            continue;
        };
        state.note_channels(item);
        let agent = field(item, "Channel").and_then(|c| state.channel_agent(c));
        match field(item, "BridgeId").or_else(|| field(item, "BridgeID")) {
            Some(bridge) => {
                let leg = Leg {
                    uid: uid.to_owned(),
                    number: codes::number(item.get("CallerIDNum")),
                    name: codes::name(item.get("CallerIDName")),
                    agent,
                };
                state.bridges.enter(bridge, leg);
                bridges.push(bridge.to_owned());
            }
            None => {
                let Some(agent) = agent else {
                    continue;
                };
                let linked = field(item, "Linkedid").and_then(|l| in_queue.get(l));
                let Some((caller, queue)) = linked else {
                    ringing_originate(state, &agent, uid, out);
                    continue;
                };
                let call = Call {
                    remote: text(caller, "Uniqueid").unwrap_or_default().to_owned(),
                    leg: Some(uid.to_owned()),
                    number: codes::number(caller.get("CallerIDNum")),
                    name: codes::name(caller.get("CallerIDName")),
                    queue: Some(queue.clone()),
                };
                state.start_call(&agent, call, out);
            }
        }
    }
    bridges.sort();
    bridges.dedup();
    for bridge in bridges {
        state.connect_bridge(&bridge, out);
    }
}

/// An agent's channel that is in no bridge and rings for no queue caller: the ringing channel of
/// one of our originates, if one is linked to it.
fn ringing_originate(state: &mut State, agent: &AgentId, uid: &str, out: &mut Vec<Event>) {
    let call = state
        .originates
        .iter()
        .filter(|(_, o)| &o.agent == agent && o.leg.as_deref() == Some(uid))
        .find_map(|(id, o)| State::originate_call(id, o));
    if let Some(call) = call {
        state.start_call(agent, call, out);
    }
}

/// The items of a list action; a list Asterisk refuses (a module not loaded, a privilege not
/// granted) is empty, with a warning: the model is built from what Asterisk does tell, rather
/// than never built. Other failures (the link) fail the rebuild.
async fn list_or_empty(
    ami: &AmiHandle,
    action: &str,
    meaning: &str,
) -> Result<Vec<AmiMessage>, AmiError> {
    match ami.send_list(AmiMessage::action(action)).await {
        Ok(list) => Ok(list.items),
        Err(AmiError::Refused(message)) => {
            tracing::warn!(action, %message, "Asterisk refused a list; {meaning}");
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Collects the lists a rebuild starts from: `QueueStatus`, then `ExtensionStateList` (or, if
/// refused, `ExtensionState` in the hint context for every agent known or listed as a member),
/// then `CoreShowChannels`. A refused `QueueStatus` or `CoreShowChannels` counts as an empty
/// list (no queues, no calls known), with a warning.
pub async fn collect(
    ami: AmiHandle,
    hint_context: String,
    mut agents: BTreeSet<AgentId>,
    location: Location,
) -> Result<Lists, AmiError> {
    let queue_status = list_or_empty(&ami, "QueueStatus", "no queues known").await?;
    for item in &queue_status {
        if let Some(a) = item
            .get("Location")
            .and_then(|l| location.agent_of_interface(l))
        {
            agents.insert(a);
        }
    }
    let extensions = match ami
        .send_list(AmiMessage::action("ExtensionStateList"))
        .await
    {
        Ok(list) => list.items,
        Err(AmiError::Refused(_)) => {
            let mut out = Vec::new();
            for agent in agents.iter().take(MAX_EXTENSION_STATE) {
                let action = AmiMessage::action("ExtensionState")
                    .with("Exten", agent.as_str())
                    .with("Context", &hint_context);
                match ami.send(action).await {
                    Ok(r) => out.push(r),
                    Err(AmiError::Refused(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            out
        }
        Err(e) => return Err(e),
    };
    let channels = list_or_empty(&ami, "CoreShowChannels", "no calls known").await?;
    Ok(Lists {
        queue_status,
        extensions,
        channels,
    })
}

/// What calls for a rebuild.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Trigger {
    /// Asterisk finished booting.
    Booted,
    /// app_queue (or everything) was reloaded.
    Reload,
}

/// `FullyBooted`, or a `Reload` of app_queue or everything.
pub(super) fn is_resync_trigger(msg: &AmiMessage) -> Option<Trigger> {
    match msg.event_name()? {
        "FullyBooted" => Some(Trigger::Booted),
        "Reload" => {
            let module = msg.get("Module").unwrap_or("All").to_ascii_lowercase();
            (module == "all" || module.starts_with("app_queue")).then_some(Trigger::Reload)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_boot_and_queue_reloads_trigger_a_rebuild() {
        let reload = |m: &str| AmiMessage::event("Reload").with("Module", m);
        assert_eq!(
            is_resync_trigger(&reload("app_queue.so")),
            Some(Trigger::Reload)
        );
        assert_eq!(is_resync_trigger(&reload("All")), Some(Trigger::Reload));
        assert_eq!(is_resync_trigger(&reload("res_pjsip.so")), None);
        assert_eq!(
            is_resync_trigger(&AmiMessage::event("FullyBooted")),
            Some(Trigger::Booted)
        );
        assert_eq!(is_resync_trigger(&AmiMessage::event("Shutdown")), None);
    }
}
