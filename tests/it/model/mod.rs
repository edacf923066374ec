//! The model: applying AMI events, golden recordings, rebuilds, and the service over TCP.

mod apply;
mod call_control;
mod calls;
mod fairness;
mod fallback;
mod golden;
mod originate;
mod rebuild_calls;
mod service;
mod sync;
mod tcp_originate;
mod tcp_property;
mod tcp_restart;
mod wallboard;
