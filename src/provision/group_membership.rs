//! Group membership. OneLogin gives a user at most one group, held in the
//! user's `group_id`: granting sets it (replacing any other group), revoking
//! clears it (`null`) when it is this group.
//! Check: `GET /api/1/groups/{id}` (exists) and `GET /api/2/users/{id}`;
//! change: `PUT /api/2/users/{id}` `{"group_id": …}`.

use serde_json::{json, Value};

use super::users::read_user;
use super::{not_found, parse_key, user_id, Ctx, Outcome};
use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::EntitlementChange;
use crate::sync::mapping::{self, kinds};

/// A validated group grant or revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChange {
    pub user_id: u64,
    pub group_id: u64,
    pub grant: bool,
}

impl GroupChange {
    pub fn parse(change: &EntitlementChange, grant: bool) -> Result<GroupChange> {
        let user_id = user_id(&change.principal, "principal")?;
        let group_id = parse_key(&change.resource, kinds::GROUP, "resource")?;
        if change.permission != "member" {
            return Err(Error::input("permission", "must be `member` for a onelogin_group"));
        }
        Ok(GroupChange { user_id, group_id, grant })
    }
}

pub fn apply<T: Transport>(ctx: &mut Ctx<'_, T>, change: &GroupChange) -> Result<Outcome> {
    ctx.read_optional(&format!("/api/1/groups/{}", change.group_id))?
        .ok_or_else(|| not_found(&format!("group {}", change.group_id)))?;
    let user = read_user(ctx, change.user_id)?;
    let current = mapping::user_group_id(&user);
    let user_key = kinds::key(kinds::USER, change.user_id);
    let group_key = kinds::key(kinds::GROUP, change.group_id);
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
        outcome.notes.push(format!("a user has one group: this replaced {}", kinds::key(kinds::GROUP, previous)));
    }
    Ok(outcome.with_before_after(json!({"group_id": current}), json!({"group_id": target.map(Value::from)})))
}
