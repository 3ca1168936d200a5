//! Apps (v2): `GET /api/2/apps`, `GET /api/2/apps/{id}` and `GET /api/2/apps/{id}/users`
//! (users who get the app through any of their roles or a direct assignment). App
//! rules are in [`super::rules`].

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::{glob_match, parse_id, project};
use crate::simulator::errors::{json_response, v2_bad_request, v2_not_found};
use crate::simulator::pagination::{v2_list, Params, V2Page};
use crate::simulator::tenant::App;
use crate::simulator::{limits, lock, Shared};

/// The apps routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/2/apps", get(list))
        .route("/api/2/apps/{id}", get(get_one))
        .route("/api/2/apps/{id}/users", get(list_users))
}

/// The icon URL of a connector.
///
/// Assumption (FIDELITY.md F-APP-2): a placeholder host.
pub fn icon_url(connector_id: u64) -> String {
    format!("https://cdn.example.com/images/icons/square/{connector_id}.png")
}

/// An app as v2 JSON.
pub fn app_json(a: &App) -> Value {
    json!({
        "id": a.id,
        "connector_id": a.connector_id,
        "name": a.name,
        "description": a.description,
        "auth_method": a.auth_method,
        "auth_method_description": a.auth_method_description,
        "visible": a.visible,
        "provisioning": {"enabled": a.provisioning_enabled},
        "icon_url": icon_url(a.connector_id),
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    })
}

/// `GET /api/2/apps` (filters: `name` with wildcards, `connector_id`, `auth_method`).
async fn list(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let page = match V2Page::from_params(&params, limits::APPS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let connector_id = match params.get("connector_id").map(str::parse::<u64>).transpose() {
        Ok(c) => c,
        Err(_) => return v2_bad_request("Invalid connector_id"),
    };
    let auth_method = match params.get("auth_method").map(str::parse::<u8>).transpose() {
        Ok(c) => c,
        Err(_) => return v2_bad_request("Invalid auth_method"),
    };
    let st = lock(&sim);
    let name = params.get("name");
    let matched: Vec<&App> = st
        .tenant
        .apps
        .iter()
        .filter(|a| name.is_none_or(|n| glob_match(n, &a.name)))
        .filter(|a| connector_id.is_none_or(|c| a.connector_id == c))
        .filter(|a| auth_method.is_none_or(|m| a.auth_method == m))
        .collect();
    let fields = params.get("fields");
    let items = matched[page.range(matched.len())].iter().map(|a| project(app_json(a), fields)).collect();
    v2_list(items, matched.len(), page, st.listing(), "/api/2/apps", &params)
}

/// `GET /api/2/apps/{id}`: the list item plus `role_ids`.
async fn get_one(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    let Some(app) = parse_id(&id).and_then(|n| st.tenant.app(n)) else {
        return v2_not_found();
    };
    let mut v = app_json(app);
    let role_ids: Vec<u64> = st.tenant.roles.iter().filter(|r| r.apps.contains(&app.id)).map(|r| r.id).collect();
    if let Value::Object(obj) = &mut v {
        obj.insert("role_ids".into(), json!(role_ids));
    }
    json_response(StatusCode::OK, &v)
}

/// `GET /api/2/apps/{id}/users` → `[{"id","firstname","lastname","email","username"}]`
/// (role grants and direct assignments).
///
/// Assumption (FIDELITY.md F-APP-4): who counts as an app user.
async fn list_users(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let page = match V2Page::from_params(&params, limits::APP_USERS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let Some(app) = parse_id(&id).and_then(|n| st.tenant.app(n)) else {
        return v2_not_found();
    };
    let ids = st.tenant.app_user_ids(app.id);
    let total = ids.len();
    let items = ids[page.range(total)]
        .iter()
        .filter_map(|&uid| st.tenant.user(uid))
        .map(|u| {
            json!({"id": u.id, "firstname": u.firstname, "lastname": u.lastname,
                   "email": u.email, "username": u.username})
        })
        .collect();
    let path = format!("/api/2/apps/{}/users", app.id);
    v2_list(items, total, page, st.listing(), &path, &params)
}
