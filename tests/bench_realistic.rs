//! The realistic bench profile end to end on a small tenant (200 users,
//! 1-3 ms latency instead of 50-150 ms, a 300-call hourly v1 budget so the
//! first sync's events window must be fitted to it): both syncs complete,
//! the first stays within the budget with its v1 calls as the formula says,
//! and the daily incremental costs what the day's changes imply: the day's
//! app logins in events pages, per-user reads for the changed users only,
//! and no more list calls than the full sync made.
//!
//! In a test binary of its own: the profile moves the simulator's clock
//! forward a day, which is process-wide.

use std::time::Duration;

use host_test::bench::realistic::{is_v1, run_realistic, RealisticConfig, DEFAULT_LOOKBACK_DAYS};

/// Per-user endpoints: one call per user on a full sync, per changed user on
/// an incremental one.
const PER_USER: [&str; 2] = ["GET /api/2/users/{id}/apps", "GET /api/2/mfa/users/{id}/devices"];

#[tokio::test(flavor = "multi_thread")]
async fn a_realistic_first_sync_and_daily_incremental_cost_what_the_tenant_and_the_day_imply() {
    let budget = 300;
    let config = RealisticConfig {
        users: 200,
        latency: Duration::from_millis(1),
        latency_max: Duration::from_millis(3),
        rate_limit_per_hour: Some(budget),
        ..RealisticConfig::default()
    };
    let report = run_realistic(&config).await.expect("the realistic profile runs");
    let table = report.table();
    println!("{table}\n{}", report.json());

    assert!(report.passed(), "both syncs complete\n{table}");
    assert!(report.kinds.contains("app_logins") && report.kinds.contains("user_apps"), "{:?}", report.kinds);

    // The first sync: a window fitted to the budget, its v1 calls as the formula says.
    let first = &report.first;
    assert!(report.lookback_fitted);
    assert!(
        (1..DEFAULT_LOOKBACK_DAYS).contains(&report.lookback_days),
        "90 days of logins do not fit 300 calls: {}",
        report.lookback_days
    );
    assert!(report.projection.v1_calls > u64::from(budget), "{:?}", report.projection);
    let slices = u64::from(config.concurrency);
    assert!(
        first.v1_calls >= report.first_v1_formula && first.v1_calls <= report.first_v1_formula + slices,
        "v1 calls {} against the formula's {}\n{table}",
        first.v1_calls,
        report.first_v1_formula
    );
    assert!(first.v1_calls <= u64::from(budget), "within one hour's budget\n{table}");
    assert_eq!(first.throttled, first.v2_refused, "no v1 429: the budget held\n{table}");
    assert_eq!(first.requests, first.harness_requests, "simulator and harness agree\n{table}");
    for endpoint in PER_USER {
        let calls = first.requests_by_endpoint.get(endpoint).copied().unwrap_or(0);
        assert!(calls >= 200 && calls <= 200 + first.v2_refused, "{endpoint}: {calls}\n{table}");
    }

    // The day: 1% of 200 users changed, and a day of app logins.
    assert_eq!(report.changed_users, 2);
    let incremental = report.incremental.as_ref().expect("the first sync ended with a checkpoint");
    assert!(report.day_app_logins > 100, "a day of logins: {}", report.day_app_logins);
    assert!(incremental.error.is_none(), "{table}");
    assert_eq!(incremental.requests, incremental.harness_requests, "{table}");

    // Its v1 calls: the day's logins, plus at most the v1 lists and a part page per slice.
    assert!(
        incremental.v1_calls >= report.incremental_event_calls
            && incremental.v1_calls <= report.incremental_event_calls + report.v1_lists + slices,
        "incremental v1 calls {} for {} events pages and {} list calls\n{table}",
        incremental.v1_calls,
        report.incremental_event_calls,
        report.v1_lists
    );
    // Per-user reads for the changed users only (each at least once; 429s repeat a call).
    let changed = report.changed_users as u64;
    for endpoint in PER_USER {
        let calls = incremental.requests_by_endpoint.get(endpoint).copied().unwrap_or(0);
        assert!(calls >= changed && calls <= changed + incremental.v2_refused, "{endpoint}: {calls}\n{table}");
    }
    // Everything else (lists, rotation shares): no more than the full sync's own.
    let others = |m: &host_test::bench::realistic::SyncMeasure| -> u64 {
        m.requests_by_endpoint
            .iter()
            .filter(|(e, _)| !is_v1(e) && !PER_USER.contains(&e.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    assert!(others(incremental) >= 1 && others(incremental) <= others(first), "{table}");
    assert!(incremental.requests * 10 < first.requests, "a day's changes cost a small share\n{table}");
}
