//! App rules (`GET /api/2/apps/{id}/rules`) and the simulator's own AWS role evaluator.
//!
//! Shapes follow the py-sdk models `AppRule` (`id, name, match, enabled, position,
//! conditions, actions`), `Condition` (`source, operator, value`, all strings) and
//! `ActionObj` (`action, value: [string]`); `expression` (used by `set_groups`) is not
//! in `ActionObj` but is documented for actions, so it is emitted only when set.
//!
//! Generation: every app of the "Amazon Web Services (AWS) Multi Account" connector
//! gets `set_role` rules. Most of their values are one plain role ARN each, as in the
//! one recorded real AWS rule (FIDELITY.md F-RULE-6); a minority are
//! `"<role arn>,<saml provider arn>"` pairs (one with two role ARNs before the
//! provider). Assumption (F-RULE-6): the pair form, which AWS SAML's `Role` attribute
//! and the connector's peers use, was never seen in OneLogin's answers.
//! The first AWS app gets the full set below (covering every supported condition
//! source/operator (`bw` and `ew` too, and the shape of the recorded real AWS rule),
//! `match` all and any, a disabled rule, a rule without conditions, a rule with a
//! `last_login` date condition (undetermined for users who never logged in), role ARNs
//! with IAM paths and the whole IAM role-name character set `+=,.@_-`); other AWS apps
//! get a random subset. A role name may contain a comma (a plain value may hold one),
//! so a value must be split on `,arn:`, never on `,`. Other apps get a few
//! `set_status` / `set_groups` / `set_usertype` rules.
//!
//! Evaluation ([`Tenant::aws_roles`]) uses three-valued logic; see [`eval_condition`]
//! and [`eval_rule`].

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::access::AWS_CONNECTOR_ID;
use super::tenant::{now_millis, parse_iso_millis, Tenant, User};

/// First app rule id.
pub const RULE_ID_BASE: u64 = 800_000;

/// An app rule (py-sdk `AppRule`), plus the app it belongs to.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AppRule {
    pub id: u64,
    /// The app (serialized in the tenant; the rules route leaves it out, see
    /// [`AppRule::api_json`]).
    pub app_id: u64,
    pub name: String,
    /// `"all"` or `"any"`.
    #[serde(rename = "match")]
    pub match_kind: String,
    pub enabled: bool,
    pub position: u32,
    pub conditions: Vec<RuleCondition>,
    pub actions: Vec<RuleAction>,
}

impl AppRule {
    /// The API item: the py-sdk `AppRule` fields (no `app_id`).
    pub fn api_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(obj) = &mut v {
            obj.remove("app_id");
        }
        v
    }
}

/// A rule condition (py-sdk `Condition`): `value` is always a string.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RuleCondition {
    pub source: String,
    pub operator: String,
    pub value: String,
}

/// A rule action (py-sdk `ActionObj`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RuleAction {
    pub action: String,
    pub value: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// Shorthand for a [`RuleCondition`].
pub fn cond(source: &str, operator: &str, value: &str) -> RuleCondition {
    RuleCondition { source: source.to_string(), operator: operator.to_string(), value: value.to_string() }
}

/// Shorthand for a [`RuleAction`] without expression.
pub fn action(name: &str, values: &[&str]) -> RuleAction {
    RuleAction { action: name.to_string(), value: values.iter().map(|v| v.to_string()).collect(), expression: None }
}

/// The value of a three-valued condition or rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    /// The simulator cannot evaluate it (unknown source or operator).
    Unknown,
}

impl From<bool> for Truth {
    fn from(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// The AWS roles of one user, as the simulator's evaluator sees them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AwsRoleTruth {
    /// Role ARNs granted by enabled `set_role` rules that definitely match.
    pub certain: BTreeSet<String>,
    /// Ids of enabled `set_role` rules whose match depends on an unevaluable condition.
    pub undetermined_rules: BTreeSet<u64>,
}

/// A string operator on a string attribute, case-insensitive, as listed by
/// developers.onelogin.com "List Condition Operators": `=`, `!=`, `~`
/// (contains), `!~` (does not contain), `bw` (begins with), `ew` (ends with).
/// Any other operator is unknown.
///
/// Assumption (FIDELITY.md F-RULE-8): case-insensitivity.
fn string_op(attr: &str, operator: &str, value: &str) -> Truth {
    let a = attr.to_lowercase();
    let v = value.to_lowercase();
    match operator {
        "=" => (a == v).into(),
        "!=" => (a != v).into(),
        "~" => a.contains(&v).into(),
        "!~" => (!a.contains(&v)).into(),
        "bw" => a.starts_with(&v).into(),
        "ew" => a.ends_with(&v).into(),
        _ => Truth::Unknown,
    }
}

/// Date sources a condition may compare with `>` / `<` and a number of days.
pub const DATE_SOURCES: [&str; 5] = ["last_login", "created_at", "updated_at", "activated_at", "password_changed_at"];

/// `date > N`: the date lies more than N days before `now_ms`; `< N`: fewer.
/// Unknown without a date (never happened), for another operator or a value that
/// is not a whole number. Assumption (FIDELITY.md F-RULE-12): the docs' example
/// (`last_login` `>` `"90"`) compares days before now.
fn date_op(date: Option<&str>, operator: &str, value: &str, now_ms: i64) -> Truth {
    let (Some(at), Ok(days)) = (date.and_then(parse_iso_millis), value.trim().parse::<i64>()) else {
        return Truth::Unknown;
    };
    let age = now_ms.saturating_sub(at);
    let limit = days.saturating_mul(86_400_000);
    match operator {
        ">" => (age > limit).into(),
        "<" => (age < limit).into(),
        _ => Truth::Unknown,
    }
}

/// `member_of` is a list of groups (`;`-joined here, FIDELITY.md F-DATA-8): a
/// positive operator holds when one group satisfies it, a negative one (`!=`,
/// `!~`) when every group does. No groups compare as one empty text.
fn member_of_op(member_of: Option<&str>, operator: &str, value: &str) -> Truth {
    let groups: Vec<&str> = member_of.map(|m| m.split(';').collect()).unwrap_or_else(|| vec![""]);
    let outcomes: Vec<Truth> = groups.iter().map(|g| string_op(g, operator, value)).collect();
    if outcomes.contains(&Truth::Unknown) {
        Truth::Unknown
    } else if matches!(operator, "!=" | "!~") {
        outcomes.iter().all(|t| *t == Truth::True).into()
    } else {
        outcomes.contains(&Truth::True).into()
    }
}

/// Evaluates one condition for `user` at `now_ms` (unix milliseconds).
///
/// * `has_role`: `ri` (the user is a member of role `value`) / `rin` (is not).
/// * `last_login`, `created_at`, `updated_at`, `activated_at`,
///   `password_changed_at` with `>` / `<` a number of days before now (unknown
///   when the date is null).
/// * `member_of`: per group (see `member_of_op`); the text
///   attributes (`email`, `username`, `firstname`, `lastname`, `title`,
///   `department`, `company`, `phone`, `samaccountname`, `userprincipalname`,
///   `distinguished_name`), the numbers `group_id`, `manager_user_id`
///   (decimal), `status`, `state`, and `custom_attribute_<shortname>`: the
///   string operators `=`, `!=`, `~` contains, `!~` does not contain, `bw`
///   begins with, `ew` ends with, all case-insensitive; unknown when the user
///   has no value there (empty or null: a user without an email or username).
/// * Anything else (e.g. an unknown custom attribute) is [`Truth::Unknown`].
pub fn eval_condition(user: &User, c: &RuleCondition, now_ms: i64) -> Truth {
    let source = c.source.as_str();
    if DATE_SOURCES.contains(&source) {
        let date = match source {
            "last_login" => user.last_login.as_deref(),
            "created_at" => Some(user.created_at.as_str()),
            "updated_at" => Some(user.updated_at.as_str()),
            "activated_at" => user.activated_at.as_deref(),
            _ => user.password_changed_at.as_deref(),
        };
        return date_op(date, &c.operator, &c.value, now_ms);
    }
    if source == "member_of" {
        return member_of_op(user.member_of.as_deref(), &c.operator, c.value.trim());
    }
    if source == "has_role" {
        let Ok(role) = c.value.trim().parse::<u64>() else {
            return Truth::Unknown;
        };
        return match c.operator.as_str() {
            "ri" => user.role_ids.contains(&role).into(),
            "rin" => (!user.role_ids.contains(&role)).into(),
            _ => Truth::Unknown,
        };
    }
    let optional = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let attr = match source {
        "email" => user.email.clone(),
        "username" => user.username.clone(),
        "firstname" => user.firstname.clone(),
        "lastname" => user.lastname.clone(),
        "title" => user.title.clone(),
        "department" => user.department.clone(),
        "company" => user.company.clone(),
        "phone" => user.phone.clone(),
        "samaccountname" => optional(&user.samaccountname),
        "userprincipalname" => optional(&user.userprincipalname),
        "distinguished_name" => optional(&user.distinguished_name),
        "group_id" => number(user.group_id),
        "manager_user_id" => number(user.manager_user_id),
        "status" => user.status.to_string(),
        "state" => user.state.to_string(),
        _ => match source.strip_prefix("custom_attribute_") {
            Some(short) => match user.custom_attributes.get(short) {
                Some(v) => v.clone().unwrap_or_default(),
                None => return Truth::Unknown,
            },
            None => return Truth::Unknown,
        },
    };
    // No value (no email, no username, a null field or custom attribute): no
    // source says how OneLogin compares it. Assumption (FIDELITY.md F-RULE-13):
    // undetermined, whatever the operator.
    if attr.trim().is_empty() {
        return Truth::Unknown;
    }
    string_op(&attr, &c.operator, c.value.trim())
}

/// Evaluates a rule for `user`: a disabled rule never matches; no conditions match;
/// `all` is false if any condition is false, else unknown if any is unknown, else
/// true; `any` is true if any condition is true, else unknown if any is unknown, else
/// false. Any other `match` value is unknown.
pub fn eval_rule(user: &User, rule: &AppRule, now_ms: i64) -> Truth {
    if !rule.enabled {
        return Truth::False;
    }
    if rule.conditions.is_empty() {
        return Truth::True;
    }
    let values: Vec<Truth> = rule.conditions.iter().map(|c| eval_condition(user, c, now_ms)).collect();
    let has = |t: Truth| values.contains(&t);
    match rule.match_kind.as_str() {
        "all" if has(Truth::False) => Truth::False,
        "all" if has(Truth::Unknown) => Truth::Unknown,
        "all" => Truth::True,
        "any" if has(Truth::True) => Truth::True,
        "any" if has(Truth::Unknown) => Truth::Unknown,
        "any" => Truth::False,
        _ => Truth::Unknown,
    }
}

/// The IAM role ARNs in one `set_role` value: the value is split on `,arn:` (a role
/// name may itself contain a comma), and only ARNs with `:role/` are kept (SAML
/// provider ARNs are dropped).
pub fn role_arns(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (k, part) in value.split(",arn:").enumerate() {
        let arn = if k == 0 { part.trim().to_string() } else { format!("arn:{}", part.trim()) };
        if arn.starts_with("arn:") && arn.contains(":role/") {
            out.push(arn);
        }
    }
    out
}

impl Tenant {
    /// The rules of app `app_id`, sorted by position (enabled and disabled).
    pub fn app_rules(&self, app_id: u64) -> &[AppRule] {
        let start = self.rules.partition_point(|r| r.app_id < app_id);
        let end = self.rules.partition_point(|r| r.app_id <= app_id);
        &self.rules[start..end]
    }

    /// Keeps [`Tenant::rules`] sorted by `(app_id, position, id)`, as the lookups need.
    pub fn sort_rules(&mut self) {
        self.rules.sort_by_key(|r| (r.app_id, r.position, r.id));
    }

    /// Ground truth of the AWS IAM roles of user `user_id`, by the simulator's own
    /// evaluator: over the apps the user can use (via a role or directly), every
    /// enabled rule with a `set_role` action is evaluated ([`eval_rule`], now); a true rule
    /// grants the role ARNs of its `set_role` values ([`role_arns`]), an unknown one is
    /// listed in `undetermined_rules`. Empty for an unknown user.
    pub fn aws_roles(&self, user_id: u64) -> AwsRoleTruth {
        let mut truth = AwsRoleTruth::default();
        let Some(user) = self.user(user_id) else {
            return truth;
        };
        for app_id in self.accessible_app_ids(user) {
            for rule in self.app_rules(app_id) {
                let set_roles: Vec<&RuleAction> = rule.actions.iter().filter(|a| a.action == "set_role").collect();
                if set_roles.is_empty() {
                    continue;
                }
                match eval_rule(user, rule, now_millis()) {
                    Truth::True => {
                        for a in set_roles {
                            for v in &a.value {
                                truth.certain.extend(role_arns(v));
                            }
                        }
                    }
                    Truth::Unknown => {
                        truth.undetermined_rules.insert(rule.id);
                    }
                    Truth::False => {}
                }
            }
        }
        truth
    }

    /// Generation step: the rules of every app (see the module docs).
    pub(crate) fn gen_rules(&mut self, rng: &mut ChaCha8Rng) {
        let mut next_id = RULE_ID_BASE + rng.random_range(0..100u64);
        let mut rules = Vec::new();
        let mut first_aws = true;
        let mut first_other = true;
        for k in 0..self.apps.len() {
            let app_id = self.apps[k].id;
            let mut app_rules = if self.apps[k].connector_id == AWS_CONNECTOR_ID {
                let all = self.aws_rule_set(app_id, rng);
                if first_aws {
                    first_aws = false;
                    all
                } else {
                    let mut kept: Vec<AppRule> = all.iter().filter(|_| rng.random_bool(0.5)).cloned().collect();
                    if kept.is_empty() {
                        kept.push(all[4].clone());
                    }
                    kept
                }
            } else {
                let all_kinds = first_other;
                first_other = false;
                other_rules(app_id, all_kinds, rng)
            };
            // Ids follow creation order; positions are a shuffle of 1..=n, so the id
            // order is not the position order.
            let mut positions: Vec<u32> = (1..=app_rules.len() as u32).collect();
            positions.shuffle(rng);
            for (r, p) in app_rules.iter_mut().zip(positions) {
                r.id = next_id;
                r.position = p;
                next_id += rng.random_range(1..=3u64);
            }
            rules.extend(app_rules);
        }
        self.rules = rules;
        self.sort_rules();
    }

    /// The ten AWS rules of app `app_id` (ids and positions set by the caller): nine
    /// plain one-ARN values, three pair-form ones (see the module docs).
    fn aws_rule_set(&self, app_id: u64, rng: &mut ChaCha8Rng) -> Vec<AppRule> {
        let account = rng.random_range(100_000_000_000..1_000_000_000_000u64);
        let other_account = rng.random_range(100_000_000_000..1_000_000_000_000u64);
        let role = |name: &str| format!("arn:aws:iam::{account}:role/{name}");
        let provider = format!("arn:aws:iam::{account}:saml-provider/OneLogin");
        let with_provider = |name: &str| format!("{},{provider}", role(name));

        // Condition values taken from users who can use the app, so rules do match.
        // (Members of the granting role: cheap, unlike scanning every user per app.)
        let granting = self.roles.iter().filter(|r| r.apps.contains(&app_id)).max_by_key(|r| r.users.len());
        let granting_role = granting.map(|r| r.id).unwrap_or_else(|| self.roles.first().map_or(0, |r| r.id));
        let members: &[u64] = granting.map_or(&[], |r| r.users.as_slice());
        let other_role = self.roles.iter().map(|r| r.id).find(|&r| r != granting_role).unwrap_or(granting_role);
        let pick = |rng: &mut ChaCha8Rng| -> Option<&User> {
            if !members.is_empty() {
                self.user(members[rng.random_range(0..members.len())])
            } else if !self.users.is_empty() {
                Some(&self.users[rng.random_range(0..self.users.len())])
            } else {
                None
            }
        };
        let group = pick(rng)
            .and_then(|u| u.group_id)
            .or_else(|| self.groups.first().map(|g| g.id))
            .map(|g| g.to_string())
            .unwrap_or_else(|| "0".to_string());
        let email = pick(rng).map(|u| u.email.clone()).unwrap_or_else(|| "nobody@example.com".to_string());
        // The tail of a member's email (the recorded real rule matches a domain
        // with `ew`) and the head of a member's department (`bw`).
        let email_tail: String = email.chars().rev().take(14).collect::<Vec<_>>().into_iter().rev().collect();
        let department = pick(rng).map(|u| u.department.clone()).unwrap_or_default();
        let department_head: String = department.chars().take(4).collect();

        let rule = |name: &str, match_kind: &str, conditions: Vec<RuleCondition>, values: Vec<String>| AppRule {
            id: 0,
            app_id,
            name: name.to_string(),
            match_kind: match_kind.to_string(),
            enabled: true,
            position: 0,
            conditions,
            actions: vec![RuleAction { action: "set_role".to_string(), value: values, expression: None }],
        };
        let mut disabled =
            rule("Legacy admins (retired)", "all", vec![cond("status", "=", "1")], vec![role("LegacyAdmin")]);
        disabled.enabled = false;
        vec![
            rule(
                "Engineering to Developer",
                "any",
                vec![cond("member_of", "~", "engineering"), cond("group_id", "=", &group)],
                vec![role("Developer")],
            ),
            rule(
                "Platform deployers",
                "all",
                vec![cond("has_role", "ri", &granting_role.to_string()), cond("email", "!~", "bob")],
                // A plain ARN beside a pair of another account's role and provider.
                vec![
                    role("engineering/platform/Deployer"),
                    format!(
                        "arn:aws:iam::{other_account}:role/ReadOnly,arn:aws:iam::{other_account}:saml-provider/OneLogin"
                    ),
                ],
            ),
            rule(
                "Ops admins",
                "all",
                vec![
                    cond("custom_attribute_food", "=", "Pizza"),
                    cond("status", "=", "1"),
                    cond("email", "~", "@EXAMPLE.com"),
                ],
                vec![role("Ops+Admin=x.y@z_w-1")],
            ),
            rule(
                "Break glass",
                "any",
                vec![cond("custom_attribute_cost_center", "~", "cc-15"), cond("email", "=", &email.to_uppercase())],
                // A role name with a comma, alone in its value.
                vec![role("Break,Glass=1.2@x_y-z")],
            ),
            rule("Everyone read-only", "all", Vec::new(), vec![role("EveryoneReadOnly")]),
            // The shape of the one AWS rule in recorded real traffic (graph-onelogin's
            // HAR of `GET /api/2/apps/{id}/rules`): `ew` on email and `ri` on
            // has_role, the ARNs as separate values of a JSON array.
            rule(
                "Recorded: mail domain and role",
                "all",
                vec![cond("email", "ew", &email_tail), cond("has_role", "ri", &granting_role.to_string())],
                vec![role("recorded/DomainA"), role("recorded/DomainB")],
            ),
            rule(
                "Department prefix",
                "any",
                vec![cond("department", "bw", &department_head), cond("title", "ew", "zz-no-such-title")],
                vec![with_provider("DepartmentPrefix")],
            ),
            disabled,
            rule(
                "Stale engineers",
                "all",
                vec![cond("last_login", ">", "90"), cond("member_of", "~", "engineering")],
                vec![role("StaleEngineer")],
            ),
            rule(
                "Auditors",
                "all",
                vec![
                    cond("has_role", "rin", &other_role.to_string()),
                    cond("group_id", "!=", &group),
                    cond("status", "!=", "2"),
                    cond("member_of", "!~", "contractors"),
                ],
                // Two role ARNs and a provider in one value.
                vec![format!("{},{},{provider}", role("audit/Auditor"), role("audit/LogReader"))],
            ),
        ]
    }
}

/// The rules of a non-AWS app (ids and positions set by the caller): one of each kind
/// when `all_kinds` (the first such app), else 0–2 random ones.
fn other_rules(app_id: u64, all_kinds: bool, rng: &mut ChaCha8Rng) -> Vec<AppRule> {
    let kinds: Vec<u8> = if all_kinds {
        vec![0, 1, 2]
    } else {
        (0..rng.random_range(0..=2usize)).map(|_| rng.random_range(0..3u8)).collect()
    };
    let mut out = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let (name, match_kind, conditions, act) = match kind {
            0 => ("Suspend locked users", "all", vec![cond("status", "=", "3")], action("set_status", &["2"])),
            1 => (
                "Send groups",
                "any",
                vec![cond("member_of", "~", "staff"), cond("member_of", "~", "vpn")],
                RuleAction {
                    action: "set_groups".to_string(),
                    value: vec!["member_of".to_string()],
                    expression: Some(".*".to_string()),
                },
            ),
            _ => ("Employees", "all", vec![cond("email", "~", "@example.com")], action("set_usertype", &["Employee"])),
        };
        out.push(AppRule {
            id: 0,
            app_id,
            name: name.to_string(),
            match_kind: match_kind.to_string(),
            enabled: rng.random_bool(0.85),
            position: 0,
            conditions,
            actions: vec![act],
        });
    }
    out
}
