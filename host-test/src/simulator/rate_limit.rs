//! The account's v1 rate budget.
//!
//! OneLogin documents "an account level rate limit of 5,000 calls per hour regardless of
//! how many access tokens you have"; one copy of the rate-limit page says "for v1 API
//! calls". The simulator models it as a fixed one-hour window that starts at the first
//! v1 call after the previous window ran out.
//! Assumption (FIDELITY.md F-RATE-6): the window start (the reset itself is documented).
//!
//! Only v1 calls (`/api/1/...`) spend it and carry the `X-RateLimit-*` headers
//! (FIDELITY.md F-RATE-2, F-RATE-3: recorded v2 responses carry none and did not move
//! the v1 counter). v2 calls are throttled under load instead (see [`super::throttle`]).
//! The privileges endpoints live under `/api/1` and count as v1 here
//! (Assumption, FIDELITY.md F-RATE-12: they answer in the v2 error style, so they may
//! be off the budget). Token calls (`/auth/...`) neither spend budget nor carry the
//! headers. `X-RateLimit-Reset` is the number of seconds LEFT in the window, not an epoch.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Which of OneLogin's two APIs a request path belongs to, for rate accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `/api/1/...`: on the account's hourly budget.
    V1,
    /// Every other `/api/...` path: off the budget, throttled under load.
    V2,
}

impl Api {
    /// The API of `path`; `None` outside `/api/` (token endpoints).
    pub fn for_path(path: &str) -> Option<Api> {
        if path == "/api/1" || path.starts_with("/api/1/") {
            Some(Api::V1)
        } else if path.starts_with("/api/") {
            Some(Api::V2)
        } else {
            None
        }
    }
}

/// Length of one rate window.
pub const WINDOW: Duration = Duration::from_secs(3600);

/// A snapshot of the budget, as reported in headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateInfo {
    /// `X-RateLimit-Limit`.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset`: seconds left in the window.
    pub reset_secs: u64,
}

impl RateInfo {
    /// Writes the three `X-RateLimit-*` headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(HeaderName::from_static("x-ratelimit-limit"), HeaderValue::from(self.limit));
        headers.insert(HeaderName::from_static("x-ratelimit-remaining"), HeaderValue::from(self.remaining));
        headers.insert(HeaderName::from_static("x-ratelimit-reset"), HeaderValue::from(self.reset_secs));
    }
}

/// The account budget (`None` limit = unlimited, no headers).
#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<u32>,
    window: Duration,
    window_start: Option<Instant>,
    used: u32,
}

impl RateLimiter {
    /// A limiter allowing `limit` calls per hour, or unlimited when `None`.
    pub fn new(limit: Option<u32>) -> RateLimiter {
        RateLimiter::with_window(limit, WINDOW)
    }

    /// A limiter allowing `limit` calls per `window` (at least one second).
    pub fn with_window(limit: Option<u32>, window: Duration) -> RateLimiter {
        RateLimiter { limit, window: window.max(Duration::from_secs(1)), window_start: None, used: 0 }
    }

    /// The configured per-hour limit.
    pub fn limit(&self) -> Option<u32> {
        self.limit
    }

    fn roll(&mut self, now: Instant) {
        match self.window_start {
            Some(start) if now.duration_since(start) < self.window => {}
            _ => {
                self.window_start = None;
                self.used = 0;
            }
        }
    }

    fn info(&self, limit: u32, now: Instant) -> RateInfo {
        let reset_secs = match self.window_start {
            Some(start) => {
                let left = self.window.saturating_sub(now.duration_since(start));
                left.as_secs() + u64::from(left.subsec_nanos() > 0)
            }
            None => self.window.as_secs(),
        };
        RateInfo { limit, remaining: limit.saturating_sub(self.used), reset_secs }
    }

    /// Consumes one call. `Ok(None)` when unlimited, `Ok(Some(info))` after a successful
    /// spend, `Err(info)` (remaining 0) when the budget is exhausted.
    pub fn consume(&mut self, now: Instant) -> Result<Option<RateInfo>, RateInfo> {
        let Some(limit) = self.limit else {
            return Ok(None);
        };
        self.roll(now);
        if self.window_start.is_none() {
            self.window_start = Some(now);
        }
        if self.used >= limit {
            return Err(self.info(limit, now));
        }
        self.used += 1;
        Ok(Some(self.info(limit, now)))
    }

    /// Moves the window `by` into the past (the simulator's clock moved forward):
    /// a window that started more than its length ago has run out, so the budget
    /// is full again at the next call.
    pub fn advance(&mut self, by: Duration) {
        self.window_start = self.window_start.and_then(|start| start.checked_sub(by));
        if self.window_start.is_none() {
            self.used = 0;
        }
    }

    /// The current budget without spending (for `GET /auth/rate_limit`). When unlimited,
    /// reports a full 5000 budget.
    pub fn peek(&mut self, now: Instant) -> RateInfo {
        match self.limit {
            Some(limit) => {
                self.roll(now);
                self.info(limit, now)
            }
            None => RateInfo { limit: 5000, remaining: 5000, reset_secs: WINDOW.as_secs() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_runs_out_then_resets_after_an_hour() {
        let mut rl = RateLimiter::new(Some(2));
        let t0 = Instant::now();
        assert_eq!(rl.consume(t0).unwrap().unwrap().remaining, 1);
        assert_eq!(rl.consume(t0).unwrap().unwrap().remaining, 0);
        let err = rl.consume(t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(err.remaining, 0);
        assert_eq!(err.reset_secs, 3590);
        let again = rl.consume(t0 + WINDOW).unwrap().unwrap();
        assert_eq!(again.remaining, 1);
        assert_eq!(again.reset_secs, 3600);
    }

    #[test]
    fn a_short_window_resets_after_its_length() {
        let mut rl = RateLimiter::with_window(Some(1), Duration::from_secs(3));
        let t0 = Instant::now();
        assert_eq!(rl.consume(t0).unwrap().unwrap().reset_secs, 3);
        assert_eq!(rl.consume(t0 + Duration::from_secs(1)).unwrap_err().reset_secs, 2);
        assert_eq!(rl.consume(t0 + Duration::from_secs(3)).unwrap().unwrap().remaining, 0);
    }

    #[test]
    fn advancing_past_the_window_restores_the_budget() {
        let mut rl = RateLimiter::new(Some(1));
        let t0 = Instant::now();
        rl.consume(t0).unwrap();
        rl.advance(Duration::from_secs(60));
        assert_eq!(rl.consume(t0).unwrap_err().reset_secs, 3540, "a minute on, the same window");
        rl.advance(WINDOW);
        assert_eq!(rl.consume(t0).unwrap().unwrap().remaining, 0, "an hour on, a fresh budget");
    }

    #[test]
    fn unlimited_never_reports() {
        let mut rl = RateLimiter::new(None);
        assert_eq!(rl.consume(Instant::now()), Ok(None));
    }
}
