//! 100 000 items through the streaming writer and reader with bounded
//! memory. Its own test binary (one test), so the process's peak resident
//! set (`VmHWM`) measures this work alone.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::{Value, json};
use stac_geoparquet::{Reader, WriteOptions, Writer};

const N: u64 = 100_000;

fn item(i: u64) -> Value {
    let (x, y) = ((i % 300) as f64 * 0.01, (i / 300 % 300) as f64 * 0.01);
    json!({
        "type": "Feature", "stac_version": "1.1.0",
        "stac_extensions": ["https://stac-extensions.github.io/projection/v2.0.0/schema.json"],
        "id": format!("S2-{i:06}"),
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.5, y], [x + 0.5, y + 0.5], [x, y + 0.5], [x, y]]]},
        "bbox": [x, y, x + 0.5, y + 0.5],
        "collection": "sentinel-2-l2a",
        "properties": {
            "datetime": format!("2020-01-{:02}T10:{:02}:{:02}.{:06}Z", 1 + i % 28, i % 60, i / 60 % 60, i * 7919 % 1_000_000),
            "eo:cloud_cover": (i % 10_000) as f64 / 100.0 + 0.001,
            "proj:code": "EPSG:32630",
            "s2:tile": format!("T{}", i % 97),
        },
        "links": [{"rel": "self", "href": format!("https://example.com/items/S2-{i:06}")}],
        "assets": {
            "B04": {"href": format!("s3://bucket/S2-{i:06}/B04.tif"), "type": "image/tiff; application=geotiff", "roles": ["data"],
                    "raster:bands": [{"nodata": 0, "scale": 0.0001}]},
            "B08": {"href": format!("s3://bucket/S2-{i:06}/B08.tif"), "type": "image/tiff; application=geotiff", "roles": ["data"]},
        },
    })
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .expect("VmHWM line");
    kb / 1024.0
}

#[test]
fn hundred_thousand_items_stream_through_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("100k.parquet");
    let options = WriteOptions::default().with_row_group_size(20_000);
    let mut writer = Writer::create(&path, options).unwrap();
    for i in 0..N {
        writer.push(item(i)).unwrap();
    }
    assert_eq!(writer.finish().unwrap(), N);

    let reader = Reader::open(&path).unwrap();
    assert_eq!(reader.num_rows(), N);
    let mut n = 0;
    for (i, got) in reader.enumerate() {
        let got = got.unwrap();
        if i % 9_973 == 0 {
            assert_eq!(got, item(i as u64), "item {i}");
        }
        n += 1;
    }
    assert_eq!(n, N);
    let peak = peak_rss_mb();
    println!("peak RSS for {N} items written and read: {peak:.0} MB");
    assert!(peak < 300.0, "peak RSS {peak:.0} MB (limit 300 MB)");
}
