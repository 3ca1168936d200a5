//! The `host-test` CLI as a user runs it: exit codes, output files, and no
//! secret in anything it prints or writes.

use std::path::Path;
use std::process::Output;

use host_test::harness::config::component_path;
use host_test::simulator::{Simulator, SimulatorConfig};
use serde_json::{json, Value};

fn host_test(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(args)
        .env("RUST_LOG", "trace")
        .env("ONELOGIN_CONNECTOR_WASM", component_path())
        .env_remove("ONELOGIN_CLIENT_ID")
        .env_remove("ONELOGIN_CLIENT_SECRET")
        .env_remove("ONELOGIN_SUBDOMAIN")
        .env_remove("ONELOGIN_REGION")
        .env_remove("ONELOGIN_BASE_URL")
        .output()
        .expect("host-test runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn write_config(dir: &Path, base_url: &str, id: &str, secret: &str) -> String {
    let path = dir.join("tenant.toml");
    std::fs::write(&path, format!("client_id = \"{id}\"\nclient_secret = \"{secret}\"\nbase_url = \"{base_url}\"\n"))
        .unwrap();
    path.to_string_lossy().into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("host-test-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_with_a_config_file_writes_records_and_stats_without_the_secret() {
    let sim = Simulator::start(SimulatorConfig { users: 40, seed: 21, ..Default::default() }).await.unwrap();
    let credentials = sim.manage_credentials();
    let dir = temp_dir("sync");
    let config = write_config(&dir, &sim.base_url(), &credentials.client_id, &credentials.client_secret);
    let (out, stats) = (dir.join("out.jsonl"), dir.join("stats.json"));
    let args = ["sync", "--config", &config, "--out", out.to_str().unwrap(), "--stats", stats.to_str().unwrap()]
        .map(String::from);
    let output = tokio::task::spawn_blocking(move || host_test(&args.each_ref().map(String::as_str))).await.unwrap();
    let printed = text(&output);
    assert!(output.status.success(), "{printed}");

    let records = std::fs::read_to_string(&out).unwrap();
    let stats_text = std::fs::read_to_string(&stats).unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats_text).unwrap();
    assert_eq!(stats["entities_by_type"]["onelogin_user"], 40);
    assert_eq!(stats["http_requests"], sim.total_requests());
    let lines: Vec<serde_json::Value> = records.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|l| l["record"] == "entity") && lines.iter().any(|l| l["record"] == "relationship"));
    // How user-to-app access was read: in the summary, the stats and the sync line.
    assert!(printed.contains("notes:\n  user_apps: access read per user"), "{printed}");
    let notes = stats["notes"].as_array().expect("stats notes");
    assert!(notes.iter().any(|n| n.as_str().is_some_and(|n| n.starts_with("user_apps: "))), "{stats}");
    assert_eq!(lines[0]["notes"], stats["notes"]);

    for (what, content) in [("stdout/stderr", &printed), ("--out", &records), ("--stats", &stats_text)] {
        assert!(!content.contains(&credentials.client_secret), "the client secret leaked into {what}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_say_what_went_wrong() {
    let sim = Simulator::start(SimulatorConfig { users: 5, seed: 22, ..Default::default() }).await.unwrap();
    let id = sim.manage_credentials().client_id;
    let dir = temp_dir("exit");
    let canary = "canary-secret-7c1e";
    let wrong = write_config(&dir, &sim.base_url(), &id, canary);
    let output = tokio::task::spawn_blocking({
        let wrong = wrong.clone();
        move || host_test(&["sync", "--config", &wrong])
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(text(&output).contains("authentication-failed"), "{}", text(&output));
    assert!(!text(&output).contains(canary), "the canary secret leaked");

    let invalid = write_config(&dir, "ftp://nowhere", &id, canary);
    let output = tokio::task::spawn_blocking(move || host_test(&["sync", "--config", &invalid])).await.unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(!text(&output).contains(canary));

    let output = tokio::task::spawn_blocking(|| host_test(&["sync"])).await.unwrap();
    assert_eq!(output.status.code(), Some(2), "usage error");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn simulator_sync_and_describe_succeed() {
    let output = tokio::task::spawn_blocking(|| host_test(&["sync", "--simulator", "--users", "30"])).await.unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("onelogin_user"), "the summary is on stdout");
    let output = tokio::task::spawn_blocking(|| host_test(&["describe"])).await.unwrap();
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(info["name"], "onelogin");
}

/// Runs `host-test ARGS` off the async runtime.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || host_test(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_selects_kinds_prints_the_report_and_round_trips_a_checkpoint() {
    let dir = temp_dir("checkpoint");
    let (checkpoint, stats, out) = (dir.join("checkpoint"), dir.join("stats.json"), dir.join("out.jsonl"));
    let (checkpoint, stats, out) = (checkpoint.to_str().unwrap(), stats.to_str().unwrap(), out.to_str().unwrap());
    let full = run(args(&[
        "sync",
        "--simulator",
        "--users",
        "30",
        "--kinds",
        "users,groups",
        "--concurrency",
        "2",
        "--checkpoint-out",
        checkpoint,
        "--stats",
        stats,
        "--out",
        out,
    ]))
    .await;
    let printed = text(&full);
    assert!(full.status.success(), "{printed}");
    assert!(printed.contains("sync: full; kinds: users, groups; concurrency: 2"), "{printed}");
    assert!(printed.contains("kinds:") && printed.contains("complete"), "{printed}");
    assert!(printed.contains("skipped (not selected)"), "unselected kinds are reported: {printed}");
    assert!(printed.contains(&format!("checkpoint: yes, written to {checkpoint}")), "{printed}");
    let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(stats).unwrap()).unwrap();
    assert_eq!(stats["incremental"], false);
    assert_eq!(stats["checkpoint"], true);
    let kinds = stats["kinds"].as_array().unwrap();
    assert!(kinds.iter().any(|k| k["kind"] == "users" && k["status"] == "complete"), "{kinds:?}");
    assert!(stats["http_requests_by_endpoint"].get("GET /api/2/roles").is_none(), "roles were not selected");
    let first = std::fs::read_to_string(out).unwrap();
    let header: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!((header["record"].as_str(), header["incremental"].as_bool()), (Some("sync"), Some(false)));
    assert!(!std::fs::read_to_string(checkpoint).unwrap().trim().is_empty());

    // The checkpoint feeds an incremental sync (of a fresh simulator: the same tenant).
    let incremental =
        run(args(&["sync", "--simulator", "--users", "30", "--checkpoint-in", checkpoint, "--out", out])).await;
    let printed = text(&incremental);
    assert!(incremental.status.success(), "{printed}");
    assert!(printed.contains("sync: incremental from the checkpoint in"), "{printed}");
    let first = std::fs::read_to_string(out).unwrap();
    let header: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(header["incremental"], true);

    let missing = run(args(&["sync", "--simulator", "--checkpoint-in", "/nonexistent/checkpoint"])).await;
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_prints_tombstones_of_two_full_syncs_and_refuses_an_incremental_one() {
    let dir = temp_dir("diff");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (before, after, incremental, checkpoint) =
        (path("before.jsonl"), path("after.jsonl"), path("incremental.jsonl"), path("checkpoint"));
    // Same seed, fewer users: the tenant "lost" users (and whatever went with them).
    for (users, out) in [("40", &before), ("30", &after)] {
        let output = run(args(&[
            "sync",
            "--simulator",
            "--users",
            users,
            "--seed",
            "3",
            "--out",
            out,
            "--checkpoint-out",
            &checkpoint,
        ]))
        .await;
        assert!(output.status.success(), "{}", text(&output));
    }
    let diff = run(args(&["diff", &before, &after])).await;
    assert!(diff.status.success(), "{}", text(&diff));
    let tombstones: Vec<serde_json::Value> =
        String::from_utf8_lossy(&diff.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let users_gone = tombstones
        .iter()
        .filter(|t| t["record"] == "entity_tombstone" && t["entity_type"] == "onelogin_user")
        .inspect(|t| assert_eq!(t["status"], "deprovisioned"))
        .count();
    assert_eq!(users_gone, 10, "{tombstones:?}");
    assert!(tombstones.iter().any(|t| t["record"] == "relationship_tombstone" && t["status"] == "removed"));
    assert!(tombstones.iter().any(|t| t["status"] == "suspended"), "the deleted users' app access is suspended");
    assert!(
        !tombstones.iter().any(|t| t["entity_type"] == "onelogin_event"),
        "events (class Record) age out of their window; they are never tombstoned"
    );
    for t in tombstones.iter().filter(|t| t["status"] == "suspended") {
        assert_eq!((t["class"].as_str(), t["record"].as_str()), (Some("ASSIGNED"), Some("relationship_tombstone")));
        assert!(t["to_key"].as_str().unwrap().starts_with("onelogin_application:"), "{t}");
    }
    assert!(String::from_utf8_lossy(&diff.stderr).contains("tombstones:"));
    let same = run(args(&["diff", &before, &before])).await;
    assert!(same.status.success() && same.stdout.is_empty(), "{}", text(&same));

    let output = run(args(&[
        "sync",
        "--simulator",
        "--users",
        "30",
        "--seed",
        "3",
        "--checkpoint-in",
        &checkpoint,
        "--out",
        &incremental,
    ]))
    .await;
    assert!(output.status.success(), "{}", text(&output));
    let refused = run(args(&["diff", &before, &incremental])).await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("incremental"), "{}", text(&refused));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_prints_the_table_with_targets_and_describe_lists_sync_kinds() {
    let output = run(args(&["bench", "--users", "60", "--latency-ms", "0", "--concurrency", "4"])).await;
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", text(&output));
    for expected in [
        "requests made (simulator)",
        "minimum for these kinds",
        "per-user fan-out",
        "speed-up",
        "peak linear memory",
        "concurrency 4",
        "C=4",
        "targets:",
        "requests <= 1.05 x minimum",
    ] {
        assert!(printed.contains(expected), "{expected:?} missing from:\n{printed}");
    }
    assert!(printed.contains("(not judged: mean latency 0 ms"), "speed-up is not judged without latency:\n{printed}");
    // --json: one object with the measurements.
    let json = run(args(&["bench", "--users", "60", "--latency-ms", "0", "--latency-max-ms", "2", "--json"])).await;
    assert!(json.status.success(), "{}", text(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON object");
    for key in [
        "users",
        "latency_ms",
        "concurrency",
        "requests",
        "minimum_requests",
        "wall_c1_s",
        "wall_c_s",
        "speedup",
        "throttled_429",
        "incremental_requests",
        "component_peak_mib",
        "host_peak_rss_mib",
        "wasm_native_cpu_ratio",
    ] {
        assert!(!report[key].is_null(), "{key} missing from {report}");
    }
    assert_eq!((report["users"].as_u64(), report["latency_max_ms"].as_u64()), (Some(60), Some(2)));
    // With --assert, the exit status says whether every target held: bulk kinds only, no latency.
    let asserted =
        run(args(&["bench", "--users", "60", "--latency-ms", "0", "--kinds", "users,groups,roles,apps", "--assert"]))
            .await;
    assert!(asserted.status.success(), "{}", text(&asserted));
    assert!(String::from_utf8_lossy(&asserted.stdout).contains("PASS  every selected kind complete"));

    let kinds = run(args(&["describe", "--sync-kinds"])).await;
    let table = String::from_utf8_lossy(&kinds.stdout).into_owned();
    assert!(kinds.status.success(), "{}", text(&kinds));
    assert!(table.starts_with("kind") && table.contains("users") && table.contains("per user"), "{table}");
    let json = run(args(&["describe"])).await;
    let info: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let users = info["sync_kinds"].as_array().unwrap().iter().find(|k| k["name"] == "users").cloned();
    let users = users.expect("a users kind");
    for field in ["default_selected", "calls_per_user", "cost", "requires", "description", "required_access"] {
        assert!(users.get(field).is_some(), "{field} missing: {users}");
    }
    // Action parameters carry `secret`: set-credential's password is one, nothing else in it is.
    let set_credential = info["actions"].as_array().unwrap().iter().find(|a| a["name"] == "set-credential").unwrap();
    let secrets: Vec<&Value> = set_credential["params"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["secret"] == true)
        .map(|p| &p["name"])
        .collect();
    assert_eq!(secrets, [&json!("password")], "{set_credential}");
    assert!(info["actions"].as_array().unwrap().iter().all(|a| a["params"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["secret"].is_boolean())));
    let role = info["permissions"].as_array().unwrap().iter().find(|p| p["entity_type"] == "onelogin_role").unwrap();
    assert_eq!(role["permissions"], json!(["member", "admin"]));
    assert_eq!(users["required_access"], "read");
    let kind = |name: &str| info["sync_kinds"].as_array().unwrap().iter().find(|k| k["name"] == name).cloned();
    for manage_only in ["app_rules", "mfa_devices", "privileges", "aws_iam_roles"] {
        assert_eq!(kind(manage_only).expect(manage_only)["required_access"], "manage", "{manage_only}");
    }
}

/// The simulator's switches are flags of `sync --simulator` (and `simulator`,
/// whose `--help` lists them), and each takes effect: a deleted credential
/// owner fails the sync as an authentication error, varied fields serve
/// users without an email, personal apps are listed only when switched on;
/// with `--config` they are a usage error.
#[tokio::test(flavor = "multi_thread")]
async fn simulator_switches_are_flags_that_take_effect() {
    let help = run(args(&["simulator", "--help"])).await;
    let help_text = text(&help);
    for flag in [
        "--last-page-cursor",
        "--list-role-ids",
        "--v2-max-in-flight",
        "--v2-per-second",
        "--v2-refusal",
        "--field-variance",
        "--app-logins-per-day",
        "--personal-apps",
        "--lock-policy-minutes",
        "--credential-owner-deleted",
    ] {
        assert!(help_text.contains(flag), "simulator --help lacks {flag}: {help_text}");
        assert!(text(&run(args(&["sync", "--help"])).await).contains(flag), "sync --help lacks {flag}");
    }

    let deleted = run(args(&["sync", "--simulator", "--users", "10", "--credential-owner-deleted"])).await;
    assert_eq!(deleted.status.code(), Some(3), "{}", text(&deleted));
    assert!(text(&deleted).contains("deleted"), "{}", text(&deleted));

    let dir = temp_dir("switches");
    let out = dir.join("out.jsonl");
    let varied = run(args(&[
        "sync",
        "--simulator",
        "--users",
        "40",
        "--field-variance",
        "varied",
        "--app-logins-per-day",
        "0",
        "--personal-apps",
        "on",
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    assert!(varied.status.success(), "{}", text(&varied));
    let records = std::fs::read_to_string(&out).unwrap();
    let personal = |records: &str| {
        records
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["entity_type"] == "onelogin_personal_application")
            .count()
    };
    assert!(personal(&records) > 0, "--personal-apps on lists personal apps");
    let users: Vec<Value> = records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["entity_type"] == "onelogin_user")
        .collect();
    assert_eq!(users.len(), 40);
    let without_email = users.iter().filter(|u| u["properties"]["email"].is_null()).count();
    assert!(without_email > 0, "--field-variance varied serves users without an email");

    let documented = run(args(&["sync", "--simulator", "--users", "40", "--out", out.to_str().unwrap()])).await;
    assert!(documented.status.success(), "{}", text(&documented));
    let records = std::fs::read_to_string(&out).unwrap();
    let emails = records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["entity_type"] == "onelogin_user" && r["properties"]["email"].is_string())
        .count();
    assert_eq!(emails, 40, "without the switch every user has an email");
    assert_eq!(personal(&records), 0, "without the switch no personal apps are listed (F-APP-16)");

    let config = write_config(&dir, "https://acme.onelogin.com", "id", "secret");
    let misuse = run(args(&["sync", "--config", &config, "--field-variance", "varied"])).await;
    assert_eq!(misuse.status.code(), Some(2), "{}", text(&misuse));
    std::fs::remove_dir_all(dir).ok();
}
