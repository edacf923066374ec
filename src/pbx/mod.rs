//! The call-center model: agents, queues, members, devices and calls, digested from AMI events
//! into the events of [`event::Event`], with snapshots for new subscribers and a full rebuild
//! after every (re)connect.
//!
//! - [`ids`]: validated agent and queue names.
//! - [`event`]: the published events and the ticket [`event::Filter`].
//! - [`values`]: validated free-text values that travel to AMI (member names, reasons, ...).
//! - [`service`]: the task that owns the model, and its cloneable [`service::PbxHandle`].

pub mod event;
pub mod ids;
pub mod service;
pub mod values;

pub use event::{DeviceStatus, Event, Filter, MemberStatus};
pub use ids::{AgentId, NameError, QueueName};
pub use values::{CallerId, Context, Destination, MemberName, PauseReason, ValueError};
