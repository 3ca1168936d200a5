//! Mapping rules: OneLogin JSON objects → entities and relationships, using
//! JupiterOne's data model (`_type`/`_class`) so graph hosts that know it
//! work unchanged. Pure functions over `serde_json::Value`: every OneLogin
//! field is optional and may be null, and unknown fields pass through.

use serde_json::{json, Map, Value};

use crate::identity::connector::types::{Entity, Relationship};

/// Entity types and the key each one gets. Keys are `<type>:<id>` so ids of
/// different kinds never collide.
pub mod kinds {
    pub const ACCOUNT: &str = "onelogin_account";
    pub const USER: &str = "onelogin_user";
    pub const GROUP: &str = "onelogin_group";
    pub const ROLE: &str = "onelogin_role";
    pub const APPLICATION: &str = "onelogin_application";

    /// The entity key for `id` of `kind`.
    pub fn key(kind: &str, id: impl std::fmt::Display) -> String {
        format!("{kind}:{id}")
    }
}

/// Relationship classes.
pub const HAS: &str = "HAS";
pub const ASSIGNED: &str = "ASSIGNED";

/// OneLogin user `status` values (ONELOGIN_API.md §3.6).
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

/// A numeric OneLogin id, given as a number or a numeric string.
pub fn id_of(object: &Value) -> Option<u64> {
    match object.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get(field).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn entity(kind: &str, classes: &[&str], id: u64, display_name: String, properties: Map<String, Value>) -> Entity {
    Entity {
        key: kinds::key(kind, id),
        entity_type: kind.to_string(),
        classes: classes.iter().map(|c| c.to_string()).collect(),
        display_name,
        properties: Value::Object(properties).to_string(),
    }
}

/// The object's fields, to which computed properties are added.
fn fields(object: &Value) -> Map<String, Value> {
    object.as_object().cloned().unwrap_or_default()
}

/// A relationship with no properties.
pub fn relationship(class: &str, from_key: &str, to_key: &str) -> Relationship {
    relationship_with(class, from_key, to_key, json!({}))
}

/// A relationship with properties.
pub fn relationship_with(class: &str, from_key: &str, to_key: &str, properties: Value) -> Relationship {
    Relationship {
        class: class.to_string(),
        from_key: from_key.to_string(),
        to_key: to_key.to_string(),
        properties: properties.to_string(),
    }
}

/// The account entity. `account_id` comes from the token response.
pub fn account(account_id: &str, api_base_url: &str, host: &str) -> Entity {
    Entity {
        key: kinds::key(kinds::ACCOUNT, account_id),
        entity_type: kinds::ACCOUNT.to_string(),
        classes: vec!["Account".to_string()],
        display_name: host.to_string(),
        properties: json!({"id": account_id, "api_base_url": api_base_url, "name": host}).to_string(),
    }
}

/// A v2 user (`GET /api/2/users`): every field as OneLogin returned it
/// (custom attributes stay under `custom_attributes`), plus `name`, `active`
/// (only status 1 can log in), `status_name` and `state_name`.
pub fn user(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name = match (text(object, "firstname"), text(object, "lastname")) {
        (Some(first), Some(last)) => format!("{first} {last}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => {
            text(object, "username").or_else(|| text(object, "email")).map_or_else(|| id.to_string(), str::to_string)
        }
    };
    let status = object.get("status").and_then(Value::as_u64);
    let state = object.get("state").and_then(Value::as_u64);
    let mut properties = fields(object);
    properties.insert("name".into(), json!(name));
    properties.insert("active".into(), json!(status == Some(1)));
    properties.insert("status_name".into(), json!(status.map(user_status_name)));
    properties.insert("state_name".into(), json!(state.map(user_state_name)));
    Some(entity(kinds::USER, &["User"], id, name, properties))
}

/// A user's group, from its `group_id` (OneLogin allows one group per user).
pub fn user_group_id(object: &Value) -> Option<u64> {
    match object.get("group_id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A v1 group (`GET /api/1/groups`).
pub fn group(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name = text(object, "name").map_or_else(|| id.to_string(), str::to_string);
    Some(entity(kinds::GROUP, &["UserGroup"], id, name, fields(object)))
}

/// A v2 role (`GET /api/2/roles`).
pub fn role(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name = text(object, "name").map_or_else(|| id.to_string(), str::to_string);
    Some(entity(kinds::ROLE, &["AccessRole"], id, name, fields(object)))
}

/// A v2 app (`GET /api/2/apps`), plus `auth_method_name` and a flat
/// `provisioning_enabled`.
pub fn application(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name = text(object, "name").map_or_else(|| id.to_string(), str::to_string);
    let mut properties = fields(object);
    let method = object.get("auth_method").and_then(Value::as_u64);
    properties.insert("auth_method_name".into(), json!(method.map(auth_method_name)));
    let provisioning = object.get("provisioning").and_then(|p| p.get("enabled")).and_then(Value::as_bool);
    properties.insert("provisioning_enabled".into(), json!(provisioning));
    Some(entity(kinds::APPLICATION, &["Application"], id, name, properties))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(entity: &Entity) -> Value {
        serde_json::from_str(&entity.properties).unwrap()
    }

    #[test]
    fn v2_user_keeps_every_field_and_adds_computed_ones() {
        let raw = json!({"id":36216766,"firstname":"Kelly","lastname":"Slater","username":"kellyslater",
            "status":3,"state":1,"group_id":null,"role_ids":[199848],"custom_attributes":{"food":"chicken","employeenumber":null}});
        let user = user(&raw).unwrap();
        assert_eq!(user.key, "onelogin_user:36216766");
        assert_eq!(user.display_name, "Kelly Slater");
        let p = props(&user);
        assert_eq!(p["custom_attributes"]["food"], "chicken");
        assert_eq!(p["status_name"], "locked");
        assert_eq!(p["active"], false);
        assert_eq!(p["role_ids"], json!([199848]));
        assert_eq!(user_group_id(&raw), None);
    }

    #[test]
    fn user_display_name_falls_back_to_username_email_then_id() {
        assert_eq!(user(&json!({"id":1,"username":"","email":"a@b.c"})).unwrap().display_name, "a@b.c");
        assert_eq!(user(&json!({"id":"2","firstname":null})).unwrap().display_name, "2");
        assert_eq!(user(&json!({"id":3,"lastname":"Solo"})).unwrap().display_name, "Solo");
    }

    #[test]
    fn objects_without_a_usable_id_are_not_mapped() {
        assert!(user(&json!({"firstname":"x"})).is_none());
        assert!(group(&json!({"id":null})).is_none());
        assert!(role(&json!({"id":-1})).is_none());
        assert!(application(&json!([])).is_none());
    }

    #[test]
    fn app_gets_auth_method_name_and_provisioning_flag() {
        let app = application(&json!({"id":7,"name":"AWS","auth_method":2,"provisioning":{"enabled":true}})).unwrap();
        let p = props(&app);
        assert_eq!((p["auth_method_name"].as_str(), p["provisioning_enabled"].as_bool()), (Some("saml"), Some(true)));
        assert_eq!(app.classes, ["Application"]);
    }

    #[test]
    fn group_id_accepts_numbers_and_numeric_strings() {
        assert_eq!(user_group_id(&json!({"group_id": 5})), Some(5));
        assert_eq!(user_group_id(&json!({"group_id": "6"})), Some(6));
    }
}
