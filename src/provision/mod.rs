//! `provision`: validates an action, checks the current state and makes the
//! change. One file per kind of entitlement; this version grants and revokes
//! role membership (`member`) and role administration (`admin`).

pub mod role_membership;

use crate::client::transport::Transport;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::connector::types::{AccessLevel, Action, ActionOutcome, EntitlementChange};
use crate::sync::mapping::kinds;

/// Run `action` with a client whose credentials have `access`.
pub fn run<T: Transport>(client: &mut Client<T>, access: AccessLevel, action: &Action) -> Result<ActionOutcome> {
    let (change, grant) = match action {
        Action::Grant(change) => (change, true),
        Action::Revoke(change) => (change, false),
    };
    let request = role_membership::RoleChange::parse(change, grant)?;
    if access != AccessLevel::Manage {
        // Refuse before any call: a read credential would get a 401/403 anyway.
        return Err(Error::InsufficientScope(
            "changing role membership needs an API credential with the Manage All scope".into(),
        ));
    }
    role_membership::apply(client, &request)
}

/// The numeric id in an entity key `<kind>:<id>`, or an input error naming `field`.
pub fn parse_key(key: &str, kind: &str, field: &str) -> Result<u64> {
    let id = key
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(|| Error::input(field, format!("expected a `{kind}:<id>` key")))?;
    id.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::input(field, format!("`{kind}` ids are positive integers")))
}

/// The entity types `principal` and `resource` accept, for `describe`.
pub fn accepted_types() -> (Vec<String>, Vec<String>) {
    (vec![kinds::USER.to_string()], vec![kinds::ROLE.to_string()])
}

/// For messages: `grant onelogin_user:1 member on onelogin_role:2`.
pub fn describe_change(change: &EntitlementChange, grant: bool) -> String {
    let verb = if grant { "grant" } else { "revoke" };
    format!("{verb} {} {} on {}", change.principal, change.permission, change.resource)
}
