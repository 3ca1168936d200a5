//! Turning OneLogin error responses into [`Error`]s.
//!
//! OneLogin speaks two dialects (developers.onelogin.com error pages; the
//! legacy Python SDK's tests list the variants):
//! - v1: `{"status":{"error":true,"code":401,"type":"Unauthorized","message":"…"}}`,
//!   where `message` may be a string or an `{"attribute","description"}` object,
//!   and even a 200 response can carry `status.error: true`;
//! - v2: `{"message":"…","statusCode":404,"name":"NotFoundError"}` or
//!   `{"code":422,"message":"Validation Failed","errors":[…]}`.
//!
//! Bodies may also be HTML or empty (gateways, throttling), so parsing never fails:
//! the worst case is a message without upstream detail.

use serde_json::Value;

use super::transport::Response;
use crate::error::Error;

/// Longest upstream message kept in an error (upstream text is untrusted).
const MAX_MESSAGE: usize = 300;

/// Seconds to wait when a 429 carries no `X-RateLimit-Reset`.
pub const DEFAULT_RETRY_AFTER: u32 = 60;

/// The upstream message of an error body, if it has one.
pub fn upstream_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = match value.get("status") {
        Some(status) if status.is_object() => status.get("message")?.clone(),
        _ => value.get("message")?.clone(),
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
    Some(truncate(&text))
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
/// (seconds remaining, not an epoch) or `Retry-After`.
pub fn retry_after(response: &Response) -> u32 {
    ["x-ratelimit-reset", "retry-after"]
        .iter()
        .find_map(|name| response.header(name)?.trim().parse::<u32>().ok())
        .map_or(DEFAULT_RETRY_AFTER, |seconds| seconds.max(1))
}

/// The error for a non-success response (or a success status whose v1 body
/// says error). `what` names the request for messages, e.g. `GET /api/2/users`.
pub fn from_response(status: u16, response: &Response, what: &str) -> Error {
    let upstream = upstream_message(&response.body);
    let detail = || upstream.clone().unwrap_or_else(|| format!("no error detail ({})", body_kind(response)));
    match status {
        401 if upstream.as_deref() == Some("Insufficient Permission") => {
            Error::InsufficientScope(format!("{what}: the API credential's scope does not allow this"))
        }
        401 => Error::AuthenticationFailed(format!("{what}: {}", detail())),
        403 => Error::InsufficientScope(format!("{what}: {}", detail())),
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
    fn insufficient_permission_is_a_scope_error() {
        let body = r#"{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Insufficient Permission"}}"#;
        let error = from_response(401, &response(401, &[], body), "PUT /api/1/x");
        assert!(matches!(error, Error::InsufficientScope(_)));
        let forbidden = r#"{"statusCode":403,"name":"ForbiddenError","message":"Insufficient Permission"}"#;
        assert!(matches!(from_response(403, &response(403, &[], forbidden), "x"), Error::InsufficientScope(_)));
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
    fn v1_success_status_with_error_flag() {
        let body: Value = serde_json::from_str(r#"{"status":{"error":true,"code":400,"message":"x"}}"#).unwrap();
        assert_eq!(v1_status_error(&body), Some(400));
        let ok: Value = serde_json::from_str(r#"{"status":{"error":false,"code":200}}"#).unwrap();
        assert_eq!(v1_status_error(&ok), None);
    }
}
