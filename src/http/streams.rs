//! What the three streams share: the client's address, the limit of concurrent streams per
//! address ([`StreamLimiter`]), the stream's query ([`StreamQuery`]: where a reconnecting
//! stream resumes, and whether it wants heartbeats), and attaching to a ticket.
//!
//! Bound: the counter map holds one entry per address with at least one open stream, so it is
//! never larger than the number of open connections; at the limit a new stream gets 429.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderName;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::error::ApiError;
use super::state::AppState;
use crate::hub::{Resume, Subscription};
use crate::telemetry::Transport;

/// The header by which an `EventSource` tells the last id it saw when it reconnects.
pub static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
/// The query parameter that does the same on every transport (it wins over the header).
pub const LAST_EVENT_ID_PARAM: &str = "lastEventId";
/// The query parameter that asks for heartbeats (`heartbeat=1`).
pub const HEARTBEAT_PARAM: &str = "heartbeat";
/// Longest id accepted (ids are far shorter; anything longer is refused with 400).
const MAX_ID_LEN: usize = 64;

/// What a stream's query asks: the id of the last event a reconnecting client applied
/// (`?lastEventId=` or the `Last-Event-ID` header), and heartbeats (`?heartbeat=1`): an event a
/// script can see (SSE `event: heartbeat`, WebSocket `{"type":"heartbeat"}`) at every keep-alive,
/// so that a client notices a link that died without a word. Other query parameters are ignored
/// (clients add cache busters); a repeated or over-long id is refused (400).
#[derive(Clone, Debug, Default)]
pub struct StreamQuery {
    /// Resume after this id.
    pub last_event_id: Option<String>,
    /// Send heartbeats.
    pub heartbeat: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for StreamQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ApiError::BadRequest("malformed query string".into()))?;
        let heartbeat = pairs
            .iter()
            .any(|(k, v)| k == HEARTBEAT_PARAM && matches!(v.as_str(), "1" | "true"));
        let mut ids = pairs.into_iter().filter(|(k, _)| k == LAST_EVENT_ID_PARAM);
        let from_query = ids.next().map(|(_, v)| v);
        if ids.next().is_some() {
            return Err(ApiError::param(LAST_EVENT_ID_PARAM, "given more than once"));
        }
        let id = match from_query {
            Some(id) => Some(id),
            None => match parts.headers.get(&LAST_EVENT_ID) {
                Some(v) => Some(
                    v.to_str()
                        .map_err(|_| ApiError::param("Last-Event-ID", "not text"))?
                        .to_owned(),
                ),
                None => None,
            },
        };
        if id.as_ref().is_some_and(|id| id.len() > MAX_ID_LEN) {
            return Err(ApiError::param(LAST_EVENT_ID_PARAM, "too long"));
        }
        // An empty id (what EventSource sends before it saw one) means none.
        Ok(StreamQuery {
            last_event_id: id.filter(|id| !id.is_empty()),
            heartbeat,
        })
    }
}

/// The client's IP address, when the server knows it (it does when serving over TCP).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// Counts open streams per client address.
#[derive(Clone, Debug)]
pub struct StreamLimiter {
    max: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    total: Arc<AtomicUsize>,
}

/// One open stream; dropping it frees its place.
#[derive(Debug)]
pub struct StreamPermit {
    addr: Option<IpAddr>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    total: Arc<AtomicUsize>,
}

impl StreamLimiter {
    /// At most `max` streams per address.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
            total: Arc::default(),
        }
    }

    /// Takes a place for a stream from `addr`, or refuses with 429.
    pub fn acquire(&self, addr: ClientAddr) -> Result<StreamPermit, ApiError> {
        let Some(ip) = addr.0 else {
            return Ok(self.permit(None));
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max {
            if *count == 0 {
                open.remove(&ip);
            }
            return Err(ApiError::TooMany(format!(
                "too many concurrent streams from this address (limit {})",
                self.max
            )));
        }
        *count += 1;
        Ok(self.permit(Some(ip)))
    }

    fn permit(&self, addr: Option<IpAddr>) -> StreamPermit {
        self.total.fetch_add(1, Ordering::Relaxed);
        StreamPermit {
            addr,
            open: self.open.clone(),
            total: self.total.clone(),
        }
    }

    /// Open streams in total.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Open streams from `ip` right now.
    pub fn open_from(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.total.fetch_sub(1, Ordering::Relaxed);
        let Some(ip) = self.addr else { return };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&ip);
            }
        }
    }
}

/// A ticket's stream, holding its place in the per-address limit.
pub struct Attached {
    /// The hub's subscription.
    pub subscription: Subscription,
    /// The place in the limit, freed on drop.
    pub permit: StreamPermit,
    /// Counted among the open streams of its transport while it lives.
    pub open: OpenStream,
}

/// One open stream in the gauge of its transport; dropping it takes it out.
pub struct OpenStream(metrics::Gauge);

impl OpenStream {
    fn new(gauge: metrics::Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// Takes a stream place for `addr` and attaches to `ticket`, resuming after `from`; with
/// `acknowledge`, what `from` confirms is forgotten (long poll). The stream and what it is
/// handed are counted under `transport`.
pub fn attach(
    state: &AppState,
    ticket: &str,
    addr: ClientAddr,
    from: &StreamQuery,
    transport: Transport,
) -> Result<Attached, ApiError> {
    let acknowledge = transport == Transport::LongPoll;
    let permit = state.streams().acquire(addr)?;
    let resume = Resume {
        last_event_id: from.last_event_id.as_deref(),
        acknowledge,
    };
    let mut subscription = state.hub().attach_resuming(ticket, resume)?;
    subscription.count_into(state.metrics().delivered(transport));
    Ok(Attached {
        subscription,
        permit,
        open: OpenStream::new(state.metrics().streams_open(transport)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_per_address_and_release() {
        let limiter = StreamLimiter::new(2);
        let a = ClientAddr(Some([10, 0, 0, 1].into()));
        let b = ClientAddr(Some([10, 0, 0, 2].into()));
        let p1 = limiter.acquire(a).unwrap();
        let _p2 = limiter.acquire(a).unwrap();
        assert!(matches!(limiter.acquire(a), Err(ApiError::TooMany(_))));
        let _pb = limiter.acquire(b).unwrap();
        drop(p1);
        assert_eq!(limiter.open_from([10, 0, 0, 1].into()), 1);
        let _p3 = limiter.acquire(a).unwrap();
        assert_eq!(limiter.total(), 3);
        assert!(limiter.acquire(ClientAddr(None)).is_ok());
        assert_eq!(limiter.total(), 3);
    }

    #[test]
    fn map_is_emptied() {
        let limiter = StreamLimiter::new(1);
        let a = ClientAddr(Some([10, 0, 0, 1].into()));
        drop(limiter.acquire(a).unwrap());
        assert!(limiter.open.lock().unwrap().is_empty());
    }
}
