//! The sync cursor and checkpoint: what a host persists between pages and
//! between syncs.
//!
//! The cursor holds the plan (selected kinds, incremental bound, start time,
//! concurrency), the next step, the per-kind report and OneLogin's own page
//! cursors and positions; never credentials or tokens. It is bound to one
//! account, so a cursor from another tenant is refused, and kept under 4 KiB.
//! Encoded as base64url of a small JSON object.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::kinds::{Kind, Selection};
use crate::error::{Error, Result};

const VERSION: u32 = 2;
/// Cursors longer than this are refused without decoding (and never produced).
pub const MAX_LEN: usize = 4096;
/// Upstream error messages kept in the report are cut to this many characters.
const MAX_MESSAGE: usize = 160;
/// At most this many app ids are remembered as holding AWS rules.
pub const MAX_AWS_APPS: usize = 40;

/// The next unit of work. `c` is OneLogin's cursor for the page to read
/// (`None` = first page); `i` an index into a list a previous step read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case")]
pub enum Step {
    CustomAttributes,
    Groups {
        c: Option<String>,
    },
    Roles {
        c: Option<String>,
    },
    /// Admins of roles `i..` (all roles, sorted by id).
    RoleAdmins {
        i: usize,
    },
    Apps {
        c: Option<String>,
    },
    /// Rules of apps `i..` (all apps, sorted by id).
    Rules {
        i: usize,
    },
    /// The AWS IAM roles the rules name.
    AwsRoles,
    Privileges,
    /// Users and roles of privileges `i..`.
    PrivilegeLinks {
        i: usize,
    },
    Events {
        c: Option<String>,
    },
    /// Users `i..` of the users page read with cursor `c`.
    Users {
        c: Option<String>,
        i: usize,
    },
    /// Incremental only: users `i..` that events name but `updated_since` did not return.
    EventUsers {
        i: usize,
    },
}

impl Step {
    /// The phase name shown in progress.
    pub fn phase(&self) -> &'static str {
        match self {
            Step::CustomAttributes => "custom_attributes",
            Step::Groups { .. } => "groups",
            Step::Roles { .. } => "roles",
            Step::RoleAdmins { .. } => "role_admins",
            Step::Apps { .. } => "applications",
            Step::Rules { .. } => "app_rules",
            Step::AwsRoles => "aws_iam_roles",
            Step::Privileges | Step::PrivilegeLinks { .. } => "privileges",
            Step::Events { .. } => "events",
            Step::Users { .. } => "users",
            Step::EventUsers { .. } => "changed_users",
        }
    }

    /// The kind whose data this step reads.
    pub fn kind(&self) -> Kind {
        match self {
            Step::CustomAttributes | Step::Users { .. } | Step::EventUsers { .. } => Kind::Users,
            Step::Groups { .. } => Kind::Groups,
            Step::Roles { .. } | Step::RoleAdmins { .. } => Kind::Roles,
            Step::Apps { .. } => Kind::Apps,
            Step::Rules { .. } => Kind::AppRules,
            Step::AwsRoles => Kind::AwsIamRoles,
            Step::Privileges | Step::PrivilegeLinks { .. } => Kind::Privileges,
            Step::Events { .. } => Kind::Events,
        }
    }
}

/// How one kind went so far (the WIT `kind-status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    Complete,
    Skipped(String),
    Failed(Error),
}

/// What a sync reads; fixed on its first page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Tells this sync from others (the instance's clock when it began), so
    /// an instance knows whether what it remembers belongs to a cursor.
    pub id: u64,
    /// The selected kinds.
    pub kinds: Selection,
    /// Incremental: only changes since this unix time (the checkpoint).
    pub since: Option<i64>,
    /// When the sync began (OneLogin's clock, unix seconds), once known.
    pub t0: Option<i64>,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Apps whose rules grant AWS roles (so a resumed instance re-reads only
    /// those); `None` when not known yet or too many to carry.
    pub aws_apps: Option<Vec<u64>>,
}

/// The decoded cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    v: u32,
    /// The account the sync belongs to.
    pub account: String,
    pub plan: Plan,
    pub step: Step,
    /// Objects of the current phase read so far.
    pub done: u64,
    /// The status of each selected kind, in [`Selection::kinds`] order.
    pub report: Vec<(Kind, Status)>,
}

/// Cut a message to [`MAX_MESSAGE`] characters (the report travels in the cursor).
fn short(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE {
        return message.to_string();
    }
    let mut cut: String = message.chars().take(MAX_MESSAGE).collect();
    cut.push('…');
    cut
}

/// The error as kept in the report: same kind, message cut short.
pub fn shorten(error: Error) -> Error {
    match error {
        Error::Upstream { status, message } => Error::Upstream { status, message: short(&message) },
        Error::Transport { message, retryable } => Error::Transport { message: short(&message), retryable },
        Error::InsufficientScope(m) => Error::InsufficientScope(short(&m)),
        Error::NotFound(m) => Error::NotFound(short(&m)),
        Error::AuthenticationFailed(m) => Error::AuthenticationFailed(short(&m)),
        other => other,
    }
}

fn encode_json<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_json<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> Result<T> {
    if text.len() > MAX_LEN {
        return Err(Error::InvalidCursor(format!("{what} longer than this connector ever produces")));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| Error::InvalidCursor(format!("not a {what} of this connector")))?;
    serde_json::from_slice(&bytes).map_err(|_| Error::InvalidCursor(format!("not a {what} of this connector")))
}

impl Cursor {
    pub fn new(account: &str, plan: Plan, step: Step) -> Self {
        let report = plan.kinds.kinds().map(|kind| (kind, Status::Pending)).collect();
        Cursor { v: VERSION, account: account.to_string(), plan, step, done: 0, report }
    }

    /// Encode; if the result would be too long, drop what can be re-derived
    /// (the AWS app list) first.
    pub fn encode(&self) -> String {
        let text = encode_json(self);
        if text.len() <= MAX_LEN || self.plan.aws_apps.is_none() {
            return text;
        }
        let mut lighter = self.clone();
        lighter.plan.aws_apps = None;
        encode_json(&lighter)
    }

    /// Decode a cursor and check it belongs to `account`.
    pub fn decode(text: &str, account: &str) -> Result<Cursor> {
        let cursor: Cursor = decode_json(text, "cursor")?;
        if cursor.v != VERSION {
            return Err(Error::InvalidCursor(format!("cursor version {} is not supported", cursor.v)));
        }
        if cursor.account != account {
            return Err(Error::InvalidCursor("the cursor belongs to another OneLogin account".into()));
        }
        Ok(cursor)
    }

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
                    Status::Failed(error) => Status::Failed(shorten(error)),
                    Status::Skipped(reason) => Status::Skipped(short(&reason)),
                    other => other,
                };
            }
        }
    }
}

/// The checkpoint a complete sync returns: when it began, for whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    v: u32,
    pub account: String,
    /// Unix seconds (OneLogin's clock) when the sync began.
    pub t: i64,
}

impl Checkpoint {
    pub fn new(account: &str, t: i64) -> Self {
        Checkpoint { v: VERSION, account: account.to_string(), t }
    }

    pub fn encode(&self) -> String {
        encode_json(self)
    }

    pub fn decode(text: &str, account: &str) -> Result<Checkpoint> {
        let checkpoint: Checkpoint = decode_json(text, "checkpoint")?;
        if checkpoint.v != VERSION || checkpoint.account != account {
            return Err(Error::InvalidCursor("the checkpoint belongs to another account or version".into()));
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            id: 1,
            kinds: Selection::parse(&[]).unwrap(),
            since: None,
            t0: Some(1_800_000_000),
            concurrency: 8,
            aws_apps: Some(vec![10_000_001]),
        }
    }

    #[test]
    fn round_trip() {
        let mut cursor = Cursor::new("42", plan(), Step::Users { c: Some("bGltaXQ9NjUw".into()), i: 3 });
        cursor.settle(Kind::Privileges, Status::Skipped("no subscription".into()));
        cursor.settle(Kind::Events, Status::Failed(Error::Upstream { status: 500, message: "x".repeat(900) }));
        let decoded = Cursor::decode(&cursor.encode(), "42").unwrap();
        assert!(cursor.encode().len() < 1024, "{}", cursor.encode().len());
        assert_eq!(decoded.step, cursor.step);
        assert_eq!(decoded.status(Kind::Privileges), Some(&Status::Skipped("no subscription".into())));
        assert!(matches!(decoded.status(Kind::Events), Some(Status::Failed(Error::Upstream { status: 500, .. }))));
        assert!(decoded.pending(Kind::Users));
    }

    #[test]
    fn foreign_garbage_and_oversized_cursors_are_refused() {
        let cursor = Cursor::new("42", plan(), Step::CustomAttributes).encode();
        assert!(matches!(Cursor::decode(&cursor, "43"), Err(Error::InvalidCursor(_))));
        assert!(matches!(Cursor::decode("%%%", "42"), Err(Error::InvalidCursor(_))));
        assert!(matches!(Cursor::decode("e30", "42"), Err(Error::InvalidCursor(_))));
        assert!(matches!(Cursor::decode(&"A".repeat(5000), "42"), Err(Error::InvalidCursor(_))));
        let checkpoint = Checkpoint::new("42", 5).encode();
        assert_eq!(Checkpoint::decode(&checkpoint, "42").unwrap().t, 5);
        assert!(Checkpoint::decode(&checkpoint, "7").is_err());
        assert!(Checkpoint::decode(&cursor, "42").is_err());
    }
}
