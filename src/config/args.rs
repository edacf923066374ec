//! The command line of `serve` and `demo`. `serve` has `--config FILE` and one flag per key of
//! the configuration model, generated from it (help from the example file's comments).

use clap::{Arg, ArgAction, ArgMatches, Command};
use std::net::SocketAddr;
use std::path::PathBuf;

use super::example;
use super::keys::{self, Key, Kind, ENV_ALIASES, FLAG_ALIASES};
use super::load::Sources;

/// The flags of `serve`, one per configuration key, generated from the model (see
/// [`keys`](super::keys)): `--limits-max-tickets 500`. A boolean flag alone means `true`.
#[derive(Clone, Debug, Default)]
pub struct KeyFlags {
    /// The flags given: (flag without `--`, key, text).
    pub given: Vec<(String, String, String)>,
}

fn help(key: &Key) -> String {
    let mut help = example::description(&key.path)
        .unwrap_or_default()
        .to_owned();
    if !key.is_secret() && !key.default.is_empty() {
        help.push_str(&format!(" [default: {}]", key.default));
    }
    let aliases: Vec<_> = ENV_ALIASES
        .iter()
        .filter(|(_, path)| *path == key.path)
        .map(|(name, _)| *name)
        .collect();
    help.push_str(&format!(" [env: {}", key.env()));
    for alias in aliases {
        help.push_str(&format!(", {alias}"));
    }
    help.push(']');
    help.trim().to_owned()
}

impl clap::Args for KeyFlags {
    fn augment_args(mut cmd: Command) -> Command {
        for key in keys::all() {
            let mut arg = Arg::new(key.path.clone())
                .long(key.flag())
                .value_name(match key.kind {
                    Kind::Bool => "BOOL",
                    Kind::Integer => "N",
                    Kind::List => "LIST",
                    Kind::Text => "TEXT",
                })
                .help(help(key))
                .action(ArgAction::Set);
            if key.kind == Kind::Bool {
                arg = arg.num_args(0..=1).default_missing_value("true");
            }
            for (alias, _) in FLAG_ALIASES.iter().filter(|(_, p)| *p == key.path) {
                arg = arg.visible_alias(*alias);
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for KeyFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Self::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for key in keys::all() {
            if let Ok(Some(text)) = matches.try_get_one::<String>(&key.path) {
                self.given.retain(|(_, path, _)| *path != key.path);
                self.given
                    .push((key.flag(), key.path.clone(), text.clone()));
            }
        }
        Ok(())
    }
}

/// `pbxis-ws serve` options.
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file (see the README, "Configuration").
    #[arg(long, env = "PBXIS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Every key of the configuration, as a flag.
    #[command(flatten)]
    pub flags: KeyFlags,
}

impl ServeArgs {
    /// The layers of this start: the file, the process's `PBXIS_*` variables, the flags.
    pub fn sources(&self) -> Sources {
        Sources::from_process(self.config.clone(), self.flags.given.clone())
    }
}

/// `pbxis-ws demo` options.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Address of the web service (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:58615")]
    pub listen: SocketAddr,
    /// Address of the simulated Asterisk's AMI (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub ami_listen: SocketAddr,
    /// Simulated inbound calls per minute (0 = no automatic traffic).
    #[arg(long, default_value_t = 6.0)]
    pub call_rate: f64,
    /// SSE keep-alive, WebSocket ping and heartbeat interval in seconds.
    #[arg(long, default_value_t = 15)]
    pub keep_alive_seconds: u64,
}
