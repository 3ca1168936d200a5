//! `grant` and `revoke`: which module acts depends on the resource's type —
//! a role (`role_membership.rs`), a group (`group_membership.rs`) or an
//! application (`app_access.rs`).

use super::app_access::AppChange;
use super::group_membership::GroupChange;
use super::role_membership::RoleChange;
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionSpec, EntitlementChange, ParamSpec, ResourcePermissions, ValueType};
use crate::provision::spec::{action, param, user};
use crate::vocabulary::{EntityType, APPLICATION, GROUP, ROLE};

/// The permissions `grant` and `revoke` accept, per resource type (each
/// module's `parse` accepts exactly these).
const PERMISSIONS: [(&EntityType, &[&str]); 3] =
    [(&ROLE, &["member", "admin"]), (&GROUP, &["member"]), (&APPLICATION, &["access"])];

/// The describe entry `permissions`.
pub fn permissions() -> Vec<ResourcePermissions> {
    PERMISSIONS
        .iter()
        .map(|(kind, permissions)| ResourcePermissions {
            entity_type: kind.name.into(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        })
        .collect()
}

/// The describe entries.
pub fn specs() -> Vec<ActionSpec> {
    vec![
        action("grant", "Give a user a role (member/admin), a group, or an application.", params()),
        action("revoke", "Take it away.", params()),
    ]
}

fn params() -> Vec<ParamSpec> {
    vec![
        user("The user, by its sync key."),
        param(
            "resource",
            "A role, group or application, by its sync key.",
            ValueType::EntityKey,
            true,
            &[ROLE.name, GROUP.name, APPLICATION.name],
        ),
        param(
            "permission",
            "onelogin_role: `member` or `admin`; onelogin_group: `member` (a user has one group: this replaces it); \
             onelogin_application: `access` (through a role that gives exactly that app). Per resource type in \
             `connector-info.permissions`.",
            ValueType::Choice,
            true,
            &["member", "admin", "access"],
        ),
    ]
}

/// A validated grant or revoke, by resource type.
#[derive(Debug)]
pub enum Change {
    /// Role member or admin.
    Role(RoleChange),
    /// The user's one group.
    Group(GroupChange),
    /// Application access, through a role.
    App(AppChange),
}

/// Validate a grant (`grant` true) or revoke.
pub fn parse(change: &EntitlementChange, grant: bool) -> Result<Change> {
    let kind = change.resource.split(':').next().unwrap_or("");
    if kind == ROLE.name {
        Ok(Change::Role(RoleChange::parse(change, grant)?))
    } else if kind == GROUP.name {
        Ok(Change::Group(GroupChange::parse(change, grant)?))
    } else if kind == APPLICATION.name {
        Ok(Change::App(AppChange::parse(change, grant)?))
    } else {
        Err(Error::input("resource", "expected a onelogin_role, onelogin_group or onelogin_application key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::connector::types::EntitlementChange;

    #[test]
    fn every_listed_permission_parses_and_no_other_does() {
        for (kind, accepted) in PERMISSIONS {
            for permission in ["member", "admin", "access", "owner"] {
                let change = EntitlementChange {
                    principal: "onelogin_user:1".into(),
                    resource: kind.key(2),
                    permission: permission.into(),
                };
                let parsed = parse(&change, true);
                assert_eq!(parsed.is_ok(), accepted.contains(&permission), "{} {permission}: {parsed:?}", kind.name);
            }
        }
    }
}
