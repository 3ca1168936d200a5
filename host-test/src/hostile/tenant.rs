//! The well-behaved answers of the hostile server: a tiny tenant.
//!
//! - `POST /auth/oauth2/v2/token`: [`CANARIES`]`.token`, 10 h, account 4242;
//! - `GET /api/2/connectors`: `[]` (so the credential has Manage All);
//! - `GET /api/2/users`: users 1-3 with `After-Cursor: page2`, then users
//!   4-5 and no `After-Cursor`;
//! - `GET /api/2/users/custom_attributes`, `/api/2/apps`: `[]`;
//! - `GET /api/2/roles`: role 7; `GET /api/2/roles/{id}/admins`: `[]`;
//! - `GET /api/1/groups`: group 5 (v1 envelope); `GET /api/1/events`: none;
//! - `GET /api/2/mfa/users/{id}/devices`: `[]`; `GET /api/2/users/{id}`: the user;
//! - anything else: a v2 404.
//!
//! Every answer carries `Date: Mon, 23 Nov 2026 12:00:00 GMT`.

use std::net::SocketAddr;

use serde_json::{json, Value};

use super::{Reply, SeenRequest};

/// Secrets the tests plant, to check that none ever comes out.
#[derive(Clone, Copy, Debug)]
pub struct Canaries {
    /// The configured `client_id`.
    pub client_id: &'static str,
    /// The configured `client_secret`.
    pub client_secret: &'static str,
    /// The access token the server grants.
    pub token: &'static str,
    /// A password a `set-credential` action sends.
    pub password: &'static str,
}

/// The canaries of every hostile test. All contain `canary`.
pub const CANARIES: Canaries = Canaries {
    client_id: "canary-client-id-5f2b8c",
    client_secret: "canary-client-secret-9d1c44",
    token: "canary-access-token-7e3a19",
    password: "canary-Password-Q1x!",
};

/// The `Date` every well-behaved answer carries.
pub const DATE: &str = "Mon, 23 Nov 2026 12:00:00 GMT";

/// The account id the token response names.
pub const ACCOUNT_ID: u64 = 4242;

/// The ids of the tenant's users, in page order.
pub const USER_IDS: [u64; 5] = [1, 2, 3, 4, 5];

/// One user as `GET /api/2/users` lists it.
pub fn user(id: u64) -> Value {
    json!({
        "id": id, "email": format!("user{id}@example.com"), "username": format!("user{id}"),
        "firstname": "User", "lastname": format!("{id}"), "status": 1, "state": 1,
        "role_ids": [7], "group_id": 5, "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-02T00:00:00Z", "custom_attributes": {}
    })
}

/// The first users page (users 1-3).
pub fn users_page_1() -> Value {
    Value::Array(USER_IDS[..3].iter().map(|id| user(*id)).collect())
}

/// The second users page (users 4-5).
pub fn users_page_2() -> Value {
    Value::Array(USER_IDS[3..].iter().map(|id| user(*id)).collect())
}

/// A v1 envelope around `data`, with `after_cursor`.
pub fn v1(data: Value, after_cursor: Option<&str>) -> Value {
    json!({
        "status": {"error": false, "code": 200, "type": "success", "message": "Success"},
        "pagination": {"before_cursor": null, "after_cursor": after_cursor, "previous_link": null, "next_link": null},
        "data": data
    })
}

/// The token response.
pub fn token() -> Value {
    json!({"access_token": CANARIES.token, "created_at": "2026-11-23T12:00:00.000Z", "expires_in": 36000,
           "refresh_token": "unused", "token_type": "bearer", "account_id": ACCOUNT_ID})
}

/// The well-behaved answer to `request`.
pub fn answer(request: &SeenRequest, _addr: SocketAddr) -> Reply {
    let path = request.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let reply = match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["auth", "oauth2", "v2", "token"]) => Reply::json(200, &token()),
        ("GET", ["api", "2", "connectors"]) => Reply::json(200, &json!([])),
        ("GET", ["api", "2", "users"]) => match request.query("cursor") {
            None => {
                Reply::json(200, &users_page_1()).with_header("after-cursor", "page2").with_header("total-count", "5")
            }
            Some(_) => Reply::json(200, &users_page_2()).with_header("total-count", "5"),
        },
        ("GET", ["api", "2", "users", "custom_attributes"]) => Reply::json(200, &json!([])),
        ("GET", ["api", "2", "users", id]) => match id.parse::<u64>() {
            Ok(id) if USER_IDS.contains(&id) => Reply::json(200, &user(id)),
            _ => not_found(),
        },
        ("GET", ["api", "2", "apps"]) => Reply::json(200, &json!([])),
        ("GET", ["api", "2", "roles"]) => Reply::json(200, &json!([{"id": 7, "name": "Role 7", "apps": []}])),
        ("GET", ["api", "2", "roles", _, "admins"]) => Reply::json(200, &json!([])),
        ("GET", ["api", "1", "groups"]) => {
            Reply::json(200, &v1(json!([{"id": 5, "name": "Group 5", "reference": null}]), None))
        }
        ("GET", ["api", "1", "events"]) => Reply::json(200, &v1(json!([]), None)),
        ("GET", ["api", "2", "mfa", "users", _, "devices"]) => Reply::json(200, &json!([])),
        _ => not_found(),
    };
    reply.with_header("date", DATE)
}

fn not_found() -> Reply {
    Reply::json(404, &json!({"message": "Not Found", "statusCode": 404, "name": "NotFoundError"}))
}
