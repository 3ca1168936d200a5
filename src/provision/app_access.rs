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
use super::users::read_user;
use super::{id_array, not_found, parse_key, user_id, Ctx, Outcome};
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::identity::connector::types::EntitlementChange;
use crate::sync::mapping::{self, kinds};
use crate::sync::page_size;

/// A validated app grant or revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppChange {
    pub user_id: u64,
    pub app_id: u64,
    pub grant: bool,
}

impl AppChange {
    pub fn parse(change: &EntitlementChange, grant: bool) -> Result<AppChange> {
        let user_id = user_id(&change.principal, "principal")?;
        let app_id = parse_key(&change.resource, kinds::APPLICATION, "resource")?;
        if change.permission != "access" {
            return Err(Error::input("permission", "must be `access` for a onelogin_application"));
        }
        Ok(AppChange { user_id, app_id, grant })
    }
}

/// A role that includes the app: its id and all its apps.
struct RoleApps {
    id: u64,
    apps: Vec<u64>,
}

impl RoleApps {
    fn exact(&self, app: u64) -> bool {
        self.apps == [app]
    }
}

fn roles_with_app<T: Transport>(ctx: &mut Ctx<'_, T>, app: u64) -> Result<Vec<RoleApps>> {
    let mut roles = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let app_filter = app.to_string();
        let extra = [("app_id", app_filter.as_str())];
        let page = ctx.v2_page("/api/2/roles", page_size::ROLES, cursor.as_deref(), &extra)?;
        for role in &page.items {
            let Some(id) = mapping::id_of(role) else { continue };
            let apps = id_array(role.get("apps"));
            // Trust but verify the filter: keep only roles that include the app.
            if apps.contains(&app) {
                roles.push(RoleApps { id, apps });
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(roles),
        }
    }
}

fn describe_roles(roles: &[&RoleApps]) -> String {
    roles
        .iter()
        .map(|r| format!("{} (apps: {})", kinds::key(kinds::ROLE, r.id), r.apps.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn apply<T: Transport>(ctx: &mut Ctx<'_, T>, change: &AppChange) -> Result<Outcome> {
    ctx.read_optional(&format!("/api/2/apps/{}", change.app_id))?
        .ok_or_else(|| not_found(&format!("application {}", change.app_id)))?;
    let roles = roles_with_app(ctx, change.app_id)?;
    let user = read_user(ctx, change.user_id)?;
    let user_key = kinds::key(kinds::USER, change.user_id);
    let app_key = kinds::key(kinds::APPLICATION, change.app_id);
    let held: Vec<&RoleApps> = {
        let user_roles = id_array(user.get("role_ids"));
        roles.iter().filter(|r| user_roles.contains(&r.id)).collect()
    };

    if change.grant {
        if let Some(role) = held.first() {
            let via = kinds::key(kinds::ROLE, role.id);
            return Ok(Outcome::unchanged(
                &user_key,
                format!("{user_key} already has {app_key} through {via}: no change"),
            ));
        }
        let exact: Vec<&RoleApps> = roles.iter().filter(|r| r.exact(change.app_id)).collect();
        let Some(role) = exact.first() else {
            let candidates: Vec<&RoleApps> = roles.iter().collect();
            let which =
                if candidates.is_empty() { "no role gives it".to_string() } else { describe_roles(&candidates) };
            return Err(Error::input(
                "resource",
                format!(
                    "OneLogin grants apps only through roles, and no role gives exactly {app_key} and nothing else \
                     (roles with it: {which}); create such a role, or grant one of these roles explicitly"
                ),
            ));
        };
        let grant =
            RoleChange { user_id: change.user_id, role_id: role.id, permission: Permission::Member, grant: true };
        let mut outcome = role_membership::apply(ctx, &grant)?;
        outcome.summary = format!("grant {app_key} to {user_key} through {}", kinds::key(kinds::ROLE, role.id));
        if exact.len() > 1 {
            outcome
                .notes
                .push(format!("several roles give exactly this app: {}; used the first", describe_roles(&exact)));
        }
        return Ok(outcome);
    }

    if held.is_empty() {
        return Ok(Outcome::unchanged(&user_key, format!("{user_key} has no role giving {app_key}: no change")));
    }
    let wider: Vec<&RoleApps> = held.iter().copied().filter(|r| !r.exact(change.app_id)).collect();
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
    for role in &held {
        let revoke =
            RoleChange { user_id: change.user_id, role_id: role.id, permission: Permission::Member, grant: false };
        role_membership::apply(ctx, &revoke)?;
        removed.push(kinds::key(kinds::ROLE, role.id));
    }
    Ok(Outcome::changed(&user_key, format!("revoke {app_key} from {user_key} (left {})", removed.join(", ")))
        .with_before_after(json!({"access": true}), json!({"access": false})))
}
