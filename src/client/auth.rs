//! The OAuth2 client-credentials token (`POST /auth/oauth2/v2/token`).
//!
//! Credentials go in an HTTP Basic header (one of the three forms OneLogin
//! accepts, and the only one safe for any character in the secret). The
//! response is bare JSON: `{"access_token","expires_in":36000,"account_id",…}`.
//! OneLogin returns the same token until it expires, so it is cached for its
//! lifetime and fetched again only on expiry or a 401.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use super::errors;
use super::transport::{Bounds, Method, Request, Response};
use crate::config::Config;
use crate::error::{Error, Result, Secret};

/// Token path.
pub const TOKEN_PATH: &str = "/auth/oauth2/v2/token";

/// Renew this long before the announced expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Assumed lifetime when the response has no `expires_in`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest lifetime believed: OneLogin's tokens live 10 h; an absurd
/// `expires_in` (2^64-1) is clamped to a day, never added unchecked.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// The longest access token accepted. OneLogin's are 64 hex characters; the
/// token goes into every request's `Authorization` header, so a huge one
/// would break the host's header-size limit on every call.
pub const MAX_TOKEN_LEN: usize = 4096;
/// The longest `account_id` accepted (OneLogin's are numbers of a few digits);
/// it becomes part of every key and of the sync cursor.
pub const MAX_ACCOUNT_ID_LEN: usize = 64;
/// Token responses larger than this are refused unparsed (a real one is
/// about 300 bytes).
pub const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// A granted access token.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    pub lifetime: Duration,
    pub account_id: Option<String>,
}

impl Token {
    /// When to stop using it, given when it was obtained (saturating: no
    /// lifetime can overflow the clock arithmetic).
    pub fn renew_at(&self, obtained: Duration) -> Duration {
        obtained.saturating_add(self.lifetime.min(MAX_LIFETIME).saturating_sub(EXPIRY_MARGIN))
    }
}

/// The token request for `config`.
pub fn token_request(config: &Config) -> Request {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        config.client_id,
        config.client_secret.expose()
    ));
    Request {
        method: Method::Post,
        scheme: config.base_url.scheme,
        authority: config.base_url.authority.clone(),
        path_and_query: TOKEN_PATH.to_string(),
        headers: vec![
            ("authorization".to_string(), format!("Basic {basic}")),
            ("content-type".to_string(), "application/json".to_string()),
            ("accept".to_string(), "application/json".to_string()),
        ],
        body: Some(json!({"grant_type": "client_credentials"}).to_string().into_bytes()),
        bounds: Bounds::default(),
    }
}

/// Read the token response.
pub fn parse_token_response(response: &Response) -> Result<Token> {
    match response.status {
        200..=299 => {}
        400 | 401 | 403 => {
            return Err(Error::AuthenticationFailed(
                "OneLogin rejected the client credentials (check client_id, client_secret and the API host)".into(),
            ))
        }
        429 => return Err(Error::RateLimited { retry_after: errors::retry_after(response) }),
        // OneLogin documents a 500 here when the admin who created the API
        // credential was deleted (generate-tokens v2); the client tried it
        // again first (`Client::authenticate`). Retrying the same credential
        // cannot help then, so it is a credential problem, not a retryable one.
        500 => {
            return Err(Error::AuthenticationFailed(
                "the token endpoint answered HTTP 500, which OneLogin documents when the admin who created the API \
                 credential was deleted: create a new credential (or retry later if OneLogin reports an outage)"
                    .into(),
            ))
        }
        status => return Err(errors::from_response(status, response, "POST /auth/oauth2/v2/token")),
    }
    let broken = |what: &str| Error::UnexpectedResponse {
        status: response.status,
        message: format!("the token response {what}"),
    };
    if response.body.len() > MAX_TOKEN_RESPONSE {
        return Err(broken(&format!("is larger than {MAX_TOKEN_RESPONSE} bytes")));
    }
    let body: Value = serde_json::from_slice(&response.body).map_err(|_| broken("is not JSON"))?;
    let value = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty());
    let value = value.ok_or_else(|| broken("has no access_token"))?;
    // The token goes into a header: visible ASCII only, and a sane length.
    if value.len() > MAX_TOKEN_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(broken(&format!("has an unusable access_token (not 1-{MAX_TOKEN_LEN} visible ASCII characters)")));
    }
    errors::Redactions::set_token(value);
    // A missing, negative, fractional or non-numeric lifetime is the default;
    // a huge one is clamped (see `MAX_LIFETIME`).
    let lifetime = body
        .get("expires_in")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIFETIME, |secs| Duration::from_secs(secs).min(MAX_LIFETIME));
    let account_id = match body.get("account_id") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    if let Some(id) = &account_id {
        let sane = id.len() <= MAX_ACCOUNT_ID_LEN
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !sane {
            return Err(broken(&format!(
                "has an unusable account_id (not 1-{MAX_ACCOUNT_ID_LEN} letters, digits, '-', '_' or '.')"
            )));
        }
    }
    Ok(Token { value: Secret::new(value), lifetime, account_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BaseUrl, Scheme};

    fn config() -> Config {
        Config {
            client_id: "id".into(),
            client_secret: Secret::new("s3cret"),
            base_url: BaseUrl { scheme: Scheme::Https, authority: "acme.onelogin.com".into() },
            event_lookback_days: 90,
            timeouts: Default::default(),
            adaptive_concurrency: true,
        }
    }

    fn response(status: u16, body: &str) -> Response {
        Response { status, headers: Vec::new(), body: body.as_bytes().to_vec() }
    }

    #[test]
    fn token_request_uses_basic_auth_and_json_grant() {
        let request = token_request(&config());
        assert_eq!(request.path_and_query, TOKEN_PATH);
        assert!(request.headers.contains(&("authorization".into(), "Basic aWQ6czNjcmV0".into())));
        assert_eq!(request.body.as_deref(), Some(br#"{"grant_type":"client_credentials"}"#.as_slice()));
    }

    #[test]
    fn token_response_is_parsed() {
        let token = parse_token_response(&response(
            200,
            r#"{"access_token":"t","created_at":"2021-08-05T02:57:36.136Z","expires_in":36000,"refresh_token":"r","token_type":"bearer","account_id":189185}"#,
        ))
        .unwrap();
        assert_eq!(token.value.expose(), "t");
        assert_eq!(token.lifetime, Duration::from_secs(36000));
        assert_eq!(token.account_id.as_deref(), Some("189185"));
        assert_eq!(token.renew_at(Duration::from_secs(10)), Duration::from_secs(10 + 36000 - 60));
    }

    #[test]
    fn absurd_lifetimes_are_clamped_and_never_overflow() {
        let token = parse_token_response(&response(
            200,
            r#"{"access_token":"t","expires_in":18446744073709551615,"account_id":1}"#,
        ))
        .unwrap();
        assert_eq!(token.lifetime, MAX_LIFETIME);
        assert_eq!(token.renew_at(Duration::MAX), Duration::MAX);
        let huge = Token { lifetime: Duration::MAX, ..token.clone() };
        assert_eq!(huge.renew_at(Duration::from_secs(1)), Duration::from_secs(1) + MAX_LIFETIME - EXPIRY_MARGIN);
        for odd in ["-1", "1.5", "\"36000\"", "null", "1e400", "[]"] {
            let body = format!(r#"{{"access_token":"t","expires_in":{odd}}}"#);
            match parse_token_response(&response(200, &body)) {
                Ok(token) => assert!(token.lifetime <= MAX_LIFETIME, "{odd}"),
                Err(error) => assert!(matches!(error, Error::UnexpectedResponse { .. }), "{odd}: {error:?}"),
            }
        }
    }

    #[test]
    fn unusable_tokens_and_account_ids_are_typed_errors() {
        let long = format!(r#"{{"access_token":"{}","expires_in":3600}}"#, "a".repeat(100_000));
        let with_newline = r#"{"access_token":"a\r\nx-evil: 1","expires_in":3600}"#;
        let long_account = format!(r#"{{"access_token":"t","account_id":{}}}"#, "9".repeat(5000));
        let not_object = r#"[1,2,3]"#;
        for body in [long.as_str(), with_newline, &long_account, not_object, r#"{"access_token":7}"#] {
            let error = parse_token_response(&response(200, body)).unwrap_err();
            assert!(matches!(error, Error::UnexpectedResponse { status: 200, .. }), "{error:?}");
            assert!(error.to_string().len() < 200);
        }
        let big = format!(r#"{{"access_token":"t","pad":"{}"}}"#, "x".repeat(MAX_TOKEN_RESPONSE));
        assert!(parse_token_response(&response(200, &big)).is_err());
    }

    #[test]
    fn bad_credentials_and_broken_responses() {
        assert!(matches!(parse_token_response(&response(401, "")), Err(Error::AuthenticationFailed(_))));
        assert!(matches!(parse_token_response(&response(200, "<html>")), Err(Error::UnexpectedResponse { .. })));
        assert!(matches!(parse_token_response(&response(200, "{}")), Err(Error::UnexpectedResponse { .. })));
        assert!(matches!(parse_token_response(&response(429, "")), Err(Error::RateLimited { .. })));
        // The documented answer for a deleted credential owner: a credential
        // problem, not retryable.
        let deleted_owner = parse_token_response(&response(500, "")).unwrap_err();
        assert!(matches!(&deleted_owner, Error::AuthenticationFailed(m) if m.contains("deleted")), "{deleted_owner:?}");
        assert!(!deleted_owner.retryable());
    }
}
