//! `to_geoparquet` / `from_geoparquet` throughput on the 69 fixture items
//! (every shape of item we have, one file, spec layout, zstd level 3).
#![allow(unused_crate_dependencies)]
// a test/bench/example target shares its package's dev-dependencies

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use stac_geoparquet::{WriteOptions, from_geoparquet, to_geoparquet};

fn load_items() -> Vec<Value> {
    let mut items = Vec::new();
    for path in stac_fixtures::stac_item_files() {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        items.extend(stac_meta::parse_items(&text).expect("fixture parses"));
    }
    items
}

fn bench(c: &mut Criterion) {
    let items = load_items();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("items.parquet");
    let mut group = c.benchmark_group("geoparquet");
    group.throughput(Throughput::Elements(items.len() as u64));
    group.bench_function("to_geoparquet", |b| {
        b.iter(|| to_geoparquet(black_box(&items), &path, &WriteOptions::default()).expect("write"))
    });
    to_geoparquet(&items, &path, &WriteOptions::default()).expect("write");
    group.bench_function("from_geoparquet", |b| {
        b.iter(|| black_box(from_geoparquet(&path).expect("read")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
