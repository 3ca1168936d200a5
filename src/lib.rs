//! onelogin-connector: a OneLogin identity connector as a WebAssembly component.
//!
//! It implements the generic `identity:connector` world (see `wit/`):
//! `describe`, `configure`, `sync` and `provision`, with every network call
//! made through the imported `wasi:http/outgoing-handler`.
//!
//! Where things live:
//! - `config.rs` — config schema and validation (which OneLogin host).
//! - `client/` — the OneLogin API client: token (`auth.rs`), error bodies
//!   (`errors.rs`), pagination, retries, and the wasi:http transport.
//! - `sync/` — the sync state machine and cursor; `mapping.rs` holds the
//!   mapping rules from OneLogin JSON to entities and relationships.
//! - `provision/` — actions, one file per entitlement kind.
//! - `connector.rs` — the configured instance behind the exports.

// A panic traps the instance and loses the host's call: no unwrap, expect,
// panic or unchecked indexing outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

/// Bindings generated from `wit/` (the generated glue uses `unsafe` for the
/// canonical ABI; our own code does not).
#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "identity:connector/connector-world",
        generate_all,
        pub_export_macro: true,
    });
}

pub use bindings::{exports, identity, wasi};

pub mod client;
pub mod config;
pub mod connector;
pub mod describe;
pub mod error;
pub mod logging;
pub mod provision;
pub mod sync;
pub mod time;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the export macro expands to canonical-ABI glue
mod component {
    //! The exports, bound to the wasi:http transport and one instance state.

    use std::cell::RefCell;

    use crate::client::wasi_http::WasiHttp;
    use crate::connector::Connector;
    use crate::error::Error;
    use crate::exports::identity::connector::connector::Guest;
    use crate::identity::connector::types::{
        AccountInfo, Action, ActionOutcome, ConfigField, ConnectorError, ConnectorInfo, ProvisionOptions, SyncPage,
        SyncRequest,
    };

    thread_local! {
        static INSTANCE: RefCell<Option<Connector<WasiHttp>>> = const { RefCell::new(None) };
    }

    struct Component;

    impl Guest for Component {
        fn describe() -> ConnectorInfo {
            crate::describe::connector_info()
        }

        fn configure(config: Vec<ConfigField>) -> Result<AccountInfo, ConnectorError> {
            INSTANCE.with(|instance| {
                // A failed configure leaves nothing behind.
                *instance.borrow_mut() = None;
                let (connector, info) = Connector::configure(WasiHttp, &config)?;
                *instance.borrow_mut() = Some(connector);
                Ok(info)
            })
        }

        fn sync(request: SyncRequest) -> Result<SyncPage, ConnectorError> {
            with_connector(|connector| connector.sync(&request))
        }

        fn provision(action: Action, options: ProvisionOptions) -> Result<ActionOutcome, ConnectorError> {
            with_connector(|connector| connector.provision(&action, options.dry_run))
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
