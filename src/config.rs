//! Settings: TOML file, then `PBXIS_*` environment variables, then flags; secrets redacted in
//! `Debug`. (Lands with the web service issue.)

/// `pbxis-ws serve` options.
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
}

/// `pbxis-ws demo` options.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Address of the web service.
    #[arg(long, default_value = "127.0.0.1:58615")]
    pub listen: std::net::SocketAddr,
}
