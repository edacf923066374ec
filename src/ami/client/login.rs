//! Opening a session: TCP connect with a timeout, the banner, then the login with the plain
//! `Secret` or the MD5 challenge (`Action: Challenge`, `Key = md5hex(challenge + secret)`).

use futures_util::{SinkExt, StreamExt};
use md5::{Digest, Md5};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::AmiConfig;
use crate::ami::codec::{AmiCodec, AmiFrame, CodecError};
use crate::ami::message::{AmiMessage, MessageKind};

/// The framed connection to Asterisk.
pub(super) type Conn = Framed<TcpStream, AmiCodec>;

/// A logged-in connection.
pub(super) struct Opened {
    /// The connection, right after the login's response.
    pub conn: Conn,
    /// The banner line.
    pub banner: String,
}

/// Why a session could not be opened.
#[derive(Debug)]
pub(super) enum OpenError {
    /// Asterisk refused the credentials (or they cannot be sent): retry only after a long wait.
    Auth(String),
    /// Anything else (refused, timed out, closed, not AMI): retry with the normal backoff.
    Link(String),
}

/// Connects, reads the banner and logs in. `session` makes the login's ActionIDs unique.
pub(super) async fn open(config: Arc<AmiConfig>, session: u64) -> Result<Opened, OpenError> {
    let target = format!("{}:{}", config.host, config.port);
    let stream = tokio::time::timeout(
        config.connect_timeout,
        TcpStream::connect((config.host.as_str(), config.port)),
    )
    .await
    .map_err(|_| OpenError::Link(format!("connecting to {target} timed out")))?
    .map_err(|e| OpenError::Link(format!("cannot connect to {target}: {e}")))?;
    let _ = stream.set_nodelay(true);
    let mut conn = Framed::new(stream, AmiCodec::client());
    let banner = tokio::time::timeout(config.connect_timeout, read_banner(&mut conn))
        .await
        .map_err(|_| OpenError::Link(format!("{target} sent no banner in time")))??;
    login(&config, &mut conn, session).await?;
    Ok(Opened { conn, banner })
}

async fn read_banner(conn: &mut Conn) -> Result<String, OpenError> {
    match conn.next().await {
        Some(Ok(AmiFrame::Banner(banner))) if banner.starts_with("Asterisk Call Manager") => {
            Ok(banner)
        }
        Some(Ok(AmiFrame::Banner(other))) => {
            let shown = crate::clip::clip(&other, 2 * crate::clip::SHOWN_BYTES);
            Err(OpenError::Link(format!(
                "not an Asterisk Manager Interface: it greeted with {shown:?}"
            )))
        }
        Some(Ok(_)) => Err(OpenError::Link("the server sent no banner".into())),
        Some(Err(e)) => Err(OpenError::Link(format!("reading the banner failed: {e}"))),
        None => Err(OpenError::Link(
            "the server closed the connection before its banner".into(),
        )),
    }
}

async fn login(config: &AmiConfig, conn: &mut Conn, session: u64) -> Result<(), OpenError> {
    let mut action = AmiMessage::action("Login")
        .with("ActionID", format!("pbxis-login-{session}"))
        .with("Username", &config.username);
    if config.md5 {
        let ask = AmiMessage::action("Challenge")
            .with("ActionID", format!("pbxis-challenge-{session}"))
            .with("AuthType", "MD5");
        let answer = exchange(conn, &ask, config.action_timeout).await?;
        if !answer.is_success() {
            return Err(OpenError::Auth(refusal(&answer)));
        }
        let Some(challenge) = answer.get("Challenge") else {
            return Err(OpenError::Link(
                "the Challenge answer holds no challenge".into(),
            ));
        };
        action.push("AuthType", "MD5");
        action.push("Key", &md5_key(challenge, &config.secret));
    } else {
        action.push("Secret", &config.secret);
    }
    let answer = exchange(conn, &action, config.action_timeout).await?;
    if answer.is_success() {
        Ok(())
    } else {
        Err(OpenError::Auth(refusal(&answer)))
    }
}

/// `lowercase_hex(md5(challenge + secret))`, as Asterisk's `authenticate()` computes it.
pub(super) fn md5_key(challenge: &str, secret: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(challenge.as_bytes());
    md5.update(secret.as_bytes());
    hex::encode(md5.finalize())
}

fn refusal(answer: &AmiMessage) -> String {
    answer.message().unwrap_or("(no message)").to_owned()
}

/// Writes one action and waits for the response with its ActionID (nothing else is expected
/// before the login; anything else is skipped).
async fn exchange(
    conn: &mut Conn,
    action: &AmiMessage,
    limit: Duration,
) -> Result<AmiMessage, OpenError> {
    let id = action.action_id().unwrap_or_default().to_owned();
    let talk = async {
        conn.send(action).await.map_err(|e| match e {
            CodecError::Io(e) => OpenError::Link(format!("writing the login failed: {e}")),
            refused => OpenError::Auth(format!("the credentials cannot be sent: {refused}")),
        })?;
        loop {
            match conn.next().await {
                Some(Ok(AmiFrame::Message(m)))
                    if m.kind() == MessageKind::Response && m.action_id() == Some(&id) =>
                {
                    return Ok(m);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    return Err(OpenError::Link(format!(
                        "reading the login answer failed: {e}"
                    )))
                }
                None => {
                    return Err(OpenError::Link(
                        "Asterisk closed the connection during the login".into(),
                    ))
                }
            }
        }
    };
    tokio::time::timeout(limit, talk)
        .await
        .map_err(|_| OpenError::Link("Asterisk did not answer the login in time".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_key_is_lowercase_hex_of_challenge_then_secret() {
        // The pair Asterisk 22 accepted in the recorded login transcript (conn=md5).
        assert_eq!(
            md5_key("117979957", "pbxis-secret"),
            "45ff1c0feddc89f2d71d3951353f1b9d"
        );
    }
}
