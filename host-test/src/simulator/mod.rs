//! An in-process OneLogin API simulator.
//!
//! [`Simulator::start`] serves a deterministic [`Tenant`] over HTTP on 127.0.0.1 with
//! the OneLogin endpoints the connector uses (each route module cites its source): the OAuth2
//! token endpoint, v2 users/roles/apps/connectors with header pagination, v1
//! groups/users with body pagination, user apps with provisioning states, app rules,
//! MFA devices, delegated-administration privileges, events, the account rate budget,
//! read/manage scopes and injectable faults (the full route list is in [`routes`]).
//! Tests read the ground truth with [`Simulator::tenant`] (and its helpers
//! [`Tenant::user_apps`], [`Tenant::aws_roles`], [`Tenant::events_between`]), change it
//! between syncs with [`Simulator::update_tenant`], and read the traffic with
//! [`Simulator::request_counts`].
//!
//! Every request goes through one middleware ([`gate`]) which, in order: counts it under
//! `"{METHOD} {route template}"`, admits a v2 call through the load throttle (holding
//! its in-flight slot until the answer), applies the configured latency, fires a
//! queued fault, and for `/api/*` checks the bearer token, spends the v1 rate budget
//! (v1 calls only), checks the scope, and finally adds `X-RateLimit-*` headers to v1
//! responses.

// Handlers and their helpers return `Result<_, Response>` so an error is a ready-made
// OneLogin error response; these are cold paths, so the large `Err` is fine.
#![allow(clippy::result_large_err)]

pub mod access;
pub mod app_logins;
pub mod auth;
pub mod clock;
pub mod errors;
pub mod events;
pub mod faults;
pub mod pagination;
pub mod privileges;
pub mod rate_limit;
pub mod routes;
pub mod rule_catalog;
pub mod rules;
pub mod tenant;
pub mod throttle;
pub mod variance;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tokio::net::TcpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use access::{AppProvisioning, UserApp, PROVISIONING_STATES, PROVISIONING_STATUSES};
pub use auth::Scope;
pub use events::{Event, EVENT_TYPES};
pub use faults::{Fault, FaultKind};
pub use privileges::Privilege;
pub use rules::{AppRule, AwsRoleTruth, RuleAction, RuleCondition, Truth};
pub use tenant::{App, Group, MfaDevice, Role, Tenant, User, UserMapping};
pub use throttle::{Refusal, TokenBucket, TokenThrottle, V2Throttle};
pub use variance::FieldVariance;

/// Maximum page size (`limit`) per endpoint. Larger requested limits are capped to
/// these, and they are also the defaults.
///
/// Sources per endpoint: FIDELITY.md F-PAGE-20..29. Assumption (FIDELITY.md F-PAGE-5):
/// the default page size is the maximum.
pub mod limits {
    /// `GET /api/2/users`.
    pub const USERS: usize = 50;
    /// `GET /api/2/roles`.
    pub const ROLES: usize = 650;
    /// `GET /api/2/roles/{id}/users`.
    pub const ROLE_USERS: usize = 100;
    /// `GET /api/2/roles/{id}/admins`.
    ///
    /// Assumption (FIDELITY.md F-PAGE-23): undocumented, copied from role users.
    pub const ROLE_ADMINS: usize = 100;
    /// `GET /api/2/roles/{id}/apps`.
    pub const ROLE_APPS: usize = 100;
    /// `GET /api/2/apps`.
    pub const APPS: usize = 1000;
    /// `GET /api/2/apps/{id}/users`.
    pub const APP_USERS: usize = 1000;
    /// `GET /api/2/connectors`.
    pub const CONNECTORS: usize = 1000;
    /// `GET /api/1/groups`.
    pub const V1_GROUPS: usize = 50;
    /// `GET /api/1/users`.
    pub const V1_USERS: usize = 50;
    /// `GET /api/1/events` (also the default).
    pub const EVENTS: usize = 50;
}

/// The subdomain the simulated tenant answers as (`acme.onelogin.com`), in invite links
/// and messages that name it.
pub const SUBDOMAIN: &str = "acme";

/// How to build and run a simulator.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// Number of users in the generated tenant.
    pub users: usize,
    /// Seed of the tenant generator (and of the client credentials).
    pub seed: u64,
    /// Account-wide calls per hour; `None` turns rate limiting off.
    pub rate_limit_per_hour: Option<u32>,
    /// Length of the rate window (OneLogin: one hour). Tests shorten it to
    /// see a host wait a window out.
    pub rate_limit_window: Duration,
    /// Access token lifetime (OneLogin: 36000 s).
    pub token_ttl: Duration,
    /// Added to every request.
    pub latency: Duration,
    /// When set, each request's added latency is drawn uniformly from
    /// `latency..=latency_max` instead (real latency is uneven: a sliding
    /// window gains over waves only then).
    pub latency_max: Option<Duration>,
    /// Whether the account has the Delegated Administration subscription. When
    /// `false` the tenant has no privileges and every `/api/1/privileges*` call is 403.
    pub privileges: bool,
    /// When `GET /api/2/users` list items carry `role_ids` and
    /// `custom_attributes` (FIDELITY.md F-USER-2: unknown, leaning "only when
    /// `fields` names them").
    pub list_role_ids: ListRoleIds,
    /// Whether the last page of a v2 list carries an `After-Cursor` (FIDELITY.md
    /// F-PAGE-7: not reliably absent on the real API).
    pub last_page_cursor: LastPageCursor,
    /// How v2 calls are throttled under load (default: not at all; FIDELITY.md F-RATE-11).
    pub v2_throttle: V2Throttle,
    /// The token endpoint's lock-out after repeated bad credentials; `None` never
    /// locks out (FIDELITY.md F-TOK-14).
    pub token_throttle: Option<TokenThrottle>,
    /// Whether users' app lists include their personal apps (`personal: true`).
    /// Off by default: the v1 docs say the list leaves them out (FIDELITY.md
    /// F-APP-16); tests of the connector's personal-application mapping turn it on.
    pub personal_apps: bool,
    /// Which shapes users come in (FIDELITY.md F-DATA-5..8, F-DATA-13).
    pub field_variance: FieldVariance,
    /// App logins (event type 8) per active user per day, generated lazily on top of
    /// the other events ([`app_logins`]; FIDELITY.md F-EVT-10). Real tenants log
    /// several; 0 turns them off.
    pub app_logins_per_user_per_day: f64,
    /// The "lock effective period" (minutes) of the user policy every user is
    /// under (the tenant's default policy): how long `lock_user` with
    /// `{"locked_until":0}` locks. 0: until an admin unlocks (FIDELITY.md F-UW-16).
    pub lock_policy_minutes: u64,
    /// Whether the admin who created the API credentials was deleted: token
    /// requests with valid credentials then answer 500 (FIDELITY.md F-TOK-16).
    pub credential_owner_deleted: bool,
}

/// Whether the last page of a v2 list carries an `After-Cursor` header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LastPageCursor {
    /// No `After-Cursor` on the last page (the legacy py-sdk fixture's page 2).
    #[default]
    Absent,
    /// An `After-Cursor` pointing one page past the end (which serves `[]`), while
    /// `Current-Page` equals `Total-Pages`: what go-sdk PR #61 guards against
    /// ("`After-Cursor` is not consistently empty"; it breaks on the page numbers).
    PastTheEnd,
}

/// When list items of `GET /api/2/users` carry `role_ids` and `custom_attributes`.
/// The single-user read always carries them (developers.onelogin.com get-user sample).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListRoleIds {
    /// Only when the `fields` parameter names them: the List Users docs sample
    /// has neither, and public code asks for them with `fields`.
    #[default]
    WhenAsked,
    /// Never, whatever `fields` says: the other answer the evidence allows.
    Never,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            users: 50,
            seed: 1,
            rate_limit_per_hour: Some(5000),
            rate_limit_window: rate_limit::WINDOW,
            token_ttl: Duration::from_secs(36_000),
            latency: Duration::ZERO,
            latency_max: None,
            privileges: true,
            list_role_ids: ListRoleIds::default(),
            last_page_cursor: LastPageCursor::default(),
            v2_throttle: V2Throttle::default(),
            token_throttle: Some(TokenThrottle::default()),
            personal_apps: false,
            field_variance: FieldVariance::default(),
            app_logins_per_user_per_day: DEFAULT_APP_LOGINS_PER_DAY,
            lock_policy_minutes: DEFAULT_LOCK_POLICY_MINUTES,
            credential_owner_deleted: false,
        }
    }
}

/// [`SimulatorConfig::lock_policy_minutes`] by default. Assumption (FIDELITY.md
/// F-UW-16): OneLogin's default policy's period is not documented.
pub const DEFAULT_LOCK_POLICY_MINUTES: u64 = 30;

/// [`SimulatorConfig::app_logins_per_user_per_day`] by default: a few a day.
pub const DEFAULT_APP_LOGINS_PER_DAY: f64 = 3.0;

/// The largest tenant the simulator generates ([`SimulatorConfig::users`]):
/// about 3.3 KiB of memory per user, events included (about 1.6 GiB at the maximum).
pub const MAX_USERS: usize = 500_000;

/// An API client id and secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Credentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
}

/// Mutable simulator state, shared by all handlers behind one mutex.
#[derive(Debug)]
pub struct Inner {
    /// The tenant data.
    pub tenant: Tenant,
    /// Clients and tokens.
    pub tokens: auth::TokenStore,
    /// The account's v1 rate budget.
    pub rate: rate_limit::RateLimiter,
    /// The v2 load throttle.
    pub v2: throttle::V2Limiter,
    /// The token endpoint's failure counts.
    pub token_failures: throttle::TokenFailures,
    /// Pending faults.
    pub faults: faults::FaultQueue,
    /// Requests per `"{METHOD} {template}"`.
    pub counts: BTreeMap<String, u64>,
    /// All requests.
    pub total: u64,
    /// Responses with status 429.
    pub throttled: u64,
    /// Added to every request.
    pub latency: Duration,
    /// [`SimulatorConfig::latency_max`].
    pub latency_max: Option<Duration>,
    /// `http://127.0.0.1:PORT`, for links.
    pub base_url: String,
    /// [`SimulatorConfig::privileges`].
    pub privileges_enabled: bool,
    /// [`SimulatorConfig::list_role_ids`].
    pub list_role_ids: ListRoleIds,
    /// [`SimulatorConfig::last_page_cursor`].
    pub last_page_cursor: LastPageCursor,
    /// [`SimulatorConfig::personal_apps`].
    pub personal_apps: bool,
    /// [`SimulatorConfig::field_variance`].
    pub field_variance: FieldVariance,
    /// The `(since, until)` bounds (unix ms) of every `GET /api/1/events`
    /// request: the window a client chose by its own clock.
    pub event_windows: std::collections::BTreeSet<(i64, i64)>,
    /// [`SimulatorConfig::lock_policy_minutes`].
    pub lock_policy_minutes: u64,
    /// [`SimulatorConfig::credential_owner_deleted`].
    pub credential_owner_deleted: bool,
}

impl Inner {
    /// What a v2 list response needs besides its items.
    pub fn listing(&self) -> pagination::Listing<'_> {
        pagination::Listing { base_url: &self.base_url, last_page_cursor: self.last_page_cursor }
    }
}

/// The shared state handle.
pub type Shared = Arc<Mutex<Inner>>;

/// Locks the state, ignoring poisoning (a panicking handler must not wedge the rest).
pub fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running simulator. Dropping it aborts the server; [`Simulator::shutdown`] stops
/// it gracefully.
pub struct Simulator {
    addr: SocketAddr,
    shared: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Starts a simulator on an ephemeral port of 127.0.0.1.
    pub async fn start(config: SimulatorConfig) -> anyhow::Result<Simulator> {
        Simulator::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a simulator on `addr`.
    pub async fn start_on(config: SimulatorConfig, addr: SocketAddr) -> anyhow::Result<Simulator> {
        anyhow::ensure!(
            config.users <= MAX_USERS,
            "the simulator generates at most {MAX_USERS} users, not {}",
            config.users
        );
        let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(1024)?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");

        let mut tenant = Tenant::generate(config.users, config.seed);
        let start = clock::restart();
        tenant.generate_events(start);
        tenant.app_logins = app_logins::LoginHistory::new(&tenant, config.app_logins_per_user_per_day, start);
        if !config.privileges {
            tenant.privileges.clear();
        }
        if config.field_variance == FieldVariance::Varied {
            variance::drop_identities(&mut tenant);
        }
        let shared: Shared = Arc::new(Mutex::new(Inner {
            tenant,
            tokens: auth::TokenStore::new(config.seed, config.token_ttl),
            rate: rate_limit::RateLimiter::with_window(config.rate_limit_per_hour, config.rate_limit_window),
            v2: throttle::V2Limiter::new(config.v2_throttle),
            token_failures: throttle::TokenFailures::new(config.token_throttle),
            faults: faults::FaultQueue::default(),
            counts: BTreeMap::new(),
            total: 0,
            throttled: 0,
            latency: config.latency,
            latency_max: config.latency_max,
            base_url,
            privileges_enabled: config.privileges,
            list_role_ids: config.list_role_ids,
            last_page_cursor: config.last_page_cursor,
            personal_apps: config.personal_apps,
            field_variance: config.field_variance,
            event_windows: Default::default(),
            lock_policy_minutes: config.lock_policy_minutes,
            credential_owner_deleted: config.credential_owner_deleted,
        }));
        let app = router(shared.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            });
            if let Err(err) = serve.await {
                tracing::warn!(%err, "simulator server stopped with an error");
            }
        });
        Ok(Simulator { addr, shared, stop: Some(stop_tx), task: Some(task) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The "Manage All" client.
    pub fn manage_credentials(&self) -> Credentials {
        lock(&self.shared).tokens.credentials(Scope::ManageAll)
    }

    /// The "Read All" client.
    pub fn read_credentials(&self) -> Credentials {
        lock(&self.shared).tokens.credentials(Scope::ReadAll)
    }

    /// A clone of the current tenant: the ground truth for tests.
    pub fn tenant(&self) -> Tenant {
        lock(&self.shared).tenant.clone()
    }

    /// Changes the tenant directly (e.g. between two syncs) and returns what `change`
    /// returns. Afterwards users are re-sorted by id, role and privilege assignments
    /// of users that no longer exist are dropped, [`User::role_ids`] is re-derived from
    /// [`Role::users`], and every user that was created, deleted or changed gets an
    /// event (13 / 17 / 14) with `created_at` = now, unless `change` already logged one
    /// for it (e.g. through [`Tenant::delete_user`] or [`Tenant::touch_user`]); a
    /// changed user whose `updated_at` was left alone gets `updated_at` = now.
    pub fn update_tenant<R>(&self, change: impl FnOnce(&mut Tenant) -> R) -> R {
        let mut st = lock(&self.shared);
        let tenant = &mut st.tenant;
        let before = tenant.users.clone();
        let events_before = tenant.events.len();
        let result = change(tenant);
        tenant.users.sort_by_key(|u| u.id);
        let ids: std::collections::BTreeSet<u64> = tenant.users.iter().map(|u| u.id).collect();
        for r in &mut tenant.roles {
            r.users.retain(|u| ids.contains(u));
            r.admins.retain(|u| ids.contains(u));
            r.mapped_users.retain(|u| ids.contains(u));
        }
        for p in &mut tenant.privileges {
            p.users.retain(|u| ids.contains(u));
        }
        tenant.sync_role_ids();
        let logged: std::collections::BTreeSet<u64> =
            tenant.events[events_before.min(tenant.events.len())..].iter().filter_map(|e| e.user_id).collect();
        let now = tenant::now_iso();
        let mut changes = Vec::new();
        let old: BTreeMap<u64, &User> = before.iter().map(|u| (u.id, u)).collect();
        for u in &mut tenant.users {
            match old.get(&u.id) {
                None => changes.push((events::EVENT_CREATED, u.id)),
                Some(prev) if *prev != u => {
                    if prev.updated_at == u.updated_at {
                        u.updated_at = now.clone();
                    }
                    changes.push((events::EVENT_UPDATED, u.id));
                }
                Some(_) => {}
            }
        }
        for u in &before {
            if !ids.contains(&u.id) && !logged.contains(&u.id) {
                tenant.push_event(Event {
                    event_type_id: events::EVENT_DELETED,
                    user_id: Some(u.id),
                    user_name: Some(format!("{} {}", u.firstname, u.lastname).into()),
                    actor_system: Some("API".to_string()),
                    ..Event::default()
                });
            }
        }
        for (kind, uid) in changes {
            if !logged.contains(&uid) {
                tenant.log_user_event(kind, uid, None);
            }
        }
        result
    }

    /// Requests per `"{METHOD} {route template}"`, e.g. `"GET /api/2/roles/{id}/users"`;
    /// unmatched routes count as `"{METHOD} <unmatched>"`. Every request is counted:
    /// token calls, errors and faults included.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        lock(&self.shared).counts.clone()
    }

    /// All requests since start or the last [`Simulator::reset_counts`].
    pub fn total_requests(&self) -> u64 {
        lock(&self.shared).total
    }

    /// The distinct `(since, until)` bounds (unix ms; `i64::MIN`/`MAX` when
    /// absent) that `GET /api/1/events` requests asked for since start or
    /// the last [`Simulator::reset_counts`], in order: the
    /// first is the widest window a sync read (its `until` is the sync's
    /// start by the client's clock).
    pub fn event_windows(&self) -> Vec<(i64, i64)> {
        lock(&self.shared).event_windows.iter().copied().collect()
    }

    /// Responses with status 429 (throttled) since the counters were reset.
    pub fn throttled_requests(&self) -> u64 {
        lock(&self.shared).throttled
    }

    /// Zeroes the request counters (and forgets the event windows asked for).
    pub fn reset_counts(&self) {
        let mut st = lock(&self.shared);
        st.counts.clear();
        st.total = 0;
        st.throttled = 0;
        st.event_windows.clear();
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared).faults.push(fault);
    }

    /// Replaces the v2 throttle settings (e.g. on for one sync, off for the next).
    pub fn set_v2_throttle(&self, throttle: V2Throttle) {
        lock(&self.shared).v2.configure(throttle);
    }

    /// v2 calls the throttle refused since start.
    pub fn v2_refused(&self) -> u64 {
        lock(&self.shared).v2.refused()
    }

    /// The most v2 calls that were in flight at once since start (throttled or not).
    pub fn v2_peak_in_flight(&self) -> usize {
        lock(&self.shared).v2.peak_in_flight()
    }

    /// Moves the simulator's clock forward by `by` (a simulated day between two
    /// syncs): the clock ([`clock::advance`], process-wide), and with it the `Date`
    /// header and the time of every later change; the v1 rate window (a window that
    /// started more than an hour before the new time has run out); the tokens (expired
    /// when `by` is at least their lifetime); and the app-login history, which now
    /// runs up to the new time ([`app_logins::LoginHistory::extend_to`]).
    pub fn advance_clock(&self, by: Duration) {
        clock::advance(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        let now = clock::now_millis();
        let mut st = lock(&self.shared);
        st.rate.advance(by);
        if by >= st.tokens.ttl() {
            st.tokens.revoke_all();
        }
        st.tenant.app_logins.extend_to(now);
    }

    /// Invalidates every issued token: the next API call with one gets 401.
    pub fn revoke_all_tokens(&self) {
        lock(&self.shared).tokens.revoke_all();
    }

    /// Deletes (or restores) the admin who created the API credentials: from
    /// now on a token request with valid credentials answers 500, and the
    /// tokens already issued stop working (the next API call gets 401).
    /// Sources: docs generate-tokens v2 (the 500); assumption (FIDELITY.md
    /// F-TOK-16): the issued tokens are revoked with their owner.
    pub fn set_credential_owner_deleted(&self, deleted: bool) {
        let mut st = lock(&self.shared);
        st.credential_owner_deleted = deleted;
        if deleted {
            st.tokens.revoke_all();
        }
    }

    /// Stops the server, waiting up to 5 s for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The full router with the [`gate`] middleware.
pub fn router(shared: Shared) -> Router {
    routes::routes()
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::no_route)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// The per-request middleware: counting, v2 throttle, latency, faults, auth, v1 rate
/// budget, scope;
/// and the `Date` header, from the simulator's [`clock`].
///
/// Assumption (FIDELITY.md F-GATE-1, F-GATE-2): this order; a 401 spends no budget.
pub async fn gate(state: State<Shared>, req: Request, next: Next) -> Response {
    let shared = state.0.clone();
    let mut resp = gate_inner(state, req, next).await;
    if resp.status() == axum::http::StatusCode::TOO_MANY_REQUESTS {
        lock(&shared).throttled += 1;
    }
    if let Ok(date) = axum::http::HeaderValue::from_str(&clock::http_date(clock::now_millis())) {
        resp.headers_mut().insert(axum::http::header::DATE, date);
    }
    resp
}

async fn gate_inner(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "<unmatched>".to_string());
    let (latency, fault, limit, _in_flight) = {
        let mut st = lock(&shared);
        // `mappings=async` runs of earlier writes happen now, after their responses.
        st.tenant.run_pending_mappings();
        *st.counts.entry(format!("{method} {template}")).or_insert(0) += 1;
        st.total += 1;
        // A v2 call holds its in-flight slot until this function returns.
        let in_flight = match rate_limit::Api::for_path(&path) {
            Some(rate_limit::Api::V2) => match st.v2.admit(Instant::now()) {
                Ok(slot) => Some(slot),
                Err(refusal) => return refusal,
            },
            _ => None,
        };
        let latency = match st.latency_max {
            Some(max) if max > st.latency => {
                let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
                Duration::from_micros(rand::random_range(micros(st.latency)..=micros(max)))
            }
            _ => st.latency,
        };
        (latency, st.faults.take(method.as_str(), &path), st.rate.limit(), in_flight)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut drop_response = false;
    if let Some(kind) = fault {
        match kind {
            FaultKind::Latency(d) => tokio::time::sleep(d).await,
            FaultKind::CommitThenDrop => drop_response = true,
            _ => {
                if let Some(resp) = faults::respond(&kind, &path, limit) {
                    return resp;
                }
            }
        }
    }
    let resp = serve(&shared, &method, &path, req, next).await;
    if drop_response {
        // The handler ran (and committed); the client never gets its answer.
        return faults::dropped_connection();
    }
    resp
}

/// The part of [`gate`] after faults: auth, rate limit, scope, the handler and the
/// rate headers.
async fn serve(shared: &Shared, method: &axum::http::Method, path: &str, req: Request, next: Next) -> Response {
    if !path.starts_with("/api/") {
        return next.run(req).await;
    }

    let now = Instant::now();
    let (scope, rate) = {
        let mut st = lock(shared);
        let scope = auth::bearer_token(req.headers()).and_then(|t| st.tokens.check(t, now));
        let Some(scope) = scope else {
            return errors::unauthorized(path);
        };
        // Only v1 calls spend the account budget (FIDELITY.md F-RATE-2).
        let rate = match rate_limit::Api::for_path(path) {
            Some(rate_limit::Api::V1) => st.rate.consume(now),
            _ => Ok(None),
        };
        (scope, rate)
    };
    let info = match rate {
        Ok(info) => info,
        Err(info) => {
            let mut resp = errors::rate_limited(path);
            info.apply(resp.headers_mut());
            return resp;
        }
    };
    let mut resp = if scope.allows(method, path) { next.run(req).await } else { errors::insufficient_permission(path) };
    if let Some(info) = info {
        info.apply(resp.headers_mut());
    }
    resp
}
