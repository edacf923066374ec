//! Faults and calls from the command line: while `pbxis-ws simulate` runs, each line typed on
//! its standard input is one command (`help` lists them). Parsing is pure and tested; the
//! commands go through the same [`SimHandle`] the tests use.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::handle::SimHandle;

/// One console command.
#[derive(Clone, Debug, PartialEq)]
pub enum ConsoleCommand {
    /// Close every AMI connection.
    Drop,
    /// Stop reading and writing for a while.
    Stall(Duration),
    /// Shutdown event, close, refuse connections for a while, fresh state.
    Restart(Duration),
    /// Write these bytes to every client.
    Garbage(Vec<u8>),
    /// Split every write at random points (or stop doing so).
    Split(bool),
    /// Refuse every login (or stop doing so).
    RefuseLogins(bool),
    /// A caller enters a queue.
    Call { queue: String, number: String },
    /// Hang up the channel with this Uniqueid.
    Hangup(String),
    /// Set an agent's answer delay (`None` = never answers).
    Answer {
        agent: String,
        delay: Option<Duration>,
    },
    /// Print the simulator's state.
    Truth,
    /// List the commands.
    Help,
}

/// The console's help text.
pub const HELP: &str =
    "commands: drop | stall SECS | restart SECS | garbage [TEXT] | split on|off | \
refuse on|off | call QUEUE NUMBER | hangup UNIQUEID | answer AGENT SECS|never | truth | help";

fn secs(s: Option<&str>) -> Result<Duration, String> {
    let s = s.ok_or("a number of seconds is missing")?;
    let v: f64 = s
        .parse()
        .map_err(|_| format!("not a number of seconds: {s}"))?;
    if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
        return Err(format!("seconds out of range: {s}"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Parses one line; an error says what is wrong.
pub fn parse(line: &str) -> Result<ConsoleCommand, String> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or("").to_ascii_lowercase();
    let arg = words.next();
    let c = match cmd.as_str() {
        "drop" => ConsoleCommand::Drop,
        "stall" => ConsoleCommand::Stall(secs(arg)?),
        "restart" => ConsoleCommand::Restart(secs(arg)?),
        "garbage" => {
            let text = line.trim().get(7..).unwrap_or("").trim();
            let text = if text.is_empty() {
                "\u{0}garbage\r\n\r\n"
            } else {
                text
            };
            ConsoleCommand::Garbage(text.as_bytes().to_vec())
        }
        "split" => match arg {
            Some("on") => ConsoleCommand::Split(true),
            Some("off") => ConsoleCommand::Split(false),
            _ => return Err("split on|off".to_owned()),
        },
        "refuse" => match arg {
            Some("on") => ConsoleCommand::RefuseLogins(true),
            Some("off") => ConsoleCommand::RefuseLogins(false),
            _ => return Err("refuse on|off".to_owned()),
        },
        "call" => {
            let queue = arg.ok_or("call QUEUE NUMBER")?.to_owned();
            let number = words.next().ok_or("call QUEUE NUMBER")?.to_owned();
            ConsoleCommand::Call { queue, number }
        }
        "hangup" => ConsoleCommand::Hangup(arg.ok_or("hangup UNIQUEID")?.to_owned()),
        "answer" => {
            let agent = arg.ok_or("answer AGENT SECS|never")?.to_owned();
            let delay = match words.next() {
                Some("never") => None,
                other => Some(secs(other)?),
            };
            ConsoleCommand::Answer { agent, delay }
        }
        "truth" => ConsoleCommand::Truth,
        "help" | "?" => ConsoleCommand::Help,
        _ => return Err(format!("unknown command {cmd:?}; {HELP}")),
    };
    Ok(c)
}

/// Runs one command against the simulator.
pub async fn apply(sim: &SimHandle, cmd: ConsoleCommand) {
    match cmd {
        ConsoleCommand::Drop => sim.drop_connections().await,
        ConsoleCommand::Stall(d) => sim.stall(d).await,
        ConsoleCommand::Restart(d) => sim.restart(d).await,
        ConsoleCommand::Garbage(b) => sim.send_garbage(&b).await,
        ConsoleCommand::Split(on) => sim.split_writes(on),
        ConsoleCommand::RefuseLogins(on) => sim.refuse_logins(on),
        ConsoleCommand::Call { queue, number } => {
            let uid = sim.inbound_call(&queue, &number, None).await;
            if uid.is_empty() {
                tracing::warn!(%queue, "no such queue, or too many calls");
            } else {
                tracing::info!(%queue, %number, uniqueid = %uid, "console call");
            }
        }
        ConsoleCommand::Hangup(uid) => {
            let found = sim.hangup(&uid).await;
            tracing::info!(%uid, found, "console hangup");
        }
        ConsoleCommand::Answer { agent, delay } => sim.set_answer_delay(&agent, delay),
        ConsoleCommand::Truth => {
            let truth = sim.truth().await;
            tracing::info!(truth = ?truth, "state");
        }
        ConsoleCommand::Help => tracing::info!("{HELP}"),
    }
}

/// Reads commands from standard input until it ends (input is bounded to one line of 4 KiB
/// at a time; longer lines are refused).
pub async fn run(sim: SimHandle) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > 4096 {
            tracing::warn!("console line too long: ignored");
            continue;
        }
        match parse(&line) {
            Ok(cmd) => apply(&sim, cmd).await,
            Err(e) => tracing::warn!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("drop"), Ok(ConsoleCommand::Drop));
        assert_eq!(
            parse("stall 2.5"),
            Ok(ConsoleCommand::Stall(Duration::from_millis(2500)))
        );
        assert_eq!(
            parse("RESTART 3"),
            Ok(ConsoleCommand::Restart(Duration::from_secs(3)))
        );
        assert_eq!(
            parse("garbage xyz"),
            Ok(ConsoleCommand::Garbage(b"xyz".to_vec()))
        );
        assert_eq!(parse("split on"), Ok(ConsoleCommand::Split(true)));
        assert_eq!(parse("refuse on"), Ok(ConsoleCommand::RefuseLogins(true)));
        assert_eq!(
            parse("call q1 0911000001"),
            Ok(ConsoleCommand::Call {
                queue: "q1".into(),
                number: "0911000001".into()
            })
        );
        assert_eq!(
            parse("hangup 17.3"),
            Ok(ConsoleCommand::Hangup("17.3".into()))
        );
        assert_eq!(
            parse("answer 149 never"),
            Ok(ConsoleCommand::Answer {
                agent: "149".into(),
                delay: None
            })
        );
        assert_eq!(parse("truth"), Ok(ConsoleCommand::Truth));
    }

    #[test]
    fn refuses_bad_input() {
        assert!(parse("stall").is_err());
        assert!(parse("stall -1").is_err());
        assert!(parse("stall NaN").is_err());
        assert!(parse("restart 999999").is_err());
        assert!(parse("split maybe").is_err());
        assert!(parse("refuse").is_err());
        assert!(parse("call q1").is_err());
        assert!(parse("explode").is_err());
    }
}
