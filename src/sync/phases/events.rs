//! Events: `GET /api/1/events?since=…&until=…` (v1, 50 a page), since the
//! checkpoint or over the configured lookback; opt-in (its cost grows with
//! every event a tenant logs). The instance also collects the last login per
//! (user, app) for the users phase, so `app_logins` reads nothing more.

use serde_json::Value;

use crate::client::transport::Transport;
use crate::error::Result;
use crate::identity::connector::types::AccessLevel;
use crate::logging;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::lanes;
use crate::sync::mapping;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{RelationshipType, APPLICATION, EVENT, HAS, USER};

/// The `events` kind.
pub static EVENTS: KindSpec = KindSpec {
    name: "events",
    description: "Every event since the checkpoint (first sync: the configured lookback) as an entity; incremental \
                  syncs also refresh the users events name. Opt-in: a real tenant logs several events per user per \
                  day.",
    cost: "1 call per 50 events in the window (a full sync reads slices of a long window side by side: then 1 \
           call per 50 events of each slice, at least 1, at most 8 calls more; e.g. 10,000 users with 5 events a \
           day over 90 days: 90,000 calls, 18 hours of the 5,000/h v1 budget)",
    calls_per_user: 0,
    default_selected: false,
    requires: &[],
    required_access: AccessLevel::Read,
};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "events",
    declares: &[Kind(&EVENTS)],
    feeds: &[Kind(&EVENTS)],
    enter: |state| state.pending(Kind(&EVENTS)),
    entities: &[&EVENT],
    relationships: &[
        RelationshipType {
            class: HAS,
            from: &USER,
            to: &EVENT,
            description: "The event concerns the user (its `user_id`); the user may be deleted since.",
            properties: &[],
            may_dangle: true,
        },
        RelationshipType {
            class: HAS,
            from: &APPLICATION,
            to: &EVENT,
            description: "The event concerns the application (its `app_id`); the app may be deleted since.",
            properties: &[],
            may_dangle: true,
        },
    ],
};

/// One step of events: the window's first page; then, on a full sync whose
/// window has many pages, one page of each time slice (lane) at once (see
/// `lanes.rs`). Every event is emitted once, and collected for the users
/// phase.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    lanes::step(ctx, at, &lanes::EVENTS, emit)
}

/// Emit an event (once), with its links.
fn emit<T: Transport>(ctx: &mut Ctx<'_, T>, object: &Value) {
    match mapping::event(object) {
        Some(event) if ctx.first_sighting(&event.key) => {
            ctx.out.relationships.extend(mapping::event_links(object, &event.key));
            ctx.out.entities.push(event);
        }
        Some(_) => {}
        None => logging::warn("skipped an event without a numeric id"),
    }
}
