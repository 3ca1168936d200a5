//! Groups (v1 only): `GET /api/1/groups` with body cursors and `GET /api/1/groups/{id}`,
//! whose `data` is a one-element array.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::parse_id;
use crate::simulator::errors::{json_response, v1_not_found, v1_success_status};
use crate::simulator::pagination::{v1_list, Params};
use crate::simulator::tenant::Group;
use crate::simulator::{limits, lock, Shared};

/// The groups routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/api/1/groups", get(list)).route("/api/1/groups/{id}", get(get_one))
}

/// A group as v1 JSON (`reference` is deprecated and always null).
pub fn group_json(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "reference": null})
}

/// `GET /api/1/groups`.
async fn list(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let st = lock(&sim);
    let groups = &st.tenant.groups;
    let ids: Vec<u64> = groups.iter().map(|g| g.id).collect();
    v1_list(
        &ids,
        |i| group_json(&groups[i]),
        &params,
        limits::V1_GROUPS,
        st.tenant.account_id,
        &st.base_url,
        "/api/1/groups",
    )
}

/// `GET /api/1/groups/{id}`.
async fn get_one(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    match parse_id(&id).and_then(|n| st.tenant.group(n)) {
        Some(g) => json_response(
            StatusCode::OK,
            &json!({
                "status": v1_success_status(),
                "pagination": {"before_cursor": null, "after_cursor": null,
                               "previous_link": null, "next_link": null},
                "data": [group_json(g)],
            }),
        ),
        None => v1_not_found(&format!("Group for id {id} was not found")),
    }
}
