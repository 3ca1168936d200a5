//! `custom:lock_user`: `PUT /api/1/users/{id}/lock_user` `{"locked_until":minutes}`.

use serde_json::{json, Value};

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

/// Lock the user unless locked. With `minutes` 0 OneLogin locks for the lock
/// period of the user's policy (indefinitely when it has none; docs lock-user),
/// which the user read does not name: after the lock, the user is read again
/// and the outcome reports the `locked_until` OneLogin set.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, lock: Lock) -> Result<Outcome> {
    let Lock { user, minutes } = lock;
    let key = USER.key(user);
    let current = read_user(ctx, user)?;
    if status_of(&current) == Some(LOCKED) {
        return Ok(Outcome::unchanged(&key, format!("{key} is already locked: no change")));
    }
    let sent =
        ctx.write(Method::Put, &format!("/api/1/users/{user}/lock_user"), Some(json!({"locked_until": minutes})), &[])?;
    let before = json!({"status": status_of(&current)});
    if minutes > 0 {
        return Ok(Outcome::changed(&key, format!("lock {key} for {minutes} min"))
            .with_before_after(before, json!({"status": LOCKED})));
    }
    let policy = "for the lock period of the user's policy (indefinitely if it has none)";
    if sent.is_none() {
        // A plan: OneLogin decides the period when the lock is made.
        return Ok(
            Outcome::changed(&key, format!("lock {key} {policy}")).with_before_after(before, json!({"status": LOCKED}))
        );
    }
    let locked_until = read_user(ctx, user)?.get("locked_until").cloned().unwrap_or(Value::Null);
    let until = match &locked_until {
        Value::String(at) => format!("until {at}"),
        _ => "(OneLogin reports no end)".to_string(),
    };
    Ok(Outcome::changed(&key, format!("lock {key} {policy}: locked {until}"))
        .with_before_after(before, json!({"status": LOCKED, "locked_until": locked_until})))
}
