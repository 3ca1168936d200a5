//! `update-account`: `GET /api/2/users/{id}`, then `PUT /api/2/users/{id}`
//! with the changed fields only.

use serde_json::{Map, Value};

use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::identity::connector::types::{AccountPatch, ActionSpec, ValueType};
use crate::provision::attributes::{self, UserAttributes};
use crate::provision::context::{parse_object, read_user, user_id, Ctx, Outcome};
use crate::provision::spec::{action, param, user};
use crate::vocabulary::{id_value, USER};

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    let mut params = vec![
        user("The user."),
        param("attributes", "A JSON object of the attributes below.", ValueType::Object, true, &[]),
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

/// Whether OneLogin's current value already is the wanted one, across the
/// types OneLogin varies between: an id as a number or a numeric string
/// (`manager_user_id` comes both ways, python-sdk #100), and custom
/// attributes compared one by one the same way.
fn same(now: &Value, wanted: &Value) -> bool {
    match (now, wanted) {
        (Value::Object(now), Value::Object(wanted)) => {
            wanted.iter().all(|(k, v)| same(now.get(k).unwrap_or(&Value::Null), v))
        }
        _ => match (id_value(now), id_value(wanted)) {
            (Some(a), Some(b)) => a == b,
            _ => now == wanted,
        },
    }
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
        if !same(now, wanted) {
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
    let mut outcome = Outcome::changed(&key, summary).with_before_after(before, after);
    outcome.notes.extend(attributes.options.mappings_note().map(str::to_string));
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::same;
    use serde_json::json;

    #[test]
    fn values_of_another_type_but_the_same_meaning_are_the_same() {
        assert!(same(&json!("42"), &json!(42)), "an id as a string or a number");
        assert!(same(&json!({"a": "1", "b": null}), &json!({"a": 1})), "custom attributes one by one");
        assert!(!same(&json!("Ops"), &json!("ops")), "text is compared as is");
        assert!(!same(&json!(null), &json!(7)));
        assert!(!same(&json!({"a": "1"}), &json!({"a": 2})));
    }
}
