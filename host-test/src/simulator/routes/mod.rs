//! Route table: one module per resource, plus the token endpoints from [`super::auth`].
//!
//! | Module | Routes |
//! |---|---|
//! | [`super::auth`] | `POST /auth/oauth2/v2/token`, `POST /auth/oauth2/revoke`, `GET /auth/rate_limit` |
//! | [`users`] | `GET`/`POST /api/2/users`, `GET`/`PUT`/`DELETE /api/2/users/{id}`, `GET /api/2/users/custom_attributes`, `POST /api/2/users/{id}/unlock`, `GET /api/2/users/{id}/apps`, `GET /api/1/users`, `GET /api/1/users/custom_attributes`, `GET /api/1/users/{id}`, `GET /api/1/users/{id}/roles`, `GET /api/1/users/{id}/apps` |
//! | [`users_v1`] | `PUT /api/1/users/{id}/logout`, `lock_user`, `set_state`, `add_roles`, `remove_roles`; `GET /api/1/users/{id}/otp_devices`; `PUT /api/1/users/set_password_clear_text/{id}`; `POST /api/1/invites/get_invite_link`, `send_invite_link` |
//! | [`mfa`] | `GET /api/2/mfa/users/{uid}/devices`, `DELETE /api/2/mfa/users/{uid}/devices/{device_id}` |
//! | [`groups`] | `GET /api/1/groups`, `GET /api/1/groups/{id}` |
//! | [`roles`] | `GET /api/2/roles`, `GET`/`PUT /api/2/roles/{id}`, `GET`/`POST`/`DELETE /api/2/roles/{id}/users` and `/admins`, `GET`/`PUT /api/2/roles/{id}/apps` |
//! | [`apps`] | `GET /api/2/apps`, `GET /api/2/apps/{id}`, `GET /api/2/apps/{id}/users` |
//! | [`rules`] | `GET /api/2/apps/{id}/rules`, `GET /api/2/apps/{id}/rules/{rule_id}` |
//! | [`rule_catalog`] | `GET /api/2/apps/{id}/rules/conditions`, `/rules/conditions/{condition}/operators` and `/values`, `/rules/actions`, `/rules/actions/{action}/values` |
//! | [`connectors`] | `GET /api/2/connectors` |
//! | [`privileges`] | `GET /api/1/privileges`, `GET /api/1/privileges/{id}`, `GET /api/1/privileges/{id}/users`, `/roles` |
//! | [`events`] | `GET /api/1/events`, `GET /api/1/events/types`, `GET /api/1/events/{id}` |

pub mod apps;
pub mod connectors;
pub mod events;
pub mod groups;
pub mod mfa;
pub mod privileges;
pub mod roles;
pub mod rule_catalog;
pub mod rules;
pub mod user_filter;
pub mod users;
pub mod users_v1;

use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use super::{auth, errors, Shared};

/// Every route the simulator serves (without fallback or middleware).
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/auth/oauth2/v2/token", post(auth::token))
        .route("/auth/oauth2/revoke", post(auth::revoke))
        .route("/auth/rate_limit", get(auth::rate_limit))
        .merge(users::routes())
        .merge(users_v1::routes())
        .merge(mfa::routes())
        .merge(groups::routes())
        .merge(roles::routes())
        .merge(apps::routes())
        .merge(rules::routes())
        .merge(rule_catalog::routes())
        .merge(connectors::routes())
        .merge(privileges::routes())
        .merge(events::routes())
}

/// Fallback for unknown routes and methods: v1 "No Route Exists" under `/api/1`, else
/// the v2 `NotFoundError`.
pub async fn no_route(uri: Uri) -> Response {
    errors::no_route(uri.path())
}

/// Parses a numeric path id.
pub fn parse_id(s: &str) -> Option<u64> {
    s.trim().parse().ok()
}

/// Case-insensitive match with `*` wildcards (OneLogin's filter syntax).
///
/// Assumption (FIDELITY.md F-ROUTE-4): case-insensitivity.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let value = value.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == value;
    }
    let mut rest = value.as_str();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == last {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Keeps only the comma-separated `fields` (plus `id`) of a JSON object.
///
/// Assumption (FIDELITY.md F-ROUTE-5): `id` is always kept.
pub fn project(value: Value, fields: Option<&str>) -> Value {
    let (Some(fields), Value::Object(obj)) = (fields, &value) else {
        return value;
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
    if wanted.is_empty() {
        return value;
    }
    let kept = obj
        .iter()
        .filter(|(k, _)| k.as_str() == "id" || wanted.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

/// The ids in a non-empty JSON list of ints or numeric strings, deduplicated in
/// order; `None` when the list is empty or holds anything else. Both API
/// dialects accept id lists this way; each wraps the failure in its own error.
pub fn id_list(items: &[Value]) -> Option<Vec<u64>> {
    if items.is_empty() {
        return None;
    }
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        }?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_onelogin_wildcards() {
        assert!(glob_match("work*", "Workday"));
        assert!(glob_match("*day", "Workday"));
        assert!(glob_match("w*k*y", "Workday"));
        assert!(glob_match("workday", "WORKDAY"));
        assert!(!glob_match("work", "Workday"));
        assert!(!glob_match("x*", "Workday"));
    }
}
