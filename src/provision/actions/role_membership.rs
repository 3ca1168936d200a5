//! Role membership (`member`) and role administration (`admin`).
//!
//! - Check: `GET /api/2/roles/{id}` (the role exists) and `GET /api/2/users/{id}`
//!   (the user exists; its `role_ids` tell membership). Administration is
//!   read from `GET /api/2/roles/{id}/admins`.
//! - Change: `POST` or `DELETE /api/2/roles/{id}/users` (or `/admins`) with a
//!   raw JSON array body `[userId]` — a DELETE with a body, as OneLogin wants.

use serde_json::json;

use crate::client::pagination::{page_size, List};
use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::EntitlementChange;
use crate::provision::context::{not_found, parse_key, read_user, user_id, Ctx, Outcome};
use crate::vocabulary::{id_of, id_set, ROLE, USER};

/// Which list of the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Member,
    Admin,
}

impl Permission {
    fn path_segment(self) -> &'static str {
        match self {
            Permission::Member => "users",
            Permission::Admin => "admins",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Permission::Member => "member",
            Permission::Admin => "admin",
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
}

impl RoleChange {
    /// Validate the action's arguments without any call.
    pub fn parse(change: &EntitlementChange, grant: bool) -> Result<RoleChange> {
        let user_id = user_id(&change.principal, "principal")?;
        let role_id = parse_key(&change.resource, &ROLE, "resource")?;
        let permission = match change.permission.as_str() {
            "member" => Permission::Member,
            "admin" => Permission::Admin,
            _ => return Err(Error::input("permission", "must be `member` or `admin` for a onelogin_role")),
        };
        Ok(RoleChange { user_id, role_id, permission, grant })
    }

    fn description(&self) -> String {
        let verb = if self.grant { "grant" } else { "revoke" };
        format!("{verb} {} {} on {}", USER.key(self.user_id), self.permission.name(), ROLE.key(self.role_id))
    }
}

/// Check the current state, then change it if needed.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, change: &RoleChange) -> Result<Outcome> {
    let role_path = format!("/api/2/roles/{}", change.role_id);
    ctx.read_optional(&role_path)?.ok_or_else(|| not_found(&format!("role {}", change.role_id)))?;
    let user = read_user(ctx, change.user_id)?;
    let user_key = USER.key(change.user_id);

    let holds = match change.permission {
        Permission::Member => id_set(user.get("role_ids")).contains(&change.role_id),
        Permission::Admin => is_role_admin(ctx, change)?,
    };
    if holds == change.grant {
        return Ok(Outcome::unchanged(&user_key, format!("{}: already so, no change", change.description())));
    }
    let path = format!("{role_path}/{}", change.permission.path_segment());
    let method = if change.grant { Method::Post } else { Method::Delete };
    ctx.write(method, &path, Some(json!([change.user_id])), &[])?;
    let field = change.permission.name();
    Ok(Outcome::changed(&user_key, change.description())
        .with_before_after(json!({ field: holds }), json!({ field: change.grant })))
}

fn is_role_admin<T: Transport>(ctx: &mut Ctx<'_, T>, change: &RoleChange) -> Result<bool> {
    let path = format!("/api/2/roles/{}/admins", change.role_id);
    ctx.find_in_list(&List::v2(&path, page_size::ROLE_USERS), |admin| id_of(admin) == Some(change.user_id))
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
            field(RoleChange::parse(&change("onelogin_user:1", "onelogin_group:9", "member"), true)),
            "resource"
        );
        assert_eq!(
            field(RoleChange::parse(&change("onelogin_user:1", "onelogin_role:9", "owner"), true)),
            "permission"
        );
    }
}
