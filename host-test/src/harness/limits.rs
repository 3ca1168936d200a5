//! Per-instance resource limits: memory, CPU and wall-clock time per call.
//!
//! * **Memory**: a [`StoreLimits`] caps each linear memory at
//!   [`Limits::memory_bytes`]; growing past it traps. [`PeakMemoryLimiter`]
//!   wraps it and remembers the largest size ever granted, which
//!   [`ConnectorInstance::peak_memory_bytes`](super::ConnectorInstance::peak_memory_bytes)
//!   reports.
//! * **CPU**: the engine runs with epoch interruption and an [`EpochTicker`]
//!   thread increments the epoch every [`EPOCH_TICK`] (10 ms). Before every
//!   call the harness sets the store's epoch deadline to one tick ahead; each
//!   time the guest reaches the deadline while running, the store's epoch
//!   callback charges one tick to the call's [`CpuMeter`], yields to the async
//!   executor and re-arms. A guest blocked in a host call (waiting for HTTP)
//!   reaches no deadline, so time spent waiting is (up to one tick per wait)
//!   not charged. Past [`Limits::cpu_per_call`] the guest traps.
//! * **Wall clock**: each call runs under `tokio::time::timeout`
//!   ([`Limits::wall_per_call`]); epochs cannot interrupt a guest that is
//!   waiting on the network.
//!
//! After any of these fires the instance is poisoned and its store dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// The epoch ticker's period.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Resource limits for each instance and call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of the component's linear memory. Default 256 MiB.
    pub memory_bytes: usize,
    /// CPU time one call (and instantiation) may use, measured in epoch ticks
    /// while the guest runs. Default 30 s.
    pub cpu_per_call: Duration,
    /// Wall-clock time one call (and instantiation) may take. Default 120 s.
    pub wall_per_call: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 * 1024 * 1024,
            cpu_per_call: Duration::from_secs(30),
            wall_per_call: Duration::from_secs(120),
        }
    }
}

impl Limits {
    /// The CPU budget in epoch ticks (at least one).
    pub fn cpu_ticks(&self) -> u64 {
        let ticks = self.cpu_per_call.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

/// A [`ResourceLimiter`] that enforces [`StoreLimits`] and remembers the peak
/// linear-memory size it granted, and whether it refused a growth.
pub struct PeakMemoryLimiter {
    inner: StoreLimits,
    peak: usize,
    refused: bool,
}

impl PeakMemoryLimiter {
    /// A limiter capping each linear memory at `memory_bytes`; growing past
    /// it traps.
    pub fn new(memory_bytes: usize) -> PeakMemoryLimiter {
        PeakMemoryLimiter {
            inner: StoreLimitsBuilder::new().memory_size(memory_bytes).trap_on_grow_failure(true).build(),
            peak: 0,
            refused: false,
        }
    }

    /// The largest linear-memory size granted so far, in bytes.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// Whether a growth was refused (the memory limit was hit).
    pub fn refused(&self) -> bool {
        self.refused
    }
}

impl ResourceLimiter for PeakMemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let verdict = self.inner.memory_growing(current, desired, maximum);
        match verdict {
            Ok(true) => self.peak = self.peak.max(desired),
            _ => self.refused = true,
        }
        verdict
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// CPU accounting for the current call, kept in the store.
#[derive(Debug, Default)]
pub struct CpuMeter {
    used_ticks: u64,
    budget_ticks: u64,
    exceeded: bool,
}

impl CpuMeter {
    /// Starts a new call with a budget of `budget_ticks` ticks.
    pub fn start_call(&mut self, budget_ticks: u64) {
        self.used_ticks = 0;
        self.budget_ticks = budget_ticks;
        self.exceeded = false;
    }

    /// Charges one tick; returns `false` once the budget is used up.
    pub fn charge_tick(&mut self) -> bool {
        self.used_ticks += 1;
        if self.used_ticks > self.budget_ticks {
            self.exceeded = true;
        }
        !self.exceeded
    }

    /// Ticks charged in the current call.
    pub fn used_ticks(&self) -> u64 {
        self.used_ticks
    }

    /// Whether the current call ran out of CPU budget.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

/// A thread that increments an engine's epoch every [`EPOCH_TICK`]. It stops
/// when dropped or when the engine is gone.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub fn start(engine: &wasmtime::Engine) -> std::io::Result<EpochTicker> {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let thread_stop = Arc::clone(&stop);
        std::thread::Builder::new().name("wasm-epoch-ticker".into()).spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            if thread_stop.load(Ordering::Relaxed) {
                break;
            }
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        })?;
        Ok(EpochTicker { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let limits = Limits::default();
        assert_eq!(limits.memory_bytes, 256 << 20);
        assert_eq!(limits.cpu_ticks(), 3000);
        let tiny = Limits { cpu_per_call: Duration::from_millis(1), ..limits };
        assert_eq!(tiny.cpu_ticks(), 1);
    }

    #[test]
    fn limiter_tracks_peak_and_refuses_past_limit() {
        let mut limiter = PeakMemoryLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 65536, None).unwrap());
        assert!(limiter.memory_growing(65536, 1 << 20, None).unwrap());
        assert_eq!(limiter.peak(), 1 << 20);
        assert!(limiter.memory_growing(1 << 20, 2 << 20, None).is_err());
        assert!(limiter.refused());
        assert_eq!(limiter.peak(), 1 << 20);
    }

    #[test]
    fn cpu_meter_budget() {
        let mut meter = CpuMeter::default();
        meter.start_call(2);
        assert!(meter.charge_tick());
        assert!(meter.charge_tick());
        assert!(!meter.charge_tick());
        assert!(meter.exceeded());
        meter.start_call(2);
        assert!(!meter.exceeded());
    }
}
