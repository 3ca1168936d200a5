//! A minimal HTTP/1.1 client over a plain TCP stream, shared by the simulator
//! tests: it sends exactly what a test says, so the tests see the simulator's
//! raw responses (status, headers, chunked bodies) without a client library.

#![allow(dead_code)] // each test binary uses part of this module

use std::net::SocketAddr;

use host_test::simulator::{Credentials, Simulator};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad json ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

pub fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let pos = data.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(&data[..pos]).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        data = &data[pos + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

pub async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<&[u8]>,
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    stream.write_all(&bytes).await?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await?;
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| invalid("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut body = buf[split + 4..].to_vec();
    let chunked =
        headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body).ok_or_else(|| invalid("truncated chunked body"))?;
    } else if let Some((_, len)) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        if body.len() != len.parse::<usize>().unwrap_or(0) {
            return Err(invalid("truncated body"));
        }
    }
    Ok(Resp { status, headers, body })
}

pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, String)], body: Option<&[u8]>) -> Resp {
    raw(addr, method, path, headers, body).await.unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub fn json_ct() -> (&'static str, String) {
    ("Content-Type", "application/json".to_string())
}

pub const GRANT: &[u8] = br#"{"grant_type":"client_credentials"}"#;

pub async fn token_for(sim: &Simulator, creds: &Credentials) -> String {
    let auth = format!("client_id:{}, client_secret:{}", creds.client_id, creds.client_secret);
    let r = send(sim.addr(), "POST", "/auth/oauth2/v2/token", &[("Authorization", auth), json_ct()], Some(GRANT)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["access_token"].as_str().unwrap().to_string()
}

pub async fn get(sim: &Simulator, token: &str, path: &str) -> Resp {
    send(sim.addr(), "GET", path, &[("Authorization", format!("Bearer {token}"))], None).await
}

pub async fn with_body(sim: &Simulator, token: &str, method: &str, path: &str, body: &str) -> Resp {
    send(sim.addr(), method, path, &[("Authorization", format!("Bearer {token}")), json_ct()], Some(body.as_bytes()))
        .await
}
