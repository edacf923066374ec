//! The HTTP API: REST endpoints, authentication, the server and the stream transports.

mod app;
mod auth;
mod config;
mod rest;
mod server;
mod streams;
