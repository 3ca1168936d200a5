//! OneLogin error bodies in both API dialects.
//!
//! * **v1** (`/api/1/...` and the `/auth/...` endpoints) wraps everything in a status
//!   envelope: `{"status":{"error":true,"code":404,"type":"not found","message":"…"}}`.
//! * **v2** (`/api/2/...` and everything else) uses bare
//!   `{"message":"…","statusCode":404,"name":"NotFoundError"}` objects.
//!
//! * The **roles service** (behind v2 list paging) answers paging errors as
//!   `{"status":400,"error":"BadRequestError","description":"…"}` (Terraform provider
//!   #196, #203; python-sdk #134). The simulator uses it for v2 paging errors on every
//!   list endpoint (Assumption, FIDELITY.md F-ERR-5: seen on `/api/2/roles` only).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Which error/envelope dialect a request path speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `/api/1/...` and `/auth/...`: status envelope.
    V1,
    /// `/api/2/...` and anything else: bare JSON.
    V2,
}

impl Dialect {
    /// The dialect of a request path. The privileges endpoints live under `/api/1`
    /// but answer in the v2 style.
    pub fn for_path(path: &str) -> Dialect {
        if path == "/api/1/privileges" || path.starts_with("/api/1/privileges/") {
            Dialect::V2
        } else if path == "/api/1" || path.starts_with("/api/1/") || path.starts_with("/auth/") {
            Dialect::V1
        } else {
            Dialect::V2
        }
    }
}

/// A JSON response with the given status and body.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

/// The v1 success status object.
pub fn v1_success_status() -> Value {
    json!({"error": false, "code": 200, "type": "success", "message": "Success"})
}

/// A v1 error: `{"status":{"error":true,"code":…,"type":…,"message":…}}`.
pub fn v1_error(status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"status": {"error": true, "code": status.as_u16(), "type": kind, "message": message}}),
    )
}

/// A v2 error: `{"message":…,"statusCode":…,"name":…}`.
pub fn v2_error(status: StatusCode, name: &str, message: &str) -> Response {
    json_response(status, &json!({"message": message, "statusCode": status.as_u16(), "name": name}))
}

/// A roles-service error: `{"status":…,"error":…,"description":…}`.
pub fn roles_service_error(status: StatusCode, description: &str) -> Response {
    json_response(status, &json!({"status": status.as_u16(), "error": v2_name(status), "description": description}))
}

/// The v1 `type` string for a status code.
///
/// Assumption (FIDELITY.md F-ERR-2): only the 400/401/403/404 strings are documented.
pub fn v1_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad request",
        401 => "Unauthorized",
        403 => "forbidden",
        404 => "not found",
        409 => "conflict",
        422 => "unprocessable entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "error",
    }
}

/// The v2 `name` string for a status code.
///
/// Assumption (FIDELITY.md F-ERR-4): only the 400/401/404/422 names are documented.
pub fn v2_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequestError",
        401 => "UnauthorizedError",
        403 => "ForbiddenError",
        404 => "NotFoundError",
        409 => "ConflictError",
        422 => "UnprocessableEntityError",
        429 => "TooManyRequestsError",
        500 => "InternalServerError",
        502 => "BadGatewayError",
        503 => "ServiceUnavailableError",
        504 => "GatewayTimeoutError",
        _ => "Error",
    }
}

/// A generic error for `status` in the dialect of `path`, with `message`.
pub fn error_for(path: &str, status: StatusCode, message: &str) -> Response {
    match Dialect::for_path(path) {
        Dialect::V1 => v1_error(status, v1_type(status), message),
        Dialect::V2 => v2_error(status, v2_name(status), message),
    }
}

/// 401 for a missing/invalid/expired/revoked bearer token.
pub fn unauthorized(path: &str) -> Response {
    if Dialect::for_path(path) == Dialect::V2 && path.starts_with("/api/1/privileges") {
        // The documented privileges 401 body.
        return v2_error(StatusCode::UNAUTHORIZED, "UnauthorizedError", "The request requires user authentication.");
    }
    match Dialect::for_path(path) {
        Dialect::V1 => v1_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Authentication Failure"),
        Dialect::V2 => v2_error(StatusCode::UNAUTHORIZED, "UnauthorizedError", "Unauthorized"),
    }
}

/// A token whose scope does not allow the call.
///
/// v1 answers 401 "Insufficient Permission" (documented). The v2 403 `ForbiddenError`
/// shape is OUR ASSUMPTION (FIDELITY.md F-SCOPE-4): OneLogin does not document what v2
/// returns for a scope violation.
pub fn insufficient_permission(path: &str) -> Response {
    match Dialect::for_path(path) {
        Dialect::V1 => v1_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Insufficient Permission"),
        Dialect::V2 => v2_error(StatusCode::FORBIDDEN, "ForbiddenError", "Insufficient Permission"),
    }
}

/// 429 "Rate limit exceeded" in the path's dialect (headers are added by the caller).
///
/// Assumption (FIDELITY.md F-RATE-7): the real 429 body was never recorded.
pub fn rate_limited(path: &str) -> Response {
    match Dialect::for_path(path) {
        Dialect::V1 => v1_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", "Rate limit exceeded"),
        Dialect::V2 => v2_error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsError", "Rate limit exceeded"),
    }
}

/// 404 for a route that does not exist.
///
/// Assumption (FIDELITY.md F-ROUTE-2): the v2 answer for an unknown route is not documented.
pub fn no_route(path: &str) -> Response {
    if path == "/api/1" || path.starts_with("/api/1/") {
        v1_error(StatusCode::NOT_FOUND, "not found", "No Route Exists")
    } else {
        v2_not_found()
    }
}

/// The v2 404 for an unknown resource id.
pub fn v2_not_found() -> Response {
    v2_error(StatusCode::NOT_FOUND, "NotFoundError", "The resource with the given id could not be found")
}

/// A v2 400 `BadRequestError`.
pub fn v2_bad_request(message: &str) -> Response {
    v2_error(StatusCode::BAD_REQUEST, "BadRequestError", message)
}

/// A v1 400 `bad request`.
pub fn v1_bad_request(message: &str) -> Response {
    v1_error(StatusCode::BAD_REQUEST, "bad request", message)
}

/// A v1 400 whose `message` is an `{attribute, description}` object, as the docs
/// show it (`{"attribute":"id","description":"ID is incorrect"}`; FIDELITY.md F-ERR-3).
pub fn v1_bad_attribute(attribute: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"status": {"error": true, "code": 400, "type": "bad request",
                           "message": {"attribute": attribute, "description": description}}}),
    )
}

/// A v1 404 `not found` with the given message.
pub fn v1_not_found(message: &str) -> Response {
    v1_error(StatusCode::NOT_FOUND, "not found", message)
}
