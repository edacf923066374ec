//! The hub at the end of the real pipeline: the simulated Asterisk on 127.0.0.1 port 0, the AMI
//! client over TCP, the model task publishing into the hub as its `EventSink`. A queue call
//! answered by agent 147 reaches an agent-only ticket as `phoneNumber` with the queue as a
//! detail, and a queue-only ticket as `queueCount`, each with its snapshot first.

use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

use pbxis_ws::ami::client::{connect, AmiConfig};
use pbxis_ws::hub::{Delivery, Hub, HubConfig, Subscription, TicketId};
use pbxis_ws::pbx::service::{spawn, PbxConfig, PbxHandle};
use pbxis_ws::pbx::{AgentId, Filter, QueueName};
use pbxis_ws::sim::{self, SimConfig};

const WAIT: Duration = Duration::from_secs(20);

async fn ticket(pbx: &PbxHandle, hub: &Hub, filter: Filter) -> TicketId {
    let hub = hub.clone();
    let f = filter.clone();
    pbx.subscribe(filter, move |snapshot| hub.create_ticket(f, snapshot, None))
        .await
        .unwrap()
        .unwrap()
}

/// Reads the stream until an event satisfies `done`; returns everything read.
async fn until(sub: &mut Subscription, done: impl Fn(&Delivery) -> bool) -> Vec<Delivery> {
    let mut got = Vec::new();
    timeout(WAIT, async {
        loop {
            let d = sub.recv().await.expect("stream ended").delivery;
            let stop = done(&d);
            got.push(d);
            if stop {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not seen; got {:?}", types(&got)));
    got
}

fn types(ds: &[Delivery]) -> Vec<&str> {
    ds.iter().map(Delivery::type_name).collect()
}

#[tokio::test]
async fn a_queue_call_reaches_agent_and_queue_tickets() {
    let sim = sim::start(SimConfig::quiet(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    sim.set_answer_delay("147", Some(Duration::from_millis(200)));
    sim.set_answer_delay("148", None);
    let (ami, events) = connect(AmiConfig::new(
        "127.0.0.1",
        sim.addr().port(),
        "pbxis",
        "pbxis",
    ));
    let hub = Hub::new(HubConfig::default());
    let pbx = spawn(ami, events, Arc::new(hub.clone()), PbxConfig::default());
    timeout(WAIT, async {
        while !pbx.link().ready {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the model never became ready");

    let agent_only = ticket(
        &pbx,
        &hub,
        Filter::new([AgentId::parse("147").unwrap()], []),
    )
    .await;
    let queue_only = ticket(
        &pbx,
        &hub,
        Filter::new([], [QueueName::parse("q1").unwrap()]),
    )
    .await;
    let mut agent_sub = hub.attach(agent_only.as_str()).unwrap();
    let mut queue_sub = hub.attach(queue_only.as_str()).unwrap();

    sim.inbound_call("q1", "5551234", Some("Alice")).await;

    let got = until(&mut agent_sub, |d| {
        d.type_name() == "phoneNumber" && d.json().contains("5551234")
    })
    .await;
    assert_eq!(
        got[0].type_name(),
        "pbxStatus",
        "snapshot first: {:?}",
        types(&got)
    );
    let call = got.last().unwrap();
    assert!(call.json().contains(r#""agent":"147""#), "{}", call.json());
    assert!(call.json().contains(r#""queue":"q1""#), "{}", call.json());
    let agent_types = [
        "agentName",
        "extensionStatus",
        "phoneNumber",
        "agentComplete",
        "originateFailed",
        "pbxStatus",
    ];
    assert!(
        got.iter().all(|d| agent_types.contains(&d.type_name())),
        "an agent-only ticket got a queue-scoped event: {:?}",
        types(&got)
    );

    let got = until(&mut queue_sub, |d| d.json().contains(r#""count":1"#)).await;
    assert!(
        got.iter()
            .all(|d| ["queueCount", "queueCallers", "pbxStatus"].contains(&d.type_name())),
        "a queue-only ticket got an agent-scoped event: {:?}",
        types(&got)
    );
    pbx.shutdown().await;
    sim.shutdown().await;
}
