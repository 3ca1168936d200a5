//! Sync through the real component, harness and simulator over loopback HTTP.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{page, pages, Fixture};
use host_test::harness::sync_all;
use host_test::harness::types::{Entity, ErrorKind, Relationship};
use host_test::simulator::{limits, Fault, FaultKind, Tenant};
use serde_json::{json, Value};

/// `max_items` for the tests' pages: small enough for many pages.
const PAGE: u32 = 200;

fn user_group_pairs(tenant: &Tenant) -> BTreeSet<(String, String)> {
    tenant
        .users
        .iter()
        .filter_map(|u| u.group_id.map(|g| (format!("onelogin_group:{g}"), format!("onelogin_user:{}", u.id))))
        .collect()
}

fn role_member_pairs(tenant: &Tenant) -> BTreeSet<(String, String)> {
    tenant
        .roles
        .iter()
        .flat_map(|r| r.users.iter().map(move |u| (format!("onelogin_user:{u}"), format!("onelogin_role:{}", r.id))))
        .collect()
}

fn pairs(relationships: &[Relationship], class: &str, from_prefix: &str) -> BTreeSet<(String, String)> {
    relationships
        .iter()
        .filter(|r| r.class == class && r.from_key.starts_with(from_prefix))
        .map(|r| (r.from_key.clone(), r.to_key.clone()))
        .collect()
}

/// What a sync of `tenant` must cost: one token, one scope probe, and each
/// list read in pages of the endpoint's maximum size (an empty list still
/// costs one request).
fn expected_requests(tenant: &Tenant) -> BTreeMap<String, u64> {
    let role_users: u64 = tenant.roles.iter().map(|r| pages(r.users.len(), limits::ROLE_USERS)).sum();
    BTreeMap::from([
        ("POST /auth/oauth2/v2/token".to_string(), 1),
        ("GET /api/2/connectors".to_string(), 1),
        ("GET /api/2/users".to_string(), pages(tenant.users.len(), limits::USERS)),
        ("GET /api/1/groups".to_string(), pages(tenant.groups.len(), limits::V1_GROUPS)),
        ("GET /api/2/roles".to_string(), pages(tenant.roles.len(), limits::ROLES)),
        ("GET /api/2/roles/{id}/users".to_string(), role_users),
        ("GET /api/2/apps".to_string(), pages(tenant.apps.len(), limits::APPS)),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_matches_the_simulators_ground_truth() {
    let fixture = Fixture::new(230, 7).await;
    let tenant = fixture.sim.tenant();
    assert!(tenant.roles.iter().any(|r| r.users.len() > limits::ROLE_USERS), "a role needs several member pages");
    let output = fixture.full_sync(PAGE).await.expect("sync");

    let expected_entities = BTreeMap::from([
        ("onelogin_account".to_string(), 1),
        ("onelogin_user".to_string(), tenant.users.len() as u64),
        ("onelogin_group".to_string(), tenant.groups.len() as u64),
        ("onelogin_role".to_string(), tenant.roles.len() as u64),
        ("onelogin_application".to_string(), tenant.apps.len() as u64),
    ]);
    assert_eq!(output.entities_by_type(), expected_entities);
    let keys: BTreeSet<&str> = output.entities.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys.len(), output.entities.len(), "entity keys are unique");
    for user in &tenant.users {
        assert!(keys.contains(format!("onelogin_user:{}", user.id).as_str()));
    }

    let account = format!("onelogin_account:{}", tenant.account_id);
    let owned = pairs(&output.relationships, "HAS", &account);
    assert_eq!(owned.len(), keys.len() - 1, "account HAS every other entity");
    assert_eq!(pairs(&output.relationships, "HAS", "onelogin_group:"), user_group_pairs(&tenant));
    assert_eq!(pairs(&output.relationships, "ASSIGNED", "onelogin_user:"), role_member_pairs(&tenant));
    assert_eq!(
        output.relationships.len(),
        owned.len() + user_group_pairs(&tenant).len() + role_member_pairs(&tenant).len(),
        "no duplicate relationships"
    );

    // Every v2 field and custom attribute reaches the entity.
    let user = &tenant.users[0];
    let entity = output.entities.iter().find(|e| e.key == format!("onelogin_user:{}", user.id)).unwrap();
    let properties: Value = serde_json::from_str(&entity.properties).unwrap();
    assert_eq!(properties["email"], json!(user.email));
    assert_eq!(properties["status"], json!(user.status));
    assert_eq!(properties["active"], json!(user.status == 1));
    assert_eq!(properties["role_ids"], json!(user.role_ids));
    for name in &tenant.custom_attribute_names {
        assert_eq!(properties["custom_attributes"][name], json!(user.custom_attributes[name]), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn request_count_follows_the_page_size_formula_on_both_sides() {
    let fixture = Fixture::new(230, 7).await;
    let tenant = fixture.sim.tenant();
    fixture.full_sync(PAGE).await.expect("sync");
    let expected = expected_requests(&tenant);
    println!("requests for a {}-user tenant: {expected:#?}", tenant.users.len());
    assert_eq!(fixture.harness.request_log().counts(), expected, "harness counter");
    assert_eq!(fixture.sim.request_counts(), expected, "simulator counter");
}

fn records(entities: &[Entity], relationships: &[Relationship]) -> Vec<String> {
    let entities = entities.iter().map(|e| format!("E {} {}", e.key, e.properties));
    let relationships =
        relationships.iter().map(|r| format!("R {} {} {} {}", r.from_key, r.class, r.to_key, r.properties));
    entities.chain(relationships).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn resuming_in_a_fresh_instance_at_every_page_boundary_loses_and_repeats_nothing() {
    // max-items 1: every page is one OneLogin request, so every step boundary
    // (users pages, groups, roles, each role's members, apps) is a resume point.
    let fixture = Fixture::new(120, 3).await;
    let (mut instance, _) = fixture.manage().await;
    let mut baseline = Vec::new();
    let mut cursors = Vec::new();
    let mut cursor = None;
    loop {
        let page = instance.sync_page(page(cursor, 1)).await.unwrap().expect("page");
        baseline.push(records(&page.entities, &page.relationships));
        cursor = page.next_cursor;
        match &cursor {
            Some(c) => cursors.push(c.clone()),
            None => break,
        }
    }
    assert!(baseline.len() > 8, "enough pages to make the test meaningful: {}", baseline.len());
    let expected: Vec<String> = baseline.concat();

    for (k, resume_at) in cursors.iter().enumerate() {
        assert!(resume_at.len() < 4096, "cursor size {}", resume_at.len());
        let (mut fresh, _) = fixture.manage().await;
        let mut got: Vec<String> = baseline[..=k].concat();
        let mut cursor = Some(resume_at.clone());
        while let Some(c) = cursor {
            let page = fresh.sync_page(page(Some(c), 1)).await.unwrap().expect("resumed page");
            got.extend(records(&page.entities, &page.relationships));
            cursor = page.next_cursor;
        }
        assert_eq!(got, expected, "resumed after page {}", k + 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn golden_sync_output_for_a_small_tenant() {
    // OneLogin JSON in (the simulator's seed-5 tenant), entities out.
    // Regenerate with BLESS=1 after a deliberate mapping change.
    let fixture = Fixture::new(12, 5).await;
    let output = fixture.full_sync(0).await.expect("sync");
    let mut lines = String::new();
    for entity in &output.entities {
        let properties: Value = serde_json::from_str(&entity.properties).unwrap();
        let record = json!({"key": entity.key, "entity_type": entity.entity_type, "classes": entity.classes,
            "display_name": entity.display_name, "properties": properties});
        lines.push_str(&format!("{record}\n"));
    }
    for r in &output.relationships {
        let properties: Value = serde_json::from_str(&r.properties).unwrap();
        let record = json!({"class": r.class, "from_key": r.from_key, "to_key": r.to_key, "properties": properties});
        lines.push_str(&format!("{record}\n"));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sync_users12_seed5.jsonl");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &lines).unwrap();
    }
    let golden = std::fs::read_to_string(&path).expect("golden file (BLESS=1 creates it)");
    assert!(golden == lines, "sync output differs from {}; rerun with BLESS=1 if intended", path.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_is_renewed_once_and_the_sync_goes_on() {
    let fixture = Fixture::new(120, 2).await;
    let (mut instance, _) = fixture.manage().await;
    let first = instance.sync_page(page(None, 50)).await.unwrap().expect("first page");
    fixture.sim.revoke_all_tokens();
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        cursor = instance.sync_page(page(Some(c), 50)).await.unwrap().expect("page").next_cursor;
    }
    assert_eq!(fixture.harness.request_log().counts()["POST /auth/oauth2/v2/token"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_server_errors_and_dropped_connections_are_retried() {
    let fixture = Fixture::new(60, 4).await;
    fixture.sim.inject(Fault::on("/api/2/users", FaultKind::ServerError(503), 1));
    fixture.sim.inject(Fault::on("/api/2/roles", FaultKind::DropConnection, 1));
    let output = fixture.full_sync(PAGE).await.expect("sync despite faults");
    assert_eq!(output.entities_by_type()["onelogin_user"], 60);
    let counts = fixture.harness.request_log().counts();
    let expected = expected_requests(&fixture.sim.tenant());
    assert_eq!(counts["GET /api/2/users"], expected["GET /api/2/users"] + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_become_typed_retryable_errors() {
    for (with_headers, seconds) in [(true, 30), (false, 60)] {
        let fixture = Fixture::new(10, 1).await;
        fixture.sim.inject(Fault::on("/api/2/roles", FaultKind::RateLimited { with_headers }, 1));
        let error = fixture.full_sync(PAGE).await.expect_err("rate limited");
        assert_eq!(error.kind, ErrorKind::RateLimited(seconds), "{}", error.message);
        assert!(error.retryable);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn html_error_bodies_become_upstream_errors_after_bounded_retries() {
    let fixture = Fixture::new(10, 1).await;
    fixture.sim.inject(Fault::on("/api/1/groups", FaultKind::HtmlError(502), 10));
    let error = fixture.full_sync(PAGE).await.expect_err("upstream error");
    assert_eq!(error.kind, ErrorKind::Upstream(502));
    assert!(error.message.contains("HTML"), "{}", error.message);
    assert_eq!(fixture.harness.request_log().counts()["GET /api/1/groups"], 3, "1 try + 2 retries");
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_and_garbage_cursors_are_refused() {
    let fixture = Fixture::new(10, 1).await;
    let (mut instance, _) = fixture.manage().await;
    for bad in ["not-a-cursor", "eyJ2IjoxfQ", ""] {
        let error = instance.sync_page(page(Some(bad.to_string()), 10)).await.unwrap().expect_err(bad);
        assert_eq!(error.kind, ErrorKind::InvalidCursor, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_before_configure_is_refused_without_network() {
    let fixture = Fixture::new(10, 1).await;
    let mut instance = fixture.harness.instantiate().await.unwrap();
    let error = instance.sync_page(page(None, 10)).await.unwrap().expect_err("not configured");
    assert_eq!(error.kind, ErrorKind::NotConfigured);
    assert_eq!(fixture.sim.total_requests(), 0);
    // And the full sync helper agrees.
    assert!(sync_all(&mut instance, 10, |_| {}).await.unwrap().is_err());
}
