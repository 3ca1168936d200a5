//! User field variance: OneLogin sends the same user field in more than one
//! shape (`host-test/src/simulator/FIDELITY.md` F-DATA-5..8, F-DATA-13), so
//! every user is normalised once, before it is mapped or a rule is evaluated
//! on it, to one documented type per property:
//!
//! | property | output |
//! |---|---|
//! | `id`, `group_id`, `manager_user_id`, `directory_id`, `trusted_idp_id` | number, or null (a numeric string becomes a number: python-sdk #100) |
//! | `role_ids` | array of numbers |
//! | `manager_ad_id` | text, or null (go-sdk #87: a string) |
//! | `member_of` | array of texts, or null (py-sdk: one `;`-joined string; go-sdk 4.2: an array) |
//! | dates (`created_at`, `last_login`, …) | ISO 8601 text, or null (`0001-01-01…` means never) |
//! | `email`, `username` | text, or null when missing, null or blank (real users may have no username: `""` in recorded traffic; neither is required of every user) |
//! | every other field asked for in [`FIELDS`] but not sent | null (OneLogin may leave out a null field) |
//!
//! `custom_attributes` and `role_ids` are not filled in when missing: their
//! absence means "not sent" (membership is then read per role; a condition on
//! a missing custom attribute is undetermined).

use serde_json::{Map, Value};

use crate::vocabulary::id_value;

/// The fields asked of `GET /api/2/users`: every field of a v2 user. The
/// List Users docs sample has no `role_ids` or `custom_attributes`; public
/// code gets them by naming them in `fields` (developers.onelogin.com "using
/// query parameters": `fields` returns the attributes of the single-user read).
pub const FIELDS: &str = "id,email,username,firstname,lastname,title,department,company,comment,phone,status,state,\
                          group_id,role_ids,custom_attributes,manager_user_id,manager_ad_id,directory_id,external_id,\
                          distinguished_name,member_of,samaccountname,userprincipalname,trusted_idp_id,\
                          preferred_locale_code,invalid_login_attempts,created_at,updated_at,activated_at,last_login,\
                          password_changed_at,invitation_sent_at,locked_until";

/// Id fields: a number or null.
const IDS: [&str; 5] = ["id", "group_id", "manager_user_id", "directory_id", "trusted_idp_id"];

/// Date fields: ISO 8601 text or null.
const DATES: [&str; 7] = [
    "created_at",
    "updated_at",
    "activated_at",
    "last_login",
    "password_changed_at",
    "invitation_sent_at",
    "locked_until",
];

/// Identity fields a user may lack: blank is no value (null).
const IDENTITIES: [&str; 2] = ["email", "username"];

/// Fields whose absence is not a null (see the module docs).
const NOT_FILLED: [&str; 2] = ["role_ids", "custom_attributes"];

/// The placeholder OneLogin shows for a date that never happened
/// (FIDELITY.md F-DATA-5).
const NEVER_PREFIX: &str = "0001-01-01";

/// A user object with one type per property (see the module docs); anything
/// that is not an object is returned as is.
pub fn normalize(user: &Value) -> Value {
    let Value::Object(fields) = user else { return user.clone() };
    let mut out: Map<String, Value> = fields.clone();
    for name in FIELDS.split(',').filter(|name| !NOT_FILLED.contains(name)) {
        out.entry(name).or_insert(Value::Null);
    }
    for name in IDS {
        if let Some(value) = out.get_mut(name) {
            *value = id_value(value).map_or(Value::Null, Value::from);
        }
    }
    if let Some(Value::Array(ids)) = out.get_mut("role_ids") {
        *ids = ids.iter().filter_map(id_value).map(Value::from).collect();
    }
    if let Some(value) = out.get_mut("manager_ad_id") {
        *value = match value {
            Value::String(s) if !s.trim().is_empty() => Value::from(s.trim()),
            Value::Number(n) => Value::from(n.to_string()),
            _ => Value::Null,
        };
    }
    if let Some(value) = out.get_mut("member_of") {
        *value = member_of(value).map_or(Value::Null, |groups| groups.into_iter().map(Value::from).collect());
    }
    for name in IDENTITIES {
        if let Some(value) = out.get_mut(name) {
            *value = match value {
                Value::String(s) if !s.trim().is_empty() => Value::from(s.trim()),
                _ => Value::Null,
            };
        }
    }
    for name in DATES {
        if let Some(value) = out.get_mut(name) {
            if value.as_str().is_none_or(|s| s.trim().is_empty() || s.trim().starts_with(NEVER_PREFIX)) {
                *value = Value::Null;
            }
        }
    }
    Value::Object(out)
}

/// The groups of a `member_of` value: a `;`-joined string (Assumption
/// (FIDELITY.md F-DATA-8): the separator) or an array; `None` when there are none.
fn member_of(value: &Value) -> Option<Vec<String>> {
    let groups: Vec<String> = match value {
        Value::String(s) => s.split(';').map(str::trim).filter(|g| !g.is_empty()).map(str::to_string).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    (!groups.is_empty()).then_some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_shape_of_a_field_comes_out_as_one_type() {
        let documented = json!({"id": 7, "group_id": 3, "manager_user_id": 9, "manager_ad_id": null,
            "role_ids": [1, 2], "member_of": "CN=A,OU=X;CN=B", "last_login": null, "email": "a@b.c",
            "custom_attributes": {"x": null}});
        let varied = json!({"id": "7", "group_id": "3", "manager_user_id": "9", "role_ids": ["1", "2"],
            "member_of": ["CN=A,OU=X", "CN=B"], "last_login": "0001-01-01T00:00:00.000Z", "email": "a@b.c",
            "custom_attributes": {"x": null}});
        assert_eq!(normalize(&documented), normalize(&varied));
        let n = normalize(&varied);
        assert_eq!(n["id"], 7);
        assert_eq!(n["member_of"], json!(["CN=A,OU=X", "CN=B"]));
        assert_eq!(n["last_login"], Value::Null);
        assert_eq!(n["title"], Value::Null, "asked for, not sent: null");
        assert_eq!(normalize(&json!({"manager_ad_id": 12}))["manager_ad_id"], "12");
        assert_eq!(normalize(&json!({"member_of": ""}))["member_of"], Value::Null);
    }

    #[test]
    fn users_without_email_or_username_have_null_there_in_every_shape() {
        for user in [
            json!({"id": 1}),
            json!({"id": 1, "email": null, "username": null}),
            json!({"id": 1, "email": "", "username": "  "}),
        ] {
            let n = normalize(&user);
            assert_eq!(n["email"], Value::Null, "{user}");
            assert_eq!(n["username"], Value::Null, "{user}");
        }
        assert_eq!(normalize(&json!({"email": " a@b.c "}))["email"], "a@b.c");
    }

    #[test]
    fn missing_membership_and_custom_attributes_stay_missing() {
        let n = normalize(&json!({"id": 1}));
        assert!(n.get("role_ids").is_none());
        assert!(n.get("custom_attributes").is_none());
        assert_eq!(normalize(&json!([1])), json!([1]));
    }
}
