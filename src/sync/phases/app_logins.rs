//! App logins: `GET /api/1/events?event_type_id=8&since=…&until=…` (v1, 50 a
//! page): only the "user logged in to app" events (type 8: docs events
//! `event_type_id` filter; FIDELITY.md F-EVT-9), since the checkpoint or over
//! the configured lookback, for the last login per (user, app) on the users'
//! application grants. Its cost scales with app logins, not with every event.
//! When the `events` kind is selected too, its phase reads every event
//! anyway and this one reads nothing. A full sync reads a long window in
//! time slices side by side, as the events phase does (`lanes.rs`).
//!
//! Opt-in: a real tenant logs several app logins per active user per day, so
//! a 90-day lookback over 10,000 users is tens of thousands of v1 calls.

use crate::client::transport::Transport;
use crate::error::Result;
use crate::sync::kinds::Kind;
use crate::sync::lanes;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};

use super::events::EVENTS;
use super::users::APP_LOGINS;

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "app_logins",
    declares: &[Kind(&APP_LOGINS)],
    feeds: &[Kind(&APP_LOGINS)],
    enter: |state| state.pending(Kind(&APP_LOGINS)) && !state.selected(Kind(&EVENTS)),
    entities: &[],
    relationships: &[],
};

/// One step of app logins: the window's first page; then, on a full sync
/// whose window has many pages, one page of each time slice (lane) at once,
/// as the events phase reads (see `lanes.rs`).
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    lanes::step(ctx, at, &lanes::APP_LOGINS, |_, _| {})
}
