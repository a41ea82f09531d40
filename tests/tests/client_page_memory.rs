//! Peak memory of `stac-gdal search` on hostile pages (issue 14, finding
//! 14): a page just under the 128 MiB limit took 6.4 GB of RSS, and a
//! 33 MB page of 10^6 tiny features 636–919 MB, because each page was
//! parsed whole into `Value`s (72 bytes per value, 24 times the text for
//! `{}`) and the CLI held every item before printing. Now a page's features
//! are parsed one at a time from its body, the CLI prints as items arrive,
//! and a feature that would take more than a quarter of `max_page_bytes` once
//! parsed is refused before it is built. Each run's peak RSS (measured with
//! the `peak_rss` helper, printed for docs/reliability.md) stays under
//! 4 × `max_page_bytes` (the default, 64 MiB) above the baseline: the same
//! command on a one-item page (about 50 MB: the CLI links GDAL).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::sync::{Arc, OnceLock};

use stac_gdal_e2e::fault_server::{FaultServer, Reply};
use stac_gdal_e2e::rss::{Measured, run_measured};

const MIB: u64 = 1 << 20;
/// `ClientOptions::default().max_page_bytes`.
const LIMIT: u64 = 64 * MIB;

fn landing(base: &str) -> String {
    format!(
        r#"{{"type":"Catalog","id":"mem","description":"mem","stac_version":"1.0.0",
        "conformsTo":["https://api.stacspec.org/v1.0.0/core","https://api.stacspec.org/v1.0.0/item-search"],
        "links":[{{"rel":"search","type":"application/geo+json","method":"GET","href":"{base}/search"}}]}}"#
    )
}

/// A page: `features` text (without brackets), and a next link to page
/// `next` when given.
fn page(features: &[u8], next: Option<usize>) -> Vec<u8> {
    let mut body = br#"{"type":"FeatureCollection","features":["#.to_vec();
    body.extend_from_slice(features);
    body.extend_from_slice(b"],\"links\":[");
    if let Some(n) = next {
        body.extend_from_slice(format!(r#"{{"rel":"next","href":"/search?page={n}"}}"#).as_bytes());
    }
    body.extend_from_slice(b"]}");
    body
}

/// An API serving `pages` (page `n` at `/search?page=n`, the first without
/// a query).
fn api(pages: Vec<Vec<u8>>) -> FaultServer {
    let pages = Arc::new(pages);
    let base = Arc::new(OnceLock::<String>::new());
    let b = base.clone();
    let server = FaultServer::start(move |r| {
        let base = b.get().expect("base set");
        match r.path() {
            "/" => Reply::Full {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: landing(base).into_bytes(),
            },
            "/search" => {
                let n: usize = r
                    .target
                    .split_once("page=")
                    .and_then(|(_, n)| n.parse().ok())
                    .unwrap_or(1);
                Reply::Full {
                    status: 200,
                    headers: vec![("Content-Type".into(), "application/geo+json".into())],
                    body: pages[n - 1].clone(),
                }
            }
            _ => Reply::status(404, &[]),
        }
    });
    base.set(server.url("")).expect("set once");
    server
}

fn search(server: &FaultServer, ndjson: bool) -> Measured {
    let url = server.url("");
    let mut args = vec!["search".as_ref(), std::ffi::OsStr::new(&url)];
    if ndjson {
        args.push("--ndjson".as_ref());
    }
    run_measured(stac_gdal_e2e::stac_gdal_bin(), &args)
}

/// Peak RSS of `search` on a one-item page (the CLI links GDAL: about
/// 50 MB before any page).
fn baseline() -> u64 {
    static BASE: OnceLock<u64> = OnceLock::new();
    *BASE.get_or_init(|| {
        let server = api(vec![page(br#"{"id":"a"}"#, None)]);
        let m = search(&server, true);
        assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
        m.peak_rss
    })
}

/// Print the run's figures; returns its peak RSS above the baseline (what
/// the pages took).
fn report(what: &str, m: &Measured) -> u64 {
    let base = baseline();
    eprintln!(
        "{what}: exit {:?}, peak RSS {:.1} MiB ({:.1} MiB above the one-item baseline of {:.1} MiB), {:.1} MiB printed",
        m.status.code(),
        m.peak_rss as f64 / MIB as f64,
        m.peak_rss.saturating_sub(base) as f64 / MIB as f64,
        base as f64 / MIB as f64,
        m.stdout.len() as f64 / MIB as f64
    );
    m.peak_rss.saturating_sub(base)
}

/// `n` features `{"id":"i0000000","p":1}` (about 33 bytes each with the comma).
fn tiny_features(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 26);
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!(r#"{{"id":"i{i:07}","p":1}}"#).as_bytes());
    }
    out
}

/// Finding 14, second case: 10^6 tiny features in a 26 MB page, printed as
/// NDJSON and as a FeatureCollection; both stream.
#[test]
fn a_million_tiny_features_stream_in_bounded_memory() {
    let n = 1_000_000;
    let server = api(vec![page(&tiny_features(n), None)]);
    for ndjson in [true, false] {
        let m = search(&server, ndjson);
        let above = report(&format!("10^6 tiny features (ndjson: {ndjson})"), &m);
        assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
        let text = String::from_utf8(m.stdout.clone()).unwrap();
        if ndjson {
            assert_eq!(text.lines().count(), n);
            assert_eq!(text.lines().last(), Some(r#"{"id":"i0999999","p":1}"#));
        } else {
            let fc: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(fc["features"].as_array().unwrap().len(), n);
        }
        assert!(above < LIMIT, "{above}");
    }
}

/// The most expensive pages just under the limit, twice (so the second is
/// prefetched while the first is handed out): 22 million `{}` (72 bytes
/// each once parsed: 1.6 GB eagerly), and features each holding a big
/// array of zeros just under the per-item budget.
#[test]
fn the_worst_pages_under_the_limit_stay_under_four_times_it() {
    let body_max = LIMIT as usize - 1024;
    // `{}` features.
    let n = (body_max - 100) / 3;
    let mut empties = Vec::with_capacity(body_max);
    for i in 0..n {
        if i > 0 {
            empties.push(b',');
        }
        empties.extend_from_slice(b"{}");
    }
    // Features `{"z":[0,0,...]}` whose array costs just under the item
    // budget, 16 MiB (72 bytes per zero): 0.23 M zeros, 0.47 MB of text each.
    let zeros = (LIMIT as usize / 4 - 4096) / 72;
    let mut feature = br#"{"z":["#.to_vec();
    for i in 0..zeros {
        if i > 0 {
            feature.push(b',');
        }
        feature.push(b'0');
    }
    feature.extend_from_slice(b"]}");
    let count = (body_max - 100) / (feature.len() + 1);
    let mut arrays = Vec::with_capacity(body_max);
    for i in 0..count {
        if i > 0 {
            arrays.push(b',');
        }
        arrays.extend_from_slice(&feature);
    }
    for (what, features, expected) in [("{}", empties, n), ("arrays of zeros", arrays, count)] {
        let p1 = page(&features, Some(2));
        let p2 = page(&features, None);
        assert!(p1.len() as u64 <= LIMIT && p2.len() as u64 <= LIMIT);
        drop(features);
        let server = api(vec![p1, p2]);
        let m = search(&server, true);
        let above = report(&format!("two pages of {what} just under 64 MiB"), &m);
        assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
        let lines = m.stdout.iter().filter(|b| **b == b'\n').count();
        assert_eq!(lines, 2 * expected);
        assert!(above < 4 * LIMIT, "{what}: {above}");
    }
}

/// A feature that would take more than the limit once parsed is refused
/// before it is built (the page is measured first): exit 1, one line, no
/// item printed, little memory.
#[test]
fn a_feature_too_large_once_parsed_is_refused_before_it_is_built() {
    // 1.5 M zeros: 3 MB of text, 108 MB as values (the budget: 16 MiB).
    let mut feature = br#"{"id":"big","z":["#.to_vec();
    feature.extend_from_slice(&b"0,".repeat(1_500_000));
    feature.extend_from_slice(b"0]}");
    let mut features = br#"{"id":"small"},"#.to_vec();
    features.extend_from_slice(&feature);
    let server = api(vec![page(&features, None)]);
    let m = search(&server, true);
    let above = report("a feature over the item budget", &m);
    let stderr = String::from_utf8_lossy(&m.stderr);
    assert_eq!(m.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("feature 1 would take more than 16777216 bytes in memory"),
        "{stderr}"
    );
    // Nothing of the page is printed before the error.
    assert!(m.stdout.is_empty());
    assert!(above < LIMIT, "{above}");
}

/// Finding 14, first case: a page just under the old 128 MiB limit (`{}`
/// features) is over the new 64 MiB one: refused while it is read.
#[test]
fn a_page_over_the_limit_is_refused_while_it_is_read() {
    let n = (128 * MIB as usize - 4096) / 3;
    let mut features = Vec::with_capacity(128 * MIB as usize);
    for i in 0..n {
        if i > 0 {
            features.push(b',');
        }
        features.extend_from_slice(b"{}");
    }
    let server = api(vec![page(&features, None)]);
    drop(features);
    let m = search(&server, true);
    let above = report("a 128 MiB page", &m);
    let stderr = String::from_utf8_lossy(&m.stderr);
    assert_eq!(m.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("sent more than 67108864 bytes"), "{stderr}");
    assert!(above < LIMIT, "{above}");
}
