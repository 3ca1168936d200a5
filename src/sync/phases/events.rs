//! Events: `GET /api/1/events?since=…&until=…` (v1, 50 a page), since the
//! checkpoint or over the configured lookback; opt-in (its cost grows with
//! every event a tenant logs). The instance also collects the last login per
//! (user, app) for the users phase, so `app_logins` reads nothing more.

use serde_json::Value;

use crate::client::pagination::{self, fingerprint, List, PageCursor};
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::logging;
use crate::sync::cache::{Collecting, EventJoin};
use crate::sync::joins;
use crate::identity::connector::types::AccessLevel;
use crate::sync::kinds::{Kind, KindSpec};
use crate::sync::mapping;
use crate::sync::step::{Ctx, Lane, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{id_value, RelationshipType, APPLICATION, EVENT, HAS, USER};

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

/// At most this many time slices of the events window are read in parallel.
pub const MAX_LANES: usize = 8;
/// A slice gets about this many pages at least (each slice may end on a
/// part-filled page: one call more than reading the window in one chain).
const PAGES_PER_LANE: i64 = 3;

/// One step of events: the window's first page; then, on a full sync whose
/// window has many pages, one page of each time slice (lane) at once.
///
/// v1 pages follow cursors one after another, so a long window is a long
/// chain of calls. The first page says how densely the window is filled (its
/// events span from the window's start to its last one); the rest of the
/// window is cut into up to [`MAX_LANES`] slices of about equal expected
/// size, read side by side. Events up to the first page's last id are left
/// out of the first slice (they were read), so nothing is emitted twice.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position) -> Result<StepOutcome> {
    let (Some((since, until)), Some((since_at, until_at))) = (joins::event_window(ctx), joins::event_bounds(ctx)) else {
        return Err(Error::unexpected(200, "the token response", "a Date header, to set the event window"));
    };
    let start_key = key(&Position::start());
    let mut join = Collecting::resume(&mut ctx.cache.events_collecting, &key(at), &start_key);
    if !at.lanes.is_empty() {
        return lanes_step(ctx, at, join);
    }
    let window = [("since", since.as_str()), ("until", until.as_str())];
    let page = ctx.client.page(&joins::events_list(&window), &at.page)?;
    let last_id = emit(ctx, &page.items, 0, join.as_mut());
    let read = page.items.len();
    let lanes = match (&page.next, *at == Position::start() && ctx.state.plan.since.is_none()) {
        (Some(_), true) => slices(ctx, &page.items, since_at, until_at, last_id),
        _ => Vec::new(),
    };
    let next = match (lanes.is_empty(), page.next) {
        (false, _) => Some(Position { lanes, ..Position::default() }),
        (true, Some(next)) => Some(Position::at_page(next)),
        (true, None) => None,
    };
    Ok(keep(ctx, next, join, read))
}

/// One page of every lane at `at`, read together.
fn lanes_step<T: Transport>(ctx: &mut Ctx<'_, T>, at: &Position, mut join: Option<EventJoin>) -> Result<StepOutcome> {
    let bounds: Vec<(String, String)> =
        at.lanes.iter().map(|lane| (crate::time::iso(lane.since), crate::time::iso(lane.until))).collect();
    let windows: Vec<[(&str, &str); 2]> =
        bounds.iter().map(|(since, until)| [("since", since.as_str()), ("until", until.as_str())]).collect();
    let lists: Vec<List<'_>> = windows.iter().map(|window| joins::events_list(window)).collect();
    let paths: Vec<String> = lists.iter().zip(&at.lanes).map(|(list, lane)| list.path_and_query(&lane.at)).collect();
    let results = ctx.client.get_json_many(&paths);
    let mut lanes = Vec::new();
    let mut read = 0;
    for ((lane, list), result) in at.lanes.iter().zip(&lists).zip(results) {
        let (response, body) = result?;
        let page = pagination::parse_page(list, &lane.at, &response, body)?;
        read += page.items.len();
        emit(ctx, &page.items, lane.after_id, join.as_mut());
        if let Some(next) = page.next {
            lanes.push(Lane { at: next, ..lane.clone() });
        }
    }
    let next = (!lanes.is_empty()).then(|| Position { lanes, ..Position::default() });
    Ok(keep(ctx, next, join, read))
}

/// Emit the events of a page with ids above `after_id` (each once), add
/// them to the join; the largest id seen.
fn emit<T: Transport>(ctx: &mut Ctx<'_, T>, items: &[Value], after_id: u64, mut join: Option<&mut EventJoin>) -> u64 {
    let mut last = 0;
    for object in items {
        let id = object.get("id").and_then(id_value).unwrap_or(0);
        last = last.max(id);
        if id != 0 && id <= after_id {
            continue;
        }
        match mapping::event(object) {
            Some(event) if ctx.first_sighting(&event.key) => {
                ctx.out.relationships.extend(mapping::event_links(object, &event.key));
                ctx.out.entities.push(event);
            }
            Some(_) => {}
            None => logging::warn("skipped an event without a numeric id"),
        }
        if let Some(join) = join.as_deref_mut() {
            join.add(object);
        }
    }
    last
}

/// The lanes for the rest of the window after a first page: from the
/// second of its last event to `until`, cut by the density the page shows.
fn slices<T: Transport>(ctx: &Ctx<'_, T>, first: &[Value], since: i64, until: i64, last_id: u64) -> Vec<Lane> {
    let last_at = first
        .iter()
        .filter_map(|event| event.get("created_at").and_then(Value::as_str).and_then(crate::time::parse_iso))
        .max();
    event_slices(since, until, last_at, ctx.concurrency())
        .into_iter()
        .map(|(since, until)| Lane { since, until, at: PageCursor::first(), after_id: last_id })
        .collect()
}

/// The time slices a full sync reads side by side after the first page of
/// the events window `[since, until)` (unix seconds; each slice `since`
/// inclusive, `until` exclusive), given `last_at`, the time (whole seconds)
/// of the latest event on that first page, and the sync's concurrency.
/// Empty: the rest of the window is read in one chain of pages.
///
/// The first page filled `last_at - since` seconds; the rest of the window,
/// `[last_at, until)`, is expected to need `(until - last_at) / (last_at -
/// since)` pages and is cut into that / [`PAGES_PER_LANE`] slices of equal
/// length (at most [`MAX_LANES`] and the concurrency; fewer than 2 is no
/// slicing), the last one ending at `until`. Deterministic, so a cost
/// formula can follow it (`host_test::bench::minimum_terms` calls it).
pub fn event_slices(since: i64, until: i64, last_at: Option<i64>, concurrency: usize) -> Vec<(i64, i64)> {
    let Some(from) = last_at.filter(|t| *t > since && *t < until) else { return Vec::new() };
    let expected_pages = (until - from) / (from - since).max(1);
    let lanes = usize::try_from(expected_pages / PAGES_PER_LANE).unwrap_or(0).min(MAX_LANES).min(concurrency);
    if lanes < 2 {
        return Vec::new();
    }
    let count = i64::try_from(lanes).unwrap_or(1);
    let span = (until - from) / count;
    (0..count)
        .map(|k| {
            let lane_since = from + k * span;
            (lane_since, if k + 1 == count { until } else { lane_since + span })
        })
        .collect()
}

/// Where the events join of this instance stands, as a key.
fn key(at: &Position) -> u64 {
    fingerprint(&serde_json::to_string(at).unwrap_or_default())
}

/// Keep collecting the join towards `next` (or finish it), and go on there.
fn keep<T: Transport>(ctx: &mut Ctx<'_, T>, next: Option<Position>, join: Option<EventJoin>, read: usize) -> StepOutcome {
    if let Some(join) = join {
        match &next {
            Some(next) => ctx.cache.events_collecting = Some(Collecting { position: key(next), so_far: join }),
            None => ctx.cache.events = Some(join),
        }
    }
    StepOutcome::then(next, read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_follow_the_first_pages_density_and_cover_the_rest_of_the_window() {
        // The first page spans 10 s of a 1000 s window: ~99 pages left, 33
        // slices by density, capped at the concurrency (here 4).
        let slices = event_slices(0, 1000, Some(10), 4);
        assert_eq!(slices, vec![(10, 257), (257, 504), (504, 751), (751, 1000)]);
        // Capped at MAX_LANES.
        assert_eq!(event_slices(0, 1000, Some(10), 64).len(), MAX_LANES);
        // Too few pages left to be worth slicing, or a last event outside the window.
        assert!(event_slices(0, 1000, Some(400), 8).is_empty());
        assert!(event_slices(0, 1000, None, 8).is_empty());
        assert!(event_slices(0, 1000, Some(0), 8).is_empty());
        assert!(event_slices(0, 1000, Some(1000), 8).is_empty());
        // Concurrency 1 never slices.
        assert!(event_slices(0, 1000, Some(10), 1).is_empty());
    }
}
