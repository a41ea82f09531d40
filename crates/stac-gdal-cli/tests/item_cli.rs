//! `stac-gdal item <RASTER> --id ID [--datetime T] [--href H] [--media-type M]`
//! prints the pyramids-compatible STAC Item of a raster.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The `stac-gdal` binary cargo built for this test.
fn stac_gdal_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stac-gdal"))
}

fn seed_b04(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("B04.tif");
    stac_gdal::raster::Dataset::create_from_array(
        &ndarray::Array2::<u16>::from_elem((4, 4), 1),
        &stac_gdal::raster::GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&path)
    .unwrap();
    path
}

#[test]
fn item_subcommand_prints_the_seed_item() {
    let dir = tempfile::tempdir().unwrap();
    let b04 = seed_b04(dir.path());
    let out = Command::new(stac_gdal_bin())
        .arg("item")
        .arg(&b04)
        .args(["--id", "scene-0", "--datetime", "2021-06-01T00:00:00Z"])
        .args(["--media-type", "image/tiff; application=geotiff"])
        .args(["--href", "https://example.com/B04.tif"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let item: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut expected = stac_gdal_e2e::read_json(
        &stac_gdal_e2e::shared_dir().join("reference/pyramids-outputs/to_stac_item.json"),
    );
    expected["assets"]["data"]["href"] = Value::String("https://example.com/B04.tif".into());
    assert_eq!(item, expected);
    // Key order as pyramids writes it.
    let keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "type",
            "stac_version",
            "id",
            "geometry",
            "bbox",
            "properties",
            "assets",
            "links",
            "stac_extensions"
        ]
    );
}

#[test]
fn item_subcommand_v2_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let b04 = seed_b04(dir.path());
    let out = Command::new(stac_gdal_bin())
        .arg("item")
        .arg(&b04)
        .args([
            "--id",
            "x",
            "--start",
            "2021-01-01T00:00:00Z",
            "--end",
            "2021-01-02T00:00:00Z",
        ])
        .args(["--projection", "v2", "--compact"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "compact: one line");
    let item: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(item["properties"]["datetime"], Value::Null);
    assert_eq!(item["properties"]["proj:code"], "EPSG:32630");
    assert!(item["properties"].get("proj:epsg").is_none());
    assert_eq!(item["assets"]["data"]["href"], b04.to_str().unwrap());

    let bad = Command::new(stac_gdal_bin())
        .args(["item", "/nonexistent/x.tif?sig=TOPSECRET", "--id", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("/nonexistent/x.tif"), "{stderr}");
    assert!(
        !stderr.contains("TOPSECRET"),
        "GDAL's own messages are redacted too: {stderr}"
    );
}
