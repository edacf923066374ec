//! Where the logs go: stderr, through a non-blocking writer. Log lines are queued (at most
//! [`LOG_QUEUE_LINES`]) and written by a thread of their own, so a slow or stuck stderr (a full
//! pipe, a paused terminal, a slow journal) never blocks the task that logs (the model, the hub,
//! a connection); when the queue is full, new lines are dropped (lossy), never waited for.
//! [`init`] returns the guard that flushes the queue when dropped: `main` keeps it for the
//! process's life.

use std::io::{IsTerminal, Write};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Most log lines waiting for stderr; beyond it lines are dropped.
pub const LOG_QUEUE_LINES: usize = 16_384;

/// A lossy, bounded, non-blocking writer in front of `sink`, and its flushing guard.
pub fn non_blocking<W: Write + Send + 'static>(sink: W) -> (NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .thread_name("pbxis-log")
        .finish(sink)
}

/// Logs to stderr as text (colour only on a terminal) or JSON lines, levels from `RUST_LOG`
/// (`info` by default). Keep the guard until exit.
pub fn init(json: bool) -> WorkerGuard {
    let (writer, guard) = non_blocking(std::io::stderr());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_writer(writer)
        // Colour codes only for a terminal, not in a file or a service manager's journal.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
    guard
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;
    use tracing_subscriber::fmt::MakeWriter;

    /// A sink stuck until told to go on: a full pipe nobody reads.
    struct Stuck(mpsc::Receiver<()>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_sink_never_blocks_the_logger_and_extra_lines_are_dropped() {
        let (go_on, stuck) = mpsc::channel();
        let (writer, guard) = non_blocking(Stuck(stuck));
        let dropped = writer.error_counter();
        let (done, finished) = mpsc::channel();
        let logger = std::thread::spawn(move || {
            for i in 0..2 * LOG_QUEUE_LINES {
                let _ = writeln!(writer.make_writer(), "line {i}");
            }
            let _ = done.send(());
        });
        // Generous: the writes only queue or drop, they never wait for the sink.
        let result = finished.recv_timeout(Duration::from_secs(60));
        assert!(result.is_ok(), "logging blocked on a stuck sink");
        assert!(
            dropped.dropped_lines() >= LOG_QUEUE_LINES - 1,
            "the queue is bounded"
        );
        logger.join().unwrap();
        drop(go_on); // the sink goes on (each write returns at once), the guard flushes
        drop(guard);
    }
}
