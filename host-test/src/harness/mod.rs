//! A wasmtime host for connector components (the `identity:connector` WIT
//! package in `wit/`, world `connector-world`).
//!
//! [`Harness::new`] compiles a component once; [`Harness::instantiate`] makes
//! fresh, isolated [`ConnectorInstance`]s from it. Each instance gets:
//!
//! * `wasi:http` (types + outgoing-handler) behind the embedder's
//!   [`policy::HttpPolicy`]: an allow-list of hosts and an optional route map
//!   to a loopback simulator; every request is counted in a shared
//!   [`RequestLog`];
//! * `wasi:io` (error, poll, streams) and `wasi:clocks/monotonic-clock`;
//! * the connector's `log` import ([`log::ComponentLog`]);
//! * nothing else: no filesystem, environment, sockets or stdio.
//!
//! Calls run under [`Limits`] (memory, CPU, wall clock). The outer
//! `anyhow::Result` of each call is for host failures (trap, timeout, limit);
//! after one, the instance is poisoned and refuses further calls. The inner
//! `Result<_, ConnectorError>` is the component's own answer.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use host_test::harness::{config::component_path, Harness, HarnessConfig};
//! let harness = Harness::new(HarnessConfig {
//!     component: component_path(),
//!     allowed_hosts: vec!["acme.onelogin.com".into()],
//!     ..HarnessConfig::default()
//! })?;
//! let mut instance = harness.instantiate().await?;
//! let info = instance.describe().await?;
//! println!("{} {}", info.name, info.version);
//! # Ok(()) }
//! ```

pub mod action;
pub mod config;
pub mod diff;
mod instance;
pub mod limits;
pub mod log;
pub mod policy;
pub mod replay;
pub mod sync;

/// The `bindgen!` output for `connector-world`. The `wasi:*` interfaces map to
/// the wasmtime-wasi / wasmtime-wasi-http implementations.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "connector-world",
        imports: { default: async },
        exports: { default: async },
        additional_derives: [PartialEq, Eq],
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
    });
}

/// The WIT types of `identity:connector/types`, for tests and embedders.
pub mod types {
    pub use super::bindings::identity::connector::types::{
        AccessLevel, AccountInfo, AccountPatch, Action, ActionOutcome, ActionSpec, ConfigField, ConfigFieldSpec,
        ConnectorError, ConnectorInfo, CredentialChange, CustomAction, Endpoint, EntitlementChange, Entity, EntityKind,
        ErrorKind, KindReport, KindStatus, LinkRequest, ParamSpec, PlannedCall, PropertyKind, PropertySpec,
        Relationship, RelationshipKind, ResourcePermissions, Scheme, SyncKind, SyncPage, SyncProgress, SyncRequest,
        TransportKind, ValueType,
    };
    pub use super::log::{LogLevel, LogLine};

    /// Every WIT `transport-kind` with its WIT spelling, in the WIT's order:
    /// the one table both directions use (a test holds it to the WIT).
    pub const TRANSPORT_KINDS: [(TransportKind, &str); 6] = [
        (TransportKind::HostRefused, "host-refused"),
        (TransportKind::Dns, "dns"),
        (TransportKind::Connection, "connection"),
        (TransportKind::Timeout, "timeout"),
        (TransportKind::Tls, "tls"),
        (TransportKind::Protocol, "protocol"),
    ];

    /// The WIT spelling of a transport kind.
    pub fn transport_kind_name(kind: TransportKind) -> &'static str {
        TRANSPORT_KINDS.iter().find(|(k, _)| *k == kind).map_or("transport", |(_, name)| name)
    }

    /// The transport kind a WIT spelling names.
    pub fn transport_kind_named(name: &str) -> Option<TransportKind> {
        TRANSPORT_KINDS.iter().find(|(_, n)| *n == name).map(|(kind, _)| *kind)
    }

    /// The allow-list entry (`host:port`, IPv6 in brackets) of an endpoint
    /// the component's `endpoints` named. The policy adds the scheme rules
    /// (plain http only to loopback).
    pub fn allow_list_entry(endpoint: &Endpoint) -> String {
        if endpoint.host.contains(':') {
            format!("[{}]:{}", endpoint.host, endpoint.port)
        } else {
            format!("{}:{}", endpoint.host, endpoint.port)
        }
    }

    /// The WIT spelling of an error kind, with its payload, for messages.
    pub fn kind_name(kind: &ErrorKind) -> String {
        match kind {
            ErrorKind::InvalidConfig(field) => format!("invalid-config({field})"),
            ErrorKind::NotConfigured => "not-configured".into(),
            ErrorKind::AuthenticationFailed => "authentication-failed".into(),
            ErrorKind::InsufficientScope => "insufficient-scope".into(),
            ErrorKind::NotFound => "not-found".into(),
            ErrorKind::InvalidInput(what) => format!("invalid-input({what})"),
            ErrorKind::RateLimited(seconds) => format!("rate-limited(retry after {seconds} s)"),
            ErrorKind::Upstream(status) => format!("upstream(HTTP {status})"),
            ErrorKind::UnexpectedResponse(status) => format!("unexpected-response(HTTP {status})"),
            ErrorKind::Transport(kind) => format!("transport({})", transport_kind_name(*kind)),
            ErrorKind::InvalidCursor => "invalid-cursor".into(),
        }
    }
}

pub use instance::{ConnectorInstance, Harness, HarnessConfig};
pub use limits::Limits;
pub use log::ComponentLog;
pub use policy::{RefusedRequest, RequestLog};
pub use sync::{sync_all, sync_pages, SyncEnd, SyncOptions, SyncOutput};

#[cfg(test)]
mod tests {
    use super::types::{transport_kind_name, transport_kind_named, TRANSPORT_KINDS};

    #[test]
    fn the_transport_kind_table_is_the_wits() {
        let wit = include_str!("../../../wit/connector.wit");
        let body = wit.split("enum transport-kind {").nth(1).and_then(|rest| rest.split('}').next()).unwrap();
        let cases: Vec<&str> = body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")).collect();
        let names: Vec<String> = TRANSPORT_KINDS.iter().map(|(_, name)| format!("{name},")).collect();
        assert_eq!(cases, names);
        for (kind, name) in TRANSPORT_KINDS {
            assert_eq!((transport_kind_name(kind), transport_kind_named(name)), (name, Some(kind)));
        }
        assert_eq!(transport_kind_named("carrier-pigeon"), None);
    }
}
