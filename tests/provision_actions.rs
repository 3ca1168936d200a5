//! Every provisioning action through the real component against the
//! simulator: the tenant's state afterwards, idempotent re-application,
//! plans, lost responses, and one bad-input case per validation rule.

mod common;

use common::{Fixture, LAST_PAGE_ANSWERS};
use host_test::harness::action::parse_action;
use host_test::harness::types::{ActionOutcome, ConnectorError, ErrorKind};
use host_test::harness::ConnectorInstance;
use host_test::harness::{sync_all, SyncOptions};
use host_test::simulator::{Fault, FaultKind, FieldVariance, SimulatorConfig, Tenant};
use serde_json::Value;

async fn try_run(instance: &mut ConnectorInstance, action: &str) -> Result<ActionOutcome, ConnectorError> {
    let action = parse_action(action).unwrap_or_else(|e| panic!("{e}: {action}"));
    instance.provision(action).await.expect("no trap")
}

/// `plan` instead of `provision`.
async fn try_plan(instance: &mut ConnectorInstance, action: &str) -> Result<ActionOutcome, ConnectorError> {
    let action = parse_action(action).unwrap_or_else(|e| panic!("{e}: {action}"));
    instance.plan(action).await.expect("no trap")
}

async fn run(instance: &mut ConnectorInstance, action: &str) -> ActionOutcome {
    try_run(instance, action).await.unwrap_or_else(|e| panic!("{action}: {e:?}"))
}

/// Run twice: the first changes, the second says "no change".
async fn run_idempotent(instance: &mut ConnectorInstance, action: &str) -> ActionOutcome {
    let first = run(instance, action).await;
    assert!(first.changed, "{action}: {}", first.summary);
    let second = run(instance, action).await;
    assert!(!second.changed, "{action} again: {}", second.summary);
    assert!(second.calls.is_empty(), "no write the second time: {:?}", second.calls);
    first
}

fn writes(fixture: &Fixture) -> u64 {
    let counts = fixture.sim.request_counts();
    counts.iter().filter(|(k, _)| !k.starts_with("GET ") && !k.contains("/auth/oauth2/")).map(|(_, n)| n).sum()
}

fn key(id: u64) -> String {
    format!("onelogin_user:{id}")
}

/// An active user with an email.
fn active_user(tenant: &Tenant) -> u64 {
    tenant.users.iter().find(|u| u.status == 1 && u.state == 1 && !u.email.is_empty()).unwrap().id
}

async fn synced_user(fixture: &Fixture, id: u64) -> Option<Value> {
    let (mut instance, _) = fixture.manage().await;
    let output = sync_all(&mut instance, &SyncOptions { max_items: 1000, ..SyncOptions::default() }, |_| {})
        .await
        .unwrap()
        .expect("sync");
    output.entities.iter().find(|e| e.key == key(id)).map(|e| serde_json::from_str(&e.properties).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn account_lifecycle_create_update_suspend_resume_delete() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(40, 31, last_page).await;
        let (mut instance, _) = fixture.manage().await;
        let create = r#"{"create-account":{"email":"new.hire@example.com","firstname":"New","lastname":"Hire",
        "department":"Legal","custom_attributes":{"cost_center":"CC-1"}}}"#;
        let created = run_idempotent(&mut instance, create).await;
        let id: u64 = created.key.as_deref().unwrap().trim_start_matches("onelogin_user:").parse().unwrap();
        let user = fixture.sim.tenant().user(id).cloned().expect("created in the tenant");
        assert_eq!((user.email.as_str(), user.status), ("new.hire@example.com", 7), "no password: status 7");
        assert_eq!(synced_user(&fixture, id).await.unwrap()["custom_attributes.cost_center"], "CC-1");

        let update = format!(
            r#"{{"update-account":{{"principal":"{}","attributes":{{"title":"CTO","department":"Exec"}}}}}}"#,
            key(id)
        );
        let updated = run_idempotent(&mut instance, &update).await;
        assert_eq!(serde_json::from_str::<Value>(updated.before.as_deref().unwrap()).unwrap()["department"], "Legal");
        assert_eq!(serde_json::from_str::<Value>(updated.after.as_deref().unwrap()).unwrap()["title"], "CTO");
        assert_eq!(fixture.sim.tenant().user(id).unwrap().title, "CTO");

        run_idempotent(&mut instance, &format!(r#"{{"suspend-account":"{}"}}"#, key(id))).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().status, 2);
        assert_eq!(synced_user(&fixture, id).await.unwrap()["status_name"], "suspended");
        run_idempotent(&mut instance, &format!(r#"{{"resume-account":"{}"}}"#, key(id))).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().status, 1);

        run_idempotent(&mut instance, &format!(r#"{{"delete-account":"{}"}}"#, key(id))).await;
        assert!(fixture.sim.tenant().user(id).is_none());
        assert!(synced_user(&fixture, id).await.is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_response_was_lost_is_found_not_duplicated() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(20, 32, last_page).await;
        let (mut instance, _) = fixture.manage().await;
        fixture.sim.inject(Fault::on_method("POST", "/api/2/users", FaultKind::CommitThenDrop, 1));
        let before = fixture.sim.tenant().users.len();
        let outcome =
            run(&mut instance, r#"{"create-account":{"username":"lost.response","email":"lost@example.com"}}"#).await;
        assert!(outcome.changed && outcome.key.is_some(), "{}", outcome.summary);
        assert!(outcome.notes.iter().any(|n| n.contains("lost")), "{:?}", outcome.notes);
        assert_eq!(fixture.sim.tenant().users.len(), before + 1, "exactly one user created");
        assert_eq!(fixture.sim.request_counts()["POST /api/2/users"], 1, "no blind retry");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_passwords_and_invite_links() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(30, 33, last_page).await;
        let id = active_user(&fixture.sim.tenant());
        let (mut instance, _) = fixture.manage().await;

        run(&mut instance, &format!(r#"{{"end-sessions":"{}"}}"#, key(id))).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().sessions_ended, 1);

        let password = "Correct-Horse-9-Battery";
        let set = format!(
            r#"{{"set-credential":{{"principal":"{}","password":"{password}","validate_policy":true}}}}"#,
            key(id)
        );
        let outcome = run(&mut instance, &set).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().password_changes, 1);
        assert!(!format!("{outcome:?}").contains(password), "password in the outcome");
        let weak =
            format!(r#"{{"set-credential":{{"principal":"{}","password":"weak","validate_policy":true}}}}"#, key(id));
        let error = try_run(&mut instance, &weak).await.expect_err("policy");
        assert_eq!(error.kind, ErrorKind::InvalidInput("password".into()), "{}", error.message);
        assert!(!error.message.contains("weak"));

        let link = run(&mut instance, &format!(r#"{{"issue-link":{{"principal":"{}","send":false}}}}"#, key(id))).await;
        assert!(link.link.as_deref().is_some_and(|l| l.starts_with("https://")), "{:?}", link.link);
        let sent = run(&mut instance, &format!(r#"{{"issue-link":{{"principal":"{}","send":true}}}}"#, key(id))).await;
        assert!(sent.link.is_none());
        assert_eq!(fixture.sim.tenant().user(id).unwrap().invites_sent, 1);
        for line in fixture.harness.component_log().lines() {
            assert!(!format!("{line:?}").contains(password), "password in the component log");
        }
    }
}

/// `minutes: 0` locks for the user policy's lock period (docs lock-user):
/// the outcome reports the `locked_until` OneLogin set, and a plan says the
/// policy decides. A policy whose period is 0 locks indefinitely.
#[tokio::test(flavor = "multi_thread")]
async fn lock_for_the_policy_period_reports_what_onelogin_set() {
    for policy_minutes in [45, 0] {
        let config = SimulatorConfig { lock_policy_minutes: policy_minutes, ..common::test_config(20, 39) };
        let fixture = Fixture::with_config(config).await;
        let id = active_user(&fixture.sim.tenant());
        let (mut instance, _) = fixture.manage().await;
        let lock = format!(r#"{{"custom":{{"name":"lock_user","params":{{"principal":"{}","minutes":0}}}}}}"#, key(id));
        let plan = try_plan(&mut instance, &lock).await.expect("plan");
        assert!(!plan.changed && plan.summary.contains("lock period of the user's policy"), "{}", plan.summary);
        assert_eq!(fixture.sim.tenant().user(id).unwrap().status, 1, "a plan writes nothing");

        let before_ms = host_test::simulator::tenant::now_millis();
        let outcome = run_idempotent(&mut instance, &lock).await;
        let user = fixture.sim.tenant().user(id).unwrap().clone();
        assert_eq!(user.status, 3);
        let set = user.locked_until.clone().expect("locked_until");
        let after: Value = serde_json::from_str(outcome.after.as_deref().expect("after")).unwrap();
        assert_eq!(after["locked_until"], set.as_str(), "the outcome reports what OneLogin set");
        assert!(outcome.summary.contains(&set), "{}", outcome.summary);
        let until_ms = host_test::simulator::tenant::parse_iso_millis(&set).unwrap();
        if policy_minutes == 0 {
            assert_eq!(set, host_test::simulator::routes::users_v1::LOCKED_INDEFINITELY);
        } else {
            let period = policy_minutes as i64 * 60_000;
            assert!((before_ms + period..before_ms + period + 60_000).contains(&until_ms), "{set}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_unlock_and_state_downgrade() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(30, 34, last_page).await;
        let id = active_user(&fixture.sim.tenant());
        let (mut instance, _) = fixture.manage().await;
        let lock =
            format!(r#"{{"custom":{{"name":"lock_user","params":{{"principal":"{}","minutes":15}}}}}}"#, key(id));
        run_idempotent(&mut instance, &lock).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().status, 3);
        let unlock = format!(r#"{{"custom":{{"name":"unlock_user","params":{{"principal":"{}"}}}}}}"#, key(id));
        run_idempotent(&mut instance, &unlock).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().status, 1);

        let downgrade =
            format!(r#"{{"custom":{{"name":"set_state","params":{{"principal":"{}","state":3}}}}}}"#, key(id));
        run_idempotent(&mut instance, &downgrade).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().state, 3);
        assert_eq!(synced_user(&fixture, id).await.unwrap()["state_name"], "unlicensed");
        // Only set_state can leave state 3.
        let via_update = format!(r#"{{"update-account":{{"principal":"{}","attributes":{{"state":1}}}}}}"#, key(id));
        let error = try_run(&mut instance, &via_update).await.expect_err("state 3 is sticky");
        assert_eq!(error.kind, ErrorKind::Upstream(422), "{}", error.message);
        let restore =
            format!(r#"{{"custom":{{"name":"set_state","params":{{"principal":"{}","state":1}}}}}}"#, key(id));
        run(&mut instance, &restore).await;
        assert_eq!(fixture.sim.tenant().user(id).unwrap().state, 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn group_and_app_access_grants() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(60, 35, last_page).await;
        let tenant = fixture.sim.tenant();
        // A user without roles whom no user mapping matches (a user update runs the mappings).
        let mapped = |d: &str| tenant.mappings.iter().any(|m| m.department == d);
        let user = tenant.users.iter().find(|u| u.role_ids.is_empty() && !mapped(&u.department)).expect("a plain user");
        let group = tenant.groups.iter().find(|g| Some(g.id) != user.group_id).unwrap();
        let (mut instance, _) = fixture.manage().await;

        let grant_group = format!(
            r#"{{"grant":{{"principal":"{}","resource":"onelogin_group:{}","permission":"member"}}}}"#,
            key(user.id),
            group.id
        );
        run_idempotent(&mut instance, &grant_group).await;
        assert_eq!(fixture.sim.tenant().user(user.id).unwrap().group_id, Some(group.id));
        assert_eq!(synced_user(&fixture, user.id).await.unwrap()["group_id"], group.id);
        run_idempotent(&mut instance, &grant_group.replacen("grant", "revoke", 1)).await;
        assert_eq!(fixture.sim.tenant().user(user.id).unwrap().group_id, None);

        // Make one role give exactly one app, then grant that app.
        let role = &tenant.roles[0];
        let app = tenant.apps[0].id;
        let set_apps = format!(
            r#"{{"custom":{{"name":"set_role_apps","params":{{"role":"onelogin_role:{}","apps":[{app}]}}}}}}"#,
            role.id
        );
        run_idempotent(&mut instance, &set_apps).await;
        assert_eq!(fixture.sim.tenant().role(role.id).unwrap().apps, vec![app]);
        for other in tenant.roles.iter().skip(1).filter(|r| r.apps == [app]) {
            // Other roles giving exactly this app would make the choice ambiguous: widen them.
            let widen = format!(
                r#"{{"custom":{{"name":"set_role_apps","params":{{"role":"onelogin_role:{}","apps":[{app},{}]}}}}}}"#,
                other.id, tenant.apps[1].id
            );
            run(&mut instance, &widen).await;
        }
        let grant_app = format!(
            r#"{{"grant":{{"principal":"{}","resource":"onelogin_application:{app}","permission":"access"}}}}"#,
            key(user.id)
        );
        let granted = run_idempotent(&mut instance, &grant_app).await;
        assert!(granted.summary.contains(&format!("onelogin_role:{}", role.id)), "{}", granted.summary);
        assert!(fixture.sim.tenant().role(role.id).unwrap().users.contains(&user.id));
        run_idempotent(&mut instance, &grant_app.replacen("grant", "revoke", 1)).await;
        assert!(!fixture.sim.tenant().role(role.id).unwrap().users.contains(&user.id));

        // An app no role gives alone is refused, naming the roles that have it.
        let wide = tenant.apps[1].id;
        let set_wide = format!(
            r#"{{"custom":{{"name":"set_role_apps","params":{{"role":"onelogin_role:{}","apps":[{app},{wide}]}}}}}}"#,
            role.id
        );
        run(&mut instance, &set_wide).await;
        let stale: Vec<u64> = fixture.sim.tenant().roles.iter().filter(|r| r.apps == [wide]).map(|r| r.id).collect();
        for id in stale {
            run(
                &mut instance,
                &format!(
                    r#"{{"custom":{{"name":"set_role_apps","params":{{"role":"onelogin_role:{id}","apps":[]}}}}}}"#
                ),
            )
            .await;
        }
        let before = writes(&fixture);
        let refuse = format!(
            r#"{{"grant":{{"principal":"{}","resource":"onelogin_application:{wide}","permission":"access"}}}}"#,
            key(user.id)
        );
        let error = try_run(&mut instance, &refuse).await.expect_err("no exact role");
        assert_eq!(error.kind, ErrorKind::InvalidInput("resource".into()));
        assert!(error.message.contains(&format!("onelogin_role:{}", role.id)), "{}", error.message);
        assert_eq!(writes(&fixture), before);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn role_rename_mfa_removal_and_mappings() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(60, 36, last_page).await;
        let tenant = fixture.sim.tenant();
        let (mut instance, _) = fixture.manage().await;
        let role = tenant.roles[1].id;
        run_idempotent(
            &mut instance,
            &format!(
                r#"{{"custom":{{"name":"rename_role","params":{{"role":"onelogin_role:{role}","name":"Renamed"}}}}}}"#
            ),
        )
        .await;
        assert_eq!(fixture.sim.tenant().role(role).unwrap().name, "Renamed");

        let owner = tenant.users.iter().find(|u| u.mfa_devices.iter().any(|d| d.active)).expect("a user with a device");
        let device = owner.mfa_devices.iter().find(|d| d.active).unwrap().device_id.clone();
        let remove = format!(
            r#"{{"custom":{{"name":"remove_mfa_device","params":{{"principal":"{}","device_id":"{device}"}}}}}}"#,
            key(owner.id)
        );
        run_idempotent(&mut instance, &remove).await;
        assert!(!fixture.sim.tenant().user(owner.id).unwrap().mfa_devices.iter().any(|d| d.device_id == device));

        // A role revoked from a user whom a mapping gives it comes back when mappings run.
        let mapping = tenant.mappings.first().expect("a user mapping");
        let user =
            tenant.users.iter().find(|u| u.department == mapping.department).expect("a user the mapping matches");
        let apply = format!(r#"{{"custom":{{"name":"apply_mappings","params":{{"principal":"{}"}}}}}}"#, key(user.id));
        run(&mut instance, &apply).await;
        assert!(fixture.sim.tenant().user(user.id).unwrap().role_ids.contains(&mapping.role_id));
        let revoke = format!(
            r#"{{"revoke":{{"principal":"{}","resource":"onelogin_role:{}","permission":"member"}}}}"#,
            key(user.id),
            mapping.role_id
        );
        assert!(run(&mut instance, &revoke).await.changed);
        let reapplied = run(&mut instance, &apply).await;
        assert!(reapplied.changed);
        let expected = format!("mappings added roles: onelogin_role:{}", mapping.role_id);
        assert!(reapplied.notes.contains(&expected), "{:?}", reapplied.notes);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_lists_the_calls_and_changes_nothing() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(30, 37, last_page).await;
        let tenant = fixture.sim.tenant();
        let id = active_user(&tenant);
        let role = tenant.roles.iter().find(|r| !r.users.contains(&id)).unwrap().id;
        let (mut instance, _) = fixture.manage().await;
        let plans = [
            (
                r#"{"create-account":{"email":"planned@example.com","password":"Plan-Secret-1"}}"#.to_string(),
                "POST",
                "/api/2/users",
            ),
            (
                format!(r#"{{"update-account":{{"principal":"{}","attributes":{{"title":"Planned"}}}}}}"#, key(id)),
                "PUT",
                "/api/2/users/",
            ),
            (format!(r#"{{"suspend-account":"{}"}}"#, key(id)), "PUT", "/api/2/users/"),
            (format!(r#"{{"delete-account":"{}"}}"#, key(id)), "DELETE", "/api/2/users/"),
            (
                format!(
                    r#"{{"grant":{{"principal":"{}","resource":"onelogin_role:{role}","permission":"member"}}}}"#,
                    key(id)
                ),
                "POST",
                "/api/2/roles/",
            ),
            (
                format!(r#"{{"set-credential":{{"principal":"{}","password":"Plan-Secret-1"}}}}"#, key(id)),
                "PUT",
                "/api/1/users/set_password_clear_text/",
            ),
            (format!(r#"{{"end-sessions":"{}"}}"#, key(id)), "PUT", "/api/1/users/"),
        ];
        for (action, method, path) in &plans {
            let plan = try_plan(&mut instance, action).await.unwrap_or_else(|e| panic!("{action}: {e:?}"));
            assert!(!plan.changed && plan.summary.starts_with("plan: would"), "{}", plan.summary);
            let call = plan.calls.first().unwrap_or_else(|| panic!("a planned call for {action}"));
            assert_eq!(&call.method, method, "{action}");
            assert!(call.path.starts_with(path), "{action}: {}", call.path);
            assert!(!format!("{plan:?}").contains("Plan-Secret-1"), "password in the plan");
        }
        assert_eq!(writes(&fixture), 0, "a plan sends no state-changing call");
        assert_eq!(fixture.sim.tenant(), tenant, "the tenant is unchanged");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_validation_rule_names_its_field_and_sends_nothing() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(10, 38, last_page).await;
        let (mut instance, _) = fixture.manage().await;
        let u = "onelogin_user:30000001";
        let cases: Vec<(String, &str)> = vec![
            (r#"{"create-account":{"firstname":"No Login"}}"#.into(), "username"),
            (r#"{"create-account":{"email":"not-an-email"}}"#.into(), "email"),
            (r#"{"create-account":{"username":"u","phone":"call me"}}"#.into(), "phone"),
            (
                r#"{"create-account":{"username":"u","preferred_locale_code":"english"}}"#.into(),
                "preferred_locale_code",
            ),
            (r#"{"create-account":{"username":"u","status":6}}"#.into(), "status"),
            (r#"{"create-account":{"username":"u","state":9}}"#.into(), "state"),
            (r#"{"create-account":{"username":"u","title":5}}"#.into(), "title"),
            (r#"{"create-account":{"username":"u","nickname":"x"}}"#.into(), "nickname"),
            (r#"{"create-account":{"username":"u","custom_attributes":{"food":1}}}"#.into(), "custom_attributes.food"),
            (r#"{"create-account":{"username":"u","mappings":"later"}}"#.into(), "mappings"),
            (r#"{"create-account":{"username":"u","password":""}}"#.into(), "password"),
            (format!(r#"{{"update-account":{{"principal":"{u}","attributes":{{}}}}}}"#), "attributes"),
            (r#"{"update-account":{"principal":"onelogin_role:1","attributes":{"title":"x"}}}"#.into(), "principal"),
            (r#"{"delete-account":"onelogin_user:abc"}"#.into(), "principal"),
            (format!(r#"{{"set-credential":{{"principal":"{u}","password":""}}}}"#), "password"),
            (
                format!(r#"{{"grant":{{"principal":"{u}","resource":"onelogin_role:2","permission":"owner"}}}}"#),
                "permission",
            ),
            (
                format!(r#"{{"grant":{{"principal":"{u}","resource":"onelogin_group:2","permission":"admin"}}}}"#),
                "permission",
            ),
            (
                format!(
                    r#"{{"grant":{{"principal":"{u}","resource":"onelogin_application:2","permission":"member"}}}}"#
                ),
                "permission",
            ),
            (
                format!(r#"{{"grant":{{"principal":"{u}","resource":"aws_iam_role:x","permission":"member"}}}}"#),
                "resource",
            ),
            (r#"{"custom":{"name":"reboot","params":{}}}"#.into(), "name"),
            (
                format!(r#"{{"custom":{{"name":"lock_user","params":{{"principal":"{u}","minutes":999999}}}}}}"#),
                "minutes",
            ),
            (format!(r#"{{"custom":{{"name":"lock_user","params":{{"principal":"{u}"}}}}}}"#), "minutes"),
            (format!(r#"{{"custom":{{"name":"set_state","params":{{"principal":"{u}","state":7}}}}}}"#), "state"),
            (r#"{"custom":{"name":"rename_role","params":{"role":"onelogin_role:1","name":"  "}}}"#.into(), "name"),
            (r#"{"custom":{"name":"set_role_apps","params":{"role":"onelogin_role:1","apps":"all"}}}"#.into(), "apps"),
            (
                format!(
                    r#"{{"custom":{{"name":"remove_mfa_device","params":{{"principal":"{u}","device_id":"../x"}}}}}}"#
                ),
                "device_id",
            ),
            (format!(r#"{{"custom":{{"name":"unlock_user","params":{{"principal":"{u}","force":true}}}}}}"#), "force"),
        ];
        let before = fixture.harness.request_log().total();
        for (action, field) in &cases {
            let error = try_run(&mut instance, action).await.expect_err(action);
            assert_eq!(error.kind, ErrorKind::InvalidInput(field.to_string()), "{action}: {}", error.message);
            assert!(!error.retryable);
        }
        assert_eq!(fixture.harness.request_log().total(), before, "validation happens before any call");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_credentials_cannot_run_any_action() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(10, 39, last_page).await;
        let id = active_user(&fixture.sim.tenant());
        let (mut instance, _) = fixture.configured(&fixture.sim.read_credentials()).await;
        for action in [
            format!(r#"{{"suspend-account":"{}"}}"#, key(id)),
            r#"{"create-account":{"email":"x@example.com"}}"#.to_string(),
            format!(r#"{{"end-sessions":"{}"}}"#, key(id)),
        ] {
            let error = try_run(&mut instance, &action).await.expect_err(&action);
            assert_eq!(error.kind, ErrorKind::InsufficientScope, "{action}");
        }
        assert_eq!(writes(&fixture), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn update_account_compares_values_not_their_json_types() {
    // OneLogin sends ids as numbers or numeric strings (python-sdk #100): the
    // varied simulator sends this user's ids as strings, so a re-run must find
    // the values already set and write nothing.
    let config = SimulatorConfig { field_variance: FieldVariance::Varied, ..common::test_config(40, 38) };
    let fixture = Fixture::with_config(config).await;
    let tenant = fixture.sim.tenant();
    let user =
        tenant.users.iter().find(|u| u.id.is_multiple_of(2) && u.status == 1).expect("a user served with string ids");
    let manager =
        tenant.users.iter().map(|m| m.id).find(|m| *m != user.id && Some(*m) != user.manager_user_id).unwrap();
    let group = tenant.groups.iter().map(|g| g.id).find(|g| Some(*g) != user.group_id).unwrap();
    let (mut instance, _) = fixture.manage().await;
    let update = format!(
        r#"{{"update-account":{{"principal":"{}","attributes":{{"manager_user_id":{manager},"group_id":{group},"mappings":"disabled"}}}}}}"#,
        key(user.id)
    );
    let puts = |fixture: &Fixture| fixture.sim.request_counts().get("PUT /api/2/users/{id}").copied().unwrap_or(0);
    let first = run_idempotent(&mut instance, &update).await;
    assert!(first.notes.is_empty(), "mappings disabled: no later run to note: {:?}", first.notes);
    assert_eq!(puts(&fixture), 1, "the second run compared \"{manager}\" with {manager} and wrote nothing");
    let after = fixture.sim.tenant().user(user.id).cloned().unwrap();
    assert_eq!((after.manager_user_id, after.group_id), (Some(manager), Some(group)));

    // The default (mappings=async) says the mappings run later.
    let title = format!(r#"{{"update-account":{{"principal":"{}","attributes":{{"title":"Later"}}}}}}"#, key(user.id));
    let outcome = run(&mut instance, &title).await;
    assert!(outcome.notes.iter().any(|n| n.contains("mappings=async")), "{:?}", outcome.notes);
}

/// Users without an email, or without email and username (the varied
/// simulator serves them as null, `""` or left out): create-account finds
/// an existing user by the identity it has, update-account is idempotent on
/// them, and a link needs an email.
#[tokio::test(flavor = "multi_thread")]
async fn users_without_email_or_username_are_found_updated_and_refused_a_link() {
    let config = SimulatorConfig { field_variance: FieldVariance::Varied, ..common::test_config(60, 40) };
    let fixture = Fixture::with_config(config).await;
    let tenant = fixture.sim.tenant();
    let no_email = tenant.users.iter().find(|u| u.email.is_empty() && !u.username.is_empty()).expect("no email");
    let neither = tenant.users.iter().find(|u| u.email.is_empty() && u.username.is_empty()).expect("neither");
    let (mut instance, _) = fixture.manage().await;
    let users_before = tenant.users.len();

    // The user exists under its username; its email is free: no new user.
    let create =
        format!(r#"{{"create-account":{{"username":"{}","email":"fresh.address@example.com"}}}}"#, no_email.username);
    let outcome = run(&mut instance, &create).await;
    assert!(!outcome.changed, "{}", outcome.summary);
    assert_eq!(outcome.key.as_deref(), Some(key(no_email.id).as_str()));
    assert_eq!(fixture.sim.tenant().users.len(), users_before);

    // A new user with a username only, created once.
    let create = r#"{"create-account":{"username":"only.a.username","firstname":"Only"}}"#;
    let created = run_idempotent(&mut instance, create).await;
    assert_eq!(fixture.sim.tenant().users.len(), users_before + 1);
    let id: u64 = created.key.as_deref().unwrap().trim_start_matches("onelogin_user:").parse().unwrap();
    assert!(fixture.sim.tenant().user(id).unwrap().email.is_empty());

    // A link goes to an email: a typed refusal for a user without one.
    for user in [no_email, neither] {
        let link = format!(r#"{{"issue-link":{{"principal":"{}","send":false}}}}"#, key(user.id));
        let error = try_run(&mut instance, &link).await.expect_err("no email");
        assert_eq!(error.kind, ErrorKind::InvalidInput("principal".into()), "{}", error.message);
    }

    // Updates on users without an identity are idempotent, and may give one.
    for user in [no_email, neither] {
        let title =
            format!(r#"{{"update-account":{{"principal":"{}","attributes":{{"title":"Auditor"}}}}}}"#, key(user.id));
        run_idempotent(&mut instance, &title).await;
        let email = format!(
            r#"{{"update-account":{{"principal":"{}","attributes":{{"email":"given.{}@example.com"}}}}}}"#,
            key(user.id),
            user.id
        );
        let outcome = run_idempotent(&mut instance, &email).await;
        let before: Value = serde_json::from_str(outcome.before.as_deref().unwrap()).unwrap();
        assert!(before["email"].is_null() || before["email"] == "", "{before}");
        assert_eq!(fixture.sim.tenant().user(user.id).unwrap().email, format!("given.{}@example.com", user.id));
    }
}
