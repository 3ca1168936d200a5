//! `host-test sync`: a full or incremental sync, streamed to JSON Lines page
//! by page, resumable with `--state DIR` (see [`crate::journal`]), with
//! progress on stderr and the summary on stdout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use host_test::harness::sync::key_type;
use host_test::harness::types::{ErrorKind, KindReport, KindStatus};
use host_test::harness::{Limits, SyncOptions};
use serde_json::json;

use crate::common::{
    access_level_name, error_line, exit_code_for_kind, kind_name, program_name, resolve_path, shell_word, Exit,
    Session, SimulatorOptions, TargetArgs, UsageError, EXIT_AUTH, EXIT_INTERRUPTED, EXIT_PARTIAL, MAX_CONCURRENCY,
};
use crate::journal::{read_state, JobOptions, Journal, SyncState, STATE_VERSION};
use crate::progress::Progress;
use crate::records::{compose_output, kind_report_json, page_lines, parse_kind_report};

/// Run a sync (full, or incremental from a checkpoint) and report what it found.
#[derive(Args, Debug)]
pub struct SyncCommand {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    simulator: SimulatorOptions,
    /// Write every entity and relationship as JSON Lines to FILE (the first
    /// line, `{"record":"sync",…}`, says whether the sync was incremental and
    /// how each kind went). Written when the sync completes; until then the
    /// records go to the state directory (or a temporary one), page by page.
    /// [default with --state: DIR/out.jsonl]
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write statistics (requests, counts, kinds, pages, time, memory) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
    /// Keep the sync's state in DIR after every page (cursor, records so far,
    /// counts), so that `--resume` can continue it after Ctrl-C, a crash, a
    /// rate limit or a reboot.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Continue the unfinished sync kept in `--state DIR` (its kinds, page
    /// size, concurrency, checkpoint and output file are those it started with).
    #[arg(long, requires = "state")]
    resume: bool,
    /// When the API's rate limit is used up, wait in the host until the
    /// window resets and go on (otherwise exit 4 with the command that resumes).
    #[arg(long)]
    wait: bool,
    /// No progress on stderr (the summary still goes to stdout).
    #[arg(long, short = 'q')]
    quiet: bool,
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
    /// milliseconds (keep it below --wall-secs; use --wait for longer waits).
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    max_wait_ms: u32,
    /// Requests the component may have in flight at once (0 = its default; at most 64).
    #[arg(long, value_name = "N", default_value_t = 0)]
    concurrency: u32,
}

/// Rate-limit waits in a row without a page before `--wait` gives up.
const MAX_WAITS_WITHOUT_A_PAGE: u32 = 5;

/// How a run of the page loop ended, when it did not complete the sync.
enum Stop {
    /// Ctrl-C.
    Interrupted,
    /// The component's error (rate limited without `--wait`, auth, ...).
    Connector(host_test::harness::types::ConnectorError),
    /// A host failure (trap, limit, I/O).
    Host(anyhow::Error),
}

/// The files a run writes.
struct Files {
    out: Option<PathBuf>,
    stats: Option<PathBuf>,
    checkpoint_out: Option<PathBuf>,
    /// `--state DIR`, or `None` when the sync keeps its records in a temporary directory.
    state: Option<PathBuf>,
}

impl SyncCommand {
    /// The job options these flags describe (reads `--checkpoint-in`).
    fn job_options(&self) -> anyhow::Result<JobOptions> {
        let checkpoint_in_path = self.checkpoint_in.as_deref().map(resolve_path);
        let checkpoint_in = match &checkpoint_in_path {
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
        let simulator = self.target.simulator.then(|| {
            let config = self.simulator.config();
            (config.users, config.seed)
        });
        Ok(JobOptions {
            kinds: self.kinds.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
            max_items: self.max_items,
            concurrency: self.concurrency.min(MAX_CONCURRENCY),
            checkpoint_in,
            checkpoint_in_path,
            simulator,
        })
    }

    /// The command that resumes this sync (this one, plus `--resume`, and `--wait` if asked).
    fn resume_command(&self, with_wait: bool) -> String {
        let mut words: Vec<String> = std::env::args().skip(1).collect();
        if !words.iter().any(|w| w == "--resume") {
            words.push("--resume".into());
        }
        if with_wait && !words.iter().any(|w| w == "--wait") {
            words.push("--wait".into());
        }
        let words: Vec<String> = words.iter().map(|w| shell_word(w)).collect();
        format!("{} {}", program_name(), words.join(" "))
    }

    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        let state_dir = self.state.as_deref().map(resolve_path);
        let mut files = Files {
            out: self.out.as_deref().map(resolve_path),
            stats: self.stats.as_deref().map(resolve_path),
            checkpoint_out: self.checkpoint_out.as_deref().map(resolve_path),
            state: state_dir.clone(),
        };
        for path in [&files.out, &files.stats, &files.checkpoint_out].into_iter().flatten() {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !parent.is_dir() {
                return Err(UsageError(format!(
                    "cannot write {}: the directory {} does not exist",
                    path.display(),
                    parent.display()
                ))
                .into());
            }
        }
        let mut progress = Progress::new(self.quiet);
        if self.concurrency > MAX_CONCURRENCY {
            progress.note(&format!(
                "note: --concurrency {} is more than the connector allows; clamped to {MAX_CONCURRENCY}",
                self.concurrency
            ));
        }

        // A new sync, or the one kept in --state.
        let existing = match &state_dir {
            Some(dir) => read_state(dir).map_err(|e| UsageError(format!("{e:#}")))?,
            None => None,
        };
        let mut simulator_options = self.simulator.clone();
        let resumed = match (self.resume, existing) {
            (true, None) => {
                let dir = state_dir.as_deref().unwrap_or(Path::new("."));
                return Err(UsageError(format!(
                    "there is no sync to resume in {} (no state.json); start one with --state without --resume",
                    dir.display()
                ))
                .into());
            }
            (false, Some(state)) => {
                let dir = state_dir.as_deref().unwrap_or(Path::new("."));
                let what = if state.done { "a finished sync" } else { "an unfinished sync" };
                return Err(UsageError(format!(
                    "{} already holds {what} ({} pages); resume it with --resume, or choose another --state",
                    dir.display(),
                    state.pages
                ))
                .into());
            }
            (true, Some(state)) => {
                match (state.options.simulator, self.target.simulator) {
                    (Some((users, seed)), true) => {
                        simulator_options.users = Some(users);
                        simulator_options.seed = Some(seed);
                    }
                    (None, false) => {}
                    (Some(_), false) => {
                        return Err(UsageError(
                            "this sync ran against the simulator: resume it with --simulator".into(),
                        )
                        .into())
                    }
                    (None, true) => {
                        return Err(UsageError(format!(
                            "this sync ran against {}: resume it with --config, not --simulator",
                            state.api_base_url
                        ))
                        .into())
                    }
                }
                if let Some(out) = &files.out {
                    if *out != state.out {
                        progress.note(&format!(
                            "note: this sync writes {} (as when it started); --out {} is ignored",
                            state.out.display(),
                            out.display()
                        ));
                    }
                }
                files.out = Some(state.out.clone());
                if state.done {
                    return finish(&state, &files, None, &progress);
                }
                Some(state)
            }
            (false, None) => None,
        };
        let job = match &resumed {
            Some(state) => state.options.clone(),
            None => self.job_options()?,
        };

        let session = Session::open(component, limits, &self.target, &simulator_options).await?;
        let result = self.sync(session, job, resumed, &mut files, &mut progress).await;
        progress.finish();
        result
    }

    async fn sync(
        &self,
        mut session: Session,
        job: JobOptions,
        resumed: Option<SyncState>,
        files: &mut Files,
        progress: &mut Progress,
    ) -> anyhow::Result<()> {
        let account = session.account.clone();
        let host = session.host.clone();
        // The records go to --state DIR, or to a temporary directory removed at the end.
        let (dir, temporary) = match &files.state {
            Some(dir) => (dir.clone(), false),
            None => (std::env::temp_dir().join(format!("host-test-sync-{}", std::process::id())), true),
        };
        let mut journal = match resumed {
            Some(state) => {
                if state.account_key != account.account_key {
                    session.finish().await;
                    return Err(UsageError(format!(
                        "{} holds a sync of {}, but these credentials reach {}",
                        dir.display(),
                        state.account_key,
                        account.account_key
                    ))
                    .into());
                }
                progress.note(&format!(
                    "resuming the sync in {} after page {} ({} entities, {} relationships so far)",
                    dir.display(),
                    state.pages,
                    state.entities,
                    state.relationships
                ));
                Journal::open(&dir, state)?
            }
            None => {
                let out = files.out.clone().unwrap_or_else(|| dir.join("out.jsonl"));
                let state = SyncState {
                    version: STATE_VERSION,
                    account_key: account.account_key.clone(),
                    api_base_url: account.api_base_url.clone(),
                    display_name: account.display_name.clone(),
                    access: access_level_name(account.access_level).to_string(),
                    options: job.clone(),
                    out,
                    ..SyncState::default()
                };
                Journal::create(&dir, state, !temporary)?
            }
        };
        if files.out.is_none() && !temporary {
            files.out = Some(journal.state.out.clone());
        }
        progress.note(&format!(
            "account: {} ({}) at {}, access: {}",
            account.display_name,
            account.account_key,
            account.api_base_url,
            access_level_name(account.access_level)
        ));
        progress.note(&mode_line(&job));
        journal.state.runs += 1;

        let options = SyncOptions {
            max_items: job.max_items,
            kinds: job.kinds.clone(),
            checkpoint: job.checkpoint_in.clone(),
            max_wait_ms: self.max_wait_ms,
            concurrency: job.concurrency,
        };
        let keep_records = files.out.is_some();
        let log = session.harness.request_log();
        let base_requests = journal.state.http_requests;
        let base_by_endpoint = journal.state.http_requests_by_endpoint.clone();
        let base_duration = journal.state.duration_ms;
        let started = Instant::now();
        let mut buf = Vec::new();
        // Rate-limit waits since the last page: a window too small for one
        // page would otherwise be waited out forever.
        let mut waits_without_a_page = 0u32;

        // After a rate-limit wait the sync goes on in a fresh instance (from
        // the cursor): the old one may still count its spent budget.
        let mut fresh_instance = false;
        let stop = loop {
            let result = if fresh_instance {
                let reconnected = tokio::select! {
                    result = session.reconnect() => result,
                    _ = tokio::signal::ctrl_c() => break Some(Stop::Interrupted),
                };
                match reconnected {
                    Ok(Ok(())) => {
                        fresh_instance = false;
                        continue;
                    }
                    Ok(Err(error)) => Ok(Err(error)),
                    Err(error) => Err(error),
                }
            } else {
                let request = options.request(journal.state.cursor.clone());
                tokio::select! {
                    result = session.instance.sync_page(request) => result,
                    _ = tokio::signal::ctrl_c() => break Some(Stop::Interrupted),
                }
            };
            let page = match result {
                Err(error) => break Some(Stop::Host(error)),
                Ok(Err(error)) => match error.kind {
                    ErrorKind::RateLimited(_) if self.wait && waits_without_a_page >= MAX_WAITS_WITHOUT_A_PAGE => {
                        progress.note(&format!(
                            "{MAX_WAITS_WITHOUT_A_PAGE} rate windows in a row gave no page: the limit allows fewer \
                             calls per window than one page needs; lower --concurrency or --max-items"
                        ));
                        break Some(Stop::Connector(error));
                    }
                    ErrorKind::RateLimited(seconds) if self.wait => {
                        waits_without_a_page += 1;
                        let wait = Duration::from_secs(u64::from(seconds).max(1) + 1);
                        let at = host_test::simulator::tenant::iso_millis(
                            wall_millis() + i64::try_from(wait.as_millis()).unwrap_or(0),
                        );
                        progress.note(&format!(
                            "rate limited by {host}: waiting {} s for the window to reset; resuming at {at}",
                            wait.as_secs()
                        ));
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = tokio::signal::ctrl_c() => break Some(Stop::Interrupted),
                        }
                        progress.note("resuming after the rate-limit wait");
                        fresh_instance = true;
                        continue;
                    }
                    _ => break Some(Stop::Connector(error)),
                },
                Ok(Ok(page)) => {
                    waits_without_a_page = 0;
                    page
                }
            };

            buf.clear();
            if keep_records {
                page_lines(&mut buf, &page.entities, &page.relationships)?;
                journal.append(&buf)?;
            }
            let state = &mut journal.state;
            state.cursor = page.next_cursor.clone();
            state.pages += 1;
            state.entities += page.entities.len() as u64;
            state.relationships += page.relationships.len() as u64;
            for entity in &page.entities {
                *state.entities_by_type.entry(entity.entity_type.clone()).or_insert(0) += 1;
            }
            for rel in &page.relationships {
                let label = format!("{} {} {}", key_type(&rel.from_key), rel.class, key_type(&rel.to_key));
                *state.relationships_by_class.entry(label).or_insert(0) += 1;
            }
            state.report = page.report.iter().map(kind_report_json).collect();
            state.phase.clone_from(&page.progress.phase);
            state.checkpoint.clone_from(&page.checkpoint);
            state.notes.extend(page.notes.iter().cloned());
            state.done = page.next_cursor.is_none();
            record_run(state, &session, &log, base_requests, &base_by_endpoint, base_duration, started);
            journal.commit()?;
            progress.page(&page, journal.state.pages, journal.state.entities, journal.state.relationships);
            if journal.state.done {
                break None;
            }
        };

        record_run(&mut journal.state, &session, &log, base_requests, &base_by_endpoint, base_duration, started);
        journal.commit()?;
        session.finish().await;
        let state = journal.state.clone();
        let records = journal.records_path();
        drop(journal);

        match stop {
            None => {
                let result = finish(&state, files, Some(&records), progress);
                if temporary {
                    std::fs::remove_dir_all(&dir).ok();
                } else {
                    std::fs::remove_file(&records).ok();
                }
                result
            }
            Some(stop) => {
                if temporary {
                    std::fs::remove_dir_all(&dir).ok();
                }
                progress.finish();
                let saved = if temporary {
                    "nothing was kept: run with --state DIR to make a sync resumable".to_string()
                } else {
                    format!(
                        "progress is saved in {} (page {}); resume with:\n  {}",
                        dir.display(),
                        state.pages,
                        self.resume_command(false)
                    )
                };
                match stop {
                    Stop::Interrupted => {
                        eprintln!("interrupted after page {}; {saved}", state.pages);
                        Err(Exit(EXIT_INTERRUPTED).into())
                    }
                    Stop::Connector(error) => {
                        eprintln!("error: {}", error_line("sync", &host, &error));
                        if let ErrorKind::RateLimited(seconds) = error.kind {
                            let at =
                                host_test::simulator::tenant::iso_millis(wall_millis() + i64::from(seconds) * 1000);
                            if temporary {
                                eprintln!("the rate window resets at {at}; {saved}, or --wait to wait in the host");
                            } else {
                                eprintln!(
                                    "the rate window resets at {at}; progress is saved in {} (page {}); \
                                     resume then, or now waiting in the host, with:\n  {}",
                                    dir.display(),
                                    state.pages,
                                    self.resume_command(true)
                                );
                            }
                        } else if error.retryable {
                            eprintln!("{saved}");
                        }
                        Err(Exit(exit_code_for_kind(&error.kind)).into())
                    }
                    Stop::Host(error) => {
                        eprintln!("error: sync at {host} failed in the host: {error:#}");
                        eprintln!("{saved}");
                        Err(Exit(crate::common::EXIT_FAILURE).into())
                    }
                }
            }
        }
    }
}

/// The machine's clock in unix milliseconds (for "resuming at" messages).
fn wall_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// This process's peak resident memory, in bytes.
fn host_peak_rss() -> u64 {
    host_test::bench::host_peak_rss_bytes().unwrap_or(0)
}

/// Folds this run's requests, time and memory into the state.
fn record_run(
    state: &mut SyncState,
    session: &Session,
    log: &host_test::harness::RequestLog,
    base_requests: u64,
    base_by_endpoint: &BTreeMap<String, u64>,
    base_duration: u64,
    started: Instant,
) {
    state.http_requests = base_requests + log.total();
    let mut by_endpoint = base_by_endpoint.clone();
    for (endpoint, count) in log.counts() {
        *by_endpoint.entry(endpoint).or_insert(0) += count;
    }
    state.http_requests_by_endpoint = by_endpoint;
    state.duration_ms = base_duration + u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    state.component_peak_memory_bytes =
        state.component_peak_memory_bytes.max(session.instance.peak_memory_bytes() as u64);
    state.host_peak_rss_bytes = state.host_peak_rss_bytes.max(host_peak_rss());
}

/// The end of a complete sync: the output, checkpoint and stats files, the
/// summary on stdout, and the exit status from the per-kind report.
fn finish(state: &SyncState, files: &Files, records: Option<&Path>, progress: &Progress) -> anyhow::Result<()> {
    progress.finish();
    let incremental = state.options.checkpoint_in.is_some();
    let report: Vec<KindReport> = state.report.iter().filter_map(|v| parse_kind_report(v).ok()).collect();
    let mut written = Vec::new();
    if let (Some(out), Some(records)) = (&files.out, records) {
        compose_output(out, incremental, state.pages, &state.report, &state.notes, records)?;
        written.push(format!("records: {}", out.display()));
    } else if let Some(out) = &files.out {
        written.push(format!("records: {} (written when the sync finished)", out.display()));
    }
    let checkpoint_line = match (&state.checkpoint, &files.checkpoint_out) {
        (Some(checkpoint), Some(path)) => {
            std::fs::write(path, format!("{checkpoint}\n"))
                .with_context(|| format!("cannot write {}", path.display()))?;
            format!("checkpoint: yes, written to {}", path.display())
        }
        (Some(_), None) => "checkpoint: yes (not saved; --checkpoint-out FILE keeps it)".to_string(),
        (None, Some(path)) => format!("checkpoint: none ({} not written)", path.display()),
        (None, None) => "checkpoint: none".to_string(),
    };
    if let Some(path) = &files.stats {
        let stats = json!({
            "incremental": incremental,
            "http_requests": state.http_requests,
            "http_requests_by_endpoint": state.http_requests_by_endpoint,
            "entities_by_type": state.entities_by_type,
            "relationships_by_class": state.relationships_by_class,
            "kinds": state.report,
            "notes": state.notes,
            "checkpoint": state.checkpoint.is_some(),
            "pages": state.pages,
            "runs": state.runs,
            "duration_ms": state.duration_ms,
            "peak_memory_bytes": state.component_peak_memory_bytes,
            "component_peak_memory_bytes": state.component_peak_memory_bytes,
            "host_peak_rss_bytes": state.host_peak_rss_bytes,
        });
        let text = serde_json::to_string_pretty(&stats)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
        written.push(format!("stats: {}", path.display()));
    }
    if let Some(dir) = &files.state {
        written.push(format!("state: {} (complete)", dir.display()));
    }

    let mut out = String::new();
    out.push_str(&format!(
        "account: {} ({}) at {}, access: {}\n",
        state.display_name, state.account_key, state.api_base_url, state.access
    ));
    out.push_str(&mode_line(&state.options));
    out.push('\n');
    out.push_str(&counts("entities", &state.entities_by_type));
    out.push_str(&counts("relationships", &state.relationships_by_class));
    out.push_str(&report_text(&report));
    out.push_str(&notes_text(&state.notes));
    out.push_str(&checkpoint_line);
    out.push('\n');
    for line in &written {
        out.push_str(line);
        out.push('\n');
    }
    let runs = if state.runs > 1 { format!(" over {} runs", state.runs) } else { String::new() };
    out.push_str(&format!(
        "http requests: {}; pages: {}; time: {:.2} s{runs}\nmemory: host peak RSS {:.1} MiB; component peak linear memory {:.1} MiB\n",
        state.http_requests,
        state.pages,
        state.duration_ms as f64 / 1000.0,
        state.host_peak_rss_bytes as f64 / (1024.0 * 1024.0),
        state.component_peak_memory_bytes as f64 / (1024.0 * 1024.0),
    ));
    print!("{out}");

    let failed: Vec<&KindReport> = report.iter().filter(|r| matches!(r.status, KindStatus::Failed(_))).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let auth = failed.iter().any(|r| {
        matches!(&r.status, KindStatus::Failed(e) if matches!(e.kind, ErrorKind::AuthenticationFailed | ErrorKind::InsufficientScope))
    });
    let names: Vec<String> = failed.iter().map(|r| format!("{} ({})", r.kind, status_text(&r.status))).collect();
    eprintln!("error: the sync finished, but these kinds failed: {}", names.join("; "));
    Err(Exit(if auth { EXIT_AUTH } else { EXIT_PARTIAL }).into())
}

/// `sync: full, kinds: …` or `sync: incremental from FILE, kinds: …`.
fn mode_line(job: &JobOptions) -> String {
    let kinds = if job.kinds.is_empty() { "the defaults".to_string() } else { job.kinds.join(", ") };
    let concurrency = match job.concurrency {
        0 => "the connector's default".to_string(),
        n => n.to_string(),
    };
    let mode = match (&job.checkpoint_in, &job.checkpoint_in_path) {
        (Some(_), Some(path)) => format!("incremental from the checkpoint in {}", path.display()),
        (Some(_), None) => "incremental".to_string(),
        _ => "full".to_string(),
    };
    format!("sync: {mode}; kinds: {kinds}; concurrency: {concurrency}")
}

/// A kind's status for people: `complete`, `skipped (reason)`,
/// `failed (error kind: message)` or `pending`.
pub fn status_text(status: &KindStatus) -> String {
    match status {
        KindStatus::Pending => "pending".into(),
        KindStatus::Complete => "complete".into(),
        KindStatus::Skipped(reason) => format!("skipped ({reason})"),
        KindStatus::Failed(error) => {
            format!("failed ({}: {})", kind_name(&error.kind), crate::common::human_message(&error.message))
        }
    }
}

/// `kinds:` and one line per kind.
fn report_text(report: &[KindReport]) -> String {
    if report.is_empty() {
        return "kinds: none reported\n".into();
    }
    let width = report.iter().map(|r| r.kind.len()).max().unwrap_or(0);
    let mut out = String::from("kinds:\n");
    for r in report {
        out.push_str(&format!("  {:<width$}  {}\n", r.kind, status_text(&r.status)));
    }
    out
}

/// `notes:` and one line per note; nothing without notes.
fn notes_text(notes: &[String]) -> String {
    let mut out = String::new();
    if !notes.is_empty() {
        out.push_str("notes:\n");
    }
    for note in notes {
        out.push_str(&format!("  {note}\n"));
    }
    out
}

fn counts(title: &str, counts: &BTreeMap<String, u64>) -> String {
    let total: u64 = counts.values().sum();
    let width = counts.keys().map(|k| k.len()).max().unwrap_or(0);
    let mut out = format!("{title}: {total}\n");
    for (name, count) in counts {
        out.push_str(&format!("  {name:<width$}  {count:>8}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_test::harness::types::ConnectorError;

    #[test]
    fn statuses_and_mode_lines_read_well() {
        assert_eq!(status_text(&KindStatus::Skipped("not licensed".into())), "skipped (not licensed)");
        let failed = ConnectorError { kind: ErrorKind::InsufficientScope, message: "no".into(), retryable: false };
        assert_eq!(status_text(&KindStatus::Failed(failed)), "failed (insufficient-scope: no)");
        let job = JobOptions { kinds: vec!["users".into()], concurrency: 4, ..JobOptions::default() };
        assert_eq!(mode_line(&job), "sync: full; kinds: users; concurrency: 4");
        let job = JobOptions {
            checkpoint_in: Some("c".into()),
            checkpoint_in_path: Some("cp".into()),
            ..JobOptions::default()
        };
        assert!(mode_line(&job).starts_with("sync: incremental from the checkpoint in cp"));
        assert_eq!(notes_text(&[]), "");
        assert_eq!(notes_text(&["roles: a".into(), "user_apps: b".into()]), "notes:\n  roles: a\n  user_apps: b\n");
    }
}
