//! The host side of the component's `identity:connector/log` import.
//!
//! Each line is forwarded to `tracing` with target `component` (so
//! `RUST_LOG=component=debug` shows them) and kept in memory, in a
//! [`ComponentLog`] shared by all instances of a harness, so tests can assert
//! on what the component logged (for example that no secret ever appears).

use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime::component::HasData;

use super::bindings::identity::connector::log::{Host, Level};

/// Longest message kept or forwarded; longer ones are cut (at a character
/// boundary) and marked with `…`.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// Most lines kept in memory; older lines are dropped first.
pub const MAX_LINES: usize = 100_000;

/// The level of a logged line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `level.debug`
    Debug,
    /// `level.info`
    Info,
    /// `level.warn`
    Warn,
    /// `level.error`
    Error,
}

impl From<Level> for LogLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        }
    }
}

/// One line the component logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// The message, possibly shortened to [`MAX_LINE_BYTES`].
    pub message: String,
}

/// The lines components logged. Cloning shares the buffer.
#[derive(Clone, Debug, Default)]
pub struct ComponentLog(Arc<Mutex<Vec<LogLine>>>);

impl ComponentLog {
    fn lock(&self) -> MutexGuard<'_, Vec<LogLine>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// All lines kept, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        self.lock().clone()
    }

    /// Whether any kept line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.lock().iter().any(|line| line.message.contains(needle))
    }

    /// Forgets all lines.
    pub fn reset(&self) {
        self.lock().clear();
    }

    /// Forwards one line to tracing and keeps it.
    pub fn record(&self, level: LogLevel, message: String) {
        let message = truncate(message);
        match level {
            LogLevel::Debug => tracing::debug!(target: "component", "{message}"),
            LogLevel::Info => tracing::info!(target: "component", "{message}"),
            LogLevel::Warn => tracing::warn!(target: "component", "{message}"),
            LogLevel::Error => tracing::error!(target: "component", "{message}"),
        }
        let mut lines = self.lock();
        if lines.len() >= MAX_LINES {
            let excess = lines.len() + 1 - MAX_LINES;
            lines.drain(..excess);
        }
        lines.push(LogLine { level, message });
    }
}

fn truncate(mut message: String) -> String {
    if message.len() > MAX_LINE_BYTES {
        let mut cut = MAX_LINE_BYTES;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}

impl Host for ComponentLog {
    async fn log(&mut self, level: Level, message: String) {
        self.record(level.into(), message);
    }
}

/// [`HasData`] marker used to link the `log` interface against a store's
/// [`ComponentLog`].
pub(crate) struct LogData;

impl HasData for LogData {
    type Data<'a> = &'a mut ComponentLog;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_truncates() {
        let log = ComponentLog::default();
        log.record(LogLevel::Info, "hello".into());
        log.record(LogLevel::Warn, "é".repeat(MAX_LINE_BYTES));
        let lines = log.lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].message, "hello");
        assert!(lines[1].message.len() <= MAX_LINE_BYTES + '…'.len_utf8());
        assert!(log.contains("hello"));
        log.reset();
        assert!(log.lines().is_empty());
    }
}
