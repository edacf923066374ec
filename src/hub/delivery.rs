//! A [`Delivery`]: one event serialized once into shared bytes, handed by reference count to every
//! ticket that receives it; and the transport's own events (`closed`, `resync`). The bytes kept
//! are the SSE frame (`event:` and `data:`, the object without `type`), once: the full JSON
//! object of long-poll and WebSocket is the same members behind `{"type":...,` and is written
//! from them ([`Delivery::write_json_with_id`]), so an event held by thousands of tickets'
//! histories, or a snapshot held by one, costs its text once rather than twice. The per-ticket
//! event id is added at write time ([`Delivery::json_with_id`], [`Delivery::write_sse`]), since
//! the bytes are shared between tickets.

use std::sync::Arc;

use super::event_id::EventId;
use crate::pbx::Event;

#[derive(Debug)]
struct Serialized {
    type_name: &'static str,
    /// `event: <type>\ndata: <data form>\n`: an SSE frame but for its id and final blank line.
    sse: Box<str>,
    /// Where the data form starts in `sse`.
    data_at: usize,
    closed: bool,
}

impl Serialized {
    fn new(type_name: &'static str, data_json: &str, closed: bool) -> Serialized {
        let head = format!("event: {type_name}\ndata: ");
        let data_at = head.len();
        let mut sse = head;
        sse.reserve(data_json.len() + 1);
        sse.push_str(data_json);
        sse.push('\n');
        Serialized {
            type_name,
            sse: sse.into_boxed_str(),
            data_at,
            closed,
        }
    }

    fn data_json(&self) -> &str {
        &self.sse[self.data_at..self.sse.len() - 1]
    }
}

/// An event ready to send: serialized once, shared by every ticket (cloning is a reference
/// count increment).
#[derive(Clone, Debug)]
pub struct Delivery(Arc<Serialized>);

impl Delivery {
    /// Serializes an event. `None` only if serialization fails, which the event types do not do.
    pub fn new(event: &Event) -> Option<Delivery> {
        let json = serde_json::to_string(event).ok()?;
        let type_name = event.type_name();
        let data_json = data_form(&json, type_name)?;
        Some(Delivery(Arc::new(Serialized::new(
            type_name, &data_json, false,
        ))))
    }

    /// The closing event `{"type":"closed","reason":...}`: the last of a stream.
    pub fn closed(reason: &str) -> Delivery {
        Delivery::transport("closed", reason, true)
    }

    /// `{"type":"resync","reason":...}`: what the client holds may be stale or incomplete; it
    /// must throw its state away and rebuild it from the snapshot that follows.
    pub fn resync(reason: &str) -> Delivery {
        Delivery::transport("resync", reason, false)
    }

    /// An event of the transport itself (not of the model): its type and a reason.
    fn transport(type_name: &'static str, reason: &str, closed: bool) -> Delivery {
        let data_json = serde_json::json!({ "reason": reason }).to_string();
        Delivery(Arc::new(Serialized::new(type_name, &data_json, closed)))
    }

    /// The full JSON object with `id` right after `type`: `{"type":"queueCount","id":"3f2a9c01-7",
    /// "queue":"q1","count":1}` (long-poll, WebSocket). One allocation, no re-serialization.
    pub fn json_with_id(&self, id: &EventId) -> String {
        let mut out = String::new();
        self.write_json_with_id(id, &mut out);
        out
    }

    /// [`Delivery::json_with_id`], appended to `out`.
    pub fn write_json_with_id(&self, id: &EventId, out: &mut String) {
        self.write_json(Some(id), out);
    }

    /// The full JSON object, `type` first, then `id` if given, then the event's members.
    fn write_json(&self, id: Option<&EventId>, out: &mut String) {
        use std::fmt::Write as _;
        let data_json = self.0.data_json();
        let members = &data_json[1..];
        out.reserve(data_json.len() + self.0.type_name.len() + 40);
        out.push_str(r#"{"type":""#);
        out.push_str(self.0.type_name);
        out.push('"');
        if let Some(id) = id {
            // Infallible: writing to a String.
            let _ = write!(out, r#","id":"{id}""#);
        }
        if members != "}" {
            out.push(',');
        }
        out.push_str(members);
    }

    /// The event type (`queueCount`): the SSE `event:` name.
    pub fn type_name(&self) -> &str {
        self.0.type_name
    }

    /// The full JSON object, `type` included (long-poll, WebSocket), without an id.
    pub fn json(&self) -> String {
        let mut out = String::new();
        self.write_json(None, &mut out);
        out
    }

    /// [`Delivery::json`], appended to `out`.
    pub fn write_plain_json(&self, out: &mut String) {
        self.write_json(None, out);
    }

    /// The JSON object without `type` (SSE `data:`).
    pub fn data_json(&self) -> &str {
        self.0.data_json()
    }

    /// Appends the whole SSE frame to `out`: `event:`, `data:`, the `id:` if given, and the
    /// blank line that ends it. Only the id is written per subscriber; the rest is copied from
    /// the bytes serialized once.
    pub fn write_sse(&self, id: Option<&EventId>, out: &mut bytes::BytesMut) {
        use std::fmt::Write as _;
        out.extend_from_slice(self.0.sse.as_bytes());
        if let Some(id) = id {
            // Infallible: writing to memory.
            let _ = writeln!(out, "id: {id}");
        }
        out.extend_from_slice(b"\n");
    }

    /// The bytes this delivery holds (its SSE frame, about the size of its JSON object): what a
    /// ticket's pending buffer counts against its byte budget.
    pub fn size(&self) -> usize {
        self.0.sse.len()
    }

    /// True for the closing event: the last one of a stream.
    pub fn is_closed(&self) -> bool {
        self.0.closed
    }

    /// True if both are the very same serialized bytes (the event was serialized once).
    pub fn same_bytes(&self, other: &Delivery) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// How many holders (tickets' buffers, streams) share these bytes now: diagnostics, and
    /// proof in tests that a dropped ticket released its events.
    pub fn holders(&self) -> usize {
        Arc::strong_count(&self.0)
    }
}

/// The object without its leading `"type"` member. Events serialize with `type` first, so this
/// is a slice operation; anything else falls back to re-serializing without the key.
fn data_form(json: &str, type_name: &str) -> Option<String> {
    let head = format!(r#"{{"type":"{type_name}""#);
    if let Some(rest) = json.strip_prefix(&head) {
        if let Some(members) = rest.strip_prefix(',') {
            return Some(format!("{{{members}"));
        }
        if rest == "}" {
            return Some("{}".to_owned());
        }
    }
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.as_object_mut()?.remove("type");
    serde_json::to_string(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::{AgentId, QueueName};

    #[test]
    fn full_and_data_forms() {
        let d = Delivery::new(&Event::QueueCount {
            queue: QueueName::parse("q1").unwrap(),
            count: 2,
        })
        .unwrap();
        assert_eq!(d.type_name(), "queueCount");
        assert_eq!(d.json(), r#"{"type":"queueCount","queue":"q1","count":2}"#);
        assert_eq!(d.data_json(), r#"{"queue":"q1","count":2}"#);
        assert!(!d.is_closed());
        let c = Delivery::closed("shutdown");
        assert_eq!(c.json(), r#"{"type":"closed","reason":"shutdown"}"#);
        assert_eq!(c.data_json(), r#"{"reason":"shutdown"}"#);
        assert!(c.is_closed());
    }

    #[test]
    fn data_form_of_every_shape() {
        assert_eq!(data_form(r#"{"type":"x"}"#, "x").unwrap(), "{}");
        assert_eq!(
            data_form(r#"{"a":1,"type":"x"}"#, "x").unwrap(),
            r#"{"a":1}"#
        );
        let d = Delivery::new(&Event::PhoneNumber {
            agent: AgentId::parse("147").unwrap(),
            number: None,
            name: None,
            queue: None,
        })
        .unwrap();
        assert_eq!(d.data_json(), r#"{"agent":"147","number":null}"#);
    }

    #[test]
    fn the_id_goes_right_after_the_type() {
        let id = EventId::parse("3f2a9c01-7").unwrap();
        let d = Delivery::new(&Event::QueueCount {
            queue: QueueName::parse("q1").unwrap(),
            count: 2,
        })
        .unwrap();
        assert_eq!(
            d.json_with_id(&id),
            r#"{"type":"queueCount","id":"3f2a9c01-7","queue":"q1","count":2}"#
        );
        let r = Delivery::resync("epoch");
        assert_eq!(r.json(), r#"{"type":"resync","reason":"epoch"}"#);
        assert_eq!(r.data_json(), r#"{"reason":"epoch"}"#);
        assert_eq!(
            r.json_with_id(&id),
            r#"{"type":"resync","id":"3f2a9c01-7","reason":"epoch"}"#
        );
        let empty = Delivery::new(&Event::PbxStatus { connected: true }).unwrap();
        let v: serde_json::Value = serde_json::from_str(&empty.json_with_id(&id)).unwrap();
        assert_eq!(v["id"], "3f2a9c01-7");
        assert_eq!(v["connected"], true);
    }

    #[test]
    fn sse_frames() {
        let d = Delivery::new(&Event::QueueCount {
            queue: QueueName::parse("q1").unwrap(),
            count: 2,
        })
        .unwrap();
        let mut out = bytes::BytesMut::new();
        d.write_sse(Some(&EventId::parse("3f2a9c01-7").unwrap()), &mut out);
        Delivery::closed("shutdown").write_sse(None, &mut out);
        assert_eq!(
            &out[..],
            b"event: queueCount\ndata: {\"queue\":\"q1\",\"count\":2}\nid: 3f2a9c01-7\n\n\
              event: closed\ndata: {\"reason\":\"shutdown\"}\n\n"
        );
    }

    #[test]
    fn clones_share_bytes() {
        let a = Delivery::closed("x");
        let b = a.clone();
        assert!(a.same_bytes(&b));
        assert!(!a.same_bytes(&Delivery::closed("x")));
    }
}
