//! The wallboard figures live in the model: taken from `QueueParams` at a rebuild, then kept
//! current from the events as app_queue computes them (abandoned, completed within the service
//! level or not, running averages of hold and talk time), with the longest wait of the callers
//! waiting now and the logged-in and available members; `queueSummary` and `memberSummary` are
//! read from the state. Time is tokio's paused clock.

use std::time::Duration;

use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::summary::summary_events;
use pbxis_ws::pbx::{AgentId, Event, Location, QueueName, State};
use tokio::time::Instant;

fn ev(name: &str, fields: &[(&str, &str)]) -> AmiMessage {
    fields
        .iter()
        .fold(AmiMessage::event(name), |m, (k, v)| m.with(k, v))
}

fn member(agent: &str, status: &str, paused: &str) -> AmiMessage {
    let iface = format!("PJSIP/{agent}");
    ev(
        "QueueMember",
        &[
            ("Queue", "q1"),
            ("Name", &format!("Agent {agent}")),
            ("Location", &iface),
            ("Status", status),
            ("Paused", paused),
            ("CallsTaken", "2"),
        ],
    )
}

fn queue_summary(state: &State) -> Event {
    summary_events(state, Instant::now())
        .into_iter()
        .find(|e| matches!(e, Event::QueueSummary { .. }))
        .expect("a queue summary")
}

/// A model as a rebuild leaves it: q1 with 4 calls completed (half within 30 s), 1 abandoned,
/// and four members: available, paused, unavailable, in use.
fn rebuilt() -> State {
    let mut s = State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints");
    s.apply(&ev(
        "QueueParams",
        &[
            ("Queue", "q1"),
            ("Calls", "0"),
            ("Holdtime", "8"),
            ("TalkTime", "40"),
            ("Completed", "4"),
            ("Abandoned", "1"),
            ("ServiceLevel", "30"),
            ("ServicelevelPerf", "50.0"),
        ],
    ));
    for (agent, status, paused) in [
        ("147", "1", "0"),
        ("148", "1", "1"),
        ("149", "5", "0"),
        ("150", "2", "0"),
    ] {
        s.apply(&member(agent, status, paused));
    }
    s
}

fn summary(
    waiting: u32,
    longest_wait: u64,
    completed: u64,
    abandoned: u64,
    hold_time: u64,
    talk_time: u64,
    service_level_perf: f64,
) -> Event {
    Event::QueueSummary {
        queue: QueueName::parse("q1").unwrap(),
        waiting,
        longest_wait,
        logged_in: 3,
        available: 1,
        completed,
        abandoned,
        hold_time,
        talk_time,
        service_level: 30,
        service_level_perf,
    }
}

#[tokio::test(start_paused = true)]
async fn queue_figures_follow_the_events() {
    let mut s = rebuilt();
    assert_eq!(queue_summary(&s), summary(0, 0, 4, 1, 8, 40, 50.0));

    let join = |uid: &str, count: &str| {
        ev(
            "QueueCallerJoin",
            &[("Queue", "q1"), ("Uniqueid", uid), ("Count", count)],
        )
    };
    s.apply(&join("1.1", "1"));
    tokio::time::advance(Duration::from_secs(20)).await;
    s.apply(&join("1.2", "2"));
    tokio::time::advance(Duration::from_secs(12)).await;
    assert_eq!(queue_summary(&s), summary(2, 32, 4, 1, 8, 40, 50.0));

    let abandon = [("Queue", "q1"), ("Uniqueid", "1.2"), ("HoldTime", "12")];
    s.apply(&ev("QueueCallerAbandon", &abandon));
    s.apply(&ev(
        "QueueCallerLeave",
        &[("Queue", "q1"), ("Uniqueid", "1.2"), ("Count", "1")],
    ));
    assert_eq!(queue_summary(&s), summary(1, 32, 4, 2, 8, 40, 50.0));

    // 147 answers the first caller after 32 s: hold time (3 * 8 + 32) / 4 = 14.
    let call = [
        ("Queue", "q1"),
        ("Uniqueid", "1.1"),
        ("Interface", "PJSIP/147"),
        ("DestUniqueid", "1.3"),
        ("HoldTime", "32"),
    ];
    s.apply(&ev("AgentConnect", &call));
    s.apply(&ev(
        "QueueCallerLeave",
        &[("Queue", "q1"), ("Uniqueid", "1.1"), ("Count", "0")],
    ));
    assert_eq!(queue_summary(&s), summary(0, 0, 4, 2, 14, 40, 50.0));

    // It ends after 60 s: completed, outside the service level; talk (3 * 40 + 60) / 4 = 45.
    let mut complete = call.to_vec();
    complete.extend([("TalkTime", "60"), ("Reason", "caller")]);
    s.apply(&ev("AgentComplete", &complete));
    assert_eq!(queue_summary(&s), summary(0, 0, 5, 2, 14, 45, 40.0));
}

#[tokio::test(start_paused = true)]
async fn a_waiting_caller_in_the_list_keeps_its_wait_and_members_their_figures() {
    let mut s = rebuilt();
    let entry = [("Queue", "q1"), ("Uniqueid", "1.9"), ("Wait", "75")];
    s.apply(&ev("QueueEntry", &entry));
    tokio::time::advance(Duration::from_secs(5)).await;
    let Event::QueueSummary { longest_wait, .. } = queue_summary(&s) else {
        unreachable!()
    };
    assert_eq!(longest_wait, 80);

    s.apply(&ev(
        "QueueMemberStatus",
        &[
            ("Queue", "q1"),
            ("Interface", "PJSIP/147"),
            ("CallsTaken", "3"),
            ("LastCall", "1700000000"),
            ("InCall", "1"),
            ("Status", "2"),
            ("Paused", "0"),
        ],
    ));
    let ours = summary_events(&s, Instant::now())
        .into_iter()
        .find(|e| matches!(e, Event::MemberSummary { agent, .. } if agent == &AgentId::parse("147").unwrap()));
    let Some(Event::MemberSummary {
        calls_taken,
        last_call,
        incall,
        paused,
        member_name,
        location,
        ..
    }) = ours
    else {
        panic!("no member summary for 147");
    };
    assert_eq!(
        (calls_taken, last_call, incall, paused),
        (3, 1_700_000_000, true, false)
    );
    assert_eq!(
        (member_name.as_str(), location.as_str()),
        ("Agent 147", "PJSIP/147")
    );
    let Event::QueueSummary { available, .. } = queue_summary(&s) else {
        unreachable!()
    };
    assert_eq!(available, 0, "147 is in use now");
}

#[tokio::test(start_paused = true)]
async fn a_queue_reset_zeroes_the_figures_of_that_queue_only() {
    let mut s = rebuilt();
    s.apply(&ev("QueueParams", &[("Queue", "q2"), ("Completed", "9")]));
    s.reset_stats(Some(&QueueName::parse("q1").unwrap()));
    assert_eq!(queue_summary(&s), summary(0, 0, 0, 0, 0, 0, 0.0));
    let q2 = s.queues().get(&QueueName::parse("q2").unwrap()).unwrap();
    assert_eq!(q2.stats.completed, 9, "another queue keeps its figures");
    let calls: Vec<u64> = summary_events(&s, Instant::now())
        .into_iter()
        .filter_map(|e| match e {
            Event::MemberSummary { calls_taken, .. } => Some(calls_taken),
            _ => None,
        })
        .collect();
    assert_eq!(calls, [0, 0, 0, 0]);
}
