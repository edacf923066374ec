//! `pbxis-ws simulate`: the simulator on its own, until Ctrl-C.

use std::time::Duration;

use super::config::SimConfig;
use super::handle::start;

/// `pbxis-ws simulate` options.
#[derive(Clone, Debug, clap::Args)]
pub struct SimulateArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5038")]
    pub listen: std::net::SocketAddr,
    /// Agent numbers, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "147,148,149")]
    pub agents: Vec<String>,
    /// Queue names, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "q1,q2")]
    pub queues: Vec<String>,
    /// Inbound calls per minute (simulated time); 0 = no automatic traffic.
    #[arg(long, default_value_t = 4.0)]
    pub call_rate: f64,
    /// Seed of the random generator (same seed, same run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// AMI user name.
    #[arg(long, default_value = "pbxis")]
    pub username: String,
    /// AMI secret.
    #[arg(long, default_value = "pbxis", env = "PBXIS_SIM_SECRET")]
    pub secret: String,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Extra events per second for benchmarks (0 = off).
    #[arg(long, default_value_t = 0)]
    pub firehose: u32,
    /// Member interface template (`{agent}` = the agent number).
    #[arg(long, default_value = "PJSIP/{agent}")]
    pub location: String,
}

impl SimulateArgs {
    /// The simulator configuration these options describe.
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        anyhow::ensure!(
            self.time_scale.is_finite() && self.time_scale > 0.0,
            "--time-scale must be a positive number"
        );
        anyhow::ensure!(
            self.call_rate.is_finite() && self.call_rate >= 0.0,
            "--call-rate must be zero or positive"
        );
        anyhow::ensure!(
            !self.agents.is_empty(),
            "--agents must name at least one agent"
        );
        anyhow::ensure!(
            !self.queues.is_empty(),
            "--queues must name at least one queue"
        );
        let mut config = SimConfig::quiet();
        config.username.clone_from(&self.username);
        config.secret.clone_from(&self.secret);
        config.agents.clone_from(&self.agents);
        config.queues.clone_from(&self.queues);
        config.location.clone_from(&self.location);
        config.call_rate = self.call_rate;
        config.seed = self.seed;
        config.time_scale = self.time_scale;
        config.firehose = self.firehose;
        Ok(config)
    }
}

/// Runs the simulator until Ctrl-C.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let config = args.to_config()?;
    let sim = start(config, args.listen).await?;
    tracing::info!(addr = %sim.addr(), "simulated Asterisk (AMI) listening");
    tracing::info!(
        "type a command and Enter for faults and calls; {}",
        super::console::HELP
    );
    tokio::spawn(super::console::run(sim.clone()));
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}
