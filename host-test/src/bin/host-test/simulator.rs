//! `host-test simulator`: serve the OneLogin simulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use host_test::simulator::{Credentials, Simulator};

use crate::common::{parse_users, resolve_path, RateLimit, SimulatorOptions, SimulatorSwitches};

/// Serve the OneLogin API simulator until Ctrl-C. Prints a connector config
/// for it (valid TOML, usable as is with `sync --config`): its base URL and
/// its "Manage All" test credentials; the read-only ones as comments.
#[derive(Args, Debug)]
pub struct SimulatorCommand {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Number of users in the simulated tenant, at most 500000 [default: the simulator's].
    #[arg(long, value_name = "N", value_parser = parse_users)]
    users: Option<usize>,
    /// Seed of the simulated tenant [default: the simulator's].
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Account rate limit, calls per hour, `on` or `off` [default: the simulator's].
    #[arg(long, value_name = "N|on|off")]
    rate_limit: Option<RateLimit>,
    /// Length of the rate window in seconds [default: 3600, OneLogin's].
    #[arg(long, value_name = "SECS")]
    rate_window_secs: Option<u64>,
    /// Latency added to every request, in milliseconds.
    #[arg(long, value_name = "L", default_value_t = 0)]
    latency_ms: u64,
    /// Also write the config to FILE (for `sync --config FILE`).
    #[arg(long, value_name = "FILE")]
    config_out: Option<PathBuf>,
    /// Which of the answers the evidence allows the simulator gives.
    #[command(flatten)]
    switches: SimulatorSwitches,
}

/// A TOML string literal.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The connector config for a running simulator, as TOML.
pub fn config_toml(base_url: &str, users: usize, seed: u64, manage: &Credentials, read: &Credentials) -> String {
    format!(
        "# OneLogin simulator: {users} users, seed {seed}. Use with: host-test sync --config FILE\n\
         base_url = {}\n\
         client_id = {}\n\
         client_secret = {}\n\
         # Read All credentials of the same simulator:\n\
         # client_id = {}\n\
         # client_secret = {}\n",
        toml_string(base_url),
        toml_string(&manage.client_id),
        toml_string(&manage.client_secret),
        toml_string(&read.client_id),
        toml_string(&read.client_secret),
    )
}

impl SimulatorCommand {
    /// Runs the subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        let options = SimulatorOptions {
            users: self.users,
            seed: self.seed,
            rate_limit: self.rate_limit,
            rate_window_secs: self.rate_window_secs,
            latency_ms: Some(self.latency_ms),
            switches: self.switches,
        };
        let config = options.config();
        let users = config.users;
        let seed = config.seed;
        let simulator = Simulator::start_on(config, self.listen)
            .await
            .with_context(|| format!("cannot start the simulator on {}", self.listen))?;
        // These are the simulator's own test credentials: printing them is the point.
        let text = config_toml(
            &simulator.base_url(),
            users,
            seed,
            &simulator.manage_credentials(),
            &simulator.read_credentials(),
        );
        print!("{text}");
        if let Some(path) = &self.config_out {
            let path = resolve_path(path);
            std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("config written to {}", path.display());
        }
        use std::io::Write as _;
        std::io::stdout().flush().ok();
        eprintln!("serving until Ctrl-C");
        wait_for_shutdown_signal().await?;
        eprintln!("shutting down");
        simulator.shutdown().await;
        Ok(())
    }
}

/// Waits for Ctrl-C (or, on Unix, SIGTERM).
async fn wait_for_shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("cannot wait for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_config_is_toml_the_sync_reads() {
        let manage = Credentials { client_id: "m\"id".into(), client_secret: "ms".into() };
        let read = Credentials { client_id: "rid".into(), client_secret: "rs".into() };
        let text = config_toml("http://127.0.0.1:1234", 50, 1, &manage, &read);
        let config =
            host_test::harness::config::ConnectorConfig::from_toml_str(&text, std::path::Path::new("t")).unwrap();
        assert_eq!(config.client_id.as_deref(), Some("m\"id"));
        assert_eq!(config.client_secret.as_deref(), Some("ms"));
        assert_eq!(config.base_url.as_deref(), Some("http://127.0.0.1:1234"));
        assert!(config.extra.is_empty(), "{config:?}");
    }
}
