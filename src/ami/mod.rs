//! The client side of the Asterisk Manager Interface, and the framing the simulator shares.
//!
//! - [`message`]: one AMI message (ordered multimap of fields, case-insensitive lookup).
//! - [`codec`]: bytes ⇄ messages, size caps, and the injection guard on everything written.
//! - [`client`]: the connection actor (login, ActionID correlation, lists, keep-alive,
//!   reconnect) and its cloneable [`AmiHandle`].

pub mod client;
pub mod codec;
pub mod message;
pub mod transcript;

pub use client::{AmiConfig, AmiError, AmiHandle, AmiList, ClientEvent};
pub use codec::{AmiCodec, AmiFrame, CodecError};
pub use message::{AmiMessage, MessageKind};
