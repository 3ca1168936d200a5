//! `sync`: reads the tenant one step at a time and maps it to entities and
//! relationships, a page per call.
//!
//! The phases, their order, what each reads and emits, live in `phases/` (one
//! module per phase, one registry). This module is the engine: it starts a
//! sync (plan, first page), runs steps until the page is full, settles each
//! kind once its last phase is passed, and writes the cursor or, at the end,
//! the checkpoint.
//!
//! A page holds whole steps until `max-items` is reached. The cursor records
//! the plan, the report and where to go on (see `cursor.rs`), so a fresh
//! instance resumes exactly where the last page ended. Steps that join with
//! earlier phases use what this instance remembers (`cache.rs`), and a
//! resumed instance reads those again (`joins.rs`): a resume costs extra
//! calls but never changes the output.

mod aws;
mod cache;
pub mod cursor;
mod joins;
mod kinds;
mod mapping;
mod phases;
mod state;
pub mod step;
mod user_fields;

use std::time::Duration;

pub use self::cache::SyncCache;
use self::cursor::{Checkpoint, Cursor, CursorKey};
use self::kinds::{Kind, Selection};
use self::phases::Phase;
use self::state::{Plan, Status, SyncState};
use self::step::{Account, Ctx, Output, Position};
use crate::client::pagination::MAX_CARRIED_CURSOR;
use crate::client::transport::Transport;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::identity::connector::types::{KindReport, KindStatus, SyncKind, SyncPage, SyncProgress, SyncRequest};
use crate::logging;
use crate::vocabulary::HAS;

/// Requests in flight at once when the host does not say.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// The most requests in flight at once, whatever the host asks.
pub const MAX_CONCURRENCY: u32 = 64;
/// How far a checkpoint may lie ahead of OneLogin's clock (clock skew
/// between OneLogin's servers) before it is refused.
const CHECKPOINT_SKEW_SECONDS: i64 = 300;

/// The sync kinds `describe` lists.
pub fn sync_kinds() -> Vec<SyncKind> {
    phases::kinds().into_iter().map(Kind::spec).collect()
}

/// What `describe` lists as emitted: from the start of a sync and every phase.
pub fn emitted() -> (Vec<&'static crate::vocabulary::EntityType>, Vec<&'static crate::vocabulary::RelationshipType>) {
    let mut entities = vec![&crate::vocabulary::ACCOUNT, &crate::vocabulary::SERVICE];
    let mut relationships = vec![&START_RELATIONSHIP];
    for phase in Phase::ALL {
        let spec = phase.spec();
        for entity in spec.entities {
            if !entities.iter().any(|e| e.name == entity.name) {
                entities.push(entity);
            }
        }
        for rel in spec.relationships {
            let same = |r: &&crate::vocabulary::RelationshipType| {
                (r.class, r.from.name, r.to.name) == (rel.class, rel.from.name, rel.to.name)
            };
            if !relationships.iter().any(same) {
                relationships.push(rel);
            }
        }
    }
    (entities, relationships)
}

/// The start of every sync emits the account and its services.
static START_RELATIONSHIP: crate::vocabulary::RelationshipType = crate::vocabulary::RelationshipType {
    class: HAS,
    from: &crate::vocabulary::ACCOUNT,
    to: &crate::vocabulary::SERVICE,
    description: "The account has the SSO / MFA service.",
};

/// Where a sync stands within one call.
struct Run {
    state: SyncState,
    phase: Phase,
    at: Position,
    done: u64,
}

/// How a step left the sync.
enum After {
    /// More steps to run.
    More,
    /// The sync is done.
    Finished,
    /// A retryable failure after records were produced: return the page so
    /// far, and the host calls again at the same step.
    KeepPage,
}

/// Produce one sync page.
pub fn sync_page<T: Transport>(
    client: &mut Client<T>,
    account: &Account,
    key: &CursorKey,
    cache: &mut SyncCache,
    request: &SyncRequest,
) -> Result<SyncPage> {
    client.set_wait_budget(Duration::from_millis(u64::from(request.max_wait_ms)));
    let mut out = Output::default();
    let (mut run, mut finished) = match &request.cursor {
        Some(text) => {
            let cursor = Cursor::decode(text, key)?;
            (Run { state: cursor.state, phase: cursor.phase, at: cursor.at, done: cursor.done }, false)
        }
        None => start(client, account, key, request, &mut out)?,
    };
    cache.bind(&run.state.plan);
    client.set_concurrency(usize::try_from(run.state.plan.concurrency).unwrap_or(1));
    let max_items = usize::try_from(request.max_items).unwrap_or(usize::MAX);
    while !finished {
        match step(client, account, cache, &mut run, &mut out)? {
            After::More => {}
            After::Finished => finished = true,
            After::KeepPage if carriable(&run.at) => break,
            // The position cannot go into a cursor: the host retries from the
            // previous one, and nothing it received is repeated.
            After::KeepPage => {
                return Err(Error::Transport {
                    message: "a retryable failure while OneLogin's paging cursor was too long to hand back; call again"
                        .into(),
                    retryable: true,
                })
            }
        }
        if !finished && (max_items == 0 || out.len() >= max_items) && carriable(&run.at) {
            break;
        }
    }
    let progress = SyncProgress { phase: run.phase.spec().name.to_string(), done: run.done, total: out.total };
    let report = report(&run.state);
    let Output { entities, relationships, .. } = out;
    if finished {
        logging::info("sync complete");
        let checkpoint = run.state.plan.t0.map(|t| Checkpoint::new(t).encode(key));
        return Ok(SyncPage { entities, relationships, next_cursor: None, progress, report, checkpoint });
    }
    let cursor = Cursor { state: run.state, phase: run.phase, at: run.at, done: run.done };
    Ok(SyncPage { entities, relationships, next_cursor: Some(cursor.encode(key)), progress, report, checkpoint: None })
}

/// Run one step of the current phase and move on.
fn step<T: Transport>(
    client: &mut Client<T>,
    account: &Account,
    cache: &mut SyncCache,
    run: &mut Run,
    out: &mut Output,
) -> Result<After> {
    let phase = run.phase;
    let outcome = {
        let mut ctx = Ctx { client: &mut *client, account, cache, state: &mut run.state, out: &mut *out };
        phase.run(&mut ctx, &run.at)
    };
    if run.state.plan.t0.is_none() {
        run.state.plan.t0 = client.unix_now();
    }
    let next = match outcome {
        Ok(outcome) => {
            run.done = run.done.saturating_add(outcome.read);
            outcome.next
        }
        Err(error) if error.retryable() => {
            if out.len() == 0 {
                return Err(error);
            }
            logging::warn(&format!("{}: {error}; returning the page so far", phase.spec().name));
            return Ok(After::KeepPage);
        }
        Err(error) => {
            if let Some(kind) = phase.spec().kind() {
                run.state.give_up(kind, &error);
            }
            None
        }
    };
    if let Some(at) = next {
        run.at = at;
        return Ok(After::More);
    }
    let following = next_phase(&run.state, phase);
    complete_before(&mut run.state, following);
    run.done = 0;
    out.total = None;
    match following {
        Some(next) => {
            run.phase = next;
            run.at = Position::start();
            Ok(After::More)
        }
        None => Ok(After::Finished),
    }
}

/// Start a sync: the plan from the request, and the first page's account
/// and services. Also says whether there is nothing to read at all.
fn start<T: Transport>(
    client: &Client<T>,
    account: &Account,
    key: &CursorKey,
    request: &SyncRequest,
    out: &mut Output,
) -> Result<(Run, bool)> {
    let selection = Selection::parse(&request.kinds, &phases::kinds())?;
    let since = match &request.checkpoint {
        Some(text) => Some(checkpoint_time(client, text, key)?),
        None => None,
    };
    let concurrency = match request.concurrency {
        0 => DEFAULT_CONCURRENCY,
        n => n.min(MAX_CONCURRENCY),
    };
    let plan = Plan { id: client.monotonic_nanos(), since, t0: client.unix_now(), concurrency, aws_apps: None };
    out.entities.push(mapping::account(&account.id, &account.api_base_url, &account.host));
    for service in mapping::services(&account.id) {
        out.relationships.push(mapping::relationship(HAS, &account.key, &service.key));
        out.entities.push(service);
    }
    let mut state = SyncState::new(plan, &selection);
    let first = Phase::ALL.iter().copied().find(|p| (p.spec().enter)(&state));
    if first.is_none() {
        complete_before(&mut state, None);
    }
    let phase = first.unwrap_or(Phase::CustomAttributes);
    Ok((Run { state, phase, at: Position::start(), done: 0 }, first.is_none()))
}

/// Whether a cursor may end at `at` (OneLogin's cursor there is short
/// enough to carry).
fn carriable(at: &Position) -> bool {
    at.page.next.as_ref().is_none_or(|c| c.len() <= MAX_CARRIED_CURSOR)
}

/// The time of a checkpoint, refused when it lies ahead of OneLogin's clock.
fn checkpoint_time<T: Transport>(client: &Client<T>, text: &str, key: &CursorKey) -> Result<i64> {
    let t = Checkpoint::decode(text, key)?.t;
    if let Some(now) = client.unix_now() {
        if t > now.saturating_add(CHECKPOINT_SKEW_SECONDS) {
            return Err(Error::InvalidCursor("the checkpoint is later than OneLogin's clock; run a full sync".into()));
        }
    }
    Ok(t)
}

/// The first phase after `after` the sync enters.
fn next_phase(state: &SyncState, after: Phase) -> Option<Phase> {
    after.following().find(|p| (p.spec().enter)(state))
}

/// Mark complete every pending kind whose phases all come before `next`
/// (`None`: the sync is done).
fn complete_before(state: &mut SyncState, next: Option<Phase>) {
    let kinds: Vec<Kind> = state.selection().collect();
    for kind in kinds {
        let passed = match (phases::last_phase(kind), next) {
            (_, None) => true,
            (Some(last), Some(next)) => last < next,
            (None, Some(_)) => true,
        };
        if passed {
            state.settle(kind, Status::Complete);
        }
    }
}

/// The WIT report of every kind: the selected ones as they stand, the
/// others as skipped.
fn report(state: &SyncState) -> Vec<KindReport> {
    phases::kinds()
        .into_iter()
        .map(|kind| {
            let status = match state.status(kind) {
                None => KindStatus::Skipped("not selected".into()),
                Some(Status::Pending) => KindStatus::Pending,
                Some(Status::Complete) => KindStatus::Complete,
                Some(Status::Skipped(reason)) => KindStatus::Skipped(reason.clone()),
                Some(Status::Failed(failure)) => KindStatus::Failed(failure.to_wit()),
            };
            KindReport { kind: kind.name.into(), status }
        })
        .collect()
}
