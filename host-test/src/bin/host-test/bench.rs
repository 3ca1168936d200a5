//! `host-test bench`: a thin wrapper over [`host_test::bench`].

use std::path::Path;
use std::time::Duration;

use clap::{Args, ValueEnum};
use host_test::bench::realistic::{run_realistic, RealisticConfig, REALISTIC_LATENCY, REALISTIC_RATE_LIMIT_PER_HOUR};
use host_test::bench::{run_bench, BenchConfig, DEFAULT_CONCURRENCY};
use host_test::harness::Limits;
use host_test::simulator::SimulatorConfig;

use crate::common::{Exit, RateLimit, EXIT_FAILURE};

mod throttled;
use throttled::ThrottleArgs;

/// Sync a simulated tenant at concurrency 1 and at C; print requests against
/// the minimum, wall time, speed-up, entities per second and peak memory,
/// with PASS/FAIL per target. With `--profile realistic`: a first full sync
/// and a daily incremental one day later against a tenant with real latency,
/// throttling, v1 budget and app-login volume.
#[derive(Args, Debug)]
pub struct BenchCommand {
    /// What to run: `standard` (C=1, C=N and a no-change incremental) or
    /// `realistic` (100 ms ± 50 latency, the v2 throttle, the v1 budget, 3 app
    /// logins per user per day; a first full sync, then a day with 1% of users
    /// changed and the incremental sync; no C=1 run, no CPU comparison).
    #[arg(long, value_enum, default_value = "standard")]
    profile: Profile,
    /// Users in the simulated tenant.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    users: usize,
    /// Latency the simulator adds to every request, in milliseconds
    /// [default: 20; realistic profile: 50].
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// With it, each request's latency is drawn uniformly from
    /// `--latency-ms` to this (jitter), in milliseconds [realistic profile
    /// default: 150].
    #[arg(long, value_name = "MS")]
    latency_max_ms: Option<u64>,
    /// Print one JSON object (the measurements) instead of the table.
    #[arg(long)]
    json: bool,
    /// Requests in flight in the second run (the first runs at 1); with
    /// `--throttle`, the adaptive run's maximum [default: 8; 16 with `--throttle`].
    #[arg(long, value_name = "C")]
    concurrency: Option<u32>,
    /// Sync kinds, comma-separated [default: the connector's default kinds].
    #[arg(long, value_name = "KIND,...", value_delimiter = ',')]
    kinds: Vec<String>,
    /// The simulator's account rate limit: `on` (its default budget),
    /// `off`, or calls per hour [default: off; realistic profile: on].
    #[arg(long, value_name = "on|off|N")]
    rate_limit: Option<RateLimit>,
    /// Realistic profile: `event_lookback_days` of the first sync [default:
    /// the longest whose v1 calls fit in one hour's budget].
    #[arg(long, value_name = "DAYS")]
    event_lookback_days: Option<u32>,
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
    #[command(flatten)]
    throttle: ThrottleArgs,
}

/// `--latency-ms` when not given (the realistic profile has its own).
pub(crate) const DEFAULT_LATENCY_MS: u64 = 20;

impl BenchCommand {
    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        if self.throttle.throttle {
            return self.run_throttled(component, limits).await;
        }
        let rate_limit_per_hour = |default: Option<u32>| match self.rate_limit {
            None => default,
            Some(RateLimit::Off) => None,
            Some(RateLimit::On) => SimulatorConfig::default().rate_limit_per_hour,
            Some(RateLimit::PerHour(n)) => Some(n),
        };
        if self.profile == Profile::Realistic {
            let latency = self.latency_ms.map_or(REALISTIC_LATENCY.0, Duration::from_millis);
            let config = RealisticConfig {
                component: component.to_path_buf(),
                users: self.users,
                seed: self.seed,
                latency,
                latency_max: self.latency_max_ms.map_or(REALISTIC_LATENCY.1, Duration::from_millis).max(latency),
                rate_limit_per_hour: rate_limit_per_hour(Some(REALISTIC_RATE_LIMIT_PER_HOUR)),
                kinds: self.kinds.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
                event_lookback_days: self.event_lookback_days,
                concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
                max_wait_ms: self.max_wait_ms,
                limits,
                ..RealisticConfig::default()
            };
            eprintln!(
                "bench (realistic): {} users, latency {} to {} ms; a first full sync, a simulated day, a daily \
                 incremental sync",
                config.users,
                config.latency.as_millis(),
                config.latency_max.as_millis()
            );
            let report = run_realistic(&config).await?;
            if self.json {
                println!("{}", report.json());
            } else {
                print!("{}", report.table());
            }
            if self.assert_targets && !report.passed() {
                eprintln!("error: a sync ended early or a kind is incomplete (--assert)");
                return Err(Exit(EXIT_FAILURE).into());
            }
            return Ok(());
        }
        let latency_ms = self.latency_ms.unwrap_or(DEFAULT_LATENCY_MS);
        let config = BenchConfig {
            component: component.to_path_buf(),
            users: self.users,
            seed: self.seed,
            latency: Duration::from_millis(latency_ms),
            latency_max: self.latency_max_ms.map(Duration::from_millis),
            rate_limit_per_hour: rate_limit_per_hour(None),
            kinds: self.kinds.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
            concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            serial: !self.no_serial,
            max_wait_ms: self.max_wait_ms,
            limits,
            measure_cpu: !self.no_cpu,
        };
        let jitter = self.latency_max_ms.map(|max| format!(" to {max}")).unwrap_or_default();
        let serial = if config.serial { "one sync at concurrency 1, " } else { "" };
        eprintln!(
            "bench: {} users, latency {}{jitter} ms; {serial}one at {} and a no-change incremental after it",
            config.users, latency_ms, config.concurrency
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

/// `host-test bench --profile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Profile {
    /// C=1 and C=N full syncs and a no-change incremental.
    Standard,
    /// See [`host_test::bench::realistic`].
    Realistic,
}
