//! AWS IAM roles through SAML app rules.
//!
//! An AWS app's rules carry role ARNs in `set_role` actions. A user gets the
//! ARNs of every enabled rule that matches them, on apps they can reach.
//! Conditions are evaluated on the user's own data with three-valued logic:
//! a condition this module cannot evaluate (an unknown source or operator,
//! e.g. `last_login`) is *unknown*, and a rule whose outcome depends on one
//! is reported as undetermined instead of being dropped.

use serde_json::Value;

/// A rule that grants AWS roles.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsRule {
    pub app_id: u64,
    pub rule_id: u64,
    /// `match: all` (else any).
    pub match_all: bool,
    pub conditions: Vec<Condition>,
    /// Role ARNs of its `set_role` actions.
    pub arns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub source: String,
    pub operator: String,
    pub value: String,
}

/// A rule's outcome for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Yes,
    No,
    Unknown,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The role ARNs in a `set_role` value. A value may hold several ARNs
/// (`<role arn>,<saml provider arn>`); since IAM names may contain commas,
/// values are split before each `arn:`, not at every comma. Only `:role/`
/// ARNs are kept; paths and the IAM name characters `+=,.@_-` are kept whole.
pub fn role_arns(value: &str) -> Vec<String> {
    let mut arns = Vec::new();
    let mut rest = value.trim();
    while let Some(tail) = rest.find("arn:").and_then(|start| rest.get(start..)) {
        let end = tail.get(4..).and_then(|t| t.find(",arn:")).map_or(tail.len(), |i| i + 4);
        let (arn, next) = tail.split_at_checked(end).unwrap_or((tail, ""));
        let arn = arn.trim().trim_end_matches(',').trim();
        if is_role_arn(arn) {
            arns.push(arn.to_string());
        }
        rest = next;
    }
    arns
}

/// `arn:<partition>:iam::<12 digits>:role/<path/><name>` with IAM's name characters.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let name_chars = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    partition.starts_with("aws")
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && resource.strip_prefix("role/").is_some_and(|path| path.split('/').all(name_chars))
}

/// Parse one rule object; `None` unless it is enabled and grants role ARNs
/// (a disabled rule never matches, so it grants nothing).
pub fn parse_rule(app_id: u64, rule: &Value) -> Option<AwsRule> {
    if rule.get("enabled").and_then(Value::as_bool) == Some(false) {
        return None;
    }
    let rule_id = crate::vocabulary::id_of(rule)?;
    let mut arns = Vec::new();
    for action in rule.get("actions").and_then(Value::as_array).into_iter().flatten() {
        if action.get("action").and_then(Value::as_str) != Some("set_role") {
            continue;
        }
        let values = match action.get("value") {
            Some(Value::Array(values)) => values.iter().map(text).collect(),
            Some(other) => vec![text(other)],
            None => Vec::new(),
        };
        for value in values {
            for arn in role_arns(&value) {
                if !arns.contains(&arn) {
                    arns.push(arn);
                }
            }
        }
    }
    if arns.is_empty() {
        return None;
    }
    let conditions = rule
        .get("conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| Condition {
            source: c.get("source").map(text).unwrap_or_default(),
            operator: c.get("operator").map(text).unwrap_or_default(),
            value: c.get("value").map(text).unwrap_or_default(),
        })
        .collect();
    let match_all = rule.get("match").and_then(Value::as_str).is_none_or(|m| !m.eq_ignore_ascii_case("any"));
    Some(AwsRule { app_id, rule_id, match_all, conditions, arns })
}

impl Condition {
    /// Whether this module can evaluate the condition at all.
    pub fn evaluable(&self) -> bool {
        let source_known = matches!(self.source.as_str(), "member_of" | "has_role" | "group_id" | "email" | "status")
            || self.source.starts_with("custom_attribute_");
        let operator_known = match self.source.as_str() {
            "has_role" => matches!(self.operator.as_str(), "ri" | "rin"),
            _ => matches!(self.operator.as_str(), "=" | "!=" | "~" | "!~"),
        };
        source_known && operator_known
    }

    /// Evaluate on a v2 user object.
    fn evaluate(&self, user: &Value) -> Truth {
        if !self.evaluable() {
            return Truth::Unknown;
        }
        let wanted = self.value.to_lowercase();
        if self.source == "has_role" {
            let has = crate::vocabulary::id_list(user.get("role_ids")).iter().any(|id| id.to_string() == wanted);
            return to_truth(has == (self.operator == "ri"));
        }
        let actual = match self.source.strip_prefix("custom_attribute_") {
            Some(short) => user.get("custom_attributes").and_then(|c| c.get(short)).map(text),
            None => user.get(self.source.as_str()).map(text),
        }
        .unwrap_or_default()
        .to_lowercase();
        let outcome = match self.operator.as_str() {
            "=" => actual == wanted,
            "!=" => actual != wanted,
            "~" => actual.contains(&wanted),
            _ => !actual.contains(&wanted),
        };
        to_truth(outcome)
    }
}

fn to_truth(yes: bool) -> Truth {
    if yes {
        Truth::Yes
    } else {
        Truth::No
    }
}

impl AwsRule {
    /// Whether the rule matches the user (`all`: every condition; `any`: one).
    pub fn matches(&self, user: &Value) -> Truth {
        if self.conditions.is_empty() {
            return Truth::Yes;
        }
        let outcomes: Vec<Truth> = self.conditions.iter().map(|c| c.evaluate(user)).collect();
        let (decisive, other) = if self.match_all { (Truth::No, Truth::Yes) } else { (Truth::Yes, Truth::No) };
        if outcomes.contains(&decisive) {
            decisive
        } else if outcomes.contains(&Truth::Unknown) {
            Truth::Unknown
        } else {
            other
        }
    }

    /// The conditions that cannot be evaluated, as `source operator value`.
    pub fn unevaluable(&self) -> Vec<String> {
        self.conditions
            .iter()
            .filter(|c| !c.evaluable())
            .map(|c| format!("{} {} {}", c.source, c.operator, c.value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arns_keep_paths_and_iam_characters_and_drop_providers() {
        let value = "arn:aws:iam::123456789012:role/engineering/platform/Deployer,arn:aws:iam::123456789012:saml-provider/OneLogin";
        assert_eq!(role_arns(value), ["arn:aws:iam::123456789012:role/engineering/platform/Deployer"]);
        assert_eq!(
            role_arns("arn:aws:iam::123456789012:role/Ops+Admin=x,y.z@w_v-1"),
            ["arn:aws:iam::123456789012:role/Ops+Admin=x,y.z@w_v-1"]
        );
        assert!(role_arns("arn:aws:iam::12345:role/Short").is_empty());
        assert!(role_arns("nothing here").is_empty());
        assert_eq!(role_arns("arn:aws-us-gov:iam::123456789012:role/A,arn:aws:iam::123456789012:role/B").len(), 2);
    }

    fn rule(matching: &str, conditions: Value, enabled: bool) -> Value {
        json!({"id": 5, "enabled": enabled, "match": matching, "conditions": conditions,
               "actions": [{"action": "set_role", "value": ["arn:aws:iam::123456789012:role/Dev"]}]})
    }

    #[test]
    fn conditions_use_three_valued_logic() {
        let user = json!({"id": 1, "email": "Ada@Example.com", "status": 1, "group_id": 7, "role_ids": [3, 4],
                          "member_of": "CN=Admins,OU=IT", "custom_attributes": {"dept": "Platform"}});
        let check = |matching: &str, conditions: Value| {
            parse_rule(9, &rule(matching, conditions, true)).unwrap().matches(&user)
        };
        assert_eq!(
            check(
                "all",
                json!([{"source":"has_role","operator":"ri","value":"3"},{"source":"email","operator":"~","value":"example.com"}])
            ),
            Truth::Yes
        );
        assert_eq!(check("all", json!([{"source":"has_role","operator":"rin","value":"3"}])), Truth::No);
        assert_eq!(
            check(
                "any",
                json!([{"source":"group_id","operator":"=","value":"8"},{"source":"member_of","operator":"~","value":"cn=admins"}])
            ),
            Truth::Yes
        );
        assert_eq!(
            check(
                "all",
                json!([{"source":"status","operator":"!=","value":"1"},{"source":"last_login","operator":">","value":"90"}])
            ),
            Truth::No
        );
        assert_eq!(
            check(
                "all",
                json!([{"source":"status","operator":"=","value":"1"},{"source":"last_login","operator":">","value":"90"}])
            ),
            Truth::Unknown
        );
        assert_eq!(
            check("any", json!([{"source":"custom_attribute_dept","operator":"=","value":"platform"}])),
            Truth::Yes
        );
        assert_eq!(check("any", json!([])), Truth::Yes);
        assert!(parse_rule(9, &rule("all", json!([]), false)).is_none(), "disabled rules never match");
    }
}
