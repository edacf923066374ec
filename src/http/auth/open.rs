//! The checks of an *open* service (no key configured): it refuses what only a hostile web page
//! sends to a service on loopback: a `Host` that is a domain name other than `localhost` (DNS
//! rebinding) and a cross-site `Origin` (including the form posts browsers send without a
//! preflight).

use axum::http::{header, HeaderMap};

use super::AuthError;

/// The checks of an open service; see [`Auth::authorize`].
pub(super) fn open_request_allowed(
    headers: &HeaderMap,
    trusted: &[String],
) -> Result<(), AuthError> {
    // No Host: not a browser over HTTP/1.1 (browsers speak HTTP/2 only over TLS).
    let host = match headers.get(header::HOST) {
        None => None,
        Some(h) => Some(h.to_str().map_err(|_| AuthError::Host)?),
    };
    if let Some(host) = host {
        if !is_local_or_ip(host) {
            return Err(AuthError::Host);
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| AuthError::CrossOrigin)?
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let same_origin = matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h));
    if same_origin || trusted.iter().any(|t| t == "*" || *t == origin) {
        Ok(())
    } else {
        Err(AuthError::CrossOrigin)
    }
}

/// True for a `Host` that names an IP address or `localhost` (a rebinding page's `Host` is
/// the attacker's domain name).
fn is_local_or_ip(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6]:port
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::super::{Auth, Scope};
    use super::*;
    use axum::http::HeaderValue;

    fn browser(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        }
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn open_service_refuses_dns_rebinding_hosts() {
        let auth = Auth::open();
        for host in [
            "127.0.0.1:58615",
            "127.0.0.1",
            "localhost:58615",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:58615",
            "192.168.1.20:8080",
        ] {
            assert!(
                auth.authorize(&browser(Some(host), None), Scope::Control)
                    .is_ok(),
                "{host}"
            );
        }
        for host in [
            "evil.example.com:58615",
            "localhost.evil.com",
            "127.0.0.1.nip.io:58615",
            "[evil]:1",
        ] {
            assert_eq!(
                auth.authorize(&browser(Some(host), None), Scope::Control),
                Err(AuthError::Host),
                "{host}"
            );
        }
        // No Host at all: not a browser.
        assert!(auth.authorize(&HeaderMap::new(), Scope::Admin).is_ok());
    }

    #[test]
    fn open_service_refuses_cross_site_requests() {
        let auth = Auth::open();
        let host = Some("127.0.0.1:58615");
        assert!(auth
            .authorize(
                &browser(host, Some("http://127.0.0.1:58615")),
                Scope::Control
            )
            .is_ok());
        for origin in [
            "https://evil.example.com",
            "null",
            "http://127.0.0.1:58616",
            "http://localhost:58615",
            "file://",
        ] {
            assert_eq!(
                auth.authorize(&browser(host, Some(origin)), Scope::Control),
                Err(AuthError::CrossOrigin),
                "{origin}"
            );
        }
        let trusting = Auth::open().with_trusted_origins(["https://App.example.com/"]);
        assert!(trusting
            .authorize(
                &browser(host, Some("https://app.example.com")),
                Scope::Events
            )
            .is_ok());
        assert_eq!(
            trusting.authorize(
                &browser(host, Some("https://evil.example.com")),
                Scope::Events
            ),
            Err(AuthError::CrossOrigin)
        );
        let any = Auth::open().with_trusted_origins(["*"]);
        assert!(any
            .authorize(
                &browser(host, Some("https://evil.example.com")),
                Scope::Events
            )
            .is_ok());
    }
}
