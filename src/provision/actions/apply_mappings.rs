//! `custom:apply_mappings`: `PUT /api/2/users/{id}?mappings=sync` `{}`,
//! which re-runs the user mappings now; reports the roles they added or removed.

use serde_json::json;

use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::identity::connector::types::ActionSpec;
use crate::provision::context::{principal, read_user, Ctx, Outcome, Params};
use crate::provision::spec::{custom, user};
use crate::vocabulary::{id_set, ROLE, USER};

/// The operation's name.
pub const NAME: &str = "apply_mappings";

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![custom(
        NAME,
        "Re-run the user mappings now (mappings=sync) and report roles they added or removed.",
        vec![user("The user.")],
    )]
}

/// Validate the parameters.
pub fn parse(params: &mut Params) -> Result<u64> {
    principal(params.take("principal")?)
}

/// Re-run the mappings and compare the roles.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    let key = USER.key(user);
    let before = id_set(read_user(ctx, user)?.get("role_ids"));
    let response = ctx.write(Method::Put, &format!("/api/2/users/{user}?mappings=sync"), Some(json!({})), &[])?;
    let Some(after_user) = response else {
        return Ok(Outcome::changed(&key, format!("re-run the user mappings for {key}")));
    };
    let after = id_set(after_user.get("role_ids"));
    let added: Vec<String> = after.iter().filter(|r| !before.contains(r)).map(|r| ROLE.key(r)).collect();
    let removed: Vec<String> = before.iter().filter(|r| !after.contains(r)).map(|r| ROLE.key(r)).collect();
    let mut outcome = Outcome::changed(&key, format!("re-ran the user mappings for {key}"));
    outcome.changed = !added.is_empty() || !removed.is_empty();
    if !added.is_empty() {
        outcome.notes.push(format!("mappings added roles: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        outcome.notes.push(format!("mappings removed roles: {}", removed.join(", ")));
    }
    Ok(outcome.with_before_after(json!({"role_ids": before}), json!({"role_ids": after})))
}
