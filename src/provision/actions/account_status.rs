//! `suspend-account` and `resume-account`: `PUT /api/2/users/{id}` with
//! `{"status":2}` or `{"status":1}`, after reading the user.

use serde_json::{json, Value};

use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::identity::connector::types::ActionSpec;
use crate::provision::context::{read_user, user_id, Ctx, Outcome};
use crate::provision::spec::{action, user};
use crate::vocabulary::{id_value, USER};

/// OneLogin's status for a suspended user.
const SUSPENDED: u64 = 2;
/// OneLogin's status for an active user.
const ACTIVE: u64 = 1;

/// The describe entries.
pub fn specs() -> Vec<ActionSpec> {
    vec![
        action("suspend-account", "Suspend a user (status 2).", vec![user("The user.")]),
        action("resume-account", "Reactivate a user (status 1).", vec![user("The user.")]),
    ]
}

/// A validated status change.
#[derive(Debug)]
pub struct SetStatus {
    user: u64,
    status: u64,
}

/// `suspend-account` (or, with `suspend` false, `resume-account`).
pub fn parse(key: &str, suspend: bool) -> Result<SetStatus> {
    Ok(SetStatus { user: user_id(key, "principal")?, status: if suspend { SUSPENDED } else { ACTIVE } })
}

/// A user's `status`.
pub fn status_of(user: &Value) -> Option<u64> {
    user.get("status").and_then(id_value)
}

/// Set the status unless it already holds.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, change: SetStatus) -> Result<Outcome> {
    let SetStatus { user, status } = change;
    let key = USER.key(user);
    let verb = if status == SUSPENDED { "suspend" } else { "resume" };
    let current = read_user(ctx, user)?;
    let before = json!({"status": status_of(&current)});
    if status_of(&current) == Some(status) {
        return Ok(Outcome::unchanged(&key, format!("{verb} {key}: already so, no change")));
    }
    ctx.write(Method::Put, &format!("/api/2/users/{user}"), Some(json!({"status": status})), &[])?;
    Ok(Outcome::changed(&key, format!("{verb} {key}")).with_before_after(before, json!({"status": status})))
}
