//! Origins: the CORS allow-list of the REST API and the streams (a web app on another origin is
//! the main use case), and the Origin check of WebSocket upgrades, which CORS does not cover.
//!
//! An empty list allows no foreign origin (pages served by this service are same-origin and
//! always work); `*` allows any.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The allowed origins.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    any: bool,
    list: Vec<HeaderValue>,
}

/// A malformed origin in the configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid CORS origin {0:?}: expected scheme://host[:port], or *")]
pub struct OriginError(String);

impl Origins {
    /// Parses the configured origins (`https://app.example.com`, or `*`).
    pub fn parse(origins: &[String]) -> Result<Self, OriginError> {
        let mut parsed = Origins::default();
        for origin in origins {
            let origin = origin.trim().trim_end_matches('/');
            if origin == "*" {
                parsed.any = true;
                continue;
            }
            let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.chars().any(|c| c.is_control() || c.is_whitespace());
            let value = HeaderValue::from_str(origin)
                .ok()
                .filter(|_| valid)
                .ok_or_else(|| OriginError(origin.to_owned()))?;
            parsed.list.push(value);
        }
        Ok(parsed)
    }

    /// The CORS layer for these origins.
    pub fn layer(&self) -> CorsLayer {
        let allow = if self.any {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(self.list.clone())
        };
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([HeaderName::from_static("www-authenticate")])
            .max_age(std::time::Duration::from_secs(600))
    }

    /// Whether a WebSocket upgrade with these headers may proceed: no `Origin` (not a
    /// browser), the same origin as the `Host`, or an allowed one.
    pub fn websocket_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        if self.any || self.list.iter().any(|allowed| allowed == origin) {
            return true;
        }
        let (Ok(origin), Some(Ok(host))) = (
            origin.to_str(),
            headers.get(header::HOST).map(|h| h.to_str()),
        ) else {
            return false;
        };
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn websocket_origin_rules() {
        let o = Origins::parse(&["https://app.example.com/".into()]).unwrap();
        assert!(o.websocket_allowed(&headers(&[("host", "pbx:1")])));
        assert!(o.websocket_allowed(&headers(&[
            ("host", "pbx:1"),
            ("origin", "https://app.example.com")
        ])));
        assert!(o.websocket_allowed(&headers(&[
            ("host", "127.0.0.1:58615"),
            ("origin", "http://127.0.0.1:58615")
        ])));
        assert!(!o.websocket_allowed(&headers(&[
            ("host", "127.0.0.1:58615"),
            ("origin", "http://evil.example")
        ])));
        assert!(!o.websocket_allowed(&headers(&[("origin", "http://evil.example")])));
        let any = Origins::parse(&["*".into()]).unwrap();
        assert!(any.websocket_allowed(&headers(&[("origin", "http://evil.example")])));
    }

    #[test]
    fn bad_origins_are_refused() {
        for bad in ["example.com", "http://a b", "ftp://x", "http://x\r\ny"] {
            assert!(Origins::parse(&[bad.into()]).is_err(), "{bad:?}");
        }
    }
}
