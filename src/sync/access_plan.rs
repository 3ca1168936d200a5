//! The cost-based plan for user-to-app access (`user_apps`), chosen once per
//! full sync from counts already read.
//!
//! - **Per user** (the default): `GET /api/2/users/{id}/apps`, one call per
//!   user, with each pair's provisioning state and login id.
//! - **Per application**: `GET /api/2/apps/{id}/users`, one call per 1000
//!   users of each app (members of the roles granting it and direct
//!   assignments, the same access the per-user read lists). It carries no
//!   provisioning state, so it is used only when no application has
//!   provisioning enabled: OneLogin documents that such an app answers
//!   `provisioning_state "unknown"`, `provisioning_status "enabled"`,
//!   `provisioning_enabled false` for every user (`../shared/ONELOGIN_API.md`
//!   section 7, provisioning_state), which is what the grants then say;
//!   `login_id` is not known (null).
//!
//! The per-app reads cost at most `apps × ⌈users / 1000⌉` (every user reaching
//! every app); that bound must be at most half the per-user cost for the
//! plan to be chosen, so it is cheaper whatever the access looks like.
//! Incremental syncs always read per user (only changed users are read).

use serde_json::{json, Value};

use super::state::Plan;

/// Users per page of `GET /api/2/apps/{id}/users`.
const APP_USERS_PAGE: u64 = 1000;

/// Decide how the sync of `plan` reads user-to-app access, for `users` users
/// and `apps` apps. Returns what to tell the host (`sync-page.notes`): the
/// plan and the counts behind it.
pub fn choose(plan: &mut Plan, users: u64, apps: u64) -> String {
    let per_user = users;
    let per_app_bound = apps.saturating_mul(users.div_ceil(APP_USERS_PAGE).max(1));
    plan.access_by_app = plan.since.is_none() && !plan.provisioning && per_app_bound.saturating_mul(2) <= per_user;
    let counts = format!(
        "{users} users, {apps} applications: per-user plan {per_user} calls, per-application plan at most {per_app_bound}"
    );
    let why = if plan.since.is_some() {
        "an incremental sync reads changed users only"
    } else if plan.provisioning {
        "some application has provisioning, whose state only the per-user read gives"
    } else if plan.access_by_app {
        "no application has provisioning, and per application costs at most half"
    } else {
        "per application would not surely cost at most half"
    };
    let how = if plan.access_by_app {
        "per application (GET /api/2/apps/{id}/users)"
    } else {
        "per user (GET /api/2/users/{id}/apps)"
    };
    format!("user_apps: access read {how}; {counts}; {why}")
}

/// What the per-user read says of an app without provisioning, for access
/// read per application (see the module docs).
pub fn app_without_provisioning(app_id: u64) -> Value {
    json!({
        "id": app_id,
        "provisioning_enabled": false,
        "provisioning_state": "unknown",
        "provisioning_status": "enabled",
        "login_id": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(since: Option<i64>, provisioning: bool) -> Plan {
        Plan {
            id: 1,
            since,
            t0: Some(100),
            concurrency: 8,
            aws_apps: None,
            run: 0,
            provisioning,
            access_by_app: false,
            noted: Vec::new(),
        }
    }

    #[test]
    fn per_app_only_without_provisioning_on_a_full_sync_and_when_surely_cheaper() {
        let decide = |mut plan: Plan, users, apps| {
            choose(&mut plan, users, apps);
            plan.access_by_app
        };
        assert!(decide(plan(None, false), 1000, 67));
        assert!(!decide(plan(None, true), 1000, 67), "provisioning state is needed");
        assert!(!decide(plan(Some(5), false), 1000, 67), "incremental");
        assert!(!decide(plan(None, false), 100, 67), "67 calls are not surely cheaper than 100");
        assert!(!decide(plan(None, false), 100_000, 6666), "up to 666,600 calls");
        assert!(decide(plan(None, false), 100_000, 400));
    }

    #[test]
    fn the_note_names_the_plan_and_the_counts_behind_it() {
        let by_app = choose(&mut plan(None, false), 1000, 67);
        assert_eq!(
            by_app,
            "user_apps: access read per application (GET /api/2/apps/{id}/users); 1000 users, 67 applications: \
             per-user plan 1000 calls, per-application plan at most 67; no application has provisioning, and per \
             application costs at most half"
        );
        let by_user = choose(&mut plan(None, true), 1000, 67);
        assert!(by_user.starts_with("user_apps: access read per user (GET /api/2/users/{id}/apps); 1000 users"));
        assert!(by_user.ends_with("some application has provisioning, whose state only the per-user read gives"));
    }
}
