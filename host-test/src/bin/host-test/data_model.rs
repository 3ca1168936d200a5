//! `host-test data-model`: the data-model reference, from `describe`.

use std::path::{Path, PathBuf};

use clap::Args;
use host_test::harness::{Harness, HarnessConfig, Limits};

/// Write the data-model reference (entity types, classes, key formats,
/// properties with types, relationships) as Markdown, generated from the
/// component's `describe`: `./dev host-test data-model --out docs/DATA_MODEL.md`.
#[derive(Args, Debug)]
pub struct DataModelCommand {
    /// Write here instead of stdout (relative to where you run `./dev`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

impl DataModelCommand {
    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        let harness =
            Harness::new(HarnessConfig { component: component.to_path_buf(), limits, ..HarnessConfig::default() })?;
        let info = harness.instantiate().await?.describe().await?;
        let text = host_test::data_model::markdown(&info);
        match &self.out {
            Some(path) => std::fs::write(crate::common::resolve_path(path), text)?,
            None => print!("{text}"),
        }
        Ok(())
    }
}
