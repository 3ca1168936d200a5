//! `describe`: the connector's self-description. Static; no network.

use crate::identity::connector::types::{ConnectorInfo, EntityKind, RelationshipKind};
use crate::sync::mapping::{kinds, ASSIGNED, HAS};

/// The WIT package version this component implements.
pub const INTERFACE_VERSION: &str = "0.2.0";

pub fn connector_info() -> ConnectorInfo {
    ConnectorInfo {
        name: "onelogin".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        interface_version: INTERFACE_VERSION.into(),
        description: "OneLogin users, groups, roles and applications; user lifecycle and access provisioning.".into(),
        config_schema: crate::config::schema(),
        entity_kinds: entity_kinds(),
        relationship_kinds: relationship_kinds(),
        actions: crate::provision::spec::actions(),
    }
}

fn entity_kinds() -> Vec<EntityKind> {
    let kind = |entity_type: &str, class: &str, description: &str| EntityKind {
        entity_type: entity_type.into(),
        classes: vec![class.into()],
        description: description.into(),
    };
    vec![
        kind(kinds::ACCOUNT, "Account", "The OneLogin account (tenant)."),
        kind(kinds::USER, "User", "A user, with every v2 field and custom attribute."),
        kind(kinds::GROUP, "UserGroup", "A group (a user belongs to at most one)."),
        kind(kinds::ROLE, "AccessRole", "A role: grants applications to its members."),
        kind(kinds::APPLICATION, "Application", "An application configured in the account."),
    ]
}

fn relationship_kinds() -> Vec<RelationshipKind> {
    let rel = |from: &str, class: &str, to: &str, description: &str| RelationshipKind {
        class: class.into(),
        from_type: from.into(),
        to_type: to.into(),
        description: description.into(),
    };
    vec![
        rel(kinds::ACCOUNT, HAS, kinds::USER, "The account has the user."),
        rel(kinds::ACCOUNT, HAS, kinds::GROUP, "The account has the group."),
        rel(kinds::ACCOUNT, HAS, kinds::ROLE, "The account has the role."),
        rel(kinds::ACCOUNT, HAS, kinds::APPLICATION, "The account has the application."),
        rel(kinds::GROUP, HAS, kinds::USER, "The user is in the group (the user's group_id)."),
        rel(
            kinds::USER,
            ASSIGNED,
            kinds::ROLE,
            "The user is a member of the role; properties: {\"permission\":\"member\"}.",
        ),
    ]
}
