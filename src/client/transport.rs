//! The seam between the OneLogin client and the network: plain request and
//! response values and a [`Transport`] trait. The component implements it
//! over `wasi:http` (see `wasi_http.rs`); unit tests implement it in memory.

use std::time::Duration;

use crate::config::Scheme;
pub use crate::error::TransportKind;

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
    /// Limits on this one attempt; see [`Bounds`].
    pub bounds: Bounds,
}

/// What one request attempt may cost: the transport enforces both, so a
/// hostile server can neither hold a call past its time budget nor make the
/// component allocate past its memory budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Monotonic time (see [`Transport::now`]) by which the whole response,
    /// body included, must have arrived; past it the attempt fails with a
    /// retryable timeout, whatever the server is doing (silent, dripping).
    pub deadline: Duration,
    /// The longest one attempt may take from the moment it is sent (a
    /// request queued in a sliding window gets its whole timeout when its
    /// turn comes); the earlier of this and `deadline` applies.
    pub timeout: Duration,
    /// The most response-body bytes read; a longer body fails the attempt
    /// (not retryable: it would be as long again).
    pub max_body_bytes: usize,
}

impl Bounds {
    /// The bounds of an attempt sent at `now`: `deadline` brought forward
    /// to `now + timeout`.
    pub fn sent_at(self, now: Duration) -> Bounds {
        Bounds { deadline: self.deadline.min(now.saturating_add(self.timeout)), ..self }
    }
}

impl Default for Bounds {
    /// No deadline to speak of and the single-request body cap, for tests.
    fn default() -> Self {
        Bounds { deadline: Duration::MAX, timeout: Duration::MAX, max_body_bytes: DEFAULT_MAX_BODY_BYTES }
    }
}

/// The body cap of a request that is alone in flight (see [`memory`]).
pub const DEFAULT_MAX_BODY_BYTES: usize = memory::MAX_BODY_BYTES;

/// The memory plan for responses, which makes a hostile server unable to
/// exhaust the component's memory by construction.
///
/// The host gives the component 256 MiB of linear memory (the harness's
/// default limit). Up to [`MAX_IN_FLIGHT`](memory::MAX_IN_FLIGHT) = 64
/// requests are in flight at once; with `n` in flight, each response may:
/// - have a raw body of at most [`body_cap`](memory::body_cap)`(n)` =
///   min(8 MiB, 16 MiB / n) bytes (8 MiB alone, 2 MiB at 8, 256 KiB at 64),
///   so the raw bodies of one wave hold at most 16 MiB; and
/// - cost at most [`parse_budget`](memory::parse_budget)`(n)` = 32 MiB / n
///   once parsed, estimated by [`json_cost`](memory::json_cost) *before*
///   parsing (a JSON value tree can be 100 times its text: `[{"":0},…]`),
///   so the parsed values of one wave hold at most 32 MiB.
///
/// One wave costs at most 16 + 32 = 48 MiB. The sync may keep a few parsed
/// lists across steps (the users page, roles, apps): three of 32 MiB more
/// make 144 MiB, inside 256 MiB with room for the page being built. Error
/// bodies and token responses are parsed only up to 64 KiB.
pub mod memory {
    /// The component's memory limit this plan is made for (the harness's).
    pub const COMPONENT_MEMORY: usize = 256 * 1024 * 1024;
    /// Estimated parsed size of all responses in flight together.
    pub const RESPONSE_BUDGET: usize = 32 * 1024 * 1024;
    /// Raw bytes of all response bodies in flight together.
    pub const RAW_BUDGET: usize = 16 * 1024 * 1024;
    /// The largest single response body.
    pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
    /// The most requests in flight at once (the sync's `MAX_CONCURRENCY`).
    pub const MAX_IN_FLIGHT: usize = 64;
    /// Estimated cost of one JSON value (a 32-byte `Value` and its share of
    /// a growing `Vec`).
    const VALUE_COST: usize = 64;
    /// Estimated cost of one non-empty JSON object: a B-tree leaf node of 11
    /// (`String`, `Value`) slots is about 630 bytes natively, 410 on wasm32.
    const OBJECT_COST: usize = 640;

    // The plan fits by construction: one wave (raw + parsed) plus three
    // parsed lists the sync may keep stay under the component's memory.
    const _: () = assert!(RAW_BUDGET + RESPONSE_BUDGET * 4 < COMPONENT_MEMORY);

    /// Raw body cap for each of `in_flight` responses.
    pub fn body_cap(in_flight: usize) -> usize {
        (RAW_BUDGET / in_flight.clamp(1, MAX_IN_FLIGHT)).min(MAX_BODY_BYTES)
    }

    /// Parsed-size budget for each of `in_flight` responses.
    pub fn parse_budget(in_flight: usize) -> usize {
        RESPONSE_BUDGET / in_flight.clamp(1, MAX_IN_FLIGHT)
    }

    /// An upper estimate of the memory `serde_json` needs to parse `bytes`
    /// into a `Value`: twice the text (strings and keys are copied) plus a
    /// cost per value and per object. One pass, no allocation; counts only
    /// structure outside strings.
    pub fn json_cost(bytes: &[u8]) -> usize {
        let (mut values, mut objects) = (1usize, 0usize);
        let (mut in_string, mut escaped) = (false, false);
        for &byte in bytes {
            if in_string {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' => {
                    objects += 1;
                    values += 1;
                }
                b'[' | b',' | b':' => values += 1,
                _ => {}
            }
        }
        bytes
            .len()
            .saturating_mul(2)
            .saturating_add(values.saturating_mul(VALUE_COST))
            .saturating_add(objects.saturating_mul(OBJECT_COST))
    }
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
    /// Where it failed (host refusal, DNS, connection, timeout, TLS, protocol).
    pub kind: TransportKind,
    /// What went wrong, for people.
    pub message: String,
    /// True for timeouts, resets and refused connections; false when the host
    /// denied the request (allow-list) or the request itself was malformed.
    pub retryable: bool,
}

/// What [`Transport::send_window`] tells its caller.
#[derive(Debug)]
pub enum WindowEvent {
    /// The request of this index goes out now.
    Sent(usize),
    /// The outcome of the request of this index.
    Done(usize, Result<Response, TransportFailure>),
}

/// What the caller of [`Transport::send_window`] answers to each event.
#[derive(Debug, Clone)]
pub struct WindowAnswer {
    /// The most requests to keep in flight from now on (at least 1).
    pub window: usize,
    /// For an outcome: send this request again (ahead of those not sent yet).
    pub resend: bool,
    /// With `resend`: not before this long from now (a `Retry-After`).
    pub resend_after: Duration,
    /// For an outcome: requests it made known, to send in this window after
    /// those already queued (their indices follow the last one's).
    pub more: Vec<Request>,
}

impl WindowAnswer {
    /// Keep `window` in flight; nothing to send again.
    pub fn window(window: usize) -> Self {
        WindowAnswer { window, resend: false, resend_after: Duration::ZERO, more: Vec::new() }
    }
}

/// Sends requests and tells time. Implementations must be usable from a
/// single-threaded component.
pub trait Transport {
    /// Send one request and read the whole response.
    fn send(&self, request: &Request) -> Result<Response, TransportFailure>;
    /// Send `requests` through a sliding window: at most `window` in flight
    /// at first, the next one sent as soon as one finishes (never in waves,
    /// where the slowest request holds the rest). Requests go out in index
    /// order, those to send again first; each sending and each outcome (as
    /// soon as it is read, in the order they finish) goes to `each` with the
    /// request's index, which answers with the window to keep from then on
    /// (the caller may narrow or widen it as responses come in) and, for an
    /// outcome, whether to send that request again (at once, or once a wait
    /// is over while the rest go on) and any requests to add
    /// (what a response made known, e.g. the calls for the users of a page
    /// just read: the window never drains between them). The default sends
    /// them one by one.
    fn send_window(
        &self,
        mut requests: Vec<Request>,
        window: usize,
        each: &mut dyn FnMut(WindowEvent) -> WindowAnswer,
    ) {
        let _ = window;
        let mut queue: std::collections::VecDeque<usize> = (0..requests.len()).collect();
        while let Some(index) = queue.pop_front() {
            let Some(request) = requests.get(index) else { continue };
            each(WindowEvent::Sent(index));
            let answer = each(WindowEvent::Done(index, self.send(request)));
            if answer.resend {
                self.sleep(answer.resend_after);
                queue.push_front(index);
            }
            queue.extend(requests.len()..requests.len() + answer.more.len());
            requests.extend(answer.more);
        }
    }
    /// Monotonic time since an arbitrary origin.
    fn now(&self) -> Duration;
    /// Block for `duration`.
    fn sleep(&self, duration: Duration);
}

#[cfg(test)]
mod tests {
    use super::memory::*;

    #[test]
    fn the_memory_plan_fits_the_component_limit() {
        for n in [1, 2, 8, 64, 1000] {
            let n_eff = n.min(MAX_IN_FLIGHT);
            assert!(body_cap(n) * n_eff <= RAW_BUDGET);
            assert!(parse_budget(n) * n_eff <= RESPONSE_BUDGET);
        }
        assert_eq!(body_cap(1), MAX_BODY_BYTES);
        assert_eq!(body_cap(8), 2 * 1024 * 1024);
        assert_eq!(body_cap(64), 256 * 1024);
    }

    #[test]
    fn json_cost_bounds_what_parsing_allocates() {
        // Tiny objects are the worst case: ~100x their text.
        let tiny = format!("[{}{{}}]", r#"{"":0},"#.repeat(1000));
        assert!(json_cost(tiny.as_bytes()) >= 1000 * 640);
        // Structure inside strings does not count.
        let string = format!(r#"["{}"]"#, "{[,:".repeat(1000));
        assert!(json_cost(string.as_bytes()) < 3 * string.len());
        let escaped = r#"["\"{{{{", 1]"#;
        assert!(json_cost(escaped.as_bytes()) < 2 * escaped.len() + 4 * 64);
        assert!(json_cost(b"") < 100);
    }
}
