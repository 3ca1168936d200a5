//! Tombstones: what disappeared between two **full** syncs of one account.
//!
//! [`tombstones`] compares two [`SyncOutput`]s by key:
//!
//! * every entity key of `previous` that `current` lacks gives an
//!   [`Tombstone::Entity`] with status [`TombstoneStatus::Deprovisioned`];
//! * every relationship of `previous`, identified by `(class, from-key,
//!   to-key, entitlement)` (the `entitlement` property tells a role's
//!   member grant from its admin grant), that `current` lacks gives a [`Tombstone::Relationship`]. A
//!   user's access to an application (class `ASSIGNED`, from
//!   `onelogin_user:*` to `onelogin_application:*`) that disappeared is
//!   [`TombstoneStatus::Suspended`] ("an assignment that disappeared since the
//!   last sync is suspended"); any other relationship is
//!   [`TombstoneStatus::Removed`]. Properties are not compared: a changed
//!   edge is not a removed one. When an entity disappears, each of its
//!   relationships gets its own tombstone too.
//! * entities of class [`RECORD_CLASS`] (`Record`: events, read over a
//!   moving time window) and their relationships are never tombstoned: an
//!   event that left the window was not deprovisioned.
//!
//! # What an incremental sync cannot see
//!
//! A sync started from a checkpoint returns only what *changed* since: the
//! OneLogin API lists no deletions (a deleted user, a removed role
//! membership or an unassigned application simply stops being listed), so
//! an incremental sync never says that something is gone. Its output is a
//! set of updates, not a picture of the tenant, and the absence of a key in
//! it means nothing. Diffing it as if it were full would tombstone nearly
//! everything. [`tombstones`] therefore refuses ([`DiffError::Incremental`])
//! when either side came from an incremental sync ([`SyncOutput::incremental`]):
//! hosts find deletions by running a full sync now and then and diffing it
//! with the previous full one.
//!
//! The same holds, kind by kind, within a full sync: a kind that was
//! `skipped` or `failed` (see `kind-status` in the WIT) says nothing about
//! the absence of its records. [`tombstones`] refuses
//! ([`DiffError::Incomplete`]) when a kind that was `complete` in `previous`
//! is not `complete` in `current`, and when a kind of either sync is still
//! `pending`. It also refuses to compare syncs of two different accounts
//! ([`DiffError::DifferentAccounts`], judged by the entities of class
//! `Account`).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::sync::{key_type, SyncOutput};
use super::types::{KindReport, KindStatus, Relationship};

/// The data-model class of log records (events): never tombstoned.
pub const RECORD_CLASS: &str = "Record";

/// What happened to a record that disappeared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TombstoneStatus {
    /// An entity that is gone (deleted in the identity system).
    Deprovisioned,
    /// A user's access to an application that is gone.
    Suspended,
    /// Any other relationship that is gone.
    Removed,
}

impl TombstoneStatus {
    /// The lowercase name, as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TombstoneStatus::Deprovisioned => "deprovisioned",
            TombstoneStatus::Suspended => "suspended",
            TombstoneStatus::Removed => "removed",
        }
    }
}

/// A record of `previous` that `current` lacks. Serialized (by
/// `host-test diff`) as one JSON object per line:
/// `{"record":"entity_tombstone","key","entity_type","status"}` or
/// `{"record":"relationship_tombstone","class","from_key","to_key","status"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Tombstone {
    /// An entity that disappeared.
    EntityTombstone {
        /// Its key, e.g. `onelogin_user:123`.
        key: String,
        /// Its entity type in `previous`.
        entity_type: String,
        /// Always [`TombstoneStatus::Deprovisioned`].
        status: TombstoneStatus,
    },
    /// A relationship that disappeared.
    RelationshipTombstone {
        /// Its class, e.g. `ASSIGNED`.
        class: String,
        /// The `from-key`.
        from_key: String,
        /// The `to-key`.
        to_key: String,
        /// The grant's `entitlement` property, for access relationships.
        #[serde(skip_serializing_if = "Option::is_none")]
        entitlement: Option<String>,
        /// [`TombstoneStatus::Suspended`] for user → application access,
        /// else [`TombstoneStatus::Removed`].
        status: TombstoneStatus,
    },
}

impl Tombstone {
    /// The tombstone's status.
    pub fn status(&self) -> TombstoneStatus {
        match self {
            Tombstone::EntityTombstone { status, .. } | Tombstone::RelationshipTombstone { status, .. } => *status,
        }
    }
}

/// Why two outputs cannot be diffed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// One side came from an incremental sync.
    #[error(
        "the {0} output came from an incremental sync, which returns only changes and never deletions; \
         tombstones need two full syncs"
    )]
    Incremental(Side),
    /// A kind's records may be missing from one side for a reason other
    /// than deletion.
    #[error("kind `{kind}` is {status} in the {side} sync: the absence of its records there means nothing")]
    Incomplete {
        /// The sync kind, e.g. `users`.
        kind: String,
        /// Which side.
        side: Side,
        /// Its status there, e.g. `skipped (not licensed)` or `missing`.
        status: String,
    },
    /// The two syncs read different accounts.
    #[error("the syncs are of different accounts ({previous} vs {current})")]
    DifferentAccounts {
        /// The account keys of `previous`.
        previous: String,
        /// The account keys of `current`.
        current: String,
    },
}

/// Which of the two outputs an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The earlier sync.
    Previous,
    /// The later sync.
    Current,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Previous => "previous",
            Side::Current => "current",
        })
    }
}

/// The class, from and to of a user's access to an application, whose
/// disappearance is a suspension.
fn is_app_access(relationship: &Relationship) -> bool {
    relationship.class == "ASSIGNED"
        && key_type(&relationship.from_key) == "onelogin_user"
        && key_type(&relationship.to_key) == "onelogin_application"
}

/// The identity of a relationship: `(class, from-key, to-key, entitlement)`.
fn relationship_id(relationship: &Relationship) -> (&str, &str, &str, Option<String>) {
    (&relationship.class, &relationship.from_key, &relationship.to_key, entitlement(relationship))
}

/// The `entitlement` property of a grant (see the access view in the WIT).
fn entitlement(relationship: &Relationship) -> Option<String> {
    let properties: serde_json::Value = serde_json::from_str(&relationship.properties).ok()?;
    properties.get("entitlement")?.as_str().map(str::to_string)
}

/// A kind status for error messages.
fn status_text(status: &KindStatus) -> String {
    match status {
        KindStatus::Pending => "pending".into(),
        KindStatus::Complete => "complete".into(),
        KindStatus::Skipped(reason) => format!("skipped ({reason})"),
        KindStatus::Failed(error) => format!("failed ({})", error.message),
    }
}

/// The keys of the `Account` entities of an output, joined for messages.
fn account_keys(output: &SyncOutput) -> BTreeSet<&str> {
    output.entities.iter().filter(|e| e.classes.iter().any(|c| c == "Account")).map(|e| e.key.as_str()).collect()
}

/// Checks that `current` can be compared with `previous` (see the module
/// docs): both full, no kind pending, every kind complete in `previous` also
/// complete in `current`, and the same account.
pub fn check_comparable(previous: &SyncOutput, current: &SyncOutput) -> Result<(), DiffError> {
    for (output, side) in [(previous, Side::Previous), (current, Side::Current)] {
        if output.incremental {
            return Err(DiffError::Incremental(side));
        }
        if let Some(pending) = output.report.iter().find(|r| matches!(r.status, KindStatus::Pending)) {
            return Err(DiffError::Incomplete { kind: pending.kind.clone(), side, status: "pending".into() });
        }
    }
    let current_status: BTreeMap<&str, &KindReport> = current.report.iter().map(|r| (r.kind.as_str(), r)).collect();
    for report in previous.report.iter().filter(|r| matches!(r.status, KindStatus::Complete)) {
        match current_status.get(report.kind.as_str()).map(|r| &r.status) {
            Some(KindStatus::Complete) => {}
            other => {
                return Err(DiffError::Incomplete {
                    kind: report.kind.clone(),
                    side: Side::Current,
                    status: other.map_or_else(|| "missing from the report".into(), status_text),
                })
            }
        }
    }
    let (before, after) = (account_keys(previous), account_keys(current));
    if !before.is_empty() && !after.is_empty() && before.is_disjoint(&after) {
        let join = |keys: BTreeSet<&str>| keys.into_iter().collect::<Vec<_>>().join(", ");
        return Err(DiffError::DifferentAccounts { previous: join(before), current: join(after) });
    }
    Ok(())
}

/// The tombstones of everything in `previous` that `current` lacks, in
/// `previous`'s order (entities first, then relationships), each key or
/// relationship once. Refuses (see [`check_comparable`]) unless both are
/// comparable full syncs of one account.
pub fn tombstones(previous: &SyncOutput, current: &SyncOutput) -> Result<Vec<Tombstone>, DiffError> {
    check_comparable(previous, current)?;
    let current_entities: HashSet<&str> = current.entities.iter().map(|e| e.key.as_str()).collect();
    let current_relationships: HashSet<(&str, &str, &str, Option<String>)> =
        current.relationships.iter().map(relationship_id).collect();

    let log_records: HashSet<&str> = previous
        .entities
        .iter()
        .filter(|e| e.classes.iter().any(|c| c == RECORD_CLASS))
        .map(|e| e.key.as_str())
        .collect();

    let mut seen_entities = HashSet::new();
    let mut out = Vec::new();
    for entity in &previous.entities {
        let gone = !current_entities.contains(entity.key.as_str()) && !log_records.contains(entity.key.as_str());
        if gone && seen_entities.insert(entity.key.as_str()) {
            out.push(Tombstone::EntityTombstone {
                key: entity.key.clone(),
                entity_type: entity.entity_type.clone(),
                status: TombstoneStatus::Deprovisioned,
            });
        }
    }
    let mut seen_relationships = HashSet::new();
    for relationship in &previous.relationships {
        let id = relationship_id(relationship);
        let of_log_record =
            log_records.contains(relationship.from_key.as_str()) || log_records.contains(relationship.to_key.as_str());
        if !current_relationships.contains(&id) && !of_log_record && seen_relationships.insert(id) {
            let status =
                if is_app_access(relationship) { TombstoneStatus::Suspended } else { TombstoneStatus::Removed };
            out.push(Tombstone::RelationshipTombstone {
                class: relationship.class.clone(),
                from_key: relationship.from_key.clone(),
                to_key: relationship.to_key.clone(),
                entitlement: entitlement(relationship),
                status,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::types::{ConnectorError, Entity, ErrorKind};

    fn entity(key: &str) -> Entity {
        let entity_type = key_type(key).to_string();
        let classes = vec![if entity_type == "onelogin_account" { "Account" } else { "User" }.to_string()];
        Entity { key: key.into(), entity_type, classes, display_name: key.into(), properties: "{}".into() }
    }

    fn rel(class: &str, from: &str, to: &str, properties: &str) -> Relationship {
        Relationship { class: class.into(), from_key: from.into(), to_key: to.into(), properties: properties.into() }
    }

    fn report(kind: &str, status: KindStatus) -> KindReport {
        KindReport { kind: kind.into(), status }
    }

    fn full(entities: &[&str], relationships: Vec<Relationship>) -> SyncOutput {
        SyncOutput {
            entities: entities.iter().map(|k| entity(k)).collect(),
            relationships,
            pages: 1,
            report: vec![report("users", KindStatus::Complete), report("roles", KindStatus::Complete)],
            ..SyncOutput::default()
        }
    }

    const ACCOUNT: &str = "onelogin_account:1";
    const ADA: &str = "onelogin_user:10";
    const BOB: &str = "onelogin_user:11";
    const APP: &str = "onelogin_application:20";
    const ROLE: &str = "onelogin_role:30";

    #[test]
    fn missing_entities_are_deprovisioned_and_missing_access_is_suspended() {
        let previous = full(
            &[ACCOUNT, ADA, BOB, APP, ROLE],
            vec![
                rel("HAS", ACCOUNT, ADA, "{}"),
                rel("HAS", ACCOUNT, BOB, "{}"),
                rel("ASSIGNED", ADA, APP, r#"{"via":"onelogin_role:30"}"#),
                rel("ASSIGNED", BOB, APP, "{}"),
                rel("ASSIGNED", ADA, ROLE, "{}"),
                rel("ALLOWS", ROLE, APP, "{}"),
            ],
        );
        // Bob was deleted; Ada lost the app and the role but is still there;
        // the role still allows the app (with changed properties).
        let current = full(
            &[ACCOUNT, ADA, APP, ROLE],
            vec![rel("HAS", ACCOUNT, ADA, "{}"), rel("ALLOWS", ROLE, APP, "{\"x\":1}")],
        );
        let got = tombstones(&previous, &current).unwrap();
        let relationship = |class: &str, from: &str, to: &str, status| Tombstone::RelationshipTombstone {
            class: class.into(),
            from_key: from.into(),
            to_key: to.into(),
            entitlement: None,
            status,
        };
        assert_eq!(
            got,
            vec![
                Tombstone::EntityTombstone {
                    key: BOB.into(),
                    entity_type: "onelogin_user".into(),
                    status: TombstoneStatus::Deprovisioned
                },
                relationship("HAS", ACCOUNT, BOB, TombstoneStatus::Removed),
                relationship("ASSIGNED", ADA, APP, TombstoneStatus::Suspended),
                relationship("ASSIGNED", BOB, APP, TombstoneStatus::Suspended),
                relationship("ASSIGNED", ADA, ROLE, TombstoneStatus::Removed),
            ]
        );
        // A role's admin grant is told apart from its member grant.
        let member = r#"{"entitlement":"onelogin_entitlement:onelogin_role:7:member"}"#;
        let admin = r#"{"entitlement":"onelogin_entitlement:onelogin_role:7:admin"}"#;
        let both =
            full(&[ACCOUNT, ADA, ROLE], vec![rel("ASSIGNED", ADA, ROLE, member), rel("ASSIGNED", ADA, ROLE, admin)]);
        let member_only = full(&[ACCOUNT, ADA, ROLE], vec![rel("ASSIGNED", ADA, ROLE, member)]);
        let lost_admin = tombstones(&both, &member_only).unwrap();
        assert_eq!(lost_admin.len(), 1);
        assert!(
            matches!(&lost_admin[0], Tombstone::RelationshipTombstone { entitlement: Some(e), .. } if e.ends_with(":admin"))
        );
        let json = serde_json::to_value(&got[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"record": "entity_tombstone", "key": BOB, "entity_type": "onelogin_user",
                "status": "deprovisioned"})
        );
        assert_eq!(serde_json::to_value(&got[2]).unwrap()["status"], "suspended");
        assert_eq!(serde_json::to_value(&got[2]).unwrap()["record"], "relationship_tombstone");
    }

    #[test]
    fn identical_syncs_and_additions_give_no_tombstones() {
        let previous = full(&[ACCOUNT, ADA], vec![rel("HAS", ACCOUNT, ADA, "{}")]);
        assert_eq!(tombstones(&previous, &previous.clone()).unwrap(), vec![]);
        let grown = full(&[ACCOUNT, ADA, BOB], vec![rel("HAS", ACCOUNT, ADA, "{}"), rel("HAS", ACCOUNT, BOB, "{}")]);
        assert_eq!(tombstones(&previous, &grown).unwrap(), vec![]);
        // Duplicates in `previous` give one tombstone each.
        let mut doubled = grown.clone();
        doubled.entities.push(entity(BOB));
        doubled.relationships.push(rel("HAS", ACCOUNT, BOB, "{}"));
        assert_eq!(tombstones(&doubled, &previous).unwrap().len(), 2);
    }

    #[test]
    fn events_that_left_the_window_are_not_tombstoned() {
        let mut previous = full(&[ACCOUNT, ADA], vec![rel("ASSIGNED", "onelogin_event:5", ADA, "{}")]);
        previous.entities.push(Entity {
            key: "onelogin_event:5".into(),
            entity_type: "onelogin_event".into(),
            classes: vec![RECORD_CLASS.into()],
            display_name: "event 5".into(),
            properties: "{}".into(),
        });
        let current = full(&[ACCOUNT, ADA], vec![]);
        assert_eq!(tombstones(&previous, &current).unwrap(), vec![]);
    }

    #[test]
    fn refuses_incremental_outputs_on_either_side() {
        let full_sync = full(&[ACCOUNT, ADA], vec![]);
        let incremental = SyncOutput { incremental: true, ..full(&[ACCOUNT], vec![]) };
        assert_eq!(tombstones(&full_sync, &incremental), Err(DiffError::Incremental(Side::Current)));
        assert_eq!(tombstones(&incremental, &full_sync), Err(DiffError::Incremental(Side::Previous)));
        let message = DiffError::Incremental(Side::Current).to_string();
        assert!(message.contains("incremental") && message.contains("full"), "{message}");
    }

    #[test]
    fn refuses_when_a_kind_complete_before_is_not_complete_now() {
        let previous = full(&[ACCOUNT, ADA], vec![]);
        let failed = ConnectorError { kind: ErrorKind::Upstream(500), message: "boom".into(), retryable: true };
        for (status, shown) in [
            (KindStatus::Skipped("not licensed".into()), "skipped (not licensed)"),
            (KindStatus::Failed(failed), "failed (boom)"),
        ] {
            let mut current = full(&[ACCOUNT], vec![]);
            current.report[0].status = status;
            let error = tombstones(&previous, &current).unwrap_err();
            assert_eq!(
                error,
                DiffError::Incomplete { kind: "users".into(), side: Side::Current, status: shown.into() }
            );
        }
        let mut unreported = full(&[ACCOUNT], vec![]);
        unreported.report.remove(0);
        assert!(matches!(tombstones(&previous, &unreported), Err(DiffError::Incomplete { .. })));
        // A kind skipped before and complete now only adds records.
        let mut skipped_before = full(&[ACCOUNT], vec![]);
        skipped_before.report[0].status = KindStatus::Skipped("not selected".into());
        assert_eq!(tombstones(&skipped_before, &previous).unwrap(), vec![]);
        // A pending kind means the sync did not end.
        let mut pending = full(&[ACCOUNT, ADA], vec![]);
        pending.report[1].status = KindStatus::Pending;
        assert!(matches!(tombstones(&pending, &previous), Err(DiffError::Incomplete { side: Side::Previous, .. })));
    }

    #[test]
    fn refuses_syncs_of_different_accounts() {
        let previous = full(&[ACCOUNT, ADA], vec![]);
        let other = full(&["onelogin_account:2"], vec![]);
        assert!(matches!(tombstones(&previous, &other), Err(DiffError::DifferentAccounts { .. })));
    }
}
