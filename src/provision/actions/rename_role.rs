//! `custom:rename_role`: `PUT /api/2/roles/{id}` `{"name"}`, after reading the role.

use serde_json::{json, Value};

use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionSpec, ValueType};
use crate::provision::context::{read_role, role_key, Ctx, Outcome, Params};
use crate::provision::spec::{custom, param};
use crate::vocabulary::ROLE;

/// The operation's name.
pub const NAME: &str = "rename_role";

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![custom(
        NAME,
        "Rename a role.",
        vec![
            param("role", "The role, by its sync key.", ValueType::EntityKey, true, &[ROLE.name]),
            param("name", "The new name.", ValueType::Text, true, &[]),
        ],
    )]
}

/// A validated rename.
#[derive(Debug)]
pub struct Rename {
    role: u64,
    name: String,
}

/// Validate the parameters.
pub fn parse(params: &mut Params) -> Result<Rename> {
    let role = role_key(params.take("role")?)?;
    let name = params.take("name")?;
    let name = name.as_str().map(str::trim).filter(|n| !n.is_empty() && n.len() <= 255);
    Ok(Rename { role, name: name.ok_or_else(|| Error::input("name", "non-empty text"))?.to_string() })
}

/// Rename unless already so named.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, rename: Rename) -> Result<Outcome> {
    let Rename { role, name } = rename;
    let current = read_role(ctx, role)?;
    let key = ROLE.key(role);
    let before = current.get("name").cloned().unwrap_or(Value::Null);
    if before.as_str() == Some(name.as_str()) {
        return Ok(Outcome::unchanged(&key, format!("{key} is already named {name:?}: no change")));
    }
    ctx.write(Method::Put, &format!("/api/2/roles/{role}"), Some(json!({"name": name})), &[])?;
    Ok(Outcome::changed(&key, format!("rename {key} to {name:?}"))
        .with_before_after(json!({"name": before}), json!({"name": name})))
}
