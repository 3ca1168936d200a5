//! Connector configuration for the CLI (TOML file + environment), the host
//! allow-list derived from it, and [`component_path`], the one place that
//! says where the built component is.
//!
//! The TOML file holds string values:
//!
//! ```toml
//! client_id = "..."
//! client_secret = "..."
//! subdomain = "acme"        # or: region = "us" | "eu", or: base_url = "https://..."
//! # any other key is passed to `configure` as a field too
//! ```
//!
//! `ONELOGIN_CLIENT_ID`, `ONELOGIN_CLIENT_SECRET`, `ONELOGIN_SUBDOMAIN`,
//! `ONELOGIN_REGION` and `ONELOGIN_BASE_URL` override the file. Setting one of
//! the three location variables replaces whichever location the file gave.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded or used. The CLI exits with 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a non-scalar value.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is missing or malformed.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The connector's configuration: the well-known OneLogin keys plus any other
/// fields, all passed to `configure` under their TOML names.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectorConfig {
    /// `client_id`
    pub client_id: Option<String>,
    /// `client_secret` (never shown by `Debug`).
    pub client_secret: Option<String>,
    /// `subdomain`: the tenant, `acme` for `acme.onelogin.com`.
    pub subdomain: Option<String>,
    /// `region`: `us` or `eu` (`api.us.onelogin.com`, `api.eu.onelogin.com`).
    pub region: Option<String>,
    /// `base_url`: an explicit API base URL.
    pub base_url: Option<String>,
    /// Any other keys, passed through as fields.
    pub extra: BTreeMap<String, String>,
}

const REDACTED: &str = "<redacted>";

fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["secret", "token", "password", "key"].iter().any(|word| name.contains(word))
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: BTreeMap<&str, &str> = self
            .extra
            .iter()
            .map(|(k, v)| {
                let v = if looks_secret(k) { REDACTED } else { v.as_str() };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("ConnectorConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| REDACTED))
            .field("subdomain", &self.subdomain)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("extra", &extra)
            .finish()
    }
}

/// The environment variables that override the file, by key.
pub const ENV_OVERRIDES: [(&str, &str); 5] = [
    ("client_id", "ONELOGIN_CLIENT_ID"),
    ("client_secret", "ONELOGIN_CLIENT_SECRET"),
    ("subdomain", "ONELOGIN_SUBDOMAIN"),
    ("region", "ONELOGIN_REGION"),
    ("base_url", "ONELOGIN_BASE_URL"),
];

impl ConnectorConfig {
    /// Parses TOML text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<ConnectorConfig, ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e
                .span()
                .map(|span| line_column(text, span.start))
                .map(|(line, column)| format!("line {line}, column {column}: "));
            ConfigError::Parse {
                path: origin.to_path_buf(),
                message: format!("{}{}", at.unwrap_or_default(), e.message().trim_end()),
            }
        })?;
        let mut config = ConnectorConfig::default();
        for (key, value) in table {
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Float(x) => x.to_string(),
                other => {
                    return Err(ConfigError::Parse {
                        path: origin.to_path_buf(),
                        message: format!("key {key:?} must be a string, number or boolean, not {}", other.type_str()),
                    })
                }
            };
            config.set(&key, value);
        }
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn from_file(path: &Path) -> Result<ConnectorConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        ConnectorConfig::from_toml_str(&text, path)
    }

    /// Loads `path` (if given) and applies the process environment.
    pub fn load(path: Option<&Path>) -> Result<ConnectorConfig, ConfigError> {
        let mut config = match path {
            Some(path) => ConnectorConfig::from_file(path)?,
            None => ConnectorConfig::default(),
        };
        config.apply_env(|name| std::env::var(name).ok());
        Ok(config)
    }

    /// Applies overrides from `lookup` (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let location_override =
            ["ONELOGIN_SUBDOMAIN", "ONELOGIN_REGION", "ONELOGIN_BASE_URL"].iter().any(|name| get(name).is_some());
        if location_override {
            self.subdomain = None;
            self.region = None;
            self.base_url = None;
        }
        for (key, var) in ENV_OVERRIDES {
            if let Some(value) = get(var) {
                self.set(key, value);
            }
        }
    }

    fn set(&mut self, key: &str, value: String) {
        match key {
            "client_id" => self.client_id = Some(value),
            "client_secret" => self.client_secret = Some(value),
            "subdomain" => self.subdomain = Some(value),
            "region" => self.region = Some(value),
            "base_url" => self.base_url = Some(value),
            _ => {
                self.extra.insert(key.to_string(), value);
            }
        }
    }

    /// The `(name, value)` fields for `configure`.
    pub fn fields(&self) -> Vec<(String, String)> {
        let known = [
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("subdomain", &self.subdomain),
            ("region", &self.region),
            ("base_url", &self.base_url),
        ];
        known
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| (name.to_string(), v.clone())))
            .chain(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect()
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The workspace root (the directory above `host-test`), fixed at compile time.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Where the built component is: `$ONELOGIN_CONNECTOR_WASM` if set, else
/// `<target>/wasm32-unknown-unknown/release/onelogin_connector.wasm`, where
/// `<target>` is `$CARGO_TARGET_DIR` (at run time, else as it was at compile
/// time) or `<workspace root>/target`. A relative target dir is taken
/// relative to the workspace root. Tests and the CLI both use this.
pub fn component_path() -> PathBuf {
    if let Some(path) = std::env::var_os("ONELOGIN_CONNECTOR_WASM").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    target_dir().join("wasm32-unknown-unknown").join("release").join("onelogin_connector.wasm")
}

/// Where the limits test guest (`host-test/guests/limits`, which `./dev`
/// builds into `<target>/guests`) is: `$LIMITS_GUEST_WASM` if set, else
/// `<target>/guests/wasm32-unknown-unknown/release/limits_guest.wasm`, with
/// `<target>` as for [`component_path`].
pub fn limits_guest_path() -> PathBuf {
    if let Some(path) = std::env::var_os("LIMITS_GUEST_WASM").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    target_dir().join("guests").join("wasm32-unknown-unknown").join("release").join("limits_guest.wasm")
}

/// `$CARGO_TARGET_DIR` (at run time, else as it was at compile time) or
/// `<workspace root>/target`; relative to the workspace root if relative.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").filter(|p| !p.is_empty()).map(PathBuf::from))
        .map(|dir| if dir.is_absolute() { dir } else { workspace_root().join(dir) })
        .unwrap_or_else(|| workspace_root().join("target"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ConnectorConfig {
        ConnectorConfig::from_toml_str(text, Path::new("test.toml")).unwrap()
    }

    #[test]
    fn toml_keys_and_extra_fields() {
        let config = parse(
            r#"
            client_id = "id"
            client_secret = "s3cr3t"
            subdomain = "acme"
            page_size = 50
            "#,
        );
        let fields = config.fields();
        assert!(fields.contains(&("subdomain".into(), "acme".into())));
        assert!(fields.contains(&("client_secret".into(), "s3cr3t".into())));
        assert!(fields.contains(&("page_size".into(), "50".into())));
        assert!(ConnectorConfig::from_toml_str("x = [1]", Path::new("t")).is_err());
        let error = ConnectorConfig::from_toml_str("client_id = \"a\"\nx = ", Path::new("t")).unwrap_err();
        assert!(error.to_string().contains("line 2, column"), "{error}");
    }

    #[test]
    fn env_overrides_file() {
        let mut config = parse("client_id = \"file\"\nsubdomain = \"acme\"");
        let env: BTreeMap<&str, &str> =
            [("ONELOGIN_CLIENT_ID", "env"), ("ONELOGIN_REGION", "eu"), ("ONELOGIN_CLIENT_SECRET", "")]
                .into_iter()
                .collect();
        config.apply_env(|name| env.get(name).map(|v| v.to_string()));
        assert_eq!(config.client_id.as_deref(), Some("env"));
        assert_eq!(config.subdomain, None);
        assert_eq!(config.client_secret, None);
        assert_eq!(config.region.as_deref(), Some("eu"));
    }

    #[test]
    fn debug_redacts_secret() {
        let mut config = parse("client_secret = \"s3cr3t\"\napi_token = \"t0k3n\"\nsubdomain = \"acme\"");
        config.client_id = Some("id".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("t0k3n"), "{shown}");
        assert!(shown.contains("acme"));
    }

    #[test]
    fn component_path_ends_with_wasm_name() {
        assert!(
            component_path().ends_with("onelogin_connector.wasm")
                || std::env::var_os("ONELOGIN_CONNECTOR_WASM").is_some()
        );
    }
}
