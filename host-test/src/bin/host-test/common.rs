//! What the subcommands share: the `--simulator | --config` target, harness
//! setup, typed-error printing and exit codes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use host_test::harness::config::{ConfigError, ConnectorConfig};
use host_test::harness::types::{AccessLevel, AccountInfo, ConnectorError, ErrorKind};
use host_test::harness::{ConnectorInstance, Harness, HarnessConfig, Limits};
use host_test::simulator::{
    FieldVariance, LastPageCursor, ListRoleIds, Refusal, Simulator, SimulatorConfig, TokenBucket, V2Throttle, MAX_USERS,
};

/// Exit status: anything not covered below (host failure, upstream error, ...).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: usage or configuration error (clap's own usage errors are 2 too).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: authentication failed or insufficient scope.
pub const EXIT_AUTH: u8 = 3;
/// Exit status: rate limited.
pub const EXIT_RATE_LIMITED: u8 = 4;
/// Exit status: the sync finished but a selected kind failed.
pub const EXIT_PARTIAL: u8 = 5;
/// Exit status: interrupted (Ctrl-C); a `--state` sync can be resumed.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The most requests the connector keeps in flight (`sync-request.concurrency`).
pub const MAX_CONCURRENCY: u32 = 64;

/// The environment variable `./dev` sets to the directory it was called
/// from: relative paths given to the CLI are taken from there.
pub const CALLER_CWD_ENV: &str = "HOST_TEST_CALLER_CWD";

/// A path as the user meant it: relative paths are taken from the caller's
/// directory ([`CALLER_CWD_ENV`], set by `./dev`), else the current one.
pub fn resolve_path(path: &Path) -> PathBuf {
    if path.is_absolute() || path.as_os_str() == "-" {
        return path.to_path_buf();
    }
    match std::env::var_os(CALLER_CWD_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join(path),
        None => path.to_path_buf(),
    }
}

/// How to run this program again, for messages (`./dev` sets
/// `HOST_TEST_PROGRAM` to `./dev host-test`).
pub fn program_name() -> String {
    std::env::var("HOST_TEST_PROGRAM").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "host-test".into())
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// An error whose message was already printed; the process exits with `.0`.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// A usage error found after parsing (bad action file, ...): exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit status for an error of a subcommand.
pub fn exit_code_for(error: &anyhow::Error) -> u8 {
    if let Some(Exit(code)) = error.downcast_ref::<Exit>() {
        *code
    } else if error.downcast_ref::<ConfigError>().is_some() || error.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}

/// The exit status for a typed connector error.
pub fn exit_code_for_kind(kind: &ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidConfig(_) | ErrorKind::InvalidInput(_) => EXIT_USAGE,
        ErrorKind::AuthenticationFailed | ErrorKind::InsufficientScope => EXIT_AUTH,
        ErrorKind::RateLimited(_) => EXIT_RATE_LIMITED,
        _ => EXIT_FAILURE,
    }
}

pub use host_test::harness::types::kind_name;

/// A component message for people: a `wasi:http` error code the component
/// passed on in Rust debug form (`ErrorCode::DnsError(DnsErrorPayload {…})`)
/// becomes words (`DNS error`).
pub fn human_message(message: &str) -> String {
    let Some(start) = message.find("ErrorCode::") else {
        return message.to_string();
    };
    let rest = &message[start + "ErrorCode::".len()..];
    let name_end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let name = &rest[..name_end];
    let mut words = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    let words = words.replace("dns", "DNS").replace("tls", "TLS").replace("http", "HTTP");
    format!("{}{words}", &message[..start])
}

/// One line for a connector error: what failed, where, and why.
pub fn error_line(during: &str, host: &str, error: &ConnectorError) -> String {
    let retry = if error.retryable { " (retryable)" } else { "" };
    let at = if host.is_empty() { String::new() } else { format!(" at {host}") };
    format!("{during}{at} failed: {}: {}{retry}", kind_name(&error.kind), human_message(&error.message))
}

/// Prints a connector error on stderr and turns it into an [`Exit`].
pub fn connector_failure(during: &str, host: &str, error: &ConnectorError) -> anyhow::Error {
    eprintln!("error: {}", error_line(during, host, error));
    Exit(exit_code_for_kind(&error.kind)).into()
}

/// The WIT spelling of an access level.
pub fn access_level_name(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::Read => "read",
        AccessLevel::Manage => "manage",
        AccessLevel::AuthenticateOnly => "authenticate-only",
    }
}

/// `--rate-limit N|on|off`: simulator calls per hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimit {
    /// No rate limiting.
    Off,
    /// The simulator's default budget.
    On,
    /// This many calls per hour.
    PerHour(u32),
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(RateLimit::Off);
        }
        if s.eq_ignore_ascii_case("on") {
            return Ok(RateLimit::On);
        }
        s.parse()
            .map(RateLimit::PerHour)
            .map_err(|_| format!("expected a number of calls per hour, `on` or `off`, not {s:?}"))
    }
}

/// `--users N`, at most [`MAX_USERS`].
pub fn parse_users(text: &str) -> Result<usize, String> {
    let users: usize = text.trim().parse().map_err(|_| format!("expected a number of users, not {text:?}"))?;
    if users > MAX_USERS {
        return Err(format!("the simulator generates at most {MAX_USERS} users"));
    }
    Ok(users)
}

/// The simulator's own options.
#[derive(Args, Clone, Debug, Default)]
pub struct SimulatorOptions {
    /// Number of users in the simulated tenant, at most 500000 [default: the simulator's].
    #[arg(long, value_name = "N", conflicts_with = "config", value_parser = parse_users)]
    pub users: Option<usize>,
    /// Seed of the simulated tenant [default: the simulator's].
    #[arg(long, value_name = "S", conflicts_with = "config")]
    pub seed: Option<u64>,
    /// Simulated account rate limit, calls per hour, `on` (the simulator's
    /// default) or `off` [default: the simulator's].
    #[arg(long, value_name = "N|on|off", conflicts_with = "config")]
    pub rate_limit: Option<RateLimit>,
    /// Length of the simulated rate window in seconds [default: 3600, OneLogin's].
    #[arg(long, value_name = "SECS", conflicts_with = "config")]
    pub rate_window_secs: Option<u64>,
    /// Latency the simulator adds to every request, in milliseconds.
    #[arg(long, value_name = "MS", conflicts_with = "config")]
    pub latency_ms: Option<u64>,
    /// Which of the answers the evidence allows the simulator gives.
    #[command(flatten)]
    pub switches: SimulatorSwitches,
}

/// The simulator's switches between answers the evidence allows (each names
/// its row in `host-test/src/simulator/FIDELITY.md`). Only with a simulator.
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Simulator switches")]
pub struct SimulatorSwitches {
    /// Whether the last page of a v2 list carries an `After-Cursor` (F-PAGE-7) [default: absent].
    #[arg(long, value_enum, value_name = "ANSWER")]
    pub last_page_cursor: Option<LastPageCursorArg>,
    /// When `GET /api/2/users` items carry `role_ids` and `custom_attributes` (F-USER-2) [default: when-asked].
    #[arg(long, value_enum, value_name = "ANSWER")]
    pub list_role_ids: Option<ListRoleIdsArg>,
    /// v2 load throttle: refuse a v2 call while N are in flight (F-RATE-10) [default: no limit].
    #[arg(long, value_name = "N")]
    pub v2_max_in_flight: Option<usize>,
    /// v2 load throttle: a token bucket of RATE calls per second and bursts of BURST (default 1) [default: no limit].
    #[arg(long, value_name = "RATE[:BURST]", value_parser = parse_bucket)]
    pub v2_per_second: Option<TokenBucket>,
    /// How the v2 throttle refuses a call [default: 429].
    #[arg(long, value_enum, value_name = "ANSWER")]
    pub v2_refusal: Option<RefusalArg>,
    /// Which user shapes are served: the documented one, or every shape the evidence reports
    /// (string ids, `member_of` arrays, 0001-01-01 dates, nulls left out, users without email or
    /// username; F-DATA-5..8, F-DATA-13, F-DATA-14) [default: documented].
    #[arg(long, value_enum, value_name = "SHAPES")]
    pub field_variance: Option<FieldVarianceArg>,
    /// App logins (event type 8) per active user per day, 0 for none (F-EVT-10) [default: 3].
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub app_logins_per_day: Option<f64>,
    /// Whether users' app lists carry their personal apps, which the v1 docs say they leave out
    /// (F-APP-16) [default: off].
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub personal_apps: Option<bool>,
    /// The user policy's lock period, in minutes, for a `lock_user` with 0; 0 locks until an
    /// admin unlocks (F-UW-16) [default: 30].
    #[arg(long, value_name = "MIN")]
    pub lock_policy_minutes: Option<u64>,
    /// The admin who created the API credentials is deleted: token requests answer 500 (F-TOK-16).
    #[arg(long)]
    pub credential_owner_deleted: bool,
}

/// `--last-page-cursor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LastPageCursorArg {
    /// No `After-Cursor` on the last page.
    Absent,
    /// An `After-Cursor` one page past the end (which serves `[]`).
    PastTheEnd,
}

/// `--list-role-ids`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListRoleIdsArg {
    /// Only when `fields` names them.
    WhenAsked,
    /// Never.
    Never,
}

/// `--v2-refusal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RefusalArg {
    /// 429 without any rate header.
    #[value(name = "429")]
    TooManyRequests,
    /// 429 with `Retry-After`.
    #[value(name = "429-retry-after")]
    TooManyRequestsRetryAfter,
    /// 502 with a small HTML page.
    #[value(name = "502")]
    BadGateway,
}

/// `--field-variance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FieldVarianceArg {
    /// The documented get-user sample's shape.
    Documented,
    /// Every shape the evidence reports, spread over the users.
    Varied,
}

/// `RATE[:BURST]`: calls per second (greater than 0) and the burst (at least 1).
fn parse_bucket(text: &str) -> Result<TokenBucket, String> {
    let (rate, burst) = text.split_once(':').unwrap_or((text, "1"));
    let rate = parse_rate(rate).ok().filter(|r| *r > 0.0);
    let burst = burst.trim().parse::<u32>().ok().filter(|b| *b >= 1);
    match (rate, burst) {
        (Some(rate), Some(burst)) => Ok(TokenBucket { rate, burst }),
        _ => Err(format!("expected RATE[:BURST] (calls per second > 0, burst >= 1), not {text:?}")),
    }
}

/// A finite number at least 0.
fn parse_rate(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| format!("expected a number at least 0, not {text:?}"))
}

/// `on` or `off`.
fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected `on` or `off`, not {text:?}")),
    }
}

impl SimulatorSwitches {
    /// Whether any switch was given.
    pub fn any(&self) -> bool {
        let SimulatorSwitches {
            last_page_cursor,
            list_role_ids,
            v2_max_in_flight,
            v2_per_second,
            v2_refusal,
            field_variance,
            app_logins_per_day,
            personal_apps,
            lock_policy_minutes,
            credential_owner_deleted,
        } = self;
        last_page_cursor.is_some()
            || list_role_ids.is_some()
            || v2_max_in_flight.is_some()
            || v2_per_second.is_some()
            || v2_refusal.is_some()
            || field_variance.is_some()
            || app_logins_per_day.is_some()
            || personal_apps.is_some()
            || lock_policy_minutes.is_some()
            || *credential_owner_deleted
    }

    /// Sets the switches given on `config`.
    pub fn apply(&self, config: &mut SimulatorConfig) {
        if let Some(answer) = self.last_page_cursor {
            config.last_page_cursor = match answer {
                LastPageCursorArg::Absent => LastPageCursor::Absent,
                LastPageCursorArg::PastTheEnd => LastPageCursor::PastTheEnd,
            };
        }
        if let Some(answer) = self.list_role_ids {
            config.list_role_ids = match answer {
                ListRoleIdsArg::WhenAsked => ListRoleIds::WhenAsked,
                ListRoleIdsArg::Never => ListRoleIds::Never,
            };
        }
        let V2Throttle { max_in_flight, per_second, refusal } = &mut config.v2_throttle;
        if let Some(n) = self.v2_max_in_flight {
            *max_in_flight = Some(n.max(1));
        }
        if let Some(bucket) = self.v2_per_second {
            *per_second = Some(bucket);
        }
        if let Some(answer) = self.v2_refusal {
            *refusal = match answer {
                RefusalArg::TooManyRequests => Refusal::TooManyRequests,
                RefusalArg::TooManyRequestsRetryAfter => Refusal::TooManyRequestsRetryAfter,
                RefusalArg::BadGateway => Refusal::BadGateway,
            };
        }
        if let Some(shapes) = self.field_variance {
            config.field_variance = match shapes {
                FieldVarianceArg::Documented => FieldVariance::Documented,
                FieldVarianceArg::Varied => FieldVariance::Varied,
            };
        }
        if let Some(n) = self.app_logins_per_day {
            config.app_logins_per_user_per_day = n;
        }
        if let Some(on) = self.personal_apps {
            config.personal_apps = on;
        }
        if let Some(minutes) = self.lock_policy_minutes {
            config.lock_policy_minutes = minutes;
        }
        config.credential_owner_deleted |= self.credential_owner_deleted;
    }
}

impl SimulatorOptions {
    /// The simulator config these options describe.
    pub fn config(&self) -> SimulatorConfig {
        let mut config = SimulatorConfig::default();
        if let Some(users) = self.users {
            config.users = users;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        match self.rate_limit {
            Some(RateLimit::Off) => config.rate_limit_per_hour = None,
            Some(RateLimit::PerHour(n)) => config.rate_limit_per_hour = Some(n),
            Some(RateLimit::On) | None => {}
        }
        if let Some(ms) = self.latency_ms {
            config.latency = Duration::from_millis(ms);
        }
        if let Some(secs) = self.rate_window_secs {
            config.rate_limit_window = Duration::from_secs(secs.max(1));
        }
        self.switches.apply(&mut config);
        config
    }
}

/// Where the connector connects: an in-process simulator or a real tenant.
#[derive(Args, Clone, Debug)]
#[group(required = true, multiple = false, id = "target")]
pub struct TargetArgs {
    /// Run against an in-process OneLogin simulator (tenant `acme`, reached
    /// through the production URL `https://acme.onelogin.com`, rerouted to
    /// the simulator).
    #[arg(long)]
    pub simulator: bool,
    /// Connector config (TOML: client_id, client_secret, subdomain | region |
    /// base_url); ONELOGIN_* environment variables override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Resource limits, shared by every subcommand that runs the component.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Memory limit of the component, in MiB.
    #[arg(long, global = true, value_name = "MIB", default_value_t = 256)]
    pub memory_mib: usize,
    /// CPU budget per call, in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30)]
    pub cpu_secs: u64,
    /// Wall-clock limit per call, in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 120)]
    pub wall_secs: u64,
}

impl LimitArgs {
    /// The harness limits.
    pub fn limits(&self) -> Limits {
        Limits {
            memory_bytes: self.memory_mib.saturating_mul(1024 * 1024),
            cpu_per_call: Duration::from_secs(self.cpu_secs),
            wall_per_call: Duration::from_secs(self.wall_secs),
        }
    }
}

/// A configured connector instance and what it runs against.
pub struct Session {
    pub harness: Harness,
    pub instance: ConnectorInstance,
    pub account: AccountInfo,
    /// The host the component may reach (`acme.onelogin.com`), for messages.
    pub host: String,
    /// The config `configure` was given (in memory only), for [`Session::reconnect`].
    fields: Vec<(String, String)>,
    /// Kept alive for the session; shut down by [`Session::finish`].
    pub simulator: Option<Simulator>,
}

impl Session {
    /// Starts the simulator (if asked), loads the component, builds its
    /// allow-list from the component's `endpoints` for the config (routes to
    /// the simulator stay), instantiates it and calls `configure`. A typed
    /// `endpoints` or `configure` error is printed and returned as an [`Exit`].
    pub async fn open(
        component: &Path,
        limits: Limits,
        target: &TargetArgs,
        sim: &SimulatorOptions,
    ) -> anyhow::Result<Session> {
        let (harness_config, fields, simulator) = if target.simulator {
            let simulator = Simulator::start(sim.config()).await.context("cannot start the simulator")?;
            let credentials = simulator.manage_credentials();
            let host = "acme.onelogin.com".to_string();
            let harness_config = HarnessConfig {
                component: component.to_path_buf(),
                allowed_hosts: Vec::new(),
                routes: BTreeMap::from([(host, simulator.addr())]),
                limits,
            };
            let fields = vec![
                ("client_id".to_string(), credentials.client_id),
                ("client_secret".to_string(), credentials.client_secret),
                ("subdomain".to_string(), "acme".to_string()),
            ];
            tracing::info!(addr = %simulator.addr(), "simulator started");
            (harness_config, fields, Some(simulator))
        } else {
            if sim.switches.any() {
                return Err(UsageError(
                    "the simulator switches (--field-variance, --v2-max-in-flight, ...) need --simulator".into(),
                )
                .into());
            }
            let path = target.config.as_deref().map(resolve_path);
            let config = ConnectorConfig::load(path.as_deref())?;
            tracing::debug!(config = ?config, "connector config (secrets redacted)");
            let harness_config = HarnessConfig {
                component: component.to_path_buf(),
                allowed_hosts: Vec::new(),
                routes: BTreeMap::new(),
                limits,
            };
            (harness_config, config.fields(), None)
        };
        let mut harness = Harness::new(harness_config)?;
        let host = match harness.allow_endpoints_of(&fields).await? {
            Ok(entries) => entries.join(", "),
            Err(error) => {
                if let Some(simulator) = simulator {
                    simulator.shutdown().await;
                }
                return Err(connector_failure("endpoints", "", &error));
            }
        };
        let mut instance = harness.instantiate().await?;
        let account = match instance.configure(&fields).await? {
            Ok(account) => account,
            Err(error) => {
                if let Some(simulator) = simulator {
                    simulator.shutdown().await;
                }
                return Err(connector_failure("configure", &host, &error));
            }
        };
        Ok(Session { harness, instance, account, host, fields, simulator })
    }

    /// Replaces the instance with a fresh one, configured again (a sync
    /// continues in it from its cursor). The outer error is a host failure,
    /// the inner one `configure`'s.
    pub async fn reconnect(&mut self) -> anyhow::Result<Result<(), ConnectorError>> {
        let mut instance = self.harness.instantiate().await?;
        match instance.configure(&self.fields).await? {
            Ok(_) => {
                self.instance = instance;
                Ok(Ok(()))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    /// Stops the simulator, if one runs.
    pub async fn finish(self) {
        if let Some(simulator) = self.simulator {
            simulator.shutdown().await;
        }
    }
}
