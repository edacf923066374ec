//! The simulated Asterisk: an AMI server running a live call center. (Interface only; the
//! implementation lands with the simulator issue.)

/// `pbxis-ws simulate` options.
#[derive(Clone, Debug, clap::Args)]
pub struct SimulateArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5038")]
    pub listen: std::net::SocketAddr,
}

/// Runs the simulator until Ctrl-C.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("the simulator is not built yet")
}
