//! Unit tests of the ActionID table: lists, their bounds, deadlines, expiry.

use super::*;
use std::time::Duration;

fn list(p: &mut Pending, id: &str) -> oneshot::Receiver<Result<AmiList, AmiError>> {
    let (reply, rx) = oneshot::channel();
    p.insert(
        id.into(),
        Waiter::list(reply),
        Instant::now() + Duration::from_secs(10),
    );
    rx
}

fn single(
    p: &mut Pending,
    id: &str,
    deadline: Instant,
) -> oneshot::Receiver<Result<AmiMessage, AmiError>> {
    let (reply, rx) = oneshot::channel();
    p.insert(id.into(), Waiter::Single(reply), deadline);
    rx
}

fn item(id: &str, name: &str) -> AmiMessage {
    AmiMessage::event(name).with("ActionID", id)
}

#[test]
fn a_list_over_the_limit_fails_and_its_rest_is_discarded() {
    let mut p = Pending::with_limits(2, usize::MAX, usize::MAX);
    let mut rx = list(&mut p, "l");
    assert!(matches!(
        p.offer(AmiMessage::response("Success").with("ActionID", "l")),
        Routed::Taken
    ));
    for _ in 0..5 {
        assert!(matches!(p.offer(item("l", "QueueMember")), Routed::Taken));
    }
    assert!(matches!(
        rx.try_recv(),
        Ok(Err(AmiError::ListTooLong { limit: 2 }))
    ));
    assert!(matches!(
        p.offer(item("l", "QueueStatusComplete")),
        Routed::Taken
    ));
    assert!(!p.contains("l"));
    assert!(matches!(
        p.offer(item("l", "QueueMember")),
        Routed::Event(_)
    ));
}

#[test]
fn a_refused_list_fails_at_its_response() {
    let mut p = Pending::default();
    let mut rx = list(&mut p, "l");
    p.offer(
        AmiMessage::response("Error")
            .with("ActionID", "l")
            .with("Message", "Permission denied"),
    );
    assert!(matches!(rx.try_recv(), Ok(Err(AmiError::Refused(m))) if m == "Permission denied"));
    assert!(!p.contains("l"));
}

#[test]
fn events_of_single_actions_and_stray_responses_are_not_taken() {
    let mut p = Pending::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rx = single(&mut p, "o", deadline);
    assert!(matches!(
        p.offer(AmiMessage::response("Success").with("ActionID", "o")),
        Routed::Taken
    ));
    assert!(rx.try_recv().unwrap().is_ok());
    assert!(matches!(
        p.offer(item("o", "OriginateResponse")),
        Routed::Event(_)
    ));
    assert!(matches!(
        p.offer(AmiMessage::response("Success").with("ActionID", "o")),
        Routed::Stray(_)
    ));
    assert!(matches!(
        p.offer(AmiMessage::response("Success")),
        Routed::Stray(_)
    ));
}

#[test]
fn expiry_follows_the_deadlines_and_skips_answered_actions() {
    let mut p = Pending::default();
    let t0 = Instant::now();
    let mut a = single(&mut p, "a", t0 + Duration::from_secs(1));
    let mut b = single(&mut p, "b", t0 + Duration::from_secs(2));
    let mut c = single(&mut p, "c", t0 + Duration::from_secs(3));
    p.offer(AmiMessage::response("Success").with("ActionID", "a"));
    assert_eq!(p.next_deadline(), Some(t0 + Duration::from_secs(2)));
    p.expire(t0 + Duration::from_secs(2));
    assert!(a.try_recv().unwrap().is_ok());
    assert!(matches!(b.try_recv(), Ok(Err(AmiError::Timeout))));
    assert!(c.try_recv().is_err(), "not yet");
    assert_eq!(p.next_deadline(), Some(t0 + Duration::from_secs(3)));
    p.fail_all(|| AmiError::Disconnected);
    assert!(matches!(c.try_recv(), Ok(Err(AmiError::Disconnected))));
    assert_eq!(p.next_deadline(), None);
}

fn answer(p: &mut Pending, id: &str) {
    p.offer(AmiMessage::response("Success").with("ActionID", id));
}

#[test]
fn a_list_over_its_byte_bound_fails_frees_its_items_and_discards_the_rest() {
    let size = item("l", "QueueMember").size_bytes();
    let mut p = Pending::with_limits(1000, 3 * size, usize::MAX);
    let mut rx = list(&mut p, "l");
    answer(&mut p, "l");
    for _ in 0..3 {
        p.offer(item("l", "QueueMember"));
    }
    assert!(rx.try_recv().is_err(), "three items fit");
    assert_eq!(p.list_bytes, 3 * size);
    assert!(matches!(p.offer(item("l", "QueueMember")), Routed::Taken));
    assert!(matches!(
        rx.try_recv(),
        Ok(Err(AmiError::ListTooLarge { limit })) if limit == 3 * size
    ));
    assert_eq!(p.list_bytes, 0, "the items are freed at once");
    assert!(matches!(p.offer(item("l", "QueueMember")), Routed::Taken));
    assert!(matches!(
        p.offer(item("l", "QueueStatusComplete")),
        Routed::Taken
    ));
    assert!(matches!(
        p.offer(item("l", "QueueMember")),
        Routed::Event(_)
    ));
}

#[test]
fn lists_together_are_bounded_in_bytes() {
    let size = item("a", "QueueMember").size_bytes();
    let mut p = Pending::with_limits(1000, 10 * size, 3 * size);
    let mut a = list(&mut p, "a");
    let mut b = list(&mut p, "b");
    answer(&mut p, "a");
    answer(&mut p, "b");
    p.offer(item("a", "QueueMember"));
    p.offer(item("a", "QueueMember"));
    p.offer(item("b", "QueueMember"));
    p.offer(item("b", "QueueMember"));
    assert!(matches!(
        b.try_recv(),
        Ok(Err(AmiError::ListTooLarge { limit })) if limit == 3 * size
    ));
    assert_eq!(p.list_bytes, 2 * size);
    p.offer(item("a", "QueueMember"));
    p.offer(item("a", "QueueStatusComplete"));
    assert!(matches!(a.try_recv(), Ok(Ok(l)) if l.items.len() == 3));
    assert_eq!(p.list_bytes, 0);
}

#[test]
fn the_default_bounds_are_the_documented_ones() {
    let p = Pending::default();
    assert_eq!(p.limits.items, 200_000);
    assert_eq!(p.limits.list_bytes, 64 * 1024 * 1024);
    assert_eq!(p.limits.total_bytes, 256 * 1024 * 1024);
}

#[test]
fn answered_actions_behind_a_slow_one_do_not_pile_up() {
    let mut p = Pending::default();
    let t0 = Instant::now();
    let mut slow = single(&mut p, "slow", t0 + Duration::from_secs(10));
    for n in 0..(5 * MAX_IN_FLIGHT) {
        let id = format!("fast-{n}");
        let _rx = single(&mut p, &id, t0 + Duration::from_secs(10));
        answer(&mut p, &id);
        assert!(p.deadlines.len() <= COMPACT_AT, "{}", p.deadlines.len());
    }
    assert_eq!(p.next_deadline(), Some(t0 + Duration::from_secs(10)));
    assert!(slow.try_recv().is_err(), "the slow action still waits");
    p.expire(t0 + Duration::from_secs(10));
    assert!(matches!(slow.try_recv(), Ok(Err(AmiError::Timeout))));
    assert!(p.deadlines.is_empty());
}

#[test]
fn a_reused_action_id_keeps_its_own_deadline() {
    let mut p = Pending::default();
    let t0 = Instant::now();
    let _first = single(&mut p, "a", t0 + Duration::from_secs(1));
    answer(&mut p, "a");
    let mut second = single(&mut p, "a", t0 + Duration::from_secs(10));
    assert_eq!(p.next_deadline(), Some(t0 + Duration::from_secs(10)));
    p.expire(t0 + Duration::from_secs(1));
    assert!(second.try_recv().is_err(), "must not time out early");
    assert!(p.contains("a"));
    p.expire(t0 + Duration::from_secs(10));
    assert!(matches!(second.try_recv(), Ok(Err(AmiError::Timeout))));
}

#[test]
fn items_of_a_timed_out_list_are_discarded_up_to_complete() {
    let mut p = Pending::default();
    let t0 = Instant::now();
    let mut rx = list(&mut p, "l");
    p.expire(t0 + Duration::from_secs(60));
    assert!(matches!(rx.try_recv(), Ok(Err(AmiError::Timeout))));
    assert!(matches!(
        p.offer(AmiMessage::response("Success").with("ActionID", "l")),
        Routed::Stray(_)
    ));
    assert!(matches!(p.offer(item("l", "QueueMember")), Routed::Taken));
    assert!(matches!(
        p.offer(item("l", "QueueStatusComplete")),
        Routed::Taken
    ));
    assert!(
        matches!(p.offer(item("l", "QueueMember")), Routed::Event(_)),
        "forgotten after its Complete"
    );
}

#[test]
fn the_expired_lists_remembered_are_bounded() {
    let mut p = Pending::default();
    let t0 = Instant::now();
    for n in 0..(MAX_EXPIRED_LISTS + 10) {
        let _rx = list(&mut p, &format!("l{n}"));
    }
    p.expire(t0 + Duration::from_secs(60));
    assert_eq!(p.expired_lists.len(), MAX_EXPIRED_LISTS);
    assert!(matches!(
        p.offer(item("l0", "QueueMember")),
        Routed::Event(_)
    ));
    let last = format!("l{}", MAX_EXPIRED_LISTS + 9);
    assert!(matches!(p.offer(item(&last, "QueueMember")), Routed::Taken));
}

#[test]
fn messages_that_are_neither_response_nor_event_are_unroutable() {
    let mut p = Pending::default();
    assert!(matches!(
        p.offer(AmiMessage::action("Ping")),
        Routed::Unroutable(_)
    ));
    assert!(matches!(
        p.offer(AmiMessage::new().with("Foo", "bar")),
        Routed::Unroutable(_)
    ));
}
