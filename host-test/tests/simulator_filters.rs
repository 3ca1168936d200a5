//! The simulator's documented list filters (FIDELITY.md F-USER-3, F-USER-4, F-USER-7,
//! F-ROLE-2, F-ROLE-5, F-ROLE-11, F-RULE-3, F-EVT-3), over real HTTP: each answer,
//! walked page by page, holds exactly the items of the tenant filtered here by hand.

use std::collections::BTreeSet;

use host_test::simulator::{AppRule, Event, Role, Simulator, SimulatorConfig, Tenant, User};
use serde_json::Value;

mod http_client;

use http_client::*;

async fn start(users: usize) -> Simulator {
    Simulator::start(SimulatorConfig { users, ..SimulatorConfig::default() }).await.unwrap()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Case-insensitive `*` wildcard match, written apart from the simulator's.
fn wild(pattern: &str, value: &str) -> bool {
    fn go(p: &[u8], v: &[u8]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some((b'*', rest)) => (0..=v.len()).any(|k| go(rest, &v[k..])),
            Some((c, rest)) => v.first() == Some(c) && go(rest, &v[1..]),
        }
    }
    go(pattern.to_lowercase().as_bytes(), value.to_lowercase().as_bytes())
}

/// The ids of a v2 list walked with `limit` per page through `After-Cursor`, and how
/// many pages it took.
async fn v2_ids(sim: &Simulator, token: &str, path: &str, limit: usize) -> (Vec<u64>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit={limit}");
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let r = get(sim, token, &url).await;
        assert_eq!(r.status, 200, "{url}: {}", String::from_utf8_lossy(&r.body));
        let items = r.json();
        let items = items.as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|i| i["id"].as_u64().unwrap()));
        pages += 1;
        match r.header("after-cursor") {
            Some(c) => url = format!("{path}{sep}cursor={}", enc(c)),
            None => return (ids, pages),
        }
    }
}

/// The items of a v1 list walked with `limit` per page through `next_link`.
async fn v1_items(sim: &Simulator, token: &str, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit={limit}");
    let (mut items, mut pages) = (Vec::new(), 0);
    loop {
        let r = get(sim, token, &url).await;
        assert_eq!(r.status, 200, "{url}: {}", String::from_utf8_lossy(&r.body));
        let body = r.json();
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= limit);
        items.extend(data.iter().cloned());
        pages += 1;
        match body["pagination"]["next_link"].as_str() {
            Some(next) => url = next.trim_start_matches(&sim.base_url()).to_string(),
            None => return (items, pages),
        }
    }
}

fn ids_of(items: &[Value]) -> Vec<u64> {
    items.iter().map(|i| i["id"].as_u64().unwrap()).collect()
}

fn pages_for(n: usize, limit: usize) -> usize {
    n.div_ceil(limit).max(1)
}

/// Checks that `query` on the v2 users list answers exactly `want`, over pages of 7.
async fn expect_v2_users(sim: &Simulator, token: &str, query: &str, want: impl Fn(&User) -> bool) {
    let expected: Vec<u64> = sim.tenant().users.iter().filter(|u| want(u)).map(|u| u.id).collect();
    let (ids, pages) = v2_ids(sim, token, &format!("/api/2/users?{query}"), 7).await;
    assert_eq!(ids, expected, "{query}");
    assert_eq!(pages, pages_for(expected.len(), 7), "{query}");
}

/// Checks that `query` on the v1 users list answers exactly `want`, over pages of 9.
async fn expect_v1_users(sim: &Simulator, token: &str, query: &str, want: impl Fn(&User) -> bool) {
    let expected: Vec<u64> = sim.tenant().users.iter().filter(|u| want(u)).map(|u| u.id).collect();
    let (items, pages) = v1_items(sim, token, &format!("/api/1/users?{query}"), 9).await;
    assert_eq!(ids_of(&items), expected, "{query}");
    assert_eq!(pages, pages_for(expected.len(), 9), "{query}");
}

/// A value from the middle of the users' sorted `field` values, and its first 3 characters.
fn middle_value(t: &Tenant, field: impl Fn(&User) -> Option<&str>) -> String {
    let mut values: Vec<&str> = t.users.iter().filter_map(&field).filter(|v| !v.is_empty()).collect();
    values.sort_unstable();
    assert!(values.len() > 3, "too few users carry the field");
    values[values.len() / 2].to_string()
}

fn prefix(v: &str) -> String {
    format!("{}*", v.chars().take(3).collect::<String>())
}

#[tokio::test]
async fn v2_user_filters_narrow_exactly_over_pages() {
    let sim = start(300).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let mut logins: Vec<&str> = t.users.iter().filter_map(|u| u.last_login.as_deref()).collect();
    logins.sort_unstable();
    let (lo, hi) = (logins[logins.len() / 4].to_string(), logins[3 * logins.len() / 4].to_string());
    let in_window = |u: &User, lo: &str, hi: &str| u.last_login.as_deref().is_some_and(|l| lo <= l && l <= hi);
    let q = format!("last_login_since={}&last_login_until={}", enc(&lo), enc(&hi));
    expect_v2_users(&sim, &token, &q, |u| in_window(u, &lo, &hi)).await;
    let q = format!("last_login_since={}", enc(&hi));
    expect_v2_users(&sim, &token, &q, |u| in_window(u, &hi, "9999")).await;

    let sam = prefix(&middle_value(&t, |u| u.samaccountname.as_deref()));
    let q = format!("samaccountname={}", enc(&sam));
    expect_v2_users(&sim, &token, &q, |u| u.samaccountname.as_deref().is_some_and(|v| wild(&sam, v))).await;
    let ext = middle_value(&t, |u| u.external_id.as_deref());
    let q = format!("external_id={}", enc(&ext));
    expect_v2_users(&sim, &token, &q, |u| u.external_id.as_deref() == Some(ext.as_str())).await;
    let dir = t.users.iter().find_map(|u| u.directory_id).unwrap();
    expect_v2_users(&sim, &token, &format!("directory_id={dir}"), |u| u.directory_id == Some(dir)).await;
    assert!(t.users.iter().any(|u| u.directory_id.is_none()), "the directory filter must narrow");

    // app_id: the users who can use the app, through a role or directly.
    let app = t.apps[1].id;
    let via_role = |u: &User| t.roles.iter().any(|r| r.apps.contains(&app) && r.users.contains(&u.id));
    let can_use = |u: &User| via_role(u) || u.direct_apps.contains(&app);
    expect_v2_users(&sim, &token, &format!("app_id={app}"), can_use).await;

    let cc = prefix(&middle_value(&t, |u| u.custom_attributes.get("cost_center").and_then(|v| v.as_deref())));
    let q = format!("custom_attributes.cost_center={}", enc(&cc));
    let has_cc =
        |u: &User| u.custom_attributes.get("cost_center").and_then(|v| v.as_deref()).is_some_and(|v| wild(&cc, v));
    expect_v2_users(&sim, &token, &q, has_cc).await;
    expect_v2_users(&sim, &token, "custom_attributes.no_such_attribute=x", |_| false).await;
    // Filters combine (AND).
    let q = format!("directory_id={dir}&custom_attributes.cost_center={}", enc(&cc));
    expect_v2_users(&sim, &token, &q, |u| u.directory_id == Some(dir) && has_cc(u)).await;
}

#[tokio::test]
async fn v2_user_filters_already_honoured_still_narrow_exactly() {
    let sim = start(300).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    for (name, field) in [
        ("email", (|u: &User| u.email.clone()) as fn(&User) -> String),
        ("username", |u| u.username.clone()),
        ("firstname", |u| u.firstname.clone()),
        ("lastname", |u| u.lastname.clone()),
    ] {
        let sample = t.users[150..].iter().map(field).find(|v| v.len() >= 3).unwrap();
        let pat = prefix(&sample);
        expect_v2_users(&sim, &token, &format!("{name}={}", enc(&pat)), |u| wild(&pat, &field(u))).await;
    }
    let picked: Vec<u64> = t.users.iter().step_by(13).map(|u| u.id).collect();
    let csv = picked.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    expect_v2_users(&sim, &token, &format!("user_ids={csv}"), |u| picked.contains(&u.id)).await;
    let mut created: Vec<&str> = t.users.iter().map(|u| u.created_at.as_str()).collect();
    created.sort_unstable();
    let (lo, hi) = (created[40].to_string(), created[200].to_string());
    let q = format!("created_since={}&created_until={}", enc(&lo), enc(&hi));
    expect_v2_users(&sim, &token, &q, |u| lo.as_str() <= u.created_at.as_str() && u.created_at <= hi).await;
    let mut updated: Vec<&str> = t.users.iter().map(|u| u.updated_at.as_str()).collect();
    updated.sort_unstable();
    let (lo, hi) = (updated[10].to_string(), updated[150].to_string());
    let q = format!("updated_since={}&updated_until={}", enc(&lo), enc(&hi));
    expect_v2_users(&sim, &token, &q, |u| lo.as_str() <= u.updated_at.as_str() && u.updated_at <= hi).await;
}

#[tokio::test]
async fn malformed_user_filters_are_400_in_each_dialect() {
    let sim = start(40).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    for q in ["directory_id=abc", "app_id=x1", "last_login_since=yesterday", "user_ids=1,zz"] {
        let r = get(&sim, &token, &format!("/api/2/users?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["name"], "BadRequestError", "{q}");
    }
    for (q, name) in [("directory_id=abc", "directory_id"), ("since=soon", "since"), ("id=x", "id")] {
        let r = get(&sim, &token, &format!("/api/1/users?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["status"]["message"], format!("{name} is invalid"), "{q}");
    }
}

#[tokio::test]
async fn v1_user_filters_and_since_until_narrow_exactly_over_pages() {
    let sim = start(300).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let mut created: Vec<&str> = t.users.iter().map(|u| u.created_at.as_str()).collect();
    created.sort_unstable();
    let (lo, hi) = (created[30].to_string(), created[250].to_string());
    // Docs: since = created after, until = created before (since inclusive, until exclusive here).
    let q = format!("since={}&until={}", enc(&lo), enc(&hi));
    expect_v1_users(&sim, &token, &q, |u| lo.as_str() <= u.created_at.as_str() && u.created_at < hi).await;
    let q = format!("until={}", enc(&lo));
    expect_v1_users(&sim, &token, &q, |u| u.created_at < lo).await;

    let dir = t.users.iter().find_map(|u| u.directory_id).unwrap();
    expect_v1_users(&sim, &token, &format!("directory_id={dir}"), |u| u.directory_id == Some(dir)).await;
    let role = t.roles.iter().max_by_key(|r| r.users.len()).unwrap().id;
    expect_v1_users(&sim, &token, &format!("role_id={role}"), |u| u.role_ids.contains(&role)).await;
    let one = t.users[77].id;
    expect_v1_users(&sim, &token, &format!("id={one}"), |u| u.id == one).await;
    let email = prefix(&t.users[120].email);
    expect_v1_users(&sim, &token, &format!("email={}", enc(&email)), |u| wild(&email, &u.email)).await;
    let first = prefix(&t.users[121].firstname);
    let q = format!("firstname={}&role_id={role}", enc(&first));
    expect_v1_users(&sim, &token, &q, |u| wild(&first, &u.firstname) && u.role_ids.contains(&role)).await;
    for (name, field) in [
        ("samaccountname", (|u: &User| u.samaccountname.clone()) as fn(&User) -> Option<String>),
        ("userprincipalname", |u| u.userprincipalname.clone()),
        ("external_id", |u| u.external_id.clone()),
    ] {
        let pat = prefix(&middle_value(&t, |u| match name {
            "samaccountname" => u.samaccountname.as_deref(),
            "userprincipalname" => u.userprincipalname.as_deref(),
            _ => u.external_id.as_deref(),
        }));
        let q = format!("{name}={}", enc(&pat));
        expect_v1_users(&sim, &token, &q, |u| field(u).is_some_and(|v| wild(&pat, &v))).await;
    }
}

#[tokio::test]
async fn role_filters_app_name_include_unassigned_and_assigned() {
    let sim = start(300).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    // app_name: the roles holding an app of that name.
    let app = t.apps.iter().find(|a| t.roles.iter().any(|r| r.apps.contains(&a.id))).unwrap();
    let named = |r: &Role, pat: &str| r.apps.iter().filter_map(|&a| t.app(a)).any(|a| wild(pat, &a.name));
    for pat in [app.name.clone(), prefix(&app.name), "no such app".to_string()] {
        let expected: Vec<u64> = t.roles.iter().filter(|r| named(r, &pat)).map(|r| r.id).collect();
        let (ids, pages) = v2_ids(&sim, &token, &format!("/api/2/roles?app_name={}", enc(&pat)), 2).await;
        assert_eq!(ids, expected, "{pat}");
        assert_eq!(pages, pages_for(expected.len(), 2));
    }
    assert!(t.roles.iter().any(|r| !named(r, &app.name)), "app_name must narrow");

    // include_unassigned: the members, then every other user with `assigned: false`.
    let role = t.roles.iter().find(|r| !r.users.is_empty()).unwrap();
    let path = format!("/api/2/roles/{}/users?include_unassigned=true", role.id);
    let (ids, pages) = v2_ids(&sim, &token, &path, 40).await;
    let others = t.users.iter().map(|u| u.id).filter(|id| !role.users.contains(id));
    let expected: Vec<u64> = role.users.iter().copied().chain(others).collect();
    assert_eq!(ids, expected);
    assert_eq!(pages, pages_for(t.users.len(), 40));
    let page = get(&sim, &token, &format!("{path}&limit=100")).await.json();
    for item in page.as_array().unwrap() {
        let id = item["id"].as_u64().unwrap();
        assert_eq!(item["assigned"], role.users.contains(&id), "{item}");
    }
    let (plain, _) = v2_ids(&sim, &token, &format!("/api/2/roles/{}/users", role.id), 40).await;
    assert_eq!(plain, role.users);
    let (off, _) = v2_ids(&sim, &token, &format!("/api/2/roles/{}/users?include_unassigned=false", role.id), 40).await;
    assert_eq!(off, role.users);

    // assigned=false: the apps the role does not hold.
    let (held, _) = v2_ids(&sim, &token, &format!("/api/2/roles/{}/apps", role.id), 3).await;
    assert_eq!(held, role.apps);
    let (not_held, pages) = v2_ids(&sim, &token, &format!("/api/2/roles/{}/apps?assigned=false", role.id), 3).await;
    let expected: Vec<u64> = t.apps.iter().map(|a| a.id).filter(|a| !role.apps.contains(a)).collect();
    assert_eq!(not_held, expected);
    assert_eq!(pages, pages_for(expected.len(), 3));

    for path in [format!("/api/2/roles/{}/apps?assigned=maybe", role.id), "/api/2/roles?app_id=x".to_string()] {
        let r = get(&sim, &token, &path).await;
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(r.json()["error"], "BadRequestError", "{path}");
    }
}

/// Which rules a filter should keep.
type Keep<'a> = Box<dyn Fn(&AppRule) -> bool + 'a>;

/// The ids of the app's rules that `enabled` and `keep` select, by position.
fn rules_where(t: &Tenant, app: u64, enabled: bool, keep: impl Fn(&AppRule) -> bool) -> Vec<u64> {
    t.app_rules(app).iter().filter(|r| r.enabled == enabled && keep(r)).map(|r| r.id).collect()
}

#[tokio::test]
async fn app_rule_filters_follow_the_documented_name_value_pairs() {
    let sim = start(300).await;
    let token = token_for(&sim, &sim.manage_credentials()).await;
    let t = sim.tenant();
    let app = t.apps.iter().map(|a| a.id).max_by_key(|&a| t.app_rules(a).len()).unwrap();
    let has_cond = |r: &AppRule, n: &str, v: &str| r.conditions.iter().any(|c| wild(n, &c.source) && wild(v, &c.value));
    let has_act = |r: &AppRule, n: &str, v: &str| {
        r.actions.iter().any(|a| wild(n, &a.action) && a.value.iter().any(|x| wild(v, x)))
    };
    let role = t.app_rules(app).iter().flat_map(|r| &r.conditions).find(|c| c.source == "has_role").unwrap();
    let custom = |r: &AppRule| r.conditions.iter().any(|c| c.source.starts_with("custom_attribute_"));
    let builtin = |r: &AppRule| r.conditions.iter().any(|c| !c.source.starts_with("custom_attribute_"));
    let cases: Vec<(String, Keep)> = vec![
        ("has_condition=has_role:*".into(), Box::new(|r| has_cond(r, "has_role", "*"))),
        (format!("has_condition=has_role:{}", role.value), Box::new(|r| has_cond(r, "has_role", &role.value))),
        (format!("has_condition=*:{}", role.value), Box::new(|r| has_cond(r, "*", &role.value))),
        (
            "has_condition=has_role:*,email:*".into(),
            Box::new(|r| has_cond(r, "has_role", "*") && has_cond(r, "email", "*")),
        ),
        ("has_condition=status:1".into(), Box::new(|r| has_cond(r, "status", "1"))),
        ("has_action=set_role:*Developer*".into(), Box::new(|r| has_act(r, "set_role", "*Developer*"))),
        ("has_action=*:*".into(), Box::new(|r| has_act(r, "*", "*"))),
        ("has_condition_type=custom".into(), Box::new(custom)),
        ("has_condition_type=builtin".into(), Box::new(builtin)),
        ("has_condition_type=none".into(), Box::new(|r| r.conditions.is_empty())),
        ("has_action_type=builtin".into(), Box::new(|r| !r.actions.is_empty())),
        ("has_action_type=custom".into(), Box::new(|_| false)),
        ("has_action_type=none".into(), Box::new(|r| r.actions.is_empty())),
    ];
    for enabled in [true, false] {
        for (q, keep) in &cases {
            let expected = rules_where(&t, app, enabled, keep);
            let r = get(&sim, &token, &format!("/api/2/apps/{app}/rules?enabled={enabled}&{q}")).await;
            assert_eq!(r.status, 200, "{q}");
            assert_eq!(ids_of(r.json().as_array().unwrap()), expected, "{q} enabled={enabled}");
        }
    }
    // The filters narrow: some enabled rule has no has_role condition, some no custom one.
    assert_ne!(rules_where(&t, app, true, |r| has_cond(r, "has_role", "*")), rules_where(&t, app, true, |_| true));
    assert_ne!(rules_where(&t, app, true, custom), rules_where(&t, app, true, |_| true));
    for q in ["has_condition=has_role", "has_action=set_role", "has_condition_type=weird", "has_action_type=all"] {
        let r = get(&sim, &token, &format!("/api/2/apps/{app}/rules?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["name"], "BadRequestError", "{q}");
    }
}

/// Every event of the tenant (stored and generated app logins), by id.
fn all_events(t: &Tenant) -> Vec<Event> {
    let mut all: Vec<_> = t.events.iter().cloned().chain(t.app_logins.between(i64::MIN, i64::MAX)).collect();
    all.sort_by_key(|e| e.id);
    all
}

#[tokio::test]
async fn event_search_parameters_narrow_exactly() {
    let sim = start(60).await;
    let token = token_for(&sim, &sim.read_credentials()).await;
    let t = sim.tenant();
    let all = all_events(&t);
    let login = all.iter().find(|e| e.event_type_id == 8 && !t.events.iter().any(|s| s.id == e.id)).unwrap();
    let stored = &t.events[t.events.len() / 2];
    for e in [login, stored] {
        let (items, _) = v1_items(&sim, &token, &format!("/api/1/events?id={}", e.id), 50).await;
        assert_eq!(ids_of(&items), vec![e.id]);
        let at = e.created_at();
        let expected: Vec<u64> = all.iter().filter(|x| x.created_at() == at).map(|x| x.id).collect();
        let (items, _) = v1_items(&sim, &token, &format!("/api/1/events?created_at={}", enc(&at)), 50).await;
        assert_eq!(ids_of(&items), expected, "created_at={at}");
        let q = format!("/api/1/events?id={}&event_type_id={}", e.id, e.event_type_id + 1);
        assert!(v1_items(&sim, &token, &q, 50).await.0.is_empty());
    }
    // No event here carries a client_id, directory_id or resolution.
    for q in ["client_id=5", "directory_id=77001", "resolution=resolved"] {
        let (items, pages) = v1_items(&sim, &token, &format!("/api/1/events?{q}"), 50).await;
        assert!(items.is_empty() && pages == 1, "{q}");
    }
    // `fields` projects; paging over a window stays exact.
    let (lo, hi) = (all[all.len() / 3].created_at(), all[all.len() / 3 + 120].created_at());
    let in_window: Vec<u64> =
        all.iter().filter(|e| lo <= e.created_at() && e.created_at() < hi).map(|e| e.id).collect();
    let q = format!("/api/1/events?since={}&until={}&fields=event_type_id", enc(&lo), enc(&hi));
    let (items, pages) = v1_items(&sim, &token, &q, 25).await;
    assert_eq!(ids_of(&items), in_window);
    assert_eq!(pages, pages_for(in_window.len(), 25));
    let keys: BTreeSet<&str> = items.iter().flat_map(|i| i.as_object().unwrap().keys().map(String::as_str)).collect();
    assert_eq!(keys, BTreeSet::from(["id", "event_type_id"]));
    for (q, name) in [("client_id=x", "client_id"), ("id=-1", "id"), ("created_at=noon", "created_at")] {
        let r = get(&sim, &token, &format!("/api/1/events?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["status"]["message"], format!("{name} is invalid"), "{q}");
    }
}
