//! `host-test sync`: a full sync, written as JSON Lines and summarized.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use host_test::harness::types::{Entity, Relationship, SyncPage};
use host_test::harness::{sync_all, Limits, SyncOutput};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::common::{access_level_name, connector_failure, Session, SimulatorOptions, TargetArgs};

/// Run a full sync and report what it found.
#[derive(Args, Debug)]
pub struct SyncCommand {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    simulator: SimulatorOptions,
    /// Write every entity and relationship as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write statistics (requests, counts, pages, time, memory) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
    /// Page size hint passed to the component (0 = the component's default).
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_items: u32,
}

impl SyncCommand {
    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        let mut session = Session::open(component, limits, &self.target, &self.simulator).await?;
        let account = session.account.clone();
        eprintln!(
            "account: {} ({}) at {}, access: {}",
            account.display_name,
            account.account_key,
            account.api_base_url,
            access_level_name(account.access_level)
        );

        let progress = progress_bar();
        let started = Instant::now();
        let mut entities_seen = 0usize;
        let result = sync_all(&mut session.instance, self.max_items, |page| {
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
        if let Some(path) = &self.stats {
            let stats = json!({
                "http_requests": log.total(),
                "http_requests_by_endpoint": log.counts(),
                "entities_by_type": output.entities_by_type(),
                "relationships_by_class": output.relationships_by_class(),
                "pages": output.pages,
                "duration_ms": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                "peak_memory_bytes": peak_memory,
            });
            let text = serde_json::to_string_pretty(&stats)?;
            std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
        }
        print_summary(&output, log.total(), log.refused().len(), duration, peak_memory);
        session.finish().await;
        Ok(())
    }
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

/// A page's `properties` string as JSON; a component bug (not an object)
/// is kept as the raw string and warned about.
fn properties(raw: &str, key: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            tracing::warn!(key, "properties are not a JSON object; written as a string");
            Value::String(raw.to_string())
        }
    }
}

fn entity_record(e: &Entity) -> Value {
    json!({
        "record": "entity",
        "key": e.key,
        "entity_type": e.entity_type,
        "classes": e.classes,
        "display_name": e.display_name,
        "properties": properties(&e.properties, &e.key),
    })
}

fn relationship_record(r: &Relationship) -> Value {
    json!({
        "record": "relationship",
        "class": r.class,
        "from_key": r.from_key,
        "to_key": r.to_key,
        "properties": properties(&r.properties, &r.from_key),
    })
}

fn write_records(path: &Path, output: &SyncOutput) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for entity in &output.entities {
        serde_json::to_writer(&mut out, &entity_record(entity))?;
        out.write_all(b"\n")?;
    }
    for relationship in &output.relationships {
        serde_json::to_writer(&mut out, &relationship_record(relationship))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn print_counts(title: &str, counts: &BTreeMap<String, u64>) {
    let total: u64 = counts.values().sum();
    eprintln!("{title}: {total}");
    let width = counts.keys().map(|k| k.len()).max().unwrap_or(0);
    for (name, count) in counts {
        eprintln!("  {name:<width$}  {count:>8}");
    }
}

fn print_summary(output: &SyncOutput, requests: u64, refused: usize, duration: Duration, peak_memory: usize) {
    print_counts("entities", &output.entities_by_type());
    print_counts("relationships", &output.relationships_by_class());
    let refused = if refused > 0 { format!(", {refused} refused by policy") } else { String::new() };
    eprintln!(
        "http requests: {requests}{refused}; pages: {}; time: {:.2} s; peak memory: {:.1} MiB",
        output.pages,
        duration.as_secs_f64(),
        peak_memory as f64 / (1024.0 * 1024.0)
    );
}
