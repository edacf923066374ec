//! A resuming client of the three transports, as an integrator would write one: it reads a
//! ticket's stream, applies each event (remembering its id), and when the connection breaks it
//! reconnects with `lastEventId` (long-poll: on every poll, which acknowledges). It keeps every
//! event it applied, in order, and folds them into a [`View`] of the call center, which a
//! `resync` empties.
//!
//! Behind a load balancer ([`StreamClient::through_balancer`]) it also does what `pbxis.js`
//! does: it keeps the balancer's cookies (stickiness) like a browser, reconnects on the same
//! ticket when its instance closes the stream for a shutdown, and when the ticket is unknown
//! where it reconnected it takes a new ticket from the balancer, whose snapshot replaces its
//! state; every such gap is recorded in `gaps`.

#![allow(dead_code)]

use super::stream_view;

use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

#[allow(unused_imports)]
pub use stream_view::{
    member_truth, parse_id, problems, Applied, Cookies, Gap, GapKind, PairStatus, View,
};

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
    /// The gaps it was told of: `resync`s, and new tickets taken when its ticket was unknown.
    pub gaps: Vec<Gap>,
    /// Cookies set by the balancer (its stickiness), sent back on every request.
    pub cookies: Cookies,
    /// The body of `POST /ticket` when it takes its own tickets (behind a balancer).
    renew: Option<Value>,
    /// Connections in a row that applied nothing: paces reconnects to a service that is down.
    fruitless: u32,
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

/// What `done` is asked after each applied event: the view so far and the event.
type Done<'a> = &'a (dyn Fn(&View, &Value) -> bool + Sync);

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
            gaps: Vec::new(),
            cookies: Cookies::default(),
            renew: None,
            fruitless: 0,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    /// A client behind a balancer at `base`: it takes its ticket for `filter` (the body of
    /// `POST /ticket`) there, starting with `cookie` (name, value) if given, and takes a new one
    /// whenever its ticket is unknown where it reconnects.
    pub async fn through_balancer(
        transport: Transport,
        base: &str,
        filter: Value,
        cookie: Option<(&str, &str)>,
        patience: Duration,
    ) -> Self {
        let mut client = StreamClient::new(transport, base, "");
        client.renew = Some(filter);
        if let Some((name, value)) = cookie {
            client.cookies.0.insert(name.to_owned(), value.to_owned());
        }
        client.ticket = tokio::time::timeout(patience, client.take_ticket())
            .await
            .expect("a ticket from the balancer");
        client
    }

    fn url(&self) -> String {
        let mut url = format!("{}/{}/{}", self.base, self.ticket, self.transport.path());
        // "0" until an event was applied: a broken first connection may have taken some.
        let id = self.last_id.as_deref().unwrap_or("0");
        url.push_str(&format!("?lastEventId={id}"));
        url
    }

    fn get(&self) -> reqwest::RequestBuilder {
        let request = self.http.get(self.url());
        match self.cookies.header() {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    /// `POST /ticket` at the balancer until it answers a ticket (an instance may be dying).
    async fn take_ticket(&mut self) -> String {
        let filter = self
            .renew
            .clone()
            .expect("a client that takes its own tickets");
        let mut attempts = 0;
        loop {
            let mut request = self
                .http
                .post(format!("{}/ticket", self.base))
                .json(&filter);
            if let Some(cookie) = self.cookies.header() {
                request = request.header("cookie", cookie);
            }
            if let Ok(response) = request.send().await {
                let set = response.headers().get_all("set-cookie");
                self.cookies.remember(set.iter().map(|v| v.as_bytes()));
                if response.status() == 200 {
                    if let Ok(ticket) = response.json::<String>().await {
                        return ticket;
                    }
                }
            }
            attempts += 1;
            tokio::time::sleep(backoff(attempts)).await;
        }
    }

    /// The ticket is unknown here: a new one, whose snapshot replaces the state (a gap).
    async fn renew_ticket(&mut self) {
        self.ticket = self.take_ticket().await;
        self.last_id = None;
        self.view = View::default();
        self.gaps.push(Gap {
            at: self.applied.len(),
            kind: GapKind::NewTicket,
        });
    }

    /// Applies one event (its `id` taken off); true when `done` says so.
    fn apply(&mut self, mut event: Value, done: Done) -> bool {
        let id = event
            .as_object_mut()
            .and_then(|o| o.remove("id"))
            .and_then(|v| v.as_str().map(str::to_owned));
        if let Some(id) = &id {
            self.last_id = Some(id.clone());
        }
        if event["type"] == "resync" {
            let reason = event["reason"].as_str().unwrap_or("").to_owned();
            self.gaps.push(Gap {
                at: self.applied.len(),
                kind: GapKind::Resync(reason),
            });
        }
        self.view.apply(&event);
        let finished = done(&self.view, &event);
        self.applied.push(Applied {
            id,
            event,
            ticket: self.ticket.clone(),
        });
        finished
    }

    /// Reads, reconnecting after every break, until `done` holds for an applied event, or the
    /// stream is closed, or `patience` runs out (panics then).
    pub async fn run_until(
        &mut self,
        patience: Duration,
        done: impl Fn(&Value) -> bool + Sync,
    ) -> End {
        self.run_until_view(patience, move |_, event| done(event))
            .await
    }

    /// As [`StreamClient::run_until`], with `done` asked of the view after each event. Behind
    /// a balancer, a stream closed for a shutdown is resumed (elsewhere), and an unknown ticket
    /// is replaced by a new one; other closings end the run.
    pub async fn run_until_view(
        &mut self,
        patience: Duration,
        done: impl Fn(&View, &Value) -> bool + Sync,
    ) -> End {
        let reading = async {
            loop {
                let end = self.connect(&done).await;
                let renewing = self.renew.is_some();
                match end {
                    End::Broken | End::Answered => {}
                    End::Closed(reason) if renewing && reason == "unknownTicket" => {
                        self.renew_ticket().await;
                    }
                    End::Closed(reason) if renewing && reason == "shutdown" => {}
                    end => return end,
                }
                // Behind a balancer, as pbxis.js does: a pause after connections that brought
                // nothing (an instance going away); elsewhere reconnect at once.
                if renewing && self.fruitless > 1 {
                    tokio::time::sleep(backoff(self.fruitless - 1)).await;
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
    pub async fn connect_once(&mut self, done: &(impl Fn(&Value) -> bool + Sync)) -> End {
        self.connect(&|_, event| done(event)).await
    }

    async fn connect(&mut self, done: Done<'_>) -> End {
        self.connects += 1;
        let before = self.applied.len();
        let end = match self.transport {
            Transport::LongPoll => self.long_poll(done).await,
            Transport::Sse => self.sse(done).await,
            Transport::WebSocket => self.websocket(done).await,
        };
        if end == End::Broken {
            self.breaks += 1;
        }
        if self.applied.len() > before {
            self.fruitless = 0;
        } else {
            self.fruitless += 1;
        }
        end
    }

    async fn long_poll(&mut self, done: Done<'_>) -> End {
        let Ok(response) = self.get().send().await else {
            return End::Broken;
        };
        let set = response.headers().get_all("set-cookie");
        self.cookies.remember(set.iter().map(|v| v.as_bytes()));
        if response.status() == 404 {
            return End::Closed("unknownTicket".into());
        }
        let Ok(events) = response.json::<Vec<Value>>().await else {
            return End::Broken;
        };
        self.apply_all(events, done)
    }

    fn apply_all(&mut self, events: Vec<Value>, done: Done) -> End {
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

    async fn sse(&mut self, done: Done<'_>) -> End {
        let Ok(response) = self.get().send().await else {
            return End::Broken;
        };
        let set = response.headers().get_all("set-cookie");
        self.cookies.remember(set.iter().map(|v| v.as_bytes()));
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

    async fn websocket(&mut self, done: Done<'_>) -> End {
        let url = self.url().replacen("http://", "ws://", 1);
        let Ok(mut request) = url.as_str().into_client_request() else {
            return End::Broken;
        };
        if let Some(cookie) = self
            .cookies
            .header()
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            request.headers_mut().insert("cookie", cookie);
        }
        let Ok((mut ws, response)) = tokio_tungstenite::connect_async(request).await else {
            return End::Broken;
        };
        let set = response.headers().get_all("set-cookie");
        self.cookies.remember(set.iter().map(|v| v.as_bytes()));
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

    /// Everything wrong with what it applied (see [`problems`]); empty when all is well.
    pub fn problems(&self) -> Vec<String> {
        problems(&self.applied, &self.gaps)
    }
}

/// Pause before the `attempt`th retry: 10 ms doubling, at most 320 ms.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(10 << attempt.clamp(1, 6).saturating_sub(1))
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
