//! Events: `GET /api/1/events?since=…&until=…` (v1, 50 a page), since the
//! checkpoint or over the configured lookback; opt-in (its cost grows with
//! every event a tenant logs). The instance also collects the last login per
//! (user, app) for the users phase, so `app_logins` reads nothing more.

use crate::client::pagination::PageCursor;
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::logging;
use crate::sync::cache::Collecting;
use crate::sync::joins;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::EVENT;

/// The `events` kind.
pub static EVENTS: KindSpec = KindSpec {
    name: "events",
    description: "Every event since the checkpoint (first sync: the configured lookback) as an entity; incremental \
                  syncs also refresh the users events name. Opt-in: a real tenant logs several events per user per \
                  day.",
    cost: "1 call per 50 events in the window (e.g. 10,000 users with 5 events a day over 90 days: 90,000 calls, \
           18 hours of the 5,000/h v1 budget)",
    calls_per_user: 0,
    default_selected: false,
    requires: &[],
};

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "events",
    declares: &[Kind(&EVENTS)],
    feeds: &[Kind(&EVENTS)],
    enter: |state| state.pending(Kind(&EVENTS)),
    entities: &[&EVENT],
    relationships: &[],
};

/// One page of events.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let Some((since, until)) = joins::event_window(ctx) else {
        return Err(Error::unexpected(200, "the token response", "a Date header, to set the event window"));
    };
    let window = [("since", since.as_str()), ("until", until.as_str())];
    let page = ctx.client.page(&joins::events_list(&window), &at.page)?;
    let mut join = Collecting::resume(&mut ctx.cache.events_collecting, &at.page, &PageCursor::first());
    for object in &page.items {
        match mapping::event(object) {
            Some(event) if ctx.first_sighting(&event.key) => ctx.out.entities.push(event),
            Some(_) => {}
            None => logging::warn("skipped an event without a numeric id"),
        }
        if let Some(join) = join.as_mut() {
            join.add(object);
        }
    }
    if let Some(join) = join {
        match &page.next {
            Some(next) => ctx.cache.events_collecting = Some(Collecting { position: next.clone(), so_far: join }),
            None => ctx.cache.events = Some(join),
        }
    }
    Ok(StepOutcome::then(page.next.map(Position::at_page), page.items.len()))
}
