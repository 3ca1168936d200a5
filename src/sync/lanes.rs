//! An events window (`GET /api/1/events?since=…&until=…`, v1, 50 a page)
//! read in time slices side by side: the `events` phase (every event) and
//! the `app_logins` phase (type 8 only) both read theirs this way, and
//! collect an [`EventJoin`] as they go.
//!
//! v1 pages follow cursors one after another, so a long window is a long
//! chain of calls. On a full sync the window's first page says how densely
//! it is filled (its events span from the window's start to its last one);
//! the rest of the window is cut into up to [`MAX_LANES`] slices of about
//! equal expected size ([`event_slices`]), each a [`Lane`] of the step's
//! [`Position`] following its own cursor chain, one page of every lane read
//! together through the client's sliding window. Events up to the first
//! page's last id are left out of the first slice (they were read), so
//! nothing is taken in twice. The lanes are in the cursor, so a fresh
//! instance resumes them where they stand.

use serde_json::Value;

use super::cache::{Collecting, EventJoin, SyncCache};
use super::step::{Ctx, Lane, Position, StepOutcome};
use crate::client::pagination::{self, fingerprint, page_size, List, PageCursor};
use crate::client::transport::Transport;
use crate::error::{Error, Result};
use crate::vocabulary::id_value;

/// At most this many time slices of an events window are read in parallel.
pub const MAX_LANES: usize = 8;
/// A slice gets about this many pages at least (each slice may end on a
/// part-filled page: one call more than reading the window in one chain).
const PAGES_PER_LANE: i64 = 3;

/// What a phase reads of the events window, and where it collects the join.
pub struct EventRead {
    /// Filters besides the window (`since`, `until`), e.g. the event type.
    pub filters: &'static [(&'static str, &'static str)],
    /// The join being collected, keyed by the [`key`] of the position the
    /// next step starts at.
    pub collecting: fn(&mut SyncCache) -> &mut Option<Collecting<u64, EventJoin>>,
    /// The join, once the whole window was read by this instance.
    pub collected: fn(&mut SyncCache) -> &mut Option<EventJoin>,
}

/// Every event, collected into `events` (the events phase's read).
pub const EVENTS: EventRead =
    EventRead { filters: &[], collecting: |cache| &mut cache.events_collecting, collected: |cache| &mut cache.events };

/// The app logins only (`event_type_id=8`), collected into `app_logins`
/// (the app logins phase's read).
pub const APP_LOGINS: EventRead = EventRead {
    filters: &[APP_LOGIN_FILTER],
    collecting: |cache| &mut cache.app_logins_collecting,
    collected: |cache| &mut cache.app_logins,
};

/// The filter of the app-login read besides the window.
const APP_LOGIN_FILTER: (&str, &str) = ("event_type_id", APP_LOGIN_TYPE);

/// [`super::cache::EVENT_APP_LOGIN`] as a query value.
const APP_LOGIN_TYPE: &str = "8";

/// The `since`/`until` bounds of the events window as ISO 8601 texts, or
/// `None` when the start time is unknown (no `Date` header seen).
fn event_window<T: Transport>(ctx: &Ctx<'_, T>) -> Option<(String, String)> {
    let (since, until) = event_bounds(ctx)?;
    Some((crate::time::iso(since), crate::time::iso(until)))
}

/// [`event_window`] in unix seconds: since the checkpoint, or over the
/// configured lookback; until the sync's start.
fn event_bounds<T: Transport>(ctx: &Ctx<'_, T>) -> Option<(i64, i64)> {
    let t0 = ctx.state.plan.t0?;
    let lookback = i64::from(ctx.client.config().event_lookback_days).saturating_mul(86_400);
    Some((ctx.state.plan.since.unwrap_or(t0.saturating_sub(lookback)), t0))
}

/// The events list of the window (and any other filters).
fn events_list<'a>(window: &'a [(&'a str, &'a str)]) -> List<'a> {
    List::v1("/api/1/events", page_size::EVENTS).with_filters(window)
}

/// The whole window of `read`, read in this one step into its join (as
/// its phase reads it: in time slices side by side on a full sync), and
/// nothing emitted: what an instance that resumed a sync from a cursor reads
/// again (`joins.rs`). Without a start time the join is empty.
pub fn read_whole<T: Transport>(ctx: &mut Ctx<'_, T>, read: &EventRead) -> Result<()> {
    if event_bounds(ctx).is_none() {
        *(read.collected)(ctx.cache) = Some(EventJoin::default());
        return Ok(());
    }
    *(read.collecting)(ctx.cache) = None;
    let mut at = Position::start();
    while let Some(next) = step(ctx, &at, read, |_, _| {})?.next {
        at = next;
    }
    Ok(())
}

/// One step of reading the events window: its first page (or the page of
/// the one chain at `at`); or, once a full sync cut the window into lanes,
/// one page of every lane at once. `each` is called with every event taken
/// in (once each), before it is added to the join.
pub fn step<T: Transport, F>(ctx: &mut Ctx<'_, T>, at: &Position, read: &EventRead, mut each: F) -> Result<StepOutcome>
where
    F: FnMut(&mut Ctx<'_, T>, &Value),
{
    let (Some((since, until)), Some((since_at, until_at))) = (event_window(ctx), event_bounds(ctx)) else {
        return Err(Error::unexpected(200, "the token response", "a Date header, to set the event window"));
    };
    let mut join = Collecting::resume((read.collecting)(ctx.cache), &key(at), &key(&Position::start()));
    if !at.lanes.is_empty() {
        return lanes_step(ctx, at, read, join, each);
    }
    let window = filters(&since, &until, read.filters);
    let page = ctx.client.page(&events_list(&window), &at.page)?;
    let last_id = take_in(ctx, &page.items, 0, join.as_mut(), &mut each);
    let taken = page.items.len();
    let lanes = match (&page.next, *at == Position::start() && ctx.state.plan.since.is_none()) {
        (Some(_), true) => slices(ctx, &page.items, since_at, until_at, last_id),
        _ => Vec::new(),
    };
    let next = match (lanes.is_empty(), page.next) {
        (false, _) => Some(Position { lanes, ..Position::default() }),
        (true, Some(next)) => Some(Position::at_page(next)),
        (true, None) => None,
    };
    Ok(keep(ctx, read, next, join, taken))
}

/// `since`, `until` and the other filters, in the order the query names them.
fn filters<'a>(since: &'a str, until: &'a str, other: &'a [(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("since", since), ("until", until)];
    all.extend_from_slice(other);
    all
}

/// One page of every lane at `at`, read together.
fn lanes_step<T: Transport, F>(
    ctx: &mut Ctx<'_, T>,
    at: &Position,
    read: &EventRead,
    mut join: Option<EventJoin>,
    mut each: F,
) -> Result<StepOutcome>
where
    F: FnMut(&mut Ctx<'_, T>, &Value),
{
    let bounds: Vec<(String, String)> =
        at.lanes.iter().map(|lane| (crate::time::iso(lane.since), crate::time::iso(lane.until))).collect();
    let windows: Vec<Vec<(&str, &str)>> =
        bounds.iter().map(|(since, until)| filters(since, until, read.filters)).collect();
    let lists: Vec<List<'_>> = windows.iter().map(|window| events_list(window)).collect();
    let paths: Vec<String> = lists.iter().zip(&at.lanes).map(|(list, lane)| list.path_and_query(&lane.at)).collect();
    let results = ctx.client.get_json_many(&paths);
    let mut lanes = Vec::new();
    let mut taken = 0;
    for ((lane, list), result) in at.lanes.iter().zip(&lists).zip(results) {
        let (response, body) = result?;
        let page = pagination::parse_page(list, &lane.at, &response, body)?;
        taken += page.items.len();
        take_in(ctx, &page.items, lane.after_id, join.as_mut(), &mut each);
        if let Some(next) = page.next {
            lanes.push(Lane { at: next, ..lane.clone() });
        }
    }
    let next = (!lanes.is_empty()).then(|| Position { lanes, ..Position::default() });
    Ok(keep(ctx, read, next, join, taken))
}

/// Take in the events of a page with ids above `after_id` (each once):
/// `each`, then the join. The largest id seen.
fn take_in<T: Transport, F>(
    ctx: &mut Ctx<'_, T>,
    items: &[Value],
    after_id: u64,
    mut join: Option<&mut EventJoin>,
    each: &mut F,
) -> u64
where
    F: FnMut(&mut Ctx<'_, T>, &Value),
{
    let mut last = 0;
    for object in items {
        let id = object.get("id").and_then(id_value).unwrap_or(0);
        last = last.max(id);
        if id != 0 && id <= after_id {
            continue;
        }
        each(ctx, object);
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
/// an events window `[since, until)` (unix seconds; each slice `since`
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

/// Where a read of the window stands, as a key for its join.
fn key(at: &Position) -> u64 {
    fingerprint(&serde_json::to_string(at).unwrap_or_default())
}

/// Keep collecting the join towards `next` (or finish it), and go on there.
fn keep<T: Transport>(
    ctx: &mut Ctx<'_, T>,
    read: &EventRead,
    next: Option<Position>,
    join: Option<EventJoin>,
    taken: usize,
) -> StepOutcome {
    if let Some(join) = join {
        match &next {
            Some(next) => *(read.collecting)(ctx.cache) = Some(Collecting { position: key(next), so_far: join }),
            None => *(read.collected)(ctx.cache) = Some(join),
        }
    }
    StepOutcome::then(next, taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_login_filter_names_the_app_login_type() {
        assert_eq!(APP_LOGIN_TYPE, super::super::cache::EVENT_APP_LOGIN.to_string());
        let filters = filters("a", "b", APP_LOGINS.filters);
        let query = events_list(&filters).path_and_query(&PageCursor::first());
        assert!(query.ends_with("&since=a&until=b&event_type_id=8"), "{query}");
        assert!(EVENTS.filters.is_empty(), "the events phase reads every type");
    }

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
