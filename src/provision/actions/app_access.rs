//! Application access. OneLogin cannot assign an app to a user directly:
//! apps come with roles. So a grant adds the user to a role that gives
//! exactly that app and nothing else; a revoke removes the user's roles that
//! give that app, provided each gives nothing else. Otherwise the action is
//! refused with an error that names the candidate roles, and nothing changes.
//!
//! Calls: `GET /api/2/apps/{id}`, `GET /api/2/roles?app_id={id}`,
//! `GET /api/2/users/{id}`, then role membership writes.

use serde_json::json;

use super::role_membership::{self, Permission, RoleChange};
use crate::client::pagination::{page_size, List};
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::identity::connector::types::EntitlementChange;
use crate::provision::context::{not_found, parse_key, read_user, user_id, Ctx, Outcome};
use crate::vocabulary::{id_set, RoleApps, APPLICATION, ROLE, USER};

/// A validated app grant or revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppChange {
    pub user_id: u64,
    pub app_id: u64,
    pub grant: bool,
}

impl AppChange {
    /// Validate the action's arguments without any call.
    pub fn parse(change: &EntitlementChange, grant: bool) -> Result<AppChange> {
        let user_id = user_id(&change.principal, "principal")?;
        let app_id = parse_key(&change.resource, &APPLICATION, "resource")?;
        if change.permission != "access" {
            return Err(Error::input("permission", "must be `access` for a onelogin_application"));
        }
        Ok(AppChange { user_id, app_id, grant })
    }
}

/// The roles that give `app` (`GET /api/2/roles?app_id=…`), with all their apps.
fn roles_with_app<T: Transport>(ctx: &mut Ctx<'_, T>, app: u64) -> Result<Vec<RoleApps>> {
    let app_filter = app.to_string();
    let filters = [("app_id", app_filter.as_str())];
    let list = List::v2("/api/2/roles", page_size::ROLES).with_filters(&filters);
    let mut roles = Vec::new();
    ctx.client.read_all(&list, |role| {
        // Trust but verify the filter: keep only roles that include the app.
        if let Some(role) = RoleApps::from_role(&role).filter(|r| r.apps.contains(&app)) {
            roles.push(role);
        }
    })?;
    Ok(roles)
}

fn describe_roles(roles: &[&RoleApps]) -> String {
    roles.iter().map(|r| format!("{} (apps: {})", ROLE.key(r.id), r.apps.len())).collect::<Vec<_>>().join(", ")
}

/// Grant or revoke through roles, or refuse naming the roles.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, change: &AppChange) -> Result<Outcome> {
    ctx.read_optional(&format!("/api/2/apps/{}", change.app_id))?
        .ok_or_else(|| not_found(&format!("application {}", change.app_id)))?;
    let roles = roles_with_app(ctx, change.app_id)?;
    let user = read_user(ctx, change.user_id)?;
    let user_roles = id_set(user.get("role_ids"));
    let held: Vec<&RoleApps> = roles.iter().filter(|r| user_roles.contains(&r.id)).collect();
    if change.grant {
        grant(ctx, change, &roles, &held)
    } else {
        revoke(ctx, change, &held)
    }
}

/// Add the user to a role that gives exactly the app, unless a role of
/// theirs already gives it.
fn grant<T: Transport>(
    ctx: &mut Ctx<'_, T>,
    change: &AppChange,
    roles: &[RoleApps],
    held: &[&RoleApps],
) -> Result<Outcome> {
    let user_key = USER.key(change.user_id);
    let app_key = APPLICATION.key(change.app_id);
    if let Some(role) = held.first() {
        let via = ROLE.key(role.id);
        return Ok(Outcome::unchanged(&user_key, format!("{user_key} already has {app_key} through {via}: no change")));
    }
    let exact: Vec<&RoleApps> = roles.iter().filter(|r| r.gives_only(change.app_id)).collect();
    let Some(role) = exact.first() else {
        let candidates: Vec<&RoleApps> = roles.iter().collect();
        let which = if candidates.is_empty() { "no role gives it".to_string() } else { describe_roles(&candidates) };
        return Err(Error::input(
            "resource",
            format!(
                "OneLogin grants apps only through roles, and no role gives exactly {app_key} and nothing else \
                 (roles with it: {which}); create such a role, or grant one of these roles explicitly"
            ),
        ));
    };
    let grant = RoleChange { user_id: change.user_id, role_id: role.id, permission: Permission::Member, grant: true };
    let mut outcome = role_membership::run(ctx, &grant)?;
    outcome.summary = format!("grant {app_key} to {user_key} through {}", ROLE.key(role.id));
    if exact.len() > 1 {
        outcome.notes.push(format!("several roles give exactly this app: {}; used the first", describe_roles(&exact)));
    }
    Ok(outcome)
}

/// Take the user out of the roles giving the app, provided each gives
/// nothing else.
fn revoke<T: Transport>(ctx: &mut Ctx<'_, T>, change: &AppChange, held: &[&RoleApps]) -> Result<Outcome> {
    let user_key = USER.key(change.user_id);
    let app_key = APPLICATION.key(change.app_id);
    if held.is_empty() {
        return Ok(Outcome::unchanged(&user_key, format!("{user_key} has no role giving {app_key}: no change")));
    }
    let wider: Vec<&RoleApps> = held.iter().copied().filter(|r| !r.gives_only(change.app_id)).collect();
    if !wider.is_empty() {
        return Err(Error::input(
            "resource",
            format!(
                "{user_key} gets {app_key} through roles that also give other apps: {}; revoke those roles explicitly",
                describe_roles(&wider)
            ),
        ));
    }
    let mut removed = Vec::new();
    for role in held {
        let revoke =
            RoleChange { user_id: change.user_id, role_id: role.id, permission: Permission::Member, grant: false };
        role_membership::run(ctx, &revoke)?;
        removed.push(ROLE.key(role.id));
    }
    Ok(Outcome::changed(&user_key, format!("revoke {app_key} from {user_key} (left {})", removed.join(", ")))
        .with_before_after(json!({"access": true}), json!({"access": false})))
}
