//! The [`Hub`]: the map of live tickets under one std `Mutex` (never held across an `.await`),
//! fan-out of published events by filter (through a scope index, so an event visits only the
//! tickets that hold its agent or queue), attach/replace of streams, the expiry sweeper, and
//! shutdown. Lookups go through a `HashMap` keyed by the ticket's random bytes, so an unknown
//! ticket and an expired one cost the same work and give the same error: no timing oracle on
//! validity.

mod index;
mod state;
mod subscription;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::buffer::TicketBuffer;
use super::delivery::Delivery;
use super::ticket::TicketId;
use super::{HubConfig, HubError};
use crate::pbx::service::EventSink;
use crate::pbx::{Event, Filter};
use state::{Attached, State, Ticket};

pub use subscription::Subscription;

/// What the hub's clones and subscriptions share.
struct Shared {
    config: HubConfig,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the map consistent (every mutation is
        // a single step), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The tickets and their fan-out. Cheap to clone; every clone is the same hub.
///
/// ```
/// # use std::time::Duration;
/// # use pbxis_ws::hub::{Hub, HubConfig};
/// # use pbxis_ws::pbx::{Event, Filter, QueueName};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let hub = Hub::new(HubConfig::default());
/// let q1 = QueueName::parse("q1").unwrap();
/// let filter = Filter::new([], [q1.clone()]);
/// let snapshot = vec![Event::QueueCount { queue: q1.clone(), count: 0 }];
/// let ticket = hub.create_ticket(filter, snapshot, Some("wallboard")).unwrap();
/// hub.publish(&[Event::QueueCount { queue: q1, count: 1 }]);
///
/// // One long-poll request: attach, poll, drop (the expiry countdown starts).
/// let mut stream = hub.attach(ticket.as_str()).unwrap();
/// let events = stream.poll(Duration::from_secs(30), Duration::from_millis(100)).await;
/// let json: Vec<&str> = events.iter().map(|d| d.json()).collect();
/// assert_eq!(json, [
///     r#"{"type":"queueCount","queue":"q1","count":0}"#,
///     r#"{"type":"queueCount","queue":"q1","count":1}"#,
/// ]);
/// # }
/// ```
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("tickets", &self.ticket_count())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub with no tickets. Spawns its expiry sweeper on the current tokio runtime (outside a
    /// runtime there is no sweeper: expired tickets are then swept when the ticket limit is hit,
    /// and attaching to one fails all the same).
    pub fn new(config: HubConfig) -> Hub {
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::default()),
        });
        spawn_sweeper(&shared);
        Hub { shared }
    }

    /// Registers a ticket for `filter` whose stream starts with `snapshot`. `owner` (the API
    /// key's name) counts towards `max_tickets_per_owner`. A snapshot whose serialized events
    /// exceed `max_pending_bytes` refuses the ticket ([`HubError::SnapshotTooLarge`]); it is
    /// serialized one event at a time and dropped as soon as it is over.
    pub fn create_ticket(
        &self,
        filter: Filter,
        snapshot: Vec<Event>,
        owner: Option<&str>,
    ) -> Result<TicketId, HubError> {
        let config = &self.shared.config;
        let mut buffer =
            TicketBuffer::new(config.max_pending, 0).with_byte_budget(config.max_pending_bytes);
        for delivery in snapshot.iter().filter_map(Delivery::new) {
            if buffer.push_snapshot(delivery).is_err() {
                tracing::info!(owner, "ticket refused: snapshot over max_pending_bytes");
                return Err(HubError::SnapshotTooLarge);
            }
        }
        let (id, key) = TicketId::generate().ok_or(HubError::Entropy)?;
        let mut state = self.shared.lock();
        if state.shutting_down {
            return Err(HubError::ShuttingDown);
        }
        let owner = owner.map(Arc::<str>::from);
        if !state.has_room(config, owner.as_deref()) {
            state.sweep(Instant::now(), config.unsub_delay);
            if !state.has_room(config, owner.as_deref()) {
                tracing::info!(owner = owner.as_deref(), "ticket refused: limit reached");
                return Err(HubError::TooManyTickets);
            }
        }
        if state.tickets.contains_key(&key) {
            // 2^-128: a broken generator rather than bad luck.
            return Err(HubError::Entropy);
        }
        let ticket = Ticket {
            label: id.redacted(),
            filter,
            owner,
            buffer,
            stream: None,
            detached_since: Instant::now(),
        };
        tracing::debug!(ticket = %id, "ticket created");
        state.insert(key, ticket);
        Ok(id)
    }

    /// Attaches a stream to a ticket. A stream already attached is replaced: it receives
    /// `closed` (`reason: "replaced"`) and ends. Unknown, malformed and expired tickets all give
    /// [`HubError::UnknownTicket`].
    pub fn attach(&self, ticket: &str) -> Result<Subscription, HubError> {
        let key = TicketId::key_of(ticket).ok_or(HubError::UnknownTicket)?;
        let now = Instant::now();
        let delay = self.shared.config.unsub_delay;
        let mut state = self.shared.lock();
        let gen = state.next_gen();
        let entry = state
            .tickets
            .get_mut(&key)
            .filter(|t| !t.is_expired(now, delay))
            .ok_or(HubError::UnknownTicket)?;
        let notify = Arc::new(Notify::new());
        let old = entry.stream.replace(Attached {
            gen,
            notify: Arc::clone(&notify),
        });
        if let Some(old) = old {
            tracing::debug!(ticket = %entry.label, "stream replaced");
            old.notify.notify_one();
        }
        drop(state);
        Ok(Subscription::new(
            Arc::clone(&self.shared),
            key,
            gen,
            notify,
        ))
    }

    /// Serializes each event once and queues it on every ticket whose filter matches.
    pub fn publish(&self, events: &[Event]) {
        let deliveries: Vec<(&Event, Delivery)> = events
            .iter()
            .filter_map(|e| Delivery::new(e).map(|d| (e, d)))
            .collect();
        if deliveries.is_empty() {
            return;
        }
        self.shared.lock().publish(&deliveries);
    }

    /// Shutdown: every attached stream gets `closed` with `reason` after what is pending, then
    /// ends; tickets without a stream are dropped; no new ticket is issued.
    pub fn close_all(&self, reason: &str) {
        let closing = Delivery::closed(reason);
        let mut state = self.shared.lock();
        state.shutting_down = true;
        state.close_all(&closing);
    }

    /// Tickets alive now (attached or waiting for a stream).
    pub fn ticket_count(&self) -> usize {
        self.shared.lock().tickets.len()
    }

    /// The hub's settings.
    pub fn config(&self) -> &HubConfig {
        &self.shared.config
    }
}

impl EventSink for Hub {
    fn publish(&self, events: &[Event]) {
        Hub::publish(self, events);
    }
}

/// Drops expired tickets every `sweep_interval` (or `unsub_delay / 4` if shorter, so that a short
/// delay frees memory as promptly); ends when the hub is gone.
fn spawn_sweeper(shared: &Arc<Shared>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("hub created outside a tokio runtime: no expiry sweeper");
        return;
    };
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let config = &shared.config;
    let every = config
        .sweep_interval
        .min(config.unsub_delay / 4)
        .max(std::time::Duration::from_millis(1));
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(shared) = weak.upgrade() else { break };
            let dropped = shared
                .lock()
                .sweep(Instant::now(), shared.config.unsub_delay);
            if dropped > 0 {
                tracing::debug!(dropped, "expired tickets dropped");
            }
        }
    });
}
