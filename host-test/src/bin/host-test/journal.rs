//! The state of a resumable sync (`host-test sync --state DIR`).
//!
//! `DIR` holds two files:
//!
//! * `records.jsonl`: the records so far, one JSON line each, appended and
//!   flushed (fsync) after every page;
//! * `state.json`: the cursor to continue from, the byte length of
//!   `records.jsonl` that goes with it, the options, counts, request
//!   statistics and the last per-kind report. It is replaced atomically
//!   (written to `state.json.tmp`, synced, renamed) after the page's records
//!   are on disk.
//!
//! A process killed between the two steps leaves records that no committed
//! state accounts for; [`Journal::open`] truncates `records.jsonl` back to
//! the committed length, and the page is fetched again from the committed
//! cursor. So a resumed sync neither loses nor repeats a record.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of `state.json` this host writes and reads.
pub const STATE_VERSION: u32 = 1;

/// What a sync was started with: kept so that `--resume` continues the same sync.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOptions {
    /// `--kinds` (empty: the connector's defaults).
    pub kinds: Vec<String>,
    /// `--max-items`.
    pub max_items: u32,
    /// `--concurrency`, after clamping.
    pub concurrency: u32,
    /// The checkpoint given with `--checkpoint-in` (not a secret).
    pub checkpoint_in: Option<String>,
    /// Where `--checkpoint-in` came from, for the summary.
    pub checkpoint_in_path: Option<PathBuf>,
    /// `--simulator`'s tenant: users and seed, or `None` for a real tenant.
    pub simulator: Option<(usize, u64)>,
}

/// The contents of `state.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// The account's key: a resumed sync must reach the same account.
    pub account_key: String,
    /// The account's API base URL, for messages.
    pub api_base_url: String,
    /// The account's display name, for the summary.
    pub display_name: String,
    /// The credentials' access level (`read`, `manage`, ...), for the summary.
    pub access: String,
    /// The options the sync started with.
    pub options: JobOptions,
    /// Where the finished output goes (`--out`, or `DIR/out.jsonl`).
    pub out: PathBuf,
    /// The cursor to continue from; `None` before the first page and after the last.
    pub cursor: Option<String>,
    /// The committed length of `records.jsonl`.
    pub records_bytes: u64,
    /// Pages (sync calls) committed.
    pub pages: u64,
    /// Entities committed.
    pub entities: u64,
    /// Relationships committed.
    pub relationships: u64,
    /// Entities per type.
    pub entities_by_type: BTreeMap<String, u64>,
    /// Relationships per `"{from type} {CLASS} {to type}"`.
    pub relationships_by_class: BTreeMap<String, u64>,
    /// HTTP requests over all runs of this sync (configure's included).
    pub http_requests: u64,
    /// The same, per endpoint template.
    pub http_requests_by_endpoint: BTreeMap<String, u64>,
    /// Time spent syncing over all runs, in milliseconds (waits included).
    pub duration_ms: u64,
    /// How many times the sync was started or resumed.
    pub runs: u64,
    /// The last page's per-kind report (as in `--out`'s `sync` line).
    pub report: Vec<Value>,
    /// The last page's phase and progress, for messages.
    pub phase: String,
    /// Whether the last page came (the sync is complete).
    pub done: bool,
    /// The checkpoint of the last page.
    pub checkpoint: Option<String>,
    /// The pages' `notes` so far, in order (how the sync read the data).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The component's largest linear memory, over all runs.
    pub component_peak_memory_bytes: u64,
    /// This host process's peak resident memory (VmHWM), over all runs.
    pub host_peak_rss_bytes: u64,
}

/// The records file and state of one sync.
pub struct Journal {
    dir: PathBuf,
    records: File,
    /// Whether every page is synced to disk (`--state`); a temporary
    /// directory that nobody resumes from is not.
    durable: bool,
    /// The committed state.
    pub state: SyncState,
}

/// `DIR/state.json`.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// `DIR/records.jsonl`.
pub fn records_path(dir: &Path) -> PathBuf {
    dir.join("records.jsonl")
}

/// Reads `DIR/state.json`, if there is one.
pub fn read_state(dir: &Path) -> anyhow::Result<Option<SyncState>> {
    let path = state_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let state: SyncState =
        serde_json::from_str(&text).with_context(|| format!("{} is not a sync state", path.display()))?;
    anyhow::ensure!(
        state.version == STATE_VERSION,
        "{} has version {}; this host reads version {STATE_VERSION}",
        path.display(),
        state.version
    );
    Ok(Some(state))
}

/// Writes `bytes` to `path` atomically: a temporary file, then renamed; with
/// `durable`, the file and the rename are synced to disk.
pub fn write_atomically(path: &Path, bytes: &[u8], durable: bool) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        if durable {
            file.sync_all().with_context(|| format!("cannot write {}", tmp.display()))?;
        }
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    if !durable {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Make the rename itself durable (best effort: not every platform can open a directory).
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

impl Journal {
    /// Starts a new sync in `dir` (created if missing) with `state`: an empty
    /// records file and the state written.
    pub fn create(dir: &Path, state: SyncState, durable: bool) -> anyhow::Result<Journal> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = records_path(dir);
        let records = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut journal = Journal { dir: dir.to_path_buf(), records, durable, state };
        journal.commit()?;
        Ok(journal)
    }

    /// Opens the sync in `dir` to continue it: the records file is cut back
    /// to the committed length (dropping records of a page whose state never
    /// got written).
    pub fn open(dir: &Path, state: SyncState) -> anyhow::Result<Journal> {
        let path = records_path(dir);
        let mut records = OpenOptions::new()
            .read(true)
            .write(true)
            .create(!state.done && state.records_bytes == 0)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let length = records.metadata().with_context(|| format!("cannot read {}", path.display()))?.len();
        anyhow::ensure!(
            length >= state.records_bytes,
            "{} has {length} bytes but its state says {} were written: the file was changed; start the sync again",
            path.display(),
            state.records_bytes
        );
        if length > state.records_bytes {
            tracing::info!(
                dropped = length - state.records_bytes,
                "dropping records written after the last saved state"
            );
            records.set_len(state.records_bytes).with_context(|| format!("cannot truncate {}", path.display()))?;
            records.sync_all()?;
        }
        records.seek(SeekFrom::End(0))?;
        Ok(Journal { dir: dir.to_path_buf(), records, durable: true, state })
    }

    /// Appends one page's records (whole lines) and syncs them to disk.
    /// The state is not committed: call [`Journal::commit`] next.
    pub fn append(&mut self, lines: &[u8]) -> anyhow::Result<()> {
        self.records.write_all(lines).context("cannot append to the records file")?;
        if self.durable {
            self.records.sync_data().context("cannot sync the records file")?;
        }
        self.state.records_bytes += lines.len() as u64;
        Ok(())
    }

    /// Writes the state (atomically).
    pub fn commit(&mut self) -> anyhow::Result<()> {
        let text = serde_json::to_vec_pretty(&self.state)?;
        write_atomically(&state_path(&self.dir), &text, self.durable)
    }

    /// The records file, for composing the final output.
    pub fn records_path(&self) -> PathBuf {
        records_path(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("host-test-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn records_written_after_the_last_commit_are_dropped_on_open() {
        let dir = temp_dir("truncate");
        let mut journal =
            Journal::create(&dir, SyncState { version: STATE_VERSION, ..SyncState::default() }, true).unwrap();
        journal.append(b"{\"a\":1}\n").unwrap();
        journal.state.cursor = Some("c1".into());
        journal.commit().unwrap();
        // A "crash" after appending page 2 but before committing its state.
        journal.append(b"{\"a\":2}\n{\"a\":3").unwrap();
        drop(journal);

        let state = read_state(&dir).unwrap().unwrap();
        assert_eq!((state.cursor.as_deref(), state.records_bytes), (Some("c1"), 8));
        let mut journal = Journal::open(&dir, state).unwrap();
        assert_eq!(std::fs::read_to_string(records_path(&dir)).unwrap(), "{\"a\":1}\n");
        journal.append(b"{\"a\":2}\n").unwrap();
        journal.commit().unwrap();
        assert_eq!(std::fs::read_to_string(records_path(&dir)).unwrap(), "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(read_state(&dir).unwrap().unwrap().records_bytes, 16);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_records_file_shorter_than_its_state_is_refused() {
        let dir = temp_dir("short");
        let mut journal =
            Journal::create(&dir, SyncState { version: STATE_VERSION, ..SyncState::default() }, true).unwrap();
        journal.append(b"{\"a\":1}\n").unwrap();
        journal.commit().unwrap();
        drop(journal);
        std::fs::write(records_path(&dir), b"{").unwrap();
        let state = read_state(&dir).unwrap().unwrap();
        let error = Journal::open(&dir, state).err().unwrap();
        assert!(format!("{error:#}").contains("was changed"), "{error:#}");
        assert!(!state_path(&dir).with_extension("json.tmp").exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}
