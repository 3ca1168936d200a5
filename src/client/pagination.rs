//! OneLogin's two pagination styles, one page at a time.
//!
//! - v2: `limit` on the first request, then `cursor=<After-Cursor header>`;
//!   the last page has no `After-Cursor`. `Total-Count` gives the total.
//! - v1: `after_cursor` from the body's `pagination.after_cursor`
//!   (`afterCursor` on privileges endpoints); null on the last page.
//!
//! The sync cursor stores these upstream cursors, so a page can be re-read
//! after the instance is replaced.

use serde_json::Value;

use super::transport::Response;

/// One page of a list endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    /// The upstream cursor of the next page, `None` on the last one.
    pub next: Option<String>,
    /// The total count, when the API says.
    pub total: Option<u64>,
}

/// The query string for a v2 list request: `limit` (and `extra`) on the first
/// page, `cursor` afterwards (the cursor encodes the limit).
pub fn v2_query(limit: usize, cursor: Option<&str>, extra: &[(&str, &str)]) -> String {
    let mut query = match cursor {
        Some(cursor) => format!("cursor={}", percent_encode(cursor)),
        None => format!("limit={limit}"),
    };
    append_params(&mut query, extra);
    query
}

/// The query string for a v1 list request (filters go with every page).
pub fn v1_query(limit: usize, cursor: Option<&str>, extra: &[(&str, &str)]) -> String {
    let mut query = match cursor {
        Some(cursor) => format!("limit={limit}&after_cursor={}", percent_encode(cursor)),
        None => format!("limit={limit}"),
    };
    append_params(&mut query, extra);
    query
}

/// Append `&name=value` for each pair, values percent-encoded.
fn append_params(query: &mut String, params: &[(&str, &str)]) {
    for (name, value) in params {
        query.push('&');
        query.push_str(name);
        query.push('=');
        query.push_str(&percent_encode(value));
    }
}

/// Read a v2 page: a bare JSON array, cursors in headers.
pub fn v2_page(response: &Response, body: Value) -> Option<Page> {
    let Value::Array(items) = body else { return None };
    let next = response.header("after-cursor").map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    let total = response.header("total-count").and_then(|t| t.trim().parse().ok());
    Some(Page { items, next, total })
}

/// Read a v1 page: `{"status":…,"pagination":{…},"data":[…]}`.
pub fn v1_page(mut body: Value) -> Option<Page> {
    let next = body
        .get("pagination")
        .and_then(|p| p.get("after_cursor").or_else(|| p.get("afterCursor")))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let items = match body.get_mut("data").map(Value::take) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return None,
    };
    Some(Page { items, next, total: None })
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

    #[test]
    fn first_v2_request_sends_limit_then_cursor() {
        assert_eq!(v2_query(50, None, &[]), "limit=50");
        assert_eq!(v2_query(50, Some("bGltaXQ9NTAmcGFnZT0y"), &[]), "cursor=bGltaXQ9NTAmcGFnZT0y");
        assert_eq!(v2_query(50, Some("a+b/c="), &[("fields", "id,name")]), "cursor=a%2Bb%2Fc%3D&fields=id%2Cname");
    }

    #[test]
    fn v2_after_cursor_header_drives_the_next_page() {
        let page = v2_page(&response(&[("after-cursor", "abc"), ("total-count", "17")]), json!([{"id": 1}])).unwrap();
        assert_eq!(page.next.as_deref(), Some("abc"));
        assert_eq!(page.total, Some(17));
        let last = v2_page(&response(&[("before-cursor", "x")]), json!([])).unwrap();
        assert_eq!(last.next, None);
    }

    #[test]
    fn v2_page_must_be_an_array() {
        assert!(v2_page(&response(&[]), json!({"message": "x"})).is_none());
    }

    #[test]
    fn v1_body_cursor_and_camel_case_variant() {
        let page = v1_page(json!({"pagination": {"after_cursor": "c1"}, "data": [{"id": 1}]})).unwrap();
        assert_eq!((page.items.len(), page.next.as_deref()), (1, Some("c1")));
        let camel = v1_page(json!({"afterCursor": null, "pagination": {"afterCursor": "c2"}, "data": []})).unwrap();
        assert_eq!(camel.next.as_deref(), Some("c2"));
        let last = v1_page(json!({"pagination": {"after_cursor": null}, "data": null})).unwrap();
        assert_eq!((last.items.len(), last.next), (0, None));
    }
}
