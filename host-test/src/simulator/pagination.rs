//! Pagination in both dialects.
//!
//! * **v2**: query `limit`, `page`, `cursor`. The cursor is standard, padded base64 of
//!   `limit=N&page=M`. A `cursor` together with `limit` or `page` is the real 400
//!   `{"status":400,"error":"BadRequestError","description":"Requests can only have
//!   cursor xor pagination arguments"}` (Terraform provider #196); an unreadable cursor
//!   is 400 "Invalid pagination cursor" (#203). `limit` above the endpoint max is capped
//!   (not an error); the default is the max. Responses carry `Total-Count`,
//!   `Total-Pages`, `Current-Page`, `Page-Items`, `After-Cursor`, `Before-Cursor` (not
//!   on the first page) and a best-effort RFC 8288 `Link` header. Whether the last page
//!   has an `After-Cursor` is a switch ([`LastPageCursor`]): the real API does not
//!   reliably omit it (go-sdk PR #61). (Assumption, FIDELITY.md F-PAGE-9: the `Link`
//!   format.)
//! * **v1**: query `limit` (capped), `after_cursor` / `before_cursor`; body
//!   `pagination.{before_cursor,after_cursor,previous_link,next_link}`. Cursors are
//!   opaque key-set cursors: URL-safe base64 of `account_id:::A--##id:::<id>`.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

use super::errors::{json_response, roles_service_error, v1_bad_request, v1_success_status, v2_bad_request};
use super::LastPageCursor;

/// Parsed query string: ordered `(name, value)` pairs, percent-decoded.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// Re-encodes all parameters except `drop`, then appends `extra`.
    pub fn encode_with(&self, drop: &[&str], extra: &[(&str, String)]) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !drop.contains(&k.as_str()) {
                ser.append_pair(k, v);
            }
        }
        for (k, v) in extra {
            ser.append_pair(k, v);
        }
        ser.finish()
    }
}

/// Decodes base64 in any common alphabet, with or without padding. Spaces become `+`
/// (a `+` in an unencoded query string decodes to a space).
fn decode_b64_lenient(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().replace(' ', "+");
    STANDARD
        .decode(&s)
        .or_else(|_| STANDARD_NO_PAD.decode(&s))
        .or_else(|_| URL_SAFE.decode(&s))
        .or_else(|_| URL_SAFE_NO_PAD.decode(&s))
        .ok()
}

/// A resolved v2 page request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V2Page {
    /// Items per page (1..=max).
    pub limit: usize,
    /// 1-based page number.
    pub page: usize,
}

/// Encodes a v2 cursor: base64(`limit=N&page=M`).
pub fn encode_v2_cursor(limit: usize, page: usize) -> String {
    STANDARD.encode(format!("limit={limit}&page={page}"))
}

/// Decodes a v2 cursor into `(limit, page)`.
pub fn decode_v2_cursor(cursor: &str) -> Option<(usize, usize)> {
    let bytes = decode_b64_lenient(cursor)?;
    let text = String::from_utf8(bytes).ok()?;
    let (mut limit, mut page) = (None, None);
    for part in text.split('&') {
        let (k, v) = part.split_once('=')?;
        match k {
            "limit" => limit = Some(v.parse::<usize>().ok()?),
            "page" => page = Some(v.parse::<usize>().ok()?),
            _ => {}
        }
    }
    Some((limit?, page?))
}

impl V2Page {
    /// Resolves `cursor` / `limit` / `page` against an endpoint maximum `max`.
    ///
    /// Assumption (FIDELITY.md F-PAGE-4): a too-large `limit` is capped, not refused.
    pub fn from_params(params: &Params, max: usize) -> Result<V2Page, Response> {
        let clamp = |l: usize| if l == 0 { max } else { l.min(max) };
        if let Some(cursor) = params.get("cursor") {
            if params.get("limit").is_some() || params.get("page").is_some() {
                return Err(roles_service_error(
                    StatusCode::BAD_REQUEST,
                    "Requests can only have cursor xor pagination arguments",
                ));
            }
            let (limit, page) = decode_v2_cursor(cursor)
                .ok_or_else(|| roles_service_error(StatusCode::BAD_REQUEST, "Invalid pagination cursor"))?;
            return Ok(V2Page { limit: clamp(limit), page: page.max(1) });
        }
        let limit = match params.get("limit") {
            Some(l) => l.trim().parse::<usize>().map_err(|_| v2_bad_request("Invalid limit"))?,
            None => max,
        };
        let page = match params.get("page") {
            Some(p) => p.trim().parse::<usize>().map_err(|_| v2_bad_request("Invalid page"))?,
            None => 1,
        };
        Ok(V2Page { limit: clamp(limit), page: page.max(1) })
    }

    /// The index range of this page within `total` items.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        let start = self.limit.saturating_mul(self.page - 1).min(total);
        let end = start.saturating_add(self.limit).min(total);
        start..end
    }

    /// Number of pages for `total` items.
    pub fn total_pages(&self, total: usize) -> usize {
        total.div_ceil(self.limit)
    }
}

/// What a v2 list response needs besides its items (from the simulator's state).
#[derive(Clone, Copy, Debug)]
pub struct Listing<'a> {
    /// `http://127.0.0.1:PORT`, for `Link`.
    pub base_url: &'a str,
    /// Whether the last page carries an `After-Cursor`.
    pub last_page_cursor: LastPageCursor,
}

/// Builds a paginated v2 list response. `items` are this page's items; `total` is the
/// size of the whole (filtered) collection; `url_path` is the request path (for `Link`).
pub fn v2_list(
    items: Vec<Value>,
    total: usize,
    page: V2Page,
    listing: Listing<'_>,
    url_path: &str,
    params: &Params,
) -> Response {
    let base_url = listing.base_url;
    let total_pages = page.total_pages(total);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("total-count", total.to_string());
    set("total-pages", total_pages.to_string());
    set("current-page", page.page.to_string());
    set("page-items", items.len().to_string());
    let link_for = |cursor: &str| {
        let q = params.encode_with(&["cursor", "limit", "page"], &[("cursor", cursor.to_string())]);
        format!("{base_url}{url_path}?{q}")
    };
    let mut links = Vec::new();
    if page.page < total_pages {
        let after = encode_v2_cursor(page.limit, page.page + 1);
        links.push(format!("<{}>; rel=\"next\"", link_for(&after)));
        set("after-cursor", after);
    } else if page.page == total_pages.max(1) && listing.last_page_cursor == LastPageCursor::PastTheEnd {
        // A stale cursor on the last page (no `Link` rel="next": there is no next page).
        set("after-cursor", encode_v2_cursor(page.limit, page.page + 1));
    }
    if page.page > 1 {
        // For a page past the end, "previous" is the last real page.
        // Assumption (FIDELITY.md F-PAGE-10): a page past the end is 200 `[]`.
        let prev = (page.page - 1).min(total_pages.max(1));
        let before = encode_v2_cursor(page.limit, prev);
        links.push(format!("<{}>; rel=\"prev\"", link_for(&before)));
        set("before-cursor", before);
    }
    set("link", links.join(", "));
    let mut resp = json_response(StatusCode::OK, &Value::Array(items));
    resp.headers_mut().extend(headers);
    resp
}

/// Which way a v1 cursor points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V1Cursor {
    /// No cursor: first page.
    Start,
    /// Items with id greater than this.
    After(u64),
    /// Items with id less than this.
    Before(u64),
}

/// Encodes a v1 key-set cursor for item id `id`.
pub fn encode_v1_cursor(account_id: u64, id: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("account_id:::{account_id}--##id:::{id}"))
}

/// Decodes a v1 cursor into the item id it points at.
pub fn decode_v1_cursor(cursor: &str) -> Option<u64> {
    let bytes = decode_b64_lenient(cursor)?;
    let text = String::from_utf8(bytes).ok()?;
    let (_, id) = text.rsplit_once("id:::")?;
    id.trim().parse().ok()
}

/// Resolves v1 `limit` and cursor parameters against an endpoint maximum.
pub fn v1_request(params: &Params, max: usize) -> Result<(usize, V1Cursor), Response> {
    let limit = match params.get("limit") {
        Some(l) => match l.trim().parse::<usize>() {
            Ok(0) => max,
            Ok(n) => n.min(max),
            Err(_) => return Err(v1_bad_request("limit is invalid")),
        },
        None => max,
    };
    let cursor = if let Some(c) = params.get("after_cursor") {
        V1Cursor::After(decode_v1_cursor(c).ok_or_else(|| v1_bad_request("after_cursor is invalid"))?)
    } else if let Some(c) = params.get("before_cursor") {
        V1Cursor::Before(decode_v1_cursor(c).ok_or_else(|| v1_bad_request("before_cursor is invalid"))?)
    } else {
        V1Cursor::Start
    };
    Ok((limit, cursor))
}

/// Builds a paginated v1 envelope over `ids` (sorted ascending, already filtered),
/// rendering the items of the selected page with `render(index)`.
#[allow(clippy::too_many_arguments)]
pub fn v1_list(
    ids: &[u64],
    render: impl Fn(usize) -> Value,
    params: &Params,
    max: usize,
    account_id: u64,
    base_url: &str,
    url_path: &str,
) -> Response {
    let (limit, cursor) = match v1_request(params, max) {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let (start, end) = match cursor {
        V1Cursor::Start => (0, limit.min(ids.len())),
        V1Cursor::After(x) => {
            let s = ids.partition_point(|&id| id <= x);
            (s, (s + limit).min(ids.len()))
        }
        V1Cursor::Before(x) => {
            let e = ids.partition_point(|&id| id < x);
            (e.saturating_sub(limit), e)
        }
    };
    let data: Vec<Value> = (start..end).map(render).collect();
    let after = (end < ids.len() && end > start).then(|| encode_v1_cursor(account_id, ids[end - 1]));
    let before = (start > 0 && start < ids.len()).then(|| encode_v1_cursor(account_id, ids[start]));
    v1_page_response(data, before, after, params, &format!("{base_url}{url_path}"))
}

/// A v1 list page: the success status, the body `pagination` (cursors and
/// links to `url` with the same query but the cursor) and `data`.
pub fn v1_page_response(
    data: Vec<Value>,
    before: Option<String>,
    after: Option<String>,
    params: &Params,
    url: &str,
) -> Response {
    let link = |name: &str, cursor: &str| {
        let q = params.encode_with(&["after_cursor", "before_cursor"], &[(name, cursor.to_string())]);
        format!("{url}?{q}")
    };
    let body = json!({
        "status": v1_success_status(),
        "pagination": {
            "before_cursor": before,
            "after_cursor": after,
            "previous_link": before.as_deref().map(|c| link("before_cursor", c)),
            "next_link": after.as_deref().map(|c| link("after_cursor", c)),
        },
        "data": data,
    });
    json_response(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_cursor_matches_documented_examples() {
        assert_eq!(encode_v2_cursor(10, 2), "bGltaXQ9MTAmcGFnZT0y");
        assert_eq!(decode_v2_cursor("bGltaXQ9MTAwMCZwYWdlPTM="), Some((1000, 3)));
        assert_eq!(decode_v2_cursor("not a cursor!"), None);
    }

    #[test]
    fn v2_limit_is_capped_and_a_cursor_comes_alone() {
        let p = Params::parse(Some("limit=5000&page=2"));
        assert_eq!(V2Page::from_params(&p, 50).unwrap(), V2Page { limit: 50, page: 2 });
        let c = encode_v2_cursor(10, 4);
        let p = Params::parse(Some(&format!("cursor={c}&fields=id")));
        assert_eq!(V2Page::from_params(&p, 50).unwrap(), V2Page { limit: 10, page: 4 });
        for mixed in [format!("limit=3&cursor={c}"), format!("page=1&cursor={c}")] {
            let refused = V2Page::from_params(&Params::parse(Some(&mixed)), 50).unwrap_err();
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{mixed}");
        }
        assert!(V2Page::from_params(&Params::parse(Some("cursor=%%%")), 50).is_err());
    }

    #[test]
    fn v1_cursor_round_trips() {
        let c = encode_v1_cursor(189_185, 6_772_474);
        assert_eq!(decode_v1_cursor(&c), Some(6_772_474));
        assert_eq!(decode_v1_cursor("zzzz"), None);
    }
}
