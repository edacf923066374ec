//! Unit tests of the ticket buffer: order and numbering, the bounds, history and rewind, and the
//! resync phases.

use super::*;

fn d(n: u32) -> Delivery {
    Delivery::closed(&n.to_string())
}

fn bounds(capacity: usize, history: usize) -> Bounds {
    Bounds {
        capacity,
        max_bytes: usize::MAX,
        history,
        history_bytes: usize::MAX,
    }
}

fn seqs(b: &mut TicketBuffer) -> Vec<u64> {
    std::iter::from_fn(|| b.pop()).map(|e| e.seq).collect()
}

#[test]
fn fifo_with_sequence_numbers() {
    let mut b = TicketBuffer::new(bounds(3, 0));
    for n in 0..3 {
        b.push(d(n)).unwrap();
    }
    assert_eq!(b.push(d(9)), Err(Overflow));
    assert_eq!(b.pending(), 3);
    assert_eq!(seqs(&mut b), [1, 2, 3]);
    b.push(d(4)).unwrap();
    assert_eq!(b.pop().unwrap().seq, 4);
}

#[test]
fn close_goes_after_pending_and_nothing_after_it() {
    let mut b = TicketBuffer::new(bounds(2, 0));
    b.push(d(1)).unwrap();
    b.push(d(2)).unwrap();
    b.close(Delivery::closed("shutdown"));
    b.push(d(3)).unwrap();
    assert_eq!(b.pending(), 3);
    assert!(b.is_closed());
    b.go_stale("overflow");
    assert_eq!(b.phase(), Phase::Live, "a closed buffer stays closed");
    let last = std::iter::from_fn(|| b.pop()).last().unwrap();
    assert!(last.delivery.is_closed());
}

#[test]
fn rewind_replays_from_history_or_reports_a_gap() {
    let mut b = TicketBuffer::new(bounds(10, 2));
    for n in 1..=5 {
        b.push(d(n)).unwrap();
    }
    for _ in 0..4 {
        b.pop();
    }
    // Delivered 1..=4, history keeps 3 and 4; 5 is pending.
    assert_eq!(b.rewind(1, false), Err(Gap));
    assert_eq!(b.rewind(6, false), Err(Gap), "never handed out");
    b.rewind(2, false).unwrap();
    assert_eq!(seqs(&mut b), [3, 4, 5]);
    b.rewind(5, false).unwrap();
    assert_eq!(b.pending(), 0);
    b.rewind(4, false).unwrap();
    assert_eq!(seqs(&mut b), [5]);
}

#[test]
fn an_acknowledgement_forgets_what_it_confirms() {
    let mut b = TicketBuffer::new(bounds(10, 10));
    for n in 1..=4 {
        b.push(d(n)).unwrap();
    }
    assert_eq!(seqs(&mut b), [1, 2, 3, 4]);
    // The answer with 1..=4 was lost after 2: asked again from 2.
    b.rewind(2, true).unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(seqs(&mut b), [3, 4]);
    b.rewind(4, true).unwrap();
    assert!(b.is_empty());
    assert_eq!(b.history_bytes(), 0);
    assert_eq!(b.rewind(2, true), Err(Gap), "confirmed history is gone");
}

#[test]
fn history_is_bounded_in_entries_and_bytes() {
    let mut b = TicketBuffer::new(bounds(1, 3));
    for n in 0..100 {
        b.push(d(n)).unwrap();
        b.pop();
    }
    assert!(b.len() <= 3);
    assert_eq!(b.next_seq(), 101);
    let size = d(1).size();
    let mut b = TicketBuffer::new(Bounds {
        history_bytes: 2 * size,
        ..bounds(100, 100)
    });
    for n in 0..10 {
        b.push(d(n)).unwrap();
    }
    assert_eq!(seqs(&mut b).len(), 10);
    assert_eq!(b.len(), 2);
    assert_eq!(b.history_bytes(), 2 * size);
    assert_eq!(b.rewind(7, false), Err(Gap));
    b.rewind(8, false).unwrap();
    assert_eq!(seqs(&mut b), [9, 10]);
}

#[test]
fn the_snapshot_is_outside_the_count_bound() {
    let mut b = TicketBuffer::new(bounds(2, 0));
    assert_eq!(b.reserve(5), 1);
    b.fill((0..5).map(d).collect()).unwrap();
    b.push(d(5)).unwrap();
    b.push(d(6)).unwrap();
    assert_eq!(b.push(d(7)), Err(Overflow));
    assert_eq!(seqs(&mut b), [1, 2, 3, 4, 5, 6, 7]);
    b.push(d(7)).unwrap();
    b.push(d(8)).unwrap();
    assert_eq!(b.push(d(9)), Err(Overflow));
}

#[test]
fn the_byte_budget_covers_the_snapshot_and_later_events() {
    let size = d(1).size();
    let mut b = TicketBuffer::new(Bounds {
        max_bytes: 3 * size,
        ..bounds(100, 1)
    });
    b.reserve(4);
    assert_eq!(b.fill((0..4).map(d).collect()), Err(Overflow));
    b.fill((0..2).map(d).collect()).unwrap_err();
    let mut b = TicketBuffer::new(Bounds {
        max_bytes: 3 * size,
        ..bounds(100, 1)
    });
    b.reserve(2);
    b.fill(vec![d(1), d(2)]).unwrap();
    b.push(d(3)).unwrap();
    assert_eq!(b.push(d(4)), Err(Overflow));
    assert_eq!(b.pending_bytes(), 3 * size);
    b.pop().unwrap();
    assert_eq!(b.pending_bytes(), 2 * size);
    b.push(d(4)).unwrap();
    assert_eq!(b.push(d(5)), Err(Overflow));
    // A rewind makes the replayed entry count again.
    b.pop().unwrap();
    b.rewind(1, false).unwrap();
    assert_eq!(b.pending_bytes(), 3 * size);
}

#[test]
fn a_resync_drops_everything_and_fills_in_front_of_what_came_meanwhile() {
    let mut b = TicketBuffer::new(bounds(10, 10));
    for n in 1..=3 {
        b.push(d(n)).unwrap();
    }
    b.pop();
    b.go_stale("overflow");
    assert_eq!((b.len(), b.pending(), b.pending_bytes()), (0, 0, 0));
    // While stale, events are ignored: the snapshot will reflect them.
    b.push(d(4)).unwrap();
    assert!(b.is_empty());
    assert_eq!(b.request_resync(), Some("overflow"));
    assert_eq!(b.request_resync(), None, "asked for once");
    b.push(d(5)).unwrap();
    assert!(b.is_empty());
    // The model took the snapshot (2 events) and the resync event: 3 numbers from 4.
    assert_eq!(b.reserve(3), 4);
    b.push(d(6)).unwrap();
    assert_eq!(b.pending(), 0, "nothing before the snapshot");
    assert!(b.pop().is_none());
    b.fill(vec![Delivery::resync("overflow"), d(7), d(8)])
        .unwrap();
    let entries: Vec<Entry> = std::iter::from_fn(|| b.pop()).collect();
    let got: Vec<(u64, String)> = entries
        .iter()
        .map(|e| (e.seq, e.delivery.data_json().to_owned()))
        .collect();
    assert_eq!(
        got,
        [
            (4, r#"{"reason":"overflow"}"#.to_owned()),
            (5, r#"{"reason":"7"}"#.to_owned()),
            (6, r#"{"reason":"8"}"#.to_owned()),
            (7, r#"{"reason":"6"}"#.to_owned()),
        ]
    );
    // An id from before the resync is a gap.
    assert_eq!(b.rewind(2, false), Err(Gap));
    b.rewind(5, false).unwrap();
    assert_eq!(seqs(&mut b), [6, 7]);
}

#[test]
fn a_failed_request_is_asked_for_again_and_close_ends_a_resync() {
    let mut b = TicketBuffer::new(bounds(10, 10));
    b.go_stale("restart");
    assert_eq!(b.request_resync(), Some("restart"));
    b.resync_failed();
    assert_eq!(b.request_resync(), Some("restart"));
    b.reserve(2);
    b.close(Delivery::closed("shutdown"));
    assert_eq!(
        b.fill(vec![d(1), d(2)]),
        Err(Overflow),
        "the reservation is gone"
    );
    let e = b.pop().unwrap();
    assert!(e.delivery.is_closed());
    assert!(b.pop().is_none());
}

#[test]
fn the_snapshot_leaves_the_history_once_handed_out() {
    let mut b = TicketBuffer::new(bounds(10, 100));
    let first = b.reserve(3);
    b.push(d(9)).unwrap();
    b.fill(vec![d(1), d(2), d(3)]).unwrap();
    assert_eq!(b.pop().unwrap().seq, first);
    assert_eq!(b.pop().unwrap().seq, first + 1);
    // Only what was handed out goes; the rest of the snapshot is still to come.
    assert_eq!(b.forget_snapshot(), 2);
    assert_eq!(seqs(&mut b), [3, 4]);
    assert_eq!(b.forget_snapshot(), 1);
    assert_eq!(b.forget_snapshot(), 0);
    // The event after the snapshot stays for a reconnect; one from inside the snapshot is a gap.
    assert_eq!(b.len(), 1);
    assert_eq!(b.rewind(3, false), Ok(()));
    assert_eq!(seqs(&mut b), [4]);
    assert_eq!(b.rewind(2, false), Err(Gap));
    assert_eq!(b.history_bytes(), d(9).size());
}
