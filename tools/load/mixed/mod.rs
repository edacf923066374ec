//! `pbxis-load mixed`: the service under a mixed, realistic load. One agent page per agent (its
//! queues), supervisor pages (every agent, every queue) and wallboards (every queue, no agent,
//! summary events), each an SSE stream, while the simulated Asterisk runs live call traffic;
//! stamped probes on top (a `QueuePause` with the stamp as reason, rotating over the agents)
//! time each delivery to the agent's page and to every supervisor, and each caller's arrival in
//! a queue is timed from its AMI event to every page that lists it. Reports the AMI events per
//! second the service received, the events per second each kind of page read, latency
//! percentiles per kind, and the service's CPU (cores) and RSS. Not a test: nothing here runs in
//! CI but its short version (`tests/it/load_tool.rs`).
//!
//! - `args`: flags, bounds, the call center they describe; `rig`: the simulator, the service
//!   (a child process), the probe driver and the tickets;
//! - `streams`: the pages' SSE clients; `pages`: what they count, per kind of page; `joins`:
//!   when each caller joined a queue, for the pages' second latency (AMI event to page); `run`: the phases; `report`: the
//!   figures, the verdicts and the table.

pub mod args;
mod joins;
mod pages;
mod report;
mod rig;
mod run;
mod streams;

pub use run::run;
