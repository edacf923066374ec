//! Property of the model against the simulated Asterisk over real TCP: after random
//! call-center activity (calls, pauses, log-ons and -offs, hang-ups, slow answers, originates),
//! the model's subscriber view equals the view rebuilt from scratch by the list actions on a
//! second connection.

use crate::support::model_tcp as rig;

use std::time::Duration;

use pbxis_ws::pbx::service::QueueAction;
use pbxis_ws::pbx::{AgentId, PauseReason, QueueName};
use proptest::prelude::*;
use rig::{rig, stable_sim, Rig, AGENTS, QUEUES};

#[derive(Clone, Debug)]
enum Op {
    Call(usize, u32),
    Pause(usize, usize, bool),
    Remove(usize, usize),
    Add(usize, usize),
    Hangup(usize),
    AnswerDelay(usize, Option<u64>),
    Originate(usize, u32),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 0..1000u32).prop_map(|(q, n)| Op::Call(q, n)),
        2 => (0..3usize, 0..2usize, any::<bool>()).prop_map(|(a, q, p)| Op::Pause(a, q, p)),
        1 => (0..3usize, 0..2usize).prop_map(|(a, q)| Op::Remove(a, q)),
        1 => (0..3usize, 0..2usize).prop_map(|(a, q)| Op::Add(a, q)),
        2 => (0..8usize).prop_map(Op::Hangup),
        1 => (0..3usize, proptest::option::of(1..4u64)).prop_map(|(a, d)| Op::AnswerDelay(a, d)),
        1 => (0..3usize, 0..1000u32).prop_map(|(a, n)| Op::Originate(a, n)),
        2 => (1..400u64).prop_map(Op::Wait),
    ]
}

async fn run_op(r: &Rig, op: &Op) {
    let agent = |i: usize| AgentId::parse(AGENTS[i]).unwrap();
    let queue = |i: usize| QueueName::parse(QUEUES[i]).unwrap();
    match op {
        Op::Call(q, n) => {
            r.sim
                .inbound_call(QUEUES[*q], &format!("0911{n:06}"), Some("Caller"))
                .await;
        }
        Op::Pause(a, q, paused) => {
            let reason = paused.then(|| PauseReason::parse("lunch").unwrap());
            let action = QueueAction::Pause {
                queue: queue(*q),
                agent: agent(*a),
                paused: *paused,
                reason,
            };
            let _ = r.pbx.queue_action(action).await;
        }
        Op::Remove(a, q) => {
            let _ = r
                .pbx
                .queue_action(QueueAction::Remove {
                    queue: queue(*q),
                    agent: agent(*a),
                })
                .await;
        }
        Op::Add(a, q) => {
            let action = QueueAction::Add {
                queue: queue(*q),
                agent: agent(*a),
                member_name: None,
                paused: None,
            };
            let _ = r.pbx.queue_action(action).await;
        }
        Op::Hangup(i) => {
            let calls = r.sim.truth().await.calls;
            if let Some(c) = calls.get(*i % calls.len().max(1)) {
                r.sim.hangup(&c.uniqueid).await;
            }
        }
        Op::AnswerDelay(a, d) => r
            .sim
            .set_answer_delay(AGENTS[*a], d.map(Duration::from_secs)),
        Op::Originate(a, n) => {
            let dest = pbxis_ws::pbx::Destination::parse(&format!("1562{n:03}")).unwrap();
            let _ = r
                .pbx
                .originate(agent(*a), dest, None, Default::default())
                .await;
        }
        Op::Wait(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 8, ..ProptestConfig::default() })]

    #[test]
    fn random_activity_then_model_equals_rebuild(ops in proptest::collection::vec(op(), 1..25)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let r = rig(stable_sim()).await;
            for op in &ops {
                run_op(&r, op).await;
            }
            r.assert_converges().await;
            r.sim.shutdown().await;
        });
    }
}
