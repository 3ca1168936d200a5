//! Provisioning through the real component against the simulator's state.

mod common;

use common::{Fixture, LAST_PAGE_ANSWERS};
use host_test::harness::types::{AccessLevel, Action, EntitlementChange, ErrorKind};
use host_test::harness::{sync_all, SyncOptions};

fn change(user: u64, role: u64, permission: &str) -> EntitlementChange {
    EntitlementChange {
        principal: format!("onelogin_user:{user}"),
        resource: format!("onelogin_role:{role}"),
        permission: permission.to_string(),
    }
}

fn writes(fixture: &Fixture) -> u64 {
    fixture
        .harness
        .request_log()
        .counts()
        .iter()
        .filter(|(endpoint, _)| !endpoint.starts_with("GET ") && !endpoint.contains("/auth/oauth2/"))
        .map(|(_, n)| n)
        .sum()
}

/// A role and a user who is not a member (nor an admin) of it.
fn outsider(fixture: &Fixture) -> (u64, u64) {
    let tenant = fixture.sim.tenant();
    let role = tenant.roles.iter().find(|r| !r.users.is_empty()).expect("a role with members");
    let user = tenant.users.iter().find(|u| !role.users.contains(&u.id) && !role.admins.contains(&u.id)).unwrap();
    (user.id, role.id)
}

async fn assigned_in_sync(fixture: &Fixture, user: u64, role: u64) -> bool {
    let (mut instance, _) = fixture.manage().await;
    let output = sync_all(&mut instance, &SyncOptions { max_items: 500, ..SyncOptions::default() }, |_| {})
        .await
        .unwrap()
        .expect("sync");
    output.relationships.iter().any(|r| {
        r.class == "ASSIGNED"
            && r.from_key == format!("onelogin_user:{user}")
            && r.to_key == format!("onelogin_role:{role}")
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn grant_then_revoke_role_membership_changes_the_tenant_and_a_later_sync() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(60, 11, last_page).await;
        let (user, role) = outsider(&fixture);
        let (mut instance, _) = fixture.manage().await;

        let granted = instance.provision(Action::Grant(change(user, role, "member"))).await.unwrap().expect("grant");
        assert!(granted.changed, "{}", granted.summary);
        assert!(fixture.sim.tenant().role(role).unwrap().users.contains(&user));
        assert!(fixture.sim.tenant().user(user).unwrap().role_ids.contains(&role));
        let again = instance.provision(Action::Grant(change(user, role, "member"))).await.unwrap().expect("regrant");
        assert!(!again.changed, "idempotent: {}", again.summary);
        assert!(assigned_in_sync(&fixture, user, role).await);

        let revoked = instance.provision(Action::Revoke(change(user, role, "member"))).await.unwrap().expect("revoke");
        assert!(revoked.changed, "{}", revoked.summary);
        assert!(!fixture.sim.tenant().role(role).unwrap().users.contains(&user));
        let again = instance.provision(Action::Revoke(change(user, role, "member"))).await.unwrap().expect("rerevoke");
        assert!(!again.changed);
        assert!(!assigned_in_sync(&fixture, user, role).await);

        // One POST and one DELETE (with its raw-array body) reached OneLogin.
        let counts = fixture.sim.request_counts();
        assert_eq!(counts["POST /api/2/roles/{id}/users"], 1);
        assert_eq!(counts["DELETE /api/2/roles/{id}/users"], 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn grant_and_revoke_role_admin() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(60, 12, last_page).await;
        let (user, role) = outsider(&fixture);
        let (mut instance, _) = fixture.manage().await;
        let granted = instance.provision(Action::Grant(change(user, role, "admin"))).await.unwrap().expect("grant");
        assert!(granted.changed);
        assert!(fixture.sim.tenant().role(role).unwrap().admins.contains(&user));
        assert!(!fixture.sim.tenant().role(role).unwrap().users.contains(&user), "admin is not membership");
        assert!(!instance.provision(Action::Grant(change(user, role, "admin"))).await.unwrap().unwrap().changed);
        assert!(instance.provision(Action::Revoke(change(user, role, "admin"))).await.unwrap().unwrap().changed);
        assert!(!fixture.sim.tenant().role(role).unwrap().admins.contains(&user));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_credentials_get_insufficient_scope_and_write_nothing() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(30, 13, last_page).await;
        let (user, role) = outsider(&fixture);
        let (mut instance, info) = fixture.configured(&fixture.sim.read_credentials()).await;
        assert_eq!(info.access_level, AccessLevel::Read);
        let error = instance.provision(Action::Grant(change(user, role, "member"))).await.unwrap().expect_err("scope");
        assert_eq!(error.kind, ErrorKind::InsufficientScope);
        assert!(!error.retryable);
        assert_eq!(writes(&fixture), 0);
        assert!(!fixture.sim.tenant().role(role).unwrap().users.contains(&user));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_user_or_role_is_not_found_and_writes_nothing() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(30, 14, last_page).await;
        let (user, role) = outsider(&fixture);
        let (mut instance, _) = fixture.manage().await;
        for action in [Action::Grant(change(1, role, "member")), Action::Revoke(change(user, 1, "member"))] {
            let error = instance.provision(action).await.unwrap().expect_err("not found");
            assert_eq!(error.kind, ErrorKind::NotFound, "{}", error.message);
        }
        assert_eq!(writes(&fixture), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_arguments_name_the_field_and_send_nothing() {
    for last_page in LAST_PAGE_ANSWERS {
        println!("last page: {last_page:?}");
        let fixture = Fixture::paged(10, 15, last_page).await;
        let (mut instance, _) = fixture.manage().await;
        let before = fixture.harness.request_log().total();
        let cases = [
            (EntitlementChange { principal: "onelogin_role:1".into(), ..change(1, 2, "member") }, "principal"),
            (EntitlementChange { principal: "onelogin_user:abc".into(), ..change(1, 2, "member") }, "principal"),
            (EntitlementChange { resource: "onelogin_account:2".into(), ..change(1, 2, "member") }, "resource"),
            (change(1, 2, "owner"), "permission"),
        ];
        for (bad, field) in cases {
            let error = instance.provision(Action::Grant(bad)).await.unwrap().expect_err(field);
            assert_eq!(error.kind, ErrorKind::InvalidInput(field.to_string()), "{}", error.message);
        }
        assert_eq!(fixture.harness.request_log().total(), before);
    }
}
