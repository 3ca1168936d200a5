//! App rules (v2): `GET /api/2/apps/{id}/rules` and `GET /api/2/apps/{id}/rules/{rule_id}`.
//!
//! The list is a bare array of py-sdk `AppRule` objects sorted by `position`, NOT
//! paginated (no pagination headers; documented "Pagination is not supported").
//! `enabled` defaults to true: only enabled rules; `enabled=false` returns only the
//! disabled ones (docs: "Defaults to true. Set to false to return all disabled
//! rules"). Unknown app → v2 404. The `has_condition`/`has_action` filters are not
//! implemented (ignored).
//! (Assumption, FIDELITY.md F-RULE-3: ignoring documented filters is a gap.)

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::parse_id;
use crate::simulator::errors::{json_response, v2_bad_request, v2_not_found};
use crate::simulator::pagination::Params;
use crate::simulator::{lock, Shared};

/// The app rules routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/api/2/apps/{id}/rules", get(list)).route("/api/2/apps/{id}/rules/{rule_id}", get(get_one))
}

/// `GET /api/2/apps/{id}/rules[?enabled=false]`.
async fn list(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let enabled = match params.get("enabled").map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(_) => return v2_bad_request("Invalid enabled"),
    };
    let st = lock(&sim);
    let Some(app) = parse_id(&id).and_then(|n| st.tenant.app(n)) else {
        return v2_not_found();
    };
    let items: Vec<Value> =
        st.tenant.app_rules(app.id).iter().filter(|r| r.enabled == enabled).map(|r| r.api_json()).collect();
    json_response(StatusCode::OK, &Value::Array(items))
}

/// `GET /api/2/apps/{id}/rules/{rule_id}` (enabled or not).
async fn get_one(State(sim): State<Shared>, Path((id, rule_id)): Path<(String, String)>) -> Response {
    let st = lock(&sim);
    let (Some(app), Some(rule_id)) = (parse_id(&id).and_then(|n| st.tenant.app(n)), parse_id(&rule_id)) else {
        return v2_not_found();
    };
    match st.tenant.app_rules(app.id).iter().find(|r| r.id == rule_id) {
        Some(r) => json_response(StatusCode::OK, &r.api_json()),
        None => v2_not_found(),
    }
}
