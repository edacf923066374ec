//! The schemas of the values the API takes and gives that are not derived: the validated
//! strings of the model (character set and length as `pbx::ids` and `pbx::values` check them),
//! and the JSON shapes of the answers (`{"error": ..}`, `/ready`, a queue's status).

use serde::Serialize;
use std::borrow::Cow;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::pbx::{
    AgentId, AgentOrChannel, CallerId, Destination, MemberName, PauseReason, QueueName, SpyMode,
    Variables,
};

/// A string schema: description, length bounds, and a pattern when the set is ASCII.
fn string(description: &str, max: usize, pattern: Option<&str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(pattern)
        .into()
}

macro_rules! validated_schema {
    ($name:ident, $description:expr, $max:expr, $pattern:expr) => {
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string($description, $max, $pattern)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

validated_schema!(
    AgentId,
    "An agent: the extension number or endpoint name it is known by (`147`).",
    64,
    Some("^[A-Za-z0-9_.+-]{1,64}$")
);
validated_schema!(
    QueueName,
    "A queue name as configured in Asterisk (`q1`).",
    64,
    Some("^[A-Za-z0-9_.-]{1,64}$")
);
validated_schema!(
    MemberName,
    "The name Asterisk shows for a queue member (`Agent 147`): letters of any script, digits, \
     space and `_ - . ' ( ) @ +`; no leading or trailing space.",
    64,
    None
);
validated_schema!(
    PauseReason,
    "Why an agent pauses (`lunch`): letters, digits, space and `_ - . ' ( ) / : + ! ?`; no \
     leading or trailing space.",
    80,
    None
);
validated_schema!(
    CallerId,
    "The caller id presented to the called party (`7012888`, `\"Sales\" <7012888>`): letters, \
     digits, space and `+ * # _ - . ' ( ) < > \" @`; no leading or trailing space.",
    80,
    None
);
validated_schema!(
    Destination,
    "A number or extension to call (`1562830`, `*97`): ASCII letters, digits and `* # + _ . -`; \
     not starting with `_` (a dialplan pattern), not a special extension (`s`, `h`, `i`, `t`, \
     `T`, `o`, `a`, `e`, `failed`, `talk`).",
    40,
    Some("^[A-Za-z0-9*#+.-][A-Za-z0-9*#+_.-]{0,39}$")
);

validated_schema!(
    AgentOrChannel,
    "An agent id (`147`: its one call) or a channel name (`PJSIP/147-0000002a`): ASCII letters, \
     digits and `/ @ - _ . ; : + # * ~ =`, `Tech/resource` (a `/` makes it a channel).",
    80,
    Some("^[A-Za-z0-9/@_.;:+#*~=-]{1,80}$")
);

impl PartialSchema for SpyMode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["listen", "whisper", "barge"]))
            .description(Some(
                "`listen`: nobody hears the supervisor; `whisper`: only the agent does; `barge`: \
                 both sides do.",
            ))
            .into()
    }
}

impl ToSchema for SpyMode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SpyMode")
    }
}

/// One call of an agent, as channels (`GET /calls`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CallChannels {
    /// The agent's own channel.
    pub agent_channel: Option<String>,
    /// The channel the agent's channel is bridged (or ringing) to.
    pub bridged_channel: Option<String>,
    /// The remote party's number.
    pub caller_id: String,
    /// The remote party's name.
    pub name: Option<String>,
    /// The queue the call came through.
    pub queue: Option<String>,
    /// The call the agent's `phoneNumber` shows.
    pub shown: bool,
}

/// A candidate call of a 409 (`POST /hangup`, `/redirect-to`, `/park-and-announce` naming an
/// agent with several calls).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct Candidate {
    /// The agent's own channel.
    pub agent_channel: Option<String>,
    /// The channel bridged to it: name it to act on this call.
    pub bridged_channel: Option<String>,
    /// The remote party's number.
    pub caller_id: String,
}

/// The answer of `POST /park-and-announce`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Parked {
    /// Asterisk's message (`Park successful`).
    pub message: String,
    /// The parking lot.
    pub lot: Option<String>,
    /// The parking space: the extension that picks the call up.
    pub space: Option<String>,
    /// Seconds before the call rings back.
    pub timeout: Option<u64>,
}

/// The 409 of an agent with several calls.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct SeveralCalls {
    /// What went wrong.
    pub error: String,
    /// The agent's calls.
    pub candidates: Vec<Candidate>,
}

impl PartialSchema for Variables {
    fn schema() -> RefOr<Schema> {
        let value = ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(200))
            .description(Some(
                "Letters (any script), digits, space and `_ - . : / @ + # * ( ) ' ! ? % & = ; ~ [ ]`; \
                 no comma; no leading or trailing space.",
            ));
        let name = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Za-z_][A-Za-z0-9_]{0,39}$"));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Channel variables set on the call (`{\"CRM_ID\":\"42\"}`), at most 20; in the query \
                 or a form, the same JSON object as a string.",
            ))
            .property_names(Some(name))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(value.into()))))
            .max_properties(Some(crate::pbx::variables::MAX_VARIABLES))
            .into()
    }
}

impl ToSchema for Variables {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Variables")
    }
}

/// Every error: `{"error": "..."}`, the message naming the parameter when one is at fault.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong (`parameter `agent`: is required`).
    pub error: String,
}

/// The answer of a queue action: Asterisk's message.
#[derive(Serialize, ToSchema)]
pub struct ActionMessage {
    /// Asterisk's message (`Added interface to queue`).
    pub message: String,
}

/// The answer of `POST /stop`.
#[derive(Serialize, ToSchema)]
pub struct Stopping {
    /// Always `stopping`.
    #[schema(example = "stopping")]
    pub status: String,
}

/// The answer of `GET /key`.
#[derive(Serialize, ToSchema)]
pub struct KeyScopes {
    /// The scopes of the request's key (`events`, `control`, `supervise`, `admin`, `health`);
    /// every scope on a service without keys.
    #[schema(example = json!(["control", "events"]))]
    pub scopes: Vec<String>,
}

/// The answer of `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// The answer of `GET /ready` (200 when ready, else 503).
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// Connected, the model built, and not stopping.
    pub ready: bool,
    /// Connected to Asterisk.
    pub connected: bool,
    /// Stopping: still serving, but no longer ready.
    pub draining: bool,
    /// Live tickets.
    pub tickets: u64,
    /// Open streams.
    pub streams: u64,
}

/// The status of one queue, as Asterisk reports it (`QueueParams`), named and typed as
/// asterisk-java's `QueueParamsEvent`: numbers are numbers; fields Asterisk adds keep its name
/// with a lower-case first letter, and a value that does not parse as its type is Asterisk's
/// text.
#[derive(Serialize, ToSchema)]
pub struct QueueStatus {
    /// The queue.
    pub queue: String,
    /// Its members (agents restricted away from the key are left out).
    pub members: Vec<QueueMemberStatus>,
    /// Most callers waiting (0: no limit).
    pub max: Option<i64>,
    /// Asterisk's strategy (`ringall`).
    pub strategy: Option<String>,
    /// Callers waiting.
    pub calls: Option<i64>,
    /// Average hold time, seconds.
    #[serde(rename = "holdTime")]
    pub hold_time: Option<i64>,
    /// Average talk time, seconds.
    #[serde(rename = "talkTime")]
    pub talk_time: Option<i64>,
    /// Calls answered.
    pub completed: Option<i64>,
    /// Calls abandoned.
    pub abandoned: Option<i64>,
    /// Service level threshold, seconds.
    #[serde(rename = "serviceLevel")]
    pub service_level: Option<i64>,
    /// Service level performance, percent.
    #[serde(rename = "serviceLevelPerf")]
    pub service_level_perf: Option<f64>,
    /// Service level performance (second definition), percent.
    #[serde(rename = "serviceLevelPerf2")]
    pub service_level_perf2: Option<f64>,
    /// The queue's weight.
    pub weight: Option<i64>,
}

/// One member of a queue, as asterisk-java's `QueueMemberEvent`.
#[derive(Serialize, ToSchema)]
pub struct QueueMemberStatus {
    /// The member's interface (`PJSIP/147`).
    pub location: String,
    /// The member name.
    pub name: Option<String>,
    /// The interface whose state is the member's.
    pub stateinterface: Option<String>,
    /// `dynamic`, `static` or `realtime`.
    pub membership: Option<String>,
    /// Penalty.
    pub penalty: Option<i64>,
    /// Calls taken.
    #[serde(rename = "callsTaken")]
    pub calls_taken: Option<i64>,
    /// Epoch seconds of the last call.
    #[serde(rename = "lastCall")]
    pub last_call: Option<i64>,
    /// Epoch seconds of the last pause.
    #[serde(rename = "lastPause")]
    pub last_pause: Option<i64>,
    /// Epoch seconds of the login.
    #[serde(rename = "loginTime")]
    pub login_time: Option<i64>,
    /// 1 while in a call.
    pub incall: Option<i64>,
    /// Asterisk's device state, 0–8.
    pub status: Option<i64>,
    /// Paused.
    pub paused: Option<bool>,
    /// The pause reason.
    pub pausedreason: Option<String>,
    /// Wrap-up time, seconds.
    pub wrapuptime: Option<i64>,
}

/// The answer of `GET /queue/status`: one queue with `?queue=`, else every queue.
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(untagged)]
pub enum QueueStatusAnswer {
    /// `?queue=q1`.
    One(Box<QueueStatus>),
    /// Every queue the key may see.
    All(Vec<QueueStatus>),
}
pub use super::events::Event;
