//! The OneLogin API client: authentication, requests, retries, error bodies
//! and pagination. It knows OneLogin's HTTP API and nothing about entities;
//! `sync/` and `provision/` build on it.

pub mod auth;
pub mod errors;
pub mod pagination;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod wasi_http;

use std::time::Duration;

use serde_json::Value;

use self::auth::Token;
use self::pagination::Page;
use self::transport::{Method, Request, Response, Transport};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::logging;

/// How many times a read is retried after a 5xx or a transient transport failure.
pub const MAX_READ_RETRIES: u32 = 2;
const BACKOFF_BASE: Duration = Duration::from_millis(500);

/// A configured client with its cached token.
pub struct Client<T: Transport> {
    transport: T,
    config: Config,
    token: Option<(Token, Duration)>,
}

impl<T: Transport> Client<T> {
    pub fn new(transport: T, config: Config) -> Self {
        Client { transport, config, token: None }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Fetch a token now (replacing any cached one) and return it.
    pub fn authenticate(&mut self) -> Result<Token> {
        let request = auth::token_request(&self.config);
        let mut attempt = 0;
        let response = loop {
            match self.transport.send(&request) {
                Ok(response) => break response,
                Err(failure) if failure.retryable && attempt < MAX_READ_RETRIES => {
                    attempt += 1;
                    self.backoff(attempt);
                }
                Err(failure) => {
                    return Err(Error::Transport {
                        message: format!("POST {}: {}", auth::TOKEN_PATH, failure.message),
                        retryable: failure.retryable,
                    })
                }
            }
        };
        let token = auth::parse_token_response(&response)?;
        self.token = Some((token.clone(), self.transport.now()));
        logging::debug("obtained an OAuth2 access token");
        Ok(token)
    }

    fn bearer(&mut self) -> Result<String> {
        let now = self.transport.now();
        let token = match &self.token {
            Some((token, obtained)) if now < token.renew_at(*obtained) => token.value.clone(),
            _ => self.authenticate()?.value,
        };
        Ok(format!("Bearer {}", token.expose()))
    }

    /// Send an API request and return the 2xx response.
    ///
    /// - A 401 (other than "Insufficient Permission") drops the token and
    ///   retries once with a new one: a rejected request changed nothing.
    /// - Reads (GET) are retried up to [`MAX_READ_RETRIES`] times with
    ///   jittered exponential backoff on 5xx and transient transport failures.
    ///   Writes are never retried blindly: their outcome would be unknown.
    pub fn request(&mut self, method: Method, path_and_query: &str, body: Option<&Value>) -> Result<Response> {
        let what = format!("{} {}", method.as_str(), path_only(path_and_query));
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            let mut headers = vec![
                ("authorization".to_string(), self.bearer()?),
                ("accept".to_string(), "application/json".to_string()),
            ];
            if body.is_some() {
                headers.push(("content-type".to_string(), "application/json".to_string()));
            } else if method != Method::Get {
                // A write without a body says so; otherwise the host's HTTP stack
                // streams an unsized (chunked) empty body, which fails on PUT/POST.
                headers.push(("content-length".to_string(), "0".to_string()));
            }
            let request = Request {
                method,
                scheme: self.config.base_url.scheme,
                authority: self.config.base_url.authority.clone(),
                path_and_query: path_and_query.to_string(),
                headers,
                body: body.map(|b| b.to_string().into_bytes()),
            };
            let retry_allowed = method == Method::Get && attempt < MAX_READ_RETRIES;
            let response = match self.transport.send(&request) {
                Ok(response) => response,
                Err(failure) if failure.retryable && retry_allowed => {
                    attempt += 1;
                    logging::warn(&format!("{what}: {}; retry {attempt}", failure.message));
                    self.backoff(attempt);
                    continue;
                }
                Err(failure) => {
                    return Err(Error::Transport {
                        message: format!("{what}: {}", failure.message),
                        retryable: failure.retryable,
                    })
                }
            };
            match response.status {
                200..=299 => return Ok(response),
                401 if !renewed
                    && errors::upstream_message(&response.body).as_deref() != Some("Insufficient Permission") =>
                {
                    logging::info(&format!("{what}: 401, renewing the access token"));
                    self.token = None;
                    renewed = true;
                }
                status @ (500 | 502 | 503 | 504) if retry_allowed => {
                    attempt += 1;
                    logging::warn(&format!("{what}: HTTP {status}; retry {attempt}"));
                    self.backoff(attempt);
                }
                status => return Err(errors::from_response(status, &response, &what)),
            }
        }
    }

    /// GET and parse JSON, treating a v1 `status.error: true` as an error.
    pub fn get_json(&mut self, path_and_query: &str) -> Result<(Response, Value)> {
        let response = self.request(Method::Get, path_and_query, None)?;
        let value = parse_json(&response, path_and_query)?;
        if let Some(status) = errors::v1_status_error(&value) {
            return Err(errors::from_response(status, &response, &format!("GET {}", path_only(path_and_query))));
        }
        Ok((response, value))
    }

    /// One page of a v2 list endpoint (`path` without query).
    pub fn v2_page(&mut self, path: &str, limit: usize, cursor: Option<&str>, extra: &[(&str, &str)]) -> Result<Page> {
        let (response, body) = self.get_json(&format!("{path}?{}", pagination::v2_query(limit, cursor, extra)))?;
        pagination::v2_page(&response, body).ok_or_else(|| unexpected(path, "a JSON array"))
    }

    /// One page of a v1 list endpoint (`path` without query).
    pub fn v1_page(&mut self, path: &str, limit: usize, cursor: Option<&str>) -> Result<Page> {
        let (_, body) = self.get_json(&format!("{path}?{}", pagination::v1_query(limit, cursor)))?;
        pagination::v1_page(body).ok_or_else(|| unexpected(path, "a v1 envelope with a data array"))
    }

    fn backoff(&self, attempt: u32) {
        let base = BACKOFF_BASE * 2u32.saturating_pow(attempt.saturating_sub(1));
        // Jitter from the clock's low bits: no random import is needed.
        let jitter = Duration::from_millis(u64::from(self.transport.now().subsec_nanos() % 250));
        self.transport.sleep(base + jitter);
    }
}

fn parse_json(response: &Response, path_and_query: &str) -> Result<Value> {
    serde_json::from_slice(&response.body).map_err(|_| Error::Upstream {
        status: response.status,
        message: format!("GET {}: the response is not JSON", path_only(path_and_query)),
    })
}

fn unexpected(path: &str, expected: &str) -> Error {
    Error::Upstream { status: 200, message: format!("GET {path}: expected {expected}") }
}

/// The path without its query (queries may hold cursors; keep messages short).
pub fn path_only(path_and_query: &str) -> &str {
    path_and_query.split('?').next().unwrap_or(path_and_query)
}

#[cfg(test)]
pub mod testing {
    //! An in-memory [`Transport`] for unit tests: scripted responses, recorded requests.

    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::transport::{Request, Response, Transport, TransportFailure};

    #[derive(Default)]
    pub struct Scripted {
        pub responses: RefCell<VecDeque<Result<Response, TransportFailure>>>,
        pub requests: RefCell<Vec<Request>>,
        pub clock: RefCell<Duration>,
    }

    impl Scripted {
        pub fn push(&self, status: u16, headers: &[(&str, &str)], body: &str) {
            self.responses.borrow_mut().push_back(Ok(Response {
                status,
                headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
                body: body.as_bytes().to_vec(),
            }));
        }

        pub fn push_failure(&self, retryable: bool) {
            self.responses
                .borrow_mut()
                .push_back(Err(TransportFailure { message: "connection reset".into(), retryable }));
        }

        pub fn paths(&self) -> Vec<String> {
            self.requests.borrow().iter().map(|r| format!("{} {}", r.method.as_str(), r.path_and_query)).collect()
        }
    }

    impl Transport for &Scripted {
        fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
            self.requests.borrow_mut().push(request.clone());
            self.responses
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Err(TransportFailure { message: "no scripted response".into(), retryable: false }))
        }

        fn now(&self) -> Duration {
            *self.clock.borrow()
        }

        fn sleep(&self, duration: Duration) {
            *self.clock.borrow_mut() += duration;
        }
    }

    pub const TOKEN: &str = r#"{"access_token":"tok","expires_in":36000,"account_id":42}"#;
}

#[cfg(test)]
mod tests {
    use super::testing::{Scripted, TOKEN};
    use super::*;
    use crate::config::{BaseUrl, Scheme};
    use crate::error::Secret;

    fn client(script: &Scripted) -> Client<&Scripted> {
        let config = Config {
            client_id: "id".into(),
            client_secret: Secret::new("secret"),
            base_url: BaseUrl { scheme: Scheme::Https, authority: "acme.onelogin.com".into() },
        };
        Client::new(script, config)
    }

    #[test]
    fn token_is_fetched_once_and_reused() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/api/2/users").unwrap();
        client.get_json("/api/2/roles").unwrap();
        assert_eq!(script.paths(), ["POST /auth/oauth2/v2/token", "GET /api/2/users", "GET /api/2/roles"]);
        let auth = &script.requests.borrow()[1].headers[0];
        assert_eq!(auth, &("authorization".to_string(), "Bearer tok".to_string()));
    }

    #[test]
    fn token_is_renewed_after_expiry() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        *script.clock.borrow_mut() += Duration::from_secs(36000);
        client.get_json("/b").unwrap();
        assert_eq!(script.paths(), ["POST /auth/oauth2/v2/token", "GET /a", "POST /auth/oauth2/v2/token", "GET /b"]);
    }

    #[test]
    fn a_401_renews_the_token_once() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(401, &[], r#"{"message":"Unauthorized","statusCode":401,"name":"UnauthorizedError"}"#);
        script.push(200, &[], TOKEN);
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        assert_eq!(script.paths().len(), 4);

        script.push(401, &[], "{}");
        script.push(200, &[], TOKEN);
        script.push(401, &[], "{}");
        assert!(matches!(client.get_json("/a"), Err(Error::AuthenticationFailed(_))));
    }

    #[test]
    fn reads_retry_server_errors_with_backoff_but_writes_do_not() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(503, &[], "");
        script.push_failure(true);
        script.push(200, &[], "[]");
        let mut client = client(&script);
        client.get_json("/a").unwrap();
        assert!(*script.clock.borrow() >= Duration::from_millis(1500), "backed off");

        script.push(503, &[], "");
        let write = client.request(Method::Post, "/api/2/roles/1/users", Some(&serde_json::json!([1])));
        assert!(matches!(write, Err(Error::Upstream { status: 503, .. })));
        assert_eq!(script.paths().len(), 5);
    }

    #[test]
    fn reads_give_up_after_bounded_retries() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        for _ in 0..=MAX_READ_RETRIES {
            script.push(500, &[], "");
        }
        let mut client = client(&script);
        assert!(matches!(client.get_json("/a"), Err(Error::Upstream { status: 500, .. })));
        assert_eq!(script.paths().len(), 1 + 1 + MAX_READ_RETRIES as usize);
    }

    #[test]
    fn v1_error_inside_a_200_is_an_error() {
        let script = Scripted::default();
        script.push(200, &[], TOKEN);
        script.push(200, &[], r#"{"status":{"error":true,"code":404,"type":"not found","message":"No Route Exists"}}"#);
        let mut client = client(&script);
        assert!(matches!(client.get_json("/api/1/x"), Err(Error::NotFound(_))));
    }
}
