//! A hostile OneLogin look-alike on loopback, for the fault-matrix tests.
//!
//! [`HostileServer::start`] listens on `127.0.0.1` (an ephemeral port) and
//! speaks raw HTTP/1.1 over tokio TCP (one request per connection,
//! `Connection: close`), so it can send what no well-behaved HTTP library
//! would: a header that never comes, a 1 MB header, invalid UTF-8 in a
//! header, a body that drips or never ends, a reset in the middle of a body.
//!
//! Everything not chosen to misbehave answers like a tiny, well-formed
//! tenant ([`tenant`]): five users on two v2 pages, one role, one group, a
//! token, a scope probe, custom attributes, MFA devices, events. A
//! [`Misbehaviour`] replaces the answer for the requests it matches.
//!
//! Bounds: request heads are read up to 64 KiB and bodies up to 1 MiB, each
//! within 10 s; every slow or endless answer ends after [`MAX_STREAM_TIME`]
//! or [`MAX_STREAM_BYTES`], or as soon as the client goes away; dropping the
//! server aborts the listener and every connection task.

pub mod tenant;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub use tenant::{Canaries, CANARIES};

/// The longest any slow or endless answer goes on.
pub const MAX_STREAM_TIME: Duration = Duration::from_secs(120);
/// The most bytes any endless answer sends.
pub const MAX_STREAM_BYTES: u64 = 512 * 1024 * 1024;
const MAX_HEAD: usize = 64 * 1024;
const MAX_REQUEST_BODY: usize = 1024 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The request body (up to 1 MiB).
    pub body: Vec<u8>,
}

impl SeenRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }

    /// A query parameter's raw (still percent-encoded) value.
    pub fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What the server sends back.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response: status, headers (raw bytes allowed), body.
    Full {
        /// Status code.
        status: u16,
        /// Extra headers (`Content-Length` and `Connection` are added).
        headers: Vec<(String, Vec<u8>)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Exactly these bytes, then close.
    Raw(Vec<u8>),
    /// Read the request, then say nothing (until [`MAX_STREAM_TIME`]).
    Silent,
    /// Headers at once, then the body one byte per `every`.
    Drip {
        /// The status line and headers (a `Content-Length` for `body`).
        status: u16,
        /// The body to drip.
        body: Vec<u8>,
        /// The pause between bytes.
        every: Duration,
    },
    /// `200` with a chunked JSON array that never ends.
    EndlessChunked,
    /// Headers with a `Content-Length` of `announced`, `sent` bytes of the
    /// body, then a TCP reset.
    ResetMidBody {
        /// Body length announced.
        announced: usize,
        /// Bytes actually sent before the reset.
        sent: usize,
    },
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), b"application/json".to_vec())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A response with a text body of the given content type.
    pub fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), content_type.as_bytes().to_vec())],
            body: body.into(),
        }
    }

    /// Adds a header (to a `Full` reply; others are unchanged).
    pub fn with_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.to_string(), value.into()));
        }
        self
    }

    /// Removes a header (from a `Full` reply).
    pub fn without_header(mut self, name: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        self
    }
}

/// Decides the answer to a request: `None` lets the well-behaved tenant
/// answer. Gets the request and how many requests came before it with the
/// same path (0 for the first).
pub type Misbehaviour = Arc<dyn Fn(&SeenRequest, u64) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
struct Log {
    requests: Vec<SeenRequest>,
    per_path: BTreeMap<String, u64>,
}

/// A running hostile server. Dropping it stops it.
pub struct HostileServer {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    tasks: JoinSet<()>,
}

impl HostileServer {
    /// Serves the tiny tenant on `127.0.0.1`, with `misbehaviour` overriding it.
    pub async fn start(misbehaviour: Misbehaviour) -> anyhow::Result<HostileServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Log::default()));
        let mut tasks = JoinSet::new();
        let accept_log = Arc::clone(&log);
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let log = Arc::clone(&accept_log);
                let misbehaviour = Arc::clone(&misbehaviour);
                connections.spawn(async move {
                    let _ = serve(stream, addr, &log, &misbehaviour).await;
                });
                // Reap finished connections so the set stays small.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(HostileServer { addr, log, tasks })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.lock().requests.clone()
    }

    /// How many requests so far.
    pub fn total(&self) -> u64 {
        self.lock().requests.len() as u64
    }

    /// Requests per path (without query).
    pub fn per_path(&self) -> BTreeMap<String, u64> {
        self.lock().per_path.clone()
    }

    /// Stops the server now.
    pub fn stop(&mut self) {
        self.tasks.abort_all();
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// Reads one request and answers it.
async fn serve(
    mut stream: TcpStream,
    addr: SocketAddr,
    log: &Mutex<Log>,
    misbehaviour: &Misbehaviour,
) -> std::io::Result<()> {
    let Some(request) = tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream)).await.ok().flatten() else {
        return Ok(());
    };
    let seen_before = {
        let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = log.per_path.entry(request.path().to_string()).or_insert(0);
        let before = *count;
        *count += 1;
        log.requests.push(request.clone());
        before
    };
    let reply = misbehaviour(&request, seen_before).unwrap_or_else(|| tenant::answer(&request, addr));
    write_reply(&mut stream, reply).await
}

async fn read_request(stream: &mut TcpStream) -> Option<SeenRequest> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(chunk.get(..n)?);
    };
    let head = String::from_utf8_lossy(buffer.get(..head_end)?).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_REQUEST_BODY);
    let mut body = buffer.get(head_end + 4..)?.to_vec();
    // Read the whole body before answering: closing a socket with unread
    // input sends a reset, which the client would see instead of the answer.
    let complete = |body: &[u8]| {
        if chunked {
            body.starts_with(b"0\r\n\r\n") || body.windows(7).any(|w| w == b"\r\n0\r\n\r\n")
        } else {
            body.len() >= length
        }
    };
    while !complete(&body) && body.len() <= MAX_REQUEST_BODY {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(chunk.get(..n)?);
    }
    let body = if chunked { dechunk(&body) } else { body.get(..length.min(body.len()))?.to_vec() };
    Some(SeenRequest { method, target, headers, body })
}

/// The data of a chunked body (framing removed; extensions ignored).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(raw.get(..line_end).unwrap_or_default()).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let Some(data) = raw.get(start..start + size) else { break };
        out.extend_from_slice(data);
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

fn head(status: u16, headers: &[(String, Vec<u8>)], length: Option<usize>) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\nconnection: close\r\n", reason(status)).into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if let Some(length) = length {
        out.extend_from_slice(format!("content-length: {length}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

async fn write_reply(stream: &mut TcpStream, reply: Reply) -> std::io::Result<()> {
    let started = tokio::time::Instant::now();
    let in_time = |started: tokio::time::Instant| started.elapsed() < MAX_STREAM_TIME;
    match reply {
        Reply::Full { status, headers, body } => {
            stream.write_all(&head(status, &headers, Some(body.len()))).await?;
            for part in body.chunks(64 * 1024) {
                stream.write_all(part).await?;
            }
        }
        Reply::Raw(bytes) => stream.write_all(&bytes).await?,
        Reply::Silent => {
            // Hold the connection open, saying nothing, until the client
            // leaves or the time is up.
            let mut sink = [0u8; 1024];
            let _ = tokio::time::timeout(MAX_STREAM_TIME, async {
                while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {}
            })
            .await;
        }
        Reply::Drip { status, body, every } => {
            let headers = vec![("content-type".to_string(), b"application/json".to_vec())];
            stream.write_all(&head(status, &headers, Some(body.len()))).await?;
            for byte in body {
                if !in_time(started) {
                    break;
                }
                stream.write_all(&[byte]).await?;
                tokio::time::sleep(every).await;
            }
        }
        Reply::EndlessChunked => {
            let headers = vec![
                ("content-type".to_string(), b"application/json".to_vec()),
                ("transfer-encoding".to_string(), b"chunked".to_vec()),
            ];
            stream.write_all(&head(200, &headers, None)).await?;
            stream.write_all(b"1\r\n[\r\n").await?;
            let item = br#"{"id":1,"email":"loop@example.com"},"#;
            let chunk: Vec<u8> = item.iter().copied().cycle().take(item.len() * 1000).collect();
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            let mut sent = 0u64;
            while in_time(started) && sent < MAX_STREAM_BYTES {
                stream.write_all(&framed).await?;
                sent += framed.len() as u64;
            }
        }
        Reply::ResetMidBody { announced, sent } => {
            let headers = vec![("content-type".to_string(), b"application/json".to_vec())];
            stream.write_all(&head(200, &headers, Some(announced))).await?;
            stream.write_all(&vec![b' '; sent]).await?;
            stream.flush().await?;
            // SO_LINGER 0: closing sends a TCP reset instead of a FIN. (The
            // deprecation is about linger blocking on drop; with zero it cannot.)
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            return Ok(());
        }
    }
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(())
}
