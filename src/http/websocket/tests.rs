//! Tests of the socket loop over in-memory channels.

use super::*;
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;

type Incoming = Result<Message, std::io::Error>;
type Tx<T> = PollSender<T>;
type Rx<T> = Pin<Box<dyn Stream<Item = T> + Send>>;

/// Pings every `secs`, no heartbeats.
fn beat(secs: u64) -> Beat {
    Beat {
        keep_alive: Duration::from_secs(secs),
        heartbeat: false,
    }
}

/// A sink and a stream over in-memory channels, as a socket's halves.
fn channel<T: Send + 'static>() -> (mpsc::Sender<T>, Tx<T>, mpsc::Receiver<T>, Rx<T>) {
    let (a_tx, a_rx) = mpsc::channel(16);
    let (b_tx, b_rx) = mpsc::channel(16);
    let rx = Box::pin(stream::unfold(b_rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }));
    (b_tx, PollSender::new(a_tx), a_rx, rx)
}

fn out(json: &str, closed: bool) -> Outgoing {
    Outgoing {
        json: json.into(),
        closed,
    }
}

#[tokio::test(start_paused = true)]
async fn sends_events_then_closed_then_close_frame() {
    let (_, tx, mut sent, _) = channel::<Message>();
    let (_client, _, _, rx) = channel::<Incoming>();
    let events = stream::iter(vec![
        out(r#"{"type":"queueCount","queue":"q1","count":1}"#, false),
        out(r#"{"type":"closed","reason":"shutdown"}"#, true),
        out(r#"{"type":"never"}"#, false),
    ]);
    let end = pump(tx, rx, events, beat(15)).await;
    assert_eq!(end, PumpEnd::Closed);
    let mut got = Vec::new();
    while let Ok(m) = sent.try_recv() {
        got.push(m);
    }
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0],
        Message::Text(r#"{"type":"queueCount","queue":"q1","count":1}"#.into())
    );
    assert_eq!(
        got[1],
        Message::Text(r#"{"type":"closed","reason":"shutdown"}"#.into())
    );
    assert!(matches!(&got[2], Message::Close(Some(f)) if f.code == CLOSE_NORMAL));
}

#[tokio::test(start_paused = true)]
async fn answers_pings_and_sends_keep_alive_pings() {
    let (_, tx, mut sent, _) = channel::<Message>();
    let (client, _, _, rx) = channel::<Incoming>();
    let task = tokio::spawn(pump(tx, rx, stream::pending(), beat(15)));
    client
        .try_send(Ok(Message::Ping(b"hi"[..].into())))
        .unwrap();
    assert_eq!(sent.recv().await, Some(Message::Pong(b"hi"[..].into())));
    tokio::time::advance(Duration::from_secs(16)).await;
    assert!(matches!(sent.recv().await, Some(Message::Ping(_))));
    client.try_send(Ok(Message::Close(None))).unwrap();
    assert_eq!(task.await.unwrap(), PumpEnd::ClientGone);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_answers_no_ping_is_dropped_after_two_keep_alives() {
    let keep_alive = Duration::from_secs(15);
    // This client answers each ping with a pong: it stays.
    let (_, tx, mut sent, _) = channel::<Message>();
    let (client, _, _, rx) = channel::<Incoming>();
    let answering = tokio::spawn(pump(tx, rx, stream::pending(), beat(keep_alive.as_secs())));
    for _ in 0..5 {
        assert!(matches!(sent.recv().await, Some(Message::Ping(_))));
        client
            .try_send(Ok(Message::Pong(Default::default())))
            .unwrap();
    }
    assert!(!answering.is_finished());
    // This one reads the pings but never answers: dropped at the third tick (two keep-alives
    // after the first ping), with its pings taken.
    let (_, tx, mut sent, _) = channel::<Message>();
    let (_silent, _, _, rx) = channel::<Incoming>();
    let start = tokio::time::Instant::now();
    let silent = tokio::spawn(pump(tx, rx, stream::pending(), beat(keep_alive.as_secs())));
    assert!(matches!(sent.recv().await, Some(Message::Ping(_))));
    assert!(matches!(sent.recv().await, Some(Message::Ping(_))));
    assert_eq!(silent.await.unwrap(), PumpEnd::ClientGone);
    assert_eq!(start.elapsed(), keep_alive * 3);
    answering.abort();
}

#[tokio::test(start_paused = true)]
async fn ended_event_stream_still_closes_properly() {
    let (_, tx, mut sent, _) = channel::<Message>();
    let (_client, _, _, rx) = channel::<Incoming>();
    let end = pump(tx, rx, stream::empty(), beat(15)).await;
    assert_eq!(end, PumpEnd::Closed);
    assert_eq!(
        sent.recv().await,
        Some(Message::Text(
            r#"{"type":"closed","reason":"ended"}"#.into()
        ))
    );
    assert!(matches!(sent.recv().await, Some(Message::Close(Some(_)))));
}

#[tokio::test(start_paused = true)]
async fn client_gone_stops_the_loop() {
    let (_, tx, _sent, _) = channel::<Message>();
    let (client, _, _, rx) = channel::<Incoming>();
    drop(client);
    let end = pump(tx, rx, stream::pending(), beat(15)).await;
    assert_eq!(end, PumpEnd::ClientGone);
}

/// A sink that records each message and counts flushes, as a socket would write them.
#[derive(Default)]
struct CountingSink {
    messages: Vec<Message>,
    flushes: usize,
}

impl Sink<Message> for CountingSink {
    type Error = std::io::Error;
    fn poll_ready(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        self.messages.push(item);
        Ok(())
    }
    fn poll_flush(
        mut self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.flushes += 1;
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test(start_paused = true)]
async fn a_burst_is_written_with_one_flush_per_batch_and_nothing_lost() {
    let mut sink = CountingSink::default();
    let total = MAX_BATCH + 36;
    // Ready events, then a stream that stays open (an ended stream would close the socket).
    let mut events = stream::iter((1..total).map(|i| {
        out(
            &format!(r#"{{"type":"queueCount","queue":"q1","count":{i}}}"#),
            false,
        )
    }))
    .chain(stream::pending());
    let first = out(r#"{"type":"queueCount","queue":"q1","count":0}"#, false);
    let end = send_batch(&mut sink, &mut events, first, Duration::from_secs(30)).await;
    assert_eq!(end, None);
    assert_eq!(sink.messages.len(), MAX_BATCH, "one full batch");
    assert_eq!(sink.flushes, 1);
    let next = events.next().await.unwrap();
    assert!(
        next.json.contains(&format!("\"count\":{MAX_BATCH}}}")),
        "the event after the batch is still there: {}",
        next.json
    );
    let end = send_batch(&mut sink, &mut events, next, Duration::from_secs(30)).await;
    assert_eq!(end, None);
    assert_eq!(sink.messages.len(), total, "every event written once");
    assert_eq!(sink.flushes, 2);
    for (i, m) in sink.messages.iter().enumerate() {
        assert_eq!(
            m,
            &Message::Text(format!(r#"{{"type":"queueCount","queue":"q1","count":{i}}}"#).into())
        );
    }
}

#[tokio::test(start_paused = true)]
async fn heartbeats_come_with_every_ping_when_asked_for() {
    let (_, tx, mut sent, _) = channel::<Message>();
    let (client, _, _, rx) = channel::<Incoming>();
    let asked = Beat {
        keep_alive: Duration::from_secs(15),
        heartbeat: true,
    };
    let task = tokio::spawn(pump(tx, rx, stream::pending(), asked));
    let heartbeat = Message::Text(r#"{"type":"heartbeat","intervalMs":15000}"#.into());
    assert_eq!(
        sent.recv().await,
        Some(heartbeat.clone()),
        "the first at once"
    );
    for _ in 0..2 {
        tokio::time::advance(Duration::from_secs(15)).await;
        assert!(matches!(sent.recv().await, Some(Message::Ping(_))));
        assert_eq!(sent.recv().await, Some(heartbeat.clone()));
        client
            .try_send(Ok(Message::Pong(Default::default())))
            .unwrap();
    }
    client.try_send(Ok(Message::Close(None))).unwrap();
    assert_eq!(task.await.unwrap(), PumpEnd::ClientGone);
}
