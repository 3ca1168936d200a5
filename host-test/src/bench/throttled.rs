//! The throttled benchmark behind `host-test bench --throttle`: one tenant
//! synced against the simulator's v2 load throttle at several fixed
//! concurrencies (the connector's adaptive control off:
//! `adaptive_concurrency=off`) and once adaptive, starting from the host's
//! maximum (`adaptive_concurrency=on`, the default).
//!
//! Each run has its own simulator (same users and seed, so the same tenant,
//! and the same throttle), harness and instance. Per run it records the wall
//! time of the sync, the requests (the sync's only; `configure`'s are
//! counted apart), the 429s and 502s the throttle sent, the concurrency each
//! page reported (`sync-page.concurrency`), the retries of a page the host
//! made after a retryable error, and each kind's status. The targets
//! ([`ThrottledReport::targets`]): the adaptive run's wall time within
//! [`TARGET_ADAPTIVE_WALL`] of the best fixed run's, no kind failed, and
//! its 429s under [`TARGET_429_SHARE`] of its requests.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::{connector_error, kind_status_word, resolve_kinds, TargetCheck, Verdict, TENANT_HOST};
use crate::harness::types::{ErrorKind, KindReport, KindStatus};
use crate::harness::{Harness, HarnessConfig, Limits, SyncOptions};
use crate::simulator::{Refusal, Simulator, SimulatorConfig, V2Throttle};

/// Target: the adaptive run's wall time at most this many times the best
/// fixed run's.
pub const TARGET_ADAPTIVE_WALL: f64 = 1.15;
/// Target: the adaptive run's 429s under this share of its requests.
pub const TARGET_429_SHARE: f64 = 0.05;
/// The throttle's in-flight limit when the caller does not choose one.
pub const DEFAULT_IN_FLIGHT: usize = 6;
/// The host's maximum for the adaptive run when the caller does not choose one.
pub const DEFAULT_MAX: u32 = 16;
/// How often the host calls a page again after a retryable error.
const PAGE_RETRIES: u32 = 20;

/// What to benchmark.
#[derive(Clone, Debug)]
pub struct ThrottledConfig {
    /// The component `.wasm`.
    pub component: PathBuf,
    /// Users in the simulated tenant.
    pub users: usize,
    /// Seed of the simulated tenant.
    pub seed: u64,
    /// Latency the simulator adds to every request (the least, with jitter).
    pub latency: Duration,
    /// With it, each request's latency is drawn from `latency..=latency_max`.
    pub latency_max: Option<Duration>,
    /// The simulator's v2 throttle for every run.
    pub throttle: V2Throttle,
    /// The fixed concurrencies (adaptive control off), one run each.
    pub fixed: Vec<u32>,
    /// The host's maximum (`sync-request.concurrency`) of the adaptive run.
    pub adaptive_max: u32,
    /// Kinds to sync (empty = the connector's defaults).
    pub kinds: Vec<String>,
    /// `sync-request.max-wait-ms`.
    pub max_wait_ms: u32,
    /// Limits per call.
    pub limits: Limits,
}

impl Default for ThrottledConfig {
    fn default() -> Self {
        ThrottledConfig {
            component: crate::harness::config::component_path(),
            users: 1000,
            seed: 1,
            latency: Duration::from_millis(10),
            latency_max: Some(Duration::from_millis(60)),
            throttle: V2Throttle { max_in_flight: Some(DEFAULT_IN_FLIGHT), ..V2Throttle::default() },
            fixed: vec![2, 4, 6, 8, 16],
            adaptive_max: DEFAULT_MAX,
            kinds: Vec::new(),
            max_wait_ms: 60_000,
            limits: Limits::default(),
        }
    }
}

/// One sync against the throttle.
#[derive(Clone, Debug)]
pub struct ThrottledRun {
    /// `sync-request.concurrency`: fixed, or the adaptive run's maximum.
    pub concurrency: u32,
    /// Whether the connector's adaptive control was on.
    pub adaptive: bool,
    /// Wall time of the sync (all pages, page retries included; not `configure`).
    pub wall: Duration,
    /// Requests the sync made (simulator count, refused ones included).
    pub requests: u64,
    /// 429 responses (the throttle's, and any other).
    pub throttled_429: u64,
    /// 502 responses of the throttle.
    pub bad_gateway_502: u64,
    /// The most v2 calls in flight at the simulator at once.
    pub peak_in_flight: usize,
    /// `sync` calls that returned a page.
    pub pages: u64,
    /// `sync` calls the host repeated after a retryable error.
    pub page_retries: u64,
    /// `sync-page.concurrency` of each page, in order.
    pub page_concurrency: Vec<u32>,
    /// Entities produced.
    pub entities: u64,
    /// The last page's per-kind report.
    pub report: Vec<KindReport>,
}

impl ThrottledRun {
    /// 429s over requests.
    pub fn share_429(&self) -> f64 {
        self.throttled_429 as f64 / self.requests.max(1) as f64
    }

    /// The kinds that ended `failed` (or `pending`: a sync that ends leaves none).
    pub fn failed_kinds(&self) -> Vec<&str> {
        self.report
            .iter()
            .filter(|r| matches!(r.status, KindStatus::Failed(_) | KindStatus::Pending))
            .map(|r| r.kind.as_str())
            .collect()
    }

    /// The kinds that ended `complete`, of all reported (opt-in kinds not
    /// selected are reported `skipped`).
    pub fn complete_kinds(&self) -> (usize, usize) {
        let complete = self.report.iter().filter(|r| matches!(r.status, KindStatus::Complete)).count();
        (complete, self.report.len())
    }

    /// What the run was, e.g. `fixed 6` or `adaptive <= 16`.
    pub fn label(&self) -> String {
        match self.adaptive {
            true => format!("adaptive <= {}", self.concurrency),
            false => format!("fixed {}", self.concurrency),
        }
    }
}

/// Everything [`run_throttled`] measured.
#[derive(Clone, Debug)]
pub struct ThrottledReport {
    /// The configuration.
    pub config: ThrottledConfig,
    /// The fixed runs, in the order of [`ThrottledConfig::fixed`].
    pub fixed: Vec<ThrottledRun>,
    /// The adaptive run.
    pub adaptive: ThrottledRun,
}

impl ThrottledReport {
    /// The fixed run with the shortest wall time among those where no kind
    /// failed.
    pub fn best_fixed(&self) -> Option<&ThrottledRun> {
        self.fixed.iter().filter(|r| r.failed_kinds().is_empty()).min_by_key(|r| r.wall)
    }

    /// The adaptive run's wall time over the best fixed run's.
    pub fn wall_ratio(&self) -> Option<f64> {
        self.best_fixed().map(|best| self.adaptive.wall.as_secs_f64() / best.wall.as_secs_f64().max(1e-9))
    }

    /// The three targets, judged on the adaptive run.
    pub fn targets(&self) -> Vec<TargetCheck> {
        let verdict = |ok: bool| if ok { Verdict::Pass } else { Verdict::Fail };
        let a = &self.adaptive;
        let mut checks = Vec::new();
        checks.push(match (self.best_fixed(), self.wall_ratio()) {
            (Some(best), Some(ratio)) => TargetCheck {
                target: format!("adaptive wall <= {TARGET_ADAPTIVE_WALL:.2} x best fixed wall"),
                measured: format!(
                    "{ratio:.3} ({:.2} s against {:.2} s at fixed {})",
                    a.wall.as_secs_f64(),
                    best.wall.as_secs_f64(),
                    best.concurrency
                ),
                verdict: verdict(ratio <= TARGET_ADAPTIVE_WALL),
            },
            _ => TargetCheck {
                target: format!("adaptive wall <= {TARGET_ADAPTIVE_WALL:.2} x best fixed wall"),
                measured: "no fixed run completed every kind".into(),
                verdict: Verdict::NotApplicable("no fixed run to compare".into()),
            },
        });
        let failed = a.failed_kinds();
        checks.push(TargetCheck {
            target: "no kind failed (adaptive)".into(),
            measured: if failed.is_empty() { "none".into() } else { failed.join(", ") },
            verdict: verdict(failed.is_empty()),
        });
        checks.push(TargetCheck {
            target: format!("429s < {:.0}% of requests (adaptive)", TARGET_429_SHARE * 100.0),
            measured: format!("{:.2}% ({} of {})", a.share_429() * 100.0, a.throttled_429, a.requests),
            verdict: verdict(a.share_429() < TARGET_429_SHARE),
        });
        checks
    }

    /// Whether every applicable target passed.
    pub fn passed(&self) -> bool {
        self.targets().iter().all(|t| t.verdict != Verdict::Fail)
    }

    fn runs(&self) -> impl Iterator<Item = &ThrottledRun> {
        self.fixed.iter().chain([&self.adaptive])
    }

    /// The throttle in words.
    pub fn throttle_text(&self) -> String {
        let t = &self.config.throttle;
        let mut parts = Vec::new();
        if let Some(n) = t.max_in_flight {
            parts.push(format!("{n} v2 calls in flight"));
        }
        if let Some(bucket) = t.per_second {
            parts.push(format!("{} v2 calls/s (burst {})", bucket.rate, bucket.burst));
        }
        let refusal = match t.refusal {
            Refusal::TooManyRequests => "429",
            Refusal::TooManyRequestsRetryAfter => "429 with Retry-After",
            Refusal::BadGateway => "502",
        };
        if parts.is_empty() {
            "off".into()
        } else {
            format!("{}, answered {refusal}", parts.join(" and "))
        }
    }

    /// The report as a plain-text table.
    pub fn table(&self) -> String {
        let c = &self.config;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "throttled: {} users (seed {}), latency {} ms{}; v2 throttle: {}",
            c.users,
            c.seed,
            c.latency.as_millis(),
            c.latency_max.map(|m| format!(" to {} ms", m.as_millis())).unwrap_or_default(),
            self.throttle_text()
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>9} {:>6} {:>6} {:>7} {:>8} {:>8} {:>11} {:>9}",
            "run", "wall s", "requests", "429", "502", "429 %", "peak", "retries", "concurrency", "kinds"
        );
        for run in self.runs() {
            let (complete, all) = run.complete_kinds();
            let reported = match (run.page_concurrency.iter().min(), run.page_concurrency.last()) {
                (Some(min), Some(last)) if min != last => format!("{min}..{last}"),
                (_, Some(last)) => last.to_string(),
                _ => "-".into(),
            };
            let _ = writeln!(
                out,
                "{:<14} {:>9.2} {:>9} {:>6} {:>6} {:>7.2} {:>8} {:>8} {:>11} {:>9}",
                run.label(),
                run.wall.as_secs_f64(),
                run.requests,
                run.throttled_429,
                run.bad_gateway_502,
                run.share_429() * 100.0,
                run.peak_in_flight,
                run.page_retries,
                reported,
                format!("{complete}/{all}")
            );
        }
        let incomplete: Vec<String> = self
            .runs()
            .flat_map(|run| {
                run.report
                    .iter()
                    .filter(|r| matches!(r.status, KindStatus::Failed(_) | KindStatus::Pending))
                    .map(move |r| format!("{}: {} {}", run.label(), r.kind, kind_status_word(&r.status)))
            })
            .collect();
        if !incomplete.is_empty() {
            let _ = writeln!(out, "failed: {}", incomplete.join("; "));
        }
        let _ = writeln!(
            out,
            "(concurrency: what the pages reported, lowest..last; peak: v2 calls in flight at the simulator)"
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "targets:");
        for check in self.targets() {
            let (verdict, note) = match &check.verdict {
                Verdict::Pass => ("PASS", String::new()),
                Verdict::Fail => ("FAIL", String::new()),
                Verdict::NotApplicable(why) => ("n/a", format!(" (not judged: {why})")),
            };
            let _ = writeln!(out, "  {verdict:<4}  {}: {}{note}", check.target, check.measured);
        }
        out
    }

    /// The report as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
        let run = |r: &ThrottledRun| {
            serde_json::json!({
                "concurrency": r.concurrency,
                "adaptive": r.adaptive,
                "wall_s": secs(r.wall),
                "requests": r.requests,
                "throttled_429": r.throttled_429,
                "bad_gateway_502": r.bad_gateway_502,
                "share_429": round(r.share_429()),
                "peak_in_flight": r.peak_in_flight,
                "pages": r.pages,
                "page_retries": r.page_retries,
                "page_concurrency_min": r.page_concurrency.iter().min(),
                "page_concurrency_last": r.page_concurrency.last(),
                "kinds_complete": r.complete_kinds().0,
                "kinds": r.complete_kinds().1,
                "failed_kinds": r.failed_kinds(),
            })
        };
        let a = &self.adaptive;
        serde_json::json!({
            "users": self.config.users,
            "seed": self.config.seed,
            "latency_ms": self.config.latency.as_millis() as u64,
            "latency_max_ms": self.config.latency_max.map(|d| d.as_millis() as u64),
            "throttle": self.throttle_text(),
            "throttle_max_in_flight": self.config.throttle.max_in_flight,
            "fixed": self.fixed.iter().map(run).collect::<Vec<_>>(),
            "adaptive": run(a),
            "best_fixed_concurrency": self.best_fixed().map(|b| b.concurrency),
            "best_fixed_wall_s": self.best_fixed().map(|b| secs(b.wall)),
            "adaptive_wall_s": secs(a.wall),
            "wall_ratio": self.wall_ratio().map(round),
            "throttled_429": a.throttled_429,
            "bad_gateway_502": a.bad_gateway_502,
            "requests": a.requests,
            "share_429": round(a.share_429()),
            "no_kind_failed": a.failed_kinds().is_empty(),
            "passed": self.passed(),
        })
    }
}

/// Runs the throttled benchmark (see the module docs): the fixed runs, then
/// the adaptive one.
pub async fn run_throttled(config: &ThrottledConfig) -> anyhow::Result<ThrottledReport> {
    let mut fixed = Vec::new();
    for &concurrency in &config.fixed {
        let run =
            run_once(config, concurrency, false).await.with_context(|| format!("the run at fixed {concurrency}"))?;
        tracing::info!(concurrency, wall_ms = run.wall.as_millis() as u64, "throttled bench: fixed run done");
        fixed.push(run);
    }
    let adaptive = run_once(config, config.adaptive_max, true).await.context("the adaptive run")?;
    Ok(ThrottledReport { config: config.clone(), fixed, adaptive })
}

/// One full sync against a fresh simulator, harness and instance.
pub async fn run_once(config: &ThrottledConfig, concurrency: u32, adaptive: bool) -> anyhow::Result<ThrottledRun> {
    let simulator = Simulator::start(SimulatorConfig {
        users: config.users,
        seed: config.seed,
        latency: config.latency,
        latency_max: config.latency_max,
        rate_limit_per_hour: None,
        v2_throttle: config.throttle,
        ..SimulatorConfig::default()
    })
    .await
    .context("cannot start the simulator")?;
    let result = sync_once(config, concurrency, adaptive, &simulator).await;
    simulator.shutdown().await;
    result
}

async fn sync_once(
    config: &ThrottledConfig,
    concurrency: u32,
    adaptive: bool,
    simulator: &Simulator,
) -> anyhow::Result<ThrottledRun> {
    let harness = Harness::new(HarnessConfig {
        component: config.component.clone(),
        allowed_hosts: vec![TENANT_HOST.to_string()],
        routes: BTreeMap::from([(TENANT_HOST.to_string(), simulator.addr())]),
        limits: config.limits,
    })?;
    let mut instance = harness.instantiate().await?;
    let info = instance.describe().await?;
    resolve_kinds(&info.sync_kinds, &config.kinds)?;
    let credentials = simulator.manage_credentials();
    let fields = vec![
        ("client_id".to_string(), credentials.client_id),
        ("client_secret".to_string(), credentials.client_secret),
        ("subdomain".to_string(), "acme".to_string()),
        ("adaptive_concurrency".to_string(), if adaptive { "on" } else { "off" }.to_string()),
    ];
    instance.configure(&fields).await?.map_err(|e| connector_error("configure", e))?;
    simulator.reset_counts();
    let refused_before = simulator.v2_refused();

    let options = SyncOptions {
        kinds: config.kinds.clone(),
        max_wait_ms: config.max_wait_ms,
        concurrency,
        ..SyncOptions::default()
    };
    let started = Instant::now();
    let mut cursor = None;
    let (mut pages, mut page_retries, mut entities) = (0u64, 0u64, 0u64);
    let mut page_concurrency = Vec::new();
    let mut retries_in_a_row = 0;
    let report = loop {
        let page = match instance.sync_page(options.request(cursor.clone())).await? {
            Ok(page) => page,
            // What a host does with a retryable error: call again (after the
            // wait a rate limit names).
            Err(error) if error.retryable && retries_in_a_row < PAGE_RETRIES => {
                retries_in_a_row += 1;
                page_retries += 1;
                let wait = match error.kind {
                    ErrorKind::RateLimited(secs) => Duration::from_secs(u64::from(secs.clamp(1, 60))),
                    _ => Duration::from_secs(1),
                };
                tracing::info!(?wait, message = %error.message, "throttled bench: page failed, retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(error) => return Err(connector_error("sync", error)),
        };
        retries_in_a_row = 0;
        pages += 1;
        entities += page.entities.len() as u64;
        page_concurrency.push(page.concurrency);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break page.report,
        }
    };
    let wall = started.elapsed();
    let refused = simulator.v2_refused().saturating_sub(refused_before);
    Ok(ThrottledRun {
        concurrency,
        adaptive,
        wall,
        requests: simulator.total_requests(),
        throttled_429: simulator.throttled_requests(),
        bad_gateway_502: if config.throttle.refusal == Refusal::BadGateway { refused } else { 0 },
        peak_in_flight: simulator.v2_peak_in_flight(),
        pages,
        page_retries,
        page_concurrency,
        entities,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::types::ConnectorError;

    fn run(concurrency: u32, adaptive: bool, wall_ms: u64, requests: u64, throttled: u64) -> ThrottledRun {
        ThrottledRun {
            concurrency,
            adaptive,
            wall: Duration::from_millis(wall_ms),
            requests,
            throttled_429: throttled,
            bad_gateway_502: 0,
            peak_in_flight: 6,
            pages: 3,
            page_retries: 0,
            page_concurrency: vec![concurrency],
            entities: 100,
            report: vec![KindReport { kind: "users".into(), status: KindStatus::Complete }],
        }
    }

    fn report(fixed: Vec<ThrottledRun>, adaptive: ThrottledRun) -> ThrottledReport {
        ThrottledReport { config: ThrottledConfig::default(), fixed, adaptive }
    }

    #[test]
    fn targets_compare_with_the_best_fixed_run_that_completed() {
        let mut failed = run(8, false, 5_000, 1000, 300);
        failed.report[0].status = KindStatus::Failed(ConnectorError {
            kind: ErrorKind::RateLimited(1),
            message: "x".into(),
            retryable: true,
        });
        let fixed = vec![run(2, false, 30_000, 1000, 0), run(6, false, 10_000, 1000, 0), failed];
        let passing = report(fixed.clone(), run(16, true, 11_000, 1020, 20));
        assert_eq!(passing.best_fixed().unwrap().concurrency, 6, "the failed run does not count");
        assert!(passing.passed(), "{}", passing.table());
        let slow = report(fixed.clone(), run(16, true, 11_600, 1020, 20));
        assert_eq!(slow.targets()[0].verdict, Verdict::Fail);
        let noisy = report(fixed, run(16, true, 10_000, 1000, 50));
        assert_eq!(noisy.targets()[2].verdict, Verdict::Fail, "5% is not under 5%");
        let json = noisy.json();
        assert_eq!(json["throttled_429"], 50);
        assert_eq!(json["best_fixed_concurrency"], 6);
    }
}
