//! User lifecycle operations, and the parsing of every action into a
//! validated [`Request`] (no network) before [`execute`] runs it.
//!
//! | action | OneLogin calls (after reading the user) |
//! |---|---|
//! | create-account | `GET /api/2/users?email=…` (exists?), `POST /api/2/users` |
//! | update-account | `PUT /api/2/users/{id}` with the changed fields only |
//! | delete-account | `DELETE /api/2/users/{id}` |
//! | suspend / resume | `PUT /api/2/users/{id}` `{"status":2}` / `{"status":1}` |
//! | end-sessions | `PUT /api/1/users/{id}/logout` |
//! | set-credential | `PUT /api/1/users/set_password_clear_text/{id}` |
//! | issue-link | `POST /api/1/invites/get_invite_link` or `send_invite_link` |
//! | custom:lock_user | `PUT /api/1/users/{id}/lock_user` `{"locked_until":minutes}` |
//! | custom:unlock_user | `POST /api/2/users/{id}/unlock` |
//! | custom:set_state | `PUT /api/1/users/{id}/set_state` (state 3 = downgrade to unlicensed) |
//! | custom:apply_mappings | `PUT /api/2/users/{id}?mappings=sync` `{}` |

use serde_json::{json, Map, Value};

use super::attributes::{self, UserAttributes};
use super::{
    app_access, group_membership, id_array, mfa, not_found, parse_object, role_membership, roles, user_id, Ctx, Outcome,
};
use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result, Secret};
use crate::identity::connector::types::{Action, EntitlementChange};
use crate::sync::mapping::{self, kinds};

/// A validated action.
#[derive(Debug)]
pub enum Request {
    Create(UserAttributes),
    Update { user: u64, attributes: UserAttributes },
    Delete(u64),
    SetStatus { user: u64, status: u64 },
    EndSessions(u64),
    SetPassword { user: u64, password: Secret, validate_policy: bool },
    IssueLink { user: u64, send: bool },
    Role(role_membership::RoleChange),
    Group(group_membership::GroupChange),
    App(app_access::AppChange),
    Lock { user: u64, minutes: u64 },
    Unlock(u64),
    SetState { user: u64, state: u64 },
    ApplyMappings(u64),
    RenameRole { role: u64, name: String },
    SetRoleApps { role: u64, apps: Vec<u64> },
    RemoveMfaDevice { user: u64, device_id: String },
}

/// Custom operation names (`custom:<name>` in `describe`).
pub mod custom {
    pub const LOCK_USER: &str = "lock_user";
    pub const UNLOCK_USER: &str = "unlock_user";
    pub const SET_STATE: &str = "set_state";
    pub const APPLY_MAPPINGS: &str = "apply_mappings";
    pub const RENAME_ROLE: &str = "rename_role";
    pub const SET_ROLE_APPS: &str = "set_role_apps";
    pub const REMOVE_MFA_DEVICE: &str = "remove_mfa_device";
}

/// Longest `lock_user` period accepted, in minutes (30 days).
pub const MAX_LOCK_MINUTES: u64 = 43_200;

impl Request {
    /// Validate an action's arguments. Makes no call.
    pub fn parse(action: &Action) -> Result<Request> {
        Ok(match action {
            Action::CreateAccount(attributes) => {
                Request::Create(attributes::validate(parse_object(attributes, "attributes")?, true)?)
            }
            Action::UpdateAccount(patch) => Request::Update {
                user: user_id(&patch.principal, "principal")?,
                attributes: attributes::validate(parse_object(&patch.attributes, "attributes")?, false)?,
            },
            Action::DeleteAccount(key) => Request::Delete(user_id(key, "principal")?),
            Action::SuspendAccount(key) => Request::SetStatus { user: user_id(key, "principal")?, status: 2 },
            Action::ResumeAccount(key) => Request::SetStatus { user: user_id(key, "principal")?, status: 1 },
            Action::EndSessions(key) => Request::EndSessions(user_id(key, "principal")?),
            Action::SetCredential(change) => {
                let user = user_id(&change.principal, "principal")?;
                if change.password.is_empty() || change.password.chars().any(char::is_control) {
                    return Err(Error::input("password", "must be non-empty, without control characters"));
                }
                Request::SetPassword {
                    user,
                    password: Secret::new(change.password.clone()),
                    validate_policy: change.validate_policy,
                }
            }
            Action::IssueLink(request) => {
                Request::IssueLink { user: user_id(&request.principal, "principal")?, send: request.send }
            }
            Action::Grant(change) => entitlement(change, true)?,
            Action::Revoke(change) => entitlement(change, false)?,
            Action::Custom(custom) => parse_custom(&custom.name, parse_object(&custom.params, "params")?)?,
        })
    }
}

fn entitlement(change: &EntitlementChange, grant: bool) -> Result<Request> {
    let kind = change.resource.split(':').next().unwrap_or("");
    match kind {
        kinds::ROLE => Ok(Request::Role(role_membership::RoleChange::parse(change, grant)?)),
        kinds::GROUP => Ok(Request::Group(group_membership::GroupChange::parse(change, grant)?)),
        kinds::APPLICATION => Ok(Request::App(app_access::AppChange::parse(change, grant)?)),
        _ => Err(Error::input("resource", "expected a onelogin_role, onelogin_group or onelogin_application key")),
    }
}

fn parse_custom(name: &str, mut params: Map<String, Value>) -> Result<Request> {
    let mut take = |field: &str| params.remove(field).ok_or_else(|| Error::input(field, "required"));
    let request = match name {
        custom::LOCK_USER => {
            let user = principal(take("principal")?)?;
            let minutes = take("minutes")?.as_u64().filter(|m| *m <= MAX_LOCK_MINUTES);
            let minutes = minutes.ok_or_else(|| {
                Error::input("minutes", format!("whole minutes, 0 (policy default) to {MAX_LOCK_MINUTES}"))
            })?;
            Request::Lock { user, minutes }
        }
        custom::UNLOCK_USER => Request::Unlock(principal(take("principal")?)?),
        custom::SET_STATE => {
            let user = principal(take("principal")?)?;
            let state = take("state")?.as_u64().filter(|s| attributes::STATES.contains(s));
            Request::SetState { user, state: state.ok_or_else(|| Error::input("state", "must be 0, 1, 2 or 3"))? }
        }
        custom::APPLY_MAPPINGS => Request::ApplyMappings(principal(take("principal")?)?),
        custom::RENAME_ROLE => {
            let role = role_key(take("role")?)?;
            let name = take("name")?;
            let name = name.as_str().map(str::trim).filter(|n| !n.is_empty() && n.len() <= 255);
            Request::RenameRole { role, name: name.ok_or_else(|| Error::input("name", "non-empty text"))?.to_string() }
        }
        custom::SET_ROLE_APPS => {
            let role = role_key(take("role")?)?;
            let apps = match take("apps")? {
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(key) => super::parse_key(key, kinds::APPLICATION, "apps"),
                        Value::Number(n) => {
                            n.as_u64().filter(|id| *id > 0).ok_or_else(|| Error::input("apps", "ids are positive"))
                        }
                        _ => Err(Error::input("apps", "a list of onelogin_application keys or ids")),
                    })
                    .collect::<Result<Vec<u64>>>()?,
                _ => return Err(Error::input("apps", "a list of onelogin_application keys or ids")),
            };
            let mut apps = apps;
            apps.sort_unstable();
            apps.dedup();
            Request::SetRoleApps { role, apps }
        }
        custom::REMOVE_MFA_DEVICE => {
            let user = principal(take("principal")?)?;
            let device = take("device_id")?;
            let device_id = match &device {
                Value::String(s)
                    if !s.trim().is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
                {
                    s.clone()
                }
                Value::Number(n) if n.is_u64() => n.to_string(),
                _ => return Err(Error::input("device_id", "the device_id sync reports")),
            };
            Request::RemoveMfaDevice { user, device_id }
        }
        other => return Err(Error::input("name", format!("unknown custom operation `{other}`"))),
    };
    if let Some(extra) = params.keys().next() {
        return Err(Error::input(extra, "not a parameter of this operation"));
    }
    Ok(request)
}

fn principal(value: Value) -> Result<u64> {
    user_id(value.as_str().unwrap_or(""), "principal")
}

fn role_key(value: Value) -> Result<u64> {
    super::parse_key(value.as_str().unwrap_or(""), kinds::ROLE, "role")
}

/// Run a validated request.
pub fn execute<T: Transport>(ctx: &mut Ctx<'_, T>, request: Request) -> Result<Outcome> {
    match request {
        Request::Create(attributes) => create(ctx, attributes),
        Request::Update { user, attributes } => update(ctx, user, attributes),
        Request::Delete(user) => delete(ctx, user),
        Request::SetStatus { user, status } => set_status(ctx, user, status),
        Request::EndSessions(user) => end_sessions(ctx, user),
        Request::SetPassword { user, password, validate_policy } => set_password(ctx, user, &password, validate_policy),
        Request::IssueLink { user, send } => issue_link(ctx, user, send),
        Request::Role(change) => role_membership::apply(ctx, &change),
        Request::Group(change) => group_membership::apply(ctx, &change),
        Request::App(change) => app_access::apply(ctx, &change),
        Request::Lock { user, minutes } => lock(ctx, user, minutes),
        Request::Unlock(user) => unlock(ctx, user),
        Request::SetState { user, state } => set_state(ctx, user, state),
        Request::ApplyMappings(user) => apply_mappings(ctx, user),
        Request::RenameRole { role, name } => roles::rename(ctx, role, &name),
        Request::SetRoleApps { role, apps } => roles::set_apps(ctx, role, &apps),
        Request::RemoveMfaDevice { user, device_id } => mfa::remove_device(ctx, user, &device_id),
    }
}

/// `GET /api/2/users/{id}`, or not-found naming the user.
pub fn read_user<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Value> {
    ctx.read_optional(&format!("/api/2/users/{user}"))?.ok_or_else(|| not_found(&format!("user {user}")))
}

fn key(user: u64) -> String {
    kinds::key(kinds::USER, user)
}

/// The fields of `user` named in `fields`, as an object.
fn pick(user: &Value, fields: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (name, wanted) in fields {
        let current = user.get(name).cloned().unwrap_or(Value::Null);
        let current = match (name.as_str(), wanted) {
            // Only the custom attributes being set.
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

/// Find a user by email, then by username (exact match).
fn find_user<T: Transport>(ctx: &mut Ctx<'_, T>, fields: &Map<String, Value>) -> Result<Option<Value>> {
    for field in ["email", "username"] {
        let Some(value) = fields.get(field).and_then(Value::as_str).filter(|v| !v.is_empty()) else { continue };
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

fn create<T: Transport>(ctx: &mut Ctx<'_, T>, attributes: UserAttributes) -> Result<Outcome> {
    if let Some(existing) = find_user(ctx, &attributes.fields)? {
        let id = mapping::id_of(&existing).unwrap_or(0);
        return Ok(Outcome::unchanged(&key(id), format!("{} already exists: no change", key(id))));
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
        Err(Error::Transport { message, .. }) => match find_user(ctx, &attributes.fields)? {
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
    Ok(created_outcome(created, &attributes))
}

fn created_outcome(created: Option<Value>, attributes: &UserAttributes) -> Outcome {
    let id = created.as_ref().and_then(mapping::id_of);
    let who = attributes
        .fields
        .get("email")
        .or_else(|| attributes.fields.get("username"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match id {
        Some(id) => {
            let mut outcome = Outcome::changed(&key(id), format!("created {} ({who})", key(id)));
            outcome.after = created.map(|user| pick(&user, &attributes.fields));
            outcome
        }
        None => Outcome { changed: true, summary: format!("create user {who}"), ..Outcome::default() },
    }
}

fn update<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64, attributes: UserAttributes) -> Result<Outcome> {
    let current = read_user(ctx, user)?;
    let before = pick(&current, &attributes.fields);
    let mut changes = Map::new();
    for (name, wanted) in &attributes.fields {
        let now = before.get(name).unwrap_or(&Value::Null);
        if now != wanted {
            changes.insert(name.clone(), wanted.clone());
        }
    }
    if changes.is_empty() {
        return Ok(Outcome::unchanged(&key(user), format!("{}: attributes already so, no change", key(user))));
    }
    let path = format!("/api/2/users/{user}{}", attributes.options.query());
    let names: Vec<&str> = changes.keys().map(String::as_str).collect();
    let summary = format!("update {} ({})", key(user), names.join(", "));
    let response = ctx.write(Method::Put, &path, Some(Value::Object(changes)), &[])?;
    let after = match &response {
        Some(user) if user.is_object() => pick(user, &attributes.fields),
        _ => Value::Object(attributes.fields.clone()),
    };
    Ok(Outcome::changed(&key(user), summary).with_before_after(before, after))
}

fn delete<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    if ctx.read_optional(&format!("/api/2/users/{user}"))?.is_none() {
        return Ok(Outcome::unchanged(&key(user), format!("{} does not exist: no change", key(user))));
    }
    ctx.write(Method::Delete, &format!("/api/2/users/{user}"), None, &[])?;
    Ok(Outcome::changed(&key(user), format!("delete {}", key(user))))
}

fn status_of(user: &Value) -> Option<u64> {
    user.get("status").and_then(Value::as_u64)
}

fn set_status<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64, status: u64) -> Result<Outcome> {
    let verb = if status == 2 { "suspend" } else { "resume" };
    let current = read_user(ctx, user)?;
    let before = json!({"status": status_of(&current)});
    if status_of(&current) == Some(status) {
        return Ok(Outcome::unchanged(&key(user), format!("{verb} {}: already so, no change", key(user))));
    }
    ctx.write(Method::Put, &format!("/api/2/users/{user}"), Some(json!({"status": status})), &[])?;
    Ok(Outcome::changed(&key(user), format!("{verb} {}", key(user)))
        .with_before_after(before, json!({"status": status})))
}

fn end_sessions<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    read_user(ctx, user)?;
    ctx.write(Method::Put, &format!("/api/1/users/{user}/logout"), None, &[])?;
    let mut outcome = Outcome::changed(&key(user), format!("end the OneLogin sessions of {}", key(user)));
    outcome.notes.push("OneLogin ends its own session only; sessions in other applications stay".into());
    Ok(outcome)
}

fn set_password<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64, password: &Secret, validate: bool) -> Result<Outcome> {
    read_user(ctx, user)?;
    let body =
        json!({"password": password.expose(), "password_confirmation": password.expose(), "validate_policy": validate});
    let path = format!("/api/1/users/set_password_clear_text/{user}");
    ctx.write(Method::Put, &path, Some(body), &["password", "password_confirmation"]).map_err(|e| match e {
        // OneLogin's policy messages name no secret; keep them, and say which field.
        Error::Upstream { status: 400 | 422, message } => Error::input("password", message),
        other => other,
    })?;
    Ok(Outcome::changed(&key(user), format!("set the password of {}", key(user))))
}

fn issue_link<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64, send: bool) -> Result<Outcome> {
    let current = read_user(ctx, user)?;
    let email = current.get("email").and_then(Value::as_str).filter(|e| !e.is_empty());
    let email = email.ok_or_else(|| Error::input("principal", "the user has no email to send a link to"))?.to_string();
    if send {
        ctx.write(Method::Post, "/api/1/invites/send_invite_link", Some(json!({"email": email})), &[])?;
        return Ok(Outcome::changed(&key(user), format!("email an invite link to {}", key(user))));
    }
    let response = ctx.write(Method::Post, "/api/1/invites/get_invite_link", Some(json!({"email": email})), &[])?;
    let mut outcome = Outcome::changed(&key(user), format!("issue an invite link for {}", key(user)));
    if let Some(response) = response {
        let link = response.get("data").and_then(|d| d.get(0)).and_then(Value::as_str);
        let link =
            link.ok_or_else(|| Error::Upstream { status: 200, message: "get_invite_link returned no link".into() })?;
        outcome.link = Some(link.to_string());
    }
    Ok(outcome)
}

fn lock<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64, minutes: u64) -> Result<Outcome> {
    let current = read_user(ctx, user)?;
    if status_of(&current) == Some(3) {
        return Ok(Outcome::unchanged(&key(user), format!("{} is already locked: no change", key(user))));
    }
    let path = format!("/api/1/users/{user}/lock_user");
    ctx.write(Method::Put, &path, Some(json!({"locked_until": minutes})), &[])?;
    let period = if minutes == 0 { "for the policy's lock period".to_string() } else { format!("for {minutes} min") };
    Ok(Outcome::changed(&key(user), format!("lock {} {period}", key(user)))
        .with_before_after(json!({"status": status_of(&current)}), json!({"status": 3})))
}

fn unlock<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    let current = read_user(ctx, user)?;
    if status_of(&current) != Some(3) {
        return Ok(Outcome::unchanged(&key(user), format!("{} is not locked: no change", key(user))));
    }
    let response = ctx.write(Method::Post, &format!("/api/2/users/{user}/unlock"), None, &[])?;
    // OneLogin answers `{"messsage":"User unlocked"}` (sic) or `{"message":"User cannot be unlocked"}`.
    if let Some(message) = response.as_ref().and_then(|r| r.get("message")).and_then(Value::as_str) {
        return Err(Error::Upstream { status: 200, message: format!("unlock {}: {message}", key(user)) });
    }
    Ok(Outcome::changed(&key(user), format!("unlock {}", key(user)))
        .with_before_after(json!({"status": 3}), json!({"status": 1})))
}

fn set_state<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64, state: u64) -> Result<Outcome> {
    let current = read_user(ctx, user)?;
    let now = current.get("state").and_then(Value::as_u64);
    if now == Some(state) {
        return Ok(Outcome::unchanged(&key(user), format!("{}: state already {state}, no change", key(user))));
    }
    ctx.write(Method::Put, &format!("/api/1/users/{user}/set_state"), Some(json!({"state": state})), &[])?;
    let name = mapping::user_state_name(state);
    Ok(Outcome::changed(&key(user), format!("set the state of {} to {state} ({name})", key(user)))
        .with_before_after(json!({"state": now}), json!({"state": state})))
}

fn apply_mappings<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64) -> Result<Outcome> {
    let before = id_array(read_user(ctx, user)?.get("role_ids"));
    // An update with no fields and mappings=sync re-runs the user mappings now.
    let response = ctx.write(Method::Put, &format!("/api/2/users/{user}?mappings=sync"), Some(json!({})), &[])?;
    let Some(after_user) = response else {
        return Ok(Outcome::changed(&key(user), format!("re-run the user mappings for {}", key(user))));
    };
    let after = id_array(after_user.get("role_ids"));
    let added: Vec<String> = after.iter().filter(|r| !before.contains(r)).map(|r| kinds::key(kinds::ROLE, r)).collect();
    let removed: Vec<String> =
        before.iter().filter(|r| !after.contains(r)).map(|r| kinds::key(kinds::ROLE, r)).collect();
    let mut outcome = Outcome::changed(&key(user), format!("re-ran the user mappings for {}", key(user)));
    outcome.changed = !added.is_empty() || !removed.is_empty();
    if !added.is_empty() {
        outcome.notes.push(format!("mappings added roles: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        outcome.notes.push(format!("mappings removed roles: {}", removed.join(", ")));
    }
    Ok(outcome.with_before_after(json!({"role_ids": before}), json!({"role_ids": after})))
}
