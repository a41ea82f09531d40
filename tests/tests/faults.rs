//! Fault injection on 127.0.0.1 (issue 9): our misbehaving HTTP server
//! against the STAC API client (slow bodies, huge pages, wrong content
//! types, HTML error pages, `next` links to another host), cube loads
//! (a COG truncated mid-tile, a 404 partway, connections dropped during
//! range reads), the CLI killed during a download (then resumed and
//! verified), and GeoParquet writes that fail midway (injected error, a
//! failing rename, `RLIMIT_FSIZE`, a read-only mount, a full tmpfs).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stac_client::{Client, ClientError, ClientOptions, DownloadOptions, RetryPolicy, SearchParams};
use stac_gdal::cube::{CubeOptions, DatasetCollection};
use stac_gdal_e2e::fault_server::{FaultServer, Reply, Request};
use stac_signers::{BearerTokenSigner, GdalEnv, HostList};

// ------------------------------------------------------------------ STAC API

const ITEMS: usize = 10;
const PAGE: usize = 3;

fn landing(base: &str) -> Value {
    json!({"type": "Catalog", "id": "faults", "description": "faults", "stac_version": "1.0.0",
        "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                       "https://api.stacspec.org/v1.0.0/item-search"],
        "links": [{"rel": "search", "type": "application/geo+json", "method": "GET",
                   "href": format!("{base}/search")}]})
}

/// Page `n` (1-based) of items `i-00..i-09`; its next link goes to `next_base`.
fn page(n: usize, next_base: &str) -> Value {
    let start = (n - 1) * PAGE;
    let end = (start + PAGE).min(ITEMS);
    let features: Vec<Value> = (start..end)
        .map(|i| json!({"type": "Feature", "id": format!("i-{i:02}"), "properties": {}, "assets": {}}))
        .collect();
    let links = if end < ITEMS {
        vec![json!({"rel": "next", "type": "application/geo+json",
            "href": format!("{next_base}/search?token=t{}&sig=PAGESIG", n + 1)})]
    } else {
        vec![]
    };
    json!({"type": "FeatureCollection", "features": features, "links": links})
}

fn page_number(r: &Request) -> usize {
    r.target
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("token=t"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// An API whose `/search` page `n` answers `fault(n)` when it is `Some`.
fn api(fault: impl Fn(usize) -> Option<Reply> + Send + Sync + 'static) -> FaultServer {
    let base = Arc::new(OnceLock::<String>::new());
    let b = base.clone();
    let server = FaultServer::start(move |r| {
        let base = b.get().expect("base set");
        match r.path() {
            "/" => Reply::json(&landing(base)),
            "/search" => {
                fault(page_number(r)).unwrap_or_else(|| Reply::json(&page(page_number(r), base)))
            }
            _ => Reply::status(404, &[]),
        }
    });
    base.set(server.url("")).expect("set once");
    server
}

fn no_retry() -> ClientOptions {
    ClientOptions::default().with_retry(RetryPolicy::none())
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

/// Every result of a search (items, then at most one error).
fn crawl(server: &FaultServer, options: ClientOptions) -> Vec<Result<Value, ClientError>> {
    Client::new(&server.url("/"), options)
        .unwrap()
        .search(SearchParams::new().with_limit(PAGE as u32))
        .unwrap()
        .collect()
}

/// The items before the error, and the error.
fn split(results: Vec<Result<Value, ClientError>>) -> (Vec<Value>, Option<ClientError>) {
    let mut items = Vec::new();
    for r in results {
        match r {
            Ok(v) => items.push(v),
            Err(e) => return (items, Some(e)),
        }
    }
    (items, None)
}

#[test]
fn slow_page_body_times_out_with_a_typed_error_naming_the_url() {
    // Page 2 sends its head at once, then one byte every 50 ms for 5 s.
    let server = api(|n| {
        (n == 2).then(|| Reply::Stream {
            status: 200,
            headers: vec![("Content-Type".into(), "application/geo+json".into())],
            content_length: Some(100),
            chunk: b" ".to_vec(),
            count: 100,
            delay: Duration::from_millis(50),
        })
    });
    let start = Instant::now();
    let (items, err) = split(crawl(
        &server,
        no_retry().with_timeout(Duration::from_millis(500)),
    ));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(ids(&items), &all_ids()[..3]);
    let err = err.expect("the slow page fails");
    match &err {
        ClientError::Transport {
            url,
            page,
            attempts,
            message,
        } => {
            assert_eq!(*page, Some(2));
            assert_eq!(*attempts, 1);
            assert!(url.ends_with("/search?<redacted>"), "{url}");
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&server.url("/search")) && text.contains("page 2"),
        "{text}"
    );
    assert!(!text.contains("PAGESIG"), "{text}");
}

#[test]
fn stalled_download_is_dropped_by_the_read_timeout_and_resumed() {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let served = data.clone();
    let first = Arc::new(AtomicUsize::new(0));
    let server = FaultServer::start(move |r| {
        if first.fetch_add(1, Ordering::SeqCst) == 0 {
            // 100 000 bytes at once, then 5 s of silence before the rest.
            return Reply::Stream {
                status: 200,
                headers: vec![("ETag".into(), "\"s1\"".into())],
                content_length: Some(served.len()),
                chunk: served[..100_000].to_vec(),
                count: 3,
                delay: Duration::from_secs(5),
            };
        }
        Reply::file(r, &served, "s1")
    });
    let dir = tempfile::tempdir().unwrap();
    let item = json!({"id": "stall", "assets": {"data": {"href": server.url("/f/stall.bin"),
        "file:size": data.len(), "file:checksum": sha256_multihash(&data)}}});
    let start = Instant::now();
    let options = DownloadOptions::default()
        .with_read_timeout(Duration::from_millis(400))
        .with_retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(10)));
    stac_client::download_item(&item, dir.path(), &options).expect("resumed after the stall");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(std::fs::read(dir.path().join("stall.bin")).unwrap(), data);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].range(),
        Some((100_000, None)),
        "resumed where it stalled"
    );
    assert_eq!(reqs[1].header("if-range"), Some("\"s1\""));
}

#[test]
fn huge_pages_stop_at_the_size_limit() {
    assert_eq!(ClientOptions::default().max_page_bytes, 64 << 20);
    let limit = 1u64 << 20;
    // Page 2: 200 MiB announced by Content-Length; page 2 of a second API:
    // 200 MiB without Content-Length (only the limit stops it).
    for declared in [true, false] {
        let chunk = vec![b' '; 64 << 10];
        let count = 3200;
        let total = chunk.len() * count;
        let server = api(move |n| {
            (n == 2).then(|| Reply::Stream {
                status: 200,
                headers: vec![("Content-Type".into(), "application/geo+json".into())],
                content_length: declared.then_some(total),
                chunk: chunk.clone(),
                count,
                delay: Duration::ZERO,
            })
        });
        let start = Instant::now();
        let (items, err) = split(crawl(&server, no_retry().with_max_page_bytes(limit)));
        assert_eq!(ids(&items), &all_ids()[..3], "page 1 is within the limit");
        match err {
            Some(ClientError::TooLarge {
                url,
                page,
                limit: l,
            }) => {
                assert_eq!((page, l), (Some(2), limit));
                assert!(url.ends_with("/search?<redacted>"), "{url}");
            }
            other => panic!("declared={declared}: expected TooLarge, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        // The client stopped reading: the server could not push the 200 MiB
        // (what it did push sits in socket buffers).
        std::thread::sleep(Duration::from_millis(300));
        let sent = server.bytes_sent();
        assert!(
            sent < 48 << 20,
            "declared={declared}: {sent} bytes went out of {total}"
        );
        if declared {
            assert!(sent < total / 4, "{sent}");
        }
    }
}

#[test]
fn wrong_content_types() {
    // JSON labelled text/plain: accepted (servers mislabel JSON often).
    let server = api(|n| {
        (n == 2).then(|| Reply::Full {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: page(2, "").to_string().into_bytes(),
        })
    });
    let (items, err) = split(crawl(&server, no_retry()));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        ids(&items),
        all_ids(),
        "page 2's host-relative next link stays here"
    );

    // XML on page 2: a malformed page naming the content type, not retried.
    let server = api(|n| {
        (n == 2).then(|| Reply::Full {
            status: 200,
            headers: vec![("Content-Type".into(), "application/xml".into())],
            body: b"<?xml version=\"1.0\"?><FeatureCollection/>".to_vec(),
        })
    });
    let (items, err) = split(crawl(
        &server,
        ClientOptions::default()
            .with_retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5))),
    ));
    assert_eq!(items.len(), 3);
    let err = err.expect("an error");
    match &err {
        ClientError::MalformedPage { page, reason, url } => {
            assert_eq!(*page, 2);
            assert!(reason.contains("Content-Type: application/xml"), "{reason}");
            assert!(!url.contains("PAGESIG"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.requests_to("/search").len(),
        2,
        "a wrong body is not retried"
    );

    // A login page (200, text/html) instead of the landing page.
    let server = FaultServer::start(|_| Reply::Full {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: format!(
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body>{}</body></html>",
            "<div>x</div>".repeat(50_000)
        )
        .into_bytes(),
    });
    let err = Client::new(&server.url("/?key=SECRET"), no_retry())
        .unwrap()
        .landing_page()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ClientError::MalformedResponse { .. }),
        "{err:?}"
    );
    assert!(
        text.contains("text/html") && text.contains("an HTML page titled \"Sign in\""),
        "{text}"
    );
    assert!(
        text.len() < 400 && !text.contains("<div>") && !text.contains("SECRET"),
        "{text}"
    );
}

#[test]
fn html_error_pages_give_a_short_typed_error() {
    let html = |title: &str| {
        format!(
            "<html><head><title>{title}</title><style>body{{}}</style></head><body><h1>{title}</h1>{}</body></html>",
            "<p>nginx error page padding</p>".repeat(60_000)
        )
        .into_bytes()
    };
    // A 2 MB 404 page on page 2: not retried, the title only.
    let body = html("404 Not Found");
    assert!(body.len() > 1 << 20);
    let server = api(move |n| {
        (n == 2).then(|| Reply::Full {
            status: 404,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: body.clone(),
        })
    });
    let (items, err) = split(crawl(&server, ClientOptions::default()));
    assert_eq!(items.len(), 3);
    let err = err.unwrap();
    match &err {
        ClientError::Status {
            url,
            page,
            status,
            body,
        } => {
            assert_eq!((*status, *page), (404, Some(2)));
            assert!(url.ends_with("/search?<redacted>"), "{url}");
            assert_eq!(body, "HTML page \"404 Not Found\"");
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.len() < 200, "{} characters: {text}", text.len());
    assert!(
        !text.contains("<h1>") && !text.contains("padding"),
        "{text}"
    );
    assert_eq!(
        server.requests_to("/search").len(),
        2,
        "a 404 is not retried"
    );

    // An HTML 502 from a proxy: retried, then a status error without the page.
    let body = html("502 Bad Gateway");
    let server = api(move |n| {
        (n == 1).then(|| Reply::Full {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: body.clone(),
        })
    });
    let (items, err) = split(crawl(
        &server,
        ClientOptions::default().with_retry(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_initial_backoff(Duration::from_millis(5)),
        ),
    ));
    assert!(items.is_empty());
    let text = err.unwrap().to_string();
    assert!(
        text.contains("HTTP 502") && text.contains("gave up after 3 attempt(s)"),
        "{text}"
    );
    assert!(
        !text.contains("<html") && !text.contains("padding"),
        "{text}"
    );

    // An error page without a title: its text, tags stripped, cut short.
    let server = api(|n| {
        (n == 1).then(|| Reply::Full {
            status: 400,
            headers: vec![],
            body: format!("<body><b>bad bbox</b> {}</body>", "words ".repeat(10_000)).into_bytes(),
        })
    });
    let (_, err) = split(crawl(&server, no_retry()));
    let text = err.unwrap().to_string();
    assert!(text.contains("HTML page: bad bbox words"), "{text}");
    assert!(text.len() < 500, "{}", text.len());
}

/// A second API host (127.0.0.2) serving page 3, whose next link returns
/// to the first host for page 4.
/// The origins (`127.0.0.x:<port>`) of test server URLs as a host list,
/// plain http allowed for them.
fn http_origins(urls: &[&str]) -> HostList {
    let entries: Vec<String> = urls
        .iter()
        .map(|u| {
            u.trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    HostList::new(entries.iter().cloned())
        .with_allow_http(entries.iter().map(|e| e.parse().unwrap()))
}

fn two_hosts(redirect: bool) -> (FaultServer, FaultServer) {
    let a_base = Arc::new(OnceLock::<String>::new());
    let b_base = Arc::new(OnceLock::<String>::new());
    let a2 = a_base.clone();
    let foreign = FaultServer::start_on("127.0.0.2", move |r| {
        let n = page_number(r);
        Reply::json(&page(n, a2.get().unwrap()))
    });
    b_base.set(foreign.url("")).unwrap();
    let (a3, b3) = (a_base.clone(), b_base.clone());
    let home = FaultServer::start(move |r| {
        let (a, b) = (a3.get().unwrap(), b3.get().unwrap());
        match (r.path(), page_number(r)) {
            ("/", _) => Reply::json(&landing(a)),
            ("/search", 2) if !redirect => Reply::json(&page(2, b)),
            ("/search", 3) if redirect => {
                Reply::redirect(302, &format!("{b}/search?token=t3&sig=PAGESIG"))
            }
            ("/search", n) => Reply::json(&page(n, a)),
            _ => Reply::status(404, &[]),
        }
    });
    a_base.set(home.url("")).unwrap();
    (home, foreign)
}

#[test]
fn next_links_to_another_host_are_followed_only_when_the_signer_allows_it() {
    const TOKEN: &str = "tok-NEXTLINK-SECRET";
    // An unscoped bearer token: page 3's link leaves the API's host, so it
    // is not followed and nothing at all goes to the other host.
    let (home, foreign) = two_hosts(false);
    let (items, err) = split(crawl(
        &home,
        no_retry().with_signer(BearerTokenSigner::new(TOKEN)),
    ));
    assert_eq!(ids(&items), &all_ids()[..6], "pages 1 and 2 are kept");
    match err {
        Some(ClientError::ForeignLink {
            rel,
            link,
            page,
            signer,
            ..
        }) => {
            assert_eq!((rel, page, signer.as_str()), ("next", Some(2), "bearer"));
            assert!(link.starts_with("http://127.0.0.2:") && link.ends_with("/search?<redacted>"));
        }
        other => panic!("expected ForeignLink, got {other:?}"),
    }
    assert!(
        foreign.requests().is_empty(),
        "a request reached the foreign host"
    );

    // A scoped bearer that does not list the other origin: not followed either.
    let (home, foreign) = two_hosts(false);
    let scoped = BearerTokenSigner::new(TOKEN).with_hosts(http_origins(&[&home.url("/")]));
    let (_, err) = split(crawl(&home, no_retry().with_signer(scoped)));
    assert!(
        matches!(err, Some(ClientError::ForeignLink { .. })),
        "{err:?}"
    );
    assert!(foreign.requests().is_empty());

    // Anonymous with an API key header: followed (no signer credential),
    // but the caller's header goes to the API's host only.
    let (home, foreign) = two_hosts(false);
    let (items, err) = split(crawl(
        &home,
        no_retry().with_header("X-Api-Key", "key-NEXTLINK-SECRET"),
    ));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(ids(&items), all_ids());
    let there = foreign.requests();
    assert_eq!(there.len(), 1);
    assert_eq!(there[0].header("authorization"), None);
    assert_eq!(there[0].header("x-api-key"), None, "the API key leaked");
    assert!(
        home.requests_to("/search")
            .iter()
            .all(|r| r.header("x-api-key") == Some("key-NEXTLINK-SECRET"))
    );

    // A bearer whose host list names both hosts: followed and signed there
    // (the user allowed it).
    let (home, foreign) = two_hosts(false);
    let both = BearerTokenSigner::new(TOKEN)
        .with_hosts(http_origins(&[&home.url("/"), &foreign.url("/")]));
    let (items, err) = split(crawl(&home, no_retry().with_signer(both)));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(ids(&items), all_ids());
    assert_eq!(
        foreign.requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

// ------------------------------------------------------------------ cube reads

const SIDE: usize = 512;

/// The pixel value of item `k` at (r, c): never 0 (the nodata).
fn value(k: usize, r: usize, c: usize) -> u16 {
    (1 + ((r * SIDE + c) * 7 + k * 1013) % 60_000) as u16
}

/// An uncompressed 512 x 512 uint16 COG (128-px tiles, no overviews) of item `k`.
fn cog_bytes(dir: &Path, k: usize) -> Vec<u8> {
    let arr = ndarray::Array2::from_shape_fn((SIDE, SIDE), |(r, c)| value(k, r, c));
    let src = dir.join(format!("src-{k}.tif"));
    stac_gdal::raster::Dataset::create_from_array(
        &arr,
        &stac_gdal::raster::GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&src)
    .unwrap();
    let cog = dir.join(format!("cog-{k}.tif"));
    let status = Command::new("gdal_translate")
        .args([
            "-q",
            "-of",
            "COG",
            "-co",
            "BLOCKSIZE=128",
            "-co",
            "COMPRESS=NONE",
        ])
        .args(["-co", "OVERVIEWS=NONE"])
        .arg(&src)
        .arg(&cog)
        .status()
        .expect("gdal_translate runs (cargo xtask setup)");
    assert!(status.success());
    std::fs::read(&cog).unwrap()
}

fn cube_item(k: usize, href: &str) -> Value {
    json!({"type": "Feature", "stac_version": "1.0.0", "id": format!("item-{k}"),
        "geometry": null,
        "properties": {"datetime": format!("2021-06-{:02}T00:00:00Z", k + 1), "proj:epsg": 32630},
        "assets": {"data": {"href": href, "type": "image/tiff; application=geotiff",
            "proj:shape": [SIDE, SIDE],
            "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
            "raster:bands": [{"nodata": 0, "data_type": "uint16"}]}}})
}

/// What a source's server does.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fault {
    Good,
    /// The file ends in the middle of its last tile.
    TruncatedMidTile,
    /// 404 (a file missing partway through the item list).
    NotFound,
    /// The first range read is answered; later ones are cut after half
    /// their bytes and the connection closed.
    DropRangeReads,
}

const FAULTS: [Fault; 4] = [
    Fault::Good,
    Fault::TruncatedMidTile,
    Fault::NotFound,
    Fault::DropRangeReads,
];

/// A fault server with one COG per item (item k behaves as `FAULTS[k]`),
/// under a path unique to this call (GDAL caches per URL), and the items.
fn faulty_cogs(dir: &Path) -> (FaultServer, Vec<Value>) {
    let files: Vec<Vec<u8>> = (0..FAULTS.len()).map(|k| cog_bytes(dir, k)).collect();
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let run = format!(
        "{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::SeqCst)
    );
    let prefix = format!("/run-{run}/");
    let p2 = prefix.clone();
    let server = FaultServer::start(move |r| {
        let Some(k) = r
            .path()
            .strip_prefix(p2.as_str())
            .and_then(|rest| rest.strip_prefix("cog-"))
            .and_then(|rest| rest.strip_suffix(".tif"))
            .and_then(|k| k.parse::<usize>().ok())
            .filter(|k| *k < FAULTS.len())
        else {
            return Reply::status(404, &[]);
        };
        let data = &files[k];
        match FAULTS[k] {
            Fault::Good => Reply::bytes(r, data),
            Fault::TruncatedMidTile => Reply::bytes(r, &data[..data.len() - 16_000]),
            Fault::NotFound => Reply::status(404, &[]),
            Fault::DropRangeReads => match r.range() {
                Some((0, _)) | None => Reply::bytes(r, data),
                Some(_) => match Reply::bytes(r, data) {
                    Reply::Full {
                        status,
                        headers,
                        body,
                    } => Reply::Truncated {
                        status,
                        headers,
                        declared: body.len(),
                        body: body[..body.len() / 2].to_vec(),
                    },
                    other => other,
                },
            },
        }
    });
    let items = (0..FAULTS.len())
        .map(|k| {
            cube_item(
                k,
                &server.url(&format!("{prefix}cog-{k}.tif?sig=CUBE-SAS-SECRET")),
            )
        })
        .collect();
    (server, items)
}

fn fast_gdal() -> GdalEnv {
    GdalEnv::new()
        .with("GDAL_HTTP_MAX_RETRY", "0")
        .with("GDAL_HTTP_TIMEOUT", "10")
        .with("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
        .with("CPL_VSIL_CURL_USE_HEAD", "NO")
}

#[test]
fn cube_lists_unreadable_sources_and_keeps_good_pixels_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (server, items) = faulty_cogs(dir.path());
    let options = CubeOptions::default()
        .with_env(fast_gdal())
        .with_fail_on_error(false);
    let start = Instant::now();
    let cube = DatasetCollection::from_stac(&items, &["data"], &options).expect("a partial cube");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(cube.shape(), (4, 1, SIDE, SIDE));
    let failures = cube.failures();
    let failed: Vec<&str> = failures.iter().map(|f| f.item.as_str()).collect();
    assert_eq!(failed, ["item-1", "item-2", "item-3"], "{failures:#?}");
    for f in failures {
        assert_eq!(f.asset, "data");
        // The GDAL path of the href, query redacted.
        assert!(
            f.href.contains("http://127.0.0.1:") && f.href.ends_with(".tif?<redacted>"),
            "{f:?}"
        );
        assert!(
            !f.href.contains("SECRET") && !f.error.contains("SECRET"),
            "{f:?}"
        );
        assert!(!f.error.is_empty());
    }
    assert!(failures[1].error.contains("404"), "{:?}", failures[1]);
    check_pixels(&cube.read_array::<u16>(), true);
    assert!(server.requests().len() >= 4);

    // Small blocks: a source that fails partway may have delivered the
    // blocks before the failure, but every pixel is exact or nodata.
    let (_server, items) = faulty_cogs(dir.path());
    let cube = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default()
            .with_env(fast_gdal())
            .with_fail_on_error(false)
            .with_block_pixels(128 * SIDE)
            .with_threads(1),
    )
    .unwrap();
    assert_eq!(cube.failures().len(), 3);
    check_pixels(&cube.read_array::<u16>(), false);
}

/// Every pixel is its source's exact value or nodata: the good source is
/// exact everywhere, the 404 is nodata everywhere, the truncated file is
/// nodata in its last tile (past the cut) and — read into the cube before
/// the failure — exact in its first tile row. `whole`: one block per plane.
fn check_pixels(arr: &ndarray::Array4<u16>, whole: bool) {
    for (k, fault) in FAULTS.iter().enumerate() {
        let plane = arr.slice(ndarray::s![k, 0, .., ..]);
        let wrong = plane
            .indexed_iter()
            .filter(|((r, c), v)| **v != 0 && **v != value(k, *r, *c))
            .count();
        assert_eq!(wrong, 0, "item {k} ({fault:?}): {wrong} wrong pixels");
        let nodata = plane.iter().filter(|v| **v == 0).count();
        match fault {
            Fault::Good => assert_eq!(nodata, 0, "item {k}"),
            Fault::NotFound => assert_eq!(nodata, SIDE * SIDE, "item {k}"),
            Fault::TruncatedMidTile => {
                let last = plane.slice(ndarray::s![SIDE - 128.., SIDE - 128..]);
                assert!(last.iter().all(|v| *v == 0), "item {k}: the cut tile");
                if !whole {
                    assert!(
                        plane.slice(ndarray::s![..128, ..]).iter().all(|v| *v != 0),
                        "item {k}: the first row block"
                    );
                }
            }
            Fault::DropRangeReads => assert!(nodata > 0, "item {k}"),
        }
    }
}

#[test]
fn cube_where_every_source_fails_is_an_error_even_when_keeping_going() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, items) = faulty_cogs(dir.path());
    let err = DatasetCollection::from_stac(
        &items[1..],
        &["data"],
        &CubeOptions::default()
            .with_env(fast_gdal())
            .with_fail_on_error(false),
    )
    .expect_err("an all-nodata cube was returned");
    match &err {
        stac_gdal::cube::CubeError::Read { failures } => assert_eq!(failures.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cube_fails_by_default_naming_every_unreadable_source() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, items) = faulty_cogs(dir.path());
    let err = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_env(fast_gdal()).with_threads(1),
    )
    .expect_err("unreadable sources are an error by default");
    let text = err.to_string();
    assert!(text.contains("could not be read"), "{text}");
    // With one thread the load stops at the first failure; the error names it.
    assert!(
        text.contains("item-1") || text.contains("item-2") || text.contains("item-3"),
        "{text}"
    );
    assert!(
        !text.contains("SECRET") && !format!("{err:?}").contains("SECRET"),
        "{text}"
    );
    // All four on four threads: every failure is named.
    let (_server, items) = faulty_cogs(dir.path());
    let err = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_env(fast_gdal()).with_threads(4),
    )
    .unwrap_err();
    match &err {
        stac_gdal::cube::CubeError::Read { failures } => {
            assert!(!failures.is_empty());
            assert!(failures.iter().all(|f| f.item != "item-0"), "{failures:?}");
        }
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------------ downloads

fn sha256_multihash(data: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(data);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("1220{hex}")
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn killed_cli_download_leaves_no_final_file_and_a_rerun_resumes_and_verifies() {
    let data: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(31) % 253) as u8)
        .collect();
    let served = data.clone();
    let slow = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let s2 = slow.clone();
    let server = FaultServer::start(move |r| {
        if s2.load(Ordering::SeqCst) {
            // 16 KiB every 20 ms: 2.5 s for the file.
            return Reply::Paced {
                status: 200,
                headers: vec![("ETag".into(), "\"v1\"".into())],
                body: served.clone(),
                piece: 16 << 10,
                delay: Duration::from_millis(20),
            };
        }
        Reply::file(r, &served, "v1")
    });
    let dir = tempfile::tempdir().unwrap();
    let item_path = dir.path().join("item.json");
    let item = json!({"type": "Feature", "stac_version": "1.0.0", "id": "killed",
        "geometry": null, "properties": {"datetime": "2021-06-01T00:00:00Z"},
        "assets": {"data": {"href": server.url("/files/big.bin?sig=DL-SECRET"),
            "file:size": data.len(), "file:checksum": sha256_multihash(&data)}}});
    std::fs::write(&item_path, item.to_string()).unwrap();
    let cli = |out: &Path| {
        let mut cmd = Command::new(stac_gdal_e2e::stac_gdal_bin());
        cmd.arg("download")
            .arg(&item_path)
            .arg(out)
            .arg("--quiet")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    // The staged part (random name) in the destination's staging directory.
    let part_of = |out: &Path| -> Option<PathBuf> {
        std::fs::read_dir(out.join(".stac-gdal-staging"))
            .ok()?
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "part"))
    };
    // Start on the slow server, SIGKILL (by PID) once 200 kB are staged.
    let kill_midway = |out: &Path| -> PathBuf {
        slow.store(true, Ordering::SeqCst);
        let mut child = cli(out).spawn().unwrap();
        let pid = child.id();
        wait_until("a partial download", 20, || {
            part_of(out).is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| m.len() >= 200_000))
        });
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "pid {pid} was not killed");
        assert!(
            !out.join("big.bin").exists(),
            "a file appeared under the final name"
        );
        assert!(!out.join("killed.json").exists());
        part_of(out).unwrap()
    };

    let out = dir.path().join("out");
    let part = kill_midway(&out);
    let partial = std::fs::metadata(&part).unwrap().len();
    assert!(partial > 0 && partial < data.len() as u64);
    // Its name is not derived from the asset's.
    assert!(!part.file_name().unwrap().to_string_lossy().contains("big"));

    // Rerun on a fast server: it resumes with Range + If-Range and verifies.
    slow.store(false, Ordering::SeqCst);
    let before = server.requests().len();
    let out2 = cli(&out).output().unwrap();
    assert!(
        out2.status.success(),
        "{}",
        String::from_utf8_lossy(&out2.stderr)
    );
    assert_eq!(std::fs::read(out.join("big.bin")).unwrap(), data);
    assert!(
        !out.join(".stac-gdal-staging").exists(),
        "the staging directory is removed after a successful run"
    );
    assert!(out.join("stac-gdal-manifest.json").exists());
    let resumed = &server.requests()[before..];
    assert_eq!(resumed.len(), 1);
    let (start, _) = resumed[0].range().expect("a Range request");
    assert!(
        start as u64 >= partial,
        "resumed from {start}, part had {partial}"
    );
    assert_eq!(resumed[0].header("if-range"), Some("\"v1\""));
    let stderr = String::from_utf8_lossy(&out2.stderr);
    assert!(!stderr.contains("DL-SECRET"), "{stderr}");

    // A corrupted part (same length, same validator): the resumed file
    // fails its checksum, nothing is left under the final name or as a
    // part; the next run starts over.
    let out = dir.path().join("out-corrupt");
    let part = kill_midway(&out);
    let len = std::fs::metadata(&part).unwrap().len() as usize;
    std::fs::write(&part, vec![0xAAu8; len]).unwrap();
    slow.store(false, Ordering::SeqCst);
    let bad = cli(&out).output().unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(!out.join("big.bin").exists() && part_of(&out).is_none());
    let again = cli(&out).output().unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(out.join("big.bin")).unwrap(), data);
}

// ------------------------------------------------------------------ parquet writes

fn items(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"type": "Feature", "stac_version": "1.0.0", "id": format!("item-{i:05}"),
            "geometry": {"type": "Point", "coordinates": [i as f64 * 0.001, 45.0]},
            "bbox": [i as f64 * 0.001, 45.0, i as f64 * 0.001, 45.0],
            "properties": {"datetime": "2021-06-01T00:00:00Z", "n": i,
                "note": format!("{:0>200}", i)},
            "assets": {"data": {"href": format!("https://example.com/{i}.tif")}},
            "links": []})
        })
        .collect()
}

/// Names in `dir` (hidden temp files included).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn parquet_writer_error_midway_leaves_nothing() {
    use stac_gdal::geoparquet::{Layout, WriteOptions, Writer};
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.parquet");
    // Blob layout writes row groups as it goes; item 250 is invalid.
    let mut writer = Writer::create(
        &dest,
        WriteOptions::default()
            .with_layout(Layout::Blob)
            .with_row_group_size(50),
    )
    .unwrap();
    let mut good = items(300);
    good[250] = json!({"type": "Feature", "id": 17, "properties": "nope"});
    let mut failed_at = None;
    for (i, item) in good.into_iter().enumerate() {
        if let Err(e) = writer.push(item) {
            failed_at = Some((i, e.to_string()));
            break;
        }
    }
    let (i, message) = failed_at.expect("the bad item is refused");
    assert_eq!(i, 250, "{message}");
    let stray = listing(dir.path());
    assert_eq!(
        stray.len(),
        1,
        "the temp file holds row groups already: {stray:?}"
    );
    drop(writer);
    assert!(
        listing(dir.path()).is_empty(),
        "left behind: {:?}",
        listing(dir.path())
    );

    // The rename fails (the destination is a non-empty directory): the
    // complete temp file is removed, the destination untouched.
    let dest = dir.path().join("taken.parquet");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("keep"), b"x").unwrap();
    let err = stac_gdal::geoparquet::to_geoparquet(&items(20), &dest, &WriteOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("taken.parquet"), "{err}");
    assert_eq!(listing(dir.path()), ["taken.parquet"]);
    assert_eq!(listing(&dest), ["keep"]);
}

/// Run the CLI's `convert` in `sh -c` after `setup` (shell commands); the
/// shell then lists the output directory. (exit status, stderr, listing).
fn convert_in_shell(setup: &str, input: &Path, out_dir: &Path) -> (bool, String, Vec<String>) {
    let script = format!(
        "{setup}\n\"$BIN\" convert \"$IN\" \"$OUT/items.parquet\"; rc=$?; echo LISTING; ls -A \"$OUT\"; exit $rc"
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("BIN", stac_gdal_e2e::stac_gdal_bin())
        .env("IN", input)
        .env("OUT", out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let listing = stdout
        .split_once("LISTING\n")
        .map(|(_, l)| l.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        listing,
    )
}

fn ndjson(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("items.ndjson");
    let text: String = items(n).iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn parquet_cli_write_fails_midway_without_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = ndjson(dir.path(), 20_000);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();

    // The file-size limit (RLIMIT_FSIZE, 256 KiB) is hit mid-write: EFBIG
    // (SIGXFSZ ignored), a typed error, no file at the destination and no
    // temp file left. The input is read before (it is not limited).
    let (ok, stderr, listing) = convert_in_shell("trap '' XFSZ; ulimit -f 512", &input, &out);
    assert!(!ok, "convert succeeded under a 256 KiB file-size limit");
    assert!(stderr.contains("items.parquet"), "{stderr}");
    assert!(listing.is_empty(), "left behind: {listing:?}; {stderr}");

    // Without the limit the same conversion works (the input is fine).
    let (ok, stderr, listing) = convert_in_shell("", &input, &out);
    assert!(ok, "{stderr}");
    assert_eq!(listing, ["items.parquet"]);
    std::fs::remove_file(out.join("items.parquet")).unwrap();

    // A read-only mount and a full 128 KiB tmpfs, each in a private mount
    // namespace (gone when the shell exits): only where mounting works.
    let probe = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount -t tmpfs -o size=16k tmpfs \"$0\"",
            out.to_str().unwrap(),
        ])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping the read-only and full-tmpfs variants: cannot mount here");
        return;
    }
    let wrap = |mount: &str| {
        let inner = format!(
            "{mount}\n\"$BIN\" convert \"$IN\" \"$OUT/items.parquet\"; rc=$?; echo LISTING; ls -A \"$OUT\"; exit $rc"
        );
        let out = Command::new("unshare")
            .args(["-m", "sh", "-c", &inner])
            .env("BIN", stac_gdal_e2e::stac_gdal_bin())
            .env("IN", &input)
            .env("OUT", &out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let listing: Vec<String> = stdout
            .split_once("LISTING\n")
            .map(|(_, l)| l.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            listing,
        )
    };
    let (ok, stderr, listing) =
        wrap("mount --bind \"$OUT\" \"$OUT\" && mount -o remount,bind,ro \"$OUT\" || exit 99");
    assert!(!ok && stderr.contains("items.parquet"), "{stderr}");
    assert!(listing.is_empty(), "{listing:?}");
    let (ok, stderr, listing) = wrap("mount -t tmpfs -o size=128k tmpfs \"$OUT\" || exit 99");
    assert!(!ok, "convert fit in a 128 KiB tmpfs");
    assert!(
        stderr.contains("items.parquet") && stderr.to_lowercase().contains("space"),
        "{stderr}"
    );
    assert!(
        listing.is_empty(),
        "left behind on the full tmpfs: {listing:?}"
    );
    assert!(
        std::fs::read_dir(&out).unwrap().next().is_none(),
        "the mounts leaked out of their namespace"
    );
}
