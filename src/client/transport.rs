//! The seam between the OneLogin client and the network: plain request and
//! response values and a [`Transport`] trait. The component implements it
//! over `wasi:http` (see `wasi_http.rs`); unit tests implement it in memory.

use std::time::Duration;

use crate::config::Scheme;

/// HTTP methods the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A read.
    Get,
    /// Create, or an action.
    Post,
    /// Replace or update.
    Put,
    /// Remove.
    Delete,
}

impl Method {
    /// The method as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One outgoing request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// `https`, or `http` to a loopback host.
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// Path and query, starting with `/`.
    pub path_and_query: String,
    /// Header names in lower case. May hold credentials: never log them.
    pub headers: Vec<(String, String)>,
    /// The body, if any (JSON).
    pub body: Option<Vec<u8>>,
}

/// One response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportFailure {
    /// What went wrong, for people.
    pub message: String,
    /// True for timeouts, resets and refused connections; false when the host
    /// denied the request (allow-list) or the request itself was malformed.
    pub retryable: bool,
}

/// Sends requests and tells time. Implementations must be usable from a
/// single-threaded component.
pub trait Transport {
    /// Send one request and read the whole response.
    fn send(&self, request: &Request) -> Result<Response, TransportFailure>;
    /// Send several requests, all in flight at once where the transport can,
    /// and return their outcomes in order. The default sends them one by one.
    fn send_all(&self, requests: &[Request]) -> Vec<Result<Response, TransportFailure>> {
        requests.iter().map(|request| self.send(request)).collect()
    }
    /// Monotonic time since an arbitrary origin.
    fn now(&self) -> Duration;
    /// Block for `duration`.
    fn sleep(&self, duration: Duration);
}
