//! The simulated Asterisk: a real AMI server over TCP running a live app_queue call center.
//!
//! - [`config`]: what the simulated call center is made of ([`SimConfig`]).
//! - [`handle`]: the library API tests and the demo drive it with ([`SimHandle`], [`start`]).
//! - [`truth`]: the simulator's own view of its state ([`SimSnapshot`]), for assertions.
//! - `server` / `session`: the listener and one AMI connection (login, writer); `mask`: event
//!   masks and which events a session receives.
//! - `engine`: the one task that owns the state, runs actions and timed steps in order.
//! - `state`: queues, members, devices and hints, channels, calls.
//! - `actions`: one handler per AMI action, answered as Asterisk 22 answers.
//! - `events`: builders of the events Asterisk emits, with the recorded field names.
//! - `traffic`: callers, ringing per strategy, answer, talk, hangup, abandon; originates.
//! - [`cli`]: `pbxis-ws simulate`; [`console`]: faults and calls typed while it runs.
//!
//! The simulated dialplan, for clients that drive it through AMI alone:
//! - `Originate` of `Local/<queue>@callers` with `Application: Wait`, `Data: <seconds>` and
//!   `CallerID` is a caller entering that queue half a second later, as in the recorded rig;
//!   `Data` is its lifetime (it abandons, or hangs up while talking, when it runs out);
//!   `Variable: MAXWAIT=<s>` is the `Queue()` timeout, `Variable: TALKTIME=<s>` how long the
//!   agent talks before hanging up.
//! - `Originate` of an agent (`PJSIP/<agent>`, its member interface, or `Local/<agent>@agents`)
//!   with `Context`/`Exten` rings the agent's phone; once answered the outside number is dialled
//!   and answers after a second. Extensions that exist: the agents, the queues, feature codes
//!   (`*97`), numbers of five digits or more. A busy agent fails with Reason 5, anything else
//!   unreachable with Reason 0, no answer within `Timeout` with Reason 3.
//! - `Setvar DEVICE_STATE(<device>)` sets a device (e.g. `UNAVAILABLE`), `Redirect` of a
//!   waiting caller to a queue's extension moves it there, `Command: core restart now`
//!   restarts the simulator (the restart fault).
//! - Call control as recorded (09-13): `Redirect` of a talking caller to an agent's extension
//!   (with `ExtraChannel`: a dual redirect) and `BlindTransfer` of the member's leg run that
//!   agent's phone; `Park` puts the caller in `default` (701-720, 20 s, then the
//!   `TimeoutChannel`'s agent is called back), an Originate into `parkedcalls,<space>` picks
//!   it up; `Hangup` of a member's leg; an Originate running `ChanSpy` with a channel prefix
//!   spies on the first channel it matches; `ChannelId` becomes the phone channel's Uniqueid.

mod actions;
pub mod cli;
pub mod config;
pub mod console;
mod devices;
mod engine;
mod events;
pub mod handle;
mod mask;
mod server;
mod session;
mod state;
mod traffic;
pub mod truth;

pub use cli::{run, SimulateArgs};
pub use config::SimConfig;
pub use handle::{start, SimHandle};
pub use truth::{CallTruth, MemberTruth, QueueTruth, SimSnapshot};
