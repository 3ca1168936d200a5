//! `custom:set_role_apps`: `PUT /api/2/roles/{id}/apps` `[appIds]`, which
//! replaces the role's whole set of apps; after reading the role.

use serde_json::{json, Value};

use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionSpec, ValueType};
use crate::provision::context::{parse_key, read_role, role_key, Ctx, Outcome, Params};
use crate::provision::spec::{custom, param};
use crate::vocabulary::{id_set, APPLICATION, ROLE};

/// The operation's name.
pub const NAME: &str = "set_role_apps";

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![custom(
        NAME,
        "Set the apps a role gives (replaces the whole set).",
        vec![
            param("role", "The role, by its sync key.", ValueType::EntityKey, true, &[ROLE.name]),
            param("apps", "A JSON list of onelogin_application keys or ids.", ValueType::List, true, &[]),
        ],
    )]
}

/// A validated app set.
#[derive(Debug)]
pub struct SetApps {
    role: u64,
    apps: Vec<u64>,
}

/// Validate the parameters.
pub fn parse(params: &mut Params) -> Result<SetApps> {
    let role = role_key(params.take("role")?)?;
    let list_error = || Error::input("apps", "a list of onelogin_application keys or ids");
    let Value::Array(items) = params.take("apps")? else { return Err(list_error()) };
    let mut apps = items
        .iter()
        .map(|item| match item {
            Value::String(key) => parse_key(key, &APPLICATION, "apps"),
            Value::Number(n) => n.as_u64().filter(|id| *id > 0).ok_or_else(|| Error::input("apps", "ids are positive")),
            _ => Err(list_error()),
        })
        .collect::<Result<Vec<u64>>>()?;
    apps.sort_unstable();
    apps.dedup();
    Ok(SetApps { role, apps })
}

/// Set the apps unless the role already gives exactly these.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, change: SetApps) -> Result<Outcome> {
    let SetApps { role, apps } = change;
    let current = read_role(ctx, role)?;
    let key = ROLE.key(role);
    let before = id_set(current.get("apps"));
    if before == apps {
        return Ok(Outcome::unchanged(&key, format!("{key} already gives exactly these apps: no change")));
    }
    ctx.write(Method::Put, &format!("/api/2/roles/{role}/apps"), Some(json!(apps)), &[])?;
    Ok(Outcome::changed(&key, format!("set the apps of {key} ({} → {})", before.len(), apps.len()))
        .with_before_after(json!({"apps": before}), json!({"apps": apps})))
}
