//! `set-credential`: `PUT /api/1/users/set_password_clear_text/{id}`, after
//! reading the user. The password is a [`Secret`]: it is redacted from the
//! planned calls and never appears in an outcome, error or log.

use serde_json::json;

use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result, Secret};
use crate::identity::connector::types::{ActionSpec, CredentialChange, ValueType};
use crate::provision::context::{read_user, user_id, Ctx, Outcome};
use crate::provision::spec::{action, param, secret, user};
use crate::vocabulary::USER;

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![action(
        "set-credential",
        "Set a user's password.",
        vec![
            user("The user."),
            secret("password", "The new password.", true),
            param("validate-policy", "Check the password policy.", ValueType::Boolean, true, &[]),
        ],
    )]
}

/// A validated password change.
#[derive(Debug)]
pub struct SetPassword {
    user: u64,
    password: Secret,
    validate_policy: bool,
}

/// Validate the change (the password must be non-empty text).
pub fn parse(change: &CredentialChange) -> Result<SetPassword> {
    let user = user_id(&change.principal, "principal")?;
    if change.password.is_empty() || change.password.chars().any(char::is_control) {
        return Err(Error::input("password", "must be non-empty, without control characters"));
    }
    Ok(SetPassword { user, password: Secret::new(change.password.clone()), validate_policy: change.validate_policy })
}

/// Set the password.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, change: SetPassword) -> Result<Outcome> {
    let SetPassword { user, password, validate_policy } = change;
    read_user(ctx, user)?;
    let body = json!({
        "password": password.expose(),
        "password_confirmation": password.expose(),
        "validate_policy": validate_policy,
    });
    let path = format!("/api/1/users/set_password_clear_text/{user}");
    ctx.write(Method::Put, &path, Some(body), &["password", "password_confirmation"]).map_err(|e| match e {
        // OneLogin's policy messages name no secret; keep them, and say which field.
        Error::Upstream { status: 400 | 422, message } => Error::input("password", message),
        other => other,
    })?;
    let key = USER.key(user);
    Ok(Outcome::changed(&key, format!("set the password of {key}")))
}
