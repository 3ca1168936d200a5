//! Users: `GET /api/2/users` (filters, `fields` projection, header pagination),
//! `GET /api/2/users/{id}`, `GET /api/2/users/custom_attributes`, and the v1
//! `GET /api/1/users`, `GET /api/1/users/{id}`, `GET /api/1/users/{id}/roles`.
//!
//! v2 users carry `role_ids`; v1 users carry `role_id` (null when empty) plus
//! `openid_name` and `locale_code`.

use std::collections::HashSet;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::{glob_match, parse_id, project};
use crate::simulator::errors::{json_response, v1_not_found, v1_success_status, v2_bad_request, v2_not_found};
use crate::simulator::pagination::{v1_list, v2_list, Params, V2Page};
use crate::simulator::tenant::{custom_attribute_display_name, parse_iso_millis, User, CUSTOM_ATTRIBUTE_ID_BASE};
use crate::simulator::{limits, lock, Shared};

/// The users routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/2/users", get(list_v2))
        .route("/api/2/users/custom_attributes", get(custom_attributes))
        .route("/api/2/users/{id}", get(get_v2))
        .route("/api/1/users", get(list_v1))
        .route("/api/1/users/{id}", get(get_v1))
        .route("/api/1/users/{id}/roles", get(roles_v1))
}

/// A user as v2 JSON.
pub fn v2_user(u: &User) -> Value {
    serde_json::to_value(u).unwrap_or(Value::Null)
}

/// A user as v1 JSON: `role_id` instead of `role_ids` (null when empty), plus
/// `openid_name` and `locale_code`.
pub fn v1_user(u: &User) -> Value {
    let mut v = v2_user(u);
    if let Value::Object(obj) = &mut v {
        obj.remove("role_ids");
        let role_id = if u.role_ids.is_empty() { Value::Null } else { json!(u.role_ids) };
        obj.insert("role_id".into(), role_id);
        let openid = u.email.split('@').next().unwrap_or("").to_string();
        obj.insert("openid_name".into(), Value::String(openid));
        obj.insert("locale_code".into(), Value::Null);
    }
    v
}

/// The `GET /api/2/users` filters that are supported.
#[derive(Default)]
struct UserFilter {
    user_ids: Option<HashSet<u64>>,
    group_id: Option<u64>,
    role_id: Option<u64>,
    updated_since: Option<i64>,
    updated_until: Option<i64>,
    created_since: Option<i64>,
    created_until: Option<i64>,
    text: Vec<(&'static str, String)>,
}

impl UserFilter {
    fn from_params(p: &Params) -> Result<UserFilter, Response> {
        let num = |name: &str| -> Result<Option<u64>, Response> {
            p.get(name)
                .map(|v| v.trim().parse::<u64>().map_err(|_| v2_bad_request(&format!("Invalid {name}"))))
                .transpose()
        };
        let time = |name: &str| -> Result<Option<i64>, Response> {
            p.get(name)
                .map(|v| parse_iso_millis(v).ok_or_else(|| v2_bad_request(&format!("Invalid {name}"))))
                .transpose()
        };
        let user_ids = match p.get("user_ids") {
            Some(csv) => {
                let mut set = HashSet::new();
                for part in csv.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    set.insert(part.parse::<u64>().map_err(|_| v2_bad_request("Invalid user_ids"))?);
                }
                Some(set)
            }
            None => None,
        };
        let mut text = Vec::new();
        for name in ["email", "username", "firstname", "lastname"] {
            if let Some(v) = p.get(name) {
                text.push((name, v.to_string()));
            }
        }
        Ok(UserFilter {
            user_ids,
            group_id: num("group_id")?,
            role_id: num("role_id")?,
            updated_since: time("updated_since")?,
            updated_until: time("updated_until")?,
            created_since: time("created_since")?,
            created_until: time("created_until")?,
            text,
        })
    }

    fn matches(&self, u: &User) -> bool {
        let ts = |s: &str| parse_iso_millis(s).unwrap_or(0);
        self.user_ids.as_ref().is_none_or(|s| s.contains(&u.id))
            && self.group_id.is_none_or(|g| u.group_id == Some(g))
            && self.role_id.is_none_or(|r| u.role_ids.contains(&r))
            && self.updated_since.is_none_or(|t| ts(&u.updated_at) >= t)
            && self.updated_until.is_none_or(|t| ts(&u.updated_at) <= t)
            && self.created_since.is_none_or(|t| ts(&u.created_at) >= t)
            && self.created_until.is_none_or(|t| ts(&u.created_at) <= t)
            && self.text.iter().all(|(name, pat)| {
                let v = match *name {
                    "email" => &u.email,
                    "username" => &u.username,
                    "firstname" => &u.firstname,
                    _ => &u.lastname,
                };
                glob_match(pat, v)
            })
    }
}

/// `GET /api/2/users`.
async fn list_v2(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let page = match V2Page::from_params(&params, limits::USERS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let filter = match UserFilter::from_params(&params) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let matched: Vec<&User> = st.tenant.users.iter().filter(|u| filter.matches(u)).collect();
    let fields = params.get("fields");
    let items = matched[page.range(matched.len())].iter().map(|u| project(v2_user(u), fields)).collect();
    v2_list(items, matched.len(), page, &st.base_url, "/api/2/users", &params)
}

/// `GET /api/2/users/{id}`.
async fn get_v2(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    match parse_id(&id).and_then(|id| st.tenant.user(id)) {
        Some(u) => json_response(StatusCode::OK, &v2_user(u)),
        None => v2_not_found(),
    }
}

/// `GET /api/2/users/custom_attributes` (not paginated).
async fn custom_attributes(State(sim): State<Shared>) -> Response {
    let st = lock(&sim);
    let items: Vec<Value> = st
        .tenant
        .custom_attribute_names
        .iter()
        .enumerate()
        .map(|(i, short)| {
            json!({
                "id": CUSTOM_ATTRIBUTE_ID_BASE + i as u64,
                "name": custom_attribute_display_name(short),
                "shortname": short,
            })
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(items))
}

/// `GET /api/1/users`.
async fn list_v1(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let st = lock(&sim);
    let users = &st.tenant.users;
    let ids: Vec<u64> = users.iter().map(|u| u.id).collect();
    let fields = params.get("fields");
    v1_list(
        &ids,
        |i| project(v1_user(&users[i]), fields),
        &params,
        limits::V1_USERS,
        st.tenant.account_id,
        &st.base_url,
        "/api/1/users",
    )
}

fn v1_user_not_found(id: &str) -> Response {
    v1_not_found(&format!("User for id {id} was not found"))
}

/// `GET /api/1/users/{id}` (data is a one-element array).
async fn get_v1(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    match parse_id(&id).and_then(|n| st.tenant.user(n)) {
        Some(u) => json_response(StatusCode::OK, &json!({"status": v1_success_status(), "data": [v1_user(u)]})),
        None => v1_user_not_found(&id),
    }
}

/// `GET /api/1/users/{id}/roles` → `data: [roleId, …]`.
async fn roles_v1(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    match parse_id(&id).and_then(|n| st.tenant.user(n)) {
        Some(u) => json_response(StatusCode::OK, &json!({"status": v1_success_status(), "data": u.role_ids})),
        None => v1_user_not_found(&id),
    }
}
