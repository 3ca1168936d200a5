//! What later phases need from earlier ones (joins), kept in the instance.
//!
//! Users need each role's apps (access via roles), the AWS rules, and the
//! events' last logins; role admins and rules walk the lists of roles and
//! apps. An instance collects these while it reads the phases; an instance
//! that resumes a sync from a cursor has not, and reads them again here (the
//! cost of resuming; the output does not change). All of it is small next to
//! the users: ids, rules, and one entry per (user, app) login.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::aws::{self, AwsRule};
use super::cursor::{Plan, MAX_AWS_APPS};
use super::mapping::{self, id_of};
use super::{page_size, Ctx};
use crate::client::pagination::Page;
use crate::client::transport::Transport;
use crate::error::Result;

/// A role's id and the apps it gives.
#[derive(Debug, Clone)]
pub struct RoleApps {
    pub id: u64,
    pub apps: Vec<u64>,
}

/// What events say: last login per (user, app) and the users they name.
#[derive(Debug, Default)]
pub struct EventJoin {
    /// `created_at` of the latest type-8 event ("user logged into app").
    pub last_login: BTreeMap<(u64, u64), String>,
    /// Users any event names (incremental syncs refresh them).
    pub users: BTreeSet<u64>,
}

/// OneLogin's "user logged into app" event type.
pub const EVENT_APP_LOGIN: u64 = 8;

impl EventJoin {
    pub fn add(&mut self, event: &Value) {
        let number = |field: &str| event.get(field).and_then(Value::as_u64);
        if let Some(user) = number("user_id") {
            self.users.insert(user);
        }
        let (Some(user), Some(app), Some(EVENT_APP_LOGIN)) =
            (number("user_id"), number("app_id"), number("event_type_id"))
        else {
            return;
        };
        let Some(at) = event.get("created_at").and_then(Value::as_str) else { return };
        let latest = self.last_login.entry((user, app)).or_default();
        // ISO 8601 UTC timestamps of one format order as strings.
        if at > latest.as_str() {
            *latest = at.to_string();
        }
    }
}

/// A join being collected step by step while its phase is read: `position`
/// is where the next step must start (an upstream cursor, or an index) for
/// its data to continue the collection.
#[derive(Debug)]
pub struct Collecting<P, A> {
    pub position: P,
    pub so_far: A,
}

impl<P: PartialEq, A: Default> Collecting<P, A> {
    /// What was collected before the step at `position`: empty at the
    /// phase's `start`, `None` when this instance missed earlier steps (a
    /// resumed instance: the join is then read again when needed).
    pub fn resume(slot: &mut Option<Collecting<P, A>>, position: &P, start: &P) -> Option<A> {
        match slot.take() {
            Some(collecting) if collecting.position == *position => Some(collecting.so_far),
            _ if position == start => Some(A::default()),
            _ => None,
        }
    }
}

/// The instance's memory of the current sync.
#[derive(Debug, Default)]
pub struct SyncCache {
    /// The sync this belongs to ([`Plan::id`]).
    sync: Option<u64>,
    pub roles: Option<Vec<RoleApps>>,
    pub roles_collecting: Option<Collecting<Option<String>, Vec<RoleApps>>>,
    pub apps: Option<Vec<u64>>,
    pub apps_collecting: Option<Collecting<Option<String>, Vec<u64>>>,
    pub rules: Option<Vec<AwsRule>>,
    /// Who can reach each app with AWS rules (its users, through roles or directly).
    pub aws_app_users: Option<BTreeMap<u64, BTreeSet<u64>>>,
    pub rules_collecting: Option<Collecting<usize, Vec<AwsRule>>>,
    pub privileges: Option<Vec<String>>,
    pub events: Option<EventJoin>,
    pub events_collecting: Option<Collecting<Option<String>, EventJoin>>,
    /// The users page being worked through, by its upstream cursor.
    pub users_page: Option<(Option<String>, Page)>,
}

impl SyncCache {
    /// Forget everything when the cursor belongs to another sync.
    pub fn bind(&mut self, plan: &Plan) {
        if self.sync != Some(plan.id) {
            *self = SyncCache { sync: Some(plan.id), ..SyncCache::default() };
        }
    }
}

/// A role's apps from a `GET /api/2/roles` item.
pub fn role_apps(object: &Value) -> Option<RoleApps> {
    Some(RoleApps { id: id_of(object)?, apps: mapping::id_list(object.get("apps")) })
}

/// Every role with its apps, sorted by id.
pub fn roles<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c [RoleApps]> {
    if ctx.cache.roles.is_none() {
        ctx.cache.roles = Some(read_roles(ctx)?);
    }
    Ok(ctx.cache.roles.as_deref().unwrap_or_default())
}

fn read_roles<T: Transport>(ctx: &mut Ctx<'_, T>) -> Result<Vec<RoleApps>> {
    let mut roles = read_all(ctx, "/api/2/roles", page_size::ROLES, role_apps)?;
    roles.sort_by_key(|r| r.id);
    Ok(roles)
}

/// Every page of a v2 list, each item mapped (items `map` refuses are skipped).
fn read_all<T: Transport, R>(
    ctx: &mut Ctx<'_, T>,
    path: &str,
    limit: usize,
    map: impl Fn(&Value) -> Option<R>,
) -> Result<Vec<R>> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = ctx.client.v2_page(path, limit, cursor.as_deref(), &[])?;
        items.extend(page.items.iter().filter_map(&map));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Every app id, sorted.
pub fn apps<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c [u64]> {
    if ctx.cache.apps.is_none() {
        ctx.cache.apps = Some(read_apps(ctx)?);
    }
    Ok(ctx.cache.apps.as_deref().unwrap_or_default())
}

fn read_apps<T: Transport>(ctx: &mut Ctx<'_, T>) -> Result<Vec<u64>> {
    let mut apps = read_all(ctx, "/api/2/apps", page_size::APPS, id_of)?;
    apps.sort_unstable();
    Ok(apps)
}

/// The enabled rules that grant AWS roles. A resumed instance reads the
/// rules of the apps the cursor lists, or of every app when it lists none.
pub fn aws_rules<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c [AwsRule]> {
    if ctx.cache.rules.is_none() {
        ctx.cache.rules = Some(read_aws_rules(ctx)?);
    }
    Ok(ctx.cache.rules.as_deref().unwrap_or_default())
}

fn read_aws_rules<T: Transport>(ctx: &mut Ctx<'_, T>) -> Result<Vec<AwsRule>> {
    let app_ids = match ctx.plan().aws_apps.clone() {
        Some(ids) => ids,
        None => apps(ctx)?.to_vec(),
    };
    let mut rules = Vec::new();
    for chunk in app_ids.chunks(ctx.concurrency()) {
        let paths: Vec<String> = chunk.iter().map(|id| format!("/api/2/apps/{id}/rules")).collect();
        for (app_id, result) in chunk.iter().zip(ctx.client.get_json_many(&paths)) {
            let (_, body) = result?;
            rules.extend(body.as_array().into_iter().flatten().filter_map(|r| aws::parse_rule(*app_id, r)));
        }
    }
    Ok(rules)
}

/// The users of every app with AWS rules (`GET /api/2/apps/{id}/users`:
/// through roles and direct assignments), so rules are evaluated only for
/// users who can reach the app, whatever else the sync reads.
pub fn aws_app_users<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c BTreeMap<u64, BTreeSet<u64>>> {
    if ctx.cache.aws_app_users.is_none() {
        let apps: BTreeSet<u64> = aws_rules(ctx)?.iter().map(|r| r.app_id).collect();
        let mut users = BTreeMap::new();
        for app in apps {
            let ids = read_all(ctx, &format!("/api/2/apps/{app}/users"), page_size::APP_USERS, id_of)?;
            users.insert(app, ids.into_iter().collect());
        }
        ctx.cache.aws_app_users = Some(users);
    }
    Ok(ctx.cache.aws_app_users.get_or_insert_with(BTreeMap::new))
}

/// Remember which apps hold AWS rules, in the plan (so the cursor carries
/// them), when they are few.
pub fn remember_aws_apps(plan: &mut Plan, rules: &[AwsRule]) {
    let apps: BTreeSet<u64> = rules.iter().map(|r| r.app_id).collect();
    plan.aws_apps = (apps.len() <= MAX_AWS_APPS).then(|| apps.into_iter().collect());
}

/// The `since`/`until` bounds of the events phase as query parameters, or
/// `None` when the start time is unknown (no `Date` header seen).
pub fn event_window<T: Transport>(ctx: &Ctx<'_, T>) -> Option<(String, String)> {
    let t0 = ctx.plan().t0?;
    let lookback = i64::from(ctx.client.config().event_lookback_days) * 86_400;
    let since = ctx.plan().since.unwrap_or(t0 - lookback);
    Some((crate::time::iso(since), crate::time::iso(t0)))
}

/// The events join, reading every event page of the window again if this
/// instance did not read them.
pub fn events<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c EventJoin> {
    if ctx.cache.events.is_none() {
        let mut join = EventJoin::default();
        if let Some((since, until)) = event_window(ctx) {
            let mut cursor = None;
            loop {
                let extra = [("since", since.as_str()), ("until", until.as_str())];
                let page = ctx.client.v1_page("/api/1/events", page_size::EVENTS, cursor.as_deref(), &extra)?;
                page.items.iter().for_each(|event| join.add(event));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        ctx.cache.events = Some(join);
    }
    Ok(ctx.cache.events.get_or_insert_with(EventJoin::default))
}
