//! Connector configuration: the schema `describe` publishes and the
//! validation `configure` applies to what a host passes in.
//!
//! The API host is given one of three ways (exactly one):
//! - `subdomain`: `acme` → `https://acme.onelogin.com` (OneLogin's current docs);
//! - `region`: `us` | `eu` → `https://api.<region>.onelogin.com` (legacy shard hosts);
//! - `base_url`: any `https://host[:port]`, or `http://` to a loopback address
//!   (for simulators and tests).

use crate::error::{Error, Result, Secret};
use crate::identity::connector::types::{ConfigField, ConfigFieldSpec, ValueType};

/// Config field names.
pub const CLIENT_ID: &str = "client_id";
pub const CLIENT_SECRET: &str = "client_secret";
pub const SUBDOMAIN: &str = "subdomain";
pub const REGION: &str = "region";
pub const BASE_URL: &str = "base_url";
pub const EVENT_LOOKBACK_DAYS: &str = "event_lookback_days";

/// How far back the first (full) sync reads events, unless configured.
pub const DEFAULT_EVENT_LOOKBACK_DAYS: u32 = 90;
/// The longest lookback accepted (OneLogin keeps events for a limited time anyway).
const MAX_EVENT_LOOKBACK_DAYS: u32 = 3650;

const HOST_GROUP: &str = "api_host";

/// The config schema, in the order a form should show it.
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
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub client_id: String,
    pub client_secret: Secret,
    pub base_url: BaseUrl,
    /// Days of events a full sync reads.
    pub event_lookback_days: u32,
}

/// Validate the fields a host passed to `configure`.
// Long: one pass over the fields, then one check per rule, each naming its field.
pub fn parse(fields: &[ConfigField]) -> Result<Config> {
    let mut client_id = None;
    let mut client_secret = None;
    let mut lookback = None;
    let mut hosts: Vec<(&str, &str)> = Vec::new();
    for field in fields {
        let value = field.value.trim();
        let slot = match field.name.as_str() {
            CLIENT_ID => &mut client_id,
            CLIENT_SECRET => &mut client_secret,
            EVENT_LOOKBACK_DAYS => &mut lookback,
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

    Ok(Config {
        client_id: client_id.to_string(),
        client_secret: Secret::new(client_secret),
        base_url,
        event_lookback_days,
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
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(bad("invalid port"));
        }
    }
    let host_ok = host.starts_with('[') && host.ends_with(']')
        || (!host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    if !host_ok {
        return Err(bad("invalid host name"));
    }
    if scheme == Scheme::Http && !is_loopback(host) {
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

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || host.strip_prefix("127.").is_some_and(|rest| rest.split('.').count() == 3)
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

    #[test]
    fn errors_never_contain_the_secret() {
        let result = parse(&fields(&[("client_id", "i"), ("client_secret", "canary\u{7}secret"), ("subdomain", "a")]));
        let message = result.unwrap_err().to_string();
        assert!(!message.contains("canary"), "{message}");
    }
}
