//! `provision`: validate an action, read the current state, then make (or in
//! a dry run, plan) the state-changing calls. One file per kind of operation:
//!
//! - `users.rs` — create, update, delete, suspend, resume, end sessions,
//!   set password, invite links, lock/unlock, set state, re-run mappings;
//! - `role_membership.rs` — role member / admin grants;
//! - `group_membership.rs` — the user's one group;
//! - `app_access.rs` — app access, through a role that gives exactly that app;
//! - `roles.rs` — rename a role, set a role's apps;
//! - `mfa.rs` — remove an MFA device;
//! - `attributes.rs` — validation of user attributes;
//! - `spec.rs` — what `describe` lists.
//!
//! Every action is idempotent: when the target state already holds, nothing
//! is written and the outcome says `changed: false`. Writes are never retried
//! blindly (see `Client::request`); a create whose response was lost is
//! looked up before it is retried (`users::create`).

pub mod app_access;
pub mod attributes;
pub mod group_membership;
pub mod mfa;
pub mod role_membership;
pub mod roles;
pub mod spec;
pub mod users;

use serde_json::{Map, Value};

use crate::client::errors;
use crate::client::transport::{Method, Transport};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::connector::types::{AccessLevel, Action, ActionOutcome, PlannedCall};
use crate::sync::mapping::kinds;

/// Where an action runs: the client, and whether writes are sent or planned.
pub struct Ctx<'a, T: Transport> {
    client: &'a mut Client<T>,
    dry_run: bool,
    calls: Vec<PlannedCall>,
}

impl<T: Transport> Ctx<'_, T> {
    /// A read (allowed in a dry run too).
    pub fn read(&mut self, path_and_query: &str) -> Result<Value> {
        Ok(self.client.get_json(path_and_query)?.1)
    }

    /// One page of a v2 list (a read, allowed in a dry run too).
    pub fn v2_page(
        &mut self,
        path: &str,
        limit: usize,
        cursor: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<crate::client::pagination::Page> {
        self.client.v2_page(path, limit, cursor, extra)
    }

    /// A read whose 404 means "absent".
    pub fn read_optional(&mut self, path_and_query: &str) -> Result<Option<Value>> {
        match self.read(path_and_query) {
            Ok(value) => Ok(Some(value)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// A state-changing call: recorded (with the `secret_fields` of its body
    /// redacted), and sent unless this is a dry run. Returns the response
    /// body (`Value::Null` when empty), or `None` in a dry run.
    pub fn write(
        &mut self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
        secret_fields: &[&str],
    ) -> Result<Option<Value>> {
        self.calls.push(PlannedCall {
            method: method.as_str().to_string(),
            path: path_and_query.to_string(),
            body: body.as_ref().map(|b| redact(b, secret_fields).to_string()),
        });
        if self.dry_run {
            return Ok(None);
        }
        let response = self.client.request(method, path_and_query, body.as_ref())?;
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(Value::Null));
        }
        // Some write endpoints answer with non-JSON; the status already said success.
        let value: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        if let Some(status) = errors::v1_status_error(&value) {
            let what = format!("{} {}", method.as_str(), crate::client::path_only(path_and_query));
            return Err(errors::from_response(status, &response, &what));
        }
        Ok(Some(value))
    }

    /// The last planned or made call, for the lost-response recovery.
    pub fn forget_last_call(&mut self) {
        self.calls.pop();
    }
}

/// What an action reports, before the calls are attached.
#[derive(Debug, Default)]
pub struct Outcome {
    pub changed: bool,
    pub summary: String,
    pub key: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub link: Option<String>,
    pub notes: Vec<String>,
}

impl Outcome {
    /// The target state already held.
    pub fn unchanged(key: &str, summary: impl Into<String>) -> Outcome {
        Outcome { changed: false, summary: summary.into(), key: Some(key.to_string()), ..Outcome::default() }
    }

    /// A change was made (or planned).
    pub fn changed(key: &str, summary: impl Into<String>) -> Outcome {
        Outcome { changed: true, summary: summary.into(), key: Some(key.to_string()), ..Outcome::default() }
    }

    pub fn with_before_after(mut self, before: Value, after: Value) -> Outcome {
        self.before = Some(before);
        self.after = Some(after);
        self
    }
}

/// Run `action` with a client whose credentials have `access`.
pub fn run<T: Transport>(
    client: &mut Client<T>,
    access: AccessLevel,
    action: &Action,
    dry_run: bool,
) -> Result<ActionOutcome> {
    // Validate the arguments before anything else, then the scope, then call.
    let request = users::Request::parse(action)?;
    if access != AccessLevel::Manage {
        return Err(Error::InsufficientScope("provisioning needs an API credential with the Manage All scope".into()));
    }
    let mut ctx = Ctx { client, dry_run, calls: Vec::new() };
    let outcome = users::execute(&mut ctx, request)?;
    let changed = outcome.changed && !dry_run;
    let summary =
        if dry_run && outcome.changed { format!("dry run: would {}", outcome.summary) } else { outcome.summary };
    Ok(ActionOutcome {
        changed,
        summary,
        key: outcome.key,
        before: outcome.before.map(|v| v.to_string()),
        after: outcome.after.map(|v| v.to_string()),
        calls: ctx.calls,
        link: outcome.link,
        notes: outcome.notes,
    })
}

/// The numeric id in an entity key `<kind>:<id>`, or an input error naming `field`.
pub fn parse_key(key: &str, kind: &str, field: &str) -> Result<u64> {
    let id = key
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(|| Error::input(field, format!("expected a `{kind}:<id>` key")))?;
    id.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::input(field, format!("`{kind}` ids are positive integers")))
}

/// A OneLogin id array (`role_ids`, a role's `apps`): numbers or numeric
/// strings, sorted and deduplicated; anything else is skipped, a missing or
/// non-array value is empty.
pub fn id_array(value: Option<&Value>) -> Vec<u64> {
    let mut ids: Vec<u64> = value
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A user key → id.
pub fn user_id(key: &str, field: &str) -> Result<u64> {
    parse_key(key, kinds::USER, field)
}

/// A JSON object argument, or an input error naming `field`.
pub fn parse_object(text: &str, field: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::input(field, "must be a JSON object")),
    }
}

/// A copy of `body` with the values of `secret_fields` replaced.
fn redact(body: &Value, secret_fields: &[&str]) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if secret_fields.contains(&k.as_str()) { Value::from("<redacted>") } else { v.clone() };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A not-found error with a clear message about which object.
pub fn not_found(what: &str) -> Error {
    Error::NotFound(format!("{what} does not exist in OneLogin"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redaction_replaces_only_secret_fields() {
        let body = json!({"password": "p", "password_confirmation": "p", "validate_policy": true});
        let redacted = redact(&body, &["password", "password_confirmation"]);
        assert_eq!(
            redacted,
            json!({"password": "<redacted>", "password_confirmation": "<redacted>", "validate_policy": true})
        );
    }

    #[test]
    fn id_arrays_may_hold_numbers_or_strings() {
        assert!(id_array(Some(&json!([1, 2]))).contains(&2));
        assert!(id_array(Some(&json!(["3"]))).contains(&3));
        assert!(!id_array(Some(&Value::Null)).contains(&3));
        assert_eq!(id_array(Some(&json!([5, "1", 5, null]))), [1, 5]);
    }

    #[test]
    fn keys_parse_or_name_the_field() {
        assert_eq!(user_id("onelogin_user:12", "principal").unwrap(), 12);
        for bad in ["onelogin_role:12", "onelogin_user:", "onelogin_user:-1", "onelogin_user:0", "12"] {
            assert!(
                matches!(user_id(bad, "principal"), Err(Error::InvalidInput { field, .. }) if field == "principal")
            );
        }
    }
}
