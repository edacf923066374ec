//! The AMI client against scripted servers, and the codec's properties.

mod client;
mod client_bounds;
mod client_link;
mod codec_props;
