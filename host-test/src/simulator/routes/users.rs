//! Users: `GET /api/2/users` (filters, `fields` projection, header pagination),
//! `GET /api/2/users/{id}`, `GET /api/2/users/custom_attributes`, the v2 writes
//! `POST /api/2/users`, `PUT`/`DELETE /api/2/users/{id}`, `POST /api/2/users/{id}/unlock`,
//! and the v1 `GET /api/1/users`, `GET /api/1/users/{id}`, `GET /api/1/users/{id}/roles`
//! (v1 user actions live in [`super::users_v1`]).
//!
//! v2 create/update bodies: unknown attributes (top-level or custom) → 400
//! `BadRequestError` "unknown attribute: x"; validation failures → 422
//! `UnprocessableEntityError` "Validation failed: …". `mappings=async|sync|disabled`
//! (default async) and `validate_policy=true|false` (default true) are query params;
//! `sync` mappings run before the response, `async` ones after it (docs update-user),
//! here when the next request arrives (Assumption, FIDELITY.md F-MAP-2: when exactly).
//! Passwords are never stored nor echoed: only `password_changed_at` and
//! [`User::password_set`].
//!
//! v2 users carry `role_ids`; v1 users carry `role_id` (null when empty) plus
//! `openid_name` and `locale_code`.
//!
//! User apps (not paginated): `GET /api/2/users/{id}/apps[?ignore_visibility=true]` →
//! bare array of py-sdk `GetUserApps200ResponseInner`
//! `{id, icon_url, extension, login_id, name, provisioning_status, provisioning_state,
//! provisioning_enabled}`; `GET /api/1/users/{id}/apps` → v1 envelope with
//! `{id, name, icon, provisioned, extension, login_id, personal}` items, and the
//! recorded quirk `"data":[[]]` when the user has no apps. Apps whose `visible` is
//! false are left out unless `ignore_visibility=true` (the SDK's description: "When
//! true will show all apps that are assigned to a user regardless of their portal
//! visibility setting").
//!
//! Custom attributes: `GET /api/2/users/custom_attributes` → `[{"id","name",
//! "shortname"}]` (go-sdk); `GET /api/1/users/custom_attributes` → `{"status":…,
//! "data":[["shortname",…]]}` (py-sdk `GetCustomAttributes200Response`: a list of
//! lists of strings).
//!
//! Every write logs an event naming the user (see [`crate::simulator::events`]).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use super::user_filter::{Dialect, UserFilter};
use super::{parse_id, project};
use crate::simulator::errors::{
    json_response, v1_not_found, v1_success_status, v2_bad_request, v2_error, v2_not_found,
};
use crate::simulator::events::{EVENT_CREATED, EVENT_UNLOCKED, EVENT_UPDATED};
use crate::simulator::pagination::{v1_list, v2_list, Params, V2Page};
use crate::simulator::tenant::{
    custom_attribute_display_name, now_iso, App, Tenant, User, APP_ID_BASE, CUSTOM_ATTRIBUTE_ID_BASE, STATUSES,
    USER_ID_BASE,
};
use crate::simulator::variance::{self, FieldVariance};
use crate::simulator::{limits, lock, Shared};
use crate::simulator::{Inner, ListRoleIds, SUBDOMAIN};

/// The users routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/2/users", get(list_v2).post(create_v2))
        .route("/api/2/users/custom_attributes", get(custom_attributes))
        .route("/api/2/users/{id}", get(get_v2).put(update_v2).delete(delete_v2))
        .route("/api/2/users/{id}/unlock", post(unlock_v2))
        .route("/api/2/users/{id}/apps", get(apps_v2))
        .route("/api/1/users", get(list_v1))
        .route("/api/1/users/custom_attributes", get(custom_attributes_v1))
        .route("/api/1/users/{id}", get(get_v1))
        .route("/api/1/users/{id}/roles", get(roles_v1))
        .route("/api/1/users/{id}/apps", get(apps_v1))
}

/// A user as v2 JSON (the simulator-only [`User`] fields are `#[serde(skip)]`).
pub fn v2_user(u: &User) -> Value {
    serde_json::to_value(u).unwrap_or(Value::Null)
}

/// A user as v2 JSON in the shape the simulator serves it
/// ([`crate::simulator::SimulatorConfig::field_variance`]).
pub fn served_user(st: &Inner, u: &User) -> Value {
    let mut value = v2_user(u);
    if st.field_variance == FieldVariance::Varied {
        variance::vary(&st.tenant, u, &mut value);
    }
    value
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

/// `GET /api/2/users`.
///
/// Items carry `role_ids` and `custom_attributes` only as
/// [`crate::simulator::SimulatorConfig::list_role_ids`] says (FIDELITY.md F-USER-2).
async fn list_v2(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let page = match V2Page::from_params(&params, limits::USERS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let filter = match UserFilter::from_params(&params, Dialect::V2) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let filter = filter.bind(&st.tenant);
    let matched: Vec<&User> = st.tenant.users.iter().filter(|u| filter.matches(u)).collect();
    let fields = params.get("fields");
    let asked = |name: &str| fields.is_some_and(|f| f.split(',').any(|f| f.trim() == name));
    let mode = st.list_role_ids;
    let items = matched[page.range(matched.len())]
        .iter()
        .map(|u| {
            let mut item = project(served_user(&st, u), fields);
            if let Value::Object(obj) = &mut item {
                for name in ["role_ids", "custom_attributes"] {
                    if mode == ListRoleIds::Never || !asked(name) {
                        obj.remove(name);
                    }
                }
            }
            item
        })
        .collect();
    v2_list(items, matched.len(), page, st.listing(), "/api/2/users", &params)
}

/// `GET /api/2/users/{id}`.
async fn get_v2(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    match parse_id(&id).and_then(|id| st.tenant.user(id)) {
        Some(u) => json_response(StatusCode::OK, &served_user(&st, u)),
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

/// `GET /api/1/users/custom_attributes` → `data: [[shortname, …]]`.
async fn custom_attributes_v1(State(sim): State<Shared>) -> Response {
    let st = lock(&sim);
    json_response(StatusCode::OK, &json!({"status": v1_success_status(), "data": [st.tenant.custom_attribute_names]}))
}

/// `login_id`: unique per (user, app).
///
/// Assumption (FIDELITY.md F-APP-10): a placeholder derivation.
fn login_id(user_id: u64, app_id: u64) -> u64 {
    user_id.saturating_sub(USER_ID_BASE) * 1_000_003 + app_id.saturating_sub(APP_ID_BASE) % 1_000_003
}

/// The user's apps for the user-apps routes: `(app, provisioning state, status)`,
/// visible apps only unless `ignore_visibility=true`.
fn visible_user_apps<'a>(tenant: &'a Tenant, user: &User, params: &Params) -> Vec<(&'a App, String, String)> {
    let all = params.get("ignore_visibility").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    tenant
        .accessible_app_ids(user)
        .into_iter()
        .filter_map(|a| tenant.app(a))
        .filter(|a| all || a.visible)
        .map(|a| {
            let (state, status) = tenant.provisioning_of(user, a.id);
            (a, state, status)
        })
        .collect()
}

/// The user's personal apps, when the simulator lists them (`personal_apps`, off
/// by default: the v1 docs say the list leaves them out).
///
/// Assumption (FIDELITY.md F-APP-16): when listed, v1 and v2 user-apps lists carry
/// them with `personal: true` (v2 documents no `personal` field; graph-onelogin
/// reads the flag in case).
fn listed_personal_apps(listed: bool, user_id: u64) -> Vec<crate::simulator::access::PersonalApp> {
    if listed {
        crate::simulator::access::personal_apps(user_id)
    } else {
        Vec::new()
    }
}

/// `GET /api/2/users/{id}/apps` (not paginated).
async fn apps_v2(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let st = lock(&sim);
    let Some(user) = parse_id(&id).and_then(|n| st.tenant.user(n)) else {
        return v2_not_found();
    };
    let items: Vec<Value> = visible_user_apps(&st.tenant, user, &params)
        .into_iter()
        .map(|(a, state, status)| {
            json!({
                "id": a.id,
                "icon_url": super::apps::icon_url(a.connector_id),
                "extension": a.auth_method == 6,
                "login_id": login_id(user.id, a.id),
                "name": a.name,
                "provisioning_status": status,
                "provisioning_state": state,
                "provisioning_enabled": a.provisioning_enabled,
            })
        })
        .chain(listed_personal_apps(st.personal_apps, user.id).into_iter().map(|p| {
            json!({
                "id": p.id,
                "icon_url": "/images/missing_connector_icon/square/mobile_50.png",
                "extension": true,
                "login_id": login_id(user.id, p.id),
                "name": p.name,
                "provisioning_status": "enabled",
                "provisioning_state": "unknown",
                "provisioning_enabled": false,
                "personal": true,
            })
        }))
        .collect();
    json_response(StatusCode::OK, &Value::Array(items))
}

/// `GET /api/1/users/{id}/apps`: v1 envelope; `"data":[[]]` when the user has no apps.
///
/// Assumption (FIDELITY.md F-APP-15): `provisioned` is null for an app without provisioning, `"pending"` for a
/// pending or in-progress state and `"unknown"` otherwise (the only values seen in
/// recorded traffic are null, "pending" and "unknown").
async fn apps_v1(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let st = lock(&sim);
    let Some(user) = parse_id(&id).and_then(|n| st.tenant.user(n)) else {
        return v1_user_not_found(&id);
    };
    let items: Vec<Value> = visible_user_apps(&st.tenant, user, &params)
        .into_iter()
        .map(|(a, state, _)| {
            let provisioned = if !a.provisioning_enabled {
                Value::Null
            } else if state.contains("pending") || matches!(state.as_str(), "provisioning" | "modifying" | "linking") {
                json!("pending")
            } else {
                json!("unknown")
            };
            json!({
                "id": a.id,
                "name": a.name,
                "icon": super::apps::icon_url(a.connector_id),
                "provisioned": provisioned,
                "extension": a.auth_method == 6,
                "login_id": login_id(user.id, a.id),
                "personal": false,
            })
        })
        .chain(listed_personal_apps(st.personal_apps, user.id).into_iter().map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "icon": "/images/missing_connector_icon/square/mobile_50.png",
                "provisioned": null,
                "extension": true,
                "login_id": login_id(user.id, p.id),
                "personal": true,
            })
        }))
        .collect();
    let data = if items.is_empty() { json!([[]]) } else { Value::Array(items) };
    json_response(StatusCode::OK, &json!({"status": v1_success_status(), "data": data}))
}

/// `GET /api/1/users` with the documented v1 filters ([`super::user_filter`]).
async fn list_v1(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let filter = match UserFilter::from_params(&params, Dialect::V1) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let matched: Vec<&User> = st.tenant.users.iter().filter(|u| filter.matches(u)).collect();
    let ids: Vec<u64> = matched.iter().map(|u| u.id).collect();
    let fields = params.get("fields");
    v1_list(
        &ids,
        |i| project(v1_user(matched[i]), fields),
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
///
/// Assumption (FIDELITY.md F-USER-8): by analogy with groups.
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

// ---------- v2 writes ----------

/// Top-level attributes a v2 create/update body may carry.
const WRITABLE: [&str; 20] = [
    "username",
    "email",
    "firstname",
    "lastname",
    "title",
    "department",
    "company",
    "comment",
    "phone",
    "manager_user_id",
    "external_id",
    "status",
    "state",
    "group_id",
    "preferred_locale_code",
    "custom_attributes",
    "password",
    "password_confirmation",
    "password_algorithm",
    "salt",
];

/// The accepted `password_algorithm` values.
const PASSWORD_ALGORITHMS: [&str; 3] = ["salt+sha256", "sha256+salt", "bcrypt"];

/// A v2 422 `Validation failed: {what}`.
pub fn validation_failed(what: &str) -> Response {
    v2_error(StatusCode::UNPROCESSABLE_ENTITY, "UnprocessableEntityError", &format!("Validation failed: {what}"))
}

fn unknown_attribute(name: &str) -> Response {
    v2_bad_request(&format!("unknown attribute: {name}"))
}

/// The simulator's password policy: at least 8 characters and a digit.
///
/// Assumption (FIDELITY.md F-UW-10).
pub fn meets_password_policy(password: &str) -> bool {
    password.chars().count() >= 8 && password.chars().any(|c| c.is_ascii_digit())
}

/// When a v2 write runs the user's mappings (`mappings=…`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mappings {
    /// `async` (the default): after the response (docs update-user: "will be run after
    /// the API returns a response"); the simulator runs them when the next request
    /// arrives (FIDELITY.md F-MAP-2).
    Async,
    /// `sync`: before the response is built.
    Sync,
    /// `disabled`: not at all.
    Disabled,
}

/// `mappings` and `validate_policy` query parameters of the v2 writes.
struct WriteOptions {
    mappings: Mappings,
    validate_policy: bool,
}

impl WriteOptions {
    fn from_query(q: Option<&str>) -> Result<WriteOptions, Response> {
        let params = Params::parse(q);
        let mappings = match params.get("mappings") {
            None | Some("async") => Mappings::Async,
            Some("sync") => Mappings::Sync,
            Some("disabled") => Mappings::Disabled,
            Some(_) => return Err(v2_bad_request("Invalid mappings")),
        };
        let validate_policy = match params.get("validate_policy") {
            None | Some("true") => true,
            Some("false") => false,
            Some(_) => return Err(v2_bad_request("Invalid validate_policy")),
        };
        Ok(WriteOptions { mappings, validate_policy })
    }
}

/// Parses a v2 user body: a JSON object of known attributes (custom attribute keys
/// must exist too).
fn parse_user_body(body: &[u8], custom_names: &[String]) -> Result<Map<String, Value>, Response> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|_| v2_bad_request("Request body must be a JSON object"))?
    };
    let Value::Object(obj) = value else {
        return Err(v2_bad_request("Request body must be a JSON object"));
    };
    for (k, v) in &obj {
        if !WRITABLE.contains(&k.as_str()) {
            return Err(unknown_attribute(k));
        }
        if k == "custom_attributes" {
            match v {
                Value::Object(ca) => {
                    if let Some(bad) = ca.keys().find(|c| !custom_names.contains(c)) {
                        return Err(unknown_attribute(bad));
                    }
                }
                Value::Null => {}
                _ => return Err(validation_failed("custom_attributes must be an object")),
            }
        }
    }
    Ok(obj)
}

fn as_string(v: &Value, name: &str) -> Result<String, Response> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        _ => Err(validation_failed(&format!("{name} must be a string"))),
    }
}

fn as_opt_string(v: &Value, name: &str) -> Result<Option<String>, Response> {
    match v {
        Value::Null => Ok(None),
        _ => as_string(v, name).map(Some),
    }
}

fn as_opt_id(v: &Value, name: &str) -> Result<Option<u64>, Response> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(|| validation_failed(&format!("{name} is invalid"))),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s.trim().parse().map(Some).map_err(|_| validation_failed(&format!("{name} is invalid"))),
        _ => Err(validation_failed(&format!("{name} is invalid"))),
    }
}

fn as_small_int(v: &Value, name: &str) -> Result<u8, Response> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.and_then(|n| u8::try_from(n).ok()).ok_or_else(|| validation_failed(&format!("{name} is invalid")))
}

/// What applying a body changed, beyond the user's fields.
#[derive(Default)]
struct Applied {
    password_set: bool,
    status_given: bool,
}

/// Applies the attributes of `obj` to `user`, validating them against `tenant`
/// (`user` is a copy, so nothing is written on error).
fn apply_user_fields(
    user: &mut User,
    obj: &Map<String, Value>,
    tenant: &Tenant,
    validate_policy: bool,
) -> Result<Applied, Response> {
    let mut applied = Applied::default();
    for (k, v) in obj {
        match k.as_str() {
            "username" => user.username = as_string(v, k)?,
            "email" => user.email = as_string(v, k)?,
            "firstname" => user.firstname = as_string(v, k)?,
            "lastname" => user.lastname = as_string(v, k)?,
            "title" => user.title = as_string(v, k)?,
            "department" => user.department = as_string(v, k)?,
            "company" => user.company = as_string(v, k)?,
            "comment" => user.comment = as_string(v, k)?,
            "phone" => user.phone = as_string(v, k)?,
            "external_id" => user.external_id = as_opt_string(v, k)?,
            "preferred_locale_code" => user.preferred_locale_code = as_opt_string(v, k)?,
            "manager_user_id" => {
                let m = as_opt_id(v, k)?;
                if m.is_some_and(|m| m == user.id || tenant.user(m).is_none()) {
                    return Err(validation_failed("manager_user_id is invalid"));
                }
                user.manager_user_id = m;
            }
            "group_id" => {
                let g = as_opt_id(v, k)?;
                if g.is_some_and(|g| tenant.group(g).is_none()) {
                    return Err(validation_failed("group_id is invalid"));
                }
                user.group_id = g;
            }
            "status" => {
                let s = as_small_int(v, k)?;
                if !STATUSES.contains(&s) {
                    return Err(validation_failed("status is invalid"));
                }
                user.status = s;
                applied.status_given = true;
            }
            "state" => {
                let s = as_small_int(v, k)?;
                if s > 3 {
                    return Err(validation_failed("state is invalid"));
                }
                // OneLogin: "A user in state 3 can only change state via set_state".
                if user.state == 3 && s != 3 {
                    return Err(validation_failed("state can only be changed with set_state"));
                }
                user.state = s;
            }
            "custom_attributes" => {
                if let Value::Object(ca) = v {
                    for (name, val) in ca {
                        let val = match val {
                            Value::Null => None,
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            Value::Bool(b) => Some(b.to_string()),
                            _ => return Err(validation_failed(&format!("{name} is invalid"))),
                        };
                        user.custom_attributes.insert(name.clone(), val);
                    }
                }
            }
            // Handled below.
            "password" | "password_confirmation" | "password_algorithm" | "salt" => {}
            _ => return Err(unknown_attribute(k)),
        }
    }
    if let Some(pw) = obj.get("password").filter(|v| !v.is_null()) {
        let pw = as_string(pw, "password")?;
        let algorithm = obj.get("password_algorithm").map(|v| as_opt_string(v, "password_algorithm")).transpose()?;
        let algorithm = algorithm.flatten().filter(|a| !a.is_empty());
        if algorithm.as_deref().is_some_and(|a| !PASSWORD_ALGORITHMS.contains(&a)) {
            return Err(validation_failed("password_algorithm is invalid"));
        }
        let confirmation =
            obj.get("password_confirmation").map(|v| as_string(v, "password_confirmation")).transpose()?;
        if pw.is_empty() {
            return Err(validation_failed("password can't be blank"));
        }
        if confirmation.as_deref() != Some(pw.as_str()) {
            return Err(validation_failed("password and password_confirmation do not match"));
        }
        // A hashed password (password_algorithm) cannot be checked against the policy.
        if validate_policy && algorithm.is_none() && !meets_password_policy(&pw) {
            return Err(validation_failed("password does not meet policy requirements"));
        }
        applied.password_set = true;
    }
    Ok(applied)
}

/// 422 when `user` has neither username nor email, or shares one (case-insensitive)
/// with another user.
fn check_identity(user: &User, tenant: &Tenant, require: bool) -> Result<(), Response> {
    if require && user.username.trim().is_empty() && user.email.trim().is_empty() {
        return Err(validation_failed("username or email is required"));
    }
    let others = || tenant.users.iter().filter(|o| o.id != user.id);
    if !user.email.is_empty() && others().any(|o| o.email.eq_ignore_ascii_case(&user.email)) {
        return Err(validation_failed("email has already been taken"));
    }
    // The one documented text (docs unlock-user's 422 sample), with the simulated
    // tenant's subdomain.
    if !user.username.is_empty() && others().any(|o| o.username.eq_ignore_ascii_case(&user.username)) {
        return Err(validation_failed(&format!("Username must be unique within {SUBDOMAIN}")));
    }
    Ok(())
}

/// Records a password change on `user` (never the password itself).
fn record_password(user: &mut User, now: &str) {
    user.password_set = true;
    user.password_changes += 1;
    user.password_changed_at = Some(now.to_string());
}

/// `POST /api/2/users` → 201 + the v2 user.
///
/// Assumption (FIDELITY.md F-UW-1): the id allocation.
async fn create_v2(State(sim): State<Shared>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let opts = match WriteOptions::from_query(q.as_deref()) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut st = lock(&sim);
    let tenant = &mut st.tenant;
    let obj = match parse_user_body(&body, &tenant.custom_attribute_names) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let now = now_iso();
    let id = tenant.users.iter().map(|u| u.id).max().map_or(USER_ID_BASE, |m| m + 1);
    // The body sets username and email (check_identity below requires one).
    let mut user = User {
        username: String::new(),
        status: 7,
        created_at: now.clone(),
        updated_at: now.clone(),
        custom_attributes: tenant.custom_attribute_names.iter().map(|n| (n.clone(), None)).collect(),
        ..User::new(id, "")
    };
    let applied = match apply_user_fields(&mut user, &obj, tenant, opts.validate_policy) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(r) = check_identity(&user, tenant, true) {
        return r;
    }
    // Without a password a new user is "password pending" (7), with one active (1);
    // ASSUMPTION (FIDELITY.md F-UW-6): an explicit `status` in the body wins over both.
    if applied.password_set {
        record_password(&mut user, &now);
    }
    if !applied.status_given {
        user.status = if applied.password_set { 1 } else { 7 };
    }
    if user.status == 1 {
        user.activated_at = Some(now.clone());
    }
    tenant.users.push(user);
    tenant.log_user_event(EVENT_CREATED, id, None);
    match opts.mappings {
        Mappings::Sync => {
            tenant.run_mappings(Some(id));
        }
        Mappings::Async => tenant.pending_mappings.push(id),
        Mappings::Disabled => {}
    }
    match st.tenant.user(id) {
        Some(u) => json_response(StatusCode::CREATED, &served_user(&st, u)),
        None => v2_not_found(),
    }
}

/// `PUT /api/2/users/{id}` → 200 + the v2 user (after a `sync` mapping run; an
/// `async` one comes later).
async fn update_v2(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let opts = match WriteOptions::from_query(q.as_deref()) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut st = lock(&sim);
    let tenant = &mut st.tenant;
    let Some(mut user) = parse_id(&id).and_then(|n| tenant.user(n)).cloned() else {
        return v2_not_found();
    };
    let obj = match parse_user_body(&body, &tenant.custom_attribute_names) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let had_identity = !(user.username.trim().is_empty() && user.email.trim().is_empty());
    let applied = match apply_user_fields(&mut user, &obj, tenant, opts.validate_policy) {
        Ok(a) => a,
        Err(r) => return r,
    };
    // A user that has neither (FIDELITY.md F-DATA-14) may still be updated;
    // an update may not take the last one away. Assumption (FIDELITY.md F-DATA-14): the real check.
    if let Err(r) = check_identity(&user, tenant, had_identity) {
        return r;
    }
    let now = now_iso();
    if applied.password_set {
        record_password(&mut user, &now);
        // Like set_password: a pending (7) or awaiting-reset (5) user becomes active.
        // Assumption (FIDELITY.md F-UW-9).
        if !applied.status_given && matches!(user.status, 5 | 7) {
            user.status = 1;
        }
    }
    if user.status == 1 && user.activated_at.is_none() {
        user.activated_at = Some(now.clone());
    }
    user.updated_at = now;
    let uid = user.id;
    if let Some(slot) = tenant.user_mut(uid) {
        *slot = user;
    }
    tenant.log_user_event(EVENT_UPDATED, uid, None);
    match opts.mappings {
        Mappings::Sync => {
            tenant.run_mappings(Some(uid));
        }
        Mappings::Async => tenant.pending_mappings.push(uid),
        Mappings::Disabled => {}
    }
    match st.tenant.user(uid) {
        Some(u) => json_response(StatusCode::OK, &served_user(&st, u)),
        None => v2_not_found(),
    }
}

/// `DELETE /api/2/users/{id}` → 204 (also removes the user from every role).
async fn delete_v2(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let mut st = lock(&sim);
    match parse_id(&id) {
        Some(n) if st.tenant.delete_user(n) => StatusCode::NO_CONTENT.into_response(),
        _ => v2_not_found(),
    }
}

/// `POST /api/2/users/{id}/unlock`.
///
/// A locked user (status 3) becomes active: 200 `{"messsage":"User unlocked"}` (sic,
/// three s, as documented). Any other user: 422 `{"message":"User cannot be unlocked"}`
/// (docs unlock-user show that body after the 422 sample; Assumption, FIDELITY.md
/// F-UW-14: the status is inferred from the page's layout).
async fn unlock_v2(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let mut st = lock(&sim);
    let Some(user) = parse_id(&id).and_then(|n| st.tenant.user_mut(n)) else {
        return v2_not_found();
    };
    if user.status != 3 {
        return json_response(StatusCode::UNPROCESSABLE_ENTITY, &json!({"message": "User cannot be unlocked"}));
    }
    user.status = 1;
    user.locked_until = None;
    user.invalid_login_attempts = 0;
    user.updated_at = now_iso();
    let uid = user.id;
    st.tenant.log_user_event(EVENT_UNLOCKED, uid, None);
    json_response(StatusCode::OK, &json!({"messsage": "User unlocked"}))
}
