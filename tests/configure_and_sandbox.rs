//! `configure` errors, `endpoints` and the host's allow-list built from it,
//! typed transport failures, re-configure, and secrets staying secret.

mod common;

use std::collections::BTreeMap;

use common::{page, Fixture, TENANT_HOST};
use host_test::harness::config::component_path;
use host_test::harness::types::{AccessLevel, Endpoint, ErrorKind, Scheme, TransportKind, ValueType};
use host_test::harness::{sync_all, Harness, HarnessConfig, SyncOptions};
use host_test::simulator::Credentials;

fn with(mut fields: Vec<(String, String)>, name: &str, value: Option<&str>) -> Vec<(String, String)> {
    fields.retain(|(n, _)| n != name);
    if let Some(value) = value {
        fields.push((name.to_string(), value.to_string()));
    }
    fields
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_needs_no_configuration_or_network() {
    let fixture = Fixture::new(5, 1).await;
    let mut instance = fixture.harness.instantiate().await.unwrap();
    let info = instance.describe().await.unwrap();
    assert_eq!((info.name.as_str(), info.interface_version.as_str()), ("onelogin", "0.6.0"));
    let permissions: BTreeMap<&str, Vec<&str>> = info
        .permissions
        .iter()
        .map(|p| (p.entity_type.as_str(), p.permissions.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        permissions,
        BTreeMap::from([
            ("onelogin_application", vec!["access"]),
            ("onelogin_group", vec!["member"]),
            ("onelogin_role", vec!["member", "admin"]),
        ])
    );
    let secret = info.config_schema.iter().find(|f| f.name == "client_secret").unwrap();
    assert!(secret.secret && secret.required);
    let region = info.config_schema.iter().find(|f| f.name == "region").unwrap();
    assert_eq!((region.value_type, region.allowed_values.clone()), (ValueType::Choice, vec!["us".into(), "eu".into()]));
    assert!(info.actions.iter().any(|a| a.name == "grant") && info.actions.iter().any(|a| a.name == "revoke"));
    assert!(info.entity_kinds.iter().any(|k| k.entity_type == "onelogin_user" && k.classes == ["User"]));
    assert_eq!(fixture.sim.total_requests(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_config_names_the_field_and_makes_no_request() {
    let fixture = Fixture::new(5, 1).await;
    let good = Fixture::fields(&fixture.sim.manage_credentials());
    let cases = [
        (with(good.clone(), "client_secret", None), "client_secret"),
        (with(good.clone(), "client_id", Some("")), "client_id"),
        (with(good.clone(), "subdomain", Some("acme.onelogin.com")), "subdomain"),
        (with(good.clone(), "subdomain", None), "subdomain"),
        (with(good.clone(), "region", Some("us")), "region"),
        (with(with(good.clone(), "subdomain", None), "base_url", Some("http://acme.example")), "base_url"),
        (with(good.clone(), "colour", Some("blue")), "colour"),
    ];
    for (fields, field) in cases {
        let mut instance = fixture.harness.instantiate().await.unwrap();
        let error = instance.configure(&fields).await.unwrap().expect_err(field);
        assert_eq!(error.kind, ErrorKind::InvalidConfig(field.to_string()), "{}", error.message);
        assert!(!error.retryable);
    }
    assert_eq!(fixture.sim.total_requests(), 0);
    assert_eq!(fixture.harness.request_log().total(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_fail_authentication() {
    let fixture = Fixture::new(5, 1).await;
    let mut wrong = fixture.sim.manage_credentials();
    wrong.client_secret.push('x');
    let mut instance = fixture.harness.instantiate().await.unwrap();
    let error = instance.configure(&Fixture::fields(&wrong)).await.unwrap().expect_err("bad secret");
    assert_eq!(error.kind, ErrorKind::AuthenticationFailed);
    assert!(!error.retryable);
    // Nothing was kept: sync still says not configured.
    let sync = instance.sync_page(common::page(None, 10)).await.unwrap().expect_err("not configured");
    assert_eq!(sync.kind, ErrorKind::NotConfigured);
}

/// Repeated bad credentials: the token endpoint answers 429 `text/html`
/// without rate headers (FIDELITY.md F-TOK-14); configure reports it as
/// rate-limited (retryable), not as bad credentials.
#[tokio::test(flavor = "multi_thread")]
async fn repeated_bad_credentials_are_throttled_as_html_and_reported_rate_limited() {
    let fixture = Fixture::new(5, 1).await;
    let mut wrong = fixture.sim.manage_credentials();
    wrong.client_secret.push('x');
    let failures = host_test::simulator::TokenThrottle::default().failures;
    for attempt in 0..=failures {
        let mut instance = fixture.harness.instantiate().await.unwrap();
        let error = instance.configure(&Fixture::fields(&wrong)).await.unwrap().expect_err("bad secret");
        if attempt < failures {
            assert_eq!(error.kind, ErrorKind::AuthenticationFailed, "attempt {attempt}: {}", error.message);
        } else {
            assert!(matches!(error.kind, ErrorKind::RateLimited(_)), "attempt {attempt}: {error:?}");
            assert!(error.retryable);
        }
    }
    assert_eq!(fixture.sim.total_requests(), u64::from(failures) + 1, "one token request per configure");
}

#[tokio::test(flavor = "multi_thread")]
async fn configure_reports_account_and_access_level() {
    let fixture = Fixture::new(5, 1).await;
    let (_, manage) = fixture.manage().await;
    assert_eq!(manage.access_level, AccessLevel::Manage);
    assert_eq!(manage.account_key, format!("onelogin_account:{}", fixture.sim.tenant().account_id));
    assert_eq!(manage.api_base_url, format!("https://{TENANT_HOST}"));
    let (_, read) = fixture.configured(&fixture.sim.read_credentials()).await;
    assert_eq!(read.access_level, AccessLevel::Read);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_outside_the_allow_list_is_refused_before_any_traffic() {
    let fixture = Fixture::new(5, 1).await;
    let fields = with(
        with(Fixture::fields(&fixture.sim.manage_credentials()), "subdomain", None),
        "base_url",
        Some("https://evil.example"),
    );
    let mut instance = fixture.harness.instantiate().await.unwrap();
    let error = instance.configure(&fields).await.unwrap().expect_err("refused");
    assert_eq!(error.kind, ErrorKind::Transport(TransportKind::HostRefused), "{}", error.message);
    assert!(!error.retryable, "a policy refusal does not go away by retrying: {}", error.message);
    assert_eq!(fixture.sim.total_requests(), 0);
    assert_eq!(fixture.harness.request_log().total(), 0);
    let refused = fixture.harness.request_log().refused();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].url_without_query.contains("evil.example"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_secret_never_appears_in_output_errors_or_logs() {
    let fixture = Fixture::new(30, 9).await;
    let secret = fixture.sim.manage_credentials().client_secret;
    let (mut instance, info) = fixture.manage().await;
    let mut seen = format!("{info:?}");
    let output = sync_all(&mut instance, &SyncOptions { max_items: 40, ..SyncOptions::default() }, |page| {
        seen.push_str(&format!("{:?}", page.next_cursor))
    })
    .await
    .unwrap();
    seen.push_str(&format!("{output:?}"));

    // A canary secret that OneLogin rejects must not be echoed either.
    let canary = "canary-CLIENT-SECRET-5f1d";
    let wrong = Credentials { client_id: fixture.sim.manage_credentials().client_id, client_secret: canary.into() };
    let mut other = fixture.harness.instantiate().await.unwrap();
    seen.push_str(&format!("{:?}", other.configure(&Fixture::fields(&wrong)).await.unwrap()));
    for line in fixture.harness.component_log().lines() {
        seen.push_str(&format!("{line:?}\n"));
    }
    for line in other.component_log().lines() {
        seen.push_str(&format!("{line:?}\n"));
    }
    assert!(seen.len() > 10_000, "the check saw real output");
    assert!(!seen.contains(&secret), "the client secret leaked");
    assert!(!seen.contains(canary), "the canary secret leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_name_every_server_a_config_needs_without_network() {
    let fixture = Fixture::new(5, 1).await;
    let good = Fixture::fields(&fixture.sim.manage_credentials());
    let endpoint = |scheme, host: &str, port| Endpoint { scheme, host: host.into(), port };
    let no_host = with(good.clone(), "subdomain", None);
    let cases = [
        (good.clone(), endpoint(Scheme::Https, "acme.onelogin.com", 443)),
        (with(no_host.clone(), "region", Some("EU")), endpoint(Scheme::Https, "api.eu.onelogin.com", 443)),
        (
            with(no_host.clone(), "base_url", Some("https://sso.example.com:8443/")),
            endpoint(Scheme::Https, "sso.example.com", 8443),
        ),
        (with(no_host.clone(), "base_url", Some("http://127.0.0.1:8080")), endpoint(Scheme::Http, "127.0.0.1", 8080)),
        (with(no_host.clone(), "base_url", Some("http://[::1]:9")), endpoint(Scheme::Http, "::1", 9)),
    ];
    let mut instance = fixture.harness.instantiate().await.unwrap();
    for (fields, expected) in cases {
        assert_eq!(instance.endpoints(&fields).await.unwrap(), Ok(vec![expected]));
    }
    // The same validation as `configure`, field named.
    let error = instance.endpoints(&with(good, "subdomain", Some("a.b"))).await.unwrap().expect_err("bad subdomain");
    assert_eq!(error.kind, ErrorKind::InvalidConfig("subdomain".into()));
    assert_eq!(fixture.sim.total_requests(), 0);
    assert_eq!(fixture.harness.request_log().total() + fixture.harness.request_log().refused().len() as u64, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allow_list_built_from_endpoints_admits_the_tenant_and_refuses_the_rest() {
    let fixture = Fixture::new(5, 1).await;
    // An embedder that allows nothing until the component says what it needs.
    let mut harness = Harness::new(HarnessConfig {
        component: component_path(),
        allowed_hosts: Vec::new(),
        routes: BTreeMap::from([(TENANT_HOST.to_string(), fixture.sim.addr())]),
        limits: Default::default(),
    })
    .unwrap();
    let fields = Fixture::fields(&fixture.sim.manage_credentials());
    let entries = harness.allow_endpoints_of(&fields).await.unwrap().expect("a valid config");
    assert_eq!(entries, ["acme.onelogin.com:443"]);
    let mut instance = harness.instantiate().await.unwrap();
    instance.configure(&fields).await.unwrap().expect("the tenant is allowed");
    // The allow-list is the embedder's: a config naming another host is refused.
    let other = with(with(fields, "subdomain", None), "base_url", Some("https://other.example"));
    let error = harness.instantiate().await.unwrap().configure(&other).await.unwrap().expect_err("refused");
    assert_eq!(error.kind, ErrorKind::Transport(TransportKind::HostRefused), "{}", error.message);
    assert!(harness.request_log().refused().iter().any(|r| r.url_without_query.contains("other.example")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_a_retryable_connection_failure() {
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let harness = Harness::new(HarnessConfig {
        component: component_path(),
        allowed_hosts: vec![format!("127.0.0.1:{port}")],
        ..HarnessConfig::default()
    })
    .unwrap();
    let fields = vec![
        ("client_id".to_string(), "id".to_string()),
        ("client_secret".to_string(), "secret".to_string()),
        ("base_url".to_string(), format!("http://127.0.0.1:{port}")),
    ];
    let error = harness.instantiate().await.unwrap().configure(&fields).await.unwrap().expect_err("refused");
    assert_eq!(error.kind, ErrorKind::Transport(TransportKind::Connection), "{}", error.message);
    assert!(error.retryable, "{}", error.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_second_configure_leaves_the_instance_unconfigured() {
    let fixture = Fixture::new(5, 1).await;
    let (mut instance, _) = fixture.manage().await;
    instance.sync_page(page(None, 1)).await.unwrap().expect("configured: a page");
    let mut wrong = fixture.sim.manage_credentials();
    wrong.client_secret.push('x');
    let error = instance.configure(&Fixture::fields(&wrong)).await.unwrap().expect_err("bad secret");
    assert_eq!(error.kind, ErrorKind::AuthenticationFailed);
    // As the WIT documents: the earlier configuration is gone too.
    let error = instance.sync_page(page(None, 1)).await.unwrap().expect_err("not configured");
    assert_eq!(error.kind, ErrorKind::NotConfigured, "{}", error.message);
    instance.configure(&Fixture::fields(&fixture.sim.manage_credentials())).await.unwrap().expect("configure again");
    instance.sync_page(page(None, 1)).await.unwrap().expect("configured again: a page");
}
