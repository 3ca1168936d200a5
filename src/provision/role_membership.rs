//! Role membership and role administration.
//!
//! - Check: `GET /api/2/roles/{id}` (the role exists) and `GET /api/2/users/{id}`
//!   (the user exists; its `role_ids` tell membership). Administration is
//!   read from `GET /api/2/roles/{id}/admins`.
//! - Change: `POST` or `DELETE /api/2/roles/{id}/users` (or `/admins`) with a
//!   raw JSON array body `[userId]` — a DELETE with a body, as OneLogin wants.
//!
//! Idempotent: when the target state already holds, nothing is written and
//! the outcome says `changed: false`.

use serde_json::{json, Value};

use super::{describe_change, parse_key};
use crate::client::transport::{Method, Transport};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionOutcome, EntitlementChange};
use crate::sync::mapping::kinds;
use crate::sync::page_size;

/// Which list of the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Member,
    Admin,
}

impl Permission {
    pub const NAMES: [&'static str; 2] = ["member", "admin"];

    fn path_segment(self) -> &'static str {
        match self {
            Permission::Member => "users",
            Permission::Admin => "admins",
        }
    }
}

/// A validated grant or revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub user_id: u64,
    pub role_id: u64,
    pub permission: Permission,
    pub grant: bool,
    pub description: String,
}

impl RoleChange {
    /// Validate the action's arguments without any call.
    pub fn parse(change: &EntitlementChange, grant: bool) -> Result<RoleChange> {
        let user_id = parse_key(&change.principal, kinds::USER, "principal")?;
        let role_id = parse_key(&change.resource, kinds::ROLE, "resource")?;
        let permission = match change.permission.as_str() {
            "member" => Permission::Member,
            "admin" => Permission::Admin,
            _ => return Err(Error::input("permission", "must be `member` or `admin` for a onelogin_role")),
        };
        Ok(RoleChange { user_id, role_id, permission, grant, description: describe_change(change, grant) })
    }
}

/// Check the current state, then change it if needed.
pub fn apply<T: Transport>(client: &mut Client<T>, change: &RoleChange) -> Result<ActionOutcome> {
    let role_path = format!("/api/2/roles/{}", change.role_id);
    client.get_json(&role_path).map_err(|e| not_found_as(e, &format!("role {}", change.role_id)))?;
    let (_, user) = client
        .get_json(&format!("/api/2/users/{}", change.user_id))
        .map_err(|e| not_found_as(e, &format!("user {}", change.user_id)))?;

    let holds = match change.permission {
        Permission::Member => ids_contain(user.get("role_ids"), change.role_id),
        Permission::Admin => is_role_admin(client, change)?,
    };
    if holds == change.grant {
        return Ok(ActionOutcome { changed: false, summary: format!("{}: already so, no change", change.description) });
    }

    let path = format!("{role_path}/{}", change.permission.path_segment());
    let method = if change.grant { Method::Post } else { Method::Delete };
    client.request(method, &path, Some(&json!([change.user_id])))?;
    Ok(ActionOutcome { changed: true, summary: format!("{}: done", change.description) })
}

fn is_role_admin<T: Transport>(client: &mut Client<T>, change: &RoleChange) -> Result<bool> {
    let path = format!("/api/2/roles/{}/admins", change.role_id);
    let mut cursor: Option<String> = None;
    loop {
        let page = client.v2_page(&path, page_size::ROLE_USERS, cursor.as_deref(), &[])?;
        if page.items.iter().any(|admin| crate::sync::mapping::id_of(admin) == Some(change.user_id)) {
            return Ok(true);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(false),
        }
    }
}

fn ids_contain(ids: Option<&Value>, id: u64) -> bool {
    ids.and_then(Value::as_array).is_some_and(|ids| {
        ids.iter().any(|v| v.as_u64() == Some(id) || v.as_str().and_then(|s| s.parse().ok()) == Some(id))
    })
}

fn not_found_as(error: Error, what: &str) -> Error {
    match error {
        Error::NotFound(_) => Error::NotFound(format!("{what} does not exist in OneLogin")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(principal: &str, resource: &str, permission: &str) -> EntitlementChange {
        EntitlementChange { principal: principal.into(), resource: resource.into(), permission: permission.into() }
    }

    fn field(result: Result<RoleChange>) -> String {
        match result {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn valid_change_parses() {
        let parsed = RoleChange::parse(&change("onelogin_user:5", "onelogin_role:9", "admin"), true).unwrap();
        assert_eq!((parsed.user_id, parsed.role_id, parsed.permission), (5, 9, Permission::Admin));
    }

    #[test]
    fn each_bad_argument_names_its_field() {
        assert_eq!(
            field(RoleChange::parse(&change("onelogin_role:5", "onelogin_role:9", "member"), true)),
            "principal"
        );
        assert_eq!(
            field(RoleChange::parse(&change("onelogin_user:x", "onelogin_role:9", "member"), true)),
            "principal"
        );
        assert_eq!(
            field(RoleChange::parse(&change("onelogin_user:0", "onelogin_role:9", "member"), true)),
            "principal"
        );
        assert_eq!(
            field(RoleChange::parse(&change("onelogin_user:1", "onelogin_group:9", "member"), true)),
            "resource"
        );
        assert_eq!(
            field(RoleChange::parse(&change("onelogin_user:1", "onelogin_role:9", "owner"), true)),
            "permission"
        );
    }

    #[test]
    fn role_ids_may_be_numbers_or_strings() {
        assert!(ids_contain(Some(&json!([1, 2])), 2));
        assert!(ids_contain(Some(&json!(["3"])), 3));
        assert!(!ids_contain(Some(&Value::Null), 3));
    }
}
