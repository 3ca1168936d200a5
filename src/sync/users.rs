//! Users, and everything read or derived per user: group and role
//! membership, application access (via roles or direct, provisioning state,
//! last login), MFA devices and AWS IAM roles.
//!
//! OneLogin has no bulk read for a user's apps or MFA devices, so those cost
//! one call per user; a step reads them for a batch of users at once
//! (`concurrency` requests in flight). Incremental syncs read only users
//! changed since the checkpoint (`updated_since`), then the users events
//! name that were not among them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::aws::Truth;
use super::cursor::{Status, Step};
use super::directory::StepResult;
use super::joins::{self, RoleApps};
use super::kinds::Kind;
use super::mapping::{self, kinds, ASSIGNED, HAS};
use super::{count, page_size, Ctx, Output};
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::logging;

/// Run `step` if it is one of this module's.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, step: &Step) -> Option<StepResult> {
    Some(match step {
        Step::Users { c, i } => users(ctx, c.clone(), *i),
        Step::EventUsers { i } => event_users(ctx, *i),
        _ => return None,
    })
}

/// Per-user kinds still to read, and their calls per user.
fn per_user_kinds<T: Transport>(ctx: &Ctx<'_, T>) -> Vec<Kind> {
    [Kind::UserApps, Kind::MfaDevices].into_iter().filter(|k| ctx.pending(*k)).collect()
}

/// How many users one step handles: all of a page without per-user kinds,
/// else as many as the concurrency allows.
fn batch_size<T: Transport>(ctx: &Ctx<'_, T>, page_len: usize) -> usize {
    match per_user_kinds(ctx).len() {
        0 => page_len.max(1),
        calls => (ctx.concurrency() / calls).max(1),
    }
}

fn users<T: Transport>(ctx: &mut Ctx<'_, T>, c: Option<String>, i: usize) -> StepResult {
    let page = match ctx.cache.users_page.take() {
        Some((key, page)) if key == c => page,
        _ => {
            let since = ctx.plan().since.map(crate::time::iso);
            let extra: Vec<(&str, &str)> = since.as_deref().map(|s| ("updated_since", s)).into_iter().collect();
            ctx.client.v2_page("/api/2/users", page_size::USERS, c.as_deref(), &extra)?
        }
    };
    ctx.out.total = page.total;
    let size = batch_size(ctx, page.items.len());
    let batch: Vec<Value> = page.items.iter().skip(i).take(size).cloned().collect();
    let next_i = i + batch.len();
    let next = if next_i < page.items.len() {
        Some(Step::Users { c: c.clone(), i: next_i })
    } else {
        page.next.clone().map(|c| Step::Users { c: Some(c), i: 0 })
    };
    if next_i < page.items.len() {
        ctx.cache.users_page = Some((c, page));
    }
    emit_users(ctx, &batch)?;
    Ok((next, count(batch.len())))
}

/// Incremental only: users events name that `updated_since` did not return
/// (their apps or devices may have changed without touching the user).
fn event_users<T: Transport>(ctx: &mut Ctx<'_, T>, i: usize) -> StepResult {
    let Some(since) = ctx.plan().since else { return Ok((None, 0)) };
    let named: Vec<u64> = joins::events(ctx)?.users.iter().copied().collect();
    let size = (ctx.concurrency() / (1 + per_user_kinds(ctx).len())).max(1);
    let batch: Vec<u64> = named.iter().skip(i).take(size).copied().collect();
    if batch.is_empty() {
        return Ok((None, 0));
    }
    let paths: Vec<String> = batch.iter().map(|id| format!("/api/2/users/{id}")).collect();
    let mut users = Vec::new();
    for result in ctx.client.get_json_many(&paths) {
        match result {
            Ok((_, user)) => {
                let updated = user.get("updated_at").and_then(Value::as_str).and_then(crate::time::parse_iso);
                // Users updated since the checkpoint came with `updated_since` already.
                if updated.is_none_or(|t| t < since) {
                    users.push(user);
                }
            }
            // Deleted since the event: incremental syncs do not see deletions.
            Err(Error::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    emit_users(ctx, &users)?;
    let next = i + batch.len();
    Ok(((next < named.len()).then_some(Step::EventUsers { i: next }), count(users.len())))
}

/// What the per-user calls returned for one user (`None`: not read).
#[derive(Default)]
struct PerUser {
    apps: Option<Vec<Value>>,
    devices: Option<Vec<Value>>,
}

fn per_user_path(kind: Kind, user_id: u64) -> String {
    match kind {
        Kind::MfaDevices => format!("/api/2/mfa/users/{user_id}/devices"),
        _ => format!("/api/2/users/{user_id}/apps?ignore_visibility=true"),
    }
}

/// Read the per-user kinds for `users`, all requests in flight together.
/// A kind OneLogin refuses is settled (skipped or failed) and left out.
fn read_per_user<T: Transport>(ctx: &mut Ctx<'_, T>, ids: &[Option<u64>]) -> Result<Vec<PerUser>> {
    let wanted = per_user_kinds(ctx);
    let mut per_user: Vec<PerUser> = ids.iter().map(|_| PerUser::default()).collect();
    let requests: Vec<(usize, Kind, String)> = ids
        .iter()
        .enumerate()
        .filter_map(|(k, id)| id.map(|id| (k, id)))
        .flat_map(|(k, id)| wanted.iter().map(move |kind| (k, *kind, per_user_path(*kind, id))))
        .collect();
    let paths: Vec<String> = requests.iter().map(|(_, _, path)| path.clone()).collect();
    let results = ctx.client.get_json_many(&paths);
    let mut refused: BTreeMap<Kind, Error> = BTreeMap::new();
    for ((k, kind, _), result) in requests.into_iter().zip(results) {
        let items = match result {
            Ok((_, Value::Array(items))) => items,
            // v1 shape, or the `[[]]` quirk of an empty list.
            Ok((_, body)) => body.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
            // No such endpoint: the kind cannot be read on this tenant.
            Err(Error::NotFound(message)) if message.to_lowercase().contains("route") => {
                refused.entry(kind).or_insert(Error::NotFound(message));
                continue;
            }
            // The user was deleted after the users page was read.
            Err(Error::NotFound(_)) => Vec::new(),
            Err(error) if error.retryable() => return Err(error),
            Err(error) => {
                refused.entry(kind).or_insert(error);
                continue;
            }
        };
        let items: Vec<Value> = items.into_iter().filter(Value::is_object).collect();
        if let Some(slot) = per_user.get_mut(k) {
            match kind {
                Kind::MfaDevices => slot.devices = Some(items),
                _ => slot.apps = Some(items),
            }
        }
    }
    for (kind, error) in refused {
        ctx.give_up(kind, error);
        for slot in &mut per_user {
            match kind {
                Kind::MfaDevices => slot.devices = None,
                _ => slot.apps = None,
            }
        }
    }
    Ok(per_user)
}

/// Map a batch of v2 users and everything read for them.
fn emit_users<T: Transport>(ctx: &mut Ctx<'_, T>, users: &[Value]) -> Result<()> {
    let ids: Vec<Option<u64>> = users.iter().map(mapping::id_of).collect();
    let per_user = read_per_user(ctx, &ids)?;
    // Make sure the joins are in memory, then borrow them.
    if ctx.pending(Kind::UserApps) {
        joins::roles(ctx)?;
    }
    if ctx.pending(Kind::AwsIamRoles) {
        joins::aws_app_users(ctx)?;
    }
    let events_read = matches!(ctx.cursor.status(Kind::Events), Some(Status::Complete));
    let with_logins = events_read && ctx.pending(Kind::UserApps);
    if with_logins {
        joins::events(ctx)?;
    }
    let joins = Joins {
        roles: ctx.cache.roles.as_deref().unwrap_or_default(),
        rules: if ctx.pending(Kind::AwsIamRoles) { ctx.cache.rules.as_deref().unwrap_or_default() } else { &[] },
        aws_app_users: ctx.cache.aws_app_users.as_ref(),
        logins: if with_logins { ctx.cache.events.as_ref().map(|e| &e.last_login) } else { None },
        account_key: &ctx.account.key,
        kinds: ctx.cursor.plan.kinds,
    };
    for (object, extra) in users.iter().zip(per_user) {
        let Some(user_id) = mapping::id_of(object) else {
            logging::warn("skipped a user without a numeric id");
            continue;
        };
        emit_user(ctx.out, &joins, user_id, object, &extra);
    }
    Ok(())
}

/// What mapping a user joins with.
struct Joins<'a> {
    roles: &'a [RoleApps],
    rules: &'a [super::aws::AwsRule],
    /// Who can reach each app with AWS rules.
    aws_app_users: Option<&'a BTreeMap<u64, BTreeSet<u64>>>,
    logins: Option<&'a BTreeMap<(u64, u64), String>>,
    account_key: &'a str,
    kinds: super::kinds::Selection,
}

fn emit_user(out: &mut Output, joins: &Joins<'_>, user_id: u64, object: &Value, extra: &PerUser) {
    let Joins { roles, rules, aws_app_users, logins, account_key, kinds: selection } = *joins;
    let mfa_enrolled = extra.devices.as_ref().map(|devices| !devices.is_empty());
    let Some(user) = mapping::user(object, mfa_enrolled) else { return };
    let user_key = user.key.clone();
    out.relationships.push(mapping::relationship(HAS, account_key, &user_key));
    out.entities.push(user);

    if selection.has(Kind::Groups) {
        if let Some(group_id) = mapping::user_group_id(object) {
            let group_key = kinds::key(kinds::GROUP, group_id);
            let entitlement = mapping::entitlement_key(&group_key, "member");
            out.relationships.push(mapping::grant(HAS, &group_key, &user_key, &entitlement, "direct", Map::new()));
        }
    }
    let role_ids = mapping::id_list(object.get("role_ids").or_else(|| object.get("role_id")));
    if selection.has(Kind::Roles) {
        for role_id in &role_ids {
            let role_key = kinds::key(kinds::ROLE, role_id);
            let entitlement = mapping::entitlement_key(&role_key, "member");
            let props = Map::from_iter([("permission".to_string(), json!("member"))]);
            out.relationships.push(mapping::grant(ASSIGNED, &user_key, &role_key, &entitlement, "direct", props));
        }
    }
    // Apps reachable through the user's roles, with the roles.
    let mut via_roles: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for role in roles.iter().filter(|r| role_ids.contains(&r.id)) {
        for app in &role.apps {
            via_roles.entry(*app).or_default().push(role.id);
        }
    }

    if let Some(apps) = &extra.apps {
        for app in apps {
            let Some(app_id) = mapping::id_of(app) else { continue };
            let app_key = kinds::key(kinds::APPLICATION, app_id);
            let entitlement = mapping::entitlement_key(&app_key, "access");
            let roles_giving: Vec<String> =
                via_roles.get(&app_id).into_iter().flatten().map(|r| kinds::key(kinds::ROLE, r)).collect();
            let via = roles_giving.first().cloned().unwrap_or_else(|| "direct".to_string());
            let state = app.get("provisioning_state").and_then(Value::as_str);
            let mut props = Map::new();
            props.insert("via_roles".into(), json!(roles_giving));
            props.insert("provisioning_state".into(), json!(state));
            props.insert("provisioning_status".into(), app.get("provisioning_status").cloned().unwrap_or(Value::Null));
            props
                .insert("provisioning_enabled".into(), app.get("provisioning_enabled").cloned().unwrap_or(Value::Null));
            props.insert("login_id".into(), app.get("login_id").cloned().unwrap_or(Value::Null));
            props.insert("status".into(), json!(mapping::assignment_status(state)));
            if let Some(logins) = logins {
                props.insert("last_login".into(), json!(logins.get(&(user_id, app_id))));
            }
            out.relationships.push(mapping::grant(ASSIGNED, &user_key, &app_key, &entitlement, &via, props));
        }
    }
    for device in extra.devices.iter().flatten() {
        let Some(device) = mapping::mfa_device(user_id, device) else { continue };
        out.relationships.push(mapping::relationship(ASSIGNED, &user_key, &device.key));
        out.entities.push(device);
    }

    // AWS roles: rules of apps the user can reach, evaluated on the user.
    let mut arns: BTreeMap<&str, (bool, Vec<u64>, Vec<u64>)> = BTreeMap::new();
    for rule in rules {
        let reaches =
            aws_app_users.and_then(|apps| apps.get(&rule.app_id)).is_some_and(|users| users.contains(&user_id));
        if !reaches {
            continue;
        }
        let truth = rule.matches(object);
        if truth == Truth::No {
            continue;
        }
        for arn in &rule.arns {
            let entry = arns.entry(arn.as_str()).or_default();
            if truth == Truth::Yes {
                entry.0 = true;
                entry.1.push(rule.rule_id);
            } else {
                entry.2.push(rule.rule_id);
            }
        }
    }
    for (arn, (determined, rule_ids, undetermined)) in arns {
        let props = json!({"determined": determined, "rule_ids": rule_ids, "undetermined_rule_ids": undetermined});
        out.relationships.push(mapping::relationship_with(ASSIGNED, &user_key, arn, props));
    }
}
