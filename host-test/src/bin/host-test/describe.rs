//! `host-test describe`: print the component's `connector-info` as JSON.

use std::path::Path;

use clap::Args;
use host_test::data_model::kind_name;
use host_test::harness::types::{ConnectorInfo, PropertySpec, SyncKind, ValueType};
use host_test::harness::{Harness, HarnessConfig, Limits};
use serde_json::{json, Value};

use crate::common::access_level_name;

/// Print the connector's self-description (no network) as pretty JSON.
#[derive(Args, Debug)]
pub struct DescribeCommand {
    /// Print only the sync kinds, as a table (name, default, calls per
    /// user, cost, requires).
    #[arg(long)]
    sync_kinds: bool,
}

impl DescribeCommand {
    /// Runs the subcommand.
    pub async fn run(self, component: &Path, limits: Limits) -> anyhow::Result<()> {
        // `describe` never touches the network: an empty allow-list.
        let harness =
            Harness::new(HarnessConfig { component: component.to_path_buf(), limits, ..HarnessConfig::default() })?;
        let info = harness.instantiate().await?.describe().await?;
        if self.sync_kinds {
            print!("{}", sync_kinds_table(&info.sync_kinds));
        } else {
            println!("{}", serde_json::to_string_pretty(&info_json(&info))?);
        }
        Ok(())
    }
}

/// The sync kinds as a plain-text table.
pub fn sync_kinds_table(kinds: &[SyncKind]) -> String {
    let width = kinds.iter().map(|k| k.name.len()).max().unwrap_or(0).max("kind".len());
    let requires_width = kinds.iter().map(|k| k.requires.join(",").len()).max().unwrap_or(0).max("requires".len());
    let mut out = format!(
        "{:<width$}  {:<7}  {:>8}  {:<requires_width$}  {:<6}  cost\n",
        "kind", "default", "per user", "requires", "access"
    );
    for k in kinds {
        let requires = if k.requires.is_empty() { "-".to_string() } else { k.requires.join(",") };
        let default = if k.default_selected { "yes" } else { "no" };
        let access = access_level_name(k.required_access);
        out.push_str(&format!(
            "{:<width$}  {default:<7}  {:>8}  {requires:<requires_width$}  {access:<6}  {}\n",
            k.name, k.calls_per_user, k.cost
        ));
    }
    out
}

fn value_type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Text => "text",
        ValueType::Url => "url",
        ValueType::Integer => "integer",
        ValueType::Boolean => "boolean",
        ValueType::Choice => "choice",
        ValueType::EntityKey => "entity-key",
        ValueType::Object => "object",
        ValueType::List => "list",
    }
}

fn properties_json(properties: &[PropertySpec]) -> Vec<Value> {
    properties
        .iter()
        .map(|p| json!({"name": p.name, "kind": kind_name(p.kind), "description": p.description}))
        .collect()
}

/// `connector-info` as JSON: snake_case keys, WIT case names for enums.
pub fn info_json(info: &ConnectorInfo) -> Value {
    json!({
        "name": info.name,
        "version": info.version,
        "interface_version": info.interface_version,
        "description": info.description,
        "config_schema": info.config_schema.iter().map(|f| json!({
            "name": f.name,
            "description": f.description,
            "value_type": value_type_name(f.value_type),
            "required": f.required,
            "secret": f.secret,
            "allowed_values": f.allowed_values,
            "one_of_group": f.one_of_group,
        })).collect::<Vec<_>>(),
        "entity_kinds": info.entity_kinds.iter().map(|k| json!({
            "entity_type": k.entity_type,
            "classes": k.classes,
            "description": k.description,
            "key_format": k.key_format,
            "properties": properties_json(&k.properties),
        })).collect::<Vec<_>>(),
        "relationship_kinds": info.relationship_kinds.iter().map(|k| json!({
            "class": k.class,
            "from_type": k.from_type,
            "to_type": k.to_type,
            "description": k.description,
            "properties": properties_json(&k.properties),
            "may_dangle": k.may_dangle,
        })).collect::<Vec<_>>(),
        "sync_kinds": info.sync_kinds.iter().map(|k| json!({
            "name": k.name,
            "description": k.description,
            "default_selected": k.default_selected,
            "calls_per_user": k.calls_per_user,
            "cost": k.cost,
            "requires": k.requires,
            "required_access": access_level_name(k.required_access),
        })).collect::<Vec<_>>(),
        "actions": info.actions.iter().map(|a| json!({
            "name": a.name,
            "description": a.description,
            "params": a.params.iter().map(|p| json!({
                "name": p.name,
                "description": p.description,
                "value_type": value_type_name(p.value_type),
                "required": p.required,
                "secret": p.secret,
                "allowed_values": p.allowed_values,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "permissions": info.permissions.iter().map(|p| json!({
            "entity_type": p.entity_type,
            "permissions": p.permissions,
        })).collect::<Vec<_>>(),
    })
}
