//! `create-account`: `GET /api/2/users?email=…` (then `?username=…`) to see
//! whether the user exists, then `POST /api/2/users`. A create whose response
//! was lost (a transport failure after the request may have been sent) is
//! looked up before it is retried once; one that was never sent (the host
//! refused it, the name did not resolve) fails as it is.

use serde_json::{json, Value};

use crate::client::transport::{Method, Transport};
use crate::error::{may_have_been_sent, Error, Result};
use crate::identity::connector::types::ActionSpec;
use crate::provision::attributes::{self, UserAttributes};
use crate::provision::context::{parse_object, Ctx, Outcome};
use crate::provision::spec::action;
use crate::vocabulary::{id_of, USER};

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![action(
        "create-account",
        "Create a user (v2). No change if a user with that email or username exists.",
        attributes::params(true),
    )]
}

/// Validate the attributes JSON.
pub fn parse(attributes: &str) -> Result<UserAttributes> {
    attributes::validate(parse_object(attributes, "attributes")?, true)
}

/// Find a user by email, then by username (exact match).
fn find_user<T: Transport>(ctx: &mut Ctx<'_, T>, attributes: &UserAttributes) -> Result<Option<Value>> {
    for field in ["email", "username"] {
        let Some(value) = attributes.fields.get(field).and_then(Value::as_str).filter(|v| !v.is_empty()) else {
            continue;
        };
        let query = crate::client::pagination::percent_encode(value);
        let found = ctx.read(&format!("/api/2/users?{field}={query}"))?;
        let matches = found
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u.get(field).and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(value)));
        if let Some(user) = matches {
            return Ok(Some(user.clone()));
        }
    }
    Ok(None)
}

/// Create the user unless one exists.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, attributes: UserAttributes) -> Result<Outcome> {
    if let Some(existing) = find_user(ctx, &attributes)? {
        let key = USER.key(id_of(&existing).unwrap_or(0));
        return Ok(Outcome::unchanged(&key, format!("{key} already exists: no change")));
    }
    let mut body = attributes.fields.clone();
    if let Some(password) = &attributes.password {
        body.insert("password".into(), json!(password.expose()));
        body.insert("password_confirmation".into(), json!(password.expose()));
    }
    let path = format!("/api/2/users{}", attributes.options.query());
    let secrets = ["password", "password_confirmation"];
    let created = match ctx.write(Method::Post, &path, Some(Value::Object(body.clone())), &secrets) {
        Ok(created) => created,
        // The response was lost: the user may exist. Look before retrying once.
        Err(Error::Transport { kind, message, .. }) if may_have_been_sent(kind) => match find_user(ctx, &attributes)? {
            Some(user) => {
                let mut outcome = created_outcome(Some(user), &attributes);
                outcome.notes.push(format!("the create response was lost ({message}); found the created user"));
                return Ok(outcome);
            }
            None => {
                ctx.forget_last_call();
                ctx.write(Method::Post, &path, Some(Value::Object(body)), &secrets)?
            }
        },
        Err(other) => return Err(other),
    };
    let mut outcome = created_outcome(created, &attributes);
    outcome.notes.extend(attributes.options.mappings_note().map(str::to_string));
    Ok(outcome)
}

fn created_outcome(created: Option<Value>, attributes: &UserAttributes) -> Outcome {
    let id = created.as_ref().and_then(id_of);
    let who = attributes
        .fields
        .get("email")
        .or_else(|| attributes.fields.get("username"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match id {
        Some(id) => {
            let key = USER.key(id);
            let mut outcome = Outcome::changed(&key, format!("created {key} ({who})"));
            outcome.after = created.map(|user| attributes::pick(&user, &attributes.fields));
            outcome
        }
        None => Outcome { changed: true, summary: format!("create user {who}"), ..Outcome::default() },
    }
}
