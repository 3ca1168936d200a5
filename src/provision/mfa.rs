//! MFA devices: remove one (`DELETE /api/2/mfa/users/{uid}/devices/{device_id}`),
//! after checking it is among the user's devices (`GET …/devices`).

use serde_json::{json, Value};

use super::users::read_user;
use super::{Ctx, Outcome};
use crate::client::transport::{Method, Transport};
use crate::error::Result;
use crate::sync::mapping::kinds;

pub fn remove_device<T: Transport>(ctx: &mut Ctx<'_, T>, user: u64, device_id: &str) -> Result<Outcome> {
    read_user(ctx, user)?;
    let key = kinds::key(kinds::USER, user);
    let devices = ctx.read(&format!("/api/2/mfa/users/{user}/devices"))?;
    let present = devices.as_array().into_iter().flatten().any(|d| match d.get("device_id") {
        Some(Value::String(id)) => id == device_id,
        Some(Value::Number(id)) => id.to_string() == device_id,
        _ => false,
    });
    if !present {
        return Ok(Outcome::unchanged(&key, format!("{key} has no MFA device {device_id}: no change")));
    }
    let path = format!("/api/2/mfa/users/{user}/devices/{}", crate::client::pagination::percent_encode(device_id));
    ctx.write(Method::Delete, &path, None, &[])?;
    Ok(Outcome::changed(&key, format!("remove MFA device {device_id} of {key}"))
        .with_before_after(json!({"device": true}), json!({"device": false})))
}
