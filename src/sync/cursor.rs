//! The sync cursor and checkpoint: what a host persists between pages and
//! between syncs.
//!
//! The cursor holds the plan, the per-kind report, the phase and position
//! to go on from (including OneLogin's own page cursor), and nothing secret.
//! It is JSON, then an HMAC-SHA256 tag keyed from the credentials and the
//! account ([`CursorKey`]): an edited cursor, or one from another account or
//! other credentials, is refused with `invalid-cursor` instead of being
//! obeyed. The cost: 22 more characters per cursor, one hash per page, and
//! rotating the API credential invalidates cursors and checkpoints (the next
//! sync starts over in full).
//!
//! A cursor never exceeds [`MAX_LEN`]: it carries only OneLogin cursors up to
//! `MAX_CARRIED_CURSOR` (the engine never ends a page on a longer one) and,
//! if need be, report messages are shortened.

use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::kinds::Selection;
use super::phases::{self, Phase};
use super::state::{Plan, Status, SyncState};
use super::step::Position;
use crate::error::{Error, Result};

/// The cursor format; a cursor of another version is refused with a message
/// to start again.
const VERSION: u32 = 3;
/// Cursors longer than this are refused without decoding (and never produced).
pub const MAX_LEN: usize = 4096;
/// The length report messages are cut to when a cursor would be too long.
const TIGHT_MESSAGE: usize = 40;
/// Bytes of the HMAC tag kept.
const TAG_LEN: usize = 16;

/// The key cursors and checkpoints are authenticated with.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    /// Derive the key from the API credential and the account: only the same
    /// credential on the same account can resume a sync or use a checkpoint.
    pub fn derive(client_id: &str, client_secret: &str, account_id: &str) -> CursorKey {
        let mut mac = hmac(&Sha256::digest(client_secret.as_bytes()).into());
        for part in ["onelogin-connector cursor", client_id, account_id] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        CursorKey(mac.finalize().into_bytes().into())
    }

    fn seal(&self, json: &[u8]) -> String {
        let mut mac = hmac(&self.0);
        mac.update(json);
        let tag = mac.finalize().into_bytes();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}", b64.encode(json), b64.encode(tag.get(..TAG_LEN).unwrap_or_default()))
    }

    /// The JSON inside `text`, if its tag is this key's.
    fn open(&self, text: &str, what: &str) -> Result<Vec<u8>> {
        let refused =
            || Error::InvalidCursor(format!("not a {what} this connector produced for this account and credentials"));
        if text.len() > MAX_LEN {
            return Err(Error::InvalidCursor(format!("{what} longer than this connector ever produces")));
        }
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (body, tag) = text.trim().split_once('.').ok_or_else(refused)?;
        let json = b64.decode(body).map_err(|_| refused())?;
        let tag = b64.decode(tag).map_err(|_| refused())?;
        let mut mac = hmac(&self.0);
        mac.update(&json);
        mac.verify_truncated_left(&tag).map_err(|_| refused())?;
        Ok(json)
    }
}

/// HMAC-SHA256 with a 32-byte key, zero-padded to the 64-byte block as HMAC
/// itself pads it (so no fallible key-length check is involved).
fn hmac(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    block.iter_mut().zip(key).for_each(|(b, k)| *b = *k);
    <Hmac<Sha256> as KeyInit>::new(&block.into())
}

/// The decoded cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The plan and the report.
    pub state: SyncState,
    /// The phase to go on with.
    pub phase: Phase,
    /// Where in it.
    pub at: Position,
    /// Objects of the current phase read so far.
    pub done: u64,
    /// Phases finished so far.
    pub phases_done: u32,
    /// Objects read so far, over all phases.
    pub overall_done: u64,
    /// The adaptive concurrency limit when the page ended, if below the
    /// plan's (so an instance resuming the sync starts there).
    pub limit: Option<u32>,
}

/// The cursor as it is written.
#[derive(Serialize, Deserialize)]
struct Wire {
    v: u32,
    plan: Plan,
    report: Vec<(String, Status)>,
    p: Phase,
    #[serde(flatten)]
    at: Position,
    done: u64,
    /// Phases finished (absent in cursors of 0.4.0: 0).
    #[serde(default)]
    pd: u32,
    /// Objects read over all phases (absent in cursors of 0.4.0: 0).
    #[serde(default)]
    od: u64,
    /// The adaptive concurrency limit, when below the plan's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lim: Option<u32>,
}

impl Cursor {
    /// Encode and seal. If the result would be too long, drop what can be
    /// re-derived (the AWS app list), then shorten the report's messages.
    pub fn encode(&self, key: &CursorKey) -> String {
        let mut wire = Wire {
            v: VERSION,
            plan: self.state.plan.clone(),
            report: self.state.report.iter().map(|(k, s)| (k.name.to_string(), s.clone())).collect(),
            p: self.phase,
            at: self.at.clone(),
            done: self.done,
            pd: self.phases_done,
            od: self.overall_done,
            lim: self.limit,
        };
        let mut text = seal_json(&wire, key);
        if text.len() > MAX_LEN {
            wire.plan.aws_apps = None;
            text = seal_json(&wire, key);
        }
        if text.len() > MAX_LEN {
            for (_, status) in &mut wire.report {
                match status {
                    Status::Skipped(reason) => *reason = cut(reason, TIGHT_MESSAGE),
                    Status::Failed(failure) => failure.message = cut(&failure.message, TIGHT_MESSAGE),
                    _ => {}
                }
            }
            text = seal_json(&wire, key);
        }
        text
    }

    /// Open a cursor and check it is whole, this version's, and names only
    /// kinds this connector has.
    pub fn decode(text: &str, key: &CursorKey) -> Result<Cursor> {
        let json = key.open(text, "cursor")?;
        let version: Versioned = serde_json::from_slice(&json).map_err(|_| garbled())?;
        if version.v != VERSION {
            return Err(Error::InvalidCursor(format!(
                "cursor version {} comes from another version of this connector; start the sync again",
                version.v
            )));
        }
        let wire: Wire = serde_json::from_slice(&json).map_err(|_| garbled())?;
        let all = phases::kinds();
        let selection =
            Selection::from_names(wire.report.iter().map(|(name, _)| name.as_str()), &all).ok_or_else(garbled)?;
        let report = selection.kinds().zip(wire.report.into_iter().map(|(_, status)| status)).collect();
        let state = SyncState { plan: wire.plan, report };
        Ok(Cursor {
            state,
            phase: wire.p,
            at: wire.at,
            done: wire.done,
            phases_done: wire.pd,
            overall_done: wire.od,
            limit: wire.lim,
        })
    }
}

#[derive(Deserialize)]
struct Versioned {
    v: u32,
}

fn garbled() -> Error {
    Error::InvalidCursor("the cursor does not read as this connector's; start the sync again".into())
}

fn seal_json<T: Serialize>(value: &T, key: &CursorKey) -> String {
    key.seal(&serde_json::to_vec(value).unwrap_or_default())
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> String {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_string()
}

/// The checkpoint a complete sync returns: when it began (OneLogin's clock,
/// unix seconds), and what the incremental rotation needs (see
/// `rotation.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    v: u32,
    /// Unix seconds when the sync began.
    pub t: i64,
    /// Incremental syncs since the last full one (0: a full sync).
    #[serde(default)]
    pub r: u64,
    /// The apps known to hold AWS rules, when few enough to carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Vec<u64>>,
}

impl Checkpoint {
    /// The checkpoint of a full sync that began at `t`.
    #[cfg(test)]
    pub fn new(t: i64) -> Self {
        Checkpoint { v: VERSION, t, r: 0, aws: None }
    }

    /// The checkpoint of the sync `plan` describes, which began at `t`.
    pub fn of(plan: &Plan, t: i64) -> Self {
        Checkpoint { v: VERSION, t, r: plan.run, aws: plan.aws_apps.clone() }
    }

    /// Encode and seal.
    pub fn encode(&self, key: &CursorKey) -> String {
        seal_json(self, key)
    }

    /// Open a checkpoint and check it is this version's.
    pub fn decode(text: &str, key: &CursorKey) -> Result<Checkpoint> {
        let json = key.open(text, "checkpoint")?;
        let checkpoint: Checkpoint = serde_json::from_slice(&json).map_err(|_| garbled())?;
        if checkpoint.v != VERSION {
            return Err(Error::InvalidCursor("the checkpoint comes from another version; run a full sync".into()));
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::pagination::{PageCursor, MAX_CARRIED_CURSOR};
    use crate::sync::state::{Failure, Topic};

    fn failed(error: &Error) -> Status {
        Status::Failed(Failure::from(error))
    }

    fn key() -> CursorKey {
        CursorKey::derive("id", "secret", "42")
    }

    fn cursor() -> Cursor {
        let all = phases::kinds();
        let plan = Plan {
            id: 1,
            since: None,
            t0: Some(1_800_000_000),
            concurrency: 8,
            aws_apps: Some(vec![10_000_001]),
            run: 0,
            provisioning: true,
            access_by_app: false,
            noted: vec![Topic::AccessPlan],
        };
        let state = SyncState::new(plan, &Selection::parse(&[], &all).unwrap());
        let at = Position {
            page: PageCursor { next: Some("bGltaXQ9NjUw".into()), pages: 2, previous: 7 },
            i: 3,
            lanes: Vec::new(),
        };
        Cursor { state, phase: Phase::Users, at, done: 12, phases_done: 4, overall_done: 345, limit: Some(5) }
    }

    #[test]
    fn round_trip() {
        let mut cursor = cursor();
        let all = phases::kinds();
        cursor.state.settle(all[4], Status::Skipped("no subscription".into()));
        // A default-selected kind (the opt-in `events` would not change).
        let users = *all.iter().find(|k| k.name == "users").unwrap();
        cursor.state.settle(users, failed(&Error::Upstream { status: 500, message: "x".repeat(900) }));
        let text = cursor.encode(&key());
        assert!(text.len() < 1024, "{}", text.len());
        let decoded = Cursor::decode(&text, &key()).unwrap();
        assert_eq!((decoded.phase, &decoded.at, decoded.done), (Phase::Users, &cursor.at, 12));
        assert_eq!((decoded.phases_done, decoded.overall_done, decoded.limit), (4, 345, Some(5)));
        assert_eq!(decoded.state.status(all[4]), Some(&Status::Skipped("no subscription".into())));
        assert!(matches!(decoded.state.status(users), Some(Status::Failed(f)) if f.kind == "upstream"));
    }

    #[test]
    fn edited_foreign_garbage_and_oversized_cursors_are_refused() {
        let text = cursor().encode(&key());
        let refused = |text: &str, key: &CursorKey| matches!(Cursor::decode(text, key), Err(Error::InvalidCursor(_)));
        assert!(refused(&text, &CursorKey::derive("id", "secret", "43")), "another account");
        assert!(refused(&text, &CursorKey::derive("id", "rotated", "42")), "other credentials");
        let (body, tag) = text.split_once('.').unwrap();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let edited = String::from_utf8(b64.decode(body).unwrap()).unwrap().replace("\"done\":12", "\"done\":13");
        assert!(refused(&format!("{}.{tag}", b64.encode(edited)), &key()), "edited");
        for garbage in ["%%%", "e30", "e30.AAAA", ""] {
            assert!(refused(garbage, &key()), "{garbage:?}");
        }
        assert!(refused(&"A".repeat(5000), &key()));
        let checkpoint = Checkpoint::new(5).encode(&key());
        assert_eq!(Checkpoint::decode(&checkpoint, &key()).unwrap().t, 5);
        assert!(Checkpoint::decode(&checkpoint, &CursorKey::derive("id", "secret", "7")).is_err());
        assert!(Checkpoint::decode(&text, &key()).is_err());
    }

    #[test]
    fn a_cursor_stays_under_its_limit_whatever_upstream_sent() {
        let mut cursor = cursor();
        cursor.at.page.next = Some("Z".repeat(MAX_CARRIED_CURSOR));
        cursor.state.plan.aws_apps = Some((0..40).map(|i| u64::MAX - i).collect());
        let long = "\"é\\".repeat(400);
        for (i, kind) in phases::kinds().into_iter().enumerate() {
            let error = Error::Upstream { status: 500, message: long.clone() };
            let status = if i % 2 == 0 { failed(&error) } else { Status::Skipped(long.clone()) };
            cursor.state.settle(kind, status);
        }
        let text = cursor.encode(&key());
        assert!(text.len() <= MAX_LEN, "{}", text.len());
        assert_eq!(Cursor::decode(&text, &key()).unwrap().at, cursor.at);
    }
}
