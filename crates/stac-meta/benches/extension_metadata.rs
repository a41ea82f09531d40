//! `read_extension_metadata` throughput over 100k items from the real fixtures.
//!
//! The 69 fixture items are parsed 20 times each (fresh allocations, so the
//! working set is not one cache-hot copy) and cycled to 100,000 items; JSON
//! parsing happens once, outside the measurement. Throughput is reported in
//! assets per second (every asset of every item is read).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;

/// The allocator the `stac-gdal` binary uses (see crates/stac-gdal-cli/src/main.rs):
/// it also decides how the parsed JSON is laid out in memory, which is what
/// this memory-bound walk measures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load_items() -> Vec<Value> {
    let texts: Vec<String> = stac_fixtures::stac_item_files()
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("read fixture"))
        .collect();
    let mut items = Vec::new();
    for _ in 0..20 {
        for text in &texts {
            items.extend(stac_meta::parse_items(text).expect("fixture parses"));
        }
    }
    items
}

fn bench(c: &mut Criterion) {
    let pool = load_items();
    let items: Vec<&Value> = pool.iter().cycle().take(100_000).collect();
    let keys: Vec<Vec<&str>> = items
        .iter()
        .map(|i| {
            stac_meta::assets(i)
                .map(|a| a.keys().map(String::as_str).collect())
                .unwrap_or_default()
        })
        .collect();
    let assets: u64 = keys.iter().map(|k| k.len() as u64).sum();

    let mut group = c.benchmark_group("read_extension_metadata");
    group.sample_size(10);
    group.throughput(Throughput::Elements(assets));
    group.bench_function("100k_items_all_assets", |b| {
        b.iter(|| {
            let mut with_grid = 0usize;
            for (item, keys) in items.iter().zip(&keys) {
                for key in keys {
                    let meta = stac_meta::read_extension_metadata(item, Some(key))
                        .expect("fixtures are valid");
                    with_grid += usize::from(meta.geotransform.is_some());
                }
            }
            black_box(with_grid)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
