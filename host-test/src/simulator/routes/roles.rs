//! Roles (v2): list/get, members and admins (list, add, remove) and apps.
//!
//! Member/admin writes take a raw JSON array of user ids, ints or strings
//! (`[123,"456"]`). `POST` answers 200 `[{"id":…}]`; `DELETE` (a DELETE with a body)
//! answers 204. Unknown role → 404; any unknown user → 422 and nothing changes;
//! re-adding a member or removing a non-member is a no-op success.
//! (Assumption, FIDELITY.md F-ROLE-8, F-ROLE-9: the 422 text and the no-op answers.)
//!
//! `PUT /api/2/roles/{id}` `{"name"}` renames (→ `{"id"}`); `PUT /api/2/roles/{id}/apps`
//! with a raw array of app ids replaces the role's app set (→ `[{"id"}]`).
//!
//! Mapping-granted members ([`Role::mapped_users`]): ASSUMPTION (FIDELITY.md F-MAP-4): `DELETE
//! /api/2/roles/{id}/users` removes them like any other member (only v1 `remove_roles`
//! is documented to refuse), and the next mapping run re-adds them.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::users::validation_failed;
use super::{glob_match, parse_id, project};
use crate::simulator::errors::{json_response, roles_service_error, v2_bad_request, v2_error, v2_not_found};
use crate::simulator::pagination::{v2_list, Params, V2Page};
use crate::simulator::tenant::{App, Role, User};
use crate::simulator::{limits, lock, Shared};

/// The roles routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/2/roles", get(list))
        .route("/api/2/roles/{id}", get(get_one).put(update))
        .route("/api/2/roles/{id}/users", get(list_users).post(add_users).delete(remove_users))
        .route("/api/2/roles/{id}/admins", get(list_admins).post(add_admins).delete(remove_admins))
        .route("/api/2/roles/{id}/apps", get(list_apps).put(set_apps))
}

/// A role as v2 JSON.
///
/// Assumption (FIDELITY.md F-ROLE-1): `users`/`admins` inline (docs show `apps` only).
pub fn role_json(r: &Role) -> Value {
    json!({"id": r.id, "name": r.name, "apps": r.apps, "users": r.users, "admins": r.admins})
}

/// `GET /api/2/roles` (filters: `name` or `role_name` with `*` wildcards, `app_id`,
/// `app_name` (roles holding an app of that name, wildcards); `fields`). Each item
/// carries the role's `apps` (ids) inline, plus `users` and `admins`.
async fn list(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let page = match V2Page::from_params(&params, limits::ROLES) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let app_id = match params.get("app_id").map(|a| a.trim().parse::<u64>()).transpose() {
        Ok(a) => a,
        Err(_) => return bad_filter("app_id"),
    };
    let st = lock(&sim);
    // `name` (docs) or `role_name` (py-sdk `list_roles`).
    let name = params.get("name").or_else(|| params.get("role_name"));
    // py-sdk `list_roles`: "Returns roles that contain this app name."
    let app_name = params.get("app_name");
    let holds_app_named =
        |r: &Role, n: &str| r.apps.iter().filter_map(|&a| st.tenant.app(a)).any(|a| glob_match(n, &a.name));
    let matched: Vec<&Role> = st
        .tenant
        .roles
        .iter()
        .filter(|r| name.is_none_or(|n| glob_match(n, &r.name)))
        .filter(|r| app_id.is_none_or(|a| r.apps.contains(&a)))
        .filter(|r| app_name.is_none_or(|n| holds_app_named(r, n)))
        .collect();
    let fields = params.get("fields");
    let items = matched[page.range(matched.len())].iter().map(|r| project(role_json(r), fields)).collect();
    v2_list(items, matched.len(), page, st.listing(), "/api/2/roles", &params)
}

/// A malformed roles filter: 400 in the roles service's dialect.
///
/// Assumption (FIDELITY.md F-ROLE-2, F-ERR-5): the answer to a malformed filter is
/// undocumented; the dialect is the one observed on `/api/2/roles`.
fn bad_filter(name: &str) -> Response {
    roles_service_error(StatusCode::BAD_REQUEST, &format!("Invalid {name}"))
}

/// A boolean query flag (`true`/`false`, `1`/`0`), `default` when absent.
fn flag(params: &Params, name: &str, default: bool) -> Result<bool, Response> {
    match params.get(name).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(_) => Err(bad_filter(name)),
    }
}

/// `GET /api/2/roles/{id}`.
async fn get_one(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    match parse_id(&id).and_then(|n| st.tenant.role(n)) {
        Some(r) => json_response(StatusCode::OK, &role_json(r)),
        None => v2_not_found(),
    }
}

/// A role member (or admin) item; `assigned` false for a user listed through
/// `include_unassigned`.
fn member_json(u: &User, assigned: bool) -> Value {
    json!({
        "id": u.id,
        "name": format!("{} {}", u.firstname, u.lastname),
        "username": u.username,
        "email": u.email,
        "added_by": null,
        "added_at": if assigned { json!(u.created_at) } else { Value::Null },
        "assigned": assigned,
    })
}

/// `GET /api/2/roles/{id}/users` and `/admins`: the members, then with
/// `include_unassigned=true` every other user (`assigned: false`), in id order.
///
/// Assumption (FIDELITY.md F-ROLE-4, F-ROLE-5): `added_by` null, `added_at` (null for
/// the unassigned), and the order members first.
async fn list_members(sim: Shared, id: String, q: Option<String>, admins: bool) -> Response {
    let params = Params::parse(q.as_deref());
    let max = if admins { limits::ROLE_ADMINS } else { limits::ROLE_USERS };
    let page = match V2Page::from_params(&params, max) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let include_unassigned = match flag(&params, "include_unassigned", false) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let Some(role) = parse_id(&id).and_then(|n| st.tenant.role(n)) else {
        return v2_not_found();
    };
    let ids = if admins { &role.admins } else { &role.users };
    let name = params.get("name");
    let named = |u: &User| {
        name.is_none_or(|n| [&u.firstname, &u.lastname, &u.username, &u.email].iter().any(|v| glob_match(n, v)))
    };
    let mut matched: Vec<Value> =
        ids.iter().filter_map(|&uid| st.tenant.user(uid)).filter(|u| named(u)).map(|u| member_json(u, true)).collect();
    if include_unassigned {
        let members: HashSet<u64> = ids.iter().copied().collect();
        let others = st.tenant.users.iter().filter(|u| !members.contains(&u.id) && named(u));
        matched.extend(others.map(|u| member_json(u, false)));
    }
    let total = matched.len();
    let items = matched[page.range(total)].to_vec();
    let path = format!("/api/2/roles/{}/{}", role.id, if admins { "admins" } else { "users" });
    v2_list(items, total, page, st.listing(), &path, &params)
}

/// `GET /api/2/roles/{id}/users`.
async fn list_users(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    list_members(sim, id, q, false).await
}

/// `GET /api/2/roles/{id}/admins`.
async fn list_admins(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    list_members(sim, id, q, true).await
}

/// Parses a raw JSON array of user ids (ints or numeric strings), deduplicated.
pub fn parse_id_array(body: &[u8]) -> Result<Vec<u64>, Response> {
    let bad = || v2_bad_request("Request body must be a non-empty JSON array of user ids");
    match serde_json::from_slice(body) {
        Ok(Value::Array(items)) => super::id_list(&items).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Validates the role, body and users of a member/admin write, then applies it.
fn write_members(sim: &Shared, id: &str, body: &[u8], admins: bool, add: bool) -> Result<Vec<u64>, Response> {
    let mut st = lock(sim);
    let role_id = parse_id(id).filter(|&n| st.tenant.role(n).is_some()).ok_or_else(v2_not_found)?;
    let ids = parse_id_array(body)?;
    if let Some(missing) = ids.iter().find(|&&u| st.tenant.user(u).is_none()) {
        return Err(v2_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnprocessableEntityError",
            &format!("Validation failed: user {missing} does not exist"),
        ));
    }
    if add {
        st.tenant.add_to_role(role_id, &ids, admins);
    } else {
        st.tenant.remove_from_role(role_id, &ids, admins);
    }
    Ok(ids)
}

fn added_response(result: Result<Vec<u64>, Response>) -> Response {
    match result {
        Ok(ids) => {
            let body: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
            json_response(StatusCode::OK, &Value::Array(body))
        }
        Err(r) => r,
    }
}

fn removed_response(result: Result<Vec<u64>, Response>) -> Response {
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

/// `POST /api/2/roles/{id}/users`.
async fn add_users(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    added_response(write_members(&sim, &id, &body, false, true))
}

/// `DELETE /api/2/roles/{id}/users`.
async fn remove_users(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    removed_response(write_members(&sim, &id, &body, false, false))
}

/// `POST /api/2/roles/{id}/admins`.
async fn add_admins(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    added_response(write_members(&sim, &id, &body, true, true))
}

/// `DELETE /api/2/roles/{id}/admins`.
async fn remove_admins(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    removed_response(write_members(&sim, &id, &body, true, false))
}

/// `GET /api/2/roles/{id}/apps` → `[{"id","name","icon_url"}]`: the role's apps, or
/// with `assigned=false` every app the role does not hold (py-sdk `get_role_apps`:
/// "Defaults to true. Returns all apps not yet assigned to the role.").
async fn list_apps(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let page = match V2Page::from_params(&params, limits::ROLE_APPS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let assigned = match flag(&params, "assigned", true) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let Some(role) = parse_id(&id).and_then(|n| st.tenant.role(n)) else {
        return v2_not_found();
    };
    let item = |a: &App| json!({"id": a.id, "name": a.name, "icon_url": super::apps::icon_url(a.connector_id)});
    let apps: Vec<Value> = if assigned {
        role.apps.iter().filter_map(|&a| st.tenant.app(a)).map(item).collect()
    } else {
        st.tenant.apps.iter().filter(|a| !role.apps.contains(&a.id)).map(item).collect()
    };
    let total = apps.len();
    let items = apps[page.range(total)].to_vec();
    let path = format!("/api/2/roles/{}/apps", role.id);
    v2_list(items, total, page, st.listing(), &path, &params)
}

/// `PUT /api/2/roles/{id}` `{"name":"…"}` → 200 `{"id":…}`; a missing, non-string or
/// blank name → 422.
async fn update(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&sim);
    let Some(role) = parse_id(&id).and_then(|n| st.tenant.role_mut(n)) else {
        return v2_not_found();
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return v2_bad_request("Request body must be a JSON object"),
    };
    let Some(name) = value.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty()) else {
        return validation_failed("name can't be blank");
    };
    role.name = name.to_string();
    json_response(StatusCode::OK, &json!({"id": role.id}))
}

/// `PUT /api/2/roles/{id}/apps` with a raw array of app ids (ints or numeric strings;
/// `[]` clears) → 200 `[{"id":…}]` of the new set, sorted. Any unknown app → 422 and
/// nothing changes.
/// (Assumption, FIDELITY.md F-ROLE-13: the response shape.)
async fn set_apps(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let mut st = lock(&sim);
    let Some(role_id) = parse_id(&id).filter(|&n| st.tenant.role(n).is_some()) else {
        return v2_not_found();
    };
    let bad = || v2_bad_request("Request body must be a JSON array of app ids");
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&body) else {
        return bad();
    };
    let mut apps = Vec::with_capacity(items.len());
    for item in items {
        let Some(app) = (match item {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        }) else {
            return bad();
        };
        if st.tenant.app(app).is_none() {
            return validation_failed(&format!("app {app} does not exist"));
        }
        apps.push(app);
    }
    apps.sort_unstable();
    apps.dedup();
    let body: Vec<Value> = apps.iter().map(|a| json!({"id": a})).collect();
    if let Some(role) = st.tenant.role_mut(role_id) {
        role.apps = apps;
    }
    json_response(StatusCode::OK, &Value::Array(body))
}
