//! v1 user actions and invites (status-envelope dialect):
//!
//! * `PUT /api/1/users/{id}/logout`, `lock_user`, `set_state`, `add_roles`,
//!   `remove_roles`, and `PUT /api/1/users/set_password_clear_text/{id}`;
//! * `POST /api/1/invites/get_invite_link` and `send_invite_link`;
//! * `GET /api/1/users/{id}/otp_devices` (MFA devices, active and pending).
//!
//! Success: `{"status":{"type":"success","code":200,"message":"Success","error":false}}`
//! (plus `data` for invite links and OTP devices). Errors: the v1 envelope with
//! `error: true`; an unknown user is 404 "User for id X was not found"; a malformed
//! body is 400.
//! (Assumption, FIDELITY.md F-UW-27, F-UW-28: these texts; `Content-Type` is not checked.)

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use super::parse_id;
use super::users::meets_password_policy;
use crate::simulator::errors::{json_response, v1_bad_attribute, v1_bad_request, v1_not_found, v1_success_status};
use crate::simulator::events::{EVENT_LOCKED, EVENT_UPDATED};
use crate::simulator::tenant::{iso_millis, now_iso, now_millis, User};
use crate::simulator::{lock, Inner, Shared};

/// `locked_until` of a user locked with `{"locked_until":0}` (indefinitely).
pub const LOCKED_INDEFINITELY: &str = "2099-12-31T23:59:59.000Z";

/// The invite link base, on the tenant's host ([`crate::simulator::SUBDOMAIN`]).
pub const INVITE_LINK_BASE: &str = "https://acme.onelogin.com/password/";

/// The v1 user action routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/1/users/{id}/logout", put(logout))
        .route("/api/1/users/{id}/lock_user", put(lock_user))
        .route("/api/1/users/{id}/set_state", put(set_state))
        .route("/api/1/users/{id}/add_roles", put(add_roles))
        .route("/api/1/users/{id}/remove_roles", put(remove_roles))
        .route("/api/1/users/{id}/otp_devices", get(otp_devices))
        .route("/api/1/users/set_password_clear_text/{id}", put(set_password_clear_text))
        .route("/api/1/invites/get_invite_link", post(get_invite_link))
        .route("/api/1/invites/send_invite_link", post(send_invite_link))
}

fn success() -> Response {
    json_response(StatusCode::OK, &json!({"status": v1_success_status()}))
}

fn user_not_found(id: &str) -> Response {
    v1_not_found(&format!("User for id {id} was not found"))
}

/// Parses a v1 JSON object body.
fn object_body(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        _ => Err(v1_bad_request("Request body must be a JSON object")),
    }
}

/// Runs `f` on the user with path id `id` (404 when unknown; 400 with the docs'
/// object-valued message `{"attribute":"id","description":"ID is incorrect"}` when the
/// id is not a number: FIDELITY.md F-ERR-3).
fn with_user(sim: &Shared, id: &str, f: impl FnOnce(&mut Inner, u64) -> Result<Response, Response>) -> Response {
    let mut st = lock(sim);
    let Some(uid) = parse_id(id) else {
        return v1_bad_attribute("id", "ID is incorrect");
    };
    if st.tenant.user(uid).is_none() {
        return user_not_found(id);
    }
    f(&mut st, uid).unwrap_or_else(|r| r)
}

fn user_mut(st: &mut Inner, uid: u64) -> Result<&mut User, Response> {
    st.tenant.user_mut(uid).ok_or_else(|| user_not_found(&uid.to_string()))
}

/// `PUT /api/1/users/{id}/logout`: ends the OneLogin session (counted in
/// [`User::sessions_ended`]).
async fn logout(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_user(&sim, &id, |st, uid| {
        user_mut(st, uid)?.sessions_ended += 1;
        st.tenant.touch_user(uid);
        Ok(success())
    })
}

/// `PUT /api/1/users/{id}/lock_user` `{"locked_until": minutes}` (integer ≥ 0) → status
/// 3 for that many minutes; 0 locks for the user policy's lock period
/// ([`crate::simulator::SimulatorConfig::lock_policy_minutes`]), and when that is 0
/// too, indefinitely (until [`LOCKED_INDEFINITELY`]). Source: docs lock-user (0 = the
/// policy's lock period, indefinite without one); KB0010420 (every tenant has a
/// default user policy). Assumption (FIDELITY.md F-UW-16): one policy for every user,
/// and a period of 0 meaning "until unlocked".
async fn lock_user(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    with_user(&sim, &id, |st, uid| {
        let obj = object_body(&body)?;
        let minutes = obj
            .get("locked_until")
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .ok_or_else(|| v1_bad_request("locked_until is invalid"))?;
        let minutes = if minutes == 0 { st.lock_policy_minutes } else { minutes };
        let until = if minutes == 0 {
            LOCKED_INDEFINITELY.to_string()
        } else {
            let ms = i64::try_from(minutes).ok().and_then(|m| m.checked_mul(60_000));
            match ms.and_then(|ms| now_millis().checked_add(ms)) {
                Some(t) => iso_millis(t),
                None => return Err(v1_bad_request("locked_until is invalid")),
            }
        };
        let user = user_mut(st, uid)?;
        user.status = 3;
        user.locked_until = Some(until);
        user.updated_at = now_iso();
        st.tenant.log_user_event(EVENT_LOCKED, uid, None);
        Ok(success())
    })
}

/// `PUT /api/1/users/{id}/set_state` `{"state": 0..=3}`; 400 "state is invalid" /
/// "user is already in this state".
async fn set_state(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    with_user(&sim, &id, |st, uid| {
        let obj = object_body(&body)?;
        let state = obj
            .get("state")
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .filter(|&s| s <= 3)
            .ok_or_else(|| v1_bad_request("state is invalid"))? as u8;
        let user = user_mut(st, uid)?;
        if user.state == state {
            return Err(v1_bad_request("user is already in this state"));
        }
        user.state = state;
        user.updated_at = now_iso();
        st.tenant.log_user_event(EVENT_UPDATED, uid, None);
        Ok(success())
    })
}

/// `PUT /api/1/users/set_password_clear_text/{id}`
/// `{"password","password_confirmation","validate_policy":bool}` (validate_policy
/// defaults to false). Records the change (never the password); a pending (7) or
/// awaiting-reset (5) user becomes active (1).
/// (Assumption, FIDELITY.md F-UW-10, F-UW-18: the default and the activation.)
async fn set_password_clear_text(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    with_user(&sim, &id, |st, uid| {
        let obj = object_body(&body)?;
        let password = obj
            .get("password")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| v1_bad_request("password is required"))?;
        let confirmation = obj.get("password_confirmation").and_then(Value::as_str);
        if confirmation != Some(password) {
            return Err(v1_bad_request("password and password_confirmation do not match"));
        }
        let validate = match obj.get("validate_policy") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            Some(_) => return Err(v1_bad_request("validate_policy is invalid")),
        };
        if validate && !meets_password_policy(password) {
            return Err(v1_bad_request("password does not meet policy requirements"));
        }
        let now = now_iso();
        let user = user_mut(st, uid)?;
        user.password_set = true;
        user.password_changes += 1;
        user.password_changed_at = Some(now.clone());
        if matches!(user.status, 5 | 7) {
            user.status = 1;
            if user.activated_at.is_none() {
                user.activated_at = Some(now.clone());
            }
        }
        user.updated_at = now;
        st.tenant.log_user_event(EVENT_UPDATED, uid, None);
        Ok(success())
    })
}

/// Parses `{"role_id_array":[…]}` (ints or numeric strings; non-empty), deduplicated.
fn role_id_array(body: &[u8]) -> Result<Vec<u64>, Response> {
    let bad = || v1_bad_request("role_id_array must be a non-empty array of role ids");
    match object_body(body)?.get("role_id_array") {
        Some(Value::Array(items)) => super::id_list(items).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// `PUT /api/1/users/{id}/add_roles` `{"role_id_array":[…]}`. Already-held roles are a
/// no-op. ASSUMPTION (FIDELITY.md F-UW-20): an unknown role id is 400 "role_id_array contains an invalid
/// role id" and nothing changes (the documented error text is unknown).
async fn add_roles(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    with_user(&sim, &id, |st, uid| {
        let roles = role_id_array(&body)?;
        if roles.iter().any(|&r| st.tenant.role(r).is_none()) {
            return Err(v1_bad_request("role_id_array contains an invalid role id"));
        }
        for r in roles {
            st.tenant.add_to_role(r, &[uid], false);
        }
        Ok(success())
    })
}

/// `PUT /api/1/users/{id}/remove_roles` `{"role_id_array":[…]}`. Any role the user does
/// not hold (or that does not exist) → 400 "input role_id_array is not included as user
/// roles" and nothing changes. Memberships granted by a user mapping are NOT removed
/// (documented: "will not remove roles that were added … via mapping"); the call still
/// succeeds.
/// (Assumption, FIDELITY.md F-UW-22: the silent success.)
async fn remove_roles(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    with_user(&sim, &id, |st, uid| {
        let roles = role_id_array(&body)?;
        let held = st.tenant.user(uid).map(|u| u.role_ids.clone()).unwrap_or_default();
        if roles.iter().any(|r| !held.contains(r)) {
            return Err(v1_bad_request("input role_id_array is not included as user roles"));
        }
        for r in roles {
            let mapped = st.tenant.role(r).is_some_and(|role| role.mapped_users.contains(&uid));
            if !mapped {
                st.tenant.remove_from_role(r, &[uid], false);
            }
        }
        Ok(success())
    })
}

/// `GET /api/1/users/{id}/otp_devices` → `data.otp_devices`: active AND pending devices
/// with an int `id`.
///
/// Assumption (FIDELITY.md F-MFA-4): `needs_trigger` for SMS only; no `phone_number`.
async fn otp_devices(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_user(&sim, &id, |st, uid| {
        let user = user_mut(st, uid)?;
        let devices: Vec<Value> = user
            .mfa_devices
            .iter()
            .map(|d| {
                json!({
                    "id": d.device_id.parse::<u64>().unwrap_or(0),
                    "active": d.active,
                    "default": d.default,
                    "needs_trigger": d.auth_factor_name == "SMS",
                    "type_display_name": d.type_display_name,
                    "user_display_name": d.user_display_name,
                    "auth_factor_name": d.auth_factor_name,
                })
            })
            .collect();
        Ok(json_response(StatusCode::OK, &json!({"status": v1_success_status(), "data": {"otp_devices": devices}})))
    })
}

/// The user whose email (case-insensitive) is `body.email`; 400 without an email, 404
/// when nobody has it: 400 "Email Parameter is missing" / 400 "No User exists for input
/// email", as docs generate-invite-link answer. (Assumption, FIDELITY.md F-UW-26: the
/// match ignores case; one copy of the docs calls the email case-sensitive.)
fn invitee(st: &Inner, body: &[u8]) -> Result<(u64, Map<String, Value>), Response> {
    let obj = object_body(body)?;
    let email = obj
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| v1_bad_request("Email Parameter is missing"))?;
    let user = st
        .tenant
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
        .ok_or_else(|| v1_bad_request("No User exists for input email"))?;
    Ok((user.id, obj))
}

/// `POST /api/1/invites/get_invite_link` `{"email"}` →
/// `{"status":…,"data":["https://acme.onelogin.com/password/<token>"]}`. The token is
/// 40 hex chars derived from (seed, user id, links issued so far): random-looking,
/// deterministic, and different on every call.
/// (Assumption, FIDELITY.md F-UW-23: the link form; documented `…/password/reset?token=…`.)
async fn get_invite_link(State(sim): State<Shared>, body: Bytes) -> Response {
    let mut st = lock(&sim);
    let (uid, _) = match invitee(&st, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let counter = st.tenant.invite_links_issued;
    st.tenant.invite_links_issued += 1;
    let mut rng = ChaCha8Rng::seed_from_u64(st.tenant.seed ^ uid.rotate_left(20) ^ counter.wrapping_mul(0x9E37_79B9));
    rng.set_stream(2);
    let token: String = (0..20).map(|_| format!("{:02x}", rng.random::<u8>())).collect();
    json_response(
        StatusCode::OK,
        &json!({"status": v1_success_status(), "data": [format!("{INVITE_LINK_BASE}{token}")]}),
    )
}

/// `POST /api/1/invites/send_invite_link` `{"email","personal_email"?}` → success;
/// counted in [`User::invites_sent`] and sets `invitation_sent_at`.
async fn send_invite_link(State(sim): State<Shared>, body: Bytes) -> Response {
    let mut st = lock(&sim);
    let (uid, obj) = match invitee(&st, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if obj.get("personal_email").is_some_and(|v| !v.is_null() && !v.is_string()) {
        return v1_bad_request("personal_email is invalid");
    }
    if let Some(user) = st.tenant.user_mut(uid) {
        user.invites_sent += 1;
        user.invitation_sent_at = Some(now_iso());
        st.tenant.touch_user(uid);
    }
    success()
}
