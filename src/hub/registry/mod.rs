//! The [`Hub`]: the map of live tickets under one std `Mutex` (never held across an `.await`),
//! fan-out of published events by filter (through a scope index, so an event visits only the
//! tickets that hold its agent or queue), attach/replace of streams, the expiry sweeper, and
//! shutdown. Lookups go through a `HashMap` keyed by the ticket's random bytes, so an unknown
//! ticket and an expired one cost the same work and give the same error: no timing oracle on
//! validity.

mod index;
mod resume;
mod resync;
mod revive;
mod state;
mod subscription;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::buffer::{Bounds, Phase, TicketBuffer};
use super::delivery::Delivery;
use super::event_id::{Epoch, EventId};
use super::ticket::{TicketId, TicketKey};
use super::{HubConfig, HubError};
use crate::pbx::service::EventSink;
use crate::pbx::{Event, Filter};
use state::{Attached, State, Ticket};

use resume::resume_from;
pub use resume::Resume;
pub use resync::SnapshotSource;
pub use subscription::{Sent, Subscription};

/// The `lastEventId` of a client that has applied no event yet: it resumes from the ticket's
/// first event (a client should send it on every reconnect until it has an id, since a broken
/// first connection may have taken events it never got).
pub const FROM_START: &str = "0";
/// The `resync` reason after the model was restarted.
pub const RESYNC_RESTART: &str = "restart";
/// The `resync` reason for an id older than the ticket's history.
pub const RESYNC_HISTORY: &str = "history";
/// The `resync` reason for an id of another run or instance.
pub const RESYNC_EPOCH: &str = "epoch";
/// The `resync` reason of a signed ticket this instance did not hold (issued by another
/// instance, or expired here): it starts afresh.
pub const RESYNC_REVIVED: &str = "revived";
/// The `resync` reason for an id that is malformed or was never handed out.
pub const RESYNC_UNKNOWN_ID: &str = "unknownId";
/// How long a ticket's snapshot stays in its history once a stream is attached: long enough for
/// a connection that breaks while the snapshot is read to resume inside it; after that it goes
/// (it is most of an idle ticket's memory), and a reconnect from inside it resyncs (`history`).
pub const SNAPSHOT_KEPT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the hub's clones and subscriptions share.
struct Shared {
    config: HubConfig,
    epoch: Epoch,
    state: Mutex<State>,
    source: OnceLock<Arc<dyn SnapshotSource>>,
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
/// let json: Vec<String> = events.iter().map(|d| d.delivery.json()).collect();
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
            epoch: Epoch::generate(),
            state: Mutex::new(State::default()),
            source: OnceLock::new(),
        });
        spawn_sweeper(&shared);
        Hub { shared }
    }

    /// This run's epoch: the first part of every event id.
    pub fn epoch(&self) -> Epoch {
        self.shared.epoch
    }

    /// Where resyncs take their snapshots (the model). Set once; later calls are ignored.
    pub fn set_snapshot_source(&self, source: Arc<dyn SnapshotSource>) {
        let _ = self.shared.source.set(source);
    }

    /// Registers a ticket for `filter` whose stream starts with `snapshot`: [`Hub::register`]
    /// then [`Hub::complete`].
    pub fn create_ticket(
        &self,
        filter: Filter,
        snapshot: Vec<Event>,
        owner: Option<&str>,
    ) -> Result<TicketId, HubError> {
        let registered = self.register(filter, snapshot, owner)?;
        self.complete(registered)
    }

    /// Registers a ticket for `filter`, reserving its first sequence numbers for `snapshot`:
    /// cheap, to be called where the snapshot was taken (in the model task), so that events
    /// published afterwards queue behind it. `owner` (the API key's name, or the client's
    /// address for an open service) counts towards `max_tickets_per_owner`. Nothing is handed
    /// out before [`Hub::complete`].
    pub fn register(
        &self,
        filter: Filter,
        snapshot: Vec<Event>,
        owner: Option<&str>,
    ) -> Result<Registered, HubError> {
        let config = &self.shared.config;
        let mut buffer = TicketBuffer::new(bounds(config));
        let (id, key) = match &config.signer {
            Some(signer) => TicketId::signed(signer.sign(&filter, owner)?),
            None => TicketId::generate().ok_or(HubError::Entropy)?,
        };
        let mut state = self.shared.lock();
        if state.shutting_down {
            return Err(HubError::ShuttingDown);
        }
        let owner = owner.map(Arc::<str>::from);
        if !state.has_room(config, owner.as_deref()) {
            state.sweep(Instant::now(), config.unsub_delay);
            if !state.has_room(config, owner.as_deref()) {
                drop(state);
                tracing::info!(owner = owner.as_deref(), "ticket refused: limit reached");
                return Err(HubError::TooManyTickets);
            }
        }
        if state.tickets.contains_key(&key) {
            // 2^-128: a broken generator rather than bad luck.
            return Err(HubError::Entropy);
        }
        buffer.reserve(snapshot.len());
        let ticket = Ticket {
            label: id.redacted(),
            filter,
            owner,
            buffer,
            stream: None,
            detached_since: Instant::now(),
        };
        state.insert(key, ticket);
        Ok(Registered { id, key, snapshot })
    }

    /// Serializes the snapshot of a registered ticket (outside the model task and the hub's
    /// lock) and puts it in front of its stream. A snapshot whose serialized events exceed
    /// `max_pending_bytes` refuses the ticket ([`HubError::SnapshotTooLarge`]). If the events
    /// published meanwhile overflowed the ticket (a large snapshot on a busy call center), the
    /// ticket is issued all the same and its stream starts with a resync (`overflow`).
    pub fn complete(&self, registered: Registered) -> Result<TicketId, HubError> {
        let Registered { id, key, snapshot } = registered;
        let mut deliveries = Vec::with_capacity(snapshot.len());
        let mut bytes = 0usize;
        for delivery in snapshot.iter().filter_map(Delivery::new) {
            bytes = bytes.saturating_add(delivery.size());
            if bytes > self.shared.config.max_pending_bytes {
                break;
            }
            deliveries.push(delivery);
        }
        let too_large = deliveries.len() < snapshot.len();
        drop(snapshot);
        let mut state = self.shared.lock();
        let Some(ticket) = state.tickets.get_mut(&key) else {
            return Err(HubError::UnknownTicket);
        };
        if too_large {
            state.remove(&key);
            drop(state);
            tracing::info!("ticket refused: snapshot over max_pending_bytes");
            return Err(HubError::SnapshotTooLarge);
        }
        if ticket.buffer.fill(deliveries).is_err() {
            // Overflowed while the snapshot was serialized (or the snapshot and the events
            // that came meanwhile are over the byte budget together): a fresh snapshot when a
            // stream reads it.
            let counted = matches!(ticket.buffer.phase(), Phase::Stale(_));
            ticket.buffer.go_stale(state::RESYNC_OVERFLOW);
            if !counted {
                self.shared.config.metrics.slow_clients_dropped(1);
            }
        }
        drop(state);
        tracing::debug!(ticket = %id, "ticket created");
        Ok(id)
    }

    /// Attaches a stream to a ticket, from where its stream stands. A stream already attached
    /// is replaced: it receives `closed` (`reason: "replaced"`) and ends. Unknown, malformed and
    /// expired tickets all give [`HubError::UnknownTicket`].
    pub fn attach(&self, ticket: &str) -> Result<Subscription, HubError> {
        self.attach_resuming(ticket, Resume::default())
    }

    /// [`Hub::attach`], resuming after the last event the client applied: the events after
    /// `resume.last_event_id` are handed out again if the ticket's history still has them;
    /// if not (or the id is malformed, of another epoch, or was never handed out), the stream
    /// resyncs: `resync` and a fresh snapshot. With `resume.acknowledge`, the history up to the
    /// id is forgotten (a long poll confirms what it got).
    pub fn attach_resuming(
        &self,
        ticket: &str,
        resume: Resume<'_>,
    ) -> Result<Subscription, HubError> {
        let key = TicketId::key_of(ticket).ok_or(HubError::UnknownTicket)?;
        let epoch = self.shared.epoch;
        let last = resume.last_event_id.map(|text| match text {
            // Nothing applied yet: from the ticket's first event.
            FROM_START => Ok(EventId { epoch, seq: 0 }),
            text => EventId::parse(text),
        });
        let now = Instant::now();
        let delay = self.shared.config.unsub_delay;
        let mut state = self.shared.lock();
        let held = |s: &State| {
            s.tickets
                .get(&key)
                .is_some_and(|t| !t.is_expired(now, delay))
        };
        if !held(&state) {
            // Verified outside the lock: garbage costs the others nothing.
            drop(state);
            let revived = self.revive(ticket)?;
            state = self.shared.lock();
            if !held(&state) {
                self.insert_revived(&mut state, key, revived)?;
            }
        }
        let gen = state.next_gen();
        let entry = state.tickets.get_mut(&key).ok_or(HubError::UnknownTicket)?;
        if let Some(last) = last {
            resume_from(
                &mut entry.buffer,
                last,
                self.shared.epoch,
                resume.acknowledge,
            );
        }
        let notify = Arc::new(Notify::new());
        let old = entry.stream.replace(Attached {
            gen,
            notify: Arc::clone(&notify),
            since: now,
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

    /// The model was restarted: every ticket resyncs (`resync`, reason `restart`, and a fresh
    /// snapshot).
    pub fn resync_all(&self) {
        self.shared.lock().resync_all(RESYNC_RESTART);
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
        let overflowed = self.shared.lock().publish(&deliveries);
        if overflowed > 0 {
            self.shared.config.metrics.slow_clients_dropped(overflowed);
            // One line however many tickets: logging is not done under the lock.
            tracing::warn!(
                tickets = overflowed,
                "tickets too far behind: dropped and resyncing"
            );
        }
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

    fn resync_all(&self) {
        Hub::resync_all(self);
    }
}

/// A ticket registered with its snapshot, not handed out yet: see [`Hub::complete`].
pub struct Registered {
    id: TicketId,
    key: TicketKey,
    snapshot: Vec<Event>,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("id", &self.id)
            .field("snapshot", &self.snapshot.len())
            .finish()
    }
}

fn bounds(config: &HubConfig) -> Bounds {
    Bounds {
        capacity: config.max_pending,
        max_bytes: config.max_pending_bytes,
        history: config.history,
        history_bytes: config.history_bytes,
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
            let now = Instant::now();
            let mut state = shared.lock();
            let dropped = state.sweep(now, shared.config.unsub_delay);
            state.forget_snapshots(now, SNAPSHOT_KEPT);
            drop(state);
            if dropped > 0 {
                tracing::debug!(dropped, "expired tickets dropped");
            }
        }
    });
}
