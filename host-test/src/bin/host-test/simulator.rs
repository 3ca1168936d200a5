//! `host-test simulator`: serve the OneLogin simulator until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use host_test::simulator::Simulator;

use crate::common::{RateLimit, SimulatorOptions};

/// Serve the OneLogin API simulator until Ctrl-C. Prints its base URL and
/// its test credentials (manage and read-only).
#[derive(Args, Debug)]
pub struct SimulatorCommand {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Number of users in the simulated tenant [default: the simulator's].
    #[arg(long, value_name = "N")]
    users: Option<usize>,
    /// Seed of the simulated tenant [default: the simulator's].
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Account rate limit, calls per hour, or `off` [default: the simulator's].
    #[arg(long, value_name = "N|off")]
    rate_limit: Option<RateLimit>,
    /// Latency added to every request, in milliseconds.
    #[arg(long, value_name = "L", default_value_t = 0)]
    latency_ms: u64,
}

impl SimulatorCommand {
    /// Runs the subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        let options = SimulatorOptions { users: self.users, seed: self.seed, rate_limit: self.rate_limit };
        let mut config = options.config();
        config.latency = Duration::from_millis(self.latency_ms);
        let users = config.users;
        let seed = config.seed;
        let simulator = Simulator::start_on(config, self.listen)
            .await
            .with_context(|| format!("cannot start the simulator on {}", self.listen))?;
        // These are the simulator's own test credentials: printing them is the point.
        let manage = simulator.manage_credentials();
        let read = simulator.read_credentials();
        println!("base_url = {}", simulator.base_url());
        println!("users = {users}");
        println!("seed = {seed}");
        println!("manage_client_id = {}", manage.client_id);
        println!("manage_client_secret = {}", manage.client_secret);
        println!("read_client_id = {}", read.client_id);
        println!("read_client_secret = {}", read.client_secret);
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
