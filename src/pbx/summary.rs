//! Wallboard summary events (`queueSummary`, `memberSummary`), built from `QueueStatus` and
//! `QueueSummary` answers every `summary_refresh`.
