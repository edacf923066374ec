//! Queue actions: `QueueStatus`, `QueueSummary`, `QueueAdd`, `QueueRemove`, `QueuePause`,
//! `QueuePenalty`, `QueueReset`, with Asterisk 22's replies and events.

use super::{error, list_complete, list_start, success, with_action_id};
use crate::ami::message::AmiMessage;
use crate::sim::devices::{refresh_queue, set_pseudo};
use crate::sim::engine::Engine;
use crate::sim::events::member_event;
use crate::sim::state::{
    member_status, pause_device, Member, Queue, INUSE, MAX_MEMBERS, NOT_INUSE,
};

/// Runs the action when it is a queue action; false otherwise.
pub(super) fn handle(e: &mut Engine, id: u64, name: &str, msg: &AmiMessage) -> bool {
    match name {
        "queuestatus" => queue_status(e, id, msg),
        "queuesummary" => queue_summary(e, id, msg),
        "queueadd" => queue_add(e, id, msg),
        "queueremove" => queue_remove(e, id, msg),
        "queuepause" => queue_pause(e, id, msg),
        "queuepenalty" => queue_penalty(e, id, msg),
        "queuereset" => queue_reset(e, id, msg),
        _ => return false,
    }
    true
}

/// Asterisk's `ast_true`.
pub(crate) fn is_true(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "yes" | "true" | "y" | "t" | "1" | "on"
    )
}

fn non_empty<'a>(msg: &'a AmiMessage, key: &str) -> Option<&'a str> {
    msg.get(key).map(str::trim).filter(|v| !v.is_empty())
}

fn queue_status(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let queue = non_empty(msg, "Queue");
    let member = non_empty(msg, "Member");
    e.reply(id, list_start(msg, "Queue status will follow"));
    let mut items = Vec::new();
    for q in e
        .state
        .queues
        .iter()
        .filter(|q| queue.is_none_or(|n| n == q.name))
    {
        items.push(queue_params(q));
        for m in q
            .members
            .iter()
            .filter(|m| member.is_none_or(|i| i == m.interface))
        {
            items.push(queue_member(
                q.name.as_str(),
                m,
                e.state.device(&m.state_interface),
            ));
        }
        items.extend(queue_entries(e, q));
    }
    let n = items.len();
    for item in items {
        e.reply(id, with_action_id(item, msg));
    }
    e.reply(id, list_complete(msg, "QueueStatusComplete", n));
}

/// `QueueParams` of one queue.
fn queue_params(q: &Queue) -> AmiMessage {
    AmiMessage::event("QueueParams")
        .with("Queue", &q.name)
        .with("Max", "0")
        .with("Strategy", &q.strategy)
        .with("Calls", q.waiting.len().to_string())
        .with("Holdtime", q.holdtime().to_string())
        .with("TalkTime", q.talktime().to_string())
        .with("Completed", q.completed.to_string())
        .with("Abandoned", q.abandoned.to_string())
        .with("ServiceLevel", "30")
        .with("ServicelevelPerf", q.sl_perf())
        .with("ServicelevelPerf2", q.sl_perf())
        .with("Weight", "0")
}

/// `QueueEntry` of every caller waiting in `q`, in line order.
fn queue_entries(e: &Engine, q: &Queue) -> Vec<AmiMessage> {
    let now = e.now();
    q.waiting
        .iter()
        .filter_map(|c| e.state.calls.get(c))
        .enumerate()
        .map(|(pos, call)| {
            let c = &call.caller;
            AmiMessage::event("QueueEntry")
                .with("Queue", &q.name)
                .with("Position", (pos + 1).to_string())
                .with("Channel", &c.name)
                .with("Uniqueid", &c.uniqueid)
                .with("CallerIDNum", &c.cid_num)
                .with("CallerIDName", &c.cid_name)
                .with("ConnectedLineNum", &c.conn_num)
                .with("ConnectedLineName", &c.conn_name)
                .with("Wait", ((now - call.joined).max(0.0) as u64).to_string())
                .with("Priority", "0")
        })
        .collect()
}

fn queue_member(queue: &str, m: &Member, device_state: &str) -> AmiMessage {
    AmiMessage::event("QueueMember")
        .with("Queue", queue)
        .with("Name", &m.name)
        .with("Location", &m.interface)
        .with("StateInterface", &m.state_interface)
        .with("Membership", if m.dynamic { "dynamic" } else { "static" })
        .with("Penalty", m.penalty.to_string())
        .with("CallsTaken", m.calls_taken.to_string())
        .with("LastCall", m.last_call.to_string())
        .with("LastPause", m.last_pause.to_string())
        .with("LoginTime", m.login_time.to_string())
        .with("InCall", u8::from(m.in_call).to_string())
        .with("Status", member_status(device_state).to_string())
        .with("Paused", u8::from(m.paused).to_string())
        .with("PausedReason", &m.reason)
        .with("Wrapuptime", "0")
}

fn queue_summary(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let queue = non_empty(msg, "Queue");
    e.reply(id, list_start(msg, "Queue summary will follow"));
    let now = e.now();
    let mut items = Vec::new();
    for q in e
        .state
        .queues
        .iter()
        .filter(|q| queue.is_none_or(|n| n == q.name))
    {
        let logged_in = q.members.len();
        let available = q
            .members
            .iter()
            .filter(|m| !m.paused && e.state.device(&m.state_interface) == NOT_INUSE)
            .count();
        let longest = q
            .waiting
            .first()
            .and_then(|c| e.state.calls.get(c))
            .map_or(0, |c| (now - c.joined).max(0.0) as u64);
        items.push(
            AmiMessage::event("QueueSummary")
                .with("Queue", &q.name)
                .with("LoggedIn", logged_in.to_string())
                .with("Available", available.to_string())
                .with("Callers", q.waiting.len().to_string())
                .with("HoldTime", q.holdtime().to_string())
                .with("TalkTime", q.talktime().to_string())
                .with("LongestHoldTime", longest.to_string()),
        );
    }
    let n = items.len();
    for item in items {
        e.reply(id, with_action_id(item, msg));
    }
    e.reply(id, list_complete(msg, "QueueSummaryComplete", n));
}

fn queue_add(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let Some(iface) = non_empty(msg, "Interface") else {
        e.reply(id, error(msg, "'Interface' not specified."));
        return;
    };
    let queue = non_empty(msg, "Queue").unwrap_or("");
    let now = e.unix_secs();
    let Some(q) = e.state.queue_mut(queue) else {
        e.reply(
            id,
            error(msg, "Unable to add interface to queue: No such queue"),
        );
        return;
    };
    if q.member(iface).is_some() {
        e.reply(id, error(msg, "Unable to add interface: Already there"));
        return;
    }
    if q.members.len() >= MAX_MEMBERS {
        e.reply(id, error(msg, "Out of memory"));
        return;
    }
    let paused = msg.get("Paused").is_some_and(is_true);
    let member = Member {
        interface: iface.to_owned(),
        name: non_empty(msg, "MemberName").unwrap_or(iface).to_owned(),
        state_interface: non_empty(msg, "StateInterface").unwrap_or(iface).to_owned(),
        dynamic: true,
        paused,
        reason: if paused {
            msg.get("Reason").unwrap_or("").to_owned()
        } else {
            String::new()
        },
        penalty: msg
            .get("Penalty")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0),
        login_time: now,
        last_pause: if paused { now } else { 0 },
        ..Member::default()
    };
    q.members.push(member.clone());
    let queue = queue.to_owned();
    tracing::info!(%queue, interface = iface, "member added");
    e.reply(id, success(msg, "Added interface to queue"));
    let dev = e.state.device(&member.state_interface).to_owned();
    e.emit(member_event("QueueMemberAdded", &queue, &member, &dev));
    set_pseudo(
        e,
        &pause_device(&queue, iface),
        if paused { INUSE } else { NOT_INUSE },
    );
    refresh_queue(e, &queue);
}

fn queue_remove(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let iface = non_empty(msg, "Interface").unwrap_or("");
    let queue = non_empty(msg, "Queue").unwrap_or("").to_owned();
    let Some(q) = e.state.queue_mut(&queue) else {
        e.reply(
            id,
            error(msg, "Unable to remove interface from queue: No such queue"),
        );
        return;
    };
    let Some(pos) = q.members.iter().position(|m| m.interface == iface) else {
        e.reply(id, error(msg, "Unable to remove interface: Not there"));
        return;
    };
    if !q.members[pos].dynamic {
        e.reply(id, error(msg, "Member not dynamic"));
        return;
    }
    let member = q.members.remove(pos);
    tracing::info!(%queue, interface = iface, "member removed");
    e.reply(id, success(msg, "Removed interface from queue"));
    let dev = e.state.device(&member.state_interface).to_owned();
    e.emit(member_event("QueueMemberRemoved", &queue, &member, &dev));
    let pause_dev = pause_device(&queue, iface);
    set_pseudo(e, &pause_dev, NOT_INUSE);
    e.state.devices.remove(&pause_dev);
    refresh_queue(e, &queue);
}

fn queue_pause(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let (Some(iface), Some(paused)) = (non_empty(msg, "Interface"), non_empty(msg, "Paused"))
    else {
        e.reply(id, error(msg, "Need 'Interface' and 'Paused' parameters."));
        return;
    };
    let paused = is_true(paused);
    let queue = non_empty(msg, "Queue");
    let reason = if paused {
        msg.get("Reason").unwrap_or("").to_owned()
    } else {
        String::new()
    };
    let now = e.unix_secs();
    let changed = change_members(e, queue, iface, |m| {
        m.paused = paused;
        m.reason.clone_from(&reason);
        if paused {
            m.last_pause = now;
        }
    });
    if changed.is_empty() {
        e.reply(id, error(msg, "Interface not found"));
        return;
    }
    tracing::info!(interface = iface, paused, reason = %reason, "member pause");
    let text = if paused {
        "Interface paused successfully"
    } else {
        "Interface unpaused successfully"
    };
    e.reply(id, success(msg, text));
    for (queue, m) in changed {
        set_pseudo(
            e,
            &pause_device(&queue, iface),
            if paused { INUSE } else { NOT_INUSE },
        );
        refresh_queue(e, &queue);
        let dev = e.state.device(&m.state_interface).to_owned();
        e.emit(member_event("QueueMemberPause", &queue, &m, &dev));
    }
}

/// Applies `change` to `iface`'s membership of `queue` (of every queue when `None`, as
/// QueuePause and QueuePenalty do without `Queue`); returns the changed memberships.
fn change_members(
    e: &mut Engine,
    queue: Option<&str>,
    iface: &str,
    mut change: impl FnMut(&mut Member),
) -> Vec<(String, Member)> {
    let mut changed = Vec::new();
    for q in e
        .state
        .queues
        .iter_mut()
        .filter(|q| queue.is_none_or(|n| n == q.name))
    {
        let name = q.name.clone();
        if let Some(m) = q.member_mut(iface) {
            change(m);
            changed.push((name, m.clone()));
        }
    }
    changed
}

fn queue_penalty(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let iface = non_empty(msg, "Interface").unwrap_or("");
    let penalty = msg
        .get("Penalty")
        .and_then(|p| p.trim().parse::<u32>().ok());
    let queue = non_empty(msg, "Queue");
    let Some(penalty) = penalty else {
        e.reply(id, error(msg, "Invalid interface, queuename or penalty"));
        return;
    };
    let changed = change_members(e, queue, iface, |m| m.penalty = penalty);
    if changed.is_empty() {
        e.reply(id, error(msg, "Invalid interface, queuename or penalty"));
        return;
    }
    e.reply(id, success(msg, "Interface penalty set successfully"));
    for (queue, m) in changed {
        let dev = e.state.device(&m.state_interface).to_owned();
        e.emit(member_event("QueueMemberPenalty", &queue, &m, &dev));
    }
}

fn queue_reset(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let queue = non_empty(msg, "Queue");
    for q in e
        .state
        .queues
        .iter_mut()
        .filter(|q| queue.is_none_or(|n| n == q.name))
    {
        q.completed = 0;
        q.abandoned = 0;
        q.hold_total = 0.0;
        q.talk_total = 0.0;
        q.within_sl = 0;
        for m in &mut q.members {
            m.calls_taken = 0;
            m.last_call = 0;
        }
    }
    // Asterisk answers success even for a queue that does not exist.
    e.reply(id, success(msg, "Queue stats reset successfully"));
}
