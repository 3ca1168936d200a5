//! Integration tests for the simulator's write endpoints (v2 users, v1 user actions,
//! role updates, MFA devices, user mappings) and the `CommitThenDrop` fault, over real
//! HTTP with a minimal HTTP/1.1 client.

use host_test::simulator::{Fault, FaultKind, Simulator, SimulatorConfig, Tenant};
use serde_json::{json, Value};

mod http_client;

use http_client::*;

async fn start(users: usize) -> Simulator {
    Simulator::start(SimulatorConfig { users, ..SimulatorConfig::default() }).await.unwrap()
}

async fn start_seeded(users: usize, seed: u64) -> Simulator {
    Simulator::start(SimulatorConfig { users, seed, ..SimulatorConfig::default() }).await.unwrap()
}

/// Everything a sync reads, fetched over HTTP.
async fn sync_view(sim: &Simulator, token: &str) -> Value {
    // As the connector asks: every field, `role_ids` and `custom_attributes` included.
    let fields = onelogin_connector::USER_FIELDS;
    let users = get(sim, token, &format!("/api/2/users?limit=50&fields={fields}")).await.json();
    let groups = get(sim, token, "/api/1/groups?limit=50").await.json();
    let roles = get(sim, token, "/api/2/roles?limit=650").await.json();
    let mut members = serde_json::Map::new();
    for r in roles.as_array().unwrap() {
        let id = r["id"].as_u64().unwrap();
        members.insert(id.to_string(), get(sim, token, &format!("/api/2/roles/{id}/users?limit=100")).await.json());
    }
    let apps = get(sim, token, "/api/2/apps?limit=1000").await.json();
    json!({"users": users, "groups": groups, "roles": roles, "role_users": members, "apps": apps})
}

// ---------- tests ----------

#[tokio::test]
async fn sync_visible_data_for_12_users_seed_5_is_unchanged() {
    let sim = start_seeded(12, 5).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let view = serde_json::to_string_pretty(&sync_view(&sim, &token).await).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sync_view_users12_seed5.json");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &view).unwrap();
    }
    let golden = std::fs::read_to_string(&path).expect("golden file (BLESS=1 creates it)");
    assert!(golden == view, "sync-visible data differs from {}", path.display());
}

fn v1_ok() -> Value {
    json!({"status": {"type": "success", "code": 200, "message": "Success", "error": false}})
}

fn v1_err(code: u16, kind: &str, message: &str) -> Value {
    json!({"status": {"error": true, "code": code, "type": kind, "message": message}})
}

fn unprocessable(message: &str) -> Value {
    json!({"message": message, "statusCode": 422, "name": "UnprocessableEntityError"})
}

async fn manage_token(sim: &Simulator) -> String {
    token_for(sim, &sim.manage_credentials()).await
}

#[tokio::test]
async fn create_user_without_password_is_pending_with_the_next_id() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let max = sim.tenant().users.iter().map(|u| u.id).max().unwrap();
    let body = r#"{"username":"new.person","email":"New.Person@example.com","firstname":"New","lastname":"Person",
        "department":"Ops","custom_attributes":{"food":"pizza"}}"#;
    let r = with_body(&sim, &token, "POST", "/api/2/users", body).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let u = r.json();
    assert_eq!(u["id"], json!(max + 1));
    assert_eq!(u["status"], 7);
    assert_eq!(u["state"], 1);
    assert_eq!(u["username"], "new.person");
    assert_eq!(u["email"], "New.Person@example.com");
    assert_eq!(u["role_ids"], json!([]));
    assert_eq!(u["password_changed_at"], Value::Null);
    assert_eq!(u["custom_attributes"], json!({"cost_center": null, "employee_number": null, "food": "pizza"}));
    // Simulator-only state never leaks into the user JSON.
    for k in ["password_set", "password_changes", "sessions_ended", "invites_sent", "mfa_devices"] {
        assert!(u.get(k).is_none(), "{k}");
    }
    let stored = sim.tenant().user(max + 1).cloned().unwrap();
    assert!(!stored.password_set);
    assert_eq!(get(&sim, &token, &format!("/api/2/users/{}", max + 1)).await.json(), u);
}

#[tokio::test]
async fn create_user_with_password_is_active_and_never_echoes_the_password() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let body = r#"{"email":"pw.user@example.com","password":"Secr3tpass","password_confirmation":"Secr3tpass"}"#;
    let r = with_body(&sim, &token, "POST", "/api/2/users?mappings=disabled&validate_policy=true", body).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert!(!String::from_utf8_lossy(&r.body).contains("Secr3tpass"));
    let u = r.json();
    assert_eq!(u["status"], 1);
    assert!(u["password_changed_at"].is_string());
    assert!(u["activated_at"].is_string());
    assert!(u.get("password").is_none() && u.get("password_confirmation").is_none());
    let stored = sim.tenant().user(u["id"].as_u64().unwrap()).cloned().unwrap();
    assert!(stored.password_set);
    assert_eq!(stored.password_changes, 1);
    assert!(!serde_json::to_string(&sim.tenant()).unwrap().contains("Secr3tpass"));

    // Policy and confirmation are validated (422 on v2).
    let weak = r#"{"email":"weak@example.com","password":"short","password_confirmation":"short"}"#;
    let r = with_body(&sim, &token, "POST", "/api/2/users", weak).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json(), unprocessable("Validation failed: password does not meet policy requirements"));
    let r = with_body(&sim, &token, "POST", "/api/2/users?validate_policy=false", weak).await;
    assert_eq!(r.status, 201);
    let mismatch = r#"{"email":"mm@example.com","password":"Secr3tpass","password_confirmation":"other1234"}"#;
    let r = with_body(&sim, &token, "POST", "/api/2/users", mismatch).await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn create_user_requires_username_or_email_and_rejects_duplicates_case_insensitively() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let before = sim.tenant().users.len();
    let r = with_body(&sim, &token, "POST", "/api/2/users", r#"{"firstname":"Nobody"}"#).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json(), unprocessable("Validation failed: username or email is required"));

    let existing = sim.tenant().users.iter().find(|u| !u.username.is_empty()).cloned().unwrap();
    let body = json!({"email": existing.email.to_uppercase(), "username": "fresh"}).to_string();
    let r = with_body(&sim, &token, "POST", "/api/2/users", &body).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json(), unprocessable("Validation failed: email has already been taken"));
    let body = json!({"email": "fresh@example.com", "username": existing.username.to_uppercase()}).to_string();
    let r = with_body(&sim, &token, "POST", "/api/2/users", &body).await;
    assert_eq!(r.json(), unprocessable("Validation failed: Username must be unique within acme"));
    assert_eq!(sim.tenant().users.len(), before);
}

#[tokio::test]
async fn unknown_attributes_are_400_on_create_and_update() {
    let sim = start(20).await;
    let token = manage_token(&sim).await;
    let uid = sim.tenant().users[0].id;
    let r = with_body(&sim, &token, "POST", "/api/2/users", r#"{"email":"a@b.c","foo":1}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"message":"unknown attribute: foo","name":"BadRequestError","statusCode":400}));
    let r =
        with_body(&sim, &token, "PUT", &format!("/api/2/users/{uid}"), r#"{"custom_attributes":{"shoe":"9"}}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"message":"unknown attribute: shoe","name":"BadRequestError","statusCode":400}));
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{uid}"), r#"{"id":5}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(sim.tenant().user(uid), Tenant::generate(20, 1).user(uid));
}

#[tokio::test]
async fn update_user_changes_fields_merges_custom_attributes_and_bumps_updated_at() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let before = sim.tenant().users.iter().find(|u| u.group_id.is_some() && u.state != 3).cloned().unwrap();
    let body = r#"{"title":"CTO","group_id":null,"status":2,"custom_attributes":{"food":"tacos"}}"#;
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}?mappings=disabled", before.id), body).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let u = r.json();
    assert_eq!(u["title"], "CTO");
    assert_eq!(u["group_id"], Value::Null);
    assert_eq!(u["status"], 2);
    assert_eq!(u["custom_attributes"]["food"], "tacos");
    assert_eq!(u["custom_attributes"]["employee_number"], json!(before.custom_attributes["employee_number"]));
    assert_ne!(u["updated_at"], json!(before.updated_at));
    assert_eq!(u["created_at"], json!(before.created_at));
    let after = sim.tenant().user(before.id).cloned().unwrap();
    assert_eq!(after.title, "CTO");
    assert_eq!(after.group_id, None);

    // Unknown user → 404; unknown group → 422.
    let r = with_body(&sim, &token, "PUT", "/api/2/users/1", r#"{"title":"x"}"#).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["name"], "NotFoundError");
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}", before.id), r#"{"group_id":1}"#).await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn update_cannot_change_the_state_of_an_unlicensed_user_but_set_state_can() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let u = sim.tenant().users.iter().find(|u| u.state == 3).cloned().unwrap();
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}", u.id), r#"{"state":1}"#).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json(), unprocessable("Validation failed: state can only be changed with set_state"));
    assert_eq!(sim.tenant().user(u.id).unwrap().state, 3);
    // Other fields (and a no-op state) are fine.
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}", u.id), r#"{"state":3,"title":"X"}"#).await;
    assert_eq!(r.status, 200);
    let r = with_body(&sim, &token, "PUT", &format!("/api/1/users/{}/set_state", u.id), r#"{"state":1}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), v1_ok());
    assert_eq!(sim.tenant().user(u.id).unwrap().state, 1);
}

#[tokio::test]
async fn update_with_mappings_grants_the_mapped_role_unless_disabled() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let t = sim.tenant();
    let m = t.mappings[0].clone();
    let user = t.users.iter().find(|u| u.department != m.department && !u.role_ids.contains(&m.role_id)).unwrap();
    let body = json!({"department": m.department}).to_string();
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}?mappings=disabled", user.id), &body).await;
    assert_eq!(r.status, 200);
    assert!(!r.json()["role_ids"].as_array().unwrap().contains(&json!(m.role_id)));
    assert!(!sim.tenant().role(m.role_id).unwrap().users.contains(&user.id));

    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}?mappings=sync", user.id), "{}").await;
    assert_eq!(r.status, 200);
    assert!(r.json()["role_ids"].as_array().unwrap().contains(&json!(m.role_id)));
    let role = sim.tenant().role(m.role_id).cloned().unwrap();
    assert!(role.users.contains(&user.id));
    assert!(role.mapped_users.contains(&user.id));
    // A mapping run applies to the user written, not to the whole department.
    let tenant = sim.tenant();
    let others = tenant.users.iter().filter(|u| u.department == m.department && u.id != user.id);
    assert!(others
        .filter(|u| !t.user(u.id).unwrap().role_ids.contains(&m.role_id))
        .all(|u| !u.role_ids.contains(&m.role_id)));
    // The generated tenant itself has no mapping grants.
    assert!(Tenant::generate(40, 1).roles.iter().all(|r| r.mapped_users.is_empty()));
}

#[tokio::test]
async fn create_user_in_a_mapped_department_gets_the_role_after_the_response() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let m = sim.tenant().mappings[0].clone();
    let body = json!({"email": "mapped@example.com", "department": m.department}).to_string();
    let r = with_body(&sim, &token, "POST", "/api/2/users?mappings=async", &body).await;
    assert_eq!(r.status, 201);
    let u = r.json();
    let id = u["id"].as_u64().unwrap();
    assert_eq!(u["role_ids"], json!([]), "async mappings run after the response (docs update-user)");
    assert!(!sim.tenant().role(m.role_id).unwrap().users.contains(&id));
    let after = get(&sim, &token, &format!("/api/2/users/{id}")).await.json();
    assert_eq!(after["role_ids"], json!([m.role_id]), "applied by the next request");
    assert!(sim.tenant().role(m.role_id).unwrap().mapped_users.contains(&id));
    // mappings=sync runs them before the response.
    let body = json!({"email": "mapped2@example.com", "department": m.department}).to_string();
    let r = with_body(&sim, &token, "POST", "/api/2/users?mappings=sync", &body).await;
    assert_eq!(r.json()["role_ids"], json!([m.role_id]));
}

#[tokio::test]
async fn a_mapping_removes_the_roles_it_added_and_keeps_manual_ones() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let m = sim.tenant().mappings[0].clone();
    let other = sim.tenant().roles.iter().map(|r| r.id).find(|r| *r != m.role_id).unwrap();
    let body = json!({"email": "leaver@example.com", "department": m.department}).to_string();
    let u = with_body(&sim, &token, "POST", "/api/2/users?mappings=sync", &body).await.json();
    let id = u["id"].as_u64().unwrap();
    assert_eq!(u["role_ids"], json!([m.role_id]));
    let r = with_body(&sim, &token, "POST", &format!("/api/2/roles/{other}/users"), &format!("[{id}]")).await;
    assert_eq!(r.status, 200);
    // Moving out of the department: the mapping takes back its role (KB0010606); the
    // role granted by hand stays.
    let body = json!({"department": "Nowhere"}).to_string();
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{id}?mappings=sync"), &body).await;
    assert_eq!(r.json()["role_ids"], json!([other]));
    assert!(!sim.tenant().role(m.role_id).unwrap().mapped_users.contains(&id));
}

#[tokio::test]
async fn delete_user_is_204_and_removes_role_memberships() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let t = sim.tenant();
    let role = t.roles.iter().find(|r| !r.users.is_empty()).unwrap();
    let uid = role.users[0];
    with_body(&sim, &token, "POST", &format!("/api/2/roles/{}/admins", role.id), &format!("[{uid}]")).await;
    let r = send(
        sim.addr(),
        "DELETE",
        &format!("/api/2/users/{uid}"),
        &[("Authorization", format!("Bearer {token}"))],
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    let t2 = sim.tenant();
    assert!(t2.user(uid).is_none());
    assert!(t2.roles.iter().all(|r| !r.users.contains(&uid) && !r.admins.contains(&uid)));
    assert_eq!(get(&sim, &token, &format!("/api/2/users/{uid}")).await.status, 404);
    let again = send(
        sim.addr(),
        "DELETE",
        &format!("/api/2/users/{uid}"),
        &[("Authorization", format!("Bearer {token}"))],
        None,
    )
    .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.json()["name"], "NotFoundError");
}

#[tokio::test]
async fn unlock_answers_with_the_documented_messsage_typo() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let locked = sim.tenant().users.iter().find(|u| u.status == 3).cloned().unwrap();
    assert!(locked.locked_until.is_some());
    let r = with_body(&sim, &token, "POST", &format!("/api/2/users/{}/unlock", locked.id), "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"messsage": "User unlocked"}));
    let after = sim.tenant().user(locked.id).cloned().unwrap();
    assert_eq!(after.status, 1);
    assert_eq!(after.locked_until, None);
    let r = with_body(&sim, &token, "POST", &format!("/api/2/users/{}/unlock", locked.id), "").await;
    assert_eq!(r.status, 422, "docs unlock-user: the body follows the 422 sample");
    assert_eq!(r.json(), json!({"message": "User cannot be unlocked"}));
    assert_eq!(with_body(&sim, &token, "POST", "/api/2/users/1/unlock", "").await.status, 404);
}

#[tokio::test]
async fn users_email_and_username_filters_match_exactly_and_case_insensitively() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let u = sim.tenant().users.iter().find(|u| !u.username.is_empty()).cloned().unwrap();
    let r = get(&sim, &token, &format!("/api/2/users?email={}", u.email.to_uppercase())).await.json();
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(r[0]["id"], json!(u.id));
    let r = get(&sim, &token, &format!("/api/2/users?username={}", u.username.to_uppercase())).await.json();
    assert_eq!(r.as_array().unwrap().len(), 1);
    // No implicit prefix match without a wildcard.
    let prefix = &u.email[..u.email.len() - 4];
    assert_eq!(get(&sim, &token, &format!("/api/2/users?email={prefix}")).await.json(), json!([]));
}

#[tokio::test]
async fn v1_logout_ends_sessions_and_404s_unknown_users() {
    let sim = start(20).await;
    let token = manage_token(&sim).await;
    let uid = sim.tenant().users[3].id;
    for _ in 0..2 {
        let r = with_body(&sim, &token, "PUT", &format!("/api/1/users/{uid}/logout"), "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json(), v1_ok());
    }
    assert_eq!(sim.tenant().user(uid).unwrap().sessions_ended, 2);
    let r = with_body(&sim, &token, "PUT", "/api/1/users/1/logout", "").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), v1_err(404, "not found", "User for id 1 was not found"));
}

#[tokio::test]
async fn v1_lock_user_sets_status_3_with_a_lock_time() {
    let sim = start(20).await;
    let token = manage_token(&sim).await;
    let t = sim.tenant();
    let (a, b) = (t.users.iter().find(|u| u.status == 1).unwrap().id, t.users[0].id);
    let r = with_body(&sim, &token, "PUT", &format!("/api/1/users/{a}/lock_user"), r#"{"locked_until":15}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), v1_ok());
    let ua = sim.tenant().user(a).cloned().unwrap();
    assert_eq!(ua.status, 3);
    let until = ua.locked_until.unwrap();
    assert!(until.as_str() > "2024-01-01" && until.as_str() < "2099", "{until}");
    // 0: the user policy's lock period (docs lock-user; F-UW-16), 30 minutes by default.
    let before = host_test::simulator::tenant::now_millis();
    let r = with_body(&sim, &token, "PUT", &format!("/api/1/users/{b}/lock_user"), r#"{"locked_until":0}"#).await;
    assert_eq!(r.status, 200);
    let until = sim.tenant().user(b).unwrap().locked_until.clone().unwrap();
    let until_ms = host_test::simulator::tenant::parse_iso_millis(&until).unwrap();
    let period = host_test::simulator::DEFAULT_LOCK_POLICY_MINUTES as i64 * 60_000;
    assert!((before + period..before + period + 60_000).contains(&until_ms), "{until}");
    for bad in [r#"{"locked_until":-1}"#, r#"{}"#, "nope", r#"{"locked_until":"soon"}"#] {
        let r = with_body(&sim, &token, "PUT", &format!("/api/1/users/{a}/lock_user"), bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["status"]["error"], true);
        assert_eq!(r.json()["status"]["type"], "bad request");
    }
}

#[tokio::test]
async fn v1_set_state_rejects_invalid_and_unchanged_states() {
    let sim = start(20).await;
    let token = manage_token(&sim).await;
    let u = sim.tenant().users.iter().find(|u| u.state == 1).cloned().unwrap();
    let path = format!("/api/1/users/{}/set_state", u.id);
    let r = with_body(&sim, &token, "PUT", &path, r#"{"state":4}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), v1_err(400, "bad request", "state is invalid"));
    let r = with_body(&sim, &token, "PUT", &path, r#"{"state":1}"#).await;
    assert_eq!(r.json(), v1_err(400, "bad request", "user is already in this state"));
    let r = with_body(&sim, &token, "PUT", &path, r#"{"state":2}"#).await;
    assert_eq!(r.json(), v1_ok());
    assert_eq!(sim.tenant().user(u.id).unwrap().state, 2);
}

#[tokio::test]
async fn v1_set_password_clear_text_validates_and_activates_pending_users() {
    let sim = start(20).await;
    let token = manage_token(&sim).await;
    let u = sim.tenant().users.iter().find(|u| u.status == 7).cloned().unwrap();
    let path = format!("/api/1/users/set_password_clear_text/{}", u.id);
    let r =
        with_body(&sim, &token, "PUT", &path, r#"{"password":"Abcdefg1","password_confirmation":"Abcdefg2"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), v1_err(400, "bad request", "password and password_confirmation do not match"));
    let weak = r#"{"password":"abcdefgh","password_confirmation":"abcdefgh","validate_policy":true}"#;
    let r = with_body(&sim, &token, "PUT", &path, weak).await;
    assert_eq!(r.json(), v1_err(400, "bad request", "password does not meet policy requirements"));
    assert_eq!(sim.tenant().user(u.id).cloned().unwrap(), u);

    let ok = r#"{"password":"Abcdefg1","password_confirmation":"Abcdefg1","validate_policy":true}"#;
    let r = with_body(&sim, &token, "PUT", &path, ok).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), v1_ok());
    let after = sim.tenant().user(u.id).cloned().unwrap();
    assert_eq!(after.status, 1);
    assert!(after.password_set);
    assert!(after.password_changed_at.is_some());
    let shown = get(&sim, &token, &format!("/api/2/users/{}", u.id)).await;
    assert!(!String::from_utf8_lossy(&shown.body).contains("Abcdefg1"));
    // Without validate_policy a weak password is accepted.
    let r = with_body(&sim, &token, "PUT", &path, r#"{"password":"x","password_confirmation":"x"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(sim.tenant().user(u.id).unwrap().password_changes, 2);
}

#[tokio::test]
async fn v1_add_roles_then_remove_roles_and_400_for_roles_not_held() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let t = sim.tenant();
    let u = t.users.iter().find(|u| u.role_ids.is_empty()).cloned().unwrap();
    let (r1, r2) = (t.roles[0].id, t.roles[1].id);
    let add = format!("/api/1/users/{}/add_roles", u.id);
    let remove = format!("/api/1/users/{}/remove_roles", u.id);
    let r = with_body(&sim, &token, "PUT", &add, &format!(r#"{{"role_id_array":[{r1},"{r2}"]}}"#)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), v1_ok());
    assert_eq!(sim.tenant().user(u.id).unwrap().role_ids, vec![r1, r2]);
    assert!(sim.tenant().role(r1).unwrap().users.contains(&u.id));

    let r = with_body(&sim, &token, "PUT", &remove, &format!(r#"{{"role_id_array":[{r1}]}}"#)).await;
    assert_eq!(r.json(), v1_ok());
    assert_eq!(sim.tenant().user(u.id).unwrap().role_ids, vec![r2]);
    // Removing a role the user does not have: 400, nothing changes.
    let r = with_body(&sim, &token, "PUT", &remove, &format!(r#"{{"role_id_array":[{r1},{r2}]}}"#)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), v1_err(400, "bad request", "input role_id_array is not included as user roles"));
    assert_eq!(sim.tenant().user(u.id).unwrap().role_ids, vec![r2]);
    // Bad bodies and unknown roles.
    for body in [r#"{"role_id_array":[]}"#, r#"{}"#, "[1]", r#"{"role_id_array":[true]}"#, r#"{"role_id_array":[1]}"#] {
        assert_eq!(with_body(&sim, &token, "PUT", &add, body).await.status, 400, "{body}");
    }
}

#[tokio::test]
async fn v1_remove_roles_keeps_mapping_granted_roles() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let m = sim.tenant().mappings[0].clone();
    let user = sim.tenant().users.iter().find(|u| u.department == m.department).cloned().unwrap();
    // A mapping run (PUT with mappings=sync) grants the role.
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}?mappings=sync", user.id), "{}").await;
    assert_eq!(r.status, 200);
    assert!(sim.tenant().role(m.role_id).unwrap().mapped_users.contains(&user.id));
    let body = format!(r#"{{"role_id_array":[{}]}}"#, m.role_id);
    let r = with_body(&sim, &token, "PUT", &format!("/api/1/users/{}/remove_roles", user.id), &body).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), v1_ok());
    assert!(sim.tenant().user(user.id).unwrap().role_ids.contains(&m.role_id));
}

#[tokio::test]
async fn v2_role_user_delete_removes_a_mapped_member_and_the_next_mapping_run_re_adds_it() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let m = sim.tenant().mappings[0].clone();
    let user = sim.tenant().users.iter().find(|u| u.department == m.department).cloned().unwrap();
    with_body(&sim, &token, "PUT", &format!("/api/2/users/{}?mappings=sync", user.id), "{}").await;
    let r = with_body(&sim, &token, "DELETE", &format!("/api/2/roles/{}/users", m.role_id), &format!("[{}]", user.id))
        .await;
    assert_eq!(r.status, 204);
    let role = sim.tenant().role(m.role_id).cloned().unwrap();
    assert!(!role.users.contains(&user.id));
    assert!(!role.mapped_users.contains(&user.id));
    // The user's next update runs the mappings again (default mappings=async: after
    // the response, so the next request sees it).
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/users/{}", user.id), r#"{"comment":"touch"}"#).await;
    assert_eq!(r.status, 200);
    assert!(!r.json()["role_ids"].as_array().unwrap().contains(&json!(m.role_id)));
    get(&sim, &token, &format!("/api/2/users/{}", user.id)).await;
    let role = sim.tenant().role(m.role_id).cloned().unwrap();
    assert!(role.users.contains(&user.id));
    assert!(role.mapped_users.contains(&user.id));
    assert!(sim.tenant().user(user.id).unwrap().role_ids.contains(&m.role_id));
}

#[tokio::test]
async fn invite_links_are_deterministic_and_sends_are_counted() {
    let a = start_seeded(20, 9).await;
    let b = start_seeded(20, 9).await;
    let (ta, tb) = (manage_token(&a).await, manage_token(&b).await);
    let u = a.tenant().users[2].clone();
    let body = json!({"email": u.email.to_uppercase()}).to_string();
    let la = with_body(&a, &ta, "POST", "/api/1/invites/get_invite_link", &body).await;
    assert_eq!(la.status, 200);
    let la = la.json();
    assert_eq!(la["status"], v1_ok()["status"]);
    let link = la["data"][0].as_str().unwrap().to_string();
    let token = link.strip_prefix("https://acme.onelogin.com/password/").unwrap();
    assert_eq!(token.len(), 40);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let lb = with_body(&b, &tb, "POST", "/api/1/invites/get_invite_link", &body).await.json();
    assert_eq!(lb["data"][0], json!(link));
    let again = with_body(&a, &ta, "POST", "/api/1/invites/get_invite_link", &body).await.json();
    assert_ne!(again["data"][0], json!(link));

    let r = with_body(&a, &ta, "POST", "/api/1/invites/get_invite_link", r#"{"email":"nobody@nowhere.test"}"#).await;
    assert_eq!(r.status, 400, "docs generate-invite-link");
    assert_eq!(r.json()["status"]["message"], "No User exists for input email");
    let r = with_body(&a, &ta, "POST", "/api/1/invites/get_invite_link", "{}").await;
    assert_eq!(r.json()["status"]["message"], "Email Parameter is missing");
    let r = with_body(&a, &ta, "PUT", "/api/1/users/abc/logout", "").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["status"]["message"], json!({"attribute": "id", "description": "ID is incorrect"}));

    let send_body = json!({"email": u.email, "personal_email": "me@home.test"}).to_string();
    let r = with_body(&a, &ta, "POST", "/api/1/invites/send_invite_link", &send_body).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), v1_ok());
    let after = a.tenant().user(u.id).cloned().unwrap();
    assert_eq!(after.invites_sent, 1);
    assert!(after.invitation_sent_at.is_some());
    let r = with_body(&a, &ta, "POST", "/api/1/invites/send_invite_link", r#"{"email":"nobody@nowhere.test"}"#).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn role_rename_and_app_set_replacement() {
    let sim = start(60).await;
    let token = manage_token(&sim).await;
    let t = sim.tenant();
    let role = t.roles[1].id;
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/roles/{role}"), r#"{"name":"Renamed"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"id": role}));
    assert_eq!(get(&sim, &token, &format!("/api/2/roles/{role}")).await.json()["name"], "Renamed");
    for bad in [r#"{"name":""}"#, r#"{"name":5}"#, "{}"] {
        let r = with_body(&sim, &token, "PUT", &format!("/api/2/roles/{role}"), bad).await;
        assert_eq!(r.status, 422, "{bad}");
        assert_eq!(r.json()["name"], "UnprocessableEntityError");
    }
    assert_eq!(with_body(&sim, &token, "PUT", "/api/2/roles/1", r#"{"name":"x"}"#).await.status, 404);

    let (a1, a2) = (t.apps[0].id, t.apps[2].id);
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/roles/{role}/apps"), &format!("[{a2},\"{a1}\"]")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": a1}, {"id": a2}]));
    assert_eq!(sim.tenant().role(role).unwrap().apps, vec![a1, a2]);
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/roles/{role}/apps"), &format!("[{a1},42]")).await;
    assert_eq!(r.status, 422);
    assert_eq!(sim.tenant().role(role).unwrap().apps, vec![a1, a2]);
    let r = with_body(&sim, &token, "PUT", &format!("/api/2/roles/{role}/apps"), "[]").await;
    assert_eq!(r.json(), json!([]));
    assert!(sim.tenant().role(role).unwrap().apps.is_empty());
}

#[tokio::test]
async fn mfa_devices_list_active_only_and_delete_by_device_id() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let t = sim.tenant();
    let with_devices = t.users.iter().filter(|u| !u.mfa_devices.is_empty()).count();
    assert!((5..=25).contains(&with_devices), "{with_devices}");
    let u = t.users.iter().find(|u| u.mfa_devices.iter().any(|d| !d.active)).cloned().unwrap();
    let list = get(&sim, &token, &format!("/api/2/mfa/users/{}/devices", u.id)).await;
    assert_eq!(list.status, 200);
    let expected: Vec<Value> = u
        .mfa_devices
        .iter()
        .filter(|d| d.active)
        .map(|d| {
            json!({"device_id": d.device_id, "user_display_name": d.user_display_name,
                   "type_display_name": d.type_display_name, "auth_factor_name": d.auth_factor_name,
                   "default": d.default})
        })
        .collect();
    assert_eq!(list.json(), Value::Array(expected));
    // v1 otp_devices lists pending devices too, with int ids.
    let v1 = get(&sim, &token, &format!("/api/1/users/{}/otp_devices", u.id)).await.json();
    assert_eq!(v1["data"]["otp_devices"].as_array().unwrap().len(), u.mfa_devices.len());
    assert!(v1["data"]["otp_devices"][0]["id"].is_u64());

    let dev = u.mfa_devices[0].device_id.clone();
    let path = format!("/api/2/mfa/users/{}/devices/{dev}", u.id);
    let auth = [("Authorization", format!("Bearer {token}"))];
    let r = send(sim.addr(), "DELETE", &path, &auth, None).await;
    assert_eq!(r.status, 204);
    assert!(sim.tenant().user(u.id).unwrap().mfa_devices.iter().all(|d| d.device_id != dev));
    assert_eq!(send(sim.addr(), "DELETE", &path, &auth, None).await.json()["name"], "NotFoundError");
    let r = send(sim.addr(), "DELETE", &format!("/api/2/mfa/users/1/devices/{dev}"), &auth, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(get(&sim, &token, "/api/2/mfa/users/1/devices").await.status, 404);
    let none = t.users.iter().find(|u| u.mfa_devices.is_empty()).unwrap().id;
    assert_eq!(get(&sim, &token, &format!("/api/2/mfa/users/{none}/devices")).await.json(), json!([]));
}

#[tokio::test]
async fn commit_then_drop_applies_the_write_but_loses_the_response() {
    let sim = start(40).await;
    let token = manage_token(&sim).await;
    let t = sim.tenant();
    let role = t.roles.iter().find(|r| r.users.is_empty()).unwrap().id;
    let uid = t.users[0].id;
    sim.inject(Fault::on("/api/2/roles", FaultKind::CommitThenDrop, 1));
    let auth = [("Authorization", format!("Bearer {token}")), json_ct()];
    let body = format!("[{uid}]");
    let r = raw(sim.addr(), "POST", &format!("/api/2/roles/{role}/users"), &auth, Some(body.as_bytes())).await;
    assert!(r.is_err(), "{r:?}");
    assert!(sim.tenant().role(role).unwrap().users.contains(&uid));
    // The fault is used up: a retry is a normal, idempotent success.
    let r = with_body(&sim, &token, "POST", &format!("/api/2/roles/{role}/users"), &body).await;
    assert_eq!(r.status, 200);

    // Same for a create: the user exists although the client saw no 201.
    sim.inject(Fault::on("/api/2/users", FaultKind::CommitThenDrop, 1));
    let r = raw(sim.addr(), "POST", "/api/2/users", &auth, Some(br#"{"email":"lost@example.com"}"#)).await;
    assert!(r.is_err(), "{r:?}");
    assert!(sim.tenant().users.iter().any(|u| u.email == "lost@example.com"));
    let dup = with_body(&sim, &token, "POST", "/api/2/users", r#"{"email":"lost@example.com"}"#).await;
    assert_eq!(dup.status, 422);
}

#[tokio::test]
async fn read_scope_cannot_call_the_write_endpoints() {
    let sim = start(20).await;
    let read = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let uid = t.users[0].id;
    let role = t.roles[0].id;
    for (method, path) in [
        ("POST", "/api/2/users".to_string()),
        ("PUT", format!("/api/2/users/{uid}")),
        ("DELETE", format!("/api/2/users/{uid}")),
        ("POST", format!("/api/2/users/{uid}/unlock")),
        ("PUT", format!("/api/2/roles/{role}")),
        ("PUT", format!("/api/2/roles/{role}/apps")),
        ("DELETE", format!("/api/2/mfa/users/{uid}/devices/1")),
    ] {
        assert_eq!(with_body(&sim, &read, method, &path, "{}").await.status, 403, "{method} {path}");
    }
    for (method, path) in [
        ("PUT", format!("/api/1/users/{uid}/logout")),
        ("PUT", format!("/api/1/users/{uid}/lock_user")),
        ("PUT", format!("/api/1/users/set_password_clear_text/{uid}")),
        ("POST", "/api/1/invites/send_invite_link".to_string()),
    ] {
        assert_eq!(with_body(&sim, &read, method, &path, "{}").await.status, 401, "{method} {path}");
    }
    assert_eq!(sim.tenant(), t);
}
