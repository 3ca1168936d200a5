//! Privileges (Delegated Administration): v1 paths with v2-style bodies.
//!
//! * `GET /api/1/privileges` → bare array of py-sdk `Privilege`:
//!   `[{"id":"<string>","name","description","privilege":{"Version":"2018-05-18",
//!   "Statement":[{"Effect":"Allow","Action":[…],"Scope":[…]}]}}]`;
//! * `GET /api/1/privileges/{id}` → one such object;
//! * `GET /api/1/privileges/{id}/users` → `{"total":n,"users":[ids],"beforeCursor":null,
//!   "previousLink":null,"afterCursor":null,"nextLink":null}` (py-sdk
//!   `GetAssignedUser200Response`), `GET /api/1/privileges/{id}/roles` likewise with
//!   `roles` (`ListPrivilegeRoles200Response`).
//!
//! Assumption (FIDELITY.md F-PRIV-5): the users/roles lists are returned whole (cursors always null); the
//! docs show camelCase cursor fields but no page size.
//!
//! Errors use the v2 shape: unknown privilege → 404 `NotFoundError`. Without the
//! subscription (`SimulatorConfig::privileges == false`) every call is 403
//! `{"statusCode":403,"name":"ForbiddenError","message":"…"}`. Assumption (FIDELITY.md F-PRIV-6): OneLogin's
//! answer for an account without Delegated Administration is not documented; a 403 in
//! the privileges endpoints' (v2) error style is our choice.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::simulator::errors::{json_response, v2_error, v2_not_found};
use crate::simulator::privileges::{Privilege, PRIVILEGE_VERSION};
use crate::simulator::{lock, Inner, Shared};

/// The privileges routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/1/privileges", get(list))
        .route("/api/1/privileges/{id}", get(get_one))
        .route("/api/1/privileges/{id}/users", get(users))
        .route("/api/1/privileges/{id}/roles", get(roles))
}

/// A privilege as JSON (py-sdk `Privilege`).
pub fn privilege_json(p: &Privilege) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "privilege": {
            "Version": PRIVILEGE_VERSION,
            "Statement": [{"Effect": "Allow", "Action": p.actions, "Scope": p.scope}],
        },
    })
}

/// 403 for an account without Delegated Administration.
fn not_subscribed() -> Response {
    v2_error(StatusCode::FORBIDDEN, "ForbiddenError", "Delegated Administration is not enabled for this account")
}

fn with_privilege(sim: &Shared, id: &str, f: impl FnOnce(&Inner, &Privilege) -> Response) -> Response {
    let st = lock(sim);
    if !st.privileges_enabled {
        return not_subscribed();
    }
    match st.tenant.privilege(id.trim()) {
        Some(p) => f(&st, p),
        None => v2_not_found(),
    }
}

/// `GET /api/1/privileges`.
async fn list(State(sim): State<Shared>) -> Response {
    let st = lock(&sim);
    if !st.privileges_enabled {
        return not_subscribed();
    }
    let items: Vec<Value> = st.tenant.privileges.iter().map(privilege_json).collect();
    json_response(StatusCode::OK, &Value::Array(items))
}

/// `GET /api/1/privileges/{id}`.
async fn get_one(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_privilege(&sim, &id, |_, p| json_response(StatusCode::OK, &privilege_json(p)))
}

fn assigned(key: &str, ids: &[u64]) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "total": ids.len(),
            key: ids,
            "beforeCursor": null,
            "previousLink": null,
            "afterCursor": null,
            "nextLink": null,
        }),
    )
}

/// `GET /api/1/privileges/{id}/users`.
async fn users(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_privilege(&sim, &id, |_, p| assigned("users", &p.users))
}

/// `GET /api/1/privileges/{id}/roles`.
async fn roles(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_privilege(&sim, &id, |_, p| assigned("roles", &p.roles))
}
