//! Pages of a search: the request for one page, and the `next` link that
//! leads to the following one (`method`, `href`, `headers`, `body`, `merge`).

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use url::Url;

use crate::error::{ClientError, safe_url};
use crate::transport::Outgoing;

/// The request for one page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PageRequest {
    pub method: Method,
    pub url: Url,
    /// Headers given by the caller or by a `next` link.
    pub headers: Vec<(String, String)>,
    /// The JSON body (POST only).
    pub body: Option<Map<String, Value>>,
}

impl PageRequest {
    /// What identifies a page for loop detection: method, URL and body.
    pub(crate) fn key(&self) -> String {
        let body = self
            .body
            .as_ref()
            .map(|b| Value::Object(b.clone()).to_string())
            .unwrap_or_default();
        format!("{} {} {}", self.method, self.url, body)
    }

    pub(crate) fn outgoing(&self) -> Outgoing {
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.insert(n, v);
            }
        }
        let body = self.body.as_ref().map(|b| {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Value::Object(b.clone()).to_string().into_bytes()
        });
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/geo+json, application/json"),
        );
        Outgoing {
            method: self.method.clone(),
            url: self.url.clone(),
            headers,
            body,
        }
    }
}

/// The `rel=next` link of a page, turned into the next request.
///
/// `current` is the request that produced the page (relative hrefs resolve
/// against it); `original` is the first request (what `merge: true` merges
/// into). `Ok(None)` when there is no next link.
pub(crate) fn next_request(
    page: &Value,
    current: &PageRequest,
    original: &PageRequest,
    page_number: u64,
) -> Result<Option<PageRequest>, ClientError> {
    let malformed = |reason: String| ClientError::MalformedPage {
        url: safe_url(current.url.as_str()),
        page: page_number,
        reason,
    };
    let Some(links) = page.get("links") else {
        return Ok(None);
    };
    let Some(links) = links.as_array() else {
        return Err(malformed("`links` is not an array".into()));
    };
    let Some(link) = links
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))
    else {
        return Ok(None);
    };
    let href = link
        .get("href")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("next link has no href".into()))?;
    let url = current
        .url
        .join(href)
        .map_err(|e| malformed(format!("next link href {}: {e}", safe_url(href))))?;
    let method = match link.get("method").and_then(Value::as_str) {
        None => Method::GET,
        Some(m) if m.eq_ignore_ascii_case("GET") => Method::GET,
        Some(m) if m.eq_ignore_ascii_case("POST") => Method::POST,
        Some(m) => {
            return Err(malformed(format!(
                "next link method {m:?} is not GET or POST"
            )));
        }
    };
    let merge = link.get("merge").and_then(Value::as_bool).unwrap_or(false);
    let link_headers: Vec<(String, String)> = match link.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(h)) => h
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        Some(_) => return Err(malformed("next link headers are not an object".into())),
    };
    let link_body = match link.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::Object(b)) => Some(b.clone()),
        Some(_) => return Err(malformed("next link body is not an object".into())),
    };
    let (headers, body) = if merge {
        let mut headers = original.headers.clone();
        for (k, v) in link_headers {
            headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(&k));
            headers.push((k, v));
        }
        let body = if method == Method::POST {
            let mut b = original.body.clone().unwrap_or_default();
            for (k, v) in link_body.unwrap_or_default() {
                b.insert(k, v);
            }
            Some(b)
        } else {
            None
        };
        (headers, body)
    } else {
        let body = if method == Method::POST {
            Some(link_body.unwrap_or_default())
        } else {
            None
        };
        (link_headers, body)
    };
    Ok(Some(PageRequest {
        method,
        url,
        headers,
        body,
    }))
}

/// What one feature of a page (or its `links`) may take in memory once
/// parsed: a quarter of `max_page_bytes`. Parsing it takes up to twice
/// that on the way (arrays grow by doubling), and a search holds two page
/// bodies besides (the page handed out and the next one, prefetched): a
/// search stays under 4 × `max_page_bytes` (docs/reliability.md).
pub(crate) fn item_budget(max_page_bytes: u64) -> u64 {
    max_page_bytes / 4
}

/// One page of a search, checked whole when it arrives, its items parsed
/// one at a time as they are taken.
///
/// The page keeps its body (at most `max_page_bytes`) and a cursor into the
/// `features` array; [`Page::next`] parses the next feature. Before any item
/// is handed out the whole body has been checked: valid JSON, a `features`
/// array of objects, each of which takes at most [`item_budget`] in memory
/// once parsed (measured without building it), and a usable `next` link.
/// So a page's memory is its body plus the item being parsed, however many
/// features it holds, and an error never comes after some of its items.
pub(crate) struct Page {
    bytes: Vec<u8>,
    /// Where to look for the next feature, and the end of the array.
    pos: usize,
    end: usize,
    /// Features not handed out yet.
    left: usize,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("bytes", &self.bytes.len())
            .field("left", &self.left)
            .finish()
    }
}

impl Page {
    /// Features not handed out yet.
    pub(crate) fn len(&self) -> usize {
        self.left
    }

    /// No feature left.
    pub(crate) fn is_empty(&self) -> bool {
        self.left == 0
    }
}

impl Iterator for Page {
    type Item = Value;

    /// The next feature. The body was checked when the page was read, so
    /// this cannot fail; a feature that does not parse (impossible after
    /// the check) ends the page.
    fn next(&mut self) -> Option<Value> {
        if self.left == 0 {
            return None;
        }
        let start = element_start(&self.bytes[..self.end], &mut self.pos)?;
        let mut it =
            serde_json::Deserializer::from_slice(&self.bytes[start..self.end]).into_iter::<Value>();
        let item = it.next()?.ok()?;
        self.pos = start + it.byte_offset();
        self.left -= 1;
        if self.left == 0 {
            self.bytes = Vec::new();
        }
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Skip JSON whitespace.
fn skip_ws(bytes: &[u8], pos: &mut usize) {
    while matches!(bytes.get(*pos), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        *pos += 1;
    }
}

/// The start of the next element of a JSON array whose text (already
/// validated) runs to the end of `bytes`, `*pos` being just after `[` or
/// after the previous element; `None` at the closing `]`.
fn element_start(bytes: &[u8], pos: &mut usize) -> Option<usize> {
    skip_ws(bytes, pos);
    match bytes.get(*pos) {
        Some(b']') | None => None,
        Some(b',') => {
            *pos += 1;
            skip_ws(bytes, pos);
            Some(*pos)
        }
        Some(_) => Some(*pos),
    }
}

/// What [`measure`](stac_meta::budget::Measure) says one value would cost.
struct Cost(u64);

impl<'de> serde::Deserialize<'de> for Cost {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::DeserializeSeed;
        stac_meta::budget::Measure.deserialize(d).map(Cost)
    }
}

/// The members of a page the client reads: the `features` array (as text,
/// where it lies in the body) and `links` (parsed within a budget); the
/// other members are checked and skipped.
struct Members<'de> {
    features: Option<&'de serde_json::value::RawValue>,
    links: Option<Value>,
}

/// A member name, compared without being copied.
enum Member {
    Features,
    Links,
    Other,
}

struct MemberName;

impl<'de> serde::de::DeserializeSeed<'de> for MemberName {
    type Value = Member;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MemberName {
    type Value = Member;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Member, E> {
        Ok(match v {
            "features" => Member::Features,
            "links" => Member::Links,
            _ => Member::Other,
        })
    }
}

/// Reads the top-level object into [`Members`].
struct MembersVisitor<'b>(&'b mut stac_meta::budget::Budget);

impl<'de> serde::de::Visitor<'de> for MembersVisitor<'_> {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        let mut out = Members {
            features: None,
            links: None,
        };
        while let Some(name) = map.next_key_seed(MemberName)? {
            match name {
                Member::Features => out.features = Some(map.next_value()?),
                Member::Links => {
                    out.links = Some(map.next_value_seed(stac_meta::budget::Build(&mut *self.0))?);
                }
                Member::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// One page read from the response bytes, checked (see [`Page`]), and the
/// request for the next page (from its `next` link). `max_item_bytes`
/// bounds what one feature (and the `links` array) may take in memory.
pub(crate) fn read_page(
    bytes: Vec<u8>,
    request: &PageRequest,
    original: &PageRequest,
    page: u64,
    max_item_bytes: u64,
) -> Result<(Page, Option<PageRequest>), ClientError> {
    use serde::Deserializer as _;
    let malformed = |reason: String| ClientError::MalformedPage {
        url: safe_url(request.url.as_str()),
        page,
        reason,
    };
    let mut first = 0;
    skip_ws(&bytes, &mut first);
    if bytes.get(first) != Some(&b'{') {
        // Not an object: say why (not JSON at all, or another JSON value).
        return Err(malformed(
            match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                Err(e) => format!("not JSON: {e}"),
                Ok(_) => "not a JSON object".to_owned(),
            },
        ));
    }
    let mut budget = stac_meta::budget::Budget::new(max_item_bytes);
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let members = de
        .deserialize_map(MembersVisitor(&mut budget))
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| {
            malformed(if budget.exceeded() {
                format!(
                    "its links would take more than {max_item_bytes} bytes in memory (a quarter of ClientOptions::max_page_bytes)"
                )
            } else {
                format!("not JSON: {e}")
            })
        })?;
    let raw = members
        .features
        .ok_or_else(|| malformed("no `features` array".into()))?
        .get();
    if !raw.starts_with('[') {
        return Err(malformed("`features` is not an array".into()));
    }
    // Where the array lies in the body (the raw value borrows from it).
    let start = raw.as_ptr() as usize - bytes.as_ptr() as usize;
    let (pos, end) = (start + 1, start + raw.len());
    let links = members.links;
    // Every feature: an object, and not too large once parsed.
    let mut left = 0;
    let mut cursor = pos;
    while let Some(at) = element_start(&bytes[..end], &mut cursor) {
        if bytes[at] != b'{' {
            return Err(malformed(format!("feature {left} is not an object")));
        }
        let mut it = serde_json::Deserializer::from_slice(&bytes[at..end]).into_iter::<Cost>();
        let cost = match it.next() {
            Some(Ok(Cost(c))) => c,
            Some(Err(e)) => return Err(malformed(format!("feature {left}: {e}"))),
            None => break,
        };
        if cost > max_item_bytes {
            return Err(ClientError::ItemTooLarge {
                url: safe_url(request.url.as_str()),
                page,
                index: left,
                limit: max_item_bytes,
            });
        }
        cursor = at + it.byte_offset();
        left += 1;
    }
    drop(de);
    let rest = match links {
        Some(links) => serde_json::json!({ "links": links }),
        None => Value::Object(Map::new()),
    };
    let next = next_request(&rest, request, original, page)?;
    Ok((
        Page {
            bytes,
            pos,
            end,
            left,
        },
        next,
    ))
}

/// Parse one STAC API search page (an ItemCollection, as bytes) exactly as
/// a search does: the page's items, and the next request as
/// `"<METHOD> <URL> <JSON body>"` when the page has a `next` link.
///
/// `url` is the URL the page was fetched from (relative `next` hrefs resolve
/// against it); `body` is the POST body that fetched it (`None`: GET).
/// Malformed pages are [`ClientError::MalformedPage`] errors, never panics:
/// not JSON (including invalid UTF-8 and JSON nested deeper than 128
/// levels), no `features` array, a feature that is not an object, a `next`
/// link without a usable href, method, headers or body. A feature that
/// would take more than a quarter of the default `max_page_bytes` in memory once
/// parsed is a [`ClientError::ItemTooLarge`].
///
/// Exposed for the fuzz target `stac_api_page` and for tests; not part of
/// the stable API.
///
/// ```
/// let page = br#"{"type": "FeatureCollection", "features": [{"id": "a"}],
///     "links": [{"rel": "next", "href": "?page=2"}]}"#;
/// let (items, next) = stac_client::parse_search_page(page, "http://h/search", None)?;
/// assert_eq!(items.len(), 1);
/// assert_eq!(next.as_deref(), Some("GET http://h/search?page=2 "));
/// # Ok::<(), stac_client::ClientError>(())
/// ```
#[doc(hidden)]
pub fn parse_search_page(
    bytes: &[u8],
    url: &str,
    body: Option<&Value>,
) -> Result<(Vec<Value>, Option<String>), ClientError> {
    let limit = crate::ClientOptions::default().max_page_bytes;
    parse_search_page_with_limit(bytes, url, body, limit)
}

/// [`parse_search_page`] with another `max_page_bytes` (one feature may take
/// a quarter of it in memory once parsed). Exposed for the fuzz targets; not part
/// of the stable API.
#[doc(hidden)]
pub fn parse_search_page_with_limit(
    bytes: &[u8],
    url: &str,
    body: Option<&Value>,
    max_page_bytes: u64,
) -> Result<(Vec<Value>, Option<String>), ClientError> {
    let parsed = Url::parse(url).map_err(|e| ClientError::InvalidUrl {
        url: safe_url(url),
        reason: e.to_string(),
    })?;
    let request = PageRequest {
        method: if body.is_some() {
            Method::POST
        } else {
            Method::GET
        },
        url: parsed,
        headers: Vec::new(),
        body: body.map(|b| b.as_object().cloned().unwrap_or_default()),
    };
    let budget = item_budget(max_page_bytes);
    let (items, next) = read_page(bytes.to_vec(), &request, &request, 1, budget)?;
    let count = items.len();
    let items: Vec<Value> = items.collect();
    debug_assert_eq!(items.len(), count);
    Ok((items, next.map(|n| n.key())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn post(body: Value) -> PageRequest {
        PageRequest {
            method: Method::POST,
            url: Url::parse("http://h/api/search").unwrap(),
            headers: vec![("X-Orig".into(), "1".into())],
            body: body.as_object().cloned(),
        }
    }

    #[test]
    fn merge_true_keeps_the_original_body_and_headers() {
        let original = post(json!({"collections": ["a"], "limit": 2}));
        let page = json!({"links": [{"rel": "next", "href": "search", "method": "POST",
            "merge": true, "body": {"token": "t2"}, "headers": {"X-Page": "2"}}]});
        let next = next_request(&page, &original, &original, 1)
            .unwrap()
            .unwrap();
        assert_eq!(next.url.as_str(), "http://h/api/search");
        assert_eq!(
            Value::Object(next.body.unwrap()),
            json!({"collections": ["a"], "limit": 2, "token": "t2"})
        );
        assert_eq!(next.headers.len(), 2);
    }

    #[test]
    fn merge_false_sends_the_link_body_alone() {
        let original = post(json!({"collections": ["a"], "limit": 2}));
        let page = json!({"links": [{"rel": "next", "href": "http://h/api/search", "method": "POST",
            "body": {"token": "t2"}}]});
        let next = next_request(&page, &original, &original, 1)
            .unwrap()
            .unwrap();
        assert_eq!(Value::Object(next.body.unwrap()), json!({"token": "t2"}));
        assert!(next.headers.is_empty());
    }

    #[test]
    fn get_link_and_absent_link() {
        let original = post(json!({}));
        let page = json!({"links": [{"rel": "next", "href": "/api/search?token=x"}]});
        let next = next_request(&page, &original, &original, 1)
            .unwrap()
            .unwrap();
        assert_eq!(next.method, Method::GET);
        assert_eq!(next.body, None);
        assert_eq!(next.url.as_str(), "http://h/api/search?token=x");
        assert!(
            next_request(&json!({"links": []}), &original, &original, 1)
                .unwrap()
                .is_none()
        );
        assert!(next_request(&json!({"links": 3}), &original, &original, 1).is_err());
    }

    fn request(url: &str) -> PageRequest {
        PageRequest {
            method: Method::GET,
            url: Url::parse(url).unwrap(),
            headers: Vec::new(),
            body: None,
        }
    }

    #[test]
    fn a_page_hands_out_its_features_one_at_a_time_and_then_frees_its_body() {
        let r = request("http://h/s?token=SECRET");
        let body = br#" { "links": [], "features" : [ {"id": "a"} ,{"id":"b", "x": [1, {"y": "]"}]}
            ], "context": {"returned": 2}} "#;
        let (mut page, next) = read_page(body.to_vec(), &r, &r, 4, 1 << 20).unwrap();
        assert!(next.is_none());
        assert_eq!(page.len(), 2);
        assert_eq!(page.next(), Some(json!({"id": "a"})));
        assert_eq!(page.len(), 1);
        assert_eq!(page.next(), Some(json!({"id": "b", "x": [1, {"y": "]"}]})));
        assert!(page.is_empty() && page.bytes.capacity() == 0);
        assert_eq!(page.next(), None);
        let (page, _) = read_page(br#"{"features":[]}"#.to_vec(), &r, &r, 1, 1 << 20).unwrap();
        assert!(page.is_empty());
    }

    #[test]
    fn features_are_checked_before_any_is_handed_out() {
        let r = request("http://h/s?token=SECRET");
        let err = |body: &[u8], limit| read_page(body.to_vec(), &r, &r, 4, limit).unwrap_err();
        let e = err(br#"{"features": {}}"#, 1 << 20).to_string();
        assert!(
            e.contains("page 4") && !e.contains("SECRET") && e.contains("not an array"),
            "{e}"
        );
        let e = err(br#"{"features": [{}, 1]}"#, 1 << 20).to_string();
        assert!(e.contains("feature 1 is not an object"), "{e}");
        let e = err(br#"{"features": [{}, {"a": [0, 0, 0, 0]}]}"#, 300);
        assert!(
            matches!(
                e,
                ClientError::ItemTooLarge {
                    index: 1,
                    limit: 300,
                    page: 4,
                    ..
                }
            ),
            "{e}"
        );
        assert!(!e.to_string().contains("SECRET"));
    }
}
