//! The flags of `pbxis-load compare`, and their bounds.

use std::path::PathBuf;

use clap::Args;

/// Most idle subscribers (the process's file descriptors are the wall: one per stream, on the
/// client's side, and as many on the server's).
pub const MAX_IDLE: usize = 18_000;
/// Most subscribers under rate.
pub const MAX_SUBSCRIBERS: usize = 10_000;
/// Most events per second.
pub const MAX_RATE: f64 = 100_000.0;
/// Longest phase, seconds.
pub const MAX_SECONDS: u64 = 600;

/// pbxis-ws and Pushpin side by side: the same SSE subscribers (same client code), the same
/// events, the same measures, and their ratios.
#[derive(Clone, Debug, Args)]
pub struct CompareArgs {
    /// Idle subscribers held for the memory figure and the broadcast (0: skip that phase).
    #[arg(long, default_value_t = 5_000)]
    pub idle: usize,
    /// How the idle subscribers hold their streams (pbxis-ws only: `websocket` needs
    /// `--only pbxis`). The subscribers under rate always use SSE.
    #[arg(long, value_enum, default_value = "sse")]
    pub idle_transport: Transport,
    /// One-event broadcasts timed over the idle subscribers (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub broadcasts: usize,
    /// Subscribers under rate.
    #[arg(long, default_value_t = 1_000)]
    pub subscribers: usize,
    /// Events per second of each rate phase, comma-separated (empty: skip).
    #[arg(long, value_delimiter = ',', default_value = "10,50")]
    pub rates: Vec<f64>,
    /// Length of each rate phase, seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Queues per pbxis-ws ticket (one agent each): events are sent over this many (agent,
    /// queue) pairs, and over as many publish connections to Pushpin.
    #[arg(long, default_value_t = 4)]
    pub queues: usize,
    /// Which sides to run.
    #[arg(long, value_enum, default_value = "both")]
    pub only: Only,
    /// The service binary (default: `pbxis-ws` beside this tool).
    #[arg(long)]
    pub service_bin: Option<PathBuf>,
    /// The Pushpin runner.
    #[arg(long, default_value = "pushpin")]
    pub pushpin_bin: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The sides to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    /// pbxis-ws, then Pushpin.
    Both,
    /// pbxis-ws alone.
    Pbxis,
    /// Pushpin alone.
    Pushpin,
}

/// How a subscriber holds its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `GET /<ticket>/sse` (Pushpin: `GET /stream`).
    Sse,
    /// `GET /<ticket>/websocket`, pbxis-ws only.
    Websocket,
}

impl CompareArgs {
    /// Checks the bounds.
    pub fn check(&self) -> Result<(), String> {
        if self.idle > MAX_IDLE {
            return Err(format!("--idle: at most {MAX_IDLE}"));
        }
        if self.subscribers == 0 || self.subscribers > MAX_SUBSCRIBERS {
            return Err(format!("--subscribers: 1..={MAX_SUBSCRIBERS}"));
        }
        if self
            .rates
            .iter()
            .any(|r| !(r.is_finite() && *r > 0.0 && *r <= MAX_RATE))
        {
            return Err(format!("--rates: each in (0, {MAX_RATE}]"));
        }
        if self.seconds == 0 || self.seconds > MAX_SECONDS {
            return Err(format!("--seconds: 1..={MAX_SECONDS}"));
        }
        if self.queues == 0 || self.queues > 64 {
            return Err("--queues: 1..=64".into());
        }
        if self.idle_transport == Transport::Websocket && self.only != Only::Pbxis {
            return Err(
                "--idle-transport websocket: measured on pbxis-ws alone (the Pushpin \
                        side here serves SSE only); add --only pbxis"
                    .into(),
            );
        }
        if self.broadcasts > 100 {
            return Err("--broadcasts: at most 100".into());
        }
        Ok(())
    }

    /// The hard limit on the whole run.
    pub fn time_limit(&self) -> std::time::Duration {
        let per_side = 300 + self.rates.len() as u64 * (self.seconds + 60);
        std::time::Duration::from_secs(2 * per_side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CompareArgs,
    }

    fn check(line: &[&str]) -> Result<(), String> {
        let cli = Cli::try_parse_from([&["compare"], line].concat()).map_err(|e| e.to_string())?;
        cli.args.check()
    }

    #[test]
    fn websocket_idle_streams_are_for_pbxis_ws_alone() {
        assert_eq!(check(&[]), Ok(()));
        assert_eq!(
            check(&["--idle-transport", "websocket", "--only", "pbxis"]),
            Ok(())
        );
        let refused = check(&["--idle-transport", "websocket"]).unwrap_err();
        assert!(refused.contains("--only pbxis"), "{refused}");
        assert!(check(&["--idle-transport", "websocket", "--only", "pushpin"]).is_err());
        assert!(check(&["--idle-transport", "ws"]).is_err());
    }
}
