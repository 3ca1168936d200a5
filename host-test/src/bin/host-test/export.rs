//! `host-test export`: an access review from a `sync --out` file.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use host_test::export::{export, Format};

/// Print one row per grant of a user to a resource (role member or admin,
/// application access, group member) from a `host-test sync --out` file:
/// user key, email, display name, account status, resource type, key and
/// name, permission, entitlement, via (direct or the role) and its name,
/// provisioning status, last login and last login to the application.
#[derive(Args, Debug)]
pub struct ExportCommand {
    /// The `host-test sync --out` file.
    input: PathBuf,
    /// `csv` (RFC 4180, a header line) or `json` (an array of objects).
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    format: ExportFormat,
    /// Write here instead of stdout (relative to where you run `./dev`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `--format`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    /// CSV with a header line.
    Csv,
    /// A JSON array of row objects.
    Json,
}

impl ExportCommand {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        let input = crate::common::resolve_path(&self.input);
        let format = match self.format {
            ExportFormat::Csv => Format::Csv,
            ExportFormat::Json => Format::Json,
        };
        let rows = match &self.out {
            Some(path) => {
                let path = crate::common::resolve_path(path);
                let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
                let rows = export(&input, format, &mut file)?;
                file.flush()?;
                rows
            }
            None => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let rows = match export(&input, format, &mut out) {
                    // A reader that stopped early (`| head`) is not an error.
                    Err(error) if is_broken_pipe(&error) => return Ok(()),
                    other => other?,
                };
                match out.flush() {
                    Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                    other => other?,
                }
                rows
            }
        };
        eprintln!("export: {rows} grants");
        Ok(())
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
