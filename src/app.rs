//! Start-up wiring: builds the AMI client, the model, the hub and the HTTP server, binding first
//! so that tests can ask for port 0. (Lands with the web service issue.)

use crate::config::{DemoArgs, ServeArgs};

/// Runs `pbxis-ws serve` until stopped.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("the service is not built yet")
}

/// Runs `pbxis-ws demo` until stopped.
pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("the demo is not built yet")
}
