//! onelogin-connector: a OneLogin identity connector as a WebAssembly component.
//!
//! It implements the generic `identity:connector` world (see `wit/`):
//! `describe`, `configure`, `sync` and `provision`, with every network call
//! made through the imported `wasi:http/outgoing-handler`.
//!
//! Where things live (the README's "Architecture" section walks the flow):
//! - `connector.rs` — the configured instance behind the exports.
//! - `config.rs` — config schema and validation (which OneLogin host).
//! - `client/` — the OneLogin API client: token (`auth.rs`), error bodies
//!   (`errors.rs`), guarded pagination (`pagination.rs`), retries and rate
//!   limits (`mod.rs`), and the wasi:http transport.
//! - `vocabulary.rs` — entity types, relationship classes, keys, id readers.
//! - `sync/` — the sync engine (`mod.rs`), one module per phase with its
//!   registry (`phases/`), mapping rules (`mapping.rs`), cursor (`cursor.rs`).
//! - `provision/` — one module per action (`actions/`), their dispatch table
//!   (`mod.rs`).
//! - `describe.rs` — the self-description, derived from the registries.

// A panic traps the instance and loses the host's call: no unwrap, expect,
// panic or unchecked indexing outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]
#![warn(missing_docs)]

mod bindings;
mod client;
mod config;
mod connector;
mod describe;
mod error;
#[cfg(test)]
mod fuzz;
mod logging;
mod provision;
mod sync;
mod time;
mod vocabulary;

// The generated WIT modules, under the names the rest of the crate uses.
use bindings::identity;
#[cfg(target_arch = "wasm32")]
use bindings::wasi;

// The crate is also an rlib so that the same logic runs natively, over any
// `Transport`: the unit tests, fuzzing and a native CPU comparison drive
// `Connector` without a WebAssembly host. This is that native surface.
pub use bindings::identity::connector::types as wit;
pub use client::transport::{Method, Request, Response, Transport, TransportFailure, TransportKind};
pub use config::Scheme;
pub use connector::{endpoints, Connector};
pub use describe::connector_info as describe;
pub use error::{Error, Result};
/// The `fields` the sync asks of `GET /api/2/users` (every v2 user field),
/// for tests that read the API as the connector does.
pub use sync::USER_FIELDS;
pub use sync::{event_slices, DEFAULT_CONCURRENCY};

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the export macro expands to canonical-ABI glue
mod component {
    //! The exports, bound to the wasi:http transport and one instance state.

    use std::cell::RefCell;

    use crate::bindings::exports::identity::connector::connector::Guest;
    use crate::client::wasi_http::WasiHttp;
    use crate::connector::Connector;
    use crate::error::Error;
    use crate::identity::connector::types::{
        AccountInfo, Action, ActionOutcome, ConfigField, ConnectorError, ConnectorInfo, Endpoint, SyncPage, SyncRequest,
    };

    thread_local! {
        static INSTANCE: RefCell<Option<Connector<WasiHttp>>> = const { RefCell::new(None) };
    }

    struct Component;

    impl Guest for Component {
        fn describe() -> ConnectorInfo {
            crate::describe::connector_info()
        }

        fn endpoints(config: Vec<ConfigField>) -> Result<Vec<Endpoint>, ConnectorError> {
            crate::connector::endpoints(&config).map_err(ConnectorError::from)
        }

        fn configure(config: Vec<ConfigField>) -> Result<AccountInfo, ConnectorError> {
            INSTANCE.with(|instance| {
                // The previous configuration is dropped first: a failed
                // configure leaves the instance unconfigured (as the WIT says).
                *instance.borrow_mut() = None;
                let (connector, info) = Connector::configure(WasiHttp, &config)?;
                *instance.borrow_mut() = Some(connector);
                Ok(info)
            })
        }

        fn sync(request: SyncRequest) -> Result<SyncPage, ConnectorError> {
            with_connector(|connector| connector.sync(&request))
        }

        fn plan(action: Action) -> Result<ActionOutcome, ConnectorError> {
            with_connector(|connector| connector.plan(&action))
        }

        fn provision(action: Action) -> Result<ActionOutcome, ConnectorError> {
            with_connector(|connector| connector.provision(&action))
        }
    }

    fn with_connector<R>(
        f: impl FnOnce(&mut Connector<WasiHttp>) -> crate::error::Result<R>,
    ) -> Result<R, ConnectorError> {
        INSTANCE.with(|instance| match instance.borrow_mut().as_mut() {
            Some(connector) => f(connector).map_err(ConnectorError::from),
            None => Err(Error::NotConfigured.into()),
        })
    }

    crate::bindings::export!(Component with_types_in crate::bindings);
}
