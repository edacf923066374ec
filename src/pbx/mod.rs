//! The call-center model: agents, queues, members, devices and calls, digested from AMI events
//! into the events of [`event::Event`], with snapshots for new subscribers and a full rebuild
//! after every (re)connect.
//!
//! - [`ids`]: validated agent and queue names.
//! - [`event`]: the published events and the ticket [`event::Filter`].
//! - [`values`]: validated free-text values that travel to AMI (member names, reasons, ...).
//! - `validated`: the macro behind every validated string type.
//! - [`bounded`]: the bounded map that keeps the newest entries.
//! - [`names`]: the location template; agent ↔ interface, channel and device names.
//! - [`codes`]: Asterisk's status codes mapped to the model's values.
//! - [`state`]: the model and its pure `apply` (AMI event → published events).
//! - `dispatch`: which handler of `apply` an event name goes to.
//! - [`members`]: queue memberships, names, extension status.
//! - [`queues`]: waiting callers, queue figures, wallboard counts.
//! - [`bridges`]: bridge membership (who shares a bridge with an agent).
//! - [`channels`]: channel names by uniqueid, and the agents' calls as channels (`GET /calls`).
//! - [`waiting`]: the callers waiting in each queue (`queueCallers`).
//! - [`park_wait`]: waiting for where a call we parked waits (`POST /park-and-announce`).
//! - [`parking`]: parked calls of agents (`parked`).
//! - [`targets`]: what call control acts on: a channel name, or an agent's call.
//! - [`spies`]: supervisors spying on agents' calls (`spyStarted`/`spyStopped`).
//! - [`originates`]: our originates (failure, the destination while the agent's phone rings).
//! - [`calls`]: remote parties of the agents' calls (`phoneNumber`), bridges.
//! - [`snapshot`]: the subscriber view, snapshots, and the difference between two views.
//! - [`sync`]: the rebuild from list actions.
//! - [`summary`]: wallboard summary events.
//! - [`actions`]: the AMI actions of commands.
//! - [`status_report`]: `QueueStatus` answers as typed queue status reports.
//! - [`status_cache`]: single flight and short reuse of queue status answers.
//! - [`rebuild_buffer`]: live events kept while a rebuild runs, bounded in count and bytes.
//! - `task`: the loop that owns the model.
//! - `supervisor`: restarts the task, with a fresh model, when it panics.
//! - [`service`]: the task that owns the model, and its cloneable [`service::PbxHandle`].

pub mod actions;
pub mod bounded;
pub mod bridges;
pub mod calls;
pub mod channels;
pub mod codes;
mod dispatch;
pub mod event;
pub mod ids;
pub mod members;
pub mod names;
pub mod originates;
pub mod park_wait;
pub mod parking;
pub mod queues;
pub mod rebuild_buffer;
pub mod scope_set;
pub mod service;
pub mod snapshot;
pub mod spies;
pub mod state;
pub mod status_cache;
pub mod status_report;
pub mod summary;
mod supervisor;
pub mod sync;
pub mod targets;
mod task;
mod validated;
pub mod values;
pub mod variables;
pub mod waiting;

pub use event::{DeviceStatus, Event, Filter, MemberStatus, ParkState, SpyMode, WaitingCaller};
pub use ids::{AgentId, NameError, QueueName};
pub use names::Location;
pub use scope_set::ScopeSet;
pub use state::State;
pub use targets::{AgentOrChannel, ChannelName};
pub use values::{CallerId, Context, Destination, MemberName, PauseReason, ValueError};
pub use variables::{VariableName, VariableValue, Variables};
