//! The simulator's wall clock.
//!
//! By default it is the machine's clock. [`fix_epoch`] makes it start at a
//! fixed instant instead ([`FIXED_EPOCH_MS`] for the CLI): every simulator
//! started afterwards in this process reads `epoch + time since its first
//! request` (so however long the host takes to compile the component first),
//! dates its generated events from the epoch, and sends that time in the
//! `Date` header. So the same `--users` and `--seed` give the same tenant,
//! the same events and (for a sync that begins within its first second) the
//! same checkpoint on every run. The setting is process-wide and is made
//! once, before any simulator starts: the CLI makes it, the library's own
//! tests keep the real clock.
//!
//! [`advance`] moves the clock forward (a simulated day passing between two
//! syncs: the realistic bench profile, `host_test::bench::realistic`). It is
//! process-wide too, and [`restart`] takes it back: use it only where one
//! simulator runs in the process (the bench, a test binary of its own).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The fixed epoch of the CLI's simulators: 2026-01-01T00:00:00Z.
pub const FIXED_EPOCH_MS: i64 = 1_767_225_600_000;

/// `Some((epoch, origin))` once fixed: now = epoch + origin.elapsed(); the
/// origin is set by the first reading after a (re)start.
static FIXED: Mutex<Option<(i64, Option<Instant>)>> = Mutex::new(None);

/// Milliseconds [`advance`] added since the last [`restart`].
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Moves this process's simulator clock forward by `ms` milliseconds.
pub fn advance(ms: i64) {
    OFFSET_MS.fetch_add(ms.max(0), Ordering::SeqCst);
}

/// Makes this process's simulator clock start at `epoch_ms` (unix ms).
pub fn fix_epoch(epoch_ms: i64) {
    *FIXED.lock().unwrap_or_else(|e| e.into_inner()) = Some((epoch_ms, None));
}

/// Called when a simulator starts: a fixed clock starts again at its epoch
/// at the next reading (so two simulators of one process, e.g. the bench's,
/// see the same times), and the start time is returned (unix ms).
pub fn restart() -> i64 {
    OFFSET_MS.store(0, Ordering::SeqCst);
    let mut fixed = FIXED.lock().unwrap_or_else(|e| e.into_inner());
    match fixed.as_mut() {
        Some((epoch, origin)) => {
            *origin = None;
            *epoch
        }
        None => wall_millis(),
    }
}

/// Whether the clock is fixed.
pub fn is_fixed() -> bool {
    FIXED.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

fn wall_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The simulator's current time in unix milliseconds.
pub fn now_millis() -> i64 {
    let mut fixed = FIXED.lock().unwrap_or_else(|e| e.into_inner());
    let now = match fixed.as_mut() {
        Some((epoch, origin)) => {
            let origin = *origin.get_or_insert_with(Instant::now);
            epoch.saturating_add(i64::try_from(origin.elapsed().as_millis()).unwrap_or(i64::MAX))
        }
        None => wall_millis(),
    };
    now.saturating_add(OFFSET_MS.load(Ordering::SeqCst))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the `Date` header's form.
pub fn http_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = DAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[(m - 1) as usize];
    format!("{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(FIXED_EPOCH_MS), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(http_date(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
