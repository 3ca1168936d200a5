//! Host-side tooling for the `onelogin-connector` component.
//!
//! * [`harness`]: a wasmtime host that loads the component under an outgoing
//!   HTTP policy and resource limits, and drives `describe`, `configure`,
//!   `sync` and `provision` on it.
//! * [`hostile`]: a hostile OneLogin look-alike for the fault-matrix tests.
//! * [`simulator`]: an in-process OneLogin API simulator to run it against.
//! * [`bench`]: the sync benchmark (requests against the minimum, speed-up,
//!   throughput, memory) behind `host-test bench`.
//! * [`dist`]: the release artifacts behind `./dev dist` (metadata, binary
//!   WIT package, SHA-256 sums).
//! * [`data_model`]: the data-model reference (`docs/DATA_MODEL.md`) and the
//!   conformance check of sync records, both from `describe`.
//! * [`export`]: the access-review export behind `host-test export`.
//! * The `host-test` binary (`src/bin/host-test`): a CLI over the harness.

pub mod bench;
pub mod data_model;
pub mod dist;
pub mod export;
pub mod harness;
pub mod hostile;
pub mod simulator;
