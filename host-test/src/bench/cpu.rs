//! The component's CPU per entity in wasm against the same crate built
//! natively (it is also an rlib): `wasm_native_cpu_ratio`.
//!
//! 1. The native connector syncs a fresh simulator (no latency) over plain
//!    HTTP on loopback, recording every response in a [`ReplayBook`].
//! 2. The native connector syncs again, answered from the book in memory.
//! 3. The component syncs in wasmtime, its `wasi:http` requests answered from
//!    the same book by the harness ([`Harness::replay_from`]).
//!
//! Steps 2 and 3 wait for no network, so their wall time is the connector's
//! CPU (for wasm, including the `wasi:http` glue each request crosses). Both
//! run at concurrency 1, the same requests in the same order; a request the
//! book does not hold fails the measurement. Each replay runs [`ROUNDS`] times
//! and the fastest counts.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use onelogin_connector::{wit, Connector, Method, Request, Response, Transport, TransportFailure, TransportKind};

use super::{connector_error, BenchConfig, CpuMeasure, TENANT_HOST};
use crate::harness::replay::{Recorded, ReplayBook};
use crate::harness::{sync_pages, Harness, HarnessConfig, SyncOptions};
use crate::simulator::{Simulator, SimulatorConfig};

/// Replays of each kind; the fastest counts.
pub const ROUNDS: usize = 3;
/// `max-items` of every page, both builds.
const PAGE_ITEMS: u32 = 1000;

/// Measure (see the module docs) on the tenant of `config`.
pub async fn measure(config: &BenchConfig) -> anyhow::Result<CpuMeasure> {
    let simulator = Simulator::start(SimulatorConfig {
        users: config.users,
        seed: config.seed,
        rate_limit_per_hour: None,
        ..SimulatorConfig::default()
    })
    .await
    .context("cannot start the simulator")?;
    let credentials = simulator.manage_credentials();
    let fields = vec![
        ("client_id".to_string(), credentials.client_id),
        ("client_secret".to_string(), credentials.client_secret),
        ("subdomain".to_string(), "acme".to_string()),
    ];
    let kinds = config.kinds.clone();
    let addr = simulator.addr();
    let recording_fields = fields.clone();
    let recording_kinds = kinds.clone();
    let book = tokio::task::spawn_blocking(move || -> anyhow::Result<ReplayBook> {
        let recording = Recording { addr, start: Instant::now(), book: RefCell::new(ReplayBook::default()) };
        native_sync(&recording, &recording_fields, &recording_kinds)?;
        Ok(recording.book.into_inner())
    })
    .await??;
    simulator.shutdown().await;
    let book = Arc::new(book);

    let native_book = Arc::clone(&book);
    let native_kinds = kinds.clone();
    let native_fields = fields.clone();
    let (native_time, native_entities) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Duration, u64)> {
        let mut best = (Duration::MAX, 0);
        for _ in 0..ROUNDS {
            let replaying = Replaying { book: &native_book, start: Instant::now() };
            let started = Instant::now();
            let entities = native_sync(&replaying, &native_fields, &native_kinds)?;
            best = best.min((started.elapsed(), entities));
        }
        Ok(best)
    })
    .await??;

    let mut harness = Harness::new(HarnessConfig {
        component: config.component.clone(),
        allowed_hosts: vec![TENANT_HOST.to_string()],
        routes: BTreeMap::from([(TENANT_HOST.to_string(), addr)]),
        limits: config.limits,
    })?;
    harness.replay_from(Arc::clone(&book));
    let mut wasm_time = Duration::MAX;
    let mut wasm_entities = 0;
    for _ in 0..ROUNDS {
        let mut instance = harness.instantiate().await?;
        let started = Instant::now();
        instance.configure(&fields).await?.map_err(|e| connector_error("configure (replay)", e))?;
        let options =
            SyncOptions { kinds: kinds.clone(), max_items: PAGE_ITEMS, concurrency: 1, ..SyncOptions::default() };
        let end =
            sync_pages(&mut instance, &options, |_| {}).await?.map_err(|e| connector_error("sync (replay)", e))?;
        let elapsed = started.elapsed();
        if elapsed < wasm_time {
            (wasm_time, wasm_entities) = (elapsed, end.entities);
        }
    }
    anyhow::ensure!(book.misses() == 0, "the replays asked for {} requests that were not recorded", book.misses());
    anyhow::ensure!(
        wasm_entities == native_entities && native_entities > 0,
        "the replays differ: {wasm_entities} entities in wasm, {native_entities} natively"
    );
    let per_entity = |time: Duration| time.as_secs_f64() * 1e6 / native_entities as f64;
    Ok(CpuMeasure { wasm_us_per_entity: per_entity(wasm_time), native_us_per_entity: per_entity(native_time) })
}

/// A full sync by the native connector over `transport`; its entities.
fn native_sync<T: Transport>(transport: T, fields: &[(String, String)], kinds: &[String]) -> anyhow::Result<u64> {
    let fields: Vec<wit::ConfigField> =
        fields.iter().map(|(name, value)| wit::ConfigField { name: name.clone(), value: value.clone() }).collect();
    let (mut connector, _) =
        Connector::configure(transport, &fields).map_err(|e| anyhow::anyhow!("native configure failed: {e}"))?;
    let mut cursor = None;
    let mut entities = 0;
    loop {
        let request = wit::SyncRequest {
            cursor: cursor.take(),
            max_items: PAGE_ITEMS,
            kinds: kinds.to_vec(),
            checkpoint: None,
            max_wait_ms: 0,
            concurrency: 1,
        };
        let page = connector.sync(&request).map_err(|e| anyhow::anyhow!("native sync failed: {e}"))?;
        entities += page.entities.len() as u64;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(entities),
        }
    }
}

/// Plain HTTP/1.1 to the simulator, one connection per request, recording
/// every response.
struct Recording {
    addr: SocketAddr,
    start: Instant,
    book: RefCell<ReplayBook>,
}

impl Transport for &Recording {
    fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
        let response = exchange(self.addr, request).map_err(|e| TransportFailure {
            kind: TransportKind::Connection,
            message: format!("loopback HTTP: {e}"),
            retryable: false,
        })?;
        let recorded =
            Recorded { status: response.status, headers: response.headers.clone(), body: response.body.clone() };
        self.book.borrow_mut().record(request.method.as_str(), &request.path_and_query, recorded);
        Ok(response)
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// Answers from a [`ReplayBook`], in memory.
struct Replaying<'a> {
    book: &'a ReplayBook,
    start: Instant,
}

impl Transport for &Replaying<'_> {
    fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
        match self.book.answer(request.method.as_str(), &request.path_and_query) {
            Some(recorded) => {
                Ok(Response { status: recorded.status, headers: recorded.headers.clone(), body: recorded.body.clone() })
            }
            None => Err(TransportFailure {
                kind: TransportKind::Connection,
                message: "not in the replay book".into(),
                retryable: false,
            }),
        }
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// One request and its whole response over a fresh connection.
fn exchange(addr: SocketAddr, request: &Request) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    let body = request.body.as_deref().unwrap_or_default();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
        request.method.as_str(),
        request.path_and_query,
        request.authority
    );
    for (name, value) in request.headers.iter().filter(|(name, _)| name != "content-length") {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if request.body.is_some() || request.method != Method::Get {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| std::io::Error::other("an unreadable HTTP response"))
}

/// A whole HTTP/1.1 response (`content-length`, chunked, or to the end).
fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(raw.get(..split)?).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let rest = raw.get(split + 4..)?;
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(rest)? } else { rest.to_vec() };
    Some(Response { status, headers, body })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(rest.get(..line_end)?).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(line_end + 2..line_end + 2 + size)?);
        rest = rest.get(line_end + 4 + size..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_read_whole_whatever_their_framing() {
        let plain = parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: a\r\nDate: x\r\n\r\n[1]").unwrap();
        assert_eq!((plain.status, plain.body.as_slice()), (200, b"[1]".as_slice()));
        assert_eq!(plain.headers[0], ("content-type".to_string(), "a".to_string()));
        let chunked = parse_response(
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n2\r\n[1\r\n1\r\n]\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((chunked.status, chunked.body.as_slice()), (404, b"[1]".as_slice()));
        assert!(parse_response(b"garbage").is_none());
    }
}
