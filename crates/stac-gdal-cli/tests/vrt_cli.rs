//! `stac-gdal vrt <ITEMS> --asset KEY -o out.vrt`: writes the VRT and prints
//! a JSON summary (shape, geotransform, crs, sources, skipped).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

#[path = "../../stac-vrt/tests/mosaic/support.rs"]
mod vrt_support;

use std::path::PathBuf;
use std::process::Command;

use vrt_support::{Tile, read_u16};

/// The `stac-gdal` binary cargo built for this test.
fn stac_gdal_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stac-gdal"))
}

#[test]
fn vrt_subcommand_writes_the_vrt_and_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let a = Tile::new(dir.path(), "a", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir.path(), "b", 32630, (600040.0, 5300000.0), 10.0, 20);
    a.write();
    b.write();
    let items_path = dir.path().join("items.json");
    let gone = serde_json::json!({"id": "gone", "assets": {"data": {"href": "/no/such.tif?token=SECRET"}}});
    let fc = serde_json::json!({"type": "FeatureCollection", "features": [a.item(), b.bare_item(), gone]});
    std::fs::write(&items_path, fc.to_string()).unwrap();
    let out = dir.path().join("out.vrt");
    let bin = stac_gdal_bin();

    // Strict by default: fails, naming the skipped item, without the token.
    let run = Command::new(&bin)
        .args([
            "vrt",
            items_path.to_str().unwrap(),
            "--asset",
            "data",
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("skipped 1 of 3") && err.contains("--no-strict") && err.contains("gone"),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "{err}");
    assert!(!out.exists());

    let run = Command::new(&bin)
        .args([
            "vrt",
            items_path.to_str().unwrap(),
            "--asset",
            "data",
            "-o",
            out.to_str().unwrap(),
            "--no-strict",
            "--resolution",
            "5",
            "--crs",
            "EPSG:32630",
            "--bounds",
            "600000,5299960,600080,5300000",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON summary");
    assert_eq!(summary["shape"], serde_json::json!([8, 16]));
    assert_eq!(
        summary["geotransform"],
        serde_json::json!([600000.0, 5.0, 0.0, 5300000.0, 0.0, -5.0])
    );
    assert_eq!(summary["crs"], "EPSG:32630");
    assert_eq!(summary["sources"].as_array().unwrap().len(), 2);
    assert_eq!(summary["skipped"][0]["item"], "gone");
    assert_eq!(summary["opened"], 2, "b has no metadata, gone was tried");
    assert!(!String::from_utf8_lossy(&run.stdout).contains("SECRET"));

    let ds = gdal::Dataset::open(&out).expect("the written VRT opens");
    let (px, (cols, rows)) = read_u16(&ds, 1);
    assert_eq!((cols, rows), (16, 8));
    assert_eq!(px[0], 10);
    assert_eq!(px[15], 20);
}
