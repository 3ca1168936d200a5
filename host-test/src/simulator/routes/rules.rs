//! App rules (v2): `GET /api/2/apps/{id}/rules` and `GET /api/2/apps/{id}/rules/{rule_id}`.
//!
//! The list is a bare array of py-sdk `AppRule` objects sorted by `position`, NOT
//! paginated (no pagination headers; documented "Pagination is not supported").
//! `enabled` defaults to true: only enabled rules; `enabled=false` returns only the
//! disabled ones (docs: "Defaults to true. Set to false to return all disabled
//! rules"). Unknown app → v2 404.
//!
//! Filters (docs list-rules; py-sdk `list_app_rules`): `has_condition` and
//! `has_action` take comma-separated `name:value` pairs, `*` wildcards in both parts
//! (`has_condition=has_role:123`, `has_action=set_groups:*`); a condition matches a
//! pair when its `source` matches the name and its `value` the value; an action
//! when its `action` matches the name and one of its `value`s the value.
//! `has_condition_type` / `has_action_type` take `builtin`, `custom` or `none`.
//! Assumptions (FIDELITY.md F-RULE-3): several pairs must all be present (AND); a
//! condition is `custom` when its source is `custom_attribute_<short>`, an action
//! when its name mentions `custom`; a `*_type` filter keeps rules with at least one
//! condition/action of that type (`none`: rules without any); a pair without `:`
//! or an unknown type is a 400 `BadRequestError`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::{glob_match, parse_id};
use crate::simulator::errors::{json_response, v2_bad_request, v2_not_found};
use crate::simulator::pagination::Params;
use crate::simulator::rules::{AppRule, RuleCondition};
use crate::simulator::{lock, Shared};

/// The app rules routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/api/2/apps/{id}/rules", get(list)).route("/api/2/apps/{id}/rules/{rule_id}", get(get_one))
}

/// The list filters of `GET /api/2/apps/{id}/rules`.
struct RuleFilter {
    enabled: bool,
    conditions: Vec<(String, String)>,
    actions: Vec<(String, String)>,
    condition_type: Option<String>,
    action_type: Option<String>,
}

/// `name:value` pairs of a `has_condition` / `has_action` parameter.
fn pairs(params: &Params, name: &str) -> Result<Vec<(String, String)>, Response> {
    let Some(raw) = params.get(name) else { return Ok(Vec::new()) };
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| v2_bad_request(&format!("Invalid {name}")))
        })
        .collect()
}

/// A `has_condition_type` / `has_action_type` value.
fn kind(params: &Params, name: &str) -> Result<Option<String>, Response> {
    match params.get(name).map(str::to_ascii_lowercase) {
        None => Ok(None),
        Some(k) if ["builtin", "custom", "none"].contains(&k.as_str()) => Ok(Some(k)),
        Some(_) => Err(v2_bad_request(&format!("Invalid {name}"))),
    }
}

/// Whether some item is of `kind` (`none`: there is no item).
fn has_kind(kind: &str, customs: impl Iterator<Item = bool>) -> bool {
    let customs: Vec<bool> = customs.collect();
    match kind {
        "none" => customs.is_empty(),
        "custom" => customs.contains(&true),
        _ => customs.contains(&false),
    }
}

impl RuleFilter {
    fn from_params(params: &Params) -> Result<RuleFilter, Response> {
        let enabled = match params.get("enabled").map(str::to_ascii_lowercase).as_deref() {
            None | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(_) => return Err(v2_bad_request("Invalid enabled")),
        };
        Ok(RuleFilter {
            enabled,
            conditions: pairs(params, "has_condition")?,
            actions: pairs(params, "has_action")?,
            condition_type: kind(params, "has_condition_type")?,
            action_type: kind(params, "has_action_type")?,
        })
    }

    fn matches(&self, r: &AppRule) -> bool {
        let has_condition = |(n, v): &(String, String)| {
            r.conditions.iter().any(|c| glob_match(n, &c.source) && glob_match(v, &c.value))
        };
        let has_action = |(n, v): &(String, String)| {
            r.actions.iter().any(|a| glob_match(n, &a.action) && a.value.iter().any(|x| glob_match(v, x)))
        };
        let custom_condition = |c: &RuleCondition| c.source.starts_with("custom_attribute_");
        r.enabled == self.enabled
            && self.conditions.iter().all(has_condition)
            && self.actions.iter().all(has_action)
            && self.condition_type.as_deref().is_none_or(|k| has_kind(k, r.conditions.iter().map(custom_condition)))
            && self
                .action_type
                .as_deref()
                .is_none_or(|k| has_kind(k, r.actions.iter().map(|a| a.action.contains("custom"))))
    }
}

/// `GET /api/2/apps/{id}/rules[?enabled=false][&has_condition=…]…`.
async fn list(State(sim): State<Shared>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let filter = match RuleFilter::from_params(&params) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let st = lock(&sim);
    let Some(app) = parse_id(&id).and_then(|n| st.tenant.app(n)) else {
        return v2_not_found();
    };
    let items: Vec<Value> =
        st.tenant.app_rules(app.id).iter().filter(|r| filter.matches(r)).map(|r| r.api_json()).collect();
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
