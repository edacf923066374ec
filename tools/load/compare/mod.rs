//! `pbxis-load compare`: pbxis-ws and Pushpin (a real-time push proxy people put in front of
//! such back ends) side by side, one after the other on the same machine: the same SSE
//! subscribers held by the same client code, the same stamped events (through the simulated
//! Asterisk for pbxis-ws, through Pushpin's HTTP publish API for Pushpin), the same measures
//! (memory per idle subscriber, one broadcast's fan-out time, latency at N × R, CPU per
//! delivery) and their ratios. Not a test: nothing here runs in CI.
//!
//! - `args`: flags; `run`: the phases; `report`: the figures and the table;
//! - `fleet`, `wire`, `wsframe`: the subscribers; `procs`: memory and CPU of a set of processes;
//! - `pbxis`, `pushpin`: the two sides.

pub mod args;
mod fleet;
mod pbxis;
pub(crate) mod procs;
mod pushpin;
mod report;
mod run;
pub(crate) mod wire;
mod wsframe;

pub use run::run;
