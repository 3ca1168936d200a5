//! Connector configuration: the schema `describe` publishes and the
//! validation `configure` applies to what a host passes in.
//!
//! The API host is given one of three ways (exactly one):
//! - `subdomain`: `acme` → `https://acme.onelogin.com` (OneLogin's current docs);
//! - `region`: `us` | `eu` → `https://api.<region>.onelogin.com` (legacy shard hosts);
//! - `base_url`: any `https://host[:port]`, or `http://` to a loopback address
//!   (for simulators and tests).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::error::{Error, Result, Secret};
use crate::identity::connector::types::{ConfigField, ConfigFieldSpec, Endpoint, Scheme as WitScheme, ValueType};

/// Config field names.
pub const CLIENT_ID: &str = "client_id";
pub const CLIENT_SECRET: &str = "client_secret";
pub const SUBDOMAIN: &str = "subdomain";
pub const REGION: &str = "region";
pub const BASE_URL: &str = "base_url";
pub const EVENT_LOOKBACK_DAYS: &str = "event_lookback_days";
pub const REQUEST_TIMEOUT_SECS: &str = "request_timeout_secs";
pub const CALL_BUDGET_SECS: &str = "call_budget_secs";
pub const ADAPTIVE_CONCURRENCY: &str = "adaptive_concurrency";

/// How far back the first (full) sync reads events, unless configured.
pub const DEFAULT_EVENT_LOOKBACK_DAYS: u32 = 90;
/// The longest lookback accepted (OneLogin keeps events for a limited time anyway).
const MAX_EVENT_LOOKBACK_DAYS: u32 = 3650;

/// Longest `client_id` accepted. OneLogin's are 64 hex characters. The id and
/// secret travel base64-encoded in one `Authorization` header (4/3 of their
/// length): these bounds keep that header near 3 KiB, far under any host's
/// header-size limit (wasmtime's default is 64 KiB for all fields).
pub const MAX_CLIENT_ID_LEN: usize = 1024;
/// Longest `client_secret` accepted (OneLogin's are 64 hex characters).
pub const MAX_CLIENT_SECRET_LEN: usize = 1024;
/// Longest `base_url` accepted (`https://` + a DNS name of at most 253 + a port).
pub const MAX_BASE_URL_LEN: usize = 300;
/// Longest value of any other field (`subdomain`, `region`, `event_lookback_days`).
const MAX_OTHER_LEN: usize = 256;

const HOST_GROUP: &str = "api_host";

/// How long the component lets the network take, so that a silent or
/// dripping server ends in a typed, retryable error and never in the host
/// killing the instance.
///
/// The harness gives each export call 120 s of wall clock (its default
/// limit). The component's own budget for one call (`configure`, one `sync`
/// page) is at most [`MAX_CALL_BUDGET`] = 75 s: no request attempt starts
/// after it, no attempt runs past it, and no rate-limit wait or backoff
/// sleeps past it. One request attempt, body included, takes at most
/// [`MAX_REQUEST_TIMEOUT`] = 20 s (enforced on the monotonic clock, not only
/// by the host's connect / first-byte / between-bytes options, which a
/// 1 byte/s drip defeats). So a call ends within 75 s plus its CPU time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The most one request attempt may take, response body included.
    pub request: Duration,
    /// The most network time (requests, backoff, rate-limit waits) one
    /// export call may use.
    pub call: Duration,
}

/// The longest (and default) request timeout.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest (and default) per-call network budget.
pub const MAX_CALL_BUDGET: Duration = Duration::from_secs(75);

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { request: MAX_REQUEST_TIMEOUT, call: MAX_CALL_BUDGET }
    }
}

/// The config schema, in the order a form should show it.
// Long: one declarative list of every field, read top to bottom.
pub fn schema() -> Vec<ConfigFieldSpec> {
    let field =
        |name: &str, description: &str, value_type, required, secret, allowed: &[&str], group: bool| ConfigFieldSpec {
            name: name.to_string(),
            description: description.to_string(),
            value_type,
            required,
            secret,
            allowed_values: allowed.iter().map(|v| v.to_string()).collect(),
            one_of_group: group.then(|| HOST_GROUP.to_string()),
        };
    vec![
        field(
            CLIENT_ID,
            "OneLogin API credential client ID (Developers > API Credentials).",
            ValueType::Text,
            true,
            false,
            &[],
            false,
        ),
        field(CLIENT_SECRET, "OneLogin API credential client secret.", ValueType::Text, true, true, &[], false),
        field(
            SUBDOMAIN,
            "Your OneLogin subdomain: `acme` for https://acme.onelogin.com.",
            ValueType::Text,
            false,
            false,
            &[],
            true,
        ),
        field(
            REGION,
            "Legacy regional API host: `us` (api.us.onelogin.com) or `eu` (api.eu.onelogin.com).",
            ValueType::Choice,
            false,
            false,
            &["us", "eu"],
            true,
        ),
        field(
            BASE_URL,
            "Explicit API base URL, e.g. https://acme.onelogin.com (http only for loopback).",
            ValueType::Url,
            false,
            false,
            &[],
            true,
        ),
        field(
            EVENT_LOOKBACK_DAYS,
            "Days of events a full sync reads (default 90); later syncs read events since their checkpoint.",
            ValueType::Integer,
            false,
            false,
            &[],
            false,
        ),
        field(
            REQUEST_TIMEOUT_SECS,
            "Seconds one HTTP request may take, response included (1-20, default 20).",
            ValueType::Integer,
            false,
            false,
            &[],
            false,
        ),
        field(
            CALL_BUDGET_SECS,
            "Seconds of network time one configure or sync-page call may use (2-75, default 75); \
             hosts with a shorter per-call limit should lower it.",
            ValueType::Integer,
            false,
            false,
            &[],
            false,
        ),
        field(
            ADAPTIVE_CONCURRENCY,
            "`on` (default): when OneLogin throttles (429/502), keep fewer requests in flight than the \
             sync's concurrency and probe back up; `off`: always the sync's concurrency.",
            ValueType::Choice,
            false,
            false,
            &["on", "off"],
            false,
        ),
    ]
}

/// Scheme of the API base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// TLS: every non-loopback host.
    Https,
    /// Plain HTTP: only to a loopback address (tests, the bundled simulator).
    Http,
}

/// The API base URL, already validated: a scheme and an authority, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub scheme: Scheme,
    /// `host` or `host:port`.
    pub authority: String,
}

impl BaseUrl {
    /// `https://acme.onelogin.com`, for messages and account info.
    pub fn display(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        format!("{scheme}://{}", self.authority)
    }

    /// The host name without port.
    pub fn host(&self) -> &str {
        split_host_port(&self.authority).0
    }

    /// The server this URL names, as the WIT `endpoint` a host allows: the
    /// host without IPv6 brackets, the port explicit.
    pub fn endpoint(&self) -> Endpoint {
        let (host, port) = split_host_port(&self.authority);
        let default_port = match self.scheme {
            Scheme::Https => 443,
            Scheme::Http => 80,
        };
        Endpoint {
            scheme: match self.scheme {
                Scheme::Https => WitScheme::Https,
                Scheme::Http => WitScheme::Http,
            },
            host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            // `parse_base_url` accepted only ports 1-65535.
            port: port.and_then(|p| p.parse().ok()).unwrap_or(default_port),
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub client_id: String,
    pub client_secret: Secret,
    pub base_url: BaseUrl,
    /// Days of events a full sync reads.
    pub event_lookback_days: u32,
    /// Request and per-call time budgets.
    pub timeouts: Timeouts,
    /// Whether v2 concurrency adapts to throttling (`client::concurrency`);
    /// off, the sync keeps the host's concurrency whatever OneLogin answers.
    pub adaptive_concurrency: bool,
}

/// Validate the fields a host passed to `configure`.
// Long: one pass over the fields, then one check per rule, each naming its field.
pub fn parse(fields: &[ConfigField]) -> Result<Config> {
    let mut client_id = None;
    let mut client_secret = None;
    let mut lookback = None;
    let mut request_timeout = None;
    let mut call_budget = None;
    let mut adaptive = None;
    let mut hosts: Vec<(&str, &str)> = Vec::new();
    for field in fields {
        if field.name.len() > MAX_OTHER_LEN {
            return Err(Error::config("field name", format!("longer than {MAX_OTHER_LEN} bytes")));
        }
        let value = field.value.trim();
        let max = match field.name.as_str() {
            CLIENT_ID => MAX_CLIENT_ID_LEN,
            CLIENT_SECRET => MAX_CLIENT_SECRET_LEN,
            BASE_URL => MAX_BASE_URL_LEN,
            _ => MAX_OTHER_LEN,
        };
        if value.len() > max {
            // The length only: never the value (it may be a secret).
            return Err(Error::config(&field.name, format!("longer than {max} bytes")));
        }
        let slot = match field.name.as_str() {
            CLIENT_ID => &mut client_id,
            CLIENT_SECRET => &mut client_secret,
            EVENT_LOOKBACK_DAYS => &mut lookback,
            REQUEST_TIMEOUT_SECS => &mut request_timeout,
            CALL_BUDGET_SECS => &mut call_budget,
            ADAPTIVE_CONCURRENCY => &mut adaptive,
            SUBDOMAIN | REGION | BASE_URL => {
                if !value.is_empty() {
                    hosts.push((field.name.as_str(), value));
                }
                continue;
            }
            other => return Err(Error::config(other, "unknown config field")),
        };
        if slot.is_some() {
            return Err(Error::config(&field.name, "given more than once"));
        }
        *slot = Some(value);
    }

    let client_id = client_id.filter(|v| !v.is_empty()).ok_or_else(|| Error::config(CLIENT_ID, "required"))?;
    if client_id.contains(':') || client_id.chars().any(char::is_control) {
        return Err(Error::config(CLIENT_ID, "must not contain ':' or control characters"));
    }
    let client_secret =
        client_secret.filter(|v| !v.is_empty()).ok_or_else(|| Error::config(CLIENT_SECRET, "required"))?;
    if client_secret.chars().any(char::is_control) {
        // Say which field, never the value.
        return Err(Error::config(CLIENT_SECRET, "must not contain control characters"));
    }

    let base_url = match hosts.as_slice() {
        [] => return Err(Error::config(SUBDOMAIN, "one of subdomain, region or base_url is required")),
        [(SUBDOMAIN, value)] => subdomain_url(value)?,
        [(REGION, value)] => region_url(value)?,
        [(_, value)] => parse_base_url(value)?,
        [_, (second, _), ..] => return Err(Error::config(second, "give only one of subdomain, region or base_url")),
    };

    let event_lookback_days = match lookback.filter(|v| !v.is_empty()) {
        None => DEFAULT_EVENT_LOOKBACK_DAYS,
        Some(text) => {
            text.parse::<u32>().ok().filter(|days| (1..=MAX_EVENT_LOOKBACK_DAYS).contains(days)).ok_or_else(|| {
                Error::config(
                    EVENT_LOOKBACK_DAYS,
                    format!("must be a whole number of days from 1 to {MAX_EVENT_LOOKBACK_DAYS}"),
                )
            })?
        }
    };

    let seconds = |field: &str, text: Option<&str>, range: std::ops::RangeInclusive<u64>| -> Result<Duration> {
        match text.filter(|v| !v.is_empty()) {
            None => Ok(Duration::from_secs(*range.end())),
            Some(text) => {
                text.parse::<u64>().ok().filter(|s| range.contains(s)).map(Duration::from_secs).ok_or_else(|| {
                    Error::config(
                        field,
                        format!("must be a whole number of seconds from {} to {}", range.start(), range.end()),
                    )
                })
            }
        }
    };
    let timeouts = Timeouts {
        request: seconds(REQUEST_TIMEOUT_SECS, request_timeout, 1..=MAX_REQUEST_TIMEOUT.as_secs())?,
        call: seconds(CALL_BUDGET_SECS, call_budget, 2..=MAX_CALL_BUDGET.as_secs())?,
    };

    let adaptive_concurrency = match adaptive.filter(|v| !v.is_empty()) {
        None | Some("on") => true,
        Some("off") => false,
        Some(_) => return Err(Error::config(ADAPTIVE_CONCURRENCY, "must be `on` or `off`")),
    };

    Ok(Config {
        client_id: client_id.to_string(),
        client_secret: Secret::new(client_secret),
        base_url,
        event_lookback_days,
        timeouts,
        adaptive_concurrency,
    })
}

fn subdomain_url(value: &str) -> Result<BaseUrl> {
    let name = value.to_ascii_lowercase();
    let valid_chars = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty() || name.len() > 63 || !valid_chars || name.starts_with('-') || name.ends_with('-') {
        return Err(Error::config(
            SUBDOMAIN,
            "must be the bare subdomain (letters, digits, '-'), e.g. `acme` for acme.onelogin.com",
        ));
    }
    Ok(BaseUrl { scheme: Scheme::Https, authority: format!("{name}.onelogin.com") })
}

fn region_url(value: &str) -> Result<BaseUrl> {
    match value.to_ascii_lowercase().as_str() {
        region @ ("us" | "eu") => {
            Ok(BaseUrl { scheme: Scheme::Https, authority: format!("api.{region}.onelogin.com") })
        }
        _ => Err(Error::config(REGION, "must be `us` or `eu`")),
    }
}

/// Parse `scheme://host[:port][/]`. Anything more (credentials, path, query)
/// is refused rather than guessed at.
fn parse_base_url(value: &str) -> Result<BaseUrl> {
    let bad = |message: &str| Error::config(BASE_URL, message.to_string());
    let (scheme, rest) = if let Some(rest) = value.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = value.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(bad("must start with https://"));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ', '\\']) {
        return Err(bad("must be scheme://host[:port] with no path, query or credentials"));
    }
    let (host, port) = split_host_port(&authority);
    let rebuilt_len = host.len() + port.map_or(0, |p| p.len() + 1);
    if rebuilt_len != authority.len() {
        return Err(bad("invalid host: text after the IPv6 address"));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(bad("invalid port"));
        }
    }
    let Some(host_kind) = classify_host(host) else {
        return Err(bad("invalid host: a DNS name, an IPv4 address or a bracketed IPv6 address"));
    };
    if scheme == Scheme::Http && !host_kind.is_loopback() {
        return Err(bad("plain http is allowed only for loopback hosts; use https"));
    }
    Ok(BaseUrl { scheme, authority })
}

/// Split `host:port` (IPv6 literals in brackets) into host and optional port.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => {
                let (host, rest) = authority.split_at(end + 1);
                (host, rest.strip_prefix(':'))
            }
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// What a (lower-case) host of a base URL is, decided by parsing it, never by
/// its prefix: `127.1.1.io` is a DNS name, not loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKind {
    /// Exactly `localhost`.
    Localhost,
    /// An IPv4 address in dotted-quad form (`std::net::Ipv4Addr` syntax).
    Ipv4(Ipv4Addr),
    /// A bracketed IPv6 literal.
    Ipv6(Ipv6Addr),
    /// Any other syntactically valid DNS name.
    Name,
}

impl HostKind {
    fn is_loopback(self) -> bool {
        match self {
            HostKind::Localhost => true,
            HostKind::Ipv4(ip) => ip.is_loopback(),
            HostKind::Ipv6(ip) => ip.is_loopback(),
            HostKind::Name => false,
        }
    }
}

/// Parse a host: `[v6]` must be a valid IPv6 address; a name whose last label
/// is numeric must be a valid IPv4 address (as URL parsers treat it); other
/// names must be valid DNS names (labels of 1-63 letters, digits and '-', not
/// at either end, 253 bytes at most).
fn classify_host(host: &str) -> Option<HostKind> {
    if let Some(inner) = host.strip_prefix('[') {
        return inner.strip_suffix(']')?.parse::<Ipv6Addr>().ok().map(HostKind::Ipv6);
    }
    if host == "localhost" {
        return Some(HostKind::Localhost);
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return None;
    }
    let last = host.rsplit('.').next().unwrap_or(host);
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return host.parse::<Ipv4Addr>().ok().map(HostKind::Ipv4);
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    host.split('.').all(label_ok).then_some(HostKind::Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<ConfigField> {
        pairs.iter().map(|(n, v)| ConfigField { name: n.to_string(), value: v.to_string() }).collect()
    }

    fn field_of(result: Result<Config>) -> String {
        match result {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected invalid config, got {other:?}"),
        }
    }

    #[test]
    fn subdomain_becomes_onelogin_host() {
        let config = parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("subdomain", "Acme")])).unwrap();
        assert_eq!(config.base_url.display(), "https://acme.onelogin.com");
    }

    #[test]
    fn event_lookback_defaults_to_90_days_and_must_be_a_sane_number() {
        let base = [("client_id", "id"), ("client_secret", "s"), ("subdomain", "acme")];
        assert_eq!(parse(&fields(&base)).unwrap().event_lookback_days, 90);
        let with = |days: &str| parse(&fields(&[base.as_slice(), &[("event_lookback_days", days)]].concat()));
        assert_eq!(with("30").unwrap().event_lookback_days, 30);
        for bad in ["0", "-1", "ninety", "100000"] {
            assert_eq!(field_of(with(bad)), "event_lookback_days", "{bad}");
        }
    }

    #[test]
    fn region_becomes_shard_host() {
        let config = parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("region", "eu")])).unwrap();
        assert_eq!(config.base_url.display(), "https://api.eu.onelogin.com");
    }

    #[test]
    fn base_url_accepts_https_and_loopback_http() {
        let https =
            parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("base_url", "https://x.example:8443/")]));
        assert_eq!(https.unwrap().base_url.authority, "x.example:8443");
        let local =
            parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("base_url", "http://127.0.0.1:9000")]));
        assert_eq!(local.unwrap().base_url.scheme, Scheme::Http);
    }

    #[test]
    fn missing_secret_names_the_field() {
        assert_eq!(field_of(parse(&fields(&[("client_id", "id"), ("subdomain", "acme")]))), CLIENT_SECRET);
        assert_eq!(
            field_of(parse(&fields(&[("client_id", "id"), ("client_secret", " "), ("subdomain", "a")]))),
            CLIENT_SECRET
        );
    }

    #[test]
    fn bad_subdomain_is_refused() {
        for bad in ["acme.onelogin.com", "-acme", "ac me", "https://acme"] {
            let result = parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("subdomain", bad)]));
            assert_eq!(field_of(result), SUBDOMAIN, "{bad}");
        }
    }

    #[test]
    fn base_url_with_path_credentials_or_plain_http_is_refused() {
        for bad in
            ["https://a.example/api", "https://u:p@a.example", "http://a.example", "ftp://a", "https://a.example:99999"]
        {
            let result = parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("base_url", bad)]));
            assert_eq!(field_of(result), BASE_URL, "{bad}");
        }
    }

    #[test]
    fn two_hosts_unknown_fields_and_duplicates_are_refused() {
        let two = parse(&fields(&[("client_id", "i"), ("client_secret", "s"), ("subdomain", "a"), ("region", "us")]));
        assert_eq!(field_of(two), REGION);
        let unknown =
            parse(&fields(&[("client_id", "i"), ("client_secret", "s"), ("subdomain", "a"), ("tenant", "x")]));
        assert_eq!(field_of(unknown), "tenant");
        let dup = parse(&fields(&[("client_id", "i"), ("client_id", "j"), ("client_secret", "s"), ("subdomain", "a")]));
        assert_eq!(field_of(dup), CLIENT_ID);
        let none = parse(&fields(&[("client_id", "i"), ("client_secret", "s")]));
        assert_eq!(field_of(none), SUBDOMAIN);
    }

    fn base_url(value: &str) -> Result<Config> {
        parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("base_url", value)]))
    }

    #[test]
    fn loopback_is_decided_by_parsing_the_address() {
        for good in ["http://127.0.0.1:9000", "http://127.9.8.7", "http://localhost:1", "http://[::1]:8080"] {
            assert_eq!(base_url(good).unwrap().base_url.scheme, Scheme::Http, "{good}");
        }
        for bad in [
            "http://127.1.1.io",
            "http://127.0.0.evil",
            "http://127.a.b.c",
            "http://127.1",
            "http://127.0.0.1.example",
            "http://localhost.evil",
            "http://[::2]",
            "http://10.0.0.1",
            "https://[zzz]",
            "https://[::1",
            "https://999.1.1.1",
            "https://a..b",
            "https://-a.example",
            "https://[::1]x",
            "http://[::1]x:80",
        ] {
            assert_eq!(field_of(base_url(bad)), BASE_URL, "{bad}");
        }
        assert_eq!(base_url("https://[2001:db8::1]:443").unwrap().base_url.host(), "[2001:db8::1]");
        assert_eq!(base_url("https://10.1.2.3").unwrap().base_url.scheme, Scheme::Https);
    }

    #[test]
    fn absurdly_long_values_name_their_field_and_not_the_value() {
        let long = "x".repeat(100_000);
        for (name, max) in [(CLIENT_ID, MAX_CLIENT_ID_LEN), (CLIENT_SECRET, MAX_CLIENT_SECRET_LEN)] {
            let mut pairs = vec![("client_id", "id"), ("client_secret", "s"), ("subdomain", "acme")];
            pairs.retain(|(n, _)| *n != name);
            pairs.push((name, &long));
            let error = parse(&fields(&pairs)).unwrap_err();
            assert!(matches!(&error, Error::InvalidConfig { field, .. } if field == name), "{error:?}");
            assert!(error.to_string().len() < 200 && error.to_string().contains(&max.to_string()));
        }
        let just_fits = "y".repeat(MAX_CLIENT_SECRET_LEN);
        assert!(parse(&fields(&[("client_id", "id"), ("client_secret", &just_fits), ("subdomain", "a")])).is_ok());
        assert_eq!(field_of(base_url(&format!("https://{}.example", "a".repeat(5000)))), BASE_URL);
        let name = "n".repeat(5000);
        assert!(
            parse(&fields(&[("client_id", "id"), ("client_secret", "s"), ("subdomain", "a"), (&name, "v")])).is_err()
        );
    }

    #[test]
    fn timeouts_and_adaptive_concurrency_have_defaults_and_bounds() {
        let base = [("client_id", "id"), ("client_secret", "s"), ("subdomain", "acme")];
        assert_eq!(parse(&fields(&base)).unwrap().timeouts, Timeouts::default());
        let with = |name: &str, v: &str| parse(&fields(&[base.as_slice(), &[(name, v)]].concat()));
        assert_eq!(with(REQUEST_TIMEOUT_SECS, "3").unwrap().timeouts.request, Duration::from_secs(3));
        assert_eq!(with(CALL_BUDGET_SECS, "10").unwrap().timeouts.call, Duration::from_secs(10));
        for bad in ["0", "21", "-1", "1.5", "18446744073709551616", "x"] {
            assert_eq!(field_of(with(REQUEST_TIMEOUT_SECS, bad)), REQUEST_TIMEOUT_SECS, "{bad}");
        }
        for bad in ["1", "76", "99999999999999999999"] {
            assert_eq!(field_of(with(CALL_BUDGET_SECS, bad)), CALL_BUDGET_SECS, "{bad}");
        }
        assert!(parse(&fields(&base)).unwrap().adaptive_concurrency, "on by default");
        assert!(with(ADAPTIVE_CONCURRENCY, "on").unwrap().adaptive_concurrency);
        assert!(!with(ADAPTIVE_CONCURRENCY, "off").unwrap().adaptive_concurrency);
        for bad in ["yes", "0", "OFF "] {
            assert_eq!(field_of(with(ADAPTIVE_CONCURRENCY, bad)), ADAPTIVE_CONCURRENCY, "{bad}");
        }
    }

    #[test]
    fn errors_never_contain_the_secret() {
        let result = parse(&fields(&[("client_id", "i"), ("client_secret", "canary\u{7}secret"), ("subdomain", "a")]));
        let message = result.unwrap_err().to_string();
        assert!(!message.contains("canary"), "{message}");
    }
}
