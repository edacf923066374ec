//! The simulated Asterisk: protocol, fidelity to the recordings, traffic, faults.

mod call_control;
mod faults;
mod fidelity;
mod order;
mod protocol;
mod traffic;
