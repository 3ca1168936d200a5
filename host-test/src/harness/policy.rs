//! Outgoing HTTP policy: which hosts a component may reach, and where.
//!
//! Every request the component sends through `wasi:http/outgoing-handler`
//! reaches [`PolicyHooks::send_request`] (a [`WasiHttpHooks`] implementation)
//! before anything touches the network. The hook asks [`HttpPolicy::check`]:
//!
//! * The host must be on the embedder's allow-list ([`HttpPolicy::new`]).
//!   The list is given by whoever embeds the harness (a test, the CLI's config
//!   file); nothing the component says can widen it. An entry is `host` or
//!   `host:port`; an entry without a port allows only the scheme's default port
//!   (443 for `https`, 80 for `http`).
//! * Only `https` is allowed, except plain `http` to a loopback address
//!   (`127.0.0.0/8`, `::1`, `localhost`) that is itself on the list.
//! * A route (`host name → loopback address`) reroutes an allowed `https`
//!   request for that host to `http://ADDR` with the same path and query, so a
//!   local simulator answers the production URL the component built.
//!
//! A refused request fails in the guest with `error-code.HTTP-request-denied`,
//! is logged with `tracing::warn!` (method, scheme, host, path only: never
//! headers or query values) and is recorded in [`RequestLog::refused`]. Every
//! allowed request is counted in the [`RequestLog`] under its endpoint
//! template (see [`endpoint_template`]).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use http::uri::{Scheme, Uri};
use http::Method;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::replay::ReplayBook;

/// One allow-list entry, normalized: lower-case host without IPv6 brackets or
/// trailing dot, and the port if the entry named one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct HostEntry {
    host: String,
    port: Option<u16>,
}

impl HostEntry {
    /// Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
    fn parse(entry: &str) -> Option<HostEntry> {
        let entry = entry.trim();
        if entry.is_empty() || entry.contains('/') || entry.contains('@') {
            return None;
        }
        let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?.parse().ok()?),
            };
            (host, port)
        } else if entry.matches(':').count() > 1 {
            // A bare IPv6 address cannot carry a port.
            (entry, None)
        } else if let Some((host, port)) = entry.rsplit_once(':') {
            (host, Some(port.parse().ok()?))
        } else {
            (entry, None)
        };
        let host = normalize_host(host);
        if host.is_empty() {
            return None;
        }
        Some(HostEntry { host, port })
    }
}

/// Lower-cases a host, strips IPv6 brackets and one trailing dot.
fn normalize_host(host: &str) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    host.to_ascii_lowercase()
}

/// Whether a (normalized) host names the local machine: `localhost`,
/// `127.0.0.0/8` or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = normalize_host(host);
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The endpoint template a request is counted under: method, a space, and the
/// path with every id segment replaced by `{id}`: all ASCII digits (except
/// the API version right after an `api` segment, `/api/2/`), or a string id
/// such as a privilege's UUID (16+ hex digits and dashes, with a digit). The
/// query is dropped.
///
/// ```
/// use host_test::harness::policy::endpoint_template;
/// assert_eq!(
///     endpoint_template("GET", "/api/2/roles/123/users?cursor=abc"),
///     "GET /api/2/roles/{id}/users"
/// );
/// ```
pub fn endpoint_template(method: &str, path_and_query: &str) -> String {
    let path = path_and_query.split_once('?').map_or(path_and_query, |(path, _)| path);
    let path = if path.is_empty() { "/" } else { path };
    let mut previous = "";
    let templated: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let numeric = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
            let string_id = segment.len() >= 16
                && segment.bytes().any(|b| b.is_ascii_digit())
                && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            // `/api/2/...`: the segment after `api` is the API version, not an id.
            let is_version = previous.eq_ignore_ascii_case("api");
            previous = segment;
            if (numeric && !is_version) || string_id {
                "{id}"
            } else {
                segment
            }
        })
        .collect();
    format!("{method} {}", templated.join("/"))
}

/// A request the policy refused, as recorded in the [`RequestLog`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedRequest {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// `scheme://host[:port]/path`: no user info, no query.
    pub url_without_query: String,
    /// Why the policy refused it, for people.
    pub reason: String,
}

#[derive(Debug, Default)]
struct RequestLogInner {
    counts: BTreeMap<String, u64>,
    refused: Vec<RefusedRequest>,
}

/// What the HTTP policy let through and what it refused. Cloning shares the
/// log: the [`Harness`](super::Harness) hands one log to all its instances.
#[derive(Clone, Debug, Default)]
pub struct RequestLog(Arc<Mutex<RequestLogInner>>);

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, RequestLogInner> {
        // A panic while holding this lock cannot leave the counters
        // inconsistent, so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Allowed requests per endpoint template (`GET /api/2/users/{id}`).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.lock().counts.clone()
    }

    /// The number of allowed requests.
    pub fn total(&self) -> u64 {
        self.lock().counts.values().sum()
    }

    /// The refused requests, oldest first.
    pub fn refused(&self) -> Vec<RefusedRequest> {
        self.lock().refused.clone()
    }

    /// Forgets everything recorded so far.
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.counts.clear();
        inner.refused.clear();
    }

    fn record_allowed(&self, endpoint: String) {
        *self.lock().counts.entry(endpoint).or_insert(0) += 1;
    }

    fn record_refused(&self, refused: RefusedRequest) {
        self.lock().refused.push(refused);
    }
}

/// The verdict of [`HttpPolicy::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send the request to `uri` (the original URI, or the rerouted loopback
    /// one); count it under `endpoint`.
    Allow {
        /// Where to send the request.
        uri: Uri,
        /// The endpoint template it is counted under.
        endpoint: String,
    },
    /// Do not send it.
    Refuse {
        /// Why, for people.
        reason: String,
    },
}

/// The allow-list and route map. Immutable once built; shared by all
/// instances of a harness.
#[derive(Clone, Debug, Default)]
pub struct HttpPolicy {
    allowed: BTreeSet<HostEntry>,
    routes: BTreeMap<String, SocketAddr>,
}

impl HttpPolicy {
    /// Builds a policy from the embedder's allow-list (`host` or `host:port`
    /// strings) and route map (host name → loopback address). Fails on an
    /// entry that is not a host, or a route to a non-loopback address.
    pub fn new(allowed_hosts: &[String], routes: &BTreeMap<String, SocketAddr>) -> anyhow::Result<HttpPolicy> {
        let mut allowed = BTreeSet::new();
        for entry in allowed_hosts {
            let parsed = HostEntry::parse(entry).ok_or_else(|| anyhow::anyhow!("invalid allowed host {entry:?}"))?;
            allowed.insert(parsed);
        }
        let mut normalized_routes = BTreeMap::new();
        for (host, addr) in routes {
            anyhow::ensure!(addr.ip().is_loopback(), "route for {host:?} must point to a loopback address, not {addr}");
            normalized_routes.insert(normalize_host(host), *addr);
        }
        Ok(HttpPolicy { allowed, routes: normalized_routes })
    }

    fn is_allowed(&self, host: &str, port: u16, default_port: u16) -> bool {
        self.allowed.iter().any(|entry| entry.host == host && entry.port.unwrap_or(default_port) == port)
    }

    /// Decides about one request.
    pub fn check(&self, method: &Method, uri: &Uri) -> Decision {
        let refuse = |reason: String| Decision::Refuse { reason };
        let Some(scheme) = uri.scheme() else {
            return refuse("request has no scheme".into());
        };
        let Some(raw_host) = uri.host() else {
            return refuse("request has no host".into());
        };
        let host = normalize_host(raw_host);
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let endpoint = endpoint_template(method.as_str(), path_and_query);

        if *scheme == Scheme::HTTPS {
            let port = uri.port_u16().unwrap_or(443);
            if !self.is_allowed(&host, port, 443) {
                return refuse(format!("host {host}:{port} is not on the allow-list"));
            }
            if port == 443 {
                if let Some(addr) = self.routes.get(&host) {
                    let rerouted = Uri::builder()
                        .scheme(Scheme::HTTP)
                        .authority(addr.to_string())
                        .path_and_query(path_and_query)
                        .build();
                    return match rerouted {
                        Ok(uri) => Decision::Allow { uri, endpoint },
                        Err(e) => refuse(format!("cannot reroute to {addr}: {e}")),
                    };
                }
            }
            Decision::Allow { uri: uri.clone(), endpoint }
        } else if *scheme == Scheme::HTTP {
            let port = uri.port_u16().unwrap_or(80);
            if !is_loopback_host(&host) {
                return refuse(format!("plain http is only allowed to loopback addresses, not {host}"));
            }
            if !self.is_allowed(&host, port, 80) {
                return refuse(format!("host {host}:{port} is not on the allow-list"));
            }
            Decision::Allow { uri: uri.clone(), endpoint }
        } else {
            refuse(format!("scheme {scheme} is not allowed"))
        }
    }
}

/// `scheme://host[:port]/path` of a URI: no user info, no query.
pub(crate) fn url_without_query(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("?");
    let host = uri.host().unwrap_or("");
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}{}", uri.path())
}

/// The per-store [`WasiHttpHooks`] that enforces an [`HttpPolicy`] and
/// records into a [`RequestLog`].
pub struct PolicyHooks {
    policy: Arc<HttpPolicy>,
    log: RequestLog,
    replay: Option<Arc<ReplayBook>>,
}

impl PolicyHooks {
    /// Hooks for one store, sharing the harness's policy and log; with a
    /// [`ReplayBook`], allowed requests are answered from it, not sent.
    pub fn new(policy: Arc<HttpPolicy>, log: RequestLog, replay: Option<Arc<ReplayBook>>) -> PolicyHooks {
        PolicyHooks { policy, log, replay }
    }
}

/// The recorded answer to `request` (599 when the book does not hold it).
fn replayed(book: &ReplayBook, request: &http::Request<WasiBody>) -> http::Response<WasiBody> {
    use http_body_util::BodyExt;
    let path = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let (status, headers, body) = match book.answer(request.method().as_str(), path) {
        Some(recorded) => (recorded.status, recorded.headers.clone(), recorded.body.clone()),
        None => (599, Vec::new(), b"not in the replay book".to_vec()),
    };
    let mut response = http::Response::new(
        http_body_util::Full::new(bytes::Bytes::from(body))
            .map_err(|never: std::convert::Infallible| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(&value))
        {
            response.headers_mut().append(name, value);
        }
    }
    response
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for PolicyHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        drop(fut);
        let method = request.method().clone();
        match self.policy.check(&method, request.uri()) {
            Decision::Refuse { reason } => {
                let uri = request.uri();
                tracing::warn!(
                    method = %method,
                    scheme = uri.scheme_str().unwrap_or(""),
                    host = uri.host().unwrap_or(""),
                    path = uri.path(),
                    %reason,
                    "refused outgoing request from component"
                );
                self.log.record_refused(RefusedRequest {
                    method: method.to_string(),
                    url_without_query: url_without_query(uri),
                    reason,
                });
                Box::new(async { Err(HttpError::HttpRequestDenied) })
            }
            Decision::Allow { uri, endpoint } => {
                tracing::debug!(%endpoint, "outgoing request");
                self.log.record_allowed(endpoint);
                if let Some(book) = &self.replay {
                    let response = replayed(book, &request);
                    let io = async { Ok(()) };
                    return Box::new(async move {
                        // Take the whole body the component writes, as a server would.
                        let _ = http_body_util::BodyExt::collect(request.into_body()).await;
                        Ok((response, Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>))
                    });
                }
                *request.uri_mut() = uri;
                Box::new(async move {
                    use http_body_util::BodyExt;
                    let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
                    Ok((
                        response.map(BodyExt::boxed_unsync),
                        Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str], routes: &[(&str, &str)]) -> HttpPolicy {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let routes = routes.iter().map(|(h, a)| (h.to_string(), a.parse().unwrap())).collect();
        HttpPolicy::new(&allowed, &routes).unwrap()
    }

    fn check(p: &HttpPolicy, method: &str, url: &str) -> Decision {
        p.check(&method.parse().unwrap(), &url.parse().unwrap())
    }

    fn is_allowed(d: &Decision) -> bool {
        matches!(d, Decision::Allow { .. })
    }

    #[test]
    fn allowed_host_is_allowed() {
        let p = policy(&["acme.onelogin.com", "api.us.onelogin.com"], &[]);
        let d = check(&p, "GET", "https://acme.onelogin.com/api/2/users?limit=5");
        assert_eq!(
            d,
            Decision::Allow {
                uri: "https://acme.onelogin.com/api/2/users?limit=5".parse().unwrap(),
                endpoint: "GET /api/2/users".into()
            }
        );
        // Host names are case-insensitive; an explicit default port is the same host.
        assert!(is_allowed(&check(&p, "POST", "https://API.US.OneLogin.com:443/auth/oauth2/v2/token")));
    }

    #[test]
    fn unlisted_host_is_refused() {
        let p = policy(&["acme.onelogin.com"], &[]);
        for url in [
            "https://evil.example.com/api/2/users",
            "https://acme.onelogin.com.evil.example.com/",
            "https://other.onelogin.com/api/2/users",
            // A port that the entry does not name.
            "https://acme.onelogin.com:8443/api/2/users",
        ] {
            assert!(matches!(check(&p, "GET", url), Decision::Refuse { .. }), "{url} should be refused");
        }
        // Entries with a port allow exactly that port.
        let p = policy(&["api.example.com:8443"], &[]);
        assert!(is_allowed(&check(&p, "GET", "https://api.example.com:8443/")));
        assert!(!is_allowed(&check(&p, "GET", "https://api.example.com/")));
    }

    #[test]
    fn plain_http_only_for_loopback() {
        let p = policy(&["acme.onelogin.com", "127.0.0.1:8080", "localhost:9000", "[::1]:7000"], &[]);
        // Plain http to an allowed public host is refused.
        assert!(!is_allowed(&check(&p, "GET", "http://acme.onelogin.com/api/2/users")));
        // Plain http to allowed loopback hosts is fine.
        assert!(is_allowed(&check(&p, "GET", "http://127.0.0.1:8080/api/2/users")));
        assert!(is_allowed(&check(&p, "GET", "http://localhost:9000/")));
        assert!(is_allowed(&check(&p, "GET", "http://[::1]:7000/")));
        // Loopback that is not itself allowed is refused.
        assert!(!is_allowed(&check(&p, "GET", "http://127.0.0.1:8081/")));
        assert!(!is_allowed(&check(&p, "GET", "http://127.0.0.2:8080/")));
        // Other schemes are refused.
        assert!(!is_allowed(&check(&p, "GET", "ftp://127.0.0.1:8080/")));
        assert!(is_loopback_host("127.1.2.3"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("LOCALHOST"));
        assert!(!is_loopback_host("10.0.0.1"));
    }

    #[test]
    fn route_map_rewrites_to_loopback() {
        let p = policy(&["acme.onelogin.com"], &[("acme.onelogin.com", "127.0.0.1:4567")]);
        let d = check(&p, "GET", "https://acme.onelogin.com/api/2/roles/12/users?cursor=abc");
        assert_eq!(
            d,
            Decision::Allow {
                uri: "http://127.0.0.1:4567/api/2/roles/12/users?cursor=abc".parse().unwrap(),
                endpoint: "GET /api/2/roles/{id}/users".into()
            }
        );
        // A route does not allow a host by itself.
        let p = policy(&[], &[("acme.onelogin.com", "127.0.0.1:4567")]);
        assert!(!is_allowed(&check(&p, "GET", "https://acme.onelogin.com/")));
        // Routes must point to loopback.
        let routes = [("acme.onelogin.com".to_string(), "10.0.0.1:80".parse().unwrap())].into_iter().collect();
        assert!(HttpPolicy::new(&[], &routes).is_err());
    }

    #[test]
    fn endpoint_template_replaces_numeric_segments() {
        assert_eq!(endpoint_template("GET", "/api/2/roles/123/users"), "GET /api/2/roles/{id}/users");
        assert_eq!(endpoint_template("PUT", "/api/2/roles/7/users?x=1"), "PUT /api/2/roles/{id}/users");
        assert_eq!(endpoint_template("GET", "/api/2/users/abc1"), "GET /api/2/users/abc1");
        assert_eq!(
            endpoint_template("GET", "/api/1/privileges/48a3158e-6401-478b-abbc-99ebc7d33217/users"),
            "GET /api/1/privileges/{id}/users"
        );
        assert_eq!(endpoint_template("GET", "/api/2/users/custom_attributes"), "GET /api/2/users/custom_attributes");
        assert_eq!(endpoint_template("GET", "/api/1/users/5/roles"), "GET /api/1/users/{id}/roles");
        assert_eq!(endpoint_template("GET", "/v2/things/42"), "GET /v2/things/{id}");
        assert_eq!(endpoint_template("GET", "/"), "GET /");
        assert_eq!(endpoint_template("GET", ""), "GET /");
        assert_eq!(endpoint_template("POST", "/auth/oauth2/v2/token"), "POST /auth/oauth2/v2/token");
    }

    #[test]
    fn refused_url_has_no_query_or_userinfo() {
        let uri: Uri = "https://user:pw@evil.example.com:8443/x/y?token=secret".parse().unwrap();
        assert_eq!(url_without_query(&uri), "https://evil.example.com:8443/x/y");
    }

    #[test]
    fn request_log_counts_and_resets() {
        let log = RequestLog::default();
        log.record_allowed("GET /a".into());
        log.record_allowed("GET /a".into());
        log.record_allowed("GET /b".into());
        assert_eq!(log.total(), 3);
        assert_eq!(log.counts().get("GET /a"), Some(&2));
        log.reset();
        assert_eq!(log.total(), 0);
    }
}
