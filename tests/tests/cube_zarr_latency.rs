//! A Zarr write over HTTP with object-storage latency (issue 20's
//! `latency_nginx`): the store written from remote COGs equals the store
//! written from the same files on disk, and what the block-by-block write
//! asks of the server is counted from nginx's log: requests, HEADs and
//! header re-reads per file (each block's load opens the sources it needs
//! again; GDAL's process-wide `/vsicurl/` cache answers most repeats, so a
//! header reaches the server at most once per block in flight), and the
//! requests in flight (remote blocks are fetched 4 per thread at once;
//! recorded in docs/ARCHITECTURE.md). The figures are printed for the
//! report.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use stac_gdal::cube::zarr::ZarrOptions;
use stac_gdal::cube::{CubeOptions, DatasetCollection};
use stac_gdal_e2e::latency_nginx::{DelayedNginx, Traffic};

const SIZE: usize = 1024;
const FILES: usize = 6;
const WORKERS: usize = 2;

fn write_cog(dir: &Path, name: &str, k: usize) {
    let arr = ndarray::Array2::from_shape_fn((SIZE, SIZE), |(r, c)| {
        ((r * 7 + c * 3 + k * 101) % 60000 + 1) as u16
    });
    let tif = dir.join(format!("{name}.src.tif"));
    stac_gdal::raster::Dataset::create_from_array(
        &arr,
        &stac_gdal::raster::GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&tif)
    .unwrap();
    let out = Command::new("gdal_translate")
        .args([
            "-q",
            "-of",
            "COG",
            "-co",
            "BLOCKSIZE=256",
            "-co",
            "COMPRESS=DEFLATE",
        ])
        .arg(&tif)
        .arg(dir.join(format!("{name}.tif")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&tif).unwrap();
}

fn item(k: usize, href: String) -> Value {
    json!({
        "type": "Feature", "stac_version": "1.0.0", "id": format!("scene-{k:02}"),
        "bbox": [-3.0, 47.0, -2.0, 48.0], "geometry": null,
        "properties": {
            "datetime": format!("2024-05-{:02}T10:00:00Z", 1 + k),
            "proj:epsg": 32630, "proj:shape": [SIZE, SIZE],
            "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
        },
        "assets": {"B04": {
            "href": href,
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "raster:bands": [{"data_type": "uint16", "nodata": 0}],
        }},
        "links": [],
    })
}

fn store_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_zarr_write_over_http_equals_the_local_one_and_its_traffic_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    for k in 0..FILES {
        write_cog(dir.path(), &format!("s{k:02}"), k);
    }
    let server = DelayedNginx::start(dir.path(), Duration::from_millis(40));
    let local: Vec<Value> = (0..FILES)
        .map(|k| {
            item(
                k,
                dir.path()
                    .join(format!("s{k:02}.tif"))
                    .display()
                    .to_string(),
            )
        })
        .collect();
    let remote: Vec<Value> = (0..FILES)
        .map(|k| item(k, server.url(&format!("s{k:02}.tif"))))
        .collect();
    let zopts = ZarrOptions::default()
        .with_chunks([1, 256, 256])
        .with_threads(WORKERS);
    let out = tempfile::tempdir().unwrap();
    let plan = DatasetCollection::plan(&local, &["B04"], &CubeOptions::default()).unwrap();
    plan.to_zarr(out.path().join("local.zarr"), &zopts).unwrap();
    let mark = server.mark();
    let plan = DatasetCollection::plan(&remote, &["B04"], &CubeOptions::default()).unwrap();
    let report = plan
        .to_zarr(out.path().join("remote.zarr"), &zopts)
        .unwrap();
    let traffic = Traffic::of(&server.requests_since(mark));
    assert!(report.finalized);
    assert_eq!(report.units_total, FILES * 16);
    let (a, b) = (
        store_files(&out.path().join("local.zarr")),
        store_files(&out.path().join("remote.zarr")),
    );
    assert!(
        a == b,
        "the store written over HTTP differs from the local one"
    );
    eprintln!(
        "zarr write of {FILES} remote files in {} blocks: {}",
        report.units_total,
        serde_json::to_string(&traffic.to_json()).unwrap()
    );
    assert_eq!(traffic.errors, 0);
    assert_eq!(traffic.files, FILES);
    // Each block's load opens the files it reads again; GDAL's
    // process-wide /vsicurl/ cache answers repeats, but blocks in flight at
    // once may each miss it: a file's HEAD and header read reach the
    // server at most once per block in flight (threads x 4), not once per
    // block.
    let in_flight = WORKERS * stac_gdal::cube::zarr::REMOTE_BLOCKS_PER_THREAD;
    assert!(traffic.heads <= FILES * in_flight, "{traffic:?}");
    assert!(traffic.header_reads <= FILES * in_flight, "{traffic:?}");
    // Remote blocks are fetched 4 per thread at once: several requests
    // in flight (1.9 on average with one block per thread).
    assert!(traffic.mean_in_flight >= 3.0, "{traffic:?}");
}
