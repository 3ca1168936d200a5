//! App rule catalogues (v2): `GET /api/2/apps/{id}/rules/conditions`,
//! `/rules/conditions/{condition}/operators`, `/rules/conditions/{condition}/values`,
//! `/rules/actions` and `/rules/actions/{action}/values`.
//!
//! Bare arrays of `{name, value}`, not paginated, Manage All only (like the rules list,
//! [`crate::simulator::auth`]); the lists come from [`crate::simulator::rule_catalog`].
//! Unknown app, condition or action → v2 404 (assumed, FIDELITY.md F-RULE-14).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::parse_id;
use crate::simulator::errors::{json_response, v2_not_found};
use crate::simulator::tenant::{App, Tenant};
use crate::simulator::{lock, Shared};

/// The catalogue routes. The static `conditions` and `actions` segments take
/// precedence over `/api/2/apps/{id}/rules/{rule_id}`.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/2/apps/{id}/rules/conditions", get(conditions))
        .route("/api/2/apps/{id}/rules/conditions/{condition}/operators", get(operators))
        .route("/api/2/apps/{id}/rules/conditions/{condition}/values", get(condition_values))
        .route("/api/2/apps/{id}/rules/actions", get(actions))
        .route("/api/2/apps/{id}/rules/actions/{action}/values", get(action_values))
}

/// Answers `list(tenant, app)` for app `id`, 404 for an unknown app or a `None`.
fn answer(sim: &Shared, id: &str, list: impl FnOnce(&Tenant, &App) -> Option<Value>) -> Response {
    let st = lock(sim);
    let found = parse_id(id).and_then(|n| st.tenant.app(n)).and_then(|app| list(&st.tenant, app));
    match found {
        Some(items) => json_response(StatusCode::OK, &items),
        None => v2_not_found(),
    }
}

/// `GET /api/2/apps/{id}/rules/conditions`.
async fn conditions(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    answer(&sim, &id, |t, _| Some(t.rule_conditions()))
}

/// `GET /api/2/apps/{id}/rules/conditions/{condition}/operators`.
async fn operators(State(sim): State<Shared>, Path((id, condition)): Path<(String, String)>) -> Response {
    answer(&sim, &id, |t, _| t.rule_condition_operators(&condition))
}

/// `GET /api/2/apps/{id}/rules/conditions/{condition}/values`.
async fn condition_values(State(sim): State<Shared>, Path((id, condition)): Path<(String, String)>) -> Response {
    answer(&sim, &id, |t, _| t.rule_condition_values(&condition))
}

/// `GET /api/2/apps/{id}/rules/actions`.
async fn actions(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    answer(&sim, &id, |t, app| Some(t.rule_actions(app)))
}

/// `GET /api/2/apps/{id}/rules/actions/{action}/values`.
async fn action_values(State(sim): State<Shared>, Path((id, action)): Path<(String, String)>) -> Response {
    answer(&sim, &id, |t, app| t.rule_action_values(app, &action))
}
