//! The OneLogin API client: authentication, requests, retries, error bodies
//! and pagination. It knows OneLogin's HTTP API and nothing about entities;
//! `sync/` and `provision/` build on it.

pub mod auth;
pub mod errors;
pub mod pagination;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod wasi_http;

use std::time::Duration;

use serde_json::Value;

use self::auth::Token;
use self::pagination::{List, Page, PageCursor};
use self::transport::{Method, Request, Response, Transport};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::logging;

/// How many times a read is retried after a 5xx or a transient transport failure.
pub const MAX_READ_RETRIES: u32 = 2;
/// How many times one request waits out a 429 before giving up.
const MAX_RATE_LIMIT_WAITS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(500);

/// What the last responses said about the account's rate budget and the time.
#[derive(Debug, Default)]
struct Budget {
    /// `X-RateLimit-Remaining` of the last response that had it.
    remaining: Option<u64>,
    /// When the window resets (monotonic time), from `X-RateLimit-Reset`
    /// (seconds left in the window).
    resets_at: Option<Duration>,
    /// Until when (monotonic time) a call may wait for the budget; `None` =
    /// never wait.
    wait_until: Option<Duration>,
    /// Unix time of the last `Date` header, and when (monotonic) it was seen.
    date: Option<(i64, Duration)>,
}

/// A configured client with its cached token.
pub struct Client<T: Transport> {
    transport: T,
    config: Config,
    token: Option<(Token, Duration)>,
    budget: Budget,
    /// The most requests [`Client::get_json_many`] has in flight at once.
    concurrency: usize,
}

impl<T: Transport> Client<T> {
    pub fn new(transport: T, config: Config) -> Self {
        Client { transport, config, token: None, budget: Budget::default(), concurrency: 1 }
    }

    /// Let [`Client::get_json_many`] keep up to `n` requests in flight (at least 1).
    pub fn set_concurrency(&mut self, n: usize) {
        self.concurrency = n.max(1);
    }

    /// Allow waiting up to `budget` (from now) for rate-limit resets; zero
    /// means a throttled call fails at once with [`Error::RateLimited`].
    pub fn set_wait_budget(&mut self, budget: Duration) {
        self.budget.wait_until = (!budget.is_zero()).then(|| self.transport.now() + budget);
    }

    /// The transport's monotonic clock, in nanoseconds.
    pub fn monotonic_nanos(&self) -> u64 {
        u64::try_from(self.transport.now().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Unix time now, from the last `Date` header OneLogin sent plus the
    /// monotonic time since. `None` before any response with a `Date`.
    pub fn unix_now(&self) -> Option<i64> {
        let (date, seen) = self.budget.date?;
        let elapsed = self.transport.now().saturating_sub(seen).as_secs();
        Some(date.saturating_add(i64::try_from(elapsed).unwrap_or(0)))
    }

    /// Remember the rate budget and the date a response reports.
    fn observe(&mut self, response: &Response) {
        let now = self.transport.now();
        let number = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(remaining) = number("x-ratelimit-remaining") {
            self.budget.remaining = Some(remaining);
            self.budget.resets_at = number("x-ratelimit-reset").map(|secs| now + Duration::from_secs(secs));
        }
        if let Some(date) = response.header("date").and_then(crate::time::parse_http_date) {
            self.budget.date = Some((date, now));
        }
    }

    /// Before a request: when the budget is spent, wait for the window to
    /// reset (within the wait budget) instead of sending a request bound to
    /// fail.
    fn respect_budget(&mut self, what: &str) -> Result<()> {
        if self.budget.remaining != Some(0) {
            return Ok(());
        }
        let now = self.transport.now();
        let reset_in = self.budget.resets_at.map_or(Duration::from_secs(60), |at| at.saturating_sub(now));
        self.wait_for(reset_in, what)?;
        self.budget.remaining = None;
        Ok(())
    }

    /// Sleep `duration` if the wait budget allows, else fail with `RateLimited`.
    fn wait_for(&mut self, duration: Duration, what: &str) -> Result<()> {
        let now = self.transport.now();
        match self.budget.wait_until {
            Some(until) if now + duration <= until => {
                logging::info(&format!("{what}: rate budget spent; waiting {} s", duration.as_secs()));
                self.transport.sleep(duration);
                Ok(())
            }
            _ => {
                let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
                Err(Error::RateLimited { retry_after: u32::try_from(secs.max(1)).unwrap_or(u32::MAX) })
            }
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Fetch a token now (replacing any cached one) and return it.
    pub fn authenticate(&mut self) -> Result<Token> {
        let request = auth::token_request(&self.config);
        let mut attempt = 0;
        let response = loop {
            match self.transport.send(&request) {
                Ok(response) => break response,
                Err(failure) if failure.retryable && attempt < MAX_READ_RETRIES => {
                    attempt += 1;
                    self.backoff(attempt);
                }
                Err(failure) => {
                    return Err(Error::Transport {
                        message: format!("POST {}: {}", auth::TOKEN_PATH, failure.message),
                        retryable: failure.retryable,
                    })
                }
            }
        };
        self.observe(&response);
        let token = auth::parse_token_response(&response)?;
        self.token = Some((token.clone(), self.transport.now()));
        logging::debug("obtained an OAuth2 access token");
        Ok(token)
    }

    fn bearer(&mut self) -> Result<String> {
        let now = self.transport.now();
        let token = match &self.token {
            Some((token, obtained)) if now < token.renew_at(*obtained) => token.value.clone(),
            _ => self.authenticate()?.value,
        };
        Ok(format!("Bearer {}", token.expose()))
    }

    /// Send an API request and return the 2xx response.
    ///
    /// - A 401 (other than "Insufficient Permission") drops the token and
    ///   retries once with a new one: a rejected request changed nothing.
    /// - Reads (GET) are retried up to [`MAX_READ_RETRIES`] times with
    ///   jittered exponential backoff on 5xx and transient transport failures.
    ///   Writes are never retried blindly: their outcome would be unknown.
    pub fn request(&mut self, method: Method, path_and_query: &str, body: Option<&Value>) -> Result<Response> {
        let what = format!("{} {}", method.as_str(), path_only(path_and_query));
        let mut attempt = 0;
        let mut renewed = false;
        let mut throttled = 0;
        loop {
            self.respect_budget(&what)?;
            let bearer = self.bearer()?;
            let request = self.build(method, path_and_query, body, bearer);
            let retry_allowed = method == Method::Get && attempt < MAX_READ_RETRIES;
            let response = match self.transport.send(&request) {
                Ok(response) => response,
                Err(failure) if failure.retryable && retry_allowed => {
                    attempt += 1;
                    logging::warn(&format!("{what}: {}; retry {attempt}", failure.message));
                    self.backoff(attempt);
                    continue;
                }
                Err(failure) => {
                    return Err(Error::Transport {
                        message: format!("{what}: {}", failure.message),
                        retryable: failure.retryable,
                    })
                }
            };
            self.observe(&response);
            match response.status {
                200..=299 => return Ok(response),
                // Throttled: nothing happened, so even a write may be re-sent.
                429 if throttled < MAX_RATE_LIMIT_WAITS => {
                    throttled += 1;
                    let wait = errors::retry_after(&response);
                    self.wait_for(Duration::from_secs(u64::from(wait)), &what)?;
                }
                401 if !renewed
                    && errors::upstream_message(&response.body).as_deref() != Some("Insufficient Permission") =>
                {
                    logging::info(&format!("{what}: 401, renewing the access token"));
                    self.token = None;
                    renewed = true;
                }
                status @ (500 | 502 | 503 | 504) if retry_allowed => {
                    attempt += 1;
                    logging::warn(&format!("{what}: HTTP {status}; retry {attempt}"));
                    self.backoff(attempt);
                }
                status => return Err(errors::from_response(status, &response, &what)),
            }
        }
    }

    fn build(&self, method: Method, path_and_query: &str, body: Option<&Value>, bearer: String) -> Request {
        let mut headers =
            vec![("authorization".to_string(), bearer), ("accept".to_string(), "application/json".to_string())];
        if body.is_some() {
            headers.push(("content-type".to_string(), "application/json".to_string()));
        } else if method != Method::Get {
            // A write without a body says so; otherwise the host's HTTP stack
            // streams an unsized (chunked) empty body, which fails on PUT/POST.
            headers.push(("content-length".to_string(), "0".to_string()));
        }
        Request {
            method,
            scheme: self.config.base_url.scheme,
            authority: self.config.base_url.authority.clone(),
            path_and_query: path_and_query.to_string(),
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
        }
    }

    /// GET and parse JSON, treating a v1 `status.error: true` as an error.
    pub fn get_json(&mut self, path_and_query: &str) -> Result<(Response, Value)> {
        let response = self.request(Method::Get, path_and_query, None)?;
        checked_json(response, path_and_query)
    }

    /// Several GETs, up to the concurrency in flight together, each with the
    /// same handling as [`Client::get_json`]: a response that needs a retry,
    /// a new token or a wait is re-done on its own. Results are in the order
    /// of `paths`.
    pub fn get_json_many(&mut self, paths: &[String]) -> Vec<Result<(Response, Value)>> {
        let mut results = Vec::with_capacity(paths.len());
        for wave in paths.chunks(self.concurrency) {
            results.extend(self.get_json_wave(wave));
        }
        results
    }

    /// One wave of [`Client::get_json_many`]: all of `paths` in flight at once.
    fn get_json_wave(&mut self, paths: &[String]) -> Vec<Result<(Response, Value)>> {
        let batch_fits = self.budget.remaining.is_none_or(|left| left > paths.len() as u64);
        if paths.len() < 2 || !batch_fits {
            return paths.iter().map(|path| self.get_json(path)).collect();
        }
        let bearer = match self.bearer() {
            Ok(bearer) => bearer,
            Err(error) => return paths.iter().map(|_| Err(error.clone())).collect(),
        };
        let requests: Vec<Request> =
            paths.iter().map(|path| self.build(Method::Get, path, None, bearer.clone())).collect();
        let responses = self.transport.send_all(&requests);
        let mut results = Vec::with_capacity(paths.len());
        for (path, sent) in paths.iter().zip(responses) {
            let result = match sent {
                Ok(response) => {
                    self.observe(&response);
                    match response.status {
                        200..=299 => checked_json(response, path),
                        401 | 429 | 500 | 502 | 503 | 504 => self.get_json(path),
                        status => Err(errors::from_response(status, &response, &format!("GET {}", path_only(path)))),
                    }
                }
                Err(failure) if failure.retryable => self.get_json(path),
                Err(failure) => Err(Error::Transport {
                    message: format!("GET {}: {}", path_only(path), failure.message),
                    retryable: false,
                }),
            };
            results.push(result);
        }
        results
    }

    /// One page of a list, through the paging guard (see [`pagination`]).
    pub fn page(&mut self, list: &List<'_>, at: &PageCursor) -> Result<Page> {
        let (response, body) = self.get_json(&list.path_and_query(at))?;
        pagination::parse_page(list, at, &response, body)
    }

    /// Every item of a list, page by page through the guard, handed to
    /// `each` as it arrives.
    pub fn read_all(&mut self, list: &List<'_>, each: impl FnMut(Value)) -> Result<()> {
        let first = self.page(list, &PageCursor::first())?;
        self.read_rest(list, first, each)
    }

    /// The items of `page` and of every page after it.
    pub fn read_rest(&mut self, list: &List<'_>, mut page: Page, mut each: impl FnMut(Value)) -> Result<()> {
        loop {
            let next = page.next.take();
            page.items.into_iter().for_each(&mut each);
            match next {
                Some(at) => page = self.page(list, &at)?,
                None => return Ok(()),
            }
        }
    }

    fn backoff(&self, attempt: u32) {
        let base = BACKOFF_BASE * 2u32.saturating_pow(attempt.saturating_sub(1));
        // Jitter from the clock's low bits: no random import is needed.
        let jitter = Duration::from_millis(u64::from(self.transport.now().subsec_nanos() % 250));
        self.transport.sleep(base + jitter);
    }
}

/// Parse a 2xx response's JSON, treating a v1 `status.error: true` as an error.
fn checked_json(response: Response, path_and_query: &str) -> Result<(Response, Value)> {
    let value = parse_json(&response, path_and_query)?;
    if let Some(status) = errors::v1_status_error(&value) {
        return Err(errors::from_response(status, &response, &format!("GET {}", path_only(path_and_query))));
    }
    Ok((response, value))
}

fn parse_json(response: &Response, path_and_query: &str) -> Result<Value> {
    serde_json::from_slice(&response.body)
        .map_err(|_| Error::unexpected(response.status, &format!("GET {}", path_only(path_and_query)), "a JSON body"))
}

/// The path without its query (queries may hold cursors; keep messages short).
pub fn path_only(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or(path_and_query)
}

#[cfg(test)]
pub mod testing {
    //! An in-memory [`Transport`] for unit tests: scripted responses, recorded requests.

    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::transport::{Request, Response, Transport, TransportFailure};

    #[derive(Default)]
    pub struct Scripted {
        pub responses: RefCell<VecDeque<Result<Response, TransportFailure>>>,
        pub requests: RefCell<Vec<Request>>,
        pub clock: RefCell<Duration>,
    }

    impl Scripted {
        pub fn push(&self, status: u16, headers: &[(&str, &str)], body: &str) {
            self.responses.borrow_mut().push_back(Ok(Response {
                status,
                headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
                body: body.as_bytes().to_vec(),
            }));
        }

        pub fn push_failure(&self, retryable: bool) {
            self.responses
                .borrow_mut()
                .push_back(Err(TransportFailure { message: "connection reset".into(), retryable }));
        }

        pub fn paths(&self) -> Vec<String> {
            self.requests.borrow().iter().map(|r| format!("{} {}", r.method.as_str(), r.path_and_query)).collect()
        }
    }

    impl Transport for &Scripted {
        fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
            self.requests.borrow_mut().push(request.clone());
            self.responses
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Err(TransportFailure { message: "no scripted response".into(), retryable: false }))
        }

        fn now(&self) -> Duration {
            *self.clock.borrow()
        }

        fn sleep(&self, duration: Duration) {
            *self.clock.borrow_mut() += duration;
        }
    }

    pub const TOKEN: &str = r#"{"access_token":"tok","expires_in":36000,"account_id":42}"#;
}

#[cfg(test)]
mod tests {
    use super::testing::{Scripted, TOKEN};
    use super::*;
    use crate::config::{BaseUrl, Scheme};
    use crate::error::Secret;

    fn client(script: &Scripted) -> Client<&Scripted> {
        let config = Config {
            client_id: "id".into(),
            client_secret: Secret::new("secret"),
            base_url: BaseUrl { scheme: Scheme::Https, authority: "acme.onelogin.com".into() },
            event_lookback_days: 90,
        };
        Client::new(script, config)
    }

    #[test]
    fn token_is_fetched_once_and_reused() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/api/2/users").unwrap();
        client.get_json("/api/2/roles").unwrap();
        assert_eq!(script.paths(), ["POST /auth/oauth2/v2/token", "GET /api/2/users", "GET /api/2/roles"]);
        let auth = &script.requests.borrow()[1].headers[0];
        assert_eq!(auth, &("authorization".to_string(), "Bearer tok".to_string()));
    }

    #[test]
    fn token_is_renewed_after_expiry() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        *script.clock.borrow_mut() += Duration::from_secs(36000);
        client.get_json("/b").unwrap();
        assert_eq!(script.paths(), ["POST /auth/oauth2/v2/token", "GET /a", "POST /auth/oauth2/v2/token", "GET /b"]);
    }

    #[test]
    fn a_401_renews_the_token_once() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(401, &[], r#"{"message":"Unauthorized","statusCode":401,"name":"UnauthorizedError"}"#);
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        assert_eq!(script.paths().len(), 4);

        script.push(401, &[], "{}");
        script.push(200, &[], TOKEN);
        script.push(401, &[], "{}");
        assert!(matches!(client.get_json("/a"), Err(Error::AuthenticationFailed(_))));
    }

    #[test]
    fn reads_retry_server_errors_with_backoff_but_writes_do_not() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(503, &[], "");
        script.push_failure(true);
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        assert!(*script.clock.borrow() >= Duration::from_millis(1500), "backed off");

        script.push(503, &[], "");
        let write = client.request(Method::Post, "/api/2/roles/1/users", Some(&serde_json::json!([1])));
        assert!(matches!(write, Err(Error::Upstream { status: 503, .. })));
        assert_eq!(script.paths().len(), 5);
    }

    #[test]
    fn reads_give_up_after_bounded_retries() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        for _ in 0..=MAX_READ_RETRIES {
            script.push(500, &[], "");
        }
        let mut client = client(&script);
        assert!(matches!(client.get_json("/a"), Err(Error::Upstream { status: 500, .. })));
        assert_eq!(script.paths().len(), 1 + 1 + MAX_READ_RETRIES as usize);
    }

    #[test]
    fn a_spent_budget_is_waited_out_within_the_wait_budget() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "20")], "[]");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(30));
        client.get_json("/a").unwrap();
        client.get_json("/b").unwrap();
        assert!(*script.clock.borrow() >= Duration::from_secs(20), "waited for the reset");
        assert_eq!(script.paths().len(), 3, "no request was sent into the spent budget");
    }

    #[test]
    fn a_429_waits_and_retries_within_the_budget_and_fails_typed_beyond_it() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[("x-ratelimit-reset", "5")], "");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(10));
        client.get_json("/a").unwrap();
        assert_eq!(script.paths().len(), 3);

        script.push(429, &[("x-ratelimit-reset", "600")], "");
        assert_eq!(client.get_json("/a").err(), Some(Error::RateLimited { retry_after: 600 }));
        client.set_wait_budget(Duration::ZERO);
        script.push(429, &[("x-ratelimit-reset", "1")], "");
        assert_eq!(client.get_json("/a").err(), Some(Error::RateLimited { retry_after: 1 }));
        assert_eq!(script.paths().len(), 5, "no hammering: one request per refusal");
    }

    #[test]
    fn batched_reads_keep_order_and_redo_failures_one_by_one() {
        let script = Scripted::default();
        script.push(200, &[("date", "Mon, 23 Nov 2026 12:00:00 GMT")], TOKEN);
        script.push(200, &[], "[1]");
        script.push(503, &[], "");
        script.push(404, &[], r#"{"message":"gone","statusCode":404,"name":"NotFoundError"}"#);
        script.push(200, &[], "[2]");
        let mut client = client(&script);
        client.set_concurrency(8);
        client.authenticate().unwrap();
        let paths: Vec<String> = ["/a", "/b", "/c"].iter().map(|p| p.to_string()).collect();
        let results = client.get_json_many(&paths);
        assert_eq!(results[0].as_ref().unwrap().1, serde_json::json!([1]));
        assert_eq!(results[1].as_ref().unwrap().1, serde_json::json!([2]), "the 503 was retried alone");
        assert!(matches!(results[2], Err(Error::NotFound(_))));
        assert_eq!(client.unix_now(), crate::time::parse_iso("2026-11-23T12:00:00Z"));
    }

    #[test]
    fn v1_error_inside_a_200_is_an_error() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], r#"{"status":{"error":true,"code":404,"type":"not found","message":"No Route Exists"}}"#);
        let mut client = client(&script);
        assert!(matches!(client.get_json("/api/1/x"), Err(Error::NotFound(_))));
    }
}
