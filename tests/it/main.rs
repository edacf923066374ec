//! The integration tests, one binary: each module is one concept, tested over real TCP against
//! the simulated Asterisk and the service on port 0 (`support` starts them).

mod ami;
mod api;
mod attack;
mod ha_failover;
mod hub;
mod load_tool;
mod model;
mod pipeline;
mod security_props;
mod sim;
mod stream;
mod support;
