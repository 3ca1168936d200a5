//! Connectors (v2): `GET /api/2/connectors`, built from the apps' connector ids.
//!
//! Assumption (FIDELITY.md F-APP-5): only connectors in use (the real catalogue is larger).
//!
//! Needs "Manage All" (the Read All token gets 403, enforced by the gate middleware via
//! [`crate::simulator::auth::Scope::allows`]); the connector uses it as a scope probe.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::apps::icon_url;
use crate::simulator::pagination::{v2_list, Params, V2Page};
use crate::simulator::tenant::CONNECTORS;
use crate::simulator::{limits, lock, Shared};

/// The connectors routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/api/2/connectors", get(list))
}

/// `GET /api/2/connectors` → `[{"id","name","auth_method","allows_new_parameters","icon_url"}]`.
async fn list(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let page = match V2Page::from_params(&params, limits::CONNECTORS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let all: Vec<Value> = st
        .tenant
        .connector_ids()
        .into_iter()
        .map(|id| {
            let (name, auth_method) = CONNECTORS
                .iter()
                .find(|c| c.0 == id)
                .map(|c| (c.1.to_string(), c.2))
                .unwrap_or_else(|| (format!("Connector {id}"), 2));
            json!({"id": id, "name": name, "auth_method": auth_method,
                   "allows_new_parameters": false, "icon_url": icon_url(id)})
        })
        .collect();
    let total = all.len();
    let items = all[page.range(total)].to_vec();
    v2_list(items, total, page, st.listing(), "/api/2/connectors", &params)
}
