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

use crate::client::pagination::{self, page_size, List, Page, PageCursor};
use crate::client::transport::{memory, Response, Transport};
use crate::client::ParseBudget;
use crate::sync::cache::SyncCache;
use crate::error::{Error, Result};
use crate::logging;
use crate::sync::access_plan;
use crate::sync::aws::{AwsRule, Truth};
use crate::sync::joins;
use crate::identity::connector::types::AccessLevel;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::state::{Status, Topic};
use crate::sync::step::{count, Ctx, Output, PhaseSpec, Position, StepOutcome};
use crate::sync::user_fields;
use crate::vocabulary::{
    id_list, id_of, prop, PropertyKind, RelationshipType, RoleApps, ACCOUNT, APPLICATION, ASSIGNED, AWS_IAM_ROLE,
    GRANT_PROPERTIES, GROUP, HAS, MFA_DEVICE, PERSONAL_APPLICATION, ROLE, USER,
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
    required_access: AccessLevel::Read,
};

/// The `user_apps` kind.
pub static USER_APPS: KindSpec = KindSpec {
    name: "user_apps",
    description: "Each user's applications: through which roles or directly, and the provisioning state; \
                  personal applications.",
    cost: "1 call per user (incremental: per changed user); on a full sync where no application has \
           provisioning and apps x ceil(users / 1000) is at most half the users, 1 call per 1000 users of each \
           application instead (no login_id then)",
    calls_per_user: 1,
    default_selected: true,
    requires: &[Kind(&USERS), Kind(&ROLES), Kind(&APPS)],
    required_access: AccessLevel::Read,
};

/// The `app_logins` kind (read by the app logins phase; declared here, beside
/// the grants whose `last_login` it fills).
pub static APP_LOGINS: KindSpec = KindSpec {
    name: "app_logins",
    description: "Each user's last login per application (`last_login` on user-to-application grants), from the \
                  login-to-app events since the checkpoint (first sync: the configured lookback).",
    cost: "1 call per 50 app logins in the window (a full sync reads slices of a long window side by side: then 1 \
           call per 50 app logins of each slice, at least 1, at most 8 calls more), none when `events` is selected \
           (e.g. 10,000 users with 3 a day over 90 days: 54,000 calls, 11 hours of the 5,000/h v1 budget)",
    calls_per_user: 0,
    default_selected: false,
    // With what `user_apps` requires: a selection adds one level of requirements.
    requires: &[Kind(&USERS), Kind(&ROLES), Kind(&APPS), Kind(&USER_APPS)],
    required_access: AccessLevel::Read,
};

/// The `mfa_devices` kind.
pub static MFA_DEVICES: KindSpec = KindSpec {
    name: "mfa_devices",
    description: "Each user's MFA devices, and an mfa_enrolled flag on users.",
    cost: "1 call per user (incremental: per changed user)",
    calls_per_user: 1,
    default_selected: true,
    requires: &[Kind(&USERS)],
    required_access: AccessLevel::Manage,
};

/// The `aws_iam_roles` kind (its ARNs are read by the AWS roles phase; who
/// gets them is decided here).
pub static AWS_IAM_ROLES: KindSpec = KindSpec {
    name: "aws_iam_roles",
    description: "AWS IAM roles users get through SAML application rules (set_role).",
    cost: "1 call per 1000 users of each app with AWS rules (who can reach it); incremental: the roles of the \
           rules re-read on their turn (every role within 12 incremental syncs), and only when a user changed the \
           AWS rules (1 call per app known to hold them, or per app) and who can reach their apps",
    calls_per_user: 0,
    default_selected: true,
    requires: &[Kind(&USERS), Kind(&APPS), Kind(&APP_RULES)],
    required_access: AccessLevel::Manage,
};

/// The kinds this module's data completes.
const PER_USER: [Kind; 4] = [Kind(&USERS), Kind(&USER_APPS), Kind(&MFA_DEVICES), Kind(&AWS_IAM_ROLES)];

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "users",
    declares: &PER_USER,
    feeds: &PER_USER,
    enter: |state| state.pending(Kind(&USERS)),
    entities: &[&USER, &PERSONAL_APPLICATION, &MFA_DEVICE],
    relationships: &RELATIONSHIPS,
};

/// The properties of `user ASSIGNED application`.
static USER_APP_PROPERTIES: [crate::vocabulary::Property; 10] = [
    prop("entitlement", PropertyKind::Text, "The key of the application's `access` entitlement."),
    prop("permission", PropertyKind::Text, "`access`."),
    prop("via", PropertyKind::Text, "The first role giving the application, or `direct`."),
    prop("via_roles", PropertyKind::TextList, "Every role of the user giving the application."),
    prop("provisioning_state", PropertyKind::Text, "OneLogin's provisioning state (`provisioned`, `pending`, ...)."),
    prop("provisioning_status", PropertyKind::Text, "OneLogin's provisioning status (`enabled`, ...)."),
    prop("provisioning_enabled", PropertyKind::Boolean, "Provisioning is on for the application."),
    prop("login_id", PropertyKind::Integer, "OneLogin's id of the (user, app) login."),
    prop("status", PropertyKind::Text, "Normalized from `provisioning_state`: `active`, `staged`, `deprovisioned`, \
        `access_created`, `discovered`."),
    prop("last_login", PropertyKind::Timestamp, "The user's last login to the application (from events)."),
];

/// What the users phases emit.
pub static RELATIONSHIPS: [RelationshipType; 8] = [
    RelationshipType {
        class: HAS,
        from: &ACCOUNT,
        to: &USER,
        description: "The account has the user.",
        properties: &[],
        may_dangle: false,
    },
    RelationshipType {
        class: HAS,
        from: &GROUP,
        to: &USER,
        description: "The user is in the group (the user's group_id); the grant is `user ASSIGNED group`.",
        properties: &[],
        may_dangle: false,
    },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &GROUP,
        description: "A grant: the user is a member of the group (the user's group_id).",
        properties: &GRANT_PROPERTIES,
        may_dangle: false,
    },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &ROLE,
        description: "A grant: the user is a member or an admin of the role (`permission`).",
        properties: &GRANT_PROPERTIES,
        may_dangle: false,
    },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &APPLICATION,
        description: "A grant: the user can use the application, through roles or directly, with its \
                      provisioning state and last login.",
        properties: &USER_APP_PROPERTIES,
        may_dangle: false,
    },
    RelationshipType {
        class: HAS,
        from: &USER,
        to: &PERSONAL_APPLICATION,
        description: "The user added the personal application.",
        properties: &[],
        may_dangle: false,
    },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &MFA_DEVICE,
        description: "The user enrolled the device.",
        properties: &[],
        may_dangle: false,
    },
    RelationshipType {
        class: ASSIGNED,
        from: &USER,
        to: &AWS_IAM_ROLE,
        description: "The user gets the AWS role through app rules; `determined` is false when a rule has a \
                      condition the connector cannot evaluate (`undetermined_rule_ids`).",
        properties: &[
            prop("determined", PropertyKind::Boolean, "Every rule giving the role could be evaluated."),
            prop("rule_ids", PropertyKind::IntegerList, "The rules that give the role."),
            prop("undetermined_rule_ids", PropertyKind::IntegerList, "Rules that might give it (unevaluable)."),
        ],
        may_dangle: false,
    },
];

/// Users `i..` of the users page at `at.page`. The step that finishes a
/// page also reads the next users page in the same window as its per-user
/// calls, so the users list never waits on its own; when that page comes
/// back while the window runs, its users' calls join the window too (up to
/// [`EXTENSION_ROUNDS`] steps' worth), so the window does not drain between
/// pages.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let since = ctx.state.plan.since.map(crate::time::iso);
    let mut filters: Vec<(&str, &str)> = since.as_deref().map(|s| ("updated_since", s)).into_iter().collect();
    filters.push(("fields", user_fields::FIELDS));
    let list = List::v2("/api/2/users", page_size::USERS).with_filters(&filters);
    let page = match ctx.cache.users_page.take() {
        Some((key, page)) if key == at.page => page,
        _ => ctx.client.page(&list, &at.page)?,
    };
    ctx.out.total = page.total;
    if *at == Position::start() && ctx.pending(Kind(&USER_APPS)) {
        let users = page.total.unwrap_or(count(page.items.len()));
        let apps = count(joins::apps(ctx)?.len());
        let note = access_plan::choose(&mut ctx.state.plan, users, apps);
        ctx.note(Topic::AccessPlan, note);
    }
    let size = batch_size(ctx, page.items.len());
    let batch: Vec<Value> = page.items.iter().skip(at.i).take(size).cloned().collect();
    let next_i = at.i + batch.len();
    let last_batch = next_i >= page.items.len();
    let mut next = if last_batch { page.next.clone().map(Position::at_page) } else { Some(Position { i: next_i, ..at.clone() }) };
    let ahead = match (&page.next, last_batch && !per_user_kinds(ctx).is_empty()) {
        (Some(following), true) => Some(following.clone()),
        _ => None,
    };
    let Emitted { read, left_from } = emit_users_and(ctx, &batch, ahead.map(|following| (&list, following)))?;
    if !last_batch || left_from.is_some() {
        ctx.cache.users_page = Some((at.page.clone(), page));
    }
    if let Some(done) = left_from {
        // The rest of the batch did not fit in memory: a smaller step reads it.
        return Ok(StepOutcome::then(Some(Position { i: at.i + done, ..at.clone() }), done));
    }
    let mut users = batch.len();
    for (_, page) in &read.pages {
        users += page.items.len();
        next = page.next.clone().map(Position::at_page);
    }
    // A next page that failed is read again (and reported) by its own step.
    ctx.cache.users_page = read.ahead.or(ctx.cache.users_page.take());
    Ok(StepOutcome::then(next, users))
}

/// A step reads the users pages that come back while its window runs, and
/// their users' calls, up to this many steps' worth of per-user calls
/// ([`Ctx::batch`]), while the parse budget projects to at most half full.
const EXTENSION_ROUNDS: usize = 3;

/// How many per-user responses a step parses before it decides whether a
/// page read ahead joins it (their average size projects its memory).
const SAMPLE: usize = 8;

/// The users pages a step read beyond its own.
#[derive(Default)]
struct ReadAhead {
    /// Pages whose users' calls went out in the step's window: the step
    /// emits their users.
    pages: Vec<(PageCursor, Page)>,
    /// The page read last, whose users are left to the next step.
    ahead: Option<(PageCursor, Page)>,
}

/// Per-user kinds still to read.
pub fn per_user_kinds<T: Transport>(ctx: &Ctx<'_, T>) -> Vec<Kind> {
    let by_app = ctx.state.plan.access_by_app;
    [Kind(&USER_APPS), Kind(&MFA_DEVICES)]
        .into_iter()
        .filter(|k| ctx.pending(*k) && !(by_app && *k == Kind(&USER_APPS)))
        .collect()
}

/// How many users one step handles: all of a page without per-user kinds,
/// else a batch that keeps the window full (see [`Ctx::batch`]).
fn batch_size<T: Transport>(ctx: &Ctx<'_, T>, page_len: usize) -> usize {
    match per_user_kinds(ctx).len() {
        0 => page_len.max(1),
        calls => users_per_step(ctx, calls),
    }
}

/// How many users a step reads `calls` requests each for: a batch that
/// keeps the window full (see [`Ctx::batch`]), fewer once their responses
/// did not fit beside each other in memory (see [`left_for_later`]).
pub fn users_per_step<T: Transport>(ctx: &Ctx<'_, T>, calls: usize) -> usize {
    ctx.batch(calls).min(ctx.cache.users_per_step.unwrap_or(usize::MAX)).max(1)
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

/// What a request of a step's window is for.
enum Slot {
    /// A users page, read ahead.
    Page(PageCursor),
    /// A per-user kind of a user.
    User(u64, Kind),
}

/// A step's window as it grows: what each request is for, and the users
/// pages read ahead whose users joined it.
struct StepWindow<'a> {
    /// The users list (when the step reads a page ahead).
    list: Option<&'a List<'a>>,
    wanted: Vec<Kind>,
    /// The most requests in the step.
    most: usize,
    /// What each request is for, in the order of the window's paths.
    slots: Vec<Slot>,
    /// The users whose calls are in the window.
    in_step: BTreeSet<u64>,
    read: ReadAhead,
    /// A page read ahead, waiting until [`SAMPLE`] per-user responses are
    /// parsed to project the step's memory from their average size.
    pending: Option<(PageCursor, Page)>,
    /// The parse budget spent when the last result came in.
    seen: usize,
    /// Parse cost and count of the per-user responses so far.
    user_cost: usize,
    user_parsed: usize,
}

impl StepWindow<'_> {
    /// Add the calls for user `id` to `paths`.
    fn add_user(&mut self, paths: &mut Vec<String>, id: u64) {
        for kind in &self.wanted {
            self.slots.push(Slot::User(id, *kind));
            paths.push(per_user_path(*kind, id));
        }
        self.in_step.insert(id);
    }

    /// Note the result of request `index`, and return the paths it adds.
    fn on_result(
        &mut self,
        cache: &SyncCache,
        index: usize,
        result: &Result<(Response, Value)>,
        budget: &ParseBudget,
    ) -> Vec<String> {
        // What this response cost to parse (nothing if it failed).
        let cost = budget.spent.saturating_sub(self.seen);
        self.seen = budget.spent;
        match (self.list, self.slots.get(index), result) {
            (_, Some(Slot::User(..)), Ok(_)) => {
                self.user_cost = self.user_cost.saturating_add(cost);
                self.user_parsed += 1;
            }
            (Some(list), Some(Slot::Page(at)), Ok((response, body))) => {
                let at = at.clone();
                // One that breaks the paging guard is read again (and reported) by its own step.
                self.pending = pagination::parse_page(list, &at, response, body.clone()).ok().map(|page| (at, page));
            }
            _ => {}
        }
        match self.pending.take() {
            Some(pending) if self.user_parsed >= SAMPLE => self.extend(cache, budget, pending),
            pending => {
                self.pending = pending;
                Vec::new()
            }
        }
    }

    /// Add the users of the page read ahead to the window, with the page
    /// after it, if the step's requests stay within `most` and what is
    /// parsed so far plus the rest, at the average per-user size, within
    /// half the parse budget; otherwise leave the page to the next step.
    fn extend(&mut self, cache: &SyncCache, budget: &ParseBudget, (at, page): (PageCursor, Page)) -> Vec<String> {
        let Some(list) = self.list else { return Vec::new() };
        let mut fresh: Vec<u64> = Vec::new();
        for id in page.items.iter().filter_map(id_of) {
            if !cache.sighted(&USER.key(id)) && !self.in_step.contains(&id) && !fresh.contains(&id) {
                fresh.push(id);
            }
        }
        let new_calls = fresh.len() * self.wanted.len();
        let step_calls = self.slots.iter().filter(|slot| matches!(slot, Slot::User(..))).count();
        let to_come = (step_calls + new_calls).saturating_sub(self.user_parsed);
        let average = self.user_cost / self.user_parsed.max(1);
        let projected = budget.spent.saturating_add(average.saturating_mul(to_come));
        // Every request counts towards `most`, page reads too: pages of users
        // already read (a server repeating itself) cannot grow a step forever.
        if self.slots.len() + new_calls + 1 > self.most || projected > memory::RESPONSE_BUDGET / 2 {
            self.read.ahead = Some((at, page));
            return Vec::new();
        }
        let mut added = Vec::new();
        if let Some(following) = &page.next {
            self.slots.push(Slot::Page(following.clone()));
            added.push(list.path_and_query(following));
        }
        for id in fresh {
            self.add_user(&mut added, id);
        }
        self.read.pages.push((at, page));
        added
    }
}

/// Read the per-user kinds for the users `ids` through one sliding window,
/// with the users page `ahead` first in it; each page read ahead while the
/// window runs adds its users' calls (and the page after it) to the window,
/// within the step's bounds (see [`StepWindow::extend`]). A kind OneLogin
/// refuses is settled (skipped or failed) and left out; the users whose
/// responses did not fit in memory beside the others are returned apart.
fn read_per_user<T: Transport>(
    ctx: &mut Ctx<'_, T>,
    ids: &[u64],
    ahead: Option<(&List<'_>, PageCursor)>,
) -> Result<(PerUserRead, ReadAhead)> {
    let mut window = StepWindow {
        list: ahead.as_ref().map(|(list, _)| *list),
        wanted: per_user_kinds(ctx),
        // Steps made smaller for memory do not grow.
        most: if ctx.cache.users_per_step.is_some() { 0 } else { EXTENSION_ROUNDS.saturating_mul(ctx.batch(1)) },
        slots: Vec::new(),
        in_step: BTreeSet::new(),
        read: ReadAhead::default(),
        pending: None,
        seen: 0,
        user_cost: 0,
        user_parsed: 0,
    };
    let mut paths: Vec<String> = Vec::new();
    if let Some((list, following)) = &ahead {
        window.slots.push(Slot::Page(following.clone()));
        paths.push(list.path_and_query(following));
    }
    for id in ids {
        window.add_user(&mut paths, *id);
    }
    let Ctx { client, cache, .. } = ctx;
    let results =
        client.get_json_growing(paths, &mut |index, result, budget| window.on_result(cache, index, result, budget));
    let StepWindow { slots, in_step, mut read, pending, .. } = window;
    if let Some(undecided) = pending {
        read.ahead = Some(undecided);
    }
    Ok((settle_per_user(ctx, &slots, results, in_step.len() > 1)?, read))
}

/// What a step's window read per user.
#[derive(Default)]
struct PerUserRead {
    /// The results, by user.
    by_user: BTreeMap<u64, PerUser>,
    /// Users with a response that did not fit in memory beside the others
    /// ([`Error::WindowFull`]): a smaller step reads them again.
    deferred: BTreeSet<u64>,
}

/// The per-user results of a step's window, by user. A kind OneLogin
/// refuses is settled (skipped or failed) and left out; a retryable failure
/// fails the step. A response that did not fit in memory beside the others
/// defers its user when the window held several users (`can_defer`);
/// otherwise it fails its kind as any other refusal.
fn settle_per_user<T: Transport>(
    ctx: &mut Ctx<'_, T>,
    slots: &[Slot],
    results: Vec<Result<(Response, Value)>>,
    can_defer: bool,
) -> Result<PerUserRead> {
    let mut read = PerUserRead::default();
    let per_user = &mut read.by_user;
    let mut refused: Vec<(Kind, Error)> = Vec::new();
    for (slot, result) in slots.iter().zip(results) {
        let Slot::User(id, kind) = slot else { continue };
        let (id, kind) = (*id, *kind);
        let items = match result {
            Err(Error::WindowFull { .. }) if can_defer => {
                read.deferred.insert(id);
                continue;
            }
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
        let slot = per_user.entry(id).or_default();
        if kind == Kind(&MFA_DEVICES) {
            slot.devices = Some(items);
        } else {
            slot.apps = Some(items);
        }
    }
    for (kind, error) in refused {
        ctx.state.give_up(kind, &error);
        for slot in per_user.values_mut() {
            if kind == Kind(&MFA_DEVICES) {
                slot.devices = None;
            } else {
                slot.apps = None;
            }
        }
    }
    Ok(read)
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

/// Map a batch of v2 users and everything read for them (the changed users
/// phase).
///
/// Returns where the users left for a later step start (see
/// [`left_for_later`]), or `None` when all were emitted.
pub fn emit_users<T: Transport>(ctx: &mut Ctx<'_, T>, users: &[Value]) -> Result<Option<usize>> {
    emit_users_and(ctx, users, None).map(|emitted| emitted.left_from)
}

/// The users to map, with their index in `users`: with `role_ids`,
/// normalized, each once per sync.
fn fresh_users<T: Transport>(ctx: &mut Ctx<'_, T>, users: &[Value]) -> Result<Vec<(usize, Value)>> {
    let users: Vec<Value> = with_role_ids(ctx, users)?.iter().map(user_fields::normalize).collect();
    Ok(users.into_iter().enumerate().filter(|(_, user)| fresh_user(ctx, user)).collect())
}

/// What [`emit_users_and`] did.
struct Emitted {
    read: ReadAhead,
    /// Where the users left for a later step start in the step's own list.
    left_from: Option<usize>,
}

/// [`emit_users`], reading the users page `ahead` in the same window as the
/// per-user calls, and the users of the pages read ahead that joined it.
fn emit_users_and<T: Transport>(
    ctx: &mut Ctx<'_, T>,
    listed: &[Value],
    ahead: Option<(&List<'_>, PageCursor)>,
) -> Result<Emitted> {
    let fresh = fresh_users(ctx, listed)?;
    let ids: Vec<u64> = fresh.iter().filter_map(|(_, user)| id_of(user)).collect();
    let (PerUserRead { by_user: mut per_user, deferred }, mut read) = read_per_user(ctx, &ids, ahead)?;
    let left_from = left_for_later(ctx, listed, &deferred, &mut read);
    let mut users = users_before(ctx, fresh, left_from);
    for (_, page) in &read.pages {
        users.extend(fresh_users(ctx, &page.items)?.into_iter().map(|(_, user)| user));
    }
    if ctx.state.plan.access_by_app && ctx.pending(Kind(&USER_APPS)) {
        let access = joins::app_access(ctx)?;
        for id in users.iter().filter_map(id_of) {
            let apps = access.get(&id).map(Vec::as_slice).unwrap_or_default();
            per_user.entry(id).or_default().apps =
                Some(apps.iter().map(|app| access_plan::app_without_provisioning(*app)).collect());
        }
    }
    // Make sure the joins are in memory, then borrow them.
    if ctx.pending(Kind(&USER_APPS)) {
        joins::roles(ctx)?;
    }
    if ctx.pending(Kind(&AWS_IAM_ROLES)) && !users.is_empty() {
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
    for object in &users {
        let Some(user_id) = id_of(object) else {
            logging::warn("skipped a user without a numeric id");
            continue;
        };
        let extra = per_user.remove(&user_id).unwrap_or_default();
        emit_user(ctx.out, &joins, user_id, object, &extra);
    }
    Ok(Emitted { read, left_from })
}

/// The users of `fresh` listed before `left_from`; those from it on are not
/// emitted after all (a later step emits them).
fn users_before<T: Transport>(ctx: &mut Ctx<'_, T>, fresh: Vec<(usize, Value)>, left_from: Option<usize>) -> Vec<Value> {
    let mut users = Vec::new();
    for (i, user) in fresh {
        match (left_from.is_some_and(|cut| i >= cut), id_of(&user)) {
            (true, Some(id)) => ctx.cache.forget(&USER.key(id)),
            (true, None) => {}
            (false, _) => users.push(user),
        }
    }
    users
}

/// When the per-user responses of the users `deferred` did not fit in
/// memory beside the others: where the step's own users (`listed`) stop
/// (at the first deferred one), the pages read ahead being read again; or,
/// when the step's own users are all in, the first page read ahead with a
/// deferred user becomes the page read ahead (its users left to the next
/// step, the pages after it read again). From then on, steps read at most
/// half as many users as this window held: a step that could not keep even
/// its first user makes the next one smaller, down to one user, which
/// cannot be deferred (see [`settle_per_user`]).
fn left_for_later<T: Transport>(
    ctx: &mut Ctx<'_, T>,
    listed: &[Value],
    deferred: &BTreeSet<u64>,
    read: &mut ReadAhead,
) -> Option<usize> {
    if deferred.is_empty() {
        return None;
    }
    let is_deferred = |user: &Value| id_of(user).is_some_and(|id| deferred.contains(&id));
    let in_window = listed.len() + read.pages.iter().map(|(_, page)| page.items.len()).sum::<usize>();
    let per_step = ctx.cache.users_per_step.unwrap_or(usize::MAX).min(in_window / 2).max(1);
    ctx.cache.users_per_step = Some(per_step);
    logging::warn(&format!(
        "users: the per-user responses of {} users did not fit in memory beside the others; \
         they are read again, at most {per_step} users per step from now on",
        deferred.len()
    ));
    let cut = listed.iter().position(is_deferred);
    if cut.is_some() {
        read.pages.clear();
        read.ahead = None;
    } else if let Some(first) = read.pages.iter().position(|(_, page)| page.items.iter().any(is_deferred)) {
        read.ahead = read.pages.drain(first..).next();
    }
    cut
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
    let with_members = joins::role_members(ctx)?.values().flatten().collect::<BTreeSet<_>>().len();
    let roles = ctx.cache.roles.as_ref().map_or(0, Vec::len);
    ctx.note(
        Topic::RoleMembers,
        format!(
            "roles: OneLogin listed users without role_ids; role membership read from each role's member list \
             instead (GET /api/2/roles/{{id}}/users: {roles} roles, {with_members} with members)"
        ),
    );
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
            out.relationships.push(mapping::relationship(HAS, &group_key, user_key));
            out.relationships.push(mapping::grant(ASSIGNED, user_key, &group_key, "member", "direct", Map::new()));
        }
    }
    if joins.roles_selected {
        for role_id in role_ids {
            let role_key = ROLE.key(role_id);
            out.relationships.push(mapping::grant(ASSIGNED, user_key, &role_key, "member", "direct", Map::new()));
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
        if mapping::is_personal_app(app) {
            if let Some(personal) = mapping::personal_application(user_id, app) {
                out.relationships.push(mapping::relationship(HAS, user_key, &personal.key));
                out.entities.push(personal);
            }
            continue;
        }
        let Some(app_id) = id_of(app) else { continue };
        let app_key = APPLICATION.key(app_id);
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
        out.relationships.push(mapping::grant(ASSIGNED, user_key, &app_key, "access", &via, props));
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
        out.relationships.push(mapping::relationship_with(ASSIGNED, user_key, &AWS_IAM_ROLE.key(arn), props));
    }
}
