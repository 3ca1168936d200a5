//! AWS IAM roles through SAML app rules.
//!
//! An AWS app's rules carry role ARNs in `set_role` actions. A user gets the
//! ARNs of every enabled rule that matches them, on apps they can reach.
//! Conditions are evaluated on the user's own data with three-valued logic:
//! a condition this module cannot evaluate (an unknown source or operator,
//! a date compared without a clock, a user who never logged in) is
//! *unknown*, and a rule whose outcome depends on one is reported as
//! undetermined instead of being dropped.

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

/// User fields a condition may compare as text, besides `member_of` and
/// custom attributes (developers.onelogin.com "List Conditions": the builtin
/// sources are user attributes).
const TEXT_SOURCES: [&str; 15] = [
    "email",
    "username",
    "firstname",
    "lastname",
    "title",
    "department",
    "company",
    "phone",
    "status",
    "state",
    "group_id",
    "manager_user_id",
    "samaccountname",
    "userprincipalname",
    "distinguished_name",
];

/// The text operators OneLogin documents for conditions (developers.onelogin.com
/// "List Condition Operators": equals, does not equal, contains, does not
/// contain, begins with, ends with). Comparison ignores case.
fn text_operator(operator: &str) -> Option<fn(&str, &str) -> bool> {
    Some(match operator {
        "=" => |a, v| a == v,
        "!=" => |a, v| a != v,
        "~" => |a, v| a.contains(v),
        "!~" => |a, v| !a.contains(v),
        "bw" => |a, v| a.starts_with(v),
        "ew" => |a, v| a.ends_with(v),
        _ => return None,
    })
}

/// Date sources a condition may compare with `>` / `<` against a number of
/// days (the docs' example: `last_login` `>` `"90"`).
const DATE_SOURCES: [&str; 5] = ["last_login", "created_at", "updated_at", "activated_at", "password_changed_at"];

/// `source > N` (the date lies more than N days before now) or `< N` (fewer
/// than N days before now). Assumption (FIDELITY.md F-RULE-12): the value is
/// a number of days before now; no source lists the date operators' meaning.
fn date_operator(operator: &str) -> Option<fn(i64, i64) -> bool> {
    Some(match operator {
        ">" => |age, limit| age > limit,
        "<" => |age, limit| age < limit,
        _ => return None,
    })
}

/// Whether a text operator asks that *no* value match (for multi-valued
/// `member_of`).
fn negative(operator: &str) -> bool {
    matches!(operator, "!=" | "!~")
}

impl Condition {
    /// Whether this module can evaluate the condition at all.
    pub fn evaluable(&self) -> bool {
        match self.source.as_str() {
            "has_role" => matches!(self.operator.as_str(), "ri" | "rin"),
            source if DATE_SOURCES.contains(&source) => {
                date_operator(&self.operator).is_some() && self.value.trim().parse::<i64>().is_ok()
            }
            source => {
                let known =
                    source == "member_of" || TEXT_SOURCES.contains(&source) || source.starts_with("custom_attribute_");
                known && text_operator(&self.operator).is_some()
            }
        }
    }

    /// Evaluate on a (normalised) v2 user object at `now` (unix seconds,
    /// OneLogin's clock). Data the user object does not carry (no
    /// `role_ids`, a custom attribute missing, no date) and a date compared
    /// without a clock make the condition unknown, never false.
    fn evaluate(&self, user: &Value, now: Option<i64>) -> Truth {
        if !self.evaluable() {
            return Truth::Unknown;
        }
        if let Some(compare) =
            DATE_SOURCES.contains(&self.source.as_str()).then(|| date_operator(&self.operator)).flatten()
        {
            let at = user.get(self.source.as_str()).and_then(Value::as_str).and_then(crate::time::parse_iso);
            let (Some(at), Some(now), Ok(days)) = (at, now, self.value.trim().parse::<i64>()) else {
                return Truth::Unknown;
            };
            return to_truth(compare(now.saturating_sub(at), days.saturating_mul(86_400)));
        }
        let wanted = self.value.to_lowercase();
        if self.source == "has_role" {
            let Some(role_ids) = user.get("role_ids").or_else(|| user.get("role_id")) else { return Truth::Unknown };
            let has = crate::vocabulary::id_list(Some(role_ids)).iter().any(|id| id.to_string() == wanted);
            return to_truth(has == (self.operator == "ri"));
        }
        let field = match self.source.strip_prefix("custom_attribute_") {
            Some(short) => user.get("custom_attributes").and_then(|c| c.get(short)),
            None => user.get(self.source.as_str()),
        };
        let Some(field) = field else { return Truth::Unknown };
        let Some(test) = text_operator(&self.operator) else { return Truth::Unknown };
        // No value (a user without an email, username, title, a null custom
        // attribute): no source says how OneLogin compares it, so the
        // condition is undetermined, neither "no" nor "yes". Assumption
        // (FIDELITY.md F-RULE-13). `member_of` keeps its own rule below.
        if self.source != "member_of" && text(field).is_empty() {
            return Truth::Unknown;
        }
        // `member_of` may come as one string or as a list of groups.
        let values: Vec<String> = match field {
            Value::Array(items) => items.iter().map(|v| text(v).to_lowercase()).collect(),
            other => vec![text(other).to_lowercase()],
        };
        let outcome = if negative(&self.operator) {
            values.iter().all(|v| test(v, &wanted))
        } else {
            values.iter().any(|v| test(v, &wanted))
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
    /// Whether the rule matches the user (`all`: every condition; `any`: one)
    /// at `now` (unix seconds; `None` when OneLogin's clock is unknown).
    pub fn matches(&self, user: &Value, now: Option<i64>) -> Truth {
        if self.conditions.is_empty() {
            return Truth::Yes;
        }
        let outcomes: Vec<Truth> = self.conditions.iter().map(|c| c.evaluate(user, now)).collect();
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
            parse_rule(9, &rule(matching, conditions, true)).unwrap().matches(&user, None)
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

    #[test]
    fn the_recorded_real_aws_rule_is_evaluated() {
        // graph-onelogin's recorded `GET /api/2/apps/{id}/rules`: `ew` on email,
        // `ri` on has_role, ARNs as a JSON array.
        let real = json!({"id": 1, "match": "all", "enabled": true, "position": 1,
            "conditions": [{"source": "email", "operator": "ew", "value": "gmail.com"},
                           {"source": "has_role", "operator": "ri", "value": "310"}],
            "actions": [{"action": "set_role", "value": ["arn:aws:iam::123456789012:role/A",
                                                        "arn:aws:iam::123456789012:role/B"]}]});
        let rule = parse_rule(9, &real).unwrap();
        assert_eq!(rule.arns.len(), 2);
        assert!(rule.unevaluable().is_empty());
        assert_eq!(rule.matches(&json!({"email": "X@Gmail.com", "role_ids": [310]}), None), Truth::Yes);
        assert_eq!(rule.matches(&json!({"email": "x@corp.com", "role_ids": [310]}), None), Truth::No);
        assert_eq!(rule.matches(&json!({"email": "x@gmail.com"}), None), Truth::Unknown, "no role_ids: not decided");
        // A user without an email: neither "no" nor "yes", whatever the operator.
        for operator in ["=", "!=", "~", "!~", "bw", "ew"] {
            let rule = parse_rule(
                9,
                &json!({"id": 1, "enabled": true, "match": "all",
                    "conditions": [{"source": "email", "operator": operator, "value": "gmail.com"}],
                    "actions": [{"action": "set_role", "value": ["arn:aws:iam::123456789012:role/Dev"]}]}),
            )
            .unwrap();
            for user in [json!({"email": null}), json!({"email": ""}), json!({})] {
                assert_eq!(rule.matches(&user, None), Truth::Unknown, "{operator} on {user}");
            }
        }
    }

    #[test]
    fn every_documented_text_operator_and_missing_data() {
        let user = json!({"department": "Platform Engineering", "member_of": ["CN=Admins,OU=IT", "CN=Dev"],
                          "custom_attributes": {"dept": null}});
        let eval = |source: &str, operator: &str, value: &str| {
            Condition { source: source.into(), operator: operator.into(), value: value.into() }.evaluate(&user, None)
        };
        assert_eq!(eval("department", "bw", "platform"), Truth::Yes);
        assert_eq!(eval("department", "ew", "engineering"), Truth::Yes);
        assert_eq!(eval("department", "bw", "engineering"), Truth::No);
        assert_eq!(eval("member_of", "=", "cn=dev"), Truth::Yes, "any group of a list");
        assert_eq!(eval("member_of", "!~", "admins"), Truth::No, "no group may contain it");
        // No value (null or blank): how OneLogin compares it is unknown (F-RULE-13).
        assert_eq!(eval("custom_attribute_dept", "=", ""), Truth::Unknown, "null is no value");
        assert_eq!(eval("custom_attribute_dept", "!=", "x"), Truth::Unknown, "null is no value");
        assert_eq!(eval("custom_attribute_site", "!=", "x"), Truth::Unknown, "missing is not empty");
        assert_eq!(eval("title", "!=", "x"), Truth::Unknown, "a field the object lacks");
        assert_eq!(eval("department", ">", "3"), Truth::Unknown, "not a text operator");
    }

    #[test]
    fn date_conditions_count_days_before_onelogin_s_clock() {
        let now = crate::time::parse_iso("2026-12-01T00:00:00Z");
        let user = json!({"last_login": "2026-08-01T00:00:00.000Z", "created_at": "2026-11-30T00:00:00Z",
                          "activated_at": null});
        let eval = |source: &str, operator: &str, value: &str, now: Option<i64>| {
            Condition { source: source.into(), operator: operator.into(), value: value.into() }.evaluate(&user, now)
        };
        assert_eq!(eval("last_login", ">", "90", now), Truth::Yes, "122 days ago");
        assert_eq!(eval("last_login", "<", "90", now), Truth::No);
        assert_eq!(eval("last_login", ">", "200", now), Truth::No);
        assert_eq!(eval("created_at", "<", "7", now), Truth::Yes);
        assert_eq!(eval("last_login", ">", "90", None), Truth::Unknown, "no clock: undetermined");
        assert_eq!(eval("activated_at", ">", "1", now), Truth::Unknown, "never: undetermined");
        assert_eq!(eval("password_changed_at", ">", "1", now), Truth::Unknown, "missing: undetermined");
        let odd = Condition { source: "last_login".into(), operator: ">".into(), value: "soon".into() };
        assert!(!odd.evaluable());
        let odd = Condition { source: "last_login".into(), operator: "=".into(), value: "5".into() };
        assert!(!odd.evaluable());
    }
}
