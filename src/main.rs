//! The `pbxis-ws` command: `serve`, `simulate` or `demo`. Logs go to stderr through a
//! non-blocking writer (`logs`; `RUST_LOG` honoured, `info` by default); stdout carries only
//! what `demo` prints.

use clap::{Parser, Subcommand};
use pbxis_ws::{app, config, logs, sim};

/// Puts an Asterisk call center on the web: agents and queues over REST, long-poll, SSE and
/// WebSocket.
#[derive(Parser)]
#[command(name = "pbxis-ws", version, about, long_about = None)]
struct Cli {
    /// Log as JSON lines instead of text (levels from RUST_LOG, `info` by default); for
    /// `serve`, the same as `--log-format json`.
    #[arg(long, global = true, env = "PBXIS_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service against an Asterisk (AMI).
    Serve(Box<config::ServeArgs>),
    /// Run only the simulated Asterisk: an AMI server with a live call center.
    Simulate(sim::SimulateArgs),
    /// Run the simulator and the service connected to it, and print the page URLs.
    Demo(config::DemoArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let json = cli.log_json;
    match cli.command {
        Command::Serve(args) => {
            // The configuration first (it chooses the log format): a refusal is one line.
            let settings = config::Settings::load(&args).unwrap_or_else(|e| {
                eprintln!("pbxis-ws: {e}");
                std::process::exit(2)
            });
            let _logs = start_logs(json || settings.log.format == config::LogFormat::Json);
            app::serve(settings).await
        }
        Command::Simulate(args) => {
            let _logs = start_logs(json);
            sim::run(args).await
        }
        Command::Demo(args) => {
            let _logs = start_logs(json);
            app::demo(args).await
        }
    }
}

/// Starts logging; the guard, kept until exit, flushes the lines still queued when dropped.
fn start_logs(json: bool) -> impl Drop {
    let guard = logs::init(json);
    pbxis_ws::supervise::log_panics();
    guard
}
