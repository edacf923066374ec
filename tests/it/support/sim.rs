//! Shared helpers of the simulator tests: a small AMI client over real TCP (our codec in the
//! client direction) and the reading of recorded transcripts into (event, keys) sequences.

#![allow(dead_code)]

pub mod order;

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pbxis_ws::ami::codec::{AmiCodec, AmiFrame};
use pbxis_ws::ami::message::AmiMessage;
use pbxis_ws::ami::transcript::{self, Direction};
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Starts a simulator on 127.0.0.1 port 0.
pub async fn start(config: SimConfig) -> SimHandle {
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

/// A test AMI client. Events read while waiting for a response are kept in `pending`.
pub struct Client {
    framed: Framed<TcpStream, AmiCodec>,
    pub banner: String,
    pub pending: VecDeque<AmiMessage>,
    /// Every event received, in order (responses excluded).
    pub seen: Vec<AmiMessage>,
    /// Every message received, in order (responses included).
    pub all: Vec<AmiMessage>,
    seq: u64,
    pub timeout: Duration,
}

impl Client {
    /// Connects and reads the banner.
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut framed = Framed::new(stream, AmiCodec::client());
        let banner = match tokio::time::timeout(Duration::from_secs(600), framed.next()).await {
            Ok(Some(Ok(AmiFrame::Banner(b)))) => b,
            other => panic!("expected a banner, got {other:?}"),
        };
        Client {
            framed,
            banner,
            pending: VecDeque::new(),
            seen: Vec::new(),
            all: Vec::new(),
            seq: 0,
            timeout: Duration::from_secs(600),
        }
    }

    /// Connects and logs in as pbxis/pbxis.
    pub async fn logged_in(addr: SocketAddr) -> Client {
        let mut c = Client::connect(addr).await;
        let r = c
            .action(
                AmiMessage::action("Login")
                    .with("Username", "pbxis")
                    .with("Secret", "pbxis"),
            )
            .await;
        assert_eq!(r.message(), Some("Authentication accepted"), "{r:?}");
        c
    }

    /// Sends a message as is.
    pub async fn send(&mut self, msg: AmiMessage) {
        self.framed.send(msg).await.expect("send");
    }

    /// The next message from the wire; `None` at end of stream or after the timeout.
    pub async fn recv_raw(&mut self) -> Option<AmiMessage> {
        loop {
            match tokio::time::timeout(self.timeout, self.framed.next()).await {
                Ok(Some(Ok(AmiFrame::Message(m)))) => {
                    self.all.push(m.clone());
                    if m.event_name().is_some() {
                        self.seen.push(m.clone());
                    }
                    return Some(m);
                }
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    /// The next event (pending ones first).
    pub async fn next_event(&mut self) -> Option<AmiMessage> {
        if let Some(m) = self.pending.pop_front() {
            return Some(m);
        }
        loop {
            let m = self.recv_raw().await?;
            if m.event_name().is_some() {
                return Some(m);
            }
        }
    }

    /// Waits for an event matching `pred`, keeping the others in order in `pending`.
    pub async fn wait_for(&mut self, pred: impl Fn(&AmiMessage) -> bool) -> AmiMessage {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let m = self.recv_raw().await.expect("event before timeout / EOF");
            if m.event_name().is_some() && pred(&m) {
                return m;
            }
            if m.event_name().is_some() {
                self.pending.push_back(m);
            }
        }
    }

    /// Waits for the event named `name`.
    pub async fn wait_event(&mut self, name: &str) -> AmiMessage {
        let name = name.to_owned();
        self.wait_for(move |m| m.is_event(&name)).await
    }

    /// Sends an action with a fresh ActionID (unless it has one) and returns its response;
    /// events read meanwhile go to `pending`.
    pub async fn action(&mut self, mut msg: AmiMessage) -> AmiMessage {
        if msg.action_id().is_none() {
            self.seq += 1;
            msg.push("ActionID", &format!("t-{}", self.seq));
        }
        let id = msg.action_id().unwrap_or_default().to_owned();
        self.send(msg).await;
        loop {
            let m = self
                .recv_raw()
                .await
                .expect("response before timeout / EOF");
            if m.response_status().is_some() && m.action_id() == Some(id.as_str()) {
                return m;
            }
            if m.event_name().is_some() && m.action_id() != Some(id.as_str()) {
                self.pending.push_back(m);
            }
        }
    }

    /// A list action: the response and the items up to (excluding) the `...Complete` event,
    /// which is returned last.
    pub async fn list(&mut self, msg: AmiMessage) -> (AmiMessage, Vec<AmiMessage>, AmiMessage) {
        let r = self.action(msg).await;
        let id = r.action_id().unwrap_or_default().to_owned();
        let mut items = Vec::new();
        loop {
            let m = self.recv_raw().await.expect("list item");
            if m.action_id() != Some(id.as_str()) {
                self.pending.push_back(m);
                continue;
            }
            if m.get("EventList") == Some("Complete") {
                return (r, items, m);
            }
            items.push(m);
        }
    }

    /// Reads (into `all` and `seen`) until `deadline`; false when the stream ended.
    pub async fn drain_until(&mut self, deadline: tokio::time::Instant) -> bool {
        loop {
            match tokio::time::timeout_at(deadline, self.framed.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(AmiFrame::Message(m)))) => {
                    self.all.push(m.clone());
                    if m.event_name().is_some() {
                        self.seen.push(m);
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(None) | Ok(Some(Err(_))) => return false,
            }
        }
    }

    /// True when the server closed the connection (EOF within the timeout).
    pub async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(self.timeout, self.framed.next()).await {
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// The (event name, key set) of a message (every key after the first).
pub fn shape(m: &AmiMessage) -> (String, BTreeSet<String>) {
    let name = m.event_name().unwrap_or("").to_owned();
    let keys = m.fields().skip(1).map(|(k, _)| k.to_owned()).collect();
    (name, keys)
}

/// The messages the server sent on connection `conn` of a recorded scenario.
pub fn recorded(file: &str, conn: &str) -> Vec<AmiMessage> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).expect("fixture");
    let chunks = transcript::parse(&data).expect("transcript");
    let bytes = transcript::stream(&chunks, conn, Direction::ServerToClient);
    let mut codec = AmiCodec::client();
    let mut buf = bytes::BytesMut::from(&bytes[..]);
    let mut out = Vec::new();
    while let Ok(Some(frame)) = tokio_util::codec::Decoder::decode(&mut codec, &mut buf) {
        if let AmiFrame::Message(m) = frame {
            out.push(m);
        }
    }
    out
}

/// The actions a client sent on connection `conn` of a recorded scenario, with the second
/// each was sent at.
pub fn recorded_actions(file: &str, conn: &str) -> Vec<(f64, AmiMessage)> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(&path).expect("fixture");
    let chunks = transcript::parse(&data).expect("transcript");
    let mut out = Vec::new();
    for c in chunks
        .iter()
        .filter(|c| c.conn == conn && c.direction == Direction::ClientToServer)
    {
        let mut codec = AmiCodec::server();
        let mut buf = bytes::BytesMut::from(&c.bytes[..]);
        while let Ok(Some(frame)) = tokio_util::codec::Decoder::decode(&mut codec, &mut buf) {
            if let AmiFrame::Message(m) = frame {
                out.push((c.t, m));
            }
        }
    }
    out
}

/// Replays the actions of a recorded connection against the simulator at the recorded pace
/// (on a paused clock the waits cost nothing), then reads for `tail` more; returns the client
/// with everything it received.
pub async fn replay(addr: SocketAddr, file: &str, conn: &str, tail: Duration) -> Client {
    replay_with(addr, file, conn, tail, |_, _| {}).await
}

/// [`replay`], with `rewrite` adjusting each action (given everything received so far) before
/// it is sent, e.g. to name a channel the simulator created.
pub async fn replay_with(
    addr: SocketAddr,
    file: &str,
    conn: &str,
    tail: Duration,
    rewrite: impl Fn(&mut AmiMessage, &[AmiMessage]),
) -> Client {
    let mut c = Client::connect(addr).await;
    let actions = recorded_actions(file, conn);
    let t0 = actions.first().map_or(0.0, |(t, _)| *t);
    let start = tokio::time::Instant::now();
    for (t, mut action) in actions {
        let at = start + Duration::from_secs_f64((t - t0).max(0.0));
        if !c.drain_until(at).await {
            break;
        }
        rewrite(&mut action, &c.all);
        c.send(action).await;
    }
    c.drain_until(tokio::time::Instant::now() + tail).await;
    c
}

/// `(Response, Message)` of every response, in order.
pub fn responses(msgs: &[AmiMessage]) -> Vec<(String, Option<String>)> {
    msgs.iter()
        .filter_map(|m| {
            let status = m.response_status()?;
            Some((status.to_owned(), m.message().map(str::to_owned)))
        })
        .collect()
}

/// Events relevant to a call center (the rest is dialplan noise: `Newexten`, `VarSet`,
/// `Cdr`, `LocalBridge`, caller-id updates, music on hold, security events).
pub const RELEVANT: &[&str] = &[
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "QueueMemberStatus",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberPenalty",
    "DeviceStateChange",
    "ExtensionStatus",
    "DialBegin",
    "DialState",
    "DialEnd",
    "BridgeCreate",
    "BridgeEnter",
    "BridgeLeave",
    "BridgeDestroy",
    "Newchannel",
    "Newstate",
    "Hangup",
    "HangupRequest",
    "OriginateResponse",
    "QueueParams",
    "QueueMember",
    "QueueEntry",
    "QueueStatusComplete",
    "QueueSummary",
    "QueueSummaryComplete",
    "ExtensionStateListComplete",
    "DeviceStateListComplete",
    "CoreShowChannel",
    "CoreShowChannelsComplete",
    "Status",
    "StatusComplete",
];

/// Queue and agent milestones: their order is the call flow.
pub const MILESTONES: &[&str] = &[
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
];

/// The shapes of the events named in `names`, in order.
pub fn shapes(msgs: &[AmiMessage], names: &[&str]) -> Vec<(String, BTreeSet<String>)> {
    msgs.iter()
        .filter(|m| m.event_name().is_some_and(|n| names.contains(&n)))
        .map(shape)
        .collect()
}

/// Asserts that every relevant event the simulator sent has a key set recorded for that
/// event, and that every (event, key set) of the recording was produced by the simulator.
/// Events on the `;2` halves of the agents' Local channels (the recorded rig's phone
/// dialplan, which a PJSIP phone has not) are left out of the recording.
pub fn assert_same_keys(sim: &[AmiMessage], rec: &[AmiMessage]) {
    let rec: Vec<AmiMessage> = rec
        .iter()
        .filter(|m| !m.get("Channel").is_some_and(order::is_agent_phone_half))
        .cloned()
        .collect();
    let rec_shapes: BTreeSet<_> = shapes(&rec, RELEVANT).into_iter().collect();
    let sim_shapes: BTreeSet<_> = shapes(sim, RELEVANT).into_iter().collect();
    for (name, keys) in &sim_shapes {
        assert!(
            rec_shapes.contains(&(name.clone(), keys.clone())),
            "{name} with keys {keys:?} is not in the recording"
        );
    }
    for (name, keys) in &rec_shapes {
        assert!(
            sim_shapes.contains(&(name.clone(), keys.clone())),
            "the simulator never sent {name} with keys {keys:?}"
        );
    }
}

/// Asserts that the queue/agent milestones come in the recorded order with the recorded keys.
pub fn assert_same_milestones(sim: &[AmiMessage], rec: &[AmiMessage]) {
    let s = shapes(sim, MILESTONES);
    let r = shapes(rec, MILESTONES);
    let names =
        |v: &[(String, BTreeSet<String>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&s), names(&r), "milestone order differs");
    assert_eq!(s, r, "milestone keys differ");
}
