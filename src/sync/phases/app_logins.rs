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
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};

use super::events::EVENTS;
use super::apps::APPS;
use super::roles::ROLES;
use super::users::{USERS, USER_APPS};

/// The `app_logins` kind.
pub static APP_LOGINS: KindSpec = KindSpec {
    name: "app_logins",
    description: "Each user's last login per application (`last_login` on user-to-application grants), from the \
                  login-to-app events since the checkpoint (first sync: the configured lookback).",
    cost: "1 call per 50 app logins in the window, none when `events` is selected (e.g. 10,000 users with 3 a day \
           over 90 days: 54,000 calls, 11 hours of the 5,000/h v1 budget)",
    calls_per_user: 0,
    default_selected: false,
    // With what `user_apps` requires: a selection adds one level of requirements.
    requires: &[Kind(&USERS), Kind(&ROLES), Kind(&APPS), Kind(&USER_APPS)],
};

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
