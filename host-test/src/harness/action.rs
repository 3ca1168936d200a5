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
    #[serde(default)]
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

/// Parse an action from JSON. The error says what was expected (and never
/// echoes the input, which may hold a password).
pub fn parse_action(text: &str) -> Result<Action, String> {
    let parsed: ActionJson = serde_json::from_str(text).map_err(|e| {
        let at = format!("line {} column {}", e.line(), e.column());
        format!(
            "invalid action JSON at {at}: expected one of create-account, update-account, delete-account, \
             suspend-account, resume-account, grant, revoke, set-credential, issue-link, end-sessions, custom \
             (see `host-test provision --help`)"
        )
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
        assert!(parse_action(r#"{"delete":{}}"#).is_err());
    }
}
