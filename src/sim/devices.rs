//! Device state changes and what follows them, in Asterisk's order: `DeviceStateChange`, the
//! `ExtensionStatus` of every hint on that device, then per queue the member's
//! `QueueMemberStatus` and app_queue's pseudo devices (`Queue:q1_avail`, `Queue:q1`).

use super::engine::Engine;
use super::events;
use super::state::{NOT_INUSE, RINGING};

/// Sets a device's state; emits the consequences when it changed.
pub(crate) fn set_device(e: &mut Engine, device: &str, state: &str) {
    if e.state.device(device) == state && e.state.devices.contains_key(device) {
        return;
    }
    e.state.devices.insert(device.to_owned(), state.to_owned());
    e.emit(events::device_state_change(device, state));
    let hints: Vec<_> = e
        .state
        .hints
        .iter()
        .filter(|h| h.device == device)
        .cloned()
        .collect();
    for h in hints {
        e.emit(events::extension_status_event(
            &h.exten, &h.context, &h.device, state,
        ));
    }
    let mut touched = Vec::new();
    for q in &e.state.queues {
        for m in q.members.iter().filter(|m| m.state_interface == device) {
            touched.push((
                q.name.clone(),
                events::member_event("QueueMemberStatus", &q.name, m, state),
            ));
        }
    }
    for (queue, msg) in touched {
        e.emit(msg);
        refresh_queue(e, &queue);
    }
}

/// Sets an app_queue pseudo device; emits `DeviceStateChange` when it changed.
pub(crate) fn set_pseudo(e: &mut Engine, device: &str, state: &str) {
    if e.state.devices.get(device).is_some_and(|s| s == state) {
        return;
    }
    e.state.devices.insert(device.to_owned(), state.to_owned());
    e.emit(events::device_state_change(device, state));
}

/// Recomputes `Queue:<q>_avail` and `Queue:<q>` (RINGING while callers wait).
pub(crate) fn refresh_queue(e: &mut Engine, queue: &str) {
    let Some(q) = e.state.queue(queue) else {
        return;
    };
    let avail = e.state.avail_state(q);
    let waiting = if q.waiting.is_empty() {
        NOT_INUSE
    } else {
        RINGING
    };
    set_pseudo(e, &format!("Queue:{queue}_avail"), avail);
    set_pseudo(e, &format!("Queue:{queue}"), waiting);
}
