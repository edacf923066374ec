//! Resumable streams: resume after cuts, resync, signed tickets.

mod front;
mod resume;
mod resync;
mod signed;
