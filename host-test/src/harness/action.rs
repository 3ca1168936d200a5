//! Provisioning actions and outcomes as JSON, for the CLI and tests.
//!
//! An action is a one-key object named after the WIT `action` case:
//!
//! ```json
//! {"create-account": {"email": "ada@example.com", "firstname": "Ada"}}
//! {"update-account": {"principal": "onelogin_user:1", "attributes": {"title": "CTO"}}}
//! {"delete-account": "onelogin_user:1"}      (also suspend-account, resume-account, end-sessions)
//! {"grant":  {"principal": "onelogin_user:1", "resource": "onelogin_role:2", "permission": "member"}}
//! {"revoke": {"principal": "onelogin_user:1", "resource": "onelogin_group:3", "permission": "member"}}
//! {"set-credential": {"principal": "onelogin_user:1", "password": "…", "validate_policy": true}}
//! {"issue-link": {"principal": "onelogin_user:1", "send": false}}
//! {"custom": {"name": "lock_user", "params": {"principal": "onelogin_user:1", "minutes": 15}}}
//! ```

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::types::{
    AccountPatch, Action, ActionOutcome, CredentialChange, CustomAction, EntitlementChange, LinkRequest,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeJson {
    principal: String,
    resource: String,
    permission: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchJson {
    principal: String,
    attributes: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialJson {
    principal: String,
    password: String,
    // `describe` spells the parameter `validate-policy` (the WIT field name).
    #[serde(default, alias = "validate-policy")]
    validate_policy: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkJson {
    principal: String,
    #[serde(default)]
    send: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomJson {
    name: String,
    #[serde(default)]
    params: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum ActionJson {
    CreateAccount(Map<String, Value>),
    UpdateAccount(PatchJson),
    DeleteAccount(String),
    SuspendAccount(String),
    ResumeAccount(String),
    Grant(ChangeJson),
    Revoke(ChangeJson),
    SetCredential(CredentialJson),
    IssueLink(LinkJson),
    EndSessions(String),
    Custom(CustomJson),
}

/// The action names, as the parser spells them.
pub const ACTION_NAMES: [&str; 11] = [
    "create-account",
    "update-account",
    "delete-account",
    "suspend-account",
    "resume-account",
    "grant",
    "revoke",
    "set-credential",
    "issue-link",
    "end-sessions",
    "custom",
];

/// The JSON type a field must have.
#[derive(Clone, Copy)]
enum Shape {
    Text,
    Flag,
    Object,
}

impl Shape {
    fn fits(self, value: &Value) -> bool {
        match self {
            Shape::Text => value.is_string(),
            Shape::Flag => value.is_boolean(),
            Shape::Object => value.is_object(),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Shape::Text => "a string",
            Shape::Flag => "true or false",
            Shape::Object => "a JSON object",
        }
    }
}

/// The fields of the record actions: `(name, shape, required)`.
fn record_fields(action: &str) -> Option<&'static [(&'static str, Shape, bool)]> {
    const CHANGE: &[(&str, Shape, bool)] =
        &[("principal", Shape::Text, true), ("resource", Shape::Text, true), ("permission", Shape::Text, true)];
    Some(match action {
        "update-account" => &[("principal", Shape::Text, true), ("attributes", Shape::Object, true)],
        "grant" | "revoke" => CHANGE,
        "set-credential" => &[
            ("principal", Shape::Text, true),
            ("password", Shape::Text, true),
            ("validate_policy", Shape::Flag, false),
        ],
        "issue-link" => &[("principal", Shape::Text, true), ("send", Shape::Flag, false)],
        "custom" => &[("name", Shape::Text, true), ("params", Shape::Object, false)],
        _ => return None,
    })
}

/// Checks the action's shape and names the first field that is wrong,
/// without ever echoing a value (it may be a password).
fn check_shape(value: &Value) -> Result<(), String> {
    let expected = format!("expected one of {}", ACTION_NAMES.join(", "));
    let Some(object) = value.as_object() else {
        return Err(format!("an action is a JSON object with one key, the action's name: {expected}"));
    };
    let mut keys = object.keys();
    let (Some(name), None) = (keys.next(), keys.next()) else {
        return Err(format!("an action is a JSON object with exactly one key, the action's name: {expected}"));
    };
    if !ACTION_NAMES.contains(&name.as_str()) {
        return Err(format!("unknown action {name:?}: {expected}"));
    }
    let inner = &object[name];
    match name.as_str() {
        "create-account" if !inner.is_object() => {
            Err("create-account: the value must be a JSON object of attributes".into())
        }
        "delete-account" | "suspend-account" | "resume-account" | "end-sessions" if !inner.is_string() => {
            Err(format!("{name}: the value must be the user's key as a string, e.g. \"onelogin_user:1\""))
        }
        _ => {
            let Some(fields) = record_fields(name) else {
                return Ok(());
            };
            let Some(given) = inner.as_object() else {
                let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
                return Err(format!("{name}: the value must be a JSON object with {}", names.join(", ")));
            };
            for key in given.keys() {
                let known = fields.iter().any(|f| f.0 == key) || (name == "set-credential" && key == "validate-policy");
                if !known {
                    let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
                    return Err(format!("{name}: unknown field {key:?}; expected {}", names.join(", ")));
                }
            }
            for (field, shape, required) in fields {
                let value = given
                    .get(*field)
                    .or_else(|| (*field == "validate_policy").then(|| given.get("validate-policy")).flatten());
                match value {
                    None if *required => return Err(format!("{name}.{field} is missing")),
                    Some(v) if !shape.fits(v) => return Err(format!("{name}.{field} must be {}", shape.words())),
                    _ => {}
                }
            }
            Ok(())
        }
    }
}

/// Parse an action from JSON. The error names the action and field that is
/// wrong (and never echoes a value, which may be a password).
pub fn parse_action(text: &str) -> Result<Action, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("the action is not valid JSON (line {} column {})", e.line(), e.column()))?;
    check_shape(&value)?;
    let parsed: ActionJson = serde_json::from_value(value).map_err(|e| {
        // Field names only: the value-bearing part of serde's message is dropped.
        let message = e.to_string();
        let message = message.split(": ").next().unwrap_or("invalid action").to_string();
        format!("invalid action: {message} (see `host-test describe`)")
    })?;
    let change =
        |c: ChangeJson| EntitlementChange { principal: c.principal, resource: c.resource, permission: c.permission };
    Ok(match parsed {
        ActionJson::CreateAccount(attributes) => Action::CreateAccount(Value::Object(attributes).to_string()),
        ActionJson::UpdateAccount(p) => Action::UpdateAccount(AccountPatch {
            principal: p.principal,
            attributes: Value::Object(p.attributes).to_string(),
        }),
        ActionJson::DeleteAccount(key) => Action::DeleteAccount(key),
        ActionJson::SuspendAccount(key) => Action::SuspendAccount(key),
        ActionJson::ResumeAccount(key) => Action::ResumeAccount(key),
        ActionJson::Grant(c) => Action::Grant(change(c)),
        ActionJson::Revoke(c) => Action::Revoke(change(c)),
        ActionJson::SetCredential(c) => Action::SetCredential(CredentialChange {
            principal: c.principal,
            password: c.password,
            validate_policy: c.validate_policy,
        }),
        ActionJson::IssueLink(l) => Action::IssueLink(LinkRequest { principal: l.principal, send: l.send }),
        ActionJson::EndSessions(key) => Action::EndSessions(key),
        ActionJson::Custom(c) => {
            Action::Custom(CustomAction { name: c.name, params: Value::Object(c.params).to_string() })
        }
    })
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// An outcome as JSON (JSON-text fields parsed).
pub fn outcome_json(outcome: &ActionOutcome) -> Value {
    json!({
        "changed": outcome.changed,
        "summary": outcome.summary,
        "key": outcome.key,
        "before": outcome.before.as_deref().map(parsed),
        "after": outcome.after.as_deref().map(parsed),
        "calls": outcome.calls.iter().map(|c| json!({
            "method": c.method, "path": c.path, "body": c.body.as_deref().map(parsed),
        })).collect::<Vec<_>>(),
        "link": outcome.link,
        "notes": outcome.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_case_parses() {
        let cases = [
            r#"{"create-account":{"email":"a@example.com"}}"#,
            r#"{"update-account":{"principal":"onelogin_user:1","attributes":{"title":"x"}}}"#,
            r#"{"delete-account":"onelogin_user:1"}"#,
            r#"{"suspend-account":"onelogin_user:1"}"#,
            r#"{"resume-account":"onelogin_user:1"}"#,
            r#"{"grant":{"principal":"onelogin_user:1","resource":"onelogin_role:2","permission":"member"}}"#,
            r#"{"revoke":{"principal":"onelogin_user:1","resource":"onelogin_role:2","permission":"admin"}}"#,
            r#"{"set-credential":{"principal":"onelogin_user:1","password":"p"}}"#,
            r#"{"issue-link":{"principal":"onelogin_user:1","send":true}}"#,
            r#"{"end-sessions":"onelogin_user:1"}"#,
            r#"{"custom":{"name":"lock_user","params":{"principal":"onelogin_user:1","minutes":5}}}"#,
        ];
        for case in cases {
            assert!(parse_action(case).is_ok(), "{case}");
        }
        assert!(matches!(parse_action(cases[7]).unwrap(), Action::SetCredential(c) if !c.validate_policy));
    }

    #[test]
    fn errors_do_not_echo_the_input() {
        let error =
            parse_action(r#"{"set-credential":{"principal":"onelogin_user:1","pasword":"hunter2"}}"#).unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(error.contains("set-credential: unknown field \"pasword\""), "{error}");
        assert!(parse_action(r#"{"delete":{}}"#).unwrap_err().contains("unknown action \"delete\""));
        let error = parse_action(r#"{"set-credential":{"principal":"onelogin_user:1","password":7}}"#).unwrap_err();
        assert_eq!(error, "set-credential.password must be a string");
        let error = parse_action(r#"{"grant":{"principal":"onelogin_user:1","resource":"r"}}"#).unwrap_err();
        assert_eq!(error, "grant.permission is missing");
        let error = parse_action(r#"{"issue-link":{"principal":"onelogin_user:1","send":"yes"}}"#).unwrap_err();
        assert_eq!(error, "issue-link.send must be true or false");
        assert!(parse_action("{\"grant\":").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn describe_spelling_of_validate_policy_is_accepted() {
        let action =
            parse_action(r#"{"set-credential":{"principal":"onelogin_user:1","password":"p","validate-policy":true}}"#)
                .unwrap();
        assert!(matches!(action, Action::SetCredential(c) if c.validate_policy));
    }
}
