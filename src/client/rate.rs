//! OneLogin's two rate regimes, and when the client may send.
//!
//! - **v1** (`/api/1/…`): an account-wide budget of 5,000 calls per hour,
//!   shared with every other tool using the account, reported on each v1
//!   response as `X-RateLimit-Limit/Remaining/Reset` (Reset = seconds left in
//!   the window). A spent budget is waited out (within the wait budget), never
//!   spent into.
//! - **v2** (every other `/api/…` path): off that budget and without those
//!   headers (recorded real traffic; the rate-limit page's "5,000 calls per
//!   hour for v1 API calls"). v2 answers 429 when too many calls are in flight
//!   or arrive too fast, and bursts have been answered 502. A 429 sets a
//!   cool-down for every v2 call: `Retry-After` (or `X-RateLimit-Reset`) when
//!   the response has one, else exponential backoff with jitter, growing with
//!   each 429 not separated by a success.
//!
//! The budgets are separate: a v1 `Remaining: 0` (perhaps spent by another
//! tool) never holds back a v2 call, and a v2 cool-down never holds back v1.
//! If a v2 response ever carries `X-RateLimit-*`, they are honoured for v2
//! only. The API is two questions and one record: [`RateState::wait_before`]
//! ("may I send to this API now, or how long must I wait"),
//! [`RateState::fits`] ("may n calls go out together") and
//! [`RateState::record`] ("this is what a response said").

use std::time::Duration;

use super::errors;
use super::transport::Response;

/// The wait assumed when a v1 budget is spent and no reset was reported, and
/// for a v1 429 without a reset header.
pub const DEFAULT_V1_WAIT: Duration = Duration::from_secs(errors::DEFAULT_RETRY_AFTER as u64);
/// The first v2 backoff after a 429 without `Retry-After`.
pub const V2_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The longest v2 backoff (before jitter).
pub const V2_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Which of OneLogin's APIs a request goes to, for rate accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/api/1/…`: on the account's hourly budget.
    V1,
    /// Every other `/api/…` path: throttled under load.
    V2,
}

impl Api {
    /// The API of a request path (with or without query): v1 under
    /// `/api/1/`, else v2. The token endpoint is neither: the client does not
    /// ask.
    pub fn of(path_and_query: &str) -> Api {
        let path = path_and_query.split('?').next().unwrap_or(path_and_query);
        if path == "/api/1" || path.starts_with("/api/1/") {
            Api::V1
        } else {
            Api::V2
        }
    }
}

/// One API's standing: its reported budget and its cool-down.
#[derive(Debug, Default, Clone)]
struct Standing {
    /// `X-RateLimit-Remaining` of the last response that had it.
    remaining: Option<u64>,
    /// When the window resets (monotonic time), from `X-RateLimit-Reset`.
    resets_at: Option<Duration>,
    /// No call before this (monotonic time): set by a 429.
    cool_until: Option<Duration>,
    /// 429s since the last success (drives the backoff).
    strikes: u32,
}

/// What the client knows of both budgets.
#[derive(Debug, Default, Clone)]
pub struct RateState {
    v1: Standing,
    v2: Standing,
}

impl RateState {
    fn standing(&mut self, api: Api) -> &mut Standing {
        match api {
            Api::V1 => &mut self.v1,
            Api::V2 => &mut self.v2,
        }
    }

    /// How long to wait before sending to `api` at `now`; `None` = send now.
    pub fn wait_before(&mut self, api: Api, now: Duration) -> Option<Duration> {
        let standing = self.standing(api);
        if let Some(until) = standing.cool_until {
            if now < until {
                return Some(until - now);
            }
            standing.cool_until = None;
        }
        if standing.remaining != Some(0) {
            return None;
        }
        match standing.resets_at {
            // The window has reset since: the budget is whole again.
            Some(at) if now >= at => {
                standing.remaining = None;
                standing.resets_at = None;
                None
            }
            Some(at) => Some(at - now),
            None => {
                // Spent, with no word on when it resets: wait the default once.
                standing.resets_at = Some(now.saturating_add(DEFAULT_V1_WAIT));
                Some(DEFAULT_V1_WAIT)
            }
        }
    }

    /// Whether `paths` may go out together now: no API among them is cooling
    /// down, and each reported budget covers its share with one to spare.
    pub fn fits(&mut self, paths: &[String], now: Duration) -> bool {
        for api in [Api::V1, Api::V2] {
            let wanted = paths.iter().filter(|p| Api::of(p) == api).count() as u64;
            if wanted == 0 {
                continue;
            }
            if self.wait_before(api, now).is_some() {
                return false;
            }
            if self.standing(api).remaining.is_some_and(|left| left <= wanted) {
                return false;
            }
        }
        true
    }

    /// Note what a response to a call to `api` said at `now`: its budget
    /// headers, and for a 429 the cool-down before the next call (returned).
    pub fn record(&mut self, api: Api, now: Duration, response: &Response) -> Option<Duration> {
        let standing = self.standing(api);
        let number = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        let reset = response.header("x-ratelimit-reset").and_then(errors::reset_seconds);
        if let Some(remaining) = number("x-ratelimit-remaining") {
            standing.remaining = Some(remaining);
            // Clamped to an hour, so an absurd reset cannot overflow the clock.
            standing.resets_at = reset.map(|secs| now.saturating_add(Duration::from_secs(u64::from(secs))));
        }
        if response.status != 429 {
            if (200..300).contains(&response.status) {
                standing.strikes = 0;
            }
            return None;
        }
        let told = response.header("retry-after").and_then(errors::reset_seconds).or(reset);
        // 429s of one burst (answered while the cool-down the first one set
        // is not over) count as one strike and do not extend it by themselves.
        let cooling = standing.cool_until.filter(|until| now < *until);
        let wait = match (told, api, cooling) {
            (Some(secs), _, _) => Duration::from_secs(u64::from(secs)),
            (None, Api::V1, _) => DEFAULT_V1_WAIT,
            (None, Api::V2, Some(until)) => until - now,
            (None, Api::V2, None) => backoff(standing.strikes, now),
        };
        if cooling.is_none() {
            standing.strikes = standing.strikes.saturating_add(1);
        }
        let until = now.saturating_add(wait);
        standing.cool_until = Some(standing.cool_until.map_or(until, |current| current.max(until)));
        Some(wait)
    }
}

/// The v2 backoff after `strikes` earlier 429s: 1 s doubling up to
/// [`V2_BACKOFF_MAX`], plus up to a quarter more of jitter (from the clock's
/// low bits: no random source is imported), so clients throttled together do
/// not come back together.
fn backoff(strikes: u32, now: Duration) -> Duration {
    let base = V2_BACKOFF_BASE.saturating_mul(2u32.saturating_pow(strikes.min(16))).min(V2_BACKOFF_MAX);
    let quarter = u64::try_from(base.as_millis() / 4).unwrap_or(0).max(1);
    base.saturating_add(Duration::from_millis(u64::from(now.subsec_nanos()) % quarter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: Vec::new(),
        }
    }

    const T0: Duration = Duration::from_secs(100);

    #[test]
    fn paths_belong_to_one_api() {
        assert_eq!(Api::of("/api/1/events?limit=50"), Api::V1);
        assert_eq!(Api::of("/api/1/privileges"), Api::V1);
        assert_eq!(Api::of("/api/2/users?cursor=x"), Api::V2);
        assert_eq!(Api::of("/api/10/x"), Api::V2);
    }

    #[test]
    fn a_spent_v1_budget_never_holds_back_v2() {
        let mut rate = RateState::default();
        let spent = response(200, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1200")]);
        rate.record(Api::V1, T0, &spent);
        assert_eq!(rate.wait_before(Api::V1, T0), Some(Duration::from_secs(1200)));
        assert_eq!(rate.wait_before(Api::V2, T0), None);
        assert!(rate.fits(&["/api/2/a".into(), "/api/2/b".into()], T0));
        assert!(!rate.fits(&["/api/2/a".into(), "/api/1/b".into()], T0));
        assert_eq!(rate.wait_before(Api::V1, T0 + Duration::from_secs(1200)), None, "the window reset");
    }

    #[test]
    fn a_v2_429_cools_v2_down_and_not_v1() {
        let mut rate = RateState::default();
        let wait = rate.record(Api::V2, T0, &response(429, &[("retry-after", "7")]));
        assert_eq!(wait, Some(Duration::from_secs(7)));
        assert_eq!(rate.wait_before(Api::V2, T0 + Duration::from_secs(2)), Some(Duration::from_secs(5)));
        assert_eq!(rate.wait_before(Api::V1, T0), None);
        assert_eq!(rate.wait_before(Api::V2, T0 + Duration::from_secs(7)), None);
    }

    #[test]
    fn v2_backoff_without_retry_after_grows_with_jitter_and_resets_on_success() {
        let mut rate = RateState::default();
        let mut now = T0;
        let mut waits = Vec::new();
        for _ in 0..8 {
            let wait = rate.record(Api::V2, now, &response(429, &[])).unwrap();
            waits.push(wait);
            now += wait;
        }
        for (i, wait) in waits.iter().enumerate() {
            let base = V2_BACKOFF_BASE.saturating_mul(1 << i).min(V2_BACKOFF_MAX);
            assert!(*wait >= base && *wait <= base + base / 4, "strike {i}: {wait:?}");
        }
        rate.record(Api::V2, now, &response(200, &[]));
        let after_success = rate.record(Api::V2, now, &response(429, &[])).unwrap();
        assert!(after_success < Duration::from_secs(2), "{after_success:?}");
    }

    #[test]
    fn the_429s_of_one_burst_count_once() {
        let mut rate = RateState::default();
        for _ in 0..5 {
            rate.record(Api::V2, T0, &response(429, &[]));
        }
        let next = rate.record(Api::V2, T0 + Duration::from_secs(5), &response(429, &[])).unwrap();
        assert!(next >= Duration::from_secs(2) && next < Duration::from_secs(4), "{next:?}");
    }

    #[test]
    fn a_v1_429_without_a_reset_waits_the_default_and_v2_headers_bind_only_v2() {
        let mut rate = RateState::default();
        assert_eq!(rate.record(Api::V1, T0, &response(429, &[])), Some(DEFAULT_V1_WAIT));
        let mut rate = RateState::default();
        rate.record(Api::V2, T0, &response(200, &[("x-ratelimit-remaining", "0")]));
        assert_eq!(rate.wait_before(Api::V2, T0), Some(DEFAULT_V1_WAIT));
        assert_eq!(rate.wait_before(Api::V1, T0), None);
    }

    #[test]
    fn absurd_headers_are_clamped_to_an_hour() {
        let mut rate = RateState::default();
        let wait = rate.record(Api::V2, T0, &response(429, &[("retry-after", "18446744073709551615")]));
        assert_eq!(wait, Some(Duration::from_secs(u64::from(errors::MAX_RETRY_AFTER))));
    }
}
