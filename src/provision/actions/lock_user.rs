//! `custom:lock_user`: `PUT /api/1/users/{id}/lock_user` `{"locked_until":minutes}`.

use serde_json::json;

use super::account_status::status_of;
use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionSpec, ValueType};
use crate::provision::context::{principal, read_user, Ctx, Outcome, Params};
use crate::provision::spec::{custom, param, user};
use crate::vocabulary::USER;

/// The operation's name.
pub const NAME: &str = "lock_user";
/// Longest lock accepted, in minutes (30 days).
pub const MAX_MINUTES: u64 = 43_200;
/// OneLogin's status for a locked user.
const LOCKED: u64 = 3;

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![custom(
        NAME,
        "Lock a user for some minutes (status 3).",
        vec![
            user("The user."),
            param("minutes", &format!("0 (the policy's lock period) to {MAX_MINUTES}."), ValueType::Integer, true, &[]),
        ],
    )]
}

/// A validated lock.
#[derive(Debug)]
pub struct Lock {
    user: u64,
    minutes: u64,
}

/// Validate the parameters.
pub fn parse(params: &mut Params) -> Result<Lock> {
    let user = principal(params.take("principal")?)?;
    let minutes = params.take("minutes")?.as_u64().filter(|m| *m <= MAX_MINUTES);
    let minutes = minutes
        .ok_or_else(|| Error::input("minutes", format!("whole minutes, 0 (policy default) to {MAX_MINUTES}")))?;
    Ok(Lock { user, minutes })
}

/// Lock the user unless locked.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, lock: Lock) -> Result<Outcome> {
    let Lock { user, minutes } = lock;
    let key = USER.key(user);
    let current = read_user(ctx, user)?;
    if status_of(&current) == Some(LOCKED) {
        return Ok(Outcome::unchanged(&key, format!("{key} is already locked: no change")));
    }
    ctx.write(Method::Put, &format!("/api/1/users/{user}/lock_user"), Some(json!({"locked_until": minutes})), &[])?;
    let period = if minutes == 0 { "for the policy's lock period".to_string() } else { format!("for {minutes} min") };
    Ok(Outcome::changed(&key, format!("lock {key} {period}"))
        .with_before_after(json!({"status": status_of(&current)}), json!({"status": LOCKED})))
}
