//! The component's error type and its conversion to the WIT `connector-error`.
//!
//! Every message here is written for people and must never contain a secret:
//! errors are built from status codes, field names and (truncated) upstream
//! messages, never from request headers or credentials.

pub use crate::identity::connector::types::TransportKind;
use crate::identity::connector::types::{ConnectorError, ErrorKind};

/// Why a call failed, as the component sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A config field is missing, malformed or unknown.
    #[error("invalid config field `{field}`: {message}")]
    InvalidConfig {
        /// The config field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A call that needs `configure` came first.
    #[error("the connector is not configured: call configure first")]
    NotConfigured,
    /// OneLogin rejected the client credentials or the token.
    #[error("authentication failed: {0}")]
    AuthenticationFailed(String),
    /// The credentials lack the scope the call needs.
    #[error("insufficient scope: {0}")]
    InsufficientScope(String),
    /// The object named does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// An argument is malformed or unsupported.
    #[error("invalid input `{field}`: {message}")]
    InvalidInput {
        /// The argument (or parameter) at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// OneLogin throttled us; retry after `retry_after` seconds.
    #[error("rate limited by OneLogin: retry after {retry_after} s")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after: u32,
    },
    /// OneLogin answered with an error status.
    #[error("OneLogin returned HTTP {status}: {message}")]
    Upstream {
        /// The HTTP status.
        status: u16,
        /// The request and OneLogin's message.
        message: String,
    },
    /// OneLogin answered, but not with what the call expects (a body that is
    /// not JSON or has the wrong shape, paging that does not end, a header
    /// out of range). `status` is the real HTTP status; `message` says what
    /// was expected.
    #[error("unexpected response from OneLogin (HTTP {status}): {message}")]
    UnexpectedResponse {
        /// The real HTTP status (often 200).
        status: u16,
        /// The request and what was expected.
        message: String,
    },
    /// The request did not complete or the response could not be read.
    #[error("transport error ({}): {message}", transport_kind_name(*kind))]
    Transport {
        /// Where it failed.
        kind: TransportKind,
        /// The request and the failure.
        message: String,
        /// Whether a retry may succeed.
        retryable: bool,
    },
    /// A response that would fit alone, but not beside the responses its
    /// window already holds (see `client::memory`): a smaller window reads
    /// it. Callers that cannot shrink report it as an unexpected response.
    #[error("unexpected response from OneLogin (HTTP {status}): {message}")]
    WindowFull {
        /// The real HTTP status.
        status: u16,
        /// The request and the sizes.
        message: String,
    },
    /// A sync cursor this connector cannot use.
    #[error("invalid sync cursor: {0}")]
    InvalidCursor(String),
}

/// Result with the component's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::InvalidConfig`].
    pub fn config(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidConfig { field: field.to_string(), message: message.into() }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn input(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.to_string(), message: message.into() }
    }

    /// Shorthand for [`Error::UnexpectedResponse`]: `what` names the request,
    /// `expected` what it should have returned.
    pub fn unexpected(status: u16, what: &str, expected: &str) -> Self {
        Error::UnexpectedResponse { status, message: format!("{what}: expected {expected}") }
    }

    /// Whether the same call may succeed later, unchanged.
    pub fn retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } => true,
            Error::Upstream { status, .. } => *status >= 500 || *status == 408,
            Error::Transport { retryable, .. } => *retryable,
            _ => false,
        }
    }
}

impl From<Error> for ConnectorError {
    fn from(error: Error) -> Self {
        let kind = match &error {
            Error::InvalidConfig { field, .. } => ErrorKind::InvalidConfig(field.clone()),
            Error::NotConfigured => ErrorKind::NotConfigured,
            Error::AuthenticationFailed(_) => ErrorKind::AuthenticationFailed,
            Error::InsufficientScope(_) => ErrorKind::InsufficientScope,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidInput { field, .. } => ErrorKind::InvalidInput(field.clone()),
            Error::RateLimited { retry_after } => ErrorKind::RateLimited(*retry_after),
            Error::Upstream { status, .. } => ErrorKind::Upstream(*status),
            Error::UnexpectedResponse { status, .. } | Error::WindowFull { status, .. } => {
                ErrorKind::UnexpectedResponse(*status)
            }
            Error::Transport { kind, .. } => ErrorKind::Transport(*kind),
            Error::InvalidCursor(_) => ErrorKind::InvalidCursor,
        };
        ConnectorError { kind, message: error.to_string(), retryable: error.retryable() }
    }
}

/// Every WIT `transport-kind` with its WIT case name, in the WIT's order: the
/// one table both directions use (a test holds it to `wit/connector.wit`).
pub const TRANSPORT_KINDS: [(TransportKind, &str); 6] = [
    (TransportKind::HostRefused, "host-refused"),
    (TransportKind::Dns, "dns"),
    (TransportKind::Connection, "connection"),
    (TransportKind::Timeout, "timeout"),
    (TransportKind::Tls, "tls"),
    (TransportKind::Protocol, "protocol"),
];

/// The WIT case name of a transport kind, for messages.
pub fn transport_kind_name(kind: TransportKind) -> &'static str {
    TRANSPORT_KINDS.iter().find(|(k, _)| *k == kind).map_or("transport", |(_, name)| name)
}

/// The transport kind a WIT case name names.
pub fn transport_kind_named(name: &str) -> Option<TransportKind> {
    TRANSPORT_KINDS.iter().find(|(_, n)| *n == name).map(|(kind, _)| *kind)
}

/// Whether a request that failed with `kind` may have reached the server
/// (and, for a write, taken effect): every kind but `host-refused` (the host
/// sent nothing) and `dns` (there was nowhere to send it). A `tls` failure
/// counts: an alert may come after the request was sent.
pub fn may_have_been_sent(kind: TransportKind) -> bool {
    !matches!(kind, TransportKind::HostRefused | TransportKind::Dns)
}

/// A credential or token. Its `Debug` never shows the value, so it cannot leak
/// through `{:?}` in a log line or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transport_kind_table_is_the_wits() {
        let wit = include_str!("../wit/connector.wit");
        let body = wit.split("enum transport-kind {").nth(1).and_then(|rest| rest.split('}').next()).unwrap();
        let cases: Vec<&str> = body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")).collect();
        let names: Vec<String> = TRANSPORT_KINDS.iter().map(|(_, name)| format!("{name},")).collect();
        assert_eq!(cases, names);
        for (kind, name) in TRANSPORT_KINDS {
            assert_eq!((transport_kind_name(kind), transport_kind_named(name)), (name, Some(kind)));
        }
        assert_eq!(transport_kind_named("carrier-pigeon"), None);
    }

    #[test]
    fn secret_debug_is_redacted() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn rate_limit_maps_to_retryable_wit_error() {
        let wit: ConnectorError = Error::RateLimited { retry_after: 30 }.into();
        assert!(matches!(wit.kind, ErrorKind::RateLimited(30)));
        assert!(wit.retryable);
    }

    #[test]
    fn client_errors_are_not_retryable_but_server_errors_are() {
        assert!(!Error::Upstream { status: 422, message: String::new() }.retryable());
        assert!(Error::Upstream { status: 503, message: String::new() }.retryable());
    }
}
