//! The fault matrix of issue 10: the built component, through the real
//! harness, against a hostile server on loopback (`host_test::hostile`).
//!
//! Every case asserts, through [`Run::check`]:
//! - no trap and no harness limit: every call returns the component's own
//!   answer and the instance stays usable;
//! - the typed error the case calls for (retryable where it is);
//! - a stated bound on requests;
//! - bounded memory: guest peak under [`GUEST_MEMORY_BOUND`], host RSS under
//!   [`HOST_RSS_BOUND`];
//! - records already returned neither lost nor duplicated (unique keys, and
//!   what a well-behaved part of the tenant returned is there);
//! - no canary secret (client id, secret, token, password) in any page,
//!   error, log line or cursor.
//!
//! The test config sets `request_timeout_secs = 2` and `call_budget_secs =
//! 6` and the harness's wall clock to 30 s, so a slow case ends in seconds
//! and a component that overran its own budget would be killed (and fail).

use std::sync::Arc;
use std::time::{Duration, Instant};

use host_test::harness::types::{
    AccountInfo, Action, ConnectorError, CredentialChange, ErrorKind, KindStatus, SyncPage, TransportKind,
};
use host_test::harness::{ConnectorInstance, Harness, HarnessConfig, Limits, SyncOptions};
use host_test::hostile::tenant::{self, user, ACCOUNT_ID, USER_IDS};
use host_test::hostile::{HostileServer, Misbehaviour, Reply, SeenRequest, CANARIES};
use serde_json::json;

/// Guest linear memory no case may pass (the limit is 256 MiB).
const GUEST_MEMORY_BOUND: usize = 160 * 1024 * 1024;
/// Host resident memory no case may pass (all cases of this binary share it).
const HOST_RSS_BOUND: u64 = 2 * 1024 * 1024 * 1024;
/// The component's per-call network budget in these tests.
const CALL_BUDGET_SECS: u64 = 6;
/// The longest a single call may take here: the budget plus CPU and slack,
/// far under the harness's 30 s wall clock.
const MAX_CALL: Duration = Duration::from_secs(CALL_BUDGET_SECS + 6);
/// Sync pages a case may take before it counts as a loop.
const MAX_PAGES: usize = 40;

fn misbehave(f: impl Fn(&SeenRequest, u64) -> Option<Reply> + Send + Sync + 'static) -> Misbehaviour {
    Arc::new(f)
}

/// Misbehave on one path (exact, without query) only.
fn on_path(path: &'static str, f: impl Fn(&SeenRequest, u64) -> Reply + Send + Sync + 'static) -> Misbehaviour {
    misbehave(move |request, seen| (request.path() == path).then(|| f(request, seen)))
}

fn host_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// One case: a hostile server, a harness allowed to reach only it, and what
/// the component said.
struct Run {
    server: HostileServer,
    harness: Harness,
    instance: Option<ConnectorInstance>,
    configure: Option<Result<AccountInfo, ConnectorError>>,
    pages: Vec<SyncPage>,
    error: Option<ConnectorError>,
    ended: bool,
    longest_call: Duration,
    outputs: Vec<String>,
}

impl Run {
    async fn new(misbehaviour: Misbehaviour) -> Run {
        let server = HostileServer::start(misbehaviour).await.expect("hostile server starts");
        let harness = Harness::new(HarnessConfig {
            component: host_test::harness::config::component_path(),
            allowed_hosts: vec![server.addr().to_string()],
            limits: Limits { wall_per_call: Duration::from_secs(30), ..Limits::default() },
            ..HarnessConfig::default()
        })
        .expect("the component loads (run ./dev build)");
        Run {
            server,
            harness,
            instance: None,
            configure: None,
            pages: Vec::new(),
            error: None,
            ended: false,
            longest_call: Duration::ZERO,
            outputs: Vec::new(),
        }
    }

    fn fields(&self) -> Vec<(String, String)> {
        vec![
            ("client_id".into(), CANARIES.client_id.into()),
            ("client_secret".into(), CANARIES.client_secret.into()),
            ("base_url".into(), self.server.base_url()),
            ("request_timeout_secs".into(), "2".into()),
            ("call_budget_secs".into(), CALL_BUDGET_SECS.to_string()),
        ]
    }

    fn timed(&mut self, started: Instant) {
        self.longest_call = self.longest_call.max(started.elapsed());
    }

    /// `configure` with the test fields (and `extra` replacing or adding).
    async fn configure_with(&mut self, extra: &[(&str, &str)]) -> Result<AccountInfo, ConnectorError> {
        let mut fields = self.fields();
        for (name, value) in extra {
            fields.retain(|(n, _)| n != name);
            fields.push((name.to_string(), value.to_string()));
        }
        let mut instance = self.harness.instantiate().await.expect("instantiate");
        let started = Instant::now();
        let result = instance.configure(&fields).await.expect("configure must not trap or hit a harness limit");
        self.timed(started);
        self.outputs.push(format!("{result:?}"));
        self.configure = Some(result.clone());
        self.instance = Some(instance);
        result
    }

    async fn configure(&mut self) -> Result<AccountInfo, ConnectorError> {
        self.configure_with(&[]).await
    }

    /// Configure, then sync `kinds` page by page until the end, an error, or
    /// [`MAX_PAGES`].
    async fn sync(&mut self, kinds: &[&str], options: SyncOptions) -> &mut Run {
        if self.configure().await.is_err() {
            return self;
        }
        let options = SyncOptions { kinds: kinds.iter().map(|k| k.to_string()).collect(), ..options };
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let instance = self.instance.as_mut().expect("configured");
            let started = Instant::now();
            let result = instance.sync_page(options.request(cursor.take())).await.expect("sync must not trap");
            self.timed(started);
            self.outputs.push(format!("{result:?}"));
            match result {
                Ok(page) => {
                    let next = page.next_cursor.clone();
                    self.pages.push(page);
                    match next {
                        Some(next) => cursor = Some(next),
                        None => {
                            self.ended = true;
                            break;
                        }
                    }
                }
                Err(error) => {
                    self.error = Some(error);
                    break;
                }
            }
        }
        self
    }

    async fn sync_users(&mut self) -> &mut Run {
        self.sync(&["users"], SyncOptions { max_items: 1, ..SyncOptions::default() }).await
    }

    fn entity_keys(&self) -> Vec<String> {
        self.pages.iter().flat_map(|p| p.entities.iter().map(|e| e.key.clone())).collect()
    }

    fn has_user(&self, id: u64) -> bool {
        self.entity_keys().iter().any(|k| *k == format!("onelogin_user:{id}"))
    }

    fn kind_status(&self, kind: &str) -> Option<KindStatus> {
        let report = &self.pages.last()?.report;
        report.iter().find(|r| r.kind == kind).map(|r| r.status.clone())
    }

    /// The error a kind failed with, if it failed.
    fn kind_error(&self, kind: &str) -> Option<ConnectorError> {
        match self.kind_status(kind)? {
            KindStatus::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// The kind's error, or the sync's own error: how this case ended.
    fn failure(&self, kind: &str) -> ConnectorError {
        self.kind_error(kind)
            .or_else(|| self.error.clone())
            .or_else(|| self.configure.clone().and_then(Result::err))
            .unwrap_or_else(|| panic!("expected `{kind}` to fail; report: {:?}", self.kind_status(kind)))
    }

    /// The invariants every case holds; `max_requests` bounds the server's count.
    fn check(&self, max_requests: u64) {
        let requests = self.server.total();
        assert!(requests <= max_requests, "{requests} requests, bound {max_requests}: {:?}", self.server.per_path());
        if let Some(instance) = &self.instance {
            assert!(instance.poisoned().is_none(), "instance dropped: {:?}", instance.poisoned());
            let peak = instance.peak_memory_bytes();
            assert!(peak <= GUEST_MEMORY_BOUND, "guest peak memory {} MiB", peak >> 20);
        }
        let rss = host_rss();
        assert!(rss <= HOST_RSS_BOUND, "host RSS {} MiB", rss >> 20);
        assert!(self.longest_call <= MAX_CALL, "a call took {:?}", self.longest_call);
        let keys = self.entity_keys();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "duplicate entity keys: {keys:?}");
        if !self.pages.is_empty() {
            assert!(keys.contains(&format!("onelogin_account:{ACCOUNT_ID}")), "the first page's account is kept");
        }
        let log: Vec<String> = self.harness.component_log().lines().into_iter().map(|l| l.message).collect();
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", CANARIES.client_id, CANARIES.client_secret),
        );
        for text in self.outputs.iter().chain(log.iter()) {
            assert!(!text.contains(&basic), "the Basic credentials leaked: {text}");
            for canary in [CANARIES.client_id, CANARIES.client_secret, CANARIES.token, CANARIES.password] {
                assert!(!text.contains(canary), "a secret leaked: {text}");
            }
            assert!(!text.contains("canary"), "a secret leaked: {text}");
        }
        assert!(self.harness.request_log().refused().is_empty(), "{:?}", self.harness.request_log().refused());
    }

    /// Every user of the tenant came out exactly once.
    fn check_all_users(&self) {
        for id in USER_IDS {
            assert!(self.has_user(id), "user {id} missing: {:?}", self.entity_keys());
        }
    }
}

fn assert_kind(error: &ConnectorError, kind: ErrorKind, retryable: bool) {
    assert_eq!(error.kind, kind, "{error:?}");
    assert_eq!(error.retryable, retryable, "{error:?}");
}

fn date_reply(reply: Reply, date: Option<&str>) -> Reply {
    match date {
        Some(date) => reply.with_header("date", date),
        None => reply.without_header("date"),
    }
}

// ---------------------------------------------------------------- config

#[tokio::test(flavor = "multi_thread")]
async fn row17_base_url_lookalikes_are_not_loopback_and_bad_ipv6_is_refused() {
    let mut run = Run::new(misbehave(|_, _| None)).await;
    for bad in ["http://127.1.1.io", "http://127.0.0.evil", "http://127.a.b.c", "https://[zzz]", "http://[::1]x"] {
        let error = run.configure_with(&[("base_url", bad)]).await.expect_err(bad);
        assert_kind(&error, ErrorKind::InvalidConfig("base_url".into()), false);
    }
    run.check(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn row8_oversized_config_values_are_invalid_config_naming_the_field() {
    let mut run = Run::new(misbehave(|_, _| None)).await;
    let huge = format!("canary{}", "x".repeat(100 * 1024));
    for field in ["client_id", "client_secret", "base_url", "subdomain", "event_lookback_days"] {
        let mut extra = vec![(field, huge.as_str())];
        if field == "subdomain" {
            extra.push(("base_url", ""));
        }
        let error = run.configure_with(&extra).await.expect_err(field);
        assert_kind(&error, ErrorKind::InvalidConfig(field.into()), false);
        assert!(error.message.len() < 300, "{}", error.message);
    }
    run.check(0);
}

// ---------------------------------------------------------------- token

#[tokio::test(flavor = "multi_thread")]
async fn row8_a_100_kb_access_token_is_a_typed_error_not_a_trap() {
    let mut run = Run::new(on_path("/auth/oauth2/v2/token", |_, _| {
        Reply::json(200, &json!({"access_token": "t".repeat(100 * 1024), "expires_in": 36000, "account_id": 1}))
    }))
    .await;
    let error = run.configure().await.expect_err("unusable token");
    assert_kind(&error, ErrorKind::UnexpectedResponse(200), false);
    run.check(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn row7_token_expires_in_u64_max_is_clamped_and_the_sync_completes() {
    let mut run = Run::new(on_path("/auth/oauth2/v2/token", |_, _| {
        Reply::text(
            200,
            "application/json",
            format!(
                r#"{{"access_token":"{}","expires_in":18446744073709551615,"account_id":{ACCOUNT_ID}}}"#,
                CANARIES.token
            ),
        )
        .with_header("date", tenant::DATE)
    }))
    .await;
    run.sync_users().await;
    assert!(run.ended, "{:?}", run.error);
    run.check_all_users();
    // token, probe, custom attributes, two users pages: the token is reused.
    run.check(5);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_responses_with_missing_or_absurd_fields_are_typed() {
    let bodies = [
        json!({}),
        json!({"access_token": null}),
        json!({"access_token": 12345}),
        json!({"access_token": "a\r\nx-injected: 1"}),
        json!({"access_token": "ok", "account_id": "9".repeat(5000)}),
        json!([1, 2, 3]),
    ];
    for body in bodies {
        let reply = Reply::json(200, &body);
        let mut run = Run::new(on_path("/auth/oauth2/v2/token", move |_, _| reply.clone())).await;
        let error = run.configure().await.expect_err("broken token response");
        assert_kind(&error, ErrorKind::UnexpectedResponse(200), false);
        run.check(1);
    }
    // Odd but usable: no expires_in, negative or string lifetimes, an object account id.
    for body in [
        json!({"access_token": CANARIES.token}),
        json!({"access_token": CANARIES.token, "expires_in": -5, "account_id": {"a": 1}}),
        json!({"access_token": CANARIES.token, "expires_in": "soon", "account_id": null}),
    ] {
        let reply = Reply::json(200, &body);
        let mut run = Run::new(on_path("/auth/oauth2/v2/token", move |_, _| reply.clone())).await;
        run.configure().await.expect("a usable token");
        run.check(2);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_forever_ends_in_authentication_failed_after_one_renewal_per_request() {
    let mut run = Run::new(misbehave(|request, _| {
        request.path().starts_with("/api/").then(|| {
            Reply::json(401, &json!({"message": "Unauthorized", "statusCode": 401, "name": "UnauthorizedError"}))
        })
    }))
    .await;
    let error = run.configure().await.expect_err("401 forever");
    assert_kind(&error, ErrorKind::AuthenticationFailed, false);
    // token; connectors, token, connectors; users, token, users.
    run.check(7);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_endpoint_answering_500_or_401_is_typed() {
    // A 500 is tried three times, then is the documented answer for a
    // credential whose owner was deleted: a credential problem, not retryable.
    for (status, requests) in [(500, 3), (401, 1)] {
        let mut run =
            Run::new(on_path("/auth/oauth2/v2/token", move |_, _| Reply::text(status, "text/html", "<html>no</html>")))
                .await;
        let error = run.configure().await.expect_err("token refused");
        assert_kind(&error, ErrorKind::AuthenticationFailed, false);
        assert_eq!(run.server.total(), requests);
        run.check(requests);
    }
}

// ---------------------------------------------------------------- rate limits

fn users_429(reset: Option<&'static str>) -> Misbehaviour {
    on_path("/api/2/users", move |_, _| {
        let reply = Reply::json(429, &json!({"message": "slow down"}));
        match reset {
            Some(reset) => reply.with_header("x-ratelimit-reset", reset),
            None => reply,
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn row6_a_429_with_reset_u64_max_is_rate_limited_for_at_most_an_hour() {
    let mut run = Run::new(users_429(Some("18446744073709551615"))).await;
    run.sync_users().await;
    let error = run.error.clone().expect("rate limited");
    assert_kind(&error, ErrorKind::RateLimited(3600), true);
    // No hammering: one users request per page call.
    assert!(run.server.per_path().get("/api/2/users").copied().unwrap_or(0) <= 2);
    run.check(6);
}

#[tokio::test(flavor = "multi_thread")]
async fn row6_remaining_zero_with_an_absurd_reset_never_overflows_the_clock() {
    for reset in ["18446744073709551615", "99999999999999999999999999999999"] {
        let mut run = Run::new(misbehave(move |request, _| {
            (request.path() == "/api/2/users/custom_attributes").then(|| {
                Reply::json(200, &json!([]))
                    .with_header("x-ratelimit-remaining", "0")
                    .with_header("x-ratelimit-reset", reset)
                    .with_header("date", tenant::DATE)
            })
        }))
        .await;
        run.sync(&["users"], SyncOptions { max_items: 1, max_wait_ms: 1000, ..SyncOptions::default() }).await;
        let error = run.error.clone().expect("the budget is spent for an hour");
        assert_kind(&error, ErrorKind::RateLimited(3600), true);
        run.check(4);
    }
}

/// A v2 429 without a usable reset or `Retry-After` is backed off from 1 s
/// (jittered): the hint is 1 or 2 s, never a made-up hour.
#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_a_missing_or_malformed_reset_backs_off_from_a_second() {
    for reset in [None, Some("-1"), Some("1.5"), Some("soon"), Some("")] {
        let mut run = Run::new(users_429(reset)).await;
        run.sync_users().await;
        let error = run.error.clone().expect("rate limited");
        assert!(matches!(error.kind, ErrorKind::RateLimited(1 | 2)), "{reset:?}: {error:?}");
        assert!(error.retryable);
        run.check(6);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_waits_never_outlast_the_call_budget() {
    // The host allows 10 minutes of waiting; the call's budget is 6 s.
    let mut run = Run::new(users_429(Some("3"))).await;
    run.sync(&["users"], SyncOptions { max_items: 1, max_wait_ms: 600_000, ..SyncOptions::default() }).await;
    let error = run.error.clone().expect("still limited after the waits that fit");
    assert!(matches!(error.kind, ErrorKind::RateLimited(_)), "{error:?}");
    run.check(12);
}

// ---------------------------------------------------------------- dates

fn all_dated(date: Option<&'static str>) -> Misbehaviour {
    misbehave(move |request, _| {
        let addr = "127.0.0.1:1".parse().expect("addr");
        Some(date_reply(tenant::answer(request, addr), date))
    })
}

fn events_requests_are_sane(run: &Run) {
    for request in run.server.requests().iter().filter(|r| r.path() == "/api/1/events") {
        for bound in ["since", "until"] {
            let value = request.query(bound).unwrap_or("");
            assert!(value.starts_with("20"), "{bound}={value} in {}", request.target);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn row16_a_date_in_year_i64_max_is_ignored_not_wrapped() {
    let mut run = Run::new(all_dated(Some("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"))).await;
    run.sync(&["users", "events"], SyncOptions::default()).await;
    assert!(run.ended, "{:?}", run.error);
    assert_eq!(run.pages.last().and_then(|p| p.checkpoint.clone()), None, "no checkpoint from a broken clock");
    events_requests_are_sane(&run);
    run.check_all_users();
    run.check(10);
}

#[tokio::test(flavor = "multi_thread")]
async fn dates_far_in_the_past_or_missing_give_no_checkpoint() {
    for date in [Some("Mon, 01 Jan 1900 00:00:00 GMT"), Some("Fri, 31 Dec 9999 23:59:59 GMT"), Some("yesterday"), None]
    {
        let mut run = Run::new(all_dated(date)).await;
        run.sync(&["users", "events"], SyncOptions::default()).await;
        assert!(run.ended, "{date:?}: {:?}", run.error);
        assert_eq!(run.pages.last().and_then(|p| p.checkpoint.clone()), None, "{date:?}");
        events_requests_are_sane(&run);
        run.check_all_users();
        run.check(10);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sane_date_gives_a_checkpoint_and_a_sane_event_window() {
    let mut run = Run::new(all_dated(Some(tenant::DATE))).await;
    run.sync(&["users", "events"], SyncOptions::default()).await;
    assert!(run.ended, "{:?}", run.error);
    assert!(run.pages.last().and_then(|p| p.checkpoint.clone()).is_some(), "the control case");
    assert!(run.server.per_path().contains_key("/api/1/events"));
    events_requests_are_sane(&run);
    run.check(10);
}

// ---------------------------------------------------------------- bodies

fn users_json(bytes: usize) -> Vec<u8> {
    let one = user(1).to_string();
    let count = bytes / (one.len() + 1) + 1;
    let mut body = Vec::with_capacity(bytes + one.len() * 2);
    body.push(b'[');
    for i in 0..count {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(one.as_bytes());
    }
    body.push(b']');
    body
}

/// The users page fails with `kind` (or the sync with it), the account and
/// service entities of the first page are kept, and no user is invented.
fn users_failed_with(run: &Run, kind: ErrorKind, retryable: bool) {
    let error = run.failure("users");
    assert_kind(&error, kind, retryable);
    assert!(!run.has_user(1) || run.entity_keys().iter().filter(|k| k.starts_with("onelogin_user:")).count() <= 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_not_followed_and_is_reported_as_the_status_it_is() {
    // The WIT says hosts do not follow redirects; the component does not either.
    let mut run = Run::new(on_path("/api/2/users", |_, _| Reply::Full {
        status: 302,
        headers: vec![("location".into(), b"/api/2/elsewhere".to_vec())],
        body: Vec::new(),
    }))
    .await;
    run.sync_users().await;
    users_failed_with(&run, ErrorKind::Upstream(302), false);
    assert!(!run.server.per_path().contains_key("/api/2/elsewhere"), "{:?}", run.server.per_path());
    run.check(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn row9_a_25_mb_body_is_refused_within_the_memory_plan() {
    let body = Arc::new(users_json(25 * 1024 * 1024));
    let mut run = Run::new(on_path("/api/2/users", move |_, _| Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: body.to_vec(),
    }))
    .await;
    run.sync_users().await;
    users_failed_with(&run, ErrorKind::Transport(TransportKind::Protocol), false);
    let peak = run.instance.as_ref().map_or(0, |i| i.peak_memory_bytes());
    assert!(peak < 48 * 1024 * 1024, "peak {} MiB", peak >> 20);
    run.check(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn row9_eight_concurrent_10_mb_per_user_bodies_fit_the_memory_plan() {
    let devices = Arc::new(users_json(10 * 1024 * 1024));
    let mut run = Run::new(misbehave(move |request, _| {
        request.path().starts_with("/api/2/mfa/users/").then(|| Reply::Full {
            status: 200,
            headers: vec![("content-type".into(), b"application/json".to_vec())],
            body: devices.to_vec(),
        })
    }))
    .await;
    run.sync(&["users", "mfa_devices"], SyncOptions { concurrency: 8, ..SyncOptions::default() }).await;
    assert!(run.ended, "{:?}", run.error);
    let error = run.kind_error("mfa_devices").expect("mfa devices failed");
    assert_kind(&error, ErrorKind::Transport(TransportKind::Protocol), false);
    run.check_all_users();
    let peak = run.instance.as_ref().map_or(0, |i| i.peak_memory_bytes());
    assert!(peak < 64 * 1024 * 1024, "peak {} MiB", peak >> 20);
    run.check(4 + 5 * 3);
}

/// A user's MFA list of one device and 185,000 numbers: about 12 MiB once
/// parsed, so one fits the 32 MiB memory plan, two fit together, and five (a
/// step's window) do not.
fn heavy_devices(request: &SeenRequest) -> Option<Reply> {
    let user = request.path().strip_prefix("/api/2/mfa/users/")?.strip_suffix("/devices")?;
    let filler = "0,".repeat(185_000);
    let body = format!(r#"[{filler}{{"device_id":"{user}00","type_display_name":"Key {user}"}}]"#);
    Some(Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: body.into_bytes(),
    })
}

/// Every user and device came out once, the steps were made smaller, and
/// each user's list was read at most `reads` times in all.
fn heavy_devices_all_read(run: &Run, reads: u64) {
    assert!(run.ended, "{:?}", run.error);
    assert_eq!(run.kind_error("mfa_devices"), None);
    assert_eq!(run.kind_status("mfa_devices"), Some(KindStatus::Complete));
    run.check_all_users();
    let keys = run.entity_keys();
    for id in USER_IDS {
        assert!(keys.contains(&format!("mfa_device:{id}00")), "user {id}'s device missing: {keys:?}");
    }
    let log = run.harness.component_log().lines().into_iter().map(|l| l.message).collect::<Vec<_>>().join("\n");
    assert!(log.contains("did not fit in memory beside the others"), "no step was made smaller:\n{log}");
    let per_path = run.server.per_path();
    let devices = per_path.iter().filter(|(path, _)| path.starts_with("/api/2/mfa/")).map(|(_, n)| n).sum::<u64>();
    assert!((5..=reads).contains(&devices), "{devices} device list reads: {per_path:?}");
    let peak = run.instance.as_ref().map_or(0, |i| i.peak_memory_bytes());
    assert!(peak < 96 * 1024 * 1024, "peak {} MiB", peak >> 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn per_user_lists_too_large_together_are_read_in_smaller_steps_and_none_is_lost() {
    let mut run = Run::new(misbehave(|request, _| heavy_devices(request))).await;
    run.sync(&["users", "mfa_devices"], SyncOptions { concurrency: 8, ..SyncOptions::default() }).await;
    // Each deferred user is read again once per smaller step at most.
    heavy_devices_all_read(&run, 12);
    run.check(4 + 12 + 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incremental_sync_reads_changed_users_too_large_together_in_smaller_steps() {
    // The first sync reads users alone; the second starts a day later, lists
    // no user as updated, and its events name every user.
    let later = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let second = later.clone();
    let mut run = Run::new(misbehave(move |request, _| {
        let addr = "127.0.0.1:1".parse().expect("addr");
        if !second.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let events = USER_IDS.iter().map(
            |id| json!({"id": 900 + id, "user_id": id, "event_type_id": 13, "created_at": "2026-11-24T06:00:00Z"}),
        );
        let reply = match request.path() {
            "/api/2/users" if request.query("updated_since").is_some() => Reply::json(200, &json!([])),
            "/api/1/events" => Reply::json(200, &tenant::v1(events.collect(), None)),
            _ => heavy_devices(request).unwrap_or_else(|| tenant::answer(request, addr)),
        };
        Some(date_reply(reply, Some("Tue, 24 Nov 2026 12:00:00 GMT")))
    }))
    .await;
    run.sync(&["users"], SyncOptions::default()).await;
    let checkpoint = run.pages.last().and_then(|p| p.checkpoint.clone()).expect("a checkpoint");
    run.pages.clear();
    later.store(true, std::sync::atomic::Ordering::SeqCst);
    let incremental = SyncOptions { concurrency: 8, checkpoint: Some(checkpoint), ..SyncOptions::default() };
    run.sync(&["users", "mfa_devices", "events"], incremental).await;
    heavy_devices_all_read(&run, 12);
    run.check(60);
}

#[tokio::test(flavor = "multi_thread")]
async fn tiny_objects_under_the_byte_cap_are_refused_before_parsing() {
    // 7 MB of `{"a":0}`: under the 8 MiB cap, but ~600 MB as a value tree.
    let body = Arc::new(format!("[{}{{\"a\":0}}]", "{\"a\":0},".repeat(7 * 1024 * 1024 / 8)).into_bytes());
    let mut run = Run::new(on_path("/api/2/users", move |_, _| Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: body.to_vec(),
    }))
    .await;
    run.sync_users().await;
    users_failed_with(&run, ErrorKind::UnexpectedResponse(200), false);
    let peak = run.instance.as_ref().map_or(0, |i| i.peak_memory_bytes());
    assert!(peak < 48 * 1024 * 1024, "peak {} MiB", peak >> 20);
    run.check(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_never_ending_chunked_body_is_cut_at_the_cap() {
    let mut run = Run::new(on_path("/api/2/users", |_, _| Reply::EndlessChunked)).await;
    run.sync_users().await;
    let error = run.failure("users");
    assert_eq!(error.kind, ErrorKind::Transport(TransportKind::Protocol), "{error:?}");
    run.check(10);
}

#[tokio::test(flavor = "multi_thread")]
async fn html_empty_and_non_array_bodies_are_typed_upstream_errors() {
    let replies = [
        Reply::text(200, "text/html", "<html><body>maintenance</body></html>"),
        Reply::text(200, "application/json", ""),
        Reply::json(200, &json!({"message": "not a list"})),
        Reply::json(200, &json!(null)),
    ];
    for reply in replies {
        let mut run = Run::new(on_path("/api/2/users", move |_, _| reply.clone())).await;
        run.sync_users().await;
        users_failed_with(&run, ErrorKind::UnexpectedResponse(200), false);
        run.check(4);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_nested_100000_deep_is_refused_without_a_stack_overflow() {
    let body = Arc::new([vec![b'['; 100_000], vec![b']'; 100_000]].concat());
    let mut run = Run::new(on_path("/api/2/users", move |_, _| Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: body.to_vec(),
    }))
    .await;
    run.sync_users().await;
    users_failed_with(&run, ErrorKind::UnexpectedResponse(200), false);
    run.check(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn absurd_ids_wrong_types_and_nulls_never_trap() {
    let pages = [
        r#"[{"id":1e400},{"id":1180591620717411303424},{"id":-5},{"id":1.5},{"id":"abc"},{"id":null}]"#.to_string(),
        r#"[1,"x",null,[],true,{"id":{"a":1}},{"id":[2]}]"#.to_string(),
        r#"[{"id":null,"email":null,"username":null,"firstname":null,"lastname":null,"status":null,"state":null,"role_ids":null,"group_id":null,"custom_attributes":null,"created_at":null,"updated_at":null}]"#.to_string(),
        r#"[{"id":7,"email":7,"username":[1],"status":"active","state":{"x":1},"role_ids":"7","group_id":"five","custom_attributes":[1],"created_at":12,"updated_at":true}]"#.to_string(),
    ];
    for body in pages {
        let mut run = Run::new(on_path("/api/2/users", move |_, _| {
            Reply::text(200, "application/json", body.clone()).with_header("date", tenant::DATE)
        }))
        .await;
        run.sync_users().await;
        // Either the users are skipped or mapped, or the kind fails typed; never a trap.
        // (`1e400` is not a number serde_json accepts: the body is not JSON.)
        if let Some(error) = run.kind_error("users") {
            assert!(matches!(error.kind, ErrorKind::UnexpectedResponse(200)), "{error:?}");
        }
        run.check(4);
    }
}

// ---------------------------------------------------------------- slow servers

#[tokio::test(flavor = "multi_thread")]
async fn row10_headers_that_never_come_end_in_a_retryable_timeout_within_the_call_budget() {
    let mut run = Run::new(on_path("/api/2/users", |_, _| Reply::Silent)).await;
    run.sync_users().await;
    let error = run.failure("users");
    assert_kind(&error, ErrorKind::Transport(TransportKind::Timeout), true);
    assert!(run.longest_call >= Duration::from_secs(2), "the request timeout was waited out");
    // Three attempts per call at most, and at most two calls reach users.
    assert!(run.server.per_path().get("/api/2/users").copied().unwrap_or(0) <= 6);
    run.check(10);
}

#[tokio::test(flavor = "multi_thread")]
async fn row10_a_one_byte_per_second_drip_ends_in_a_retryable_timeout() {
    let mut run = Run::new(on_path("/api/2/users", |_, _| Reply::Drip {
        status: 200,
        body: tenant::users_page_1().to_string().into_bytes(),
        every: Duration::from_secs(1),
    }))
    .await;
    run.sync_users().await;
    let error = run.failure("users");
    assert_kind(&error, ErrorKind::Transport(TransportKind::Timeout), true);
    assert!(run.server.per_path().get("/api/2/users").copied().unwrap_or(0) <= 6);
    run.check(10);
}

#[tokio::test(flavor = "multi_thread")]
async fn row10_a_page_that_hangs_keeps_what_was_returned_and_resumes_without_loss_or_duplicates() {
    // The second users page hangs for its first three requests, then answers.
    let mut run = Run::new(on_path("/api/2/users", |request, seen| {
        let addr = "127.0.0.1:1".parse().expect("addr");
        match (request.query("cursor"), seen) {
            (Some(_), 1..=3) => Reply::Silent,
            _ => tenant::answer(request, addr),
        }
    }))
    .await;
    run.configure().await.expect("configure");
    let options = SyncOptions { kinds: vec!["users".into()], max_items: 1, ..SyncOptions::default() };
    let (mut cursor, mut retries, mut ended) = (None, 0, false);
    for _ in 0..MAX_PAGES {
        let instance = run.instance.as_mut().expect("configured");
        let started = Instant::now();
        let result = instance.sync_page(options.request(cursor.clone())).await.expect("sync must not trap");
        run.longest_call = run.longest_call.max(started.elapsed());
        run.outputs.push(format!("{result:?}"));
        match result {
            Ok(page) => {
                cursor = page.next_cursor.clone();
                run.pages.push(page);
                if cursor.is_none() {
                    ended = true;
                    break;
                }
            }
            Err(error) => {
                // What a host does with a retryable error: call again, same cursor.
                assert_kind(&error, ErrorKind::Transport(TransportKind::Timeout), true);
                retries += 1;
                assert!(retries <= 3, "still failing after {retries} calls");
            }
        }
    }
    assert!(ended && retries >= 1, "ended {ended}, retries {retries}");
    run.check_all_users();
    run.check(4 + 3 + 1 + 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn row10_a_provision_whose_reads_hang_ends_in_a_retryable_timeout_in_time() {
    let mut run = Run::new(on_path("/api/2/users/1", |_, _| Reply::Silent)).await;
    run.configure().await.expect("configure");
    // A later call, after the configure's budget is over.
    tokio::time::sleep(Duration::from_secs(CALL_BUDGET_SECS + 1)).await;
    let instance = run.instance.as_mut().expect("configured");
    let action = Action::SetCredential(CredentialChange {
        principal: "onelogin_user:1".into(),
        password: CANARIES.password.into(),
        validate_policy: true,
    });
    let started = Instant::now();
    let result = instance.provision(action).await.expect("no trap");
    run.longest_call = run.longest_call.max(started.elapsed());
    run.outputs.push(format!("{result:?}"));
    assert_kind(&result.expect_err("the read hangs"), ErrorKind::Transport(TransportKind::Timeout), true);
    assert!(run.server.per_path().get("/api/2/users/1").copied().unwrap_or(0) <= 3);
    assert!(!run.server.per_path().keys().any(|p| p.contains("set_password")), "nothing was written");
    run.check(2 + 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_token_endpoint_fails_configure_retryably_in_time() {
    let mut run = Run::new(on_path("/auth/oauth2/v2/token", |_, _| Reply::Silent)).await;
    let error = run.configure().await.expect_err("no token");
    assert_kind(&error, ErrorKind::Transport(TransportKind::Timeout), true);
    run.check(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_mid_body_is_retried_then_typed_retryable() {
    let mut run = Run::new(on_path("/api/2/users", |_, _| Reply::ResetMidBody { announced: 10_000, sent: 100 })).await;
    run.sync_users().await;
    let error = run.failure("users");
    assert_kind(&error, ErrorKind::Transport(TransportKind::Connection), true);
    assert!(run.server.per_path().get("/api/2/users").copied().unwrap_or(0) <= 6);
    run.check(10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_1_mb_header_and_5000_headers_are_transport_errors() {
    let big_header = [
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-big: ".to_vec(),
        vec![b'a'; 1024 * 1024],
        b"\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]".to_vec(),
    ]
    .concat();
    let mut many = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n".to_vec();
    for i in 0..5000 {
        many.extend_from_slice(format!("x-h{i}: {i}\r\n").as_bytes());
    }
    many.extend_from_slice(b"content-length: 2\r\nconnection: close\r\n\r\n[]");
    for raw in [big_header, many] {
        let mut run = Run::new(on_path("/api/2/users", move |_, _| Reply::Raw(raw.clone()))).await;
        run.sync_users().await;
        let error = run.failure("users");
        assert_eq!(error.kind, ErrorKind::Transport(TransportKind::Protocol), "{error:?}");
        run.check(10);
    }
}

// ---------------------------------------------------------------- server errors

#[tokio::test(flavor = "multi_thread")]
async fn five_hundreds_forever_are_retried_a_bounded_number_of_times() {
    for status in [500u16, 503] {
        let mut run =
            Run::new(on_path("/api/2/users", move |_, _| Reply::text(status, "text/html", "<html>down</html>"))).await;
        run.sync_users().await;
        let error = run.failure("users");
        assert_kind(&error, ErrorKind::Upstream(status), true);
        // Three attempts per call, at most two calls.
        assert!(run.server.per_path().get("/api/2/users").copied().unwrap_or(0) <= 6);
        run.check(10);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_another_port_is_not_followed() {
    let mut elsewhere = HostileServer::start(misbehave(|_, _| None)).await.unwrap();
    let location = format!("{}/api/2/users", elsewhere.base_url());
    let mut run = Run::new(on_path("/api/2/users", move |_, _| {
        Reply::text(302, "text/plain", "moved").with_header("location", location.clone())
    }))
    .await;
    run.sync_users().await;
    users_failed_with(&run, ErrorKind::Upstream(302), false);
    assert_eq!(elsewhere.total(), 0, "the other port was never asked");
    elsewhere.stop();
    run.check(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn link_and_next_link_pointing_elsewhere_are_ignored() {
    let elsewhere = HostileServer::start(misbehave(|_, _| None)).await.unwrap();
    let other = elsewhere.base_url();
    let mut run = Run::new(misbehave(move |request, _| {
        let addr = "127.0.0.1:1".parse().expect("addr");
        let normal = tenant::answer(request, addr);
        match request.path() {
            "/api/2/users" => Some(normal.with_header(
                "link",
                format!(r#"<{other}/api/2/users?cursor=evil>; rel="next", <http://evil.example/x>; rel="last""#),
            )),
            "/api/1/groups" => Some(
                Reply::json(
                    200,
                    &json!({"status": {"error": false, "code": 200}, "pagination": {
                    "after_cursor": null, "next_link": format!("{other}/api/1/groups?after_cursor=evil"),
                    "previous_link": "http://evil.example/"}, "data": [{"id": 5, "name": "g"}]}),
                )
                .with_header("date", tenant::DATE),
            ),
            _ => None,
        }
    }))
    .await;
    run.sync(&["users", "groups"], SyncOptions::default()).await;
    assert!(run.ended, "{:?}", run.error);
    run.check_all_users();
    assert_eq!(elsewhere.total(), 0);
    run.check(8);
}

// ---------------------------------------------------------------- secrets

#[tokio::test(flavor = "multi_thread")]
async fn row11_credentials_echoed_in_error_bodies_are_redacted() {
    let mut run = Run::new(misbehave(|request, _| {
        let echo = format!(
            "you sent {} with {} as {}:{} (basic {})",
            request.header("authorization").unwrap_or(""),
            CANARIES.token,
            CANARIES.client_id,
            CANARIES.client_secret,
            request.target,
        );
        match request.path() {
            "/api/2/users" => {
                Some(Reply::json(400, &json!({"message": echo, "statusCode": 400, "name": "BadRequestError"})))
            }
            "/api/2/roles" => Some(Reply::json(
                200,
                &json!({"status": {"error": true, "code": 403, "type": "forbidden", "message": echo}}),
            )),
            "/api/1/groups" => {
                Some(Reply::json(401, &json!({"status": {"error": true, "code": 401, "message": echo}})))
            }
            _ => None,
        }
    }))
    .await;
    run.sync(&["users", "roles", "groups"], SyncOptions::default()).await;
    let error = run.failure("users");
    assert_kind(&error, ErrorKind::Upstream(400), false);
    assert!(error.message.contains("<redacted>"), "{}", error.message);
    run.check(16);
}

#[tokio::test(flavor = "multi_thread")]
async fn row11_a_token_endpoint_echoing_the_basic_credentials_is_redacted() {
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", CANARIES.client_id, CANARIES.client_secret));
    let mut run = Run::new(on_path("/auth/oauth2/v2/token", |request, _| {
        let echo = format!("bad grant for {}", request.header("authorization").unwrap_or(""));
        Reply::json(422, &json!({"message": echo, "statusCode": 422, "name": "UnprocessableEntityError"}))
    }))
    .await;
    let error = run.configure().await.expect_err("refused");
    assert_kind(&error, ErrorKind::Upstream(422), false);
    assert!(!error.message.contains(&basic), "{}", error.message);
    assert!(error.message.contains("<redacted>"), "{}", error.message);
    assert!(run.server.requests()[0].header("authorization").is_some_and(|h| h.contains(&basic)), "the control");
    run.check(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn row11_a_password_echoed_by_set_credential_is_redacted() {
    for status in [422u16, 200] {
        let mut run = Run::new(misbehave(move |request, _| {
            request.path().starts_with("/api/1/users/set_password_clear_text/").then(|| {
                let body = String::from_utf8_lossy(&request.body).into_owned();
                let message = format!("password rejected: {body} / {}", CANARIES.password);
                Reply::json(status, &json!({"status": {"error": true, "code": 422, "type": "bad", "message": message}}))
            })
        }))
        .await;
        run.configure().await.expect("configure");
        let instance = run.instance.as_mut().expect("configured");
        let action = Action::SetCredential(CredentialChange {
            principal: "onelogin_user:1".into(),
            password: CANARIES.password.into(),
            validate_policy: true,
        });
        let started = Instant::now();
        let result = instance.provision(action).await.expect("provision must not trap");
        run.longest_call = run.longest_call.max(started.elapsed());
        run.outputs.push(format!("{result:?}"));
        let error = result.expect_err("the server refused");
        assert!(matches!(error.kind, ErrorKind::InvalidInput(_) | ErrorKind::Upstream(_)), "{error:?}");
        assert!(run.server.requests().iter().any(|r| String::from_utf8_lossy(&r.body).contains(CANARIES.password)));
        run.check(5);
    }
}

// ------------------------------------------- rows 1-4, 12, 14, 15 (the lead's)

/// Pages until the end or [`MAX_PAGES`]; the sync must end, by completing
/// or by a typed error, within `max_requests`.
async fn must_end(misbehaviour: Misbehaviour, kinds: &[&str], max_requests: u64) -> Run {
    must_end_paging(misbehaviour, kinds, 50, max_requests).await
}

/// [`must_end`] with pages of about `max_items` records.
async fn must_end_paging(misbehaviour: Misbehaviour, kinds: &[&str], max_items: u32, max_requests: u64) -> Run {
    let mut run = Run::new(misbehaviour).await;
    run.sync(kinds, SyncOptions { max_items, ..SyncOptions::default() }).await;
    assert!(run.ended || run.error.is_some(), "the sync never ended: {} pages", run.pages.len());
    run.check(max_requests);
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn row1_the_same_after_cursor_forever_ends_without_repeating_records() {
    must_end(
        on_path("/api/2/users", |_, _| Reply::json(200, &tenant::users_page_1()).with_header("after-cursor", "same")),
        &["users"],
        50,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn row2_a_new_after_cursor_forever_ends_within_a_bound() {
    // Large pages: the bound that matters is requests, not the host's pages.
    // No Total-Count: the guard's cap for an uncounted v2 list (1,000 pages).
    let run = must_end_paging(
        on_path("/api/2/users", |_, seen| {
            let page = json!([user(seen * 2 + 100), user(seen * 2 + 101)]);
            Reply::json(200, &page).with_header("after-cursor", format!("c{seen}"))
        }),
        &["users"],
        100_000,
        2_000,
    )
    .await;
    assert!(run.kind_error("users").is_some_and(|e| matches!(e.kind, ErrorKind::UnexpectedResponse(200))));
}

#[tokio::test(flavor = "multi_thread")]
async fn row3_a_role_admin_list_that_never_ends_is_bounded() {
    must_end_paging(
        misbehave(|request, seen| {
            (request.path().starts_with("/api/2/roles/") && request.path().ends_with("/admins")).then(|| {
                Reply::json(200, &json!([{"id": seen + 1000}])).with_header("after-cursor", format!("a{seen}"))
            })
        }),
        &["roles"],
        100_000,
        2_000,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn row4_invalid_utf8_in_after_cursor_is_refused_not_rerequested() {
    let run = must_end(
        on_path("/api/2/users", |_, _| {
            Reply::json(200, &tenant::users_page_1()).with_header("after-cursor", b"ab\xff\xfe".to_vec())
        }),
        &["users"],
        10,
    )
    .await;
    assert!(run.server.per_path().get("/api/2/users").copied().unwrap_or(0) <= 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn row12_a_3000_character_upstream_cursor_keeps_sync_cursors_usable() {
    // One step per page, so a page ends while the long upstream cursor is current.
    let run = must_end_paging(
        on_path("/api/2/users", |request, _| match request.query("cursor") {
            None => Reply::json(200, &tenant::users_page_1()).with_header("after-cursor", "c".repeat(3000)),
            Some(_) => Reply::json(200, &tenant::users_page_2()),
        }),
        &["users"],
        1,
        10,
    )
    .await;
    assert!(run.ended, "{:?}", run.error);
    run.check_all_users();
    for page in &run.pages {
        assert!(page.next_cursor.as_ref().is_none_or(|c| c.len() <= 4096));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn row12_a_5000_digit_account_id_is_refused_at_configure() {
    let mut run = Run::new(on_path("/auth/oauth2/v2/token", |_, _| {
        Reply::text(
            200,
            "application/json",
            format!(r#"{{"access_token":"{}","account_id":{}}}"#, CANARIES.token, "7".repeat(5000)),
        )
    }))
    .await;
    let error = run.configure().await.expect_err("absurd account id");
    assert_kind(&error, ErrorKind::UnexpectedResponse(200), false);
    run.check(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn row14_the_same_user_ids_on_two_pages_are_emitted_once() {
    let run = must_end(
        on_path("/api/2/users", |request, _| match request.query("cursor") {
            None => Reply::json(200, &tenant::users_page_1()).with_header("after-cursor", "p2"),
            Some(_) => Reply::json(200, &json!([user(3), user(2), user(4)])),
        }),
        &["users"],
        10,
    )
    .await;
    assert!(run.ended, "{:?}", run.error);
}

#[tokio::test(flavor = "multi_thread")]
async fn row15_an_edited_cursor_is_refused() {
    use base64::Engine as _;
    let mut run = Run::new(misbehave(|_, _| None)).await;
    run.configure().await.expect("configure");
    let instance = run.instance.as_mut().expect("configured");
    let options = SyncOptions { kinds: vec!["users".into()], max_items: 1, ..SyncOptions::default() };
    let page = instance.sync_page(options.request(None)).await.unwrap().expect("first page");
    let cursor = page.next_cursor.expect("more pages");
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (body, tag) = cursor.split_once('.').expect("a sealed cursor: json.tag");
    let text = String::from_utf8(engine.decode(body).expect("base64url")).expect("utf-8");
    // A well-formed edit: the same JSON with one digit changed, the old tag kept.
    let edited = text.replacen('0', "1", 1);
    assert_ne!(edited, text);
    let forged = format!("{}.{tag}", engine.encode(edited));
    let result = instance.sync_page(options.request(Some(forged))).await.unwrap();
    let error = result.expect_err("an edited cursor must be refused");
    assert_kind(&error, ErrorKind::InvalidCursor, false);
}
