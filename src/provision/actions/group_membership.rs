//! Group membership. OneLogin gives a user at most one group, held in the
//! user's `group_id`: granting sets it (replacing any other group), revoking
//! clears it (`null`) when it is this group.
//! Check: `GET /api/1/groups/{id}` (exists) and `GET /api/2/users/{id}`;
//! change: `PUT /api/2/users/{id}` `{"group_id": …}`.

use serde_json::{json, Value};

use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::EntitlementChange;
use crate::provision::context::{not_found, parse_key, read_user, user_id, Ctx, Outcome};
use crate::vocabulary::{id_value, GROUP, USER};

/// A validated group grant or revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChange {
    pub user_id: u64,
    pub group_id: u64,
    pub grant: bool,
}

impl GroupChange {
    /// Validate the action's arguments without any call.
    pub fn parse(change: &EntitlementChange, grant: bool) -> Result<GroupChange> {
        let user_id = user_id(&change.principal, "principal")?;
        let group_id = parse_key(&change.resource, &GROUP, "resource")?;
        if change.permission != "member" {
            return Err(Error::input("permission", "must be `member` for a onelogin_group"));
        }
        Ok(GroupChange { user_id, group_id, grant })
    }
}

/// Check the current group, then change it if needed.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, change: &GroupChange) -> Result<Outcome> {
    ctx.read_optional(&format!("/api/1/groups/{}", change.group_id))?
        .ok_or_else(|| not_found(&format!("group {}", change.group_id)))?;
    let user = read_user(ctx, change.user_id)?;
    let current = user.get("group_id").and_then(id_value);
    let user_key = USER.key(change.user_id);
    let group_key = GROUP.key(change.group_id);
    let target = if change.grant { Some(change.group_id) } else { None };
    let holds = current == Some(change.group_id);
    if holds == change.grant {
        let verb = if change.grant { "already in" } else { "not in" };
        return Ok(Outcome::unchanged(&user_key, format!("{user_key} is {verb} {group_key}: no change")));
    }
    ctx.write(Method::Put, &format!("/api/2/users/{}", change.user_id), Some(json!({"group_id": target})), &[])?;
    let mut outcome = if change.grant {
        Outcome::changed(&user_key, format!("put {user_key} in {group_key}"))
    } else {
        Outcome::changed(&user_key, format!("take {user_key} out of {group_key}"))
    };
    if let (true, Some(previous)) = (change.grant, current) {
        outcome.notes.push(format!("a user has one group: this replaced {}", GROUP.key(previous)));
    }
    Ok(outcome.with_before_after(json!({"group_id": current}), json!({"group_id": target.map(Value::from)})))
}
