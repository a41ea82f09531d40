//! `stac-gdal cube -o X.nc` opened by xarray equals `odc.stac.load(...)` on
//! the same items (issue 19): a time stack, a solar-day mosaic, mixed
//! resolutions (10 m + 20 m) and a multi-band asset, generated as real
//! GeoTIFFs with their STAC items by `tests/python/cube_vs_odc.py` in the
//! `cube-peers` venv (odc-stac, xarray, netCDF4: the real packages).
//!
//! For each case the CLI runs exactly as the tutorial shows it
//! (`docs/tutorial.md`, "Cubes as xarray datasets"), then the script opens
//! the file with `xarray.open_dataset(path, decode_coords="all")` (and
//! plainly) and compares with odc-stac: every data variable pixel for pixel
//! and its type, the `time`, `y` and `x` values, the CRS (`ds.odc.crs`) and
//! geobox, nodata, and the per-timestep item ids. GDAL's own tools open the
//! same file classically (`gdalinfo NETCDF:"file":band`, georeferenced)
//! and through the multidimensional API (`gdalmdiminfo`).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use stac_gdal_e2e::{repo_root, stac_gdal_bin, venv_bin};

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The tutorial's command: `stac-gdal cube ITEMS --asset A,B [--groupby G] -o X.nc`.
fn cube_to_netcdf(items: &Path, assets: &[String], groupby: Option<&str>, out: &Path) -> Value {
    let mut cmd = Command::new(stac_gdal_bin());
    cmd.arg("cube")
        .arg(items)
        .args(["--asset", &assets.join(",")]);
    if let Some(g) = groupby {
        cmd.args(["--groupby", g]);
    }
    cmd.arg("-o").arg(out);
    serde_json::from_str(&run(&mut cmd, "stac-gdal cube -o X.nc")).unwrap()
}

#[test]
fn netcdf_cubes_open_in_xarray_as_odc_stac_loads_them_and_in_gdal() {
    let work = tempfile::tempdir().unwrap();
    let python = venv_bin("cube-peers", "python");
    let script = repo_root().join("tests/python/cube_vs_odc.py");
    let cases: Value = serde_json::from_str(&run(
        Command::new(&python)
            .arg(&script)
            .arg("generate")
            .arg(work.path()),
        "generate the fixtures",
    ))
    .unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let items = Path::new(case["items"].as_str().unwrap());
        let groupby = case["groupby"].as_str();
        let odc_bands = strings(&case["odc_bands"]);
        let out = work.path().join(format!("{name}.nc"));
        let summary = cube_to_netcdf(items, &strings(&case["assets"]), groupby, &out);
        assert_eq!(
            summary["files"],
            serde_json::json!([out.display().to_string()])
        );
        assert_eq!(strings(&summary["bands"]), odc_bands, "{name}");

        let mut check = Command::new(&python);
        check
            .arg(&script)
            .args(["check", name])
            .arg(items)
            .arg(&out)
            .arg(odc_bands.join(","));
        if let Some(g) = groupby {
            check.arg(g);
        }
        let report: Value = serde_json::from_str(&run(&mut check, name)).unwrap();
        assert_eq!(report["ok"], true, "{name}: {:#}", report["problems"]);
        assert_eq!(report["checked"]["crs"], 32632, "{name}");
        eprintln!("{name}: {}", report["checked"]["stac_items"]);

        // GDAL, classic: the band is a georeferenced raster, one band per timestep.
        let info = run(
            Command::new("gdalinfo").arg(format!("NETCDF:\"{}\":{}", out.display(), odc_bands[0])),
            "gdalinfo",
        );
        assert!(
            info.contains("Origin = (399960.000000000000000,5300040.000000000000000)"),
            "{name}: {info}"
        );
        assert!(info.contains("Pixel Size = (10.000000000000000,-10.000000000000000)"));
        assert!(info.contains("ID[\"EPSG\",32632]"), "{name}");
        let timesteps = summary["shape"][0].as_u64().unwrap();
        assert_eq!(info.matches("NETCDF_DIM_time=").count() as u64, timesteps);
        // GDAL, multidimensional: dimensions and one array per band.
        let md: Value =
            serde_json::from_str(&run(Command::new("gdalmdiminfo").arg(&out), "gdalmdiminfo"))
                .unwrap();
        let dims: Vec<(&str, u64)> = md["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["name"].as_str().unwrap(), d["size"].as_u64().unwrap()))
            .collect();
        let shape = &summary["shape"];
        assert_eq!(
            dims,
            [
                ("time", timesteps),
                ("y", shape[2].as_u64().unwrap()),
                ("x", shape[3].as_u64().unwrap())
            ],
            "{name}"
        );
        for b in &odc_bands {
            assert_eq!(
                md["arrays"][b]["dimensions"],
                serde_json::json!(["/time", "/y", "/x"]),
                "{name}: {b}"
            );
        }
    }
}
