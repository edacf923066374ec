//! The `pbxis-ws` command: `serve`, `simulate` or `demo`; `completions` and `man` print shell
//! completions and man pages generated from this very command line. Logs go to stderr through a
//! non-blocking writer (`logs`; `RUST_LOG` honoured, `info` by default); stdout carries only
//! what `demo`, `completions` and `man` print.

use clap::{CommandFactory, Parser, Subcommand};
use pbxis_ws::{app, config, logs, sim};
use std::io::Write;

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
    /// Print the completion script of a shell (e.g. `pbxis-ws completions bash >
    /// /usr/share/bash-completion/completions/pbxis-ws`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page of pbxis-ws, or of one of its commands (`pbxis-ws man serve >
    /// pbxis-ws-serve.1`), in roff.
    Man {
        /// The command (`serve`, `simulate`, `demo`); none for pbxis-ws itself.
        command: Option<String>,
    },
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
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "pbxis-ws", &mut out);
            Ok(out.flush()?)
        }
        Command::Man { command } => man(command.as_deref()),
    }
}

/// Prints the man page of pbxis-ws or of one of its commands.
fn man(command: Option<&str>) -> anyhow::Result<()> {
    let mut cli = Cli::command();
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => {
            let sub = cli
                .find_subcommand(name)
                .ok_or_else(|| anyhow::anyhow!("no such command: {name}"))?;
            // `pbxis-ws-serve(1)`, as man pages of subcommands are named.
            let title = format!("pbxis-ws-{name}");
            sub.clone()
                .name(title.clone())
                .bin_name(title)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(page).render(&mut out)?;
    Ok(out.flush()?)
}

/// Starts logging; the guard, kept until exit, flushes the lines still queued when dropped.
fn start_logs(json: bool) -> impl Drop {
    let guard = logs::init(json);
    pbxis_ws::supervise::log_panics();
    guard
}
