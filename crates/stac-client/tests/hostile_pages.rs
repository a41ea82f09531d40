//! Hostile STAC API pages (docs/reliability.md), through the parser every
//! search uses: malformed bodies are `MalformedPage` errors that name the
//! page's redacted URL, never panics.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::json;
use stac_client::{ClientError, parse_search_page};

const URL: &str = "http://127.0.0.1:1/search?token=SECRET";

fn malformed(body: &[u8]) -> String {
    match parse_search_page(body, URL, None) {
        Err(e @ ClientError::MalformedPage { .. }) => {
            let text = e.to_string();
            assert!(!text.contains("SECRET"), "{text}");
            text
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
    }
}

#[test]
fn bodies_that_are_not_json() {
    malformed(b"<html><body>502 Bad Gateway</body></html>");
    malformed(b"");
    malformed(b"{\"features\": [");
    // Invalid UTF-8 and a lone surrogate escape.
    malformed(b"{\"features\": [{\"id\": \"\xff\xfe\"}]}");
    malformed(br#"{"features": [{"id": "\ud800"}]}"#);
}

#[test]
fn deep_nesting_stops_at_the_parsers_limit() {
    let deep = format!(
        r#"{{"features": [{{"id": "a", "x": {}1{}}}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let text = malformed(deep.as_bytes());
    assert!(text.contains("recursion limit"), "{text}");
}

#[test]
fn pages_of_the_wrong_shape() {
    malformed(b"[]");
    malformed(br#"{"features": {}}"#);
    malformed(br#"{"features": [1]}"#);
    malformed(br#"{"features": [], "links": {"rel": "next"}}"#);
    malformed(br#"{"features": [], "links": [{"rel": "next"}]}"#);
    malformed(br#"{"features": [], "links": [{"rel": "next", "href": "http://[::1"}]}"#);
    malformed(br#"{"features": [], "links": [{"rel": "next", "href": "s", "method": "DELETE"}]}"#);
    malformed(br#"{"features": [], "links": [{"rel": "next", "href": "s", "body": [1]}]}"#);
}

#[test]
fn next_links_resolve_against_the_page() {
    let body = json!({"features": [{"id": "a"}], "links": [
        {"rel": "next", "href": "search", "method": "POST", "merge": true,
         "body": {"token": "t2"}, "headers": {"X-Page": ["2", 3]}}]});
    let post = json!({"collections": ["c"], "limit": 2});
    let (items, next) = parse_search_page(
        body.to_string().as_bytes(),
        "http://h/api/search",
        Some(&post),
    )
    .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        next.as_deref(),
        Some(r#"POST http://h/api/search {"collections":["c"],"limit":2,"token":"t2"}"#)
    );
    let (_, none) = parse_search_page(br#"{"features": []}"#, "http://h/s", None).unwrap();
    assert_eq!(none, None);
    assert!(matches!(
        parse_search_page(b"{}", "not a url", None),
        Err(ClientError::InvalidUrl { .. })
    ));
}
