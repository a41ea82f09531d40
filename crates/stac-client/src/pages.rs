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
    pub fn key(&self) -> String {
        let body = self
            .body
            .as_ref()
            .map(|b| Value::Object(b.clone()).to_string())
            .unwrap_or_default();
        format!("{} {} {}", self.method, self.url, body)
    }

    pub fn outgoing(&self) -> Outgoing {
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

/// One page read from the response bytes: its items (checked) and the
/// request for the next page (from its `next` link), as a search reads it.
pub(crate) fn read_page(
    bytes: &[u8],
    request: &PageRequest,
    original: &PageRequest,
    page: u64,
) -> Result<(Vec<Value>, Option<PageRequest>), ClientError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| ClientError::MalformedPage {
        url: safe_url(request.url.as_str()),
        page,
        reason: format!("not JSON: {e}"),
    })?;
    let (items, rest) = features(doc, &request.url, page)?;
    let next = next_request(&rest, request, original, page)?;
    Ok((items, next))
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
/// link without a usable href, method, headers or body.
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
    let (items, next) = read_page(bytes, &request, &request, 1)?;
    Ok((items, next.map(|n| n.key())))
}

/// The features of a page, checked.
pub(crate) fn features(
    page: Value,
    url: &Url,
    page_number: u64,
) -> Result<(Vec<Value>, Value), ClientError> {
    let malformed = |reason: &str| ClientError::MalformedPage {
        url: safe_url(url.as_str()),
        page: page_number,
        reason: reason.to_owned(),
    };
    let Value::Object(mut map) = page else {
        return Err(malformed("not a JSON object"));
    };
    let features = match map.remove("features") {
        Some(Value::Array(f)) => f,
        Some(_) => return Err(malformed("`features` is not an array")),
        None => return Err(malformed("no `features` array")),
    };
    if let Some(i) = features.iter().position(|f| !f.is_object()) {
        return Err(malformed(&format!("feature {i} is not an object")));
    }
    Ok((features, Value::Object(map)))
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

    #[test]
    fn features_checked() {
        let url = Url::parse("http://h/s?token=SECRET").unwrap();
        let e = features(json!({"features": {}}), &url, 4).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("page 4") && !text.contains("SECRET"),
            "{text}"
        );
        assert!(features(json!({"features": [1]}), &url, 1).is_err());
        assert_eq!(
            features(json!({"features": [{}]}), &url, 1)
                .unwrap()
                .0
                .len(),
            1
        );
    }
}
