//! Load throttling: v2 calls refused when too many are in flight or arrive too
//! fast, and the token endpoint refusing a client after repeated bad credentials.
//!
//! Evidence (FIDELITY.md F-RATE-2, F-RATE-10, F-RATE-11, F-TOK-14):
//! * v2 calls are off the v1 5000/h budget and carry no `X-RateLimit-*` headers
//!   (recorded real traffic; the rate-limit page says the budget is "for v1 API
//!   calls"; OneLogin's MCP server calls v2 "not rate limited"); v2 is expected to
//!   answer 429 under load instead (the team's review, §7);
//! * concurrent `GET /api/2/roles` requests were answered 502 (Terraform provider
//!   #219: ten 502s in a burst of 504 role-list requests);
//! * repeated bad-credential token requests were answered 429 `text/html`, 117 bytes,
//!   without rate headers (graph-onelogin HAR `validateInvocation-invalidClientId`).
//!
//! No source gives the real thresholds, whether a v2 429 carries `Retry-After`, or
//! what the 502 body is. So every number here is configuration:
//! Assumption (FIDELITY.md F-RATE-11): [`V2Throttle::default`] is **off** (no limit on
//! in-flight or per-second v2 calls); tests and benchmarks turn it on. The token
//! endpoint's failure throttle is on by default (five failures in a minute lock the
//! client out for a minute), numbers assumed (FIDELITY.md F-TOK-14).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use super::errors;
use super::faults::{self, FaultKind};

/// How v2 calls are throttled. The default throttles nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct V2Throttle {
    /// The most v2 calls served at once; one arriving while this many are in flight
    /// (latency included) is refused. `None` = no limit.
    pub max_in_flight: Option<usize>,
    /// A token bucket: calls per second sustained, and the burst allowed. `None` = no limit.
    pub per_second: Option<TokenBucket>,
    /// How a refused call is answered.
    pub refusal: Refusal,
}

/// A token bucket's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenBucket {
    /// Calls per second sustained (greater than 0).
    pub rate: f64,
    /// Calls allowed at once after a quiet period (at least 1).
    pub burst: u32,
}

/// How a throttled v2 call is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Refusal {
    /// 429 `TooManyRequestsError` (v2 JSON) without any rate header: the only
    /// form with evidence (status, no `X-RateLimit-*`).
    #[default]
    TooManyRequests,
    /// 429 with `Retry-After: <seconds until the bucket has a token>` (at least 1).
    /// Assumption (FIDELITY.md F-RATE-8): never seen on OneLogin, modelled so a
    /// client that honours it is tested.
    TooManyRequestsRetryAfter,
    /// 502 with a small HTML page, what a burst of role-list calls got
    /// (Terraform provider #219; the body was not recorded).
    BadGateway,
}

/// The simulator's v2 throttle state.
#[derive(Debug)]
pub struct V2Limiter {
    config: V2Throttle,
    in_flight: Arc<AtomicUsize>,
    tokens: f64,
    refilled: Option<Instant>,
    refused: u64,
    peak: usize,
}

/// Holds one in-flight v2 slot; dropping it frees the slot.
#[derive(Debug)]
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl V2Limiter {
    /// A limiter with `config`.
    pub fn new(config: V2Throttle) -> V2Limiter {
        let burst = config.per_second.map_or(0.0, |b| f64::from(b.burst.max(1)));
        V2Limiter {
            config,
            in_flight: Arc::new(AtomicUsize::new(0)),
            tokens: burst,
            refilled: None,
            refused: 0,
            peak: 0,
        }
    }

    /// Replaces the settings (tests switch throttling on and off between syncs).
    pub fn configure(&mut self, config: V2Throttle) {
        let (in_flight, refused, peak) = (self.in_flight.clone(), self.refused, self.peak);
        *self = V2Limiter { in_flight, refused, peak, ..V2Limiter::new(config) };
    }

    /// The settings.
    pub fn config(&self) -> V2Throttle {
        self.config
    }

    /// v2 calls refused so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The most v2 calls that were in flight at once so far.
    pub fn peak_in_flight(&self) -> usize {
        self.peak
    }

    /// Admits a v2 call arriving at `now` (holding its slot until the guard drops), or
    /// the refusal to send instead.
    pub fn admit(&mut self, now: Instant) -> Result<InFlight, Response> {
        if let Some(max) = self.config.max_in_flight {
            if self.in_flight.load(Ordering::SeqCst) >= max.max(1) {
                self.refused += 1;
                return Err(self.refusal(Duration::from_secs(1)));
            }
        }
        if let Some(bucket) = self.config.per_second {
            let rate = if bucket.rate > 0.0 { bucket.rate } else { 1.0 };
            let burst = f64::from(bucket.burst.max(1));
            if let Some(last) = self.refilled {
                self.tokens = (self.tokens + now.saturating_duration_since(last).as_secs_f64() * rate).min(burst);
            }
            self.refilled = Some(now);
            if self.tokens < 1.0 {
                self.refused += 1;
                let wait = Duration::from_secs_f64((1.0 - self.tokens) / rate);
                return Err(self.refusal(wait));
            }
            self.tokens -= 1.0;
        }
        let now_in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak = self.peak.max(now_in_flight);
        Ok(InFlight(self.in_flight.clone()))
    }

    fn refusal(&self, wait: Duration) -> Response {
        match self.config.refusal {
            Refusal::TooManyRequests => errors::rate_limited("/api/2"),
            Refusal::TooManyRequestsRetryAfter => {
                let mut resp = errors::rate_limited("/api/2");
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                resp.headers_mut().insert(HeaderName::from_static("retry-after"), HeaderValue::from(secs.max(1)));
                resp
            }
            Refusal::BadGateway => faults::respond(&FaultKind::HtmlError(502), "/api/2", None)
                .unwrap_or_else(|| errors::error_for("/api/2", StatusCode::BAD_GATEWAY, "Bad Gateway")),
        }
    }
}

/// The token endpoint's lock-out after repeated bad credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenThrottle {
    /// Failed token requests of one client id within `window` before it is refused.
    pub failures: u32,
    /// The window failures are counted in, and how long the lock-out lasts.
    pub window: Duration,
}

impl Default for TokenThrottle {
    /// Five failures in a minute lock a client id out for a minute.
    /// Assumption (FIDELITY.md F-TOK-14): the HAR shows the 429, not the numbers.
    fn default() -> Self {
        TokenThrottle { failures: 5, window: Duration::from_secs(60) }
    }
}

/// Failed token requests per client id (the id as sent, valid or not).
#[derive(Debug, Default)]
pub struct TokenFailures {
    config: Option<TokenThrottle>,
    /// Per client id: when its count started, and the count.
    by_client: HashMap<String, (Instant, u32)>,
}

impl TokenFailures {
    /// A tracker; `None` never throttles.
    pub fn new(config: Option<TokenThrottle>) -> TokenFailures {
        TokenFailures { config, by_client: HashMap::new() }
    }

    /// Whether `client_id` is locked out at `now`.
    pub fn locked(&mut self, client_id: &str, now: Instant) -> bool {
        let Some(config) = self.config else { return false };
        match self.by_client.get(client_id) {
            Some((start, _)) if now.saturating_duration_since(*start) >= config.window => {
                self.by_client.remove(client_id);
                false
            }
            Some((_, count)) => *count >= config.failures,
            None => false,
        }
    }

    /// Counts a failed token request of `client_id` at `now`.
    pub fn fail(&mut self, client_id: &str, now: Instant) {
        let Some(config) = self.config else { return };
        let entry = self.by_client.entry(client_id.to_string()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= config.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// The token endpoint's throttling answer: 429, `content-type: text/html`, no rate
/// headers (graph-onelogin HAR; the 117-byte body was redacted, so this one is ours).
pub fn token_throttled() -> Response {
    faults::respond(&FaultKind::HtmlError(429), "/auth/oauth2/v2/token", None).unwrap_or_else(|| {
        errors::error_for("/auth/oauth2/v2/token", StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_limit_frees_its_slot_when_the_call_ends() {
        let mut limiter = V2Limiter::new(V2Throttle { max_in_flight: Some(2), ..V2Throttle::default() });
        let now = Instant::now();
        let a = limiter.admit(now).unwrap();
        let _b = limiter.admit(now).unwrap();
        assert_eq!(limiter.admit(now).unwrap_err().status(), StatusCode::TOO_MANY_REQUESTS);
        drop(a);
        assert!(limiter.admit(now).is_ok());
        assert_eq!(limiter.refused(), 1);
    }

    #[test]
    fn token_bucket_allows_a_burst_then_the_rate_and_says_when() {
        let bucket = TokenBucket { rate: 2.0, burst: 3 };
        let config = V2Throttle {
            per_second: Some(bucket),
            refusal: Refusal::TooManyRequestsRetryAfter,
            ..V2Throttle::default()
        };
        let mut limiter = V2Limiter::new(config);
        let t0 = Instant::now();
        for _ in 0..3 {
            drop(limiter.admit(t0).unwrap());
        }
        let refused = limiter.admit(t0).unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers().get("retry-after").unwrap(), "1");
        assert!(refused.headers().get("x-ratelimit-remaining").is_none());
        drop(limiter.admit(t0 + Duration::from_millis(500)).unwrap());
        assert!(limiter.admit(t0 + Duration::from_millis(600)).is_err());
    }

    #[test]
    fn bad_gateway_refusal_is_html() {
        let config = V2Throttle { max_in_flight: Some(1), refusal: Refusal::BadGateway, ..V2Throttle::default() };
        let mut limiter = V2Limiter::new(config);
        let _held = limiter.admit(Instant::now()).unwrap();
        let refused = limiter.admit(Instant::now()).unwrap_err();
        assert_eq!(refused.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(refused.headers().get("content-type").unwrap(), "text/html");
    }

    #[test]
    fn token_failures_lock_a_client_out_for_the_window() {
        let mut failures = TokenFailures::new(Some(TokenThrottle { failures: 2, window: Duration::from_secs(60) }));
        let t0 = Instant::now();
        assert!(!failures.locked("x", t0));
        failures.fail("x", t0);
        failures.fail("x", t0);
        assert!(failures.locked("x", t0 + Duration::from_secs(1)));
        assert!(!failures.locked("y", t0), "per client id");
        assert!(!failures.locked("x", t0 + Duration::from_secs(60)), "the lock-out ends with the window");
        assert!(!TokenFailures::new(None).locked("x", t0));
    }
}
