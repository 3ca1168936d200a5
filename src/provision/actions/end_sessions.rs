//! `end-sessions`: `PUT /api/1/users/{id}/logout`, after reading the user.

use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::identity::connector::types::ActionSpec;
use crate::provision::context::{read_user, user_id, Ctx, Outcome};
use crate::provision::spec::{action, user};
use crate::vocabulary::USER;

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![action(
        "end-sessions",
        "End the user's OneLogin session (not sessions in other apps).",
        vec![user("The user.")],
    )]
}

/// Validate the user key.
pub fn parse(key: &str) -> Result<u64> {
    user_id(key, "principal")
}

/// Log the user out of OneLogin.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    let key = USER.key(user);
    read_user(ctx, user)?;
    ctx.write(Method::Put, &format!("/api/1/users/{user}/logout"), None, &[])?;
    let mut outcome = Outcome::changed(&key, format!("end the OneLogin sessions of {key}"));
    outcome.notes.push("OneLogin ends its own session only; sessions in other applications stay".into());
    Ok(outcome)
}
