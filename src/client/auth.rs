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
use super::transport::{Method, Request, Response};
use crate::config::Config;
use crate::error::{Error, Result, Secret};

/// Token path.
pub const TOKEN_PATH: &str = "/auth/oauth2/v2/token";

/// Renew this long before the announced expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Assumed lifetime when the response has no `expires_in`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// A granted access token.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    pub lifetime: Duration,
    pub account_id: Option<String>,
}

impl Token {
    /// When to stop using it, given when it was obtained.
    pub fn renew_at(&self, obtained: Duration) -> Duration {
        obtained + self.lifetime.saturating_sub(EXPIRY_MARGIN)
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
        500 => {
            return Err(Error::Upstream {
                status: 500,
                message: "the token endpoint failed; OneLogin documents this when the admin who created \
                          the API credential was deleted"
                    .into(),
            })
        }
        status => return Err(errors::from_response(status, response, "POST /auth/oauth2/v2/token")),
    }
    let body: Value = serde_json::from_slice(&response.body)
        .map_err(|_| Error::Upstream { status: response.status, message: "the token response is not JSON".into() })?;
    let value = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::Upstream { status: response.status, message: "the token response has no access_token".into() }
    })?;
    let lifetime = body.get("expires_in").and_then(Value::as_u64).map_or(DEFAULT_LIFETIME, Duration::from_secs);
    let account_id = match body.get("account_id") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
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
    fn bad_credentials_and_broken_responses() {
        assert!(matches!(parse_token_response(&response(401, "")), Err(Error::AuthenticationFailed(_))));
        assert!(matches!(parse_token_response(&response(200, "<html>")), Err(Error::Upstream { .. })));
        assert!(matches!(parse_token_response(&response(200, "{}")), Err(Error::Upstream { .. })));
        assert!(matches!(parse_token_response(&response(429, "")), Err(Error::RateLimited { .. })));
    }
}
