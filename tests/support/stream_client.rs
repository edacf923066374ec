//! A resuming client of the three transports, as an integrator would write one: it reads a
//! ticket's stream, applies each event (remembering its id), and when the connection breaks it
//! reconnects with `lastEventId` (long-poll: on every poll, which acknowledges). It keeps every
//! event it applied, in order, and folds them into a [`View`] of the call center, which a
//! `resync` empties.

#![allow(dead_code)]

use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Which stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    LongPoll,
    Sse,
    WebSocket,
}

impl Transport {
    pub const ALL: [Transport; 3] = [Transport::LongPoll, Transport::Sse, Transport::WebSocket];

    pub fn path(self) -> &'static str {
        match self {
            Transport::LongPoll => "long-poll",
            Transport::Sse => "sse",
            Transport::WebSocket => "websocket",
        }
    }
}

/// One applied event: its id and the event without it.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub id: Option<String>,
    pub event: Value,
}

/// What the client believes: the latest value of every (type, scope) it was told.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View(pub BTreeMap<String, Value>);

impl View {
    /// Applies one event: `resync` empties the view, state events set their key.
    pub fn apply(&mut self, event: &Value) {
        let kind = event["type"].as_str().unwrap_or("");
        match kind {
            "resync" => self.0.clear(),
            "agentName" | "extensionStatus" | "queueMemberStatus" | "phoneNumber"
            | "queueCount" | "pbxStatus" => {
                let key = format!(
                    "{kind}/{}/{}",
                    event["agent"].as_str().unwrap_or(""),
                    event["queue"].as_str().unwrap_or("")
                );
                let key = if kind == "phoneNumber" {
                    format!("{kind}/{}", event["agent"].as_str().unwrap_or(""))
                } else {
                    key
                };
                self.0.insert(key, event.clone());
            }
            _ => {}
        }
    }

    /// The member status of `agent` in `queue`, if told.
    pub fn member(&self, agent: &str, queue: &str) -> Option<&str> {
        self.0
            .get(&format!("queueMemberStatus/{agent}/{queue}"))
            .and_then(|e| e["status"].as_str())
    }
}

/// A client of one ticket.
pub struct StreamClient {
    pub transport: Transport,
    pub base: String,
    pub ticket: String,
    pub last_id: Option<String>,
    pub applied: Vec<Applied>,
    pub view: View,
    /// Connections (long-poll: requests) opened.
    pub connects: usize,
    /// Connections that broke (long-poll: requests that got no whole answer).
    pub breaks: usize,
    http: reqwest::Client,
}

/// How one connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// `done` was satisfied.
    Done,
    /// The connection broke or ended; reconnect.
    Broken,
    /// A long poll was answered; poll again.
    Answered,
    /// The server closed the stream (`closed`), with this reason.
    Closed(String),
}

impl StreamClient {
    pub fn new(transport: Transport, base: &str, ticket: &str) -> Self {
        StreamClient {
            transport,
            base: base.to_owned(),
            ticket: ticket.to_owned(),
            last_id: None,
            applied: Vec::new(),
            view: View::default(),
            connects: 0,
            breaks: 0,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    fn url(&self) -> String {
        let mut url = format!("{}/{}/{}", self.base, self.ticket, self.transport.path());
        // "0" until an event was applied: a broken first connection may have taken some.
        let id = self.last_id.as_deref().unwrap_or("0");
        url.push_str(&format!("?lastEventId={id}"));
        url
    }

    /// Applies one event (its `id` taken off); true when `done` says so.
    fn apply(&mut self, mut event: Value, done: &impl Fn(&Value) -> bool) -> bool {
        let id = event
            .as_object_mut()
            .and_then(|o| o.remove("id"))
            .and_then(|v| v.as_str().map(str::to_owned));
        if let Some(id) = &id {
            self.last_id = Some(id.clone());
        }
        self.view.apply(&event);
        let finished = done(&event);
        self.applied.push(Applied { id, event });
        finished
    }

    /// Reads, reconnecting after every break, until `done` holds for an applied event, or the
    /// stream is closed, or `patience` runs out (panics then).
    pub async fn run_until(&mut self, patience: Duration, done: impl Fn(&Value) -> bool) -> End {
        let reading = async {
            loop {
                match self.connect_once(&done).await {
                    End::Broken | End::Answered => continue,
                    end => return end,
                }
            }
        };
        match tokio::time::timeout(patience, reading).await {
            Ok(end) => end,
            Err(_) => panic!(
                "{:?} client: not done in time; applied {:?}",
                self.transport,
                self.applied.iter().map(|a| &a.event).collect::<Vec<_>>()
            ),
        }
    }

    /// One connection.
    pub async fn connect_once(&mut self, done: &impl Fn(&Value) -> bool) -> End {
        self.connects += 1;
        let end = match self.transport {
            Transport::LongPoll => self.long_poll(done).await,
            Transport::Sse => self.sse(done).await,
            Transport::WebSocket => self.websocket(done).await,
        };
        if end == End::Broken {
            self.breaks += 1;
        }
        end
    }

    async fn long_poll(&mut self, done: &impl Fn(&Value) -> bool) -> End {
        let Ok(response) = self.http.get(self.url()).send().await else {
            return End::Broken;
        };
        if response.status() == 404 {
            return End::Closed("unknownTicket".into());
        }
        let Ok(events) = response.json::<Vec<Value>>().await else {
            return End::Broken;
        };
        self.apply_all(events, done)
    }

    fn apply_all(&mut self, events: Vec<Value>, done: &impl Fn(&Value) -> bool) -> End {
        for event in events {
            if event["type"] == "closed" {
                return End::Closed(event["reason"].as_str().unwrap_or("").to_owned());
            }
            if self.apply(event, done) {
                return End::Done;
            }
        }
        End::Answered
    }

    async fn sse(&mut self, done: &impl Fn(&Value) -> bool) -> End {
        let Ok(response) = self.http.get(self.url()).send().await else {
            return End::Broken;
        };
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let Some(event) = sse_event(&block) else {
                    continue;
                };
                if event["type"] == "closed" || event["type"] == "close" {
                    return End::Closed(event["reason"].as_str().unwrap_or("").to_owned());
                }
                if self.apply(event, done) {
                    return End::Done;
                }
            }
        }
        End::Broken
    }

    async fn websocket(&mut self, done: &impl Fn(&Value) -> bool) -> End {
        let url = self.url().replacen("http://", "ws://", 1);
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            return End::Broken;
        };
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<Value>(&text) else {
                return End::Broken;
            };
            if event["type"] == "closed" {
                return End::Closed(event["reason"].as_str().unwrap_or("").to_owned());
            }
            if self.apply(event, done) {
                return End::Done;
            }
        }
        End::Broken
    }

    /// The applied events without ids.
    pub fn events(&self) -> Vec<Value> {
        self.applied.iter().map(|a| a.event.clone()).collect()
    }

    /// The sequence numbers of the applied ids.
    pub fn seqs(&self) -> Vec<u64> {
        self.applied
            .iter()
            .filter_map(|a| a.id.as_deref())
            .map(|id| id.rsplit_once('-').unwrap().1.parse().unwrap())
            .collect()
    }
}

/// An SSE block as `{"type": event, ...data, "id": id}`; `None` for a comment.
fn sse_event(block: &str) -> Option<Value> {
    let (mut kind, mut data, mut id) = (None, String::new(), None);
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            kind = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        } else if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().to_owned());
        }
    }
    let kind = kind?;
    let mut object: Map<String, Value> = serde_json::from_str(&data).unwrap_or_default();
    object.insert("type".into(), Value::String(kind));
    if let Some(id) = id {
        object.insert("id".into(), Value::String(id));
    }
    Some(Value::Object(object))
}
