//! The app-rule catalogues: the conditions, operators, condition values, actions and
//! action values a rule of an app may use, as `GET /api/2/apps/{id}/rules/conditions`,
//! `…/rules/conditions/{value}/operators`, `…/rules/conditions/{value}/values`,
//! `…/rules/actions` and `…/rules/actions/{value}/values` list them (routes in
//! [`super::routes::rule_catalog`]).
//!
//! Items are `{name, value}` (developers.onelogin.com app-rules list-conditions,
//! list-condition-operators, list-condition-values, list-actions, list-action-values;
//! py-sdk 4.x `ListConditions200ResponseInner`, `RuleCondition`, `RuleAction`). The
//! conditions and operators listed are the ones [`super::rules::eval_condition`]
//! evaluates, so a rule built from the catalogue is one the simulator's ground truth
//! decides.
//!
//! Documented: the `member_of` operators (names and values), `MemberOf`, custom
//! attributes listed by shortname as `custom_attribute_<shortname>`, the `has_role`
//! values (roles by name, integer ids), `add_role` "Set Role" and its role values,
//! `set_status` "Set Status", a custom attribute's action `set_<shortname>`, and an
//! empty list meaning free text. Assumption (FIDELITY.md F-RULE-14): the other names,
//! which operators the other sources take (the text ones for every text or number
//! source), `group_id` values being the groups, the AWS action's name, the same
//! conditions for every app, and 404 for an unknown condition or action.

use serde_json::{json, Value};

use super::access::AWS_CONNECTOR_ID;
use super::rules::DATE_SOURCES;
use super::tenant::{custom_attribute_display_name, App, Tenant};

/// The text operators: the docs' sample for `member_of`, in its order.
pub const TEXT_OPERATORS: [(&str, &str); 6] = [
    ("equals", "="),
    ("does not equal", "!="),
    ("contains", "~"),
    ("does not contain", "!~"),
    ("begins with", "bw"),
    ("ends with", "ew"),
];

/// `has_role`'s operators (values from the docs' and Terraform's `ri` examples and the
/// simulator's `rin`; names assumed).
pub const ROLE_OPERATORS: [(&str, &str); 2] = [("includes", "ri"), ("does not include", "rin")];

/// The date sources' operators: a number of days before now (docs example
/// `last_login` `>` `"90"`; names assumed).
pub const DATE_OPERATORS: [(&str, &str); 2] = [("more than N days ago", ">"), ("less than N days ago", "<")];

/// The built-in condition sources `(name, value)`, before the custom attributes.
/// `MemberOf` is the docs' sample; the other names are assumed.
pub const BUILTIN_CONDITIONS: [(&str, &str); 22] = [
    ("MemberOf", "member_of"),
    ("Role", "has_role"),
    ("Email", "email"),
    ("Username", "username"),
    ("First Name", "firstname"),
    ("Last Name", "lastname"),
    ("Title", "title"),
    ("Department", "department"),
    ("Company", "company"),
    ("Phone", "phone"),
    ("samAccountName", "samaccountname"),
    ("userPrincipalName", "userprincipalname"),
    ("Distinguished Name", "distinguished_name"),
    ("Group", "group_id"),
    ("Manager", "manager_user_id"),
    ("Status", "status"),
    ("State", "state"),
    ("Last Login", "last_login"),
    ("Created", "created_at"),
    ("Updated", "updated_at"),
    ("Activated", "activated_at"),
    ("Password Changed", "password_changed_at"),
];

/// `[{name, value}]` of string pairs.
fn items(pairs: &[(&str, &str)]) -> Value {
    Value::Array(pairs.iter().map(|(name, value)| json!({"name": name, "value": value})).collect())
}

impl Tenant {
    /// `GET …/rules/conditions`: the built-in sources, then every custom attribute
    /// (the docs: "will also include any Custom Attributes").
    pub fn rule_conditions(&self) -> Value {
        let mut list = items(&BUILTIN_CONDITIONS);
        if let Value::Array(list) = &mut list {
            for short in &self.custom_attribute_names {
                list.push(json!({"name": short, "value": format!("custom_attribute_{short}")}));
            }
        }
        list
    }

    /// Whether `condition` is a condition value of [`Tenant::rule_conditions`].
    fn is_rule_condition(&self, condition: &str) -> bool {
        BUILTIN_CONDITIONS.iter().any(|(_, v)| *v == condition)
            || condition
                .strip_prefix("custom_attribute_")
                .is_some_and(|s| self.custom_attribute_names.iter().any(|n| n == s))
    }

    /// `GET …/rules/conditions/{condition}/operators`; `None` for an unknown condition.
    pub fn rule_condition_operators(&self, condition: &str) -> Option<Value> {
        if !self.is_rule_condition(condition) {
            return None;
        }
        Some(if condition == "has_role" {
            items(&ROLE_OPERATORS)
        } else if DATE_SOURCES.contains(&condition) {
            items(&DATE_OPERATORS)
        } else {
            items(&TEXT_OPERATORS)
        })
    }

    /// `GET …/rules/conditions/{condition}/values`: the roles for `has_role`, the
    /// groups for `group_id`, else `[]` (free text); `None` for an unknown condition.
    pub fn rule_condition_values(&self, condition: &str) -> Option<Value> {
        if !self.is_rule_condition(condition) {
            return None;
        }
        Some(match condition {
            "has_role" => self.roles.iter().map(|r| json!({"name": r.name, "value": r.id})).collect(),
            "group_id" => self.groups.iter().map(|g| json!({"name": g.name, "value": g.id})).collect(),
            _ => Value::Array(Vec::new()),
        })
    }

    /// `GET …/rules/actions` of `app`: `add_role` and `set_status` (the docs'
    /// sample), the actions the simulator's rules of such an app use (`set_role`
    /// for an AWS Multi Account app, else `set_groups` and `set_usertype`), then
    /// `set_<shortname>` for every custom attribute.
    pub fn rule_actions(&self, app: &App) -> Value {
        let mut pairs: Vec<(String, String)> =
            vec![("Set Role".into(), "add_role".into()), ("Set Status".into(), "set_status".into())];
        if app.connector_id == AWS_CONNECTOR_ID {
            pairs.push(("Set AWS Role".into(), "set_role".into()));
        } else {
            pairs.push(("Set Groups".into(), "set_groups".into()));
            pairs.push(("Set Usertype".into(), "set_usertype".into()));
        }
        for short in &self.custom_attribute_names {
            pairs.push((format!("Set {}", custom_attribute_display_name(short)), format!("set_{short}")));
        }
        Value::Array(pairs.into_iter().map(|(name, value)| json!({"name": name, "value": value})).collect())
    }

    /// `GET …/rules/actions/{action}/values` of `app`: the roles for `add_role`, else
    /// `[]` (free text, role ARNs included); `None` for an action `app` does not list.
    pub fn rule_action_values(&self, app: &App, action: &str) -> Option<Value> {
        let listed = match self.rule_actions(app) {
            Value::Array(list) => list.iter().any(|a| a["value"] == action),
            _ => false,
        };
        if !listed {
            return None;
        }
        Some(match action {
            "add_role" => self.roles.iter().map(|r| json!({"name": r.name, "value": r.id})).collect(),
            _ => Value::Array(Vec::new()),
        })
    }
}
