//! Other actions: `ExtensionState`, `ExtensionStateList`, `DeviceStateList`, `Getvar` and
//! `Setvar` of `DEVICE_STATE(...)`, `CoreStatus`, `CoreSettings`, and a minimal `Command`
//! (`core show version`, `queue show [q]`, `core show channels`, `core restart now`).

use std::time::Duration;

use super::{error, list_complete, list_start, response, success};
use crate::ami::message::AmiMessage;
use crate::sim::devices::set_device;
use crate::sim::engine::Engine;
use crate::sim::events::push_extension;
use crate::sim::state::{member_status, MAX_DEVICES};

/// The version `core show version` reports.
pub(crate) const VERSION: &str = "Asterisk 22.10.1 (simulated by pbxis-ws)";

/// How long `core restart now` keeps the simulator down.
const RESTART_DOWNTIME: Duration = Duration::from_secs(2);

/// Runs the action when it is one of these; false otherwise.
pub(super) fn handle(e: &mut Engine, id: u64, name: &str, msg: &AmiMessage) -> bool {
    match name {
        "extensionstate" => extension_state(e, id, msg),
        "extensionstatelist" => extension_state_list(e, id, msg),
        "devicestatelist" => device_state_list(e, id, msg),
        "getvar" => getvar(e, id, msg),
        "setvar" => setvar(e, id, msg),
        "corestatus" => {
            let calls = e.state.calls.len() + e.state.origs.len();
            let r = response(msg, "Success", &[("CoreCurrentCalls", &calls.to_string())]);
            e.reply(id, r);
        }
        "coresettings" => {
            let r = response(
                msg,
                "Success",
                &[("AMIversion", "11.0.0"), ("AsteriskVersion", "22.10.1")],
            );
            e.reply(id, r);
        }
        "command" => command(e, id, msg),
        _ => return false,
    }
    true
}

fn extension_state(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let exten = msg.get("Exten").unwrap_or("").trim();
    let context = msg.get("Context").unwrap_or("").trim();
    let hint = e
        .state
        .hints
        .iter()
        .find(|h| h.exten == exten && h.context == context)
        .map(|h| h.device.clone());
    let mut m = success(msg, "Extension Status");
    let state = hint.as_deref().map(|d| e.state.device(d).to_owned());
    push_extension(
        &mut m,
        exten,
        context,
        hint.as_deref().unwrap_or(""),
        state.as_deref(),
    );
    e.reply(id, m);
}

fn extension_state_list(e: &mut Engine, id: u64, msg: &AmiMessage) {
    e.reply(id, list_start(msg, "Extension Statuses will follow"));
    let hints = e.state.hints.clone();
    for h in &hints {
        let mut m = AmiMessage::event("ExtensionStatus");
        if let Some(a) = msg.action_id() {
            m.push("ActionID", a);
        }
        let state = e.state.device(&h.device).to_owned();
        push_extension(&mut m, &h.exten, &h.context, &h.device, Some(&state));
        e.reply(id, m);
    }
    e.reply(
        id,
        list_complete(msg, "ExtensionStateListComplete", hints.len()),
    );
}

fn device_state_list(e: &mut Engine, id: u64, msg: &AmiMessage) {
    e.reply(id, list_start(msg, "Device State Changes will follow"));
    let devices: Vec<(String, String)> = e.state.devices.clone().into_iter().collect();
    for (d, s) in &devices {
        let mut m = AmiMessage::event("DeviceStateChange");
        if let Some(a) = msg.action_id() {
            m.push("ActionID", a);
        }
        e.reply(id, m.with("Device", d).with("State", s));
    }
    e.reply(
        id,
        list_complete(msg, "DeviceStateListComplete", devices.len()),
    );
}

fn device_arg(var: &str) -> Option<&str> {
    var.trim().strip_prefix("DEVICE_STATE(")?.strip_suffix(')')
}

fn getvar(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let var = msg.get("Variable").unwrap_or("").trim();
    let value = match msg.get("Channel").map(str::trim).filter(|c| !c.is_empty()) {
        Some(name) => {
            let chan = e
                .state
                .channels()
                .into_iter()
                .find(|c| c.name == name)
                .cloned();
            let Some(chan) = chan else {
                e.reply(id, error(msg, "No such channel"));
                return;
            };
            super::values::channel_var(&chan, var)
        }
        None => device_arg(var).map_or(String::new(), |d| e.state.device(d).to_owned()),
    };
    e.reply(
        id,
        response(msg, "Success", &[("Variable", var), ("Value", &value)]),
    );
}

const DEVICE_STATES: [&str; 8] = [
    "NOT_INUSE",
    "INUSE",
    "BUSY",
    "INVALID",
    "UNAVAILABLE",
    "RINGING",
    "RINGINUSE",
    "ONHOLD",
];

fn setvar(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let var = msg.get("Variable").unwrap_or("");
    let value = msg.get("Value").unwrap_or("").trim().to_ascii_uppercase();
    let Some(device) = device_arg(var).map(str::to_owned) else {
        e.reply(id, success(msg, "Variable Set"));
        return;
    };
    if !DEVICE_STATES.contains(&value.as_str()) {
        e.reply(id, error(msg, "Unknown device state"));
        return;
    }
    if !e.state.devices.contains_key(&device) && e.state.devices.len() >= MAX_DEVICES {
        e.reply(id, error(msg, "Too many devices"));
        return;
    }
    e.reply(id, success(msg, "Variable Set"));
    set_device(e, &device, &value);
}

fn command(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let cmd = msg
        .get("Command")
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let lower = cmd.to_ascii_lowercase();
    let output: Vec<String> = if lower == "core show version" {
        vec![VERSION.to_owned()]
    } else if lower == "core restart now" || lower == "core restart gracefully" {
        e.request_restart(RESTART_DOWNTIME);
        vec![String::new()]
    } else if lower == "core show channels" {
        let n = e.state.channels().len();
        vec![
            format!("{n} active channels"),
            format!("{} active calls", e.state.calls.len() + e.state.origs.len()),
        ]
    } else if let Some(rest) = lower.strip_prefix("queue show").map(str::trim) {
        queue_show(e, rest)
    } else {
        let r = response(msg, "Error", &[("Message", "Command output follows")]).with(
            "Output",
            format!(
                "No such command '{cmd}' (type 'core show help {cmd}' for other possible commands)"
            ),
        );
        e.reply(id, r);
        return;
    };
    let mut r = success(msg, "Command output follows");
    for line in output {
        r.push("Output", &line);
    }
    e.reply(id, r);
}

fn queue_show(e: &Engine, which: &str) -> Vec<String> {
    let mut out = Vec::new();
    for q in e
        .state
        .queues
        .iter()
        .filter(|q| which.is_empty() || q.name == which)
    {
        out.push(format!(
            "{} has {} calls (max unlimited) in '{}' strategy ({}s holdtime, {}s talktime), W:0, C:{}, A:{}, SL:{}% within 30s",
            q.name, q.waiting.len(), q.strategy, q.holdtime(), q.talktime(), q.completed, q.abandoned, q.sl_perf()
        ));
        out.push("   Members: ".to_owned());
        for m in &q.members {
            let status = match member_status(e.state.device(&m.state_interface)) {
                1 => "Not in use",
                2 => "In use",
                6 => "Ringing",
                5 => "Unavailable",
                3 => "Busy",
                _ => "Unknown",
            };
            let paused = if m.paused {
                format!(" (paused:{})", m.reason)
            } else {
                String::new()
            };
            out.push(format!(
                "      {} ({} from {}) ({}){paused} ({status}) has taken {} calls",
                m.name,
                m.interface,
                m.state_interface,
                if m.dynamic { "dynamic" } else { "static" },
                m.calls_taken
            ));
        }
        out.push("   No Callers".to_owned());
    }
    if out.is_empty() {
        out.push(format!("No such queue: {which}."));
    }
    out
}
