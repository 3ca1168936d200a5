//! Wall-clock time without a clock import: the component learns "now" from
//! the `Date` header of OneLogin's responses (RFC 9110 IMF-fixdate) and
//! speaks ISO 8601 in queries (`since`, `updated_since`). Times are unix
//! seconds (UTC).

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Years the parsers accept: four digits, so the arithmetic below can never
/// overflow (a `Date` in year 9223372036854775807 is refused, not wrapped).
const YEARS: std::ops::RangeInclusive<i64> = 1..=9999;

/// The range of "now" the connector believes: 2000-01-01 to 2200-01-01 (unix
/// seconds). A `Date` header outside it is a broken or hostile server, and is
/// ignored rather than used for event windows and checkpoints.
pub const PLAUSIBLE_NOW: std::ops::RangeInclusive<i64> = 946_684_800..=7_258_118_400;

fn seconds(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> Option<i64> {
    let valid = YEARS.contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → unix seconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let day = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':');
    let hour = clock.next()?.parse().ok()?;
    let minute = clock.next()?.parse().ok()?;
    let second = clock.next()?.parse().ok()?;
    (parts.next()? == "GMT").then_some(())?;
    seconds(year, month, day, hour, minute, second)
}

/// `2021-08-05T18:36:08.984Z` (fraction and `Z` optional) → unix seconds.
pub fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim();
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<i64>().ok());
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| text.as_bytes().get(i).is_some_and(|&b| b != c && !(i == 10 && b == b' '))) {
        return None;
    }
    seconds(number(0..4)?, number(5..7)?, number(8..10)?, number(11..13)?, number(14..16)?, number(17..19)?)
}

/// Unix seconds → `2026-11-23T12:17:04Z`. Total: any `i64` gives some text
/// (years beyond four digits print longer) without overflowing.
pub fn iso(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    let sod = unix.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date("Mon, 23 Nov 2026 12:17:04 GMT"), parse_iso("2026-11-23T12:17:04Z"));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn iso_round_trips_and_tolerates_fractions() {
        for unix in [0, 784_111_777, 1_795_436_224, 951_782_400 /* 2000-02-29 */] {
            assert_eq!(parse_iso(&iso(unix)), Some(unix));
        }
        assert_eq!(parse_iso("2021-08-05T18:36:08.984Z"), parse_iso("2021-08-05T18:36:08Z"));
        assert_eq!(iso(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_iso("2021-13-05T18:36:08Z"), None);
        assert_eq!(parse_iso("yesterday"), None);
    }

    #[test]
    fn absurd_years_are_refused_not_wrapped() {
        assert_eq!(parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov -9223372036854775808 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 10000 08:49:37 GMT"), None);
        assert!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
        assert_eq!(parse_iso("+999999999-01-01T00:00:00Z"), None);
        assert!(!PLAUSIBLE_NOW.contains(&parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT").unwrap()));
        assert!(PLAUSIBLE_NOW.contains(&parse_http_date("Mon, 23 Nov 2026 12:17:04 GMT").unwrap()));
        for unix in [i64::MIN, i64::MAX, -1, 0] {
            assert!(!iso(unix).is_empty());
        }
    }
}
