//! Side-by-side: a VRT over 10,000 small local GeoTIFFs built from STAC
//! metadata (`build_vrt_from_stac`, no file opened) vs `gdalbuildvrt` over
//! the same files, in one run. Prints one JSON line (`VRT_BENCH {...}`) that
//! `cargo xtask bench` turns into a section of docs/benchmarks.md.
//!
//! `STAC_VRT_BENCH_ITEMS` overrides the item count (default 10,000).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies
#![allow(missing_docs)]

use std::process::Command;
use std::time::Instant;

use gdal::DriverManager;
use gdal::raster::Buffer;
use gdal::spatial_ref::SpatialRef;
use serde_json::{Value, json};
use stac_vrt::{VrtOptions, build_vrt_from_stac};

const SIZE: usize = 16;

fn main() {
    // `cargo bench` passes `--bench`; any other filter argument is ignored.
    let n: usize = std::env::var("STAC_VRT_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let side = (n as f64).sqrt().ceil() as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    let wkt = SpatialRef::from_epsg(32630).unwrap().to_wkt().unwrap();
    let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
    let cell = 10.0;
    let t0 = Instant::now();
    let mut items: Vec<Value> = Vec::with_capacity(n);
    let mut list = String::new();
    for i in 0..n {
        let (r, c) = (i / side, i % side);
        let (x, y) = (
            600000.0 + (c * SIZE) as f64 * cell,
            5300000.0 - (r * SIZE) as f64 * cell,
        );
        let path = dir.path().join(format!("t{i:05}.tif"));
        let mut ds = driver
            .create_with_band_type::<u16, _>(&path, SIZE, SIZE, 1)
            .unwrap();
        ds.set_geo_transform(&[x, cell, 0.0, y, 0.0, -cell])
            .unwrap();
        ds.set_projection(&wkt).unwrap();
        {
            let mut band = ds.rasterband(1).unwrap();
            let mut buf = Buffer::new((SIZE, SIZE), vec![(i % 60000) as u16 + 1; SIZE * SIZE]);
            band.write((0, 0), (SIZE, SIZE), &mut buf).unwrap();
            band.set_no_data_value(Some(0.0)).unwrap();
        }
        drop(ds);
        list.push_str(&path.to_string_lossy());
        list.push('\n');
        items.push(json!({
            "type": "Feature", "stac_version": "1.0.0", "id": format!("t{i:05}"),
            "properties": {"proj:epsg": 32630, "datetime": "2021-06-01T00:00:00Z"},
            "assets": {"data": {
                "href": path.to_string_lossy(),
                "proj:shape": [SIZE, SIZE],
                "proj:transform": [cell, 0.0, x, 0.0, -cell, y],
                "raster:bands": [{"data_type": "uint16", "nodata": 0}]
            }}
        }));
    }
    let setup_s = t0.elapsed().as_secs_f64();
    let list_path = dir.path().join("files.txt");
    std::fs::write(&list_path, list).unwrap();

    // Ours: best of 3 (build + write the file), from metadata only.
    let ours_path = dir.path().join("ours.vrt");
    let mut ours_s = f64::INFINITY;
    let mut shape = [0, 0];
    for _ in 0..3 {
        let t = Instant::now();
        let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default()).expect("vrt");
        vrt.to_file(&ours_path).unwrap();
        ours_s = ours_s.min(t.elapsed().as_secs_f64());
        assert_eq!(vrt.summary().opened, 0, "metadata path opens no file");
        shape = vrt.summary().shape;
    }

    // Peer: gdalbuildvrt over the same files, best of 2.
    let peer_path = dir.path().join("peer.vrt");
    let mut peer_s = f64::INFINITY;
    for _ in 0..2 {
        let t = Instant::now();
        let status = Command::new("gdalbuildvrt")
            .args([
                "-q",
                "-overwrite",
                "-resolution",
                "highest",
                "-input_file_list",
            ])
            .arg(&list_path)
            .arg(&peer_path)
            .status()
            .expect("gdalbuildvrt runs");
        peer_s = peer_s.min(t.elapsed().as_secs_f64());
        assert!(status.success());
    }
    // Same grid from both.
    let ours = gdal::Dataset::open(&ours_path).unwrap();
    let peer = gdal::Dataset::open(&peer_path).unwrap();
    assert_eq!(ours.raster_size(), peer.raster_size());
    assert_eq!(ours.raster_size(), (shape[1], shape[0]));

    let result = json!({
        "items": n,
        "tile": format!("{SIZE}x{SIZE} uint16 GeoTIFF"),
        "setup_seconds": setup_s,
        "ours_seconds": ours_s,
        "gdalbuildvrt_seconds": peer_s,
        "ratio": peer_s / ours_s,
        "shape": shape,
    });
    println!("VRT_BENCH {result}");
}
