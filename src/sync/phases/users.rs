//! Users, and everything read or derived per user: group and role
//! membership, application access (via roles or direct, provisioning state,
//! last login), MFA devices and AWS IAM roles.
//!
//! `GET /api/2/users` pages the users (incremental: `updated_since` the
//! checkpoint). OneLogin has no bulk read for a user's apps
//! (`GET /api/2/users/{id}/apps`) or MFA devices
//! (`GET /api/2/mfa/users/{id}/devices`), so those cost one call per user; a
//! step reads them for a batch of users at once (`concurrency` in flight).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::client::pagination::{page_size, List};
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::logging;
use crate::sync::aws::{AwsRule, Truth};
use crate::sync::joins;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::state::Status;
use crate::sync::step::{Ctx, Output, PhaseSpec, Position, StepOutcome};
use crate::sync::user_fields;
use crate::vocabulary::{
    entitlement_key, id_list, id_of, RelationshipType, RoleApps, ACCOUNT, APPLICATION, ASSIGNED, AWS_IAM_ROLE, GROUP,
    HAS, MFA_DEVICE, ROLE, USER,
};

use super::app_rules::APP_RULES;
use super::apps::APPS;
use super::groups::GROUPS;
use super::roles::ROLES;

/// The `users` kind.
pub static USERS: KindSpec = KindSpec {
    name: "users",
    description: "Users with every field and custom attribute, normalized account and employment status, role \
                  membership; custom attribute definitions.",
    cost: "1 call per 100 users (OneLogin may serve 50), plus 1",
    calls_per_user: 0,
    default_selected: true,
    requires: &[],
};

/// The `user_apps` kind.
pub static USER_APPS: KindSpec = KindSpec {
    name: "user_apps",
    description: "Each user's applications: through which roles or directly, and the provisioning state.",
    cost: "1 call per user (incremental: per changed user)",
    calls_per_user: 1,
    default_selected: true,
    requires: &[Kind(&USERS), Kind(&ROLES), Kind(&APPS)],
};

/// The `app_logins` kind (read by the app logins phase; declared here, beside
/// the grants whose `last_login` it fills).
pub static APP_LOGINS: KindSpec = KindSpec {
    name: "app_logins",
    description: "Each user's last login per application (`last_login` on user-to-application grants), from the \
                  login-to-app events since the checkpoint (first sync: the configured lookback).",
    cost: "1 call per 50 app logins in the window, none when `events` is selected (e.g. 10,000 users with 3 a day \
           over 90 days: 54,000 calls, 11 hours of the 5,000/h v1 budget)",
    calls_per_user: 0,
    default_selected: false,
    // With what `user_apps` requires: a selection adds one level of requirements.
    requires: &[Kind(&USERS), Kind(&ROLES), Kind(&APPS), Kind(&USER_APPS)],
};

/// The `mfa_devices` kind.
pub static MFA_DEVICES: KindSpec = KindSpec {
    name: "mfa_devices",
    description: "Each user's MFA devices, and an mfa_enrolled flag on users.",
    cost: "1 call per user (incremental: per changed user)",
    calls_per_user: 1,
    default_selected: true,
    requires: &[Kind(&USERS)],
};

/// The `aws_iam_roles` kind (its ARNs are read by the AWS roles phase; who
/// gets them is decided here).
pub static AWS_IAM_ROLES: KindSpec = KindSpec {
    name: "aws_iam_roles",
    description: "AWS IAM roles users get through SAML application rules (set_role).",
    cost: "1 call per 1000 users of each app with AWS rules (who can reach it)",
    calls_per_user: 0,
    default_selected: true,
    requires: &[Kind(&USERS), Kind(&APPS), Kind(&APP_RULES)],
};

/// The kinds this module's data completes.
const PER_USER: [Kind; 4] = [Kind(&USERS), Kind(&USER_APPS), Kind(&MFA_DEVICES), Kind(&AWS_IAM_ROLES)];

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "users",
    declares: &PER_USER,
    feeds: &PER_USER,
    enter: |state| state.pending(Kind(&USERS)),
    entities: &[&USER, &MFA_DEVICE],
    relationships: &RELATIONSHIPS,
};

/// What the users phases emit.
pub static RELATIONSHIPS: [RelationshipType; 6] = [
    RelationshipType { class: HAS, from: &ACCOUNT, to: &USER, description: "The account has the user." },
    RelationshipType {
        class: HAS,
        from: &GROUP,
        to: &USER,
        description: "The user is in the group (the user's group_id).",
    },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &ROLE,
        description: "A grant: the user is a member or an admin of the role; properties `permission`, \
                      `entitlement`, `via`.",
    },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &APPLICATION,
        description: "A grant: the user can use the application; `via` is the first role giving it or `direct`; \
                      `via_roles`, `provisioning_state`, `status`, `last_login`.",
    },
    RelationshipType { class: ASSIGNED, from: &USER, to: &MFA_DEVICE, description: "The user enrolled the device." },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &AWS_IAM_ROLE,
        description: "The user gets the AWS role through app rules; `determined` is false when a rule has a \
                      condition the connector cannot evaluate (`undetermined_rule_ids`).",
    },
];

/// Users `i..` of the users page at `at.page`.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let page = match ctx.cache.users_page.take() {
        Some((key, page)) if key == at.page => page,
        _ => {
            let since = ctx.state.plan.since.map(crate::time::iso);
            let mut filters: Vec<(&str, &str)> = since.as_deref().map(|s| ("updated_since", s)).into_iter().collect();
            filters.push(("fields", user_fields::FIELDS));
            let list = List::v2("/api/2/users", page_size::USERS).with_filters(&filters);
            ctx.client.page(&list, &at.page)?
        }
    };
    ctx.out.total = page.total;
    let size = batch_size(ctx, page.items.len());
    let batch: Vec<Value> = page.items.iter().skip(at.i).take(size).cloned().collect();
    let next_i = at.i + batch.len();
    let next = if next_i < page.items.len() {
        Some(Position { page: at.page.clone(), i: next_i })
    } else {
        page.next.clone().map(Position::at_page)
    };
    if next_i < page.items.len() {
        ctx.cache.users_page = Some((at.page.clone(), page));
    }
    emit_users(ctx, &batch)?;
    Ok(StepOutcome::then(next, batch.len()))
}

/// Per-user kinds still to read.
pub fn per_user_kinds<T: Transport>(ctx: &Ctx<'_, T>) -> Vec<Kind> {
    [Kind(&USER_APPS), Kind(&MFA_DEVICES)].into_iter().filter(|k| ctx.pending(*k)).collect()
}

/// How many users one step handles: all of a page without per-user kinds,
/// else as many as the concurrency allows.
fn batch_size<T: Transport>(ctx: &Ctx<'_, T>, page_len: usize) -> usize {
    match per_user_kinds(ctx).len() {
        0 => page_len.max(1),
        calls => (ctx.concurrency() / calls).max(1),
    }
}

/// What the per-user calls returned for one user (`None`: not read).
#[derive(Default)]
struct PerUser {
    apps: Option<Vec<Value>>,
    devices: Option<Vec<Value>>,
}

fn per_user_path(kind: Kind, user_id: u64) -> String {
    if kind == Kind(&MFA_DEVICES) {
        format!("/api/2/mfa/users/{user_id}/devices")
    } else {
        format!("/api/2/users/{user_id}/apps?ignore_visibility=true")
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
    let mut refused: Vec<(Kind, Error)> = Vec::new();
    for ((k, kind, _), result) in requests.into_iter().zip(results) {
        let items = match result {
            Ok((_, Value::Array(items))) => items,
            // v1 shape, or the `[[]]` quirk of an empty list.
            Ok((_, body)) => body.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
            // No such endpoint: the kind cannot be read on this tenant.
            Err(Error::NotFound(message)) if message.to_lowercase().contains("route") => {
                if !refused.iter().any(|(k, _)| *k == kind) {
                    refused.push((kind, Error::NotFound(message)));
                }
                continue;
            }
            // The user was deleted after the users page was read.
            Err(Error::NotFound(_)) => Vec::new(),
            Err(error) if error.retryable() => return Err(error),
            Err(error) => {
                if !refused.iter().any(|(k, _)| *k == kind) {
                    refused.push((kind, error));
                }
                continue;
            }
        };
        let items: Vec<Value> = items.into_iter().filter(Value::is_object).collect();
        if let Some(slot) = per_user.get_mut(k) {
            if kind == Kind(&MFA_DEVICES) {
                slot.devices = Some(items);
            } else {
                slot.apps = Some(items);
            }
        }
    }
    for (kind, error) in refused {
        ctx.state.give_up(kind, &error);
        for slot in &mut per_user {
            if kind == Kind(&MFA_DEVICES) {
                slot.devices = None;
            } else {
                slot.apps = None;
            }
        }
    }
    Ok(per_user)
}

/// What mapping a user joins with.
struct Joins<'a> {
    roles: &'a [RoleApps],
    rules: &'a [AwsRule],
    /// Who can reach each app with AWS rules.
    aws_app_users: Option<&'a BTreeMap<u64, BTreeSet<u64>>>,
    logins: Option<&'a BTreeMap<(u64, u64), String>>,
    /// OneLogin's clock at the start of the sync (for date conditions).
    now: Option<i64>,
    account_key: &'a str,
    groups: bool,
    roles_selected: bool,
}

/// Map a batch of v2 users and everything read for them (also used by the
/// changed users phase).
pub fn emit_users<T: Transport>(ctx: &mut Ctx<'_, T>, users: &[Value]) -> Result<()> {
    let users: Vec<Value> = with_role_ids(ctx, users)?.iter().map(user_fields::normalize).collect();
    let users: Vec<&Value> = users.iter().filter(|user| fresh_user(ctx, user)).collect();
    let ids: Vec<Option<u64>> = users.iter().map(|user| id_of(user)).collect();
    let per_user = read_per_user(ctx, &ids)?;
    // Make sure the joins are in memory, then borrow them.
    if ctx.pending(Kind(&USER_APPS)) {
        joins::roles(ctx)?;
    }
    if ctx.pending(Kind(&AWS_IAM_ROLES)) {
        joins::aws_app_users(ctx)?;
    }
    let logins_read = matches!(ctx.state.status(Kind(&APP_LOGINS)), Some(Status::Complete));
    let with_logins = logins_read && ctx.pending(Kind(&USER_APPS));
    if with_logins {
        joins::last_logins(ctx)?;
    }
    let joins = Joins {
        roles: ctx.cache.roles.as_deref().unwrap_or_default(),
        rules: if ctx.pending(Kind(&AWS_IAM_ROLES)) { ctx.cache.rules.as_deref().unwrap_or_default() } else { &[] },
        aws_app_users: ctx.cache.aws_app_users.as_ref(),
        logins: if with_logins {
            ctx.cache.events.as_ref().or(ctx.cache.app_logins.as_ref()).map(|e| &e.last_login)
        } else {
            None
        },
        now: ctx.state.plan.t0,
        account_key: &ctx.account.key,
        groups: ctx.state.selected(Kind(&GROUPS)),
        roles_selected: ctx.state.selected(Kind(&ROLES)),
    };
    for (object, extra) in users.into_iter().zip(per_user) {
        let Some(user_id) = id_of(object) else {
            logging::warn("skipped a user without a numeric id");
            continue;
        };
        emit_user(ctx.out, &joins, user_id, object, &extra);
    }
    Ok(())
}

/// The users, each with `role_ids`: when OneLogin listed a user without
/// them (even though `fields` asked), they come from each role's member list
/// (read once per sync; its cost is in the `roles` kind's). Without it,
/// membership would silently be empty and `has_role` rules undecided.
fn with_role_ids<T: Transport>(ctx: &mut Ctx<'_, T>, users: &[Value]) -> Result<Vec<Value>> {
    let lacking = |user: &Value| user.get("role_ids").is_none() && user.get("role_id").is_none();
    let needed = [Kind(&ROLES), Kind(&USER_APPS), Kind(&AWS_IAM_ROLES)].into_iter().any(|k| ctx.pending(k))
        || ctx.state.selected(Kind(&ROLES));
    if !needed || !users.iter().any(lacking) {
        return Ok(users.to_vec());
    }
    let members = joins::role_members(ctx)?;
    Ok(users
        .iter()
        .map(|user| {
            let mut user = user.clone();
            if let (true, Some(id), Value::Object(fields)) = (lacking(&user), id_of(&user), &mut user) {
                let roles = members.get(&id).cloned().unwrap_or_default();
                fields.insert("role_ids".into(), json!(roles));
            }
            user
        })
        .collect())
}

/// Whether a user object is new in this sync (users without an id pass, to
/// be logged when mapped).
fn fresh_user<T: Transport>(ctx: &mut Ctx<'_, T>, user: &Value) -> bool {
    match id_of(user) {
        Some(id) => ctx.first_sighting(&USER.key(id)),
        None => true,
    }
}

fn emit_user(out: &mut Output, joins: &Joins<'_>, user_id: u64, object: &Value, extra: &PerUser) {
    let mfa_enrolled = extra.devices.as_ref().map(|devices| !devices.is_empty());
    let Some(user) = mapping::user(object, mfa_enrolled) else { return };
    let user_key = user.key.clone();
    out.relationships.push(mapping::relationship(HAS, joins.account_key, &user_key));
    out.entities.push(user);
    let role_ids = id_list(object.get("role_ids").or_else(|| object.get("role_id")));
    memberships(out, joins, &user_key, object, &role_ids);
    if let Some(apps) = &extra.apps {
        app_access(out, joins, user_id, &user_key, &role_ids, apps);
    }
    for device in extra.devices.iter().flatten() {
        let Some(device) = mapping::mfa_device(user_id, device) else { continue };
        out.relationships.push(mapping::relationship(ASSIGNED, &user_key, &device.key));
        out.entities.push(device);
    }
    aws_roles(out, joins, user_id, &user_key, object);
}

/// The user's group (`group HAS user`) and role memberships (`user ASSIGNED role`).
fn memberships(out: &mut Output, joins: &Joins<'_>, user_key: &str, object: &Value, role_ids: &[u64]) {
    if joins.groups {
        if let Some(group_id) = mapping::user_group_id(object) {
            let group_key = GROUP.key(group_id);
            let entitlement = entitlement_key(&group_key, "member");
            out.relationships.push(mapping::grant(HAS, &group_key, user_key, &entitlement, "direct", Map::new()));
        }
    }
    if joins.roles_selected {
        for role_id in role_ids {
            let role_key = ROLE.key(role_id);
            let entitlement = entitlement_key(&role_key, "member");
            let props = Map::from_iter([("permission".to_string(), json!("member"))]);
            out.relationships.push(mapping::grant(ASSIGNED, user_key, &role_key, &entitlement, "direct", props));
        }
    }
}

/// The user's applications, each with the roles that give it.
fn app_access(out: &mut Output, joins: &Joins<'_>, user_id: u64, user_key: &str, role_ids: &[u64], apps: &[Value]) {
    let mut via_roles: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for role in joins.roles.iter().filter(|r| role_ids.contains(&r.id)) {
        for app in &role.apps {
            via_roles.entry(*app).or_default().push(role.id);
        }
    }
    for app in apps {
        let Some(app_id) = id_of(app) else { continue };
        let app_key = APPLICATION.key(app_id);
        let entitlement = entitlement_key(&app_key, "access");
        let roles_giving: Vec<String> = via_roles.get(&app_id).into_iter().flatten().map(|r| ROLE.key(r)).collect();
        let via = roles_giving.first().cloned().unwrap_or_else(|| "direct".to_string());
        let state = app.get("provisioning_state").and_then(Value::as_str);
        let field = |name: &str| app.get(name).cloned().unwrap_or(Value::Null);
        let mut props = Map::new();
        props.insert("via_roles".into(), json!(roles_giving));
        props.insert("provisioning_state".into(), json!(state));
        props.insert("provisioning_status".into(), field("provisioning_status"));
        props.insert("provisioning_enabled".into(), field("provisioning_enabled"));
        props.insert("login_id".into(), field("login_id"));
        props.insert("status".into(), json!(mapping::assignment_status(state)));
        if let Some(logins) = joins.logins {
            props.insert("last_login".into(), json!(logins.get(&(user_id, app_id))));
        }
        out.relationships.push(mapping::grant(ASSIGNED, user_key, &app_key, &entitlement, &via, props));
    }
}

/// AWS roles: rules of apps the user can reach, evaluated on the user.
fn aws_roles(out: &mut Output, joins: &Joins<'_>, user_id: u64, user_key: &str, object: &Value) {
    let mut arns: BTreeMap<&str, (bool, Vec<u64>, Vec<u64>)> = BTreeMap::new();
    for rule in joins.rules {
        let reaches =
            joins.aws_app_users.and_then(|apps| apps.get(&rule.app_id)).is_some_and(|users| users.contains(&user_id));
        if !reaches {
            continue;
        }
        let truth = rule.matches(object, joins.now);
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
        out.relationships.push(mapping::relationship_with(ASSIGNED, user_key, arn, props));
    }
}
