//! Placeholder of the simulator's public API until it lands (same signatures).

use std::net::SocketAddr;

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Inbound calls per minute.
    pub call_rate: f64,
}

impl SimConfig {
    /// The quiet default.
    pub fn quiet() -> Self {
        Self { call_rate: 0.0 }
    }
}

/// A running simulator.
#[derive(Clone, Debug)]
pub struct SimHandle(SocketAddr);

impl SimHandle {
    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.0
    }
    /// Stops it.
    pub async fn shutdown(&self) {}
}

/// Starts it.
pub async fn start(_config: SimConfig, listen: SocketAddr) -> std::io::Result<SimHandle> {
    Ok(SimHandle(listen))
}
