//! The data model as `describe` declares it: the reference document is the
//! component's, a full simulator sync conforms to it (JupiterOne's types and
//! classes included), and the access-review export round-trips every grant.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use host_test::data_model::{markdown, violations};
use host_test::harness::config::component_path;
use host_test::harness::types::ConnectorInfo;
use host_test::harness::{sync_all, Harness, HarnessConfig, SyncOptions, SyncOutput};
use host_test::simulator::{FieldVariance, Simulator, SimulatorConfig};
use serde_json::Value;

const TENANT_HOST: &str = "acme.onelogin.com";

async fn describe() -> ConnectorInfo {
    let harness = Harness::new(HarnessConfig { component: component_path(), ..HarnessConfig::default() })
        .unwrap_or_else(|e| panic!("loading {}: {e:#} (run ./dev build)", component_path().display()));
    harness.instantiate().await.unwrap().describe().await.unwrap()
}

/// A full sync of every kind (events included) of a simulated tenant.
async fn full_sync(config: SimulatorConfig) -> SyncOutput {
    let sim = Simulator::start(config).await.unwrap();
    let harness = Harness::new(HarnessConfig {
        component: component_path(),
        allowed_hosts: vec![TENANT_HOST.to_string()],
        routes: BTreeMap::from([(TENANT_HOST.to_string(), sim.addr())]),
        limits: Default::default(),
    })
    .unwrap();
    let mut instance = harness.instantiate().await.unwrap();
    let credentials = sim.manage_credentials();
    let fields = [
        ("client_id".to_string(), credentials.client_id.clone()),
        ("client_secret".to_string(), credentials.client_secret.clone()),
        ("subdomain".to_string(), "acme".to_string()),
    ];
    instance.configure(&fields).await.unwrap().expect("configure");
    let kinds: Vec<String> = describe().await.sync_kinds.iter().map(|k| k.name.clone()).collect();
    let options = SyncOptions { kinds, max_items: 300, ..SyncOptions::default() };
    let output = sync_all(&mut instance, &options, |_| {}).await.unwrap().expect("sync");
    let incomplete: Vec<_> =
        output.report.iter().filter(|r| !matches!(r.status, host_test::harness::types::KindStatus::Complete)).collect();
    assert!(incomplete.is_empty(), "every kind complete: {incomplete:?}");
    output
}

fn docs_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/DATA_MODEL.md")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_committed_data_model_reference_is_the_components() {
    let generated = markdown(&describe().await);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(docs_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(docs_path()).expect("docs/DATA_MODEL.md (BLESS=1 writes it)");
    assert!(
        committed == generated,
        "docs/DATA_MODEL.md differs from the component's describe: run \
         `./dev host-test data-model --out docs/DATA_MODEL.md` (or BLESS=1)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_record_of_a_full_simulator_sync_conforms_to_the_data_model() {
    let info = describe().await;
    // Personal apps listed (off by default, FIDELITY.md F-APP-16), so their records are checked too.
    let output = full_sync(SimulatorConfig {
        users: 120,
        seed: 3,
        rate_limit_per_hour: None,
        personal_apps: true,
        ..Default::default()
    })
    .await;
    let found = violations(&info, &output);
    assert!(found.is_empty(), "{} violations, the first: {:#?}", found.len(), &found[..found.len().min(20)]);

    // Every user shape the evidence reports conforms too: string ids, nulls
    // left out, users without an email or username (null there, never "").
    let varied = full_sync(SimulatorConfig {
        users: 120,
        seed: 3,
        rate_limit_per_hour: None,
        field_variance: FieldVariance::Varied,
        ..Default::default()
    })
    .await;
    let found = violations(&info, &varied);
    assert!(found.is_empty(), "varied: {} violations, the first: {:#?}", found.len(), &found[..found.len().min(20)]);
    let users: Vec<Value> = varied
        .entities
        .iter()
        .filter(|e| e.entity_type == "onelogin_user")
        .map(|e| serde_json::from_str(&e.properties).unwrap())
        .collect();
    for name in ["email", "username", "employee_email"] {
        assert!(users.iter().any(|u| u[name].is_null()), "some user without {name}");
        assert!(users.iter().all(|u| u[name] != ""), "{name} is never an empty text");
    }

    // JupiterOne's graph-onelogin types and classes (its docs/jupiterone.md), with
    // the application rule of its AppRuleRelationship, appear in the output.
    let jupiterone = [
        ("onelogin_account", vec!["Account"]),
        ("onelogin_application", vec!["Application"]),
        ("onelogin_application_rule", vec!["Configuration"]),
        ("onelogin_group", vec!["UserGroup"]),
        ("onelogin_personal_application", vec!["Application"]),
        ("mfa_device", vec!["Key", "AccessKey"]),
        ("onelogin_role", vec!["AccessRole"]),
        ("onelogin_service", vec!["Service", "Control"]),
        ("onelogin_user", vec!["User"]),
    ];
    for (entity_type, classes) in jupiterone {
        let entity = output.entities.iter().find(|e| e.entity_type == entity_type);
        let entity = entity.unwrap_or_else(|| panic!("no {entity_type} in the sync"));
        assert_eq!(entity.classes, classes, "{entity_type}");
    }
    let relationships = output.relationships_by_class();
    for (from, class, to) in [
        ("onelogin_account", "HAS", "onelogin_application"),
        ("onelogin_account", "HAS", "onelogin_group"),
        ("onelogin_account", "HAS", "onelogin_role"),
        ("onelogin_account", "HAS", "onelogin_service"),
        ("onelogin_account", "HAS", "onelogin_user"),
        ("onelogin_application", "HAS", "onelogin_application_rule"),
        ("onelogin_group", "HAS", "onelogin_user"),
        ("onelogin_user", "ASSIGNED", "onelogin_application"),
        ("onelogin_user", "ASSIGNED", "aws_iam_role"),
        ("onelogin_user", "ASSIGNED", "onelogin_group"),
        ("onelogin_user", "ASSIGNED", "mfa_device"),
        ("onelogin_user", "ASSIGNED", "onelogin_role"),
        ("onelogin_user", "HAS", "onelogin_personal_application"),
    ] {
        let label = format!("{from} {class} {to}");
        assert!(relationships.get(&label).is_some_and(|n| *n > 0), "no {label}: {relationships:#?}");
    }
    // Every user in a group has both edges.
    assert_eq!(
        relationships["onelogin_group HAS onelogin_user"],
        relationships["onelogin_user ASSIGNED onelogin_group"]
    );
    // Entitlements and events are linked.
    for label in [
        "onelogin_role HAS onelogin_entitlement",
        "onelogin_user HAS onelogin_event",
        "onelogin_application HAS onelogin_event",
    ] {
        assert!(relationships.get(label).is_some_and(|n| *n > 0), "no {label}");
    }
    let entitlements = output.entities_by_type()["onelogin_entitlement"];
    let linked: u64 =
        relationships.iter().filter(|(k, _)| k.ends_with("HAS onelogin_entitlement")).map(|(_, n)| n).sum();
    assert_eq!(linked, entitlements, "every entitlement is linked to its resource");
}

#[tokio::test(flavor = "multi_thread")]
async fn personal_apps_follow_the_simulators_lists_and_are_never_grants() {
    let users = 80;
    // The simulator lists them only when asked (FIDELITY.md F-APP-16).
    let output = full_sync(SimulatorConfig {
        users,
        seed: 4,
        rate_limit_per_hour: None,
        personal_apps: true,
        ..Default::default()
    })
    .await;
    let sim_truth: BTreeSet<(String, String)> = output
        .entities
        .iter()
        .filter(|e| e.entity_type == "onelogin_user")
        .flat_map(|u| {
            let id: u64 = u.key.trim_start_matches("onelogin_user:").parse().unwrap();
            host_test::simulator::access::personal_apps(id)
                .into_iter()
                .map(move |p| (format!("onelogin_user:{id}"), format!("onelogin_personal_application:{id}:{}", p.id)))
        })
        .collect();
    assert!(!sim_truth.is_empty());
    let emitted: BTreeSet<(String, String)> = output
        .relationships
        .iter()
        .filter(|r| r.to_key.starts_with("onelogin_personal_application:"))
        .map(|r| (r.from_key.clone(), r.to_key.clone()))
        .collect();
    assert_eq!(emitted, sim_truth);
    let personal_ids: BTreeSet<String> =
        sim_truth.iter().map(|(_, k)| k.rsplit(':').next().unwrap().to_string()).collect();
    assert!(
        !output.relationships.iter().any(|r| r.to_key.starts_with("onelogin_application:")
            && personal_ids.contains(r.to_key.rsplit(':').next().unwrap())),
        "a personal app is never an account application grant"
    );

    // What the v1 docs say, and the simulator's default: OneLogin leaves them out.
    let without = full_sync(SimulatorConfig { users, seed: 4, rate_limit_per_hour: None, ..Default::default() }).await;
    assert!(!without.entities.iter().any(|e| e.entity_type == "onelogin_personal_application"));
    let grants =
        |o: &SyncOutput| o.relationships.iter().filter(|r| r.to_key.starts_with("onelogin_application:")).count();
    assert_eq!(grants(&without), grants(&output));
}

fn host_test(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(args)
        .env("ONELOGIN_CONNECTOR_WASM", component_path())
        .output()
        .expect("host-test runs")
}

/// `(user, resource, permission, via)` of every user grant in a `sync --out` file:
/// relationships with an entitlement, and users assigned AWS IAM roles and
/// privileges.
fn grants_in(records: &str) -> BTreeMap<(String, String, String, String), Value> {
    records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["record"] == "relationship" && r["from_key"].as_str().unwrap().starts_with("onelogin_user:"))
        .filter_map(|r| {
            let p = &r["properties"];
            let to = r["to_key"].as_str().unwrap();
            let (permission, via) = if p.get("entitlement").is_some() {
                (p["permission"].as_str().unwrap().to_string(), p["via"].as_str().unwrap().to_string())
            } else if r["class"] == "ASSIGNED" && to.starts_with("aws_iam_role:") {
                // An AWS IAM role: certain or possible, through the first rule that gives it.
                let (permission, rules) = if p["determined"] == true {
                    ("assume", "rule_ids")
                } else {
                    ("may_assume", "undetermined_rule_ids")
                };
                (permission.to_string(), format!("onelogin_application_rule:{}", p[rules][0]))
            } else if r["class"] == "ASSIGNED" && to.starts_with("onelogin_privilege:") {
                ("holder".to_string(), "direct".to_string())
            } else {
                return None;
            };
            Some(((r["from_key"].as_str().unwrap().to_string(), to.to_string(), permission, via), r.clone()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_access_review_export_round_trips_every_user_grant_as_csv_and_json() {
    let dir = std::env::temp_dir().join(format!("host-test-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, csv_path, json_path) = (dir.join("out.jsonl"), dir.join("review.csv"), dir.join("review.json"));
    let (o, c, j) = (out.to_str().unwrap(), csv_path.to_str().unwrap(), json_path.to_str().unwrap());
    let steps: [Vec<&str>; 3] = [
        // Every user shape, users without an email or username included.
        vec![
            "sync",
            "--simulator",
            "--users",
            "60",
            "--seed",
            "8",
            "--field-variance",
            "varied",
            "--out",
            o,
            "--quiet",
        ],
        vec!["export", o, "--format", "csv", "--out", c],
        vec!["export", o, "--format", "json", "--out", j],
    ];
    for args in steps {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let output =
            tokio::task::spawn_blocking(move || host_test(&args.iter().map(String::as_str).collect::<Vec<_>>()))
                .await
                .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let records = std::fs::read_to_string(&out).unwrap();
    let grants = grants_in(&records);
    let users: BTreeMap<String, Value> = records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["entity_type"] == "onelogin_user")
        .map(|r| (r["key"].as_str().unwrap().to_string(), r))
        .collect();
    let kinds: BTreeSet<&str> = grants.keys().map(|(_, to, _, _)| to.split(':').next().unwrap()).collect();
    let every = ["aws_iam_role", "onelogin_application", "onelogin_group", "onelogin_privilege", "onelogin_role"];
    assert_eq!(kinds, BTreeSet::from(every));

    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), host_test::export::CSV_HEADER);
    let csv_rows: Vec<host_test::export::Row> = reader.deserialize().map(Result::unwrap).collect();
    let json_rows: Vec<host_test::export::Row> =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(csv_rows, json_rows, "CSV and JSON carry the same rows");
    assert_eq!(csv_rows.len(), grants.len(), "one row per grant");
    let exported: BTreeSet<_> = csv_rows
        .iter()
        .map(|r| (r.user_key.clone(), r.resource_key.clone(), r.permission.clone(), r.via.clone()))
        .collect();
    assert_eq!(exported, grants.keys().cloned().collect::<BTreeSet<_>>(), "every grant, once");
    assert!(csv_rows.iter().any(|r| r.email.is_empty()), "the grants of users without an email are rows too");
    for row in &csv_rows {
        let user = &users[&row.user_key]["properties"];
        assert_eq!(row.email, user["email"].as_str().unwrap_or_default());
        assert_eq!(row.account_status, user["account_status"].as_str().unwrap());
        assert!(!row.resource_name.is_empty() && !row.display_name.is_empty(), "{row:?}");
        assert_eq!(row.via_name.is_empty(), row.via == "direct", "{row:?}");
        if row.resource_type == "onelogin_application" {
            let grant =
                &grants[&(row.user_key.clone(), row.resource_key.clone(), row.permission.clone(), row.via.clone())];
            assert_eq!(row.provisioning_status, grant["properties"]["status"].as_str().unwrap());
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
