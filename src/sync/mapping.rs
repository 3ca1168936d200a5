//! Mapping rules: OneLogin JSON objects → entities and relationships, using
//! JupiterOne's data model (`_type`/`_class`) so graph hosts that know it
//! work unchanged. Pure functions over `serde_json::Value`: every OneLogin
//! field is optional and may be null, and unknown fields pass through.
//!
//! Properties are graph-ready ([`graph_ready`]): every value is a primitive
//! or an array of primitives. A nested object becomes dotted names
//! (`custom_attributes.food`); an array of objects becomes one array per
//! field (`conditions.source`), each element's value in order (null where
//! absent; a field whose values are arrays is concatenated); a top-level
//! `a-b` is spelled `a_b`; a declared property is coerced to its kind
//! (numeric strings to integers, numbers to text).

use serde_json::{json, Map, Value};

use crate::identity::connector::types::{Entity, Relationship};
use crate::vocabulary::HAS;
use crate::vocabulary::{
    auth_method_name, declared, entitlement_key, id_of, id_value, user_state_name, user_status_name, EntityType,
    PropertyKind, ACCOUNT, APPLICATION, APP_RULE, AWS_IAM_ROLE, CUSTOM_ATTRIBUTE, ENTITLEMENT, EVENT, GROUP,
    MFA_DEVICE, PERSONAL_APPLICATION, PRIVILEGE, ROLE, SERVICE, USER,
};

/// Normalized account status of a user (the README's status table): status 1, 4 or 5
/// with state 1 → active; 1, 4 or 5 with another state, or 2 or 3 →
/// suspended; no status → access_created; anything else → discovered.
/// (A user no longer returned is `deprovisioned`: see the harness's diff.)
pub fn account_status(status: Option<u64>, state: Option<u64>) -> &'static str {
    match status {
        None => "access_created",
        Some(1 | 4 | 5) if state == Some(1) => "active",
        Some(1..=5) => "suspended",
        Some(_) => "discovered",
    }
}

/// Normalized employment status of a user, by `status`; `None` for values
/// outside OneLogin's enum.
pub fn employment_status(status: Option<u64>) -> Option<&'static str> {
    Some(match status? {
        0 => "inactive",
        1 | 4 | 5 => "active",
        2 | 3 => "suspended",
        7 | 8 => "staged",
        _ => return None,
    })
}

/// Normalized status of a user's access to an application, from its
/// `provisioning_state` (an assignment gone since the last sync is
/// `suspended`: see the harness's diff).
pub fn assignment_status(provisioning_state: Option<&str>) -> &'static str {
    match provisioning_state {
        Some("provisioned") => "active",
        Some(state) if state.ends_with("_pending_approval") => "staged",
        Some("deleted" | "disabled") => "deprovisioned",
        Some("unknown") => "access_created",
        _ => "discovered",
    }
}

/// The entitlement entity for `permission` on the resource, and the
/// relationship linking it to the resource (`resource HAS entitlement`).
pub fn entitlement(resource: &Entity, permission: &str) -> (Entity, Relationship) {
    let entity = Entity {
        key: entitlement_key(&resource.key, permission),
        entity_type: ENTITLEMENT.name.to_string(),
        classes: ENTITLEMENT.class_list(),
        display_name: format!("{} {permission}", resource.display_name),
        properties: json!({"resource": resource.key, "resource_type": resource.entity_type, "permission": permission})
            .to_string(),
    };
    let link = relationship(HAS, &resource.key, &entity.key);
    (entity, link)
}

/// A grant: the relationship from a principal to a resource, carrying the
/// entitlement (`permission` on the resource) and how it is conferred
/// (`direct` or the granting entity's key).
pub fn grant(
    class: &str,
    from: &str,
    to: &str,
    permission: &str,
    via: &str,
    mut extra: Map<String, Value>,
) -> Relationship {
    extra.insert("entitlement".into(), json!(entitlement_key(to, permission)));
    extra.insert("permission".into(), json!(permission));
    extra.insert("via".into(), json!(via));
    relationship_with(class, from, to, Value::Object(extra))
}

fn text<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get(field).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn entity(
    kind: &EntityType,
    id: impl std::fmt::Display,
    display_name: String,
    properties: Map<String, Value>,
) -> Entity {
    Entity {
        key: kind.key(id),
        entity_type: kind.name.to_string(),
        classes: kind.class_list(),
        display_name,
        properties: Value::Object(graph_ready(kind, properties)).to_string(),
    }
}

/// The properties made graph-ready (see the module docs): flattened, one
/// spelling per name, declared ones coerced to their kind.
pub fn graph_ready(kind: &EntityType, object: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in object {
        let name = name.replace('-', "_");
        // `app-name` beside `app_name`: the one with a value wins.
        if value.is_null() && out.get(&name).is_some_and(|v| !v.is_null()) {
            continue;
        }
        flatten_into(&mut out, name, value);
    }
    for (name, value) in out.iter_mut() {
        if let Some(property) = declared(kind.properties, name) {
            coerce(property.kind, value);
        }
    }
    out
}

fn is_primitive(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// Flatten `value` under `name` into `out`.
fn flatten_into(out: &mut Map<String, Value>, name: String, value: Value) {
    match value {
        Value::Object(fields) => {
            for (field, inner) in fields {
                flatten_into(out, format!("{name}.{field}"), inner);
            }
        }
        Value::Array(items) if items.iter().all(is_primitive) => {
            out.insert(name, Value::Array(items));
        }
        Value::Array(items) if items.iter().all(|i| i.is_object() || i.is_null()) => {
            let mut fields: Vec<String> = Vec::new();
            for field in items.iter().filter_map(Value::as_object).flat_map(|o| o.keys()) {
                if !fields.contains(field) {
                    fields.push(field.clone());
                }
            }
            for field in fields {
                let mut column = Vec::new();
                for item in &items {
                    match item.get(&field) {
                        Some(Value::Array(values)) => column.extend(values.iter().map(primitive)),
                        Some(value) => column.push(primitive(value)),
                        None => column.push(Value::Null),
                    }
                }
                out.insert(format!("{name}.{field}"), Value::Array(column));
            }
        }
        Value::Array(items) => {
            out.insert(name, Value::Array(items.iter().map(primitive).collect()));
        }
        primitive => {
            out.insert(name, primitive);
        }
    }
}

/// A primitive as it is; anything nested as its JSON text.
fn primitive(value: &Value) -> Value {
    if is_primitive(value) {
        value.clone()
    } else {
        Value::String(value.to_string())
    }
}

/// Coerce a value (or a list's items) to a declared kind where OneLogin sent
/// another type: numeric strings to integers, numbers and booleans to text.
fn coerce(kind: PropertyKind, value: &mut Value) {
    match (kind, value) {
        (PropertyKind::Integer, value @ Value::String(_)) => coerce_integer(value),
        (PropertyKind::Text, value @ (Value::Number(_) | Value::Bool(_))) => *value = json!(value.to_string()),
        (PropertyKind::IntegerList, Value::Array(items)) => items.iter_mut().for_each(coerce_integer),
        (PropertyKind::TextList, Value::Array(items)) => {
            for item in items.iter_mut().filter(|i| i.is_number() || i.is_boolean()) {
                *item = json!(item.to_string());
            }
        }
        _ => {}
    }
}

fn coerce_integer(value: &mut Value) {
    if let Some(n) = value.as_str().and_then(|s| s.trim().parse::<i64>().ok()) {
        *value = json!(n);
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
        key: ACCOUNT.key(account_id),
        entity_type: ACCOUNT.name.to_string(),
        classes: ACCOUNT.class_list(),
        display_name: host.to_string(),
        properties: json!({"id": account_id, "api_base_url": api_base_url, "name": host}).to_string(),
    }
}

/// The synthetic SSO and MFA service entities of an account.
pub fn services(account_id: &str) -> Vec<Entity> {
    [("sso", "Single Sign-On", "SSO"), ("mfa", "Multi-Factor Authentication", "MFA")]
        .iter()
        .map(|(id, name, function)| Entity {
            key: SERVICE.key(format!("{account_id}:{id}")),
            entity_type: SERVICE.name.to_string(),
            classes: SERVICE.class_list(),
            display_name: format!("OneLogin {name}"),
            properties: json!({"name": name, "function": [function], "category": ["security"]}).to_string(),
        })
        .collect()
}

/// A custom user attribute definition (`GET /api/2/users/custom_attributes`).
pub fn custom_attribute(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name =
        text(object, "name").or_else(|| text(object, "shortname")).map_or_else(|| id.to_string(), str::to_string);
    Some(entity(&CUSTOM_ATTRIBUTE, id, name, fields(object)))
}

/// An app rule (`GET /api/2/apps/{id}/rules`), with its app id and, for
/// rules granting AWS roles, whether every condition can be evaluated.
pub fn app_rule(app_id: u64, object: &Value, unevaluable: Option<Vec<String>>) -> Option<Entity> {
    let id = id_of(object)?;
    let name = text(object, "name").map_or_else(|| id.to_string(), str::to_string);
    let mut properties = fields(object);
    // No conditions or actions: the same names as a rule with some, empty.
    for (list, columns) in
        [("conditions", ["source", "operator", "value"]), ("actions", ["action", "value", "expression"])]
    {
        if properties.get(list).and_then(Value::as_array).is_some_and(Vec::is_empty) {
            properties.remove(list);
            for column in columns {
                properties.insert(format!("{list}.{column}"), json!([]));
            }
        }
    }
    properties.insert("app_id".into(), json!(app_id));
    if let Some(unevaluable) = unevaluable {
        properties.insert("aws_evaluable".into(), json!(unevaluable.is_empty()));
        properties.insert("unevaluable_conditions".into(), json!(unevaluable));
    }
    Some(entity(&APP_RULE, id, name, properties))
}

/// An MFA device (`GET /api/2/mfa/users/{id}/devices`; `device_id` is a string).
pub fn mfa_device(user_id: u64, object: &Value) -> Option<Entity> {
    let id = match object.get("device_id").or_else(|| object.get("id"))? {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let name = text(object, "type_display_name").or_else(|| text(object, "auth_factor_name")).unwrap_or("MFA device");
    let mut properties = fields(object);
    properties.insert("user_id".into(), json!(user_id));
    Some(entity(&MFA_DEVICE, id, name.to_string(), properties))
}

/// Whether an item of a user's apps list is a personal application
/// (`personal: true`, as the v1 list and graph-onelogin read it).
pub fn is_personal_app(object: &Value) -> bool {
    object.get("personal").and_then(Value::as_bool) == Some(true)
}

/// A personal application from a user's apps list, keyed by user and app
/// (a personal app belongs to one user).
pub fn personal_application(user_id: u64, object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name = text(object, "name").map_or_else(|| id.to_string(), str::to_string);
    let mut properties = fields(object);
    properties.insert("user_id".into(), json!(user_id));
    Some(entity(&PERSONAL_APPLICATION, format!("{user_id}:{id}"), name, properties))
}

/// A privilege's id (a string, e.g. a UUID; a number is accepted too).
pub fn privilege_id(object: &Value) -> Option<String> {
    match object.get("id")? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A delegated-administration privilege (`GET /api/1/privileges`; ids are strings).
pub fn privilege(object: &Value) -> Option<Entity> {
    let id = privilege_id(object)?;
    let name = text(object, "name").map_or_else(|| id.clone(), str::to_string);
    Some(entity(&PRIVILEGE, id, name, fields(object)))
}

/// An event (`GET /api/1/events`).
pub fn event(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name =
        format!("event {} (type {})", id, object.get("event_type_id").map(|t| t.to_string()).unwrap_or_default());
    Some(entity(&EVENT, id, name, fields(object)))
}

/// The relationships of an event to the user (`user_id`) and application
/// (`app_id`) it concerns (`user HAS event`, `application HAS event`).
pub fn event_links(object: &Value, event_key: &str) -> Vec<Relationship> {
    [("user_id", &USER), ("app_id", &APPLICATION)]
        .into_iter()
        .filter_map(|(field, kind)| {
            let id = object.get(field).and_then(id_value).filter(|id| *id != 0)?;
            Some(relationship(HAS, &kind.key(id), event_key))
        })
        .collect()
}

/// An AWS IAM role named by app rules, keyed by its ARN.
pub fn aws_iam_role(arn: &str) -> Entity {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    Entity {
        key: AWS_IAM_ROLE.key(arn),
        entity_type: AWS_IAM_ROLE.name.to_string(),
        classes: AWS_IAM_ROLE.class_list(),
        display_name: name.to_string(),
        properties: json!({"arn": arn, "name": name}).to_string(),
    }
}

/// A v2 user (`GET /api/2/users`): every field as OneLogin returned it
/// (custom attributes as `custom_attributes.<shortname>`), plus `name`,
/// `active` (`account_status` is active), `status_name`, `state_name`, the normalized
/// `account_status` and `employment_status`, and `employee_email` (the
/// lower-cased email: the key hosts join people across systems on), and
/// `mfa_enrolled` when the user's MFA devices were read.
pub fn user(object: &Value, mfa_enrolled: Option<bool>) -> Option<Entity> {
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
    properties.insert("active".into(), json!(account_status(status, state) == "active"));
    properties.insert("status_name".into(), json!(status.map(user_status_name)));
    properties.insert("state_name".into(), json!(state.map(user_state_name)));
    properties.insert("account_status".into(), json!(account_status(status, state)));
    properties.insert("employment_status".into(), json!(employment_status(status)));
    properties.insert("employee_email".into(), json!(text(object, "email").map(str::to_lowercase)));
    if let Some(enrolled) = mfa_enrolled {
        properties.insert("mfa_enrolled".into(), json!(enrolled));
    }
    Some(entity(&USER, id, name, properties))
}

/// A user's group, from its `group_id` (OneLogin allows one group per user).
pub fn user_group_id(object: &Value) -> Option<u64> {
    id_value(object.get("group_id")?)
}

/// A v1 group (`GET /api/1/groups`).
pub fn group(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name = text(object, "name").map_or_else(|| id.to_string(), str::to_string);
    Some(entity(&GROUP, id, name, fields(object)))
}

/// A v2 role (`GET /api/2/roles`). Its `users` and `admins` id arrays (up to
/// thousands of ids) are left out: they are the `ASSIGNED` relationships.
pub fn role(object: &Value) -> Option<Entity> {
    let id = id_of(object)?;
    let name = text(object, "name").map_or_else(|| id.to_string(), str::to_string);
    let mut properties = fields(object);
    properties.remove("users");
    properties.remove("admins");
    Some(entity(&ROLE, id, name, properties))
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
    properties.remove("provisioning");
    properties.insert("provisioning_enabled".into(), json!(provisioning));
    Some(entity(&APPLICATION, id, name, properties))
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
        let user = user(&raw, None).unwrap();
        assert_eq!(user.key, "onelogin_user:36216766");
        assert_eq!(user.display_name, "Kelly Slater");
        let p = props(&user);
        assert_eq!(p["custom_attributes.food"], "chicken");
        assert_eq!(p["custom_attributes.employeenumber"], Value::Null);
        assert!(p.get("custom_attributes").is_none(), "flattened");
        assert_eq!(p["status_name"], "locked");
        assert_eq!(p["active"], false);
        assert_eq!(p["role_ids"], json!([199848]));
        assert_eq!(user_group_id(&raw), None);
    }

    #[test]
    fn user_display_name_falls_back_to_username_email_then_id() {
        assert_eq!(user(&json!({"id":1,"username":"","email":"a@b.c"}), None).unwrap().display_name, "a@b.c");
        assert_eq!(user(&json!({"id":"2","firstname":null}), None).unwrap().display_name, "2");
        assert_eq!(user(&json!({"id":3,"lastname":"Solo"}), None).unwrap().display_name, "Solo");
    }

    #[test]
    fn objects_without_a_usable_id_are_not_mapped() {
        assert!(user(&json!({"firstname":"x"}), None).is_none());
        assert!(group(&json!({"id":null})).is_none());
        assert!(role(&json!({"id":-1})).is_none());
        assert!(application(&json!([])).is_none());
    }

    #[test]
    fn active_agrees_with_account_status() {
        let unapproved = user(&json!({"id":1,"status":1,"state":0}), None).unwrap();
        let p = props(&unapproved);
        assert_eq!((p["active"].as_bool(), p["account_status"].as_str()), (Some(false), Some("suspended")));
        let expired = props(&user(&json!({"id":2,"status":4,"state":1}), None).unwrap());
        assert_eq!((expired["active"].as_bool(), expired["account_status"].as_str()), (Some(true), Some("active")));
    }

    #[test]
    fn properties_are_flattened_to_primitives_and_arrays_of_primitives() {
        let rule = app_rule(
            7,
            &json!({"id":"9","name":"r","conditions":[{"source":"email","operator":"ew","value":"x.com"},
                {"source":"has_role","operator":"ri","value":"5"}],
                "actions":[{"action":"set_role","value":["arn:a","arn:b"]},{"action":"set_groups","expression":".*","value":["g"]}]}),
            None,
        )
        .unwrap();
        let p = props(&rule);
        assert_eq!(rule.key, "onelogin_application_rule:9");
        assert_eq!(p["id"], 9, "a numeric-string id is an integer");
        assert_eq!(p["conditions.source"], json!(["email", "has_role"]));
        assert_eq!(p["conditions.value"], json!(["x.com", "5"]));
        assert_eq!(p["actions.action"], json!(["set_role", "set_groups"]));
        assert_eq!(p["actions.value"], json!(["arn:a", "arn:b", "g"]));
        assert_eq!(p["actions.expression"], json!([null, ".*"]));
        let bare = props(&app_rule(7, &json!({"id":1,"conditions":[],"actions":[]}), None).unwrap());
        assert_eq!((&bare["conditions.source"], &bare["actions.value"]), (&json!([]), &json!([])));
        assert!(bare.get("conditions").is_none());
        let privilege = privilege(&json!({"id":"p1","privilege":{"Version":"2018-05-18",
            "Statement":[{"Effect":"Allow","Action":["users:List","users:Get"],"Scope":["*"]}]}}))
        .unwrap();
        let p = props(&privilege);
        assert_eq!(p["privilege.Version"], "2018-05-18");
        assert_eq!(p["privilege.Statement.Action"], json!(["users:List", "users:Get"]));
        for entity in [&rule, &privilege] {
            for (name, value) in props(entity).as_object().unwrap() {
                let primitive = |v: &Value| !v.is_array() && !v.is_object();
                assert!(primitive(value) || value.as_array().unwrap().iter().all(primitive), "{name}: {value}");
            }
        }
    }

    #[test]
    fn events_have_one_spelling_per_field_and_link_to_their_user_and_app() {
        let raw = json!({"id":5,"event_type_id":8,"user_id":"30","app_id":40,"app_name":null,"app-name":"Slack",
            "group-name":"g","group_name":null,"actor_user_id":0});
        let event = event(&raw).unwrap();
        let p = props(&event);
        assert_eq!((p["app_name"].as_str(), p["group_name"].as_str()), (Some("Slack"), Some("g")));
        assert!(p.get("app-name").is_none() && p.get("group-name").is_none());
        assert_eq!(p["user_id"], 30);
        let links: Vec<(String, String)> =
            event_links(&raw, &event.key).into_iter().map(|r| (r.from_key, r.to_key)).collect();
        assert_eq!(
            links,
            [
                ("onelogin_user:30".to_string(), "onelogin_event:5".to_string()),
                ("onelogin_application:40".to_string(), "onelogin_event:5".to_string())
            ]
        );
    }

    #[test]
    fn roles_leave_out_their_member_and_admin_arrays() {
        let p = props(&role(&json!({"id":1,"name":"r","apps":[2],"users":[3,4],"admins":[5]})).unwrap());
        assert_eq!(p, json!({"id":1,"name":"r","apps":[2]}));
    }

    #[test]
    fn personal_apps_are_keyed_by_user_and_app() {
        let raw = json!({"id":90,"name":"Netflix","personal":true});
        assert!(is_personal_app(&raw) && !is_personal_app(&json!({"id":1,"personal":false})));
        let app = personal_application(30, &raw).unwrap();
        assert_eq!(
            (app.key.as_str(), app.classes.as_slice()),
            ("onelogin_personal_application:30:90", &["Application".to_string()][..])
        );
        assert_eq!(props(&app)["user_id"], 30);
    }

    #[test]
    fn entitlements_are_linked_to_their_resource() {
        let group = group(&json!({"id":3,"name":"g"})).unwrap();
        let (entitlement, link) = entitlement(&group, "member");
        assert_eq!(entitlement.key, "onelogin_entitlement:onelogin_group:3:member");
        assert_eq!(
            (link.class.as_str(), link.from_key.as_str(), link.to_key.as_str()),
            ("HAS", "onelogin_group:3", entitlement.key.as_str())
        );
    }

    #[test]
    fn app_gets_auth_method_name_and_provisioning_flag() {
        let app = application(&json!({"id":7,"name":"AWS","auth_method":2,"provisioning":{"enabled":true}})).unwrap();
        let p = props(&app);
        assert_eq!((p["auth_method_name"].as_str(), p["provisioning_enabled"].as_bool()), (Some("saml"), Some(true)));
        assert!(p.get("provisioning").is_none() && p.get("provisioning.enabled").is_none(), "one spelling");
        assert_eq!(app.classes, ["Application"]);
    }

    #[test]
    fn statuses_follow_the_normalization_tables() {
        let table = [
            (Some(1), Some(1), "active"),
            (Some(4), Some(1), "active"),
            (Some(5), Some(1), "active"),
            (Some(1), Some(0), "suspended"),
            (Some(5), Some(3), "suspended"),
            (Some(2), Some(1), "suspended"),
            (Some(3), None, "suspended"),
            (None, Some(1), "access_created"),
            (Some(0), Some(1), "discovered"),
            (Some(7), Some(1), "discovered"),
            (Some(8), Some(1), "discovered"),
        ];
        for (status, state, expected) in table {
            assert_eq!(account_status(status, state), expected, "{status:?}/{state:?}");
        }
        let employment: Vec<_> = [0, 1, 2, 3, 4, 5, 7, 8, 6].iter().map(|s| employment_status(Some(*s))).collect();
        let expected = ["inactive", "active", "suspended", "suspended", "active", "active", "staged", "staged"];
        assert_eq!(employment[..8], expected.map(Some));
        assert_eq!(employment[8], None);
        assert_eq!(assignment_status(Some("provisioned")), "active");
        assert_eq!(assignment_status(Some("provisioning_pending_approval")), "staged");
        assert_eq!(assignment_status(Some("deleting_pending_approval")), "staged");
        assert_eq!(assignment_status(Some("disabled")), "deprovisioned");
        assert_eq!(assignment_status(Some("deleted")), "deprovisioned");
        assert_eq!(assignment_status(Some("unknown")), "access_created");
        assert_eq!(assignment_status(Some("linking_failed")), "discovered");
        assert_eq!(assignment_status(None), "discovered");
    }

    #[test]
    fn group_id_accepts_numbers_and_numeric_strings() {
        assert_eq!(user_group_id(&json!({"group_id": 5})), Some(5));
        assert_eq!(user_group_id(&json!({"group_id": "6"})), Some(6));
    }
}
