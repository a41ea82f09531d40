//! stac-client against a real `rustac serve` (in-memory backend, `skip`
//! paging, no filter/sort/fields): POST paging with collections + bbox +
//! datetime, GET paging without them (rustac 0.9.18 answers 500 to GET
//! paging with bbox/collections, a known server bug), conformance-based
//! rejection of filter and sortby before any search.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeSet;

use serde_json::Value;
use stac_client::{Client, ClientError, ClientOptions, Filter, SearchMethod, SearchParams};
use stac_gdal_e2e::pgstac::write_catalog;
use stac_gdal_e2e::rustac_server::RustacServer;

fn unique_ids(items: &[Value]) -> BTreeSet<String> {
    let list: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let set: BTreeSet<String> = list.iter().cloned().collect();
    assert_eq!(set.len(), list.len(), "duplicated items: {list:?}");
    set
}

fn run(client: &Client, params: SearchParams) -> Vec<Value> {
    client
        .search(params)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

#[test]
fn rustac_serve_skip_paging() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_catalog(dir.path(), 25);
    let paths: Vec<&std::path::Path> = files
        .collections
        .iter()
        .chain(files.items_json.iter())
        .map(|p| p.as_path())
        .collect();
    let server = RustacServer::start(&paths);
    let post = Client::new(
        &server.url(),
        ClientOptions::default().with_method(SearchMethod::Post),
    )
    .unwrap();
    let get = Client::new(
        &server.url(),
        ClientOptions::default().with_method(SearchMethod::Get),
    )
    .unwrap();

    assert_eq!(post.collections().unwrap().len(), 2);

    // POST with collections + bbox + datetime, pages of 2 (skip in the body).
    let params = SearchParams::new()
        .with_collections(["coll-a"])
        .with_bbox([-10.0, -10.0, 0.0, -5.0])
        .with_datetime("2023-01-01T00:00:00Z/2023-06-01T00:00:00Z")
        .with_limit(2);
    let items = run(&post, params.clone());
    assert_eq!(items.len(), 14);
    let pg_expected: BTreeSet<String> = unique_ids(&items);
    assert!(pg_expected.iter().all(|id| id.starts_with("coll-a-item-")));
    // The same search in one GET page (no paging, so no server bug).
    let one_page = run(&get, params.clone().with_limit(100));
    assert_eq!(unique_ids(&one_page), pg_expected);
    assert_eq!(run(&post, params.with_max_items(3)).len(), 3);

    // GET paging over everything (skip in the next href).
    let all = run(&get, SearchParams::new().with_limit(7));
    assert_eq!(unique_ids(&all).len(), 50);
    let two = run(
        &get,
        SearchParams::new().with_ids(["coll-a-item-004", "coll-b-item-020"]),
    );
    assert_eq!(unique_ids(&two).len(), 2);

    // No filter / sort conformance: rejected before searching.
    for (params, name) in [
        (
            SearchParams::new().with_filter(Filter::Text("id = 'x'".into())),
            "filter",
        ),
        (SearchParams::new().with_sortby("id"), "sortby"),
    ] {
        match post.search(params) {
            Err(ClientError::Unsupported { parameter, .. }) => assert_eq!(parameter, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}
