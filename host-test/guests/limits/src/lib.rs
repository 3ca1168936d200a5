//! A connector-world guest that misbehaves on purpose, so the harness's
//! limits can be tested on a component that hits them for sure.
//!
//! `configure` reads the field `mode`:
//! - `alloc`: allocates 1 MiB blocks (touching every page) forever: the
//!   harness's memory limit must stop it;
//! - `spin`: loops forever on the CPU: the CPU limit must stop it;
//! - `wait`: blocks on the monotonic clock for an hour: the wall-clock
//!   limit must stop it;
//! - anything else: answers at once (a healthy instance).
//!
//! `endpoints` lists nothing; `sync`, `plan` and `provision` answer
//! `not-configured`.

#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "identity:connector/connector-world",
        generate_all,
    });
}

use bindings::exports::identity::connector::connector::Guest;
use bindings::identity::connector::types::{
    AccessLevel, AccountInfo, Action, ActionOutcome, ConfigField, ConnectorError, ConnectorInfo, Endpoint, ErrorKind,
    SyncPage, SyncRequest,
};
use bindings::wasi::clocks::monotonic_clock;

struct LimitsGuest;

fn not_configured() -> ConnectorError {
    ConnectorError {
        kind: ErrorKind::NotConfigured,
        message: "the limits guest only configures".into(),
        retryable: false,
    }
}

impl Guest for LimitsGuest {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            name: "limits-guest".into(),
            version: "0.1.0".into(),
            interface_version: "0.6.0".into(),
            description: "Hits the harness's limits on request.".into(),
            config_schema: Vec::new(),
            entity_kinds: Vec::new(),
            relationship_kinds: Vec::new(),
            sync_kinds: Vec::new(),
            actions: Vec::new(),
            permissions: Vec::new(),
        }
    }

    fn endpoints(_config: Vec<ConfigField>) -> Result<Vec<Endpoint>, ConnectorError> {
        Ok(Vec::new())
    }

    fn configure(config: Vec<ConfigField>) -> Result<AccountInfo, ConnectorError> {
        let mode = config.iter().find(|f| f.name == "mode").map_or("ok", |f| f.value.as_str());
        match mode {
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    let block = std::hint::black_box(vec![1u8; 1 << 20]);
                    hoard.push(block);
                    std::hint::black_box(&hoard);
                }
            }
            "spin" => {
                let mut counter = 0u64;
                loop {
                    counter = std::hint::black_box(counter.wrapping_add(1));
                }
            }
            "wait" => {
                monotonic_clock::subscribe_duration(3_600_000_000_000).block();
                Err(not_configured())
            }
            _ => Ok(AccountInfo {
                account_key: "limits_account:1".into(),
                account_id: "1".into(),
                display_name: "limits guest".into(),
                api_base_url: "none".into(),
                access_level: AccessLevel::Read,
            }),
        }
    }

    fn sync(_request: SyncRequest) -> Result<SyncPage, ConnectorError> {
        Err(not_configured())
    }

    fn plan(_action: Action) -> Result<ActionOutcome, ConnectorError> {
        Err(not_configured())
    }

    fn provision(_action: Action) -> Result<ActionOutcome, ConnectorError> {
        Err(not_configured())
    }
}

bindings::export!(LimitsGuest with_types_in bindings);
