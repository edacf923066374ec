//! Signed tickets: round trip, every kind of refusal, key rotation, sizes, and garbage.

use super::*;

const SECRET: &str = "a shared secret of at least thirty-two bytes";
const OLD: &str = "the secret we had before this one, also long";

fn signer() -> TicketSigner {
    TicketSigner::new(SECRET, &[], 3600, 2048)
}

fn filter(agents: &[&str], queues: &[&str]) -> Filter {
    Filter::new(
        agents.iter().map(|a| AgentId::parse(a).unwrap()),
        queues.iter().map(|q| QueueName::parse(q).unwrap()),
    )
}

const T0: u64 = 1_800_000_000;

#[test]
fn a_signed_ticket_says_what_it_was_signed_with() {
    let mut f = filter(&["147", "agent-7"], &["q1", "sales"]);
    f.summary = true;
    let t = signer().sign_at(&f, Some("crm"), T0, [7; 8]).unwrap();
    assert!(t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let claims = signer().verify_at(&t, T0 + 10).unwrap();
    assert_eq!(
        claims,
        Claims {
            filter: f,
            owner: Some("crm".into()),
            issued: T0,
            lifetime: 3600
        }
    );
    let anonymous = signer()
        .sign_at(&filter(&["1"], &[]), None, T0, [0; 8])
        .unwrap();
    assert_eq!(signer().verify_at(&anonymous, T0).unwrap().owner, None);
}

#[test]
fn tampered_forged_expired_and_unknown_key_tickets_are_refused() {
    let f = filter(&["147"], &["q1"]);
    let t = signer().sign_at(&f, Some("crm"), T0, [1; 8]).unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
    for i in 0..bytes.len() {
        for bit in [1u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            let forged = URL_SAFE_NO_PAD.encode(&b);
            assert_eq!(signer().verify_at(&forged, T0), Err(Refused), "byte {i}");
        }
    }
    // Another secret, and the same payload signed by a forger with a guessed key.
    let other = TicketSigner::new("somebody else's secret, long enough ok", &[], 3600, 2048);
    let foreign = other.sign_at(&f, Some("crm"), T0, [1; 8]).unwrap();
    assert_eq!(signer().verify_at(&foreign, T0), Err(Refused));
    // Age: valid from issue (a little clock skew allowed) until its lifetime is over.
    assert!(signer().verify_at(&t, T0 + 3599).is_ok());
    assert_eq!(signer().verify_at(&t, T0 + 3600), Err(Refused));
    assert!(signer().verify_at(&t, T0 - 60).is_ok());
    assert_eq!(signer().verify_at(&t, T0 - 61), Err(Refused));
    // Truncated, extended, empty, not base64, a random ticket of the other kind.
    for bad in [
        &t[..t.len() - 1],
        &format!("{t}A"),
        "",
        "not a ticket!",
        "281b6f9b24e98be180e269c1fe7c2c05",
    ] {
        assert_eq!(signer().verify_at(bad, T0), Err(Refused), "{bad:?}");
    }
}

#[test]
fn rotation_previous_secrets_verify_and_dropped_ones_do_not() {
    let f = filter(&["147"], &["q1"]);
    let before = TicketSigner::new(OLD, &[], 3600, 2048);
    let old_ticket = before.sign_at(&f, None, T0, [2; 8]).unwrap();
    let rotated = TicketSigner::new(SECRET, &[OLD.to_owned()], 3600, 2048);
    assert!(rotated.verify_at(&old_ticket, T0).is_ok());
    let new_ticket = rotated.sign_at(&f, None, T0, [2; 8]).unwrap();
    assert!(
        signer().verify_at(&new_ticket, T0).is_ok(),
        "signed with the current one"
    );
    assert_eq!(before.verify_at(&new_ticket, T0), Err(Refused));
    // The old secret retired: its tickets are refused.
    assert_eq!(signer().verify_at(&old_ticket, T0), Err(Refused));
}

#[test]
fn common_tickets_are_short_and_the_filter_is_capped() {
    let agent_page = signer()
        .sign_at(
            &filter(&["147"], &["q1", "q2"]),
            Some("crm-backend"),
            T0,
            [3; 8],
        )
        .unwrap();
    assert!(agent_page.len() < 100, "{}", agent_page.len());
    let agents: Vec<String> = (100..150).map(|n| n.to_string()).collect();
    let queues: Vec<String> = (0..10).map(|n| format!("queue{n}")).collect();
    let agents: Vec<&str> = agents.iter().map(String::as_str).collect();
    let queues: Vec<&str> = queues.iter().map(String::as_str).collect();
    let supervisor = signer()
        .sign_at(&filter(&agents, &queues), Some("crm-backend"), T0, [3; 8])
        .unwrap();
    assert!(supervisor.len() < 500, "{}", supervisor.len());
    let small = TicketSigner::new(SECRET, &[], 3600, 100);
    let big: Vec<String> = (1000..1100).map(|n| n.to_string()).collect();
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    assert_eq!(
        small.sign_at(&filter(&big, &[]), None, T0, [0; 8]),
        Err(TooLarge { max: 100 })
    );
}

#[test]
fn garbage_never_panics() {
    let s = signer();
    let mut rng = rand::thread_rng();
    for len in 0..200 {
        for _ in 0..20 {
            let bytes: Vec<u8> = (0..len).map(|_| rand::Rng::gen(&mut rng)).collect();
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(s.verify_at(&text, T0), Err(Refused));
            let lossy = String::from_utf8_lossy(&bytes);
            assert_eq!(s.verify_at(&lossy, T0), Err(Refused));
        }
    }
}
