//! Adaptive concurrency: how many v2 requests the sliding window keeps in
//! flight.
//!
//! OneLogin's v2 API answers 429 (and, in bursts, 502) when too many calls
//! are in flight or arrive too fast, and publishes no threshold (see
//! [`super::rate`]). The host's `sync-request.concurrency` is taken as the
//! maximum; [`Concurrency`] finds what the account bears below it, AIMD
//! (additive increase, multiplicative decrease) with a memory of where it was
//! throttled:
//!
//! - It starts at the maximum (a fresh instance knows nothing; the first
//!   window finds the threshold in a few milliseconds, see the README's
//!   throttled benchmark), or at the limit a resumed cursor carries.
//! - A throttle signal (a v2 429 or 502) for a request sent since the last
//!   cut is a **congestion event**: the limit drops to 7/10 of itself
//!   (rounded, at least 1, always lower), and the limit it was throttled at
//!   becomes the *ceiling*. Signals for requests sent before the cut are the
//!   same burst and change nothing, so one burst costs one cut.
//! - Successes raise the limit by one after `limit` of them (about one round
//!   of the window), up to one below the ceiling. Stepping onto the ceiling
//!   again (a probe) waits [`PROBE_ROUNDS`] rounds, twice as many after each
//!   probe throttled at the same ceiling (up to [`MAX_PROBE_ROUNDS`]), so a
//!   steady threshold costs few 429s. A round at the ceiling without a
//!   signal lifts it. A throttle that names a wait (`Retry-After`) costs a
//!   refused probe that wait, so after one the next probe waits
//!   [`MAX_PROBE_ROUNDS`] rounds.
//! - The limit stays within 1 and the maximum. At 1 there is nothing left to
//!   cut: the client cools down instead ([`Signal::AtFloor`]).
//!
//! v1 budget waits are not congestion ([`super::rate`] handles them), and
//! the controller can be switched off (config `adaptive_concurrency=off`):
//! the limit is then always the maximum, as hosts and the fixed-concurrency
//! benchmark runs need.

use crate::logging;

/// Rounds of the window at one below the ceiling before the first probe.
pub const PROBE_ROUNDS: usize = 16;
/// The most rounds between probes of a ceiling that keeps refusing.
pub const MAX_PROBE_ROUNDS: usize = 256;
/// The cut: the limit becomes `limit × CUT_NUM / CUT_DEN`, rounded.
const CUT_NUM: usize = 7;
const CUT_DEN: usize = 10;

/// What a throttle signal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A new congestion event: the limit was cut from `from` to `to`.
    Cut { from: usize, to: usize },
    /// The request was sent before the last cut: the same burst, already
    /// answered.
    SameBurst,
    /// A new event at limit 1: nothing left to cut; cool down instead.
    AtFloor,
    /// The controller is off: the limit stays at the maximum.
    Off,
}

impl Signal {
    /// Whether the cut answers the signal, so the request may simply be
    /// sent again (no cool-down of its own).
    pub fn absorbed(self) -> bool {
        matches!(self, Signal::Cut { .. } | Signal::SameBurst)
    }
}

/// The AIMD controller (see the module docs).
#[derive(Debug, Clone)]
pub struct Concurrency {
    adaptive: bool,
    max: usize,
    limit: usize,
    /// The limit of the last congestion event, while not passed since.
    ceiling: Option<usize>,
    /// Rounds to wait before stepping onto the ceiling.
    probe_rounds: usize,
    /// Successes since the last change.
    run: usize,
    /// Counts cuts: a request carries the epoch it was sent in.
    epoch: u64,
    /// Whether the limit was learnt (a throttle seen, or a resumed limit).
    learnt: bool,
}

impl Concurrency {
    /// A controller, adaptive or not, at limit 1 until [`Concurrency::set_max`].
    pub fn new(adaptive: bool) -> Self {
        Concurrency {
            adaptive,
            max: 1,
            limit: 1,
            ceiling: None,
            probe_rounds: PROBE_ROUNDS,
            run: 0,
            epoch: 0,
            learnt: false,
        }
    }

    /// The host's maximum (`sync-request.concurrency`), set on every page.
    /// Until something is learnt it is the limit; after, the limit learnt
    /// is kept (only lowered to a lower maximum).
    pub fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
        if !self.adaptive || !self.learnt {
            self.limit = self.max;
        }
        self.limit = self.limit.clamp(1, self.max);
    }

    /// Start from `limit` (what a resumed cursor carries) instead of the
    /// maximum, if this instance has learnt nothing itself yet; a limit
    /// below the maximum is taken as one below a ceiling.
    pub fn resume(&mut self, limit: usize) {
        if !self.adaptive || self.learnt {
            return;
        }
        let limit = limit.clamp(1, self.max);
        if limit < self.max {
            self.limit = limit;
            self.ceiling = Some(limit + 1);
            self.learnt = true;
        }
    }

    /// The most requests to keep in flight now.
    pub fn limit(&self) -> usize {
        if self.adaptive {
            self.limit
        } else {
            self.max
        }
    }

    /// The maximum.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The epoch a request sent now belongs to (pass it back with its signal).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A v2 request succeeded.
    pub fn success(&mut self) {
        if !self.adaptive || self.limit >= self.max {
            return;
        }
        self.run = self.run.saturating_add(1);
        let probing = self.ceiling == Some(self.limit + 1);
        let needed = if probing { self.limit.saturating_mul(self.probe_rounds) } else { self.limit };
        if self.run < needed {
            return;
        }
        self.run = 0;
        self.limit += 1;
        if let Some(ceiling) = self.ceiling.filter(|c| self.limit > *c) {
            logging::debug(&format!("concurrency {}: no throttling at {ceiling} any more", self.limit));
            self.ceiling = None;
            self.probe_rounds = PROBE_ROUNDS;
        }
    }

    /// A v2 request sent in `epoch` was throttled (429 or 502).
    pub fn throttled(&mut self, epoch: u64) -> Signal {
        if !self.adaptive {
            return Signal::Off;
        }
        if epoch != self.epoch {
            return Signal::SameBurst;
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.learnt = true;
        self.run = 0;
        let from = self.limit;
        if from <= 1 {
            return Signal::AtFloor;
        }
        // A probe refused at the same ceiling: probe less often.
        self.probe_rounds = match self.ceiling {
            Some(ceiling) if ceiling == from => self.probe_rounds.saturating_mul(2).min(MAX_PROBE_ROUNDS),
            _ => PROBE_ROUNDS,
        };
        self.ceiling = Some(from);
        let to = ((from * CUT_NUM + CUT_DEN / 2) / CUT_DEN).clamp(1, from - 1);
        self.limit = to;
        logging::info(&format!("OneLogin throttled at {from} requests in flight; concurrency now {to}"));
        Signal::Cut { from, to }
    }

    /// The throttle just signalled told its request to wait (`Retry-After`):
    /// a refused probe costs that wait, so the ceiling is probed again only
    /// after [`MAX_PROBE_ROUNDS`].
    pub fn told_to_wait(&mut self, signal: Signal) {
        if matches!(signal, Signal::Cut { .. }) {
            self.probe_rounds = MAX_PROBE_ROUNDS;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adaptive(max: usize) -> Concurrency {
        let mut c = Concurrency::new(true);
        c.set_max(max);
        c
    }

    /// Successes until the limit changes (at most `cap`), and how many.
    fn succeed_until_change(c: &mut Concurrency, cap: usize) -> usize {
        let before = c.limit();
        (1..=cap)
            .find(|_| {
                c.success();
                c.limit() != before
            })
            .unwrap_or(cap)
    }

    #[test]
    fn starts_at_the_maximum_and_cuts_once_per_burst() {
        let mut c = adaptive(16);
        assert_eq!(c.limit(), 16);
        let sent = c.epoch();
        assert_eq!(c.throttled(sent), Signal::Cut { from: 16, to: 11 });
        for _ in 0..10 {
            assert_eq!(c.throttled(sent), Signal::SameBurst, "the rest of the burst");
        }
        assert_eq!(c.limit(), 11);
        let later = c.epoch();
        assert_eq!(c.throttled(later), Signal::Cut { from: 11, to: 8 }, "a request sent after the cut");
    }

    #[test]
    fn cuts_reach_one_then_signal_the_floor() {
        let mut c = adaptive(64);
        let mut limits = vec![c.limit()];
        while c.limit() > 1 {
            assert!(matches!(c.throttled(c.epoch()), Signal::Cut { .. }));
            limits.push(c.limit());
        }
        assert!(limits.windows(2).all(|w| w[1] < w[0]), "{limits:?}");
        assert!(limits.len() <= 14, "{limits:?}");
        assert_eq!(c.throttled(c.epoch()), Signal::AtFloor);
        assert!(!Signal::AtFloor.absorbed() && Signal::SameBurst.absorbed());
    }

    #[test]
    fn grows_one_per_round_below_the_ceiling_and_probes_it_slowly() {
        let mut c = adaptive(16);
        c.throttled(c.epoch()); // 16 -> 11
        c.throttled(c.epoch()); // 11 -> 8
        c.throttled(c.epoch()); // 8 -> 6, ceiling 8
        assert_eq!(c.limit(), 6);
        assert_eq!(succeed_until_change(&mut c, 1000), 6, "one round of 6");
        assert_eq!(c.limit(), 7);
        assert_eq!(succeed_until_change(&mut c, 10_000), 7 * PROBE_ROUNDS, "the probe waits");
        assert_eq!(c.limit(), 8);
        // Refused again at 8: back down, and the next probe waits twice as long.
        assert_eq!(c.throttled(c.epoch()), Signal::Cut { from: 8, to: 6 });
        succeed_until_change(&mut c, 1000);
        assert_eq!(succeed_until_change(&mut c, 10_000), 7 * PROBE_ROUNDS * 2);
        // A round at 8 without a signal lifts the ceiling: on to the maximum.
        assert_eq!(succeed_until_change(&mut c, 1000), 8);
        assert_eq!(c.limit(), 9);
        for _ in 0..10_000 {
            c.success();
        }
        assert_eq!(c.limit(), 16, "never above the maximum");
    }

    #[test]
    fn a_throttle_that_says_wait_makes_the_next_probe_wait_the_most_rounds() {
        let mut c = adaptive(16);
        c.throttled(c.epoch()); // 16 -> 11
        let signal = c.throttled(c.epoch()); // 11 -> 8, ceiling 11
        c.told_to_wait(signal);
        while c.limit() < 10 {
            c.success();
        }
        assert_eq!(succeed_until_change(&mut c, 100_000), 10 * MAX_PROBE_ROUNDS, "a refused probe costs a wait");
        // A signal of the same burst changes nothing.
        let mut d = adaptive(16);
        let sent = d.epoch();
        d.throttled(sent);
        let same = d.throttled(sent);
        d.told_to_wait(same);
        assert_eq!(d.probe_rounds, PROBE_ROUNDS);
    }

    #[test]
    fn probe_rounds_stop_doubling_at_the_cap() {
        let mut c = adaptive(4);
        for _ in 0..20 {
            c.throttled(c.epoch()); // 4 -> 3 (ceiling 4)
            while c.limit() < 4 {
                c.success();
            }
        }
        assert_eq!(c.probe_rounds, MAX_PROBE_ROUNDS);
    }

    #[test]
    fn the_maximum_bounds_and_resets_only_an_unthrottled_limit() {
        let mut c = adaptive(8);
        c.set_max(4);
        assert_eq!(c.limit(), 4);
        c.set_max(16);
        assert_eq!(c.limit(), 16, "nothing was throttled: the new maximum");
        c.throttled(c.epoch());
        assert_eq!(c.limit(), 11);
        c.set_max(16);
        assert_eq!(c.limit(), 11, "a later page keeps what was learnt");
        for _ in 0..10_000 {
            c.success();
        }
        assert_eq!(c.limit(), 16);
        c.throttled(c.epoch());
        c.set_max(32);
        assert_eq!(c.limit(), 11, "a larger maximum later: grown to, not jumped to");
        c.set_max(6);
        assert_eq!(c.limit(), 6);
        c.set_max(0);
        assert_eq!(c.limit(), 1);
    }

    #[test]
    fn a_resumed_limit_applies_only_to_an_instance_that_learnt_nothing() {
        let mut fresh = adaptive(16);
        fresh.resume(5);
        assert_eq!(fresh.limit(), 5);
        fresh.set_max(16);
        fresh.resume(5);
        assert_eq!(fresh.limit(), 5, "the next page of the same instance keeps it");
        assert_eq!(succeed_until_change(&mut fresh, 10_000), 5 * PROBE_ROUNDS, "6 is probed slowly");
        let mut learnt = adaptive(16);
        learnt.throttled(learnt.epoch());
        learnt.resume(3);
        assert_eq!(learnt.limit(), 11);
        let mut big = adaptive(8);
        big.resume(40);
        assert_eq!(big.limit(), 8);
    }

    #[test]
    fn off_keeps_the_maximum() {
        let mut c = Concurrency::new(false);
        c.set_max(8);
        assert_eq!(c.throttled(c.epoch()), Signal::Off);
        c.resume(2);
        c.success();
        assert_eq!(c.limit(), 8);
        assert!(!Signal::Off.absorbed());
    }
}
