//! Resumable streams: resume after cuts, resync, signed tickets.

mod resume;
mod resync;
mod signed;
