//! A scripted AMI server on 127.0.0.1:0 for the client's tests: each test plays Asterisk's side
//! of the conversation step by step (banner, login answers, responses, events, raw bytes, cuts),
//! over real TCP, framed by the crate's own codec in server mode.

#![allow(dead_code)]

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

use pbxis_ws::ami::client::{self, AmiConfig, AmiHandle, ClientEvent};
use pbxis_ws::ami::{AmiCodec, AmiFrame, AmiMessage};
use tokio::sync::mpsc::Receiver;

/// The banner the server sends.
pub const BANNER: &str = "Asterisk Call Manager/11.0.0";
/// The manager user the tests log in with.
pub const USER: &str = "pbxis";
/// Its secret (the one of the recorded rig, so the recorded MD5 exchange applies).
pub const SECRET: &str = "pbxis-secret";
/// Longest wait for anything the client should do. Longer than the longest backoff, so that the
/// paused clock reaches the client's timers first.
pub const WAIT: Duration = Duration::from_secs(90);

/// The listening side.
pub struct ScriptedAmi {
    listener: TcpListener,
}

impl ScriptedAmi {
    /// Binds 127.0.0.1:0.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self { listener }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }

    /// A client configuration for this server, plain login.
    pub fn config(&self) -> AmiConfig {
        AmiConfig::new("127.0.0.1", self.addr().port(), USER, SECRET)
    }

    /// Accepts the next connection and sends the banner.
    pub async fn accept(&self) -> Peer {
        let mut peer = self.accept_silent().await;
        peer.raw(format!("{BANNER}\r\n").as_bytes()).await;
        peer
    }

    /// Accepts the next connection and says nothing.
    pub async fn accept_silent(&self) -> Peer {
        let (stream, _) = tokio::time::timeout(WAIT, self.listener.accept())
            .await
            .expect("the client did not connect in time")
            .unwrap();
        Peer {
            framed: Framed::new(stream, AmiCodec::server()),
        }
    }

    /// Accepts the next connection and answers a plain login with success and `FullyBooted`.
    pub async fn accept_logged_in(&self) -> Peer {
        let mut peer = self.accept().await;
        peer.answer_login().await;
        peer
    }
}

/// One accepted connection.
pub struct Peer {
    framed: Framed<TcpStream, AmiCodec>,
}

impl Peer {
    /// The next message from the client, or `None` at EOF.
    pub async fn next(&mut self) -> Option<AmiMessage> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.framed.next())
                .await
                .expect("the client sent nothing in time");
            match frame {
                Some(Ok(AmiFrame::Message(m))) => return Some(m),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next action from the client (it must send one).
    pub async fn recv(&mut self) -> AmiMessage {
        self.next()
            .await
            .expect("the client closed instead of sending an action")
    }

    /// The next action, which must be `name`.
    pub async fn expect(&mut self, name: &str) -> AmiMessage {
        let action = self.recv().await;
        assert_eq!(action.action_name(), Some(name), "{action:?}");
        action
    }

    /// Sends one message.
    pub async fn send(&mut self, msg: AmiMessage) {
        self.framed.send(msg).await.unwrap();
    }

    /// Writes raw bytes.
    pub async fn raw(&mut self, bytes: &[u8]) {
        SinkExt::<AmiMessage>::flush(&mut self.framed)
            .await
            .unwrap();
        let stream = self.framed.get_mut();
        stream
            .write_all(&Bytes::copy_from_slice(bytes))
            .await
            .unwrap();
        stream.flush().await.unwrap();
    }

    /// Expects a plain login with the right credentials, answers success, then `FullyBooted`.
    pub async fn answer_login(&mut self) -> AmiMessage {
        let login = self.expect("Login").await;
        assert_eq!(login.get("Username"), Some(USER));
        assert_eq!(login.get("Secret"), Some(SECRET));
        self.send(reply(&login, "Success").with("Message", "Authentication accepted"))
            .await;
        self.send(fully_booted()).await;
        login
    }

    /// Waits until the client closes the connection; the actions it sent meanwhile.
    pub async fn until_closed(&mut self) -> Vec<AmiMessage> {
        let mut seen = Vec::new();
        while let Some(m) = self.next().await {
            seen.push(m);
        }
        seen
    }
}

/// A response to `action` (with its ActionID).
pub fn reply(action: &AmiMessage, status: &str) -> AmiMessage {
    AmiMessage::response(status).with("ActionID", action.action_id().unwrap_or_default())
}

/// The `FullyBooted` Asterisk sends after a login.
pub fn fully_booted() -> AmiMessage {
    AmiMessage::event("FullyBooted")
        .with("Privilege", "system,all")
        .with("Uptime", "5")
        .with("LastReload", "5")
        .with("Status", "Fully Booted")
}

// Client-side helpers: the next client event of a kind, or a panic that says what came.

/// The next client event (it must come).
pub async fn next_event(rx: &mut Receiver<ClientEvent>) -> ClientEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no client event in time")
        .expect("the event stream ended")
}

/// The next client event must be `Connected` with our banner.
pub async fn expect_connected(rx: &mut Receiver<ClientEvent>) {
    match next_event(rx).await {
        ClientEvent::Connected { banner } => assert_eq!(banner, BANNER),
        other => panic!("expected Connected, got {other:?}"),
    }
}

/// The next client event must be the AMI event `name`.
pub async fn expect_event(rx: &mut Receiver<ClientEvent>, name: &str) -> AmiMessage {
    match next_event(rx).await {
        ClientEvent::Event(m) if m.is_event(name) => m,
        other => panic!("expected event {name}, got {other:?}"),
    }
}

/// The next client event must be `Disconnected`; its reason.
pub async fn expect_disconnected(rx: &mut Receiver<ClientEvent>) -> String {
    match next_event(rx).await {
        ClientEvent::Disconnected { reason } => reason,
        other => panic!("expected Disconnected, got {other:?}"),
    }
}

/// The next client event must be `AuthFailed`; Asterisk's message.
pub async fn expect_auth_failed(rx: &mut Receiver<ClientEvent>) -> String {
    match next_event(rx).await {
        ClientEvent::AuthFailed { message } => message,
        other => panic!("expected AuthFailed, got {other:?}"),
    }
}

/// Starts a client on `server` and serves its first login.
pub async fn logged_in(server: &ScriptedAmi) -> (AmiHandle, Receiver<ClientEvent>, Peer) {
    let (handle, mut rx) = client::connect(server.config());
    let peer = server.accept_logged_in().await;
    expect_connected(&mut rx).await;
    (handle, rx, peer)
}
