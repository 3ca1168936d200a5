//! `host-test diff`: tombstones between two full syncs' `--out` files.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use host_test::harness::diff::{tombstones, Tombstone, TombstoneStatus};

use crate::common::UsageError;
use crate::records::read_records;

/// Print, as JSON Lines on stdout, what disappeared between two full syncs:
/// entities (`deprovisioned`), user → application access (`suspended`) and
/// other relationships (`removed`). Refuses files of incremental syncs, and
/// kinds that were complete in PREVIOUS but not in CURRENT.
#[derive(Args, Debug)]
pub struct DiffCommand {
    /// The earlier sync's `host-test sync --out` file.
    previous: PathBuf,
    /// The later sync's `host-test sync --out` file.
    current: PathBuf,
}

impl DiffCommand {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        let previous = read_records(&crate::common::resolve_path(&self.previous))?;
        let current = read_records(&crate::common::resolve_path(&self.current))?;
        let found = tombstones(&previous, &current).map_err(|error| UsageError(format!("cannot diff: {error}")))?;
        match write_lines(&found) {
            // A reader that stopped early (`| head`) is not an error.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
        let count = |status| found.iter().filter(|t| t.status() == status).count();
        let entities = found.iter().filter(|t| matches!(t, Tombstone::EntityTombstone { .. })).count();
        eprintln!(
            "tombstones: {} ({entities} entities deprovisioned, {} access assignments suspended, {} relationships removed)",
            found.len(),
            count(TombstoneStatus::Suspended),
            count(TombstoneStatus::Removed),
        );
        Ok(())
    }
}

/// The tombstones as JSON Lines on stdout.
fn write_lines(found: &[Tombstone]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for tombstone in found {
        serde_json::to_writer(&mut out, tombstone)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
