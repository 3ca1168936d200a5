//! OAuth2 token endpoint, bearer-token checks and scopes.
//!
//! * `POST /auth/oauth2/v2/token` accepts the three documented credential forms: the
//!   `Authorization: client_id:X, client_secret:Y` header (with or without the space),
//!   HTTP Basic, and a form body with `client_id`/`client_secret`. The grant type comes
//!   from the JSON body `{"grant_type":"client_credentials"}` or the form body.
//! * The SAME token (and `created_at`) is returned per client until it expires
//!   (`token_ttl`) or is revoked; `expires_in` counts down the remaining seconds.
//! * `POST /auth/oauth2/revoke` and `GET /auth/rate_limit`.
//!
//! Two clients exist: one with scope "Manage All", one with "Read All". A Read All token
//! may only `GET`, and not the endpoints the docs reserve for Manage All: connectors,
//! app rules, MFA devices and privileges (see [`Scope::allows`]).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::errors::{json_response, v1_bad_request, v1_error, v1_success_status, v1_type};
use super::tenant::iso_millis;
use super::{lock, Credentials, Shared};

/// An API credential's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// "Manage All": everything.
    ManageAll,
    /// "Read All": `GET` only, and not what [`manage_all_only`] names.
    ReadAll,
}

impl Scope {
    /// Whether this scope may call `method path` (FIDELITY.md F-SCOPE-1, F-SCOPE-2).
    pub fn allows(self, method: &Method, path: &str) -> bool {
        match self {
            Scope::ManageAll => true,
            Scope::ReadAll => (method == Method::GET || method == Method::HEAD) && !manage_all_only(path),
        }
    }
}

/// Reads the current docs reserve for Manage All: `GET /api/2/connectors` (list
/// connectors), app rules (`api-docs/2/app-rules/list-rules`), a user's MFA devices
/// (the enrolled-factors page's current copy) and privileges (Delegated Administration
/// pages). FIDELITY.md F-SCOPE-2, F-MFA-6, F-PRIV-8.
pub fn manage_all_only(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let app_rules = path.strip_prefix("/api/2/apps/").is_some_and(|rest| rest.split('/').nth(1) == Some("rules"));
    path == "/api/2/connectors"
        || app_rules
        || path.starts_with("/api/2/mfa/")
        || path == "/api/1/privileges"
        || path.starts_with("/api/1/privileges/")
}

/// An issued access token.
#[derive(Clone, Debug)]
pub struct TokenInfo {
    /// The bearer token.
    pub access_token: String,
    /// The (unused) refresh token.
    pub refresh_token: String,
    /// ISO8601 issue time.
    pub created_at: String,
    /// When it was issued (monotonic).
    pub issued: Instant,
    /// The client it belongs to.
    pub client_id: String,
    /// The client's scope.
    pub scope: Scope,
}

/// Clients and their tokens.
#[derive(Debug)]
pub struct TokenStore {
    ttl: Duration,
    clients: Vec<(Credentials, Scope)>,
    tokens: HashMap<String, TokenInfo>,
    by_client: HashMap<String, String>,
}

fn random_hex(rng: &mut impl Rng, bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

impl TokenStore {
    /// A store whose two clients (manage, read) are derived from `seed`.
    pub fn new(seed: u64, ttl: Duration) -> TokenStore {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de);
        let manage = Credentials { client_id: random_hex(&mut rng, 32), client_secret: random_hex(&mut rng, 32) };
        let read = Credentials { client_id: random_hex(&mut rng, 32), client_secret: random_hex(&mut rng, 32) };
        TokenStore {
            ttl,
            clients: vec![(manage, Scope::ManageAll), (read, Scope::ReadAll)],
            tokens: HashMap::new(),
            by_client: HashMap::new(),
        }
    }

    /// The credentials with `scope`.
    pub fn credentials(&self, scope: Scope) -> Credentials {
        self.clients
            .iter()
            .find(|(_, s)| *s == scope)
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| Credentials { client_id: String::new(), client_secret: String::new() })
    }

    /// The scope of a client, if the id and secret match.
    pub fn client_scope(&self, id: &str, secret: &str) -> Option<Scope> {
        self.clients.iter().find(|(c, _)| c.client_id == id && c.client_secret == secret).map(|(_, s)| *s)
    }

    fn valid(&self, info: &TokenInfo, now: Instant) -> bool {
        now.duration_since(info.issued) < self.ttl
    }

    /// A token's lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Seconds left before `info` expires.
    ///
    /// Assumption (FIDELITY.md F-TOK-8): a re-issued token reports the remaining seconds.
    pub fn expires_in(&self, info: &TokenInfo, now: Instant) -> u64 {
        self.ttl.as_secs().saturating_sub(now.duration_since(info.issued).as_secs())
    }

    /// The client's current token, or a new one when it has none or it expired.
    pub fn issue(&mut self, client_id: &str, scope: Scope, now: Instant) -> TokenInfo {
        if let Some(tok) = self.by_client.get(client_id) {
            if let Some(info) = self.tokens.get(tok) {
                if self.valid(info, now) {
                    return info.clone();
                }
            }
            let tok = tok.clone();
            self.tokens.remove(&tok);
        }
        let mut rng = rand::rng();
        let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let info = TokenInfo {
            access_token: random_hex(&mut rng, 32),
            refresh_token: random_hex(&mut rng, 32),
            created_at: iso_millis(ms),
            issued: now,
            client_id: client_id.to_string(),
            scope,
        };
        self.by_client.insert(client_id.to_string(), info.access_token.clone());
        self.tokens.insert(info.access_token.clone(), info.clone());
        info
    }

    /// The scope of a live token.
    pub fn check(&self, token: &str, now: Instant) -> Option<Scope> {
        self.tokens.get(token).filter(|info| self.valid(info, now)).map(|info| info.scope)
    }

    /// Revokes one token (only if it belongs to `client_id`).
    pub fn revoke(&mut self, token: &str, client_id: &str) {
        if self.tokens.get(token).is_some_and(|i| i.client_id == client_id) {
            self.tokens.remove(token);
            self.by_client.remove(client_id);
        }
    }

    /// Revokes every issued token.
    pub fn revoke_all(&mut self) {
        self.tokens.clear();
        self.by_client.clear();
    }
}

/// The bearer token of a request: `Bearer X`, `bearer X` or `bearer:X`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let prefix = value.get(..6)?;
    if !prefix.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let rest = value[6..].trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
    (!rest.is_empty()).then_some(rest)
}

/// Client credentials from the `Authorization` header (Basic or `client_id:X,
/// client_secret:Y`).
fn header_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if value.len() > 6 && value[..6].eq_ignore_ascii_case("basic ") {
        let decoded = STANDARD.decode(value[6..].trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_string(), secret.to_string()));
    }
    let (mut id, mut secret) = (None, None);
    for part in value.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("client_id:") {
            id = Some(v.trim().to_string());
        } else if let Some(v) = part.strip_prefix("client_secret:") {
            secret = Some(v.trim().to_string());
        }
    }
    Some((id?, secret?))
}

/// Request body fields, from a form or a JSON object.
struct BodyFields(HashMap<String, String>);

impl BodyFields {
    fn parse(headers: &HeaderMap, body: &[u8]) -> BodyFields {
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        let mut map = HashMap::new();
        if is_form {
            for (k, v) in url::form_urlencoded::parse(body) {
                map.insert(k.into_owned(), v.into_owned());
            }
        } else if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
            for (k, v) in obj {
                if let Value::String(s) = v {
                    map.insert(k, s);
                }
            }
        }
        BodyFields(map)
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    fn credentials(&self) -> Option<(String, String)> {
        Some((self.get("client_id")?.to_string(), self.get("client_secret")?.to_string()))
    }
}

fn authentication_failure() -> Response {
    // Assumption (FIDELITY.md F-TOK-4): the real token 401 body was redacted in the HAR.
    v1_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Authentication Failure")
}

/// `POST /auth/oauth2/v2/token`.
pub async fn token(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = BodyFields::parse(&headers, &body);
    let creds = header_credentials(&headers).or_else(|| fields.credentials());
    let now = Instant::now();
    let mut st = lock(&sim);
    let sent_id = creds.as_ref().map_or("", |(id, _)| id.as_str()).to_string();
    if st.token_failures.locked(&sent_id, now) {
        // Repeated failures: 429 text/html without rate headers (FIDELITY.md F-TOK-14).
        return super::throttle::token_throttled();
    }
    let Some(scope) = creds.as_ref().and_then(|(id, secret)| st.tokens.client_scope(id, secret)) else {
        st.token_failures.fail(&sent_id, now);
        return authentication_failure();
    };
    if fields.get("grant_type") != Some("client_credentials") {
        // Assumption (FIDELITY.md F-TOK-3): credentials are checked before grant_type.
        return v1_bad_request("grant_type is incorrect/absent");
    }
    if st.credential_owner_deleted {
        // docs generate-tokens v2: the credential's owner was deleted → 500.
        // Assumption (FIDELITY.md F-TOK-16): the body (v1 envelope) and that it
        // comes after the credential and grant checks.
        return v1_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            v1_type(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal Server Error",
        );
    }
    let client_id = creds.map(|(id, _)| id).unwrap_or_default();
    let info = st.tokens.issue(&client_id, scope, now);
    let body = json!({
        "access_token": info.access_token,
        "created_at": info.created_at,
        "expires_in": st.tokens.expires_in(&info, now),
        "refresh_token": info.refresh_token,
        "token_type": "bearer",
        "account_id": st.tenant.account_id,
    });
    json_response(StatusCode::OK, &body)
}

/// `POST /auth/oauth2/revoke` with `{"access_token":…}` and client credentials.
///
/// Assumption (FIDELITY.md F-TOK-10): the response body and silent success.
pub async fn revoke(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = BodyFields::parse(&headers, &body);
    let creds = header_credentials(&headers).or_else(|| fields.credentials());
    let mut st = lock(&sim);
    let Some((client_id, _)) = creds.as_ref().filter(|(id, secret)| st.tokens.client_scope(id, secret).is_some())
    else {
        return authentication_failure();
    };
    let Some(token) = fields.get("access_token") else {
        return v1_bad_request("access_token is absent");
    };
    st.tokens.revoke(token, client_id);
    json_response(StatusCode::OK, &json!({"status": v1_success_status()}))
}

/// `GET /auth/rate_limit` (bearer token required; costs nothing).
///
/// Assumption (FIDELITY.md F-RATE-9): that it costs nothing.
pub async fn rate_limit(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    let now = Instant::now();
    let mut st = lock(&sim);
    let ok = bearer_token(&headers).is_some_and(|t| st.tokens.check(t, now).is_some());
    if !ok {
        return authentication_failure();
    }
    let info = st.rate.peek(now);
    json_response(
        StatusCode::OK,
        &json!({
            "status": v1_success_status(),
            "data": {
                "X-RateLimit-Limit": info.limit,
                "X-RateLimit-Remaining": info.remaining,
                "X-RateLimit-Reset": info.reset_secs,
            }
        }),
    )
}
