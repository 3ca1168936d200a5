//! The release artifacts behind `./dev dist`: the component with standard
//! metadata embedded, the WIT package as a binary, and their SHA-256 sums.
//!
//! * The component gets the `wasm-metadata` fields registries and OCI tools
//!   read (`wasm-tools metadata show`): `name` (component-name section),
//!   `version`, `description`, `licenses`, `source` and `revision` (custom
//!   sections named after the OCI annotations). Everything else in the file
//!   is kept as it was.
//! * The WIT package (`wit/`, with its `deps/`) is encoded as a binary WIT
//!   package (`wit_component::encode`), which `wasm-tools component wit`
//!   prints back as text and hosts can bind to without the source tree.
//! * `SHA256SUMS` in the `sha256sum` format, sorted by file name.
//!
//! All three are pure functions of their inputs, so two builds of the same
//! source give the same bytes (the component build itself must not embed
//! paths: `./dev dist` remaps them and [`find_paths`] checks).
//!
//! ```no_run
//! # fn demo() -> anyhow::Result<()> {
//! use host_test::dist::{package, read_metadata, ReleaseInfo};
//! let component = std::fs::read("onelogin_connector.wasm")?;
//! let info = ReleaseInfo {
//!     name: "onelogin-connector".into(),
//!     version: "0.1.0".into(),
//!     description: "OneLogin identity connector".into(),
//!     license: "Apache-2.0".into(),
//!     source: None,
//!     revision: "0123abcd".into(),
//! };
//! let release = package(&component, std::path::Path::new("wit"), &info)?;
//! assert_eq!(read_metadata(&release.component)?.version, "0.1.0");
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};
use wasm_metadata::{AddMetadata, AddMetadataField, Description, Licenses, Payload, Revision, Source, Version};

/// What the release says about itself. `package.*` of the root `Cargo.toml`
/// plus the source control revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// Package name, e.g. `onelogin-connector`.
    pub name: String,
    /// Semver version; must equal the component's own `describe` version.
    pub version: String,
    /// One line for people.
    pub description: String,
    /// SPDX license expression, e.g. `Apache-2.0`.
    pub license: String,
    /// URL of the source repository (Cargo's `repository`), when known.
    pub source: Option<String>,
    /// Source control revision (a git commit id; `-dirty` if the tree was).
    pub revision: String,
}

impl ReleaseInfo {
    /// `package.{name, version, description, license, repository}` of a
    /// `Cargo.toml`, with `revision`.
    pub fn from_cargo_toml(text: &str, revision: &str) -> anyhow::Result<ReleaseInfo> {
        let table: toml::Table = text.parse().context("Cargo.toml is not TOML")?;
        let package = table.get("package").and_then(toml::Value::as_table).context("Cargo.toml has no [package]")?;
        let field = |name: &str| package.get(name).and_then(toml::Value::as_str).map(str::to_string);
        let required = |name: &str| field(name).with_context(|| format!("Cargo.toml [package] has no {name}"));
        Ok(ReleaseInfo {
            name: required("name")?,
            version: required("version")?,
            description: required("description")?,
            license: required("license")?,
            source: field("repository"),
            revision: revision.to_string(),
        })
    }
}

/// The metadata read back from a component (see [`read_metadata`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadMetadata {
    /// The component-name section.
    pub name: Option<String>,
    /// The `version` section (empty if absent).
    pub version: String,
    /// The `description` section.
    pub description: Option<String>,
    /// The `licenses` section.
    pub licenses: Option<String>,
    /// The `source` section.
    pub source: Option<String>,
    /// The `revision` section.
    pub revision: Option<String>,
}

/// Everything `./dev dist` writes, by file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// `onelogin-connector-<version>.wasm`.
    pub component_file: String,
    /// The component with metadata.
    pub component: Vec<u8>,
    /// `<namespace>-<name>-<version>.wit.wasm`, e.g. `identity-connector-0.3.0.wit.wasm`.
    pub wit_file: String,
    /// The binary WIT package.
    pub wit: Vec<u8>,
    /// `SHA256SUMS`: one `<hex>  <file>` line per file above, sorted.
    pub sums: String,
}

impl Release {
    /// `(file name, bytes)` of every file, `SHA256SUMS` last.
    pub fn files(&self) -> Vec<(&str, &[u8])> {
        vec![
            (self.component_file.as_str(), self.component.as_slice()),
            (self.wit_file.as_str(), self.wit.as_slice()),
            ("SHA256SUMS", self.sums.as_bytes()),
        ]
    }
}

/// `component` with `info` embedded as standard metadata.
pub fn embed_metadata(component: &[u8], info: &ReleaseInfo) -> anyhow::Result<Vec<u8>> {
    let mut add = AddMetadata::default();
    add.name = AddMetadataField::Set(info.name.clone());
    add.version = AddMetadataField::Set(Version::new(info.version.clone()));
    add.description = AddMetadataField::Set(Description::new(info.description.clone()));
    add.licenses = AddMetadataField::Set(
        Licenses::new(&info.license)
            .with_context(|| format!("license {:?} is not an SPDX expression", info.license))?,
    );
    add.source = match &info.source {
        Some(url) => AddMetadataField::Set(Source::new(url).with_context(|| format!("source {url:?} is not a URL"))?),
        None => AddMetadataField::Clear,
    };
    add.revision = AddMetadataField::Set(Revision::new(info.revision.clone()));
    add.to_wasm(component).context("cannot add metadata to the component")
}

/// The outermost component's (or module's) metadata.
pub fn read_metadata(wasm: &[u8]) -> anyhow::Result<ReadMetadata> {
    let payload = Payload::from_binary(wasm).context("not a WebAssembly component or module")?;
    let m = payload.metadata();
    Ok(ReadMetadata {
        name: m.name.clone(),
        version: m.version.as_ref().map(ToString::to_string).unwrap_or_default(),
        description: m.description.as_ref().map(ToString::to_string),
        licenses: m.licenses.as_ref().map(ToString::to_string),
        source: m.source.as_ref().map(ToString::to_string),
        revision: m.revision.as_ref().map(ToString::to_string),
    })
}

/// The WIT package in `wit_dir` (its `deps/` resolved) as a binary, and its
/// file name (`identity-connector-0.3.0.wit.wasm`).
pub fn encode_wit(wit_dir: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) =
        resolve.push_dir(wit_dir).with_context(|| format!("cannot parse the WIT package in {}", wit_dir.display()))?;
    let bytes = wit_component::encode(&resolve, package).context("cannot encode the WIT package")?;
    let name = &resolve.packages[package].name;
    let version = name.version.as_ref().map(|v| format!("-{v}")).unwrap_or_default();
    Ok((format!("{}-{}{version}.wit.wasm", name.namespace, name.name), bytes))
}

/// A binary WIT package read back: its name (`identity:connector@0.3.0`)
/// and its worlds, sorted.
pub fn decode_wit(bytes: &[u8]) -> anyhow::Result<(String, Vec<String>)> {
    match wit_component::decode(bytes).context("not a binary WIT package")? {
        wit_component::DecodedWasm::WitPackage(resolve, package) => {
            let package = &resolve.packages[package];
            let mut worlds: Vec<String> = package.worlds.keys().cloned().collect();
            worlds.sort();
            Ok((package.name.to_string(), worlds))
        }
        wit_component::DecodedWasm::Component(..) => anyhow::bail!("a component, not a WIT package"),
    }
}

/// `sha256sum`-format lines for `files`, sorted by name.
pub fn sha256sums<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let sorted: BTreeMap<&str, &[u8]> = files.into_iter().collect();
    sorted.iter().map(|(name, bytes)| format!("{}  {name}\n", hex(&Sha256::digest(bytes)))).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The whole release from the built component and the WIT directory.
pub fn package(component: &[u8], wit_dir: &Path, info: &ReleaseInfo) -> anyhow::Result<Release> {
    let component = embed_metadata(component, info)?;
    let component_file = format!("{}-{}.wasm", info.name, info.version);
    let (wit_file, wit) = encode_wit(wit_dir)?;
    let sums = sha256sums([(component_file.as_str(), component.as_slice()), (wit_file.as_str(), wit.as_slice())]);
    Ok(Release { component_file, component, wit_file, wit, sums })
}

/// Which of `paths` (non-empty strings) occur in `bytes`: build paths that
/// would make the artifact differ between machines.
pub fn find_paths<'a>(bytes: &[u8], paths: &[&'a str]) -> Vec<&'a str> {
    paths.iter().copied().filter(|p| !p.is_empty() && bytes.windows(p.len()).any(|w| w == p.as_bytes())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_sorted_sha256sum_lines() {
        let sums = sha256sums([("b.wasm", b"".as_slice()), ("a.wasm", b"abc".as_slice())]);
        assert_eq!(
            sums,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.wasm\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b.wasm\n"
        );
    }

    #[test]
    fn release_info_comes_from_cargo_toml() {
        let toml = "[package]\nname = \"x\"\nversion = \"1.2.3\"\ndescription = \"d\"\nlicense = \"MIT\"\n";
        let info = ReleaseInfo::from_cargo_toml(toml, "abc").unwrap();
        assert_eq!((info.version.as_str(), info.source, info.revision.as_str()), ("1.2.3", None, "abc"));
        assert!(ReleaseInfo::from_cargo_toml("[package]\nname = \"x\"\n", "abc").is_err());
    }

    #[test]
    fn the_source_url_is_embedded_when_cargo_has_a_repository() {
        let toml = "[package]\nname = \"x\"\nversion = \"1.2.3\"\ndescription = \"d\"\nlicense = \"MIT\"\n\
                    repository = \"https://example.com/x.git\"\n";
        let info = ReleaseInfo::from_cargo_toml(toml, "abc").unwrap();
        // The smallest module: the metadata sections work on it as on a component.
        let module = b"\0asm\x01\0\0\0";
        let with_source = read_metadata(&embed_metadata(module, &info).unwrap()).unwrap();
        assert_eq!(with_source.source.as_deref(), Some("https://example.com/x.git"));
        let without = read_metadata(&embed_metadata(module, &ReleaseInfo { source: None, ..info }).unwrap()).unwrap();
        assert_eq!(without.source, None);
    }

    #[test]
    fn find_paths_names_what_occurs() {
        assert_eq!(find_paths(b"..../root/.cargo/x....", &["/root/.cargo", "/work/x", ""]), ["/root/.cargo"]);
    }
}
