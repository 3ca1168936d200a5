//! `host-test bench`: a thin wrapper over [`host_test::bench`].

use std::path::Path;
use std::time::Duration;

use clap::Args;
use host_test::bench::{run_bench, BenchConfig, DEFAULT_CONCURRENCY};
use host_test::harness::Limits;
use host_test::simulator::SimulatorConfig;

use crate::common::{Exit, RateLimit, EXIT_FAILURE};

/// Sync a simulated tenant at concurrency 1 and at C; print requests against
/// the minimum, wall time, speed-up, entities per second and peak memory,
/// with PASS/FAIL per target.
#[derive(Args, Debug)]
pub struct BenchCommand {
    /// Users in the simulated tenant.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    users: usize,
    /// Latency the simulator adds to every request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 20)]
    latency_ms: u64,
    /// With it, each request's latency is drawn uniformly from
    /// `--latency-ms` to this (jitter), in milliseconds.
    #[arg(long, value_name = "MS")]
    latency_max_ms: Option<u64>,
    /// Print one JSON object (the measurements) instead of the table.
    #[arg(long)]
    json: bool,
    /// Requests in flight in the second run (the first runs at 1).
    #[arg(long, value_name = "C", default_value_t = DEFAULT_CONCURRENCY)]
    concurrency: u32,
    /// Sync kinds, comma-separated [default: the connector's default kinds].
    #[arg(long, value_name = "KIND,...", value_delimiter = ',')]
    kinds: Vec<String>,
    /// The simulator's account rate limit: `on` (its default budget),
    /// `off`, or calls per hour.
    #[arg(long, value_name = "on|off|N", default_value = "off")]
    rate_limit: RateLimit,
    /// Seed of the simulated tenant.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// `sync-request.max-wait-ms`: how long the component may wait for rate limits per call.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    max_wait_ms: u32,
    /// Skip the sync at concurrency 1 (no speed-up then): what makes
    /// 100,000 users feasible.
    #[arg(long)]
    no_serial: bool,
    /// Leave out the CPU comparison (wasm against the same crate built natively).
    #[arg(long)]
    no_cpu: bool,
    /// Exit with status 1 when a target fails (otherwise 0 whatever the result).
    #[arg(long = "assert")]
    assert_targets: bool,
}

impl BenchCommand {
    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        let rate_limit_per_hour = match self.rate_limit {
            RateLimit::Off => None,
            RateLimit::On => SimulatorConfig::default().rate_limit_per_hour,
            RateLimit::PerHour(n) => Some(n),
        };
        let config = BenchConfig {
            component: component.to_path_buf(),
            users: self.users,
            seed: self.seed,
            latency: Duration::from_millis(self.latency_ms),
            latency_max: self.latency_max_ms.map(Duration::from_millis),
            rate_limit_per_hour,
            kinds: self.kinds.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
            concurrency: self.concurrency,
            serial: !self.no_serial,
            max_wait_ms: self.max_wait_ms,
            limits,
            measure_cpu: !self.no_cpu,
        };
        let jitter = self.latency_max_ms.map(|max| format!(" to {max}")).unwrap_or_default();
        let serial = if config.serial { "one sync at concurrency 1, " } else { "" };
        eprintln!(
            "bench: {} users, latency {}{jitter} ms; {serial}one at {} and a no-change incremental after it",
            config.users, self.latency_ms, config.concurrency
        );
        let report = run_bench(&config).await?;
        if self.json {
            println!("{}", report.json());
        } else {
            print!("{}", report.table());
        }
        if self.assert_targets && !report.passed() {
            eprintln!("error: a target failed (--assert)");
            return Err(Exit(EXIT_FAILURE).into());
        }
        Ok(())
    }
}
