//! The same component in a second host: Node.js through jco (`hosts/node`),
//! against the same loopback simulator as the wasmtime harness. Syncs agree
//! record for record, a change provisioned in Node is seen from both hosts,
//! cursors and checkpoints move between the hosts in both directions, the
//! Node host's allow-list (built from the component's `endpoints`) refuses a
//! host it was not given, the component's own clock ends a request whose
//! first byte never comes, and the host's wall-clock limit stops a call.
//!
//! Needs `node` (20+) and `npm ci` in `hosts/node` (`./dev test` does both).
//! Each test transpiles the component under test with jco first (once per
//! run: `transpile.mjs` skips it when the bytes are unchanged).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use common::{Fixture, TENANT_HOST};
use host_test::harness::config::component_path;
use host_test::harness::types::{Entity, KindReport, KindStatus, Relationship};
use host_test::harness::{sync_all, SyncOptions, SyncOutput};
use host_test::simulator::{SimulatorConfig, Tenant};
use serde_json::{json, Value};

const PAGE: u32 = 200;
const NODE_TIMEOUT: Duration = Duration::from_secs(60);

/// `hosts/node` in this workspace.
fn host_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("hosts").join("node")
}

/// The jco output for the component under test, made once per test run.
fn transpiled() -> &'static Path {
    static BUILD: OnceLock<PathBuf> = OnceLock::new();
    BUILD.get_or_init(|| {
        let dir = host_dir();
        assert!(
            dir.join("node_modules/@bytecodealliance/jco-transpile").is_dir(),
            "jco is not installed in {}: run ./dev test (or `npm ci` there)",
            dir.display()
        );
        let build = dir.join("build");
        let output = std::process::Command::new("node")
            .current_dir(&dir)
            .arg("transpile.mjs")
            .arg(component_path())
            .arg(&build)
            .output()
            .expect("node runs (install Node.js 20+, or run ./dev test)");
        assert!(output.status.success(), "transpile failed: {}", String::from_utf8_lossy(&output.stderr));
        build
    })
}

/// A directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("node-host-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the Node CLI printed.
struct NodeRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl NodeRun {
    fn ok(self) -> NodeRun {
        assert_eq!(self.code, Some(0), "node failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// The Node host for one simulator: writes the config (a file, never an
/// argument) and runs `cli.mjs` with the tenant host routed to the simulator.
struct NodeHost {
    scratch: Scratch,
    route: String,
    secret: String,
}

impl NodeHost {
    fn new(fixture: &Fixture, name: &str) -> NodeHost {
        transpiled();
        let scratch = Scratch::new(name);
        let credentials = fixture.sim.manage_credentials();
        let config = json!({
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "subdomain": "acme",
        });
        std::fs::write(scratch.path("config.json"), config.to_string()).expect("config");
        NodeHost { scratch, route: format!("{TENANT_HOST}={}", fixture.sim.addr()), secret: credentials.client_secret }
    }

    async fn run(&self, command: &str, args: &[&str]) -> NodeRun {
        let mut cmd = tokio::process::Command::new("node");
        cmd.current_dir(host_dir())
            .arg("cli.mjs")
            .arg(command)
            .arg("--component-dir")
            .arg(transpiled())
            .arg("--config")
            .arg(self.scratch.path("config.json"))
            .arg("--route")
            .arg(&self.route)
            .args(args)
            .kill_on_drop(true);
        let output: Output = tokio::time::timeout(NODE_TIMEOUT, cmd.output())
            .await
            .unwrap_or_else(|_| panic!("node {command} took over {NODE_TIMEOUT:?}"))
            .expect("node runs");
        let run = NodeRun {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(!run.stdout.contains(&self.secret) && !run.stderr.contains(&self.secret), "the secret leaked");
        run
    }

    fn file(&self, name: &str) -> String {
        self.scratch.path(name).to_string_lossy().into_owned()
    }

    fn read(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.scratch.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!text.contains(&self.secret), "the secret leaked into {name}");
        text
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.scratch.path(name), text).expect("write");
    }

    /// A sync in Node writing `out`: the summary line and the records.
    async fn sync(&self, out: &str, args: &[&str]) -> (Value, Value, Vec<Value>) {
        let out_path = self.file(out);
        let mut all = vec!["--out", &out_path, "--max-items"];
        let page = PAGE.to_string();
        all.push(&page);
        all.extend_from_slice(args);
        let summary = self.run("sync", &all).await.ok().json();
        let mut lines =
            self.read(out).lines().map(|l| serde_json::from_str::<Value>(l).expect("JSON line")).collect::<Vec<_>>();
        assert!(!lines.is_empty(), "a summary line");
        let head = lines.remove(0);
        assert_eq!(head["record"], "sync");
        (summary, head, lines)
    }

    /// `provision --action` in Node: the component's `provision` export.
    async fn provision(&self, action: &str) -> Value {
        self.write("action.json", action);
        let action_path = self.file("action.json");
        self.run("provision", &["--action", action_path.as_str()]).await.ok().json()
    }

    /// `provision --dry-run --action` in Node: the component's `plan` export.
    async fn plan(&self, action: &str) -> Value {
        self.write("action.json", action);
        let action_path = self.file("action.json");
        self.run("provision", &["--action", action_path.as_str(), "--dry-run"]).await.ok().json()
    }
}

fn properties(raw: &str) -> Value {
    serde_json::from_str(raw).expect("properties are JSON")
}

fn entity_json(e: &Entity) -> Value {
    json!({"record": "entity", "key": e.key, "entity_type": e.entity_type, "classes": e.classes,
           "display_name": e.display_name, "properties": properties(&e.properties)})
}

fn relationship_json(r: &Relationship) -> Value {
    json!({"record": "relationship", "class": r.class, "from_key": r.from_key, "to_key": r.to_key,
           "properties": properties(&r.properties)})
}

/// A wasmtime output as the Node CLI writes it: entities, then relationships.
fn records(entities: &[Entity], relationships: &[Relationship]) -> Vec<Value> {
    entities.iter().map(entity_json).chain(relationships.iter().map(relationship_json)).collect()
}

fn kinds_json(report: &[KindReport]) -> Value {
    report
        .iter()
        .map(|r| match &r.status {
            KindStatus::Complete => json!({"kind": r.kind, "status": "complete"}),
            KindStatus::Pending => json!({"kind": r.kind, "status": "pending"}),
            KindStatus::Skipped(reason) => json!({"kind": r.kind, "status": "skipped", "reason": reason}),
            KindStatus::Failed(e) => json!({"kind": r.kind, "status": "failed", "message": e.message}),
        })
        .collect()
}

/// Node's records equal wasmtime's, in the same order; else the first difference.
fn assert_same_records(node: &[Value], wasmtime: &[Value], when: &str) {
    if let Some(i) = (0..node.len().max(wasmtime.len())).find(|&i| node.get(i) != wasmtime.get(i)) {
        panic!(
            "{when}: record {i} of {} (Node) / {} (wasmtime) differs:\nNode:     {:?}\nwasmtime: {:?}",
            node.len(),
            wasmtime.len(),
            node.get(i).map(Value::to_string),
            wasmtime.get(i).map(Value::to_string)
        );
    }
}

/// Records as sorted strings: equal iff nothing is lost or repeated.
fn multiset(records: &[Value]) -> Vec<String> {
    let mut all: Vec<String> = records.iter().map(Value::to_string).collect();
    all.sort();
    all
}

async fn wasmtime_sync(fixture: &Fixture, checkpoint: Option<String>) -> SyncOutput {
    let options = SyncOptions { max_items: PAGE, checkpoint, ..SyncOptions::default() };
    fixture.sync_with(&options).await.expect("wasmtime sync")
}

fn active_user(tenant: &Tenant) -> u64 {
    tenant.users.iter().find(|u| u.status == 1 && u.state == 1 && !u.email.is_empty()).expect("an active user").id
}

fn writes(fixture: &Fixture) -> u64 {
    let counts = fixture.sim.request_counts();
    counts.iter().filter(|(k, _)| !k.starts_with("GET ") && !k.contains("/auth/oauth2/")).map(|(_, n)| n).sum()
}

fn user_record(records: &[Value], id: u64) -> Option<&Value> {
    records.iter().find(|r| r["record"] == "entity" && r["key"] == format!("onelogin_user:{id}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn node_and_wasmtime_sync_the_simulator_to_identical_records() {
    let fixture = Fixture::new(40, 5).await;
    let node = NodeHost::new(&fixture, "identical");

    let described = node.run("describe", &[]).await.ok().json();
    let info = fixture.harness.instantiate().await.unwrap().describe().await.unwrap();
    assert_eq!(
        (&described["name"], &described["version"], &described["interface_version"]),
        (&json!(info.name), &json!(info.version), &json!(info.interface_version))
    );
    assert_eq!(described["sync_kinds"].as_array().map(Vec::len), Some(info.sync_kinds.len()));
    assert_eq!(described["actions"].as_array().map(Vec::len), Some(info.actions.len()));

    let wasmtime = wasmtime_sync(&fixture, None).await;
    let requests_before = fixture.sim.total_requests();
    let (summary, head, node_records) = node.sync("node.jsonl", &[]).await;
    assert!(fixture.sim.total_requests() > requests_before, "Node reached the simulator");

    let expected = records(&wasmtime.entities, &wasmtime.relationships);
    assert!(expected.len() > 300, "a tenant worth comparing: {}", expected.len());
    assert_same_records(&node_records, &expected, "a clean sync");
    assert_eq!(head["pages"], json!(wasmtime.pages));
    assert_eq!(head["kinds"], kinds_json(&wasmtime.report));
    assert!(!wasmtime.notes.is_empty(), "the user_apps plan is noted");
    assert_eq!((&head["notes"], &summary["notes"]), (&json!(wasmtime.notes), &json!(wasmtime.notes)));
    assert_eq!(summary["finished"], true);
    assert_eq!(summary["checkpoint"], true);
    assert_eq!(summary["refused_requests"], 0);
    assert_eq!(summary["account"]["api_base_url"], format!("https://{TENANT_HOST}"));
    // u64 progress arrives in JS as BigInt; the host hands out plain numbers.
    assert!(summary["progress"]["done"].is_u64(), "{}", summary["progress"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_suspended_from_node_is_seen_by_both_hosts_and_a_plan_writes_nothing() {
    let fixture = Fixture::new(30, 7).await;
    let node = NodeHost::new(&fixture, "provision");
    let id = active_user(&fixture.sim.tenant());
    let action = format!(r#"{{"suspend-account":"onelogin_user:{id}"}}"#);

    // `plan` is its own export: no flag a host could misspell decides the write.
    let planned = node.plan(&action).await;
    assert_eq!(planned["changed"], false, "{planned}");
    assert!(planned["summary"].as_str().is_some_and(|s| s.starts_with("plan: would")), "{planned}");
    assert!(planned["calls"].as_array().is_some_and(|calls| !calls.is_empty()), "the planned write: {planned}");
    assert_eq!(writes(&fixture), 0, "a plan sends no write");
    assert_eq!(fixture.sim.tenant().user(id).unwrap().status, 1);

    let done = node.provision(&action).await;
    assert_eq!(done["changed"], true, "{done}");
    assert_eq!(done["key"], format!("onelogin_user:{id}"));
    assert_eq!(fixture.sim.tenant().user(id).unwrap().status, 2, "suspended in the tenant");
    let again = node.provision(&action).await;
    assert_eq!((again["changed"].clone(), again["calls"].clone()), (json!(false), json!([])), "idempotent");
    // The write logged an event stamped now; a sync reads events up to the
    // server's Date (whole seconds), so both syncs start a second later.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let wasmtime = wasmtime_sync(&fixture, None).await;
    let expected = records(&wasmtime.entities, &wasmtime.relationships);
    let (_, _, node_records) = node.sync("after.jsonl", &[]).await;
    for seen in [&expected, &node_records] {
        let user = user_record(seen, id).expect("the user is synced");
        assert_eq!(user["properties"]["account_status"], "suspended", "{user}");
    }
    assert_same_records(&node_records, &expected, "after the change");
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoints_move_between_hosts_in_both_directions() {
    let fixture = Fixture::new(40, 8).await;
    let node = NodeHost::new(&fixture, "checkpoint");
    let (_, _, _) = node.sync("full.jsonl", &["--checkpoint-out", &node.file("node.checkpoint")]).await;
    let from_node = node.read("node.checkpoint").trim().to_string();
    let from_wasmtime = wasmtime_sync(&fixture, None).await.checkpoint.expect("a checkpoint");

    let id = active_user(&fixture.sim.tenant());
    node.provision(&format!(r#"{{"suspend-account":"onelogin_user:{id}"}}"#)).await;

    // Node's checkpoint, resumed incrementally in wasmtime.
    let incremental = wasmtime_sync(&fixture, Some(from_node)).await;
    let users: Vec<&Entity> = incremental.entities.iter().filter(|e| e.entity_type == "onelogin_user").collect();
    assert_eq!(users.iter().map(|u| u.key.clone()).collect::<Vec<_>>(), [format!("onelogin_user:{id}")]);
    assert_eq!(properties(&users[0].properties)["account_status"], "suspended");

    // wasmtime's checkpoint, resumed incrementally in Node.
    node.write("wasmtime.checkpoint", &from_wasmtime);
    let (summary, head, node_records) =
        node.sync("incremental.jsonl", &["--checkpoint-in", &node.file("wasmtime.checkpoint")]).await;
    assert_eq!((summary["incremental"].clone(), head["incremental"].clone()), (json!(true), json!(true)));
    let node_users: Vec<&Value> =
        node_records.iter().filter(|r| r["record"] == "entity" && r["entity_type"] == "onelogin_user").collect();
    assert_eq!(node_users.len(), 1, "only the changed user");
    assert_eq!(node_users[0]["key"], format!("onelogin_user:{id}"));
    assert_eq!(node_users[0]["properties"]["account_status"], "suspended");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_begun_in_one_host_resumes_in_the_other_losing_and_repeating_nothing() {
    const SMALL_PAGE: u32 = 10;
    const FIRST_PAGES: usize = 3;
    let fixture = Fixture::new(40, 3).await;
    let node = NodeHost::new(&fixture, "resume");
    let clean = {
        let (mut instance, _) = fixture.manage().await;
        sync_all(&mut instance, &SyncOptions { max_items: SMALL_PAGE, ..SyncOptions::default() }, |_| {})
            .await
            .unwrap()
            .expect("clean sync")
    };
    assert!(clean.pages > FIRST_PAGES as u64 + 2, "enough pages: {}", clean.pages);
    let expected = multiset(&records(&clean.entities, &clean.relationships));
    let page = SMALL_PAGE.to_string();
    let first = FIRST_PAGES.to_string();

    // Begun in Node, finished in wasmtime.
    let out = node.file("begun.jsonl");
    let cursor_out = node.file("node.cursor");
    let args = ["--out", &out, "--max-items", &page, "--max-pages", &first, "--cursor-out", &cursor_out];
    let summary = node.run("sync", &args).await.ok().json();
    assert_eq!((summary["finished"].clone(), summary["pages"].clone()), (json!(false), json!(FIRST_PAGES)));
    let mut got: Vec<Value> =
        node.read("begun.jsonl").lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut cursor = Some(node.read("node.cursor").trim().to_string());
    let (mut instance, _) = fixture.manage().await;
    while let Some(c) = cursor.take() {
        let request = SyncOptions { max_items: SMALL_PAGE, ..SyncOptions::default() }.request(Some(c));
        let page = instance.sync_page(request).await.unwrap().expect("page resumed in wasmtime");
        got.extend(records(&page.entities, &page.relationships));
        cursor = page.next_cursor;
    }
    assert_eq!(multiset(&got), expected, "Node -> wasmtime");

    // Begun in wasmtime, finished in Node.
    let (mut instance, _) = fixture.manage().await;
    let mut got = Vec::new();
    let mut cursor = None;
    for _ in 0..FIRST_PAGES {
        let request = SyncOptions { max_items: SMALL_PAGE, ..SyncOptions::default() }.request(cursor);
        let page = instance.sync_page(request).await.unwrap().expect("page");
        got.extend(records(&page.entities, &page.relationships));
        cursor = page.next_cursor;
    }
    node.write("wasmtime.cursor", &cursor.expect("not finished"));
    let out = node.file("finished.jsonl");
    let cursor_in = node.file("wasmtime.cursor");
    let summary = node.run("sync", &["--out", &out, "--max-items", &page, "--cursor-in", &cursor_in]).await.ok().json();
    assert_eq!((summary["resumed"].clone(), summary["finished"].clone()), (json!(true), json!(true)));
    got.extend(node.read("finished.jsonl").lines().skip(1).map(|l| serde_json::from_str::<Value>(l).unwrap()));
    assert_eq!(multiset(&got), expected, "wasmtime -> Node");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_outside_the_node_allow_list_is_refused_before_any_traffic() {
    let fixture = Fixture::new(5, 1).await;
    let node = NodeHost::new(&fixture, "refused");
    // A listener the component is pointed at but the host does not allow.
    let decoy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let decoy_addr = decoy.local_addr().unwrap();
    let accepted = tokio::spawn(async move { decoy.accept().await.is_ok() });
    let credentials = fixture.sim.manage_credentials();
    let config = json!({"client_id": credentials.client_id, "client_secret": credentials.client_secret,
                        "base_url": format!("http://{decoy_addr}")});
    node.write("config.json", &config.to_string());

    // The host's list is the tenant's host; the config names another.
    let run = node.run("sync", &["--allow", TENANT_HOST]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("refused: POST http://{decoy_addr}/auth/oauth2/v2/token")), "{}", run.stderr);
    assert!(run.stderr.contains("configure failed: transport(host-refused)"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("refused:").count(), 1, "a refusal is not retried: {}", run.stderr);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!accepted.is_finished(), "no connection reached the decoy");
    accepted.abort();
    assert_eq!(fixture.sim.total_requests(), 0);

    // Built from the component's `endpoints` for that config (before
    // `configure`), the list allows the decoy: the check is the host's list.
    let run = node.run("sync", &[]).await;
    assert_ne!(run.code, Some(0));
    assert!(!run.stderr.contains("refused:"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_byte_that_never_comes_ends_in_a_timeout_by_the_components_own_clock_in_node() {
    // The simulator answers after 30 s. preview2-shim applies its first-byte
    // timeout only once headers arrive, so only the component's own
    // monotonic-clock deadline (1 s per request, 3 s per call here) can end
    // the call; the host's watchdog (120 s) is far away.
    let config = SimulatorConfig {
        users: 5,
        seed: 1,
        rate_limit_per_hour: None,
        latency: Duration::from_secs(30),
        ..SimulatorConfig::default()
    };
    let fixture = Fixture::with_config(config).await;
    let node = NodeHost::new(&fixture, "first-byte");
    let credentials = fixture.sim.manage_credentials();
    let config = json!({"client_id": credentials.client_id, "client_secret": credentials.client_secret,
                        "subdomain": "acme", "request_timeout_secs": "1", "call_budget_secs": "3"});
    node.write("config.json", &config.to_string());
    let started = std::time::Instant::now();
    let run = node.run("sync", &[]).await;
    let elapsed = started.elapsed();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("configure failed: transport(timeout)"), "{}", run.stderr);
    assert!(run.stderr.contains("(retryable)"), "{}", run.stderr);
    assert!(!run.stderr.contains("wall-clock limit"), "the component ended it, not the watchdog: {}", run.stderr);
    assert!(elapsed < Duration::from_secs(15), "ended by the component's deadline, not the server: {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_past_the_node_hosts_wall_clock_limit_is_stopped() {
    // The simulator answers after 5 s. preview2-shim's first-byte timeout
    // does not cover a server that sends no headers, and the component's own
    // is 60 s: the host's watchdog is what stops the call.
    let config = SimulatorConfig {
        users: 5,
        seed: 1,
        rate_limit_per_hour: None,
        latency: Duration::from_secs(5),
        ..SimulatorConfig::default()
    };
    let fixture = Fixture::with_config(config).await;
    let node = NodeHost::new(&fixture, "timeout");
    let started = std::time::Instant::now();
    let run = node.run("sync", &["--call-timeout-s", "1"]).await;
    let elapsed = started.elapsed();
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("configure exceeded the wall-clock limit of 1000 ms"), "{}", run.stderr);
    assert!(elapsed < Duration::from_secs(4), "stopped at the limit, not by the server: {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_hosts_own_unit_tests_pass() {
    let output = tokio::process::Command::new("node")
        .current_dir(host_dir())
        .args(["--test", "test/"])
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn node_records_and_wasmtime_records_are_compared_field_by_field() {
    // The comparison itself must be able to fail: a changed property is a difference.
    let e = Entity {
        key: "onelogin_user:1".into(),
        entity_type: "onelogin_user".into(),
        classes: vec!["User".into()],
        display_name: "Ada".into(),
        properties: r#"{"a":1}"#.into(),
    };
    let mut other = e.clone();
    other.properties = r#"{"a":2}"#.into();
    assert_ne!(records(std::slice::from_ref(&e), &[]), records(&[other], &[]));
    assert_eq!(multiset(&records(&[e.clone(), e.clone()], &[])).len(), 2, "a repeat is kept, so it is seen");
}
