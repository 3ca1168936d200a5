//! The sync benchmark on a 1000-user simulated tenant: the requests a full
//! sync makes stay within 5% of the minimum for the selected kinds, and the
//! component's linear memory stays small. The speed-up from concurrency is
//! printed, not asserted (it depends on the machine); `host-test bench
//! --latency-ms 20` checks it.

use std::time::Duration;

use host_test::bench::{mib, run_bench, BenchConfig, TARGET_PEAK_MEMORY, TARGET_RATIO};

#[tokio::test(flavor = "multi_thread")]
async fn a_full_sync_of_1000_users_costs_the_minimum_and_little_memory() {
    let config = BenchConfig {
        users: 1000,
        seed: 1,
        latency: Duration::from_millis(2),
        rate_limit_per_hour: None,
        ..BenchConfig::default()
    };
    let report = run_bench(&config).await.expect("the benchmark runs");
    println!("{}", report.table());
    println!(
        "speed-up at concurrency {} with {} ms latency: {:.1}x",
        report.concurrent.concurrency,
        config.latency.as_millis(),
        report.speed_up()
    );

    let ratio = report.ratio();
    assert!(ratio <= TARGET_RATIO, "requests / minimum = {ratio:.3} > {TARGET_RATIO}\n{}", report.table());
    if report.all_kinds_complete() {
        // The minimum is a lower bound: a complete sync below it means the
        // formula (or the counting) is wrong.
        assert!(ratio >= 1.0, "fewer requests than the minimum: {ratio:.3}\n{}", report.table());
    } else {
        eprintln!("note: not every kind completed, so the ratio leaves their cost out (see the kinds above)");
    }
    let peak = report.peak_memory_bytes();
    assert!(peak <= TARGET_PEAK_MEMORY, "peak linear memory {} > {}", mib(peak), mib(TARGET_PEAK_MEMORY));
    // Entity counts are not compared between the runs: each run has its own
    // simulator, whose events are generated relative to its start time.
    assert!(report.serial.entities > 1000 && report.concurrent.entities > 1000);
}
