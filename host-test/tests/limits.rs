//! The harness's limits, pinned on a guest that certainly hits them
//! (`host-test/guests/limits`, built by `./dev`; found by
//! [`limits_guest_path`]): memory, CPU and wall clock each end the call with
//! the harness's own error naming the limit, the instance is dropped (it
//! refuses further calls), and the next instance works.

use std::time::{Duration, Instant};

use host_test::harness::config::limits_guest_path;
use host_test::harness::{Harness, HarnessConfig, Limits};

fn harness(limits: Limits) -> Harness {
    Harness::new(HarnessConfig { component: limits_guest_path(), limits, ..HarnessConfig::default() })
        .unwrap_or_else(|e| panic!("loading {}: {e:#} (run ./dev build-guests)", limits_guest_path().display()))
}

fn mode(mode: &str) -> Vec<(String, String)> {
    vec![("mode".to_string(), mode.to_string())]
}

/// Runs `mode` on a fresh instance, expects the harness error that names
/// `limit`, checks the instance is dropped and a fresh one works; returns
/// how long the failing call took.
async fn refused_then_recovered(harness: &Harness, bad_mode: &str, limit: &str) -> Duration {
    let mut instance = harness.instantiate().await.expect("instantiate");
    let started = Instant::now();
    let error = instance.configure(&mode(bad_mode)).await.expect_err("the limit must stop the call");
    let took = started.elapsed();
    let text = format!("{error:#}");
    assert!(text.contains(limit), "{bad_mode}: expected the {limit} error, got: {text}");
    assert!(instance.poisoned().is_some(), "the instance is dropped after a limit");
    assert!(instance.last_call_cpu_ticks().is_none(), "its store is gone");
    let again = instance.configure(&mode("ok")).await.expect_err("a dropped instance refuses calls");
    assert!(format!("{again:#}").contains("unusable"), "{again:#}");

    let mut fresh = harness.instantiate().await.expect("a new instance after a limit");
    let info = fresh.configure(&mode("ok")).await.expect("no trap").expect("configure");
    assert_eq!(info.account_key, "limits_account:1");
    assert!(fresh.poisoned().is_none());
    took
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_past_the_limit_is_refused_and_the_next_instance_works() {
    let limit = 48 * 1024 * 1024;
    let harness = harness(Limits { memory_bytes: limit, ..Limits::default() });
    let mut instance = harness.instantiate().await.unwrap();
    let error = instance.configure(&mode("alloc")).await.expect_err("out of memory");
    assert!(format!("{error:#}").contains("memory limit"), "{error:#}");
    let peak = instance.peak_memory_bytes();
    assert!(peak <= limit && peak > limit / 2, "peak {peak} within the limit {limit} and near it");
    drop(instance);
    refused_then_recovered(&harness, "alloc", "memory limit").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cpu_past_the_budget_is_refused_and_the_next_instance_works() {
    let budget = Duration::from_millis(300);
    let harness = harness(Limits { cpu_per_call: budget, ..Limits::default() });
    let took = refused_then_recovered(&harness, "spin", "CPU limit").await;
    // Charged in 10 ms epoch ticks while running; a busy 2-core machine may
    // stretch wall time, never shorten it below the budget.
    assert!(took >= budget, "stopped after {took:?}, before the budget");
    assert!(took < Duration::from_secs(20), "stopped only after {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wall_clock_past_the_limit_is_refused_and_the_next_instance_works() {
    let wall = Duration::from_millis(500);
    let harness = harness(Limits { wall_per_call: wall, ..Limits::default() });
    let took = refused_then_recovered(&harness, "wait", "wall-clock limit").await;
    assert!(took >= wall && took < Duration::from_secs(10), "stopped after {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_limits_are_the_documented_ones() {
    let limits = Limits::default();
    assert_eq!(limits.memory_bytes, 256 * 1024 * 1024);
    assert_eq!(limits.cpu_per_call, Duration::from_secs(30));
    assert_eq!(limits.wall_per_call, Duration::from_secs(120));
    // A healthy call under the defaults is untouched by them.
    let harness = harness(limits);
    let mut instance = harness.instantiate().await.unwrap();
    assert_eq!(instance.describe().await.unwrap().name, "limits-guest");
    instance.configure(&mode("ok")).await.unwrap().unwrap();
    assert!(instance.poisoned().is_none());
}
