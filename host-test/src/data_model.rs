//! The connector's data model, as its `describe` declares it: the reference
//! document (`docs/DATA_MODEL.md`, written by `host-test data-model`) and the
//! check that a sync's records conform to it.
//!
//! Both read only `connector-info`, so the document and the check follow the
//! component: a type, class, key format or property the component does not
//! declare shows up as a violation, not as silent drift.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use crate::harness::sync::key_type;
use crate::harness::types::{ConnectorInfo, EntityKind, PropertyKind, PropertySpec};
use crate::harness::SyncOutput;

/// The WIT case name of a property kind.
pub fn kind_name(kind: PropertyKind) -> &'static str {
    match kind {
        PropertyKind::Text => "text",
        PropertyKind::Integer => "integer",
        PropertyKind::Number => "number",
        PropertyKind::Boolean => "boolean",
        PropertyKind::Timestamp => "timestamp",
        PropertyKind::TextList => "text-list",
        PropertyKind::IntegerList => "integer-list",
        PropertyKind::Mixed => "mixed",
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn properties_table(out: &mut String, properties: &[PropertySpec]) {
    if properties.is_empty() {
        out.push_str("No properties.\n\n");
        return;
    }
    out.push_str("| property | type | meaning |\n|---|---|---|\n");
    for p in properties {
        let _ = writeln!(out, "| `{}` | {} | {} |", p.name, kind_name(p.kind), cell(&p.description));
    }
    out.push('\n');
}

/// `docs/DATA_MODEL.md`: every entity type (classes, key format,
/// properties with types) and relationship type, from `describe`.
pub fn markdown(info: &ConnectorInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Data model of the `{}` connector\n\n\
         Generated from the component's `describe` by `./dev host-test data-model --out docs/DATA_MODEL.md`; \
         do not edit by hand (`host-test/tests/data_model.rs` checks that this file matches the component, and that a \
         full simulator sync conforms to it).\n\n\
         Entity and relationship `properties` are graph-ready: every value is a primitive or an array of \
         primitives, or null when OneLogin sent none. Nested OneLogin data is flattened: an object becomes \
         dotted names (`custom_attributes.cost_center`, `parameters.<name>.<field>`); an array of objects \
         becomes one array per field (`conditions.source`), each element's value in order, null where an \
         element lacks it (a field whose values are arrays is concatenated); a name OneLogin spells with a \
         hyphen (`app-name`) is spelled with an underscore. A name ending in `*` stands for any suffix. A \
         field OneLogin adds that the connector does not know passes through under the same rules.\n",
        info.name
    );
    out.push_str("## Entities\n\n| `entity-type` | classes | key format |\n|---|---|---|\n");
    for k in &info.entity_kinds {
        let _ = writeln!(out, "| `{}` | {} | `{}` |", k.entity_type, k.classes.join(", "), cell(&k.key_format));
    }
    out.push_str(
        "\n## Relationships\n\n| from | class | to | grant | may dangle | meaning |\n|---|---|---|---|---|---|\n",
    );
    for r in &info.relationship_kinds {
        let grant = if r.properties.iter().any(|p| p.name == "entitlement") { "yes" } else { "" };
        let dangle = if r.may_dangle { "yes" } else { "" };
        let _ = writeln!(
            out,
            "| `{}` | **{}** | `{}` | {grant} | {dangle} | {} |",
            r.from_type,
            r.class,
            r.to_type,
            cell(&r.description)
        );
    }
    out.push_str(
        "\nA *grant* carries `entitlement` (the `onelogin_entitlement` key), `permission` and `via`; \
         `host-test export` turns the user grants into an access review. *May dangle*: even a full sync \
         may not emit one end (e.g. an event naming a user deleted since); every other relationship has \
         both ends in a full sync of every kind.\n\n## Entity properties\n\n",
    );
    for k in &info.entity_kinds {
        let _ = writeln!(out, "### `{}` ({})\n\n{}\n", k.entity_type, k.classes.join(", "), cell(&k.description));
        properties_table(&mut out, &k.properties);
    }
    out.push_str("## Relationship properties\n\n");
    for r in info.relationship_kinds.iter().filter(|r| !r.properties.is_empty()) {
        let _ = writeln!(out, "### `{}` {} `{}`\n", r.from_type, r.class, r.to_type);
        properties_table(&mut out, &r.properties);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Whether `name` is the declared property (exactly, or under a `*` pattern).
fn name_matches(declared: &str, name: &str) -> bool {
    match declared.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix) && name.len() > prefix.len(),
        None => declared == name,
    }
}

fn is_primitive(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// Whether `value` is of `kind` (null always is; a list's items may be null).
fn value_conforms(kind: PropertyKind, value: &Value) -> bool {
    let list =
        |item: fn(&Value) -> bool| value.as_array().is_some_and(|items| items.iter().all(|i| i.is_null() || item(i)));
    match kind {
        _ if value.is_null() => true,
        PropertyKind::Text | PropertyKind::Timestamp => value.is_string(),
        PropertyKind::Integer => value.is_i64() || value.is_u64(),
        PropertyKind::Number => value.is_number(),
        PropertyKind::Boolean => value.is_boolean(),
        PropertyKind::TextList => list(Value::is_string),
        PropertyKind::IntegerList => list(|i| i.is_i64() || i.is_u64()),
        PropertyKind::Mixed => is_primitive(value) || list(is_primitive),
    }
}

/// Problems with one record's properties against the declared ones.
fn property_violations(what: &str, raw: &str, declared: &[PropertySpec], out: &mut Vec<String>) {
    let Ok(Value::Object(properties)) = serde_json::from_str::<Value>(raw) else {
        out.push(format!("{what}: properties are not a JSON object"));
        return;
    };
    for (name, value) in &properties {
        match declared.iter().find(|p| name_matches(&p.name, name)) {
            None => out.push(format!("{what}: property `{name}` is not declared")),
            Some(p) if !value_conforms(p.kind, value) => {
                out.push(format!("{what}: property `{name}` = {value} is not {}", kind_name(p.kind)))
            }
            Some(_) => {}
        }
    }
}

/// Whether `key` is written as `format` says: literal text around `<…>`
/// holes, each hole a non-empty part.
pub fn key_matches(format: &str, key: &str) -> bool {
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = format;
    while let Some(start) = rest.find('<') {
        parts.push(&rest[..start]);
        rest = rest[start..].find('>').map_or("", |end| &rest[start + end + 1..]);
    }
    parts.push(rest);
    let Some((first, later)) = parts.split_first() else { return false };
    let Some(mut remaining) = key.strip_prefix(first) else { return false };
    for (i, literal) in later.iter().enumerate() {
        let last = i + 1 == later.len();
        let found = if last {
            if literal.is_empty() {
                Some(remaining.len())
            } else {
                remaining.strip_suffix(literal).map(str::len)
            }
        } else if literal.is_empty() {
            None
        } else {
            remaining.find(literal)
        };
        match found {
            Some(0) | None => return false,
            Some(at) => remaining = &remaining[at + literal.len()..],
        }
    }
    remaining.is_empty()
}

/// Every way the records of `output` depart from the data model `info`
/// declares: an undeclared entity type, other classes, a key not in the
/// type's format, an undeclared property or one of another type, a duplicate
/// key, an undeclared relationship, and a relationship whose end was not
/// emitted (unless declared `may-dangle`).
pub fn violations(info: &ConnectorInfo, output: &SyncOutput) -> Vec<String> {
    let kinds: BTreeMap<&str, &EntityKind> = info.entity_kinds.iter().map(|k| (k.entity_type.as_str(), k)).collect();
    let mut out = Vec::new();
    let mut keys = BTreeSet::new();
    for e in &output.entities {
        let what = format!("entity {}", e.key);
        if !keys.insert(e.key.as_str()) {
            out.push(format!("{what}: emitted twice"));
        }
        let Some(kind) = kinds.get(e.entity_type.as_str()) else {
            out.push(format!("{what}: type {} is not declared", e.entity_type));
            continue;
        };
        if e.classes != kind.classes {
            out.push(format!("{what}: classes {:?}, declared {:?}", e.classes, kind.classes));
        }
        if !key_matches(&kind.key_format, &e.key) {
            out.push(format!("{what}: key is not `{}`", kind.key_format));
        }
        property_violations(&what, &e.properties, &kind.properties, &mut out);
    }
    for r in &output.relationships {
        let (from, to) = (key_type(&r.from_key), key_type(&r.to_key));
        let what = format!("relationship {} {} {}", r.from_key, r.class, r.to_key);
        let Some(kind) =
            info.relationship_kinds.iter().find(|k| k.class == r.class && k.from_type == from && k.to_type == to)
        else {
            out.push(format!("{what}: {from} {} {to} is not declared", r.class));
            continue;
        };
        for end in [&r.from_key, &r.to_key] {
            if !kind.may_dangle && !keys.contains(end.as_str()) {
                out.push(format!("{what}: {end} was not emitted"));
            }
        }
        property_violations(&what, &r.properties, &kind.properties, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_their_formats() {
        assert!(key_matches("onelogin_user:<id>", "onelogin_user:12"));
        assert!(!key_matches("onelogin_user:<id>", "onelogin_user:"));
        assert!(!key_matches("onelogin_user:<id>", "onelogin_role:12"));
        assert!(key_matches("onelogin_service:<account id>:<sso or mfa>", "onelogin_service:7:sso"));
        assert!(!key_matches("onelogin_service:<account id>:<sso or mfa>", "onelogin_service:7"));
        assert!(key_matches(
            "onelogin_entitlement:<resource key>:<permission>",
            "onelogin_entitlement:onelogin_role:7:member"
        ));
        assert!(key_matches("<arn>", "arn:aws:iam::1:role/x"));
        assert!(!key_matches("<arn>", ""));
    }

    #[test]
    fn values_conform_to_their_kinds() {
        assert!(value_conforms(PropertyKind::Integer, &serde_json::json!(5)));
        assert!(!value_conforms(PropertyKind::Integer, &serde_json::json!("5")));
        assert!(value_conforms(PropertyKind::TextList, &serde_json::json!(["a", null])));
        assert!(!value_conforms(PropertyKind::TextList, &serde_json::json!([1])));
        assert!(value_conforms(PropertyKind::Mixed, &serde_json::json!([1, "a"])));
        assert!(!value_conforms(PropertyKind::Mixed, &serde_json::json!({"a": 1})));
        assert!(!value_conforms(PropertyKind::Mixed, &serde_json::json!([[1]])));
        assert!(value_conforms(PropertyKind::Boolean, &Value::Null));
        assert!(name_matches("custom_attributes.*", "custom_attributes.food"));
        assert!(!name_matches("custom_attributes.*", "custom_attributes."));
    }
}
