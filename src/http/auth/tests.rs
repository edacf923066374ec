//! Unit tests of API-key authorization: parsing the configuration, the bearer header, scopes,
//! agent and queue restrictions, the HTTP shape of refusals, and redaction.

use super::*;
use axum::body::to_bytes;

const EVENTS_KEY: &str = "events-key-0123456789abcdef";
const CONTROL_KEY: &str = "control-key-0123456789abcdef";
const ADMIN_KEY: &str = "admin-key-0123456789abcdef";
const RESTRICTED_KEY: &str = "restricted-key-0123456789abcdef";

fn config() -> AuthConfig {
    let toml = format!(
        r#"
        [[keys]]
        name = "events"
        sha256 = "{}"
        scopes = ["events"]

        [[keys]]
        name = "control"
        sha256 = "{}"
        scopes = ["control", "events"]

        [[keys]]
        name = "admin"
        key = "{ADMIN_KEY}"
        scopes = ["admin"]

        [[keys]]
        name = "crm"
        sha256 = "{}"
        scopes = ["events", "control"]
        agents = ["147"]
        queues = ["q1"]
        "#,
        hash_key(EVENTS_KEY),
        hash_key(CONTROL_KEY).to_uppercase(),
        hash_key(RESTRICTED_KEY),
    );
    toml::from_str(&toml).unwrap()
}

fn auth() -> Auth {
    Auth::new(config()).unwrap()
}

fn bearer(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    headers
}

fn agent(s: &str) -> AgentId {
    AgentId::parse(s).unwrap()
}

fn queue(s: &str) -> QueueName {
    QueueName::parse(s).unwrap()
}

#[test]
fn hash_key_matches_sha256sum() {
    // printf %s abc | sha256sum
    assert_eq!(
        hash_key("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn each_key_gets_exactly_its_scopes() {
    let auth = auth();
    assert!(!auth.is_open());
    assert_eq!(auth.key_count(), 4);
    let events = bearer(&format!("Bearer {EVENTS_KEY}"));
    assert_eq!(
        auth.authorize(&events, Scope::Events).unwrap().name(),
        Some("events")
    );
    assert_eq!(
        auth.authorize(&events, Scope::Control),
        Err(AuthError::Scope(Scope::Control))
    );
    assert_eq!(
        auth.authorize(&events, Scope::Admin),
        Err(AuthError::Scope(Scope::Admin))
    );
    let control = bearer(&format!("Bearer {CONTROL_KEY}"));
    assert!(auth.authorize(&control, Scope::Control).is_ok());
    assert!(auth.authorize(&control, Scope::Events).is_ok());
    assert!(auth.authorize(&control, Scope::Admin).is_err());
    let admin = bearer(&format!("Bearer {ADMIN_KEY}"));
    assert_eq!(
        auth.authorize(&admin, Scope::Admin).unwrap().name(),
        Some("admin")
    );
    assert!(
        auth.authorize(&admin, Scope::Health).is_ok(),
        "admin reads health"
    );
    assert!(auth.authorize(&control, Scope::Health).is_err());
    assert_eq!(
        auth.authorize(&admin, Scope::Events),
        Err(AuthError::Scope(Scope::Events))
    );
}

#[test]
fn missing_malformed_and_wrong_keys_are_refused() {
    let auth = auth();
    assert_eq!(
        auth.authorize(&HeaderMap::new(), Scope::Events),
        Err(AuthError::Missing)
    );
    for value in [
        "Bearer wrong-key-0123456789abcdef",
        "Bearer",
        "Bearer ",
        &format!("Basic {EVENTS_KEY}"),
        &format!("Token {EVENTS_KEY}"),
        EVENTS_KEY,
        &format!("Bearer {EVENTS_KEY} extra"),
        &format!("Bearer {EVENTS_KEY}x"),
        &format!("Bearer {}", &EVENTS_KEY[1..]),
        &format!("Bearer {}", hash_key(EVENTS_KEY)),
        &format!("Bearer {}", "a".repeat(MAX_KEY_LEN + 1)),
    ] {
        assert_eq!(
            auth.authorize(&bearer(value), Scope::Events),
            Err(AuthError::Invalid),
            "{value:?}"
        );
    }
    // The scheme is case-insensitive; surrounding spaces are tolerated.
    assert!(auth
        .authorize(&bearer(&format!("bearer  {EVENTS_KEY} ")), Scope::Events)
        .is_ok());
}

#[test]
fn non_ascii_and_repeated_headers_are_invalid() {
    let auth = auth();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
    );
    assert_eq!(
        auth.authorize(&headers, Scope::Events),
        Err(AuthError::Invalid)
    );
    let mut headers = bearer(&format!("Bearer {EVENTS_KEY}"));
    headers.append(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {ADMIN_KEY}")).unwrap(),
    );
    assert_eq!(
        auth.authorize(&headers, Scope::Events),
        Err(AuthError::Invalid)
    );
}

#[test]
fn restricted_key_allows_only_its_agents_and_queues() {
    let auth = auth();
    let p = auth
        .authorize(&bearer(&format!("Bearer {RESTRICTED_KEY}")), Scope::Events)
        .unwrap();
    assert_eq!(p.name(), Some("crm"));
    assert!(p.allows_agent(&agent("147")));
    assert!(!p.allows_agent(&agent("148")));
    assert!(p.allows_queue(&queue("q1")));
    assert!(!p.allows_queue(&queue("q2")));
    assert!(!p.allows_all_queues());
    assert_eq!(p.check_agents([&agent("147")]), Ok(()));
    assert_eq!(
        p.check_agents([&agent("147"), &agent("149")]),
        Err(AuthError::Agent(agent("149")))
    );
    assert_eq!(
        p.check_queues([&queue("q2")]),
        Err(AuthError::Queue(queue("q2")))
    );
    assert_eq!(p.check_queue(Some(&queue("q1"))), Ok(()));
    assert_eq!(p.check_queue(None), Err(AuthError::AllQueues));
    let unrestricted = auth
        .authorize(&bearer(&format!("Bearer {EVENTS_KEY}")), Scope::Events)
        .unwrap();
    assert!(unrestricted.allows_agent(&agent("149")));
    assert_eq!(unrestricted.check_queue(None), Ok(()));
}

#[test]
fn open_service_allows_everything_anonymously() {
    let auth = Auth::new(AuthConfig::default()).unwrap();
    assert!(auth.is_open());
    for scope in [Scope::Events, Scope::Control, Scope::Admin] {
        let p = auth.authorize(&HeaderMap::new(), scope).unwrap();
        assert_eq!(p.name(), None);
        assert!(p.allows_agent(&agent("1")) && p.allows_queue(&queue("x")));
    }
    assert!(Auth::open().is_open());
}

fn key(name: &str) -> ApiKeyConfig {
    ApiKeyConfig {
        name: name.into(),
        sha256: None,
        key: Some(format!("{name}-0123456789abcdef")),
        scopes: vec![Scope::Events],
        agents: None,
        queues: None,
    }
}

fn refused(keys: Vec<ApiKeyConfig>) -> AuthConfigError {
    Auth::new(AuthConfig { keys }).unwrap_err()
}

#[test]
fn bad_configurations_are_refused_without_showing_secrets() {
    let mut both = key("both");
    both.sha256 = Some(hash_key("x"));
    assert!(matches!(refused(vec![both]), AuthConfigError::NoSecret(_)));
    let mut none = key("none");
    none.key = None;
    assert!(matches!(refused(vec![none]), AuthConfigError::NoSecret(_)));
    let mut short = key("short");
    short.key = Some("tooshort".into());
    let err = refused(vec![short]);
    assert!(matches!(err, AuthConfigError::BadKey(_)));
    assert!(!err.to_string().contains("tooshort"));
    let mut spaced = key("spaced");
    spaced.key = Some("has a space in the middle!".into());
    assert!(matches!(refused(vec![spaced]), AuthConfigError::BadKey(_)));
    let mut digest = key("digest");
    digest.key = None;
    digest.sha256 = Some("abc123".into());
    assert!(matches!(
        refused(vec![digest]),
        AuthConfigError::BadDigest(_)
    ));
    let mut scopeless = key("scopeless");
    scopeless.scopes.clear();
    assert!(matches!(
        refused(vec![scopeless]),
        AuthConfigError::NoScopes(_)
    ));
    for name in ["", "a b", "a\nb", &"n".repeat(MAX_NAME_LEN + 1)] {
        assert!(
            matches!(refused(vec![key(name)]), AuthConfigError::BadName(_)),
            "{name:?}"
        );
    }
    assert_eq!(
        refused(vec![key("a"), key("a")]),
        AuthConfigError::DuplicateName("a".into())
    );
    let mut same = key("b");
    same.key = key("a").key;
    assert_eq!(
        refused(vec![key("a"), same]),
        AuthConfigError::DuplicateKey("a".into(), "b".into())
    );
}

#[test]
fn configuration_rejects_unknown_fields_and_bad_agents() {
    let typo = r#"[[keys]]
        name = "a"
        sha256 = "00"
        scopes = ["events"]
        agent = ["147"]"#;
    assert!(toml::from_str::<AuthConfig>(typo).is_err());
    let bad_agent = r#"[[keys]]
        name = "a"
        sha256 = "00"
        scopes = ["events"]
        agents = ["14 7"]"#;
    assert!(toml::from_str::<AuthConfig>(bad_agent).is_err());
    let bad_scope = r#"[[keys]]
        name = "a"
        sha256 = "00"
        scopes = ["root"]"#;
    assert!(toml::from_str::<AuthConfig>(bad_scope).is_err());
}

#[test]
fn debug_output_never_shows_keys_or_digests() {
    let config = config();
    let auth = Auth::new(config.clone()).unwrap();
    let shown = format!("{config:?} {auth:?} {:#?}", config.keys);
    for secret in [EVENTS_KEY, CONTROL_KEY, ADMIN_KEY, RESTRICTED_KEY] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.to_lowercase().contains(&hash_key(secret)), "{shown}");
    }
    assert!(shown.contains("crm") && shown.contains("<redacted>"));
}

async fn response_parts(err: AuthError) -> (StatusCode, Option<String>, serde_json::Value) {
    let response = err.into_response();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body(), 4096).await.unwrap();
    (status, challenge, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn refusals_are_json_with_the_right_status() {
    let (status, challenge, body) = response_parts(AuthError::Missing).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="pbxis-ws""#));
    assert!(body["error"].as_str().unwrap().contains("Bearer"));
    let (status, challenge, _) = response_parts(AuthError::Invalid).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.unwrap().contains("invalid_token"));
    let (status, challenge, body) = response_parts(AuthError::Scope(Scope::Control)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(challenge, None);
    assert_eq!(
        body,
        serde_json::json!({"error": "this API key does not have the control scope"})
    );
    let (status, _, body) = response_parts(AuthError::Agent(agent("149"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "this API key may not use agent 149");
}

#[test]
fn keys_make_origin_and_host_irrelevant() {
    // With keys, a browser cannot send the key cross-site without a preflight; the key decides.
    let auth = auth();
    let mut headers = HeaderMap::new();
    headers.insert(header::HOST, HeaderValue::from_static("pbx.example.com"));
    headers.insert(
        header::ORIGIN,
        HeaderValue::from_static("https://evil.example.com"),
    );
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {EVENTS_KEY}")).unwrap(),
    );
    assert!(auth.authorize(&headers, Scope::Events).is_ok());
}

#[test]
fn a_health_key_reads_health_and_ready_and_nothing_else() {
    let probe = "probe-key-0123456789abcdef";
    let config: AuthConfig = toml::from_str(&format!(
        "[[keys]]\nname = \"probes\"\nkey = \"{probe}\"\nscopes = [\"health\"]"
    ))
    .unwrap();
    let auth = Auth::new(config).unwrap();
    let headers = bearer(&format!("Bearer {probe}"));
    assert!(auth.authorize(&headers, Scope::Health).is_ok());
    for scope in [Scope::Admin, Scope::Events, Scope::Control] {
        assert_eq!(
            auth.authorize(&headers, scope),
            Err(AuthError::Scope(scope))
        );
    }
}

#[test]
fn scopes_are_the_keys_own_and_every_scope_on_an_open_service() {
    let auth = auth();
    let scopes = |value: &str| auth.scopes(&bearer(value));
    let control = scopes(&format!("Bearer {CONTROL_KEY}")).unwrap();
    assert_eq!(
        control.into_iter().collect::<Vec<_>>(),
        [Scope::Events, Scope::Control]
    );
    let admin = scopes(&format!("Bearer {ADMIN_KEY}")).unwrap();
    assert_eq!(admin.into_iter().collect::<Vec<_>>(), [Scope::Admin]);
    assert_eq!(auth.scopes(&HeaderMap::new()), Err(AuthError::Missing));
    assert_eq!(scopes("Bearer wrong-key"), Err(AuthError::Invalid));
    let open = Auth::open().scopes(&HeaderMap::new()).unwrap();
    assert_eq!(open.len(), Scope::ALL.len());
    // ALL names every scope: a new variant fails here until it is listed.
    for scope in Scope::ALL {
        match scope {
            Scope::Events | Scope::Control | Scope::Admin | Scope::Health | Scope::Supervise => {}
        }
    }
    let names: BTreeSet<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(names.len(), 5);
}
