//! Golden tests of the model's digest: every recorded transcript's `main` connection replayed
//! through `State::apply`, compared with the checked-in expected events in
//! `tests/golden/<name>.jsonl` (one JSON event per line). Regenerate with `UPDATE_GOLDEN=1`
//! and review the diff by hand against the recording.
//!
//! What the client would not hand to the model is skipped the way the AMI client does it:
//! responses, and list items (events carrying the ActionID of one of our actions, except
//! `OriginateResponse`). Our own `Originate` actions are remembered the way the service does, so
//! that their failures become `originateFailed` for the originating agent (linked to their
//! channel exactly when the action chose its `ChannelId`). The wall-clock `joined` time of
//! waiting callers is checked for range and written as 0 (`settle_joined`).

use std::collections::HashSet;
use std::path::Path;

use bytes::BytesMut;
use pbxis_ws::ami::transcript::{self, Direction};
use pbxis_ws::ami::{AmiCodec, AmiFrame, AmiMessage, MessageKind};
use pbxis_ws::pbx::{Event, Location, State};
use tokio_util::codec::Decoder;

/// The recorded rig: members `Local/14X@agents/n`, hints `14X@hints`.
fn rig_state() -> State {
    State::new(Location::parse("Local/{agent}@agents/n").unwrap(), "hints")
}

fn decode_all(codec: &mut AmiCodec, buf: &mut BytesMut) -> Vec<AmiMessage> {
    let mut out = Vec::new();
    while let Ok(Some(frame)) = codec.decode(buf) {
        if let AmiFrame::Message(m) = frame {
            out.push(m);
        }
    }
    out
}

/// Replays one transcript through a model; returns every published event in order.
fn replay(name: &str) -> Vec<Event> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let data = std::fs::read(&path).unwrap();
    let chunks = transcript::parse(&data).unwrap();
    let mut state = rig_state();
    let (mut srv, mut cli) = (AmiCodec::server(), AmiCodec::client());
    let (mut sbuf, mut cbuf) = (BytesMut::new(), BytesMut::new());
    let mut ours = HashSet::new();
    let mut events = Vec::new();
    for chunk in chunks.iter().filter(|c| c.conn == "main") {
        if chunk.direction == Direction::ClientToServer {
            sbuf.extend_from_slice(&chunk.bytes);
            for action in decode_all(&mut srv, &mut sbuf) {
                let Some(id) = action.action_id() else {
                    continue;
                };
                ours.insert(id.to_owned());
                let originate = action.action_name() == Some("Originate");
                let agent = action
                    .get("Channel")
                    .and_then(|c| state.location().agent_of_interface(c));
                if let (true, Some(agent)) = (originate, agent) {
                    let channel_id = action.get("ChannelId");
                    state.expect_originate_on(id, agent, action.get("Exten"), channel_id);
                }
            }
            continue;
        }
        cbuf.extend_from_slice(&chunk.bytes);
        for msg in decode_all(&mut cli, &mut cbuf) {
            if msg.kind() != MessageKind::Event {
                continue;
            }
            let list_item = msg.action_id().is_some_and(|id| ours.contains(id));
            if list_item && !msg.is_event("OriginateResponse") {
                continue;
            }
            events.extend(state.apply(&msg));
        }
    }
    events
}

/// `joined` of a waiting caller is wall-clock time (now, less the wait a `QueueEntry` tells):
/// checked to be the replay's time within the longest recorded wait, then written as 0.
fn settle_joined(mut e: Event, start: u64) -> Event {
    if let Event::QueueCallers { callers, .. } = &mut e {
        let now = epoch_now();
        for c in callers {
            // Rounded to the nearest second: up to one ahead of `now` in whole seconds.
            assert!(
                c.joined <= now + 1 && c.joined + 120 >= start,
                "joined {}",
                c.joined
            );
            c.joined = 0;
        }
    }
    e
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn check(name: &str) {
    let start = epoch_now();
    let got: Vec<String> = replay(&format!("{name}.txt"))
        .into_iter()
        .map(|e| serde_json::to_string(&settle_joined(e, start)).unwrap())
        .collect();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.jsonl"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let mut text = got.join("\n");
        text.push('\n');
        std::fs::write(&golden, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    let want: Vec<&str> = want.lines().filter(|l| !l.is_empty()).collect();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{name}: event {} differs", i + 1);
    }
    assert_eq!(got.len(), want.len(), "{name}: number of events");
}

#[test]
fn golden_01_login() {
    check("01-login");
}
#[test]
fn golden_02_queue_status() {
    check("02-queue-status");
}
#[test]
fn golden_03_queue_member_actions() {
    check("03-queue-member-actions");
}
#[test]
fn golden_04_originate() {
    check("04-originate");
}
#[test]
fn golden_05_inbound_agent_hangup() {
    check("05-inbound-agent-hangup");
}
#[test]
fn golden_05b_inbound_caller_hangup() {
    check("05b-inbound-caller-hangup");
}
#[test]
fn golden_06_abandon_ringnoanswer() {
    check("06-abandon-ringnoanswer");
}
#[test]
fn golden_07_misc_actions() {
    check("07-misc-actions");
}
#[test]
fn golden_08_busy_load() {
    check("08-busy-load");
}
#[test]
fn golden_09_redirect() {
    check("09-redirect");
}
#[test]
fn golden_10_park() {
    check("10-park");
}
#[test]
fn golden_11_chanspy() {
    check("11-chanspy");
}
#[test]
fn golden_12_hangup_hold() {
    check("12-hangup-hold");
}
#[test]
fn golden_13_originate_variables() {
    check("13-originate-variables");
}
