#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies
#![allow(missing_docs)] // criterion_group! generates an undocumented function
//! `build_vrt_from_stac` over 10,000 items from STAC metadata alone (no file
//! exists; none is opened), XML generation included.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

/// A 100 × 100 grid of 16 × 16 uint16 tiles with 10 m cells.
fn items(n_side: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(n_side * n_side);
    for r in 0..n_side {
        for c in 0..n_side {
            let (x, y) = (600000.0 + c as f64 * 160.0, 5300000.0 - r as f64 * 160.0);
            out.push(json!({
                "type": "Feature", "stac_version": "1.0.0", "id": format!("t-{r}-{c}"),
                "properties": {"proj:epsg": 32630, "datetime": "2021-06-01T00:00:00Z"},
                "assets": {"data": {
                    "href": format!("/bench/tiles/t-{r}-{c}.tif"),
                    "proj:shape": [16, 16],
                    "proj:transform": [10.0, 0.0, x, 0.0, -10.0, y],
                    "raster:bands": [{"data_type": "uint16", "nodata": 0}]
                }}
            }));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let items = items(100);
    let mut group = c.benchmark_group("build_vrt_from_stac");
    group.sample_size(10);
    group.throughput(Throughput::Elements(items.len() as u64));
    group.bench_function("metadata_10k_items", |b| {
        b.iter(|| {
            let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default()).expect("vrt");
            assert_eq!(vrt.summary().opened, 0);
            vrt
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
