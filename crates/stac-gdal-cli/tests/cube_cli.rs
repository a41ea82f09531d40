//! `stac-gdal cube` as a user runs it: generated rasters, a real process.

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
