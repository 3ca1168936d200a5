//! [`Harness`] (engine, compiled component, linker, shared logs) and
//! [`ConnectorInstance`] (one store + instance, with limits per call).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context as _;
use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreContextMut, UpdateDeadline};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksCtx, WasiClocksCtxView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::{ConnectorWorld, ConnectorWorldPre};
use super::limits::{CpuMeter, EpochTicker, Limits, PeakMemoryLimiter};
use super::log::{ComponentLog, LogData};
use super::policy::{HttpPolicy, PolicyHooks, RequestLog};
use super::replay::ReplayBook;
use super::types::{
    allow_list_entry, AccountInfo, Action, ActionOutcome, ConfigField, ConnectorError, ConnectorInfo, Endpoint,
    SyncPage, SyncRequest,
};

/// What a [`Harness`] loads and how it confines instances.
#[derive(Clone, Debug, Default)]
pub struct HarnessConfig {
    /// The component `.wasm` file.
    pub component: PathBuf,
    /// Hosts (`host` or `host:port`) the component may reach. See
    /// [`policy`](super::policy) for the rules.
    pub allowed_hosts: Vec<String>,
    /// Allowed `https` hosts to serve from a loopback address instead
    /// (host name → `127.0.0.1:PORT`), over plain http.
    pub routes: BTreeMap<String, SocketAddr>,
    /// Memory, CPU and wall-clock limits.
    pub limits: Limits,
}

/// The `T` of each `Store<T>`.
struct HostState {
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: PolicyHooks,
    clocks: WasiClocksCtx,
    log: ComponentLog,
    limiter: PeakMemoryLimiter,
    cpu: CpuMeter,
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// [`HasData`] marker for the `wasi:io` interfaces, which wasmtime-wasi
/// implements directly on the store's [`ResourceTable`].
struct IoTable;

impl HasData for IoTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// Builds the linker: exactly the interfaces `connector-world` imports.
fn linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    use wasmtime_wasi::p2::bindings::{clocks, io};
    let mut linker = Linker::<HostState>::new(engine);
    let l = &mut linker;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(l).map_err(wasm_error)?;
    io::error::add_to_linker::<HostState, IoTable>(l, |s| &mut s.table).map_err(wasm_error)?;
    io::poll::add_to_linker::<HostState, IoTable>(l, |s| &mut s.table).map_err(wasm_error)?;
    io::streams::add_to_linker::<HostState, IoTable>(l, |s| &mut s.table).map_err(wasm_error)?;
    clocks::monotonic_clock::add_to_linker::<HostState, WasiClocks>(l, |s| WasiClocksCtxView {
        ctx: &mut s.clocks,
        table: &mut s.table,
    })
    .map_err(wasm_error)?;
    super::bindings::identity::connector::log::add_to_linker::<HostState, LogData>(l, |s| &mut s.log)
        .map_err(wasm_error)?;
    Ok(linker)
}

/// Converts a `wasmtime::Error` (its own type in wasmtime 48) to `anyhow`.
fn wasm_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(error.into())
}

/// A compiled connector component plus everything needed to instantiate it
/// under the configured policy and limits. Cheap to share by reference; every
/// [`instantiate`](Harness::instantiate) gives an isolated instance.
pub struct Harness {
    engine: Engine,
    pre: ConnectorWorldPre<HostState>,
    policy: Arc<HttpPolicy>,
    routes: BTreeMap<String, SocketAddr>,
    limits: Limits,
    request_log: RequestLog,
    component_log: ComponentLog,
    replay: Option<Arc<ReplayBook>>,
    _ticker: EpochTicker,
}

impl Harness {
    /// Answer the allowed requests of instances made from now on from
    /// `book` instead of the network (see [`replay`](super::replay)).
    pub fn replay_from(&mut self, book: Arc<ReplayBook>) {
        self.replay = Some(book);
    }

    /// Compiles the component (once) and prepares the linker. Fails if the
    /// file is missing, is not a component, imports something this host does
    /// not provide, or the allow-list / routes are malformed.
    pub fn new(config: HarnessConfig) -> anyhow::Result<Harness> {
        let policy = HttpPolicy::new(&config.allowed_hosts, &config.routes)?;
        let mut engine_config = wasmtime::Config::new();
        engine_config.wasm_component_model(true);
        engine_config.epoch_interruption(true);
        let engine = Engine::new(&engine_config).map_err(wasm_error)?;
        let bytes = std::fs::read(&config.component).with_context(|| {
            format!("cannot read component {} (build it, or set ONELOGIN_CONNECTOR_WASM)", config.component.display())
        })?;
        let component = Component::new(&engine, &bytes)
            .map_err(wasm_error)
            .with_context(|| format!("cannot compile {}", config.component.display()))?;
        let linker = linker(&engine)?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(wasm_error)
            .context("the component's imports do not match what this host provides")?;
        let pre = ConnectorWorldPre::new(instance_pre)
            .map_err(wasm_error)
            .context("the component does not export identity:connector/connector")?;
        let ticker = EpochTicker::start(&engine).context("cannot start the epoch ticker")?;
        Ok(Harness {
            engine,
            pre,
            policy: Arc::new(policy),
            routes: config.routes,
            limits: config.limits,
            request_log: RequestLog::default(),
            component_log: ComponentLog::default(),
            replay: None,
            _ticker: ticker,
        })
    }

    /// A fresh instance in its own store, with its own memory and HTTP
    /// state. Instantiation runs under the same limits as a call.
    pub async fn instantiate(&self) -> anyhow::Result<ConnectorInstance> {
        let state = HostState {
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: PolicyHooks::new(Arc::clone(&self.policy), self.request_log.clone(), self.replay.clone()),
            clocks: WasiClocksCtx::default(),
            log: self.component_log.clone(),
            limiter: PeakMemoryLimiter::new(self.limits.memory_bytes),
            cpu: CpuMeter::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(epoch_deadline_reached);
        arm(&mut store, &self.limits);
        let instantiated =
            tokio::time::timeout(self.limits.wall_per_call, self.pre.instantiate_async(&mut store)).await;
        let bindings = match instantiated {
            Err(_) => anyhow::bail!("instantiation exceeded the wall-clock limit of {:?}", self.limits.wall_per_call),
            Ok(Err(error)) => return Err(describe_failure(error, &store, &self.limits, "instantiation")),
            Ok(Ok(bindings)) => bindings,
        };
        let peak = store.data().limiter.peak();
        Ok(ConnectorInstance {
            store: Some(store),
            bindings,
            limits: self.limits,
            poisoned: None,
            peak_memory: peak,
            component_log: self.component_log.clone(),
        })
    }

    /// Asks the component which servers `config` needs (its `endpoints`
    /// export, no network) and makes exactly those the allow-list of every
    /// instance created from now on (routes stay). Returns the entries, or
    /// the component's typed error for a bad config (the allow-list is then
    /// unchanged).
    pub async fn allow_endpoints_of(
        &mut self,
        config: &[(String, String)],
    ) -> anyhow::Result<Result<Vec<String>, ConnectorError>> {
        let endpoints = match self.instantiate().await?.endpoints(config).await? {
            Ok(endpoints) => endpoints,
            Err(error) => return Ok(Err(error)),
        };
        let entries: Vec<String> = endpoints.iter().map(allow_list_entry).collect();
        self.policy = Arc::new(HttpPolicy::new(&entries, &self.routes)?);
        Ok(Ok(entries))
    }

    /// The HTTP requests of all instances of this harness.
    pub fn request_log(&self) -> RequestLog {
        self.request_log.clone()
    }

    /// The lines all instances of this harness logged.
    pub fn component_log(&self) -> ComponentLog {
        self.component_log.clone()
    }

    /// The limits instances run under.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// `(name, value)` pairs as WIT config fields.
fn config_fields(config: &[(String, String)]) -> Vec<ConfigField> {
    config.iter().map(|(name, value)| ConfigField { name: name.clone(), value: value.clone() }).collect()
}

/// The store's epoch callback: charge one tick of CPU to the call, then
/// either trap (budget used up) or yield to the executor and re-arm.
fn epoch_deadline_reached(mut ctx: StoreContextMut<'_, HostState>) -> wasmtime::Result<UpdateDeadline> {
    if ctx.data_mut().cpu.charge_tick() {
        Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
    } else {
        Ok(UpdateDeadline::Interrupt)
    }
}

/// Resets the CPU meter and sets the epoch deadline (it starts at 0, which
/// would trap at once): done before instantiation and every call.
fn arm(store: &mut Store<HostState>, limits: &Limits) {
    store.data_mut().cpu.start_call(limits.cpu_ticks());
    store.set_epoch_deadline(1);
}

/// Turns a failed call into a host error that says which limit, if any, was hit.
fn describe_failure(error: wasmtime::Error, store: &Store<HostState>, limits: &Limits, what: &str) -> anyhow::Error {
    let state = store.data();
    let error = wasm_error(error);
    if state.cpu.exceeded() {
        error.context(format!("{what} exceeded the CPU limit of {:?}", limits.cpu_per_call))
    } else if state.limiter.refused() {
        error.context(format!("{what} exceeded the memory limit of {} bytes", limits.memory_bytes))
    } else {
        error.context(format!("{what} trapped"))
    }
}

type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// One instance of the component in its own store. Not shared between tasks:
/// calls take `&mut self`.
pub struct ConnectorInstance {
    /// `None` once poisoned.
    store: Option<Store<HostState>>,
    bindings: ConnectorWorld,
    limits: Limits,
    poisoned: Option<String>,
    peak_memory: usize,
    component_log: ComponentLog,
}

impl ConnectorInstance {
    /// Runs one export call under the limits; poisons the instance on a
    /// trap, limit or timeout.
    async fn call<R>(
        &mut self,
        what: &'static str,
        f: impl for<'a> FnOnce(&'a ConnectorWorld, &'a mut Store<HostState>) -> CallFuture<'a, R>,
    ) -> anyhow::Result<R> {
        if let Some(reason) = &self.poisoned {
            anyhow::bail!(
                "this connector instance is unusable after an earlier failure ({reason}); \
                 create a new instance"
            );
        }
        let Some(store) = self.store.as_mut() else {
            anyhow::bail!("this connector instance has no store");
        };
        arm(store, &self.limits);
        let outcome = tokio::time::timeout(self.limits.wall_per_call, f(&self.bindings, store)).await;
        self.peak_memory = self.peak_memory.max(store.data().limiter.peak());
        let error = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => describe_failure(error, store, &self.limits, what),
            Err(_) => anyhow::anyhow!("{what} exceeded the wall-clock limit of {:?}", self.limits.wall_per_call),
        };
        self.poisoned = Some(error.to_string());
        // The store may be mid-call: drop it (and the instance's memory).
        self.store = None;
        Err(error)
    }

    /// `describe`: the connector's self-description.
    pub async fn describe(&mut self) -> anyhow::Result<ConnectorInfo> {
        self.call("describe", |b, s| Box::pin(b.identity_connector_connector().call_describe(s))).await
    }

    /// `endpoints`: the servers the connector calls with this config.
    pub async fn endpoints(
        &mut self,
        config: &[(String, String)],
    ) -> anyhow::Result<Result<Vec<Endpoint>, ConnectorError>> {
        let fields = config_fields(config);
        self.call("endpoints", move |b, s| {
            Box::pin(async move { b.identity_connector_connector().call_endpoints(s, &fields).await })
        })
        .await
    }

    /// `configure` with `(name, value)` pairs.
    pub async fn configure(
        &mut self,
        config: &[(String, String)],
    ) -> anyhow::Result<Result<AccountInfo, ConnectorError>> {
        let fields = config_fields(config);
        self.call("configure", move |b, s| {
            Box::pin(async move { b.identity_connector_connector().call_configure(s, &fields).await })
        })
        .await
    }

    /// `sync`: one page.
    pub async fn sync_page(&mut self, request: SyncRequest) -> anyhow::Result<Result<SyncPage, ConnectorError>> {
        self.call("sync", move |b, s| {
            Box::pin(async move { b.identity_connector_connector().call_sync(s, &request).await })
        })
        .await
    }

    /// `plan`: what `provision` of the action would do, nothing written.
    pub async fn plan(&mut self, action: Action) -> anyhow::Result<Result<ActionOutcome, ConnectorError>> {
        self.call("plan", move |b, s| {
            Box::pin(async move { b.identity_connector_connector().call_plan(s, &action).await })
        })
        .await
    }

    /// `provision`: run one action.
    pub async fn provision(&mut self, action: Action) -> anyhow::Result<Result<ActionOutcome, ConnectorError>> {
        self.call("provision", move |b, s| {
            Box::pin(async move { b.identity_connector_connector().call_provision(s, &action).await })
        })
        .await
    }

    /// The largest linear-memory size this instance was granted, in bytes.
    pub fn peak_memory_bytes(&self) -> usize {
        self.store.as_ref().map_or(self.peak_memory, |s| self.peak_memory.max(s.data().limiter.peak()))
    }

    /// Epoch ticks (10 ms each) the last call was charged, or `None` once
    /// the instance is poisoned.
    pub fn last_call_cpu_ticks(&self) -> Option<u64> {
        self.store.as_ref().map(|s| s.data().cpu.used_ticks())
    }

    /// Why this instance refuses calls, if it does.
    pub fn poisoned(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }

    /// The log shared by all instances of the harness.
    pub fn component_log(&self) -> ComponentLog {
        self.component_log.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}

    #[test]
    fn harness_is_shareable_and_instances_are_sendable() {
        assert_send_sync::<Harness>();
        assert_send::<ConnectorInstance>();
    }

    #[tokio::test]
    async fn missing_component_is_a_clear_error() {
        let error =
            Harness::new(HarnessConfig { component: "/nonexistent/connector.wasm".into(), ..HarnessConfig::default() })
                .err()
                .expect("loading a missing file fails");
        assert!(format!("{error:#}").contains("ONELOGIN_CONNECTOR_WASM"));
    }
}
