//! Events (v1 only): `GET /api/1/events`, `GET /api/1/events/types`,
//! `GET /api/1/events/{id}`.
//!
//! `GET /api/1/events` answers the v1 envelope `{status, pagination, data:[Event]}`
//! with at most [`limits::EVENTS`] (50, also the default) events per page. Query:
//! `since` (inclusive) and `until` (exclusive), ISO8601 with or without milliseconds
//! (`2026-11-23T12:00:00Z`, `…:00.000Z`, a bare date); `event_type_id` (CSV);
//! `user_id`; `limit`; `after_cursor` / `before_cursor` (opaque key-set cursors on the
//! event id, from `pagination.after_cursor` / `before_cursor`); `sort` = `+id`
//! (default; an unencoded `+` arrives as a space and is accepted) or `-id`. The other
//! documented search parameters (docs get-events; py-sdk `get_events`): `id`,
//! `created_at` (an ISO8601 instant: events created then), `client_id`,
//! `directory_id` (integers) and `resolution` (text) keep the events whose field
//! equals the value; `fields` (CSV) projects each item (`id` always kept, as on v1
//! users). The simulator's events carry no `client_id`, `directory_id` or
//! `resolution` (null), so a filter on them answers no events.
//! `pagination.after_cursor` / `next_link` are null on the last page;
//! `before_cursor` / `previous_link` are set on every page reached through a cursor.
//! (Assumption, FIDELITY.md F-EVT-2, F-EVT-3, F-EVT-4: bound inclusiveness, exact
//! equality of the search parameters, a malformed value → 400 "x is invalid",
//! `before_cursor` semantics.)
//!
//! Event items carry every py-sdk `Event` field (null where irrelevant). Assumption (FIDELITY.md F-EVT-6):
//! the py-sdk model reads the app and group names from keys `app-name` and
//! `group-name` while OneLogin's docs and third-party models use `app_name` and
//! `group_name`; items carry both spellings.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::{parse_id, project};
use crate::simulator::app_logins::LoginHistory;
use crate::simulator::errors::{json_response, v1_bad_request, v1_not_found, v1_success_status};
use crate::simulator::events::{event_time_of, Event, EVENT_LOGGED_INTO_APP, EVENT_TYPES};
use crate::simulator::pagination::{encode_v1_cursor, v1_page_response, v1_request, Params, V1Cursor};
use crate::simulator::tenant::parse_iso_millis;
use crate::simulator::{limits, lock, Shared};

/// The events routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/1/events", get(list))
        .route("/api/1/events/types", get(types))
        .route("/api/1/events/{id}", get(get_one))
}

/// The py-sdk `Event` fields (plus `directory_id`, `resolution`, `operation_name`
/// from the docs' sample) that the simulator always leaves null.
const NULL_FIELDS: [&str; 37] = [
    "assuming_acting_user_id",
    "assumed_by_superadmin_or_reseller",
    "group_id",
    "group_name",
    "group-name",
    "policy_id",
    "policy_name",
    "policy_type",
    "privilege_id",
    "proxy_ip",
    "notes",
    "custom_message",
    "param",
    "object_id",
    "mapping_id",
    "adc_id",
    "certificate_id",
    "client_id",
    "directory_id",
    "directory_sync_run_id",
    "service_directory_id",
    "trusted_idp_id",
    "radius_config_id",
    "resource_type_id",
    "user_field_id",
    "error_description",
    "resolution",
    "resolved_at",
    "solved",
    "risk_score",
    "risk_reasons",
    "risk_cookie_id",
    "operation_name",
    "otp_device_id",
    "otp_device_name",
    "role_id",
    "role_name",
];

/// An event as JSON (every py-sdk `Event` field).
pub fn event_json(e: &Event, account_id: u64) -> Value {
    let mut v = json!({
        "id": e.id,
        "created_at": e.created_at(),
        "account_id": account_id,
        "event_type_id": e.event_type_id,
        "user_id": e.user_id,
        "user_name": e.user_name.as_deref(),
        "actor_user_id": e.actor_user_id,
        "actor_user_name": e.actor_user_name.as_deref(),
        "actor_system": e.actor_system,
        "app_id": e.app_id,
        "app_name": e.app_name.as_deref(),
        "app-name": e.app_name.as_deref(),
        "ipaddr": e.ipaddr,
    });
    if let Value::Object(obj) = &mut v {
        for name in NULL_FIELDS {
            obj.insert(name.to_string(), Value::Null);
        }
        obj.insert("role_id".into(), json!(e.role_id));
        obj.insert("role_name".into(), json!(e.role_name.as_deref()));
        obj.insert("otp_device_id".into(), json!(e.otp_device_id));
        obj.insert("otp_device_name".into(), json!(e.otp_device_name));
    }
    v
}

/// The `GET /api/1/events` filters.
struct EventFilter {
    /// The window asked for (`since`, `until`).
    since: i64,
    until: i64,
    /// The window searched: the one asked for, narrowed to the `created_at` instant.
    from: i64,
    to: i64,
    types: Option<Vec<u32>>,
    user_id: Option<u64>,
    id: Option<u64>,
    /// A `client_id`, `directory_id` or `resolution` filter: no event here carries one.
    on_absent_field: bool,
    descending: bool,
}

impl EventFilter {
    fn from_params(p: &Params) -> Result<EventFilter, Response> {
        let bad = |name: &str| v1_bad_request(&format!("{name} is invalid"));
        let time = |name: &str| -> Result<Option<i64>, Response> {
            p.get(name).map(|v| parse_iso_millis(v).ok_or_else(|| bad(name))).transpose()
        };
        let num = |name: &str| -> Result<Option<u64>, Response> {
            p.get(name).map(|v| v.trim().parse::<u64>().map_err(|_| bad(name))).transpose()
        };
        let types = match p.get("event_type_id") {
            Some(csv) => {
                let mut v = Vec::new();
                for part in csv.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    v.push(part.parse::<u32>().map_err(|_| bad("event_type_id"))?);
                }
                Some(v)
            }
            None => None,
        };
        let descending = match p.get("sort").map(str::trim) {
            None | Some("") | Some("+id") | Some("id") => false,
            Some("-id") => true,
            Some(_) => return Err(bad("sort")),
        };
        let (since, until) = (time("since")?.unwrap_or(i64::MIN), time("until")?.unwrap_or(i64::MAX));
        let created_at = time("created_at")?;
        let (client_id, directory_id) = (num("client_id")?, num("directory_id")?);
        let on_absent_field = client_id.is_some() || directory_id.is_some() || p.get("resolution").is_some();
        Ok(EventFilter {
            since,
            until,
            from: created_at.map_or(since, |t| t.max(since)),
            to: created_at.map_or(until, |t| t.saturating_add(1).min(until)),
            types,
            user_id: num("user_id")?,
            id: num("id")?,
            on_absent_field,
            descending,
        })
    }

    fn matches(&self, e: &Event) -> bool {
        !self.on_absent_field
            && self.types.as_ref().is_none_or(|t| t.contains(&e.event_type_id))
            && self.user_id.is_none_or(|u| e.user_id == Some(u))
            && self.id.is_none_or(|i| e.id == i)
    }
}

/// Up to `limit` matching stored events, scanning from index `from` in steps of
/// `forward ? +1 : -1`, and whether another match lies beyond them.
fn scan(events: &[Event], from: isize, forward: bool, limit: usize, f: &EventFilter) -> (Vec<Event>, bool) {
    let mut out = Vec::new();
    let mut i = from;
    while i >= 0 && (i as usize) < events.len() {
        if f.matches(&events[i as usize]) {
            if out.len() == limit {
                return (out, true);
            }
            out.push(events[i as usize].clone());
        }
        i += if forward { 1 } else { -1 };
    }
    (out, false)
}

/// Up to `limit` matching generated app logins of the window whose ids lie beyond
/// `past` (exclusive) in the walk's direction, walking day by day; and whether
/// another match lies beyond them. Nothing when the filter excludes type 8.
fn scan_logins(
    logins: &LoginHistory,
    f: &EventFilter,
    past: Option<u64>,
    forward: bool,
    limit: usize,
) -> (Vec<Event>, bool) {
    if f.on_absent_field || f.types.as_ref().is_some_and(|t| !t.contains(&EVENT_LOGGED_INTO_APP)) {
        return (Vec::new(), false);
    }
    let mut days = logins.days_between(f.from, f.to);
    if let Some(id) = f.id {
        // Only the day the id's time falls in (as `GET /api/1/events/{id}` looks).
        let day = logins.day_of(event_time_of(id));
        let start = day.max(days.start);
        days = start..(day + 1).min(days.end).max(start);
    }
    if let Some(id) = past {
        let day = logins.day_of(event_time_of(id));
        days = if forward { day.max(days.start)..days.end } else { days.start..(day + 1).min(days.end) };
    }
    let beyond = |e: &Event| past.is_none_or(|p| if forward { e.id > p } else { e.id < p });
    let mut out = Vec::new();
    let ordered: Box<dyn Iterator<Item = i64>> = if forward { Box::new(days) } else { Box::new(days.rev()) };
    for day in ordered {
        let mut events = logins.day(day);
        if !forward {
            events.reverse();
        }
        for e in events {
            let in_window = e.created_at_ms >= f.from && e.created_at_ms < f.to;
            if in_window && beyond(&e) && f.matches(&e) {
                if out.len() == limit {
                    return (out, true);
                }
                out.push(e);
            }
        }
    }
    (out, false)
}

/// `GET /api/1/events`: the stored events and the generated app logins of the
/// window, merged by id.
// Long: the six cursor/sort cases over two sources, then one merge.
async fn list(State(sim): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let (limit, cursor) = match v1_request(&params, limits::EVENTS) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let filter = match EventFilter::from_params(&params) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut st = lock(&sim);
    st.event_windows.insert((filter.since, filter.until));
    let st = st;
    let account_id = st.tenant.account_id;
    let events = st.tenant.events_between(filter.from, filter.to);
    let below = |x: u64| events.partition_point(|e| e.id < x) as isize; // first index with id >= x
    let above = |x: u64| events.partition_point(|e| e.id <= x) as isize; // first index with id > x
    let desc = filter.descending;
    // The walk: from where, in which id direction, and whether it goes in sort order
    // (first page or after a cursor) or against it (before a cursor).
    let (start, past, ascending, toward_after) = match (cursor, desc) {
        (V1Cursor::Start, false) => (0, None, true, true),
        (V1Cursor::Start, true) => (events.len() as isize - 1, None, false, true),
        (V1Cursor::After(x), false) => (above(x), Some(x), true, true),
        (V1Cursor::After(x), true) => (below(x) - 1, Some(x), false, true),
        (V1Cursor::Before(x), false) => (below(x) - 1, Some(x), false, false),
        (V1Cursor::Before(x), true) => (above(x), Some(x), true, false),
    };
    let (stored, more_stored) = scan(events, start, ascending, limit, &filter);
    let (logins, more_logins) = scan_logins(&st.tenant.app_logins, &filter, past, ascending, limit);
    let mut page: Vec<Event> = stored.into_iter().chain(logins).collect();
    page.sort_unstable_by_key(|e| if ascending { e.id as i128 } else { -(e.id as i128) });
    let more = more_stored || more_logins || page.len() > limit;
    page.truncate(limit);
    if !toward_after {
        page.reverse();
    }
    let first = page.first().map(|e| e.id);
    let last = page.last().map(|e| e.id);
    let (after, before) = if toward_after {
        (last.filter(|_| more), first.filter(|_| cursor != V1Cursor::Start))
    } else {
        (last, first.filter(|_| more))
    };
    let after = after.map(|id| encode_v1_cursor(account_id, id));
    let before = before.map(|id| encode_v1_cursor(account_id, id));
    let fields = params.get("fields");
    let data: Vec<Value> = page.iter().map(|e| project(event_json(e, account_id), fields)).collect();
    v1_page_response(data, before, after, &params, &format!("{}/api/1/events", st.base_url))
}

/// `GET /api/1/events/types` → `data: [{id, name, description}]` (not paginated).
async fn types() -> Response {
    let data: Vec<Value> = EVENT_TYPES
        .iter()
        .map(|(id, name, description)| json!({"id": id, "name": name, "description": description}))
        .collect();
    json_response(StatusCode::OK, &json!({"status": v1_success_status(), "data": data}))
}

/// `GET /api/1/events/{id}`.
///
/// Assumption (FIDELITY.md F-EVT-7): `data` is the event object itself, as the py-sdk
/// `GetEventById200Response` model says (other v1 by-id reads return a one-element
/// array).
async fn get_one(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let st = lock(&sim);
    let found = parse_id(&id).and_then(|n| match st.tenant.events.binary_search_by_key(&n, |e| e.id) {
        Ok(k) => Some(st.tenant.events[k].clone()),
        Err(_) => {
            let logins = &st.tenant.app_logins;
            logins.day(logins.day_of(event_time_of(n))).into_iter().find(|e| e.id == n)
        }
    });
    match found {
        Some(e) => json_response(
            StatusCode::OK,
            &json!({"status": v1_success_status(), "data": event_json(&e, st.tenant.account_id)}),
        ),
        None => v1_not_found(&format!("Event for id {id} was not found")),
    }
}
