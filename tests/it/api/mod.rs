//! The HTTP API: REST endpoints, authentication, the server and the stream transports.

mod app;
mod auth;
mod call_control;
mod call_control_races;
mod config;
mod logs;
mod observability;
mod openapi;
mod packaging;
mod queue_status;
mod rest;
mod server;
mod streams;
