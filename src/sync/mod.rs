//! `sync`: reads the tenant one unit of work (a *step*) at a time and maps it.
//!
//! Phases, in order (each runs only when its kind is selected; see `kinds.rs`
//! for the cost of each):
//!
//! | phase | OneLogin calls | emits |
//! |---|---|---|
//! | start | none | account; SSO and MFA services |
//! | custom attributes | `GET /api/2/users/custom_attributes` | attribute definitions |
//! | groups | `GET /api/1/groups` (v1 body cursor) | groups, group member entitlements |
//! | roles | `GET /api/2/roles` (apps inline) | roles, role ALLOWS application, entitlements |
//! | role admins | `GET /api/2/roles/{id}/admins`, per role, concurrently | user ASSIGNED role (admin) |
//! | apps | `GET /api/2/apps` | applications, access entitlements |
//! | app rules | `GET /api/2/apps/{id}/rules` with and without `enabled=false`, per app | rules; app HAS rule |
//! | AWS roles | `GET /api/2/apps/{id}/users` for apps with AWS rules | `aws_iam_role` entities |
//! | privileges | `GET /api/1/privileges`, then `/{id}/users` and `/{id}/roles` | privileges and their holders |
//! | events | `GET /api/1/events?since=…&until=…` | events; remembers last logins per (user, app) |
//! | users | `GET /api/2/users` (+ per user, concurrently: apps, MFA devices) | users and everything per user |
//! | changed users | incremental only: `GET /api/2/users/{id}` for users events name | the same |
//!
//! Role *members* cost nothing: they come from each user's `role_ids`.
//!
//! A page holds whole steps until `max-items` is reached. The cursor records
//! the plan, the next step and the per-kind report (see `cursor.rs`), so a
//! fresh instance resumes exactly where the last page ended. Steps that join
//! with earlier phases (users need roles, rules and events) use what this
//! instance remembers, and a resumed instance reads those again (see
//! `joins.rs`): a resume costs extra calls but never changes the output.

pub mod aws;
pub mod cursor;
mod directory;
mod joins;
pub mod kinds;
pub mod mapping;
mod users;

use std::time::Duration;

pub use self::joins::SyncCache;

use self::cursor::{Checkpoint, Cursor, Plan, Status, Step};
use self::kinds::{Kind, Selection};
use crate::client::transport::Transport;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::connector::types::{
    ConnectorError, Entity, KindReport, KindStatus, Relationship, SyncPage, SyncProgress, SyncRequest,
};
use crate::logging;

/// Page sizes requested per endpoint: the largest each one documents. The
/// server may cap them lower; pagination follows its cursors either way.
pub mod page_size {
    /// `GET /api/2/users`: py-sdk spec max 100 (the docs say 50 per page).
    pub const USERS: usize = 100;
    /// `GET /api/1/groups`: 50.
    pub const GROUPS: usize = 50;
    /// `GET /api/2/roles`: 650.
    pub const ROLES: usize = 650;
    /// `GET /api/2/roles/{id}/users` and `/admins`: 100.
    pub const ROLE_USERS: usize = 100;
    /// `GET /api/2/apps`: 1000.
    pub const APPS: usize = 1000;
    /// `GET /api/2/apps/{id}/users`: 1000.
    pub const APP_USERS: usize = 1000;
    /// `GET /api/1/events`: 50.
    pub const EVENTS: usize = 50;
}

/// Requests in flight at once when the host does not say.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// The most requests in flight at once, whatever the host asks.
pub const MAX_CONCURRENCY: u32 = 64;

/// The account a sync belongs to.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub key: String,
    pub api_base_url: String,
    pub host: String,
}

/// Entities and relationships of one page.
#[derive(Default)]
pub struct Output {
    pub entities: Vec<Entity>,
    pub relationships: Vec<Relationship>,
    /// The total of the phase, when OneLogin says.
    pub total: Option<u64>,
}

impl Output {
    fn len(&self) -> usize {
        self.entities.len() + self.relationships.len()
    }
}

/// What a step works with.
pub struct Ctx<'a, T: Transport> {
    pub client: &'a mut Client<T>,
    pub account: &'a Account,
    pub cache: &'a mut SyncCache,
    pub cursor: &'a mut Cursor,
    pub out: &'a mut Output,
}

impl<T: Transport> Ctx<'_, T> {
    pub fn plan(&self) -> &Plan {
        &self.cursor.plan
    }

    /// Requests to keep in flight at once.
    pub fn concurrency(&self) -> usize {
        usize::try_from(self.cursor.plan.concurrency).unwrap_or(1).max(1)
    }

    /// Whether a kind is selected and still being read.
    pub fn pending(&self, kind: Kind) -> bool {
        self.cursor.pending(kind)
    }

    /// A kind cannot be read: settle it (and the kinds that need it).
    pub fn give_up(&mut self, kind: Kind, error: Error) {
        give_up(self.cursor, kind, error);
    }
}

/// Settle `kind` as skipped (not licensed or not permitted: 403/404) or
/// failed (anything else), and the selected kinds that need it as skipped.
fn give_up(cursor: &mut Cursor, kind: Kind, error: Error) {
    logging::warn(&format!("{}: {error}", kind.name()));
    let status = match &error {
        Error::InsufficientScope(_) | Error::NotFound(_) => {
            Status::Skipped(format!("OneLogin refused it ({error}); the account may lack the feature or the scope"))
        }
        _ => Status::Failed(error),
    };
    cursor.settle(kind, status);
    for dependent in kinds::ALL {
        if dependent.requires().contains(&kind) {
            cursor.settle(dependent, Status::Skipped(format!("needs `{}`, which was not read", kind.name())));
        }
    }
}

/// The phases in order: the first step of each.
fn phases() -> [Step; 12] {
    [
        Step::CustomAttributes,
        Step::Groups { c: None },
        Step::Roles { c: None },
        Step::RoleAdmins { i: 0 },
        Step::Apps { c: None },
        Step::Rules { i: 0 },
        Step::AwsRoles,
        Step::Privileges,
        Step::PrivilegeLinks { i: 0 },
        Step::Events { c: None },
        Step::Users { c: None, i: 0 },
        Step::EventUsers { i: 0 },
    ]
}

fn phase_index(step: &Step) -> usize {
    let name = std::mem::discriminant(step);
    phases().iter().position(|p| std::mem::discriminant(p) == name).unwrap_or(0)
}

/// The first step after `step`'s phase whose kind still needs reading.
fn next_phase(cursor: &Cursor, after: Option<&Step>) -> Option<Step> {
    let start = after.map_or(0, |s| phase_index(s) + 1);
    phases().into_iter().skip(start).find(|step| {
        let wanted = cursor.pending(step.kind());
        match step {
            // Follows `Privileges` directly; never entered from elsewhere.
            Step::PrivilegeLinks { .. } => false,
            Step::EventUsers { .. } => wanted && cursor.plan.since.is_some() && cursor.pending(Kind::Events),
            _ => wanted,
        }
    })
}

/// The last phase each kind has data in (a kind is complete once it is passed).
fn last_phase(kind: Kind) -> usize {
    let step = match kind {
        Kind::Groups => Step::Groups { c: None },
        Kind::Roles => Step::RoleAdmins { i: 0 },
        Kind::Apps => Step::Apps { c: None },
        Kind::AppRules => Step::Rules { i: 0 },
        Kind::Privileges => Step::PrivilegeLinks { i: 0 },
        Kind::Events => Step::Events { c: None },
        Kind::Users | Kind::UserApps | Kind::MfaDevices | Kind::AwsIamRoles => Step::EventUsers { i: 0 },
    };
    phase_index(&step)
}

/// Mark complete every pending kind whose phases all come before `next`
/// (`None`: the sync is done).
fn complete_before(cursor: &mut Cursor, next: Option<&Step>) {
    let bound = next.map_or(usize::MAX, phase_index);
    for kind in cursor.plan.kinds.kinds() {
        if last_phase(kind) < bound {
            cursor.settle(kind, Status::Complete);
        }
    }
}

/// Start a sync: the plan from the request and the first page's output.
fn start<T: Transport>(
    client: &Client<T>,
    account: &Account,
    request: &SyncRequest,
    out: &mut Output,
) -> Result<Cursor> {
    let kinds = Selection::parse(&request.kinds)?;
    let since = match &request.checkpoint {
        Some(text) => Some(Checkpoint::decode(text, &account.id)?.t),
        None => None,
    };
    let concurrency = match request.concurrency {
        0 => DEFAULT_CONCURRENCY,
        n => n.min(MAX_CONCURRENCY),
    };
    let id = client.monotonic_nanos();
    let plan = Plan { id, kinds, since, t0: client.unix_now(), concurrency, aws_apps: None };
    out.entities.push(mapping::account(&account.id, &account.api_base_url, &account.host));
    for service in mapping::services(&account.id) {
        out.relationships.push(mapping::relationship(mapping::HAS, &account.key, &service.key));
        out.entities.push(service);
    }
    let mut cursor = Cursor::new(&account.id, plan, Step::CustomAttributes);
    match next_phase(&cursor, None) {
        Some(step) => cursor.step = step,
        None => complete_before(&mut cursor, None),
    }
    Ok(cursor)
}

/// Produce one sync page.
pub fn sync_page<T: Transport>(
    client: &mut Client<T>,
    account: &Account,
    cache: &mut SyncCache,
    request: &SyncRequest,
) -> Result<SyncPage> {
    client.set_wait_budget(Duration::from_millis(u64::from(request.max_wait_ms)));
    let mut out = Output::default();
    let (mut cursor, mut finished) = match &request.cursor {
        Some(text) => (Cursor::decode(text, &account.id)?, false),
        None => {
            let cursor = start(client, account, request, &mut out)?;
            let finished = next_phase(&cursor, None).is_none();
            (cursor, finished)
        }
    };
    cache.bind(&cursor.plan);
    client.set_concurrency(usize::try_from(cursor.plan.concurrency).unwrap_or(1));
    let max_items = usize::try_from(request.max_items).unwrap_or(usize::MAX);
    while !finished {
        let step = cursor.step.clone();
        let phase = step.phase();
        let outcome = {
            let mut ctx = Ctx { client, account, cache, cursor: &mut cursor, out: &mut out };
            directory::run(&mut ctx, &step).or_else(|| users::run(&mut ctx, &step))
        };
        if cursor.plan.t0.is_none() {
            cursor.plan.t0 = client.unix_now();
        }
        let next = match outcome.unwrap_or(Ok((None, 0))) {
            Ok((next, read)) => {
                cursor.done += read;
                next
            }
            Err(error) if error.retryable() => {
                if out.len() == 0 {
                    return Err(error);
                }
                // Keep what this page has; the host calls again with this step.
                logging::warn(&format!("{phase}: {error}; returning the page so far"));
                break;
            }
            Err(error) => {
                give_up(&mut cursor, step.kind(), error);
                None
            }
        };
        let next = match next {
            Some(next) => Some(next),
            None => {
                let next = next_phase(&cursor, Some(&step));
                complete_before(&mut cursor, next.as_ref());
                cursor.done = 0;
                next
            }
        };
        match next {
            Some(next) => {
                if next.phase() != phase {
                    cursor.done = 0;
                    out.total = None;
                }
                cursor.step = next;
            }
            None => finished = true,
        }
        if !finished && (max_items == 0 || out.len() >= max_items) {
            break;
        }
    }
    let progress = SyncProgress { phase: cursor.step.phase().to_string(), done: cursor.done, total: out.total };
    let report = report(&cursor);
    let Output { entities, relationships, .. } = out;
    if finished {
        logging::info("sync complete");
        let checkpoint = cursor.plan.t0.map(|t| Checkpoint::new(&account.id, t).encode());
        return Ok(SyncPage { entities, relationships, next_cursor: None, progress, report, checkpoint });
    }
    Ok(SyncPage { entities, relationships, next_cursor: Some(cursor.encode()), progress, report, checkpoint: None })
}

/// The WIT report of every selected kind, and the unselected ones as skipped.
fn report(cursor: &Cursor) -> Vec<KindReport> {
    kinds::ALL
        .iter()
        .map(|kind| {
            let status = match cursor.status(*kind) {
                None => KindStatus::Skipped("not selected".into()),
                Some(Status::Pending) => KindStatus::Pending,
                Some(Status::Complete) => KindStatus::Complete,
                Some(Status::Skipped(reason)) => KindStatus::Skipped(reason.clone()),
                Some(Status::Failed(error)) => KindStatus::Failed(ConnectorError::from(error.clone())),
            };
            KindReport { kind: kind.name().into(), status }
        })
        .collect()
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
