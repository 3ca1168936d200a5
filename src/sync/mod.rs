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

mod access_plan;
mod aws;
mod cache;
pub mod cursor;
mod joins;
mod kinds;
mod lanes;
mod mapping;
mod phases;
mod rotation;
mod state;
pub mod step;
mod user_fields;

use std::time::Duration;

pub use self::cache::SyncCache;
use self::cursor::{Checkpoint, Cursor, CursorKey};
use self::kinds::{Kind, Selection};
pub use self::lanes::event_slices;
use self::phases::Phase;
use self::state::{Plan, Status, SyncState};
use self::step::{Account, Ctx, Output, Position};
pub use self::user_fields::FIELDS as USER_FIELDS;
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
    properties: &[],
    may_dangle: false,
};

/// Where a sync stands within one call: what the cursor carries.
type Run = Cursor;

/// How a step left the sync.
enum After {
    /// More steps to run.
    More,
    /// The sync is done.
    Finished,
    /// A retryable failure (this one) after records were produced: return
    /// the page so far, and the host calls again at the same step.
    KeepPage(Error),
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
        Some(text) => (Cursor::decode(text, key)?, false),
        None => start(client, account, key, request, &mut out)?,
    };
    cache.bind(&run.state.plan);
    client.set_concurrency(usize::try_from(run.state.plan.concurrency).unwrap_or(1));
    if let Some(limit) = run.limit {
        client.resume_concurrency(usize::try_from(limit).unwrap_or(1));
    }
    let max_items = usize::try_from(request.max_items).unwrap_or(usize::MAX);
    while !finished {
        match step(client, account, cache, &mut run, &mut out)? {
            After::More => {}
            After::Finished => finished = true,
            After::KeepPage(_) if carriable(&run.at) => break,
            // The position cannot go into a cursor: the host retries from the
            // previous one, and nothing it received is repeated.
            After::KeepPage(error) => return Err(error),
        }
        if !finished && (max_items == 0 || out.len() >= max_items) && carriable(&run.at) {
            break;
        }
    }
    // The concurrency in effect as the page ends: the plan's, or lower
    // while OneLogin throttles (`client::concurrency`).
    let concurrency = u32::try_from(client.concurrency_limit()).unwrap_or(run.state.plan.concurrency);
    run.limit = (concurrency < run.state.plan.concurrency).then_some(concurrency);
    let progress = progress(&run, out.total, finished);
    let report = report(&run.state);
    let Output { entities, relationships, notes, .. } = out;
    if finished {
        logging::info("sync complete");
        let checkpoint = run.state.plan.t0.map(|t| Checkpoint::of(&run.state.plan, t).encode(key));
        return Ok(SyncPage {
            entities,
            relationships,
            next_cursor: None,
            progress,
            report,
            checkpoint,
            concurrency,
            notes,
        });
    }
    let next_cursor = Some(run.encode(key));
    Ok(SyncPage { entities, relationships, next_cursor, progress, report, checkpoint: None, concurrency, notes })
}

/// The progress of `run`; `total` is what OneLogin said of the phase.
fn progress(run: &Run, total: Option<u64>, finished: bool) -> SyncProgress {
    // The phases still to read: the current one and those after it the sync
    // enters as it stands now (an estimate: a kind found unlicensed later
    // drops its phases).
    let ahead = if finished {
        0
    } else {
        let after = run.phase.following().filter(|p| (p.spec().enter)(&run.state)).count();
        u32::try_from(after).unwrap_or(u32::MAX).saturating_add(1)
    };
    SyncProgress {
        phase: run.phase.spec().name.to_string(),
        done: run.done,
        total,
        phases_done: run.phases_done,
        phases_total: run.phases_done.saturating_add(ahead),
        overall_done: run.overall_done,
    }
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
            run.overall_done = run.overall_done.saturating_add(outcome.read);
            outcome.next
        }
        // No token to be had (e.g. the credential's owner was deleted): no
        // kind can be read, so the page fails and the host's cursor stays
        // where it was. (A 401 from one endpoint with a fresh token fails only
        // its kind, below.)
        Err(error @ Error::AuthenticationFailed(_)) if !client.has_token() => return Err(error),
        Err(error) if error.retryable() => {
            if out.len() == 0 {
                return Err(error);
            }
            logging::warn(&format!("{}: {error}; returning the page so far", phase.spec().name));
            return Ok(After::KeepPage(error));
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
    run.phases_done = run.phases_done.saturating_add(1);
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
    let checkpoint = match &request.checkpoint {
        Some(text) => Some(checked_checkpoint(client, text, key)?),
        None => None,
    };
    let concurrency = match request.concurrency {
        0 => DEFAULT_CONCURRENCY,
        n if n > MAX_CONCURRENCY => {
            logging::warn(&format!("concurrency {n} lowered to the maximum, {MAX_CONCURRENCY}"));
            MAX_CONCURRENCY
        }
        n => n,
    };
    let plan = Plan {
        id: client.monotonic_nanos(),
        since: checkpoint.as_ref().map(|c| c.t),
        t0: client.unix_now(),
        concurrency,
        aws_apps: checkpoint.as_ref().and_then(|c| c.aws.clone()),
        run: checkpoint.as_ref().map_or(0, |c| c.r.saturating_add(1)),
        provisioning: false,
        access_by_app: false,
        noted: Vec::new(),
    };
    out.entities.push(mapping::account(&account.id, &account.api_base_url, &account.host));
    for service in mapping::services(&account.id) {
        out.relationships.push(mapping::relationship(HAS, &account.key, &service.key));
        out.entities.push(service);
    }
    let mut state = SyncState::new(plan, &selection);
    state.skip_beyond(account.access);
    let first = Phase::ALL.iter().copied().find(|p| (p.spec().enter)(&state));
    if first.is_none() {
        complete_before(&mut state, None);
    }
    let phase = first.unwrap_or(Phase::CustomAttributes);
    let run = Run { state, phase, at: Position::start(), done: 0, phases_done: 0, overall_done: 0, limit: None };
    Ok((run, first.is_none()))
}

/// Whether a cursor may end at `at` (OneLogin's cursors there, of the page
/// and of any lanes, are short enough to carry).
fn carriable(at: &Position) -> bool {
    let short = |c: &Option<String>| c.as_ref().is_none_or(|c| c.len() <= MAX_CARRIED_CURSOR);
    let lanes: usize = at.lanes.iter().filter_map(|lane| lane.at.next.as_ref()).map(String::len).sum();
    short(&at.page.next) && at.lanes.iter().all(|lane| short(&lane.at.next)) && lanes <= 2 * MAX_CARRIED_CURSOR
}

/// A checkpoint, refused when its time lies ahead of OneLogin's clock.
fn checked_checkpoint<T: Transport>(client: &Client<T>, text: &str, key: &CursorKey) -> Result<Checkpoint> {
    let checkpoint = Checkpoint::decode(text, key)?;
    if let Some(now) = client.unix_now() {
        if checkpoint.t > now.saturating_add(CHECKPOINT_SKEW_SECONDS) {
            return Err(Error::InvalidCursor("the checkpoint is later than OneLogin's clock; run a full sync".into()));
        }
    }
    Ok(checkpoint)
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
