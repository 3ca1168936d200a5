//! The search filters of `GET /api/2/users` and `GET /api/1/users`
//! (FIDELITY.md F-USER-3, F-USER-4, F-USER-7).
//!
//! v2 (docs list-users; py-sdk `UsersV2Api.list_users2`; go-sdk `UserQuery` for
//! `group_id`/`role_id`): `user_ids` (CSV), `group_id`, `role_id`, `directory_id`,
//! `app_id`; `created_since/until`, `updated_since/until`, `last_login_since/until`
//! (ISO8601, both bounds inclusive); `email`, `username`, `firstname`, `lastname`,
//! `samaccountname`, `external_id` and `custom_attributes.<shortname>` with `*`
//! wildcards (docs "Using Query Parameters", v2).
//!
//! v1 (docs `api-docs/1/users/get-users`): `id`, `role_id`, `directory_id`; `since`
//! and `until` on `created_at` (docs "Using Query Parameters", v1: "users created
//! after … before …"); `email`, `username`, `firstname`, `samaccountname`,
//! `external_id`, `userprincipalname`, `manager_ad_id` with wildcards.
//!
//! Assumptions (FIDELITY.md F-USER-4, F-USER-7): every filter narrows (AND); a
//! filter on a field the user does not have (null date, null text, unknown custom
//! attribute) excludes the user; `app_id` keeps the users who can use the app
//! (through a role or directly, as `GET /api/2/apps/{id}/users` lists them);
//! v1 `since` is inclusive and `until` exclusive (as events); a malformed number or
//! date is a 400 in the endpoint's dialect.

use std::collections::HashSet;

use axum::response::Response;

use super::glob_match;
use crate::simulator::errors::{v1_bad_request, v2_bad_request};
use crate::simulator::pagination::Params;
use crate::simulator::tenant::{parse_iso_millis, Tenant, User};

/// Which list the filter is for (the parameters and the error dialect differ).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    V1,
    V2,
}

/// The text filters each dialect takes (wildcards allowed).
const V2_TEXT: [&str; 6] = ["email", "username", "firstname", "lastname", "samaccountname", "external_id"];
const V1_TEXT: [&str; 7] =
    ["email", "username", "firstname", "samaccountname", "external_id", "userprincipalname", "manager_ad_id"];

/// The date windows of v2: (parameter prefix, user field).
const V2_DATES: [(&str, &str); 3] =
    [("created", "created_at"), ("updated", "updated_at"), ("last_login", "last_login")];

/// A parsed user filter; [`UserFilter::bind`] resolves `app_id` against the tenant.
#[derive(Default)]
pub struct UserFilter {
    ids: Option<HashSet<u64>>,
    group_id: Option<u64>,
    role_id: Option<u64>,
    directory_id: Option<u64>,
    app_id: Option<u64>,
    app_users: Option<HashSet<u64>>,
    /// (user date field, from inclusive, to exclusive), Unix ms.
    windows: Vec<(&'static str, i64, i64)>,
    text: Vec<(&'static str, String)>,
    /// (custom attribute shortname, pattern).
    custom: Vec<(String, String)>,
}

/// A user's text field by filter name.
fn text_of<'a>(u: &'a User, name: &str) -> Option<&'a str> {
    match name {
        "email" => Some(&u.email),
        "username" => Some(&u.username),
        "firstname" => Some(&u.firstname),
        "lastname" => Some(&u.lastname),
        "samaccountname" => u.samaccountname.as_deref(),
        "external_id" => u.external_id.as_deref(),
        "userprincipalname" => u.userprincipalname.as_deref(),
        "manager_ad_id" => u.manager_ad_id.as_deref(),
        _ => None,
    }
}

/// A user's date field by name, in Unix ms (none when never).
fn date_of(u: &User, name: &str) -> Option<i64> {
    let raw = match name {
        "created_at" => Some(u.created_at.as_str()),
        "updated_at" => Some(u.updated_at.as_str()),
        "last_login" => u.last_login.as_deref(),
        _ => None,
    };
    raw.and_then(parse_iso_millis)
}

impl UserFilter {
    /// Parses the filters of `dialect` from the query; a malformed value is a 400.
    pub fn from_params(p: &Params, dialect: Dialect) -> Result<UserFilter, Response> {
        let bad = |name: &str| match dialect {
            Dialect::V2 => v2_bad_request(&format!("Invalid {name}")),
            Dialect::V1 => v1_bad_request(&format!("{name} is invalid")),
        };
        let num = |name: &str| -> Result<Option<u64>, Response> {
            p.get(name).map(|v| v.trim().parse::<u64>().map_err(|_| bad(name))).transpose()
        };
        let time = |name: &str| -> Result<Option<i64>, Response> {
            p.get(name).map(|v| parse_iso_millis(v).ok_or_else(|| bad(name))).transpose()
        };
        let mut f =
            UserFilter { role_id: num("role_id")?, directory_id: num("directory_id")?, ..UserFilter::default() };
        let text: &[&'static str] = match dialect {
            Dialect::V2 => &V2_TEXT,
            Dialect::V1 => &V1_TEXT,
        };
        f.text = text.iter().filter_map(|&name| p.get(name).map(|v| (name, v.to_string()))).collect();
        match dialect {
            Dialect::V2 => {
                f.ids = parse_csv_ids(p.get("user_ids")).map_err(|_| bad("user_ids"))?;
                f.group_id = num("group_id")?;
                f.app_id = num("app_id")?;
                for (prefix, field) in V2_DATES {
                    let since = time(&format!("{prefix}_since"))?;
                    let until = time(&format!("{prefix}_until"))?;
                    if since.is_some() || until.is_some() {
                        let to = until.map_or(i64::MAX, |t| t.saturating_add(1));
                        f.windows.push((field, since.unwrap_or(i64::MIN), to));
                    }
                }
                f.custom =
                    p.0.iter()
                        .filter(|(_, v)| !v.is_empty())
                        .filter_map(|(k, v)| k.strip_prefix("custom_attributes.").map(|s| (s.to_string(), v.clone())))
                        .collect();
            }
            Dialect::V1 => {
                f.ids = num("id")?.map(|id| HashSet::from([id]));
                let (since, until) = (time("since")?, time("until")?);
                if since.is_some() || until.is_some() {
                    f.windows.push(("created_at", since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX)));
                }
            }
        }
        Ok(f)
    }

    /// Resolves `app_id` to the users who can use the app.
    pub fn bind(mut self, tenant: &Tenant) -> UserFilter {
        self.app_users = self.app_id.map(|a| tenant.app_user_ids(a).into_iter().collect());
        self
    }

    /// Whether `u` passes every filter.
    pub fn matches(&self, u: &User) -> bool {
        self.ids.as_ref().is_none_or(|s| s.contains(&u.id))
            && self.group_id.is_none_or(|g| u.group_id == Some(g))
            && self.role_id.is_none_or(|r| u.role_ids.contains(&r))
            && self.directory_id.is_none_or(|d| u.directory_id == Some(d))
            && self.app_users.as_ref().is_none_or(|s| s.contains(&u.id))
            && self.windows.iter().all(|&(field, from, to)| date_of(u, field).is_some_and(|t| from <= t && t < to))
            && self.text.iter().all(|(name, pat)| text_of(u, name).is_some_and(|v| glob_match(pat, v)))
            && self.custom.iter().all(|(short, pat)| {
                u.custom_attributes.get(short).and_then(Option::as_deref).is_some_and(|v| glob_match(pat, v))
            })
    }
}

/// A CSV of ids (blank parts skipped); `Ok(None)` when absent.
fn parse_csv_ids(csv: Option<&str>) -> Result<Option<HashSet<u64>>, ()> {
    let Some(csv) = csv else { return Ok(None) };
    let mut set = HashSet::new();
    for part in csv.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        set.insert(part.parse::<u64>().map_err(|_| ())?);
    }
    Ok(Some(set))
}
