//! The event types as schemas (README "Events", DESIGN "Events"): one object per type, its
//! `type` a constant, its scope keys and details, the `id` every delivered event carries, and
//! nothing else (`additionalProperties: false`, so a field added to an event without its schema
//! fails the tests that validate real events against these). `Event` is their `oneOf`,
//! discriminated by `type`.
//!
//! The structs below only describe: the events themselves are `pbx::Event` and the hub's
//! transport events (`resync`, `closed`), and the WebSocket's `heartbeat`.

use std::borrow::Cow;
use utoipa::openapi::schema::{
    AdditionalProperties, Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::pbx::{AgentId, QueueName};

mod call_control;

/// A device (extension) status.
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Idle.
    NotInuse,
    /// In a call.
    Inuse,
    /// Busy.
    Busy,
    /// Unreachable.
    Unavailable,
    /// Ringing.
    Ringing,
    /// In a call and ringing for another.
    Ringinuse,
    /// Holding a call.
    Onhold,
    /// Not known.
    Unknown,
}

/// An agent's status in one queue: `loggedoff` (not a member), `paused`, or, as a member not
/// paused, its device status.
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Not a member of the queue.
    Loggedoff,
    /// A member, paused.
    Paused,
    /// Idle.
    NotInuse,
    /// In a call.
    Inuse,
    /// Busy.
    Busy,
    /// Unreachable.
    Unavailable,
    /// Ringing.
    Ringing,
    /// In a call and ringing for another.
    Ringinuse,
    /// Holding a call.
    Onhold,
    /// Not known.
    Unknown,
}

/// `agentName`: the member name of an agent became known or changed.
#[derive(ToSchema)]
#[allow(dead_code)]
struct AgentName {
    agent: AgentId,
    /// The member name Asterisk uses.
    name: String,
}

/// `extensionStatus`: the agent's device state changed.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ExtensionStatus {
    agent: AgentId,
    status: DeviceStatus,
}

/// `queueMemberStatus`: log on/off, pause/unpause, or a member status change in one queue.
#[derive(ToSchema)]
#[allow(dead_code)]
struct QueueMemberStatus {
    agent: AgentId,
    queue: QueueName,
    status: MemberStatus,
    /// The pause reason, when paused with one.
    reason: Option<String>,
}

/// `phoneNumber`: the remote party patched to the agent's extension changed (`number` null
/// when the call ended). `queue` is a detail here, not a scope key.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PhoneNumber {
    agent: AgentId,
    /// The remote party's number; null when the call ended.
    #[schema(required = true)]
    number: Option<String>,
    /// The remote party's name, if known.
    name: Option<String>,
    /// The queue the call came through.
    queue: Option<QueueName>,
}

/// `queueCount`: a caller joined or left a queue.
#[derive(ToSchema)]
#[allow(dead_code)]
struct QueueCount {
    queue: QueueName,
    /// Callers waiting now.
    count: u32,
}

/// `agentComplete`: a queue call answered by the agent ended.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct AgentComplete {
    agent: AgentId,
    /// The caller's unique id.
    unique_id: String,
    /// Talk time, seconds.
    talk_time: u64,
    /// Hold (wait) time before the answer, seconds.
    hold_time: u64,
    /// The queue (a detail, not a scope key).
    queue: QueueName,
    /// Who ended it: `caller`, `agent` or `transfer`.
    reason: String,
}

/// `originateFailed`: an originate request from this agent's extension failed.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct OriginateFailed {
    /// The `src` agent of the originate.
    agent: AgentId,
    /// The action id `POST /originate` answered.
    action_id: String,
    /// Why, in words (`no answer`, `busy`, ...).
    reason: String,
}

/// `queueSummary`: wallboard figures of a queue (only with `summaryEvents`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct QueueSummary {
    queue: QueueName,
    /// Callers waiting.
    waiting: u32,
    /// Longest current wait, seconds.
    longest_wait: u64,
    /// Members logged in (paused included).
    logged_in: u32,
    /// Members available to take a call.
    available: u32,
    /// Calls answered.
    completed: u64,
    /// Calls abandoned.
    abandoned: u64,
    /// Average hold time, seconds.
    hold_time: u64,
    /// Average talk time, seconds.
    talk_time: u64,
    /// Service level threshold, seconds.
    service_level: u64,
    /// Percentage of answered calls within the service level.
    service_level_perf: f64,
}

/// `memberSummary`: wallboard figures of one member of a queue (only with `summaryEvents`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct MemberSummary {
    agent: AgentId,
    queue: QueueName,
    /// The member name.
    member_name: String,
    /// The queue interface.
    location: String,
    /// Calls taken.
    calls_taken: u64,
    /// Epoch seconds of the last call (0: none).
    last_call: u64,
    /// In a call from this queue.
    incall: bool,
    /// Paused.
    paused: bool,
}

/// `pbxStatus`: the link to Asterisk went down or came back (also in every snapshot). Goes to
/// every ticket.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PbxStatus {
    /// True while connected to Asterisk with the state current.
    connected: bool,
}

/// `resync`: the stream could not resume exactly; forget your state, a fresh snapshot follows.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Resync {
    /// `history`, `epoch`, `unknownId`, `overflow`, `restart` or `revived`.
    reason: String,
}

/// `closed`: the last event of a stream. Goes to every ticket.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Closed {
    /// Why (`ended`, `shutdown`, `replaced`, `overflow`, `unknownTicket`, ...).
    reason: String,
}

/// `heartbeat`: with `?heartbeat=1`, at every keep-alive (WebSocket message; SSE event).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Heartbeat {
    /// The keep-alive interval, milliseconds.
    interval_ms: u64,
}

/// Every event type: its name (the `type` field), the schema of its other fields, and the
/// schemas its fields refer to.
type Described = (
    &'static str,
    RefOr<Schema>,
    fn(&mut Vec<(String, RefOr<Schema>)>),
);

fn event_types() -> Vec<Described> {
    fn of<T: ToSchema>(name: &'static str) -> Described {
        (name, T::schema(), T::schemas)
    }
    vec![
        of::<AgentName>("agentName"),
        of::<ExtensionStatus>("extensionStatus"),
        of::<QueueMemberStatus>("queueMemberStatus"),
        of::<PhoneNumber>("phoneNumber"),
        of::<QueueCount>("queueCount"),
        of::<call_control::QueueCallers>("queueCallers"),
        of::<call_control::Parked>("parked"),
        of::<call_control::Spy>("spyStarted"),
        of::<call_control::Spy>("spyStopped"),
        of::<AgentComplete>("agentComplete"),
        of::<OriginateFailed>("originateFailed"),
        of::<QueueSummary>("queueSummary"),
        of::<MemberSummary>("memberSummary"),
        of::<PbxStatus>("pbxStatus"),
        of::<Resync>("resync"),
        of::<Closed>("closed"),
        of::<Heartbeat>("heartbeat"),
    ]
}

/// The name of every event type, as in its `type` field.
pub fn type_names() -> Vec<&'static str> {
    event_types().into_iter().map(|(name, ..)| name).collect()
}

/// The component name of an event type's schema: `queueCount` → `QueueCountEvent`.
pub fn schema_name(type_name: &str) -> String {
    let mut chars = type_name.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    first.into_iter().chain(chars).collect::<String>() + "Event"
}

/// Any event: the `oneOf` of the event types' schemas, discriminated by `type`.
pub struct Event;

impl PartialSchema for Event {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new();
        let mut discriminator = Discriminator::new("type");
        for (type_name, ..) in event_types() {
            let reference = format!("#/components/schemas/{}", schema_name(type_name));
            discriminator
                .mapping
                .insert(type_name.to_owned(), reference.clone());
            one_of = one_of.item(Ref::new(reference));
        }
        let one_of = one_of
            .discriminator(Some(discriminator))
            .description(Some(
                "One event: `type`, its scope keys (`agent`, `queue`) and details. Every event a \
                 stream delivers carries its position, `id` (`<epoch>-<seq>`); events without \
                 scope keys (`pbxStatus`, `closed`) go to every ticket.",
            ))
            .build();
        RefOr::T(Schema::OneOf(one_of))
    }
}

impl ToSchema for Event {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Event")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for (type_name, fields, nested) in event_types() {
            schemas.push((schema_name(type_name), event_schema(type_name, fields)));
            nested(schemas);
        }
        schemas.push(("DeviceStatus".into(), DeviceStatus::schema()));
        schemas.push(("MemberStatus".into(), MemberStatus::schema()));
    }
}

/// `fields` with a constant `type`, an optional `id`, and no other property.
fn event_schema(type_name: &str, fields: RefOr<Schema>) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = fields else {
        return fields;
    };
    let type_property = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([type_name]))
        .build();
    let id = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "The event's position in its stream, `<epoch>-<seq>` (absent outside a stream).",
        ))
        .build();
    object
        .properties
        .insert("type".into(), type_property.into());
    object.properties.insert("id".into(), id.into());
    object.required.insert(0, "type".into());
    object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    RefOr::T(Schema::Object(object))
}
