//! The release artifacts of `./dev dist`, made by the same code
//! (`host_test::dist`) from the component under test: the metadata reads
//! back with Cargo's version, which is also what the component's own
//! `describe` says; the packaged component still loads and runs; the WIT
//! package decodes to the world the component implements; packaging is
//! deterministic and the sums match the files.

use std::path::{Path, PathBuf};

use host_test::dist::{decode_wit, package, read_metadata, sha256sums, ReleaseInfo};
use host_test::harness::config::component_path;
use host_test::harness::{Harness, HarnessConfig};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn release_info() -> ReleaseInfo {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    ReleaseInfo::from_cargo_toml(&toml, "0123456789abcdef0123456789abcdef01234567").expect("package fields")
}

fn component() -> Vec<u8> {
    std::fs::read(component_path()).unwrap_or_else(|e| panic!("{}: {e} (run ./dev build)", component_path().display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_release_metadata_carries_cargos_version_which_describe_also_reports() {
    let info = release_info();
    assert_eq!(info.name, env!("CARGO_PKG_NAME"));
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let release = package(&component(), &root().join("wit"), &info).expect("package");
    assert_eq!(release.component_file, format!("onelogin-connector-{}.wasm", env!("CARGO_PKG_VERSION")));

    let meta = read_metadata(&release.component).expect("metadata");
    assert_eq!(meta.name.as_deref(), Some("onelogin-connector"));
    assert_eq!(meta.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(meta.description.as_deref(), Some(env!("CARGO_PKG_DESCRIPTION")));
    assert_eq!(meta.licenses.as_deref(), Some(env!("CARGO_PKG_LICENSE")));
    assert_eq!(meta.revision.as_deref(), Some(info.revision.as_str()));
    assert_eq!(meta.source, info.source, "Cargo's repository, when set");

    // The packaged file is still the component: it loads and describes itself.
    let dir = std::env::temp_dir().join(format!("dist-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let packaged = dir.join(&release.component_file);
    std::fs::write(&packaged, &release.component).unwrap();
    let harness = Harness::new(HarnessConfig { component: packaged, ..HarnessConfig::default() }).expect("loads");
    let described = harness.instantiate().await.unwrap().describe().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(described.version, meta.version, "describe and the metadata agree");

    // The WIT package is the one the component says it implements.
    let (name, worlds) = decode_wit(&release.wit).expect("a WIT package");
    assert_eq!(name, format!("identity:connector@{}", described.interface_version));
    assert_eq!(release.wit_file, format!("identity-connector-{}.wit.wasm", described.interface_version));
    assert!(worlds.contains(&"connector-world".to_string()), "{worlds:?}");
}

#[test]
fn packaging_is_deterministic_and_the_sums_match_the_files() {
    let info = release_info();
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
    let first = package(&component(), &wit, &info).expect("package");
    let second = package(&component(), &wit, &info).expect("package again");
    assert_eq!(first, second, "same inputs, same bytes");
    let files: Vec<(&str, &[u8])> = first.files().into_iter().filter(|(name, _)| *name != "SHA256SUMS").collect();
    assert_eq!(first.sums, sha256sums(files));
    assert_eq!(first.sums.lines().count(), 2);
    let other = package(&component(), &wit, &ReleaseInfo { revision: "another".into(), ..info }).expect("package");
    assert_ne!(other.component, first.component, "the revision is in the file");
    assert_ne!(other.sums, first.sums);
}
