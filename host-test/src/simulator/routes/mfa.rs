//! MFA (v2, "Early Preview"): `GET /api/2/mfa/users/{uid}/devices` lists the user's
//! ACTIVE devices only (`device_id` is a string); `DELETE
//! /api/2/mfa/users/{uid}/devices/{device_id}` → 204 (any enrolled device, pending
//! ones included). Unknown user or device → 404 `NotFoundError`. The v1
//! `otp_devices` listing (active and pending) is in [`super::users_v1`]. Removing a
//! device logs event 24 (`USER_REMOVED_OTP_DEVICE`).
//! (Assumption, FIDELITY.md F-MFA-2: pending devices can be deleted too.)

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use serde_json::{json, Value};

use super::parse_id;
use crate::simulator::errors::{json_response, v2_not_found};
use crate::simulator::events::{Event, EVENT_REMOVED_OTP_DEVICE};
use crate::simulator::{lock, Shared};

/// The MFA routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/2/mfa/users/{uid}/devices", get(list))
        .route("/api/2/mfa/users/{uid}/devices/{device_id}", delete(remove))
}

/// `GET /api/2/mfa/users/{uid}/devices` →
/// `[{"device_id","user_display_name","type_display_name","auth_factor_name","default"}]`.
async fn list(State(sim): State<Shared>, Path(uid): Path<String>) -> Response {
    let st = lock(&sim);
    let Some(user) = parse_id(&uid).and_then(|n| st.tenant.user(n)) else {
        return v2_not_found();
    };
    let devices: Vec<Value> = user
        .mfa_devices
        .iter()
        .filter(|d| d.active)
        .map(|d| {
            json!({
                "device_id": d.device_id,
                "user_display_name": d.user_display_name,
                "type_display_name": d.type_display_name,
                "auth_factor_name": d.auth_factor_name,
                "default": d.default,
            })
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(devices))
}

/// `DELETE /api/2/mfa/users/{uid}/devices/{device_id}` → 204.
async fn remove(State(sim): State<Shared>, Path((uid, device_id)): Path<(String, String)>) -> Response {
    let mut st = lock(&sim);
    let Some(user) = parse_id(&uid).and_then(|n| st.tenant.user_mut(n)) else {
        return v2_not_found();
    };
    let Some(pos) = user.mfa_devices.iter().position(|d| d.device_id == device_id.trim()) else {
        return v2_not_found();
    };
    let device = user.mfa_devices.remove(pos);
    let event = Event {
        event_type_id: EVENT_REMOVED_OTP_DEVICE,
        user_id: Some(user.id),
        user_name: Some(format!("{} {}", user.firstname, user.lastname).into()),
        actor_system: Some("API".to_string()),
        otp_device_id: device.device_id.parse().ok(),
        otp_device_name: Some(device.user_display_name),
        ..Event::default()
    };
    st.tenant.push_event(event);
    StatusCode::NO_CONTENT.into_response()
}
