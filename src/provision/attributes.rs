//! Validation of user attributes for create and update, before any call.
//! Each rule names the attribute it rejects.

use serde_json::{Map, Value};

use super::spec::param;
use crate::error::{Error, Result};
use crate::identity::connector::types::{ParamSpec, ValueType};

/// Text attributes a host may set (`null` clears where OneLogin allows).
pub const TEXT: [&str; 14] = [
    "username",
    "email",
    "firstname",
    "lastname",
    "title",
    "department",
    "company",
    "comment",
    "phone",
    "external_id",
    "preferred_locale_code",
    "samaccountname",
    "userprincipalname",
    "distinguished_name",
];
/// Integer attributes.
pub const INTEGER: [&str; 4] = ["manager_user_id", "group_id", "status", "state"];
/// Valid user `status` values (6 is unused).
pub const STATUSES: [u64; 8] = [0, 1, 2, 3, 4, 5, 7, 8];
/// Valid user `state` values.
pub const STATES: [u64; 4] = [0, 1, 2, 3];
/// Valid `mappings` modes.
pub const MAPPINGS: [&str; 3] = ["async", "sync", "disabled"];

/// Options that go to the query string, not the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    pub mappings: Option<String>,
    pub validate_policy: Option<bool>,
}

impl WriteOptions {
    /// `?mappings=…&validate_policy=…`, or empty.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(mode) = &self.mappings {
            parts.push(format!("mappings={mode}"));
        }
        if let Some(validate) = self.validate_policy {
            parts.push(format!("validate_policy={validate}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// The note a write's outcome carries when OneLogin runs the user
    /// mappings after its response (`mappings=async`, the default: docs
    /// update-user, FIDELITY.md F-MAP-2), so roles they add or remove are not
    /// in the response yet.
    pub fn mappings_note(&self) -> Option<&'static str> {
        matches!(self.mappings.as_deref(), None | Some("async")).then_some(
            "user mappings run after OneLogin's response (mappings=async): roles they add or remove appear later; \
             use mappings=sync or custom:apply_mappings to see them now",
        )
    }
}

/// Validated user attributes: the body to send, the options, and the password
/// (create only) kept apart so it can be redacted.
#[derive(Debug, Clone, Default)]
pub struct UserAttributes {
    pub fields: Map<String, Value>,
    pub options: WriteOptions,
    pub password: Option<crate::error::Secret>,
}

/// User attributes as parameters (for create and update).
// Long: one declarative list of every attribute, read top to bottom.
pub fn params(creating: bool) -> Vec<ParamSpec> {
    let mut params: Vec<ParamSpec> = TEXT
        .iter()
        .map(|name| {
            let description = match *name {
                "username" | "email" if creating => "Text; a new user needs a username or an email (or both).",
                "email" => "An email address.",
                "phone" => "A phone number: digits, spaces, + ( ) - .",
                "preferred_locale_code" => "A locale code such as `en` or `en-US`.",
                _ => "Text, or null to clear.",
            };
            param(name, description, ValueType::Text, false, &[])
        })
        .collect();
    params.extend(INTEGER.iter().map(|name| {
        let (description, allowed): (&str, &[&str]) = match *name {
            "status" => ("User status.", &["0", "1", "2", "3", "4", "5", "7", "8"]),
            "state" => ("User state (3 = unlicensed: only custom:set_state can leave it).", &["0", "1", "2", "3"]),
            "group_id" => ("The user's one group, or null.", &[]),
            _ => ("The manager's user id, or null.", &[]),
        };
        param(
            name,
            description,
            if allowed.is_empty() { ValueType::Integer } else { ValueType::Choice },
            false,
            allowed,
        )
    }));
    params.push(param(
        "custom_attributes",
        "An object of custom attribute shortname → text or null.",
        ValueType::Object,
        false,
        &[],
    ));
    params.push(param(
        "mappings",
        "Run user mappings: async (OneLogin's default), sync, or disabled.",
        ValueType::Choice,
        false,
        &MAPPINGS,
    ));
    params.push(param(
        "validate_policy",
        "Check a password against the user's policy.",
        ValueType::Boolean,
        false,
        &[],
    ));
    if creating {
        let mut password = param(
            "password",
            "An initial password; without one the user waits for a password (status 7).",
            ValueType::Text,
            false,
            &[],
        );
        password.secret = true;
        params.push(password);
    }
    params
}

/// The fields of `user` named in `fields`, as an object (for an outcome's
/// before and after); of `custom_attributes`, only those being set.
pub fn pick(user: &Value, fields: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (name, wanted) in fields {
        let current = user.get(name).cloned().unwrap_or(Value::Null);
        let current = match (name.as_str(), wanted) {
            ("custom_attributes", Value::Object(wanted)) => {
                let all = current.as_object().cloned().unwrap_or_default();
                Value::Object(wanted.keys().map(|k| (k.clone(), all.get(k).cloned().unwrap_or(Value::Null))).collect())
            }
            _ => current,
        };
        out.insert(name.clone(), current);
    }
    Value::Object(out)
}

/// Validate attributes; `creating` allows `password` and requires username or email.
pub fn validate(input: Map<String, Value>, creating: bool) -> Result<UserAttributes> {
    let mut out = UserAttributes::default();
    for (name, value) in input {
        match name.as_str() {
            "mappings" => {
                let mode = value.as_str().filter(|m| MAPPINGS.contains(m));
                let mode = mode.ok_or_else(|| Error::input("mappings", "must be async, sync or disabled"))?;
                out.options.mappings = Some(mode.to_string());
            }
            "validate_policy" => {
                let flag = value.as_bool().ok_or_else(|| Error::input("validate_policy", "must be true or false"))?;
                out.options.validate_policy = Some(flag);
            }
            "password" if creating => {
                let password = value.as_str().filter(|p| !p.is_empty());
                let password = password.ok_or_else(|| Error::input("password", "must be a non-empty string"))?;
                out.password = Some(crate::error::Secret::new(password));
            }
            "custom_attributes" => {
                let Value::Object(map) = &value else {
                    return Err(Error::input("custom_attributes", "must be an object of name → text or null"));
                };
                for (short, v) in map {
                    if !(v.is_string() || v.is_null()) || short.is_empty() {
                        return Err(Error::input(&format!("custom_attributes.{short}"), "must be text or null"));
                    }
                }
                out.fields.insert(name, value);
            }
            text if TEXT.contains(&text) => {
                check_text(text, &value)?;
                out.fields.insert(name, value);
            }
            integer if INTEGER.contains(&integer) => {
                check_integer(integer, &value)?;
                out.fields.insert(name, value);
            }
            other => return Err(Error::input(other, "not a user attribute this connector can set")),
        }
    }
    let has = |field: &str| out.fields.get(field).and_then(Value::as_str).is_some_and(|v| !v.trim().is_empty());
    if creating && !has("username") && !has("email") {
        return Err(Error::input("username", "a new user needs a username or an email"));
    }
    if !creating && out.fields.is_empty() {
        return Err(Error::input("attributes", "nothing to change"));
    }
    Ok(out)
}

fn check_text(name: &str, value: &Value) -> Result<()> {
    let text = match value {
        Value::String(text) => text,
        Value::Null if !matches!(name, "username" | "email") => return Ok(()),
        _ => return Err(Error::input(name, "must be text")),
    };
    if text.len() > 255 || text.chars().any(char::is_control) {
        return Err(Error::input(name, "must be at most 255 characters without control characters"));
    }
    match name {
        "email" if !is_email(text) => Err(Error::input(name, "is not an email address")),
        "username" if text.trim().is_empty() => Err(Error::input(name, "must not be empty")),
        "phone" if !is_phone(text) => Err(Error::input(name, "is not a phone number (digits, spaces, +()-.)")),
        "preferred_locale_code" if !is_locale(text) => {
            Err(Error::input(name, "is not a locale code such as en or en-US"))
        }
        _ => Ok(()),
    }
}

fn check_integer(name: &str, value: &Value) -> Result<()> {
    let number = match value {
        Value::Null if matches!(name, "manager_user_id" | "group_id") => return Ok(()),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    let number = number.ok_or_else(|| Error::input(name, "must be a non-negative integer"))?;
    match name {
        "status" if !STATUSES.contains(&number) => Err(Error::input(name, "must be one of 0, 1, 2, 3, 4, 5, 7, 8")),
        "state" if !STATES.contains(&number) => Err(Error::input(name, "must be one of 0, 1, 2, 3")),
        _ => Ok(()),
    }
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

fn is_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (4..=20).contains(&digits) && text.chars().all(|c| c.is_ascii_digit() || " +()-.".contains(c))
}

fn is_locale(text: &str) -> bool {
    let mut parts = text.split(['-', '_']);
    let language = parts.next().unwrap_or("");
    let region = parts.next();
    parts.next().is_none()
        && language.len() == 2
        && language.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(input: Value, creating: bool) -> String {
        match validate(input.as_object().unwrap().clone(), creating) {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn each_rule_names_its_attribute() {
        assert_eq!(field(json!({"firstname": "A"}), true), "username");
        assert_eq!(field(json!({"email": "not-an-email"}), true), "email");
        assert_eq!(field(json!({"email": "a@b"}), true), "email");
        assert_eq!(field(json!({"username": "u", "phone": "call me"}), true), "phone");
        assert_eq!(field(json!({"username": "u", "preferred_locale_code": "english"}), true), "preferred_locale_code");
        assert_eq!(field(json!({"username": "u", "status": 6}), true), "status");
        assert_eq!(field(json!({"username": "u", "state": 9}), true), "state");
        assert_eq!(field(json!({"username": "u", "title": 5}), true), "title");
        assert_eq!(field(json!({"username": "u", "group_id": "x"}), true), "group_id");
        assert_eq!(field(json!({"username": "u", "favourite": "x"}), true), "favourite");
        assert_eq!(field(json!({"username": "u", "custom_attributes": {"a": 1}}), true), "custom_attributes.a");
        assert_eq!(field(json!({"username": "u", "mappings": "now"}), true), "mappings");
        assert_eq!(field(json!({"username": "u", "password": ""}), true), "password");
        assert_eq!(field(json!({"password": "x"}), false), "password");
        assert_eq!(field(json!({}), false), "attributes");
        assert_eq!(field(json!({"username": null}), false), "username");
    }

    #[test]
    fn valid_attributes_split_into_fields_options_and_password() {
        let attrs = validate(
            json!({"email": "a.b@example.com", "phone": "+1 (555) 010-2000", "preferred_locale_code": "en-US",
                   "status": 1, "custom_attributes": {"food": null}, "mappings": "sync", "password": "pw1"})
            .as_object()
            .unwrap()
            .clone(),
            true,
        )
        .unwrap();
        assert_eq!(attrs.options.query(), "?mappings=sync");
        assert!(attrs.password.is_some() && !attrs.fields.contains_key("password"));
        assert_eq!(attrs.fields.len(), 5);
    }
}
