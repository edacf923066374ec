//! The AMI connection actor and its cloneable handle. (Interface only; the implementation lands
//! with the AMI client issue.)

use std::time::Duration;
use tokio::sync::mpsc;

use super::codec::CodecError;
use super::message::AmiMessage;

/// How to reach and log in to Asterisk.
#[derive(Clone)]
pub struct AmiConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port (5038).
    pub port: u16,
    /// Manager user.
    pub username: String,
    /// Manager secret (never shown by `Debug`).
    pub secret: String,
    /// Log in with the MD5 challenge instead of a plain secret.
    pub md5: bool,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// How long to wait for the answer to an action.
    pub action_timeout: Duration,
    /// Keep-alive `Ping` interval.
    pub ping_interval: Duration,
    /// No answer to a `Ping` within this time means the link is dead.
    pub ping_timeout: Duration,
    /// First reconnect delay.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// How many client events may wait for the consumer before the client reports an overflow.
    pub event_buffer: usize,
}

impl std::fmt::Debug for AmiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmiConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("md5", &self.md5)
            .finish_non_exhaustive()
    }
}

impl AmiConfig {
    /// Defaults for everything but the address and credentials.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        username: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            username: username.into(),
            secret: secret.into(),
            md5: false,
            connect_timeout: Duration::from_secs(5),
            action_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            event_buffer: 65_536,
        }
    }
}

/// What the consumer of the event stream receives, in wire order.
#[derive(Clone, Debug)]
pub enum ClientEvent {
    /// Logged in (first time or again); every later event comes after this one.
    Connected {
        /// The banner, e.g. `Asterisk Call Manager/11.0.0`.
        banner: String,
    },
    /// The link was lost; reconnecting.
    Disconnected {
        /// Why, in words.
        reason: String,
    },
    /// An event (not a list item of one of our list actions).
    Event(AmiMessage),
    /// The consumer fell behind: this many events were dropped. State must be rebuilt.
    Overflow {
        /// How many events were dropped.
        dropped: u64,
    },
}

/// The result of a list action: the acknowledgement, the items and the `*Complete` event.
#[derive(Clone, Debug)]
pub struct AmiList {
    /// `Response: Success`, `EventList: start`.
    pub response: AmiMessage,
    /// The items, in order.
    pub items: Vec<AmiMessage>,
    /// The `...Complete` event.
    pub complete: AmiMessage,
}

/// Errors of the AMI client.
#[derive(Debug, thiserror::Error)]
pub enum AmiError {
    /// Not connected (or logged in) right now.
    #[error("not connected to Asterisk")]
    NotConnected,
    /// The link went down before the answer came.
    #[error("the connection to Asterisk was lost before the answer came")]
    Disconnected,
    /// No answer in time.
    #[error("Asterisk did not answer in time")]
    Timeout,
    /// Asterisk answered `Response: Error`.
    #[error("Asterisk refused: {0}")]
    Refused(String),
    /// Login refused.
    #[error("Asterisk refused the login: {0}")]
    AuthFailed(String),
    /// The action could not be encoded (e.g. a CR/LF in a value).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The client has shut down.
    #[error("the AMI client has shut down")]
    Closed,
}

/// A cheap, cloneable handle to the connection actor.
#[derive(Clone, Debug)]
pub struct AmiHandle {
    _private: (),
}

impl AmiHandle {
    /// Sends an action and waits for its response. An `ActionID` is assigned unless the action
    /// carries one. A `Response: Error` comes back as [`AmiError::Refused`].
    pub async fn send(&self, action: AmiMessage) -> Result<AmiMessage, AmiError> {
        let _ = action;
        Err(AmiError::NotConnected)
    }

    /// Sends a list action and collects its items up to the `*Complete` event.
    pub async fn send_list(&self, action: AmiMessage) -> Result<AmiList, AmiError> {
        let _ = action;
        Err(AmiError::NotConnected)
    }

    /// True while logged in.
    pub fn is_connected(&self) -> bool {
        false
    }

    /// Logs off and closes the connection; the event stream ends.
    pub async fn shutdown(&self) {}
}

/// Starts the connection actor: it connects, logs in and reconnects for ever, until
/// [`AmiHandle::shutdown`]. Events arrive on the returned receiver.
pub fn connect(config: AmiConfig) -> (AmiHandle, mpsc::Receiver<ClientEvent>) {
    let (_tx, rx) = mpsc::channel(config.event_buffer.max(1));
    (AmiHandle { _private: () }, rx)
}
