//! What every action works with: [`Ctx`] (reads, and writes that are sent
//! or, for `plan`, only recorded), the [`Outcome`] an action reports, and
//! the argument readers and lookups actions share.

use serde_json::{Map, Value};

use crate::client::errors;
use crate::client::transport::{Method, Transport};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::connector::types::PlannedCall;
use crate::vocabulary::{EntityType, USER};

/// Whether an action's writes are sent (`provision`) or only recorded (`plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `plan`: validate and read, record the writes, send none.
    Plan,
    /// `provision`: send the writes.
    Apply,
}

/// Where an action runs: the client, and whether writes are sent or planned.
pub struct Ctx<'a, T: Transport> {
    /// The OneLogin client.
    pub client: &'a mut Client<T>,
    /// Plan or apply.
    pub mode: Mode,
    /// The state-changing calls made or planned so far.
    pub calls: Vec<PlannedCall>,
}

impl<T: Transport> Ctx<'_, T> {
    /// A read (in a plan too).
    pub fn read(&mut self, path_and_query: &str) -> Result<Value> {
        Ok(self.client.get_json(path_and_query)?.1)
    }

    /// Every item of a list (a read, in a plan too), stopping at
    /// the first item `stop` says is enough.
    pub fn find_in_list(
        &mut self,
        list: &crate::client::pagination::List<'_>,
        mut stop: impl FnMut(&Value) -> bool,
    ) -> Result<bool> {
        let mut at = crate::client::pagination::PageCursor::first();
        loop {
            let page = self.client.page(list, &at)?;
            if page.items.iter().any(&mut stop) {
                return Ok(true);
            }
            match page.next {
                Some(next) => at = next,
                None => return Ok(false),
            }
        }
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
    /// redacted), and sent unless this is a plan. Returns the response
    /// body (`Value::Null` when empty), or `None` in a plan.
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
        if self.mode == Mode::Plan {
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

/// The numeric id in an entity key `<kind>:<id>`, or an input error naming `field`.
pub fn parse_key(key: &str, kind: &EntityType, field: &str) -> Result<u64> {
    let kind = kind.name;
    let id = key
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(|| Error::input(field, format!("expected a `{kind}:<id>` key")))?;
    id.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::input(field, format!("`{kind}` ids are positive integers")))
}

/// A user key → id.
pub fn user_id(key: &str, field: &str) -> Result<u64> {
    parse_key(key, &USER, field)
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

/// `GET /api/2/users/{id}`, or not-found naming the user.
pub fn read_user<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Value> {
    ctx.read_optional(&format!("/api/2/users/{user}"))?.ok_or_else(|| not_found(&format!("user {user}")))
}

/// `GET /api/2/roles/{id}`, or not-found naming the role.
pub fn read_role<T: Transport>(ctx: &mut Ctx<'_, T>, role: u64) -> Result<Value> {
    ctx.read_optional(&format!("/api/2/roles/{role}"))?.ok_or_else(|| not_found(&format!("role {role}")))
}

/// A `principal` parameter of a custom operation: a user key.
pub fn principal(value: Value) -> Result<u64> {
    user_id(value.as_str().unwrap_or(""), "principal")
}

/// A `role` parameter of a custom operation: a role key.
pub fn role_key(value: Value) -> Result<u64> {
    parse_key(value.as_str().unwrap_or(""), &crate::vocabulary::ROLE, "role")
}

/// The parameters of a custom operation, taken one by one; what is left
/// when the operation has read its own is refused by [`Params::finish`].
pub struct Params(Map<String, Value>);

impl Params {
    /// The `params` JSON of a custom action.
    pub fn parse(text: &str) -> Result<Params> {
        parse_object(text, "params").map(Params)
    }

    /// A required parameter.
    pub fn take(&mut self, field: &str) -> Result<Value> {
        self.0.remove(field).ok_or_else(|| Error::input(field, "required"))
    }

    /// Refuse parameters the operation does not know.
    pub fn finish(self) -> Result<()> {
        match self.0.keys().next() {
            Some(extra) => Err(Error::input(extra, "not a parameter of this operation")),
            None => Ok(()),
        }
    }
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
    fn keys_parse_or_name_the_field() {
        assert_eq!(user_id("onelogin_user:12", "principal").unwrap(), 12);
        for bad in ["onelogin_role:12", "onelogin_user:", "onelogin_user:-1", "onelogin_user:0", "12"] {
            assert!(
                matches!(user_id(bad, "principal"), Err(Error::InvalidInput { field, .. }) if field == "principal")
            );
        }
    }
}
