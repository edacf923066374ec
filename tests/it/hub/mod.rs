//! Tickets, fan-out and the stream lifecycle.

mod fanout;
mod lifecycle;
mod pipeline;
mod streams;
