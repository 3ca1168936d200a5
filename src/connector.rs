//! The connector instance: the state `configure` sets up and the entry points
//! the WIT exports call. Generic over the [`Transport`] so the whole flow is
//! unit-tested natively; the component uses the wasi:http transport.

use crate::client::transport::Transport;
use crate::client::Client;
use crate::config;
use crate::error::{Error, Result};
use crate::identity::connector::types::{
    AccessLevel, AccountInfo, Action, ActionOutcome, ConfigField, Endpoint, SyncPage, SyncRequest,
};
use crate::logging;
use crate::provision::{self, Mode};
use crate::sync::cursor::CursorKey;
use crate::sync::step::Account;
use crate::sync::{self, SyncCache};
use crate::vocabulary::ACCOUNT;

/// A configured connector.
pub struct Connector<T: Transport> {
    client: Client<T>,
    account: Account,
    access: AccessLevel,
    /// Authenticates this instance's cursors and checkpoints.
    cursor_key: CursorKey,
    cache: SyncCache,
}

/// The servers a connector configured with `fields` calls (see `endpoints`).
/// Validates like `configure`; no network.
pub fn endpoints(fields: &[ConfigField]) -> Result<Vec<Endpoint>> {
    Ok(vec![config::parse(fields)?.base_url.endpoint()])
}

impl<T: Transport> Connector<T> {
    /// Validate the config, authenticate and probe the scope.
    pub fn configure(transport: T, fields: &[ConfigField]) -> Result<(Connector<T>, AccountInfo)> {
        let config = config::parse(fields)?;
        let api_base_url = config.base_url.display();
        let host = config.base_url.host().to_string();
        let mut client = Client::new(transport, config);
        let token = client.authenticate()?;
        // OneLogin always sends account_id; without it, the host stands in.
        let id = token.account_id.unwrap_or_else(|| host.clone());
        let access = probe_access(&mut client)?;
        logging::info(&format!("configured for {api_base_url}, access: {}", access_name(access)));
        let config = client.config();
        let cursor_key = CursorKey::derive(&config.client_id, config.client_secret.expose(), &id);
        let account = Account { key: ACCOUNT.key(&id), id, api_base_url, host, access };
        let info = AccountInfo {
            account_key: account.key.clone(),
            account_id: account.id.clone(),
            display_name: account.host.clone(),
            api_base_url: account.api_base_url.clone(),
            access_level: access,
        };
        Ok((Connector { client, account, access, cursor_key, cache: SyncCache::default() }, info))
    }

    /// One sync page (see `sync`).
    pub fn sync(&mut self, request: &SyncRequest) -> Result<SyncPage> {
        sync::sync_page(&mut self.client, &self.account, &self.cursor_key, &mut self.cache, request)
    }

    /// What `provision` of `action` would do, without a write (see `plan`).
    pub fn plan(&mut self, action: &Action) -> Result<ActionOutcome> {
        // Each export call gets its own network-time budget.
        self.client.begin_call();
        provision::run(&mut self.client, self.access, action, Mode::Plan)
    }

    /// Run one provisioning action (see `provision`).
    pub fn provision(&mut self, action: &Action) -> Result<ActionOutcome> {
        self.client.begin_call();
        provision::run(&mut self.client, self.access, action, Mode::Apply)
    }
}

/// The access level as the WIT spells it, for log lines.
fn access_name(access: AccessLevel) -> &'static str {
    match access {
        AccessLevel::Read => "read",
        AccessLevel::Manage => "manage",
        AccessLevel::AuthenticateOnly => "authenticate-only",
    }
}

/// What the credentials may do. `GET /api/2/connectors` needs Manage All (the
/// probe baton-onelogin uses); `GET /api/2/users` needs a read scope.
fn probe_access<T: Transport>(client: &mut Client<T>) -> Result<AccessLevel> {
    match client.get_json("/api/2/connectors?limit=1") {
        Ok(_) => return Ok(AccessLevel::Manage),
        Err(Error::InsufficientScope(_) | Error::AuthenticationFailed(_) | Error::NotFound(_)) => {}
        Err(other) => return Err(other),
    }
    match client.get_json("/api/2/users?limit=1&fields=id") {
        Ok(_) => Ok(AccessLevel::Read),
        Err(Error::InsufficientScope(_)) => Ok(AccessLevel::AuthenticateOnly),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::testing::{Scripted, TOKEN};
    use crate::identity::connector::types::EntitlementChange;
    use serde_json::Value;

    fn fields() -> Vec<ConfigField> {
        [("client_id", "id"), ("client_secret", "secret"), ("subdomain", "acme")]
            .iter()
            .map(|(n, v)| ConfigField { name: n.to_string(), value: v.to_string() })
            .collect()
    }

    const FORBIDDEN: &str = r#"{"statusCode":403,"name":"ForbiddenError","message":"Insufficient Permission"}"#;

    #[test]
    fn configure_probes_manage_then_read() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(403, &[], FORBIDDEN);
        script.push(200, &[], r#"[{"id":1}]"#);
        let (_, info) = Connector::configure(&script, &fields()).unwrap();
        assert_eq!(info.access_level, AccessLevel::Read);
        assert_eq!(info.account_key, "onelogin_account:42");
        assert_eq!(info.api_base_url, "https://acme.onelogin.com");
        let requests = script.requests.borrow();
        assert!(requests.iter().all(|r| r.authority == "acme.onelogin.com"));
    }

    fn request(cursor: Option<String>, kinds: &[&str]) -> SyncRequest {
        SyncRequest {
            cursor,
            max_items: 1,
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            checkpoint: None,
            max_wait_ms: 0,
            concurrency: 4,
        }
    }

    #[test]
    fn sync_walks_the_selected_phases_and_resumes_from_any_cursor() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let (mut connector, _) = Connector::configure(&script, &fields()).unwrap();
        let v1 = |data: &str| format!(r#"{{"status":{{"error":false,"code":200}},"pagination":{{}},"data":{data}}}"#);
        // custom attributes, groups, roles, admins of roles 7 and 8, apps, users (2 pages)
        script.push(200, &[], r#"[{"id":3,"name":"Cost centre","shortname":"cost"}]"#);
        script.push(200, &[], &v1(r#"[{"id":5,"name":"g"}]"#));
        script.push(200, &[], r#"[{"id":7,"name":"r7","apps":[9]},{"id":8,"name":"r8"}]"#);
        script.push(200, &[], r#"[{"id":2}]"#);
        script.push(200, &[], "[]");
        script.push(200, &[], r#"[{"id":9,"name":"app"}]"#);
        script.push(200, &[("after-cursor", "u2"), ("total-count", "2")], r#"[{"id":1,"group_id":5,"role_ids":[7]}]"#);
        script.push(200, &[("total-count", "2")], r#"[{"id":2,"role_ids":[]}]"#);

        let kinds = ["users", "groups", "roles", "apps"];
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let page = connector.sync(&request(cursor.clone(), &kinds)).unwrap();
            cursor = page.next_cursor.clone();
            pages.push(page);
            if cursor.is_none() {
                break;
            }
        }
        let keys: Vec<String> = pages
            .iter()
            .flat_map(|p| p.entities.iter())
            .filter(|e| e.entity_type != "onelogin_entitlement")
            .map(|e| e.key.clone())
            .collect();
        assert_eq!(
            keys,
            [
                "onelogin_account:42",
                "onelogin_service:42:sso",
                "onelogin_service:42:mfa",
                "onelogin_custom_attribute:3",
                "onelogin_group:5",
                "onelogin_role:7",
                "onelogin_role:8",
                "onelogin_application:9",
                "onelogin_user:1",
                "onelogin_user:2",
            ]
        );
        let assigned: Vec<(String, String)> = pages
            .iter()
            .flat_map(|p| p.relationships.iter())
            .filter(|r| r.class == "ASSIGNED")
            .map(|r| (r.from_key.clone(), r.to_key.clone()))
            .collect();
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            assigned,
            [
                pair("onelogin_user:2", "onelogin_role:7"),
                pair("onelogin_user:1", "onelogin_group:5"),
                pair("onelogin_user:1", "onelogin_role:7")
            ],
            "admin of role 7, then the group and role 7 of user 1 (group_id, role_ids)"
        );
        let last = pages.last().unwrap();
        assert!(last.checkpoint.is_none(), "no Date header was seen, so no checkpoint");
        let report: Vec<(String, String)> =
            last.report.iter().map(|r| (r.kind.clone(), format!("{:?}", r.status))).collect();
        assert!(report.contains(&pair("users", "KindStatus::Complete")), "{report:?}");
        assert!(report.iter().any(|(k, s)| k == "events" && s.contains("not selected")), "{report:?}");
        // Token and probe, then exactly one request per step: no refetches in one instance.
        assert_eq!(script.paths().len(), 2 + 8);
        assert!(
            script.paths()[9].starts_with("GET /api/2/users?cursor=u2&fields=id%2Cemail%2C"),
            "{}",
            script.paths()[9]
        );

        // A cursor resumed in a fresh instance re-reads the roles it needs, then continues.
        let admin_cursor =
            pages.iter().find(|p| p.progress.phase == "role_admins").and_then(|p| p.next_cursor.clone()).unwrap();
        let fresh = Scripted::default();
        fresh.push(200, &[], TOKEN);
        fresh.push(200, &[], "[]");
        let (mut resumed, _) = Connector::configure(&fresh, &fields()).unwrap();
        fresh.push(200, &[], r#"[{"id":7,"name":"r7","apps":[9]},{"id":8,"name":"r8"}]"#);
        fresh.push(200, &[], r#"[{"id":2}]"#);
        fresh.push(200, &[], "[]");
        let page = resumed.sync(&request(Some(admin_cursor), &[])).unwrap();
        assert_eq!(page.relationships.len(), 1);
        assert_eq!(
            fresh.paths()[2..],
            [
                "GET /api/2/roles?limit=650",
                "GET /api/2/roles/7/admins?limit=100",
                "GET /api/2/roles/8/admins?limit=100"
            ]
        );
    }

    #[test]
    fn cursor_text_never_holds_the_token_or_secret() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let (mut connector, _) = Connector::configure(&script, &fields()).unwrap();
        script.push(200, &[], r#"[{"id":1,"name":"attr"}]"#);
        let page = connector.sync(&request(None, &[])).unwrap();
        let cursor = page.next_cursor.unwrap();
        let (body, _tag) = cursor.split_once('.').unwrap();
        let decoded =
            String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, body).unwrap())
                .unwrap();
        assert!(!decoded.contains("tok") && !decoded.contains("secret"), "{decoded}");
        let _: Value = serde_json::from_str(&decoded).unwrap();
    }

    #[test]
    fn grant_checks_state_and_is_idempotent() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let (mut connector, _) = Connector::configure(&script, &fields()).unwrap();
        let grant = Action::Grant(EntitlementChange {
            principal: "onelogin_user:1".into(),
            resource: "onelogin_role:7".into(),
            permission: "member".into(),
        });
        script.push(200, &[], r#"{"id":7,"name":"r"}"#);
        script.push(200, &[], r#"{"id":1,"role_ids":[]}"#);
        script.push(200, &[], r#"[{"id":1}]"#);
        assert!(connector.provision(&grant).unwrap().changed);
        let last = script.requests.borrow().last().cloned().unwrap();
        assert_eq!(last.path_and_query, "/api/2/roles/7/users");
        assert_eq!(last.body.as_deref(), Some(b"[1]".as_slice()));

        script.push(200, &[], r#"{"id":7,"name":"r"}"#);
        script.push(200, &[], r#"{"id":1,"role_ids":[7]}"#);
        let again = connector.provision(&grant).unwrap();
        assert!(!again.changed, "{}", again.summary);
    }

    #[test]
    fn read_only_credentials_cannot_provision_and_send_nothing() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(403, &[], FORBIDDEN);
        script.push(200, &[], "[]");
        let (mut connector, _) = Connector::configure(&script, &fields()).unwrap();
        let before = script.paths().len();
        let revoke = Action::Revoke(EntitlementChange {
            principal: "onelogin_user:1".into(),
            resource: "onelogin_role:7".into(),
            permission: "member".into(),
        });
        assert!(matches!(connector.provision(&revoke), Err(Error::InsufficientScope(_))));
        assert_eq!(script.paths().len(), before);
    }

    #[test]
    fn a_create_is_looked_up_after_a_failure_only_when_it_may_have_been_sent() {
        use crate::error::TransportKind;
        let create = Action::CreateAccount(r#"{"username":"ada","email":"ada@example.com"}"#.into());
        let lookups = ["GET /api/2/users?email=ada%40example.com", "GET /api/2/users?username=ada"];
        for (kind, retryable) in [(TransportKind::HostRefused, false), (TransportKind::Dns, true)] {
            let script = Scripted::default();
            script.push(200, &[], TOKEN);
            script.push(200, &[], "[]");
            let (mut connector, _) = Connector::configure(&script, &fields()).unwrap();
            script.push(200, &[], "[]");
            script.push(200, &[], "[]");
            script.push_failure_of(kind, retryable);
            let before = script.paths().len();
            let error = connector.provision(&create).unwrap_err();
            assert!(matches!(error, Error::Transport { kind: k, .. } if k == kind), "{error:?}");
            let sent = script.paths()[before..].to_vec();
            assert_eq!(sent, [lookups[0], lookups[1], "POST /api/2/users"], "{kind:?}: nothing sent, no lookup");
        }
        for kind in [TransportKind::Connection, TransportKind::Timeout, TransportKind::Tls, TransportKind::Protocol] {
            let script = Scripted::default();
            script.push(200, &[], TOKEN);
            script.push(200, &[], "[]");
            let (mut connector, _) = Connector::configure(&script, &fields()).unwrap();
            script.push(200, &[], "[]");
            script.push(200, &[], "[]");
            script.push_failure_of(kind, false);
            script.push(200, &[], r#"[{"id":5,"email":"ada@example.com","username":"ada"}]"#);
            let before = script.paths().len();
            let outcome = connector.provision(&create).unwrap();
            assert_eq!(outcome.key.as_deref(), Some("onelogin_user:5"), "{kind:?}");
            assert!(outcome.notes.iter().any(|n| n.contains("lost")), "{:?}", outcome.notes);
            let sent = script.paths()[before..].to_vec();
            assert_eq!(sent, [lookups[0], lookups[1], "POST /api/2/users", lookups[0]], "{kind:?}: looked up");
        }
    }

    #[test]
    fn unlock_refused_because_someone_else_unlocked_is_no_change() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let (mut connector, _) = Connector::configure(&script, &fields()).unwrap();
        let unlock = Action::Custom(crate::identity::connector::types::CustomAction {
            name: "unlock_user".into(),
            params: r#"{"principal":"onelogin_user:1"}"#.into(),
        });
        // Locked when read; unlocked by the time the call arrives: OneLogin's 422
        // (docs unlock-user), then the re-read shows it unlocked.
        script.push(200, &[], r#"{"id":1,"status":3}"#);
        script.push(422, &[], r#"{"message":"User cannot be unlocked"}"#);
        script.push(200, &[], r#"{"id":1,"status":1}"#);
        let outcome = connector.provision(&unlock).unwrap();
        assert!(!outcome.changed, "{}", outcome.summary);
        // Still locked after the refusal: an error that says why.
        script.push(200, &[], r#"{"id":1,"status":3}"#);
        script.push(422, &[], r#"{"message":"User cannot be unlocked"}"#);
        script.push(200, &[], r#"{"id":1,"status":3}"#);
        let error = connector.provision(&unlock).unwrap_err();
        assert!(error.to_string().contains("User cannot be unlocked"), "{error}");
    }
}
