//! The bounded rotation of incremental syncs.
//!
//! OneLogin gives no change signal for a role's admins, an app's rules, a
//! privilege's holders or who can reach an app: no `updated_since` on those
//! endpoints, and no event type for them among those known
//! (`../shared/ONELOGIN_API.md` 3.6: 1/2 app added to / removed from a role,
//! 4 and 147-150 user added to / removed from a role, which the roles list
//! and the changed users already cover). So an incremental sync re-reads a
//! share of them: run `n` after a full sync (the checkpoint counts) re-reads
//! the items whose id falls in slot `n mod K` ([`ROTATION_RUNS`] = K), and
//! every item is re-read at least once every K incremental syncs. A slot is
//! picked from the item's id, not its position in a list, so items created
//! or deleted in between do not shift the others out of their turn. A sync
//! that fails returns no checkpoint: the next one retries the same slot.

use super::state::Plan;
use crate::client::pagination::fingerprint;

/// K: every role's admins, app's rules and privilege's holders are re-read
/// at least once every this many incremental syncs.
pub const ROTATION_RUNS: u64 = 12;

/// Whether the item with numeric id `id` is read by the sync of `plan`:
/// always on a full sync; on an incremental one, when its slot is due.
pub fn due(plan: &Plan, id: u64) -> bool {
    plan.since.is_none() || id % ROTATION_RUNS == plan.run % ROTATION_RUNS
}

/// [`due`] for an item with a string id (privileges).
pub fn due_key(plan: &Plan, id: &str) -> bool {
    due(plan, fingerprint(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(since: Option<i64>, run: u64) -> Plan {
        Plan {
            id: 1,
            since,
            t0: Some(100),
            concurrency: 8,
            aws_apps: None,
            run,
            provisioning: false,
            access_by_app: false,
            noted: Vec::new(),
        }
    }

    #[test]
    fn a_full_sync_reads_everything_and_k_incremental_syncs_read_each_item_once() {
        let ids: Vec<u64> = (0..1000).map(|i| i * 7919 + 13).collect();
        assert!(ids.iter().all(|id| due(&plan(None, 0), *id)));
        for id in &ids {
            let runs: Vec<u64> = (1..=ROTATION_RUNS).filter(|run| due(&plan(Some(1), *run), *id)).collect();
            assert_eq!(runs.len(), 1, "{id}: {runs:?}");
        }
        let per_run = ids.iter().filter(|id| due(&plan(Some(1), 5), **id)).count();
        assert!(per_run < ids.len() / 6, "{per_run}: a share, not everything");
        let keys = ["abc", "def", "0f8d"];
        for key in keys {
            assert_eq!((1..=ROTATION_RUNS).filter(|run| due_key(&plan(Some(1), *run), key)).count(), 1);
        }
    }

    #[test]
    fn describe_states_the_staleness_bound_of_every_rotated_kind() {
        use crate::sync::phases::{app_rules, privileges, roles, users};
        let bound = format!("every {ROTATION_RUNS} incremental syncs");
        let within = format!("within {ROTATION_RUNS} incremental syncs");
        for kind in [&roles::ROLES, &app_rules::APP_RULES, &privileges::PRIVILEGES] {
            assert!(kind.cost.contains(&bound), "{}: {}", kind.name, kind.cost);
        }
        assert!(users::AWS_IAM_ROLES.cost.contains(&within), "{}", users::AWS_IAM_ROLES.cost);
    }
}
