//! `delete-account`: `GET /api/2/users/{id}` (absent = no change), then
//! `DELETE /api/2/users/{id}`.

use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::identity::connector::types::ActionSpec;
use crate::provision::context::{user_id, Ctx, Outcome};
use crate::provision::spec::{action, user};
use crate::vocabulary::USER;

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![action("delete-account", "Delete a user.", vec![user("The user.")])]
}

/// Validate the user key.
pub fn parse(key: &str) -> Result<u64> {
    user_id(key, "principal")
}

/// Delete the user if it exists.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    let key = USER.key(user);
    if ctx.read_optional(&format!("/api/2/users/{user}"))?.is_none() {
        return Ok(Outcome::unchanged(&key, format!("{key} does not exist: no change")));
    }
    ctx.write(Method::Delete, &format!("/api/2/users/{user}"), None, &[])?;
    Ok(Outcome::changed(&key, format!("delete {key}")))
}
