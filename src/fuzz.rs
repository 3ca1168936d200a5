#![cfg(test)]
//! Seeded random fuzzing on the stable toolchain: the component's parsers,
//! natively, with inputs a hostile server or host could send. Zero panics is
//! the assertion (a panic in the component traps the instance), plus each
//! target's own invariants.
//!
//! `FUZZ_CASES` (default 2000 per target) sets the number of cases and
//! `FUZZ_SEED` the seed; a failure prints both and the input. A longer run:
//! `FUZZ_CASES=200000 cargo test --release -p onelogin-connector --lib fuzz`
//! (see the README). A test-only module of the crate, so the parsers stay
//! private.
//!
//! Targets: config parsing (`config::parse`), dates (`time`), error bodies
//! (`client::errors`), token responses (`client::auth`), v1 envelopes and v2
//! lists with headers (`client::pagination`), the JSON memory estimate, and
//! whole flows: `configure`, every `sync` page and planned actions (`plan`) with
//! random JSON over a transport that answers random responses.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::client::pagination::{self, List, PageCursor};
use crate::client::transport::{memory, Request, Response, Transport, TransportFailure, TransportKind};
use crate::client::{auth, errors};
use crate::config;
use crate::connector::Connector;
use crate::identity::connector::types::{
    Action, ConfigField, CredentialChange, CustomAction, EntitlementChange, LinkRequest, SyncRequest,
};
use crate::time;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

fn cases() -> u64 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x0AE1_0610)
}

/// Runs `case` for every case number with its own generator; on a panic,
/// reports the seed and case so the failure can be replayed.
fn fuzz(target: &str, case: impl Fn(&mut StdRng) -> String) {
    let seed = seed();
    for n in 0..cases() {
        let mut rng = StdRng::seed_from_u64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut input = String::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| input = case(&mut rng)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{target}: panic in case {n} (FUZZ_SEED={seed}): {message}\ninput: {input:.2000}");
        }
    }
}

// ------------------------------------------------------------ generators

const NASTY_STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "1e400",
    "NaN",
    "\u{0}",
    "\r\n",
    "\u{feff}",
    "\u{fffd}",
    "é",
    "𝕏",
    "[::1]",
    "127.0.0.1",
    "localhost",
    "http://",
    "https://",
    "%00",
    "../",
    "onelogin_user:1",
    "onelogin_role:18446744073709551615",
    "onelogin_user:-1",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "2021-08-05T18:36:08.984Z",
];

fn nasty_string(rng: &mut StdRng) -> String {
    match rng.random_range(0..6) {
        0 => NASTY_STRINGS[rng.random_range(0..NASTY_STRINGS.len())].to_string(),
        1 => (0..rng.random_range(0..40)).map(|_| char::from(rng.random_range(0u8..128))).collect(),
        2 => (0..rng.random_range(0..20))
            .map(|_| char::from_u32(rng.random_range(0..0x11_0000)).unwrap_or('\u{fffd}'))
            .collect(),
        3 => "x".repeat(rng.random_range(0..5000)),
        4 => rng.random::<u64>().to_string(),
        _ => format!("{}{}", NASTY_STRINGS[rng.random_range(0..NASTY_STRINGS.len())], rng.random::<i32>()),
    }
}

fn nasty_number(rng: &mut StdRng) -> Value {
    match rng.random_range(0..6) {
        0 => json!(rng.random::<u64>()),
        1 => json!(rng.random::<i64>()),
        2 => json!(rng.random::<f64>() * 1e300),
        3 => json!(u64::MAX),
        4 => json!(-1),
        _ => json!(rng.random_range(0..10)),
    }
}

/// OneLogin-ish field names, so random objects hit real mapping code.
const FIELDS: &[&str] = &[
    "id",
    "name",
    "email",
    "username",
    "status",
    "state",
    "role_ids",
    "group_id",
    "apps",
    "users",
    "custom_attributes",
    "created_at",
    "updated_at",
    "last_login",
    "manager_user_id",
    "message",
    "statusCode",
    "code",
    "error",
    "errors",
    "status",
    "pagination",
    "after_cursor",
    "afterCursor",
    "next_link",
    "data",
    "access_token",
    "expires_in",
    "account_id",
    "shortname",
    "connector_id",
    "auth_method",
    "visible",
    "provisioning",
    "enabled",
    "conditions",
    "actions",
    "value",
    "source",
    "operator",
    "match",
    "user_id",
    "app_id",
    "event_type_id",
    "device_id",
    "auth_factor_name",
    "default",
    "privilege",
    "statement",
    "firstname",
    "lastname",
    "attributes",
    "principal",
    "resource",
    "permission",
    "mappings",
    "password",
    "provisioning_state",
    "provisioning_status",
    "role_id",
];

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    let leaf = depth == 0 || rng.random_range(0..3) == 0;
    match rng.random_range(0..if leaf { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => nasty_number(rng),
        3 | 4 => Value::String(nasty_string(rng)),
        5 => Value::Array((0..rng.random_range(0..6)).map(|_| random_json(rng, depth - 1)).collect()),
        _ => {
            let mut object = Map::new();
            for _ in 0..rng.random_range(0..8) {
                let key = if rng.random_range(0..5) == 0 {
                    nasty_string(rng)
                } else {
                    FIELDS[rng.random_range(0..FIELDS.len())].to_string()
                };
                object.insert(key, random_json(rng, depth - 1));
            }
            Value::Object(object)
        }
    }
}

/// Random bytes that are often JSON, sometimes almost JSON, sometimes not.
fn random_body(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..8) {
        0 => Vec::new(),
        1 => (0..rng.random_range(0..200)).map(|_| rng.random()).collect(),
        2 => {
            let mut text = random_json(rng, 4).to_string().into_bytes();
            let cut = rng.random_range(0..=text.len());
            text.truncate(cut);
            text
        }
        3 => "[".repeat(rng.random_range(1..2000)).into_bytes(),
        _ => random_json(rng, 5).to_string().into_bytes(),
    }
}

fn random_headers(rng: &mut StdRng) -> Vec<(String, String)> {
    const NAMES: &[&str] = &[
        "after-cursor",
        "before-cursor",
        "total-count",
        "total-pages",
        "current-page",
        "link",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "date",
        "content-type",
    ];
    (0..rng.random_range(0..8))
        .map(|_| {
            let name = NAMES[rng.random_range(0..NAMES.len())].to_string();
            let value = match rng.random_range(0..3) {
                0 => random_date_text(rng),
                _ => nasty_string(rng),
            };
            (name, value)
        })
        .collect()
}

fn random_date_text(rng: &mut StdRng) -> String {
    const DAYS: &[&str] = &["Mon", "Sun", "Xyz", ""];
    const MONTHS: &[&str] = &["Jan", "Feb", "Nov", "Dec", "Foo"];
    let year: i64 = match rng.random_range(0..4) {
        0 => rng.random(),
        1 => rng.random_range(1900..2300),
        2 => rng.random_range(-100..100_000),
        _ => 2026,
    };
    match rng.random_range(0..3) {
        0 => format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            DAYS[rng.random_range(0..DAYS.len())],
            rng.random_range(0..40),
            MONTHS[rng.random_range(0..MONTHS.len())],
            year,
            rng.random_range(0..30),
            rng.random_range(0..70),
            rng.random_range(0..70)
        ),
        1 => format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{}Z",
            rng.random_range(0..14),
            rng.random_range(0..33),
            rng.random_range(0..26),
            rng.random_range(0..61),
            rng.random_range(0..62),
            rng.random::<u32>()
        ),
        _ => nasty_string(rng),
    }
}

fn response(rng: &mut StdRng) -> Response {
    const STATUSES: &[u16] = &[200, 200, 200, 201, 204, 302, 400, 401, 403, 404, 422, 429, 500, 503, 999];
    Response {
        status: STATUSES[rng.random_range(0..STATUSES.len())],
        headers: random_headers(rng),
        body: random_body(rng),
    }
}

// ------------------------------------------------------------ targets

#[test]
fn fuzz_config_parsing() {
    const NAMES: &[&str] = &[
        "client_id",
        "client_secret",
        "subdomain",
        "region",
        "base_url",
        "event_lookback_days",
        "request_timeout_secs",
        "call_budget_secs",
        "colour",
    ];
    fuzz("config", |rng| {
        let mut fields = vec![
            ConfigField { name: "client_id".into(), value: "id".into() },
            ConfigField { name: "client_secret".into(), value: "canary-secret".into() },
        ];
        for _ in 0..rng.random_range(0..5) {
            let name = NAMES[rng.random_range(0..NAMES.len())].to_string();
            let value = match (name.as_str(), rng.random_range(0..3)) {
                ("base_url", 0) => format!(
                    "{}://{}{}",
                    ["http", "https", "ftp"][rng.random_range(0..3)],
                    nasty_string(rng),
                    [":1", ":0", ":65536", "", "/", ":8080/"][rng.random_range(0..6)]
                ),
                _ => nasty_string(rng),
            };
            fields.push(ConfigField { name, value });
        }
        let input = format!("{:?}", fields.iter().map(|f| (&f.name, f.value.len())).collect::<Vec<_>>());
        match config::parse(&fields) {
            Ok(config) => {
                assert!(config.client_id.len() <= config::MAX_CLIENT_ID_LEN);
                assert!(config.base_url.authority.len() <= config::MAX_BASE_URL_LEN);
                if config.base_url.display().starts_with("http://") {
                    let host = config.base_url.host();
                    let loopback = host == "localhost"
                        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
                        || host.trim_matches(['[', ']']).parse::<std::net::Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
                    assert!(loopback, "plain http to {host}");
                }
            }
            Err(error) => assert!(!error.to_string().contains("canary-secret"), "{error}"),
        }
        input
    });
}

#[test]
fn fuzz_dates() {
    fuzz("dates", |rng| {
        let text = random_date_text(rng);
        for parsed in [time::parse_http_date(&text), time::parse_iso(&text)].into_iter().flatten() {
            assert!((-62_135_596_800..=253_402_300_800).contains(&parsed), "{text} -> {parsed}");
            assert_eq!(time::parse_iso(&time::iso(parsed)), Some(parsed), "{text}");
        }
        let _ = time::iso(rng.random());
        text
    });
}

#[test]
fn fuzz_error_bodies_and_rate_limit_headers() {
    fuzz("errors", |rng| {
        let response = response(rng);
        let message = errors::upstream_message(&response.body);
        assert!(message.is_none_or(|m| m.chars().count() <= 301));
        let error = errors::from_response(response.status, &response, "GET /x");
        assert!(error.to_string().chars().count() < 600, "{error}");
        let wait = errors::retry_after(&response);
        assert!((1..=errors::MAX_RETRY_AFTER).contains(&wait));
        if let Ok(value) = serde_json::from_slice::<Value>(&response.body) {
            let _ = errors::v1_status_error(&value);
        }
        format!("{response:?}")
    });
}

#[test]
fn fuzz_token_responses() {
    fuzz("token", |rng| {
        let mut response = response(rng);
        if rng.random() {
            let mut object = Map::new();
            for field in ["access_token", "expires_in", "account_id", "token_type"] {
                if rng.random() {
                    object.insert(field.into(), random_json(rng, 1));
                }
            }
            response.body = Value::Object(object).to_string().into_bytes();
        }
        if let Ok(token) = auth::parse_token_response(&response) {
            assert!(token.value.expose().len() <= auth::MAX_TOKEN_LEN);
            assert!(token.lifetime <= auth::MAX_LIFETIME);
            let _ = token.renew_at(Duration::MAX);
            assert!(token.account_id.is_none_or(|id| id.len() <= auth::MAX_ACCOUNT_ID_LEN));
        }
        format!("{response:?}")
    });
}

#[test]
fn fuzz_v1_envelopes_and_v2_lists() {
    fuzz("pagination", |rng| {
        let response = response(rng);
        let body = random_json(rng, 4);
        let envelope =
            json!({"status": random_json(rng, 1), "pagination": random_json(rng, 2), "data": random_json(rng, 3)});
        let cursor = nasty_string(rng);
        let at = PageCursor { next: Some(cursor.clone()), pages: rng.random(), previous: rng.random() };
        for list in [List::v2("/x", rng.random_range(0..2000)), List::v1("/x", 50)] {
            for page_body in [body.clone(), envelope.clone()] {
                if let Ok(page) = pagination::parse_page(&list, &at, &response, page_body) {
                    let next = page.next.and_then(|n| n.next).unwrap_or_default();
                    assert!(next.len() <= pagination::MAX_UPSTREAM_CURSOR, "{next}");
                    assert!(next.bytes().all(|b| b.is_ascii_graphic()), "{next:?}");
                }
            }
            let filters = [("since", cursor.as_str())];
            let query = list.with_filters(&filters).path_and_query(&at);
            assert!(query.bytes().all(|b| b.is_ascii_graphic()), "{query}");
        }
        let cost = memory::json_cost(&response.body);
        assert!(cost >= response.body.len());
        format!("{response:?} {body} {envelope}")
    });
}

// ------------------------------------------------------------ whole flows

/// A transport answering token and probe properly, then random responses
/// (or failures); time only moves when the component sleeps or sends.
struct RandomTransport {
    rng: RefCell<StdRng>,
    clock: Cell<Duration>,
    sent: Cell<u64>,
}

impl Transport for &RandomTransport {
    fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
        self.sent.set(self.sent.get() + 1);
        assert!(self.sent.get() < 5_000, "unbounded requests");
        self.clock.set(self.clock.get() + Duration::from_millis(10));
        assert!(request.headers.iter().all(|(_, v)| v.len() < 8192), "a huge header went out");
        let mut rng = self.rng.borrow_mut();
        if request.path_and_query.starts_with("/auth/") {
            return Ok(Response {
                status: 200,
                headers: vec![("date".into(), "Mon, 23 Nov 2026 12:00:00 GMT".into())],
                body: br#"{"access_token":"tok","expires_in":36000,"account_id":42}"#.to_vec(),
            });
        }
        if request.path_and_query.starts_with("/api/2/connectors") {
            return Ok(Response { status: 200, headers: Vec::new(), body: b"[]".to_vec() });
        }
        if rng.random_range(0..20) == 0 {
            return Err(TransportFailure {
                kind: TransportKind::Connection,
                message: nasty_string(&mut rng),
                retryable: rng.random(),
            });
        }
        let mut response = response(&mut rng);
        if rng.random_range(0..3) > 0 {
            response.status = 200;
        }
        if response.body.len() > request.bounds.max_body_bytes {
            return Err(TransportFailure {
                kind: TransportKind::Protocol,
                message: "too big".into(),
                retryable: false,
            });
        }
        Ok(response)
    }

    fn now(&self) -> Duration {
        self.clock.get()
    }

    fn sleep(&self, duration: Duration) {
        self.clock.set(self.clock.get().saturating_add(duration.min(Duration::from_secs(86_400))));
    }
}

fn transport(rng: &mut StdRng) -> RandomTransport {
    RandomTransport {
        rng: RefCell::new(StdRng::seed_from_u64(rng.random())),
        clock: Cell::new(Duration::ZERO),
        sent: Cell::new(0),
    }
}

fn fields() -> Vec<ConfigField> {
    [("client_id", "id"), ("client_secret", "secret"), ("subdomain", "acme")]
        .iter()
        .map(|(n, v)| ConfigField { name: n.to_string(), value: v.to_string() })
        .collect()
}

thread_local! {
    static SYNC_REQUESTS: Cell<u64> = const { Cell::new(0) };
}

#[test]
fn fuzz_sync_pages_over_random_responses() {
    const KINDS: &[&str] = &[
        "users",
        "groups",
        "roles",
        "apps",
        "app_rules",
        "privileges",
        "events",
        "user_apps",
        "mfa_devices",
        "aws_iam_roles",
    ];
    fuzz("sync", |rng| {
        let transport = transport(rng);
        let Ok((mut connector, _)) = Connector::configure(&transport, &fields()) else {
            return "configure failed".into();
        };
        let kinds: Vec<String> = KINDS.iter().filter(|_| rng.random_range(0..3) == 0).map(|k| k.to_string()).collect();
        let mut cursor = None;
        for _ in 0..30 {
            let request = SyncRequest {
                cursor: cursor.take(),
                max_items: rng.random_range(0..200),
                kinds: kinds.clone(),
                checkpoint: None,
                max_wait_ms: rng.random_range(0..2) * 1000,
                concurrency: rng.random_range(0..70),
            };
            match connector.sync(&request) {
                Ok(page) => match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                },
                Err(_) => break,
            }
        }
        SYNC_REQUESTS.with(|n| n.set(n.get() + transport.sent.get().saturating_sub(2)));
        format!("kinds {kinds:?}, {} requests", transport.sent.get())
    });
    // Not vacuous: past configure, the syncs really talked to the transport.
    let requests = SYNC_REQUESTS.with(Cell::get);
    eprintln!("sync fuzz: {requests} requests after configure in {} cases", cases());
    assert!(requests >= 2 * cases(), "only {requests} requests in {} cases", cases());
}

#[test]
fn fuzz_actions_with_random_json_as_plans() {
    fuzz("actions", |rng| {
        let transport = transport(rng);
        let Ok((mut connector, _)) = Connector::configure(&transport, &fields()) else {
            return "configure failed".into();
        };
        let key = |rng: &mut StdRng| match rng.random_range(0..3) {
            0 => nasty_string(rng),
            _ => format!(
                "{}:{}",
                ["onelogin_user", "onelogin_role", "onelogin_group", "onelogin_application"][rng.random_range(0..4)],
                nasty_string(rng)
            ),
        };
        let json_text = |rng: &mut StdRng| match rng.random_range(0..4) {
            0 => nasty_string(rng),
            _ => random_json(rng, 4).to_string(),
        };
        let action = match rng.random_range(0..10) {
            0 => Action::CreateAccount(json_text(rng)),
            1 => Action::DeleteAccount(key(rng)),
            2 => Action::SuspendAccount(key(rng)),
            3 => Action::ResumeAccount(key(rng)),
            4 => Action::Grant(EntitlementChange {
                principal: key(rng),
                resource: key(rng),
                permission: nasty_string(rng),
            }),
            5 => Action::Revoke(EntitlementChange {
                principal: key(rng),
                resource: key(rng),
                permission: ["member", "admin", "access"][rng.random_range(0..3)].into(),
            }),
            6 => Action::SetCredential(CredentialChange {
                principal: key(rng),
                password: nasty_string(rng),
                validate_policy: rng.random(),
            }),
            7 => Action::IssueLink(LinkRequest { principal: key(rng), send: rng.random() }),
            8 => Action::EndSessions(key(rng)),
            _ => Action::Custom(CustomAction { name: nasty_string(rng), params: json_text(rng) }),
        };
        let input = format!("{action:?}");
        let _ = connector.plan(&action);
        input
    });
}
