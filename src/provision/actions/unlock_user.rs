//! `custom:unlock_user`: `POST /api/2/users/{id}/unlock`. OneLogin answers
//! `{"messsage":"User unlocked"}` (sic) or `{"message":"User cannot be unlocked"}`.

use serde_json::{json, Value};

use super::account_status::status_of;
use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::ActionSpec;
use crate::provision::context::{principal, read_user, Ctx, Outcome, Params};
use crate::provision::spec::{custom, user};
use crate::vocabulary::USER;

/// The operation's name.
pub const NAME: &str = "unlock_user";

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![custom(NAME, "Unlock a locked user.", vec![user("The user.")])]
}

/// Validate the parameters.
pub fn parse(params: &mut Params) -> Result<u64> {
    principal(params.take("principal")?)
}

/// Unlock the user if locked.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    let key = USER.key(user);
    let current = read_user(ctx, user)?;
    if status_of(&current) != Some(3) {
        return Ok(Outcome::unchanged(&key, format!("{key} is not locked: no change")));
    }
    let response = ctx.write(Method::Post, &format!("/api/2/users/{user}/unlock"), None, &[])?;
    if let Some(message) = response.as_ref().and_then(|r| r.get("message")).and_then(Value::as_str) {
        return Err(Error::UnexpectedResponse {
            status: 200,
            message: format!("unlock {key}: OneLogin said {message:?}"),
        });
    }
    Ok(Outcome::changed(&key, format!("unlock {key}")).with_before_after(json!({"status": 3}), json!({"status": 1})))
}
