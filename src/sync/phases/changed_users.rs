//! Incremental syncs only: users events name that `updated_since` did not
//! return (their apps or devices may have changed without touching the
//! user), read with `GET /api/2/users/{id}`, then mapped as in the users phase.

use serde_json::Value;

use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::sync::joins;
use crate::sync::kinds::Kind;
use crate::sync::state::{Status, SyncState};
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::id_of;

use super::events::EVENTS;
use super::users::{self, AWS_IAM_ROLES, MFA_DEVICES, USERS, USER_APPS};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "changed_users",
    declares: &[],
    feeds: &[Kind(&USERS), Kind(&USER_APPS), Kind(&MFA_DEVICES), Kind(&AWS_IAM_ROLES)],
    enter,
    entities: &[],
    relationships: &[],
};

/// Only incremental syncs that read events have users to refresh (the
/// events phase runs first: its kind is complete by then).
fn enter(state: &SyncState) -> bool {
    let events_read = matches!(state.status(Kind(&EVENTS)), Some(Status::Pending | Status::Complete));
    state.pending(Kind(&USERS)) && state.plan.since.is_some() && events_read
}

/// Users `i..` of those the events name.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let Some(since) = ctx.state.plan.since else { return Ok(StepOutcome::done(0)) };
    let named: Vec<u64> = joins::events(ctx)?.users.iter().copied().collect();
    let size = users::users_per_step(ctx, 1 + users::per_user_kinds(ctx).len());
    let batch: Vec<u64> = named.iter().skip(at.i).take(size).copied().collect();
    if batch.is_empty() {
        return Ok(StepOutcome::done(0));
    }
    let paths: Vec<String> = batch.iter().map(|id| format!("/api/2/users/{id}")).collect();
    let mut changed = Vec::new();
    for result in ctx.client.get_json_many(&paths) {
        match result {
            Ok((_, user)) => {
                let updated = user.get("updated_at").and_then(Value::as_str).and_then(crate::time::parse_iso);
                // Users updated since the checkpoint came with `updated_since` already.
                if updated.is_none_or(|t| t < since) {
                    changed.push(user);
                }
            }
            // Deleted since the event: incremental syncs do not see deletions.
            Err(Error::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    let left_from = users::emit_users(ctx, &changed)?;
    // Users left for a later step (they did not fit in memory) are read again from the first of them.
    let done = match left_from.and_then(|cut| changed.get(cut)).and_then(id_of) {
        Some(first_left) => batch.iter().position(|id| *id == first_left).unwrap_or(batch.len()),
        None => batch.len(),
    };
    let next = at.i + done;
    Ok(StepOutcome::then((next < named.len()).then(|| Position::at_index(next)), left_from.unwrap_or(changed.len())))
}
