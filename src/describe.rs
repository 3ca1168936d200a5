//! `describe`: the connector's self-description. Static; no network. The
//! entity, relationship and sync kinds come from the sync phase registry,
//! the actions from the provisioning action modules.

use crate::identity::connector::types::{ConnectorInfo, EntityKind, PropertyKind, PropertySpec, RelationshipKind};
use crate::vocabulary::{self, Property};

/// The WIT package version this component implements.
pub const INTERFACE_VERSION: &str = "0.6.0";

/// Everything `describe` returns.
pub fn connector_info() -> ConnectorInfo {
    let (entities, relationships) = crate::sync::emitted();
    ConnectorInfo {
        name: "onelogin".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        interface_version: INTERFACE_VERSION.into(),
        description: "OneLogin users, groups, roles, applications, app rules, MFA devices, privileges, events and \
                      AWS roles; user lifecycle and access provisioning."
            .into(),
        config_schema: crate::config::schema(),
        entity_kinds: entities
            .into_iter()
            .map(|kind| EntityKind {
                entity_type: kind.name.into(),
                classes: kind.class_list(),
                description: kind.description.into(),
                key_format: kind.key_format.into(),
                properties: property_specs(kind.properties),
            })
            .collect(),
        relationship_kinds: relationships
            .into_iter()
            .map(|rel| RelationshipKind {
                class: rel.class.into(),
                from_type: rel.from.name.into(),
                to_type: rel.to.name.into(),
                description: rel.description.into(),
                properties: property_specs(rel.properties),
                may_dangle: rel.may_dangle,
            })
            .collect(),
        sync_kinds: crate::sync::sync_kinds(),
        actions: crate::provision::actions(),
        permissions: crate::provision::permissions(),
    }
}

/// The WIT form of declared properties.
fn property_specs(properties: &[Property]) -> Vec<PropertySpec> {
    properties
        .iter()
        .map(|p| PropertySpec {
            name: p.name.into(),
            kind: match p.kind {
                vocabulary::PropertyKind::Text => PropertyKind::Text,
                vocabulary::PropertyKind::Integer => PropertyKind::Integer,
                vocabulary::PropertyKind::Boolean => PropertyKind::Boolean,
                vocabulary::PropertyKind::Timestamp => PropertyKind::Timestamp,
                vocabulary::PropertyKind::TextList => PropertyKind::TextList,
                vocabulary::PropertyKind::IntegerList => PropertyKind::IntegerList,
                vocabulary::PropertyKind::Mixed => PropertyKind::Mixed,
            },
            description: p.description.into(),
        })
        .collect()
}
