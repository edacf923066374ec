//! A small HTTP/1.1 client on hyper's connection API: one TCP connection per subscriber (kept
//! alive between long-polls, as a browser does), `POST /ticket`, `GET /ready`, and streaming
//! bodies for SSE. Nothing here retries: a failure is the subscriber's error to report.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Largest non-streaming response body read (a ticket, a long-poll answer).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// What can go wrong talking HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No TCP connection.
    #[error("connect: {0}")]
    Connect(#[from] std::io::Error),
    /// HTTP failed (handshake, broken connection, bad framing).
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    /// A request could not be built.
    #[error("request: {0}")]
    Request(#[from] hyper::http::Error),
    /// An answer other than the one expected.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status.
        status: StatusCode,
        /// The start of the body.
        body: String,
    },
    /// A body over [`MAX_BODY`] or not what it should be.
    #[error("body: {0}")]
    Body(String),
    /// WebSocket failure.
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
}

/// One kept-alive HTTP/1.1 connection to the service.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    api_key: Option<String>,
}

impl Connection {
    /// Opens a connection (`TCP_NODELAY`, as browsers do).
    pub async fn open(addr: SocketAddr, api_key: Option<&str>) -> Result<Self, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the service closes or when the sender and every body are dropped.
            let _ = conn.await;
        });
        Ok(Self {
            sender,
            host: addr.to_string(),
            api_key: api_key.map(str::to_owned),
        })
    }

    /// Sends a request; the response body is left to the caller (streamed or read).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        json: Option<String>,
    ) -> Result<Response<hyper::body::Incoming>, ClientError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host);
        if let Some(key) = &self.api_key {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let body = match json {
            Some(json) => {
                request = request.header(hyper::header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(json))
            }
            None => Full::new(Bytes::new()),
        };
        self.sender.ready().await?;
        Ok(self.sender.send_request(request.body(body)?).await?)
    }

    /// Sends a request and reads the whole body; any status but `expect` is an error.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        json: Option<String>,
        expect: StatusCode,
    ) -> Result<Bytes, ClientError> {
        let response = self.send(method, path, json).await?;
        let status = response.status();
        let body = read_body(response).await?;
        if status != expect {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(ClientError::Status { status, body: text });
        }
        Ok(body)
    }
}

/// Reads a whole body, at most [`MAX_BODY`] bytes.
pub async fn read_body(response: Response<hyper::body::Incoming>) -> Result<Bytes, ClientError> {
    let limited = http_body_util::Limited::new(response.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(ClientError::Body(e.to_string())),
    }
}

/// `POST /ticket` for these agents and queues: the ticket.
pub async fn ticket(
    addr: SocketAddr,
    api_key: Option<&str>,
    agents: &[String],
    queues: &[String],
) -> Result<String, ClientError> {
    let mut conn = Connection::open(addr, api_key).await?;
    let body = serde_json::json!({ "agents": agents, "queues": queues }).to_string();
    let bytes = conn
        .call(Method::POST, "/ticket", Some(body), StatusCode::OK)
        .await?;
    serde_json::from_slice::<String>(&bytes).map_err(|e| ClientError::Body(e.to_string()))
}

/// True when `GET /ready` answers 200 (connected to Asterisk, model built).
pub async fn ready(addr: SocketAddr, api_key: Option<&str>) -> bool {
    let Ok(mut conn) = Connection::open(addr, api_key).await else {
        return false;
    };
    conn.call(Method::GET, "/ready", None, StatusCode::OK)
        .await
        .is_ok()
}
