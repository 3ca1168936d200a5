//! `custom:remove_mfa_device`: `DELETE /api/2/mfa/users/{uid}/devices/{device_id}`,
//! after checking it is among the user's devices (`GET …/devices`).

use serde_json::{json, Value};

use crate::client::pagination::percent_encode;
use crate::client::transport::{Method, Transport};
use crate::error::{Error, Result};
use crate::identity::connector::types::{ActionSpec, ValueType};
use crate::provision::context::{principal, read_user, Ctx, Outcome, Params};
use crate::provision::spec::{custom, param, user};
use crate::vocabulary::USER;

/// The operation's name.
pub const NAME: &str = "remove_mfa_device";

/// The describe entry.
pub fn specs() -> Vec<ActionSpec> {
    vec![custom(
        NAME,
        "Remove one of a user's MFA devices.",
        vec![user("The user."), param("device_id", "The device id.", ValueType::Text, true, &[])],
    )]
}

/// A validated removal.
#[derive(Debug)]
pub struct RemoveDevice {
    user: u64,
    device_id: String,
}

/// Validate the parameters.
pub fn parse(params: &mut Params) -> Result<RemoveDevice> {
    let user = principal(params.take("principal")?)?;
    let device_id = match params.take("device_id")? {
        Value::String(s)
            if !s.trim().is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            s
        }
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => return Err(Error::input("device_id", "the device_id sync reports")),
    };
    Ok(RemoveDevice { user, device_id })
}

/// Remove the device if the user has it.
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, removal: RemoveDevice) -> Result<Outcome> {
    let RemoveDevice { user, device_id } = removal;
    read_user(ctx, user)?;
    let key = USER.key(user);
    let devices = ctx.read(&format!("/api/2/mfa/users/{user}/devices"))?;
    let present = devices.as_array().into_iter().flatten().any(|d| match d.get("device_id") {
        Some(Value::String(id)) => *id == device_id,
        Some(Value::Number(id)) => id.to_string() == device_id,
        _ => false,
    });
    if !present {
        return Ok(Outcome::unchanged(&key, format!("{key} has no MFA device {device_id}: no change")));
    }
    let path = format!("/api/2/mfa/users/{user}/devices/{}", percent_encode(&device_id));
    ctx.write(Method::Delete, &path, None, &[])?;
    Ok(Outcome::changed(&key, format!("remove MFA device {device_id} of {key}"))
        .with_before_after(json!({"device": true}), json!({"device": false})))
}
