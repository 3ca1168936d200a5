//! [`Transport`] over the imported `wasi:http/outgoing-handler`.
//!
//! Follows the wasi:http rules that otherwise trap or deadlock a guest:
//! headers are complete before the request is created; `handle` is called
//! before the body is written; bodies go out in chunks of at most 4096 bytes;
//! streams are dropped before their body is finished; every timeout is set.
//!
//! Each request carries [`Bounds`]: its deadline is enforced here with the
//! monotonic clock (every wait polls the response or body stream together
//! with a timer), so a server that never answers, or drips one byte a second
//! (which no between-bytes timeout catches), ends in a retryable timeout by
//! the deadline; its body cap stops reading a body that grows past it.

use std::collections::VecDeque;
use std::time::Duration;

use super::transport::{
    Bounds, Method, Request, Response, Transport, TransportFailure, TransportKind, WindowAnswer, WindowEvent,
};
use crate::config::Scheme;
use crate::wasi::clocks::monotonic_clock;
use crate::wasi::http::outgoing_handler;
use crate::wasi::http::types::{
    self as http, ErrorCode, Fields, FutureIncomingResponse, IncomingBody, OutgoingBody, OutgoingRequest,
    RequestOptions,
};
use crate::wasi::io::poll::{self, Pollable};
use crate::wasi::io::streams::StreamError;

const CHUNK: usize = 4096;
/// Read at most this much per stream read.
const READ_CHUNK: u64 = 64 * 1024;
/// The host's own timeouts, each also capped by the time left to the deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(20);
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(10);

/// The wasi:http transport. Stateless: the host owns connections.
#[derive(Debug, Default, Clone, Copy)]
pub struct WasiHttp;

impl Transport for WasiHttp {
    fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
        let bounds = request.bounds.sent_at(self.now());
        let future = start(request, bounds)?;
        if !wait_until(&future.subscribe(), bounds.deadline) {
            return Err(timed_out("waiting for the response headers"));
        }
        finish(future, bounds)
    }

    /// A sliding window: up to `window` requests in flight, waited on
    /// together with `wasi:io/poll` (and a timer for the earliest deadline).
    /// A ready response is read, the next request is started in its place,
    /// and only then is a 2xx response handed to `each`, so the guest's work
    /// on it overlaps the requests in flight; other answers (a 429 may
    /// narrow the window) go to `each` before the next request starts.
    fn send_window(
        &self,
        mut requests: Vec<Request>,
        window: usize,
        each: &mut dyn FnMut(WindowEvent) -> WindowAnswer,
    ) {
        let mut window = window.max(1);
        // The next request never sent (requests may be added as outcomes come in).
        let mut fresh = 0;
        let mut again: VecDeque<usize> = VecDeque::new();
        // Requests to send again once their wait is over: (when, index).
        let mut later: Vec<(Duration, usize)> = Vec::new();
        let mut in_flight: Vec<(usize, InFlight, Bounds)> = Vec::with_capacity(window);
        let mut outcomes: Vec<(usize, Result<Response, TransportFailure>)> = Vec::new();
        loop {
            // Answers other than 2xx first: they cost no parsing, and a
            // refusal may narrow the window before more requests go out.
            let (answered, parse): (Vec<_>, Vec<_>) = std::mem::take(&mut outcomes)
                .into_iter()
                .partition(|(_, outcome)| !matches!(outcome, Ok(r) if (200..300).contains(&r.status)));
            outcomes = parse;
            for (index, outcome) in answered {
                hand(each, index, outcome, &mut window, (&mut again, &mut later, self.now()), &mut requests);
            }
            send_due(&mut later, &mut again, self.now());
            while in_flight.len() < window {
                let index = match again.pop_front() {
                    Some(index) => index,
                    None if fresh < requests.len() => {
                        fresh += 1;
                        fresh - 1
                    }
                    None => break,
                };
                let Some(request) = requests.get(index) else { continue };
                window = each(WindowEvent::Sent(index)).window.max(1);
                let bounds = request.bounds.sent_at(self.now());
                match start(request, bounds) {
                    Ok(future) => in_flight.push((index, future, bounds)),
                    Err(failure) => outcomes.push((index, Err(failure))),
                }
            }
            for (index, outcome) in std::mem::take(&mut outcomes) {
                hand(each, index, outcome, &mut window, (&mut again, &mut later, self.now()), &mut requests);
            }
            let waiting = again.len() + (requests.len() - fresh);
            let wake = later.iter().map(|&(due, _)| due).min();
            if in_flight.is_empty() && waiting == 0 {
                match wake {
                    Some(due) => self.sleep(due.saturating_sub(self.now())),
                    None => return,
                }
            } else if in_flight.len() >= window || waiting == 0 {
                self.wait_for_some(&mut in_flight, &mut outcomes, wake.unwrap_or(Duration::MAX));
            }
        }
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(monotonic_clock::now())
    }

    fn sleep(&self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        monotonic_clock::subscribe_duration(nanos).block();
    }
}

/// Move the requests of `later` whose wait is over by `now` to `again`.
fn send_due(later: &mut Vec<(Duration, usize)>, again: &mut VecDeque<usize>, now: Duration) {
    later.retain(|&(due, index)| {
        if due <= now {
            again.push_back(index);
        }
        due > now
    });
}

/// Hand one outcome of a window to its caller, noting the window it keeps,
/// whether to send the request again (`again` now, or `later` once its wait
/// from `now` is over) and the requests it adds.
fn hand(
    each: &mut dyn FnMut(WindowEvent) -> WindowAnswer,
    index: usize,
    outcome: Result<Response, TransportFailure>,
    window: &mut usize,
    (again, later, now): (&mut VecDeque<usize>, &mut Vec<(Duration, usize)>, Duration),
    requests: &mut Vec<Request>,
) {
    let answer = each(WindowEvent::Done(index, outcome));
    *window = answer.window.max(1);
    if answer.resend && answer.resend_after.is_zero() {
        again.push_back(index);
    } else if answer.resend {
        later.push((now.saturating_add(answer.resend_after), index));
    }
    requests.extend(answer.more);
}

impl WasiHttp {
    /// Block until at least one request in flight has its response headers
    /// or passes its deadline, or `wake` comes, and move those to `outcomes`.
    fn wait_for_some(
        &self,
        in_flight: &mut Vec<(usize, InFlight, Bounds)>,
        outcomes: &mut Vec<(usize, Result<Response, TransportFailure>)>,
        wake: Duration,
    ) {
        let deadline = in_flight.iter().map(|(_, _, bounds)| bounds.deadline).min().unwrap_or(Duration::MAX).min(wake);
        let timer = deadline_timer(deadline);
        let pollables: Vec<Pollable> = in_flight.iter().map(|(_, future, _)| future.subscribe()).collect();
        let mut refs: Vec<&Pollable> = pollables.iter().collect();
        refs.push(&timer);
        let ready = poll::poll(&refs);
        drop(refs);
        drop(pollables);
        let now = self.now();
        // Ready responses, and requests past their deadline; taken out
        // from the back so earlier positions stay valid.
        let mut done: Vec<(usize, bool)> = in_flight
            .iter()
            .enumerate()
            .filter_map(|(position, (_, _, bounds))| {
                let is_ready = ready.contains(&u32::try_from(position).unwrap_or(u32::MAX));
                (is_ready || now >= bounds.deadline).then_some((position, is_ready))
            })
            .collect();
        done.sort_unstable_by_key(|&(position, _)| std::cmp::Reverse(position));
        for (position, is_ready) in done {
            if position >= in_flight.len() {
                continue;
            }
            let (index, future, bounds) = in_flight.swap_remove(position);
            // Dropping an unready future abandons that request.
            let outcome =
                if is_ready { finish(future, bounds) } else { Err(timed_out("waiting for the response headers")) };
            outcomes.push((index, outcome));
        }
    }
}

fn failure(kind: TransportKind, message: impl Into<String>, retryable: bool) -> TransportFailure {
    TransportFailure { kind, message: message.into(), retryable }
}

/// A request the host's wasi:http implementation could not take as built:
/// the component's fault, reported as a protocol failure.
fn refused_by_api(message: impl Into<String>) -> TransportFailure {
    failure(TransportKind::Protocol, message, false)
}

fn timed_out(what: &str) -> TransportFailure {
    failure(TransportKind::Timeout, format!("timed out {what} (the request's time budget ran out)"), true)
}

/// A pollable that is ready at `deadline` (monotonic), or at once if it passed.
fn deadline_timer(deadline: Duration) -> Pollable {
    monotonic_clock::subscribe_instant(nanos(deadline))
}

/// Block until `pollable` is ready or `deadline` passes; true if it is ready.
fn wait_until(pollable: &Pollable, deadline: Duration) -> bool {
    if pollable.ready() {
        return true;
    }
    let timer = deadline_timer(deadline);
    let ready = poll::poll(&[pollable, &timer]);
    ready.contains(&0) || pollable.ready()
}

/// Time left until `deadline`, for the host's own timeouts.
fn left(deadline: Duration) -> Duration {
    deadline.saturating_sub(Duration::from_nanos(monotonic_clock::now())).max(Duration::from_millis(1))
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// A request on its way: the response future, and whether its body was written.
struct InFlight {
    future: FutureIncomingResponse,
    written: Result<(), TransportFailure>,
}

impl InFlight {
    fn subscribe(&self) -> Pollable {
        self.future.subscribe()
    }
}

/// Send the request head and body; the response is awaited by [`finish`].
fn start(request: &Request, bounds: Bounds) -> Result<InFlight, TransportFailure> {
    let header_list: Vec<(String, Vec<u8>)> =
        request.headers.iter().map(|(name, value)| (name.clone(), value.as_bytes().to_vec())).collect();
    let headers =
        Fields::from_list(&header_list).map_err(|_| refused_by_api("a request header was refused by the host"))?;
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method {
        Method::Get => http::Method::Get,
        Method::Post => http::Method::Post,
        Method::Put => http::Method::Put,
        Method::Delete => http::Method::Delete,
    };
    let scheme = match request.scheme {
        Scheme::Https => http::Scheme::Https,
        Scheme::Http => http::Scheme::Http,
    };
    outgoing.set_method(&method).map_err(|()| refused_by_api("invalid method"))?;
    outgoing.set_scheme(Some(&scheme)).map_err(|()| refused_by_api("invalid scheme"))?;
    outgoing.set_authority(Some(&request.authority)).map_err(|()| refused_by_api("invalid host"))?;
    outgoing.set_path_with_query(Some(&request.path_and_query)).map_err(|()| refused_by_api("invalid path"))?;

    let options = RequestOptions::new();
    // A host may not support every timeout; those it refuses keep its
    // defaults, and the deadline is enforced on the monotonic clock anyway.
    let left = left(bounds.deadline);
    let _ = options.set_connect_timeout(Some(nanos(CONNECT_TIMEOUT.min(left))));
    let _ = options.set_first_byte_timeout(Some(nanos(FIRST_BYTE_TIMEOUT.min(left))));
    let _ = options.set_between_bytes_timeout(Some(nanos(BETWEEN_BYTES_TIMEOUT.min(left))));

    let body = outgoing.body().map_err(|()| refused_by_api("request body unavailable"))?;
    // `handle` before writing the body, or a host may deadlock waiting for it.
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(|e| error_code_failure(&e))?;
    let written = write_body(body, request.body.as_deref());
    Ok(InFlight { future, written })
}

/// Read the response of a request whose future is ready, within `bounds`.
fn finish(in_flight: InFlight, bounds: Bounds) -> Result<Response, TransportFailure> {
    let InFlight { future, written } = in_flight;
    let incoming = match future.get() {
        // A request the host refused or failed fails its body stream too; the
        // response's error code says why, so it wins over the write error.
        Some(Ok(Err(code))) => return Err(error_code_failure(&code)),
        Some(Ok(Ok(response))) => {
            written?;
            response
        }
        Some(Err(())) => return Err(refused_by_api("response already taken")),
        None => return Err(failure(TransportKind::Connection, "response not ready after wait", true)),
    };
    let status = incoming.status();
    let headers = incoming
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming_body = incoming.consume().map_err(|()| refused_by_api("response body unavailable"))?;
    let body = read_body(incoming_body, bounds)?;
    Ok(Response { status, headers, body })
}

fn write_body(body: OutgoingBody, bytes: Option<&[u8]>) -> Result<(), TransportFailure> {
    if let Some(bytes) = bytes {
        let stream = body.write().map_err(|()| refused_by_api("request body stream unavailable"))?;
        for chunk in bytes.chunks(CHUNK) {
            stream.blocking_write_and_flush(chunk).map_err(|e| stream_failure("writing request body", e))?;
        }
        drop(stream);
    }
    OutgoingBody::finish(body, None).map_err(|e| error_code_failure(&e))
}

/// Read a body up to `bounds.max_body_bytes`, by `bounds.deadline`. Every
/// wait polls the stream together with the deadline's timer.
fn read_body(body: IncomingBody, bounds: Bounds) -> Result<Vec<u8>, TransportFailure> {
    let stream = body.stream().map_err(|()| refused_by_api("response stream unavailable"))?;
    let mut bytes = Vec::new();
    loop {
        match stream.read(READ_CHUNK) {
            Ok(chunk) if chunk.is_empty() => {
                if !wait_until(&stream.subscribe(), bounds.deadline) {
                    return Err(timed_out("reading the response body"));
                }
            }
            Ok(chunk) => {
                if bytes.len().saturating_add(chunk.len()) > bounds.max_body_bytes {
                    return Err(failure(
                        TransportKind::Protocol,
                        format!("response body larger than this request's cap of {} bytes", bounds.max_body_bytes),
                        false,
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => break,
            Err(e) => return Err(stream_failure("reading response body", e)),
        }
        if Duration::from_nanos(monotonic_clock::now()) >= bounds.deadline {
            return Err(timed_out("reading the response body"));
        }
    }
    drop(stream);
    // Trailers are not used; finishing releases the body.
    let _ = IncomingBody::finish(body);
    Ok(bytes)
}

/// A body stream that failed: the connection broke, unless the host says why
/// (`http-error-code` of the stream error).
fn stream_failure(context: &str, error: StreamError) -> TransportFailure {
    match error {
        StreamError::Closed => failure(TransportKind::Connection, format!("{context}: stream closed"), true),
        StreamError::LastOperationFailed(e) => match http::http_error_code(&e) {
            Some(code) => {
                let coded = error_code_failure(&code);
                TransportFailure { message: format!("{context}: {}", coded.message), ..coded }
            }
            None => failure(TransportKind::Connection, format!("{context}: {}", e.to_debug_string()), true),
        },
    }
}

/// A wasi:http `error-code`, as the transport kind, message and retryability
/// the connector reports (WIT `transport-kind`).
// Long: one row per error code, read top to bottom.
fn error_code_failure(code: &ErrorCode) -> TransportFailure {
    use TransportKind::{Connection, Dns, HostRefused, Protocol, Timeout, Tls};
    let (kind, message, retryable) = match code {
        ErrorCode::HttpRequestDenied => (HostRefused, "the host denied this request (not on its allow-list)", false),
        ErrorCode::DnsTimeout => (Dns, "DNS lookup timed out", true),
        ErrorCode::DnsError(_) => (Dns, "DNS lookup failed (no such host?)", true),
        ErrorCode::DestinationNotFound => (Dns, "destination not found", false),
        ErrorCode::DestinationUnavailable => (Connection, "destination unavailable", true),
        ErrorCode::DestinationIpProhibited | ErrorCode::DestinationIpUnroutable => {
            (Connection, "destination address not reachable", true)
        }
        ErrorCode::ConnectionRefused => (Connection, "connection refused", true),
        ErrorCode::ConnectionTerminated => (Connection, "connection closed by the server", true),
        ErrorCode::ConnectionLimitReached => (Connection, "connection limit reached", true),
        ErrorCode::ConnectionTimeout => (Timeout, "connection timed out", true),
        ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout => {
            (Timeout, "timed out waiting for the response", true)
        }
        ErrorCode::ConnectionWriteTimeout => (Timeout, "timed out sending the request", true),
        ErrorCode::TlsProtocolError => (Tls, "TLS protocol error", true),
        ErrorCode::TlsCertificateError => (Tls, "the server's TLS certificate was refused", false),
        ErrorCode::TlsAlertReceived(_) => (Tls, "TLS alert from the server", true),
        ErrorCode::HttpRequestUriInvalid => (Protocol, "invalid request URI", false),
        ErrorCode::HttpRequestMethodInvalid => (Protocol, "invalid request method", false),
        ErrorCode::HttpRequestHeaderSize(_) | ErrorCode::HttpRequestHeaderSectionSize(_) => {
            (Protocol, "request headers too large", false)
        }
        ErrorCode::HttpRequestBodySize(_) => (Protocol, "request body too large", false),
        ErrorCode::HttpResponseHeaderSize(_) | ErrorCode::HttpResponseHeaderSectionSize(_) => {
            (Protocol, "response headers too large", true)
        }
        ErrorCode::HttpResponseBodySize(_) => (Protocol, "response body too large", true),
        ErrorCode::HttpResponseIncomplete => (Protocol, "the response ended early", true),
        ErrorCode::HttpProtocolError => (Protocol, "HTTP protocol error", true),
        _ => (Protocol, "HTTP request failed", true),
    };
    failure(kind, message, retryable)
}
