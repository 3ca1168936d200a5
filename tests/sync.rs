//! Sync through the real component, harness and simulator over loopback HTTP.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{page, pages, Fixture, LAST_PAGE_ANSWERS};
use host_test::bench;
use host_test::harness::diff::{self, Tombstone, TombstoneStatus};
use host_test::harness::types::{
    AccessLevel, AccountPatch, Action, CustomAction, Entity, ErrorKind, KindReport, KindStatus, Relationship,
};
use host_test::harness::SyncOutput;
use host_test::harness::{sync_all, SyncOptions};
use host_test::simulator::{
    limits, Fault, FaultKind, FieldVariance, ListRoleIds, Refusal, SimulatorConfig, Tenant, TokenBucket, V2Throttle,
};
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

fn props(properties: &str) -> Value {
    serde_json::from_str(properties).expect("properties are JSON")
}

/// The relationships of `class` from `from_prefix` to `to_prefix`.
fn rels<'a>(output: &'a SyncOutput, class: &str, from_prefix: &str, to_prefix: &str) -> Vec<&'a Relationship> {
    output
        .relationships
        .iter()
        .filter(|r| r.class == class && r.from_key.starts_with(from_prefix) && r.to_key.starts_with(to_prefix))
        .collect()
}

/// Every selected kind is complete; the rest are skipped as not selected (the
/// opt-in `events` and `app_logins`).
fn read_to_the_end(report: &[KindReport]) -> bool {
    report.iter().all(|r| match &r.status {
        KindStatus::Complete => true,
        KindStatus::Skipped(reason) => reason == "not selected",
        _ => false,
    })
}

/// The ARN of an `aws_iam_role` key (`aws_iam_role:<ARN>`).
fn arn(key: &str) -> String {
    key.strip_prefix("aws_iam_role:").unwrap_or(key).to_string()
}

/// The AWS IAM role grants of one user (`user_key ASSIGNED aws_iam_role:…`).
fn aws_grants<'a>(output: &'a SyncOutput, user_key: &str) -> Vec<&'a Relationship> {
    rels(output, "ASSIGNED", user_key, "aws_iam_role:arn:").into_iter().filter(|r| r.from_key == user_key).collect()
}

/// The ARNs of the grants a rule gives for certain (`determined`).
fn determined_arns(grants: &[&Relationship]) -> BTreeSet<String> {
    grants.iter().filter(|r| props(&r.properties)["determined"] == true).map(|r| arn(&r.to_key)).collect()
}

fn key_pairs(relationships: &[&Relationship]) -> BTreeSet<(String, String)> {
    relationships.iter().map(|r| (r.from_key.clone(), r.to_key.clone())).collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Every kind the connector has (the default selection and the opt-in
/// `events` and `app_logins`).
fn all_kinds() -> BTreeSet<String> {
    [
        "groups",
        "roles",
        "apps",
        "app_rules",
        "privileges",
        "events",
        "app_logins",
        "users",
        "user_apps",
        "mfa_devices",
        "aws_iam_roles",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_matches_the_simulators_ground_truth_for_every_kind() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(230, 7, last_page).await;
        let tenant = fixture.sim.tenant();
        let started_ms = now_ms();
        let every_kind =
            SyncOptions { kinds: all_kinds().into_iter().collect(), max_items: PAGE, ..Default::default() };
        let output = fixture.sync_with(&every_kind).await.expect("sync");
        let by_type = output.entities_by_type();
        let count = |t: &str| by_type.get(t).copied().unwrap_or(0);
        let keys: BTreeSet<&str> = output.entities.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys.len(), output.entities.len(), "entity keys are unique");
        // A user may be both member and admin of a role: two grants, told apart by `permission`.
        let rel_keys: BTreeSet<(&str, &str, &str, String)> = output
            .relationships
            .iter()
            .map(|r| {
                (
                    r.class.as_str(),
                    r.from_key.as_str(),
                    r.to_key.as_str(),
                    props(&r.properties)["permission"].to_string(),
                )
            })
            .collect();
        assert_eq!(rel_keys.len(), output.relationships.len(), "relationships are unique");

        // Every kind is complete.
        for report in &output.report {
            assert!(matches!(report.status, KindStatus::Complete), "{}: {:?}", report.kind, report.status);
        }

        // Entities per kind.
        let active_devices: Vec<(u64, String)> = tenant
            .users
            .iter()
            .flat_map(|u| u.mfa_devices.iter().filter(|d| d.active).map(move |d| (u.id, d.device_id.clone())))
            .collect();
        assert_eq!(count("onelogin_account"), 1);
        assert_eq!(count("onelogin_service"), 2, "SSO and MFA services");
        assert_eq!(count("onelogin_custom_attribute"), tenant.custom_attribute_names.len() as u64);
        assert_eq!(count("onelogin_user"), tenant.users.len() as u64);
        assert_eq!(count("onelogin_group"), tenant.groups.len() as u64);
        assert_eq!(count("onelogin_role"), tenant.roles.len() as u64);
        assert_eq!(count("onelogin_application"), tenant.apps.len() as u64);
        assert_eq!(count("onelogin_application_rule"), tenant.rules.len() as u64, "enabled and disabled rules");
        assert!(tenant.rules.iter().any(|r| !r.enabled), "the tenant has disabled rules");
        assert_eq!(count("mfa_device"), active_devices.len() as u64);
        assert_eq!(count("onelogin_privilege"), tenant.privileges.len() as u64);
        assert_eq!(
            count("onelogin_entitlement"),
            (tenant.groups.len() + 2 * tenant.roles.len() + tenant.apps.len()) as u64,
            "group member, role member and admin, app access"
        );
        let window = tenant.all_events_between(started_ms - 90 * 86_400_000, now_ms() + 1);
        assert_eq!(count("onelogin_event"), window.len() as u64, "events of the last 90 days, app logins included");
        assert!(
            (tenant.events.len() as u64) > tenant.events_between(started_ms - 90 * 86_400_000, i64::MAX).len() as u64
        );
        let mut last_logins: BTreeMap<(String, String), String> = BTreeMap::new();
        for e in window.iter().filter(|e| e.event_type_id == 8) {
            let (Some(user), Some(app)) = (e.user_id, e.app_id) else { continue };
            let pair = (format!("onelogin_user:{user}"), format!("onelogin_application:{app}"));
            let latest = last_logins.entry(pair).or_default();
            *latest = e.created_at().max(latest.clone());
        }

        // Users: normalized statuses, the email identity, MFA enrolment, custom attributes.
        for entity in output.entities.iter().filter(|e| e.entity_type == "onelogin_user") {
            let p = props(&entity.properties);
            let user = tenant.users.iter().find(|u| format!("onelogin_user:{}", u.id) == entity.key).unwrap();
            let expected_account = match (user.status, user.state) {
                (1 | 4 | 5, 1) => "active",
                (1..=5, _) => "suspended",
                _ => "discovered",
            };
            let expected_employment = match user.status {
                0 => "inactive",
                1 | 4 | 5 => "active",
                2 | 3 => "suspended",
                _ => "staged",
            };
            let got = (p["account_status"].as_str(), p["employment_status"].as_str());
            assert_eq!(got, (Some(expected_account), Some(expected_employment)), "{}", entity.key);
            assert_eq!(p["employee_email"], json!(user.email.to_lowercase()));
            assert_eq!(p["mfa_enrolled"], json!(user.mfa_devices.iter().any(|d| d.active)));
            for name in &tenant.custom_attribute_names {
                assert_eq!(p[format!("custom_attributes.{name}")], json!(user.custom_attributes[name]), "{name}");
            }
        }

        // Groups and roles.
        let account = format!("onelogin_account:{}", tenant.account_id);
        assert_eq!(key_pairs(&rels(&output, "HAS", "onelogin_group:", "onelogin_user:")), user_group_pairs(&tenant));
        let user_groups: BTreeSet<(String, String)> =
            user_group_pairs(&tenant).into_iter().map(|(g, u)| (u, g)).collect();
        assert_eq!(key_pairs(&rels(&output, "ASSIGNED", "onelogin_user:", "onelogin_group:")), user_groups);
        let role_grants = rels(&output, "ASSIGNED", "onelogin_user:", "onelogin_role:");
        let by_permission = |permission: &str| -> BTreeSet<(String, String)> {
            role_grants
                .iter()
                .filter(|r| props(&r.properties)["permission"] == permission)
                .map(|r| (r.from_key.clone(), r.to_key.clone()))
                .collect()
        };
        assert_eq!(by_permission("member"), role_member_pairs(&tenant));
        let admins: BTreeSet<(String, String)> = tenant
            .roles
            .iter()
            .flat_map(|r| {
                r.admins.iter().map(move |u| (format!("onelogin_user:{u}"), format!("onelogin_role:{}", r.id)))
            })
            .collect();
        assert!(!admins.is_empty());
        assert_eq!(by_permission("admin"), admins, "role admins, distinguishable from members");
        let role_apps: BTreeSet<(String, String)> = tenant
            .roles
            .iter()
            .flat_map(|r| {
                r.apps.iter().map(move |a| (format!("onelogin_role:{}", r.id), format!("onelogin_application:{a}")))
            })
            .collect();
        assert_eq!(key_pairs(&rels(&output, "ALLOWS", "onelogin_role:", "onelogin_application:")), role_apps);

        // App rules belong to their apps.
        let app_rules: BTreeSet<(String, String)> = tenant
            .rules
            .iter()
            .map(|r| (format!("onelogin_application:{}", r.app_id), format!("onelogin_application_rule:{}", r.id)))
            .collect();
        assert_eq!(key_pairs(&rels(&output, "HAS", "onelogin_application:", "onelogin_application_rule:")), app_rules);

        // User-app access: via roles or direct, provisioning state mapped.
        let mut states = BTreeSet::new();
        for user in &tenant.users {
            let user_key = format!("onelogin_user:{}", user.id);
            let got: BTreeMap<String, Value> = rels(&output, "ASSIGNED", &user_key, "onelogin_application:")
                .iter()
                .filter(|r| r.from_key == user_key)
                .map(|r| (r.to_key.clone(), props(&r.properties)))
                .collect();
            let truth = tenant.user_apps(user.id);
            assert_eq!(got.len(), truth.len(), "{user_key} apps");
            for app in truth {
                let p = &got[&format!("onelogin_application:{}", app.app_id)];
                let via: Vec<String> = app.via_role_ids.iter().map(|r| format!("onelogin_role:{r}")).collect();
                assert_eq!(p["via_roles"], json!(via), "{user_key} app {}", app.app_id);
                if via.is_empty() {
                    assert!(app.direct);
                    assert_eq!(p["via"], "direct");
                }
                assert_eq!(p["provisioning_state"], json!(app.provisioning_state));
                let mapped = match app.provisioning_state.as_str() {
                    "provisioned" => "active",
                    s if s.ends_with("_pending_approval") => "staged",
                    "deleted" | "disabled" => "deprovisioned",
                    "unknown" => "access_created",
                    _ => "discovered",
                };
                assert_eq!(p["status"], mapped);
                states.insert(app.provisioning_state.clone());
            }
        }
        assert!(states.len() >= 10, "many provisioning states occur: {states:?}");
        let mut with_login = 0;
        for r in rels(&output, "ASSIGNED", "onelogin_user:", "onelogin_application:") {
            let expected = last_logins.get(&(r.from_key.clone(), r.to_key.clone()));
            assert_eq!(props(&r.properties)["last_login"], json!(expected), "{} -> {}", r.from_key, r.to_key);
            with_login += usize::from(expected.is_some());
        }
        assert!(with_login > 100, "assignments carry the last login from type-8 events: {with_login}");

        // MFA devices.
        let devices: BTreeSet<(String, String)> =
            active_devices.iter().map(|(u, d)| (format!("onelogin_user:{u}"), format!("mfa_device:{d}"))).collect();
        assert_eq!(key_pairs(&rels(&output, "ASSIGNED", "onelogin_user:", "mfa_device:")), devices);

        // AWS IAM roles, against the simulator's own rule evaluator.
        let mut undetermined_seen = false;
        for user in &tenant.users {
            let user_key = format!("onelogin_user:{}", user.id);
            let truth = tenant.aws_roles(user.id);
            let aws = aws_grants(&output, &user_key);
            let certain = determined_arns(&aws);
            assert_eq!(certain, truth.certain, "{user_key} AWS roles");
            let undetermined: BTreeSet<u64> = aws
                .iter()
                .flat_map(|r| props(&r.properties)["undetermined_rule_ids"].as_array().cloned().unwrap_or_default())
                .filter_map(|v| v.as_u64())
                .collect();
            assert_eq!(undetermined, truth.undetermined_rules, "{user_key} undetermined rules");
            undetermined_seen |= !undetermined.is_empty();
        }
        assert!(undetermined_seen, "some rule cannot be evaluated, and the output says so");
        let arns: BTreeSet<String> = tenant.users.iter().flat_map(|u| tenant.aws_roles(u.id).certain).collect();
        assert!(arns.iter().any(|a| a.contains(":role/engineering/")), "IAM paths survive: {arns:?}");
        for arn in &arns {
            assert!(keys.contains(format!("aws_iam_role:{arn}").as_str()), "aws_iam_role entity for {arn}");
        }

        // Privileges.
        let privilege_users: BTreeSet<(String, String)> = tenant
            .privileges
            .iter()
            .flat_map(|p| {
                p.users.iter().map(move |u| (format!("onelogin_user:{u}"), format!("onelogin_privilege:{}", p.id)))
            })
            .collect();
        assert_eq!(key_pairs(&rels(&output, "ASSIGNED", "onelogin_user:", "onelogin_privilege:")), privilege_users);
        let privilege_roles: BTreeSet<(String, String)> = tenant
            .privileges
            .iter()
            .flat_map(|p| {
                p.roles.iter().map(move |r| (format!("onelogin_role:{r}"), format!("onelogin_privilege:{}", p.id)))
            })
            .collect();
        assert_eq!(key_pairs(&rels(&output, "HAS", "onelogin_role:", "onelogin_privilege:")), privilege_roles);

        // The account owns the top-level entities.
        let owned = key_pairs(&rels(&output, "HAS", &account, "")).len() as u64;
        let top_level = [
            "onelogin_user",
            "onelogin_group",
            "onelogin_role",
            "onelogin_application",
            "onelogin_service",
            "onelogin_custom_attribute",
            "onelogin_privilege",
        ];
        assert_eq!(owned, top_level.iter().map(|t| count(t)).sum::<u64>());
    }
}

/// A sync of `kinds` costs exactly the documented minimum, counted by the
/// harness per endpoint and by the simulator, under both answers to whether the
/// last page carries an `After-Cursor`. A long events window is read in time
/// slices side by side (every event with `events`, the app logins alone with
/// `app_logins`); the minimum counts each slice's pages, for the window the
/// connector chose by its clock (the simulator records it).
async fn assert_minimum_requests(kinds: &[&str]) {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(230, 7, last_page).await;
        let tenant = fixture.sim.tenant();
        let (mut instance, _) = fixture.manage().await;
        let configure = fixture.harness.request_log().counts();
        let started_ms = now_ms();
        let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
        // Small pages: a users step may read every users page of this tenant
        // (those read ahead join its window), and the count must hold across pages.
        let options = SyncOptions { max_items: 20, kinds: kinds.clone(), ..SyncOptions::default() };
        let output = sync_all(&mut instance, &options, |_| {}).await.unwrap().expect("sync");
        assert!(output.pages > 1, "{:?} {}", output.report, output.pages);
        let spent = counts_since(&configure, &fixture.harness.request_log().counts());
        let info = instance.describe().await.expect("describe");
        let selected = bench::resolve_kinds(&info.sync_kinds, &kinds).expect("kinds");
        // The sync's start by the connector's clock (OneLogin's `Date`, whole
        // seconds): the end of the widest events window it asked for.
        let windows = fixture.sim.event_windows();
        let sync_start_ms = windows.first().map_or(started_ms, |&(_, until)| until);
        assert!((started_ms - 2000..=now_ms()).contains(&sync_start_ms), "{windows:?} {started_ms}");
        let terms = bench::minimum_terms(&tenant, &selected, sync_start_ms);
        let mut minimum: BTreeMap<String, u64> = BTreeMap::new();
        for term in &terms {
            *minimum.entry(term.endpoint.to_string()).or_default() += term.calls;
        }
        println!("requests for a {}-user tenant, kinds {kinds:?}: {spent:#?}", tenant.users.len());
        if selected.contains("events") || selected.contains("app_logins") {
            assert!(windows.len() > 2, "the events window is read in slices: {windows:?}");
        }
        assert_eq!(spent, minimum, "harness counter, per endpoint");
        let configure_total: u64 = configure.values().sum();
        let total = minimum.values().sum::<u64>() + configure_total;
        assert_eq!(fixture.sim.total_requests(), total, "simulator counter");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn request_count_is_the_minimum_for_the_selected_kinds_on_both_sides() {
    assert_minimum_requests(&[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn request_count_with_every_event_is_still_the_minimum() {
    let every: Vec<String> = all_kinds().into_iter().collect();
    assert_minimum_requests(&every.iter().map(String::as_str).collect::<Vec<_>>()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn last_logins_read_only_app_login_events() {
    assert_minimum_requests(&["app_logins"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn privileges_without_a_subscription_are_reported_skipped_and_the_sync_goes_on() {
    let config =
        SimulatorConfig { users: 30, seed: 2, rate_limit_per_hour: None, privileges: false, ..Default::default() };
    let fixture = Fixture::with_config(config).await;
    let output = fixture.full_sync(PAGE).await.expect("sync");
    let status = |kind: &str| output.report.iter().find(|r| r.kind == kind).map(|r| r.status.clone()).unwrap();
    assert!(matches!(status("privileges"), KindStatus::Skipped(_)), "{:?}", status("privileges"));
    assert!(matches!(status("users"), KindStatus::Complete));
    assert_eq!(output.entities_by_type()["onelogin_user"], 30);
    assert!(!output.entities_by_type().contains_key("onelogin_privilege"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_selection_reads_only_its_kinds_and_reports_the_rest_unselected() {
    let fixture = Fixture::new(60, 3).await;
    let options = SyncOptions { kinds: vec!["mfa_devices".into()], max_items: PAGE, ..SyncOptions::default() };
    let output = fixture.sync_with(&options).await.expect("sync");
    let types = output.entities_by_type();
    assert!(types.contains_key("mfa_device") && types.contains_key("onelogin_user"));
    assert!(!types.contains_key("onelogin_group") && !types.contains_key("onelogin_event"), "{types:?}");
    let counts = fixture.harness.request_log().counts();
    assert!(!counts.contains_key("GET /api/1/groups"), "{counts:?}");
    assert!(!counts.contains_key("GET /api/2/users/{id}/apps"), "{counts:?}");
    let status = |kind: &str| output.report.iter().find(|r| r.kind == kind).map(|r| r.status.clone()).unwrap();
    assert_eq!(status("groups"), KindStatus::Skipped("not selected".into()));
    assert!(matches!(status("mfa_devices"), KindStatus::Complete));

    let (mut instance, _) = fixture.manage().await;
    let bad = SyncOptions { kinds: vec!["people".into()], ..SyncOptions::default() };
    let error = sync_all(&mut instance, &bad, |_| {}).await.unwrap().expect_err("unknown kind");
    assert_eq!(error.kind, ErrorKind::InvalidInput("kinds".into()));
}

fn records(entities: &[Entity], relationships: &[Relationship]) -> Vec<String> {
    let entities = entities.iter().map(|e| format!("E {} {}", e.key, e.properties));
    let relationships =
        relationships.iter().map(|r| format!("R {} {} {} {}", r.from_key, r.class, r.to_key, r.properties));
    entities.chain(relationships).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_counts_phases_and_objects_overall_and_the_effective_concurrency_is_reported() {
    let fixture = Fixture::new(30, 4).await;
    let (mut instance, _) = fixture.manage().await;
    let mut seen = Vec::new();
    // 100 asks for more than the maximum: lowered to 64, and said so.
    let options = SyncOptions { max_items: 10, concurrency: 100, ..SyncOptions::default() };
    let output = sync_all(&mut instance, &options, |page| seen.push((page.concurrency, page.progress.clone())))
        .await
        .unwrap()
        .expect("sync");
    assert!(seen.len() > 3, "several pages: {}", seen.len());
    assert!(seen.iter().all(|(concurrency, _)| *concurrency == 64), "{seen:?}");
    for pair in seen.windows(2) {
        let (before, after) = (&pair[0].1, &pair[1].1);
        assert!(after.phases_done >= before.phases_done && after.overall_done >= before.overall_done, "{pair:?}");
    }
    let last = &seen.last().unwrap().1;
    assert_eq!(last.phases_done, last.phases_total, "{last:?}");
    assert!(last.phases_done > 5, "{last:?}");
    assert!(seen.iter().all(|(_, p)| p.phases_done <= p.phases_total), "{seen:?}");
    // Objects read: at least the users and every other listed object once.
    let users = output.entities.iter().filter(|e| e.entity_type == "onelogin_user").count() as u64;
    assert!(last.overall_done > users, "{} > {users}", last.overall_done);
    let one_page = SyncOptions { max_items: 0, ..SyncOptions::default() };
    let default = sync_all(&mut instance, &one_page, |page| assert_eq!(page.concurrency, 8, "the default"));
    default.await.unwrap().expect("sync");
}

/// How [`pages_from`] asks for pages: `max_items`, `concurrency` (0 = the
/// default) and the kinds (empty = the default ones).
#[derive(Clone, Copy)]
struct Paging {
    max_items: u32,
    concurrency: u32,
    kinds: &'static [&'static str],
}

/// Every page of a sync from `cursor` on, as records, in a fresh instance.
async fn pages_from(fixture: &Fixture, cursor: Option<String>, options: Paging) -> Vec<(Vec<String>, Option<String>)> {
    let (mut instance, _) = fixture.manage().await;
    let mut pages = Vec::new();
    let mut cursor = cursor;
    loop {
        let request = SyncOptions {
            max_items: options.max_items,
            concurrency: options.concurrency,
            kinds: options.kinds.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        };
        let page = instance.sync_page(request.request(cursor)).await.unwrap().expect("page");
        let next = page.next_cursor.clone();
        if let Some(c) = &next {
            assert!(c.len() < 4096, "cursor size {}", c.len());
        }
        pages.push((records(&page.entities, &page.relationships), next.clone()));
        match next {
            Some(c) => cursor = Some(c),
            None => return pages,
        }
    }
}

/// Resume after page `k` of `baseline` in a fresh instance: the union of
/// pages must equal the clean run exactly.
async fn assert_resume_after(fixture: &Fixture, baseline: &[(Vec<String>, Option<String>)], k: usize, options: Paging) {
    let expected: Vec<String> = baseline.iter().flat_map(|(r, _)| r.clone()).collect();
    let mut got: Vec<String> = baseline[..=k].iter().flat_map(|(r, _)| r.clone()).collect();
    for (records, _) in pages_from(fixture, baseline[k].1.clone(), options).await {
        got.extend(records);
    }
    if got != expected {
        let missing: Vec<_> = expected.iter().filter(|r| !got.contains(r)).take(3).collect();
        let extra = got.len() as i64 - expected.len() as i64;
        panic!("resumed after page {}: {extra} extra records; missing e.g. {missing:?}", k + 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn resuming_in_a_fresh_instance_at_every_page_boundary_loses_and_repeats_nothing() {
    // max-items 1: every page is one step (one upstream page or one batch of
    // concurrent per-user / per-role / per-app requests, which keeps the
    // window full for 16 rounds): every step boundary of every kind is a
    // resume point.
    // Concurrency 1 keeps the per-user batches small: more step boundaries.
    let paging = Paging { max_items: 1, concurrency: 1, kinds: &[] };
    let fixture = Fixture::new(40, 3).await;
    let baseline = pages_from(&fixture, None, paging).await;
    assert!(baseline.len() >= 12, "enough pages to make the test meaningful: {}", baseline.len());
    for k in 0..baseline.len() - 1 {
        assert_resume_after(&fixture, &baseline, k, paging).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn resuming_a_larger_tenant_at_seeded_random_pages_loses_and_repeats_nothing() {
    let seed: u64 = std::env::var("RESUME_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1)
    });
    println!("resume seed {seed} (rerun with RESUME_SEED={seed})");
    // 1000 users: a users step reads up to three pages at the default
    // concurrency (the pages read ahead join its window), so fewer users
    // would give too few pages to pick resume points from.
    let fixture = Fixture::new(1000, 11).await;
    let paging = Paging { max_items: 100, concurrency: 0, kinds: &[] };
    let baseline = pages_from(&fixture, None, paging).await;
    assert!(baseline.len() > 10, "pages: {}", baseline.len());
    // The users steps that read pages ahead give the records one by one
    // gives (concurrency 1: no page joins a step's window).
    let union = |pages: &[(Vec<String>, Option<String>)]| {
        let mut records: Vec<String> = pages.iter().flat_map(|(r, _)| r.clone()).collect();
        records.sort();
        records
    };
    let serial = pages_from(&fixture, None, Paging { max_items: 100, concurrency: 1, kinds: &[] }).await;
    assert!(serial.len() > baseline.len(), "{} pages one by one, {} read ahead", serial.len(), baseline.len());
    assert_eq!(union(&serial), union(&baseline), "the same records at concurrency 1 and 8");
    // A small xorshift from the seed picks the resume points.
    let mut state = seed | 1;
    for _ in 0..6 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let k = (state % (baseline.len() as u64 - 1)) as usize;
        println!("seed {seed}: resuming after page {}", k + 1);
        assert_resume_after(&fixture, &baseline, k, paging).await;
    }
}

/// A tenant whose app logins fill a 90-day window with enough pages to be
/// read in time slices (about one a day per active user).
async fn busy_logins_fixture(users: usize, seed: u64) -> Fixture {
    let config = SimulatorConfig {
        users,
        seed,
        rate_limit_per_hour: None,
        app_logins_per_user_per_day: 1.0,
        ..Default::default()
    };
    Fixture::with_config(config).await
}

/// Whether a cursor stands within the time slices of an events window.
fn within_slices(cursor: &str) -> bool {
    use base64::Engine as _;
    let body = cursor.split_once('.').map_or(cursor, |(body, _)| body);
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).expect("a cursor's body");
    let wire: Value = serde_json::from_slice(&json).expect("a cursor's JSON");
    wire.get("lanes").and_then(Value::as_array).is_some_and(|lanes| !lanes.is_empty())
}

#[tokio::test(flavor = "multi_thread")]
async fn resuming_within_the_time_slices_loses_and_repeats_nothing() {
    let fixture = busy_logins_fixture(120, 13).await;
    // max-items 0: a page a step, so the slices' steps end pages too.
    for kinds in [&["app_logins"][..], &["events"][..]] {
        let paging = Paging { max_items: 0, concurrency: 8, kinds };
        let baseline = pages_from(&fixture, None, paging).await;
        let within: Vec<usize> =
            (0..baseline.len() - 1).filter(|k| baseline[*k].1.as_deref().is_some_and(within_slices)).collect();
        println!("{kinds:?}: {} pages, {} of them end within the slices", baseline.len(), within.len());
        assert!(within.len() > 3, "the window is read in slices over several steps: {within:?}");
        // The first step of the slices, one in the middle, the last.
        for k in [within[0], within[within.len() / 2], within[within.len() - 1]] {
            assert_resume_after(&fixture, &baseline, k, paging).await;
        }
        if kinds == ["app_logins"] {
            // Past the slices, a fresh instance reads the app logins again for
            // the users' grants: the same window, in the same slices.
            let after = within[within.len() - 1] + 1;
            assert!(after + 1 < baseline.len(), "the users phase follows");
            let until_ms = fixture.sim.event_windows()[0].1;
            fixture.sim.reset_counts();
            let before = fixture.harness.request_log().counts();
            assert_resume_after(&fixture, &baseline, after, paging).await;
            let spent = counts_since(&before, &fixture.harness.request_log().counts());
            let windows = fixture.sim.event_windows();
            assert!(windows.len() > 2 && windows[0].1 == until_ms, "read again in slices: {windows:?}");
            let calls = bench::app_login_pages(&fixture.sim.tenant(), until_ms, 8);
            assert_eq!(spent.get("GET /api/1/events"), Some(&calls), "{spent:?}");
        }
    }
}

/// The last login on each user-to-application grant.
fn grant_logins(output: &SyncOutput) -> BTreeMap<(String, String), Value> {
    rels(output, "ASSIGNED", "onelogin_user:", "onelogin_application:")
        .into_iter()
        .map(|r| ((r.from_key.clone(), r.to_key.clone()), props(&r.properties)["last_login"].clone()))
        .collect()
}

/// The last login per (user key, application key) among the tenant's app
/// logins in the window `(since_ms, until_ms)`.
fn logins_in(tenant: &Tenant, (since_ms, until_ms): (i64, i64)) -> BTreeMap<(String, String), String> {
    let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
    for event in tenant.all_events_between(since_ms, until_ms) {
        let (Some(user), Some(app), 8) = (event.user_id, event.app_id, event.event_type_id) else { continue };
        let at = host_test::simulator::tenant::iso_millis(event.created_at_ms);
        let entry = last.entry((format!("onelogin_user:{user}"), format!("onelogin_application:{app}"))).or_default();
        if at > *entry {
            *entry = at;
        }
    }
    last
}

#[tokio::test(flavor = "multi_thread")]
async fn app_logins_read_in_slices_give_the_same_last_logins_as_one_chain() {
    let fixture = busy_logins_fixture(150, 21).await;
    let tenant = fixture.sim.tenant();
    let sync = |concurrency| SyncOptions {
        max_items: PAGE,
        kinds: vec!["app_logins".into()],
        concurrency,
        ..Default::default()
    };
    let serial = fixture.sync_with(&sync(1)).await.expect("sync at concurrency 1");
    let serial_windows = fixture.sim.event_windows();
    assert_eq!(serial_windows.len(), 1, "one chain of pages over one window: {serial_windows:?}");
    fixture.sim.reset_counts();
    let sliced = fixture.sync_with(&sync(8)).await.expect("sync at concurrency 8");
    let sliced_windows = fixture.sim.event_windows();
    assert!(sliced_windows.len() > 2, "the window and its slices: {sliced_windows:?}");
    assert!(read_to_the_end(&serial.report) && read_to_the_end(&sliced.report), "{:?}", sliced.report);

    // Each sync's grants carry the last login of its own window, by the tenant.
    let whole = sliced_windows.iter().copied().min_by_key(|&(since, until)| (since, -until)).expect("a window");
    for (output, window) in [(&serial, serial_windows[0]), (&sliced, whole)] {
        let truth = logins_in(&tenant, window);
        for (pair, login) in grant_logins(output) {
            assert_eq!(login.as_str(), truth.get(&pair).map(String::as_str), "{pair:?} in {window:?}");
        }
    }
    let logins = grant_logins(&sliced);
    let with_login = logins.values().filter(|login| login.is_string()).count();
    assert!(with_login > logins.len() / 2, "{with_login} of {} grants have a login", logins.len());
    assert_eq!(logins, grant_logins(&serial), "the same last logins, sliced or in one chain");
}

#[tokio::test(flavor = "multi_thread")]
async fn golden_sync_output_for_a_small_tenant() {
    // OneLogin JSON in (the simulator's seed-5 tenant), entities out.
    // Regenerate with BLESS=1 after a deliberate mapping change.
    // Events are left out: the simulator dates them relative to the real clock.
    // Personal apps are listed (off by default, FIDELITY.md F-APP-16) so their
    // mapping is pinned too.
    let fixture = Fixture::with_config(SimulatorConfig { personal_apps: true, ..common::test_config(12, 5) }).await;
    let kinds =
        ["groups", "roles", "apps", "app_rules", "privileges", "users", "user_apps", "mfa_devices", "aws_iam_roles"];
    let options = SyncOptions { kinds: kinds.iter().map(|k| k.to_string()).collect(), ..SyncOptions::default() };
    let output = fixture.sync_with(&options).await.expect("sync");
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
    fixture.sim.inject(Fault::on("/api/1/groups", FaultKind::ServerError(503), 1));
    fixture.sim.inject(Fault::on("/api/2/roles", FaultKind::DropConnection, 1));
    let output = fixture.full_sync(PAGE).await.expect("sync despite faults");
    assert_eq!(output.entities_by_type()["onelogin_user"], 60);
    let counts = fixture.harness.request_log().counts();
    assert_eq!(
        counts["GET /api/1/groups"],
        pages(fixture.sim.tenant().groups.len(), limits::V1_GROUPS) + 1,
        "one retry"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_become_typed_retryable_errors() {
    // With `X-RateLimit-Reset: 30` the hint is the reset; a v2 429 without
    // any header is backed off from 1 s (jittered, so 1 or 2 s).
    for (with_headers, seconds) in [(true, 30..=30), (false, 1..=2)] {
        let fixture = Fixture::new(10, 1).await;
        // The first call returns what it read before the 429 (no wait budget);
        // the next call, starting at the roles, gets the typed error.
        fixture.sim.inject(Fault::on("/api/2/roles", FaultKind::RateLimited { with_headers }, 2));
        let error = fixture.full_sync(PAGE).await.expect_err("rate limited");
        match error.kind {
            ErrorKind::RateLimited(s) => assert!(seconds.contains(&s), "{s} s: {}", error.message),
            other => panic!("{other:?}: {}", error.message),
        }
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
    // The first call keeps what it read before the groups; the second fails.
    assert_eq!(fixture.harness.request_log().counts()["GET /api/1/groups"], 6, "2 calls x (1 try + 2 retries)");
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
    assert!(sync_all(&mut instance, &SyncOptions { max_items: 10, ..SyncOptions::default() }, |_| {})
        .await
        .unwrap()
        .is_err());
}

/// Request counts of `after` minus `before`, per endpoint template.
fn counts_since(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after.iter().map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incremental_sync_returns_only_what_changed_and_a_new_checkpoint() {
    let fixture = Fixture::new(80, 6).await;
    let full = fixture.full_sync(PAGE).await.expect("full sync");
    let checkpoint = full.checkpoint.clone().expect("a complete sync returns a checkpoint");
    let users_in_full = full.entities_by_type()["onelogin_user"];
    assert_eq!(users_in_full, 80);

    let changed = fixture.sim.tenant().users[3].id;
    let (mut instance, _) = fixture.manage().await;
    let patch = AccountPatch {
        principal: format!("onelogin_user:{changed}"),
        attributes: json!({"title": "Chief Tester"}).to_string(),
    };
    instance.provision(Action::UpdateAccount(patch)).await.unwrap().expect("update");

    let before = fixture.harness.request_log().counts();
    let options = SyncOptions { checkpoint: Some(checkpoint), max_items: PAGE, ..SyncOptions::default() };
    let incremental = fixture.sync_with(&options).await.expect("incremental sync");
    let spent = counts_since(&before, &fixture.harness.request_log().counts());
    println!("incremental sync requests: {spent:#?}");

    let users: Vec<&Entity> = incremental.entities.iter().filter(|e| e.entity_type == "onelogin_user").collect();

    assert_eq!(users.len(), 1, "only the changed user: {:?}", users.iter().map(|u| &u.key).collect::<Vec<_>>());
    let properties: Value = serde_json::from_str(&users[0].properties).unwrap();
    assert_eq!(
        (users[0].key.clone(), properties["title"].clone()),
        (format!("onelogin_user:{changed}"), json!("Chief Tester"))
    );
    // Per-user kinds cost one call for the changed user, not one per user.
    assert_eq!(spent.get("GET /api/2/users/{id}/apps"), Some(&1));
    assert_eq!(spent.get("GET /api/2/mfa/users/{id}/devices"), Some(&1));
    assert!(incremental.checkpoint.is_some(), "an incremental sync returns the next checkpoint");
    assert!(incremental.report.iter().all(|r| !matches!(r.status, KindStatus::Failed(_))), "{:?}", incremental.report);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incremental_sync_with_events_refreshes_users_that_changed_without_an_update() {
    // Removing an MFA device logs an event naming the user but leaves its
    // `updated_at` alone (FIDELITY.md F-UW-24 assumes every user write bumps
    // it; a device removal is not a user write): only the events show it.
    let fixture = Fixture::new(40, 12).await;
    let kinds: Vec<String> = ["users", "mfa_devices", "events"].iter().map(|k| k.to_string()).collect();
    let options = SyncOptions { kinds: kinds.clone(), max_items: PAGE, ..SyncOptions::default() };
    let full = fixture.sync_with(&options).await.expect("full sync");
    let checkpoint = full.checkpoint.clone().expect("a checkpoint");
    let tenant = fixture.sim.tenant();
    let owner = tenant.users.iter().find(|u| u.mfa_devices.iter().any(|d| d.active)).expect("a user with a device");
    let device = owner.mfa_devices.iter().find(|d| d.active).unwrap().device_id.clone();
    let (mut instance, _) = fixture.manage().await;
    let params = json!({"principal": format!("onelogin_user:{}", owner.id), "device_id": device}).to_string();
    let remove = Action::Custom(CustomAction { name: "remove_mfa_device".into(), params });
    assert!(instance.provision(remove).await.unwrap().expect("removed").changed);
    assert_eq!(fixture.sim.tenant().user(owner.id).unwrap().updated_at, owner.updated_at, "no user update");
    // The event window ends at the `Date` of the sync's start, in whole
    // seconds: let it pass the second the removal happened in.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let incremental = SyncOptions { kinds, checkpoint: Some(checkpoint), max_items: PAGE, ..SyncOptions::default() };
    let output = fixture.sync_with(&incremental).await.expect("incremental sync");
    let owner_key = format!("onelogin_user:{}", owner.id);
    assert!(output.entities.iter().any(|e| e.key == owner_key), "the user the event names is refreshed");
    let devices: BTreeSet<&str> = output
        .relationships
        .iter()
        .filter(|r| r.from_key == owner_key && r.to_key.starts_with("mfa_device:"))
        .map(|r| r.to_key.as_str())
        .collect();
    assert!(!devices.contains(format!("mfa_device:{device}").as_str()), "{devices:?}");
    let left = owner.mfa_devices.iter().filter(|d| d.device_id != device).count();
    assert_eq!(devices.len(), left, "the devices the user still has: {devices:?}");
    assert!(output.report.iter().all(|r| !matches!(r.status, KindStatus::Failed(_))), "{:?}", output.report);
}

#[tokio::test(flavor = "multi_thread")]
async fn tombstones_from_two_full_syncs_name_exactly_what_was_deleted() {
    let fixture = Fixture::new(60, 9).await;
    let before = fixture.full_sync(PAGE).await.expect("first full sync");
    let tenant = fixture.sim.tenant();
    let deleted = tenant.users[5].id;
    // A user whose access to an app is direct only: taking it away is a suspension.
    let (holder, app) = tenant
        .users
        .iter()
        .filter(|u| u.id != deleted)
        .find_map(|u| tenant.user_apps(u.id).into_iter().find(|a| a.via_role_ids.is_empty()).map(|a| (u.id, a.app_id)))
        .expect("a direct-only assignment");
    fixture.sim.update_tenant(|t| {
        t.delete_user(deleted);
        t.user_mut(holder).unwrap().direct_apps.retain(|a| *a != app);
    });
    let after = fixture.full_sync(PAGE).await.expect("second full sync");

    let tombstones = diff::tombstones(&before, &after).expect("two full syncs compare");
    let deleted_key = format!("onelogin_user:{deleted}");
    let access = (format!("onelogin_user:{holder}"), format!("onelogin_application:{app}"));
    let mut saw_user = false;
    let mut saw_access = false;
    for tombstone in &tombstones {
        match tombstone {
            Tombstone::EntityTombstone { key, status, .. } => {
                assert_eq!((key, *status), (&deleted_key, TombstoneStatus::Deprovisioned));
                saw_user = true;
            }
            Tombstone::RelationshipTombstone { from_key, to_key, status, .. } => {
                if (from_key.clone(), to_key.clone()) == access {
                    assert_eq!(*status, TombstoneStatus::Suspended, "a lost assignment is suspended");
                    saw_access = true;
                } else {
                    assert!(from_key == &deleted_key || to_key == &deleted_key, "unexpected {tombstone:?}");
                }
            }
        }
    }
    assert!(saw_user && saw_access, "{tombstones:#?}");

    // An incremental output is refused: it never shows deletions.
    let options = SyncOptions { checkpoint: after.checkpoint.clone(), max_items: PAGE, ..SyncOptions::default() };
    let incremental = fixture.sync_with(&options).await.expect("incremental");
    assert!(diff::tombstones(&after, &incremental).is_err());
}

/// v1 calls in `counts` (the ones on the account's hourly budget).
fn v1_calls(counts: &BTreeMap<String, u64>) -> u64 {
    counts.iter().filter(|(endpoint, _)| endpoint.contains(" /api/1/")).map(|(_, n)| n).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spent_rate_budget_stops_the_sync_with_the_wait_and_without_hammering() {
    let config = SimulatorConfig { users: 120, seed: 4, rate_limit_per_hour: Some(5), ..Default::default() };
    let fixture = Fixture::with_config(config).await;
    let (mut instance, _) = fixture.manage().await;
    // Groups and privileges are v1 reads: 1 + (1 + 2 per privilege) calls, over the budget of 5.
    let kinds = vec!["groups".to_string(), "privileges".to_string()];
    let options = SyncOptions { kinds, max_items: 1, max_wait_ms: 0, ..SyncOptions::default() };
    let mut pages = 0;
    let error = sync_all(&mut instance, &options, |_| pages += 1).await.unwrap().expect_err("rate limited");
    match error.kind {
        ErrorKind::RateLimited(seconds) => assert!(seconds > 60, "waits for the window to reset: {seconds} s"),
        other => panic!("expected rate-limited, got {other:?}: {}", error.message),
    }
    assert!(error.retryable);
    assert!(pages > 0, "the pages read before the budget ran out were returned");
    // The component saw `X-RateLimit-Remaining: 0` and sent nothing more to v1:
    // exactly the 5 budgeted calls.
    assert_eq!(v1_calls(&fixture.sim.request_counts()), 5, "{:?}", fixture.sim.request_counts());
}

/// The v1 budget and v2 are separate (FIDELITY.md F-RATE-2): once a v1
/// response says `Remaining: 0`, v1 reads wait for the window, and v2 reads
/// go on in the same instance.
#[tokio::test(flavor = "multi_thread")]
async fn a_spent_v1_budget_never_blocks_v2_reads() {
    let config = SimulatorConfig { users: 60, seed: 4, rate_limit_per_hour: Some(1), ..Default::default() };
    let fixture = Fixture::with_config(config).await;
    let (mut instance, _) = fixture.manage().await;
    let only = |kinds: &[&str]| SyncOptions {
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        max_items: PAGE,
        ..SyncOptions::default()
    };
    // One v1 call spends the budget of 1 (its response says Remaining: 0).
    let groups = sync_all(&mut instance, &only(&["groups"]), |_| {}).await.unwrap().expect("groups");
    assert_eq!(groups.entities_by_type()["onelogin_group"], fixture.sim.tenant().groups.len() as u64);
    let v2 = only(&["roles", "apps", "users", "user_apps"]);
    let output = sync_all(&mut instance, &v2, |_| {}).await.unwrap().expect("v2 reads are not held back");
    for report in output.report.iter().filter(|r| v2.kinds.contains(&r.kind)) {
        assert_eq!(report.status, KindStatus::Complete, "{}", report.kind);
    }
    assert_eq!(output.entities_by_type()["onelogin_user"], 60);
    let counts = fixture.sim.request_counts();
    assert_eq!(v1_calls(&counts), 1, "{counts:?}");
    // A v1 read now waits for the window (no wait budget: a typed error), sending nothing.
    let error = sync_all(&mut instance, &only(&["groups"]), |_| {}).await.unwrap().expect_err("v1 budget spent");
    assert!(matches!(error.kind, ErrorKind::RateLimited(s) if s > 60), "{error:?}");
    assert_eq!(v1_calls(&fixture.sim.request_counts()), 1, "nothing was sent into the spent budget");
}

/// v2 answers load with 429 (with or without `Retry-After`) or 502
/// (FIDELITY.md F-RATE-10, F-RATE-11): the connector backs off and retries,
/// and the sync's records are the same as without throttling.
#[tokio::test(flavor = "multi_thread")]
async fn v2_throttling_is_backed_off_and_changes_no_record() {
    let config = SimulatorConfig {
        users: 30,
        seed: 5,
        rate_limit_per_hour: None,
        // Long enough that a wave's requests overlap at the simulator.
        latency: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let fixture = Fixture::with_config(config).await;
    let options = SyncOptions { max_items: PAGE, max_wait_ms: 60_000, concurrency: 8, ..SyncOptions::default() };
    let baseline = fixture.sync_with(&options).await.expect("unthrottled sync");
    assert!(fixture.sim.v2_peak_in_flight() > 2, "peak {} in flight", fixture.sim.v2_peak_in_flight());
    let expected = records(&baseline.entities, &baseline.relationships);
    let in_flight = |refusal| V2Throttle { max_in_flight: Some(2), refusal, ..V2Throttle::default() };
    let too_fast = V2Throttle {
        per_second: Some(TokenBucket { rate: 40.0, burst: 4 }),
        refusal: Refusal::TooManyRequestsRetryAfter,
        ..V2Throttle::default()
    };
    let throttles = [
        in_flight(Refusal::TooManyRequests),
        in_flight(Refusal::TooManyRequestsRetryAfter),
        in_flight(Refusal::BadGateway),
        too_fast,
    ];
    for throttle in throttles {
        let refused_before = fixture.sim.v2_refused();
        fixture.sim.set_v2_throttle(throttle);
        let output = fixture.sync_with(&options).await.unwrap_or_else(|e| panic!("{throttle:?}: {e:?}"));
        fixture.sim.set_v2_throttle(V2Throttle::default());
        assert!(fixture.sim.v2_refused() > refused_before, "{throttle:?} refused nothing");
        assert!(read_to_the_end(&output.report), "{throttle:?}: {:?}", output.report);
        assert!(records(&output.entities, &output.relationships) == expected, "{throttle:?} changed the records");
    }
}

/// Read All credentials: the kinds OneLogin's docs reserve for Manage All
/// (app rules, MFA devices, privileges, and AWS roles read from app rules)
/// are skipped without a call, with a reason naming Manage All; the rest
/// complete.
#[tokio::test(flavor = "multi_thread")]
async fn read_all_credentials_skip_the_manage_all_kinds_without_a_call_and_read_the_rest() {
    let fixture = Fixture::new(60, 3).await;
    let tenant = fixture.sim.tenant();
    let (mut instance, info) = fixture.configured(&fixture.sim.read_credentials()).await;
    assert_eq!(info.access_level, AccessLevel::Read);
    let configured = fixture.sim.request_counts();
    let options = SyncOptions { max_items: PAGE, ..SyncOptions::default() };
    let output = sync_all(&mut instance, &options, |_| {}).await.unwrap().expect("sync");
    let status = |kind: &str| output.report.iter().find(|r| r.kind == kind).map(|r| r.status.clone()).unwrap();
    for kind in ["app_rules", "mfa_devices", "privileges", "aws_iam_roles"] {
        match status(kind) {
            KindStatus::Skipped(reason) => assert!(reason.contains("Manage All"), "{kind}: {reason}"),
            other => panic!("{kind}: {other:?}"),
        }
    }
    for kind in ["users", "groups", "roles", "apps", "user_apps"] {
        assert_eq!(status(kind), KindStatus::Complete, "{kind}");
    }
    let spent = counts_since(&configured, &fixture.sim.request_counts());
    for endpoint in spent.keys() {
        let manage_only = ["/rules", "/mfa/", "/privileges"].iter().any(|p| endpoint.contains(p));
        assert!(!manage_only, "{endpoint} was called: {spent:?}");
    }
    let types = output.entities_by_type();
    assert_eq!(types["onelogin_user"], tenant.users.len() as u64);
    for absent in ["onelogin_application_rule", "mfa_device", "onelogin_privilege"] {
        assert!(!types.contains_key(absent), "{absent}: {types:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_roles_alone_cost_no_per_user_calls_and_still_match_the_ground_truth() {
    let fixture = Fixture::new(150, 8).await;
    let tenant = fixture.sim.tenant();
    let options = SyncOptions { kinds: vec!["aws_iam_roles".into()], max_items: PAGE, ..SyncOptions::default() };
    let output = fixture.sync_with(&options).await.expect("sync");
    let counts = fixture.harness.request_log().counts();
    assert!(!counts.contains_key("GET /api/2/users/{id}/apps"), "access comes from app users: {counts:?}");
    let mut granted = 0;
    for user in &tenant.users {
        let user_key = format!("onelogin_user:{}", user.id);
        let certain = determined_arns(&aws_grants(&output, &user_key));
        assert_eq!(certain, tenant.aws_roles(user.id).certain, "{user_key}");
        granted += certain.len();
    }
    assert!(granted > 0);
}

/// The other answer to "do list items carry `role_ids`?" (FIDELITY.md
/// F-USER-2): never, even when `fields` asks. Membership comes from each
/// role's member list instead, so member grants and `has_role` rules are
/// still right; custom attributes are missing, so rules that test them are
/// undetermined (never decided "no").
#[tokio::test(flavor = "multi_thread")]
async fn without_role_ids_in_the_users_list_membership_is_read_per_role_and_nothing_is_decided_wrongly() {
    let config = SimulatorConfig {
        users: 120,
        seed: 7,
        rate_limit_per_hour: None,
        list_role_ids: ListRoleIds::Never,
        ..Default::default()
    };
    let fixture = Fixture::with_config(config).await;
    let tenant = fixture.sim.tenant();
    let output = fixture.full_sync(PAGE).await.expect("sync");
    let members: BTreeSet<(String, String)> = rels(&output, "ASSIGNED", "onelogin_user:", "onelogin_role:")
        .into_iter()
        .filter(|r| props(&r.properties)["permission"] == "member")
        .map(|r| (r.from_key.clone(), r.to_key.clone()))
        .collect();
    assert_eq!(members, role_member_pairs(&tenant));
    let counts = fixture.sim.request_counts();
    let role_user_reads = counts.get("GET /api/2/roles/{id}/users").copied().unwrap_or(0);
    assert!(role_user_reads >= tenant.roles.len() as u64, "one member read per role: {counts:?}");
    let mut decided_by_role = 0;
    for user in &tenant.users {
        let user_key = format!("onelogin_user:{}", user.id);
        let truth = tenant.aws_roles(user.id);
        let aws = aws_grants(&output, &user_key);
        let certain = determined_arns(&aws);
        let seen: BTreeSet<String> = aws.iter().map(|r| arn(&r.to_key)).collect();
        assert!(certain.is_subset(&truth.certain), "{user_key}: {certain:?} not all in {:?}", truth.certain);
        assert!(truth.certain.is_subset(&seen), "{user_key}: an AWS role decided no: {:?} vs {seen:?}", truth.certain);
        decided_by_role += certain.iter().filter(|a| a.contains(":role/recorded/")).count();
    }
    assert!(decided_by_role > 0, "the recorded rule (email ew, has_role ri) is decided from per-role membership");

    // The sync says so, once, with the counts; and once again when every
    // page runs in a fresh instance (each reads the member lists again).
    let said: Vec<&String> = output.notes.iter().filter(|n| n.starts_with("roles: ")).collect();
    assert_eq!(said.len(), 1, "{:?}", output.notes);
    let roles = tenant.roles.len();
    assert!(said[0].contains("without role_ids") && said[0].contains(&format!(": {roles} roles, ")), "{}", said[0]);
    assert!(output.pages > 1, "notes kept to one over {} pages", output.pages);
    assert_eq!(notes_resuming_every_page(&fixture).await, output.notes);
}

/// A sync's notes when every page runs in a fresh instance.
async fn notes_resuming_every_page(fixture: &Fixture) -> Vec<String> {
    let mut notes = Vec::new();
    let mut cursor = None;
    loop {
        let (mut instance, _) = fixture.manage().await;
        let request = SyncOptions { max_items: PAGE, ..Default::default() }.request(cursor);
        let page = instance.sync_page(request).await.unwrap().expect("page");
        notes.extend(page.notes);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return notes,
        }
    }
}

/// The rotation of incremental syncs (`src/sync/rotation.rs`): K, as `describe` states it.
const ROTATION_RUNS: usize = 12;

#[tokio::test(flavor = "multi_thread")]
async fn every_bulk_change_is_seen_within_the_rotation_of_incremental_syncs() {
    let fixture = Fixture::new(120, 11).await;
    let (mut instance, _) = fixture.manage().await;
    let described = instance.describe().await.expect("describe");
    let roles_kind = described.sync_kinds.iter().find(|k| k.name == "roles").expect("a roles kind");
    assert!(roles_kind.cost.contains(&format!("every {ROTATION_RUNS} incremental syncs")), "{}", roles_kind.cost);
    let full = fixture.full_sync(PAGE).await.expect("full sync");
    let tenant = fixture.sim.tenant();

    // A new admin of a role, a new (disabled) rule in an app, a privilege given to one more user.
    let role = tenant.roles[1].id;
    let admin = tenant.users.iter().map(|u| u.id).find(|u| !tenant.roles[1].admins.contains(u)).unwrap();
    let app = tenant.apps[2].id;
    let mut rule = tenant.rules[0].clone();
    rule.id = 99_000_001;
    rule.app_id = app;
    rule.enabled = false;
    let privilege = tenant.privileges[0].id.clone();
    let holder = tenant.users.iter().map(|u| u.id).find(|u| !tenant.privileges[0].users.contains(u)).unwrap();
    fixture.sim.update_tenant(|t| {
        t.roles.iter_mut().find(|r| r.id == role).unwrap().admins.push(admin);
        t.rules.push(rule.clone());
        let p = t.privileges.iter_mut().find(|p| p.id == privilege).unwrap();
        p.users.push(holder);
        p.users.sort_unstable();
    });
    let admin_grant = (format!("onelogin_user:{admin}"), format!("onelogin_role:{role}"));
    let rule_key = format!("onelogin_application_rule:{}", rule.id);
    let privilege_grant = (format!("onelogin_user:{holder}"), format!("onelogin_privilege:{privilege}"));

    let mut checkpoint = full.checkpoint.clone();
    let mut seen_in: [Vec<usize>; 3] = Default::default();
    let mut admin_calls = 0;
    for run in 1..=ROTATION_RUNS {
        let before = fixture.harness.request_log().counts();
        let options = SyncOptions { checkpoint: checkpoint.clone(), max_items: PAGE, ..SyncOptions::default() };
        let output = fixture.sync_with(&options).await.expect("incremental sync");
        let spent = counts_since(&before, &fixture.harness.request_log().counts());
        admin_calls += spent.get("GET /api/2/roles/{id}/admins").copied().unwrap_or(0);
        assert!(read_to_the_end(&output.report), "{:?}", output.report);
        let admins = key_pairs(&rels(&output, "ASSIGNED", "onelogin_user:", "onelogin_role:"));
        if admins.contains(&admin_grant) {
            seen_in[0].push(run);
        }
        if output.entities.iter().any(|e| e.key == rule_key) {
            seen_in[1].push(run);
        }
        if key_pairs(&rels(&output, "ASSIGNED", "onelogin_user:", "onelogin_privilege:")).contains(&privilege_grant) {
            seen_in[2].push(run);
        }
        checkpoint = output.checkpoint.clone();
        assert!(checkpoint.is_some(), "run {run} returned a checkpoint");
    }
    // Each change was seen exactly once in K runs, and each role's admins read once.
    assert!(seen_in.iter().all(|runs| runs.len() == 1), "runs that saw each change: {seen_in:?}");
    assert_eq!(admin_calls, tenant.roles.len() as u64, "every role's admins read once over {ROTATION_RUNS} runs");
}

/// User-to-app grants as (user, app, via, via_roles).
fn app_grants(output: &SyncOutput) -> BTreeSet<(String, String, String, String)> {
    rels(output, "ASSIGNED", "onelogin_user:", "onelogin_application:")
        .into_iter()
        .map(|r| {
            let p = props(&r.properties);
            (r.from_key.clone(), r.to_key.clone(), p["via"].to_string(), p["via_roles"].to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn access_read_per_app_gives_the_same_grants_as_per_user_reads() {
    let fixture = Fixture::new(400, 12).await;
    let tenant = fixture.sim.tenant();
    let users = tenant.users.len() as u64;
    assert!(
        tenant.apps.len() * 2 <= tenant.users.len(),
        "{} apps: per-app reads are surely cheaper",
        tenant.apps.len()
    );
    // One app with provisioning: its state is wanted, so access is read per user.
    let kept = tenant.apps[0].id;
    fixture.sim.update_tenant(|t| t.apps.iter_mut().for_each(|a| a.provisioning_enabled = a.id == kept));
    let before = fixture.harness.request_log().counts();
    let per_user = fixture.full_sync(PAGE).await.expect("sync reading per user");
    let spent = counts_since(&before, &fixture.harness.request_log().counts());
    assert_eq!(spent.get("GET /api/2/users/{id}/apps"), Some(&users), "{spent:?}");
    // The plan and the counts behind it are in the sync's notes, once.
    let apps = tenant.apps.len();
    let counts =
        format!("{users} users, {apps} applications: per-user plan {users} calls, per-application plan at most {apps}");
    assert_eq!(
        per_user.notes,
        [format!(
            "user_apps: access read per user (GET /api/2/users/{{id}}/apps); {counts}; some application has \
             provisioning, whose state only the per-user read gives"
        )]
    );

    // No app with provisioning: one call per 1000 users of each app instead.
    fixture.sim.update_tenant(|t| t.apps.iter_mut().for_each(|a| a.provisioning_enabled = false));
    let before = fixture.harness.request_log().counts();
    let per_app = fixture.full_sync(PAGE).await.expect("sync reading per app");
    let spent = counts_since(&before, &fixture.harness.request_log().counts());
    assert_eq!(spent.get("GET /api/2/users/{id}/apps"), None, "{spent:?}");
    let app_users_calls: u64 =
        tenant.apps.iter().map(|a| pages(tenant.app_user_ids(a.id).len(), limits::APP_USERS)).sum();
    assert_eq!(spent.get("GET /api/2/apps/{id}/users"), Some(&app_users_calls), "also who reaches AWS apps: {spent:?}");
    assert!(read_to_the_end(&per_app.report), "{:?}", per_app.report);
    assert_eq!(
        per_app.notes,
        [format!(
            "user_apps: access read per application (GET /api/2/apps/{{id}}/users); {counts}; no application has \
             provisioning, and per application costs at most half"
        )]
    );
    assert!(per_app.pages > 1 && per_user.pages > 1, "one note over several pages");

    let grants = app_grants(&per_user);
    assert!(grants.len() as u64 > users, "{} grants", grants.len());
    assert_eq!(app_grants(&per_app), grants, "the same grants, through the same roles");
    let aws = |output: &SyncOutput| key_pairs(&rels(output, "ASSIGNED", "onelogin_user:", "aws_iam_role:arn:"));
    assert!(!aws(&per_user).is_empty());
    assert_eq!(aws(&per_app), aws(&per_user), "the same AWS roles");
    for grant in rels(&per_app, "ASSIGNED", "onelogin_user:", "onelogin_application:") {
        let p = props(&grant.properties);
        assert_eq!(
            (p["provisioning_state"].as_str(), p["provisioning_enabled"].as_bool()),
            (Some("unknown"), Some(false))
        );
    }
}

/// Everything a sync emits, with each record's properties parsed.
fn emitted(output: &SyncOutput) -> BTreeMap<String, Value> {
    let entities = output.entities.iter().map(|e| (format!("E {}", e.key), props(&e.properties)));
    let relationships = output.relationships.iter().map(|r| {
        (
            format!("R {} {} {} {}", r.class, r.from_key, r.to_key, props(&r.properties)["permission"]),
            props(&r.properties),
        )
    });
    entities.chain(relationships).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn field_variance_changes_nothing_a_sync_emits() {
    // The same tenant served in the documented shape and in every shape the
    // evidence reports (string ids, member_of arrays, 0001-01-01 dates, nulls
    // left out, string manager_ad_id): the output is the same, one type per
    // property.
    let documented = Fixture::new(90, 12).await;
    let varied =
        Fixture::with_config(SimulatorConfig { field_variance: FieldVariance::Varied, ..common::test_config(90, 12) })
            .await;
    let a = emitted(&documented.full_sync(PAGE).await.expect("documented sync"));
    let varied_output = varied.full_sync(PAGE).await.expect("varied sync");
    let mut b = emitted(&varied_output);
    let tenant = varied.sim.tenant();
    // Users the varied tenant has without an email (or without email and
    // username): null there, never "", and their AWS roles follow the
    // simulator's rules (a condition on the missing value is undetermined).
    let plain = documented.sim.tenant();
    let mut without = BTreeSet::new();
    let (mut no_email, mut neither) = (0, 0);
    for (user, original) in tenant.users.iter().zip(&plain.users) {
        if user.email == original.email && user.username == original.username {
            continue;
        }
        let key = format!("onelogin_user:{}", user.id);
        let p = b.get_mut(&format!("E {key}")).expect("every user");
        assert_eq!(p["email"], Value::Null, "{key}");
        assert_eq!(p["employee_email"], Value::Null, "{key}");
        no_email += 1;
        if user.username.is_empty() {
            assert_eq!(p["username"], Value::Null, "{key}");
            neither += 1;
        }
        assert!(p["name"].as_str().is_some_and(|n| !n.is_empty()), "{key}: {}", p["name"]);
        let truth = tenant.aws_roles(user.id);
        assert_eq!(determined_arns(&aws_grants(&varied_output, &key)), truth.certain, "{key} AWS roles");
        // The rest of the user is as documented.
        for name in ["email", "employee_email", "username"] {
            p[name] = a[&format!("E {key}")][name].clone();
        }
        without.insert(key);
    }
    assert!(no_email > 0 && neither > 0, "{no_email} users without an email, {neither} without either");
    let aws_of_changed = |key: &str| {
        key.starts_with("R ") && key.contains("aws_iam_role:") && without.iter().any(|u| key.contains(&format!("{u} ")))
    };
    let a: BTreeMap<String, Value> = a.into_iter().filter(|(k, _)| !aws_of_changed(k)).collect();
    b.retain(|k, _| !aws_of_changed(k));
    let mut manager_ad_ids = 0;
    for user in &tenant.users {
        let p = b.get_mut(&format!("E onelogin_user:{}", user.id)).expect("every user");
        // The documented tenant has no manager_ad_id; the varied one sends it as text.
        if let Some(ad_id) = p.as_object_mut().and_then(|p| p.insert("manager_ad_id".into(), Value::Null)) {
            assert!(ad_id.is_string() || ad_id.is_null(), "{ad_id}");
            manager_ad_ids += usize::from(ad_id.is_string());
        }
    }
    assert!(manager_ad_ids > 0, "some varied user has a manager_ad_id");
    assert_eq!(a.len(), b.len());
    for (key, value) in &a {
        assert_eq!(Some(value), b.get(key), "{key}");
    }
    let members_of = a.values().filter(|p| p["member_of"].is_array()).count();
    assert!(members_of > 0, "member_of comes out as an array");
    assert!(a.values().all(|p| !p["last_login"].as_str().is_some_and(|d| d.starts_with("0001"))));
}

/// When the admin who created the API credential is deleted, OneLogin's token
/// endpoint answers 500 (docs generate-tokens v2). `configure` and a sync in
/// progress (whose next call needs a new token) both end in a typed,
/// non-retryable credential error, after two more token attempts.
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_credential_owner_is_a_credential_error_in_configure_and_sync() {
    let fixture = Fixture::new(40, 41).await;
    let (mut instance, _) = fixture.manage().await;
    let options = SyncOptions { max_items: 20, ..SyncOptions::default() };
    let first = instance.sync_page(options.request(None)).await.expect("no trap").expect("first page");
    assert!(first.next_cursor.is_some(), "the sync goes on");
    fixture.sim.set_credential_owner_deleted(true);
    fixture.sim.reset_counts();
    let error = instance
        .sync_page(options.request(first.next_cursor.clone()))
        .await
        .expect("no trap")
        .expect_err("owner deleted");
    assert_eq!(error.kind, ErrorKind::AuthenticationFailed, "{}", error.message);
    assert!(!error.retryable, "{}", error.message);
    assert!(error.message.contains("deleted"), "{}", error.message);
    assert_eq!(fixture.sim.request_counts().get("POST /auth/oauth2/v2/token"), Some(&3), "tried three times");

    let mut fresh = fixture.harness.instantiate().await.expect("instantiate");
    let fields = Fixture::fields(&fixture.sim.manage_credentials());
    let error = fresh.configure(&fields).await.expect("no trap").expect_err("owner deleted");
    assert_eq!(error.kind, ErrorKind::AuthenticationFailed, "{}", error.message);
    assert!(!error.retryable);

    // A new owner (restored here): the same instance configures and syncs again.
    fixture.sim.set_credential_owner_deleted(false);
    fresh.configure(&fields).await.expect("no trap").expect("configure");
}
