//! The AMI client against scripted servers, the codec's properties, and the message's field
//! lookups.

mod client;
mod client_bounds;
mod client_link;
mod codec_props;
mod lookup_props;
