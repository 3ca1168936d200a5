//! Shared fixture for the integration tests: a simulated tenant on loopback
//! and a harness that routes the tenant's real host name (`acme.onelogin.com`)
//! to it, so the component's production URL logic is what runs.

#![allow(dead_code)] // each test binary uses part of this module

use std::collections::BTreeMap;

use host_test::harness::config::component_path;
use host_test::harness::types::{AccountInfo, ConnectorError, SyncRequest};
use host_test::harness::{sync_all, ConnectorInstance, Harness, HarnessConfig, SyncOptions, SyncOutput};
use host_test::simulator::{Credentials, LastPageCursor, Simulator, SimulatorConfig};

pub const TENANT_HOST: &str = "acme.onelogin.com";

/// Both answers to "does the last page of a v2 list carry an `After-Cursor`?"
/// (FIDELITY.md F-PAGE-7: the real API does not reliably leave it out).
pub const LAST_PAGE_ANSWERS: [LastPageCursor; 2] = [LastPageCursor::Absent, LastPageCursor::PastTheEnd];

pub struct Fixture {
    pub sim: Simulator,
    pub harness: Harness,
}

impl Fixture {
    /// A simulator with `users` users (seed `seed`, no rate limit, a few
    /// hundred app logins: [`TEST_APP_LOGINS_PER_DAY`]) and a harness allowing
    /// only the tenant host.
    pub async fn new(users: usize, seed: u64) -> Fixture {
        Fixture::with_config(test_config(users, seed)).await
    }

    /// [`Fixture::new`] with `last_page` as the answer to whether the last
    /// v2 page carries an `After-Cursor`.
    pub async fn paged(users: usize, seed: u64, last_page: LastPageCursor) -> Fixture {
        let config = SimulatorConfig {
            users,
            seed,
            rate_limit_per_hour: None,
            last_page_cursor: last_page,
            ..Default::default()
        };
        Fixture::with_config(config).await
    }

    pub async fn with_config(config: SimulatorConfig) -> Fixture {
        let sim = Simulator::start(config).await.expect("simulator starts");
        let harness = Harness::new(HarnessConfig {
            component: component_path(),
            allowed_hosts: vec![TENANT_HOST.to_string()],
            routes: BTreeMap::from([(TENANT_HOST.to_string(), sim.addr())]),
            limits: Default::default(),
        })
        .unwrap_or_else(|e| panic!("loading {}: {e:#} (run ./dev build)", component_path().display()));
        Fixture { sim, harness }
    }

    /// Config fields for the tenant with `credentials`.
    pub fn fields(credentials: &Credentials) -> Vec<(String, String)> {
        vec![
            ("client_id".to_string(), credentials.client_id.clone()),
            ("client_secret".to_string(), credentials.client_secret.clone()),
            ("subdomain".to_string(), "acme".to_string()),
        ]
    }

    /// A fresh instance configured with `credentials`.
    pub async fn configured(&self, credentials: &Credentials) -> (ConnectorInstance, AccountInfo) {
        let mut instance = self.harness.instantiate().await.expect("instantiate");
        let info = instance.configure(&Fixture::fields(credentials)).await.expect("no trap").expect("configure");
        (instance, info)
    }

    /// A fresh instance configured with the manage credential.
    pub async fn manage(&self) -> (ConnectorInstance, AccountInfo) {
        self.configured(&self.sim.manage_credentials()).await
    }

    /// A full sync in a fresh, manage-configured instance.
    pub async fn full_sync(&self, max_items: u32) -> Result<SyncOutput, ConnectorError> {
        self.sync_with(&SyncOptions { max_items, ..SyncOptions::default() }).await
    }

    /// A sync with `options` in a fresh, manage-configured instance.
    pub async fn sync_with(&self, options: &SyncOptions) -> Result<SyncOutput, ConnectorError> {
        let (mut instance, _) = self.manage().await;
        sync_all(&mut instance, options, |_| {}).await.expect("no trap")
    }
}

/// App logins per active user per day in the tests' tenants: far below a real
/// tenant's few a day (the simulator's default), so syncs that read events
/// stay a few dozen pages.
pub const TEST_APP_LOGINS_PER_DAY: f64 = 0.2;

/// The simulator config of [`Fixture::new`].
pub fn test_config(users: usize, seed: u64) -> SimulatorConfig {
    SimulatorConfig {
        users,
        seed,
        rate_limit_per_hour: None,
        app_logins_per_user_per_day: TEST_APP_LOGINS_PER_DAY,
        ..Default::default()
    }
}

/// One page request.
pub fn page(cursor: Option<String>, max_items: u32) -> SyncRequest {
    SyncOptions { max_items, ..SyncOptions::default() }.request(cursor)
}

/// `ceil(n / size)`, but at least one request (an empty list is still read).
pub fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}
