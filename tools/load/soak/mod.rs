//! `pbxis-load soak`: the service and the simulated Asterisk under live call traffic and random
//! faults for a given time, with resuming subscribers on every transport (some behind a chaos
//! proxy that cuts their connections), reporting deliveries, resyncs and the service's RSS at a
//! fixed interval; then the traffic stops and every subscriber must come to the simulator's
//! truth. Not a test: nothing here is run in CI but its short version (`tests/it/load_tool.rs`).
//!
//! - `args`: flags and bounds; `child`: the service as a child process (its RSS is its own);
//! - `chaos`: the cutting proxy; `faults`: the faults injected into the simulator;
//! - `client`, `streams`: the resuming subscribers; `belief`: what they believe, and the truth;
//! - `run`: the phases; `report`: the lines, the RSS verdict and the summary.

pub mod args;
mod belief;
mod chaos;
pub(crate) mod child;
mod client;
mod faults;
mod report;
mod run;
mod streams;

pub use run::run;
pub(crate) use run::service_bin;
