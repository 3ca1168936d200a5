//! Role changes: rename (`PUT /api/2/roles/{id}` `{"name"}`) and set the
//! role's apps (`PUT /api/2/roles/{id}/apps` `[appIds]`, which replaces the
//! whole set). Both read `GET /api/2/roles/{id}` first.

use serde_json::{json, Value};

use super::{id_array, not_found, Ctx, Outcome};
use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::sync::mapping::kinds;

fn read_role<T: Transport>(ctx: &mut Ctx<'_, T>, role: u64) -> Result<Value> {
    ctx.read_optional(&format!("/api/2/roles/{role}"))?.ok_or_else(|| not_found(&format!("role {role}")))
}

pub fn rename<T: Transport>(ctx: &mut Ctx<'_, T>, role: u64, name: &str) -> Result<Outcome> {
    let current = read_role(ctx, role)?;
    let key = kinds::key(kinds::ROLE, role);
    let before = current.get("name").cloned().unwrap_or(Value::Null);
    if before.as_str() == Some(name) {
        return Ok(Outcome::unchanged(&key, format!("{key} is already named {name:?}: no change")));
    }
    ctx.write(Method::Put, &format!("/api/2/roles/{role}"), Some(json!({"name": name})), &[])?;
    Ok(Outcome::changed(&key, format!("rename {key} to {name:?}"))
        .with_before_after(json!({"name": before}), json!({"name": name})))
}

pub fn set_apps<T: Transport>(ctx: &mut Ctx<'_, T>, role: u64, apps: &[u64]) -> Result<Outcome> {
    let current = read_role(ctx, role)?;
    let key = kinds::key(kinds::ROLE, role);
    let before = id_array(current.get("apps"));
    if before == apps {
        return Ok(Outcome::unchanged(&key, format!("{key} already gives exactly these apps: no change")));
    }
    ctx.write(Method::Put, &format!("/api/2/roles/{role}/apps"), Some(json!(apps)), &[])?;
    Ok(Outcome::changed(&key, format!("set the apps of {key} ({} → {})", before.len(), apps.len()))
        .with_before_after(json!({"apps": before}), json!({"apps": apps})))
}
