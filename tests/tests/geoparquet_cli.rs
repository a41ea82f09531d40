//! `stac-gdal convert IN OUT` as a user runs it: real files, real process.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::process::{Command, Output};

use serde_json::Value;
use stac_gdal_e2e::shared_dir;

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(stac_gdal_e2e::stac_gdal_bin())
        .arg("convert")
        .args(args)
        .output()
        .expect("run stac-gdal")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}, stderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

fn fixture_items(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(shared_dir().join("data/stac-items").join(name)).unwrap();
    stac_gdal::parse_items(&text).unwrap()
}

#[test]
fn ndjson_to_parquet_to_json_and_back_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let items = fixture_items("pc-landsat-c2-l2.json");
    let ndjson = dir.path().join("in.ndjson");
    let lines: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    std::fs::write(&ndjson, lines.join("\n") + "\n").unwrap();
    let collection =
        shared_dir().join("data/stac-items/earthsearch-sentinel-2-c1-l2a.collection.json");
    let parquet = dir.path().join("out.parquet");
    let o = run(&[
        ndjson.as_os_str(),
        parquet.as_os_str(),
        "--collection".as_ref(),
        collection.as_os_str(),
        "--compression".as_ref(),
        "snappy".as_ref(),
    ]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("4 items"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stac_gdal::from_geoparquet(&parquet).unwrap(), items);
    let reader = stac_gdal::geoparquet::Reader::open(&parquet).unwrap();
    assert!(reader.collections().contains_key("sentinel-2-c1-l2a"));

    let json = dir.path().join("back.json");
    ok(&run(&[parquet.as_os_str(), json.as_os_str()]));
    let fc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["features"].as_array().unwrap(), &items);
}

#[test]
fn blob_layout_and_jsonl_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = shared_dir().join("data/stac-items/maxar-opendata-multipolygons.json");
    let parquet = dir.path().join("blob.parquet");
    ok(&run(&[
        src.as_os_str(),
        parquet.as_os_str(),
        "--layout".as_ref(),
        "blob".as_ref(),
        "--compression".as_ref(),
        "none".as_ref(),
    ]));
    assert_eq!(
        stac_gdal::geoparquet::Reader::open(&parquet)
            .unwrap()
            .layout(),
        stac_gdal::geoparquet::Layout::Blob
    );
    let jsonl = dir.path().join("out.jsonl");
    ok(&run(&[parquet.as_os_str(), jsonl.as_os_str()]));
    let back: Vec<Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, fixture_items("maxar-opendata-multipolygons.json"));
}

#[test]
fn bad_input_fails_with_a_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = shared_dir().join("data/stac-items/umbra-sar.json");
    let out = dir.path().join("out.txt");
    let o = run(&[src.as_os_str(), out.as_os_str()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown extension"));
    // An NDJSON line without an id: the error names the file and line; no file is left.
    let ndjson = dir.path().join("bad.ndjson");
    std::fs::write(&ndjson, "{\"id\": \"a\", \"geometry\": null, \"properties\": {}}\n{\"geometry\": null, \"properties\": {}}\n").unwrap();
    let parquet = dir.path().join("bad.parquet");
    let o = run(&[ndjson.as_os_str(), parquet.as_os_str()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.ndjson: line 2") && err.contains("has no \"id\""),
        "{err}"
    );
    assert!(!parquet.exists());
    // A file that is not Parquet.
    let fake = dir.path().join("fake.parquet");
    std::fs::write(&fake, "not parquet").unwrap();
    let o = run(&[fake.as_os_str(), dir.path().join("x.json").as_os_str()]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("fake.parquet: not a readable Parquet file")
    );
}
