//! The cache's policy on tokio's paused clock, with a fetch that counts what it is asked and
//! takes 10 ms to answer.

use super::*;
use futures_util::future::join_all;
use futures_util::FutureExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const LATENCY: Duration = Duration::from_millis(10);

/// A fetch over queues `q1`, `q2`; it fails while `failing` is set.
#[derive(Default)]
struct Fake {
    asked: Mutex<Vec<Key>>,
    calls: AtomicUsize,
    failing: AtomicBool,
}

impl Fake {
    fn cache(self: &Arc<Self>, reuse: Duration) -> Arc<StatusCache> {
        let fake = self.clone();
        StatusCache::new(
            reuse,
            Arc::new(move |queue: Key| {
                let fake = fake.clone();
                async move {
                    fake.calls.fetch_add(1, Ordering::SeqCst);
                    fake.asked.lock().unwrap().push(queue.clone());
                    tokio::time::sleep(LATENCY).await;
                    if fake.failing.load(Ordering::SeqCst) {
                        return Err(PbxError::Ami(crate::ami::AmiError::Timeout));
                    }
                    let all = ["q1", "q2"].map(|q| QueueStatusReport {
                        queue: q.into(),
                        ..Default::default()
                    });
                    match queue {
                        None => Ok(all.to_vec()),
                        Some(q) => select(&all, Some(q)),
                    }
                }
                .boxed()
            }),
        )
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn q(name: &str) -> Key {
    Some(QueueName::parse(name).unwrap())
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_share_one_flight() {
    let fake = Arc::new(Fake::default());
    let cache = fake.cache(Duration::from_secs(1));
    let answers = join_all((0..50).map(|_| cache.get(None))).await;
    assert_eq!(fake.calls(), 1);
    for answer in answers {
        assert_eq!(answer.unwrap().len(), 2);
    }
}

#[tokio::test(start_paused = true)]
async fn an_answer_is_reused_for_its_interval_then_asked_again() {
    let fake = Arc::new(Fake::default());
    let reuse = Duration::from_secs(1);
    let cache = fake.cache(reuse);
    let sent = Instant::now();
    cache.get(None).await.unwrap();
    assert_eq!(fake.calls(), 1);
    // Reused up to the end of the interval, counted from when the action was sent.
    tokio::time::sleep_until(sent + reuse - Duration::from_millis(1)).await;
    cache.get(None).await.unwrap();
    assert_eq!(fake.calls(), 1);
    tokio::time::sleep_until(sent + reuse).await;
    cache.get(None).await.unwrap();
    assert_eq!(fake.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn zero_reuse_still_shares_a_flight() {
    let fake = Arc::new(Fake::default());
    let cache = fake.cache(Duration::ZERO);
    join_all((0..10).map(|_| cache.get(None))).await;
    assert_eq!(fake.calls(), 1);
    cache.get(None).await.unwrap();
    assert_eq!(fake.calls(), 2);
    assert!(cache.is_empty(), "nothing kept without reuse");
}

#[tokio::test(start_paused = true)]
async fn errors_reach_every_waiter_and_are_not_reused() {
    let fake = Arc::new(Fake::default());
    fake.failing.store(true, Ordering::SeqCst);
    let cache = fake.cache(Duration::from_secs(60));
    let answers = join_all((0..3).map(|_| cache.get(None))).await;
    assert_eq!(fake.calls(), 1);
    for answer in answers {
        assert!(matches!(
            answer,
            Err(PbxError::Ami(crate::ami::AmiError::Timeout))
        ));
    }
    assert!(cache.is_empty());
    fake.failing.store(false, Ordering::SeqCst);
    assert_eq!(cache.get(None).await.unwrap().len(), 2);
    assert_eq!(fake.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn one_queue_is_served_from_an_answer_for_every_queue() {
    let fake = Arc::new(Fake::default());
    let cache = fake.cache(Duration::from_secs(1));
    cache.get(None).await.unwrap();
    let one = cache.get(q("q2")).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].queue, "q2");
    assert!(matches!(
        cache.get(q("q9")).await,
        Err(PbxError::UnknownQueue(name)) if name == "q9"
    ));
    assert_eq!(fake.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn one_queue_joins_a_flight_for_every_queue_but_not_the_reverse() {
    let fake = Arc::new(Fake::default());
    let cache = fake.cache(Duration::from_secs(1));
    let (all, one) = tokio::join!(cache.get(None), cache.get(q("q1")));
    assert_eq!((all.unwrap().len(), one.unwrap().len()), (2, 1));
    assert_eq!(fake.calls(), 1);
    let fake = Arc::new(Fake::default());
    let cache = fake.cache(Duration::from_secs(1));
    let (one, all) = tokio::join!(cache.get(q("q1")), cache.get(None));
    assert_eq!((one.unwrap().len(), all.unwrap().len()), (1, 2));
    assert_eq!(*fake.asked.lock().unwrap(), [q("q1"), None]);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_that_goes_away_cancels_nothing() {
    let fake = Arc::new(Fake::default());
    let cache = fake.cache(Duration::from_secs(1));
    let gone = tokio::time::timeout(LATENCY / 2, cache.get(None)).await;
    assert!(gone.is_err(), "the first waiter gave up");
    assert_eq!(cache.get(None).await.unwrap().len(), 2);
    assert_eq!(fake.calls(), 1, "the second joined the same flight");
}

#[tokio::test(start_paused = true)]
async fn stale_answers_are_dropped_when_an_answer_is_stored() {
    let fake = Arc::new(Fake::default());
    let reuse = Duration::from_secs(1);
    let cache = fake.cache(reuse);
    cache.get(None).await.unwrap();
    cache.get(q("q1")).await.unwrap();
    assert_eq!(cache.len(), 1, "q1 came from the answer for every queue");
    tokio::time::sleep(reuse).await;
    cache.get(q("q1")).await.unwrap();
    cache.get(q("q2")).await.unwrap();
    assert_eq!(
        cache.len(),
        2,
        "q1 and q2; the old answer for every queue is gone"
    );
    tokio::time::sleep(reuse).await;
    cache.get(q("q2")).await.unwrap();
    assert_eq!(cache.len(), 1, "only q2");
    // Unknown queues are errors, never kept.
    for _ in 0..5 {
        assert!(cache.get(q("q9")).await.is_err());
    }
    assert_eq!(cache.len(), 1);
}
