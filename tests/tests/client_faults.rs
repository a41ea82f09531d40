//! stac-client against our scripted fault server: retries (429 with
//! Retry-After, 503 twice, a connection dropped mid-page), malformed pages,
//! looping next links, POST `merge`, conformance checks before searching,
//! max_items, empty pages, the signer on every request; downloads that are
//! interrupted and resumed, and a concurrency limit.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stac_client::{
    Client, ClientError, ClientOptions, DownloadOptions, Filter, RetryPolicy, SearchMethod,
    SearchParams,
};
use stac_gdal_e2e::fault_server::{FaultServer, Reply, Request};
use stac_signers::BearerTokenSigner;

const ITEMS: usize = 10;
const PAGE: usize = 3;

fn conformance(extra: &[&str]) -> Value {
    let mut c = vec![
        "https://api.stacspec.org/v1.0.0/core".to_owned(),
        "https://api.stacspec.org/v1.0.0/item-search".to_owned(),
    ];
    c.extend(extra.iter().map(|s| (*s).to_owned()));
    json!(c)
}

fn landing(port: u16, post: bool, extra: &[&str]) -> Value {
    let mut links = vec![
        json!({"rel": "search", "type": "application/geo+json", "method": "GET",
        "href": format!("http://127.0.0.1:{port}/search")}),
    ];
    if post {
        links.push(
            json!({"rel": "search", "type": "application/geo+json", "method": "POST",
            "href": format!("http://127.0.0.1:{port}/search")}),
        );
    }
    json!({"type": "Catalog", "id": "fault", "description": "faults", "stac_version": "1.0.0",
        "conformsTo": conformance(extra), "links": links})
}

/// Page `n` (1-based) of items `i-00..i-09`, pages of 3, GET token links.
fn page(port: u16, n: usize) -> Value {
    let start = (n - 1) * PAGE;
    let end = (start + PAGE).min(ITEMS);
    let features: Vec<Value> = (start..end)
        .map(|i| json!({"type": "Feature", "id": format!("i-{i:02}"), "properties": {}, "assets": {}}))
        .collect();
    let mut links = vec![];
    if end < ITEMS {
        links.push(json!({"rel": "next", "type": "application/geo+json",
            "href": format!("http://127.0.0.1:{port}/search?token=t{}&secret=SIG", n + 1)}));
    }
    json!({"type": "FeatureCollection", "features": features, "links": links})
}

fn page_number(r: &Request) -> usize {
    r.target
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("token=t"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// A server whose page `faulty_page` answers `fault(attempt)` for the first
/// attempts (attempt 0, 1, ...) until it returns `None`.
fn server_with_fault(
    faulty_page: usize,
    fault: impl Fn(usize) -> Option<Reply> + Send + Sync + 'static,
) -> FaultServer {
    let attempts = Arc::new(AtomicUsize::new(0));
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let pc = port_cell.clone();
    let server = FaultServer::start(move |r| {
        let port = *pc.get().expect("port set");
        match r.path() {
            "/" => Reply::json(&landing(port, false, &[])),
            "/search" => {
                let n = page_number(r);
                if n == faulty_page {
                    let a = attempts.fetch_add(1, Ordering::SeqCst);
                    if let Some(reply) = fault(a) {
                        return reply;
                    }
                }
                Reply::json(&page(port, n))
            }
            _ => Reply::status(404, &[]),
        }
    });
    port_cell.set(server.port()).expect("set once");
    server
}

fn fast_retry() -> ClientOptions {
    ClientOptions::default().with_retry(
        RetryPolicy::default()
            .with_max_retries(3)
            .with_initial_backoff(Duration::from_millis(20)),
    )
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn all_ids() -> Vec<String> {
    (0..ITEMS).map(|i| format!("i-{i:02}")).collect()
}

fn crawl(server: &FaultServer, options: ClientOptions) -> Result<Vec<Value>, ClientError> {
    let client = Client::new(&server.url("/"), options)?;
    client
        .search(SearchParams::new().with_limit(PAGE as u32))?
        .collect()
}

#[test]
fn http_429_with_retry_after_is_waited_out() {
    let server = server_with_fault(2, |a| {
        (a == 0).then(|| Reply::status(429, &[("Retry-After", "1")]))
    });
    let start = Instant::now();
    let items = crawl(&server, fast_retry()).expect("crawl succeeds after the 429");
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured ({:?})",
        start.elapsed()
    );
    assert_eq!(ids(&items), all_ids());
    // 4 pages + 1 retry.
    assert_eq!(server.requests_to("/search").len(), 5);
}

#[test]
fn http_503_twice_then_success() {
    let server = server_with_fault(3, |a| (a < 2).then(|| Reply::status(503, &[])));
    let items = crawl(&server, fast_retry()).expect("crawl succeeds after two 503s");
    assert_eq!(ids(&items), all_ids(), "no item lost or repeated");
    let pages: Vec<usize> = server
        .requests_to("/search")
        .iter()
        .map(page_number)
        .collect();
    assert_eq!(pages, vec![1, 2, 3, 3, 3, 4]);
}

#[test]
fn connection_dropped_mid_page_is_retried() {
    let server = server_with_fault(2, |a| {
        (a == 0).then(|| Reply::Truncated {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            declared: 500,
            body: br#"{"type":"FeatureCollection","features":[{"id":"i-03"#.to_vec(),
        })
    });
    let items = crawl(&server, fast_retry()).expect("crawl succeeds after the drop");
    assert_eq!(ids(&items), all_ids());
    assert_eq!(server.requests_to("/search").len(), 5);
}

#[test]
fn retries_give_up_with_a_typed_error() {
    let server = server_with_fault(2, |_| Some(Reply::status(503, &[])));
    let client = Client::new(&server.url("/"), fast_retry()).unwrap();
    let mut it = client.search(SearchParams::new().with_limit(3)).unwrap();
    let first: Vec<Value> = it.by_ref().take(3).map(Result::unwrap).collect();
    assert_eq!(ids(&first), ["i-00", "i-01", "i-02"]);
    let err = it.next().expect("an error").unwrap_err();
    match &err {
        ClientError::Status {
            status, page, url, ..
        } => {
            assert_eq!(*status, 503);
            assert_eq!(*page, Some(2));
            assert!(!url.contains("SIG"), "query not redacted: {url}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(it.next().is_none(), "the stream ends after an error");
    // 1 + (1 + 3 retries)
    assert_eq!(server.requests_to("/search").len(), 5);
}

#[test]
fn malformed_page_names_url_and_page() {
    let server = server_with_fault(3, |_| {
        Some(Reply::json(
            &json!({"type": "FeatureCollection", "features": "nope"}),
        ))
    });
    let client = Client::new(&server.url("/"), fast_retry()).unwrap();
    let results: Vec<Result<Value, ClientError>> = client
        .search(SearchParams::new().with_limit(3))
        .unwrap()
        .collect();
    assert_eq!(results.len(), 7, "6 items then one error");
    let good: Vec<Value> = results[..6]
        .iter()
        .map(|r| r.as_ref().unwrap().clone())
        .collect();
    assert_eq!(ids(&good), &all_ids()[..6]);
    let err = results[6].as_ref().unwrap_err();
    assert!(
        matches!(err, ClientError::MalformedPage { page: 3, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("page 3") && text.contains("/search?<redacted>"),
        "{text}"
    );
    assert!(!text.contains("SIG"));
    // Not JSON at all: same error class, not retried.
    let server = server_with_fault(1, |_| {
        Some(Reply::Full {
            status: 200,
            headers: vec![],
            body: b"<html>".to_vec(),
        })
    });
    let err = crawl(&server, fast_retry()).unwrap_err();
    assert!(
        matches!(err, ClientError::MalformedPage { page: 1, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests_to("/search").len(), 1);
}

#[test]
fn looping_next_link_is_detected() {
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let pc = port_cell.clone();
    let server = FaultServer::start(move |r| {
        let port = *pc.get().unwrap();
        match (r.path(), page_number(r)) {
            ("/", _) => Reply::json(&landing(port, false, &[])),
            ("/search", 3) => {
                // Page 3 links back to page 2.
                let mut p = page(port, 3);
                p["links"][0]["href"] = json!(format!(
                    "http://127.0.0.1:{port}/search?token=t2&secret=SIG"
                ));
                Reply::json(&p)
            }
            ("/search", n) => Reply::json(&page(port, n)),
            _ => Reply::status(404, &[]),
        }
    });
    port_cell.set(server.port()).unwrap();
    let client = Client::new(&server.url("/"), fast_retry()).unwrap();
    let results: Vec<_> = client
        .search(SearchParams::new().with_limit(3))
        .unwrap()
        .collect();
    assert_eq!(results.len(), 10, "9 items then the loop error");
    let items: Vec<Value> = results[..9]
        .iter()
        .map(|r| r.as_ref().unwrap().clone())
        .collect();
    assert_eq!(ids(&items), &all_ids()[..9]);
    let err = results[9].as_ref().unwrap_err();
    match err {
        ClientError::PaginationLoop { link, page } => {
            assert_eq!(*page, 3);
            assert!(link.ends_with("/search?<redacted>"), "{link}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.requests_to("/search").len(), 3);
}

#[test]
fn post_merge_body_headers_and_signer_on_every_request() {
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let pc = port_cell.clone();
    let server = FaultServer::start(move |r| {
        let port = *pc.get().unwrap();
        match r.path() {
            "/" => Reply::json(&landing(port, true, &[])),
            "/search" => {
                let body = r.json();
                let n = body["token"]
                    .as_str()
                    .map_or(1, |t| t[1..].parse().unwrap());
                let mut p = page(port, n);
                if let Some(link) = p["links"].get_mut(0) {
                    *link = json!({"rel": "next", "method": "POST", "merge": true,
                        "href": format!("http://127.0.0.1:{port}/search"),
                        "headers": {"X-Page": format!("{}", n + 1)},
                        "body": {"token": format!("t{}", n + 1)}});
                }
                Reply::json(&p)
            }
            _ => Reply::status(404, &[]),
        }
    });
    port_cell.set(server.port()).unwrap();
    let home = format!("127.0.0.1:{}", server.port()).parse().unwrap();
    let options =
        fast_retry().with_signer(BearerTokenSigner::new("tok-123").with_allow_http([home]));
    let client = Client::new(&server.url("/"), options).unwrap();
    let params = SearchParams::new()
        .with_collections(["c1"])
        .with_bbox([-10.0, -10.0, 0.0, -5.0])
        .with_limit(3);
    let items: Vec<Value> = client.search(params).unwrap().map(Result::unwrap).collect();
    assert_eq!(ids(&items), all_ids());
    let searches = server.requests_to("/search");
    assert_eq!(searches.len(), 4);
    for (i, r) in searches.iter().enumerate() {
        assert_eq!(r.method, "POST");
        let body = r.json();
        // merge: the original body is resent with the link's fields.
        assert_eq!(body["collections"], json!(["c1"]), "request {i}");
        assert_eq!(body["bbox"], json!([-10.0, -10.0, 0.0, -5.0]));
        assert_eq!(body["limit"], json!(3));
        if i > 0 {
            assert_eq!(body["token"], json!(format!("t{}", i + 1)));
            assert_eq!(r.header("x-page"), Some(format!("{}", i + 1).as_str()));
        }
    }
    for r in server.requests() {
        assert_eq!(
            r.header("authorization"),
            Some("Bearer tok-123"),
            "{}",
            r.target
        );
    }
}

#[test]
fn unsupported_parameters_are_rejected_before_searching() {
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let pc = port_cell.clone();
    let server = FaultServer::start(move |r| match r.path() {
        "/" => Reply::json(&landing(*pc.get().unwrap(), false, &[])),
        _ => Reply::status(500, &[]),
    });
    port_cell.set(server.port()).unwrap();
    let client = Client::new(&server.url("/"), fast_retry()).unwrap();
    for (params, name) in [
        (
            SearchParams::new().with_filter(Filter::Text("id = 'x'".into())),
            "filter",
        ),
        (SearchParams::new().with_sortby("-id"), "sortby"),
        (
            SearchParams::new().with_query(json!({"x": {"eq": 1}})),
            "query",
        ),
    ] {
        match client.search(params) {
            Err(ClientError::Unsupported { parameter, .. }) => assert_eq!(parameter, name),
            other => panic!("{name}: expected Unsupported, got {other:?}"),
        }
    }
    // Invalid parameters fail without any request at all.
    let before = server.requests().len();
    let bad = client.search(SearchParams::new().with_datetime("last tuesday"));
    assert!(matches!(
        bad,
        Err(ClientError::InvalidParameter {
            parameter: "datetime",
            ..
        })
    ));
    assert!(client.queryables(&[]).is_err());
    assert_eq!(server.requests_to("/search").len(), 0);
    assert_eq!(server.requests().len(), before, "landing page fetched once");
}

#[test]
fn max_items_empty_pages_and_get_fallback() {
    let server = server_with_fault(99, |_| None);
    let client = Client::new(&server.url("/"), fast_retry()).unwrap();
    let items: Vec<Value> = client
        .search(SearchParams::new().with_limit(3).with_max_items(5))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids(&items), &all_ids()[..5]);
    let searches = server.requests_to("/search");
    assert_eq!(searches.len(), 2, "stops once max_items is reached");
    assert_eq!(searches[0].method, "GET", "landing advertises only GET");
    assert!(searches[0].target.contains("limit=3"));

    // An empty page ends the crawl even with a next link.
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let pc = port_cell.clone();
    let server = FaultServer::start(move |r| {
        let port = *pc.get().unwrap();
        match (r.path(), page_number(r)) {
            ("/", _) => Reply::json(&landing(port, true, &[])),
            ("/search", 2) => Reply::json(&json!({"features": [], "links": [{"rel": "next",
                "href": format!("http://127.0.0.1:{port}/search?token=t3")}]})),
            ("/search", n) => Reply::json(&page(port, n)),
            _ => Reply::status(404, &[]),
        }
    });
    port_cell.set(server.port()).unwrap();
    let client = Client::new(
        &server.url("/"),
        fast_retry().with_method(SearchMethod::Get),
    )
    .unwrap();
    let fc = client
        .search(SearchParams::new())
        .unwrap()
        .item_collection()
        .unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["features"].as_array().unwrap().len(), 3);
    assert_eq!(server.requests_to("/search").len(), 2);
    assert!(
        server
            .requests_to("/search")
            .iter()
            .all(|r| r.method == "GET")
    );
}

#[test]
fn connect_errors_are_retried_then_reported() {
    let port = stac_gdal_e2e::free_port();
    let start = Instant::now();
    let err = Client::new(
        &format!("http://127.0.0.1:{port}/"),
        ClientOptions::default().with_retry(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_jitter(false)
                .with_initial_backoff(Duration::from_millis(100)),
        ),
    )
    .unwrap()
    .landing_page()
    .unwrap_err();
    match err {
        ClientError::Transport { attempts, .. } => assert_eq!(attempts, 3),
        other => panic!("{other:?}"),
    }
    // Backoff 100 ms then 200 ms.
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn async_stream_yields_every_item_once() {
    use futures::TryStreamExt;
    let server = tokio::task::spawn_blocking(|| {
        server_with_fault(2, |a| (a == 0).then(|| Reply::status(502, &[])))
    })
    .await
    .unwrap();
    let stream = stac_client::search_async(
        &server.url("/"),
        &[],
        SearchParams::new().with_limit(3),
        fast_retry(),
    )
    .await
    .unwrap();
    let items: Vec<Value> = stream.try_collect().await.unwrap();
    let unique: HashSet<String> = ids(&items).into_iter().collect();
    assert_eq!(items.len(), ITEMS);
    assert_eq!(unique.len(), ITEMS);
}

fn sha256_multihash(data: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(data);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("1220{hex}")
}

fn range_start(r: &Request) -> Option<usize> {
    r.header("range")?
        .strip_prefix("bytes=")?
        .trim_end_matches('-')
        .parse()
        .ok()
}

#[test]
fn interrupted_download_resumes_with_range() {
    const LM: &str = "Tue, 01 Jun 2021 00:00:00 GMT";
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let served = data.clone();
    let attempts = Arc::new(AtomicUsize::new(0));
    let server = FaultServer::start(move |r| {
        let a = attempts.fetch_add(1, Ordering::SeqCst);
        if a == 0 {
            // Cut after 70 000 bytes.
            return Reply::Truncated {
                status: 200,
                headers: vec![("Last-Modified".into(), LM.into())],
                declared: served.len(),
                body: served[..70_000].to_vec(),
            };
        }
        match range_start(r) {
            // A resume is validated: If-Range carries the Last-Modified seen first.
            Some(start) if r.header("if-range") == Some(LM) => Reply::Full {
                status: 206,
                headers: vec![(
                    "Content-Range".into(),
                    format!("bytes {start}-{}/{}", served.len() - 1, served.len()),
                )],
                body: served[start..].to_vec(),
            },
            _ => Reply::Full {
                status: 200,
                headers: vec![],
                body: served.clone(),
            },
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let item = json!({"id": "resume", "assets": {"data": {"href": server.url("/files/big.bin"),
        "file:size": data.len(), "file:checksum": sha256_multihash(&data)}}});
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let options = DownloadOptions::default()
        .with_retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(10)))
        .with_progress(move |p| s2.lock().unwrap().push(p.bytes));
    let out = stac_client::download_item(&item, dir.path(), &options).unwrap();
    let path = dir.path().join("big.bin");
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(out["assets"]["data"]["href"], json!(path.to_string_lossy()));
    assert!(!dir.path().join(".stac-gdal-staging").exists());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(range_start(&reqs[0]), None);
    assert_eq!(
        range_start(&reqs[1]),
        Some(70_000),
        "resumed from the partial file"
    );
    let progress = seen.lock().unwrap();
    assert_eq!(progress.last().copied(), Some(data.len() as u64));
    assert!(
        progress.windows(2).filter(|w| w[1] < w[0]).count() == 0,
        "bytes never go back"
    );
}

#[test]
fn concurrency_limit_is_respected() {
    let server = FaultServer::start(|r| {
        std::thread::sleep(Duration::from_millis(150));
        Reply::Full {
            status: 200,
            headers: vec![],
            body: r.path().as_bytes().to_vec(),
        }
    });
    let assets: serde_json::Map<String, Value> = (0..8)
        .map(|i| {
            (
                format!("a{i}"),
                json!({"href": server.url(&format!("/f/{i}.bin"))}),
            )
        })
        .collect();
    let item = json!({"id": "conc", "assets": assets});
    for limit in [1usize, 3] {
        let dir = tempfile::tempdir().unwrap();
        let before = server.requests().len();
        let start = Instant::now();
        stac_client::download_item(
            &item,
            dir.path(),
            &DownloadOptions::default().with_concurrency(limit),
        )
        .unwrap();
        assert_eq!(server.requests().len() - before, 8);
        if limit == 1 {
            assert_eq!(server.max_in_flight(), 1);
            assert!(start.elapsed() >= Duration::from_millis(8 * 150));
        } else {
            assert_eq!(
                server.max_in_flight(),
                3,
                "at most 3 at once, and 3 reached"
            );
        }
        for i in 0..8 {
            assert_eq!(
                std::fs::read(dir.path().join(format!("{i}.bin"))).unwrap(),
                format!("/f/{i}.bin").as_bytes()
            );
        }
    }
}

#[test]
fn slow_responses_time_out_and_are_retried() {
    let slow_once = Arc::new(AtomicUsize::new(0));
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let pc = port_cell.clone();
    let server = FaultServer::start(move |r| {
        let port = *pc.get().unwrap();
        match r.path() {
            "/" => Reply::json(&landing(port, false, &[])),
            "/search" => {
                if page_number(r) == 2 && slow_once.fetch_add(1, Ordering::SeqCst) == 0 {
                    std::thread::sleep(Duration::from_millis(1500));
                }
                Reply::json(&page(port, page_number(r)))
            }
            _ => Reply::status(404, &[]),
        }
    });
    port_cell.set(server.port()).unwrap();
    let options = fast_retry().with_timeout(Duration::from_millis(400));
    let start = Instant::now();
    let items = crawl(&server, options).expect("the timed-out page is retried");
    assert_eq!(ids(&items), all_ids());
    assert!(
        start.elapsed() < Duration::from_millis(1400),
        "{:?}",
        start.elapsed()
    );
    let pages: Vec<usize> = server
        .requests_to("/search")
        .iter()
        .map(page_number)
        .collect();
    assert_eq!(pages, vec![1, 2, 2, 3, 4]);

    // Without retries the timeout is a typed transport error.
    let slow = FaultServer::start(|_| {
        std::thread::sleep(Duration::from_millis(800));
        Reply::status(200, &[])
    });
    let err = Client::new(
        &slow.url("/"),
        ClientOptions::default()
            .with_retry(RetryPolicy::none())
            .with_timeout(Duration::from_millis(200)),
    )
    .unwrap()
    .landing_page()
    .unwrap_err();
    match err {
        ClientError::Transport {
            attempts, message, ..
        } => {
            assert_eq!(attempts, 1);
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn next_page_is_prefetched_while_items_are_consumed() {
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let pc = port_cell.clone();
    let server = FaultServer::start(move |r| {
        let port = *pc.get().unwrap();
        match r.path() {
            "/" => Reply::json(&landing(port, false, &[])),
            "/search" => {
                std::thread::sleep(Duration::from_millis(250));
                Reply::json(&page(port, page_number(r)))
            }
            _ => Reply::status(404, &[]),
        }
    });
    port_cell.set(server.port()).unwrap();
    let client = Client::new(&server.url("/"), fast_retry()).unwrap();
    client.landing_page().unwrap();
    let start = Instant::now();
    let mut n = 0;
    for item in client.search(SearchParams::new().with_limit(3)).unwrap() {
        item.unwrap();
        n += 1;
        if n % PAGE == 0 || n == ITEMS {
            // The consumer works on each page as long as the server takes.
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    assert_eq!(n, ITEMS);
    // Serial would be 4 × 250 (server) + 4 × 250 (consumer) = 2 s; with the
    // next page requested while a page is consumed, about 1.25 s.
    let took = start.elapsed();
    assert!(took < Duration::from_millis(1700), "no overlap: {took:?}");
    assert_eq!(server.requests_to("/search").len(), 4);
}
