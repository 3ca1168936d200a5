//! The connector's shared vocabulary: entity types and their classes,
//! relationship classes, how keys are written, and the tolerant readers for
//! OneLogin's ids. Sync, provisioning and `describe` all speak these terms;
//! nothing here knows about HTTP.

use serde_json::Value;

/// One type of entity the connector emits.
#[derive(Debug)]
pub struct EntityType {
    /// The `entity-type` value, e.g. `onelogin_user`.
    pub name: &'static str,
    /// The graph classes every entity of the type carries.
    pub classes: &'static [&'static str],
    /// One line for `describe`.
    pub description: &'static str,
}

impl EntityType {
    /// The key of the entity with `id`: `<type>:<id>`, so ids of different
    /// types never collide.
    pub fn key(&self, id: impl std::fmt::Display) -> String {
        format!("{}:{id}", self.name)
    }

    /// The classes as owned strings, for an `entity` record.
    pub fn class_list(&self) -> Vec<String> {
        self.classes.iter().map(|c| c.to_string()).collect()
    }
}

/// One type of relationship: a class between two entity types.
#[derive(Debug)]
pub struct RelationshipType {
    /// `HAS`, `ASSIGNED` or `ALLOWS`.
    pub class: &'static str,
    /// The `from-key` side.
    pub from: &'static EntityType,
    /// The `to-key` side.
    pub to: &'static EntityType,
    /// One line for `describe`.
    pub description: &'static str,
}

/// Relationship class: ownership or membership.
pub const HAS: &str = "HAS";
/// Relationship class: a principal holds something.
pub const ASSIGNED: &str = "ASSIGNED";
/// Relationship class: a role giving access to an application.
pub const ALLOWS: &str = "ALLOWS";

/// The OneLogin account (tenant).
pub static ACCOUNT: EntityType =
    EntityType { name: "onelogin_account", classes: &["Account"], description: "The OneLogin account (tenant)." };
/// A user.
pub static USER: EntityType = EntityType {
    name: "onelogin_user",
    classes: &["User"],
    description: "A user, with every v2 field and custom attribute.",
};
/// A group.
pub static GROUP: EntityType = EntityType {
    name: "onelogin_group",
    classes: &["UserGroup"],
    description: "A group (a user belongs to at most one).",
};
/// A role.
pub static ROLE: EntityType = EntityType {
    name: "onelogin_role",
    classes: &["AccessRole"],
    description: "A role: grants applications to its members.",
};
/// An application.
pub static APPLICATION: EntityType = EntityType {
    name: "onelogin_application",
    classes: &["Application"],
    description: "An application configured in the account.",
};
/// The synthetic SSO and MFA services of an account.
pub static SERVICE: EntityType = EntityType {
    name: "onelogin_service",
    classes: &["Service"],
    description: "The account's SSO and MFA services (synthetic).",
};
/// A custom user attribute definition.
pub static CUSTOM_ATTRIBUTE: EntityType = EntityType {
    name: "onelogin_custom_attribute",
    classes: &["Configuration"],
    description: "A custom user attribute definition.",
};
/// An application rule.
pub static APP_RULE: EntityType = EntityType {
    name: "onelogin_app_rule",
    classes: &["Configuration"],
    description: "An application rule, enabled or disabled.",
};
/// An MFA device.
pub static MFA_DEVICE: EntityType = EntityType {
    name: "onelogin_mfa_device",
    classes: &["Key", "AccessKey"],
    description: "An MFA device (factor) a user enrolled.",
};
/// A delegated-administration privilege.
pub static PRIVILEGE: EntityType = EntityType {
    name: "onelogin_privilege",
    classes: &["AccessPolicy"],
    description: "A delegated-administration privilege.",
};
/// An event of the account's event log.
pub static EVENT: EntityType =
    EntityType { name: "onelogin_event", classes: &["Record"], description: "An event from the account's event log." };
/// A permission on a resource.
pub static ENTITLEMENT: EntityType = EntityType {
    name: "onelogin_entitlement",
    classes: &["Entitlement"],
    description: "A permission on a resource: role member/admin, application access, group member.",
};
/// An AWS IAM role a SAML app rule names. Its key is namespaced like every
/// other (`aws_iam_role:arn:aws:iam::…:role/…`); its `arn` property is the
/// ARN, for joining with what an AWS connector emits.
pub static AWS_IAM_ROLE: EntityType = EntityType {
    name: "aws_iam_role",
    classes: &["AccessRole"],
    description: "An AWS IAM role named by a SAML app rule; keyed `aws_iam_role:<ARN>`, ARN in `arn`.",
};

/// The key of an entitlement: a permission on a resource, e.g.
/// `onelogin_entitlement:onelogin_role:7:member`.
pub fn entitlement_key(resource_key: &str, permission: &str) -> String {
    format!("{}:{resource_key}:{permission}", ENTITLEMENT.name)
}

/// A OneLogin numeric id, given as a number or as a numeric string (OneLogin
/// sends both, e.g. `manager_user_id`, `role_ids` items). Anything else —
/// negative, fractional, out of range, text — is not an id.
pub fn id_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The numeric `id` field of an object.
pub fn id_of(object: &Value) -> Option<u64> {
    id_value(object.get("id")?)
}

/// The ids of an id array (`role_ids`, a role's `apps`), in order, skipping
/// anything that is not an id; a missing or non-array value is empty.
pub fn id_list(value: Option<&Value>) -> Vec<u64> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(id_value).collect()
}

/// [`id_list`], sorted and without repeats (for comparing sets).
pub fn id_set(value: Option<&Value>) -> Vec<u64> {
    let mut ids = id_list(value);
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A role's id and the applications it gives its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleApps {
    /// The role id.
    pub id: u64,
    /// The ids of the applications the role gives, sorted.
    pub apps: Vec<u64>,
}

impl RoleApps {
    /// From a `GET /api/2/roles` item (`{"id":…,"apps":[…]}`).
    pub fn from_role(object: &Value) -> Option<RoleApps> {
        Some(RoleApps { id: id_of(object)?, apps: id_set(object.get("apps")) })
    }

    /// Whether the role gives exactly `app` and nothing else.
    pub fn gives_only(&self, app: u64) -> bool {
        self.apps == [app]
    }
}

/// OneLogin user `status` values (the official Go and Node SDKs' enums).
pub fn user_status_name(status: u64) -> &'static str {
    match status {
        0 => "unactivated",
        1 => "active",
        2 => "suspended",
        3 => "locked",
        4 => "password_expired",
        5 => "awaiting_password_reset",
        7 => "password_pending",
        8 => "security_questions_required",
        _ => "unknown",
    }
}

/// OneLogin user `state` values.
pub fn user_state_name(state: u64) -> &'static str {
    match state {
        0 => "unapproved",
        1 => "approved",
        2 => "rejected",
        3 => "unlicensed",
        _ => "unknown",
    }
}

/// App `auth_method` values.
pub fn auth_method_name(method: u64) -> &'static str {
    match method {
        0 => "password",
        1 => "openid",
        2 => "saml",
        3 => "api",
        4 => "google",
        6 => "forms_based",
        7 => "wsfed",
        8 => "openid_connect",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_may_be_numbers_or_numeric_strings_and_nothing_else() {
        assert_eq!(id_value(&json!(5)), Some(5));
        assert_eq!(id_value(&json!(" 6 ")), Some(6));
        for bad in [json!(-1), json!(1.5), json!("x"), json!(null), json!([1])] {
            assert_eq!(id_value(&bad), None, "{bad}");
        }
        assert_eq!(id_list(Some(&json!([5, "1", 5, null]))), [5, 1, 5]);
        assert_eq!(id_set(Some(&json!([5, "1", 5, null]))), [1, 5]);
        assert!(id_list(Some(&json!({"id": 1}))).is_empty());
    }

    #[test]
    fn keys_are_namespaced_by_type() {
        assert_eq!(USER.key(12), "onelogin_user:12");
        assert_eq!(entitlement_key(&ROLE.key(7), "member"), "onelogin_entitlement:onelogin_role:7:member");
    }
}
