//! `host-test bench --throttle`: a thin wrapper over
//! [`host_test::bench::throttled`].

use std::path::Path;
use std::time::Duration;

use clap::{Args, ValueEnum};
use host_test::bench::throttled::{run_throttled, ThrottledConfig, DEFAULT_IN_FLIGHT, DEFAULT_MAX};
use host_test::harness::Limits;
use host_test::simulator::{Refusal, V2Throttle};

use super::BenchCommand;
use crate::common::{Exit, EXIT_FAILURE};

/// The throttled benchmark's options.
#[derive(Args, Debug)]
pub struct ThrottleArgs {
    /// Sync against the simulator's v2 throttle instead: at each `--fixed`
    /// concurrency with adaptive concurrency off, then once adaptive from
    /// `--concurrency`; print wall time, requests and 429s per run, with
    /// PASS/FAIL (adaptive wall <= 1.15 x best fixed, no kind failed,
    /// 429s < 5% of requests).
    #[arg(long)]
    pub throttle: bool,
    /// With `--throttle`: the v2 calls the simulator serves at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_IN_FLIGHT)]
    pub throttle_in_flight: usize,
    /// With `--throttle`: how the simulator refuses a call over the limit.
    #[arg(long, value_name = "HOW", default_value = "429")]
    pub throttle_refusal: RefusalArg,
    /// With `--throttle`: the fixed concurrencies, comma-separated.
    #[arg(long, value_name = "C,...", value_delimiter = ',', default_value = "2,4,6,8,16")]
    pub fixed: Vec<u32>,
}

/// `--throttle-refusal`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RefusalArg {
    /// 429 without headers (what OneLogin's v2 sends, as far as recorded).
    #[value(name = "429")]
    TooManyRequests,
    /// 429 with `Retry-After` (assumed).
    #[value(name = "429-retry-after")]
    RetryAfter,
    /// 502 with an HTML page (what bursts of role reads got).
    #[value(name = "502")]
    BadGateway,
}

impl BenchCommand {
    /// `bench --throttle`.
    pub(super) async fn run_throttled(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        let refusal = match self.throttle.throttle_refusal {
            RefusalArg::TooManyRequests => Refusal::TooManyRequests,
            RefusalArg::RetryAfter => Refusal::TooManyRequestsRetryAfter,
            RefusalArg::BadGateway => Refusal::BadGateway,
        };
        let config = ThrottledConfig {
            component: component.to_path_buf(),
            users: self.users,
            seed: self.seed,
            latency: Duration::from_millis(self.latency_ms.unwrap_or(super::DEFAULT_LATENCY_MS)),
            latency_max: self.latency_max_ms.map(Duration::from_millis),
            throttle: V2Throttle {
                max_in_flight: Some(self.throttle.throttle_in_flight),
                refusal,
                ..V2Throttle::default()
            },
            fixed: self.throttle.fixed.clone(),
            adaptive_max: self.concurrency.unwrap_or(DEFAULT_MAX),
            kinds: self.kinds.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
            max_wait_ms: self.max_wait_ms,
            limits,
        };
        eprintln!(
            "bench --throttle: {} users; v2 throttle at {} in flight; fixed {:?}, then adaptive from {}",
            config.users, self.throttle.throttle_in_flight, config.fixed, config.adaptive_max
        );
        let report = run_throttled(&config).await?;
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
