//! Progress of a sync, from the component's per-page `sync-page.progress`
//! and per-kind report: on a terminal, a bar for the current phase and one
//! for the kinds overall; otherwise a plain line on every phase change and
//! at most every [`PLAIN_INTERVAL`]; nothing with `--quiet`.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use host_test::harness::types::{KindStatus, SyncPage};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is printed when stderr is not a terminal.
pub const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

enum Mode {
    Quiet,
    Plain { last: Option<Instant>, phase: String },
    Bars { multi: MultiProgress, overall: ProgressBar, phase: ProgressBar, name: String },
}

/// Where progress goes.
pub struct Progress {
    mode: Mode,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress {
    /// Bars on a terminal, plain lines otherwise, nothing when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(0));
            overall.set_style(style("{prefix:>7} [{bar:30}] {pos}/{len} kinds · {msg}"));
            overall.set_prefix("overall");
            overall.enable_steady_tick(Duration::from_millis(200));
            let phase = multi.add(ProgressBar::new_spinner());
            phase.set_style(style("{prefix:>7} {spinner} {msg}"));
            phase.set_prefix("phase");
            Mode::Bars { multi, overall, phase, name: String::new() }
        } else {
            Mode::Plain { last: None, phase: String::new() }
        };
        Progress { mode }
    }

    /// Prints a message without breaking the bars.
    pub fn note(&self, message: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain { .. } => eprintln!("{message}"),
            Mode::Bars { multi, .. } => {
                let _ = multi.println(message);
            }
        }
    }

    /// After each page: `pages`, `entities` and `relationships` are the totals so far.
    pub fn page(&mut self, page: &SyncPage, pages: u64, entities: u64, relationships: u64) {
        let p = &page.progress;
        let selected = page.report.iter().filter(|r| !matches!(r.status, KindStatus::Skipped(_))).count() as u64;
        let finished =
            page.report.iter().filter(|r| matches!(r.status, KindStatus::Complete | KindStatus::Failed(_))).count()
                as u64;
        let counts = format!("page {pages} · {entities} entities · {relationships} relationships");
        match &mut self.mode {
            Mode::Quiet => {}
            Mode::Plain { last, phase } => {
                let due = last.is_none_or(|at| at.elapsed() >= PLAIN_INTERVAL);
                if due || *phase != p.phase || page.next_cursor.is_none() {
                    let of = p.total.map(|t| format!("/{t}")).unwrap_or_default();
                    eprintln!("progress: {} {}{of}; kinds {finished}/{selected} done; {counts}", p.phase, p.done);
                    *last = Some(Instant::now());
                    phase.clone_from(&p.phase);
                }
            }
            Mode::Bars { multi, overall, phase, name } => {
                overall.set_length(selected);
                overall.set_position(finished);
                overall.set_message(counts);
                if *name != p.phase {
                    phase.finish_and_clear();
                    multi.remove(phase);
                    let bar = match p.total {
                        Some(total) => {
                            let bar = ProgressBar::new(total);
                            bar.set_style(style("{prefix:>7} [{bar:30}] {pos}/{len} {msg}"));
                            bar
                        }
                        None => {
                            let bar = ProgressBar::new_spinner();
                            bar.set_style(style("{prefix:>7} {spinner} {pos} {msg}"));
                            bar
                        }
                    };
                    bar.set_prefix("phase");
                    *phase = multi.add(bar);
                    phase.set_message(p.phase.clone());
                    name.clone_from(&p.phase);
                }
                if let Some(total) = p.total {
                    phase.set_length(total.max(p.done));
                }
                phase.set_position(p.done);
            }
        }
    }

    /// Removes the bars (before the summary is printed).
    pub fn finish(&self) {
        if let Mode::Bars { multi, overall, phase, .. } = &self.mode {
            phase.finish_and_clear();
            overall.finish_and_clear();
            let _ = multi.clear();
        }
    }
}
