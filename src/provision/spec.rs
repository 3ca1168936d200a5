//! Builders for the action list `describe` publishes. Each action module
//! writes its own entry with these.

use crate::identity::connector::types::{ActionSpec, ParamSpec, ValueType};
use crate::vocabulary::USER;

/// A parameter.
pub fn param(name: &str, description: &str, value_type: ValueType, required: bool, allowed: &[&str]) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: description.into(),
        value_type,
        required,
        secret: false,
        allowed_values: allowed.iter().map(|v| v.to_string()).collect(),
    }
}

/// A secret parameter (a password).
pub fn secret(name: &str, description: &str, required: bool) -> ParamSpec {
    ParamSpec { secret: true, ..param(name, description, ValueType::Text, required, &[]) }
}

/// The `principal` parameter: a user key.
pub fn user(description: &str) -> ParamSpec {
    param("principal", description, ValueType::EntityKey, true, &[USER.name])
}

/// An action entry.
pub fn action(name: &str, description: &str, params: Vec<ParamSpec>) -> ActionSpec {
    ActionSpec { name: name.into(), description: description.into(), params }
}

/// The entry of a custom operation (`custom:<name>`).
pub fn custom(name: &str, description: &str, params: Vec<ParamSpec>) -> ActionSpec {
    action(&format!("custom:{name}"), description, params)
}
