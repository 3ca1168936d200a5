//! What a sync has decided and learnt so far: its plan (fixed on the first
//! page) and the status of each selected kind. The cursor carries both; the
//! phases read the plan and settle kinds.

use serde::{Deserialize, Serialize};

use super::kinds::{Kind, Selection};
use crate::error::{Error, TransportKind};
use crate::identity::connector::types::{AccessLevel, ConnectorError, ErrorKind};
use crate::logging;

/// Upstream messages kept in the report are cut to this many characters
/// (the report travels in the cursor).
const MAX_MESSAGE: usize = 160;

/// What a sync reads; fixed on its first page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Tells this sync from others (the instance's clock when it began), so
    /// an instance knows whether what it remembers belongs to a cursor.
    pub id: u64,
    /// Incremental: only changes since this unix time (the checkpoint).
    pub since: Option<i64>,
    /// When the sync began (OneLogin's clock, unix seconds), once known.
    pub t0: Option<i64>,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Apps whose rules grant AWS roles (so a resumed instance re-reads only
    /// those); `None` when not known yet or too many to carry.
    pub aws_apps: Option<Vec<u64>>,
    /// Incremental syncs since the last full one, this one included (0: a
    /// full sync); picks this sync's share of the rotation (`rotation.rs`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub run: u64,
    /// Whether some application has provisioning enabled (the apps phase
    /// finds out).
    #[serde(default, skip_serializing_if = "is_false")]
    pub provisioning: bool,
    /// Whether user-to-app access is read per application rather than per
    /// user (the users phase decides; see `access_plan.rs`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub access_by_app: bool,
    /// The notes already given to the host (`sync-page.notes`), so that each
    /// is given once per sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noted: Vec<Topic>,
}

/// What a note of `sync-page.notes` is about; each is given once per sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Topic {
    /// How user-to-app access is read (`access_plan.rs`).
    #[serde(rename = "a")]
    AccessPlan,
    /// Role membership read from each role's member list, because OneLogin
    /// listed users without `role_ids`.
    #[serde(rename = "r")]
    RoleMembers,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How one kind went so far (the WIT `kind-status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Status {
    /// Selected, not read to the end yet.
    Pending,
    /// Read to the end.
    Complete,
    /// Not read, with the reason.
    Skipped(String),
    /// Reading it failed.
    Failed(Failure),
}

/// What the report keeps of a failure: the WIT error, with its message cut
/// short. A record of its own, so the cursor format does not depend on the
/// component's error type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The WIT `error-kind` case, e.g. `upstream`.
    pub kind: String,
    /// Its payload, if any (a status code, a field name, seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For people; no secrets.
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}

impl From<&Error> for Failure {
    fn from(error: &Error) -> Failure {
        let wit = ConnectorError::from(error.clone());
        let (kind, detail) = match wit.kind {
            ErrorKind::InvalidConfig(field) => ("invalid-config", Some(field)),
            ErrorKind::NotConfigured => ("not-configured", None),
            ErrorKind::AuthenticationFailed => ("authentication-failed", None),
            ErrorKind::InsufficientScope => ("insufficient-scope", None),
            ErrorKind::NotFound => ("not-found", None),
            ErrorKind::InvalidInput(field) => ("invalid-input", Some(field)),
            ErrorKind::RateLimited(seconds) => ("rate-limited", Some(seconds.to_string())),
            ErrorKind::Upstream(status) => ("upstream", Some(status.to_string())),
            ErrorKind::UnexpectedResponse(status) => ("unexpected-response", Some(status.to_string())),
            ErrorKind::Transport(kind) => ("transport", Some(crate::error::transport_kind_name(kind).to_string())),
            ErrorKind::InvalidCursor => ("invalid-cursor", None),
        };
        Failure { kind: kind.to_string(), detail, message: short(&wit.message), retryable: wit.retryable }
    }
}

impl Failure {
    /// Back to the WIT error. A record this version cannot read (an edited
    /// cursor cannot get here: cursors are authenticated) reads as upstream.
    pub fn to_wit(&self) -> ConnectorError {
        let detail = || self.detail.clone().unwrap_or_default();
        let number = || self.detail.as_deref().and_then(|d| d.parse::<u64>().ok()).unwrap_or(0);
        let status = || u16::try_from(number()).unwrap_or(0);
        let kind = match self.kind.as_str() {
            "invalid-config" => ErrorKind::InvalidConfig(detail()),
            "not-configured" => ErrorKind::NotConfigured,
            "authentication-failed" => ErrorKind::AuthenticationFailed,
            "insufficient-scope" => ErrorKind::InsufficientScope,
            "not-found" => ErrorKind::NotFound,
            "invalid-input" => ErrorKind::InvalidInput(detail()),
            "rate-limited" => ErrorKind::RateLimited(u32::try_from(number()).unwrap_or(u32::MAX)),
            "unexpected-response" => ErrorKind::UnexpectedResponse(status()),
            "transport" => ErrorKind::Transport(transport_kind(&detail())),
            "invalid-cursor" => ErrorKind::InvalidCursor,
            _ => ErrorKind::Upstream(status()),
        };
        ConnectorError { kind, message: self.message.clone(), retryable: self.retryable }
    }
}

/// A transport kind by its WIT name; a report of 0.4.0 (no detail) reads as
/// `connection`.
fn transport_kind(name: &str) -> TransportKind {
    crate::error::transport_kind_named(name).unwrap_or(TransportKind::Connection)
}

/// Cut a message to [`MAX_MESSAGE`] characters.
fn short(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE {
        return message.to_string();
    }
    let mut cut: String = message.chars().take(MAX_MESSAGE).collect();
    cut.push('…');
    cut
}

/// The plan and the status of every selected kind, in selection order.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    /// What the sync reads.
    pub plan: Plan,
    /// The status of each selected kind.
    pub report: Vec<(Kind, Status)>,
}

impl SyncState {
    /// A new sync: every selected kind pending.
    pub fn new(plan: Plan, selection: &Selection) -> Self {
        SyncState { plan, report: selection.kinds().map(|kind| (kind, Status::Pending)).collect() }
    }

    /// The selected kinds.
    pub fn selection(&self) -> impl Iterator<Item = Kind> + '_ {
        self.report.iter().map(|(kind, _)| *kind)
    }

    /// Whether `kind` is selected at all.
    pub fn selected(&self, kind: Kind) -> bool {
        self.selection().any(|k| k == kind)
    }

    /// The status of `kind`, `None` when it is not selected.
    pub fn status(&self, kind: Kind) -> Option<&Status> {
        self.report.iter().find(|(k, _)| *k == kind).map(|(_, s)| s)
    }

    /// Whether the kind is selected and still being read.
    pub fn pending(&self, kind: Kind) -> bool {
        matches!(self.status(kind), Some(Status::Pending))
    }

    /// Set a kind's status (only a pending kind changes).
    pub fn settle(&mut self, kind: Kind, status: Status) {
        if let Some((_, slot)) = self.report.iter_mut().find(|(k, _)| *k == kind) {
            if *slot == Status::Pending {
                *slot = match status {
                    Status::Skipped(reason) => Status::Skipped(short(&reason)),
                    other => other,
                };
            }
        }
    }

    /// Settle as skipped, before any call, every selected kind the
    /// credentials' `access` may not read (see `KindSpec::required_access`),
    /// and the selected kinds that need one of them.
    pub fn skip_beyond(&mut self, access: AccessLevel) {
        let refused: Vec<Kind> = self.selection().filter(|k| !k.readable_with(access)).collect();
        for kind in refused {
            self.settle(
                kind,
                Status::Skipped(format!(
                    "needs Manage All scope (OneLogin's docs reserve these reads for it); the credentials have {}: \
                     not read",
                    scope_name(access)
                )),
            );
            let dependents: Vec<Kind> = self.selection().filter(|k| k.requires.contains(&kind)).collect();
            for dependent in dependents {
                self.settle(
                    dependent,
                    Status::Skipped(format!("needs Manage All scope (through `{}`): not read", kind.name)),
                );
            }
        }
    }

    /// A kind cannot be read: settle it as skipped (OneLogin refused it: not
    /// licensed or not permitted) or failed (anything else), and the selected
    /// kinds that need it as skipped.
    pub fn give_up(&mut self, kind: Kind, error: &Error) {
        logging::warn(&format!("{}: {error}", kind.name));
        let status = match error {
            Error::InsufficientScope(_) | Error::NotFound(_) => {
                Status::Skipped(format!("OneLogin refused it ({error}); the account may lack the feature or the scope"))
            }
            _ => Status::Failed(Failure::from(error)),
        };
        self.settle(kind, status);
        let dependents: Vec<Kind> = self.selection().filter(|k| k.requires.contains(&kind)).collect();
        for dependent in dependents {
            self.settle(dependent, Status::Skipped(format!("needs `{}`, which was not read", kind.name)));
        }
    }
}

/// OneLogin's name for the scope behind an access level.
fn scope_name(access: AccessLevel) -> &'static str {
    match access {
        AccessLevel::Manage => "Manage All",
        AccessLevel::Read => "Read All (or another read scope)",
        AccessLevel::AuthenticateOnly => "Authentication Only",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_keep_the_wit_error_with_a_short_message() {
        let error = Error::Upstream { status: 500, message: "x".repeat(900) };
        let failure = Failure::from(&error);
        let wit = failure.to_wit();
        assert!(matches!(wit.kind, ErrorKind::Upstream(500)));
        assert!(wit.message.chars().count() <= MAX_MESSAGE + 1);
        assert!(wit.retryable);
        let limited = Failure::from(&Error::RateLimited { retry_after: 86_400 }).to_wit();
        assert!(matches!(limited.kind, ErrorKind::RateLimited(86_400)));
        let input = Failure::from(&Error::input("kinds", "bad")).to_wit();
        assert!(matches!(input.kind, ErrorKind::InvalidInput(ref f) if f == "kinds"));
    }
}
