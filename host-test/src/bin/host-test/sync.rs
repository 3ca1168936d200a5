//! `host-test sync`: a full or incremental sync, written as JSON Lines and
//! summarized with the per-kind report.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use host_test::harness::types::{KindReport, KindStatus, SyncPage};
use host_test::harness::{sync_all, Limits, SyncOptions, SyncOutput};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::common::{
    access_level_name, connector_failure, kind_name, Session, SimulatorOptions, TargetArgs, UsageError,
};
use crate::records::{kind_report_json, write_records};

/// Run a sync (full, or incremental from a checkpoint) and report what it found.
#[derive(Args, Debug)]
pub struct SyncCommand {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    simulator: SimulatorOptions,
    /// Write every entity and relationship as JSON Lines to FILE (the first
    /// line, `{"record":"sync",…}`, says whether the sync was incremental and
    /// how each kind went).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write statistics (requests, counts, kinds, pages, time, memory) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
    /// Page size hint passed to the component (0 = the component's default).
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_items: u32,
    /// Sync kinds to read, comma-separated (`describe` lists them; required
    /// kinds are added) [default: the connector's default kinds].
    #[arg(long, value_name = "KIND,...", value_delimiter = ',')]
    kinds: Vec<String>,
    /// Run an incremental sync from the checkpoint in FILE (written by an
    /// earlier `--checkpoint-out`): only what changed since, never deletions.
    #[arg(long, value_name = "FILE")]
    checkpoint_in: Option<PathBuf>,
    /// Write the checkpoint the sync returns to FILE, for a later `--checkpoint-in`.
    #[arg(long, value_name = "FILE")]
    checkpoint_out: Option<PathBuf>,
    /// How long the component may wait for rate limits inside one call, in
    /// milliseconds (keep it below --wall-secs).
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    max_wait_ms: u32,
    /// Requests the component may have in flight at once (0 = its default).
    #[arg(long, value_name = "N", default_value_t = 0)]
    concurrency: u32,
}

impl SyncCommand {
    /// The sync options these flags describe (reads `--checkpoint-in`).
    fn options(&self) -> anyhow::Result<SyncOptions> {
        let checkpoint = match &self.checkpoint_in {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| UsageError(format!("cannot read the checkpoint {}: {e}", path.display())))?;
                let text = text.trim();
                if text.is_empty() {
                    return Err(UsageError(format!("the checkpoint file {} is empty", path.display())).into());
                }
                Some(text.to_string())
            }
        };
        Ok(SyncOptions {
            max_items: self.max_items,
            kinds: self.kinds.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
            checkpoint,
            max_wait_ms: self.max_wait_ms,
            concurrency: self.concurrency,
        })
    }

    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        let options = self.options()?;
        let mut session = Session::open(component, limits, &self.target, &self.simulator).await?;
        let account = session.account.clone();
        eprintln!(
            "account: {} ({}) at {}, access: {}",
            account.display_name,
            account.account_key,
            account.api_base_url,
            access_level_name(account.access_level)
        );
        eprintln!("{}", mode_line(&options, self.checkpoint_in.as_deref()));

        let progress = progress_bar();
        let started = Instant::now();
        let mut entities_seen = 0usize;
        let result = sync_all(&mut session.instance, &options, |page| {
            entities_seen += page.entities.len();
            progress.set_message(progress_message(page, entities_seen));
            progress.tick();
        })
        .await;
        let duration = started.elapsed();
        progress.finish_and_clear();

        let output = match result {
            Ok(Ok(output)) => output,
            Ok(Err(error)) => {
                session.finish().await;
                return Err(connector_failure("sync", &error));
            }
            Err(error) => {
                session.finish().await;
                return Err(error);
            }
        };

        let log = session.harness.request_log();
        let peak_memory = session.instance.peak_memory_bytes();
        if let Some(path) = &self.out {
            write_records(path, &output).with_context(|| format!("cannot write {}", path.display()))?;
        }
        let checkpoint_written = match (&self.checkpoint_out, &output.checkpoint) {
            (Some(path), Some(checkpoint)) => {
                std::fs::write(path, format!("{checkpoint}\n"))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                true
            }
            _ => false,
        };
        if let Some(path) = &self.stats {
            let stats = json!({
                "incremental": output.incremental,
                "http_requests": log.total(),
                "http_requests_by_endpoint": log.counts(),
                "entities_by_type": output.entities_by_type(),
                "relationships_by_class": output.relationships_by_class(),
                "kinds": output.report.iter().map(kind_report_json).collect::<Vec<_>>(),
                "checkpoint": output.checkpoint.is_some(),
                "pages": output.pages,
                "duration_ms": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                "peak_memory_bytes": peak_memory,
            });
            let text = serde_json::to_string_pretty(&stats)?;
            std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
        }
        print_counts("entities", &output.entities_by_type());
        print_counts("relationships", &output.relationships_by_class());
        print_report(&output.report);
        eprintln!("{}", checkpoint_line(&output, self.checkpoint_out.as_deref(), checkpoint_written));
        print_totals(&output, log.total(), log.refused().len(), duration, peak_memory);
        session.finish().await;
        Ok(())
    }
}

/// `sync: full, kinds: …` or `sync: incremental from FILE, kinds: …`.
fn mode_line(options: &SyncOptions, checkpoint_in: Option<&Path>) -> String {
    let kinds = if options.kinds.is_empty() { "the defaults".to_string() } else { options.kinds.join(", ") };
    let concurrency = match options.concurrency {
        0 => "the connector's default".to_string(),
        n => n.to_string(),
    };
    let mode = match checkpoint_in {
        Some(path) => format!("incremental from the checkpoint in {}", path.display()),
        None => "full".to_string(),
    };
    format!("sync: {mode}; kinds: {kinds}; concurrency: {concurrency}")
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message("syncing…");
    bar
}

fn progress_message(page: &SyncPage, entities: usize) -> String {
    let p = &page.progress;
    let of = p.total.map(|t| format!("/{t}")).unwrap_or_default();
    format!("{} {}{of} · {entities} entities", p.phase, p.done)
}

/// A kind's status for people: `complete`, `skipped (reason)`,
/// `failed (error kind: message)` or `pending`.
pub fn status_text(status: &KindStatus) -> String {
    match status {
        KindStatus::Pending => "pending".into(),
        KindStatus::Complete => "complete".into(),
        KindStatus::Skipped(reason) => format!("skipped ({reason})"),
        KindStatus::Failed(error) => format!("failed ({}: {})", kind_name(&error.kind), error.message),
    }
}

/// `kinds:` and one line per kind.
fn print_report(report: &[KindReport]) {
    if report.is_empty() {
        eprintln!("kinds: none reported");
        return;
    }
    eprintln!("kinds:");
    let width = report.iter().map(|r| r.kind.len()).max().unwrap_or(0);
    for r in report {
        eprintln!("  {:<width$}  {}", r.kind, status_text(&r.status));
    }
}

/// Whether the sync returned a checkpoint, and where it went.
fn checkpoint_line(output: &SyncOutput, checkpoint_out: Option<&Path>, written: bool) -> String {
    match (&output.checkpoint, checkpoint_out) {
        (Some(_), Some(path)) if written => format!("checkpoint: yes, written to {}", path.display()),
        (Some(_), _) => "checkpoint: yes (not saved; --checkpoint-out FILE keeps it)".to_string(),
        (None, Some(path)) => format!("checkpoint: none ({} not written)", path.display()),
        (None, None) => "checkpoint: none".to_string(),
    }
}

fn print_counts(title: &str, counts: &BTreeMap<String, u64>) {
    let total: u64 = counts.values().sum();
    eprintln!("{title}: {total}");
    let width = counts.keys().map(|k| k.len()).max().unwrap_or(0);
    for (name, count) in counts {
        eprintln!("  {name:<width$}  {count:>8}");
    }
}

fn print_totals(output: &SyncOutput, requests: u64, refused: usize, duration: Duration, peak_memory: usize) {
    let refused = if refused > 0 { format!(", {refused} refused by policy") } else { String::new() };
    eprintln!(
        "http requests: {requests}{refused}; pages: {}; time: {:.2} s; peak memory: {:.1} MiB",
        output.pages,
        duration.as_secs_f64(),
        peak_memory as f64 / (1024.0 * 1024.0)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_test::harness::types::{ConnectorError, ErrorKind};

    #[test]
    fn statuses_and_checkpoint_lines_read_well() {
        assert_eq!(status_text(&KindStatus::Skipped("not licensed".into())), "skipped (not licensed)");
        let failed = ConnectorError { kind: ErrorKind::InsufficientScope, message: "no".into(), retryable: false };
        assert_eq!(status_text(&KindStatus::Failed(failed)), "failed (insufficient-scope: no)");
        let with = SyncOutput { checkpoint: Some("c".into()), ..SyncOutput::default() };
        assert_eq!(checkpoint_line(&with, Some(Path::new("cp")), true), "checkpoint: yes, written to cp");
        assert!(checkpoint_line(&with, None, false).contains("not saved"));
        assert_eq!(
            checkpoint_line(&SyncOutput::default(), Some(Path::new("cp")), false),
            "checkpoint: none (cp not written)"
        );
        let options = SyncOptions { kinds: vec!["users".into()], concurrency: 4, ..SyncOptions::default() };
        assert_eq!(mode_line(&options, None), "sync: full; kinds: users; concurrency: 4");
        assert!(mode_line(&SyncOptions::default(), Some(Path::new("cp"))).starts_with("sync: incremental"));
    }
}
