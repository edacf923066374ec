//! The connection actor: one task owns the socket and runs the session loop. It reads the socket
//! continuously (the consumer never slows it down), writes actions, routes what it reads
//! (responses and list items to their callers, events to the consumer), pings, expires actions,
//! and on any loss backs off and opens a new session.

use futures_util::{FutureExt, SinkExt, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::backoff::Backoff;
use super::handle::{Command, Shared};
use super::lifecycle::reject;
use super::login::{self, Conn, OpenError};
use super::outbox::Outbox;
use super::pending::{self, Pending, Routed, Waiter};
use super::{AmiConfig, AmiError, ClientEvent};
use crate::ami::codec::{self, AmiFrame, Side};
use crate::ami::message::{AmiMessage, MessageKind};

/// How long to wait for the `FullyBooted` that Asterisk sends right after a login when it is
/// booted and the user may read `system` events. Without it, `Connected` is sent after this.
const BOOT_GRACE: Duration = Duration::from_secs(2);
/// The shortest keep-alive interval (a zero in the configuration must not flood Asterisk).
const MIN_PING_INTERVAL: Duration = Duration::from_millis(100);
/// The longest wait for Asterisk's `Goodbye` on shutdown.
pub(super) const LOGOFF_WAIT: Duration = Duration::from_secs(2);

/// Why a session ended.
pub(super) enum End {
    /// The link is gone; reconnect.
    Lost(String),
    /// The client shuts down (with whom to tell when done).
    Shutdown(Option<oneshot::Sender<()>>),
}

/// The state of one logged-in session.
pub(super) struct Session {
    pub(super) conn: Conn,
    pub(super) banner: String,
    /// Until when to wait for the login's `FullyBooted`; `None` once `Connected` was sent.
    pub(super) booting: Option<Instant>,
    /// Events read before `Connected` was sent (bounded by the event buffer). If the session is
    /// lost before `Connected`, they go with it: the consumer never saw that session, and
    /// rebuilds its state at the `Connected` of the next one.
    pub(super) early: Vec<AmiMessage>,
    /// The bytes of `early` ([`AmiMessage::size_bytes`]), bounded by the event buffer's bytes.
    pub(super) early_bytes: usize,
    pub(super) early_lost: u64,
    pub(super) ping: tokio::time::Interval,
    /// The keep-alive `Ping` waiting for its answer, and until when.
    pub(super) ping_due: Option<(String, Instant)>,
}

/// One life of the actor. It borrows the command receiver from its supervisor
/// (`supervisor.rs`), so that the handles outlive a panic.
pub(super) struct Actor<'a> {
    pub(super) config: Arc<AmiConfig>,
    pub(super) commands: &'a mut mpsc::Receiver<Command>,
    pub(super) outbox: Outbox,
    pub(super) shared: Arc<Shared>,
    pub(super) pending: Pending,
    pub(super) backoff: Backoff,
    pub(super) sessions: u64,
    pub(super) next_id: u64,
    /// The last reason reported, so that repeated failures are reported once.
    pub(super) last_reason: Option<String>,
}

/// How a restarted actor begins: the consumer is told the link is down, then it waits.
pub(super) struct Restart {
    /// Told to the consumer in `Disconnected`.
    pub(super) reason: String,
    /// The wait before the first connection attempt.
    pub(super) delay: Duration,
}

/// Runs the actor until shutdown (or a panic, which its supervisor catches).
pub(super) async fn run(
    config: Arc<AmiConfig>,
    commands: &mut mpsc::Receiver<Command>,
    events: mpsc::Sender<ClientEvent>,
    shared: Arc<Shared>,
    restart: Option<Restart>,
) {
    let backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let outbox = Outbox::new(events, config.event_buffer_bytes);
    let mut actor = Actor {
        config,
        commands,
        outbox,
        shared,
        pending: Pending::default(),
        backoff,
        sessions: 0,
        next_id: 0,
        last_reason: None,
    };
    if let Some(restart) = restart {
        actor.outbox.link(ClientEvent::Disconnected {
            reason: restart.reason.clone(),
        });
        actor.last_reason = Some(restart.reason);
        if let Err(done) = actor.idle(tokio::time::sleep(restart.delay)).await {
            return actor.finish(done);
        }
    }
    actor.run().await;
}

impl Actor<'_> {
    async fn run(mut self) {
        loop {
            self.sessions += 1;
            let opening = login::open(Arc::clone(&self.config), self.sessions);
            let delay = match self.idle(opening).await {
                Err(done) => return self.finish(done),
                Ok(Ok(opened)) => {
                    // One line per (re)connect; `attempt` counts the connection attempts of
                    // this client since it started (or was restarted).
                    tracing::info!(
                        host = %self.config.host,
                        port = self.config.port,
                        attempt = self.sessions,
                        banner = %opened.banner,
                        "logged in to Asterisk"
                    );
                    match self.serve(opened.conn, opened.banner).await {
                        End::Shutdown(done) => return self.finish(done),
                        End::Lost(reason) => {
                            self.lost(reason);
                            self.backoff.next_delay()
                        }
                    }
                }
                Ok(Err(OpenError::Auth(why))) => {
                    self.report_auth(why);
                    self.backoff.auth_failed_delay()
                }
                Ok(Err(OpenError::Link(why))) => {
                    self.report(why);
                    self.backoff.next_delay()
                }
            };
            tracing::debug!(?delay, "reconnecting to Asterisk after a pause");
            if let Err(done) = self.idle(tokio::time::sleep(delay)).await {
                return self.finish(done);
            }
        }
    }

    /// Runs `work` while the link is down: actions fail at once, the backlog keeps flowing.
    /// `Err` carries a shutdown request.
    async fn idle<T>(
        &mut self,
        work: impl Future<Output = T>,
    ) -> Result<T, Option<oneshot::Sender<()>>> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Ok(out),
                cmd = self.commands.recv() => match cmd {
                    None => return Err(None),
                    Some(Command::Shutdown { done }) => return Err(Some(done)),
                    Some(Command::Crash) => crash(),
                    Some(other) => reject(other, AmiError::NotConnected),
                },
                room = self.outbox.room(), if self.outbox.has_backlog() => self.outbox.flush(room),
            }
        }
    }

    async fn serve(&mut self, conn: Conn, banner: String) -> End {
        self.backoff.reset();
        let now = Instant::now();
        let period = self.config.ping_interval.max(MIN_PING_INTERVAL);
        let mut ping = tokio::time::interval_at(now + period, period);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut s = Session {
            conn,
            banner,
            booting: Some(now + BOOT_GRACE),
            early: Vec::new(),
            early_bytes: 0,
            early_lost: 0,
            ping,
            ping_due: None,
        };
        loop {
            let deadline = self.pending.next_deadline();
            let pong_by = s.ping_due.as_ref().map(|(_, by)| *by);
            let far = Instant::now() + Duration::from_secs(86_400);
            tokio::select! {
                frame = s.conn.next() => {
                    if let Some(end) = self.on_frame(&mut s, frame) {
                        return end;
                    }
                }
                cmd = self.commands.recv() => match cmd {
                    None => return self.logoff(&mut s, None).await,
                    Some(Command::Shutdown { done }) => return self.logoff(&mut s, Some(done)).await,
                    Some(Command::Crash) => crash(),
                    Some(other) if s.booting.is_some() => reject(other, AmiError::NotConnected),
                    Some(other) => {
                        if let Err(reason) = self.submit(&mut s.conn, other).await {
                            return End::Lost(reason);
                        }
                    }
                },
                _ = s.ping.tick(), if s.booting.is_none() && s.ping_due.is_none() => {
                    if let Err(reason) = self.ping(&mut s).await {
                        return End::Lost(reason);
                    }
                }
                () = tokio::time::sleep_until(pong_by.unwrap_or(far)), if pong_by.is_some() => {
                    if let Some(end) = self.drain_ready(&mut s) {
                        return end;
                    }
                    if s.ping_due.is_some() {
                        return End::Lost(format!(
                            "keep-alive: no answer to Ping within {:?}",
                            self.config.ping_timeout
                        ));
                    }
                }
                () = tokio::time::sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => {
                    if let Some(end) = self.drain_ready(&mut s) {
                        return end;
                    }
                    self.pending.expire(Instant::now());
                }
                () = tokio::time::sleep_until(s.booting.unwrap_or(far)), if s.booting.is_some() => {
                    if let Some(end) = self.drain_ready(&mut s) {
                        return end;
                    }
                    if s.booting.is_some() {
                        tracing::debug!("no FullyBooted after the login; going on without it");
                        self.up(&mut s);
                    }
                }
                room = self.outbox.room(), if self.outbox.has_backlog() => self.outbox.flush(room),
            }
        }
    }

    /// Handles what is already readable, before a timer concludes that an answer is missing:
    /// an answer that arrived together with the deadline counts.
    fn drain_ready(&mut self, s: &mut Session) -> Option<End> {
        while let Some(frame) = s.conn.next().now_or_never() {
            if let Some(end) = self.on_frame(s, frame) {
                return Some(end);
            }
        }
        None
    }

    fn on_frame(
        &mut self,
        s: &mut Session,
        frame: Option<Result<AmiFrame, codec::CodecError>>,
    ) -> Option<End> {
        match frame {
            Some(Ok(AmiFrame::Message(m))) => self.on_message(s, m),
            Some(Ok(AmiFrame::Oversized { bytes })) => {
                tracing::warn!(bytes, "skipped a message over the size cap");
                self.count_lost(s, 1);
                None
            }
            Some(Ok(AmiFrame::Banner(_))) => None,
            Some(Err(e)) => Some(End::Lost(format!("reading from Asterisk failed: {e}"))),
            None => Some(End::Lost("Asterisk closed the connection".into())),
        }
    }

    fn on_message(&mut self, s: &mut Session, m: AmiMessage) -> Option<End> {
        if let Some((id, _)) = &s.ping_due {
            if m.kind() == MessageKind::Response && m.action_id() == Some(id.as_str()) {
                s.ping_due = None;
                return None;
            }
        }
        let event = match self.pending.offer(m) {
            Routed::Taken => return None,
            Routed::Stray(m) => {
                tracing::debug!(message = ?m, "a late response nobody waits for");
                return None;
            }
            Routed::Unroutable(m) => {
                tracing::warn!(message = ?m, "neither a response nor an event; counted as lost");
                self.count_lost(s, 1);
                return None;
            }
            Routed::Event(m) => m,
        };
        let shutdown = event.is_event("Shutdown");
        if s.booting.is_some() {
            if event.is_event("FullyBooted") {
                // The login's own FullyBooted: `Connected` says it.
                self.up(s);
                return None;
            }
            let size = event.size_bytes();
            let fits = s.early.is_empty()
                || (s.early.len() < self.config.event_buffer.max(1)
                    && s.early_bytes.saturating_add(size) <= self.config.event_buffer_bytes);
            if fits {
                s.early_bytes += size;
                s.early.push(event);
            } else {
                s.early_lost += 1;
            }
        } else {
            self.outbox.event(event);
        }
        shutdown.then(|| End::Lost("Asterisk is shutting down".into()))
    }

    /// Counts `n` messages lost: reported after `Connected` if it was not sent yet.
    fn count_lost(&mut self, s: &mut Session, n: u64) {
        if s.booting.is_some() {
            s.early_lost += n;
        } else {
            self.outbox.count_lost(n);
        }
    }

    /// The session is ready: `Connected`, then what was read before it.
    fn up(&mut self, s: &mut Session) {
        s.booting = None;
        self.shared.set_connected(true);
        self.last_reason = None;
        self.outbox.link(ClientEvent::Connected {
            banner: s.banner.clone(),
        });
        s.early_bytes = 0;
        for event in s.early.drain(..) {
            self.outbox.event(event);
        }
        if s.early_lost > 0 {
            self.outbox.count_lost(std::mem::take(&mut s.early_lost));
        }
    }

    pub(super) fn fresh_id(&mut self) -> String {
        loop {
            self.next_id += 1;
            let id = format!("pbxis-{}", self.next_id);
            if !self.pending.contains(&id) {
                return id;
            }
        }
    }

    /// Registers and writes an action. `Err` means the link failed while writing.
    async fn submit(&mut self, conn: &mut Conn, cmd: Command) -> Result<(), String> {
        let (mut action, waiter) = match cmd {
            Command::Send { action, reply } => (action, Waiter::Single(reply)),
            Command::SendList { action, reply } => (action, Waiter::list(reply)),
            Command::Shutdown { done } => {
                let _ = done.send(());
                return Ok(());
            }
            Command::Crash => crash(),
        };
        let id = match action.action_id() {
            Some(id) => id.to_owned(),
            None => {
                let id = self.fresh_id();
                action.set("ActionID", &id);
                id
            }
        };
        let admitted = self
            .pending
            .admit(&id)
            .and_then(|()| codec::check(&action, Side::Client).map_err(AmiError::from));
        if let Err(e) = admitted {
            pending::fail(waiter, e);
            return Ok(());
        }
        let deadline = Instant::now() + self.config.action_timeout;
        self.pending.insert(id, waiter, deadline);
        write(conn, &action, self.config.action_timeout).await
    }

    async fn ping(&mut self, s: &mut Session) -> Result<(), String> {
        let id = self.fresh_id();
        let ping = AmiMessage::action("Ping").with("ActionID", &id);
        write(&mut s.conn, &ping, self.config.ping_timeout).await?;
        s.ping_due = Some((id, Instant::now() + self.config.ping_timeout));
        Ok(())
    }
}

/// The test hook's panic ([`super::AmiHandle::crash_for_tests`]).
fn crash() -> ! {
    panic!("the AMI client task was crashed on purpose (test hook)")
}

/// Writes one (already checked) message; `Err` means the link is unusable.
pub(super) async fn write(
    conn: &mut Conn,
    msg: &AmiMessage,
    limit: Duration,
) -> Result<(), String> {
    match tokio::time::timeout(limit, conn.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("writing to Asterisk failed: {e}")),
        Err(_) => Err(format!("writing to Asterisk stalled for {limit:?}")),
    }
}
