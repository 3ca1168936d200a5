//! Events (`GET /api/1/events`): the one dataset relative to the wall clock.
//!
//! [`Tenant::generate_events`] (called by `Simulator::start`, never by
//! [`Tenant::generate`]) fills [`Tenant::events`] from its own rng seeded with (seed,
//! start time): about two events per user, spread over the 120 days before the start
//! (so some are older than a 90-day window), of the types 5 (logged into OneLogin), 8
//! (logged into an app the user can use), 14 (user updated) and 4 (assigned a role);
//! for N >= 20 each type occurs. Ids increase with `created_at`.
//! Assumption (FIDELITY.md F-EVT-10): this volume. App logins at real volume (several
//! per active user per day) come on top, generated lazily by [`super::app_logins`].
//!
//! Writes that change a user append an event naming it with `created_at` = now (see
//! [`Tenant::log_user_event`]): 13 created, 14 updated (also role removal, admin
//! changes, logout, password, state), 17 deleted, 4 assigned role, 12 unlocked, 19
//! locked, 24 OTP device removed. An incremental sync can thus find touched users.
//! Assumption (FIDELITY.md F-EVT-11): these types (real role removals likely log 148/150).

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::tenant::{iso_millis, now_millis, Tenant};

/// The smallest event id.
pub const EVENT_ID_BASE: u64 = 7_000_000_000;
/// Event ids follow time: [`event_id_at`] counts 16 ids per millisecond from here.
const EVENT_ID_EPOCH_MS: i64 = 1_514_764_800_000; // 2018-01-01
/// Ids per millisecond: slots 0..8 for the stored events, 8..16 for the lazily
/// generated app logins ([`super::app_logins`]), so the two never collide.
const IDS_PER_MS: u64 = 16;
/// The first id slot of the generated app logins.
pub const LOGIN_ID_SLOT: u64 = 8;

/// The first id of an event at `ms` in `slot` (ids grow with time, so events of
/// different sources interleave by id as by time).
pub fn event_id_at(ms: i64, slot: u64) -> u64 {
    EVENT_ID_BASE + (ms.saturating_sub(EVENT_ID_EPOCH_MS).max(0) as u64) * IDS_PER_MS + slot
}

/// The time (unix ms) of an event id (the inverse of [`event_id_at`]).
pub fn event_time_of(id: u64) -> i64 {
    EVENT_ID_EPOCH_MS + (id.saturating_sub(EVENT_ID_BASE) / IDS_PER_MS) as i64
}
/// How far back generated events go.
pub const EVENT_HISTORY_DAYS: i64 = 120;
const DAY_MS: i64 = 86_400_000;
/// The ChaCha stream of the event generator.
const EVENT_STREAM: u64 = 4;

/// `USER_ASSIGNED_ROLE`.
pub const EVENT_ASSIGNED_ROLE: u32 = 4;
/// `USER_LOGGED_INTO_ONELOGIN`.
pub const EVENT_LOGGED_IN: u32 = 5;
/// `USER_LOGGED_INTO_APP`.
pub const EVENT_LOGGED_INTO_APP: u32 = 8;
/// `UNLOCKED_USER`.
pub const EVENT_UNLOCKED: u32 = 12;
/// `CREATED_USER`.
pub const EVENT_CREATED: u32 = 13;
/// `UPDATED_USER`.
pub const EVENT_UPDATED: u32 = 14;
/// `DELETED_USER`.
pub const EVENT_DELETED: u32 = 17;
/// `USER_LOCKED`.
pub const EVENT_LOCKED: u32 = 19;
/// `USER_REMOVED_OTP_DEVICE`.
pub const EVENT_REMOVED_OTP_DEVICE: u32 = 24;

/// The event types the simulator uses: `(id, name, description)` for
/// `GET /api/1/events/types`.
///
/// Names of 4, 5 (legacy py-sdk test fixture), 12, 13, 17, 19, 24 (mattermost plugin)
/// are the documented ones. Assumption (FIDELITY.md F-EVT-9): `USER_LOGGED_INTO_APP` (8) and `UPDATED_USER`
/// (14) are our names for ids described elsewhere as "user logged in to app" and
/// "user updated"; the descriptions follow the `%user%` placeholder style.
pub const EVENT_TYPES: [(u32, &str, &str); 9] = [
    (EVENT_ASSIGNED_ROLE, "USER_ASSIGNED_ROLE", "Assigned %role% to user %user%"),
    (EVENT_LOGGED_IN, "USER_LOGGED_INTO_ONELOGIN", "%user% logged into OneLogin"),
    (EVENT_LOGGED_INTO_APP, "USER_LOGGED_INTO_APP", "%user% logged into %app%"),
    (EVENT_UNLOCKED, "UNLOCKED_USER", "%actor_user% unlocked %user%"),
    (EVENT_CREATED, "CREATED_USER", "%actor_user% created user %user%"),
    (EVENT_UPDATED, "UPDATED_USER", "%actor_user% updated %user%"),
    (EVENT_DELETED, "DELETED_USER", "%actor_user% deleted user %user%"),
    (EVENT_LOCKED, "USER_LOCKED", "%user% locked"),
    (EVENT_REMOVED_OTP_DEVICE, "USER_REMOVED_OTP_DEVICE", "%actor_user% removed %otp_device% from %user%"),
];

/// The types [`Tenant::generate_events`] draws from.
pub const GENERATED_EVENT_TYPES: [u32; 4] =
    [EVENT_LOGGED_IN, EVENT_LOGGED_INTO_APP, EVENT_UPDATED, EVENT_ASSIGNED_ROLE];

/// One event (the py-sdk `Event` fields the simulator fills; the others render null).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Event {
    pub id: u64,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    pub event_type_id: u32,
    pub user_id: Option<u64>,
    /// Names are shared (`Arc<str>`): generation makes ~2 events per user.
    pub user_name: Option<Arc<str>>,
    pub actor_user_id: Option<u64>,
    pub actor_user_name: Option<Arc<str>>,
    pub actor_system: Option<String>,
    pub app_id: Option<u64>,
    pub app_name: Option<Arc<str>>,
    pub role_id: Option<u64>,
    pub role_name: Option<Arc<str>>,
    pub otp_device_id: Option<u64>,
    pub otp_device_name: Option<String>,
    pub ipaddr: Option<String>,
}

impl Event {
    /// `created_at` as ISO8601 with milliseconds.
    pub fn created_at(&self) -> String {
        iso_millis(self.created_at_ms)
    }
}

fn ip(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.random_range(11..200u8),
        rng.random::<u8>(),
        rng.random::<u8>(),
        rng.random_range(1..255u8)
    )
}

/// Shared display names of users, apps and roles (by index), for generation.
struct Names {
    users: Vec<Arc<str>>,
    apps: Vec<Arc<str>>,
    roles: Vec<Arc<str>>,
}

impl Names {
    fn new(t: &Tenant) -> Names {
        Names {
            users: t.users.iter().map(|u| Arc::from(format!("{} {}", u.firstname, u.lastname))).collect(),
            apps: t.apps.iter().map(|a| Arc::from(a.name.as_str())).collect(),
            roles: t.roles.iter().map(|r| Arc::from(r.name.as_str())).collect(),
        }
    }
}

impl Tenant {
    /// `"First Last"` of user `id`, if it exists.
    pub fn user_display_name(&self, id: u64) -> Option<String> {
        self.user(id).map(|u| format!("{} {}", u.firstname, u.lastname))
    }

    /// Replaces [`Tenant::events`] with generated history ending at `start_ms` (see
    /// the module docs). Deterministic for (seed, users, `start_ms`); O(N log N).
    pub fn generate_events(&mut self, start_ms: i64) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ (start_ms as u64).rotate_left(17));
        rng.set_stream(EVENT_STREAM);
        let span = EVENT_HISTORY_DAYS * DAY_MS;
        let mut events: Vec<Event> = Vec::with_capacity(self.users.len() * 2 + 4);
        let names = Names::new(self);
        let mut seen = [false; 4];
        // For the coverage fix-up below: a user with an app and one with a role.
        let mut with_app: Option<(usize, u64)> = None;
        let mut with_role: Option<usize> = None;
        for (k, u) in self.users.iter().enumerate() {
            let count = rng.random_range(0..=4usize);
            if count == 0 && with_app.is_some() && with_role.is_some() {
                continue;
            }
            if with_app.is_none() {
                with_app = self.random_app(u, &mut rng).map(|a| (k, a));
            }
            if with_role.is_none() && !u.role_ids.is_empty() {
                with_role = Some(k);
            }
            for _ in 0..count {
                let r: f64 = rng.random();
                let mut app = None;
                let kind = if r < 0.45 {
                    0
                } else if r < 0.8 {
                    app = self.random_app(u, &mut rng);
                    if app.is_some() {
                        1
                    } else {
                        0
                    }
                } else if r < 0.92 || u.role_ids.is_empty() {
                    2
                } else {
                    3
                };
                let at = start_ms - 1 - rng.random_range(0..span);
                let role = (kind == 3).then(|| u.role_ids[rng.random_range(0..u.role_ids.len())]);
                events.push(self.history_event(&names, &mut rng, k, GENERATED_EVENT_TYPES[kind], at, app, role));
                seen[kind] = true;
            }
        }
        if self.users.len() >= 2 {
            let at = |rng: &mut ChaCha8Rng| start_ms - 1 - rng.random_range(0..span);
            if !seen[0] {
                let t = at(&mut rng);
                events.push(self.history_event(&names, &mut rng, 0, EVENT_LOGGED_IN, t, None, None));
            }
            if let (false, Some((k, app))) = (seen[1], with_app) {
                let t = at(&mut rng);
                events.push(self.history_event(&names, &mut rng, k, EVENT_LOGGED_INTO_APP, t, Some(app), None));
            }
            if !seen[2] {
                let t = at(&mut rng);
                events.push(self.history_event(&names, &mut rng, 1, EVENT_UPDATED, t, None, None));
            }
            if let (false, Some(k)) = (seen[3], with_role) {
                let role = self.users[k].role_ids[0];
                let t = at(&mut rng);
                events.push(self.history_event(&names, &mut rng, k, EVENT_ASSIGNED_ROLE, t, None, Some(role)));
            }
        }
        events.sort_unstable_by_key(|e| (e.created_at_ms, e.user_id, e.event_type_id, e.app_id, e.role_id));
        let mut last = 0;
        for e in &mut events {
            e.id = event_id_at(e.created_at_ms, 0).max(last + 1);
            last = e.id;
        }
        self.events = events;
    }

    /// A generated event of `users[k]`. Logins are by the user; updates and role
    /// assignments by another user (an admin) when there is one.
    #[allow(clippy::too_many_arguments)]
    fn history_event(
        &self,
        names: &Names,
        rng: &mut ChaCha8Rng,
        k: usize,
        event_type_id: u32,
        at: i64,
        app: Option<u64>,
        role: Option<u64>,
    ) -> Event {
        let u = &self.users[k];
        let name = names.users[k].clone();
        let login = matches!(event_type_id, EVENT_LOGGED_IN | EVENT_LOGGED_INTO_APP);
        let (actor_id, actor_name) = if login || self.users.len() < 2 {
            (u.id, name.clone())
        } else {
            let j = (k + 1 + rng.random_range(0..self.users.len() - 1)) % self.users.len();
            (self.users[j].id, names.users[j].clone())
        };
        Event {
            id: 0,
            created_at_ms: at,
            event_type_id,
            user_id: Some(u.id),
            user_name: Some(name),
            actor_user_id: Some(actor_id),
            actor_user_name: Some(actor_name),
            actor_system: None,
            app_id: app,
            app_name: app
                .and_then(|a| self.apps.binary_search_by_key(&a, |x| x.id).ok())
                .map(|i| names.apps[i].clone()),
            role_id: role,
            role_name: role
                .and_then(|r| self.roles.binary_search_by_key(&r, |x| x.id).ok())
                .map(|i| names.roles[i].clone()),
            otp_device_id: None,
            otp_device_name: None,
            ipaddr: Some(ip(rng)),
        }
    }

    /// A random app `u` can use, or `None` when it has none: a random app of a random
    /// role or direct assignment (cheap), else any of its apps.
    fn random_app(&self, u: &super::tenant::User, rng: &mut ChaCha8Rng) -> Option<u64> {
        let sources = u.role_ids.len() + u.direct_apps.len();
        if sources == 0 {
            return None;
        }
        for _ in 0..4 {
            let k = rng.random_range(0..sources);
            if k >= u.role_ids.len() {
                return Some(u.direct_apps[k - u.role_ids.len()]);
            }
            if let Some(r) = self.role(u.role_ids[k]).filter(|r| !r.apps.is_empty()) {
                return Some(r.apps[rng.random_range(0..r.apps.len())]);
            }
        }
        let all: Vec<u64> = self.accessible_app_ids(u).into_iter().collect();
        (!all.is_empty()).then(|| all[rng.random_range(0..all.len())])
    }

    /// Appends `event` with `created_at` = now (never earlier than the last event) and
    /// the next id of that time, so ids keep increasing with `created_at`.
    pub fn push_event(&mut self, mut event: Event) {
        let last = self.events.last();
        event.created_at_ms = now_millis().max(last.map_or(i64::MIN, |e| e.created_at_ms));
        event.id = event_id_at(event.created_at_ms, 0).max(last.map_or(0, |e| e.id + 1));
        self.events.push(event);
    }

    /// Appends an API-made event of type `event_type_id` about user `user_id` (its
    /// name, when it exists; call before deleting it), with `actor_system` "API" and
    /// the role's id and name when `role_id` is given.
    pub fn log_user_event(&mut self, event_type_id: u32, user_id: u64, role_id: Option<u64>) {
        let event = Event {
            event_type_id,
            user_id: Some(user_id),
            user_name: self.user_display_name(user_id).map(Arc::from),
            actor_system: Some("API".to_string()),
            role_id,
            role_name: role_id.and_then(|r| self.role(r)).map(|r| Arc::from(r.name.as_str())),
            ipaddr: Some("127.0.0.1".to_string()),
            ..Event::default()
        };
        self.push_event(event);
    }

    /// Every event with `since_ms <= created_at < until_ms`, stored and generated app
    /// logins ([`Tenant::app_logins`]) alike, in id order: what `GET /api/1/events`
    /// serves for that window.
    pub fn all_events_between(&self, since_ms: i64, until_ms: i64) -> Vec<Event> {
        let mut all: Vec<Event> = self.events_between(since_ms, until_ms).to_vec();
        all.extend(self.app_logins.between(since_ms, until_ms));
        all.sort_unstable_by_key(|e| e.id);
        all
    }

    /// The stored events with `since_ms <= created_at < until_ms` (a sub-slice, id
    /// order): the generated app logins ([`Tenant::app_logins`]) are not among them.
    pub fn events_between(&self, since_ms: i64, until_ms: i64) -> &[Event] {
        let start = self.events.partition_point(|e| e.created_at_ms < since_ms);
        let end = self.events.partition_point(|e| e.created_at_ms < until_ms).max(start);
        &self.events[start..end]
    }
}
