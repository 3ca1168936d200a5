//! Integration tests for the OneLogin API simulator, over real HTTP with a minimal
//! HTTP/1.1 client.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use host_test::simulator::{
    limits, Fault, FaultKind, LastPageCursor, Refusal, Simulator, SimulatorConfig, Tenant, TokenThrottle, V2Throttle,
};
use serde_json::{json, Value};

mod http_client;

use http_client::*;

async fn start(users: usize) -> Simulator {
    Simulator::start(SimulatorConfig { users, ..SimulatorConfig::default() }).await.unwrap()
}

fn decode_cursor(c: &str) -> String {
    String::from_utf8(STANDARD.decode(c).unwrap()).unwrap()
}

// ---------- tests ----------

#[tokio::test]
async fn same_seed_gives_byte_identical_tenant() {
    let a = start(120).await;
    let b = start(120).await;
    let ja = serde_json::to_string(&a.tenant()).unwrap();
    assert_eq!(ja, serde_json::to_string(&b.tenant()).unwrap());
    assert_eq!(ja, serde_json::to_string(&Tenant::generate(120, 1)).unwrap());
    assert_eq!(a.manage_credentials(), b.manage_credentials());
    assert_ne!(a.manage_credentials(), a.read_credentials());
}

#[tokio::test]
async fn token_accepts_all_three_credential_forms_and_reuses_the_token() {
    let sim = start(10).await;
    let c = sim.manage_credentials();
    let addr = sim.addr();

    let header_space = send(
        addr,
        "POST",
        "/auth/oauth2/v2/token",
        &[("Authorization", format!("client_id:{}, client_secret:{}", c.client_id, c.client_secret)), json_ct()],
        Some(GRANT),
    )
    .await;
    let header_nospace = send(
        addr,
        "POST",
        "/auth/oauth2/v2/token",
        &[("Authorization", format!("client_id:{},client_secret:{}", c.client_id, c.client_secret)), json_ct()],
        Some(GRANT),
    )
    .await;
    let basic = send(
        addr,
        "POST",
        "/auth/oauth2/v2/token",
        &[
            ("Authorization", format!("Basic {}", STANDARD.encode(format!("{}:{}", c.client_id, c.client_secret)))),
            json_ct(),
        ],
        Some(GRANT),
    )
    .await;
    let form_body =
        format!("grant_type=client_credentials&client_id={}&client_secret={}", c.client_id, c.client_secret);
    let form = send(
        addr,
        "POST",
        "/auth/oauth2/v2/token",
        &[("Content-Type", "application/x-www-form-urlencoded".to_string())],
        Some(form_body.as_bytes()),
    )
    .await;
    let bodies: Vec<Value> = [header_space, header_nospace, basic, form]
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200);
            assert!(r.header("x-ratelimit-limit").is_none());
            r.json()
        })
        .collect();
    let first = &bodies[0];
    assert_eq!(first["token_type"], "bearer");
    assert_eq!(first["account_id"], json!(sim.tenant().account_id));
    assert!(first["expires_in"].as_u64().unwrap() <= 36_000);
    assert!(first["expires_in"].as_u64().unwrap() >= 35_990);
    assert!(first["refresh_token"].is_string());
    let created = first["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    for b in &bodies {
        assert_eq!(b["access_token"], first["access_token"]);
        assert_eq!(b["created_at"], first["created_at"]);
    }
    // The read client gets a different token.
    let read = token_for(&sim, &sim.read_credentials()).await;
    assert_ne!(json!(read), first["access_token"]);
}

#[tokio::test]
async fn token_rejects_bad_credentials_401_and_bad_grant_type_400() {
    let sim = start(5).await;
    let c = sim.manage_credentials();
    let bad = send(
        sim.addr(),
        "POST",
        "/auth/oauth2/v2/token",
        &[("Authorization", format!("client_id:{}, client_secret:nope", c.client_id)), json_ct()],
        Some(GRANT),
    )
    .await;
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.json(),
        json!({"status":{"error":true,"code":401,"type":"Unauthorized","message":"Authentication Failure"}})
    );
    let missing = send(sim.addr(), "POST", "/auth/oauth2/v2/token", &[json_ct()], Some(GRANT)).await;
    assert_eq!(missing.status, 401);
    let no_grant = send(
        sim.addr(),
        "POST",
        "/auth/oauth2/v2/token",
        &[("Authorization", format!("client_id:{}, client_secret:{}", c.client_id, c.client_secret)), json_ct()],
        Some(br#"{"grant_type":"password"}"#),
    )
    .await;
    assert_eq!(no_grant.status, 400);
    assert_eq!(
        no_grant.json(),
        json!({"status":{"error":true,"code":400,"type":"bad request","message":"grant_type is incorrect/absent"}})
    );
}

#[tokio::test]
async fn api_without_valid_token_is_401_in_each_dialect() {
    let sim = start(5).await;
    let v2 = get(&sim, "bogus", "/api/2/users").await;
    assert_eq!(v2.status, 401);
    assert_eq!(v2.json(), json!({"message":"Unauthorized","statusCode":401,"name":"UnauthorizedError"}));
    let v1 = send(sim.addr(), "GET", "/api/1/groups", &[], None).await;
    assert_eq!(v1.status, 401);
    assert_eq!(v1.json()["status"]["message"], "Authentication Failure");
    // `bearer:<token>` and lowercase `bearer` work too.
    let token = token_for(&sim, &sim.manage_credentials()).await;
    for h in [format!("bearer:{token}"), format!("bearer {token}")] {
        let r = send(sim.addr(), "GET", "/api/1/groups", &[("Authorization", h)], None).await;
        assert_eq!(r.status, 200);
    }
}

#[tokio::test]
async fn revoke_all_tokens_forces_reauthentication_with_a_new_token() {
    let sim = start(5).await;
    let creds = sim.manage_credentials();
    let t1 = token_for(&sim, &creds).await;
    assert_eq!(get(&sim, &t1, "/api/2/users").await.status, 200);
    sim.revoke_all_tokens();
    assert_eq!(get(&sim, &t1, "/api/2/users").await.status, 401);
    let t2 = token_for(&sim, &creds).await;
    assert_ne!(t1, t2);
    assert_eq!(get(&sim, &t2, "/api/2/users").await.status, 200);

    // The revoke endpoint revokes a single token.
    let body = json!({"access_token": t2}).to_string();
    let r = send(
        sim.addr(),
        "POST",
        "/auth/oauth2/revoke",
        &[
            ("Authorization", format!("client_id:{}, client_secret:{}", creds.client_id, creds.client_secret)),
            json_ct(),
        ],
        Some(body.as_bytes()),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"]["error"], false);
    assert_eq!(get(&sim, &t2, "/api/2/users").await.status, 401);
}

#[tokio::test]
async fn token_expires_after_ttl_and_a_new_one_is_issued() {
    let sim = Simulator::start(SimulatorConfig {
        users: 3,
        token_ttl: Duration::from_millis(1200),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let creds = sim.manage_credentials();
    let t1 = token_for(&sim, &creds).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(get(&sim, &t1, "/api/2/users").await.status, 401);
    let t2 = token_for(&sim, &creds).await;
    assert_ne!(t1, t2);
}

#[tokio::test]
async fn v2_users_pagination_walks_every_user_exactly_once() {
    let sim = start(237).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let mut seen = Vec::new();
    let mut path = "/api/2/users?limit=50".to_string();
    let mut page = 1;
    loop {
        let r = get(&sim, &token, &path).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("total-count"), Some("237"));
        assert_eq!(r.header("total-pages"), Some("5"));
        assert_eq!(r.header("current-page"), Some(page.to_string().as_str()));
        let items = r.json();
        let items = items.as_array().unwrap();
        assert_eq!(r.header("page-items"), Some(items.len().to_string().as_str()));
        seen.extend(items.iter().map(|u| u["id"].as_u64().unwrap()));
        assert_eq!(r.header("before-cursor").is_some(), page > 1);
        if page > 1 {
            assert_eq!(decode_cursor(r.header("before-cursor").unwrap()), format!("limit=50&page={}", page - 1));
        }
        assert!(r.header("link").is_some());
        match r.header("after-cursor") {
            Some(c) => {
                assert_eq!(decode_cursor(c), format!("limit=50&page={}", page + 1));
                assert!(r.header("link").unwrap().contains("rel=\"next\""));
                page += 1;
                path = format!("/api/2/users?cursor={}", c.replace('=', "%3D"));
            }
            None => break,
        }
    }
    assert_eq!(page, 5);
    let expected: Vec<u64> = sim.tenant().users.iter().map(|u| u.id).collect();
    assert_eq!(seen, expected);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 237);
    // Users carry role_ids, and projection keeps id.
    let r = get(&sim, &token, "/api/2/users?limit=2&fields=email").await;
    let items = r.json();
    assert_eq!(items[0].as_object().unwrap().len(), 2);
    assert!(items[0]["email"].is_string() && items[0]["id"].is_u64());
}

#[tokio::test]
async fn v2_limit_above_max_is_capped_and_bad_cursor_is_400() {
    let sim = start(120).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let r = get(&sim, &token, "/api/2/users?limit=500").await;
    assert_eq!(r.json().as_array().unwrap().len(), limits::USERS);
    assert_eq!(decode_cursor(r.header("after-cursor").unwrap()), format!("limit={}&page=2", limits::USERS));
    let bad = get(&sim, &token, "/api/2/users?cursor=%21%21notbase64").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json(), json!({"status":400,"error":"BadRequestError","description":"Invalid pagination cursor"}));
    // Single page: neither cursor.
    let r = get(&sim, &token, "/api/2/roles").await;
    assert!(r.header("after-cursor").is_none() && r.header("before-cursor").is_none());
    assert_eq!(r.json().as_array().unwrap().len(), sim.tenant().roles.len());
}

#[tokio::test]
async fn v2_user_detail_filters_and_custom_attributes() {
    let sim = start(60).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let u = &t.users[7];
    let r = get(&sim, &token, &format!("/api/2/users/{}", u.id)).await;
    assert_eq!(r.json(), serde_json::to_value(u).unwrap());
    let nf = get(&sim, &token, "/api/2/users/1").await;
    assert_eq!(nf.status, 404);
    assert_eq!(
        nf.json(),
        json!({"message":"The resource with the given id could not be found","statusCode":404,"name":"NotFoundError"})
    );
    let g = t.users.iter().find_map(|u| u.group_id).unwrap();
    let r = get(&sim, &token, &format!("/api/2/users?group_id={g}")).await;
    let want = t.users.iter().filter(|u| u.group_id == Some(g)).count();
    assert_eq!(r.json().as_array().unwrap().len(), want);
    let ca = get(&sim, &token, "/api/2/users/custom_attributes").await.json();
    assert_eq!(ca[0]["shortname"], "employee_number");
    assert_eq!(ca[0]["name"], "Employee Number");
}

#[tokio::test]
async fn v1_groups_body_cursor_walk_and_group_by_id() {
    let sim = start(1300).await; // 52 groups
    let token = token_for(&sim, &sim.read_credentials()).await;
    let mut seen = Vec::new();
    let mut path = "/api/1/groups?limit=20".to_string();
    let mut pages = 0;
    loop {
        let r = get(&sim, &token, &path).await;
        assert_eq!(r.status, 200);
        assert!(r.header("x-ratelimit-remaining").is_some());
        let body = r.json();
        assert_eq!(body["status"]["code"], 200);
        pages += 1;
        for g in body["data"].as_array().unwrap() {
            assert!(g["reference"].is_null());
            seen.push(g["id"].as_u64().unwrap());
        }
        let p = &body["pagination"];
        assert_eq!(p["before_cursor"].is_null(), pages == 1);
        match p["after_cursor"].as_str() {
            Some(c) => {
                let next = p["next_link"].as_str().unwrap();
                assert!(next.starts_with(&sim.base_url()));
                path = next.trim_start_matches(&sim.base_url()).to_string();
                assert!(path.contains("after_cursor=") && path.contains(c));
            }
            None => {
                assert!(p["next_link"].is_null());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<u64> = sim.tenant().groups.iter().map(|g| g.id).collect();
    assert_eq!(seen, expected);

    let one = get(&sim, &token, &format!("/api/1/groups/{}", expected[0])).await.json();
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    let nf = get(&sim, &token, "/api/1/groups/9999").await;
    assert_eq!(nf.status, 404);
    assert_eq!(
        nf.json(),
        json!({"status":{"error":true,"code":404,"type":"not found","message":"Group for id 9999 was not found"}})
    );
    let bad = get(&sim, &token, "/api/1/groups?after_cursor=%21%21").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["status"]["message"], "after_cursor is invalid");
    let default_page = get(&sim, &token, "/api/1/groups?limit=500").await.json();
    assert_eq!(default_page["data"].as_array().unwrap().len(), limits::V1_GROUPS);
}

#[tokio::test]
async fn v1_users_use_role_id_and_paginate() {
    let sim = start(120).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let body = get(&sim, &token, "/api/1/users").await.json();
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), limits::V1_USERS);
    for (u, v) in t.users.iter().zip(data) {
        assert!(v.get("role_ids").is_none());
        if u.role_ids.is_empty() {
            assert!(v["role_id"].is_null());
        } else {
            assert_eq!(v["role_id"], json!(u.role_ids));
        }
        assert!(v.get("openid_name").is_some() && v.get("locale_code").is_some());
    }
    let with_roles = t.users.iter().find(|u| !u.role_ids.is_empty()).unwrap();
    let r = get(&sim, &token, &format!("/api/1/users/{}/roles", with_roles.id)).await;
    assert_eq!(r.json()["data"], json!(with_roles.role_ids));
    let nr = get(&sim, &token, "/api/1/nope").await;
    assert_eq!(nr.status, 404);
    assert_eq!(nr.json()["status"]["message"], "No Route Exists");
    let nr2 = get(&sim, &token, "/api/2/nope").await;
    assert_eq!(nr2.json()["name"], "NotFoundError");
}

#[tokio::test]
async fn role_users_paginate_past_one_hundred_members() {
    let sim = start(300).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let big = t.roles.iter().find(|r| r.users.len() > 100).unwrap();
    let mut seen = Vec::new();
    let mut path = format!("/api/2/roles/{}/users", big.id);
    loop {
        let r = get(&sim, &token, &path).await;
        let items = r.json();
        assert!(items.as_array().unwrap().len() <= limits::ROLE_USERS);
        for it in items.as_array().unwrap() {
            assert_eq!(it["assigned"], true);
            assert!(it["name"].is_string() && it.get("added_by").is_some());
            seen.push(it["id"].as_u64().unwrap());
        }
        match r.header("after-cursor") {
            Some(c) => path = format!("/api/2/roles/{}/users?cursor={c}", big.id),
            None => break,
        }
    }
    assert_eq!(seen, big.users);
    let empty = t.roles.iter().find(|r| r.users.is_empty()).unwrap();
    let r = get(&sim, &token, &format!("/api/2/roles/{}/users", empty.id)).await;
    assert_eq!(r.json(), json!([]));
    assert_eq!(r.header("total-count"), Some("0"));
    assert!(r.header("after-cursor").is_none());
}

#[tokio::test]
async fn role_users_add_and_remove_via_raw_arrays() {
    let sim = start(40).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let t = sim.tenant();
    let role = t.roles.iter().find(|r| r.users.is_empty()).unwrap().id;
    let (a, b) = (t.users[0].id, t.users[1].id);

    let r = with_body(&sim, &token, "POST", &format!("/api/2/roles/{role}/users"), &format!("[{a},\"{b}\"]")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": a}, {"id": b}]));
    let t2 = sim.tenant();
    assert_eq!(t2.role(role).unwrap().users, vec![a, b]);
    assert!(t2.user(a).unwrap().role_ids.contains(&role));
    // Adding again is a no-op success.
    let again = with_body(&sim, &token, "POST", &format!("/api/2/roles/{role}/users"), &format!("[{a}]")).await;
    assert_eq!(again.status, 200);
    assert_eq!(sim.tenant().role(role).unwrap().users, vec![a, b]);

    // Unknown user → 422, nothing changes.
    let c = t.users[2].id;
    let bad = with_body(&sim, &token, "POST", &format!("/api/2/roles/{role}/users"), &format!("[{c},123]")).await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.json(),
        json!({"message":"Validation failed: user 123 does not exist","statusCode":422,"name":"UnprocessableEntityError"})
    );
    assert_eq!(sim.tenant().role(role).unwrap().users, vec![a, b]);
    // Unknown role → 404; non-array bodies → 400.
    let nf = with_body(&sim, &token, "POST", "/api/2/roles/1/users", &format!("[{a}]")).await;
    assert_eq!(nf.status, 404);
    assert_eq!(nf.json()["name"], "NotFoundError");
    for body in [r#"{"user_id":[1]}"#, "[true]", "[]", "not json"] {
        let r = with_body(&sim, &token, "POST", &format!("/api/2/roles/{role}/users"), body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["name"], "BadRequestError");
    }

    // DELETE with a body → 204; removing a non-member is a no-op 204.
    let del = with_body(&sim, &token, "DELETE", &format!("/api/2/roles/{role}/users"), &format!("[\"{a}\"]")).await;
    assert_eq!(del.status, 204);
    assert!(del.body.is_empty());
    let t3 = sim.tenant();
    assert_eq!(t3.role(role).unwrap().users, vec![b]);
    assert!(!t3.user(a).unwrap().role_ids.contains(&role));
    let noop = with_body(&sim, &token, "DELETE", &format!("/api/2/roles/{role}/users"), &format!("[{a}]")).await;
    assert_eq!(noop.status, 204);
    // Empty or missing body → 400.
    let empty = send(
        sim.addr(),
        "DELETE",
        &format!("/api/2/roles/{role}/users"),
        &[("Authorization", format!("Bearer {token}"))],
        None,
    )
    .await;
    assert_eq!(empty.status, 400);

    // Admins work the same way and don't touch role_ids.
    let r = with_body(&sim, &token, "POST", &format!("/api/2/roles/{role}/admins"), &format!("[{c}]")).await;
    assert_eq!(r.status, 200);
    let t4 = sim.tenant();
    assert!(t4.role(role).unwrap().admins.contains(&c));
    assert!(!t4.user(c).unwrap().role_ids.contains(&role));
    let listed = get(&sim, &token, &format!("/api/2/roles/{role}/admins")).await.json();
    assert!(listed.as_array().unwrap().iter().any(|x| x["id"] == json!(c)));
    let del = with_body(&sim, &token, "DELETE", &format!("/api/2/roles/{role}/admins"), &format!("[{c}]")).await;
    assert_eq!(del.status, 204);
    assert!(!sim.tenant().role(role).unwrap().admins.contains(&c));
}

#[tokio::test]
async fn read_scope_writes_are_403_on_v2_and_401_insufficient_permission_on_v1() {
    let sim = start(20).await;
    let read = token_for(&sim, &sim.read_credentials()).await;
    let manage = token_for(&sim, &sim.manage_credentials()).await;
    let role = sim.tenant().roles[1].id;
    let uid = sim.tenant().users[0].id;
    let r = with_body(&sim, &read, "POST", &format!("/api/2/roles/{role}/users"), &format!("[{uid}]")).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json(), json!({"statusCode":403,"name":"ForbiddenError","message":"Insufficient Permission"}));
    let v1 = with_body(&sim, &read, "PUT", &format!("/api/1/users/{uid}/add_roles"), "{}").await;
    assert_eq!(v1.status, 401);
    assert_eq!(
        v1.json(),
        json!({"status":{"error":true,"code":401,"type":"Unauthorized","message":"Insufficient Permission"}})
    );
    // Connectors is a Manage All probe.
    assert_eq!(get(&sim, &read, "/api/2/connectors").await.status, 403);
    let ok = get(&sim, &manage, "/api/2/connectors?limit=1").await;
    assert_eq!(ok.status, 200);
    let c = ok.json();
    assert_eq!(c[0]["allows_new_parameters"], false);
    assert!(c[0]["id"].is_u64() && c[0]["name"].is_string());
    // Reads are fine with the read token, except those the docs reserve for Manage All.
    assert_eq!(get(&sim, &read, "/api/2/roles").await.status, 200);
    let app = sim.tenant().apps[0].id;
    for path in [format!("/api/2/apps/{app}/rules"), format!("/api/2/mfa/users/{uid}/devices")] {
        assert_eq!(get(&sim, &read, &path).await.status, 403, "{path}");
        assert_eq!(get(&sim, &manage, &path).await.status, 200, "{path}");
    }
    let privileges = get(&sim, &read, "/api/1/privileges").await;
    assert_eq!(privileges.status, 403, "privileges answer in the v2 style");
    assert_eq!(privileges.json()["name"], "ForbiddenError");
    assert_eq!(get(&sim, &manage, "/api/1/privileges").await.status, 200);
    assert_eq!(get(&sim, &read, &format!("/api/2/apps/{app}/users")).await.status, 200);
}

#[tokio::test]
async fn a_cursor_with_limit_or_page_is_the_real_400_and_a_bad_cursor_is_too() {
    let sim = start(120).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let first = get(&sim, &token, "/api/2/users?limit=50").await;
    let cursor = first.header("after-cursor").unwrap().to_string();
    for query in [format!("cursor={cursor}&limit=50"), format!("page=2&cursor={cursor}")] {
        let r = get(&sim, &token, &format!("/api/2/roles?{query}")).await;
        assert_eq!(r.status, 400, "{query}");
        assert_eq!(
            r.json(),
            json!({"status":400,"error":"BadRequestError","description":"Requests can only have cursor xor pagination arguments"})
        );
    }
    let alone = get(&sim, &token, &format!("/api/2/users?cursor={cursor}&fields=id")).await;
    assert_eq!(alone.status, 200);
    assert_eq!(alone.header("current-page"), Some("2"));
    let bad = get(&sim, &token, "/api/2/roles?cursor=765415").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["description"], "Invalid pagination cursor");
}

#[tokio::test]
async fn the_last_page_after_cursor_is_a_switch_and_points_past_the_end() {
    for (answer, stale) in [(LastPageCursor::Absent, false), (LastPageCursor::PastTheEnd, true)] {
        let config = SimulatorConfig { users: 120, last_page_cursor: answer, ..SimulatorConfig::default() };
        let sim = Simulator::start(config).await.unwrap();
        let token = token_for(&sim, &sim.read_credentials()).await;
        let last = get(&sim, &token, "/api/2/users?limit=50&page=3").await;
        assert_eq!((last.header("current-page"), last.header("total-pages")), (Some("3"), Some("3")));
        assert_eq!(last.header("after-cursor").is_some(), stale, "{answer:?}");
        assert!(!last.header("link").unwrap_or("").contains("rel=\"next\""), "no next link on the last page");
        if let Some(cursor) = last.header("after-cursor") {
            assert_eq!(decode_cursor(cursor), "limit=50&page=4");
            let past = get(&sim, &token, &format!("/api/2/users?cursor={cursor}")).await;
            assert_eq!((past.status, past.json()), (200, json!([])));
        }
        let middle = get(&sim, &token, "/api/2/users?limit=50&page=2").await;
        assert_eq!(decode_cursor(middle.header("after-cursor").unwrap()), "limit=50&page=3");
    }
}

#[tokio::test]
async fn app_rules_come_without_paging_or_rate_headers() {
    let sim = start(60).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let app = sim.tenant().apps[0].id;
    let r = get(&sim, &token, &format!("/api/2/apps/{app}/rules")).await;
    assert_eq!(r.status, 200);
    assert!(r.json().is_array());
    for header in ["total-count", "total-pages", "current-page", "after-cursor", "link", "x-ratelimit-remaining"] {
        assert!(r.header(header).is_none(), "{header}");
    }
}

#[tokio::test]
async fn v2_calls_over_the_in_flight_limit_are_refused_as_configured() {
    let refusals = [
        (Refusal::TooManyRequests, 429, false),
        (Refusal::TooManyRequestsRetryAfter, 429, true),
        (Refusal::BadGateway, 502, false),
    ];
    for (refusal, status, retry_after) in refusals {
        let config = SimulatorConfig {
            users: 10,
            latency: Duration::from_millis(300),
            v2_throttle: V2Throttle { max_in_flight: Some(2), refusal, ..V2Throttle::default() },
            ..SimulatorConfig::default()
        };
        let sim = Simulator::start(config).await.unwrap();
        let token = token_for(&sim, &sim.manage_credentials()).await;
        let roles = || get(&sim, &token, "/api/2/roles");
        let (a, b, c, d, e, f) = tokio::join!(roles(), roles(), roles(), roles(), roles(), roles());
        let answers = [a, b, c, d, e, f];
        let refused: Vec<_> = answers.iter().filter(|r| r.status != 200).collect();
        assert_eq!(refused.len(), 4, "{refusal:?}: two in flight at once");
        for r in refused {
            assert_eq!(r.status, status);
            assert!(r.header("x-ratelimit-remaining").is_none());
            assert_eq!(r.header("retry-after").is_some(), retry_after, "{refusal:?}");
        }
        assert_eq!(sim.v2_refused(), 4);
        // v1 calls are never throttled this way.
        let groups = || get(&sim, &token, "/api/1/groups");
        let (a, b, c, d) = tokio::join!(groups(), groups(), groups(), groups());
        assert!([a, b, c, d].iter().all(|r| r.status == 200));
    }
}

#[tokio::test]
async fn repeated_bad_credentials_get_the_token_endpoints_html_429() {
    let sim = start(5).await;
    let c = sim.manage_credentials();
    let headers = [("Authorization", format!("client_id:{}, client_secret:nope", c.client_id)), json_ct()];
    let bad = || send(sim.addr(), "POST", "/auth/oauth2/v2/token", &headers, Some(GRANT));
    for _ in 0..TokenThrottle::default().failures {
        assert_eq!(bad().await.status, 401);
    }
    let throttled = bad().await;
    assert_eq!(throttled.status, 429);
    assert!(throttled.header("content-type").unwrap().starts_with("text/html"));
    assert!(throttled.header("x-ratelimit-limit").is_none());
    // The lock-out is per client id: the read client still gets its token.
    token_for(&sim, &sim.read_credentials()).await;
}

#[tokio::test]
async fn apps_and_app_users_follow_role_grants() {
    let sim = start(90).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let apps = get(&sim, &token, "/api/2/apps").await.json();
    assert_eq!(apps.as_array().unwrap().len(), t.apps.len());
    assert!(apps[0]["provisioning"]["enabled"].is_boolean());
    let role = t.roles.iter().find(|r| !r.apps.is_empty() && !r.users.is_empty()).unwrap();
    let app = role.apps[0];
    let users = get(&sim, &token, &format!("/api/2/apps/{app}/users")).await.json();
    let got: HashSet<u64> = users.as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
    assert_eq!(got, t.app_user_ids(app).into_iter().collect());
    assert!(role.users.iter().all(|u| got.contains(u)));
    let role_apps = get(&sim, &token, &format!("/api/2/roles/{}/apps", role.id)).await.json();
    assert_eq!(role_apps.as_array().unwrap().len(), role.apps.len());
    assert!(role_apps[0]["icon_url"].is_string());
    assert_eq!(get(&sim, &token, "/api/2/apps/5").await.status, 404);
}

#[tokio::test]
async fn rate_limit_exhaustion_returns_429_with_headers() {
    let sim =
        Simulator::start(SimulatorConfig { users: 5, rate_limit_per_hour: Some(3), ..SimulatorConfig::default() })
            .await
            .unwrap();
    let token = token_for(&sim, &sim.manage_credentials()).await;
    for left in [2, 1, 0] {
        let r = get(&sim, &token, "/api/1/groups").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(r.header("x-ratelimit-remaining"), Some(left.to_string().as_str()));
        let reset: u64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset > 3500 && reset <= 3600);
    }
    // Token calls neither consume nor are blocked.
    token_for(&sim, &sim.manage_credentials()).await;
    let v1 = get(&sim, &token, "/api/1/groups").await;
    assert_eq!(v1.status, 429);
    assert_eq!(v1.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(
        v1.json(),
        json!({"status":{"error":true,"code":429,"type":"Too Many Requests","message":"Rate limit exceeded"}})
    );
    // v2 is off the v1 budget and carries no rate headers (FIDELITY.md F-RATE-2, F-RATE-3).
    let v2 = get(&sim, &token, "/api/2/users").await;
    assert_eq!(v2.status, 200);
    assert!(v2.header("x-ratelimit-remaining").is_none() && v2.header("x-ratelimit-limit").is_none());
    let rl =
        send(sim.addr(), "GET", "/auth/rate_limit", &[("Authorization", format!("Bearer {token}"))], None).await.json();
    assert_eq!(rl["data"]["X-RateLimit-Limit"], 3);
    assert_eq!(rl["data"]["X-RateLimit-Remaining"], 0);
}

#[tokio::test]
async fn rate_limit_off_sends_no_headers() {
    let sim = Simulator::start(SimulatorConfig { users: 5, rate_limit_per_hour: None, ..SimulatorConfig::default() })
        .await
        .unwrap();
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let r = get(&sim, &token, "/api/1/groups").await;
    assert!(r.header("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn fault_server_error_uses_the_path_dialect_and_is_used_up() {
    let sim = start(5).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    sim.inject(Fault::on("/api/", FaultKind::ServerError(503), 2));
    let v2 = get(&sim, &token, "/api/2/users").await;
    assert_eq!(v2.status, 503);
    assert_eq!(v2.json()["name"], "ServiceUnavailableError");
    assert_eq!(v2.json()["statusCode"], 503);
    let v1 = get(&sim, &token, "/api/1/groups").await;
    assert_eq!(v1.status, 503);
    assert_eq!(v1.json()["status"]["code"], 503);
    assert_eq!(v1.json()["status"]["error"], true);
    assert_eq!(get(&sim, &token, "/api/2/users").await.status, 200);
}

#[tokio::test]
async fn fault_rate_limited_with_and_without_headers() {
    let sim = start(5).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    sim.inject(Fault::on("/api/2/users", FaultKind::RateLimited { with_headers: true }, 1));
    sim.inject(Fault::on("/api/2/users", FaultKind::RateLimited { with_headers: false }, 1));
    let a = get(&sim, &token, "/api/2/users").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(a.header("x-ratelimit-reset"), Some("30"));
    let b = get(&sim, &token, "/api/2/users").await;
    assert_eq!(b.status, 429);
    assert!(b.header("x-ratelimit-remaining").is_none());
    assert_eq!(b.json()["name"], "TooManyRequestsError");
    assert_eq!(get(&sim, &token, "/api/2/users").await.status, 200);
}

#[tokio::test]
async fn fault_html_error_is_text_html() {
    let sim = start(5).await;
    sim.inject(Fault::on("/auth/", FaultKind::HtmlError(429), 1));
    let r = send(sim.addr(), "POST", "/auth/oauth2/v2/token", &[json_ct()], Some(GRANT)).await;
    assert_eq!(r.status, 429);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
}

#[tokio::test]
async fn fault_latency_delays_then_serves() {
    let sim = start(5).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    sim.inject(Fault::any(FaultKind::Latency(Duration::from_millis(300)), 1));
    let t0 = Instant::now();
    let r = get(&sim, &token, "/api/2/users").await;
    assert_eq!(r.status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let t1 = Instant::now();
    get(&sim, &token, "/api/2/users").await;
    assert!(t1.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn config_latency_applies_to_every_request() {
    let sim = Simulator::start(SimulatorConfig {
        users: 3,
        latency: Duration::from_millis(150),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let t0 = Instant::now();
    token_for(&sim, &sim.manage_credentials()).await;
    assert!(t0.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn fault_drop_connection_yields_no_complete_response() {
    let sim = start(5).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    sim.inject(Fault::on("/api/2/users", FaultKind::DropConnection, 1));
    let r = raw(sim.addr(), "GET", "/api/2/users", &[("Authorization", format!("Bearer {token}"))], None).await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(get(&sim, &token, "/api/2/users").await.status, 200);
}

#[tokio::test]
async fn request_counts_use_method_and_route_template() {
    let sim = start(20).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let role = sim.tenant().roles[0].id;
    get(&sim, &token, &format!("/api/2/roles/{role}/users")).await;
    get(&sim, &token, &format!("/api/2/roles/{role}/users")).await;
    get(&sim, "bad", "/api/2/users").await;
    get(&sim, &token, "/nowhere").await;
    sim.inject(Fault::any(FaultKind::ServerError(500), 1));
    get(&sim, &token, "/api/1/groups").await;
    let counts = sim.request_counts();
    assert_eq!(counts["POST /auth/oauth2/v2/token"], 1);
    assert_eq!(counts["GET /api/2/roles/{id}/users"], 2);
    assert_eq!(counts["GET /api/2/users"], 1);
    assert_eq!(counts["GET <unmatched>"], 1);
    assert_eq!(counts["GET /api/1/groups"], 1);
    assert_eq!(sim.total_requests(), 6);
    sim.reset_counts();
    assert_eq!(sim.total_requests(), 0);
    assert!(sim.request_counts().is_empty());
    sim.shutdown().await;
}
