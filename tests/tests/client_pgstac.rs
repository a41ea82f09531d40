//! stac-client against a real stac-fastapi-pgstac (PostgreSQL + PostGIS)
//! loaded with the test catalog (2 collections × 25 items): GET and POST
//! token paging, bbox / intersects / datetime / ids, filter (CQL2 text and
//! JSON), sortby, fields, query, collections, queryables, the href hook,
//! the async stream, and the `stac-gdal search` CLI.
//!
//! One server for the whole binary, in one test function running the
//! sub-cases in turn (pgstac takes ~5 s to start; it is stopped on drop,
//! also when a sub-case fails).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::{Value, json};
use stac_client::{
    Client, ClientError, ClientOptions, ConformanceClass, Fields, Filter, SearchMethod,
    SearchParams,
};
use stac_gdal_e2e::pgstac::{PgStac, catalog_item};
use stac_signers::{GdalEnv, Request, Signer, SignerError};
use std::sync::Arc;

const N: usize = 25;

fn all_items() -> Vec<Value> {
    ["coll-a", "coll-b"]
        .iter()
        .flat_map(|c| (0..N).map(move |i| catalog_item(c, i)))
        .collect()
}

fn bbox_hits(item: &Value, b: [f64; 4]) -> bool {
    let ib: Vec<f64> = item["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    ib[0] <= b[2] && ib[2] >= b[0] && ib[1] <= b[3] && ib[3] >= b[1]
}

fn dt(item: &Value) -> &str {
    item["properties"]["datetime"].as_str().unwrap()
}

/// Ids of the catalog's items passing `keep`.
fn expected(keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    all_items()
        .iter()
        .filter(|i| keep(i))
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id_list(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids, checking that none repeats.
fn unique_ids(items: &[Value]) -> BTreeSet<String> {
    let list = id_list(items);
    let set: BTreeSet<String> = list.iter().cloned().collect();
    assert_eq!(set.len(), list.len(), "duplicated items: {list:?}");
    set
}

fn run(client: &Client, params: SearchParams) -> Vec<Value> {
    client
        .search(params)
        .expect("search starts")
        .collect::<Result<Vec<_>, _>>()
        .expect("search completes")
}

/// A signer of ours: appends `?sig=test` to hrefs.
#[derive(Debug)]
struct QuerySigner;

impl Signer for QuerySigner {
    fn name(&self) -> &str {
        "test-query"
    }
    fn sign_request(&self, _request: &mut Request) -> Result<(), SignerError> {
        Ok(())
    }
    fn sign_href(&self, href: &str) -> Result<String, SignerError> {
        Ok(format!("{href}?sig=test"))
    }
    fn gdal_env_for(&self, _href: &str) -> Result<GdalEnv, SignerError> {
        Ok(GdalEnv::new())
    }
}

#[test]
fn pgstac_search_collections_and_cli() {
    let server = PgStac::start(N);
    let url = server.url();
    let get = Client::new(
        &url,
        ClientOptions::default().with_method(SearchMethod::Get),
    )
    .unwrap();
    let auto = Client::new(&url, ClientOptions::default()).unwrap();

    // Conformance and discovery.
    let c = auto.conformance().unwrap();
    for class in [
        ConformanceClass::ItemSearch,
        ConformanceClass::Filter,
        ConformanceClass::Sort,
        ConformanceClass::Fields,
        ConformanceClass::Query,
    ] {
        assert!(
            c.conforms_to(class),
            "{class:?} not found in {:?}",
            c.classes()
        );
    }
    let ids: BTreeSet<String> = auto
        .collections()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, BTreeSet::from(["coll-a".into(), "coll-b".into()]));
    assert_eq!(auto.collection("coll-b").unwrap()["id"], "coll-b");
    match auto.collection("no-such") {
        Err(ClientError::Status { status: 404, .. }) => {}
        other => panic!("expected 404, got {other:?}"),
    }
    let q = auto.queryables(&[]).unwrap();
    assert!(q.get("properties").is_some_and(Value::is_object), "{q}");
    let q = auto.queryables(&["coll-a"]).unwrap();
    assert!(q.get("properties").is_some_and(Value::is_object), "{q}");

    // bbox + collections + closed interval, token paging, GET and POST.
    let bbox = [-10.0, -10.0, 0.0, -5.0];
    let june = expected(|i| {
        i["collection"] == "coll-a"
            && bbox_hits(i, bbox)
            && dt(i) >= "2023-01-01T00:00:00Z"
            && dt(i) <= "2023-06-01T00:00:00Z"
    });
    assert_eq!(june.len(), 14);
    let params = SearchParams::new()
        .with_collections(["coll-a"])
        .with_bbox(bbox)
        .with_datetime("2023-01-01T00:00:00Z/2023-06-01T00:00:00Z")
        .with_limit(2);
    assert_eq!(unique_ids(&run(&get, params.clone())), june, "GET paging");
    assert_eq!(unique_ids(&run(&auto, params.clone())), june, "POST paging");
    let march = run(
        &get,
        params
            .clone()
            .with_datetime("2023-01-01T00:00:00Z/2023-03-01T00:00:00Z"),
    );
    assert_eq!(march.len(), 6);

    // max_items caps the total across pages.
    assert_eq!(run(&get, params.clone().with_max_items(5)).len(), 5);
    assert_eq!(run(&auto, params.clone().with_max_items(5)).len(), 5);

    // bbox alone over both collections (34), and the same as intersects.
    let all34 = expected(|i| bbox_hits(i, bbox));
    assert_eq!(all34.len(), 34);
    assert_eq!(
        unique_ids(&run(
            &get,
            SearchParams::new().with_bbox(bbox).with_limit(10)
        )),
        all34
    );
    let poly = json!({"type": "Polygon", "coordinates": [[[-10, -10], [0, -10], [0, -5], [-10, -5], [-10, -10]]]});
    assert_eq!(
        unique_ids(&run(
            &auto,
            SearchParams::new().with_intersects(poly).with_limit(10)
        )),
        all34
    );

    // ids; an instant; an open interval.
    let two = run(
        &get,
        SearchParams::new().with_ids(["coll-a-item-001", "coll-b-item-002"]),
    );
    assert_eq!(
        unique_ids(&two),
        BTreeSet::from(["coll-a-item-001".into(), "coll-b-item-002".into()])
    );
    let instant = run(
        &get,
        SearchParams::new().with_datetime("2023-01-08T00:00:00Z"),
    );
    assert_eq!(
        unique_ids(&instant),
        expected(|i| dt(i) == "2023-01-08T00:00:00Z")
    );
    let open = run(
        &auto,
        SearchParams::new()
            .with_collections(["coll-b"])
            .with_datetime_interval(Some("2023-05-01T00:00:00Z"), None)
            .with_limit(7),
    );
    assert_eq!(
        unique_ids(&open),
        expected(|i| i["collection"] == "coll-b" && dt(i) >= "2023-05-01T00:00:00Z")
    );

    // Filter: CQL2 text over GET, CQL2 JSON over POST.
    let cloudy = expected(|i| {
        i["collection"] == "coll-a" && i["properties"]["eo:cloud_cover"].as_u64().unwrap() < 30
    });
    assert_eq!(cloudy.len(), 9);
    let text = SearchParams::new()
        .with_collections(["coll-a"])
        .with_filter(Filter::Text("\"eo:cloud_cover\" < 30".into()))
        .with_limit(4);
    assert_eq!(unique_ids(&run(&get, text)), cloudy, "CQL2 text");
    let cql_json = SearchParams::new()
        .with_collections(["coll-a"])
        .with_filter(Filter::Json(
            json!({"op": "<", "args": [{"property": "eo:cloud_cover"}, 30]}),
        ))
        .with_limit(4);
    assert_eq!(unique_ids(&run(&auto, cql_json)), cloudy, "CQL2 JSON");

    // Query extension (POST).
    let query = SearchParams::new()
        .with_collections(["coll-a"])
        .with_query(json!({"eo:cloud_cover": {"lt": 30}}))
        .with_limit(4);
    assert_eq!(unique_ids(&run(&auto, query)), cloudy, "query");

    // sortby, both directions, both methods.
    let mut asc: Vec<String> = expected(|i| i["collection"] == "coll-a")
        .into_iter()
        .collect();
    asc.sort_by_key(|id| id.clone());
    for client in [&get, &auto] {
        let up = run(
            client,
            SearchParams::new()
                .with_collections(["coll-a"])
                .with_sortby("+properties.datetime")
                .with_limit(10),
        );
        assert_eq!(id_list(&up), asc);
        let down = run(
            client,
            SearchParams::new()
                .with_collections(["coll-a"])
                .with_sortby("-properties.datetime")
                .with_limit(10),
        );
        let mut desc = asc.clone();
        desc.reverse();
        assert_eq!(id_list(&down), desc);
    }

    // fields: exclude one property.
    for client in [&get, &auto] {
        let items = run(
            client,
            SearchParams::new()
                .with_collections(["coll-a"])
                .with_fields(Fields::parse("-properties.proj:transform"))
                .with_max_items(3),
        );
        assert_eq!(items.len(), 3);
        for i in &items {
            assert!(i["properties"].get("proj:transform").is_none(), "{i}");
            assert!(i["properties"].get("datetime").is_some(), "{i}");
        }
    }

    // The signer's href hook on returned items; the ItemCollection value.
    let signed = Client::new(
        &url,
        ClientOptions::default()
            .with_signer(Arc::new(QuerySigner) as Arc<dyn Signer>)
            .with_sign_items(true),
    )
    .unwrap()
    .search(SearchParams::new().with_ids(["coll-a-item-003"]))
    .unwrap()
    .item_collection()
    .unwrap();
    assert_eq!(signed["type"], "FeatureCollection");
    assert_eq!(
        signed["features"][0]["assets"]["data"]["href"],
        "http://127.0.0.1:8090/public/cog.tif?sig=test"
    );

    // Async stream.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let streamed: Vec<Value> = rt.block_on(async {
        use futures::TryStreamExt;
        stac_client::search_async(
            &url,
            &["coll-b"],
            SearchParams::new().with_limit(6),
            ClientOptions::default(),
        )
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
    });
    assert_eq!(
        unique_ids(&streamed),
        expected(|i| i["collection"] == "coll-b")
    );

    // The CLI: ndjson lines and an ItemCollection.
    let bin = stac_gdal_e2e::stac_gdal_bin();
    let out = Command::new(&bin)
        .args([
            "search",
            &url,
            "--collections",
            "coll-a",
            "--bbox",
            "-10,-10,0,-5",
        ])
        .args(["--datetime", "2023-01-01T00:00:00Z/2023-06-01T00:00:00Z"])
        .args(["--limit", "2", "--ndjson"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(unique_ids(&lines), june);
    let out = Command::new(&bin)
        .args(["search", &url, "--collections", "coll-a"])
        .args([
            "--filter",
            "\"eo:cloud_cover\" < 30",
            "--sortby",
            "-properties.datetime",
        ])
        .args(["--max-items", "4"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = id_list(fc["features"].as_array().unwrap());
    let mut want: Vec<String> = cloudy.iter().cloned().collect();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(got, want[..4]);
    // An unsupported parameter fails with a clear message and exit code 1.
    let out = Command::new(&bin)
        .args(["search", &url, "--datetime", "not-a-date"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("datetime"));
}
