//! `stac-gdal cube` as a user runs it: generated rasters, a real process.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::process::{Command, Output};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::raster::{Dataset, GridSpec};

fn stac_gdal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stac-gdal"))
        .args(args)
        .output()
        .expect("run stac-gdal")
}

#[test]
fn cube_writes_one_geotiff_per_timestep_a_preview_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, value: u16, when: &str| -> Value {
        let p = dir.path().join(format!("{name}.tif"));
        let arr = Array2::from_shape_fn((4, 4), |(r, c)| if r == 0 && c == 0 { 0 } else { value });
        Dataset::create_from_array(
            &arr,
            &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
            Some(0.0),
        )
        .unwrap()
        .to_file(&p)
        .unwrap();
        json!({"id": name, "bbox": [0.0, 0.0, 1.0, 1.0], "properties": {"datetime": when},
               "assets": {"data": {"href": p.to_string_lossy()}}})
    };
    let items = json!({"type": "FeatureCollection", "features": [
        write("t0", 1, "2021-06-01T10:00:00Z"),
        write("t1", 2, "2021-06-01T10:00:30Z"),
        write("t2", 3, "2021-06-05T10:00:00Z"),
    ]});
    let items_path = dir.path().join("items.json");
    std::fs::write(&items_path, items.to_string()).unwrap();
    let out = dir.path().join("cube");
    let png = dir.path().join("look.png");
    let o = stac_gdal(&[
        "cube",
        items_path.to_str().unwrap(),
        "--asset",
        "data",
        "--groupby",
        "solar_day",
        "--fuse",
        "max",
        "--out",
        out.to_str().unwrap(),
        "--preview",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["shape"], json!([2, 1, 4, 4]));
    assert_eq!(summary["bands"], json!(["data"]));
    assert_eq!(summary["time"][0]["label"], "2021-06-01");
    assert_eq!(summary["time"][0]["items"], json!(["t0", "t1"]));
    assert_eq!(summary["grid"]["crs"], "EPSG:32630");
    assert_eq!(summary["failures"], json!([]));
    let files: Vec<&str> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 2);
    let day0 = Dataset::open(files[0])
        .unwrap()
        .read_array::<u16>()
        .unwrap();
    // max of t0 (1) and t1 (2); the shared hole stays nodata.
    assert_eq!(day0[[0, 0, 0]], 0);
    assert_eq!(day0[[0, 1, 1]], 2);
    assert_eq!(
        Dataset::open(png.to_str().unwrap()).unwrap().driver_name(),
        "PNG"
    );

    // A bad fusion name is a clear error.
    let o = stac_gdal(&[
        "cube",
        items_path.to_str().unwrap(),
        "--asset",
        "data",
        "--groupby",
        "solar_day",
        "--fuse",
        "avg",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"avg\" is not one of"));

    // --plan reads no pixels and prints the grid.
    let o = stac_gdal(&[
        "cube",
        items_path.to_str().unwrap(),
        "--asset",
        "data",
        "--plan",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["shape"], json!([3, 1, 4, 4]));
}

/// `cube -o X.nc` writes one NetCDF file and prints the summary naming
/// it; folder-only flags (`--cog`, `--preview`) and a missing parent
/// folder are refused before any work, writing nothing.
#[test]
fn cube_to_netcdf_writes_one_file_and_refuses_folder_flags() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t0.tif");
    Dataset::create_from_array(
        &Array2::from_elem((4, 4), 7u16),
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&p)
    .unwrap();
    let item = json!({"id": "t0", "bbox": [0.0, 0.0, 1.0, 1.0],
        "properties": {"datetime": "2021-06-01T10:00:00Z"},
        "assets": {"data": {"href": p.to_string_lossy()}}});
    let items = dir.path().join("items.json");
    std::fs::write(&items, item.to_string()).unwrap();
    let items = items.to_str().unwrap();
    let nc = dir.path().join("cube.nc");
    let nc = nc.to_str().unwrap();
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    for (flags, says) in [
        (vec!["--cog"], "--cog"),
        (vec!["--preview", "look.png"], "--preview"),
    ] {
        let o = stac_gdal(&[&["cube", items, "--asset", "data", "-o", nc][..], &flags].concat());
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains(says));
        assert_eq!(listing(), ["items.json", "t0.tif"]);
    }
    let missing = dir.path().join("no/such/cube.nc");
    let o = stac_gdal(&[
        "cube",
        items,
        "--asset",
        "data",
        "-o",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(listing(), ["items.json", "t0.tif"]);

    let o = stac_gdal(&["cube", items, "--asset", "data", "-q", "-o", nc]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["files"], json!([nc]));
    assert_eq!(summary["shape"], json!([1, 1, 4, 4]));
    assert_eq!(listing(), ["cube.nc", "items.json", "t0.tif"]);
    let back = Dataset::open(&format!("NETCDF:\"{nc}\":data")).unwrap();
    assert!(back.read_array::<u16>().unwrap().iter().all(|&v| v == 7));
}
