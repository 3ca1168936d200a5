//! Turning OneLogin error responses into [`Error`]s.
//!
//! OneLogin speaks two dialects (developers.onelogin.com error pages; the
//! legacy Python SDK's tests list the variants):
//! - v1: `{"status":{"error":true,"code":401,"type":"Unauthorized","message":"…"}}`,
//!   where `message` may be a string or an `{"attribute","description"}` object,
//!   and even a 200 response can carry `status.error: true`;
//! - v2: `{"message":"…","statusCode":404,"name":"NotFoundError"}` or
//!   `{"code":422,"message":"Validation Failed","errors":[…]}`;
//! - the roles service: `{"status":400,"error":"BadRequestError","description":"…"}`.
//!
//! Bodies may also be HTML or empty (gateways, throttling), so parsing never fails:
//! the worst case is a message without upstream detail.
//!
//! In every dialect a refused *scope* (the credentials are valid but may not
//! do this: any 403, or a 401 saying "Insufficient Permission") is told apart
//! from refused *credentials* (any other 401): see [`is_scope_refusal`].
//!
//! Upstream text is untrusted. A server may echo what it was sent (the Basic
//! credentials, the bearer token, a password in a write's body). Every
//! upstream message goes through [`redact`] before it enters an [`Error`]:
//! the values registered with [`Redactions`] (the client registers the
//! client id and secret, the access token and the secret fields of each
//! write it sends) are replaced by `<redacted>`, after control characters are
//! removed (so they cannot hide a secret) and before truncation (so a cut
//! cannot leave half of one).

use std::cell::RefCell;

use serde_json::Value;

use super::transport::Response;
use crate::error::Error;

/// Longest upstream message kept in an error (upstream text is untrusted).
const MAX_MESSAGE: usize = 300;

/// Seconds to wait when a 429 carries no `X-RateLimit-Reset`.
pub const DEFAULT_RETRY_AFTER: u32 = 60;

/// The longest wait a rate-limit header can ask for: OneLogin's window is one
/// hour, so a larger (or absurd, e.g. 2^64-1) reset is clamped to this.
pub const MAX_RETRY_AFTER: u32 = 3600;

/// Error bodies larger than this are not parsed for a message (an error
/// body is a few hundred bytes; parsing a huge one could exhaust memory).
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// What replaces a secret in upstream text.
pub const REDACTED: &str = "<redacted>";

/// Shortest value redacted as a substring: shorter ones are not secrets
/// worth the name, and redacting them would erase every message.
const MIN_REDACTED_LEN: usize = 4;
/// Secret fields of recent writes remembered for redaction (a bounded ring).
const MAX_WRITE_SECRETS: usize = 16;

#[derive(Default)]
struct RedactionSet {
    /// Config credentials and their encodings; the current access token.
    standing: Vec<String>,
    token: Option<String>,
    /// Secret values of recent request bodies (passwords), newest last.
    writes: Vec<String>,
}

thread_local! {
    // The component is single-threaded; one set per instance.
    static REDACTIONS: RefCell<RedactionSet> = RefCell::new(RedactionSet::default());
}

/// The secrets upstream text must never relay, for this instance.
pub struct Redactions;

impl Redactions {
    /// The configured credentials (replacing earlier ones) and, for an
    /// echoed `Authorization: Basic` header, their base64 form.
    pub fn set_credentials(values: &[&str]) {
        let standing = values.iter().filter(|v| v.len() >= MIN_REDACTED_LEN).map(|v| v.to_string()).collect();
        REDACTIONS.with(|set| {
            let mut set = set.borrow_mut();
            set.standing = standing;
            set.writes.clear();
            set.token = None;
        });
    }

    /// The current access token (replacing the previous one).
    pub fn set_token(token: &str) {
        REDACTIONS.with(|set| set.borrow_mut().token = Some(token.to_string()));
    }

    /// Secret values a write is about to send (e.g. a password).
    pub fn add_write_secret(value: &str) {
        if value.len() < MIN_REDACTED_LEN {
            return;
        }
        REDACTIONS.with(|set| {
            let mut set = set.borrow_mut();
            if !set.writes.iter().any(|w| w == value) {
                if set.writes.len() >= MAX_WRITE_SECRETS {
                    set.writes.remove(0);
                }
                set.writes.push(value.to_string());
            }
        });
    }
}

/// `text` with control characters removed and every registered secret
/// replaced by [`REDACTED`]. Longest secrets first, so one that contains
/// another is replaced whole.
pub fn redact(text: &str) -> String {
    let mut clean: String = text.chars().filter(|c| !c.is_control()).collect();
    REDACTIONS.with(|set| {
        let set = set.borrow();
        let mut secrets: Vec<&str> =
            set.standing.iter().chain(set.token.iter()).chain(set.writes.iter()).map(String::as_str).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets {
            if clean.contains(secret) {
                clean = clean.replace(secret, REDACTED);
            }
        }
    });
    clean
}

/// The upstream message of an error body, if it has one (redacted and
/// truncated; bodies over [`MAX_ERROR_BODY`] are not parsed).
pub fn upstream_message(body: &[u8]) -> Option<String> {
    if body.len() > MAX_ERROR_BODY {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = match value.get("status") {
        // v1: `{"status":{"error":true,"code":…,"message":…}}`.
        Some(status) if status.is_object() => status.get("message")?.clone(),
        // The roles service: `{"status":400,"error":"BadRequestError","description":…}`
        // (python-sdk #134; Terraform provider #196, #203).
        _ => match (value.get("description"), value.get("error")) {
            (Some(Value::String(description)), Some(Value::String(name))) => {
                Value::String(format!("{name}: {description}"))
            }
            (Some(description), _) => description.clone(),
            // v2: `{"statusCode":…,"name":…,"message":…}`.
            _ => value.get("message")?.clone(),
        },
    };
    let text = match message {
        Value::String(text) => text,
        Value::Object(object) => {
            let attribute = object.get("attribute").and_then(Value::as_str).unwrap_or("");
            let description = object.get("description").and_then(Value::as_str).unwrap_or("");
            format!("{attribute}: {description}")
        }
        other => other.to_string(),
    };
    Some(truncate(&redact(&text)))
}

/// A v1 body whose `status.error` is true, with its code (for 200 responses
/// that are really errors).
pub fn v1_status_error(body: &Value) -> Option<u16> {
    let status = body.get("status")?;
    if status.get("error").and_then(Value::as_bool) == Some(true) {
        let code = status.get("code").and_then(Value::as_u64).unwrap_or(500);
        return Some(u16::try_from(code).unwrap_or(500));
    }
    None
}

/// Seconds until the rate-limit window resets, from `X-RateLimit-Reset`
/// (seconds remaining, not an epoch) or `Retry-After`: between 1 and
/// [`MAX_RETRY_AFTER`], [`DEFAULT_RETRY_AFTER`] when absent or not a number.
pub fn retry_after(response: &Response) -> u32 {
    WAIT_HEADERS.iter().find_map(|name| reset_seconds(response.header(name)?)).unwrap_or(DEFAULT_RETRY_AFTER)
}

/// The headers that name a wait, in the order [`retry_after`] reads them.
const WAIT_HEADERS: [&str; 2] = ["x-ratelimit-reset", "retry-after"];

/// Whether the response names a wait (`X-RateLimit-Reset` or `Retry-After`,
/// whatever its value).
pub fn names_a_wait(response: &Response) -> bool {
    WAIT_HEADERS.iter().any(|name| response.header(name).is_some())
}

/// A reset header's seconds, clamped to 1..=[`MAX_RETRY_AFTER`]; `None` if
/// it is not a whole number. Any number of digits is accepted (and clamped):
/// `18446744073709551615` or a 500-digit value waits an hour, not forever.
pub fn reset_seconds(value: &str) -> Option<u32> {
    let digits = value.trim();
    if digits.is_empty() || digits.len() > 1000 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = digits.parse::<u64>().unwrap_or(u64::MAX);
    Some(u32::try_from(seconds.min(u64::from(MAX_RETRY_AFTER))).unwrap_or(MAX_RETRY_AFTER).max(1))
}

/// Whether a 401 or 403 refuses the credentials' scope rather than the
/// credentials: every 403 (v2 `ForbiddenError`, v1 "forbidden", the roles
/// service's `ForbiddenError`, an HTML 403), and a 401 whose message (in any
/// dialect) says "Insufficient Permission" (v1's documented scope refusal).
pub fn is_scope_refusal(status: u16, body: &[u8]) -> bool {
    match status {
        403 => true,
        401 => upstream_message(body).is_some_and(|m| m.to_ascii_lowercase().contains("insufficient permission")),
        _ => false,
    }
}

/// The error for a non-success response (or a success status whose v1 body
/// says error). `what` names the request for messages, e.g. `GET /api/2/users`.
pub fn from_response(status: u16, response: &Response, what: &str) -> Error {
    let upstream = upstream_message(&response.body);
    let detail = || upstream.clone().unwrap_or_else(|| format!("no error detail ({})", body_kind(response)));
    match status {
        401 | 403 if is_scope_refusal(status, &response.body) => Error::InsufficientScope(format!(
            "{what}: the API credential's scope does not allow this ({}); OneLogin reserves some reads and every \
             write for Manage All",
            detail()
        )),
        401 => Error::AuthenticationFailed(format!(
            "{what}: OneLogin refused the credentials or the access token ({})",
            detail()
        )),
        404 => Error::NotFound(format!("{what}: {}", detail())),
        429 => Error::RateLimited { retry_after: retry_after(response) },
        _ => Error::Upstream { status, message: format!("{what}: {}", detail()) },
    }
}

fn body_kind(response: &Response) -> &'static str {
    match response.header("content-type") {
        _ if response.body.is_empty() => "empty body",
        Some(kind) if kind.contains("html") => "HTML body",
        _ => "unrecognised body",
    }
}

fn truncate(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE).collect();
    if text.chars().count() > MAX_MESSAGE {
        format!("{clean}…")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn v1_string_and_object_messages() {
        let text = r#"{"status":{"error":true,"code":404,"type":"not found","message":"No Route Exists"}}"#;
        assert_eq!(upstream_message(text.as_bytes()).as_deref(), Some("No Route Exists"));
        let object = r#"{"status":{"error":true,"code":400,"type":"bad request","message":{"attribute":"id","description":"ID is incorrect"}}}"#;
        assert_eq!(upstream_message(object.as_bytes()).as_deref(), Some("id: ID is incorrect"));
    }

    #[test]
    fn v2_message() {
        let body = r#"{"message":"Unauthorized","statusCode":401,"name":"UnauthorizedError"}"#;
        assert_eq!(upstream_message(body.as_bytes()).as_deref(), Some("Unauthorized"));
    }

    #[test]
    fn roles_service_dialect_keeps_its_description() {
        let body = r#"{"status":400,"error":"BadRequestError","description":"Requests can only have cursor xor pagination arguments"}"#;
        assert_eq!(
            upstream_message(body.as_bytes()).as_deref(),
            Some("BadRequestError: Requests can only have cursor xor pagination arguments")
        );
        let error = from_response(400, &response(400, &[], body), "GET /api/2/roles");
        assert!(error.to_string().contains("cursor xor pagination"), "{error}");
    }

    #[test]
    fn insufficient_permission_is_a_scope_error() {
        let body = r#"{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Insufficient Permission"}}"#;
        let error = from_response(401, &response(401, &[], body), "PUT /api/1/x");
        assert!(matches!(error, Error::InsufficientScope(_)));
        let forbidden = r#"{"statusCode":403,"name":"ForbiddenError","message":"Insufficient Permission"}"#;
        assert!(matches!(from_response(403, &response(403, &[], forbidden), "x"), Error::InsufficientScope(_)));
    }

    #[test]
    fn every_dialect_tells_scope_errors_from_credential_errors_with_a_readable_message() {
        // (dialect, status, body, content type, scope refusal?, text the message keeps)
        let cases: [(&str, u16, &str, &str, bool, &str); 10] = [
            (
                "v1",
                401,
                r#"{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Insufficient Permission"}}"#,
                "application/json",
                true,
                "Insufficient Permission",
            ),
            (
                "v1",
                401,
                r#"{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Authentication Failure"}}"#,
                "application/json",
                false,
                "Authentication Failure",
            ),
            (
                "v1",
                403,
                r#"{"status":{"error":true,"code":403,"type":"forbidden","message":"user is not authorized to access this User"}}"#,
                "application/json",
                true,
                "not authorized to access this User",
            ),
            (
                "v2",
                403,
                r#"{"statusCode":403,"name":"ForbiddenError","message":"Insufficient Permission"}"#,
                "application/json",
                true,
                "Insufficient Permission",
            ),
            (
                "v2",
                401,
                r#"{"message":"Unauthorized","statusCode":401,"name":"UnauthorizedError"}"#,
                "application/json",
                false,
                "Unauthorized",
            ),
            (
                "privileges",
                401,
                r#"{"statusCode":401,"name":"UnauthorizedError","message":"The request requires user authentication."}"#,
                "application/json",
                false,
                "requires user authentication",
            ),
            (
                "roles service",
                403,
                r#"{"status":403,"error":"ForbiddenError","description":"Insufficient Permission"}"#,
                "application/json",
                true,
                "ForbiddenError: Insufficient Permission",
            ),
            (
                "roles service",
                401,
                r#"{"status":401,"error":"UnauthorizedError","description":"Insufficient permission"}"#,
                "application/json",
                true,
                "UnauthorizedError: Insufficient permission",
            ),
            (
                "roles service",
                401,
                r#"{"status":401,"error":"UnauthorizedError","description":"Invalid token"}"#,
                "application/json",
                false,
                "UnauthorizedError: Invalid token",
            ),
            ("HTML", 403, "<html><body>Forbidden</body></html>", "text/html", true, "HTML body"),
        ];
        for (dialect, status, body, content_type, scope, kept) in cases {
            let error = from_response(status, &response(status, &[("content-type", content_type)], body), "GET /api/x");
            let label = format!("{dialect} {status}: {error}");
            match (&error, scope) {
                (Error::InsufficientScope(message), true) => {
                    assert!(message.contains("scope") && message.contains(kept), "{label}")
                }
                (Error::AuthenticationFailed(message), false) => {
                    assert!(message.contains("credentials") && message.contains(kept), "{label}")
                }
                _ => panic!("wrong kind for {label}"),
            }
            assert_eq!(is_scope_refusal(status, body.as_bytes()), scope, "{label}");
        }
        let html = response(401, &[("content-type", "text/html")], "<html>401</html>");
        assert!(matches!(from_response(401, &html, "x"), Error::AuthenticationFailed(m) if m.contains("HTML body")));
    }

    #[test]
    fn rate_limit_uses_reset_header_or_default() {
        let limited = response(429, &[("x-ratelimit-reset", "17")], "");
        assert_eq!(from_response(429, &limited, "x"), Error::RateLimited { retry_after: 17 });
        let html = response(429, &[("content-type", "text/html")], "<html>slow down</html>");
        assert_eq!(from_response(429, &html, "x"), Error::RateLimited { retry_after: DEFAULT_RETRY_AFTER });
    }

    #[test]
    fn html_and_garbage_bodies_still_give_an_error() {
        let html = response(502, &[("content-type", "text/html")], "<html>bad gateway</html>");
        match from_response(502, &html, "GET /api/2/users") {
            Error::Upstream { status: 502, message } => assert!(message.contains("HTML body"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long_upstream_messages_are_truncated() {
        let body = format!(r#"{{"message":"{}"}}"#, "x".repeat(5000));
        assert!(upstream_message(body.as_bytes()).unwrap().chars().count() <= MAX_MESSAGE + 1);
    }

    #[test]
    fn absurd_reset_values_are_clamped() {
        let with = |value: &str| retry_after(&response(429, &[("x-ratelimit-reset", value)], ""));
        assert_eq!(with("18446744073709551615"), MAX_RETRY_AFTER);
        assert_eq!(with(&"9".repeat(500)), MAX_RETRY_AFTER);
        assert_eq!(with("0"), 1);
        assert_eq!(with("-5"), DEFAULT_RETRY_AFTER);
        assert_eq!(with("1.5"), DEFAULT_RETRY_AFTER);
        assert_eq!(with(""), DEFAULT_RETRY_AFTER);
        assert_eq!(with(" 42 "), 42);
    }

    #[test]
    fn echoed_secrets_are_redacted_even_when_split_by_control_characters() {
        Redactions::set_credentials(&["client-canary-id", "client-canary-secret"]);
        Redactions::set_token("token-canary-value");
        Redactions::add_write_secret("Password-Canary-1!");
        let text = format!(
            "bad: client-canary-id:client-canary-se\u{7}cret token-canary-value Password-Canary-1! {}",
            "x".repeat(400)
        );
        let body = serde_json::json!({ "message": text }).to_string();
        let message = upstream_message(body.as_bytes()).unwrap();
        for canary in ["canary-id", "canary-secret", "canary-se", "token-canary", "Password-Canary"] {
            assert!(!message.contains(canary), "{message}");
        }
        assert!(message.contains(REDACTED));
        let error = from_response(400, &response(400, &[], &body), "PUT /x");
        assert!(!error.to_string().contains("canary"), "{error}");
        Redactions::set_credentials(&[]);
    }

    #[test]
    fn huge_error_bodies_are_not_parsed() {
        let body = format!(r#"{{"message":"{}"}}"#, "x".repeat(MAX_ERROR_BODY));
        assert_eq!(upstream_message(body.as_bytes()), None);
        match from_response(500, &response(500, &[], &body), "GET /x") {
            Error::Upstream { message, .. } => assert!(message.len() < 100, "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn v1_success_status_with_error_flag() {
        let body: Value = serde_json::from_str(r#"{"status":{"error":true,"code":400,"message":"x"}}"#).unwrap();
        assert_eq!(v1_status_error(&body), Some(400));
        let ok: Value = serde_json::from_str(r#"{"status":{"error":false,"code":200}}"#).unwrap();
        assert_eq!(v1_status_error(&ok), None);
    }
}
