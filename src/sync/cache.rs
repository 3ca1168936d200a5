//! What an instance remembers of the sync it is running: the joins later
//! phases need from earlier ones, collected while their phases are read,
//! and the keys already emitted (so a server repeating objects cannot make
//! a sync emit them twice). A resumed instance starts empty and re-reads
//! joins when needed (see `joins.rs`).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use super::aws::AwsRule;
use super::state::Plan;
use crate::client::pagination::{fingerprint, Page, PageCursor};
use crate::vocabulary::{id_value, RoleApps};

/// OneLogin's "user logged in to app" event type (FIDELITY.md F-EVT-9).
pub const EVENT_APP_LOGIN: u64 = 8;

/// What events say: last login per (user, app) and the users they name.
#[derive(Debug, Default)]
pub struct EventJoin {
    /// `created_at` of the latest type-8 event ("user logged into app").
    pub last_login: BTreeMap<(u64, u64), String>,
    /// Users any event names (incremental syncs refresh them).
    pub users: BTreeSet<u64>,
}

impl EventJoin {
    /// Take in one event.
    pub fn add(&mut self, event: &Value) {
        let number = |field: &str| event.get(field).and_then(id_value);
        if let Some(user) = number("user_id") {
            self.users.insert(user);
        }
        let (Some(user), Some(app), Some(EVENT_APP_LOGIN)) =
            (number("user_id"), number("app_id"), number("event_type_id"))
        else {
            return;
        };
        let Some(at) = event.get("created_at").and_then(Value::as_str) else { return };
        let latest = self.last_login.entry((user, app)).or_default();
        // ISO 8601 UTC timestamps of one format order as strings.
        if at > latest.as_str() {
            *latest = at.to_string();
        }
    }
}

/// A join being collected step by step while its phase is read: `position`
/// is where the next step must start for its data to continue the collection.
#[derive(Debug)]
pub struct Collecting<P, A> {
    /// Where the next step starts.
    pub position: P,
    /// What was collected so far.
    pub so_far: A,
}

impl<P: PartialEq, A: Default> Collecting<P, A> {
    /// What was collected before the step at `position`: empty at the
    /// phase's `start`, `None` when this instance missed earlier steps (a
    /// resumed instance: the join is then read again when needed).
    pub fn resume(slot: &mut Option<Collecting<P, A>>, position: &P, start: &P) -> Option<A> {
        match slot.take() {
            Some(collecting) if collecting.position == *position => Some(collecting.so_far),
            _ if position == start => Some(A::default()),
            _ => None,
        }
    }
}

/// The instance's memory of the current sync.
#[derive(Debug, Default)]
pub struct SyncCache {
    /// The sync this belongs to ([`Plan::id`]).
    sync: Option<u64>,
    /// Every role with its apps, sorted by id.
    pub roles: Option<Vec<RoleApps>>,
    /// Roles collected while the roles phase runs.
    pub roles_collecting: Option<Collecting<PageCursor, Vec<RoleApps>>>,
    /// Every app id, sorted.
    pub apps: Option<Vec<u64>>,
    /// Apps collected while the apps phase runs.
    pub apps_collecting: Option<Collecting<PageCursor, Vec<u64>>>,
    /// The enabled rules that grant AWS roles.
    pub rules: Option<Vec<AwsRule>>,
    /// The AWS rules among the rules an incremental sync re-read on its
    /// turn (not all of them: `rules` stays unset then).
    pub rotated_rules: Option<Vec<AwsRule>>,
    /// Rules collected while the app rules phase runs.
    pub rules_collecting: Option<Collecting<usize, Vec<AwsRule>>>,
    /// Who can reach each app with AWS rules (its users, through roles or directly).
    pub aws_app_users: Option<BTreeMap<u64, BTreeSet<u64>>>,
    /// The roles of each user, from each role's member list (read only when
    /// OneLogin lists users without `role_ids`).
    pub role_members: Option<BTreeMap<u64, Vec<u64>>>,
    /// Each user's app ids, when access is read per application.
    pub app_access: Option<BTreeMap<u64, Vec<u64>>>,
    /// The ids of every privilege.
    pub privileges: Option<Vec<String>>,
    /// What the events of the window say.
    pub events: Option<EventJoin>,
    /// Events collected while the events phase runs.
    /// (Keyed by a fingerprint of the events phase's position: see
    /// `lanes.rs`.)
    pub events_collecting: Option<Collecting<u64, EventJoin>>,
    /// What the app-login events (type 8 only) of the window say, when the
    /// `events` kind did not read every event.
    pub app_logins: Option<EventJoin>,
    /// App logins collected while the app logins phase runs (keyed as
    /// `events_collecting`).
    pub app_logins_collecting: Option<Collecting<u64, EventJoin>>,
    /// The users page being worked through, by where it was read.
    pub users_page: Option<(PageCursor, Page)>,
    /// The most users a users step reads per-user kinds for, once their
    /// responses did not fit beside each other in memory (see
    /// `phases/users.rs`); `None` until then.
    pub users_per_step: Option<usize>,
    /// Fingerprints of the entity keys emitted by this instance.
    emitted: HashSet<u64>,
}

impl SyncCache {
    /// Forget everything when the plan belongs to another sync.
    pub fn bind(&mut self, plan: &Plan) {
        if self.sync != Some(plan.id) {
            *self = SyncCache { sync: Some(plan.id), ..SyncCache::default() };
        }
    }

    /// Whether `key` is emitted for the first time in this instance (and
    /// remember it). Only whole objects are checked: an object seen again is
    /// skipped with everything mapped from it.
    pub fn first_sighting(&mut self, key: &str) -> bool {
        self.emitted.insert(fingerprint(key))
    }

    /// Whether `key` was emitted already in this instance (without
    /// remembering it).
    pub fn sighted(&self, key: &str) -> bool {
        self.emitted.contains(&fingerprint(key))
    }

    /// Take back [`SyncCache::first_sighting`] of `key`: the object was not
    /// emitted after all, and a later step emits it.
    pub fn forget(&mut self, key: &str) {
        self.emitted.remove(&fingerprint(key));
    }
}
