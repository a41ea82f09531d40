//! `stac_api_page`: arbitrary bytes as one STAC API search page (an
//! ItemCollection) → `stac_client::parse_search_page`, the parser a search
//! uses for every page (features, `next` link with method, headers, body
//! and `merge`).
//!
//! The first byte picks how the page was fetched (GET, or POST with a body,
//! and from which URL); the rest is the response body. Invariants: never a
//! panic; every item is a JSON object; a `next` request is GET or POST and
//! its URL parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;

const URLS: &[&str] = &[
    "http://127.0.0.1:8080/search",
    "https://planetarycomputer.example/api/stac/v1/search?collections=a&token=SECRET",
    "http://h/a/b/",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let url = URLS[usize::from(mode >> 1) % URLS.len()];
    let post = json!({"collections": ["sentinel-2-l2a"], "limit": 2, "token": "t1"});
    let fetched_with = (mode & 1 == 1).then_some(&post);
    match stac_client::parse_search_page(body, url, fetched_with) {
        Ok((items, next)) => {
            assert!(items.iter().all(serde_json::Value::is_object));
            if let Some(next) = next {
                let mut parts = next.splitn(3, ' ');
                let method = parts.next().unwrap_or_default();
                assert!(method == "GET" || method == "POST", "{next}");
                let next_url = parts.next().unwrap_or_default();
                assert!(url::Url::parse(next_url).is_ok(), "{next}");
            }
        }
        Err(e) => {
            let text = e.to_string();
            if !body.windows(6).any(|w| w == b"SECRET") {
                assert!(
                    !text.contains("SECRET"),
                    "the page URL's token leaked: {text}"
                );
            }
        }
    }
});
