//! The sync benchmark behind `host-test bench`: API calls against the
//! minimum, speed-up from concurrency, throughput and memory.
//!
//! [`run_bench`] starts an in-process [`Simulator`] and runs one full sync at
//! concurrency 1 and one at [`BenchConfig::concurrency`], each against a
//! fresh simulator (same users and seed, so the same tenant, and a fresh
//! rate budget) and in a fresh harness and instance. For each run it records
//! the requests the sync made (the simulator's counters, cross-checked with
//! the harness's request log), the wall time of the sync, the records it
//! produced and the component's peak linear memory.
//!
//! Requests are counted **for the sync only**: `configure`'s token request
//! and scope probe(s) happen before the counters are reset, and are reported
//! separately ([`BenchRun::configure_requests`]). The sync reuses
//! `configure`'s token, so [`minimum_requests`] has no token term either.
//!
//! The report compares the requests with [`minimum_requests`] (what the API
//! makes unavoidable for the selected kinds) and with
//! [`fan_out_requests`] (what a per-user fan-out design such as
//! baton-onelogin or graph-onelogin needs), and checks the targets of
//! [`BenchReport::targets`].

pub mod cpu;
pub mod realistic;
pub mod throttled;

use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::harness::types::{ConnectorError, KindReport, KindStatus, SyncKind};
use crate::harness::{sync_pages, Harness, HarnessConfig, Limits, SyncOptions};
use crate::simulator::events::EVENT_LOGGED_INTO_APP;
use crate::simulator::rules::role_arns;
use crate::simulator::tenant::now_millis;
use crate::simulator::{limits, Event, Simulator, SimulatorConfig, Tenant};

/// The concurrency of the second run when the caller does not choose one.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// The host name the simulated tenant is reached under (routed to loopback).
pub const TENANT_HOST: &str = "acme.onelogin.com";
/// `GET /api/1/events` page size (OneLogin's fixed 50).
// TODO(simulator): use `simulator::limits::EVENTS` once the simulator serves events.
pub const EVENTS_PAGE: usize = 50;
/// The events window of a full sync: `since = now − 90 days`.
pub const EVENTS_LOOKBACK_DAYS: i64 = 90;
/// [`EVENTS_LOOKBACK_DAYS`] in milliseconds.
const EVENTS_LOOKBACK_MS: i64 = EVENTS_LOOKBACK_DAYS * 24 * 3600 * 1000;

/// Target: requests at most this many times the minimum.
pub const TARGET_RATIO: f64 = 1.05;
/// Target: the concurrent run at least this many times faster ...
pub const TARGET_SPEED_UP: f64 = 7.0;
/// ... when requests take at least this long on average.
pub const TARGET_SPEED_UP_LATENCY: Duration = Duration::from_millis(20);
/// Target: a no-change incremental sync costs at most this share of the
/// full sync's requests ...
pub const TARGET_INCREMENTAL_SHARE: f64 = 0.01;
/// ... on a tenant of at least this many users (smaller ones pay the lists'
/// first pages and a rotation share on a smaller full sync).
pub const TARGET_INCREMENTAL_USERS: usize = 10_000;
/// Target: peak linear memory at most this many bytes (set for 100k users).
pub const TARGET_PEAK_MEMORY: usize = 32 * 1024 * 1024;
/// Target: the host process's peak resident memory (VmHWM) at most this many
/// bytes, not counting the in-process simulator's tenant (set for 100k users).
pub const TARGET_HOST_RSS: u64 = 100 * 1024 * 1024;

/// `ceil(items / page)`, but at least 1: reading an empty list still costs
/// one call.
pub fn pages(items: usize, page: usize) -> u64 {
    items.div_ceil(page.max(1)).max(1) as u64
}

/// One term of [`minimum_requests`]: calls to one endpoint for one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinimumTerm {
    /// The sync kind that needs the calls.
    pub kind: &'static str,
    /// The endpoint, as the harness's request log names it
    /// (`GET /api/2/roles/{id}/admins`).
    pub endpoint: &'static str,
    /// How many calls.
    pub calls: u64,
}

/// Each term of [`minimum_requests`], in kind order, for a sync that
/// started at `sync_start_ms` (unix milliseconds: the end of the events
/// window) at the connector's default concurrency. See [`minimum_requests`].
pub fn minimum_terms(tenant: &Tenant, kinds: &BTreeSet<String>, sync_start_ms: i64) -> Vec<MinimumTerm> {
    let concurrency = usize::try_from(onelogin_connector::DEFAULT_CONCURRENCY).unwrap_or(1);
    minimum_terms_at(tenant, kinds, sync_start_ms, concurrency)
}

/// [`minimum_terms`] for a sync at `concurrency` (it decides how many time
/// slices of the events or app-logins window are read side by side).
pub fn minimum_terms_at(
    tenant: &Tenant,
    kinds: &BTreeSet<String>,
    sync_start_ms: i64,
    concurrency: usize,
) -> Vec<MinimumTerm> {
    let has = |kind: &str| kinds.contains(kind);
    let users = tenant.users.len();
    let apps = tenant.apps.len();
    let mut terms = Vec::new();
    let mut term = |kind, endpoint, calls| terms.push(MinimumTerm { kind, endpoint, calls });
    if has("users") {
        term("users", "GET /api/2/users", pages(users, limits::USERS));
        term("users", "GET /api/2/users/custom_attributes", 1);
    }
    if has("groups") {
        term("groups", "GET /api/1/groups", pages(tenant.groups.len(), limits::V1_GROUPS));
    }
    if has("roles") {
        term("roles", "GET /api/2/roles", pages(tenant.roles.len(), limits::ROLES));
        let admins = tenant.roles.iter().map(|role| pages(role.admins.len(), limits::ROLE_ADMINS)).sum();
        term("roles", "GET /api/2/roles/{id}/admins", admins);
    }
    if has("apps") {
        term("apps", "GET /api/2/apps", pages(apps, limits::APPS));
    }
    if has("app_rules") {
        // Rules are not paginated; the second call (`enabled=false`) lists
        // the disabled rules, which the first one hides.
        term("app_rules", "GET /api/2/apps/{id}/rules", 2 * apps as u64);
    }
    // User-to-app access read per application (the connector's
    // `access_plan.rs`): on a full sync when no app has provisioning and
    // apps x ceil(users / 1000) is at most half the users. It also tells who
    // reaches the AWS apps.
    let access_by_app = has("user_apps")
        && tenant.apps.iter().all(|a| !a.provisioning_enabled)
        && (apps as u64) * pages(users, limits::APP_USERS) * 2 <= users as u64;
    if has("aws_iam_roles") && !access_by_app {
        // Who can reach each app whose enabled rules grant AWS roles.
        let aws_apps: BTreeSet<u64> = tenant
            .rules
            .iter()
            .filter(|r| r.enabled)
            .filter(|r| {
                r.actions.iter().any(|a| a.action == "set_role" && a.value.iter().any(|v| !role_arns(v).is_empty()))
            })
            .map(|r| r.app_id)
            .collect();
        let calls = aws_apps.iter().map(|app| pages(tenant.app_user_ids(*app).len(), limits::APP_USERS)).sum();
        term("aws_iam_roles", "GET /api/2/apps/{id}/users", calls);
    }
    if has("privileges") {
        // An account without the subscription (no privileges) costs the one list call.
        let privileges = tenant.privileges.len() as u64;
        term("privileges", "GET /api/1/privileges", 1);
        if privileges > 0 {
            term("privileges", "GET /api/1/privileges/{id}/users", privileges);
            term("privileges", "GET /api/1/privileges/{id}/roles", privileges);
        }
    }
    if has("events") {
        term("events", "GET /api/1/events", event_pages(tenant, sync_start_ms, concurrency));
    } else if has("app_logins") {
        term("app_logins", "GET /api/1/events", app_login_pages(tenant, sync_start_ms, concurrency));
    }
    if access_by_app {
        let calls = tenant.apps.iter().map(|a| pages(tenant.app_user_ids(a.id).len(), limits::APP_USERS)).sum();
        term("user_apps", "GET /api/2/apps/{id}/users", calls);
    } else if has("user_apps") {
        term("user_apps", "GET /api/2/users/{id}/apps", users as u64);
    }
    if has("mfa_devices") {
        term("mfa_devices", "GET /api/2/mfa/users/{id}/devices", users as u64);
    }
    terms
}

/// `GET /api/1/events` calls of a full sync with `events` that began at
/// `sync_start_ms` (the connector's clock: whole seconds count) at
/// `concurrency`: the window's first page, then either the rest of the
/// window in one chain, or, when the connector cuts the rest into time slices
/// read side by side ([`onelogin_connector::event_slices`], the rule it runs
/// by), Σ over the slices of max(1, ⌈events in the slice / 50⌉). Every event
/// of the window counts, the generated app logins included.
pub fn event_pages(tenant: &Tenant, sync_start_ms: i64, concurrency: usize) -> u64 {
    window_pages(sync_start_ms, concurrency, |since_ms, until_ms| stamps(tenant, since_ms, until_ms))
}

/// [`event_pages`] for a full sync with `app_logins` (and without
/// `events`): the same rule over the app logins only (`event_type_id=8`,
/// the stored ones and the generated ones), the events the connector asks for.
pub fn app_login_pages(tenant: &Tenant, sync_start_ms: i64, concurrency: usize) -> u64 {
    window_pages(sync_start_ms, concurrency, |since_ms, until_ms| {
        stamps(tenant, since_ms, until_ms).filter(|&(_, _, kind)| kind == EVENT_LOGGED_INTO_APP)
    })
}

/// An event as the cost formulas see it: its id, `created_at` (unix
/// milliseconds) and type.
type Stamp = (u64, i64, u32);

/// The tenant's events (stored and generated) with `since_ms <= created_at <
/// until_ms`, in no particular order.
fn stamps(tenant: &Tenant, since_ms: i64, until_ms: i64) -> impl Iterator<Item = Stamp> + '_ {
    let stamp = |e: &Event| (e.id, e.created_at_ms, e.event_type_id);
    let stored = tenant.events_between(since_ms, until_ms).iter().map(stamp);
    stored.chain(tenant.app_logins.between(since_ms, until_ms).map(move |e| stamp(&e)))
}

/// The calls of a full sync's read of the 90-day events window ending at
/// `sync_start_ms` (whole seconds) at `concurrency`, whose events
/// `events(since_ms, until_ms)` lists: see [`event_pages`]. The events are
/// counted as they stream by (a large tenant's window is not held at once).
fn window_pages<I: Iterator<Item = Stamp>>(
    sync_start_ms: i64,
    concurrency: usize,
    events: impl Fn(i64, i64) -> I,
) -> u64 {
    let until = sync_start_ms.div_euclid(1000);
    let since = until - EVENTS_LOOKBACK_MS / 1000;
    let between = |since: i64, until: i64| events(since * 1000, until * 1000);
    let in_window = between(since, until).count();
    if in_window <= EVENTS_PAGE {
        return 1;
    }
    // The first page: the window's first 50 events by id (the 50 smallest
    // kept in a max-heap); its latest event's second.
    let mut first = BinaryHeap::with_capacity(EVENTS_PAGE + 1);
    for (id, at, _) in between(since, until) {
        first.push((id, at));
        if first.len() > EVENTS_PAGE {
            first.pop();
        }
    }
    let last_at = first.iter().map(|(_, at)| at.div_euclid(1000)).max();
    let slices = onelogin_connector::event_slices(since, until, last_at, concurrency);
    if slices.is_empty() {
        return pages(in_window, EVENTS_PAGE);
    }
    1 + slices.iter().map(|&(since, until)| pages(between(since, until).count(), EVENTS_PAGE)).sum::<u64>()
}

/// The fewest OneLogin API calls a full sync of `kinds` can make on
/// `tenant`, given the simulator's maximum page sizes
/// ([`simulator::limits`](crate::simulator::limits)). `kinds` is the
/// selection with required kinds already added (see [`resolve_kinds`]).
/// Every list costs `⌈items / page⌉` calls, and at least 1 when empty.
/// "Now" is the time of the call; [`minimum_terms`] takes the sync's start.
///
/// | kind | endpoint | calls |
/// |---|---|---|
/// | `users` | `GET /api/2/users` | ⌈users / 50⌉ |
/// | `users` | `GET /api/2/users/custom_attributes` | 1 |
/// | `groups` | `GET /api/1/groups` | ⌈groups / 50⌉ |
/// | `roles` | `GET /api/2/roles` (each role's apps inline) | ⌈roles / 650⌉ |
/// | `roles` | `GET /api/2/roles/{id}/admins` | Σ over roles of max(1, ⌈admins / 100⌉) |
/// | `apps` | `GET /api/2/apps` | ⌈apps / 1000⌉ |
/// | `app_rules` | `GET /api/2/apps/{id}/rules`, and again with `enabled=false` | 2 × apps |
/// | `aws_iam_roles` | `GET /api/2/apps/{id}/users` for each app with enabled `set_role` rules | Σ max(1, ⌈app users / 1000⌉) |
/// | `privileges` | `GET /api/1/privileges`, `/{id}/users`, `/{id}/roles` | 1 + 2 × privileges |
/// | `events` | `GET /api/1/events?since=now−90d&until=now` | max(1, ⌈events in the window / 50⌉), or when the connector reads time slices side by side ([`event_pages`]): 1 + Σ over slices of max(1, ⌈events in the slice / 50⌉) |
/// | `app_logins` (without `events`) | `GET /api/1/events?since=now−90d&until=now&event_type_id=8` | the `events` rule over the app logins only ([`app_login_pages`]): max(1, ⌈app logins in the window / 50⌉), or 1 + Σ over slices of max(1, ⌈app logins in the slice / 50⌉) |
/// | `user_apps` | `GET /api/2/users/{id}/apps` | users; or, when no app has provisioning and apps × ⌈users / 1000⌉ ≤ users / 2, `GET /api/2/apps/{id}/users`: Σ max(1, ⌈app users / 1000⌉), and then no `aws_iam_roles` term |
/// | `mfa_devices` | `GET /api/2/mfa/users/{id}/devices` | users |
///
/// Role *members* cost nothing: they come with each user's `role_ids`.
/// Not counted: `configure`'s token request (`POST /auth/oauth2/v2/token`,
/// which the sync reuses) and its scope probe (`GET /api/2/connectors`).
pub fn minimum_requests(tenant: &Tenant, kinds: &BTreeSet<String>) -> u64 {
    minimum_terms(tenant, kinds, now_millis()).iter().map(|t| t.calls).sum()
}

/// What a per-user fan-out design (baton-onelogin, graph-onelogin) needs
/// for the same kinds: the users pages, then `GET /api/2/users/{id}` for
/// every user, the per-user kinds, and per role its members and its apps:
///
/// ```text
/// fan-out = minimum + users                        (GET /api/2/users/{id})
///         + Σ over roles of max(1, ⌈members / 100⌉) (GET /api/2/roles/{id}/users)
///         + Σ over roles of max(1, ⌈apps / 100⌉)    (GET /api/2/roles/{id}/apps)
/// ```
///
/// (the role terms only when `roles` is selected, the user term only when
/// `users` is).
pub fn fan_out_requests(tenant: &Tenant, kinds: &BTreeSet<String>, sync_start_ms: i64) -> u64 {
    let mut calls: u64 = minimum_terms(tenant, kinds, sync_start_ms).iter().map(|t| t.calls).sum();
    if kinds.contains("users") {
        calls += tenant.users.len() as u64;
    }
    if kinds.contains("roles") {
        for role in &tenant.roles {
            calls += pages(role.users.len(), limits::ROLE_USERS) + pages(role.apps.len(), limits::ROLE_APPS);
        }
    }
    calls
}

/// The kinds a sync reads for `requested` (empty = the kinds marked
/// `default-selected`), with every required kind added, as the connector
/// describes them. Unknown names are an error. When the connector lists no
/// sync kinds, `requested` is taken as is.
pub fn resolve_kinds(available: &[SyncKind], requested: &[String]) -> anyhow::Result<BTreeSet<String>> {
    if available.is_empty() {
        return Ok(requested.iter().cloned().collect());
    }
    let by_name: BTreeMap<&str, &SyncKind> = available.iter().map(|k| (k.name.as_str(), k)).collect();
    let mut todo: Vec<String> = if requested.is_empty() {
        available.iter().filter(|k| k.default_selected).map(|k| k.name.clone()).collect()
    } else {
        requested.to_vec()
    };
    let mut selected = BTreeSet::new();
    while let Some(name) = todo.pop() {
        let Some(kind) = by_name.get(name.as_str()) else {
            let known: Vec<&str> = by_name.keys().copied().collect();
            anyhow::bail!("unknown sync kind `{name}`; the connector has: {}", known.join(", "));
        };
        if selected.insert(name) {
            todo.extend(kind.requires.iter().cloned());
        }
    }
    Ok(selected)
}

/// What to benchmark.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// The component `.wasm`.
    pub component: PathBuf,
    /// Users in the simulated tenant.
    pub users: usize,
    /// Seed of the simulated tenant.
    pub seed: u64,
    /// Latency the simulator adds to every request.
    pub latency: Duration,
    /// When set, each request's latency is drawn uniformly from
    /// `latency..=latency_max` (jitter).
    pub latency_max: Option<Duration>,
    /// The simulator's account rate limit (calls per hour); `None` = off.
    pub rate_limit_per_hour: Option<u32>,
    /// Kinds to sync (empty = the connector's defaults).
    pub kinds: Vec<String>,
    /// The concurrency of the second run (the first runs at 1).
    pub concurrency: u32,
    /// Whether to run the sync at concurrency 1 first (`false`: only the
    /// concurrent run, so no speed-up; what makes 100,000 users feasible).
    pub serial: bool,
    /// `sync-request.max-wait-ms`.
    pub max_wait_ms: u32,
    /// Limits per call.
    pub limits: Limits,
    /// Whether to measure the component's CPU in wasm against native
    /// ([`cpu`]).
    pub measure_cpu: bool,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            component: crate::harness::config::component_path(),
            users: 1000,
            seed: 1,
            latency: Duration::ZERO,
            latency_max: None,
            rate_limit_per_hour: None,
            kinds: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            serial: true,
            max_wait_ms: 60_000,
            limits: Limits::default(),
            measure_cpu: true,
        }
    }
}

impl BenchConfig {
    /// The mean latency the simulator adds: the middle of the jitter range.
    pub fn mean_latency(&self) -> Duration {
        match self.latency_max {
            Some(max) if max > self.latency => (self.latency + max) / 2,
            _ => self.latency,
        }
    }
}

/// One sync of the benchmark.
#[derive(Clone, Debug)]
pub struct BenchRun {
    /// `sync-request.concurrency`.
    pub concurrency: u32,
    /// Requests `configure` made (token + scope probe), not in `requests`.
    pub configure_requests: u64,
    /// Requests the sync made, as the simulator counted them.
    pub requests: u64,
    /// [`minimum_requests`] for this run's tenant and events window (each
    /// run has its own simulator, whose events are relative to its start).
    pub minimum: u64,
    /// Requests the sync made, as the harness's request log counted them
    /// (the same unless a request was refused or lost on the way).
    pub harness_requests: u64,
    /// The harness's count per endpoint (`GET /api/2/roles/{id}/admins`).
    pub requests_by_endpoint: BTreeMap<String, u64>,
    /// Wall time of the sync (all pages; not `configure`).
    pub wall: Duration,
    /// `sync` calls.
    pub pages: u64,
    /// Entities produced.
    pub entities: u64,
    /// Relationships produced.
    pub relationships: u64,
    /// The component's peak linear memory.
    pub peak_memory_bytes: usize,
    /// The host process's resident memory before the sync (simulator and
    /// its tenant, compiled component) and its peak (VmHWM) after; 0 where
    /// `/proc/self/status` is missing.
    pub host_rss_before_bytes: u64,
    /// See [`BenchRun::host_rss_before_bytes`].
    pub host_peak_rss_bytes: u64,
    /// The last page's per-kind report.
    pub report: Vec<KindReport>,
    /// Responses the simulator throttled (429) during the sync.
    pub throttled: u64,
    /// The incremental sync run right after this one from its checkpoint,
    /// with nothing changed in between.
    pub incremental: Option<IncrementalRun>,
}

/// A no-change incremental sync: what it cost.
#[derive(Clone, Debug)]
pub struct IncrementalRun {
    /// Requests the sync made (simulator count).
    pub requests: u64,
    /// The harness's count per endpoint.
    pub requests_by_endpoint: BTreeMap<String, u64>,
    /// Wall time.
    pub wall: Duration,
    /// Responses throttled (429).
    pub throttled: u64,
}

impl BenchRun {
    /// Entities per second of wall time.
    pub fn entities_per_second(&self) -> f64 {
        self.entities as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Requests over [`BenchRun::minimum`].
    pub fn ratio(&self) -> f64 {
        self.requests as f64 / self.minimum.max(1) as f64
    }

    /// Requests in flight on average: `requests × latency / wall time`
    /// (about 1 for a strictly serial sync, about C when C stay in flight).
    pub fn average_in_flight(&self, latency: Duration) -> f64 {
        self.requests as f64 * latency.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }
}

/// A kind status in one word: `complete`, `skipped`, `failed`, `pending`.
pub fn kind_status_word(status: &KindStatus) -> &'static str {
    match status {
        KindStatus::Pending => "pending",
        KindStatus::Complete => "complete",
        KindStatus::Skipped(_) => "skipped",
        KindStatus::Failed(_) => "failed",
    }
}

/// A kind status in words: `complete`, `skipped (reason)`, `failed (message)`, `pending`.
pub fn kind_status_text(status: &KindStatus) -> String {
    match status {
        KindStatus::Pending => "pending".into(),
        KindStatus::Complete => "complete".into(),
        KindStatus::Skipped(reason) => format!("skipped ({reason})"),
        KindStatus::Failed(error) => format!("failed ({})", error.message),
    }
}

/// The verdict on one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Met.
    Pass,
    /// Missed.
    Fail,
    /// Not measurable with this configuration (why).
    NotApplicable(String),
}

/// One target and how the benchmark did against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetCheck {
    /// The target, e.g. `requests <= 1.05 x minimum`.
    pub target: String,
    /// The measured value, in words.
    pub measured: String,
    /// Pass, fail or not applicable.
    pub verdict: Verdict,
}

/// Everything [`run_bench`] measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// The configuration.
    pub config: BenchConfig,
    /// The selected kinds with their requirements.
    pub kinds: BTreeSet<String>,
    /// The simulated tenant.
    pub tenant_summary: TenantSummary,
    /// [`minimum_terms`] for the tenant and kinds (of the run at concurrency 1).
    pub minimum_terms: Vec<MinimumTerm>,
    /// [`minimum_requests`] (of the run at concurrency 1; see [`BenchRun::minimum`]).
    pub minimum: u64,
    /// [`fan_out_requests`].
    pub fan_out: u64,
    /// The run at concurrency 1 (`None` when [`BenchConfig::serial`] is off).
    pub serial: Option<BenchRun>,
    /// The run at [`BenchConfig::concurrency`].
    pub concurrent: BenchRun,
    /// The component's CPU per entity in wasm against the same code built
    /// natively, when measured.
    pub cpu: Option<CpuMeasure>,
}

/// CPU time per entity of the same sync in wasm and natively.
#[derive(Clone, Debug)]
pub struct CpuMeasure {
    /// Microseconds per entity, the component in wasmtime.
    pub wasm_us_per_entity: f64,
    /// Microseconds per entity, the same crate built natively.
    pub native_us_per_entity: f64,
}

impl CpuMeasure {
    /// wasm over native.
    pub fn ratio(&self) -> f64 {
        self.wasm_us_per_entity / self.native_us_per_entity.max(1e-9)
    }
}

/// The sizes of the simulated tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TenantSummary {
    /// Users.
    pub users: usize,
    /// Groups.
    pub groups: usize,
    /// Roles.
    pub roles: usize,
    /// Applications.
    pub apps: usize,
}

impl BenchReport {
    /// The larger of the runs' requests over their minimum.
    pub fn ratio(&self) -> f64 {
        self.runs().map(BenchRun::ratio).fold(0.0, f64::max)
    }

    /// The full syncs that ran: the one at concurrency 1 (unless skipped)
    /// and the concurrent one.
    pub fn runs(&self) -> impl Iterator<Item = &BenchRun> {
        self.serial.iter().chain([&self.concurrent])
    }

    /// The first full sync of the process (the serial one, else the
    /// concurrent one): its RSS growth is the sync's own.
    fn first_run(&self) -> &BenchRun {
        self.serial.as_ref().unwrap_or(&self.concurrent)
    }

    /// Wall time at concurrency 1 over wall time at the chosen concurrency
    /// (`None` without the run at concurrency 1).
    pub fn speed_up(&self) -> Option<f64> {
        let serial = self.serial.as_ref()?;
        Some(serial.wall.as_secs_f64() / self.concurrent.wall.as_secs_f64().max(1e-9))
    }

    /// The larger run's peak linear memory.
    pub fn peak_memory_bytes(&self) -> usize {
        self.runs().map(|r| r.peak_memory_bytes).max().unwrap_or(0)
    }

    /// The targets: requests within [`TARGET_RATIO`] of the minimum; a
    /// [`TARGET_SPEED_UP`] speed-up when requests take
    /// [`TARGET_SPEED_UP_LATENCY`] or more (not applicable at lower latency,
    /// where the CPU, not the network, bounds the sync); peak memory within
    /// [`TARGET_PEAK_MEMORY`] (set for 100k users, so it holds for fewer
    /// too); every selected kind complete (else the request count is
    /// meaningless).
    pub fn targets(&self) -> Vec<TargetCheck> {
        let verdict = |ok: bool| if ok { Verdict::Pass } else { Verdict::Fail };
        let mut checks = Vec::new();
        let ratio = self.ratio();
        checks.push(TargetCheck {
            target: format!("requests <= {TARGET_RATIO:.2} x minimum"),
            measured: format!(
                "{ratio:.3} ({})",
                self.runs()
                    .map(|r| format!("{} / {} at concurrency {}", r.requests, r.minimum, r.concurrency))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            verdict: verdict(ratio <= TARGET_RATIO),
        });
        let speed_up = self.speed_up();
        let latency_ms = TARGET_SPEED_UP_LATENCY.as_millis();
        checks.push(TargetCheck {
            target: format!("speed-up >= {TARGET_SPEED_UP:.0}x at {latency_ms} ms mean latency"),
            measured: match speed_up {
                Some(speed_up) => format!("{speed_up:.1}x at concurrency {}", self.concurrent.concurrency),
                None => "no run at concurrency 1".into(),
            },
            verdict: if let Some(speed_up) = speed_up.filter(|_| self.config.mean_latency() >= TARGET_SPEED_UP_LATENCY)
            {
                verdict(speed_up >= TARGET_SPEED_UP)
            } else if speed_up.is_none() {
                Verdict::NotApplicable("--no-serial".into())
            } else {
                let mean = self.config.mean_latency().as_millis();
                Verdict::NotApplicable(format!("mean latency {mean} ms < {latency_ms} ms"))
            },
        });
        if let Some(share) = self.incremental_share() {
            checks.push(TargetCheck {
                target: format!(
                    "no-change incremental <= {:.0}% of the full sync's requests at {TARGET_INCREMENTAL_USERS}+ users",
                    TARGET_INCREMENTAL_SHARE * 100.0
                ),
                measured: format!("{:.2}% at {} users", share * 100.0, self.tenant_summary.users),
                verdict: if self.tenant_summary.users >= TARGET_INCREMENTAL_USERS {
                    verdict(share <= TARGET_INCREMENTAL_SHARE)
                } else {
                    Verdict::NotApplicable(format!("fewer than {TARGET_INCREMENTAL_USERS} users"))
                },
            });
        }
        let peak = self.peak_memory_bytes();
        checks.push(TargetCheck {
            target: format!("peak memory <= {} MiB at 100k users", TARGET_PEAK_MEMORY / (1024 * 1024)),
            measured: format!("{} at {} users", mib(peak), self.config.users),
            verdict: verdict(peak <= TARGET_PEAK_MEMORY),
        });
        // The first run starts from a fresh process, so its VmHWM minus its RSS before
        // the sync is the sync's own growth; the simulator's tenant is in this process
        // only because the bench runs it here.
        let first = self.first_run();
        let host = first.host_peak_rss_bytes.saturating_sub(first.host_rss_before_bytes);
        checks.push(TargetCheck {
            target: format!("host peak RSS <= {} MiB at 100k users (simulator excluded)", TARGET_HOST_RSS >> 20),
            measured: format!(
                "{} MiB over {} MiB before the sync (VmHWM {} MiB)",
                host >> 20,
                first.host_rss_before_bytes >> 20,
                first.host_peak_rss_bytes >> 20
            ),
            verdict: if first.host_peak_rss_bytes == 0 {
                Verdict::NotApplicable("no /proc/self/status".into())
            } else {
                verdict(host <= TARGET_HOST_RSS)
            },
        });
        let incomplete: BTreeSet<String> =
            self.incomplete_kinds().map(|r| format!("{} {}", r.kind, kind_status_word(&r.status))).collect();
        checks.push(TargetCheck {
            target: "every selected kind complete".into(),
            measured: if incomplete.is_empty() {
                "yes".into()
            } else {
                format!("no: {}", incomplete.iter().map(String::as_str).collect::<Vec<_>>().join(", "))
            },
            verdict: verdict(incomplete.is_empty()),
        });
        checks
    }

    /// The reports, of either run, of selected kinds that did not end
    /// `complete` (kinds left out of the selection do not count).
    fn incomplete_kinds(&self) -> impl Iterator<Item = &KindReport> {
        self.runs()
            .flat_map(|run| &run.report)
            .filter(|r| self.kinds.contains(&r.kind) && !matches!(r.status, KindStatus::Complete))
    }

    /// Whether every selected kind ended `complete` in both runs (else the
    /// request counts leave out what the missing kinds would cost).
    pub fn all_kinds_complete(&self) -> bool {
        self.incomplete_kinds().next().is_none()
    }

    /// The no-change incremental sync (run after the concurrent one).
    pub fn incremental(&self) -> Option<&IncrementalRun> {
        self.concurrent.incremental.as_ref()
    }

    /// The no-change incremental sync's requests over the full sync's.
    pub fn incremental_share(&self) -> Option<f64> {
        self.incremental().map(|i| i.requests as f64 / self.concurrent.requests.max(1) as f64)
    }

    /// Responses throttled (429) over both full syncs and the incremental one.
    pub fn throttled(&self) -> u64 {
        self.runs().map(|r| r.throttled).sum::<u64>() + self.incremental().map_or(0, |i| i.throttled)
    }

    /// The report as one JSON object (what `host-test bench --json` prints).
    pub fn json(&self) -> serde_json::Value {
        let mib = |bytes: u64| (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0;
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        let round = |x: f64, digits: i32| (x * 10f64.powi(digits)).round() / 10f64.powi(digits);
        let incremental = self.incremental();
        serde_json::json!({
            "users": self.tenant_summary.users,
            "roles": self.tenant_summary.roles,
            "apps": self.tenant_summary.apps,
            "seed": self.config.seed,
            "latency_ms": self.config.latency.as_millis() as u64,
            "latency_max_ms": self.config.latency_max.map(|d| d.as_millis() as u64),
            "rate_limit_per_hour": self.config.rate_limit_per_hour,
            "concurrency": self.concurrent.concurrency,
            "requests": self.concurrent.requests,
            "requests_c1": self.serial.as_ref().map(|s| s.requests),
            "minimum_requests": self.concurrent.minimum,
            "ratio": round(self.ratio(), 3),
            "wall_c1_s": self.serial.as_ref().map(|s| secs(s.wall)),
            "wall_c_s": secs(self.concurrent.wall),
            "speedup": self.speed_up().map(|x| round(x, 2)),
            "throttled_429": self.throttled(),
            "incremental_requests": incremental.map(|i| i.requests),
            "incremental_share": self.incremental_share().map(|x| round(x, 4)),
            "incremental_wall_s": incremental.map(|i| secs(i.wall)),
            "entities": self.concurrent.entities,
            "relationships": self.concurrent.relationships,
            "component_peak_mib": mib(self.peak_memory_bytes() as u64),
            "host_peak_rss_mib": mib(self.runs().map(|r| r.host_peak_rss_bytes).max().unwrap_or(0)),
            "host_sync_rss_growth_mib":
                mib(self.first_run().host_peak_rss_bytes.saturating_sub(self.first_run().host_rss_before_bytes)),
            "wasm_native_cpu_ratio": self.cpu.as_ref().map(|c| round(c.ratio(), 2)),
            "cpu_wasm_us_per_entity": self.cpu.as_ref().map(|c| round(c.wasm_us_per_entity, 2)),
            "cpu_native_us_per_entity": self.cpu.as_ref().map(|c| round(c.native_us_per_entity, 2)),
            "all_kinds_complete": self.all_kinds_complete(),
            "passed": self.passed(),
        })
    }

    /// Whether every applicable target passed.
    pub fn passed(&self) -> bool {
        self.targets().iter().all(|t| t.verdict != Verdict::Fail)
    }

    /// The report as a plain-text table (what `host-test bench` prints).
    pub fn table(&self) -> String {
        let (s, c) = (self.serial.as_ref(), &self.concurrent);
        // A value of the run at concurrency 1, or `-` without it (`--no-serial`).
        let sv = |value: &dyn Fn(&BenchRun) -> String| s.map_or_else(|| "-".to_string(), value);
        let t = &self.tenant_summary;
        let mut out = String::new();
        let rate = match self.config.rate_limit_per_hour {
            Some(n) => format!("{n} calls/hour"),
            None => "off".into(),
        };
        let kinds: Vec<&str> = self.kinds.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "tenant: {} users, {} groups, {} roles, {} apps (seed {}); latency {} ms{}; rate limit {rate}",
            t.users,
            t.groups,
            t.roles,
            t.apps,
            self.config.seed,
            self.config.latency.as_millis(),
            self.config.latency_max.map(|max| format!(" to {} ms", max.as_millis())).unwrap_or_default()
        );
        let _ = writeln!(out, "kinds: {}", kinds.join(", "));
        let _ = writeln!(out, "requests: the sync's only; configure's token + scope probe are not counted");
        let _ = writeln!(out);
        let head_c = format!("concurrency {}", c.concurrency);
        let _ = writeln!(out, "{:<34} {:>16} {:>16}", "", "concurrency 1", head_c);
        let mut row = |label: &str, a: String, b: String| {
            let _ = writeln!(out, "{label:<34} {a:>16} {b:>16}");
        };
        row("requests made (simulator)", sv(&|s| s.requests.to_string()), c.requests.to_string());
        row("requests made (harness log)", sv(&|s| s.harness_requests.to_string()), c.harness_requests.to_string());
        row("minimum for these kinds", sv(&|s| s.minimum.to_string()), c.minimum.to_string());
        row("ratio to minimum", sv(&|s| format!("{:.3}", s.ratio())), format!("{:.3}", c.ratio()));
        row("per-user fan-out design needs", self.fan_out.to_string(), self.fan_out.to_string());
        row(
            "configure requests (not counted)",
            sv(&|s| s.configure_requests.to_string()),
            c.configure_requests.to_string(),
        );
        row("pages (sync calls)", sv(&|s| s.pages.to_string()), c.pages.to_string());
        row("entities", sv(&|s| s.entities.to_string()), c.entities.to_string());
        row("relationships", sv(&|s| s.relationships.to_string()), c.relationships.to_string());
        row(
            "wall time (sync only)",
            sv(&|s| format!("{:.2} s", s.wall.as_secs_f64())),
            format!("{:.2} s", c.wall.as_secs_f64()),
        );
        row("speed-up", String::new(), self.speed_up().map_or_else(|| "-".to_string(), |x| format!("{x:.1}x")));
        row(
            "entities per second",
            sv(&|s| format!("{:.0}", s.entities_per_second())),
            format!("{:.0}", c.entities_per_second()),
        );
        row("throttled (429)", sv(&|s| s.throttled.to_string()), c.throttled.to_string());
        if let Some(incremental) = self.incremental() {
            let share = self.incremental_share().unwrap_or(0.0) * 100.0;
            row("no-change incremental: requests", String::new(), format!("{} ({share:.2}%)", incremental.requests));
            row("no-change incremental: wall time", String::new(), format!("{:.2} s", incremental.wall.as_secs_f64()));
        }
        if let Some(cpu) = &self.cpu {
            row(
                "CPU per entity: wasm / native",
                String::new(),
                format!("{:.1} / {:.1} us = {:.2}x", cpu.wasm_us_per_entity, cpu.native_us_per_entity, cpu.ratio()),
            );
        }
        row("peak linear memory", sv(&|s| mib(s.peak_memory_bytes)), mib(c.peak_memory_bytes));
        let rss = |bytes: u64| mib(usize::try_from(bytes).unwrap_or(usize::MAX));
        row("host RSS before the sync", sv(&|s| rss(s.host_rss_before_bytes)), rss(c.host_rss_before_bytes));
        row("host peak RSS (VmHWM)", sv(&|s| rss(s.host_peak_rss_bytes)), rss(c.host_peak_rss_bytes));
        if !self.config.latency.is_zero() {
            let latency = self.config.mean_latency();
            row(
                "avg requests in flight",
                sv(&|s| format!("{:.1}", s.average_in_flight(latency))),
                format!("{:.1}", c.average_in_flight(latency)),
            );
        }

        let _ = writeln!(out);
        let _ = writeln!(out, "kinds (concurrency {}):", c.concurrency);
        for report in &c.report {
            let mut status = kind_status_text(&report.status);
            if status.chars().count() > 100 {
                status = status.chars().take(99).chain(['…']).collect();
            }
            let _ = writeln!(out, "  {:<16} {status}", report.kind);
        }

        let _ = writeln!(out);
        let head_c = format!("C={}", c.concurrency);
        let _ = writeln!(
            out,
            "{:<40} {:>10} {:>10} {:>10} {:>12}",
            "requests by endpoint", "minimum", "C=1", head_c, "incremental"
        );
        let mut minimum_by_endpoint: BTreeMap<&str, u64> = BTreeMap::new();
        for term in &self.minimum_terms {
            *minimum_by_endpoint.entry(term.endpoint).or_insert(0) += term.calls;
        }
        let endpoints: BTreeSet<&str> = minimum_by_endpoint
            .keys()
            .copied()
            .chain(s.into_iter().flat_map(|s| s.requests_by_endpoint.keys().map(String::as_str)))
            .chain(c.requests_by_endpoint.keys().map(String::as_str))
            .chain(self.incremental().into_iter().flat_map(|i| i.requests_by_endpoint.keys().map(String::as_str)))
            .collect();
        for endpoint in endpoints {
            let count = |map: &BTreeMap<String, u64>| map.get(endpoint).copied().unwrap_or(0).to_string();
            let minimum = minimum_by_endpoint.get(endpoint).copied().unwrap_or(0);
            let incremental = self.incremental().map(|i| count(&i.requests_by_endpoint)).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {endpoint:<38} {minimum:>10} {:>10} {:>10} {incremental:>12}",
                s.map_or_else(|| "-".to_string(), |s| count(&s.requests_by_endpoint)),
                count(&c.requests_by_endpoint)
            );
        }

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
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// This process's peak resident memory (`VmHWM` in `/proc/self/status`), in
/// bytes; `None` where that file does not exist.
pub fn host_peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmHWM:")
}

/// This process's resident memory now (`VmRSS`), in bytes.
pub fn host_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmRSS:")
}

/// Bytes as `12.3 MiB`.
pub fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A connector error as an `anyhow` error (the bench has no use for its type).
fn connector_error(during: &str, error: ConnectorError) -> anyhow::Error {
    let kind = crate::harness::types::kind_name(&error.kind);
    anyhow::anyhow!("{during} failed: {kind}: {}", error.message)
}

/// The `configure` fields for the simulator's Manage All client.
pub(crate) fn configure_fields(simulator: &Simulator) -> Vec<(String, String)> {
    let credentials = simulator.manage_credentials();
    [("client_id", credentials.client_id), ("client_secret", credentials.client_secret)]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .chain([("subdomain".to_string(), "acme".to_string())])
        .collect()
}

/// Runs the benchmark (see the module docs). Host failures and connector
/// errors (configure or a sync page failing) are errors; kinds that end
/// `skipped` or `failed` are reported, not errors.
pub async fn run_bench(config: &BenchConfig) -> anyhow::Result<BenchReport> {
    let mut serial = match config.serial {
        true => Some(run_once(config, 1).await.context("the sync at concurrency 1")?),
        false => None,
    };
    let mut concurrent = run_once(config, config.concurrency).await.context("the concurrent sync")?;
    for run in serial.iter_mut().chain([&mut concurrent]) {
        let concurrency = usize::try_from(run.run.concurrency).unwrap_or(1);
        run.run.minimum =
            minimum_terms_at(&run.tenant, &run.kinds, run.sync_start_ms, concurrency).iter().map(|t| t.calls).sum();
    }
    let cpu = match config.measure_cpu {
        true => Some(cpu::measure(config).await.context("the CPU comparison")?),
        false => None,
    };
    // The report's tenant and minimum are those of the first run.
    let concurrent_run = concurrent.run;
    let (serial_run, (tenant, kinds, sync_start_ms, concurrency)) = match serial {
        Some(serial) => (Some(serial.run), (serial.tenant, serial.kinds, serial.sync_start_ms, 1)),
        None => {
            let concurrency = usize::try_from(concurrent_run.concurrency).unwrap_or(1);
            (None, (concurrent.tenant, concurrent.kinds, concurrent.sync_start_ms, concurrency))
        }
    };
    let minimum_terms = minimum_terms_at(&tenant, &kinds, sync_start_ms, concurrency);
    Ok(BenchReport {
        config: config.clone(),
        tenant_summary: TenantSummary {
            users: tenant.users.len(),
            groups: tenant.groups.len(),
            roles: tenant.roles.len(),
            apps: tenant.apps.len(),
        },
        minimum: minimum_terms.iter().map(|t| t.calls).sum(),
        fan_out: fan_out_requests(&tenant, &kinds, sync_start_ms),
        minimum_terms,
        kinds,
        serial: serial_run,
        concurrent: concurrent_run,
        cpu,
    })
}

/// One run plus what the report needs from it once.
struct RunResult {
    run: BenchRun,
    tenant: Tenant,
    kinds: BTreeSet<String>,
    /// When the sync started, in unix milliseconds (the end of its events window).
    sync_start_ms: i64,
}

/// One full sync at `concurrency` against a fresh simulator, harness and instance.
async fn run_once(config: &BenchConfig, concurrency: u32) -> anyhow::Result<RunResult> {
    let simulator = Simulator::start(SimulatorConfig {
        users: config.users,
        seed: config.seed,
        latency: config.latency,
        latency_max: config.latency_max,
        rate_limit_per_hour: config.rate_limit_per_hour,
        ..SimulatorConfig::default()
    })
    .await
    .context("cannot start the simulator")?;
    let result = sync_once(config, concurrency, &simulator).await;
    let tenant = simulator.tenant();
    simulator.shutdown().await;
    let (run, kinds, sync_start_ms) = result?;
    Ok(RunResult { run, tenant, kinds, sync_start_ms })
}

async fn sync_once(
    config: &BenchConfig,
    concurrency: u32,
    simulator: &Simulator,
) -> anyhow::Result<(BenchRun, BTreeSet<String>, i64)> {
    let harness = Harness::new(HarnessConfig {
        component: config.component.clone(),
        allowed_hosts: vec![TENANT_HOST.to_string()],
        routes: BTreeMap::from([(TENANT_HOST.to_string(), simulator.addr())]),
        limits: config.limits,
    })?;
    let mut instance = harness.instantiate().await?;
    let info = instance.describe().await?;
    let kinds = resolve_kinds(&info.sync_kinds, &config.kinds)?;
    let fields = configure_fields(simulator);
    instance.configure(&fields).await?.map_err(|e| connector_error("configure", e))?;
    let configure_requests = simulator.total_requests();
    simulator.reset_counts();
    harness.request_log().reset();

    tracing::info!(users = config.users, concurrency, "bench: sync started");
    let options = SyncOptions {
        kinds: config.kinds.clone(),
        max_wait_ms: config.max_wait_ms,
        concurrency,
        ..SyncOptions::default()
    };
    let sync_start_ms = now_millis();
    let host_rss_before_bytes = host_rss_bytes().unwrap_or(0);
    let started = Instant::now();
    let end = sync_pages(&mut instance, &options, |_| {}).await?.map_err(|e| connector_error("sync", e))?;
    let wall = started.elapsed();
    let log = harness.request_log();
    let throttled = simulator.throttled_requests();
    let requests = simulator.total_requests();
    let (harness_requests, requests_by_endpoint) = (log.total(), log.counts());
    let peak_memory_bytes = instance.peak_memory_bytes();
    let incremental = match (&end.checkpoint, concurrency == config.concurrency) {
        (Some(checkpoint), true) => {
            simulator.reset_counts();
            log.reset();
            let options = SyncOptions { checkpoint: Some(checkpoint.clone()), ..options.clone() };
            let started = Instant::now();
            sync_pages(&mut instance, &options, |_| {}).await?.map_err(|e| connector_error("incremental sync", e))?;
            Some(IncrementalRun {
                requests: simulator.total_requests(),
                requests_by_endpoint: log.counts(),
                wall: started.elapsed(),
                throttled: simulator.throttled_requests(),
            })
        }
        _ => None,
    };
    let run = BenchRun {
        concurrency,
        configure_requests,
        minimum: 0, // filled in by `run_bench`, which has the tenant
        requests,
        harness_requests,
        requests_by_endpoint,
        wall,
        pages: end.pages,
        entities: end.entities,
        relationships: end.relationships,
        peak_memory_bytes,
        host_rss_before_bytes,
        host_peak_rss_bytes: host_peak_rss_bytes().unwrap_or(0),
        report: end.report,
        throttled,
        incremental,
    };
    tracing::info!(requests = run.requests, wall_ms = wall.as_millis() as u64, "bench: sync done");
    Ok((run, kinds, sync_start_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str, default_selected: bool, requires: &[&str]) -> SyncKind {
        SyncKind {
            name: name.into(),
            description: String::new(),
            default_selected,
            calls_per_user: 0,
            cost: String::new(),
            requires: requires.iter().map(|s| s.to_string()).collect(),
            required_access: crate::harness::types::AccessLevel::Read,
        }
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kinds_resolve_to_defaults_plus_requirements() {
        let available = [
            kind("users", true, &[]),
            kind("roles", true, &[]),
            kind("apps", true, &[]),
            kind("app_rules", false, &["apps"]),
            kind("aws_iam_roles", false, &["users", "app_rules"]),
        ];
        assert_eq!(resolve_kinds(&available, &[]).unwrap(), set(&["apps", "roles", "users"]));
        assert_eq!(
            resolve_kinds(&available, &["aws_iam_roles".into()]).unwrap(),
            set(&["app_rules", "apps", "aws_iam_roles", "users"])
        );
        let error = resolve_kinds(&available, &["people".into()]).unwrap_err().to_string();
        assert!(error.contains("people") && error.contains("app_rules"), "{error}");
        assert_eq!(resolve_kinds(&[], &["x".into()]).unwrap(), set(&["x"]));
    }

    #[test]
    fn minimum_follows_the_documented_formula() {
        // A fixed instant: the generated events are seeded from it, and whether
        // the window is worth slicing depends on where the first page ends.
        let now: i64 = 1_796_300_000_000; // 2026-12-03T12:13:20Z
        let mut tenant = Tenant::generate(230, 3);
        tenant.generate_events(now);
        let (users, groups, roles, apps) =
            (tenant.users.len(), tenant.groups.len(), tenant.roles.len(), tenant.apps.len() as u64);
        assert_eq!((users, groups, roles), (230, 9, 11));
        let admins: u64 = tenant.roles.iter().map(|r| r.admins.len().div_ceil(100).max(1) as u64).sum();
        assert_eq!(admins, roles as u64, "fewer than 100 admins per role: one call each");
        let privileges = tenant.privileges.len() as u64;
        assert!(privileges > 0, "the simulator generates privileges");
        let since = now - 90 * 24 * 3600 * 1000;
        let in_window = tenant.events.iter().filter(|e| e.created_at_ms >= since).count();
        assert!(in_window > 50 && in_window < tenant.events.len(), "several pages, and older events left out");
        let event_calls = in_window.div_ceil(50) as u64;
        let minimum = |kinds: &[&str]| minimum_terms(&tenant, &set(kinds), now).iter().map(|t| t.calls).sum::<u64>();

        assert_eq!(minimum(&["users"]), 5 + 1);
        assert_eq!(minimum(&["groups"]), 1);
        assert_eq!(minimum(&["roles"]), 1 + admins);
        // One AWS app (the first gets the covering rule set) with under 1000 users: 1 call.
        let aws_apps = tenant.apps.iter().filter(|a| a.connector_id == 29_024).count() as u64;
        assert!(aws_apps >= 1);
        let aws = minimum(&["apps", "app_rules", "aws_iam_roles"]) - (1 + 2 * apps);
        assert!((1..=aws_apps).contains(&aws), "one app-users call per app with AWS rules: {aws}");
        assert_eq!(minimum(&["user_apps", "mfa_devices"]), 2 * 230);
        assert_eq!(minimum(&["privileges"]), 1 + 2 * privileges);
        // One chain of pages at concurrency 1; at the default, the connector's
        // time slices after the first page, each at least one call.
        let serial = |tenant: &Tenant, kinds: &[&str]| {
            minimum_terms_at(tenant, &set(kinds), now, 1).iter().map(|t| t.calls).sum::<u64>()
        };
        assert_eq!(serial(&tenant, &["events"]), event_calls);
        assert_eq!(minimum(&["events"]), event_calls, "7 pages: too few to slice");
        // The default concurrency: the first page, then the connector's time
        // slices of the rest (when it cuts any), each at least one call.
        // `only`: the one event type read (app logins alone read type 8).
        let sliced = |tenant: &Tenant, only: Option<u32>| {
            let until = now.div_euclid(1000);
            let since = until - 90 * 86_400;
            let between = |a: i64, b: i64| {
                let mut events = tenant.all_events_between(a * 1000, b * 1000);
                events.retain(|e| only.is_none_or(|t| e.event_type_id == t));
                events
            };
            let window = between(since, until);
            let last_at = window.iter().take(50).map(|e| e.created_at_ms.div_euclid(1000)).max();
            let slices = onelogin_connector::event_slices(since, until, last_at, 8);
            let calls: u64 = slices.iter().map(|(a, b)| between(*a, *b).len().div_ceil(50).max(1) as u64).sum();
            (slices.len(), 1 + calls)
        };

        let logins = tenant.events.iter().filter(|e| e.created_at_ms >= since && e.event_type_id == 8).count();
        assert_eq!(minimum(&["app_logins"]), logins.div_ceil(50).max(1) as u64, "app logins alone");
        let mut busy = tenant.clone();
        busy.app_logins = crate::simulator::app_logins::LoginHistory::new(&busy, 2.0, now);
        let generated = busy.app_logins.between(since, i64::MAX).count();
        assert!(generated > 10_000, "about 2 a day per active user: {generated}");
        let busy_minimum = |kinds: &[&str]| minimum_terms(&busy, &set(kinds), now).iter().map(|t| t.calls).sum::<u64>();
        // App logins alone: one chain at concurrency 1; at the default, the
        // first page and the slices of the rest, by the same rule as events.
        let login_chain = (logins + generated).div_ceil(50) as u64;
        assert_eq!(serial(&busy, &["app_logins"]), login_chain);
        let (slices, calls) = sliced(&busy, Some(8));
        assert!(slices > 1, "a long window of app logins is read in slices");
        assert_eq!(busy_minimum(&["app_logins"]), calls);
        assert!((login_chain..=login_chain + slices as u64).contains(&calls), "a part-filled page per slice at most");
        let chain = (in_window + generated).div_ceil(50) as u64;
        assert_eq!(serial(&busy, &["events", "app_logins"]), chain);
        let (slices, calls) = sliced(&busy, None);
        assert!(slices > 1, "a long window is read in slices");
        assert_eq!(busy_minimum(&["events", "app_logins"]), calls);
        assert!((chain..=chain + slices as u64).contains(&calls), "each slice may end on a part-filled page");
        assert_eq!(minimum(&[]), 0);
        let empty = Tenant { privileges: Vec::new(), events: Vec::new(), ..tenant.clone() };
        assert_eq!(minimum_requests(&empty, &set(&["privileges", "events"])), 2, "empty lists cost one call each");

        let all = set(&[
            "users",
            "groups",
            "roles",
            "apps",
            "app_rules",
            "aws_iam_roles",
            "privileges",
            "events",
            "user_apps",
            "mfa_devices",
        ]);
        let terms = minimum_terms(&tenant, &all, now);
        let total: u64 = terms.iter().map(|t| t.calls).sum();
        assert_eq!(total, 6 + 1 + (1 + admins) + (1 + 2 * apps + aws) + (1 + 2 * privileges) + event_calls + 460);
        assert!(terms.iter().all(|t| t.endpoint.starts_with("GET /")), "{terms:?}");

        let per_role: u64 =
            tenant.roles.iter().map(|r| pages(r.users.len(), 100) + pages(r.apps.len(), 100)).sum::<u64>();
        assert!(tenant.roles.iter().any(|r| r.users.len() > 100), "the second role has > 100 members");
        assert_eq!(fan_out_requests(&tenant, &all, now), total + 230 + per_role);
        assert_eq!(fan_out_requests(&tenant, &set(&["apps"]), now), 1);
    }

    #[test]
    fn pages_count_an_empty_list_once() {
        assert_eq!(pages(0, 50), 1);
        assert_eq!(pages(50, 50), 1);
        assert_eq!(pages(51, 50), 2);
        assert_eq!(pages(3, 0), 3);
    }

    fn run(requests: u64, wall_ms: u64, peak: usize, concurrency: u32) -> BenchRun {
        BenchRun {
            concurrency,
            configure_requests: 2,
            minimum: 100,
            requests,
            harness_requests: requests,
            requests_by_endpoint: BTreeMap::from([("GET /api/2/users".to_string(), requests)]),
            wall: Duration::from_millis(wall_ms),
            pages: 3,
            entities: 1000,
            relationships: 10,
            peak_memory_bytes: peak,
            host_rss_before_bytes: 50 << 20,
            host_peak_rss_bytes: 60 << 20,
            throttled: 0,
            incremental: None,
            report: vec![
                KindReport { kind: "users".into(), status: KindStatus::Complete },
                KindReport { kind: "events".into(), status: KindStatus::Skipped("not selected".into()) },
            ],
        }
    }

    fn report(latency_ms: u64, serial: BenchRun, concurrent: BenchRun) -> BenchReport {
        BenchReport {
            config: BenchConfig { latency: Duration::from_millis(latency_ms), ..BenchConfig::default() },
            kinds: set(&["users"]),
            tenant_summary: TenantSummary::default(),
            minimum_terms: vec![MinimumTerm { kind: "users", endpoint: "GET /api/2/users", calls: 100 }],
            minimum: 100,
            fan_out: 1100,
            serial: Some(serial),
            concurrent,
            cpu: None,
        }
    }

    #[test]
    fn targets_pass_fail_and_not_applicable() {
        let good = report(20, run(100, 1000, 1 << 20, 1), run(104, 130, 2 << 20, 8));
        assert!(good.passed(), "{}", good.table());
        assert!(good.all_kinds_complete(), "a kind left out of the selection does not count");
        assert!((good.ratio() - 1.04).abs() < 1e-9);
        assert!((good.speed_up().expect("a serial run") - 1000.0 / 130.0).abs() < 1e-9);
        let table = good.table();
        assert!(table.contains("PASS") && !table.contains("FAIL"), "{table}");
        assert!(table.contains("GET /api/2/users"), "{table}");

        let mut bad = report(20, run(100, 1000, 1 << 20, 1), run(106, 500, 40 << 20, 8));
        bad.concurrent.report[0].status = KindStatus::Skipped("not licensed".into());
        bad.serial.as_mut().expect("a serial run").host_peak_rss_bytes = 200 << 20;
        let verdicts: Vec<Verdict> = bad.targets().into_iter().map(|t| t.verdict).collect();
        assert_eq!(verdicts, [Verdict::Fail, Verdict::Fail, Verdict::Fail, Verdict::Fail, Verdict::Fail]);
        assert!(!bad.passed());

        let mut alone = report(20, run(100, 1000, 1 << 20, 1), run(104, 130, 2 << 20, 8));
        alone.serial = None;
        assert_eq!(alone.speed_up(), None);
        assert!(matches!(alone.targets()[1].verdict, Verdict::NotApplicable(_)), "no speed-up without C=1");
        assert!(alone.passed(), "{}", alone.table());
        assert!((alone.ratio() - 1.04).abs() < 1e-9, "the concurrent run's ratio");
        assert_eq!(alone.json()["speedup"], serde_json::Value::Null);
        assert_eq!(alone.json()["wall_c1_s"], serde_json::Value::Null);

        let fast = report(0, run(100, 10, 1 << 20, 1), run(100, 10, 1 << 20, 8));
        assert!(matches!(fast.targets()[1].verdict, Verdict::NotApplicable(_)));
        assert!(fast.passed());
    }
}
