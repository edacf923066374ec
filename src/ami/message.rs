//! One AMI message as it travels on the wire: ordered `Key: Value` fields, repeated keys kept,
//! keys looked up case-insensitively. The same type carries actions (client → server),
//! responses and events (server → client); what a message *means* is decided above this layer.
//!
//! Storage is one `String` plus index ranges, so decoding a message costs two allocations no
//! matter how many fields it has (the busy transcript averages 15 fields a message): the text,
//! and the field index at its exact size.

use std::fmt;
use std::ops::Range;

/// What a message is, decided by its first field (Asterisk never reorders the first field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// First field `Action:`: a request from a client.
    Action,
    /// First field `Response:`: the answer to an action.
    Response,
    /// First field `Event:`: an event or a list item. Some events carry a `Response:` field too
    /// (`OriginateResponse`), which is why only the *first* field decides.
    Event,
    /// Anything else (empty, or garbage from a broken peer).
    Other,
}

/// Where one field's key and value lie in the message text (byte offsets, end excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) key: (u32, u32),
    pub(crate) value: (u32, u32),
}

/// An AMI message: an ordered multimap of fields. Two messages are equal when their fields are
/// (same keys, same values, same order), however they were built.
#[derive(Clone, Default)]
pub struct AmiMessage {
    text: String,
    fields: Vec<Field>,
}

impl AmiMessage {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// An action message: `Action: <name>` as its first field.
    pub fn action(name: &str) -> Self {
        Self::new().with("Action", name)
    }

    /// An event message: `Event: <name>` as its first field.
    pub fn event(name: &str) -> Self {
        Self::new().with("Event", name)
    }

    /// A response message: `Response: <status>` as its first field.
    pub fn response(status: &str) -> Self {
        Self::new().with("Response", status)
    }

    /// Builder form of [`AmiMessage::push`].
    pub fn with(mut self, key: &str, value: impl AsRef<str>) -> Self {
        self.push(key, value.as_ref());
        self
    }

    /// Appends a field (repeated keys are kept, in order).
    pub fn push(&mut self, key: &str, value: &str) {
        let key = self.append(key);
        let value = self.append(value);
        self.fields.push(Field { key, value });
    }

    /// Replaces every field named `key` by one with `value` at the place of the first, or
    /// appends it when absent.
    pub fn set(&mut self, key: &str, value: &str) {
        match self.position(key) {
            Some(first) => {
                let mut i = 0;
                let text = &self.text;
                self.fields.retain(|f| {
                    let keep = i <= first || !slice(text, f.key).eq_ignore_ascii_case(key);
                    i += 1;
                    keep
                });
                let value = self.append(value);
                self.fields[first].value = value;
            }
            None => self.push(key, value),
        }
    }

    /// Removes every field named `key`.
    pub fn remove(&mut self, key: &str) {
        let text = &self.text;
        self.fields
            .retain(|f| !slice(text, f.key).eq_ignore_ascii_case(key));
    }

    fn append(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.push_str(s);
        (to_u32(start), to_u32(self.text.len()))
    }

    /// Builds a message from decoded text and the field ranges inside it (used by the codec).
    pub(crate) fn from_parts(text: String, ranges: Vec<(Range<usize>, Range<usize>)>) -> Self {
        let fields = ranges
            .into_iter()
            .map(|(k, v)| Field {
                key: (to_u32(k.start), to_u32(k.end)),
                value: (to_u32(v.start), to_u32(v.end)),
            })
            .collect();
        Self { text, fields }
    }

    /// Builds a message from decoded text and the spans of its fields inside it (the codec's
    /// fast path; every span must lie on character boundaries of `text`, or it reads as empty).
    pub(crate) fn from_spans(text: String, fields: &[Field]) -> Self {
        Self {
            text,
            fields: fields.to_vec(),
        }
    }

    /// Whether `f`'s key is `key` (ASCII case-insensitive). The length is compared from the
    /// span before any byte is read, so a lookup mostly skips fields on one subtraction; bytes
    /// equal to a `&str` always lie on character boundaries, so this agrees with comparing the
    /// keys as text.
    fn key_is(&self, f: &Field, key: &[u8]) -> bool {
        let (start, end) = f.key;
        end.wrapping_sub(start) as usize == key.len()
            && self
                .text
                .as_bytes()
                .get(start as usize..end as usize)
                .is_some_and(|k| k.eq_ignore_ascii_case(key))
    }

    fn position(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
        self.fields.iter().position(|f| self.key_is(f, key))
    }

    /// The first value of `key` (case-insensitive), as Asterisk itself reads headers.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key)
            .map(|i| slice(&self.text, self.fields[i].value))
    }

    /// The first values of several keys (case-insensitive) in one pass over the fields: for
    /// each key, what [`AmiMessage::get`] answers. A field whose key length is that of no key
    /// still missing is passed over on one bit test, without reading its bytes.
    pub fn get_each<const N: usize>(&self, keys: [&str; N]) -> [Option<&str>; N] {
        let mut found = [None; N];
        let mut lengths = missing_lengths(&keys, &found);
        for f in &self.fields {
            let (start, end) = f.key;
            let len = end.wrapping_sub(start) as usize;
            if length_bit(len) & lengths == 0 {
                continue;
            }
            let Some(k) = self.text.as_bytes().get(start as usize..end as usize) else {
                continue;
            };
            let mut hit = false;
            for (key, slot) in keys.iter().zip(found.iter_mut()) {
                if key.len() == len && slot.is_none() && k.eq_ignore_ascii_case(key.as_bytes()) {
                    *slot = Some(slice(&self.text, f.value));
                    hit = true;
                }
            }
            if hit {
                lengths = missing_lengths(&keys, &found);
            }
        }
        found
    }

    /// Every value of `key` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |f| self.key_is(f, key.as_bytes()))
            .map(move |f| slice(&self.text, f.value))
    }

    /// True when `key` is present (case-insensitive).
    pub fn has(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// All fields in order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.fields
            .iter()
            .map(move |f| (slice(&self.text, f.key), slice(&self.text, f.value)))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Roughly the memory this message holds (its text, its field index and itself), for the
    /// byte bounds of whoever keeps messages waiting.
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.text.len()
            + self.fields.len() * std::mem::size_of::<Field>()
    }

    /// True when the message has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The kind, from the first field.
    pub fn kind(&self) -> MessageKind {
        match self.fields.first() {
            Some(f) if self.key_is(f, b"Event") => MessageKind::Event,
            Some(f) if self.key_is(f, b"Response") => MessageKind::Response,
            Some(f) if self.key_is(f, b"Action") => MessageKind::Action,
            _ => MessageKind::Other,
        }
    }

    /// The event name when this is an event (one look at the first field).
    pub fn event_name(&self) -> Option<&str> {
        let f = self.fields.first()?;
        self.key_is(f, b"Event").then(|| slice(&self.text, f.value))
    }

    /// True when this is the event `name` (case-insensitive).
    pub fn is_event(&self, name: &str) -> bool {
        self.event_name()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }

    /// The action name when this is an action.
    pub fn action_name(&self) -> Option<&str> {
        match self.kind() {
            MessageKind::Action => self.fields().next().map(|(_, v)| v),
            _ => None,
        }
    }

    /// The response status (`Success`, `Error`, `Goodbye`, `Follows`) when this is a response.
    pub fn response_status(&self) -> Option<&str> {
        match self.kind() {
            MessageKind::Response => self.fields().next().map(|(_, v)| v),
            _ => None,
        }
    }

    /// True for a response whose status is `Success` (or the old `Follows`).
    pub fn is_success(&self) -> bool {
        self.response_status()
            .is_some_and(|s| s.eq_ignore_ascii_case("Success") || s.eq_ignore_ascii_case("Follows"))
    }

    /// The `ActionID` field.
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// The `Message` field (the human text of a response).
    pub fn message(&self) -> Option<&str> {
        self.get("Message")
    }
}

/// The lengths of the keys not found yet.
fn missing_lengths<const N: usize>(keys: &[&str; N], found: &[Option<&str>; N]) -> u64 {
    keys.iter()
        .zip(found)
        .filter(|(_, f)| f.is_none())
        .fold(0, |bits, (k, _)| bits | length_bit(k.len()))
}

/// One bit per key length (lengths of 63 bytes and more share the last): a set of lengths in a
/// word, for [`AmiMessage::get_each`].
fn length_bit(len: usize) -> u64 {
    1u64 << len.min(63)
}

fn slice(text: &str, (start, end): (u32, u32)) -> &str {
    text.get(start as usize..end as usize).unwrap_or("")
}

pub(crate) fn to_u32(n: usize) -> u32 {
    // Messages are capped far below 4 GiB by the codec; saturate rather than wrap.
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl PartialEq for AmiMessage {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.fields().eq(other.fields())
    }
}

impl Eq for AmiMessage {}

impl fmt::Debug for AmiMessage {
    /// Shows the fields; values of `Secret` and `Key` are redacted so that a login action can be
    /// logged safely.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_list();
        for (k, v) in self.fields() {
            if k.eq_ignore_ascii_case("Secret") || k.eq_ignore_ascii_case("Key") {
                map.entry(&format_args!("{k}: <redacted>"));
            } else {
                map.entry(&format_args!("{k}: {v}"));
            }
        }
        map.finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for AmiMessage {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Self::new();
        for (k, v) in iter {
            m.push(k.as_ref(), v.as_ref());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_first_wins() {
        let m = AmiMessage::event("QueueMember")
            .with("Queue", "q1")
            .with("ActionID", "a1")
            .with("queue", "q2");
        assert_eq!(m.get("QUEUE"), Some("q1"));
        assert_eq!(m.get_all("queue").collect::<Vec<_>>(), vec!["q1", "q2"]);
        assert_eq!(m.action_id(), Some("a1"));
        assert_eq!(m.kind(), MessageKind::Event);
        assert!(m.is_event("queuemember"));
        assert_eq!(
            m.get_each(["queue", "Missing", "ACTIONID", "Event"]),
            [Some("q1"), None, Some("a1"), Some("QueueMember")]
        );
        let long = "K".repeat(70);
        let m = m.with(&long, "v").with(&"K".repeat(64), "w");
        assert_eq!(
            m.get_each([long.as_str(), "Queue"]),
            [Some("v"), Some("q1")]
        );
    }

    #[test]
    fn only_the_first_field_decides_the_kind() {
        let m = AmiMessage::event("OriginateResponse").with("Response", "Failure");
        assert_eq!(m.kind(), MessageKind::Event);
        assert_eq!(m.response_status(), None);
        let r = AmiMessage::response("Success").with("Message", "ok");
        assert!(r.is_success());
    }

    #[test]
    fn set_replaces_all_and_keeps_position() {
        let mut m = AmiMessage::action("Login")
            .with("Secret", "a")
            .with("X", "1")
            .with("secret", "b");
        m.set("Secret", "c");
        let fields: Vec<_> = m.fields().collect();
        assert_eq!(
            fields,
            vec![("Action", "Login"), ("Secret", "c"), ("X", "1")]
        );
        m.remove("x");
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn debug_redacts_secrets() {
        let m = AmiMessage::action("Login").with("Secret", "hunter2");
        let shown = format!("{m:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
