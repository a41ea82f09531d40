//! `stac_geoparquet::search` over a catalog file gives what pgstac (the
//! independent reference: PostgreSQL + PostGIS behind stac-fastapi-pgstac)
//! gives for the same items and the same queries: bbox, intersects,
//! datetime (instants, open and closed intervals, start/end ranges),
//! collections, ids, the query extension, CQL2 text and JSON filters
//! (comparisons, `s_intersects`, `t_intersects` and other temporal
//! operators, `in`, `like`, `between`, `isNull`, `and`/`or`/`not`), sortby
//! and max_items across pages, fields.
//!
//! The same items are searched as one file with small row groups (so
//! pruning is exercised), as a hive-partitioned folder, as a glob, and in
//! the JSON-blob layout (no column statistics: everything is evaluated on
//! the decoded items), and all four must agree with pgstac. The `stac-gdal
//! search` CLI on the file must print the same items as on the API.
//!
//! One server for the whole binary (pgstac takes seconds to start).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use stac_client::{Client, ClientOptions, Fields, Filter, SearchParams};
use stac_gdal::geoparquet::search::{Sources, search};
use stac_gdal::geoparquet::{Layout, WriteOptions};
use stac_gdal_e2e::pgstac::{PgStac, catalog_item};

/// Items per collection of the standard test catalog.
const N: usize = 25;

/// The `coll-c` items: footprints whose bbox and shape differ (triangles,
/// multipolygons), time ranges, missing and null properties.
fn special_item(i: usize) -> Value {
    let x = 20.0 + (i % 6) as f64 * 1.5;
    let y = (i / 6) as f64 * 1.5;
    let geometry = match i % 3 {
        // A triangle covering the lower-left half of its 1°x1° box.
        0 => {
            json!({"type": "Polygon", "coordinates": [[[x, y], [x + 1.0, y], [x, y + 1.0], [x, y]]]})
        }
        // A triangle covering the upper-right half.
        1 => {
            json!({"type": "Polygon", "coordinates": [[[x + 1.0, y], [x + 1.0, y + 1.0], [x, y + 1.0], [x + 1.0, y]]]})
        }
        _ => json!({"type": "MultiPolygon", "coordinates": [
            [[[x, y], [x + 0.4, y], [x + 0.4, y + 0.4], [x, y + 0.4], [x, y]]],
            [[[x + 0.6, y + 0.6], [x + 1.0, y + 0.6], [x + 1.0, y + 1.0], [x + 0.6, y + 1.0], [x + 0.6, y + 0.6]]]]}),
    };
    let day = 1 + (i * 3) % 28;
    let mut props = serde_json::Map::new();
    if i % 5 == 0 {
        props.insert("datetime".into(), Value::Null);
        props.insert(
            "start_datetime".into(),
            json!(format!("2023-03-{day:02}T00:00:00Z")),
        );
        let end = (day + 9).min(31);
        props.insert(
            "end_datetime".into(),
            json!(format!("2023-03-{end:02}T12:00:00Z")),
        );
    } else {
        props.insert(
            "datetime".into(),
            json!(format!("2023-03-{day:02}T10:30:00Z")),
        );
    }
    match i {
        _ if i % 7 == 0 => {}
        _ if i % 11 == 0 => {
            props.insert("eo:cloud_cover".into(), Value::Null);
        }
        _ => {
            props.insert("eo:cloud_cover".into(), json!((i * 37) % 100));
        }
    }
    match i % 4 {
        0 => {
            props.insert("platform".into(), json!("sentinel-2a"));
        }
        1 => {
            props.insert("platform".into(), json!("sentinel-2b"));
        }
        2 => {
            props.insert("platform".into(), json!("landsat-8"));
        }
        _ if i % 8 == 3 => {
            props.insert("platform".into(), Value::Null);
        }
        _ => {}
    }
    props.insert("gsd".into(), json!(if i % 2 == 0 { 10 } else { 30 }));
    props.insert(
        "instruments".into(),
        if i % 4 == 2 {
            json!(["oli", "tirs"])
        } else {
            json!(["msi"])
        },
    );
    json!({
        "type": "Feature", "stac_version": "1.0.0", "stac_extensions": [],
        "id": format!("coll-c-item-{i:03}"), "collection": "coll-c",
        "bbox": [x, y, x + 1.0, y + 1.0],
        "geometry": geometry,
        "properties": props,
        "assets": {"data": {"href": format!("http://127.0.0.1:8090/c/{i}.tif"), "roles": ["data"]}},
        "links": []
    })
}

fn all_items() -> Vec<Value> {
    let mut items: Vec<Value> = ["coll-a", "coll-b"]
        .iter()
        .flat_map(|c| (0..N).map(move |i| catalog_item(c, i)))
        .collect();
    items.extend((0..30).map(special_item));
    items
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The catalog as four sources: one file (row groups of 8), a hive folder,
/// a glob over that folder, and the JSON-blob layout.
fn write_sources(dir: &Path, items: &[Value]) -> Vec<(String, Sources)> {
    let file = dir.join("catalog.parquet");
    stac_gdal::geoparquet::to_geoparquet(
        items,
        &file,
        &WriteOptions::default().with_row_group_size(8),
    )
    .unwrap();
    let folder = dir.join("partitioned");
    for coll in ["coll-a", "coll-b", "coll-c"] {
        let part = folder.join(format!("collection={coll}"));
        std::fs::create_dir_all(&part).unwrap();
        let mine: Vec<Value> = items
            .iter()
            .filter(|i| i["collection"] == coll)
            .cloned()
            .collect();
        stac_gdal::geoparquet::to_geoparquet(
            &mine,
            part.join("part-0.parquet"),
            &WriteOptions::default().with_row_group_size(10),
        )
        .unwrap();
    }
    let blob = dir.join("blob.parquet");
    stac_gdal::geoparquet::to_geoparquet(
        items,
        &blob,
        &WriteOptions::default().with_layout(Layout::Blob),
    )
    .unwrap();
    let glob = PathBuf::from(format!("{}/*/*.parquet", folder.display()));
    vec![
        ("file".into(), Sources::from(file)),
        ("folder".into(), Sources::from(folder)),
        ("glob".into(), Sources::from(glob)),
        ("blob".into(), Sources::from(blob)),
    ]
}

/// What pgstac returns, minus the links stac-fastapi adds to every item,
/// with numbers compared as numbers (a file mixing `10` and `10.0`
/// coordinates gives `10.0` back: documented).
fn strip_links(mut item: Value) -> Value {
    if let Some(o) = item.as_object_mut() {
        o.remove("links");
    }
    numbers_as_f64(item)
}

fn numbers_as_f64(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(numbers_as_f64).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect())
        }
        other => other,
    }
}

/// Number of row groups a file search skipped, summed over the queries.
struct Tally {
    skipped: usize,
}

fn compare(
    what: &str,
    client: &Client,
    sources: &[(String, Sources)],
    params: SearchParams,
    tally: &mut Tally,
) {
    let reference: Vec<Value> = client
        .search(params.clone())
        .unwrap_or_else(|e| panic!("{what}: pgstac: {e}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{what}: pgstac: {e}"));
    let sorted = !params.sortby.is_empty();
    for (name, src) in sources {
        let mut s = search(src.clone(), &params).unwrap_or_else(|e| panic!("{what} ({name}): {e}"));
        let ours: Vec<Value> = s
            .by_ref()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{what} ({name}): {e}"));
        if name == "file" {
            tally.skipped += s.stats().skipped_row_groups.len();
        }
        let (a, b) = (ids(&ours), ids(&reference));
        if sorted || params.max_items.is_some() {
            assert_eq!(a, b, "{what} ({name}): order or items differ from pgstac");
        } else {
            let (a, b): (BTreeSet<_>, BTreeSet<_>) =
                (a.into_iter().collect(), b.into_iter().collect());
            assert_eq!(a, b, "{what} ({name}): items differ from pgstac");
        }
        if params.fields.is_some() {
            for (o, r) in ours.iter().zip(&reference) {
                assert_eq!(
                    strip_links(o.clone()),
                    strip_links(r.clone()),
                    "{what} ({name}): fields differ"
                );
            }
        }
    }
    println!("{what}: {} items", reference.len());
}

fn text(f: &str) -> Filter {
    Filter::Text(f.to_owned())
}

#[test]
fn catalog_file_search_equals_pgstac() {
    let server = PgStac::start(N);
    let dir = tempfile::tempdir().unwrap();
    let items = all_items();
    // coll-c into pgstac, with the number queryables pgstac needs to
    // compare and sort them as numbers.
    let coll = json!({"type": "Collection", "stac_version": "1.0.0", "id": "coll-c",
        "description": "special footprints", "license": "CC0-1.0",
        "extent": {"spatial": {"bbox": [[20, 0, 30, 8]]},
            "temporal": {"interval": [["2023-03-01T00:00:00Z", null]]}}, "links": []});
    let cpath = dir.path().join("coll-c.json");
    std::fs::write(&cpath, coll.to_string()).unwrap();
    server.load_collection(&cpath);
    let nd: String = items
        .iter()
        .filter(|i| i["collection"] == "coll-c")
        .map(|i| format!("{i}\n"))
        .collect();
    let ndpath = dir.path().join("coll-c.ndjson");
    std::fs::write(&ndpath, nd).unwrap();
    server.load_items(&ndpath);
    server.sql(
        "SET search_path TO pgstac, public; INSERT INTO queryables (name, definition) VALUES \
         ('eo:cloud_cover', '{\"type\": \"number\"}'), ('gsd', '{\"type\": \"number\"}');",
    );

    let sources = write_sources(dir.path(), &items);
    let client = Client::new(&server.url(), ClientOptions::default()).unwrap();
    let mut tally = Tally { skipped: 0 };
    let p = SearchParams::new;
    let poly = json!({"type": "Polygon", "coordinates": [[[20.2, 0.2], [24.0, 0.2], [24.0, 0.9], [20.2, 0.9], [20.2, 0.2]]]});
    let cases: Vec<(&str, SearchParams)> = vec![
        // Spatial: the bbox overlaps every coll-c box in the first row, but
        // only some shapes (triangles, multipolygons) reach it.
        ("bbox", p().with_bbox([20.7, 0.7, 25.2, 0.95])),
        ("bbox across coll-a", p().with_bbox([-9.5, -9.5, -4.5, -4.5])),
        ("intersects", p().with_intersects(poly.clone())),
        // Time: instants, open and closed intervals, start/end ranges.
        ("datetime instant", p().with_datetime("2023-03-13T10:30:00Z")),
        ("datetime in a range", p().with_datetime("2023-03-05T00:00:00Z")),
        ("datetime closed", p().with_datetime("2023-03-05T00:00:00Z/2023-03-12T00:00:00Z")),
        ("datetime open end", p().with_datetime("2023-03-20T00:00:00Z/..")),
        ("datetime open start", p().with_datetime("../2023-01-20T00:00:00Z")),
        ("collections", p().with_collections(["coll-c"])),
        ("collections two", p().with_collections(["coll-a", "coll-c"]).with_datetime("2023-01-01T00:00:00Z/2023-03-10T00:00:00Z")),
        ("ids", p().with_ids(["coll-a-item-003", "coll-c-item-007", "nope"])),
        // The query extension.
        ("query lt", p().with_query(json!({"eo:cloud_cover": {"lt": 20}}))),
        ("query eq", p().with_collections(["coll-c"]).with_query(json!({"platform": {"eq": "landsat-8"}}))),
        // CQL2 text.
        ("cql2 <", p().with_filter(text("\"eo:cloud_cover\" < 30"))),
        ("cql2 >= and <=", p().with_filter(text("\"eo:cloud_cover\" >= 30 AND \"eo:cloud_cover\" <= 60"))),
        ("cql2 in", p().with_filter(text("platform IN ('sentinel-2a', 'landsat-8')"))),
        ("cql2 like", p().with_filter(text("platform LIKE 'sentinel%'"))),
        ("cql2 id like", p().with_filter(text("id LIKE 'coll-c-item-01_'"))),
        ("cql2 between", p().with_filter(text("\"eo:cloud_cover\" BETWEEN 10 AND 40"))),
        ("cql2 is null", p().with_collections(["coll-c"]).with_filter(text("\"eo:cloud_cover\" IS NULL"))),
        ("cql2 platform is null", p().with_collections(["coll-c"]).with_filter(text("platform IS NULL"))),
        ("cql2 not", p().with_filter(text("NOT (\"eo:cloud_cover\" < 50)"))),
        ("cql2 or", p().with_filter(text("platform = 'landsat-8' OR \"eo:cloud_cover\" < 10"))),
        ("cql2 and collection", p().with_filter(text("collection = 'coll-c' AND gsd = 10"))),
        (
            "cql2 s_intersects",
            p().with_filter(text("S_INTERSECTS(geometry, POLYGON((20.2 0.2, 24 0.2, 24 0.9, 20.2 0.9, 20.2 0.2)))")),
        ),
        (
            "cql2 t_intersects",
            p().with_filter(text("T_INTERSECTS(datetime, INTERVAL('2023-03-10T00:00:00Z', '2023-03-20T00:00:00Z'))")),
        ),
        ("cql2 timestamp >", p().with_filter(text("datetime > TIMESTAMP('2023-03-15T00:00:00Z')"))),
        ("cql2 end_datetime <", p().with_filter(text("end_datetime < TIMESTAMP('2023-01-15T00:00:00Z')"))),
        // CQL2 JSON.
        (
            "cql2-json and/or/not",
            p().with_filter(Filter::Json(json!({"op": "and", "args": [
                {"op": "or", "args": [
                    {"op": "=", "args": [{"property": "platform"}, "sentinel-2b"]},
                    {"op": "isNull", "args": [{"property": "eo:cloud_cover"}]}]},
                {"op": "not", "args": [{"op": "=", "args": [{"property": "gsd"}, 30]}]}]}))),
        ),
        (
            "cql2-json s_intersects",
            p().with_filter(Filter::Json(json!({"op": "s_intersects", "args": [{"property": "geometry"}, poly]}))),
        ),
        (
            "cql2-json t_before",
            p().with_filter(Filter::Json(json!({"op": "t_before", "args": [{"property": "datetime"}, {"timestamp": "2023-03-10T00:00:00Z"}]}))),
        ),
        (
            "cql2-json t_during",
            p().with_filter(Filter::Json(json!({"op": "t_during", "args": [{"property": "datetime"}, {"interval": ["2023-03-01T00:00:00Z", "2023-03-25T00:00:00Z"]}]}))),
        ),
        (
            "cql2-json in + between",
            p().with_filter(Filter::Json(json!({"op": "and", "args": [
                {"op": "in", "args": [{"property": "collection"}, ["coll-b", "coll-c"]]},
                {"op": "between", "args": [{"property": "eo:cloud_cover"}, 20, 70]}]}))),
        ),
        (
            "cql2-json like",
            p().with_filter(Filter::Json(json!({"op": "like", "args": [{"property": "id"}, "coll-b-item-00%"]}))),
        ),
        // Sorting and paging: pages of 3, 7 items.
        ("sortby -eo:cloud_cover", p().with_collections(["coll-a"]).with_sortby("-eo:cloud_cover").with_limit(3).with_max_items(7)),
        ("sortby with nulls", p().with_collections(["coll-c"]).with_sortby("eo:cloud_cover").with_limit(4).with_max_items(30)),
        ("sortby -with nulls", p().with_collections(["coll-c"]).with_sortby("-eo:cloud_cover").with_limit(4).with_max_items(30)),
        ("sortby datetime", p().with_bbox([20.0, 0.0, 30.0, 8.0]).with_sortby("datetime").with_limit(3).with_max_items(7)),
        ("sortby +id", p().with_filter(text("gsd = 10")).with_sortby("+id").with_limit(4).with_max_items(9)),
        ("sortby collection, -datetime", p().with_sortby("collection").with_sortby("-datetime").with_limit(5).with_max_items(12)),
        // Fields.
        (
            "fields include",
            p().with_collections(["coll-c"]).with_sortby("id").with_fields(Fields::parse("properties.gsd,assets")).with_max_items(4),
        ),
        (
            "fields exclude",
            p().with_collections(["coll-a"]).with_sortby("id").with_fields(Fields::parse("-assets,-properties.proj:transform,-links")).with_max_items(4),
        ),
    ];
    for (what, params) in cases {
        compare(what, &client, &sources, params, &mut tally);
    }
    assert!(
        tally.skipped > 20,
        "selective queries skip row groups of the file (skipped {})",
        tally.skipped
    );

    // The CLI: same flags as an API search, same NDJSON.
    let run = |target: &str| -> Vec<Value> {
        let out = Command::new(stac_gdal_e2e::stac_gdal_bin())
            .args([
                "search",
                target,
                "--collections",
                "coll-c",
                "--bbox",
                "20,0,24,2",
            ])
            .args([
                "--filter",
                "\"eo:cloud_cover\" > 10",
                "--sortby",
                "-datetime",
                "--ndjson",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| strip_links(serde_json::from_str(l).unwrap()))
            .collect()
    };
    let file = dir.path().join("catalog.parquet");
    let from_file = run(file.to_str().unwrap());
    let from_api = run(&server.url());
    assert!(!from_file.is_empty());
    assert_eq!(ids(&from_file), ids(&from_api));
    // Whole items: pgstac hydrates them back to what was loaded.
    for (f, a) in from_file.iter().zip(&from_api) {
        let original = items.iter().find(|i| i["id"] == f["id"]).unwrap();
        assert_eq!(f, &strip_links(original.clone()));
        assert_eq!(
            numbers_as_f64(a["properties"].clone()),
            numbers_as_f64(original["properties"].clone())
        );
    }
}
