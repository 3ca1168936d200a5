//! App logins: `GET /api/1/events?event_type_id=8&since=…&until=…` (v1, 50 a
//! page): only the "user logged in to app" events (type 8: docs events
//! `event_type_id` filter; FIDELITY.md F-EVT-9), since the checkpoint or over
//! the configured lookback, for the last login per (user, app) on the users'
//! application grants. Its cost scales with app logins, not with every event.
//! When the `events` kind is selected too, its phase reads every event
//! anyway and this one reads nothing.
//!
//! Opt-in: a real tenant logs several app logins per active user per day, so
//! a 90-day lookback over 10,000 users is tens of thousands of v1 calls.

use crate::client::pagination::PageCursor;
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::sync::cache::Collecting;
use crate::sync::joins;
use crate::sync::kinds::Kind;
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

/// One page of app logins.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let Some((since, until)) = joins::event_window(ctx) else {
        return Err(Error::unexpected(200, "the token response", "a Date header, to set the event window"));
    };
    let window = joins::app_login_filters(&since, &until);
    let page = ctx.client.page(&joins::events_list(&window), &at.page)?;
    let mut join = Collecting::resume(&mut ctx.cache.app_logins_collecting, &at.page, &PageCursor::first());
    if let Some(join) = join.as_mut() {
        for object in &page.items {
            join.add(object);
        }
    }
    if let Some(join) = join {
        match &page.next {
            Some(next) => ctx.cache.app_logins_collecting = Some(Collecting { position: next.clone(), so_far: join }),
            None => ctx.cache.app_logins = Some(join),
        }
    }
    Ok(StepOutcome::then(page.next.map(Position::at_page), page.items.len()))
}
