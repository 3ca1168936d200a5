//! The connector's shared vocabulary: entity types and their classes,
//! relationship classes, how keys are written, and the tolerant readers for
//! OneLogin's ids. Sync, provisioning and `describe` all speak these terms;
//! nothing here knows about HTTP.

use serde_json::Value;

/// The type of a property's value. Every property is graph-ready: a
/// primitive or an array of primitives (or null when OneLogin sent none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyKind {
    /// A string.
    Text,
    /// An integer (OneLogin ids sent as numeric strings are read as integers).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// An ISO 8601 date-time string.
    Timestamp,
    /// An array of strings.
    TextList,
    /// An array of integers.
    IntegerList,
    /// Passed through as OneLogin sent it, flattened: a primitive or an array
    /// of primitives of any type (names ending in `*`).
    Mixed,
}

/// One property an entity or relationship may carry.
#[derive(Debug)]
pub struct Property {
    /// The property name; a trailing `*` stands for any suffix
    /// (`custom_attributes.*`).
    pub name: &'static str,
    /// The value's type.
    pub kind: PropertyKind,
    /// One line for `describe`.
    pub description: &'static str,
}

impl Property {
    /// Whether `name` is this property (exactly, or under a `*` pattern).
    pub fn matches(&self, name: &str) -> bool {
        match self.name.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix) && name.len() > prefix.len(),
            None => self.name == name,
        }
    }
}

/// Declares a property (keeps the tables below short).
pub const fn prop(name: &'static str, kind: PropertyKind, description: &'static str) -> Property {
    Property { name, kind, description }
}

use PropertyKind::{Boolean, Integer, IntegerList, Mixed, Text, TextList, Timestamp};

/// The declared property of `properties` named `name`, if any.
pub fn declared<'a>(properties: &'a [Property], name: &str) -> Option<&'a Property> {
    properties.iter().find(|p| p.matches(name))
}

/// One type of entity the connector emits.
#[derive(Debug)]
pub struct EntityType {
    /// The `entity-type` value, e.g. `onelogin_user`.
    pub name: &'static str,
    /// The graph classes every entity of the type carries.
    pub classes: &'static [&'static str],
    /// One line for `describe`.
    pub description: &'static str,
    /// How a key of this type is written; `<…>` marks what is filled in.
    pub key_format: &'static str,
    /// The properties an entity of this type may carry.
    pub properties: &'static [Property],
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
    /// The properties a relationship of this type may carry.
    pub properties: &'static [Property],
    /// Even a full sync of every kind may leave one end unemitted (an event
    /// naming a user deleted since).
    pub may_dangle: bool,
}

/// Relationship class: ownership or membership.
pub const HAS: &str = "HAS";
/// Relationship class: a principal holds something.
pub const ASSIGNED: &str = "ASSIGNED";
/// Relationship class: a role giving access to an application.
pub const ALLOWS: &str = "ALLOWS";

/// The properties of a grant (a relationship carrying an entitlement).
pub const GRANT_PROPERTIES: [Property; 3] = [
    prop("entitlement", Text, "The key of the entitlement granted (an `onelogin_entitlement`)."),
    prop("permission", Text, "The permission: `member`, `admin` (roles), `access` (applications)."),
    prop("via", Text, "`direct`, or the key of the role that confers it."),
];

/// The OneLogin account (tenant).
pub static ACCOUNT: EntityType = EntityType {
    name: "onelogin_account",
    classes: &["Account"],
    description: "The OneLogin account (tenant).",
    key_format: "onelogin_account:<account id>",
    properties: &[
        prop("id", Text, "OneLogin's account id (from the token response)."),
        prop("api_base_url", Text, "The API base URL."),
        prop("name", Text, "The account's host name."),
    ],
};
/// A user.
pub static USER: EntityType = EntityType {
    name: "onelogin_user",
    classes: &["User"],
    description: "A user, with every v2 field and custom attribute.",
    key_format: "onelogin_user:<id>",
    properties: &[
        prop("id", Integer, "OneLogin's user id."),
        prop("email", Text, "Email address as OneLogin stores it."),
        prop("employee_email", Text, "The email, lower-cased: the key to join people across systems."),
        prop("username", Text, "Username."),
        prop("firstname", Text, "First name."),
        prop("lastname", Text, "Last name."),
        prop("name", Text, "First and last name (else username, email or id)."),
        prop("title", Text, "Job title."),
        prop("department", Text, "Department."),
        prop("company", Text, "Company."),
        prop("comment", Text, "Admin comment."),
        prop("phone", Text, "Phone number."),
        prop("status", Integer, "OneLogin's raw status (0 unactivated, 1 active, 2 suspended, 3 locked, 4 password expired, 5 awaiting password reset, 7 password pending, 8 security questions required)."),
        prop("status_name", Text, "`status` as a word (`active`, `suspended`, `locked`, ...)."),
        prop("state", Integer, "OneLogin's raw approval state (0 unapproved, 1 approved, 2 rejected, 3 unlicensed)."),
        prop("state_name", Text, "`state` as a word."),
        prop("account_status", Text, "Normalized from status and state: `active`, `suspended`, `access_created`, `discovered`. The one to use in access reviews."),
        prop("active", Boolean, "Whether the user can sign in now: `account_status` is `active`."),
        prop("employment_status", Text, "Normalized from status: `active`, `inactive`, `suspended`, `staged`."),
        prop("group_id", Integer, "The user's one group."),
        prop("role_ids", IntegerList, "The roles the user is a member of."),
        prop("custom_attributes.*", Text, "Each custom attribute, under `custom_attributes.<shortname>`."),
        prop("manager_user_id", Integer, "The manager's user id."),
        prop("manager_ad_id", Text, "The manager's Active Directory id."),
        prop("directory_id", Integer, "The directory the user syncs from."),
        prop("external_id", Text, "The user's id in an external directory."),
        prop("distinguished_name", Text, "AD distinguished name."),
        prop("member_of", TextList, "AD group memberships (OneLogin sends a `;`-joined string or an array)."),
        prop("samaccountname", Text, "AD sAMAccountName."),
        prop("userprincipalname", Text, "AD userPrincipalName."),
        prop("trusted_idp_id", Integer, "The trusted IdP the user signs in through."),
        prop("preferred_locale_code", Text, "Preferred locale."),
        prop("invalid_login_attempts", Integer, "Failed sign-ins since the last success."),
        prop("created_at", Timestamp, "Created."),
        prop("updated_at", Timestamp, "Last updated."),
        prop("activated_at", Timestamp, "Activated."),
        prop("last_login", Timestamp, "Last sign-in to OneLogin."),
        prop("password_changed_at", Timestamp, "Password last changed."),
        prop("invitation_sent_at", Timestamp, "Invitation sent."),
        prop("locked_until", Timestamp, "Locked until."),
        prop("mfa_enrolled", Boolean, "Whether the user has an MFA device (when `mfa_devices` was read)."),
    ],
};
/// A group.
pub static GROUP: EntityType = EntityType {
    name: "onelogin_group",
    classes: &["UserGroup"],
    description: "A group (a user belongs to at most one).",
    key_format: "onelogin_group:<id>",
    properties: &[
        prop("id", Integer, "OneLogin's group id."),
        prop("name", Text, "Name."),
        prop("reference", Text, "OneLogin's reference text."),
    ],
};
/// A role.
pub static ROLE: EntityType = EntityType {
    name: "onelogin_role",
    classes: &["AccessRole"],
    description: "A role: grants applications to its members (members and admins are relationships).",
    key_format: "onelogin_role:<id>",
    properties: &[
        prop("id", Integer, "OneLogin's role id."),
        prop("name", Text, "Name."),
        prop("apps", IntegerList, "The applications the role gives its members."),
    ],
};
/// An application.
pub static APPLICATION: EntityType = EntityType {
    name: "onelogin_application",
    classes: &["Application"],
    description: "An application configured in the account.",
    key_format: "onelogin_application:<id>",
    properties: &[
        prop("id", Integer, "OneLogin's app id."),
        prop("name", Text, "Name."),
        prop("description", Text, "Description."),
        prop("notes", Text, "Admin notes."),
        prop("connector_id", Integer, "The catalogue connector the app was made from."),
        prop("auth_method", Integer, "OneLogin's auth method number."),
        prop("auth_method_name", Text, "`auth_method` as a word (`saml`, `openid_connect`, ...)."),
        prop("auth_method_description", Text, "OneLogin's description of the auth method."),
        prop("visible", Boolean, "Shown in the user portal."),
        prop("provisioning_enabled", Boolean, "Provisioning is on (OneLogin's `provisioning.enabled`)."),
        prop("icon_url", Text, "Icon."),
        prop("policy_id", Integer, "App policy."),
        prop("tab_id", Integer, "Portal tab."),
        prop("brand_id", Integer, "Brand."),
        prop("login_config", Integer, "Login configuration."),
        prop("allow_assumed_signin", Boolean, "Admins may sign in as users."),
        prop("role_ids", IntegerList, "Roles giving the app (single-app reads only)."),
        prop("created_at", Timestamp, "Created."),
        prop("updated_at", Timestamp, "Last updated."),
        prop("parameters.*", Mixed, "App parameters, flattened (`parameters.<name>.<field>`)."),
        prop("configuration.*", Mixed, "App configuration, flattened."),
        prop("sso.*", Mixed, "SSO settings, flattened (never secrets: OneLogin does not list them)."),
        prop("enforcement_point.*", Mixed, "Enforcement point settings, flattened."),
    ],
};
/// A user's personal application (one the user added to their portal).
pub static PERSONAL_APPLICATION: EntityType = EntityType {
    name: "onelogin_personal_application",
    classes: &["Application"],
    description: "An application a user added for themselves, listed among the user's apps with `personal: true`.",
    key_format: "onelogin_personal_application:<user id>:<app id>",
    properties: &[
        prop("id", Integer, "The app id OneLogin lists."),
        prop("user_id", Integer, "The user who added it."),
        prop("name", Text, "Name."),
        prop("icon_url", Text, "Icon."),
        prop("extension", Boolean, "Needs the OneLogin browser extension."),
        prop("login_id", Integer, "OneLogin's id of the (user, app) login."),
        prop("personal", Boolean, "Always true."),
        prop("provisioning_status", Text, "As OneLogin lists it."),
        prop("provisioning_state", Text, "As OneLogin lists it."),
        prop("provisioning_enabled", Boolean, "As OneLogin lists it."),
    ],
};
/// The SSO and MFA services of an account (JupiterOne's `onelogin_service`).
pub static SERVICE: EntityType = EntityType {
    name: "onelogin_service",
    classes: &["Service", "Control"],
    description: "The account's SSO and MFA services: what OneLogin provides, not read from the API.",
    key_format: "onelogin_service:<account id>:<sso or mfa>",
    properties: &[
        prop("name", Text, "`Single Sign-On` or `Multi-Factor Authentication`."),
        prop("function", TextList, "`SSO` or `MFA`."),
        prop("category", TextList, "`security`."),
    ],
};
/// A custom user attribute definition.
pub static CUSTOM_ATTRIBUTE: EntityType = EntityType {
    name: "onelogin_custom_attribute",
    classes: &["Configuration"],
    description: "A custom user attribute definition.",
    key_format: "onelogin_custom_attribute:<id>",
    properties: &[
        prop("id", Integer, "OneLogin's id."),
        prop("name", Text, "Display name."),
        prop("shortname", Text, "The name users carry it under (`custom_attributes.<shortname>`)."),
    ],
};
/// An application rule.
pub static APP_RULE: EntityType = EntityType {
    name: "onelogin_application_rule",
    classes: &["Configuration"],
    description: "An application rule, enabled or disabled.",
    key_format: "onelogin_application_rule:<id>",
    properties: &[
        prop("id", Integer, "OneLogin's rule id."),
        prop("app_id", Integer, "The application."),
        prop("name", Text, "Name."),
        prop("match", Text, "`all` or `any` condition must hold."),
        prop("enabled", Boolean, "Enabled."),
        prop("position", Integer, "Evaluation order."),
        prop("conditions.source", TextList, "Each condition's source, in order."),
        prop("conditions.operator", TextList, "Each condition's operator, in order."),
        prop("conditions.value", TextList, "Each condition's value, in order."),
        prop("actions.action", TextList, "Each action, in order."),
        prop("actions.value", TextList, "Every action's values, concatenated (e.g. role ARNs)."),
        prop("actions.expression", TextList, "Each action's expression, in order (null where none)."),
        prop("actions.*", Mixed, "Other action fields, one array per field."),
        prop("aws_evaluable", Boolean, "For rules granting AWS roles: every condition can be evaluated."),
        prop("unevaluable_conditions", TextList, "For rules granting AWS roles: the conditions that cannot."),
    ],
};
/// An MFA device (JupiterOne's `mfa_device`).
pub static MFA_DEVICE: EntityType = EntityType {
    name: "mfa_device",
    classes: &["Key", "AccessKey"],
    description: "An MFA device (factor) a user enrolled.",
    key_format: "mfa_device:<device id>",
    properties: &[
        prop("device_id", Text, "OneLogin's device id."),
        prop("user_id", Integer, "The user who enrolled it."),
        prop("user_display_name", Text, "The name the user gave it."),
        prop("type_display_name", Text, "The factor type's name."),
        prop("auth_factor_name", Text, "The factor."),
        prop("default", Boolean, "The user's default factor."),
    ],
};
/// A delegated-administration privilege.
pub static PRIVILEGE: EntityType = EntityType {
    name: "onelogin_privilege",
    classes: &["AccessPolicy"],
    description: "A delegated-administration privilege.",
    key_format: "onelogin_privilege:<id>",
    properties: &[
        prop("id", Text, "OneLogin's privilege id."),
        prop("name", Text, "Name."),
        prop("description", Text, "Description."),
        prop("privilege.Version", Text, "Policy version."),
        prop("privilege.Statement.Effect", TextList, "Each statement's effect."),
        prop("privilege.Statement.Action", TextList, "Every statement's actions, concatenated."),
        prop("privilege.Statement.Scope", TextList, "Every statement's scopes, concatenated."),
    ],
};
/// An event of the account's event log.
pub static EVENT: EntityType = EntityType {
    name: "onelogin_event",
    classes: &["Record"],
    description: "An event from the account's event log.",
    key_format: "onelogin_event:<id>",
    properties: &[
        prop("id", Integer, "OneLogin's event id."),
        prop("created_at", Timestamp, "When."),
        prop("account_id", Integer, "The account."),
        prop("event_type_id", Integer, "OneLogin's event type (8: user logged into an app)."),
        prop("user_id", Integer, "The user the event concerns."),
        prop("user_name", Text, "Their name."),
        prop("actor_user_id", Integer, "Who acted."),
        prop("actor_user_name", Text, "Their name."),
        prop("actor_system", Text, "The system that acted."),
        prop("app_id", Integer, "The application the event concerns."),
        prop("app_name", Text, "Its name (OneLogin also spells it `app-name`)."),
        prop("group_id", Integer, "The group."),
        prop("group_name", Text, "Its name (OneLogin also spells it `group-name`)."),
        prop("role_id", Integer, "The role."),
        prop("role_name", Text, "Its name."),
        prop("otp_device_id", Integer, "The MFA device."),
        prop("otp_device_name", Text, "Its name."),
        prop("ipaddr", Text, "Client IP address."),
        prop("*", Mixed, "Every other field of OneLogin's event (policy, privilege, risk, directory, ...), as sent."),
    ],
};
/// A permission on a resource.
pub static ENTITLEMENT: EntityType = EntityType {
    name: "onelogin_entitlement",
    classes: &["Entitlement"],
    description: "A permission on a resource: role member/admin, application access, group member.",
    key_format: "onelogin_entitlement:<resource key>:<permission>",
    properties: &[
        prop("resource", Text, "The key of the resource."),
        prop("resource_type", Text, "The resource's entity type."),
        prop("permission", Text, "`member`, `admin` or `access`."),
    ],
};
/// An AWS IAM role a SAML app rule names. Its key is namespaced like every
/// other (`aws_iam_role:arn:aws:iam::…:role/…`); its `arn` property is the
/// ARN, for joining with what an AWS connector emits.
pub static AWS_IAM_ROLE: EntityType = EntityType {
    name: "aws_iam_role",
    classes: &["AccessRole"],
    description: "An AWS IAM role named by a SAML app rule; keyed `aws_iam_role:<ARN>`, ARN in `arn`.",
    key_format: "aws_iam_role:<arn>",
    properties: &[prop("arn", Text, "The role's ARN."), prop("name", Text, "The last part of the ARN's path.")],
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
