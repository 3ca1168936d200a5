//! The sync cursor: where a sync is, in a form a host can persist and hand to
//! a fresh instance. It holds OneLogin's own page cursors and positions, never
//! credentials or tokens, and is bound to one account so a cursor from
//! another tenant is refused. Encoded as base64url of a small JSON object.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const VERSION: u32 = 1;
/// Cursors longer than this are refused without decoding.
const MAX_LEN: usize = 4096;

/// The next unit of work. `c` is OneLogin's cursor for the page to read
/// (`None` = first page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case")]
pub enum Step {
    Users {
        c: Option<String>,
    },
    Groups {
        c: Option<String>,
    },
    Roles {
        c: Option<String>,
    },
    /// Member users of the `i`-th role on the roles page read with cursor `r`.
    RoleMembers {
        r: Option<String>,
        i: usize,
        c: Option<String>,
    },
    Apps {
        c: Option<String>,
    },
}

impl Step {
    /// The phase name shown in progress.
    pub fn phase(&self) -> &'static str {
        match self {
            Step::Users { .. } => "users",
            Step::Groups { .. } => "groups",
            Step::Roles { .. } => "roles",
            Step::RoleMembers { .. } => "role_members",
            Step::Apps { .. } => "applications",
        }
    }
}

/// The decoded cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    v: u32,
    /// The account the sync belongs to.
    pub account: String,
    pub step: Step,
    /// Objects of the current phase read so far.
    pub done: u64,
}

impl Cursor {
    pub fn new(account: &str, step: Step, done: u64) -> Self {
        Cursor { v: VERSION, account: account.to_string(), step, done }
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// Decode a cursor and check it belongs to `account`.
    pub fn decode(text: &str, account: &str) -> Result<Cursor> {
        if text.len() > MAX_LEN {
            return Err(Error::InvalidCursor("longer than this connector ever produces".into()));
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| Error::InvalidCursor("not a cursor of this connector".into()))?;
        let cursor: Cursor = serde_json::from_slice(&bytes)
            .map_err(|_| Error::InvalidCursor("not a cursor of this connector".into()))?;
        if cursor.v != VERSION {
            return Err(Error::InvalidCursor(format!("cursor version {} is not supported", cursor.v)));
        }
        if cursor.account != account {
            return Err(Error::InvalidCursor("the cursor belongs to another OneLogin account".into()));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let cursor = Cursor::new("42", Step::RoleMembers { r: Some("bGltaXQ9NjUw".into()), i: 3, c: None }, 7);
        assert_eq!(Cursor::decode(&cursor.encode(), "42").unwrap(), cursor);
    }

    #[test]
    fn foreign_garbage_and_oversized_cursors_are_refused() {
        let cursor = Cursor::new("42", Step::Users { c: None }, 0).encode();
        assert!(matches!(Cursor::decode(&cursor, "43"), Err(Error::InvalidCursor(_))));
        assert!(matches!(Cursor::decode("%%%", "42"), Err(Error::InvalidCursor(_))));
        assert!(matches!(Cursor::decode("e30", "42"), Err(Error::InvalidCursor(_))));
        assert!(matches!(Cursor::decode(&"A".repeat(5000), "42"), Err(Error::InvalidCursor(_))));
    }
}
