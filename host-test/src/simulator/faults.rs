//! Fault injection.
//!
//! Faults are queued with [`super::Simulator::inject`] and checked for every request
//! after it is counted and before it is authenticated or routed. The first queued fault
//! whose `path_prefix` matches the request path fires; each fault hits `times` matching
//! requests and is then used up.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::errors;
use super::rate_limit::RateInfo;

/// A queued fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Matches requests whose path starts with this; `None` matches any request
    /// (including the token endpoint).
    pub path_prefix: Option<String>,
    /// Matches only this method (`"POST"`, ...); `None` matches any.
    pub method: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// How many matching requests it hits before it is used up.
    pub times: u32,
}

impl Fault {
    /// A fault hitting `times` requests whose path starts with `prefix`.
    pub fn on(prefix: &str, kind: FaultKind, times: u32) -> Fault {
        Fault { path_prefix: Some(prefix.to_string()), method: None, kind, times }
    }

    /// The same, for requests of one method only (e.g. the POST, not the GETs, of a path).
    pub fn on_method(method: &str, prefix: &str, kind: FaultKind, times: u32) -> Fault {
        Fault { method: Some(method.to_ascii_uppercase()), ..Fault::on(prefix, kind, times) }
    }

    /// A fault hitting the next `times` requests, whatever the path.
    pub fn any(kind: FaultKind, times: u32) -> Fault {
        Fault { path_prefix: None, method: None, kind, times }
    }
}

/// What an injected fault does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Sleep this long, then serve the request normally.
    Latency(Duration),
    /// Answer this status with the path's JSON error body (v1 or v2 dialect).
    ///
    /// Assumption (FIDELITY.md F-FAULT-1): real 5xx from the edge may be HTML.
    ServerError(u16),
    /// Answer 429 with the path's JSON error body; with `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset: 30` (and the limit) when `with_headers`, else no rate headers.
    ///
    /// Assumption (FIDELITY.md F-FAULT-2): the body and the 30 s reset.
    RateLimited {
        /// Whether to send the `X-RateLimit-*` headers.
        with_headers: bool,
    },
    /// Answer this status with `content-type: text/html` and a small HTML page (what
    /// OneLogin's edge does, e.g. the token endpoint's throttling 429).
    HtmlError(u16),
    /// Abort the connection: the response body fails immediately, so hyper closes the
    /// connection without completing a response.
    DropConnection,
    /// Serve the request normally (a write is applied to the tenant), then abort the
    /// connection instead of sending the response: the client sees a lost response
    /// after a committed write.
    CommitThenDrop,
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub struct FaultQueue {
    faults: Vec<Fault>,
}

impl FaultQueue {
    /// Queues a fault (ignored when `times` is 0).
    pub fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push(fault);
        }
    }

    /// Takes one hit of the first fault matching `method` and `path`, if any.
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let idx = self.faults.iter().position(|f| {
            f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && f.method.as_deref().is_none_or(|m| m == method)
        })?;
        let fault = &mut self.faults[idx];
        let kind = fault.kind.clone();
        fault.times -= 1;
        if fault.times == 0 {
            self.faults.remove(idx);
        }
        Some(kind)
    }

    /// Number of queued faults.
    pub fn len(&self) -> usize {
        self.faults.len()
    }

    /// Whether no fault is queued.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A response whose body fails at once, so hyper aborts the connection.
pub fn dropped_connection() -> Response {
    let mut resp = Response::new(Body::new(FailingBody));
    *resp.status_mut() = StatusCode::OK;
    resp
}

/// The response for a fault on `path` that answers INSTEAD of the handler (`None` for
/// [`FaultKind::Latency`] and [`FaultKind::CommitThenDrop`], which run it).
pub fn respond(kind: &FaultKind, path: &str, rate_limit: Option<u32>) -> Option<Response> {
    match kind {
        FaultKind::Latency(_) | FaultKind::CommitThenDrop => None,
        FaultKind::ServerError(code) => {
            let st = status(*code);
            let msg = st.canonical_reason().unwrap_or("Error");
            Some(errors::error_for(path, st, msg))
        }
        FaultKind::RateLimited { with_headers } => {
            let mut resp = errors::rate_limited(path);
            if *with_headers {
                RateInfo { limit: rate_limit.unwrap_or(5000), remaining: 0, reset_secs: 30 }.apply(resp.headers_mut());
            }
            Some(resp)
        }
        FaultKind::HtmlError(code) => {
            let st = status(*code);
            let reason = st.canonical_reason().unwrap_or("Error");
            let body = format!(
                "<html><head><title>{} {reason}</title></head><body><h1>{reason}</h1></body></html>",
                st.as_u16()
            );
            let mut resp = (st, body).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            Some(resp)
        }
        FaultKind::DropConnection => Some(dropped_connection()),
    }
}

/// A body whose first poll fails, making hyper abort the connection.
struct FailingBody;

impl HttpBody for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated dropped connection",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_is_used_up_after_times_hits() {
        let mut q = FaultQueue::default();
        q.push(Fault::on("/api/2", FaultKind::ServerError(500), 2));
        assert_eq!(q.take("GET", "/api/1/groups"), None);
        assert_eq!(q.take("GET", "/api/2/users"), Some(FaultKind::ServerError(500)));
        assert_eq!(q.take("GET", "/api/2/users"), Some(FaultKind::ServerError(500)));
        assert_eq!(q.take("GET", "/api/2/users"), None);
        assert!(q.is_empty());
    }

    #[test]
    fn method_filter_skips_other_methods() {
        let mut q = FaultQueue::default();
        q.push(Fault::on_method("post", "/api/2/users", FaultKind::CommitThenDrop, 1));
        assert_eq!(q.take("GET", "/api/2/users"), None);
        assert_eq!(q.take("POST", "/api/2/users"), Some(FaultKind::CommitThenDrop));
        assert!(q.is_empty());
    }
}
