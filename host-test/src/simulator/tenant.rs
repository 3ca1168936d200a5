//! Deterministic tenant generation.
//!
//! A [`Tenant`] is generated from `(users N, seed)` with a [`ChaCha8Rng`]: the same inputs
//! always give a byte-identical tenant (all collections are `Vec`s sorted by id or
//! `BTreeMap`s). Ids of different kinds live in disjoint, non-contiguous ranges so a
//! connector that confuses e.g. a role id with a user id is caught.
//! Assumption (FIDELITY.md F-DATA-1, F-DATA-10): id ranges and collection sizes.
//!
//! Shape: N users, `max(3, N/25)` groups, `max(4, N/20)` roles, `max(3, N/15)` apps,
//! 3 custom attributes. For N >= 32 every user `status` (0,1,2,3,4,5,7,8) and `state`
//! (0..=3) occurs; most users are status 1 / state 1. The first role has no members;
//! for N >= 200 the second role has more than 100.
//!
//! Data added later draws from separate ChaCha streams of the same seed, so earlier
//! data stays put:
//! * stream 1: MFA devices (about 30% of users, 1–2 each, some pending) and 1–2 user
//!   mappings;
//! * stream 3 ([`super::access`], [`super::rules`], [`super::privileges`]): an AWS
//!   Multi Account app (connector 29024) always exists and is granted by the biggest
//!   role; a visible provisioning-enabled app always exists; ~20% of users get a
//!   `member_of` list of AD group DNs; ~10% direct app assignments
//!   ([`User::direct_apps`]); stored provisioning states ([`User::app_states`]) with,
//!   for N >= 17, every `provisioning_state` value; app rules ([`Tenant::rules`]);
//!   four privileges ([`Tenant::privileges`]); and, for N >= 10, users with 0, 1 and 2+
//!   active MFA devices.
//!
//! Events ([`Tenant::events`]) are NOT generated here: they are relative to the wall
//! clock, see [`super::events`] and `Simulator::start`.

use std::collections::{BTreeMap, BTreeSet};

pub use super::access::AppProvisioning;
use super::app_logins::LoginHistory;
pub use super::events::Event;
use super::events::{EVENT_ASSIGNED_ROLE, EVENT_DELETED, EVENT_UPDATED};
pub use super::privileges::Privilege;
pub use super::rules::AppRule;

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// First user id; user ids grow by 1..=3 from here.
pub const USER_ID_BASE: u64 = 30_000_000;
/// First role id.
pub const ROLE_ID_BASE: u64 = 2_000_000;
/// First group id.
pub const GROUP_ID_BASE: u64 = 5_000_000;
/// First app id.
pub const APP_ID_BASE: u64 = 10_000_000;
/// First custom attribute id.
pub const CUSTOM_ATTRIBUTE_ID_BASE: u64 = 9_000;

/// First MFA device id (device ids are numeric strings).
pub const MFA_DEVICE_ID_BASE: u64 = 3_900_000;
/// First user mapping id.
pub const MAPPING_ID_BASE: u64 = 700_000;
/// The ChaCha stream of the data added after the original generator.
const EXTRA_STREAM: u64 = 1;
/// The ChaCha stream of the access, rules and privileges data.
const ACCESS_STREAM: u64 = 3;
/// MFA factor catalogue: (type_display_name, auth_factor_name).
pub const MFA_FACTORS: [(&str, &str); 5] = [
    ("OneLogin Protect", "OneLogin"),
    ("Google Authenticator", "Google Authenticator"),
    ("SMS", "SMS"),
    ("Yubico YubiKey", "Yubico YubiKey"),
    ("WebAuthn", "WebAuthn"),
];

/// Every user `status` value OneLogin defines.
pub const STATUSES: [u8; 8] = [0, 1, 2, 3, 4, 5, 7, 8];
/// Every user `state` value OneLogin defines.
pub const STATES: [u8; 4] = [0, 1, 2, 3];

/// The connector catalogue apps are built from: (id, name, auth_method, description).
pub const CONNECTORS: [(u64, &str, u8, &str); 6] = [
    (50_534, "SAML Test Connector (Advanced)", 2, "SAML2.0"),
    (108_419, "OpenId Connect (OIDC)", 8, "OpenID Connect"),
    (29_024, "Amazon Web Services (AWS) Multi Account", 2, "SAML2.0"),
    (20_600, "Salesforce", 2, "SAML2.0"),
    (46_000, "Form-Based App", 6, "Forms Based App"),
    (31_337, "Internal API", 3, "API"),
];

/// A OneLogin user with the v2 user fields.
///
/// The documented shape; the other shapes real users come in are rendered by
/// [`super::variance`] (FIDELITY.md F-DATA-5..8, F-DATA-13).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub title: String,
    pub department: String,
    pub company: String,
    pub comment: String,
    pub phone: String,
    pub status: u8,
    pub state: u8,
    pub group_id: Option<u64>,
    /// Derived from [`Role::users`]; kept sorted.
    pub role_ids: Vec<u64>,
    pub manager_user_id: Option<u64>,
    /// A string when set (go-sdk #87); null in generated data.
    pub manager_ad_id: Option<String>,
    pub directory_id: Option<u64>,
    pub external_id: Option<String>,
    pub distinguished_name: Option<String>,
    pub member_of: Option<String>,
    pub samaccountname: Option<String>,
    pub userprincipalname: Option<String>,
    pub trusted_idp_id: Option<u64>,
    pub preferred_locale_code: Option<String>,
    pub invalid_login_attempts: u32,
    pub created_at: String,
    pub updated_at: String,
    pub activated_at: Option<String>,
    pub last_login: Option<String>,
    pub password_changed_at: Option<String>,
    pub invitation_sent_at: Option<String>,
    pub locked_until: Option<String>,
    pub custom_attributes: BTreeMap<String, Option<String>>,
    // ----- simulator-only state: never serialized (so never part of the user JSON),
    // but part of the tenant ground truth (and `PartialEq`) for tests. -----
    /// Whether a password was ever set through the API (the password itself is never
    /// stored nor echoed).
    #[serde(skip)]
    pub password_set: bool,
    /// How many times a password was set through the API (create, update,
    /// `set_password_clear_text`).
    #[serde(skip)]
    pub password_changes: u32,
    /// How many times `PUT /api/1/users/{id}/logout` ended the user's sessions.
    #[serde(skip)]
    pub sessions_ended: u32,
    /// How many times `POST /api/1/invites/send_invite_link` sent the user an invite.
    #[serde(skip)]
    pub invites_sent: u32,
    /// Enrolled MFA devices, active and pending.
    #[serde(skip)]
    pub mfa_devices: Vec<MfaDevice>,
    /// Apps assigned to the user directly (not through a role), sorted.
    #[serde(skip)]
    pub direct_apps: Vec<u64>,
    /// Stored provisioning states per app id; see [`super::access`] for the default.
    #[serde(skip)]
    pub app_states: BTreeMap<u64, AppProvisioning>,
}

impl User {
    /// A user with `id` and `email` (also the username), status 1, state 1, and every
    /// other field empty; for hand-made tenants and creation.
    pub fn new(id: u64, email: &str) -> User {
        User {
            id,
            username: email.to_string(),
            email: email.to_string(),
            firstname: String::new(),
            lastname: String::new(),
            title: String::new(),
            department: String::new(),
            company: String::new(),
            comment: String::new(),
            phone: String::new(),
            status: 1,
            state: 1,
            group_id: None,
            role_ids: Vec::new(),
            manager_user_id: None,
            manager_ad_id: None,
            directory_id: None,
            external_id: None,
            distinguished_name: None,
            member_of: None,
            samaccountname: None,
            userprincipalname: None,
            trusted_idp_id: None,
            preferred_locale_code: None,
            invalid_login_attempts: 0,
            created_at: iso_millis(EPOCH_2018_MS),
            updated_at: iso_millis(EPOCH_2018_MS),
            activated_at: None,
            last_login: None,
            password_changed_at: None,
            invitation_sent_at: None,
            locked_until: None,
            custom_attributes: BTreeMap::new(),
            password_set: false,
            password_changes: 0,
            sessions_ended: 0,
            invites_sent: 0,
            mfa_devices: Vec::new(),
            direct_apps: Vec::new(),
            app_states: BTreeMap::new(),
        }
    }
}

/// An enrolled MFA device (factor) of a user.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MfaDevice {
    /// A numeric string (v2 `device_id`; v1 `otp_devices` reports it as an int `id`).
    pub device_id: String,
    pub type_display_name: String,
    pub auth_factor_name: String,
    pub user_display_name: String,
    pub default: bool,
    /// `false` for a pending (not yet activated) enrolment: listed by v1 `otp_devices`
    /// only, not by v2 `/api/2/mfa/users/{uid}/devices`.
    pub active: bool,
}

/// A user mapping: "department == `department` → add role `role_id`". Applied by a
/// mapping run ([`Tenant::run_mappings`]: on a user write with `mappings`, to that
/// user only), never at generation.
///
/// Assumption (FIDELITY.md F-MAP-1): real mappings have rule-style conditions and actions.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UserMapping {
    pub id: u64,
    pub name: String,
    /// Exact (case-sensitive) department value the condition matches.
    pub department: String,
    /// The role the action adds.
    pub role_id: u64,
}

/// A group (one per user at most, via [`User::group_id`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Group {
    pub id: u64,
    pub name: String,
}

/// A role with its members, admins and apps (all sorted ids).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Role {
    pub id: u64,
    pub name: String,
    /// Member user ids (the source of truth for [`User::role_ids`]).
    pub users: Vec<u64>,
    /// Admin user ids.
    pub admins: Vec<u64>,
    /// App ids granted by the role.
    pub apps: Vec<u64>,
    /// The members (a subset of [`Role::users`], sorted) whose membership was granted by
    /// a user mapping. `remove_roles` (v1) cannot remove these.
    pub mapped_users: Vec<u64>,
}

/// An app.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct App {
    pub id: u64,
    pub connector_id: u64,
    pub name: String,
    pub description: String,
    pub auth_method: u8,
    pub auth_method_description: String,
    pub visible: bool,
    pub provisioning_enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// The whole simulated account: the ground truth for tests.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Tenant {
    pub account_id: u64,
    /// Sorted by id.
    pub users: Vec<User>,
    /// Sorted by id.
    pub groups: Vec<Group>,
    /// Sorted by id.
    pub roles: Vec<Role>,
    /// Sorted by id.
    pub apps: Vec<App>,
    /// Custom attribute shortnames, e.g. `employee_number`.
    pub custom_attribute_names: Vec<String>,
    /// The generator seed (also seeds invite-link tokens).
    pub seed: u64,
    /// User mappings (1–2 when some user has a department; none otherwise).
    pub mappings: Vec<UserMapping>,
    /// Invite links issued so far (part of the next token's derivation).
    pub invite_links_issued: u64,
    /// App rules, sorted by `(app_id, position, id)` ([`Tenant::sort_rules`]).
    pub rules: Vec<AppRule>,
    /// Delegated-administration privileges (empty when the simulator runs with
    /// `privileges: false`).
    pub privileges: Vec<Privilege>,
    /// Events in id (= time) order. Not serialized: relative to the wall clock, filled
    /// by [`Tenant::generate_events`] and appended to by writes.
    #[serde(skip)]
    pub events: Vec<Event>,
    /// The app logins at real volume, generated lazily (empty until
    /// `Simulator::start` sets it; see [`super::app_logins`]).
    #[serde(skip)]
    pub app_logins: LoginHistory,
    /// Users whose `mappings=async` run is still due: it runs when the next request
    /// arrives, after the response to the write ([`Tenant::run_pending_mappings`]).
    #[serde(skip)]
    pub pending_mappings: Vec<u64>,
}

const FIRST_NAMES: [&str; 24] = [
    "Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Karl", "Laura", "Mallory",
    "Niaj", "Olivia", "Peggy", "Quentin", "Rupert", "Sybil", "Trent", "Ursula", "Victor", "Walter", "Yvonne",
];
const LAST_NAMES: [&str; 20] = [
    "Anderson", "Brown", "Clark", "Davis", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Kowalski", "Lopez",
    "Martin", "Nguyen", "O'Brien", "Patel", "Quinn", "Rossi", "Smith", "Tanaka",
];
const TITLES: [&str; 8] =
    ["Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Designer", "Accountant", ""];
const DEPARTMENTS: [&str; 7] = ["Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", ""];
const GROUP_NAMES: [&str; 8] =
    ["employees", "contractors", "admins", "interns", "partners", "executives", "vendors", "service-accounts"];
const ROLE_WORDS: [&str; 10] = [
    "Default",
    "Engineering",
    "Sales",
    "Finance",
    "Support",
    "AWS Admin",
    "Read Only",
    "Auditors",
    "Helpdesk",
    "Marketing",
];
const APP_WORDS: [&str; 10] =
    ["Workday", "Slack", "GitHub", "Jira", "AWS", "Zoom", "Okta Bridge", "Salesforce", "Box", "Notion"];
const FOODS: [&str; 5] = ["chicken", "pizza", "sushi", "tacos", "salad"];

/// The custom attribute shortnames every tenant has.
pub const CUSTOM_ATTRIBUTES: [&str; 3] = ["employee_number", "cost_center", "food"];

/// 2018-01-01T00:00:00Z in unix milliseconds: the earliest generated timestamp.
const EPOCH_2018_MS: i64 = 1_514_764_800_000;
const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

impl Tenant {
    /// Generates the tenant for `(users, seed)`; deterministic.
    pub fn generate(users: usize, seed: u64) -> Tenant {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let account_id = rng.random_range(100_000..1_000_000u64);
        let n_groups = (users / 25).max(3);
        let n_roles = (users / 20).max(4);
        let n_apps = (users / 15).max(3);

        let groups = gen_ids(&mut rng, GROUP_ID_BASE, n_groups)
            .into_iter()
            .enumerate()
            .map(|(i, id)| Group { id, name: numbered(&GROUP_NAMES, i) })
            .collect::<Vec<_>>();

        let apps = gen_ids(&mut rng, APP_ID_BASE, n_apps)
            .into_iter()
            .enumerate()
            .map(|(i, id)| {
                let (connector_id, cname, auth_method, desc) = CONNECTORS[rng.random_range(0..CONNECTORS.len())];
                let created = random_time(&mut rng, 0, 2 * YEAR_MS);
                let updated = created + rng.random_range(0..YEAR_MS);
                App {
                    id,
                    connector_id,
                    name: numbered(&APP_WORDS, i),
                    description: if i % 3 == 0 { String::new() } else { format!("{cname} app") },
                    auth_method,
                    auth_method_description: desc.to_string(),
                    visible: rng.random_bool(0.85),
                    provisioning_enabled: rng.random_bool(0.3),
                    created_at: iso_millis(created),
                    updated_at: iso_millis(updated),
                }
            })
            .collect::<Vec<_>>();

        let user_ids = gen_ids(&mut rng, USER_ID_BASE, users);
        let mut all_users = Vec::with_capacity(users);
        for (i, &id) in user_ids.iter().enumerate() {
            all_users.push(gen_user(&mut rng, i, id, &user_ids, &groups));
        }

        let role_ids = gen_ids(&mut rng, ROLE_ID_BASE, n_roles);
        let mut roles = Vec::with_capacity(n_roles);
        for (i, &id) in role_ids.iter().enumerate() {
            // Cap member counts so big tenants stay cheap: at most N/3+5, and 1000.
            let cap = users.min(users / 3 + 5).min(1000);
            let count = if i == 0 {
                0
            } else if i == 1 && users >= 200 {
                rng.random_range(101..=users.min(150))
            } else {
                let u: f64 = rng.random();
                ((cap as f64) * u * u).round() as usize
            };
            let members = pick_users(&mut rng, &user_ids, count);
            let n_admins = rng.random_range(0..=3usize).min(users);
            let admins = pick_users(&mut rng, &user_ids, n_admins);
            let n_role_apps = rng.random_range(0..=4usize).min(apps.len());
            let mut role_apps: Vec<u64> =
                sample(&mut rng, apps.len(), n_role_apps).into_iter().map(|k| apps[k].id).collect();
            role_apps.sort_unstable();
            roles.push(Role {
                id,
                name: numbered(&ROLE_WORDS, i),
                users: members,
                admins,
                apps: role_apps,
                mapped_users: Vec::new(),
            });
        }

        let mut tenant = Tenant {
            account_id,
            users: all_users,
            groups,
            roles,
            apps,
            custom_attribute_names: CUSTOM_ATTRIBUTES.iter().map(|s| s.to_string()).collect(),
            seed,
            mappings: Vec::new(),
            invite_links_issued: 0,
            rules: Vec::new(),
            privileges: Vec::new(),
            events: Vec::new(),
            app_logins: LoginHistory::default(),
            pending_mappings: Vec::new(),
        };
        tenant.sync_role_ids();
        // Everything added after the original generator (MFA devices, mappings) draws
        // from a separate stream so the data above stays identical for a given seed.
        let mut extra = ChaCha8Rng::seed_from_u64(seed);
        extra.set_stream(EXTRA_STREAM);
        tenant.gen_mfa_devices(&mut extra);
        tenant.gen_mappings(&mut extra);
        let mut access = ChaCha8Rng::seed_from_u64(seed);
        access.set_stream(ACCESS_STREAM);
        tenant.gen_access(&mut access);
        tenant.gen_rules(&mut access);
        tenant.gen_privileges(&mut access);
        tenant.ensure_mfa_device_counts(&mut access);
        tenant
    }

    /// For N >= 10: makes sure some user has no active MFA device, some exactly one and
    /// some two or more (v2 lists active devices only), adding devices where missing.
    fn ensure_mfa_device_counts(&mut self, rng: &mut ChaCha8Rng) {
        if self.users.len() < 10 {
            return;
        }
        let active = |u: &User| u.mfa_devices.iter().filter(|d| d.active).count();
        let mut next_id = self
            .users
            .iter()
            .flat_map(|u| &u.mfa_devices)
            .filter_map(|d| d.device_id.parse::<u64>().ok())
            .max()
            .unwrap_or(MFA_DEVICE_ID_BASE)
            + 1;
        let mut add = |u: &mut User, rng: &mut ChaCha8Rng| {
            let (type_name, factor) = MFA_FACTORS[rng.random_range(0..MFA_FACTORS.len())];
            let default = !u.mfa_devices.iter().any(|d| d.default);
            let k = u.mfa_devices.len();
            u.mfa_devices.push(MfaDevice {
                device_id: next_id.to_string(),
                type_display_name: type_name.to_string(),
                auth_factor_name: factor.to_string(),
                user_display_name: if k == 0 { type_name.to_string() } else { format!("{type_name} ({})", k + 1) },
                default,
                active: true,
            });
            next_id += 1;
        };
        if !self.users.iter().any(|u| active(u) >= 2) {
            if let Some(u) = self.users.iter_mut().find(|u| active(u) == 1) {
                add(u, rng);
            } else if let Some(u) = self.users.get_mut(1) {
                while active(u) < 2 {
                    add(u, rng);
                }
            }
        }
        if !self.users.iter().any(|u| active(u) == 1) {
            if let Some(u) = self.users.iter_mut().find(|u| active(u) == 0) {
                add(u, rng);
            }
        }
        // Someone without an active device: with 10+ users and ~30% enrolled this
        // practically always holds already; otherwise drop the last user's devices.
        if !self.users.iter().any(|u| active(u) == 0) {
            if let Some(u) = self.users.last_mut() {
                u.mfa_devices.clear();
            }
        }
    }

    fn gen_mfa_devices(&mut self, rng: &mut ChaCha8Rng) {
        let mut next_id = MFA_DEVICE_ID_BASE + rng.random_range(0..1000u64);
        for u in &mut self.users {
            if !rng.random_bool(0.3) {
                continue;
            }
            let n = rng.random_range(1..=2usize);
            for k in 0..n {
                let (type_name, factor) = MFA_FACTORS[rng.random_range(0..MFA_FACTORS.len())];
                // About one device in five is a pending enrolment.
                let active = rng.random_bool(0.8);
                let default = active && !u.mfa_devices.iter().any(|d| d.default);
                let user_display_name = if k == 0 { type_name.to_string() } else { format!("{type_name} ({})", k + 1) };
                u.mfa_devices.push(MfaDevice {
                    device_id: next_id.to_string(),
                    type_display_name: type_name.to_string(),
                    auth_factor_name: factor.to_string(),
                    user_display_name,
                    default,
                    active,
                });
                next_id += rng.random_range(1..=7u64);
            }
        }
    }

    fn gen_mappings(&mut self, rng: &mut ChaCha8Rng) {
        let departments: Vec<String> = self
            .users
            .iter()
            .map(|u| u.department.clone())
            .filter(|d| !d.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if departments.is_empty() || self.roles.is_empty() {
            return;
        }
        let n = rng.random_range(1..=2usize).min(departments.len());
        let picked = sample(rng, departments.len(), n).into_iter().map(|k| departments[k].clone()).collect::<Vec<_>>();
        for (i, department) in picked.into_iter().enumerate() {
            let role_id = self.roles[rng.random_range(0..self.roles.len())].id;
            self.mappings.push(UserMapping {
                id: MAPPING_ID_BASE + i as u64,
                name: format!("{department} users"),
                department,
                role_id,
            });
        }
    }

    /// Runs every user mapping over all users (or only user `only`): each user whose
    /// department matches gets the mapping's role if not already a member, recorded in
    /// [`Role::mapped_users`]; a user the mapping added who no longer matches any
    /// mapping granting that role loses it (KB0010606: "Roles that are added manually
    /// must be removed manually and vice versa", FIDELITY.md F-MAP-3). Roles added by
    /// hand are never removed. Returns how many memberships were added or removed.
    pub fn run_mappings(&mut self, only: Option<u64>) -> usize {
        let mut changed = 0;
        let in_scope = |u: &User| only.is_none_or(|id| id == u.id);
        let role_ids: BTreeSet<u64> = self.mappings.iter().map(|m| m.role_id).collect();
        for role_id in role_ids {
            let departments: Vec<&str> =
                self.mappings.iter().filter(|m| m.role_id == role_id).map(|m| m.department.as_str()).collect();
            let (matching, not_matching): (Vec<&User>, Vec<&User>) =
                self.users.iter().filter(|u| in_scope(u)).partition(|u| departments.contains(&u.department.as_str()));
            let Some(role) = self.role(role_id) else { continue };
            let new: Vec<u64> =
                matching.iter().map(|u| u.id).filter(|uid| role.users.binary_search(uid).is_err()).collect();
            let lapsed: Vec<u64> =
                not_matching.iter().map(|u| u.id).filter(|uid| role.mapped_users.binary_search(uid).is_ok()).collect();
            if !new.is_empty() {
                self.add_to_role(role_id, &new, false);
                if let Some(role) = self.role_mut(role_id) {
                    for uid in &new {
                        if let Err(pos) = role.mapped_users.binary_search(uid) {
                            role.mapped_users.insert(pos, *uid);
                        }
                    }
                }
            }
            if !lapsed.is_empty() {
                self.remove_from_role(role_id, &lapsed, false);
            }
            changed += new.len() + lapsed.len();
        }
        changed
    }

    /// Runs the `mappings=async` runs still due (see [`Tenant::pending_mappings`]).
    pub fn run_pending_mappings(&mut self) {
        for uid in std::mem::take(&mut self.pending_mappings) {
            self.run_mappings(Some(uid));
        }
    }

    /// The user with `id`, mutable.
    pub fn user_mut(&mut self, id: u64) -> Option<&mut User> {
        match self.users.binary_search_by_key(&id, |u| u.id) {
            Ok(k) => Some(&mut self.users[k]),
            Err(_) => None,
        }
    }

    /// Deletes a user, removing them from every role (members, admins, mapped) and
    /// privilege, and logs a "deleted" event. Returns `false` when the user does not
    /// exist.
    pub fn delete_user(&mut self, id: u64) -> bool {
        let Ok(k) = self.users.binary_search_by_key(&id, |u| u.id) else {
            return false;
        };
        self.log_user_event(EVENT_DELETED, id, None);
        self.users.remove(k);
        for p in &mut self.privileges {
            p.users.retain(|&u| u != id);
        }
        for r in &mut self.roles {
            r.users.retain(|&u| u != id);
            r.admins.retain(|&u| u != id);
            r.mapped_users.retain(|&u| u != id);
        }
        true
    }

    /// Recomputes every [`User::role_ids`] from [`Role::users`].
    pub fn sync_role_ids(&mut self) {
        for u in &mut self.users {
            u.role_ids.clear();
        }
        for r in &self.roles {
            for uid in &r.users {
                if let Ok(k) = self.users.binary_search_by_key(uid, |u| u.id) {
                    self.users[k].role_ids.push(r.id);
                }
            }
        }
        for u in &mut self.users {
            u.role_ids.sort_unstable();
            u.role_ids.dedup();
        }
    }

    /// Sets user `id`'s `updated_at` to now and logs an "updated" event. Returns `false`
    /// when the user does not exist.
    pub fn touch_user(&mut self, id: u64) -> bool {
        let Some(user) = self.user_mut(id) else {
            return false;
        };
        user.updated_at = now_iso();
        self.log_user_event(EVENT_UPDATED, id, None);
        true
    }

    /// Adds users as members (`admins == false`) or admins of a role, keeping
    /// [`User::role_ids`] in sync. Existing members are left alone. Each new member's
    /// `updated_at` becomes now and an "assigned role" event is logged (an "updated"
    /// one, naming the role, for a new admin). Returns `false` when the role does not
    /// exist.
    pub fn add_to_role(&mut self, role_id: u64, user_ids: &[u64], admins: bool) -> bool {
        let Some(role) = self.role_mut(role_id) else {
            return false;
        };
        let list = if admins { &mut role.admins } else { &mut role.users };
        let mut added = Vec::new();
        for &uid in user_ids {
            if let Err(pos) = list.binary_search(&uid) {
                list.insert(pos, uid);
                added.push(uid);
            }
        }
        if admins {
            for uid in added {
                self.log_user_event(EVENT_UPDATED, uid, Some(role_id));
            }
        } else {
            let now = now_iso();
            for uid in added {
                if let Ok(k) = self.users.binary_search_by_key(&uid, |u| u.id) {
                    let user = &mut self.users[k];
                    if let Err(pos) = user.role_ids.binary_search(&role_id) {
                        user.role_ids.insert(pos, role_id);
                    }
                    user.updated_at = now.clone();
                    self.log_user_event(EVENT_ASSIGNED_ROLE, uid, Some(role_id));
                }
            }
        }
        true
    }

    /// Removes users from a role's members (`admins == false`) or admins, keeping
    /// [`User::role_ids`] in sync. Non-members are ignored. Each removed member's
    /// `updated_at` becomes now; every removal logs an "updated" event naming the role.
    /// Returns `false` when the role does not exist.
    pub fn remove_from_role(&mut self, role_id: u64, user_ids: &[u64], admins: bool) -> bool {
        let Some(role) = self.role_mut(role_id) else {
            return false;
        };
        let list = if admins { &mut role.admins } else { &mut role.users };
        let mut removed = Vec::new();
        for &uid in user_ids {
            if let Ok(pos) = list.binary_search(&uid) {
                list.remove(pos);
                removed.push(uid);
            }
        }
        if !admins {
            // A removed mapped member is no longer "mapped"; the next mapping run
            // re-adds (and re-marks) it.
            role.mapped_users.retain(|u| !removed.contains(u));
            let now = now_iso();
            for &uid in &removed {
                if let Ok(k) = self.users.binary_search_by_key(&uid, |u| u.id) {
                    self.users[k].role_ids.retain(|&r| r != role_id);
                    self.users[k].updated_at = now.clone();
                }
            }
        }
        for uid in removed {
            self.log_user_event(EVENT_UPDATED, uid, Some(role_id));
        }
        true
    }

    /// The user with `id`.
    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.binary_search_by_key(&id, |u| u.id).ok().map(|k| &self.users[k])
    }

    /// The group with `id`.
    pub fn group(&self, id: u64) -> Option<&Group> {
        self.groups.binary_search_by_key(&id, |g| g.id).ok().map(|k| &self.groups[k])
    }

    /// The role with `id`.
    pub fn role(&self, id: u64) -> Option<&Role> {
        self.roles.binary_search_by_key(&id, |r| r.id).ok().map(|k| &self.roles[k])
    }

    /// The role with `id`, mutable.
    pub fn role_mut(&mut self, id: u64) -> Option<&mut Role> {
        match self.roles.binary_search_by_key(&id, |r| r.id) {
            Ok(k) => Some(&mut self.roles[k]),
            Err(_) => None,
        }
    }

    /// The app with `id`.
    pub fn app(&self, id: u64) -> Option<&App> {
        self.apps.binary_search_by_key(&id, |a| a.id).ok().map(|k| &self.apps[k])
    }

    /// Ids of users who get app `app_id` through any of their roles or a direct
    /// assignment, sorted.
    pub fn app_user_ids(&self, app_id: u64) -> Vec<u64> {
        let mut set = BTreeSet::new();
        for r in &self.roles {
            if r.apps.contains(&app_id) {
                set.extend(r.users.iter().copied());
            }
        }
        set.extend(self.users.iter().filter(|u| u.direct_apps.contains(&app_id)).map(|u| u.id));
        set.into_iter().collect()
    }

    /// The distinct connector ids used by apps, sorted.
    pub fn connector_ids(&self) -> Vec<u64> {
        let set: BTreeSet<u64> = self.apps.iter().map(|a| a.connector_id).collect();
        set.into_iter().collect()
    }
}

/// Human name of a custom attribute shortname: `employee_number` → `Employee Number`.
pub fn custom_attribute_display_name(shortname: &str) -> String {
    shortname
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn numbered(words: &[&str], i: usize) -> String {
    let w = words[i % words.len()];
    if i < words.len() {
        w.to_string()
    } else {
        format!("{w} {}", i / words.len() + 1)
    }
}

/// `n` increasing ids from `base`, with gaps of 1..=3.
fn gen_ids(rng: &mut ChaCha8Rng, base: u64, n: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(n);
    let mut id = base + rng.random_range(0..100u64);
    for _ in 0..n {
        out.push(id);
        id += rng.random_range(1..=3u64);
    }
    out
}

fn pick_users(rng: &mut ChaCha8Rng, user_ids: &[u64], count: usize) -> Vec<u64> {
    let count = count.min(user_ids.len());
    let mut v: Vec<u64> = sample(rng, user_ids.len(), count).into_iter().map(|k| user_ids[k]).collect();
    v.sort_unstable();
    v
}

fn random_time(rng: &mut ChaCha8Rng, from_ms: i64, span_ms: i64) -> i64 {
    EPOCH_2018_MS + from_ms + rng.random_range(0..span_ms.max(1))
}

fn gen_user(rng: &mut ChaCha8Rng, i: usize, id: u64, user_ids: &[u64], groups: &[Group]) -> User {
    let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
    let local = format!("{}.{}{}", first.to_lowercase(), last.to_lowercase().replace('\'', ""), i);
    let (status, state) = if i < 32 {
        (STATUSES[i % 8], STATES[(i / 8) % 4])
    } else {
        let status = if rng.random_bool(0.85) { 1 } else { STATUSES[rng.random_range(0..STATUSES.len())] };
        let state = if rng.random_bool(0.9) { 1 } else { STATES[rng.random_range(0..STATES.len())] };
        (status, state)
    };
    let group_id = if rng.random_bool(0.8) { Some(groups[rng.random_range(0..groups.len())].id) } else { None };
    let manager_user_id = if i > 0 && rng.random_bool(0.3) { Some(user_ids[rng.random_range(0..i)]) } else { None };
    let created = random_time(rng, 0, 3 * YEAR_MS);
    let updated = created + rng.random_range(0..YEAR_MS);
    let activated_at = (status != 0).then(|| iso_millis(created + rng.random_range(0..86_400_000)));
    let last_login =
        (status != 0 && rng.random_bool(0.8)).then(|| iso_millis(updated - rng.random_range(0..86_400_000)));
    let password_changed_at = (status != 0 && status != 7).then(|| iso_millis(created + rng.random_range(0..YEAR_MS)));
    let invitation_sent_at = rng.random_bool(0.5).then(|| iso_millis(created - rng.random_range(0..3_600_000)));
    let locked_until = (status == 3).then(|| iso_millis(updated + 3_600_000));
    let username = if i % 13 == 5 { String::new() } else { local.clone() };
    let has_ad = rng.random_bool(0.2);
    let mut custom_attributes = BTreeMap::new();
    custom_attributes.insert("employee_number".to_string(), rng.random_bool(0.9).then(|| format!("E{:06}", i + 1)));
    custom_attributes
        .insert("cost_center".to_string(), rng.random_bool(0.7).then(|| format!("CC-{}", rng.random_range(100..200))));
    custom_attributes
        .insert("food".to_string(), rng.random_bool(0.6).then(|| FOODS[rng.random_range(0..FOODS.len())].to_string()));
    User {
        id,
        username,
        email: format!("{local}@example.com"),
        firstname: first.to_string(),
        lastname: last.to_string(),
        title: TITLES[rng.random_range(0..TITLES.len())].to_string(),
        department: DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())].to_string(),
        company: if rng.random_bool(0.7) { "Example Corp".to_string() } else { String::new() },
        comment: String::new(),
        phone: if rng.random_bool(0.5) {
            format!("+1555{:07}", rng.random_range(0..10_000_000u32))
        } else {
            String::new()
        },
        status,
        state,
        group_id,
        role_ids: Vec::new(),
        manager_user_id,
        manager_ad_id: None,
        directory_id: has_ad.then_some(77_001),
        external_id: has_ad.then(|| format!("ext-{id}")),
        distinguished_name: has_ad.then(|| format!("CN={first} {last},OU=Users,DC=example,DC=com")),
        member_of: None,
        samaccountname: has_ad.then(|| local.replace('.', "")),
        userprincipalname: has_ad.then(|| format!("{local}@example.com")),
        trusted_idp_id: None,
        preferred_locale_code: rng.random_bool(0.1).then(|| "en".to_string()),
        invalid_login_attempts: if status == 3 { 3 } else { rng.random_range(0..=2) },
        created_at: iso_millis(created),
        updated_at: iso_millis(updated),
        activated_at,
        last_login,
        password_changed_at,
        invitation_sent_at,
        locked_until,
        custom_attributes,
        // Counters, devices and assignments start empty (added by later passes).
        ..User::new(id, "")
    }
}

/// The simulator's current time in unix milliseconds (the machine's clock,
/// unless [`clock::fix_epoch`](super::clock::fix_epoch) fixed it).
pub fn now_millis() -> i64 {
    super::clock::now_millis()
}

/// The current wall-clock time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_iso() -> String {
    iso_millis(now_millis())
}

/// Formats unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Parses `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z]` into unix milliseconds (UTC).
pub fn parse_iso_millis(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('Z');
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if dp.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if let Some(t) = time {
        let (hms, frac) = match t.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (t, None),
        };
        let mut tp = hms.split(':');
        let h: i64 = tp.next()?.parse().ok()?;
        let mi: i64 = tp.next().map(str::parse).transpose().ok()?.unwrap_or(0);
        let sec: i64 = tp.next().map(str::parse).transpose().ok()?.unwrap_or(0);
        if tp.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        ms += (h * 3600 + mi * 60 + sec) * 1000;
        if let Some(f) = frac {
            let digits: String = f.chars().take(3).collect();
            if digits.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let v: i64 = digits.parse().ok()?;
            ms += v * 10_i64.pow(3 - digits.len() as u32);
        }
    }
    Some(ms)
}

// Howard Hinnant's civil calendar algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips() {
        let ms = 1_628_132_256_136;
        let s = iso_millis(ms);
        assert_eq!(s, "2021-08-05T02:57:36.136Z");
        assert_eq!(parse_iso_millis(&s), Some(ms));
        assert_eq!(parse_iso_millis("2021-08-05"), Some(1_628_121_600_000));
        assert_eq!(parse_iso_millis("garbage"), None);
    }

    #[test]
    fn same_seed_gives_identical_tenant_json() {
        let a = serde_json::to_string(&Tenant::generate(300, 7)).unwrap();
        let b = serde_json::to_string(&Tenant::generate(300, 7)).unwrap();
        assert_eq!(a, b);
        let c = serde_json::to_string(&Tenant::generate(300, 8)).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn tenant_covers_every_status_state_and_role_shape() {
        let t = Tenant::generate(250, 3);
        assert_eq!(t.users.len(), 250);
        assert_eq!(t.groups.len(), 10);
        assert_eq!(t.roles.len(), 12);
        assert_eq!(t.apps.len(), 16);
        for s in STATUSES {
            assert!(t.users.iter().any(|u| u.status == s), "status {s}");
        }
        for s in STATES {
            assert!(t.users.iter().any(|u| u.state == s), "state {s}");
        }
        assert!(t.roles.iter().any(|r| r.users.is_empty()));
        assert!(t.roles.iter().any(|r| r.users.len() > 100));
        assert!(t.users.iter().any(|u| u.username.is_empty()));
        assert!(t.users.iter().any(|u| u.group_id.is_none()));
        assert!(t.users.iter().any(|u| u.custom_attributes.values().any(Option::is_none)));
        // role_ids agree with role membership.
        for u in &t.users {
            for r in &t.roles {
                assert_eq!(u.role_ids.contains(&r.id), r.users.contains(&u.id));
            }
        }
        // Id ranges of different kinds never collide.
        let mut all: Vec<u64> = t.users.iter().map(|u| u.id).collect();
        all.extend(t.roles.iter().map(|r| r.id));
        all.extend(t.groups.iter().map(|g| g.id));
        all.extend(t.apps.iter().map(|a| a.id));
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn extra_data_is_deterministic_and_mappings_grant_nothing_at_generation() {
        let a = Tenant::generate(120, 4);
        assert_eq!(a, Tenant::generate(120, 4));
        let with_devices = a.users.iter().filter(|u| !u.mfa_devices.is_empty()).count();
        assert!((20..=60).contains(&with_devices), "{with_devices}");
        assert!(a.users.iter().flat_map(|u| &u.mfa_devices).any(|d| !d.active));
        for u in &a.users {
            assert!(u.mfa_devices.iter().filter(|d| d.default).count() <= 1);
        }
        assert!((1..=2).contains(&a.mappings.len()));
        for m in &a.mappings {
            assert!(a.role(m.role_id).is_some());
            assert!(a.users.iter().any(|u| u.department == m.department));
        }
        assert!(a.roles.iter().all(|r| r.mapped_users.is_empty()));
        let mut b = a.clone();
        assert!(b.run_mappings(None) > 0);
        assert_eq!(b.run_mappings(None), 0);
    }

    #[test]
    fn tiny_tenants_generate() {
        for n in [0, 1, 2, 5] {
            let t = Tenant::generate(n, 1);
            assert_eq!(t.users.len(), n);
            assert_eq!(t.roles.len(), 4);
        }
    }
}
