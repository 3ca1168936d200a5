//! App logins at real volume: the "user logged in to app" events (type 8) a real
//! tenant logs several times a day per active user, generated lazily one day at a
//! time so that 10,000 users × 120 days (millions of events) cost neither start-up
//! time nor memory.
//!
//! [`LoginHistory::new`] (called by `Simulator::start`) snapshots every active user
//! (status 1) with the apps they can use; [`LoginHistory::day`] generates one day's
//! logins from an rng seeded with (seed, start time, day): each such user logs in
//! `⌊rate⌋` times, plus once more with probability `rate − ⌊rate⌋`
//! ([`super::SimulatorConfig::app_logins_per_user_per_day`]), at uniform times of the
//! day, to uniform apps of theirs. Ids follow time ([`event_id_at`]), in a slot range
//! of their own, so they interleave with the other events by id as by time.
//! Assumption (FIDELITY.md F-EVT-10): the rate (default 3) and its uniformity; real
//! logins cluster in working hours and on a few apps.
//!
//! When the simulator's clock is moved forward ([`super::Simulator::advance_clock`]),
//! [`LoginHistory::extend_to`] adds the days since start, generated the same way (a
//! day's logins never depend on where the history ends, so extending it leaves the
//! earlier days as they were).

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::events::{event_id_at, Event, EVENT_HISTORY_DAYS, EVENT_LOGGED_INTO_APP, LOGIN_ID_SLOT};
use super::tenant::Tenant;

const DAY_MS: i64 = 86_400_000;
/// The ChaCha stream of the login generator.
const LOGIN_STREAM: u64 = 5;

/// An active user who logs in to apps.
#[derive(Clone, PartialEq)]
struct LoginUser {
    id: u64,
    name: Arc<str>,
    apps: Vec<(u64, Arc<str>)>,
}

/// The lazily generated app-login history of a tenant (empty by default).
#[derive(Clone, Default, PartialEq)]
pub struct LoginHistory {
    users: Vec<LoginUser>,
    rate: f64,
    seed: u64,
    /// Start of day 0 (unix ms); the history covers [origin, until).
    origin_ms: i64,
    /// The simulator's start: part of the generator's seed.
    end_ms: i64,
    /// The end of the history: `end_ms` until [`LoginHistory::extend_to`] moves it.
    until_ms: i64,
}

impl std::fmt::Debug for LoginHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LoginHistory {{ users: {}, rate: {}, days: {} }}", self.users.len(), self.rate, self.days())
    }
}

impl LoginHistory {
    /// The history of `tenant`'s active users over the [`EVENT_HISTORY_DAYS`] days
    /// before `start_ms`, at `rate` logins per user per day (0: none).
    pub fn new(tenant: &Tenant, rate: f64, start_ms: i64) -> LoginHistory {
        let rate = if rate.is_finite() { rate.clamp(0.0, 1000.0) } else { 0.0 };
        let users = if rate > 0.0 {
            tenant
                .users
                .iter()
                .filter(|u| u.status == 1)
                .filter_map(|u| {
                    let apps: Vec<(u64, Arc<str>)> = tenant
                        .accessible_app_ids(u)
                        .into_iter()
                        .filter_map(|a| tenant.app(a).map(|app| (a, Arc::from(app.name.as_str()))))
                        .collect();
                    let name = Arc::from(format!("{} {}", u.firstname, u.lastname));
                    (!apps.is_empty()).then_some(LoginUser { id: u.id, name, apps })
                })
                .collect()
        } else {
            Vec::new()
        };
        LoginHistory {
            users,
            rate,
            seed: tenant.seed,
            origin_ms: start_ms - EVENT_HISTORY_DAYS * DAY_MS,
            end_ms: start_ms,
            until_ms: start_ms,
        }
    }

    /// Makes the history run up to `until_ms` (unix ms) when that is later than its
    /// end: the logins of the time since (the simulator's clock moved forward).
    pub fn extend_to(&mut self, until_ms: i64) {
        self.until_ms = self.until_ms.max(until_ms);
    }

    /// How many days the history spans, the last one possibly in part (0 when nobody
    /// logs in).
    pub fn days(&self) -> i64 {
        if self.users.is_empty() {
            0
        } else {
            (self.until_ms - self.origin_ms).div_euclid(DAY_MS)
                + i64::from((self.until_ms - self.origin_ms) % DAY_MS != 0)
        }
    }

    /// The day an event time falls in (may be out of range).
    pub fn day_of(&self, ms: i64) -> i64 {
        (ms - self.origin_ms).div_euclid(DAY_MS)
    }

    /// The days overlapping `[since_ms, until_ms)`, in order.
    pub fn days_between(&self, since_ms: i64, until_ms: i64) -> std::ops::Range<i64> {
        let first = self.day_of(since_ms.max(self.origin_ms)).max(0);
        let end = (self.day_of(until_ms.min(self.until_ms).saturating_sub(1)) + 1).min(self.days());
        first..end.max(first)
    }

    /// Day `d`'s logins, in id (= time) order; empty outside the history.
    pub fn day(&self, d: i64) -> Vec<Event> {
        if !(0..self.days()).contains(&d) {
            return Vec::new();
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ (self.end_ms as u64).rotate_left(23) ^ (d as u64));
        rng.set_stream(LOGIN_STREAM);
        let whole = self.rate.floor();
        let day_start = self.origin_ms + d * DAY_MS;
        let mut logins: Vec<(i64, usize, usize, u32)> = Vec::new();
        for (k, user) in self.users.iter().enumerate() {
            let count = whole as usize + usize::from(rng.random_bool((self.rate - whole).clamp(0.0, 1.0)));
            for _ in 0..count {
                let at = day_start + rng.random_range(0..DAY_MS);
                // Drawn whether kept or not, so a day is the same wherever the history ends.
                let (app, ip) = (rng.random_range(0..user.apps.len()), rng.random());
                if at < self.until_ms {
                    logins.push((at, k, app, ip));
                }
            }
        }
        logins.sort_unstable();
        let mut last_id = 0;
        logins
            .into_iter()
            .map(|(at, k, app, ip)| {
                let user = &self.users[k];
                let (app_id, app_name) = &user.apps[app];
                let id = event_id_at(at, LOGIN_ID_SLOT).max(last_id + 1);
                last_id = id;
                Event {
                    id,
                    created_at_ms: at,
                    event_type_id: EVENT_LOGGED_INTO_APP,
                    user_id: Some(user.id),
                    user_name: Some(user.name.clone()),
                    actor_user_id: Some(user.id),
                    actor_user_name: Some(user.name.clone()),
                    app_id: Some(*app_id),
                    app_name: Some(app_name.clone()),
                    ipaddr: Some(std::net::Ipv4Addr::from(ip | 0x0b00_0001).to_string()),
                    ..Event::default()
                }
            })
            .collect()
    }

    /// Every login with `since_ms <= created_at < until_ms`, in id order (generated
    /// day by day; for tests and cost formulas).
    pub fn between(&self, since_ms: i64, until_ms: i64) -> impl Iterator<Item = Event> + '_ {
        self.days_between(since_ms, until_ms)
            .flat_map(move |d| self.day(d))
            .filter(move |e| e.created_at_ms >= since_ms && e.created_at_ms < until_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extending_the_history_adds_the_new_time_and_keeps_the_old() {
        let start = 1_767_225_600_000;
        let tenant = Tenant::generate(60, 2);
        let history = LoginHistory::new(&tenant, 3.0, start);
        assert_eq!(history.days(), EVENT_HISTORY_DAYS);
        assert_eq!(history.between(start, i64::MAX).count(), 0, "nothing after the start yet");
        let mut later = history.clone();
        later.extend_to(start + DAY_MS + DAY_MS / 2);
        assert_eq!(later.days(), EVENT_HISTORY_DAYS + 2, "a day and a half more");
        let before: Vec<u64> = history.between(start - 3 * DAY_MS, start).map(|e| e.id).collect();
        let after: Vec<u64> = later.between(start - 3 * DAY_MS, start).map(|e| e.id).collect();
        assert!(!before.is_empty());
        assert_eq!(before, after, "the days before the start are unchanged");
        let new: Vec<Event> = later.between(start, i64::MAX).collect();
        let users = history.users.len() as f64;
        assert!((new.len() as f64) > users * 3.0 * 1.2 && (new.len() as f64) < users * 3.0 * 1.8, "{}", new.len());
        assert!(new.iter().all(|e| e.created_at_ms >= start && e.created_at_ms < start + DAY_MS + DAY_MS / 2));
        let mut full = later.clone();
        full.extend_to(start + 2 * DAY_MS);
        let first_day = |h: &LoginHistory| h.between(start, start + DAY_MS).map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(first_day(&later), first_day(&full), "a finished day does not change as the history grows");
        later.extend_to(start);
        assert_eq!(later.days(), EVENT_HISTORY_DAYS + 2, "never shortened");
    }
}
