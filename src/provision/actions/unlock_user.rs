//! `custom:unlock_user`: `POST /api/2/users/{id}/unlock`. OneLogin answers
//! `{"messsage":"User unlocked"}` (sic), or `{"message":"User cannot be unlocked"}`
//! for a user that is not locked: with HTTP 422 per the docs' layout
//! (FIDELITY.md F-UW-14), and 200 is tolerated too. A user unlocked between
//! the read and the call (by someone else, or a lock that expired) is no
//! change, not an error.

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
    let refused = match ctx.write(Method::Post, &format!("/api/2/users/{user}/unlock"), None, &[]) {
        Ok(response) => response.as_ref().and_then(|r| r.get("message")).and_then(Value::as_str).map(str::to_string),
        Err(Error::Upstream { status: 422, message }) => Some(message),
        Err(error) => return Err(error),
    };
    if let Some(message) = refused {
        if status_of(&read_user(ctx, user)?) != Some(3) {
            return Ok(Outcome::unchanged(&key, format!("{key} is no longer locked: no change")));
        }
        return Err(Error::UnexpectedResponse {
            status: 422,
            message: format!("unlock {key}: OneLogin said {message:?}"),
        });
    }
    Ok(Outcome::changed(&key, format!("unlock {key}")).with_before_after(json!({"status": 3}), json!({"status": 1})))
}
