//! `host-test`: run the OneLogin connector component under the wasmtime
//! harness, against the built-in simulator or a real tenant.
//!
//! Exit status: 0 ok; 2 usage, configuration or invalid input (including
//! the component's `invalid-config` and `invalid-input`); 3
//! `authentication-failed` or `insufficient-scope` (also when a synced kind
//! failed with one); 4 `rate-limited`; 5 the sync finished but a selected
//! kind failed; 130 interrupted; 1 anything else.

mod bench;
mod common;
mod data_model;
mod describe;
mod diff;
mod export;
mod journal;
mod progress;
mod provision;
mod records;
mod simulator;
mod sync;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use host_test::harness::config::component_path;
use tracing_subscriber::EnvFilter;

use common::{exit_code_for, Exit, LimitArgs};

/// Run the OneLogin connector component under the wasmtime harness.
#[derive(Parser, Debug)]
#[command(name = "host-test", version, about)]
struct Cli {
    /// The component .wasm [default: $ONELOGIN_CONNECTOR_WASM, else
    /// <target>/wasm32-unknown-unknown/release/onelogin_connector.wasm].
    #[arg(long, global = true, value_name = "PATH")]
    component: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a full or incremental sync (see `sync --help`).
    Sync(sync::SyncCommand),
    /// Tombstones between two full syncs' `sync --out` files, as JSON Lines.
    Diff(diff::DiffCommand),
    /// Benchmark a sync of a simulated tenant: requests, speed-up, memory.
    Bench(bench::BenchCommand),
    /// Run one provisioning action.
    Provision(provision::ProvisionCommand),
    /// Print the connector's self-description as JSON.
    Describe(describe::DescribeCommand),
    /// Write the data-model reference (docs/DATA_MODEL.md) from `describe`.
    DataModel(data_model::DataModelCommand),
    /// An access review from a `sync --out` file: one row per user grant, CSV or JSON.
    Export(export::ExportCommand),
    /// Serve the OneLogin API simulator until Ctrl-C.
    Simulator(simulator::SimulatorCommand),
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    // Simulators of this process start their clock at a fixed instant, so a
    // seed gives the same tenant and the same events on every run.
    host_test::simulator::clock::fix_epoch(host_test::simulator::clock::FIXED_EPOCH_MS);
    let component = cli.component.as_deref().map(common::resolve_path).unwrap_or_else(component_path);
    let limits = cli.limits.limits();
    let result = match cli.command {
        Command::Sync(command) => command.run(&component, limits).await,
        Command::Diff(command) => command.run(),
        Command::Bench(command) => command.run(&component, limits).await,
        Command::Provision(command) => command.run(&component, limits).await,
        Command::Describe(command) => command.run(&component, limits).await,
        Command::DataModel(command) => command.run(&component, limits).await,
        Command::Export(command) => command.run(),
        Command::Simulator(command) => command.run().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if error.downcast_ref::<Exit>().is_none() {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(exit_code_for(&error))
        }
    }
}
