//! Field variance: the shapes real OneLogin users come in besides the documented
//! one, served when [`super::SimulatorConfig::field_variance`] is
//! [`FieldVariance::Varied`]. Each user gets some of them, chosen by its id so a
//! tenant is always rendered the same way:
//!
//! - id % 2 == 0: `id`, `group_id`, `manager_user_id` and `role_ids` as numeric
//!   strings (FIDELITY.md F-DATA-6: python-sdk #100, `manager_user_id` "sometimes a
//!   string, sometimes an int");
//! - id % 2 == 1: `member_of` as an array of group DNs (FIDELITY.md F-DATA-8: go-sdk
//!   4.2 `[]string`), the others keep the `;`-joined string (py-sdk);
//! - `manager_ad_id` as a string (the manager's directory id, `ext-<id>`) for
//!   directory users with a manager (FIDELITY.md F-DATA-7: go-sdk #87);
//! - id % 3 == 0: null dates as the `0001-01-01T00:00:00.000Z` placeholder meaning
//!   "never" (FIDELITY.md F-DATA-5);
//! - id % 3 == 1: null fields left out instead of sent as null (FIDELITY.md
//!   F-DATA-13).
//!
//! - users without an email (id % 11 == 4) or without either email or username
//!   (id % 11 == 9), besides those without a username that every tenant has
//!   (FIDELITY.md F-DATA-4, F-DATA-14): [`drop_identities`] takes the values out
//!   of the tenant itself, so rules and lookups see the same users; a missing
//!   value is served as `null` when id % 4 < 2, else as `""` (and left out with
//!   the other nulls when id % 3 == 1).

use serde_json::{json, Value};

use super::tenant::{Tenant, User};

/// Which user shapes the simulator serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldVariance {
    /// One shape: the documented get-user sample's types (ids as numbers, `member_of` a
    /// string, null for no value).
    #[default]
    Documented,
    /// Every shape the evidence reports, spread over the users (see the module docs).
    Varied,
}

/// The placeholder date real tenants show for "never" (FIDELITY.md F-DATA-5).
pub const NEVER: &str = "0001-01-01T00:00:00.000Z";

/// Date fields that may be the "never" placeholder.
const DATES: [&str; 5] = ["activated_at", "last_login", "password_changed_at", "invitation_sent_at", "locked_until"];

/// Takes the email (id % 11 == 4), or the email and the username (id % 11 == 9),
/// away from some users: real tenants have users without them (the j1 HAR's
/// `"username":""`; the docs' create-user needs only one of the two, and directory
/// imports need neither). Assumption (FIDELITY.md F-DATA-14): which users, and that
/// users with neither exist.
pub fn drop_identities(tenant: &mut Tenant) {
    for user in &mut tenant.users {
        match user.id % 11 {
            4 => user.email.clear(),
            9 => {
                user.email.clear();
                user.username.clear();
            }
            _ => {}
        }
    }
}

/// Rewrites a v2 user object (as [`super::routes::users::v2_user`] renders it) into
/// its varied shape.
pub fn vary(tenant: &Tenant, user: &User, value: &mut Value) {
    let Value::Object(fields) = value else { return };
    let id = user.id;
    if id.is_multiple_of(2) {
        fields.insert("id".into(), json!(id.to_string()));
        for name in ["group_id", "manager_user_id"] {
            if let Some(Value::Number(n)) = fields.get(name) {
                let text = n.to_string();
                fields.insert(name.into(), json!(text));
            }
        }
        if fields.contains_key("role_ids") {
            let ids: Vec<String> = user.role_ids.iter().map(u64::to_string).collect();
            fields.insert("role_ids".into(), json!(ids));
        }
    } else if let Some(member_of) = &user.member_of {
        let groups: Vec<&str> = member_of.split(';').collect();
        fields.insert("member_of".into(), json!(groups));
    }
    let manager_ad = user
        .directory_id
        .and(user.manager_user_id)
        .and_then(|m| tenant.user(m))
        .map(|m| m.external_id.clone().unwrap_or_else(|| format!("ext-{}", m.id)));
    if let Some(ad_id) = manager_ad {
        fields.insert("manager_ad_id".into(), json!(ad_id));
    }
    if id % 4 < 2 {
        for name in ["email", "username"] {
            if fields.get(name).and_then(Value::as_str).is_some_and(str::is_empty) {
                fields.insert(name.into(), Value::Null);
            }
        }
    }
    match id % 3 {
        0 => {
            for name in DATES {
                if fields.get(name) == Some(&Value::Null) {
                    fields.insert(name.into(), json!(NEVER));
                }
            }
        }
        1 => fields.retain(|_, v| !v.is_null()),
        _ => {}
    }
}
