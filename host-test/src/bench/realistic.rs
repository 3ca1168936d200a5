//! The realistic tenant profile (`host-test bench --profile realistic`): a
//! first full sync and, one simulated day later, a daily incremental sync,
//! against a simulator set up as a real tenant behaves, as far as the
//! evidence goes.
//!
//! The simulator gets: latency drawn uniformly from 50 to 150 ms per request
//! ([`REALISTIC_LATENCY`]); the v2 load throttle on ([`REALISTIC_V2_THROTTLE`],
//! numbers assumed: FIDELITY.md F-RATE-11); the v1 budget of 5,000 calls per
//! hour; app logins at 3 per active user per day (FIDELITY.md F-EVT-10). The
//! sync reads the connector's default kinds plus `app_logins` (the last login
//! on each grant is what an access review wants; `events` stays opt-in).
//!
//! **The v1 budget and the events window.** At 3 logins a day, the 10,000
//! users' simulated tenant logs about 26,000 app logins a day: ~525 v1 calls.
//! A first sync over the default 90-day lookback needs ~47,000 v1 calls,
//! about 9.4 hours of the budget: the component would wait for the budget to come back an hour at a
//! time, which the bench cannot sit through (the simulator's rate window is
//! real time, and so are the component's waits). So, unless
//! [`RealisticConfig::event_lookback_days`] is given, the first sync runs with
//! the longest `event_lookback_days` whose v1 calls fit in one hour's budget
//! ([`fit_lookback`]), and the report gives the cost of the 90-day default as
//! **computed** from the simulator's own login history and the cost formula
//! ([`Projection`]), not measured. When the budget runs out anyway (a lookback
//! given by hand, a tenant too large for even one day), the component returns
//! what it has and then `rate-limited`, as its `max-wait-ms` allows: the report
//! says so ([`SyncMeasure::error`]) rather than waiting out the hour.
//!
//! **The day.** After the first sync the simulator's clock moves forward one
//! day ([`Simulator::advance_clock`]: the `Date` header, a fresh v1 window,
//! expired tokens, and that day's app logins generated); then 1% of users
//! change ([`change_users`]: a third are added to a role, the others get a new
//! title, through the simulator's mutation API, which logs their events). A
//! fresh instance (a daily job starts anew) configures and syncs from the first
//! sync's checkpoint.
//!
//! Counted per sync: wall time, requests (the simulator's, cross-checked with
//! the harness log), v1 calls (`/api/1/…` in the harness log), 429s, and the
//! v2 calls the throttle refused. There is no run at concurrency 1.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::seq::IndexedRandom as _;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

use super::{configure_fields, kind_status_text, mib, minimum_terms, pages, TenantSummary, TENANT_HOST};
use crate::harness::types::{KindReport, KindStatus, SyncKind};
use crate::harness::{sync_pages, Harness, HarnessConfig, Limits, SyncOptions};
use crate::simulator::events::EVENT_LOGGED_INTO_APP;
use crate::simulator::rate_limit::Api;
use crate::simulator::{clock, limits, Refusal, Simulator, SimulatorConfig, Tenant, TokenBucket, V2Throttle};

/// Per-request latency of the profile: uniform from the first to the second.
pub const REALISTIC_LATENCY: (Duration, Duration) = (Duration::from_millis(50), Duration::from_millis(150));

/// The profile's v2 load throttle: at most 10 v2 calls in flight, 40 a
/// second sustained with bursts of 80, refused with a 429 without
/// `Retry-After` (the only form with evidence). The numbers are assumed
/// (FIDELITY.md F-RATE-11: no source gives OneLogin's): at 100 ms and
/// concurrency 8 the connector would send about 80 a second, so the throttle
/// bites.
pub const REALISTIC_V2_THROTTLE: V2Throttle = V2Throttle {
    max_in_flight: Some(10),
    per_second: Some(TokenBucket { rate: 40.0, burst: 80 }),
    refusal: Refusal::TooManyRequests,
};

/// The profile's v1 budget (OneLogin's documented 5,000 calls per hour).
pub const REALISTIC_RATE_LIMIT_PER_HOUR: u32 = 5000;

/// App logins per active user per day (the simulator's default).
pub const REALISTIC_APP_LOGINS_PER_DAY: f64 = crate::simulator::DEFAULT_APP_LOGINS_PER_DAY;

/// The share of users that change in the simulated day.
pub const REALISTIC_CHANGED_SHARE: f64 = 0.01;

/// The connector's default `event_lookback_days`.
pub const DEFAULT_LOOKBACK_DAYS: u32 = 90;

/// One day.
pub const DAY: Duration = Duration::from_secs(86_400);

const DAY_MS: i64 = 86_400_000;

/// What the realistic profile runs.
#[derive(Clone, Debug)]
pub struct RealisticConfig {
    /// The component `.wasm`.
    pub component: PathBuf,
    /// Users in the simulated tenant.
    pub users: usize,
    /// Seed of the tenant (and of who changes).
    pub seed: u64,
    /// Lowest per-request latency.
    pub latency: Duration,
    /// Highest per-request latency (uniform in between).
    pub latency_max: Duration,
    /// The v2 load throttle.
    pub v2_throttle: V2Throttle,
    /// The v1 budget per hour; `None` = off.
    pub rate_limit_per_hour: Option<u32>,
    /// App logins per active user per day.
    pub app_logins_per_user_per_day: f64,
    /// Kinds to sync; empty = the connector's defaults plus `app_logins`.
    pub kinds: Vec<String>,
    /// `event_lookback_days` of the first sync; `None` = the longest that fits
    /// in one hour's v1 budget ([`fit_lookback`]).
    pub event_lookback_days: Option<u32>,
    /// The share of users changed during the day.
    pub changed_share: f64,
    /// `sync-request.concurrency`.
    pub concurrency: u32,
    /// `sync-request.max-wait-ms`.
    pub max_wait_ms: u32,
    /// Limits per call.
    pub limits: Limits,
}

impl Default for RealisticConfig {
    fn default() -> Self {
        RealisticConfig {
            component: crate::harness::config::component_path(),
            users: 10_000,
            seed: 1,
            latency: REALISTIC_LATENCY.0,
            latency_max: REALISTIC_LATENCY.1,
            v2_throttle: REALISTIC_V2_THROTTLE,
            rate_limit_per_hour: Some(REALISTIC_RATE_LIMIT_PER_HOUR),
            app_logins_per_user_per_day: REALISTIC_APP_LOGINS_PER_DAY,
            kinds: Vec::new(),
            event_lookback_days: None,
            changed_share: REALISTIC_CHANGED_SHARE,
            concurrency: super::DEFAULT_CONCURRENCY,
            max_wait_ms: 60_000,
            limits: Limits::default(),
        }
    }
}

/// What one sync cost.
#[derive(Clone, Debug, Default)]
pub struct SyncMeasure {
    /// Requests `configure` made (token, scope probe), not in `requests`.
    pub configure_requests: u64,
    /// Requests the sync made (the simulator's count).
    pub requests: u64,
    /// The same from the harness's request log.
    pub harness_requests: u64,
    /// v1 calls (`/api/1/…`, on the hourly budget), from the harness log.
    pub v1_calls: u64,
    /// The harness's count per endpoint.
    pub requests_by_endpoint: BTreeMap<String, u64>,
    /// Responses with status 429 (v1 budget and v2 throttle).
    pub throttled: u64,
    /// v2 calls the throttle refused (429s among `throttled`).
    pub v2_refused: u64,
    /// Wall time of the sync (all pages; not `configure`).
    pub wall: Duration,
    /// `sync` calls.
    pub pages: u64,
    /// Entities produced.
    pub entities: u64,
    /// Relationships produced.
    pub relationships: u64,
    /// The last page's per-kind report.
    pub report: Vec<KindReport>,
    /// The component's peak linear memory.
    pub peak_memory_bytes: usize,
    /// The connector error that ended the sync early (e.g. `rate-limited`
    /// when the v1 budget ran out and `max-wait-ms` did not cover the reset).
    pub error: Option<String>,
}

impl SyncMeasure {
    /// Whether the sync ended normally with every selected kind complete.
    pub fn complete(&self, kinds: &BTreeSet<String>) -> bool {
        self.error.is_none()
            && kinds.iter().all(|k| self.report.iter().any(|r| &r.kind == k && r.status == KindStatus::Complete))
    }
}

/// The v1 cost of a first sync with the connector's default 90-day
/// lookback, computed (not measured): the other v1 lists of the kinds plus
/// ⌈app logins in 90 days / 50⌉, from the simulator's login history.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Projection {
    /// App logins (type 8 events) in the 90 days before the first sync.
    pub app_logins: u64,
    /// `GET /api/1/events` calls they take.
    pub event_calls: u64,
    /// Every v1 call of the first sync.
    pub v1_calls: u64,
    /// `v1_calls` over the hourly budget (0 without one).
    pub budget_hours: f64,
}

/// Everything the realistic profile measured.
#[derive(Clone, Debug)]
pub struct RealisticReport {
    /// The configuration.
    pub config: RealisticConfig,
    /// The tenant's sizes.
    pub tenant_summary: TenantSummary,
    /// The kinds synced (requirements added).
    pub kinds: BTreeSet<String>,
    /// `event_lookback_days` of the first sync.
    pub lookback_days: u32,
    /// Whether it was fitted to the budget (else given).
    pub lookback_fitted: bool,
    /// v1 calls of the lists a sync of the kinds reads in full (groups,
    /// privileges), events aside.
    pub v1_lists: u64,
    /// v1 calls of the first sync by the formula, for that lookback: the
    /// lists' and ⌈app logins / 50⌉ (a concurrent read of the window in time
    /// slices may add up to one part-filled page per slice).
    pub first_v1_formula: u64,
    /// The 90-day default's cost, computed.
    pub projection: Projection,
    /// The first full sync.
    pub first: SyncMeasure,
    /// Users changed during the day.
    pub changed_users: usize,
    /// App logins (type 8) between the first sync's start and the incremental's.
    pub day_app_logins: u64,
    /// ⌈day_app_logins / 50⌉: the events calls the incremental cannot avoid.
    pub incremental_event_calls: u64,
    /// The daily incremental sync (`None` when the first sync did not end
    /// with a checkpoint).
    pub incremental: Option<SyncMeasure>,
}

/// App logins (generated and stored type 8) with `since <= created_at < until`.
pub fn app_logins_between(tenant: &Tenant, since_ms: i64, until_ms: i64) -> u64 {
    let stored = tenant.events_between(since_ms, until_ms).iter().filter(|e| e.event_type_id == EVENT_LOGGED_INTO_APP);
    (stored.count() + tenant.app_logins.between(since_ms, until_ms).count()) as u64
}

/// v1 calls of a full sync of `kinds` other than the events window's: the
/// v1 lists ([`minimum_terms`] under `/api/1/`, events left out).
pub fn other_v1_calls(tenant: &Tenant, kinds: &BTreeSet<String>, start_ms: i64) -> u64 {
    let lists: BTreeSet<String> = kinds.iter().filter(|k| *k != "events" && *k != "app_logins").cloned().collect();
    minimum_terms(tenant, &lists, start_ms).iter().filter(|t| is_v1(t.endpoint)).map(|t| t.calls).sum()
}

/// Whether a request-log key (`GET /api/1/events`) is a v1 call.
pub fn is_v1(endpoint: &str) -> bool {
    let path = endpoint.split_once(' ').map_or(endpoint, |(_, path)| path);
    Api::for_path(path) == Some(Api::V1)
}

/// The longest `event_lookback_days` (1 to 90) whose first sync fits in one
/// hour's v1 `budget`: the other v1 lists, ⌈app logins in the window / 50⌉,
/// and one part-filled page per time slice (`slices`, the concurrency). With
/// no budget, 90. Also returns the app logins of each day back from
/// `start_ms` (index 0 = the last day), 90 of them. When not even one day
/// fits, 1 (the sync will find the budget spent).
pub fn fit_lookback(
    tenant: &Tenant,
    other_v1: u64,
    budget: Option<u32>,
    slices: u32,
    start_ms: i64,
) -> (u32, Vec<u64>) {
    let per_day: Vec<u64> = (0..i64::from(DEFAULT_LOOKBACK_DAYS))
        .map(|d| app_logins_between(tenant, start_ms - (d + 1) * DAY_MS, start_ms - d * DAY_MS))
        .collect();
    let Some(budget) = budget else {
        return (DEFAULT_LOOKBACK_DAYS, per_day);
    };
    let mut logins = 0;
    let mut fits = 0;
    for (d, count) in per_day.iter().enumerate() {
        logins += count;
        if other_v1 + pages(logins as usize, limits::EVENTS) + u64::from(slices) > u64::from(budget) {
            break;
        }
        fits = d as u32 + 1;
    }
    (fits.max(1), per_day)
}

/// Changes `share` of the tenant's users (at least one), chosen from
/// `seed`: every third is added to a role they are not in, the others get a
/// new title (both through [`Simulator::update_tenant`], which logs their
/// events and sets `updated_at`). Returns how many changed.
pub fn change_users(simulator: &Simulator, share: f64, seed: u64) -> usize {
    simulator.update_tenant(|tenant| {
        let count = ((tenant.users.len() as f64 * share).ceil() as usize).clamp(1, tenant.users.len().max(1));
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xda11_c4a6);
        let ids: Vec<u64> = tenant.users.choose_multiple(&mut rng, count).map(|u| u.id).collect();
        let role_ids: Vec<u64> = tenant.roles.iter().map(|r| r.id).collect();
        let mut changed = 0;
        for (k, id) in ids.into_iter().enumerate() {
            let role = role_ids.iter().copied().find(|r| tenant.role(*r).is_some_and(|role| !role.users.contains(&id)));
            match role {
                Some(role) if k % 3 == 0 => {
                    tenant.add_to_role(role, &[id], false);
                }
                _ => {
                    let Some(user) = tenant.user_mut(id) else { continue };
                    user.title = format!("{} (day 2)", user.title);
                }
            }
            changed += 1;
        }
        changed
    })
}

/// Runs the profile (see the module docs). Host failures are errors; a
/// connector error that ends a sync early is reported in its
/// [`SyncMeasure::error`].
pub async fn run_realistic(config: &RealisticConfig) -> anyhow::Result<RealisticReport> {
    let simulator = Simulator::start(SimulatorConfig {
        users: config.users,
        seed: config.seed,
        latency: config.latency,
        latency_max: Some(config.latency_max),
        rate_limit_per_hour: config.rate_limit_per_hour,
        v2_throttle: config.v2_throttle,
        app_logins_per_user_per_day: config.app_logins_per_user_per_day,
        ..SimulatorConfig::default()
    })
    .await
    .context("cannot start the simulator")?;
    let result = run_on(config, &simulator).await;
    simulator.shutdown().await;
    result
}

async fn run_on(config: &RealisticConfig, simulator: &Simulator) -> anyhow::Result<RealisticReport> {
    let harness = Harness::new(HarnessConfig {
        component: config.component.clone(),
        allowed_hosts: vec![TENANT_HOST.to_string()],
        routes: BTreeMap::from([(TENANT_HOST.to_string(), simulator.addr())]),
        limits: config.limits,
    })?;
    let describe = harness.instantiate().await?.describe().await?;
    let requested = match config.kinds.is_empty() {
        true => realistic_kinds(&describe.sync_kinds),
        false => config.kinds.clone(),
    };
    let kinds = super::resolve_kinds(&describe.sync_kinds, &requested)?;

    let tenant = simulator.tenant();
    let start_ms = clock::now_millis();
    let other_v1 = other_v1_calls(&tenant, &kinds, start_ms);
    let reads_logins = kinds.contains("app_logins") || kinds.contains("events");
    let (fitted, per_day) = fit_lookback(&tenant, other_v1, config.rate_limit_per_hour, config.concurrency, start_ms);
    let lookback_days = config.event_lookback_days.unwrap_or(fitted).clamp(1, DEFAULT_LOOKBACK_DAYS);
    let logins_in = |days: u32| per_day.iter().take(days as usize).sum::<u64>();
    let event_calls = |logins: u64| if reads_logins { pages(logins as usize, limits::EVENTS) } else { 0 };
    let app_logins_90 = logins_in(DEFAULT_LOOKBACK_DAYS);
    let v1_90 = other_v1 + event_calls(app_logins_90);
    let projection = Projection {
        app_logins: app_logins_90,
        event_calls: event_calls(app_logins_90),
        v1_calls: v1_90,
        budget_hours: config.rate_limit_per_hour.map_or(0.0, |limit| v1_90 as f64 / f64::from(limit.max(1))),
    };
    let tenant_summary = TenantSummary {
        users: tenant.users.len(),
        groups: tenant.groups.len(),
        roles: tenant.roles.len(),
        apps: tenant.apps.len(),
    };

    let mut fields = configure_fields(simulator);
    fields.push(("event_lookback_days".to_string(), lookback_days.to_string()));
    let options = SyncOptions {
        kinds: kinds.iter().cloned().collect(),
        max_wait_ms: config.max_wait_ms,
        concurrency: config.concurrency,
        ..SyncOptions::default()
    };
    tracing::info!(users = config.users, lookback_days, "bench (realistic): first full sync");
    // The window ends at the sync's start (OneLogin's `Date`), a little after the
    // simulator's: count its logins from there.
    let first_start_ms = clock::now_millis();
    let lookback_ms = i64::from(lookback_days) * DAY_MS;
    let first_v1_formula =
        other_v1 + event_calls(app_logins_between(&tenant, first_start_ms - lookback_ms, first_start_ms));
    drop(tenant);
    let (first, checkpoint) = measured_sync(&harness, simulator, &fields, &options).await.context("the first sync")?;

    simulator.advance_clock(DAY);
    let changed_users = change_users(simulator, config.changed_share, config.seed);
    let incremental_start_ms = clock::now_millis();
    let day_app_logins = app_logins_between(&simulator.tenant(), first_start_ms, incremental_start_ms);
    let incremental = match checkpoint {
        Some(checkpoint) => {
            tracing::info!(changed_users, "bench (realistic): daily incremental sync");
            let options = SyncOptions { checkpoint: Some(checkpoint), ..options };
            let (measure, _) =
                measured_sync(&harness, simulator, &fields, &options).await.context("the incremental sync")?;
            Some(measure)
        }
        None => None,
    };
    Ok(RealisticReport {
        config: config.clone(),
        tenant_summary,
        kinds,
        lookback_days,
        lookback_fitted: config.event_lookback_days.is_none(),
        v1_lists: other_v1,
        first_v1_formula,
        projection,
        first,
        changed_users,
        day_app_logins,
        incremental_event_calls: event_calls(day_app_logins),
        incremental,
    })
}

/// The connector's default kinds plus `app_logins` (when it has it).
pub fn realistic_kinds(available: &[SyncKind]) -> Vec<String> {
    available.iter().filter(|k| k.default_selected || k.name == "app_logins").map(|k| k.name.clone()).collect()
}

/// Configures a fresh instance and runs one sync with `options`, counting
/// what it cost; returns the measure and the checkpoint of its last page.
async fn measured_sync(
    harness: &Harness,
    simulator: &Simulator,
    fields: &[(String, String)],
    options: &SyncOptions,
) -> anyhow::Result<(SyncMeasure, Option<String>)> {
    let mut instance = harness.instantiate().await?;
    let log = harness.request_log();
    simulator.reset_counts();
    log.reset();
    instance.configure(fields).await?.map_err(|e| super::connector_error("configure", e))?;
    let mut measure = SyncMeasure { configure_requests: simulator.total_requests(), ..SyncMeasure::default() };
    simulator.reset_counts();
    log.reset();
    let refused_before = simulator.v2_refused();
    let started = Instant::now();
    // Pages are counted as they come, so an error that ends the sync early
    // keeps what was read before it.
    let mut checkpoint = None;
    let end = sync_pages(&mut instance, options, |page| {
        measure.pages += 1;
        measure.entities += page.entities.len() as u64;
        measure.relationships += page.relationships.len() as u64;
        measure.report = page.report;
        checkpoint = page.checkpoint;
    })
    .await?;
    if let Err(error) = end {
        let kind = crate::harness::types::kind_name(&error.kind);
        measure.error = Some(format!("{kind}: {}", error.message));
    }
    measure.wall = started.elapsed();
    measure.requests = simulator.total_requests();
    measure.throttled = simulator.throttled_requests();
    measure.v2_refused = simulator.v2_refused() - refused_before;
    measure.harness_requests = log.total();
    measure.requests_by_endpoint = log.counts();
    measure.v1_calls = measure.requests_by_endpoint.iter().filter(|(e, _)| is_v1(e)).map(|(_, n)| n).sum();
    measure.peak_memory_bytes = instance.peak_memory_bytes();
    tracing::info!(
        requests = measure.requests,
        wall_ms = measure.wall.as_millis() as u64,
        "bench (realistic): sync done"
    );
    Ok((measure, checkpoint))
}

impl RealisticReport {
    /// Whether both syncs ended normally with every selected kind complete.
    pub fn passed(&self) -> bool {
        self.first.complete(&self.kinds) && self.incremental.as_ref().is_some_and(|i| i.complete(&self.kinds))
    }

    /// The report as one JSON object (`host-test bench --profile realistic --json`).
    pub fn json(&self) -> serde_json::Value {
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        let sync = |m: &SyncMeasure| {
            serde_json::json!({
                "wall_s": secs(m.wall),
                "requests": m.requests,
                "harness_requests": m.harness_requests,
                "v1_calls": m.v1_calls,
                "throttled_429": m.throttled,
                "v2_refused": m.v2_refused,
                "configure_requests": m.configure_requests,
                "pages": m.pages,
                "entities": m.entities,
                "relationships": m.relationships,
                "component_peak_mib": (m.peak_memory_bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0,
                "complete": m.complete(&self.kinds),
                "error": m.error,
                "requests_by_endpoint": m.requests_by_endpoint,
            })
        };
        let c = &self.config;
        serde_json::json!({
            "profile": "realistic",
            "users": self.tenant_summary.users,
            "groups": self.tenant_summary.groups,
            "roles": self.tenant_summary.roles,
            "apps": self.tenant_summary.apps,
            "seed": c.seed,
            "latency_ms": c.latency.as_millis() as u64,
            "latency_max_ms": c.latency_max.as_millis() as u64,
            "rate_limit_per_hour": c.rate_limit_per_hour,
            "v2_max_in_flight": c.v2_throttle.max_in_flight,
            "v2_per_second": c.v2_throttle.per_second.map(|b| b.rate),
            "v2_burst": c.v2_throttle.per_second.map(|b| b.burst),
            "app_logins_per_user_per_day": c.app_logins_per_user_per_day,
            "concurrency": c.concurrency,
            "max_wait_ms": c.max_wait_ms,
            "kinds": self.kinds,
            "event_lookback_days": self.lookback_days,
            "event_lookback_fitted_to_budget": self.lookback_fitted,
            "first_v1_calls_formula": self.first_v1_formula,
            "computed_90_day_lookback": {
                "app_logins": self.projection.app_logins,
                "event_calls": self.projection.event_calls,
                "v1_calls": self.projection.v1_calls,
                "budget_hours": (self.projection.budget_hours * 100.0).round() / 100.0,
            },
            "first": sync(&self.first),
            "changed_users": self.changed_users,
            "day_app_logins": self.day_app_logins,
            "incremental_event_calls_formula": self.incremental_event_calls,
            "incremental": self.incremental.as_ref().map(sync),
            "passed": self.passed(),
        })
    }

    /// The report as plain text (`host-test bench --profile realistic`).
    pub fn table(&self) -> String {
        let c = &self.config;
        let t = &self.tenant_summary;
        let mut out = String::new();
        let rate = c.rate_limit_per_hour.map_or("off".to_string(), |n| format!("{n} v1 calls/hour"));
        let throttle = match (c.v2_throttle.max_in_flight, c.v2_throttle.per_second) {
            (None, None) => "off".to_string(),
            (in_flight, bucket) => format!(
                "{} in flight, {}",
                in_flight.map_or("any".to_string(), |n| n.to_string()),
                bucket.map_or("no rate limit".to_string(), |b| format!("{}/s (burst {})", b.rate, b.burst))
            ),
        };
        let _ = writeln!(
            out,
            "realistic profile: {} users, {} groups, {} roles, {} apps (seed {})",
            t.users, t.groups, t.roles, t.apps, c.seed
        );
        let _ = writeln!(
            out,
            "latency {} to {} ms; v1 budget {rate}; v2 throttle {throttle}; {} app logins per active user per day",
            c.latency.as_millis(),
            c.latency_max.as_millis(),
            c.app_logins_per_user_per_day
        );
        let _ = writeln!(out, "kinds: {}", self.kinds.iter().map(String::as_str).collect::<Vec<_>>().join(", "));
        let fitted = if self.lookback_fitted { " (the longest that fits one hour's v1 budget)" } else { "" };
        let _ = writeln!(
            out,
            "first sync: event_lookback_days {}{fitted}; concurrency {}",
            self.lookback_days, c.concurrency
        );
        let _ = writeln!(
            out,
            "the day: clock +24 h, {} users changed ({:.1}%), {} app logins since the first sync's start",
            self.changed_users,
            c.changed_share * 100.0,
            self.day_app_logins
        );
        let _ = writeln!(out, "requests: the sync's only; configure's are listed apart");
        let _ = writeln!(out);
        let _ = writeln!(out, "{:<36} {:>16} {:>16}", "", "first full sync", "daily incremental");
        let inc = self.incremental.as_ref();
        let mut row = |label: &str, value: &dyn Fn(&SyncMeasure) -> String| {
            let b = inc.map_or_else(|| "-".to_string(), value);
            let _ = writeln!(out, "{label:<36} {:>16} {b:>16}", value(&self.first));
        };
        row("wall time (sync only)", &|m| format!("{:.1} s", m.wall.as_secs_f64()));
        row("requests (simulator)", &|m| m.requests.to_string());
        row("requests (harness log)", &|m| m.harness_requests.to_string());
        row("v1 calls (on the hourly budget)", &|m| m.v1_calls.to_string());
        row("throttled (429)", &|m| m.throttled.to_string());
        row("  of which v2 throttle", &|m| m.v2_refused.to_string());
        row("configure requests (not counted)", &|m| m.configure_requests.to_string());
        row("pages (sync calls)", &|m| m.pages.to_string());
        row("entities", &|m| m.entities.to_string());
        row("relationships", &|m| m.relationships.to_string());
        row("peak linear memory", &|m| mib(m.peak_memory_bytes));
        let incremental_formula =
            if inc.is_some() { format!(">= {}", self.incremental_event_calls) } else { "-".into() };
        let _ = writeln!(
            out,
            "{:<36} {:>16} {:>16}",
            "v1 calls by the formula", self.first_v1_formula, incremental_formula
        );
        let _ = writeln!(
            out,
            "  (first: the v1 lists and ⌈app logins / 50⌉; incremental: ⌈the day's app logins / 50⌉, plus the v1 lists \
             and a rotation share)"
        );
        for (name, m) in [("first sync", Some(&self.first)), ("incremental", inc)] {
            let Some(m) = m else { continue };
            if let Some(error) = &m.error {
                let _ = writeln!(out, "{name} ended early: {error}");
            }
        }

        let _ = writeln!(out);
        let _ =
            writeln!(out, "computed, not measured: a first sync with the default {DEFAULT_LOOKBACK_DAYS}-day lookback");
        let p = &self.projection;
        let _ = writeln!(
            out,
            "  {} app logins -> {} events calls; {} v1 calls in all = {:.1} h of the v1 budget",
            p.app_logins, p.event_calls, p.v1_calls, p.budget_hours
        );

        let _ = writeln!(out);
        let _ = writeln!(out, "kinds:");
        let status = |m: Option<&SyncMeasure>, kind: &str| {
            m.and_then(|m| m.report.iter().find(|r| r.kind == kind)).map_or("-".to_string(), |r| {
                let text = kind_status_text(&r.status);
                if text.chars().count() > 60 {
                    text.chars().take(59).chain(['…']).collect()
                } else {
                    text
                }
            })
        };
        for kind in &self.kinds {
            let _ = writeln!(
                out,
                "  {kind:<16} first: {:<20} incremental: {}",
                status(Some(&self.first), kind),
                status(inc, kind)
            );
        }

        let _ = writeln!(out);
        let _ = writeln!(out, "{:<40} {:>12} {:>12}", "requests by endpoint", "first", "incremental");
        let endpoints: BTreeSet<&str> = self
            .first
            .requests_by_endpoint
            .keys()
            .chain(inc.into_iter().flat_map(|i| i.requests_by_endpoint.keys()))
            .map(String::as_str)
            .collect();
        for endpoint in endpoints {
            let count = |m: Option<&SyncMeasure>| {
                m.map_or("-".to_string(), |m| m.requests_by_endpoint.get(endpoint).copied().unwrap_or(0).to_string())
            };
            let _ = writeln!(out, "  {endpoint:<38} {:>12} {:>12}", count(Some(&self.first)), count(inc));
        }
        out
    }
}
