//! Delegated-administration privileges (`/api/1/privileges*`): data and generation.
//!
//! A privilege is the py-sdk `Privilege` (`id` is a string; `privilege.Version` and
//! `privilege.Statement[{Effect, Action, Scope}]`, actions from the py-sdk enum) plus
//! the users and roles it is assigned to. Four are generated from the tenant's own
//! stream: three assigned to a few roles and users, one assigned to nobody.
//! Assumption (FIDELITY.md F-PRIV-7): the generated data shape.

use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::tenant::Tenant;

/// The policy language version OneLogin privileges carry.
pub const PRIVILEGE_VERSION: &str = "2018-05-18";

/// A privilege and its assignments.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Privilege {
    /// A string id (py-sdk `Privilege.id: str`).
    pub id: String,
    pub name: String,
    pub description: String,
    /// `Statement[0].Action`, e.g. `users:List`.
    pub actions: Vec<String>,
    /// `Statement[0].Scope`, e.g. `*`.
    pub scope: Vec<String>,
    /// Assigned user ids, sorted.
    pub users: Vec<u64>,
    /// Assigned role ids, sorted.
    pub roles: Vec<u64>,
}

const TEMPLATES: [(&str, &str, &[&str]); 4] = [
    (
        "User Administrator",
        "Manage users and their passwords",
        &["users:List", "users:Get", "users:Update", "users:Unlock", "users:ResetPassword", "users:ManageRoles"],
    ),
    (
        "Role Manager",
        "Manage role membership and apps",
        &["roles:List", "roles:Get", "roles:ManageUsers", "roles:ManageApps"],
    ),
    (
        "Auditor",
        "Read apps, events and reports",
        &["apps:List", "apps:Get", "events:List", "events:Get", "reports:List"],
    ),
    ("Helpdesk", "", &["users:List", "users:Get", "users:Unlock", "users:GenerateTempMfaToken", "groups:List"]),
];

impl Tenant {
    /// The privilege with `id`.
    pub fn privilege(&self, id: &str) -> Option<&Privilege> {
        self.privileges.iter().find(|p| p.id == id)
    }

    /// Generation step: the four privileges (see the module docs).
    pub(crate) fn gen_privileges(&mut self, rng: &mut ChaCha8Rng) {
        let mut out = Vec::with_capacity(TEMPLATES.len());
        for (k, (name, description, actions)) in TEMPLATES.iter().enumerate() {
            // A uuid-looking string id.
            let id = format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                rng.random::<u32>(),
                rng.random::<u16>(),
                rng.random_range(0..0x1000u16),
                rng.random_range(0..0x1000u16),
                rng.random_range(0..1u64 << 48)
            );
            let (users, roles) = if k == TEMPLATES.len() - 1 {
                (Vec::new(), Vec::new())
            } else {
                let nu = rng.random_range(1..=4usize).min(self.users.len());
                let mut users: Vec<u64> =
                    sample(rng, self.users.len(), nu).into_iter().map(|i| self.users[i].id).collect();
                users.sort_unstable();
                let nr = rng.random_range(1..=2usize).min(self.roles.len());
                let mut roles: Vec<u64> =
                    sample(rng, self.roles.len(), nr).into_iter().map(|i| self.roles[i].id).collect();
                roles.sort_unstable();
                (users, roles)
            };
            let scope = if k == 1 && !self.roles.is_empty() {
                self.roles.iter().take(2).map(|r| format!("roles/{}", r.id)).collect()
            } else {
                vec!["*".to_string()]
            };
            out.push(Privilege {
                id,
                name: name.to_string(),
                description: description.to_string(),
                actions: actions.iter().map(|a| a.to_string()).collect(),
                scope,
                users,
                roles,
            });
        }
        self.privileges = out;
    }
}
