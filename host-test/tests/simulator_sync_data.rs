//! Integration tests for the simulator data a full sync reads beyond users, groups and
//! roles: custom attributes, user apps and provisioning states, app rules and the AWS
//! role evaluator, role admins, privileges, events, MFA device counts, and the
//! test-support helpers (`Simulator::update_tenant`, ground truth).

use std::collections::{BTreeMap, BTreeSet};

use host_test::simulator::events::{EVENT_ASSIGNED_ROLE, EVENT_LOGGED_INTO_APP, EVENT_UPDATED, GENERATED_EVENT_TYPES};
use host_test::simulator::rules::{action, cond, eval_condition, eval_rule, role_arns, RULE_ID_BASE};
use host_test::simulator::tenant::{iso_millis, now_millis, parse_iso_millis};
use host_test::simulator::{
    limits, AppProvisioning, AppRule, Event, Simulator, SimulatorConfig, Tenant, Truth, User, PROVISIONING_STATES,
    PROVISIONING_STATUSES,
};
use serde_json::{json, Value};

mod http_client;

use http_client::*;

async fn start(users: usize) -> Simulator {
    Simulator::start(SimulatorConfig { users, rate_limit_per_hour: None, ..SimulatorConfig::default() }).await.unwrap()
}

async fn manage(sim: &Simulator) -> String {
    token_for(sim, &sim.manage_credentials()).await
}

const PAGINATION_HEADERS: [&str; 7] =
    ["total-count", "total-pages", "current-page", "page-items", "after-cursor", "before-cursor", "link"];

// ---------- custom attributes ----------

#[tokio::test]
async fn custom_attributes_v2_objects_and_v1_nested_list() {
    let sim = start(5).await;
    let token = manage(&sim).await;
    let r = get(&sim, &token, "/api/2/users/custom_attributes").await;
    assert_eq!(r.status, 200);
    assert!(r.header("total-count").is_none());
    let v = r.json();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 3);
    for item in items {
        let obj = item.as_object().unwrap();
        assert_eq!(
            obj.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            BTreeSet::from(["id", "name", "shortname"])
        );
        assert!(item["id"].is_u64() && item["name"].is_string() && item["shortname"].is_string());
    }
    assert_eq!(items[0]["shortname"], "employee_number");
    assert_eq!(items[0]["name"], "Employee Number");

    let v1 = get(&sim, &token, "/api/1/users/custom_attributes").await.json();
    assert_eq!(v1["status"]["code"], 200);
    assert_eq!(v1["data"], json!([["employee_number", "cost_center", "food"]]));
}

// ---------- user apps ----------

#[tokio::test]
async fn every_provisioning_state_occurs_at_200_users_and_matches_the_truth() {
    let sim = start(200).await;
    let token = manage(&sim).await;
    let tenant = sim.tenant();
    let mut states = BTreeSet::new();
    let mut statuses = BTreeSet::new();
    let mut direct_only = 0;
    for u in &tenant.users {
        let r = get(&sim, &token, &format!("/api/2/users/{}/apps?ignore_visibility=true", u.id)).await;
        assert_eq!(r.status, 200);
        for h in PAGINATION_HEADERS {
            assert!(r.header(h).is_none(), "{h}");
        }
        // Personal apps (`personal: true`, FIDELITY.md F-APP-16) come after the
        // assigned ones; they are checked in `data_model.rs`.
        let all = r.json();
        let items: Vec<&Value> = all.as_array().unwrap().iter().filter(|a| a.get("personal").is_none()).collect();
        let truth = tenant.user_apps(u.id);
        let got: Vec<u64> = items.iter().map(|a| a["id"].as_u64().unwrap()).collect();
        assert_eq!(got, truth.iter().map(|a| a.app_id).collect::<Vec<_>>(), "user {}", u.id);
        for (item, t) in items.iter().zip(&truth) {
            let keys: BTreeSet<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                BTreeSet::from([
                    "id",
                    "icon_url",
                    "extension",
                    "login_id",
                    "name",
                    "provisioning_status",
                    "provisioning_state",
                    "provisioning_enabled"
                ])
            );
            assert_eq!(item["provisioning_state"], t.provisioning_state.as_str());
            assert_eq!(item["provisioning_status"], t.provisioning_status.as_str());
            assert!(item["login_id"].is_u64() && item["extension"].is_boolean());
            assert!(PROVISIONING_STATUSES.contains(&t.provisioning_status.as_str()));
            states.insert(t.provisioning_state.clone());
            statuses.insert(t.provisioning_status.clone());
            if t.direct && t.via_role_ids.is_empty() {
                direct_only += 1;
            }
        }
    }
    for s in PROVISIONING_STATES {
        assert!(states.contains(s), "provisioning_state {s} missing");
    }
    for s in PROVISIONING_STATUSES {
        assert!(statuses.contains(s), "provisioning_status {s} missing");
    }
    assert!(direct_only > 0, "some app is assigned directly and through no role");
}

#[tokio::test]
async fn user_apps_hide_invisible_apps_unless_ignore_visibility_and_v1_quirks() {
    let sim = start(60).await;
    let token = manage(&sim).await;
    // A user with a direct assignment of an invisible app and of a provisioning app.
    let (uid, hidden, prov) = sim.update_tenant(|t| {
        let hidden = t.apps[0].id;
        t.apps[0].visible = false;
        t.apps[0].provisioning_enabled = false;
        let prov = t.apps[1].id;
        t.apps[1].visible = true;
        t.apps[1].provisioning_enabled = true;
        let u = &mut t.users[3];
        u.direct_apps = vec![hidden, prov];
        u.app_states.insert(prov, AppProvisioning::new("provisioning_pending_approval"));
        (u.id, hidden, prov)
    });
    let default = get(&sim, &token, &format!("/api/2/users/{uid}/apps")).await.json();
    let ids: Vec<u64> = default.as_array().unwrap().iter().map(|a| a["id"].as_u64().unwrap()).collect();
    assert!(!ids.contains(&hidden) && ids.contains(&prov));
    let all = get(&sim, &token, &format!("/api/2/users/{uid}/apps?ignore_visibility=true")).await.json();
    let hidden_item = all.as_array().unwrap().iter().find(|a| a["id"] == hidden).unwrap();
    assert_eq!(hidden_item["provisioning_state"], "unknown");
    assert_eq!(hidden_item["provisioning_enabled"], false);
    let prov_item = all.as_array().unwrap().iter().find(|a| a["id"] == prov).unwrap();
    assert_eq!(prov_item["provisioning_state"], "provisioning_pending_approval");
    assert_eq!(prov_item["provisioning_status"], "enabling_pending_approval");

    let v1 = get(&sim, &token, &format!("/api/1/users/{uid}/apps?ignore_visibility=true")).await.json();
    assert_eq!(v1["status"]["error"], false);
    let item = v1["data"].as_array().unwrap().iter().find(|a| a["id"] == prov).unwrap().clone();
    assert_eq!(item["provisioned"], "pending");
    assert_eq!(item["personal"], false);
    for k in ["id", "name", "icon", "provisioned", "extension", "login_id", "personal"] {
        assert!(item.get(k).is_some(), "{k}");
    }

    // A user without apps: v1 answers `"data":[[]]`, v2 `[]`.
    let created =
        with_body(&sim, &token, "POST", "/api/2/users?mappings=disabled", r#"{"email":"noapps@example.com"}"#)
            .await
            .json();
    let nid = created["id"].as_u64().unwrap();
    let v1 = get(&sim, &token, &format!("/api/1/users/{nid}/apps")).await.json();
    assert_eq!(v1["data"], json!([[]]));
    assert_eq!(get(&sim, &token, &format!("/api/2/users/{nid}/apps")).await.json(), json!([]));
    assert_eq!(get(&sim, &token, "/api/2/users/1/apps").await.status, 404);
    assert_eq!(get(&sim, &token, "/api/1/users/1/apps").await.json()["status"]["code"], 404);
}

#[tokio::test]
async fn app_users_include_direct_assignments() {
    let sim = start(40).await;
    let token = manage(&sim).await;
    let t = sim.tenant();
    let (u, app) = t.users.iter().find_map(|u| u.direct_apps.first().map(|a| (u.id, *a))).unwrap();
    let users = get(&sim, &token, &format!("/api/2/apps/{app}/users")).await.json();
    assert!(users.as_array().unwrap().iter().any(|x| x["id"] == u));
}

// ---------- roles ----------

#[tokio::test]
async fn roles_carry_apps_and_role_admins_paginate_like_role_users() {
    let sim = start(30).await;
    let token = manage(&sim).await;
    let t = sim.tenant();
    let roles = get(&sim, &token, "/api/2/roles").await.json();
    for (item, role) in roles.as_array().unwrap().iter().zip(&t.roles) {
        assert_eq!(item["apps"], json!(role.apps));
    }
    let by_name = get(&sim, &token, &format!("/api/2/roles?role_name={}", t.roles[2].name.replace(' ', "%20"))).await;
    assert!(by_name.json().as_array().unwrap().iter().any(|r| r["id"] == t.roles[2].id));

    // Every user an admin of one role: a second page with `limit=20`, and `limit` capped.
    let rid = t.roles[0].id;
    let ids: Vec<u64> = t.users.iter().map(|u| u.id).collect();
    sim.update_tenant(|t| t.add_to_role(rid, &ids, true));
    let first = get(&sim, &token, &format!("/api/2/roles/{rid}/admins")).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("total-count"), Some("30"));
    let items = first.json();
    let item = &items[0];
    for k in ["id", "name", "username", "email", "added_by", "added_at", "assigned"] {
        assert!(item.get(k).is_some(), "{k}");
    }
    assert_eq!(limits::ROLE_ADMINS, 100);
    let page = get(&sim, &token, &format!("/api/2/roles/{rid}/admins?limit=20")).await;
    assert_eq!(page.json().as_array().unwrap().len(), 20);
    let cursor = page.header("after-cursor").unwrap().to_string();
    let rest = get(&sim, &token, &format!("/api/2/roles/{rid}/admins?cursor={cursor}")).await;
    assert_eq!(rest.json().as_array().unwrap().len(), 10);
    assert!(rest.header("after-cursor").is_none());
    let capped = get(&sim, &token, &format!("/api/2/roles/{rid}/admins?limit=500")).await;
    assert_eq!(capped.header("page-items"), Some("30"));
    // Adding admins logged one event per new admin, naming the role.
    let new_admins = 30 - t.roles[0].admins.len();
    let logged = sim
        .tenant()
        .events
        .iter()
        .filter(|e| e.id > t.events.last().unwrap().id && e.event_type_id == EVENT_UPDATED && e.role_id == Some(rid))
        .count();
    assert_eq!(logged, new_admins);
}

// ---------- app rules ----------

#[tokio::test]
async fn rules_default_to_enabled_only_and_enabled_false_lists_only_disabled() {
    let sim = start(50).await;
    let token = manage(&sim).await;
    let t = sim.tenant();
    let aws = t.apps.iter().find(|a| a.connector_id == 29_024).unwrap();
    let all = t.app_rules(aws.id);
    assert!(all.iter().any(|r| r.enabled) && all.iter().any(|r| !r.enabled));

    let r = get(&sim, &token, &format!("/api/2/apps/{}/rules", aws.id)).await;
    assert_eq!(r.status, 200);
    for h in PAGINATION_HEADERS {
        assert!(r.header(h).is_none(), "{h}");
    }
    let enabled = r.json();
    let enabled = enabled.as_array().unwrap();
    assert_eq!(enabled.len(), all.iter().filter(|x| x.enabled).count());
    assert!(enabled.iter().all(|x| x["enabled"] == true));
    let positions: Vec<u64> = enabled.iter().map(|x| x["position"].as_u64().unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "sorted by position: {positions:?}");
    let item = enabled.iter().find(|x| x["actions"][0]["action"] == "set_role").unwrap();
    let keys: BTreeSet<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["id", "name", "match", "enabled", "position", "conditions", "actions"]));
    assert!(item["conditions"].as_array().unwrap().iter().all(|c| c["value"].is_string()));
    assert!(item["actions"][0]["value"].as_array().unwrap().iter().all(Value::is_string));

    let disabled = get(&sim, &token, &format!("/api/2/apps/{}/rules?enabled=false", aws.id)).await.json();
    let disabled = disabled.as_array().unwrap();
    assert_eq!(disabled.len(), all.iter().filter(|x| !x.enabled).count());
    assert!(disabled.iter().all(|x| x["enabled"] == false));
    let explicit = get(&sim, &token, &format!("/api/2/apps/{}/rules?enabled=true", aws.id)).await.json();
    assert_eq!(explicit.as_array().unwrap().len(), enabled.len());

    let one = get(&sim, &token, &format!("/api/2/apps/{}/rules/{}", aws.id, disabled[0]["id"])).await;
    assert_eq!(one.json(), disabled[0]);
    let missing = get(&sim, &token, "/api/2/apps/1/rules").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["name"], "NotFoundError");
}

/// `[(name, value)]` of a catalogue answer, values as text.
fn pairs(list: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    list.as_array().unwrap().iter().map(|i| (text(&i["name"]), text(&i["value"]))).collect()
}

#[tokio::test]
async fn rule_catalogues_list_what_the_rules_use_and_the_evaluator_decides() {
    let sim = start(200).await;
    let token = manage(&sim).await;
    let t = sim.tenant();
    let aws = t.apps.iter().find(|a| a.connector_id == 29_024).unwrap();
    let base = format!("/api/2/apps/{}/rules", aws.id);

    // Conditions: the documented `MemberOf`, then every custom attribute by shortname.
    let r = get(&sim, &token, &format!("{base}/conditions")).await;
    assert_eq!(r.status, 200);
    for h in PAGINATION_HEADERS {
        assert!(r.header(h).is_none(), "{h}");
    }
    let conditions = pairs(&r.json());
    assert!(conditions.contains(&("MemberOf".into(), "member_of".into())));
    for short in &t.custom_attribute_names {
        assert!(conditions.contains(&(short.clone(), format!("custom_attribute_{short}"))), "{short}");
    }
    // Every source the generated rules use is listed.
    for c in t.rules.iter().flat_map(|r| &r.conditions) {
        assert!(conditions.iter().any(|(_, v)| *v == c.source), "{} not listed", c.source);
    }

    // Operators: the docs' sample for `member_of`, exactly.
    let member_of = get(&sim, &token, &format!("{base}/conditions/member_of/operators")).await.json();
    assert_eq!(
        member_of,
        json!([{"name":"equals","value":"="},{"name":"does not equal","value":"!="},{"name":"contains","value":"~"},
               {"name":"does not contain","value":"!~"},{"name":"begins with","value":"bw"},
               {"name":"ends with","value":"ew"}])
    );
    // Every listed operator of every listed condition is one the evaluator decides
    // for some user, and every operator the generated rules use is listed.
    let role = t.roles.iter().find(|r| !r.users.is_empty()).unwrap().id.to_string();
    let now = now_millis();
    for (_, source) in &conditions {
        let r = get(&sim, &token, &format!("{base}/conditions/{source}/operators")).await;
        assert_eq!(r.status, 200, "{source}");
        let operators = pairs(&r.json());
        assert!(!operators.is_empty(), "{source}");
        for c in t.rules.iter().flat_map(|r| &r.conditions).filter(|c| c.source == *source) {
            assert!(operators.iter().any(|(_, o)| *o == c.operator), "{source} {} not listed", c.operator);
        }
        let value = match source.as_str() {
            "has_role" => role.as_str(),
            "last_login" | "created_at" | "updated_at" | "activated_at" | "password_changed_at" => "90",
            _ => "a",
        };
        for (_, op) in &operators {
            let decided = t.users.iter().any(|u| eval_condition(u, &cond(source, op, value), now) != Truth::Unknown);
            assert!(decided, "{source} {op} {value}: undetermined for every user");
        }
    }

    // Values: roles (integer ids) for `has_role`, free text (empty) for `email`.
    let roles = get(&sim, &token, &format!("{base}/conditions/has_role/values")).await.json();
    let expected: Vec<Value> = t.roles.iter().map(|r| json!({"name": r.name, "value": r.id})).collect();
    assert_eq!(roles, Value::Array(expected.clone()));
    assert_eq!(get(&sim, &token, &format!("{base}/conditions/email/values")).await.json(), json!([]));

    // Actions: the docs' `add_role` and `set_status`, and every action the app's rules use.
    for app in &t.apps {
        let actions = pairs(&get(&sim, &token, &format!("/api/2/apps/{}/rules/actions", app.id)).await.json());
        assert!(actions.contains(&("Set Status".into(), "set_status".into())));
        for a in t.app_rules(app.id).iter().flat_map(|r| &r.actions) {
            assert!(actions.iter().any(|(_, v)| *v == a.action), "app {}: {} not listed", app.id, a.action);
        }
    }
    let add_role = get(&sim, &token, &format!("{base}/actions/add_role/values")).await.json();
    assert_eq!(add_role, Value::Array(expected));
    assert_eq!(get(&sim, &token, &format!("{base}/actions/set_role/values")).await.json(), json!([]));

    // Unknown app, condition or action: 404; Read All may not read them.
    for path in [
        "/api/2/apps/1/rules/conditions".to_string(),
        format!("{base}/conditions/no_such_source/operators"),
        format!("{base}/conditions/custom_attribute_no_such/values"),
        format!("{base}/actions/no_such_action/values"),
    ] {
        let r = get(&sim, &token, &path).await;
        assert_eq!((r.status, r.json()["name"].clone()), (404, json!("NotFoundError")), "{path}");
    }
    let read_all = token_for(&sim, &sim.read_credentials()).await;
    assert_eq!(get(&sim, &read_all, &format!("{base}/conditions")).await.status, 403);
}

#[tokio::test]
async fn generated_rules_cover_every_condition_kind_and_the_arn_formats() {
    for n in [1usize, 2, 50, 200] {
        let t = Tenant::generate(n, 9);
        let aws: Vec<u64> = t.apps.iter().filter(|a| a.connector_id == 29_024).map(|a| a.id).collect();
        assert!(!aws.is_empty(), "N={n}: an AWS Multi Account app");
        let rules = t.app_rules(aws[0]);
        let pairs: BTreeSet<(String, String)> = rules
            .iter()
            .flat_map(|r| &r.conditions)
            .map(|c| {
                let source = if c.source.starts_with("custom_attribute_") { "custom_attribute_*" } else { &c.source };
                (source.to_string(), c.operator.clone())
            })
            .collect();
        for (s, o) in [
            ("member_of", "~"),
            ("member_of", "!~"),
            ("has_role", "ri"),
            ("has_role", "rin"),
            ("group_id", "="),
            ("group_id", "!="),
            ("email", "="),
            ("email", "~"),
            ("email", "!~"),
            ("status", "="),
            ("status", "!="),
            ("custom_attribute_*", "="),
            ("custom_attribute_*", "~"),
            ("last_login", ">"),
        ] {
            assert!(pairs.contains(&(s.to_string(), o.to_string())), "N={n}: {s} {o}");
        }
        assert!(rules.iter().any(|r| r.match_kind == "all") && rules.iter().any(|r| r.match_kind == "any"));
        assert!(rules.iter().any(|r| !r.enabled && r.actions.iter().any(|a| a.action == "set_role")));
        assert!(rules.iter().any(|r| r.enabled && r.conditions.is_empty()));
        let values: Vec<&String> = rules.iter().flat_map(|r| &r.actions).flat_map(|a| &a.value).collect();
        // Most values are one plain role ARN, as in the recorded real rule; a
        // minority pair roles with a SAML provider (FIDELITY.md F-RULE-6).
        let plain: Vec<&&String> = values.iter().filter(|v| role_arns(v).as_slice() == [v.to_string()]).collect();
        let paired = values.iter().filter(|v| v.contains(",arn:aws:iam::") && v.contains(":saml-provider/")).count();
        assert!(paired > 0 && plain.len() >= 2 * paired, "N={n}: {} plain, {paired} paired", plain.len());
        assert_eq!(plain.len() + paired, values.len(), "N={n}: {values:?}");
        assert!(plain.iter().any(|v| v.ends_with(":role/engineering/platform/Deployer")));
        assert!(plain.iter().any(|v| v.ends_with(":role/Ops+Admin=x.y@z_w-1")));
        assert!(values.iter().any(|v| v.contains(":role/ReadOnly,arn:aws:iam::")));
        assert!(values.iter().any(|v| role_arns(v).len() == 2), "two roles and a provider in one value");
        let comma = plain.iter().find(|v| v.contains("role/Break,Glass")).unwrap();
        assert!(!comma.contains("saml-provider"));
        assert!(rules.iter().all(|r| r.id >= RULE_ID_BASE));
        if n >= 50 {
            let others: BTreeSet<&str> = t
                .rules
                .iter()
                .filter(|r| !aws.contains(&r.app_id))
                .flat_map(|r| &r.actions)
                .map(|a| a.action.as_str())
                .collect();
            assert!(others.contains("set_status") && others.contains("set_groups") && others.contains("set_usertype"));
        }
    }
    // The evaluable conditions match real users, and some users are undetermined.
    let t = Tenant::generate(200, 9);
    let truths: Vec<_> = t.users.iter().map(|u| t.aws_roles(u.id)).collect();
    let certain: BTreeSet<&String> = truths.iter().flat_map(|x| &x.certain).collect();
    for suffix in [
        "role/Developer",
        "role/engineering/platform/Deployer",
        "role/EveryoneReadOnly",
        "role/audit/Auditor",
        "role/ReadOnly",
    ] {
        assert!(certain.iter().any(|a| a.ends_with(suffix)), "{suffix} granted to someone");
    }
    assert!(!certain.iter().any(|a| a.contains("saml-provider") || a.contains("LegacyAdmin")));
    assert!(truths.iter().any(|x| !x.undetermined_rules.is_empty()));
    assert!(truths.iter().any(|x| x.certain.is_empty()));
}

/// A hand-made user.
fn user(id: u64, email: &str) -> User {
    let mut u = User::new(id, email);
    u.firstname = "Test".into();
    u.lastname = format!("User{id}");
    u.custom_attributes.insert("food".into(), None);
    u
}

fn rule(id: u64, app_id: u64, match_kind: &str, conditions: Vec<(&str, &str, &str)>, arns: &[&str]) -> AppRule {
    AppRule {
        id,
        app_id,
        name: format!("rule {id}"),
        match_kind: match_kind.to_string(),
        enabled: true,
        position: id as u32,
        conditions: conditions.into_iter().map(|(s, o, v)| cond(s, o, v)).collect(),
        actions: vec![action("set_role", arns)],
    }
}

#[test]
fn aws_evaluator_on_a_hand_made_tenant() {
    let mut t = Tenant::generate(0, 1);
    let app = t.apps[0].id;
    let other_app = t.apps[1].id;
    t.rules.clear();
    for r in &mut t.roles {
        r.apps.clear();
    }
    let role = t.roles[1].id;
    let role2 = t.roles[2].id;
    t.roles[1].apps = vec![app];
    let group = t.groups[0].id;

    // u1: member of `role` (so can use `app`), in `group`, member_of Engineering.
    let mut u1 = user(1, "Alice.Smith@Example.com");
    u1.group_id = Some(group);
    u1.member_of = Some("CN=Engineering,OU=Groups,DC=example,DC=com".into());
    u1.custom_attributes.insert("food".into(), Some("Pizza".into()));
    // u2: direct assignment only, status 2, no group, no member_of.
    let mut u2 = user(2, "bob@example.com");
    u2.status = 2;
    u2.direct_apps = vec![app];
    // u3: no access to `app` at all.
    let u3 = user(3, "carol@example.com");
    t.users = vec![u1, u2, u3];
    t.roles[1].users = vec![1];
    t.sync_role_ids();

    let acct = "arn:aws:iam::123456789012";
    let provider = format!("{acct}:saml-provider/OneLogin");
    let v = |name: &str| format!("{acct}:role/{name},{provider}");
    let rules = vec![
        rule(1, app, "any", vec![("member_of", "~", "ENGINEERING"), ("group_id", "=", "999")], &[&v("Dev")]),
        rule(
            2,
            app,
            "all",
            vec![("has_role", "ri", &role.to_string()), ("email", "!~", "bob")],
            &[&v("path/to/Deployer")],
        ),
        rule(3, app, "all", vec![("has_role", "rin", &role2.to_string()), ("status", "!=", "2")], &[&v("NotRole2")]),
        rule(
            4,
            app,
            "all",
            vec![("group_id", "!=", &group.to_string()), ("member_of", "!~", "engineering")],
            &[&v("NoGroup")],
        ),
        rule(5, app, "any", vec![("email", "=", "BOB@EXAMPLE.COM"), ("email", "~", "nobody")], &[&v("Bob")]),
        rule(
            6,
            app,
            "all",
            vec![("status", "=", "1"), ("custom_attribute_food", "=", "pizza")],
            &[&v("Ops+Admin=x.y@z_w-1")],
        ),
        rule(7, app, "all", vec![("custom_attribute_food", "~", "qq")], &[&v("NeverFood")]),
        rule(
            8,
            app,
            "all",
            vec![],
            &[&format!("{acct}:role/Break,Glass=1"), &format!("{acct}:role/A,{acct}:role/B,{provider}")],
        ),
        // Unknown condition mixed with an evaluable one.
        rule(9, app, "all", vec![("last_login", ">", "90"), ("member_of", "~", "engineering")], &[&v("Stale")]),
        rule(10, app, "any", vec![("last_login", ">", "90"), ("email", "~", "bob")], &[&v("StaleOrBob")]),
        rule(11, app, "all", vec![("email", "=~", "x")], &[&v("UnknownOp")]),
        // On an app nobody can use.
        rule(12, other_app, "all", vec![], &[&v("OtherApp")]),
    ];
    let mut disabled = rule(13, app, "all", vec![], &[&v("Disabled")]);
    disabled.enabled = false;
    let mut not_set_role = rule(14, app, "all", vec![], &[]);
    not_set_role.actions = vec![action("set_status", &["2"])];
    t.rules = rules;
    t.rules.push(disabled.clone());
    t.rules.push(not_set_role);
    t.sort_rules();

    assert_eq!(eval_rule(&t.users[0], &disabled, 0), Truth::False);
    let arn = |name: &str| format!("{acct}:role/{name}");
    let set = |names: &[&str]| names.iter().map(|n| arn(n)).collect::<BTreeSet<_>>();

    let a = t.aws_roles(1);
    assert_eq!(
        a.certain,
        set(&["Dev", "path/to/Deployer", "NotRole2", "Ops+Admin=x.y@z_w-1", "Break,Glass=1", "A", "B"])
    );
    assert_eq!(a.undetermined_rules, BTreeSet::from([9, 10, 11]));

    let b = t.aws_roles(2);
    // Without a group or a `food` attribute, a condition on them is undetermined
    // (F-RULE-13: how OneLogin compares a missing value is unknown), so rules 1
    // (`group_id = 999`), 4 (NoGroup: `group_id != …`) and 7 (`food ~ qq`) are too.
    assert_eq!(b.certain, set(&["Bob", "Break,Glass=1", "A", "B", "StaleOrBob"]));
    assert_eq!(b.undetermined_rules, BTreeSet::from([1, 4, 7, 11]));

    let c = t.aws_roles(3);
    assert_eq!(c, Default::default());
    assert_eq!(t.aws_roles(404), Default::default());

    assert_eq!(role_arns(&format!("{acct}:role/x/Y,{acct}:saml-provider/P")), vec![format!("{acct}:role/x/Y")]);
    assert_eq!(role_arns("garbage"), Vec::<String>::new());
}

// ---------- privileges ----------

#[tokio::test]
async fn privileges_list_users_and_roles() {
    let sim = start(40).await;
    let token = manage(&sim).await;
    let t = sim.tenant();
    let list = get(&sim, &token, "/api/1/privileges").await;
    assert_eq!(list.status, 200);
    let list = list.json();
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), t.privileges.len());
    assert!(items.len() >= 3);
    for item in items {
        assert!(item["id"].is_string());
        assert_eq!(item["privilege"]["Version"], "2018-05-18");
        let st = &item["privilege"]["Statement"][0];
        assert_eq!(st["Effect"], "Allow");
        assert!(st["Action"].as_array().unwrap().iter().all(|a| a.as_str().unwrap().contains(':')));
        assert!(!st["Scope"].as_array().unwrap().is_empty());
    }
    let assigned = t.privileges.iter().find(|p| !p.users.is_empty()).unwrap();
    let users = get(&sim, &token, &format!("/api/1/privileges/{}/users", assigned.id)).await.json();
    assert_eq!(
        users,
        json!({"total": assigned.users.len(), "users": assigned.users, "beforeCursor": null,
               "previousLink": null, "afterCursor": null, "nextLink": null})
    );
    let roles = get(&sim, &token, &format!("/api/1/privileges/{}/roles", assigned.id)).await.json();
    assert_eq!(roles["roles"], json!(assigned.roles));
    assert_eq!(roles["total"], json!(assigned.roles.len()));
    assert!(t.privileges.iter().any(|p| p.users.is_empty() && p.roles.is_empty()));
    let one = get(&sim, &token, &format!("/api/1/privileges/{}", assigned.id)).await.json();
    assert_eq!(one["name"], assigned.name.as_str());
    let missing = get(&sim, &token, "/api/1/privileges/nope/users").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["statusCode"], 404);
    // The privileges 401 is v2-style too.
    let unauth = get(&sim, "bogus", "/api/1/privileges").await;
    assert_eq!(unauth.status, 401);
    assert_eq!(unauth.json()["name"], "UnauthorizedError");
}

#[tokio::test]
async fn privileges_off_is_403_forbidden_everywhere() {
    let sim =
        Simulator::start(SimulatorConfig { users: 10, privileges: false, ..SimulatorConfig::default() }).await.unwrap();
    let token = manage(&sim).await;
    assert!(sim.tenant().privileges.is_empty());
    for path in ["/api/1/privileges", "/api/1/privileges/x", "/api/1/privileges/x/users", "/api/1/privileges/x/roles"] {
        let r = get(&sim, &token, path).await;
        assert_eq!(r.status, 403, "{path}");
        let body = r.json();
        assert_eq!(body["statusCode"], 403);
        assert_eq!(body["name"], "ForbiddenError");
        assert!(body["message"].is_string());
    }
}

// ---------- events ----------

async fn walk_events(sim: &Simulator, token: &str, first: &str) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut path = first.to_string();
    loop {
        let r = get(sim, token, &path).await;
        assert_eq!(r.status, 200, "{path}: {}", String::from_utf8_lossy(&r.body));
        let body = r.json();
        pages += 1;
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= limits::EVENTS);
        out.extend(data.iter().cloned());
        match body["pagination"]["after_cursor"].as_str() {
            Some(c) => {
                let next = body["pagination"]["next_link"].as_str().unwrap();
                assert!(next.contains("after_cursor="));
                let sep = if first.contains('?') { '&' } else { '?' };
                path = format!("{first}{sep}after_cursor={c}");
            }
            None => {
                assert!(body["pagination"]["next_link"].is_null());
                return (out, pages);
            }
        }
    }
}

/// A simulator without generated app logins: only the stored events.
async fn start_without_app_logins(users: usize) -> Simulator {
    let config =
        SimulatorConfig { users, rate_limit_per_hour: None, app_logins_per_user_per_day: 0.0, ..Default::default() };
    Simulator::start(config).await.unwrap()
}

#[tokio::test]
async fn events_paginate_and_filter_by_time_type_and_user() {
    let sim = start_without_app_logins(60).await;
    let token = manage(&sim).await;
    let t = sim.tenant();
    let now = now_millis();
    assert!((60..=60 * 4 + 4).contains(&t.events.len()), "{}", t.events.len());
    for ty in GENERATED_EVENT_TYPES {
        assert!(t.events.iter().any(|e| e.event_type_id == ty), "type {ty}");
    }
    let day = 86_400_000;
    assert!(t.events.iter().any(|e| e.created_at_ms < now - 90 * day), "some older than 90 days");
    assert!(t.events.iter().all(|e| e.created_at_ms > now - 121 * day && e.created_at_ms <= now));
    assert!(t.events.windows(2).all(|w| w[0].id < w[1].id && w[0].created_at_ms <= w[1].created_at_ms));

    // Everything, 50 a page.
    let (all, pages) = walk_events(&sim, &token, "/api/1/events").await;
    assert_eq!(all.len(), t.events.len());
    assert_eq!(pages, t.events.len().div_ceil(50));
    let ids: Vec<u64> = all.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, t.events.iter().map(|e| e.id).collect::<Vec<_>>());

    // since (inclusive) / until (exclusive), without millis.
    let since_ms = (now - 90 * day) / 1000 * 1000;
    let until_ms = (now - 10 * day) / 1000 * 1000;
    let since = iso_millis(since_ms).replace(".000Z", "Z");
    let until = iso_millis(until_ms).replace(".000Z", "Z");
    let (window, _) = walk_events(&sim, &token, &format!("/api/1/events?since={since}&until={until}&limit=7")).await;
    let expected = t.events_between(since_ms, until_ms);
    assert_eq!(window.len(), expected.len());
    for e in &window {
        let at = parse_iso_millis(e["created_at"].as_str().unwrap()).unwrap();
        assert!(at >= since_ms && at < until_ms);
    }

    // event_type_id CSV and user_id.
    let (typed, _) = walk_events(
        &sim,
        &token,
        &format!("/api/1/events?event_type_id={EVENT_LOGGED_INTO_APP},{EVENT_ASSIGNED_ROLE}"),
    )
    .await;
    let want =
        t.events.iter().filter(|e| [EVENT_LOGGED_INTO_APP, EVENT_ASSIGNED_ROLE].contains(&e.event_type_id)).count();
    assert_eq!(typed.len(), want);
    for e in &typed {
        if e["event_type_id"] == EVENT_LOGGED_INTO_APP {
            let (uid, app) = (e["user_id"].as_u64().unwrap(), e["app_id"].as_u64().unwrap());
            assert!(t.user_apps(uid).iter().any(|a| a.app_id == app), "logged into an accessible app");
            assert!(e["app_name"].is_string() && e["app-name"] == e["app_name"]);
        } else {
            assert!(e["role_id"].is_u64() && e["role_name"].is_string());
        }
    }
    let uid = t.events[0].user_id.unwrap();
    let (mine, _) = walk_events(&sim, &token, &format!("/api/1/events?user_id={uid}")).await;
    assert_eq!(mine.len(), t.events.iter().filter(|e| e.user_id == Some(uid)).count());

    // Descending order and limit above 50 capped.
    let desc = get(&sim, &token, "/api/1/events?sort=-id&limit=500").await.json();
    let d: Vec<u64> = desc["data"].as_array().unwrap().iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(d.len(), 50.min(t.events.len()));
    assert_eq!(d[0], t.events.last().unwrap().id);
    assert!(d.windows(2).all(|w| w[0] > w[1]));

    // Shape of one event.
    let e = &all[0];
    for k in [
        "id",
        "created_at",
        "account_id",
        "event_type_id",
        "user_id",
        "user_name",
        "app_id",
        "actor_user_id",
        "actor_user_name",
        "ipaddr",
        "role_id",
        "group_id",
        "notes",
    ] {
        assert!(e.get(k).is_some(), "{k}");
    }
    assert_eq!(e["account_id"], t.account_id);

    let bad = get(&sim, &token, "/api/1/events?since=yesterday").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["status"]["error"], true);

    let types = get(&sim, &token, "/api/1/events/types").await.json();
    let type_ids: BTreeSet<u64> = types["data"].as_array().unwrap().iter().map(|x| x["id"].as_u64().unwrap()).collect();
    for ty in GENERATED_EVENT_TYPES {
        assert!(type_ids.contains(&(ty as u64)));
    }
    assert!(types["data"][0]["name"].is_string() && types["data"][0]["description"].is_string());
    let by_id = get(&sim, &token, &format!("/api/1/events/{}", t.events[3].id)).await.json();
    assert_eq!(by_id["data"]["id"], t.events[3].id);
}

#[tokio::test]
async fn writes_log_events_and_bump_updated_at() {
    let sim = start(30).await;
    let token = manage(&sim).await;
    let t = sim.tenant();
    let last = t.events.last().unwrap().id;
    let start = now_millis();
    let (a, b, c) = (t.users[0].id, t.users[1].id, t.users[2].id);
    let role = t.roles[1].id;
    assert_eq!(with_body(&sim, &token, "PUT", &format!("/api/2/users/{a}"), r#"{"title":"Chief"}"#).await.status, 200);
    assert_eq!(
        with_body(&sim, &token, "POST", &format!("/api/2/roles/{role}/users"), &format!("[{b}]")).await.status,
        200
    );
    assert_eq!(with_body(&sim, &token, "PUT", &format!("/api/1/users/{c}/logout"), "").await.status, 200);
    assert_eq!(
        send(sim.addr(), "DELETE", &format!("/api/2/users/{c}"), &[("Authorization", format!("Bearer {token}"))], None)
            .await
            .status,
        204
    );

    let after = sim.tenant();
    let new: Vec<_> = after.events.iter().filter(|e| e.id > last).collect();
    let ids: Vec<u64> = new.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[1] > w[0]), "ids increase (with time: gaps allowed)");
    assert!(new.iter().all(|e| e.created_at_ms >= start));
    let kinds: Vec<(u32, u64)> = new.iter().map(|e| (e.event_type_id, e.user_id.unwrap())).collect();
    assert!(kinds.contains(&(EVENT_UPDATED, a)));
    if !t.roles[1].users.contains(&b) {
        assert!(kinds.contains(&(EVENT_ASSIGNED_ROLE, b)));
        assert!(parse_iso_millis(&after.user(b).unwrap().updated_at).unwrap() >= start);
    }
    assert!(kinds.contains(&(EVENT_UPDATED, c)));
    assert!(kinds.contains(&(17, c)));
    assert!(parse_iso_millis(&after.user(a).unwrap().updated_at).unwrap() >= start);

    // Discoverable through the API with since = start.
    let since = iso_millis(start - 1000);
    let (found, _) = walk_events(&sim, &token, &format!("/api/1/events?since={since}")).await;
    let users: BTreeSet<u64> = found.iter().filter_map(|e| e["user_id"].as_u64()).collect();
    assert!(users.contains(&a) && users.contains(&c));
    // The v2 users list finds the changed users with updated_since.
    let changed = get(&sim, &token, &format!("/api/2/users?updated_since={since}")).await.json();
    assert!(changed.as_array().unwrap().iter().any(|u| u["id"] == a));
}

#[tokio::test]
async fn update_tenant_logs_created_deleted_and_changed_users() {
    let sim = start(20).await;
    let t = sim.tenant();
    let last = t.events.last().unwrap().id;
    let start = now_millis();
    let (gone, changed, touched) = (t.users[0].id, t.users[1].id, t.users[2].id);
    let role = t.roles.iter().find(|r| !r.users.is_empty()).unwrap().clone();
    let member = role.users[0];
    sim.update_tenant(|t| {
        t.users.retain(|u| u.id != gone);
        t.user_mut(changed).unwrap().department = "Moved".into();
        t.touch_user(touched);
        t.users.push(User::new(99_000_000, "new@example.com"));
        t.role_mut(role.id).unwrap().users.retain(|&u| u != member);
    });
    let after = sim.tenant();
    let new: BTreeMap<u64, u32> =
        after.events.iter().filter(|e| e.id > last).map(|e| (e.user_id.unwrap(), e.event_type_id)).collect();
    assert_eq!(new.get(&gone), Some(&17));
    assert_eq!(new.get(&changed), Some(&EVENT_UPDATED));
    assert_eq!(new.get(&touched), Some(&EVENT_UPDATED));
    assert_eq!(new.get(&99_000_000), Some(&13));
    if member != gone {
        assert_eq!(new.get(&member), Some(&EVENT_UPDATED));
        assert!(!after.user(member).unwrap().role_ids.contains(&role.id));
    }
    assert_eq!(after.events.iter().filter(|e| e.id > last && e.user_id == Some(touched)).count(), 1);
    for id in [changed, touched] {
        assert!(parse_iso_millis(&after.user(id).unwrap().updated_at).unwrap() >= start);
    }
    assert!(after.roles.iter().all(|r| !r.users.contains(&gone) && !r.admins.contains(&gone)));
}

// ---------- MFA, dates ----------

#[tokio::test]
async fn mfa_devices_have_string_ids_and_users_with_0_1_and_2_plus() {
    for (n, seed) in [(10usize, 1u64), (10, 2), (10, 3), (25, 4)] {
        let sim = Simulator::start(SimulatorConfig { users: n, seed, ..SimulatorConfig::default() }).await.unwrap();
        let token = manage(&sim).await;
        let mut counts = BTreeSet::new();
        for u in sim.tenant().users {
            let r = get(&sim, &token, &format!("/api/2/mfa/users/{}/devices", u.id)).await.json();
            let devices = r.as_array().unwrap();
            assert!(devices.iter().all(|d| d["device_id"].is_string()));
            counts.insert(devices.len().min(2));
        }
        assert_eq!(counts, BTreeSet::from([0, 1, 2]), "N={n} seed={seed}");
    }
}

#[tokio::test]
async fn responses_carry_a_date_header() {
    let sim = start(3).await;
    let token = manage(&sim).await;
    for path in ["/api/2/users", "/api/1/events", "/api/1/privileges"] {
        let r = get(&sim, &token, path).await;
        let date = r.header("date").unwrap_or_else(|| panic!("{path}: no date header"));
        assert!(date.ends_with("GMT"), "{date}");
    }
}

#[test]
fn generation_stays_deterministic_with_the_new_data() {
    let a = Tenant::generate(150, 11);
    let b = Tenant::generate(150, 11);
    assert_eq!(a, b);
    assert!(a.events.is_empty(), "events are generated by the simulator, not by generate");
    assert!(!a.rules.is_empty() && !a.privileges.is_empty());
    let mut x = a.clone();
    let mut y = a.clone();
    x.generate_events(1_800_000_000_000);
    y.generate_events(1_800_000_000_000);
    assert_eq!(x.events, y.events);
}

#[tokio::test]
async fn app_logins_at_real_volume_merge_with_the_stored_events_by_id() {
    let config = SimulatorConfig {
        users: 24,
        rate_limit_per_hour: None,
        app_logins_per_user_per_day: 2.5,
        ..Default::default()
    };
    let sim = Simulator::start(config).await.unwrap();
    let token = manage(&sim).await;
    let t = sim.tenant();
    let now = now_millis();
    let day = 86_400_000;
    let active_with_apps = t.users.iter().filter(|u| u.status == 1 && !t.user_apps(u.id).is_empty()).count() as f64;
    let all = t.all_events_between(i64::MIN, i64::MAX);
    let logins: Vec<Event> = t.app_logins.between(i64::MIN, i64::MAX).collect();
    assert_eq!(all.len(), t.events.len() + logins.len());
    let per_day = logins.len() as f64 / 120.0 / active_with_apps;
    assert!((2.0..=3.0).contains(&per_day), "about 2.5 app logins per active user per day: {per_day}");
    assert!(logins.iter().all(|e| e.event_type_id == EVENT_LOGGED_INTO_APP && e.created_at_ms < now));
    assert!(all.windows(2).all(|w| w[0].id < w[1].id && w[0].created_at_ms <= w[1].created_at_ms), "ids follow time");
    assert_eq!(t.all_events_between(i64::MIN, i64::MAX), all, "generated the same way every time");

    // The last 10 days, 50 a page: exactly the merged events of the window.
    let since_ms = now - 10 * day;
    let since = iso_millis(since_ms);
    let (window, pages) = walk_events(&sim, &token, &format!("/api/1/events?since={since}")).await;
    let expected: Vec<u64> = t.all_events_between(since_ms, i64::MAX).iter().map(|e| e.id).collect();
    let got: Vec<u64> = window.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(got, expected);
    assert_eq!(pages, expected.len().div_ceil(50));

    // Only other types: the logins are not even generated into the answer.
    let (updates, _) = walk_events(&sim, &token, &format!("/api/1/events?event_type_id={EVENT_UPDATED}")).await;
    assert_eq!(updates.len(), t.events.iter().filter(|e| e.event_type_id == EVENT_UPDATED).count());
    // Only logins of one user, newest first.
    let uid = logins[0].user_id.unwrap();
    let path = format!("/api/1/events?event_type_id={EVENT_LOGGED_INTO_APP}&user_id={uid}&sort=-id&limit=20");
    let (mine, _) = walk_events(&sim, &token, &path).await;
    let want: Vec<u64> = all
        .iter()
        .rev()
        .filter(|e| e.event_type_id == EVENT_LOGGED_INTO_APP && e.user_id == Some(uid))
        .map(|e| e.id)
        .collect();
    assert_eq!(mine.iter().map(|e| e["id"].as_u64().unwrap()).collect::<Vec<_>>(), want);
    // A page back from the second page is the first page.
    let first = get(&sim, &token, "/api/1/events?limit=10").await.json();
    let next = first["pagination"]["after_cursor"].as_str().unwrap().to_string();
    let second = get(&sim, &token, &format!("/api/1/events?limit=10&after_cursor={next}")).await.json();
    let back = second["pagination"]["before_cursor"].as_str().unwrap().to_string();
    let again = get(&sim, &token, &format!("/api/1/events?limit=10&before_cursor={back}")).await.json();
    assert_eq!(again["data"], first["data"]);
    // One login by id.
    let one = get(&sim, &token, &format!("/api/1/events/{}", logins[1].id)).await.json();
    assert_eq!(one["data"]["id"], logins[1].id);
    assert_eq!(one["data"]["event_type_id"], EVENT_LOGGED_INTO_APP);
}
