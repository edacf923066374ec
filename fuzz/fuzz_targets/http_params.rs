//! Fuzz target for the HTTP parameter layer (`http::params::Params` and the endpoints' use of it):
//! an arbitrary query string and body, under an arbitrary content type, go through the same
//! parsing and validation as `POST /queue/<action>`, `POST /originate/<src>/<dest>` and
//! `POST /ticket`. Nothing may panic; every refusal must render as a JSON error; and whatever is
//! accepted must be safe for AMI: the actions built from it encode to bytes that Asterisk's side
//! decodes to exactly the intended headers.
//!
//! Input layout: byte 0 picks the endpoint, byte 1 the content type; the rest is the query
//! string, then (after the first `0xFF`) the body. For originate, the query's first two
//! `/`-separated segments are `src` and `dest`, the rest after `?` is the query.
//!
//! Run: `cargo +nightly fuzz run http_params corpus/http_params seeds/http_params` (the seeds are
//! one valid request per endpoint family).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pbxis_ws::ami::codec::{AmiCodec, AmiFrame};
use pbxis_ws::ami::AmiMessage;
use pbxis_ws::http::params::Params;
use pbxis_ws::pbx::{actions, AgentId, CallerId, Context, Destination, Location, QueueName};
use tokio_util::codec::{Decoder, Encoder};

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("application/merge-patch+json; charset=utf-8"),
    Some("text/plain"),
];

fuzz_target!(|data: &[u8]| {
    let [endpoint, content_type, rest @ ..] = data else {
        return;
    };
    let (head, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    let actions = match endpoint % 6 {
        0..=3 => queue_action(endpoint % 4, &head, content_type, body),
        4 => originate(&head, content_type, body),
        _ => ticket(&head, content_type, body),
    };
    for action in actions {
        assert_exact_on_wire(&action);
    }
});

fn location() -> Location {
    Location::parse("Local/{agent}@agents/n").expect("a valid template")
}

/// Parses the parameters as the extractor does; `None` (after rendering the error) on refusal.
fn params(query: &str, content_type: Option<&str>, body: &[u8]) -> Option<Params> {
    let parsed = Params::from_query(query).and_then(|mut p| {
        p.add_body(content_type, body)?;
        Ok(p)
    });
    match parsed {
        Ok(p) => Some(p),
        Err(e) => {
            refuse(e);
            None
        }
    }
}

/// Renders a refusal: it must be a client error with a JSON body.
fn refuse(e: impl axum::response::IntoResponse) {
    let response = e.into_response();
    assert!(response.status().is_client_error(), "{}", response.status());
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    assert!(json, "a refusal must be JSON");
}

fn queue_action(which: u8, query: &str, ct: Option<&str>, body: &[u8]) -> Vec<AmiMessage> {
    let name = ["add", "remove", "pause", "reset"][usize::from(which)];
    let Some(p) = params(query, ct, body) else {
        return Vec::new();
    };
    match pbxis_ws::http::api::parse_queue_action(name, p) {
        Ok(action) => vec![actions::queue_action(&action, &location())],
        Err(e) => {
            refuse(e);
            Vec::new()
        }
    }
}

fn originate(head: &str, ct: Option<&str>, body: &[u8]) -> Vec<AmiMessage> {
    let (path, query) = head.split_once('?').unwrap_or((head, ""));
    let mut segments = path.splitn(2, '/');
    let (src, dest) = (segments.next().unwrap_or(""), segments.next().unwrap_or(""));
    let Some(mut p) = params(query, ct, body) else {
        return Vec::new();
    };
    let parsed = (|| {
        let src = AgentId::parse(src).map_err(|e| pbxis_ws::http::error::ApiError::param("src", e))?;
        let dest =
            Destination::parse(dest).map_err(|e| pbxis_ws::http::error::ApiError::param("dest", e))?;
        let caller_id = p.optional("callerId", CallerId::parse)?;
        p.finish()?;
        Ok::<_, pbxis_ws::http::error::ApiError>((src, dest, caller_id))
    })();
    match parsed {
        Ok((src, dest, caller_id)) => {
            let context = Context::parse("default").expect("a valid constant");
            vec![actions::originate(
                "pbxis-1",
                &src,
                &dest,
                caller_id.as_ref(),
                &context,
                &location(),
            )]
        }
        Err(e) => {
            refuse(e);
            Vec::new()
        }
    }
}

fn ticket(query: &str, ct: Option<&str>, body: &[u8]) -> Vec<AmiMessage> {
    let Some(mut p) = params(query, ct, body) else {
        return Vec::new();
    };
    let parsed = (|| {
        let agents = p.list("agents", 64, AgentId::parse)?;
        let queues = p.list("queues", 64, QueueName::parse)?;
        p.optional_bool("summaryEvents")?;
        p.finish()?;
        Ok::<_, pbxis_ws::http::error::ApiError>((agents, queues))
    })();
    match parsed {
        Ok((agents, queues)) => {
            assert!(agents.len() <= 64 && queues.len() <= 64);
            let mut actions: Vec<AmiMessage> = agents
                .iter()
                .map(|a| {
                    AmiMessage::action("ExtensionState")
                        .with("Exten", a)
                        .with("Context", "default")
                })
                .collect();
            actions.extend(
                queues
                    .iter()
                    .map(|q| AmiMessage::action("QueueStatus").with("Queue", q)),
            );
            actions
        }
        Err(e) => {
            refuse(e);
            Vec::new()
        }
    }
}

/// A validated action must encode, and decode on Asterisk's side to exactly its fields.
fn assert_exact_on_wire(action: &AmiMessage) {
    let mut wire = BytesMut::new();
    AmiCodec::client()
        .encode(action, &mut wire)
        .expect("validated values must be encodable");
    let mut server = AmiCodec::server();
    let Ok(Some(AmiFrame::Message(read))) = server.decode(&mut wire) else {
        panic!("no message decoded from {wire:?}");
    };
    assert!(wire.is_empty(), "more than one action on the wire");
    let sent: Vec<_> = action.fields().collect();
    let got: Vec<_> = read.fields().collect();
    assert_eq!(sent, got);
}
