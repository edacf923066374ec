//! The HTTP face: routes, parameters, errors, the three transports, pages, auth and CORS.
//! (Lands with the web service issue.)

pub mod auth;
