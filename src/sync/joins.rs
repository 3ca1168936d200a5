//! Joins: what later phases need from earlier ones. An instance collects
//! them while it reads the phases (see `cache.rs`); an instance that resumed
//! a sync from a cursor has not, and reads them again here (the cost of
//! resuming; the output does not change). All of it is small next to the
//! users: ids, rules, and one entry per (user, app) login.

use std::collections::{BTreeMap, BTreeSet};

use super::aws::{self, AwsRule};
use super::cache::EventJoin;
use super::lanes;
use super::state::Plan;
use super::step::Ctx;
use crate::client::pagination::{self, page_size, List, PageCursor};
use crate::client::transport::Transport;
use crate::error::Result;
use crate::vocabulary::{id_of, RoleApps};

/// At most this many app ids are remembered in the cursor as holding AWS rules.
pub const MAX_AWS_APPS: usize = 40;

/// Every role with its apps, sorted by id.
pub fn roles<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c [RoleApps]> {
    if ctx.cache.roles.is_none() {
        let mut roles = Vec::new();
        ctx.client.read_all(&List::v2("/api/2/roles", page_size::ROLES), |role| {
            roles.extend(RoleApps::from_role(&role));
        })?;
        roles.sort_by_key(|r| r.id);
        ctx.cache.roles = Some(roles);
    }
    Ok(ctx.cache.roles.as_deref().unwrap_or_default())
}

/// The roles of every user, from `GET /api/2/roles/{id}/users` for every
/// role (a batch of roles at a time through the sliding window; a role with more than 100 members
/// pages on alone): how membership is read when OneLogin lists users
/// without `role_ids`.
pub fn role_members<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c BTreeMap<u64, Vec<u64>>> {
    if ctx.cache.role_members.is_none() {
        let role_ids: Vec<u64> = roles(ctx)?.iter().map(|r| r.id).collect();
        let mut members: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for chunk in role_ids.chunks(ctx.batch(1)) {
            let paths: Vec<String> = chunk.iter().map(|id| role_users_path(*id)).collect();
            for (role_id, result) in chunk.iter().zip(ctx.client.get_json_many(&paths)) {
                let (response, body) = result?;
                let path = format!("/api/2/roles/{role_id}/users");
                let list = List::v2(&path, page_size::ROLE_USERS);
                let page = pagination::parse_page(&list, &PageCursor::first(), &response, body)?;
                ctx.client.read_rest(&list, page, |user| {
                    if let Some(user) = id_of(&user) {
                        members.entry(user).or_default().push(*role_id);
                    }
                })?;
            }
        }
        ctx.cache.role_members = Some(members);
    }
    Ok(ctx.cache.role_members.get_or_insert_with(BTreeMap::new))
}

fn role_users_path(role_id: u64) -> String {
    List::v2(&format!("/api/2/roles/{role_id}/users"), page_size::ROLE_USERS).path_and_query(&PageCursor::first())
}

/// Every app id, sorted.
pub fn apps<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c [u64]> {
    if ctx.cache.apps.is_none() {
        let mut apps = Vec::new();
        ctx.client.read_all(&List::v2("/api/2/apps", page_size::APPS), |app| apps.extend(id_of(&app)))?;
        apps.sort_unstable();
        ctx.cache.apps = Some(apps);
    }
    Ok(ctx.cache.apps.as_deref().unwrap_or_default())
}

/// The enabled rules that grant AWS roles. A resumed instance reads the
/// rules of the apps the plan lists, or of every app when it lists none.
pub fn aws_rules<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c [AwsRule]> {
    if ctx.cache.rules.is_none() {
        let app_ids = match ctx.state.plan.aws_apps.clone() {
            Some(ids) => ids,
            None => apps(ctx)?.to_vec(),
        };
        let mut rules = Vec::new();
        for chunk in app_ids.chunks(ctx.batch(1)) {
            let paths: Vec<String> = chunk.iter().map(|id| format!("/api/2/apps/{id}/rules")).collect();
            for (app_id, result) in chunk.iter().zip(ctx.client.get_json_many(&paths)) {
                let (_, body) = result?;
                rules.extend(body.as_array().into_iter().flatten().filter_map(|r| aws::parse_rule(*app_id, r)));
            }
        }
        ctx.cache.rules = Some(rules);
    }
    Ok(ctx.cache.rules.as_deref().unwrap_or_default())
}

/// The users of every app with AWS rules (`GET /api/2/apps/{id}/users`:
/// through roles and direct assignments), so rules are evaluated only for
/// users who can reach the app, whatever else the sync reads.
pub fn aws_app_users<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c BTreeMap<u64, BTreeSet<u64>>> {
    if ctx.cache.aws_app_users.is_none() && ctx.state.plan.access_by_app {
        // Access read per application already says who reaches every app.
        let apps: BTreeSet<u64> = aws_rules(ctx)?.iter().map(|r| r.app_id).collect();
        let mut users: BTreeMap<u64, BTreeSet<u64>> = apps.iter().map(|app| (*app, BTreeSet::new())).collect();
        for (user, reached) in app_access(ctx)? {
            for app in reached {
                if let Some(set) = users.get_mut(app) {
                    set.insert(*user);
                }
            }
        }
        ctx.cache.aws_app_users = Some(users);
    }
    if ctx.cache.aws_app_users.is_none() {
        let apps: BTreeSet<u64> = aws_rules(ctx)?.iter().map(|r| r.app_id).collect();
        let mut users = BTreeMap::new();
        for app in apps {
            let path = format!("/api/2/apps/{app}/users");
            let mut ids = BTreeSet::new();
            ctx.client.read_all(&List::v2(&path, page_size::APP_USERS), |user| ids.extend(id_of(&user)))?;
            users.insert(app, ids);
        }
        ctx.cache.aws_app_users = Some(users);
    }
    Ok(ctx.cache.aws_app_users.get_or_insert_with(BTreeMap::new))
}

/// Who can reach every app (`GET /api/2/apps/{id}/users`, the apps' first
/// pages through the sliding window, further pages alone), as each user's
/// app ids: user-to-app access read per application (`access_plan.rs`).
pub fn app_access<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c BTreeMap<u64, Vec<u64>>> {
    if ctx.cache.app_access.is_none() {
        let app_ids = apps(ctx)?.to_vec();
        let mut access: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for chunk in app_ids.chunks(ctx.batch(1)) {
            let paths: Vec<String> = chunk.iter().map(|id| app_users_path(*id)).collect();
            for (app_id, result) in chunk.iter().zip(ctx.client.get_json_many(&paths)) {
                let (response, body) = result?;
                let path = format!("/api/2/apps/{app_id}/users");
                let list = List::v2(&path, page_size::APP_USERS);
                let page = pagination::parse_page(&list, &PageCursor::first(), &response, body)?;
                ctx.client.read_rest(&list, page, |user| {
                    if let Some(user) = id_of(&user) {
                        access.entry(user).or_default().push(*app_id);
                    }
                })?;
            }
        }
        ctx.cache.app_access = Some(access);
    }
    Ok(ctx.cache.app_access.get_or_insert_with(BTreeMap::new))
}

fn app_users_path(app_id: u64) -> String {
    List::v2(&format!("/api/2/apps/{app_id}/users"), page_size::APP_USERS).path_and_query(&PageCursor::first())
}

/// Remember which apps hold AWS rules, in the plan (so the cursor carries
/// them), when they are few.
pub fn remember_aws_apps(plan: &mut Plan, rules: &[AwsRule]) {
    let apps: BTreeSet<u64> = rules.iter().map(|r| r.app_id).collect();
    plan.aws_apps = (apps.len() <= MAX_AWS_APPS).then(|| apps.into_iter().collect());
}

/// The last login per (user, app): from the events join when this instance
/// read every event, else from the app-login events (read again, type 8
/// only, if this instance did not read them: the whole window in this step,
/// in time slices side by side on a full sync, as the phase reads it).
pub fn last_logins<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c BTreeMap<(u64, u64), String>> {
    if ctx.cache.events.is_none() && ctx.cache.app_logins.is_none() {
        lanes::read_whole(ctx, &lanes::APP_LOGINS)?;
    }
    let join = match &ctx.cache.events {
        Some(events) => events,
        None => ctx.cache.app_logins.get_or_insert_with(EventJoin::default),
    };
    Ok(&join.last_login)
}

/// The events join, reading every event page of the window again (in this
/// step) if this instance did not read them.
pub fn events<'c, T: Transport>(ctx: &'c mut Ctx<'_, T>) -> Result<&'c EventJoin> {
    if ctx.cache.events.is_none() {
        lanes::read_whole(ctx, &lanes::EVENTS)?;
    }
    Ok(ctx.cache.events.get_or_insert_with(EventJoin::default))
}
