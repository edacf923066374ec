//! The simulated Asterisk: a real AMI server over TCP running a live app_queue call center.
//!
//! - [`config`]: what the simulated call center is made of ([`SimConfig`]).
//! - [`handle`]: the library API tests and the demo drive it with ([`SimHandle`], [`start`]).
//! - [`truth`]: the simulator's own view of its state ([`SimSnapshot`]), for assertions.
//! - `server` / `session`: the listener and one AMI connection (login, event mask, writer).
//! - `engine`: the one task that owns the state, runs actions and timed steps in order.
//! - `state`: queues, members, devices and hints, channels, calls.
//! - `actions`: one handler per AMI action, answered as Asterisk 22 answers.
//! - `events`: builders of the events Asterisk emits, with the recorded field names.
//! - `traffic`: callers, ringing per strategy, answer, talk, hangup, abandon; originates.
//! - [`cli`]: `pbxis-ws simulate`; [`console`]: faults and calls typed while it runs.

mod actions;
pub mod cli;
pub mod config;
pub mod console;
mod devices;
mod engine;
mod events;
pub mod handle;
mod server;
mod session;
mod state;
mod traffic;
pub mod truth;

pub use cli::{run, SimulateArgs};
pub use config::SimConfig;
pub use handle::{start, SimHandle};
pub use truth::{CallTruth, MemberTruth, QueueTruth, SimSnapshot};
