//! The `host-test` CLI as a user runs it: exit codes, output files, and no
//! secret in anything it prints or writes.

use std::path::Path;
use std::process::Output;

use host_test::harness::config::component_path;
use host_test::simulator::{Simulator, SimulatorConfig};

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
    assert!(String::from_utf8_lossy(&output.stderr).contains("onelogin_user"), "summary on stderr");
    let output = tokio::task::spawn_blocking(|| host_test(&["describe"])).await.unwrap();
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(info["name"], "onelogin");
}
