//! The OneLogin API client: authentication, requests, retries, error bodies
//! and pagination. It knows OneLogin's HTTP API and nothing about entities;
//! `sync/` and `provision/` build on it.

pub mod auth;
pub mod concurrency;
pub mod errors;
pub mod pagination;
pub mod rate;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod wasi_http;

use std::time::Duration;

use serde_json::Value;

use self::auth::Token;
use self::concurrency::Concurrency;
use self::pagination::{List, Page, PageCursor};
use self::rate::{Api, RateState};
use self::transport::{
    memory, Bounds, Method, Request, Response, Transport, TransportFailure, TransportKind, WindowAnswer, WindowEvent,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::logging;

/// How many times a read is retried after a 5xx or a transient transport failure.
pub const MAX_READ_RETRIES: u32 = 2;
/// How many times one request waits out a 429 before giving up (v2 backoff
/// doubles from 1 s: six waits span about a minute).
const MAX_RATE_LIMIT_WAITS: u32 = 6;
/// A v2 request throttled with a `Retry-After` up to this long goes out
/// again in the same window once the wait is over (the rest of the window
/// going on meanwhile); a longer wait is waited after the window.
const MAX_WAIT_IN_WINDOW: Duration = Duration::from_secs(5);
const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// The host's per-call wall-clock limit this client plans for (the harness's
/// default). A call's budget (see [`crate::config::Timeouts`]) stays well
/// under it; an armed budget older than this belongs to an earlier call.
const HOST_CALL_LIMIT: Duration = Duration::from_secs(120);
/// Longer than this without network activity means the export call that
/// armed the budget is over (within a call, only the guest's own CPU work
/// separates requests).
const CALL_IDLE_GAP: Duration = Duration::from_secs(10);

/// The error of a request (`what`) that got no response.
fn transport_error(what: &str, failure: &TransportFailure) -> Error {
    Error::Transport {
        kind: failure.kind,
        message: format!("{what}: {}", errors::redact(&failure.message)),
        retryable: failure.retryable,
    }
}

/// The network-time budget of the current export call.
#[derive(Debug, Default)]
struct CallBudget {
    /// When [`Client::begin_call`] armed it, and its deadline.
    armed: Option<(Duration, Duration)>,
    /// When the client last finished a request or a wait.
    last_active: Duration,
}

/// What the last responses said about the rate budgets and the time.
#[derive(Debug, Default)]
struct Budget {
    /// The v1 budget and the v2 cool-down (see [`rate`]).
    rate: RateState,
    /// `X-RateLimit-Limit`: the calls one v1 rate window allows.
    limit: Option<u64>,
    /// Until when (monotonic time) a call may wait for the budget; `None` =
    /// never wait.
    wait_until: Option<Duration>,
    /// Unix time of the last `Date` header, and when (monotonic) it was seen.
    date: Option<(i64, Duration)>,
}

/// The head (status and headers, no body) of a response to a call to `api`,
/// read at `at`: a window's responses are observed once the window is done.
#[derive(Debug)]
struct Observed {
    api: Option<Api>,
    head: Response,
    at: Duration,
    /// A v2 throttle answered by cutting the concurrency (see
    /// [`concurrency`]): without a `Retry-After` (or reset) it sets no
    /// cool-down of its own.
    absorbed: bool,
}

impl Observed {
    fn new(api: Option<Api>, response: &Response, at: Duration) -> Self {
        let head = Response { status: response.status, headers: response.headers.clone(), body: Vec::new() };
        Observed { api, head, at, absorbed: false }
    }

    /// Whether the rate state should record this response: all but an
    /// absorbed throttle that names no wait.
    fn recorded(&self) -> bool {
        !self.absorbed || errors::names_a_wait(&self.head)
    }
}

/// A GET read and parsed (or why not).
pub type Read = Result<(Response, Value)>;

/// Where a window pass sorts the requests it does not answer itself.
struct Window<'a> {
    /// Requests to re-do alone after the window.
    redo: &'a mut Vec<usize>,
    /// Paths added that did not go out in the window (the rate budget could
    /// not take them then): they get a window of their own.
    unsent: &'a mut Vec<usize>,
}

/// The parse budget of a [`Client::get_json_growing`] window so far, for a
/// caller deciding whether to add more requests to it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseBudget {
    /// Estimated bytes still free (see [`memory::json_cost`]).
    pub left: usize,
    /// Estimated bytes of the responses parsed so far.
    pub spent: usize,
    /// How many responses were parsed.
    pub parsed: usize,
}

/// A configured client with its cached token.
pub struct Client<T: Transport> {
    transport: T,
    config: Config,
    token: Option<(Token, Duration)>,
    budget: Budget,
    /// How many requests [`Client::get_json_many`] keeps in flight: the
    /// host's maximum, or less while v2 throttles (see [`concurrency`]).
    control: Concurrency,
    call: CallBudget,
}

impl<T: Transport> Client<T> {
    /// A client for `config`; the current export call (`configure`) starts
    /// its network-time budget now.
    pub fn new(transport: T, config: Config) -> Self {
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", config.client_id, config.client_secret.expose()),
        );
        errors::Redactions::set_credentials(&[&config.client_id, config.client_secret.expose(), &basic]);
        let adaptive = config.adaptive_concurrency;
        let mut client = Client {
            transport,
            config,
            token: None,
            budget: Budget::default(),
            control: Concurrency::new(adaptive),
            call: CallBudget::default(),
        };
        client.begin_call();
        client
    }

    /// Let [`Client::get_json_many`] keep up to `n` requests in flight (1 to
    /// [`memory::MAX_IN_FLIGHT`]): the maximum; the adaptive controller
    /// keeps fewer while OneLogin throttles (see [`concurrency`]).
    pub fn set_concurrency(&mut self, n: usize) {
        self.control.set_max(n.clamp(1, memory::MAX_IN_FLIGHT));
    }

    /// Start the adaptive controller from `limit` (what a resumed cursor
    /// carries) if this instance has learnt nothing of its own.
    pub fn resume_concurrency(&mut self, limit: usize) {
        self.control.resume(limit);
    }

    /// The v2 requests kept in flight now (the maximum unless throttled).
    pub fn concurrency_limit(&self) -> usize {
        self.control.limit()
    }

    /// Start the network-time budget of an export call (`config.timeouts.call`
    /// from now): no request starts or runs, and no wait sleeps, past it.
    /// [`Client::new`], [`Client::set_wait_budget`] (which `sync` calls at
    /// the start of each page) and `Connector::provision` call it; a write
    /// also starts a fresh one, so an action is not left half done.
    pub fn begin_call(&mut self) {
        let now = self.transport.now();
        self.call = CallBudget { armed: Some((now, now.saturating_add(self.config.timeouts.call))), last_active: now };
    }

    /// The current call's deadline. A budget armed by an earlier call (older
    /// than the host's call limit, or spent and idle since) means a new call
    /// began without arming one (`provision`): it gets a fresh budget now.
    fn call_deadline(&mut self) -> Duration {
        let now = self.transport.now();
        if let Some((armed_at, deadline)) = self.call.armed {
            let same_call = now.saturating_sub(armed_at) < HOST_CALL_LIMIT
                && (now < deadline || now.saturating_sub(self.call.last_active) <= CALL_IDLE_GAP);
            if same_call {
                return deadline;
            }
        }
        self.begin_call();
        now.saturating_add(self.config.timeouts.call)
    }

    /// The bounds of the next request attempt with `in_flight` requests in
    /// flight together, or a retryable error once the call's budget is spent.
    fn attempt_bounds(&mut self, what: &str, in_flight: usize) -> Result<Bounds> {
        let now = self.transport.now();
        let call_deadline = self.call_deadline();
        if now >= call_deadline {
            return Err(Error::Transport {
                kind: TransportKind::Timeout,
                message: format!(
                    "{what}: not sent: this call's network-time budget of {} s is spent; call again",
                    self.config.timeouts.call.as_secs()
                ),
                retryable: true,
            });
        }
        let timeout = self.config.timeouts.request;
        Ok(Bounds { deadline: call_deadline, timeout, max_body_bytes: memory::body_cap(in_flight) }.sent_at(now))
    }

    /// Note network activity (a response, a failure or a wait just ended).
    fn touch(&mut self) {
        self.call.last_active = self.transport.now();
    }

    /// Allow waiting up to `budget` (from now) for rate-limit resets; zero
    /// means a throttled call fails at once with [`Error::RateLimited`].
    /// Also starts the call's network-time budget ([`Client::begin_call`]):
    /// `sync` calls this first on every page.
    pub fn set_wait_budget(&mut self, budget: Duration) {
        self.begin_call();
        self.budget.wait_until = (!budget.is_zero()).then(|| self.transport.now().saturating_add(budget));
    }

    /// The calls one rate window allows (`X-RateLimit-Limit`), once a
    /// response said.
    pub fn rate_window_calls(&self) -> Option<u64> {
        self.budget.limit
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

    /// Remember what a response reports of its API's rate budget (see
    /// [`rate`]; `None` for the token endpoint), and the date.
    fn observe(&mut self, api: Option<Api>, response: &Response) {
        let observed = Observed::new(api, response, self.transport.now());
        self.observe_headers(&observed);
    }

    /// [`Client::observe`] on the head kept from a response.
    fn observe_headers(&mut self, observed: &Observed) {
        let now = observed.at;
        if let (Some(api), true) = (observed.api, observed.recorded()) {
            self.budget.rate.record(api, now, &observed.head);
        }
        if let Some(limit) = observed.head.header("x-ratelimit-limit").and_then(|v| v.trim().parse::<u64>().ok()) {
            self.budget.limit = Some(limit);
        }
        if let Some(text) = observed.head.header("date") {
            match crate::time::parse_http_date(text) {
                Some(date) if crate::time::PLAUSIBLE_NOW.contains(&date) => self.budget.date = Some((date, now)),
                // Far in the future or past (or unreadable): a broken clock,
                // never the basis of event windows or checkpoints.
                _ => logging::warn("ignoring an unusable Date header from OneLogin"),
            }
        }
    }

    /// Before a request to `path_and_query`: while its API's budget is spent
    /// or it is cooling down after a 429, wait (within the wait budget)
    /// instead of sending a request bound to fail. The other API is never
    /// held back (see [`rate`]).
    fn respect_budget(&mut self, path_and_query: &str, what: &str) -> Result<()> {
        let now = self.transport.now();
        match self.budget.rate.wait_before(Api::of(path_and_query), now) {
            Some(wait) => self.wait_for(wait, what),
            None => Ok(()),
        }
    }

    /// Sleep `duration` if the wait budget allows, else fail with `RateLimited`.
    fn wait_for(&mut self, duration: Duration, what: &str) -> Result<()> {
        let now = self.transport.now();
        // Never sleep past the call's network-time budget either.
        let call = self.call_deadline();
        let until = self.budget.wait_until.map(|wait| wait.min(call));
        match until {
            Some(until) if now.checked_add(duration).is_some_and(|end| end <= until) => {
                logging::info(&format!("{what}: rate limited; waiting {} ms", duration.as_millis()));
                self.transport.sleep(duration);
                self.touch();
                Ok(())
            }
            _ => Err(Error::RateLimited { retry_after: whole_seconds(duration) }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Fetch a token now (replacing any cached one) and return it.
    pub fn authenticate(&mut self) -> Result<Token> {
        let what = format!("POST {}", auth::TOKEN_PATH);
        let mut request = auth::token_request(&self.config);
        let mut attempt = 0;
        let response = loop {
            request.bounds = self.attempt_bounds(&what, 1)?;
            let sent = self.transport.send(&request);
            self.touch();
            match sent {
                // A 500 may be a passing failure: the request changes nothing,
                // so it is tried again before it counts as the documented
                // answer for a credential whose owner was deleted.
                Ok(response) if response.status == 500 && attempt < MAX_READ_RETRIES => {
                    attempt += 1;
                    logging::warn(&format!("{what}: HTTP 500; retry {attempt}"));
                    self.backoff(attempt);
                }
                Ok(response) => break response,
                Err(failure) if failure.retryable && attempt < MAX_READ_RETRIES => {
                    attempt += 1;
                    self.backoff(attempt);
                }
                Err(failure) => return Err(transport_error(&what, &failure)),
            }
        };
        self.observe(None, &response);
        let token = auth::parse_token_response(&response)?;
        self.token = Some((token.clone(), self.transport.now()));
        logging::debug("obtained an OAuth2 access token");
        Ok(token)
    }

    /// Whether an access token is held (none after a token request failed).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
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
    // Long: one loop, so every retry, token renewal and rate-limit wait
    // shares the attempt counters and the call budget.
    pub fn request(&mut self, method: Method, path_and_query: &str, body: Option<&Value>) -> Result<Response> {
        let what = format!("{} {}", method.as_str(), path_only(path_and_query));
        if let Some(body) = body {
            register_secret_fields(body);
        }
        if method != Method::Get {
            // Only `provision` writes, and it arms no budget of its own (the
            // one armed may be an earlier call's): a write starts a fresh one,
            // so the steps after it are not refused and the action is not
            // left half done.
            self.begin_call();
        }
        let mut attempt = 0;
        let mut renewed = false;
        let mut throttled = 0;
        loop {
            self.respect_budget(path_and_query, &what)?;
            let bearer = self.bearer()?;
            let mut request = self.build(method, path_and_query, body, bearer);
            request.bounds = self.attempt_bounds(&what, 1)?;
            let retry_allowed = method == Method::Get && attempt < MAX_READ_RETRIES;
            let epoch = self.control.epoch();
            let sent = self.transport.send(&request);
            self.touch();
            let response = match sent {
                Ok(response) => response,
                Err(failure) if failure.retryable && retry_allowed => {
                    attempt += 1;
                    logging::warn(&format!("{what}: {}; retry {attempt}", errors::redact(&failure.message)));
                    self.backoff(attempt);
                    continue;
                }
                Err(failure) => return Err(transport_error(&what, &failure)),
            };
            self.observe(Some(Api::of(path_and_query)), &response);
            if Api::of(path_and_query) == Api::V2 {
                // Alone in flight, a throttled request still cools down (the
                // rate state); the cut is for the windows that follow.
                match response.status {
                    200..=299 => self.control.success(),
                    429 | 502 => {
                        let signal = self.control.throttled(epoch);
                        if errors::names_a_wait(&response) {
                            self.control.told_to_wait(signal);
                        }
                    }
                    _ => {}
                }
            }
            match response.status {
                200..=299 => {
                    within_parse_budget(&response, &what, memory::parse_budget(1))?;
                    return Ok(response);
                }
                // Throttled: nothing happened, so even a write may be re-sent,
                // after the cool-down `observe` set (waited at the loop's top).
                429 if throttled < MAX_RATE_LIMIT_WAITS => throttled += 1,
                401 if !renewed && !errors::is_scope_refusal(401, &response.body) => {
                    logging::info(&format!("{what}: 401, renewing the access token"));
                    self.token = None;
                    renewed = true;
                }
                status @ (500 | 502 | 503 | 504) if retry_allowed => {
                    attempt += 1;
                    logging::warn(&format!("{what}: HTTP {status}; retry {attempt}"));
                    self.backoff(attempt);
                }
                // Still throttled after the waits: the host retries after
                // the cool-down.
                429 => {
                    let now = self.transport.now();
                    let wait = self.budget.rate.wait_before(Api::of(path_and_query), now);
                    return Err(Error::RateLimited {
                        retry_after: whole_seconds(wait.unwrap_or(rate::DEFAULT_V1_WAIT)),
                    });
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
            bounds: Bounds::default(),
        }
    }

    /// GET and parse JSON, treating a v1 `status.error: true` as an error.
    pub fn get_json(&mut self, path_and_query: &str) -> Result<(Response, Value)> {
        let response = self.request(Method::Get, path_and_query, None)?;
        checked_json(response, path_and_query)
    }

    /// Several GETs through a sliding window of up to the concurrency in
    /// flight (see [`Transport::send_window`]), each with the same handling
    /// as [`Client::get_json`]: a response that needs a retry, a new token or
    /// a wait is re-done on its own after the window. Results are in the
    /// order of `paths`.
    ///
    /// The parsed results are held together, so they share one parse budget
    /// of [`memory::RESPONSE_BUDGET`], charged as each response arrives: a
    /// response over the whole budget fails as an unexpected response, one
    /// over what is left as [`Error::WindowFull`] (a smaller window would
    /// read it; neither is retryable). One re-done alone after the window
    /// is charged to the same budget.
    pub fn get_json_many(&mut self, paths: &[String]) -> Vec<Result<(Response, Value)>> {
        // A fixed set: the memory plan is shared among no more than there are.
        let share = self.control.max().min(paths.len());
        self.read_window(paths.to_vec(), share, &mut |_, _, _| Vec::new())
    }

    /// [`Client::get_json_many`], where each result, as soon as it is read,
    /// may add paths to the same window (`grow`, given the result's index and
    /// the parse budget so far): what a response makes known goes out while
    /// the rest is still in flight. Results are in the order of `paths`,
    /// then of the paths added, in the order `grow` added them. Added paths
    /// get a window of their own when the one they were found in is over.
    /// The memory plan is shared among the maximum in flight, however few
    /// `paths` start it.
    pub fn get_json_growing(
        &mut self,
        paths: Vec<String>,
        grow: &mut dyn FnMut(usize, &Read, &ParseBudget) -> Vec<String>,
    ) -> Vec<Read> {
        let share = self.control.max();
        self.read_window(paths, share, grow)
    }

    /// The reads behind [`Client::get_json_many`] and
    /// [`Client::get_json_growing`], each response holding a `share` of the
    /// memory plan.
    fn read_window(
        &mut self,
        paths: Vec<String>,
        share: usize,
        grow: &mut dyn FnMut(usize, &Read, &ParseBudget) -> Vec<String>,
    ) -> Vec<Read> {
        let mut paths = paths;
        let mut results: Vec<Option<Result<(Response, Value)>>> = paths.iter().map(|_| None).collect();
        let budget = std::cell::RefCell::new(ParseBudget { left: memory::RESPONSE_BUDGET, ..ParseBudget::default() });
        self.get_json_window(
            &mut paths,
            share,
            &mut |response, what| {
                let mut budget = budget.borrow_mut();
                let cost = memory::json_cost(&response.body);
                within_parse_budget(response, what, memory::parse_budget(1))?;
                if cost > budget.left {
                    return Err(Error::WindowFull {
                        status: response.status,
                        message: format!(
                            "{what}: the response would need about {} MiB to parse, over the {} MiB its window has left",
                            cost >> 20,
                            budget.left >> 20
                        ),
                    });
                }
                budget.left = budget.left.saturating_sub(cost);
                budget.spent = budget.spent.saturating_add(cost);
                budget.parsed += 1;
                Ok(())
            },
            &mut |index, result| {
                let added = grow(index, &result, &budget.borrow());
                if results.len() <= index {
                    results.resize_with(index + 1, || None);
                }
                if let Some(slot) = results.get_mut(index) {
                    *slot = Some(result);
                }
                added
            },
        );
        results.resize_with(paths.len(), || None);
        results
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| Err(Error::unexpected(0, "GET (window)", "a response"))))
            .collect()
    }

    /// The window behind [`Client::read_window`]: `admit` checks a 2xx
    /// body against the memory plan before it is parsed; each result goes to
    /// `each` as soon as it is read, those re-done alone last, and the paths
    /// `each` returns are added to `paths` and sent.
    ///
    /// A v2 window keeps the controller's limit in flight (see
    /// [`concurrency`]), narrowing as soon as a throttle comes back. A
    /// request throttled and answered by a cut goes out again in the same
    /// window, without a cool-down (up to [`MAX_RATE_LIMIT_WAITS`] times);
    /// one told to wait (`Retry-After`) goes out in another window once this
    /// one is done and the wait is over.
    fn get_json_window(
        &mut self,
        paths: &mut Vec<String>,
        share: usize,
        admit: &mut dyn FnMut(&Response, &str) -> Result<()>,
        each: &mut dyn FnMut(usize, Result<(Response, Value)>) -> Vec<String>,
    ) {
        // The memory plan is made for the maximum, whatever the limit.
        let share = share.max(1);
        // Paths not sent yet: at first all; then those added by results
        // read outside a window (re-done alone), or not sent in it.
        let mut unsent: Vec<usize> = (0..paths.len()).collect();
        while !unsent.is_empty() {
            let mut todo = std::mem::take(&mut unsent);
            let mut redo = Vec::new();
            for _ in 0..=MAX_RATE_LIMIT_WAITS {
                if todo.is_empty() {
                    break;
                }
                let subset: Vec<String> = todo.iter().filter_map(|i| paths.get(*i).cloned()).collect();
                let v2 = subset.iter().any(|p| Api::of(p) == Api::V2);
                let limit = if v2 { self.control.limit() } else { self.control.max() };
                // A cool-down (a `Retry-After` of the last window, or of an
                // earlier step's) is waited out first, so the window still
                // goes out whole rather than one request after another.
                if let Some(first) = subset.first() {
                    if self.respect_budget(first, "GET (window)").is_err() {
                        break;
                    }
                }
                let now = self.transport.now();
                if share < 2 || limit.min(todo.len()) < 2 || !self.budget.rate.fits(&subset, now) {
                    break;
                }
                let mut found = Window { redo: &mut redo, unsent: &mut unsent };
                todo = self.window_pass(paths, &todo, limit, share, admit, each, &mut found);
            }
            redo.extend(todo);
            redo.sort_unstable();
            for index in redo {
                if let Some(path) = paths.get(index).cloned() {
                    // Alone in flight, but held with the window's results: the
                    // window's parse budget takes it (`admit`).
                    let read = self.request(Method::Get, &path, None).and_then(|response| {
                        admit(&response, &format!("GET {}", path_only(&path)))?;
                        checked_json(response, &path)
                    });
                    for added in each(index, read) {
                        unsent.push(paths.len());
                        paths.push(added);
                    }
                }
            }
        }
    }

    /// One sliding window over `paths[todo]`, starting at `limit` in flight,
    /// each holding a `share` of the memory plan. Results go to `each`, and
    /// the paths it adds go out in the same window (or, when the rate budget
    /// cannot take them now, to `found.unsent`); requests to re-do alone go
    /// to `found.redo`; those throttled, answered by a cut and told to wait
    /// are returned, to go out again after the wait.
    // Long: one pass over the window's events, sorting each outcome into a
    // result, a request to re-do alone or one to send again.
    #[allow(clippy::too_many_arguments)]
    fn window_pass(
        &mut self,
        paths: &mut Vec<String>,
        todo: &[usize],
        limit: usize,
        share: usize,
        admit: &mut dyn FnMut(&Response, &str) -> Result<()>,
        each: &mut dyn FnMut(usize, Result<(Response, Value)>) -> Vec<String>,
        found: &mut Window<'_>,
    ) -> Vec<usize> {
        let prepared = self.bearer().and_then(|bearer| Ok((bearer, self.attempt_bounds("GET (window)", share)?)));
        let (bearer, bounds) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                for index in todo {
                    for added in each(*index, Err(error.clone())) {
                        found.unsent.push(paths.len());
                        paths.push(added);
                    }
                }
                return Vec::new();
            }
        };
        // The window's deadline is the call's; each attempt gets its own
        // timeout when it is sent.
        let bounds = Bounds { deadline: self.call_deadline(), ..bounds };
        let template = Request { bounds, ..self.build(Method::Get, "", None, bearer) };
        let request = |path: &str| Request { path_and_query: path.to_string(), ..template.clone() };
        let requests: Vec<Request> = todo.iter().filter_map(|i| paths.get(*i)).map(|path| request(path)).collect();
        // The window's positions: `todo`, then the paths added as it runs.
        let mut todo = todo.to_vec();
        let mut again = Vec::new();
        let mut outcomes = Vec::new();
        let mut epochs = vec![0u64; todo.len()];
        let mut resends = vec![0u32; todo.len()];
        let (transport, control, rate) = (&self.transport, &mut self.control, &mut self.budget.rate);
        let window_limit = |control: &Concurrency, v2: bool| if v2 { control.limit() } else { control.max() };
        let redo = &mut *found.redo;
        transport.send_window(requests, limit, &mut |event| {
            let (position, sent) = match event {
                WindowEvent::Sent(position) => {
                    if let Some(epoch) = epochs.get_mut(position) {
                        *epoch = control.epoch();
                    }
                    let v2 = todo.get(position).and_then(|i| paths.get(*i)).is_some_and(|p| Api::of(p) == Api::V2);
                    return WindowAnswer::window(window_limit(control, v2));
                }
                WindowEvent::Done(position, sent) => (position, sent),
            };
            let Some((index, path)) = todo.get(position).and_then(|i| Some((*i, paths.get(*i)?))) else {
                return WindowAnswer::window(control.limit());
            };
            let (mut resend, mut resend_after) = (false, Duration::ZERO);
            let api = Api::of(path);
            let what = format!("GET {}", path_only(path));
            let result = match sent {
                Ok(response) => {
                    let mut observed = Observed::new(Some(api), &response, transport.now());
                    let result = match response.status {
                        200..=299 => {
                            if api == Api::V2 {
                                control.success();
                            }
                            Some(admit(&response, &what).and_then(|()| checked_json(response, path)))
                        }
                        status @ (429 | 502) if api == Api::V2 => {
                            let epoch = epochs.get(position).copied().unwrap_or_default();
                            let told = errors::names_a_wait(&response);
                            let wait = Duration::from_secs(u64::from(errors::retry_after(&response)));
                            let in_window =
                                wait <= MAX_WAIT_IN_WINDOW && transport.now().saturating_add(wait) < bounds.deadline;
                            let sends = resends.get_mut(position);
                            let signal = control.throttled(epoch);
                            if told {
                                control.told_to_wait(signal);
                            }
                            let absorbed = signal.absorbed();
                            observed.absorbed = absorbed;
                            match (absorbed, told, sends) {
                                // The cut answers it: send it again in this window.
                                (true, false, Some(sends)) if *sends < MAX_RATE_LIMIT_WAITS => {
                                    *sends += 1;
                                    resend = true;
                                }
                                // Told to wait briefly: again in this window once
                                // the wait is over, the rest going on meanwhile.
                                (true, true, Some(sends)) if in_window && *sends < MAX_RATE_LIMIT_WAITS => {
                                    *sends += 1;
                                    resend = true;
                                    resend_after = wait;
                                }
                                // Told to wait longer: again after this window, once waited.
                                (true, true, _) => again.push(index),
                                _ => {
                                    logging::debug(&format!("{what}: HTTP {status}; re-done alone"));
                                    redo.push(index);
                                }
                            }
                            None
                        }
                        401 | 429 | 500 | 502 | 503 | 504 => {
                            redo.push(index);
                            None
                        }
                        status => Some(Err(errors::from_response(status, &response, &what))),
                    };
                    outcomes.push(observed);
                    result
                }
                Err(failure) if failure.retryable => {
                    redo.push(index);
                    None
                }
                Err(failure) => Some(Err(transport_error(&what, &failure))),
            };
            let mut more = Vec::new();
            if let Some(result) = result {
                let added = each(index, result);
                // Added paths join this window when the rate budget takes them now.
                let fits = added.is_empty() || rate.fits(&added, transport.now());
                for path in added {
                    if fits {
                        more.push(request(&path));
                        todo.push(paths.len());
                        epochs.push(0);
                        resends.push(0);
                    } else {
                        found.unsent.push(paths.len());
                    }
                    paths.push(path);
                }
            }
            WindowAnswer { window: window_limit(control, api == Api::V2), resend, resend_after, more }
        });
        self.touch();
        for observed in outcomes {
            self.observe_headers(&observed);
        }
        again
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

    fn backoff(&mut self, attempt: u32) {
        let base = BACKOFF_BASE.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        // Jitter from the clock's low bits: no random import is needed.
        let jitter = Duration::from_millis(u64::from(self.transport.now().subsec_nanos() % 250));
        let mut pause = base.saturating_add(jitter);
        // Never sleep past the call's budget: the next attempt would be refused anyway.
        pause = pause.min(self.call_deadline().saturating_sub(self.transport.now()));
        self.transport.sleep(pause);
        self.touch();
    }
}

/// A wait in whole seconds, rounded up, at least 1 (a rate-limit hint).
fn whole_seconds(duration: Duration) -> u32 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

/// Parse a 2xx response's JSON, treating a v1 `status.error: true` as an error.
/// The returned response keeps its status and headers; its body, now parsed,
/// is released so raw text and value tree are not held together.
fn checked_json(mut response: Response, path_and_query: &str) -> Result<(Response, Value)> {
    let value = parse_json(&response, path_and_query)?;
    if let Some(status) = errors::v1_status_error(&value) {
        return Err(errors::from_response(status, &response, &format!("GET {}", path_only(path_and_query))));
    }
    response.body = Vec::new();
    Ok((response, value))
}

/// Refuse (typed, not retryable) a 2xx body whose parsed form would cost
/// more than `budget` bytes (see [`memory::json_cost`]), before parsing it.
fn within_parse_budget(response: &Response, what: &str, budget: usize) -> Result<()> {
    let cost = memory::json_cost(&response.body);
    if cost > budget {
        return Err(Error::UnexpectedResponse {
            status: response.status,
            message: format!(
                "{what}: the response ({} bytes) would need about {} MiB to parse, over this request's {} MiB",
                response.body.len(),
                cost >> 20,
                budget >> 20
            ),
        });
    }
    Ok(())
}

/// Remember the secret-looking string fields of a request body (passwords),
/// so an upstream error that echoes them is redacted.
fn register_secret_fields(body: &Value) {
    if let Value::Object(fields) = body {
        for (name, value) in fields {
            let name = name.to_ascii_lowercase();
            let secret = ["password", "secret", "token"].iter().any(|word| name.contains(word));
            if let (true, Some(text)) = (secret, value.as_str()) {
                errors::Redactions::add_write_secret(text);
            }
        }
    }
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

    use super::transport::{Request, Response, Transport, TransportFailure, TransportKind, WindowAnswer, WindowEvent};

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
            self.push_failure_of(TransportKind::Connection, retryable);
        }

        pub fn push_failure_of(&self, kind: TransportKind, retryable: bool) {
            let message = format!("{} failure", crate::error::transport_kind_name(kind));
            self.responses.borrow_mut().push_back(Err(TransportFailure { kind, message, retryable }));
        }

        pub fn paths(&self) -> Vec<String> {
            self.requests.borrow().iter().map(|r| format!("{} {}", r.method.as_str(), r.path_and_query)).collect()
        }
    }

    impl Transport for &Scripted {
        fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
            self.requests.borrow_mut().push(request.clone());
            self.responses.borrow_mut().pop_front().unwrap_or_else(|| {
                Err(TransportFailure {
                    kind: TransportKind::Protocol,
                    message: "no scripted response".into(),
                    retryable: false,
                })
            })
        }

        /// A window without time: up to `window` sent, then the oldest
        /// answered (the script's next response), and so on.
        fn send_window(
            &self,
            mut requests: Vec<Request>,
            window: usize,
            each: &mut dyn FnMut(WindowEvent) -> WindowAnswer,
        ) {
            let mut window = window.max(1);
            let mut queue: VecDeque<usize> = (0..requests.len()).collect();
            let mut in_flight = VecDeque::new();
            loop {
                while in_flight.len() < window {
                    let Some(index) = queue.pop_front() else { break };
                    window = each(WindowEvent::Sent(index)).window.max(1);
                    in_flight.push_back(index);
                }
                let Some(index) = in_flight.pop_front() else { return };
                let answer = each(WindowEvent::Done(index, self.send(&requests[index])));
                window = answer.window.max(1);
                if answer.resend {
                    self.sleep(answer.resend_after);
                    queue.push_front(index);
                }
                queue.extend(requests.len()..requests.len() + answer.more.len());
                requests.extend(answer.more);
            }
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
            timeouts: Default::default(),
            adaptive_concurrency: true,
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
    fn a_spent_budget_is_whole_again_once_its_window_reset() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "20")], "[]");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        assert!(matches!(client.get_json("/b"), Err(Error::RateLimited { .. })), "no wait budget: refused at once");
        *script.clock.borrow_mut() += Duration::from_secs(21);
        client.get_json("/b").unwrap();
        assert_eq!(script.paths().len(), 3, "the refused call sent nothing; the later one went out");
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
        assert_eq!(client.get_json("/a").err(), Some(Error::RateLimited { retry_after: 600 }), "still cooling down");
        *script.clock.borrow_mut() += Duration::from_secs(600);
        client.set_wait_budget(Duration::ZERO);
        script.push(429, &[("x-ratelimit-reset", "1")], "");
        assert_eq!(client.get_json("/a").err(), Some(Error::RateLimited { retry_after: 1 }));
        assert_eq!(script.paths().len(), 5, "no hammering: one request per refusal, none while cooling down");
    }

    #[test]
    fn a_spent_v1_budget_never_blocks_v2_calls() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1200")], "{\"data\":[]}");
        for _ in 0..3 {
            script.push(200, &[], "[]");
        }
        let mut client = client(&script);
        client.get_json("/api/1/groups").unwrap();
        client.get_json("/api/2/users").unwrap();
        assert_eq!(client.get_json("/api/1/events").err(), Some(Error::RateLimited { retry_after: 1200 }));
        client.set_concurrency(8);
        let wave: Vec<String> = ["/api/2/roles", "/api/2/apps"].iter().map(|p| p.to_string()).collect();
        assert!(client.get_json_many(&wave).iter().all(Result::is_ok));
        let sent = script.paths();
        assert_eq!(sent.len(), 5, "nothing went to v1 while its budget was spent: {sent:?}");
    }

    #[test]
    fn a_v2_429_without_retry_after_backs_off_exponentially_within_the_wait_budget() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[], r#"{"message":"Rate limit exceeded","statusCode":429,"name":"TooManyRequestsError"}"#);
        script.push(429, &[], "");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(10));
        client.get_json("/api/2/users").unwrap();
        let waited = *script.clock.borrow();
        assert!(waited >= Duration::from_secs(3) && waited <= Duration::from_millis(3750), "1 s then 2 s: {waited:?}");

        // Past the wait budget: the typed error with the next backoff, nothing more sent.
        client.set_wait_budget(Duration::ZERO);
        script.push(429, &[("retry-after", "9")], "");
        assert_eq!(client.get_json("/api/2/users").err(), Some(Error::RateLimited { retry_after: 9 }));
        assert_eq!(script.paths().len(), 5);
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
    fn a_growing_window_sends_what_results_add_in_the_same_window_or_after_a_redo() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        // Window: /a (adds /a1 and /a2), /b (503: re-done alone), /a1, /a2
        // (adds /a3); then /b alone (adds /b1), then /b1 in a window of its own.
        script.push(200, &[], "[1]");
        script.push(503, &[], "");
        script.push(200, &[], "[11]");
        script.push(200, &[], "[12]");
        script.push(200, &[], "[13]");
        script.push(200, &[], "[2]");
        script.push(200, &[], "[21]");
        let mut client = client(&script);
        client.set_concurrency(8);
        client.authenticate().unwrap();
        let paths: Vec<String> = ["/api/2/a", "/api/2/b"].iter().map(|p| p.to_string()).collect();
        let mut parsed = Vec::new();
        let results = client.get_json_growing(paths, &mut |_, result, budget| {
            parsed.push(budget.parsed);
            let Ok((_, body)) = result else { return Vec::new() };
            match body.as_array().and_then(|a| a.first()).and_then(Value::as_u64) {
                Some(1) => vec!["/api/2/a1".to_string(), "/api/2/a2".to_string()],
                Some(12) => vec!["/api/2/a3".to_string()],
                Some(2) => vec!["/api/2/b1".to_string()],
                _ => Vec::new(),
            }
        });
        let bodies: Vec<Value> = results.into_iter().map(|r| r.unwrap().1).collect();
        let expected: Vec<Value> = [1, 2, 11, 12, 13, 21].iter().map(|n| serde_json::json!([n])).collect();
        assert_eq!(bodies, expected, "in the order of the paths, then of the paths added");
        let sent = script.paths();
        let order = ["/api/2/a", "/api/2/b", "/api/2/a1", "/api/2/a2", "/api/2/a3", "/api/2/b", "/api/2/b1"];
        assert_eq!(sent[1..], order.iter().map(|p| format!("GET {p}")).collect::<Vec<_>>()[..]);
        assert!(parsed.windows(2).all(|w| w[0] <= w[1]) && parsed.last() >= Some(&4), "{parsed:?}");
    }

    #[test]
    fn a_throttled_window_cuts_its_concurrency_and_sends_again_without_a_cool_down() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[0]");
        script.push(429, &[], "");
        script.push(429, &[], "");
        script.push(200, &[], "[3]");
        // The two throttled requests, sent again in the same window.
        script.push(200, &[], "[1]");
        script.push(200, &[], "[2]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(60));
        client.set_concurrency(8);
        client.authenticate().unwrap();
        let paths: Vec<String> = (0..4).map(|i| format!("/api/2/u/{i}")).collect();
        let results = client.get_json_many(&paths);
        let values: Vec<Value> = results.into_iter().map(|r| r.unwrap().1).collect();
        assert_eq!(values, (0..4).map(|i| serde_json::json!([i])).collect::<Vec<_>>());
        assert_eq!(client.concurrency_limit(), 6, "one cut for the burst of two");
        assert_eq!(*script.clock.borrow(), Duration::ZERO, "no cool-down: the cut answers the 429s");
        assert_eq!(script.paths().len(), 7);
        client.set_concurrency(8);
        assert_eq!(client.concurrency_limit(), 6, "the next page keeps what was learnt");
    }

    #[test]
    fn a_window_throttled_with_retry_after_waits_before_sending_again() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[("retry-after", "2")], "");
        script.push(200, &[], "[1]");
        script.push(200, &[], "[0]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(60));
        client.set_concurrency(4);
        client.authenticate().unwrap();
        let paths: Vec<String> = (0..2).map(|i| format!("/api/2/u/{i}")).collect();
        let results = client.get_json_many(&paths);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(*script.clock.borrow(), Duration::from_secs(2), "Retry-After honoured");
        assert_eq!(client.concurrency_limit(), 3);

        // A wait over MAX_WAIT_IN_WINDOW is waited after the window: honoured too.
        script.push(429, &[("retry-after", "30")], "");
        script.push(200, &[], "[1]");
        script.push(200, &[], "[0]");
        let results = client.get_json_many(&paths);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert!(*script.clock.borrow() >= Duration::from_secs(32), "{:?}", script.clock.borrow());
        assert_eq!(script.paths().len(), 7, "each sent once more, nothing else");
    }

    #[test]
    fn with_adaptive_concurrency_off_a_throttled_window_keeps_its_concurrency_and_cools_down() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[], "");
        script.push(200, &[], "[1]");
        script.push(200, &[], "[0]");
        let config = Config { adaptive_concurrency: false, ..client(&script).config().clone() };
        let mut client = Client::new(&script, config);
        client.set_wait_budget(Duration::from_secs(60));
        client.set_concurrency(4);
        client.authenticate().unwrap();
        let paths: Vec<String> = (0..2).map(|i| format!("/api/2/u/{i}")).collect();
        assert!(client.get_json_many(&paths).iter().all(Result::is_ok));
        assert_eq!(client.concurrency_limit(), 4);
        assert!(*script.clock.borrow() >= Duration::from_secs(1), "backed off before the re-do");
    }

    #[test]
    fn v1_throttling_never_cuts_the_concurrency() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[("x-ratelimit-reset", "1")], "");
        script.push(200, &[], "[1]");
        script.push(200, &[], "[0]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(60));
        client.set_concurrency(4);
        client.authenticate().unwrap();
        let paths: Vec<String> = (0..2).map(|i| format!("/api/1/privileges/{i}/users")).collect();
        assert!(client.get_json_many(&paths).iter().all(Result::is_ok));
        assert_eq!(client.concurrency_limit(), 4);
    }

    #[test]
    fn nothing_is_sent_past_the_call_budget_and_the_next_call_gets_a_new_one() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[("x-ratelimit-reset", "74")], "");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(600));
        client.get_json("/a").unwrap();
        assert_eq!(*script.clock.borrow(), Duration::from_secs(74), "the wait fit the 75 s budget");
        *script.clock.borrow_mut() += Duration::from_secs(2); // the guest's own work
        let error = client.get_json("/b").unwrap_err();
        assert!(matches!(error, Error::Transport { kind: TransportKind::Timeout, retryable: true, .. }), "{error:?}");
        assert_eq!(script.paths().len(), 3, "nothing was sent past the budget");
        client.set_wait_budget(Duration::ZERO); // what sync does first on every page
        script.push(200, &[], "[]");
        client.get_json("/b").unwrap();
    }

    #[test]
    fn a_write_is_never_refused_by_a_budget_left_over_from_an_earlier_call() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[("x-ratelimit-reset", "74")], "");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(600));
        client.get_json("/a").unwrap();
        *script.clock.borrow_mut() += Duration::from_secs(2);
        script.push(200, &[], "{}");
        script.push(200, &[], "{}");
        client.request(Method::Put, "/api/2/users/1", Some(&serde_json::json!({"x": 1}))).unwrap();
        client.get_json("/api/2/users/1").unwrap();
    }

    #[test]
    fn a_call_that_arms_no_budget_gets_one_at_its_first_request() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.set_wait_budget(Duration::from_secs(600));
        client.get_json("/a").unwrap();
        *script.clock.borrow_mut() = HOST_CALL_LIMIT; // a later call (provision) begins
        script.push(429, &[("x-ratelimit-reset", "74")], "");
        script.push(429, &[("x-ratelimit-reset", "74")], "");
        assert_eq!(client.get_json("/b").err(), Some(Error::RateLimited { retry_after: 74 }));
        assert_eq!(
            *script.clock.borrow(),
            HOST_CALL_LIMIT + Duration::from_secs(74),
            "one wait fit the new call's 75 s budget, the second did not"
        );
    }

    #[test]
    fn a_budget_left_over_from_an_earlier_call_refuses_nothing() {
        for idle in [HOST_CALL_LIMIT, crate::config::MAX_CALL_BUDGET + CALL_IDLE_GAP + Duration::from_secs(1)] {
            let script = Scripted::default();
            script.push(200, &[], TOKEN);
            let mut client = client(&script);
            client.authenticate().unwrap();
            *script.clock.borrow_mut() += idle;
            script.push(200, &[], "[]");
            client.get_json("/a").unwrap();
        }
    }

    #[test]
    fn rate_limit_waits_and_backoff_stop_at_the_call_budget() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(429, &[("x-ratelimit-reset", "50")], "");
        script.push(429, &[("x-ratelimit-reset", "50")], "");
        let mut limited = client(&script);
        limited.set_wait_budget(Duration::from_secs(600));
        assert_eq!(limited.get_json("/a").err(), Some(Error::RateLimited { retry_after: 50 }));
        assert_eq!(*script.clock.borrow(), Duration::from_secs(50), "one wait fit, the second did not");

        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        let mut failing = client(&script);
        failing.authenticate().unwrap();
        *script.clock.borrow_mut() += crate::config::MAX_CALL_BUDGET - Duration::from_millis(100);
        script.push(503, &[], "");
        assert!(failing.get_json("/a").is_err());
        assert!(*script.clock.borrow() <= crate::config::MAX_CALL_BUDGET, "backoff stopped at the budget");
    }

    #[test]
    fn absurd_rate_limit_resets_and_dates_never_overflow() {
        let script = Scripted::default();
        script.push(200, &[("date", "Fri, 31 Dec 9999 23:59:59 GMT")], TOKEN);
        script.push(200, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "18446744073709551615")], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        assert_eq!(client.unix_now(), None, "a Date in 9999 is not believed");
        assert_eq!(client.get_json("/b").err(), Some(Error::RateLimited { retry_after: errors::MAX_RETRY_AFTER }));
        client.set_wait_budget(Duration::from_secs(u64::MAX));
        assert!(client.get_json("/b").is_err());
    }

    #[test]
    fn responses_held_together_share_the_parse_budget() {
        // Under the single-request budget, over an eighth of the shared one.
        let objects = memory::parse_budget(8) / 640 + 1000;
        let body = format!("[{}{{}}]", "{\"a\":0},".repeat(objects));
        let cost = memory::json_cost(body.as_bytes());
        assert!(cost < memory::parse_budget(1) && cost * 8 > memory::RESPONSE_BUDGET);
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        for _ in 0..9 {
            script.push(200, &[], &body);
        }
        let mut client = client(&script);
        client.get_json("/alone").unwrap();
        client.set_concurrency(8);
        let paths: Vec<String> = (0..8).map(|i| format!("/u/{i}")).collect();
        let results = client.get_json_many(&paths);
        let held = results.iter().filter(|r| r.is_ok()).count();
        assert!(held * cost <= memory::RESPONSE_BUDGET, "{held} held");
        assert!((1..8).contains(&held), "{held} held");
        for result in &results[held..] {
            assert!(matches!(result, Err(Error::WindowFull { status: 200, .. })), "{result:?}");
        }
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
