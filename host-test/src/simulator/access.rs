//! Who can use which app, and the provisioning state of each (user, app) pair.
//!
//! A user's apps are the apps of every role the user is a member of, plus the user's
//! direct assignments ([`User::direct_apps`]), which may be apps none of the user's
//! roles give. Each (user, app) pair has a `provisioning_state` and
//! `provisioning_status` (the py-sdk `GetUserApps200ResponseInner` enums): stored ones
//! live in [`User::app_states`]; a pair without a stored state is
//! `provisioned`/`enabled` when the app has provisioning enabled and
//! `unknown`/`enabled` otherwise (the documented sample of a non-provisioning app:
//! `"provisioning_status":"enabled","provisioning_state":"unknown"`).
//!
//! Generation (from the tenant's own ChaCha stream, see [`Tenant::generate`]) makes
//! sure every tenant has an app of the "Amazon Web Services (AWS) Multi Account"
//! connector granted by a role, a visible provisioning-enabled app, some users with
//! `member_of` strings and direct app assignments, and, for N >= 17, every
//! `provisioning_state` value on some (user, app) pair.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::tenant::{Tenant, User, CONNECTORS, USER_ID_BASE};

/// The first id of a personal app.
pub const PERSONAL_APP_ID_BASE: u64 = 90_000_000;

/// A personal app: one a user added to their own portal (not an app of the
/// account). Listed among the user's apps with `personal: true` when
/// [`crate::simulator::SimulatorConfig::personal_apps`] is on.
///
/// Assumption (FIDELITY.md F-APP-16): that OneLogin's user-apps lists may carry them
/// (the v1 docs say they leave them out, hence off by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalApp {
    /// Its id (unique across the tenant, never an account app's id).
    pub id: u64,
    /// Its name.
    pub name: &'static str,
}

const PERSONAL_APP_NAMES: [&str; 4] = ["Personal Gmail", "Netflix", "Personal Dropbox", "Home Banking"];

/// The personal apps of user `user_id`: derived from the id alone (not from the
/// tenant's random stream, so adding them changed no other data). Every fifth
/// user has one, every tenth of those another.
pub fn personal_apps(user_id: u64) -> Vec<PersonalApp> {
    let n = user_id.saturating_sub(USER_ID_BASE);
    let count = match (n % 5, n % 50) {
        (2, 7) => 2,
        (2, _) => 1,
        _ => 0,
    };
    (0..count)
        .map(|k| PersonalApp {
            id: PERSONAL_APP_ID_BASE + n * 2 + k,
            name: PERSONAL_APP_NAMES[((n / 5 + k) % PERSONAL_APP_NAMES.len() as u64) as usize],
        })
        .collect()
}

/// The AWS Multi Account connector id.
///
/// Assumption (FIDELITY.md F-APP-7): not verified against a real tenant.
pub const AWS_CONNECTOR_ID: u64 = 29_024;

/// Every `provisioning_state` value of the py-sdk `GetUserApps200ResponseInner` enum.
pub const PROVISIONING_STATES: [&str; 17] = [
    "unknown",
    "provisioning",
    "modifying",
    "deleting",
    "provisioning_pending_approval",
    "deleting_pending_approval",
    "modifying_pending_approval",
    "linking",
    "provisioned",
    "deleted",
    "modifying_failed",
    "provisioning_failed",
    "deleting_failed",
    "linking_failed",
    "disabled",
    "nonexistent",
    "modifying_pending_approval_then_disabled",
];

/// Every `provisioning_status` value of the py-sdk enum (`disabling_pendding_approval`
/// is misspelled there, and so here).
pub const PROVISIONING_STATUSES: [&str; 8] = [
    "enabling",
    "disabling",
    "enabling_pending_approval",
    "disabling_pendding_approval",
    "enabled",
    "disabled",
    "disabling_failed",
    "enabling_failed",
];

/// The `provisioning_status` that goes with a `provisioning_state`.
///
/// Assumption (FIDELITY.md F-APP-12): OneLogin does not document how the two enums relate; this pairing
/// (provisioning/modifying/linking → enabling, deleting → disabling, …) is ours.
pub fn status_for_state(state: &str) -> &'static str {
    match state {
        "provisioning" | "modifying" | "linking" => "enabling",
        "deleting" => "disabling",
        "provisioning_pending_approval" | "modifying_pending_approval" => "enabling_pending_approval",
        "deleting_pending_approval" | "modifying_pending_approval_then_disabled" => "disabling_pendding_approval",
        "deleted" | "disabled" | "nonexistent" => "disabled",
        "deleting_failed" => "disabling_failed",
        "modifying_failed" | "provisioning_failed" | "linking_failed" => "enabling_failed",
        _ => "enabled",
    }
}

/// A stored provisioning state of one (user, app) pair.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AppProvisioning {
    /// One of [`PROVISIONING_STATES`].
    pub state: String,
    /// One of [`PROVISIONING_STATUSES`].
    pub status: String,
}

impl AppProvisioning {
    /// The state with its matching status ([`status_for_state`]).
    pub fn new(state: &str) -> AppProvisioning {
        AppProvisioning { state: state.to_string(), status: status_for_state(state).to_string() }
    }
}

/// Ground truth of one app of a user ([`Tenant::user_apps`]).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UserApp {
    pub app_id: u64,
    /// The user's roles that grant the app, sorted.
    pub via_role_ids: Vec<u64>,
    /// Whether the app is also (or only) assigned to the user directly.
    pub direct: bool,
    pub provisioning_state: String,
    pub provisioning_status: String,
}

/// `member_of` building blocks (AD group DNs); the app rules match on these words.
const MEMBER_OF_GROUPS: [&str; 6] = [
    "CN=Engineering,OU=Groups,DC=example,DC=com",
    "CN=Platform Team,OU=Engineering,OU=Groups,DC=example,DC=com",
    "CN=Contractors,OU=Groups,DC=example,DC=com",
    "CN=VPN Users,OU=Groups,DC=example,DC=com",
    "CN=Finance,OU=Groups,DC=example,DC=com",
    "CN=All Staff,OU=Groups,DC=example,DC=com",
];

impl Tenant {
    /// The ids of the apps `user` can use: its roles' apps and its direct apps
    /// (existing apps only), sorted.
    pub fn accessible_app_ids(&self, user: &User) -> BTreeSet<u64> {
        let mut set = BTreeSet::new();
        for rid in &user.role_ids {
            if let Some(r) = self.role(*rid) {
                set.extend(r.apps.iter().copied());
            }
        }
        set.extend(user.direct_apps.iter().copied());
        set.retain(|a| self.app(*a).is_some());
        set
    }

    /// The provisioning `(state, status)` of `(user, app_id)`: the stored one, else the
    /// default for the app (see the module docs).
    ///
    /// Assumption (FIDELITY.md F-APP-13): the default for a provisioning-enabled app.
    pub fn provisioning_of(&self, user: &User, app_id: u64) -> (String, String) {
        if let Some(p) = user.app_states.get(&app_id) {
            return (p.state.clone(), p.status.clone());
        }
        let enabled = self.app(app_id).is_some_and(|a| a.provisioning_enabled);
        let state = if enabled { "provisioned" } else { "unknown" };
        (state.to_string(), "enabled".to_string())
    }

    /// Ground truth: every app user `user_id` can use (visible or not), sorted by app
    /// id, with the roles that grant it, whether it is directly assigned, and its
    /// provisioning state. Empty for an unknown user.
    pub fn user_apps(&self, user_id: u64) -> Vec<UserApp> {
        let Some(user) = self.user(user_id) else {
            return Vec::new();
        };
        let mut via: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for rid in &user.role_ids {
            if let Some(r) = self.role(*rid) {
                for a in &r.apps {
                    via.entry(*a).or_default().push(r.id);
                }
            }
        }
        for a in &user.direct_apps {
            via.entry(*a).or_default();
        }
        via.into_iter()
            .filter(|(a, _)| self.app(*a).is_some())
            .map(|(app_id, mut roles)| {
                roles.sort_unstable();
                roles.dedup();
                let (provisioning_state, provisioning_status) = self.provisioning_of(user, app_id);
                UserApp {
                    app_id,
                    via_role_ids: roles,
                    direct: user.direct_apps.contains(&app_id),
                    provisioning_state,
                    provisioning_status,
                }
            })
            .collect()
    }

    /// Generation step: special apps, role grants, `member_of`, direct assignments and
    /// provisioning states (see the module docs).
    pub(crate) fn gen_access(&mut self, rng: &mut ChaCha8Rng) {
        self.ensure_special_apps();
        // The first AWS app is granted by the role with the most members (when some
        // role has members), so its rules have users to match.
        if let Some(aws) = self.apps.iter().find(|a| a.connector_id == AWS_CONNECTOR_ID).map(|a| a.id) {
            let biggest = self.roles.iter().enumerate().filter(|(_, r)| !r.users.is_empty()).max_by_key(|(i, r)| {
                // Earliest role wins ties.
                (r.users.len(), usize::MAX - i)
            });
            if let Some((k, _)) = biggest {
                let apps = &mut self.roles[k].apps;
                if let Err(pos) = apps.binary_search(&aws) {
                    apps.insert(pos, aws);
                }
            }
        }
        self.gen_member_of(rng);
        self.gen_direct_apps(rng);
        self.gen_app_states(rng);
    }

    /// Makes sure an AWS Multi Account app and a visible provisioning-enabled app exist.
    fn ensure_special_apps(&mut self) {
        if self.apps.is_empty() {
            return;
        }
        if !self.apps.iter().any(|a| a.connector_id == AWS_CONNECTOR_ID) {
            let k = self.apps.len() / 2;
            let (cid, cname, auth_method, desc) =
                CONNECTORS.iter().copied().find(|c| c.0 == AWS_CONNECTOR_ID).unwrap_or(CONNECTORS[0]);
            let app = &mut self.apps[k];
            app.connector_id = cid;
            app.auth_method = auth_method;
            app.auth_method_description = desc.to_string();
            if !app.description.is_empty() {
                app.description = format!("{cname} app");
            }
        }
        if !self.apps.iter().any(|a| a.provisioning_enabled && a.visible) {
            let k = self.apps.iter().position(|a| a.connector_id != AWS_CONNECTOR_ID).unwrap_or(0);
            self.apps[k].provisioning_enabled = true;
            self.apps[k].visible = true;
        }
    }

    /// About one user in five gets a `member_of` list of AD group DNs.
    fn gen_member_of(&mut self, rng: &mut ChaCha8Rng) {
        for u in &mut self.users {
            let p = if u.directory_id.is_some() { 0.8 } else { 0.1 };
            if !rng.random_bool(p) {
                continue;
            }
            let n = rng.random_range(1..=3usize);
            let mut picked: Vec<usize> = sample(rng, MEMBER_OF_GROUPS.len(), n).into_iter().collect();
            picked.sort_unstable();
            u.member_of = Some(picked.iter().map(|&k| MEMBER_OF_GROUPS[k]).collect::<Vec<_>>().join(";"));
        }
    }

    /// About one user in ten gets one or two direct app assignments, and about one in
    /// fifty the first AWS app directly.
    fn gen_direct_apps(&mut self, rng: &mut ChaCha8Rng) {
        if self.apps.is_empty() {
            return;
        }
        let app_ids: Vec<u64> = self.apps.iter().map(|a| a.id).collect();
        let aws = self.apps.iter().find(|a| a.connector_id == AWS_CONNECTOR_ID).map(|a| a.id);
        for u in &mut self.users {
            if rng.random_bool(0.1) {
                let n = rng.random_range(1..=2usize).min(app_ids.len());
                for k in sample(rng, app_ids.len(), n) {
                    u.direct_apps.push(app_ids[k]);
                }
            }
            if let Some(aws) = aws {
                if rng.random_bool(0.02) {
                    u.direct_apps.push(aws);
                }
            }
            u.direct_apps.sort_unstable();
            u.direct_apps.dedup();
        }
    }

    /// Stores provisioning states: every [`PROVISIONING_STATES`] value once on a
    /// visible provisioning app (assigning it directly where needed), plus random
    /// states on about half of the direct assignments of provisioning apps.
    fn gen_app_states(&mut self, rng: &mut ChaCha8Rng) {
        let prov: BTreeSet<u64> = self.apps.iter().filter(|a| a.provisioning_enabled).map(|a| a.id).collect();
        for u in &mut self.users {
            for a in &u.direct_apps {
                if prov.contains(a) && rng.random_bool(0.5) {
                    let state = PROVISIONING_STATES[rng.random_range(0..PROVISIONING_STATES.len())];
                    u.app_states.insert(*a, AppProvisioning::new(state));
                }
            }
        }
        let Some(target) = self.apps.iter().find(|a| a.provisioning_enabled && a.visible).map(|a| a.id) else {
            return;
        };
        let n = self.users.len();
        for (k, state) in PROVISIONING_STATES.iter().enumerate() {
            if k >= n {
                break;
            }
            // Spread over the tenant (distinct users since n >= 17 here or k < n).
            let idx = if n >= PROVISIONING_STATES.len() { k * n / PROVISIONING_STATES.len() } else { k };
            let has_via_role = {
                let u = &self.users[idx];
                u.role_ids.iter().any(|r| self.role(*r).is_some_and(|r| r.apps.contains(&target)))
            };
            let u = &mut self.users[idx];
            if !has_via_role {
                if let Err(pos) = u.direct_apps.binary_search(&target) {
                    u.direct_apps.insert(pos, target);
                }
            }
            u.app_states.insert(target, AppProvisioning::new(state));
        }
    }
}
