//! `update-account`: `GET /api/2/users/{id}`, then `PUT /api/2/users/{id}`
//! with the changed fields only.

use serde_json::{Map, Value};

use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::identity::connector::types::{AccountPatch, ActionSpec, ValueType};
use crate::provision::attributes::{self, UserAttributes};
use crate::provision::context::{parse_object, read_user, user_id, Ctx, Outcome};
use crate::provision::spec::{action, param, user};
use crate::vocabulary::USER;

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    let mut params = vec![
        user("The user."),
        param("attributes", "A JSON object of the attributes below.", ValueType::Text, true, &[]),
    ];
    params.extend(attributes::params(false));
    vec![action("update-account", "Change a user's attributes; only those that differ are sent.", params)]
}

/// A validated update.
#[derive(Debug)]
pub struct Update {
    user: u64,
    attributes: UserAttributes,
}

/// Validate the patch.
pub fn parse(patch: &AccountPatch) -> Result<Update> {
    Ok(Update {
        user: user_id(&patch.principal, "principal")?,
        attributes: attributes::validate(parse_object(&patch.attributes, "attributes")?, false)?,
    })
}

/// Send the fields that differ, if any.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, update: Update) -> Result<Outcome> {
    let Update { user, attributes } = update;
    let key = USER.key(user);
    let current = read_user(ctx, user)?;
    let before = attributes::pick(&current, &attributes.fields);
    let mut changes = Map::new();
    for (name, wanted) in &attributes.fields {
        let now = before.get(name).unwrap_or(&Value::Null);
        if now != wanted {
            changes.insert(name.clone(), wanted.clone());
        }
    }
    if changes.is_empty() {
        return Ok(Outcome::unchanged(&key, format!("{key}: attributes already so, no change")));
    }
    let path = format!("/api/2/users/{user}{}", attributes.options.query());
    let names: Vec<&str> = changes.keys().map(String::as_str).collect();
    let summary = format!("update {key} ({})", names.join(", "));
    let response = ctx.write(Method::Put, &path, Some(Value::Object(changes)), &[])?;
    let after = match &response {
        Some(user) if user.is_object() => attributes::pick(user, &attributes.fields),
        _ => Value::Object(attributes.fields.clone()),
    };
    Ok(Outcome::changed(&key, summary).with_before_after(before, after))
}
