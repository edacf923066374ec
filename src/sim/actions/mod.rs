//! One handler per AMI action, answered as Asterisk 22 answers (fields, order, list framing,
//! errors). This file dispatches and runs the session's own actions: `Login` (plain and MD5
//! challenge), `Challenge`, `Logoff`, `Ping`, `Events`.

mod calls;
mod control;
mod misc;
mod queue;
mod values;

use std::time::Duration;

use md5::{Digest, Md5};
use rand::Rng;

use super::engine::{Auth, Engine, Job};
use super::events;
use super::mask::Mask;
use super::session::Out;
use crate::ami::message::AmiMessage;
pub(crate) use values::variables;

/// A response: `Response: <status>`, the action's `ActionID` when it had one, then `fields`.
pub(crate) fn response(action: &AmiMessage, status: &str, fields: &[(&str, &str)]) -> AmiMessage {
    let mut m = AmiMessage::response(status);
    if let Some(id) = action.action_id() {
        m.push("ActionID", id);
    }
    for (k, v) in fields {
        m.push(k, v);
    }
    m
}

/// `Response: Error` with a message.
pub(crate) fn error(action: &AmiMessage, message: &str) -> AmiMessage {
    response(action, "Error", &[("Message", message)])
}

/// `Response: Success` with a message.
pub(crate) fn success(action: &AmiMessage, message: &str) -> AmiMessage {
    response(action, "Success", &[("Message", message)])
}

/// The start of a list response.
pub(crate) fn list_start(action: &AmiMessage, message: &str) -> AmiMessage {
    response(
        action,
        "Success",
        &[("EventList", "start"), ("Message", message)],
    )
}

/// The `...Complete` event ending a list.
pub(crate) fn list_complete(action: &AmiMessage, name: &str, items: usize) -> AmiMessage {
    let mut m = AmiMessage::event(name);
    if let Some(id) = action.action_id() {
        m.push("ActionID", id);
    }
    m.with("EventList", "Complete")
        .with("ListItems", items.to_string())
}

/// Appends the action's ActionID (list items carry it last, as recorded).
pub(crate) fn with_action_id(mut m: AmiMessage, action: &AmiMessage) -> AmiMessage {
    if let Some(id) = action.action_id() {
        m.push("ActionID", id);
    }
    m
}

/// Runs one action from session `id`.
pub(crate) fn dispatch(e: &mut Engine, id: u64, msg: AmiMessage) {
    let Some(auth) = e.sessions.get(&id).map(|s| s.auth.clone()) else {
        return;
    };
    if auth == Auth::Failing {
        return;
    }
    let name = msg.action_name().unwrap_or("").to_ascii_lowercase();
    let logged_in = auth == Auth::LoggedIn;
    match name.as_str() {
        "login" => login(e, id, &msg, &auth),
        "challenge" => challenge(e, id, &msg),
        "logoff" => {
            let bye = response(&msg, "Goodbye", &[("Message", "Thanks for all the fish.")]);
            e.reply(id, bye);
            e.send(id, Out::Close);
            e.sessions.remove(&id);
        }
        _ if !logged_in => e.reply(id, error(&msg, "Permission denied")),
        "ping" => {
            let ts = format!("{:.6}", e.unix());
            e.reply(
                id,
                response(&msg, "Success", &[("Ping", "Pong"), ("Timestamp", &ts)]),
            );
        }
        "events" => events_action(e, id, &msg),
        _ if injected_failure(e, id, &name, &msg) => {}
        _ => {
            if !queue::handle(e, id, &name, &msg)
                && !calls::handle(e, id, &name, &msg)
                && !control::handle(e, id, &name, &msg)
                && !misc::handle(e, id, &name, &msg)
            {
                let text = format!(
                    "Invalid/unknown command: {}. Use Action: ListCommands to show available commands.",
                    msg.action_name().unwrap_or("")
                );
                e.reply(id, error(&msg, &text));
            }
        }
    }
}

/// A failure asked for with `SimHandle::fail_next`: an `Originate` is refused (true: answered);
/// for any other action the channel it names hangs up first, as if its party hung up just
/// before the action arrived, and the action then runs as usual (false).
fn injected_failure(e: &mut Engine, id: u64, name: &str, msg: &AmiMessage) -> bool {
    if !e.shared.take_failure(name) {
        return false;
    }
    if name == "originate" {
        e.reply(id, error(msg, "Originate failed"));
        return true;
    }
    let named = msg.get("Channel").map(str::trim).unwrap_or("");
    let uid = e
        .state
        .channels()
        .into_iter()
        .find(|c| c.name == named)
        .map(|c| c.uniqueid.clone());
    if let Some(uid) = uid {
        crate::sim::traffic::hangup_uniqueid(e, &uid);
    }
    false
}

fn challenge(e: &mut Engine, id: u64, msg: &AmiMessage) {
    if !msg
        .get("AuthType")
        .is_some_and(|t| t.eq_ignore_ascii_case("md5"))
    {
        e.reply(id, error(msg, "Must specify AuthType"));
        return;
    }
    let challenge = e.rng.gen_range(100_000_000u32..1_000_000_000).to_string();
    if let Some(s) = e.sessions.get_mut(&id) {
        s.auth = Auth::Challenged(challenge.clone());
    }
    e.reply(id, response(msg, "Success", &[("Challenge", &challenge)]));
}

fn login(e: &mut Engine, id: u64, msg: &AmiMessage, auth: &Auth) {
    if *auth == Auth::LoggedIn {
        e.reply(id, success(msg, "Already authenticated"));
        return;
    }
    let user_ok = msg.get("Username") == Some(e.config.username.as_str());
    let md5 = msg
        .get("AuthType")
        .is_some_and(|t| t.eq_ignore_ascii_case("md5"));
    let secret_ok = match (md5, auth) {
        (true, Auth::Challenged(ch)) => {
            let expected = hex::encode(Md5::digest(format!("{ch}{}", e.config.secret)));
            msg.get("Key")
                .is_some_and(|k| k.eq_ignore_ascii_case(&expected))
        }
        (true, _) => false,
        (false, _) => msg.get("Secret") == Some(e.config.secret.as_str()),
    };
    let refused = e
        .shared
        .refuse_logins
        .load(std::sync::atomic::Ordering::Relaxed);
    if !(user_ok && secret_ok) || refused {
        refuse_login(e, id, msg, user_ok);
        return;
    }
    // A missing or empty `Events:` keeps the new session's mask (all), as set_eventmask() does.
    let mask = msg.get("Events").and_then(Mask::parse).unwrap_or(Mask::ALL);
    if let Some(s) = e.sessions.get_mut(&id) {
        s.auth = Auth::LoggedIn;
        s.mask = mask;
    }
    tracing::info!(session = id, "AMI login");
    e.reply(id, success(msg, "Authentication accepted"));
    if mask.has("system") {
        let uptime = (e.now() as u64).max(1).to_string();
        let booted = events::event("FullyBooted", "system,all")
            .with("Uptime", &uptime)
            .with("LastReload", &uptime)
            .with("Status", "Fully Booted");
        e.reply(id, booted);
    }
    let sec = events::event("SuccessfulAuth", "security,all")
        .with("Severity", "Informational")
        .with("Service", "AMI")
        .with("AccountID", &e.config.username)
        .with("UsingPassword", "0");
    e.emit(sec);
}

/// A failed login: a security event at once, the answer a second later (then the close).
fn refuse_login(e: &mut Engine, id: u64, msg: &AmiMessage, user_ok: bool) {
    tracing::info!(session = id, "AMI login failed");
    if let Some(s) = e.sessions.get_mut(&id) {
        s.auth = Auth::Failing;
    }
    let event = if user_ok {
        "InvalidPassword"
    } else {
        "InvalidAccountID"
    };
    let sec = events::event(event, "security,all")
        .with("Severity", "Error")
        .with("Service", "AMI")
        .with("AccountID", msg.get("Username").unwrap_or(""));
    e.emit(sec);
    let job = Job::LoginFailed {
        session: id,
        action_id: msg.action_id().map(str::to_owned),
    };
    e.after(Duration::from_secs(1), job);
}

/// The delayed answer to a failed login: the error, then the connection closes.
pub(crate) fn login_failed(e: &mut Engine, id: u64, action_id: Option<String>) {
    let mut m = AmiMessage::response("Error");
    if let Some(a) = action_id {
        m.push("ActionID", &a);
    }
    m.push("Message", "Authentication failed");
    e.reply(id, m);
    e.send(id, Out::Close);
    e.sessions.remove(&id);
}

/// `Events`: a missing or empty `EventMask` is an error; otherwise the mask is set and the
/// answer says whether any class is on.
fn events_action(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let Some(mask) = msg.get("EventMask").and_then(Mask::parse) else {
        e.reply(id, error(msg, "Invalid event mask"));
        return;
    };
    if let Some(s) = e.sessions.get_mut(&id) {
        s.mask = mask;
    }
    let on = if mask.is_off() { "Off" } else { "On" };
    e.reply(id, response(msg, "Success", &[("Events", on)]));
}
