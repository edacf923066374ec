//! The order comparison of the fidelity tests (`sim_support::order`) bites: a recorded run
//! altered by one swapped step or one missing state no longer passes for the recording.

use crate::support::sim as sim_support;

use pbxis_ws::ami::message::AmiMessage;
use sim_support::order::assert_same_order;
use sim_support::recorded;

/// The agents of the recorded rig.
const AGENTS: &[&str] = &["147", "148", "149"];

/// The order check bites: one agent channel's steps swapped in an otherwise recorded run
/// (its `Newstate Ringing` after its `DialState`) are caught, and so is a device sequence
/// with a state missing.
#[test]
fn order_check_catches_a_swapped_step_and_a_missing_state() {
    let rec = recorded("05-inbound-agent-hangup.txt", "main");
    assert_same_order(&rec, &rec, AGENTS);
    let is_147 = |m: &AmiMessage| {
        ["Channel", "DestChannel"].iter().any(|k| {
            m.get(k)
                .is_some_and(|c| c.starts_with("Local/147@agents") && c.ends_with(";1"))
        })
    };
    let ringing = rec
        .iter()
        .position(|m| m.is_event("Newstate") && is_147(m))
        .expect("147 rings");
    let mut swapped = rec.clone();
    let moved = swapped.remove(ringing);
    let dial_state = swapped
        .iter()
        .position(|m| m.is_event("DialState") && is_147(m))
        .expect("147's DialState");
    swapped.insert(dial_state + 1, moved);
    let caught = std::panic::catch_unwind(|| assert_same_order(&swapped, &rec, AGENTS));
    assert!(caught.is_err(), "a swapped step passed");
    let missing: Vec<AmiMessage> = rec
        .iter()
        .filter(|m| !(m.is_event("DeviceStateChange") && m.get("State") == Some("INUSE")))
        .cloned()
        .collect();
    let caught = std::panic::catch_unwind(|| assert_same_order(&missing, &rec, AGENTS));
    assert!(caught.is_err(), "a missing device state passed");
}
