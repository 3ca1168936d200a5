//! `describe`: the connector's self-description. Static; no network.

use crate::identity::connector::types::{ConnectorInfo, EntityKind, RelationshipKind};
use crate::sync::kinds::ALL;
use crate::sync::mapping::{kinds, ALLOWS, ASSIGNED, HAS};

/// The WIT package version this component implements.
pub const INTERFACE_VERSION: &str = "0.3.0";

pub fn connector_info() -> ConnectorInfo {
    ConnectorInfo {
        name: "onelogin".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        interface_version: INTERFACE_VERSION.into(),
        description: "OneLogin users, groups, roles, applications, app rules, MFA devices, privileges, events and \
                      AWS roles; user lifecycle and access provisioning."
            .into(),
        config_schema: crate::config::schema(),
        entity_kinds: entity_kinds(),
        relationship_kinds: relationship_kinds(),
        sync_kinds: ALL.iter().map(|k| k.spec()).collect(),
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
        kind(kinds::SERVICE, "Service", "The account's SSO and MFA services (synthetic)."),
        kind(kinds::CUSTOM_ATTRIBUTE, "Configuration", "A custom user attribute definition."),
        kind(kinds::APP_RULE, "Configuration", "An application rule, enabled or disabled."),
        kind(kinds::MFA_DEVICE, "Key", "An MFA device (factor) a user enrolled."),
        kind(kinds::PRIVILEGE, "AccessPolicy", "A delegated-administration privilege."),
        kind(kinds::EVENT, "Record", "An event from the account's event log."),
        kind(kinds::AWS_IAM_ROLE, "AccessRole", "An AWS IAM role named by a SAML app rule; keyed by its ARN."),
        kind(
            kinds::ENTITLEMENT,
            "Entitlement",
            "A permission on a resource: role member/admin, application access, group member.",
        ),
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
        rel(kinds::ACCOUNT, HAS, kinds::SERVICE, "The account has the SSO / MFA service."),
        rel(kinds::ACCOUNT, HAS, kinds::CUSTOM_ATTRIBUTE, "The account defines the custom attribute."),
        rel(kinds::ACCOUNT, HAS, kinds::PRIVILEGE, "The account has the privilege."),
        rel(
            kinds::USER,
            ASSIGNED,
            kinds::ROLE,
            "A grant: the user is a member or an admin of the role; properties `permission`, `entitlement`, `via`.",
        ),
        rel(
            kinds::USER,
            ASSIGNED,
            kinds::APPLICATION,
            "A grant: the user can use the application; `via` is the first role giving it or `direct`; \
             `via_roles`, `provisioning_state`, `status`, `last_login`.",
        ),
        rel(kinds::ROLE, ALLOWS, kinds::APPLICATION, "The role gives its members the application."),
        rel(kinds::APPLICATION, HAS, kinds::APP_RULE, "The application has the rule."),
        rel(kinds::USER, ASSIGNED, kinds::MFA_DEVICE, "The user enrolled the device."),
        rel(
            kinds::USER,
            ASSIGNED,
            kinds::AWS_IAM_ROLE,
            "The user gets the AWS role through app rules; `determined` is false when a rule has a condition \
             the connector cannot evaluate (`undetermined_rule_ids`).",
        ),
        rel(kinds::USER, ASSIGNED, kinds::PRIVILEGE, "The privilege is assigned to the user."),
        rel(kinds::ROLE, HAS, kinds::PRIVILEGE, "The privilege is assigned to the role."),
    ]
}
