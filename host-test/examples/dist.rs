//! `./dev dist`'s packaging step: the built component, with metadata from
//! the root `Cargo.toml`, plus the binary WIT package and `SHA256SUMS`, into
//! an output directory. See [`host_test::dist`].
//!
//! ```text
//! cargo run --release -p host-test --example dist -- \
//!     --component C.wasm --cargo-toml Cargo.toml --wit wit --revision REV --out-dir dist \
//!     [--forbid-path /build/path ...]
//! ```
//!
//! `--forbid-path` fails the run if a build path occurs in the component:
//! such a file would differ between machines.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use host_test::dist::{find_paths, package, read_metadata, ReleaseInfo};

/// Package the component for release.
#[derive(Parser, Debug)]
struct Args {
    /// The built component.
    #[arg(long)]
    component: PathBuf,
    /// The root Cargo.toml (name, version, description, license, repository).
    #[arg(long)]
    cargo_toml: PathBuf,
    /// The WIT package directory.
    #[arg(long)]
    wit: PathBuf,
    /// The source control revision.
    #[arg(long)]
    revision: String,
    /// Where to write the files (created if missing; the release's files are replaced).
    #[arg(long)]
    out_dir: PathBuf,
    /// A path that must not occur in the component (repeatable).
    #[arg(long)]
    forbid_path: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let component =
        std::fs::read(&args.component).with_context(|| format!("cannot read {}", args.component.display()))?;
    let forbidden: Vec<&str> = args.forbid_path.iter().map(String::as_str).collect();
    let leaked = find_paths(&component, &forbidden);
    anyhow::ensure!(leaked.is_empty(), "build paths occur in the component: {leaked:?} (not reproducible)");
    let cargo_toml = std::fs::read_to_string(&args.cargo_toml)
        .with_context(|| format!("cannot read {}", args.cargo_toml.display()))?;
    let info = ReleaseInfo::from_cargo_toml(&cargo_toml, &args.revision)?;
    if info.source.is_none() {
        eprintln!("warning: Cargo.toml has no `repository`: the component carries no `source` URL");
    }
    let release = package(&component, &args.wit, &info)?;
    let back = read_metadata(&release.component)?;
    anyhow::ensure!(back.version == info.version, "the version did not survive: {back:?}");
    std::fs::create_dir_all(&args.out_dir).with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    for (name, bytes) in release.files() {
        let path = args.out_dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    eprint!("{}", release.sums);
    Ok(())
}
