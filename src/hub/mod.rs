//! Tickets: filter, bounded buffer and lifecycle of each subscriber; fan-out of the model's
//! events, each serialized once. (Interface only; lands with the web service issue.)
