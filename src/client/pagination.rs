//! OneLogin's list endpoints, one guarded page at a time.
//!
//! Two styles (developers.onelogin.com "using query parameters" and the
//! official SDKs' paging code):
//! - v2: `limit` on the first request, then `cursor=<After-Cursor header>`
//!   *alone* — the real API answers 400 "Requests can only have cursor xor
//!   pagination arguments" when `limit` comes with a cursor. Headers also
//!   carry `Total-Count`, `Current-Page` and `Total-Pages`.
//! - v1: `after_cursor` from the body's `pagination.after_cursor`
//!   (`afterCursor` on privileges endpoints); null on the last page.
//!
//! The real API does not reliably leave `After-Cursor` empty on the last
//! page (go-sdk PR #61), and a broken or hostile server may send any cursor,
//! so every page goes through one guard. A list ends when there is no next
//! cursor, the page is empty, `Current-Page` reaches `Total-Pages`, or the
//! next cursor is one already followed. More pages than `Total-Count` allows
//! (or [`MAX_PAGES`] without it), and cursors that are not short printable
//! ASCII, are typed errors ([`Error::UnexpectedResponse`]), never a silent
//! stop or an endless loop.
//!
//! A [`PageCursor`] says where a list stands; the sync cursor stores it, so a
//! read resumes in a fresh instance with the same guard.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::transport::Response;
use crate::error::{Error, Result};

/// Page sizes requested per endpoint: the largest each one documents. The
/// server may serve fewer; the guard follows its cursors either way.
pub mod page_size {
    /// `GET /api/2/users`: py-sdk spec max 100 (the docs say 50 per page).
    pub const USERS: usize = 100;
    /// `GET /api/1/groups`: 50.
    pub const GROUPS: usize = 50;
    /// `GET /api/2/roles`: 650.
    pub const ROLES: usize = 650;
    /// `GET /api/2/roles/{id}/users` and `/admins`: 100.
    pub const ROLE_USERS: usize = 100;
    /// `GET /api/2/apps`: 1000.
    pub const APPS: usize = 1000;
    /// `GET /api/2/apps/{id}/users`: 1000.
    pub const APP_USERS: usize = 1000;
    /// `GET /api/1/events`: 50.
    pub const EVENTS: usize = 50;
}

/// The most pages a v1 list may have (v1 gives no total): 5 million events
/// at 50 a page.
pub const MAX_PAGES: u32 = 100_000;
/// The most pages a v2 list may have without a `Total-Count` header (which
/// OneLogin documents on every paged v2 endpoint): at least 50,000 items.
pub const MAX_PAGES_V2_UNCOUNTED: u32 = 1_000;
/// The longest upstream cursor followed. Real ones are base64 of a short
/// query (`limit=100&sort=id&page=2&sort_direction=asc`, under 100
/// characters).
pub const MAX_UPSTREAM_CURSOR: usize = 8192;
/// The longest upstream cursor a sync cursor carries (so it stays under its
/// 4 KiB limit): a page never ends while a longer one is current; the sync
/// follows it within the same call.
pub const MAX_CARRIED_CURSOR: usize = 512;

/// Which of OneLogin's two list styles an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/api/1/…`: body envelope with `pagination.after_cursor`.
    V1,
    /// `/api/2/…`: bare JSON array, cursors in headers.
    V2,
}

/// One list endpoint and how to ask it.
#[derive(Debug, Clone, Copy)]
pub struct List<'a> {
    /// Path without query, e.g. `/api/2/users`.
    pub path: &'a str,
    /// Its paging style.
    pub dialect: Dialect,
    /// The page size to ask for (first page only on v2).
    pub limit: usize,
    /// Filters sent with every page, e.g. `updated_since`.
    pub filters: &'a [(&'a str, &'a str)],
}

impl<'a> List<'a> {
    /// A v2 list with no filters.
    pub fn v2(path: &'a str, limit: usize) -> Self {
        List { path, dialect: Dialect::V2, limit, filters: &[] }
    }

    /// A v1 list with no filters.
    pub fn v1(path: &'a str, limit: usize) -> Self {
        List { path, dialect: Dialect::V1, limit, filters: &[] }
    }

    /// The same list with filters.
    pub fn with_filters(self, filters: &'a [(&'a str, &'a str)]) -> Self {
        List { filters, ..self }
    }

    /// Path and query of the page at `at`.
    pub fn path_and_query(&self, at: &PageCursor) -> String {
        let mut query = match (self.dialect, &at.next) {
            (Dialect::V2, Some(cursor)) => format!("cursor={}", percent_encode(cursor)),
            (Dialect::V1, Some(cursor)) => format!("limit={}&after_cursor={}", self.limit, percent_encode(cursor)),
            (_, None) => format!("limit={}", self.limit),
        };
        for (name, value) in self.filters {
            query.push('&');
            query.push_str(name);
            query.push('=');
            query.push_str(&percent_encode(value));
        }
        format!("{}?{query}", self.path)
    }
}

/// Where a list read stands: the upstream cursor of the page to read
/// (`None` = the first page), how many pages came before it, and a hash of
/// the cursor before that (to catch a server sending cursors in a circle).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    /// OneLogin's cursor for the page to read.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Pages read before this one.
    #[serde(rename = "n", default, skip_serializing_if = "is_zero")]
    pub pages: u32,
    /// [`fingerprint`] of the cursor that led to the previous page (0 = none).
    #[serde(rename = "h", default, skip_serializing_if = "is_zero_u64")]
    pub previous: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

impl PageCursor {
    /// The first page.
    pub fn first() -> Self {
        PageCursor::default()
    }
}

/// One page of a list endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The items, as OneLogin sent them.
    pub items: Vec<Value>,
    /// Where the next page is, `None` on the last one.
    pub next: Option<PageCursor>,
    /// The total count, when the API says.
    pub total: Option<u64>,
}

/// Read a response to the request for the page at `at` of `list`, and decide
/// whether and where the list goes on.
pub fn parse_page(list: &List<'_>, at: &PageCursor, response: &Response, body: Value) -> Result<Page> {
    let what = format!("GET {}", list.path);
    let (items, next, total) = match list.dialect {
        Dialect::V2 => {
            let Value::Array(items) = body else {
                return Err(Error::unexpected(response.status, &what, "a JSON array"));
            };
            (items, header_cursor(response, &what)?, header_number(response, "total-count"))
        }
        Dialect::V1 => {
            let (items, next) = v1_body(body)
                .ok_or_else(|| Error::unexpected(response.status, &what, "a v1 envelope with a data array"))?;
            (items, next.map(|c| checked_cursor(c, response.status, &what)).transpose()?, None)
        }
    };
    let last_by_count = match (header_number(response, "current-page"), header_number(response, "total-pages")) {
        (Some(current), Some(pages)) => current >= pages,
        _ => false,
    };
    let next = match next {
        None => None,
        Some(_) if items.is_empty() || last_by_count => None,
        Some(cursor) => {
            let print = fingerprint(&cursor);
            let current = at.next.as_deref().map_or(0, fingerprint);
            if print == current || print == at.previous {
                // A cursor already followed: the list went round in a circle.
                None
            } else {
                let pages = at.pages.saturating_add(1);
                let cap = page_cap(list.dialect, total, items.len());
                if pages >= cap {
                    return Err(Error::unexpected(
                        response.status,
                        &what,
                        &format!("the list to end within {cap} pages (OneLogin said {total:?} items in all)"),
                    ));
                }
                Some(PageCursor { next: Some(cursor), pages, previous: current })
            }
        }
    };
    Ok(Page { items, next, total })
}

/// The most pages a list may have: what `Total-Count` allows at the size of
/// this page (plus one for a page that shrank), or without a total
/// [`MAX_PAGES`] (v1) or [`MAX_PAGES_V2_UNCOUNTED`] (v2).
fn page_cap(dialect: Dialect, total: Option<u64>, page_len: usize) -> u32 {
    let Some(total) = total else {
        return match dialect {
            Dialect::V1 => MAX_PAGES,
            Dialect::V2 => MAX_PAGES_V2_UNCOUNTED,
        };
    };
    let per_page = u64::try_from(page_len.max(1)).unwrap_or(u64::MAX);
    let pages = total.div_ceil(per_page).saturating_add(2);
    u32::try_from(pages).unwrap_or(MAX_PAGES).min(MAX_PAGES)
}

/// `After-Cursor`, checked; absent or empty = none.
fn header_cursor(response: &Response, what: &str) -> Result<Option<String>> {
    match response.header("after-cursor").map(str::trim).filter(|c| !c.is_empty()) {
        Some(cursor) => checked_cursor(cursor.to_string(), response.status, what).map(Some),
        None => Ok(None),
    }
}

/// An upstream cursor is short printable ASCII (base64 in practice); anything
/// else would be mangled on the way back or bloat the sync cursor.
fn checked_cursor(cursor: String, status: u16, what: &str) -> Result<String> {
    if cursor.len() > MAX_UPSTREAM_CURSOR {
        return Err(Error::unexpected(
            status,
            what,
            &format!("a paging cursor of at most {MAX_UPSTREAM_CURSOR} characters (got {})", cursor.len()),
        ));
    }
    if !cursor.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::unexpected(status, what, "a paging cursor of printable ASCII characters"));
    }
    Ok(cursor)
}

fn header_number(response: &Response, name: &str) -> Option<u64> {
    response.header(name).and_then(|v| v.trim().parse().ok())
}

/// The items and next cursor of a v1 body `{"status":…,"pagination":{…},"data":[…]}`.
fn v1_body(mut body: Value) -> Option<(Vec<Value>, Option<String>)> {
    let next = body
        .get("pagination")
        .and_then(|p| p.get("after_cursor").or_else(|| p.get("afterCursor")))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let items = match body.get_mut("data").map(Value::take) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return None,
    };
    Some((items, next))
}

/// A 64-bit FNV-1a hash: a short, stable stand-in for a cursor or key.
pub fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Percent-encode a query value (RFC 3986 unreserved characters pass).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(headers: &[(&str, &str)]) -> Response {
        Response {
            status: 200,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: Vec::new(),
        }
    }

    fn at(cursor: &str) -> PageCursor {
        PageCursor { next: Some(cursor.into()), pages: 1, previous: 0 }
    }

    #[test]
    fn v2_sends_limit_first_then_the_cursor_alone() {
        let list = List::v2("/api/2/users", 50);
        assert_eq!(list.path_and_query(&PageCursor::first()), "/api/2/users?limit=50");
        assert_eq!(list.path_and_query(&at("bGltaXQ9NTAmcGFnZT0y")), "/api/2/users?cursor=bGltaXQ9NTAmcGFnZT0y");
        let filtered = list.with_filters(&[("fields", "id,name")]);
        assert_eq!(filtered.path_and_query(&at("a+b/c=")), "/api/2/users?cursor=a%2Bb%2Fc%3D&fields=id%2Cname");
        let v1 = List::v1("/api/1/events", 50);
        assert_eq!(v1.path_and_query(&at("x")), "/api/1/events?limit=50&after_cursor=x");
    }

    #[test]
    fn v2_after_cursor_header_drives_the_next_page() {
        let list = List::v2("/x", 10);
        let page = parse_page(
            &list,
            &PageCursor::first(),
            &response(&[("after-cursor", "abc"), ("total-count", "17")]),
            json!([{"id": 1}]),
        )
        .unwrap();
        assert_eq!(page.next.as_ref().and_then(|n| n.next.as_deref()), Some("abc"));
        assert_eq!(page.total, Some(17));
        let last = parse_page(&list, &at("abc"), &response(&[("before-cursor", "x")]), json!([{"id": 2}])).unwrap();
        assert_eq!(last.next, None);
        assert!(matches!(
            parse_page(&list, &PageCursor::first(), &response(&[]), json!({"message": "x"})),
            Err(Error::UnexpectedResponse { status: 200, .. })
        ));
    }

    #[test]
    fn a_list_ends_on_an_empty_page_the_last_page_number_or_a_repeated_cursor() {
        let list = List::v2("/x", 10);
        let end = |headers: &[(&str, &str)], body: Value, from: &PageCursor| {
            parse_page(&list, from, &response(headers), body).unwrap().next
        };
        assert_eq!(end(&[("after-cursor", "more")], json!([]), &PageCursor::first()), None, "empty page");
        let numbered = [("after-cursor", "more"), ("current-page", "2"), ("total-pages", "2")];
        assert_eq!(end(&numbered, json!([1]), &at("p2")), None, "Current-Page = Total-Pages");
        assert_eq!(end(&[("after-cursor", "same")], json!([1]), &at("same")), None, "the cursor just followed");
        let second = end(&[("after-cursor", "b")], json!([1]), &at("a")).unwrap();
        assert_eq!(end(&[("after-cursor", "a")], json!([1]), &second), None, "a circle of two");
    }

    #[test]
    fn more_pages_than_the_total_allows_is_a_typed_error() {
        let list = List::v2("/x", 10);
        let mut position = PageCursor::first();
        let mut pages = 0;
        let error = loop {
            pages += 1;
            let cursor = format!("c{pages}");
            let headers = [("after-cursor", cursor.as_str()), ("total-count", "30")];
            match parse_page(&list, &position, &response(&headers), json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) {
                Ok(page) => position = page.next.unwrap(),
                Err(error) => break error,
            }
        };
        assert!(matches!(error, Error::UnexpectedResponse { .. }), "{error}");
        assert!(pages <= 5, "stopped after {pages} pages of a 3-page list");
    }

    #[test]
    fn cursors_must_be_short_printable_ascii() {
        let list = List::v2("/x", 10);
        let long = "A".repeat(MAX_UPSTREAM_CURSOR + 1);
        for bad in [long.as_str(), "caf\u{e9}", "a\u{fffd}b"] {
            let result = parse_page(&list, &PageCursor::first(), &response(&[("after-cursor", bad)]), json!([1]));
            assert!(matches!(result, Err(Error::UnexpectedResponse { .. })), "{bad:?}");
        }
    }

    #[test]
    fn v1_body_cursor_and_camel_case_variant() {
        let list = List::v1("/x", 50);
        let first = PageCursor::first();
        let page = parse_page(
            &list,
            &first,
            &response(&[]),
            json!({"pagination": {"after_cursor": "c1"}, "data": [{"id": 1}]}),
        )
        .unwrap();
        assert_eq!((page.items.len(), page.next.and_then(|n| n.next)), (1, Some("c1".to_string())));
        let camel =
            parse_page(&list, &first, &response(&[]), json!({"pagination": {"afterCursor": "c2"}, "data": [1]}))
                .unwrap();
        assert_eq!(camel.next.and_then(|n| n.next).as_deref(), Some("c2"));
        let last =
            parse_page(&list, &first, &response(&[]), json!({"pagination": {"after_cursor": null}, "data": null}))
                .unwrap();
        assert_eq!((last.items.len(), last.next), (0, None));
        assert!(parse_page(&list, &first, &response(&[]), json!({"data": 5})).is_err());
    }
}
