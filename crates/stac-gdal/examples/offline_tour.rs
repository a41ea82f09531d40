//! The seed notebook ("STAC with pyramids (offline)") in Rust, cell by cell.
//!
//! Run with `cargo xtask tour`. Everything is offline: the tour builds small
//! rasters in a temp workspace and wraps them as raw STAC item JSON. Each
//! cell prints `[N] <value>` in the notation the Python notebook printed
//! (tuples, lists, dicts), so the output can be compared line by line with
//! the reference (`tests/tour.rs` does exactly that). After the cells it
//! writes a quick-look PNG of the solar-day cube and prints
//! `[quicklook] <path>`.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::cube::{CubeOptions, DatasetCollection, GroupBy, QuicklookOptions};
use stac_gdal::raster::{Dataset, GridSpec, ItemOptions};
use stac_gdal::signers::HostList;
use stac_gdal::{
    AwsRequesterPaysSigner, BearerTokenSigner, GdalEnv, PlanetaryComputerSigner, Signer,
    VrtOptions, build_vrt_from_stac, from_geoparquet, read_extension_metadata, resolved_href,
    to_geoparquet, which_engine,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Write a constant uint16 EPSG:32630 raster (nodata 0) and return its path.
fn write_band(
    work: &Path,
    name: &str,
    value: u16,
    cell: f64,
    shape: (usize, usize),
    top_left: [f64; 2],
) -> Result<String> {
    let path: PathBuf = work.join(format!("{name}.tif"));
    Dataset::create_from_array(
        &Array2::from_elem(shape, value),
        &GridSpec::north_up(top_left, cell, 32630),
        Some(0.0),
    )?
    .to_file(&path)?;
    Ok(path.display().to_string())
}

/// A GDAL env as the Python dict repr: `{'K': 'V', ...}` (values shown: this is a tour).
fn env_repr(env: &GdalEnv) -> String {
    let parts: Vec<String> = env.iter().map(|(k, v)| format!("'{k}': '{v}'")).collect();
    format!("{{{}}}", parts.join(", "))
}

fn py_list<T: std::fmt::Display>(values: &[T]) -> String {
    let parts: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn py_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn main() -> Result<()> {
    // ── Setup: a temp workspace and two small rasters standing in for assets ──
    let work = tempfile::Builder::new()
        .prefix("stac_gdal_tour_")
        .tempdir()?;
    let w = work.path();
    let b04 = write_band(w, "B04", 1, 10.0, (4, 4), [600000.0, 5300000.0])?;
    let b05 = write_band(w, "B05", 2, 20.0, (2, 2), [600000.0, 5300000.0])?;
    let items = json!([{"id": "scene-0", "bbox": [0.0, 0.0, 1.0, 1.0],
        "assets": {"B04": {"href": b04}, "B05": {"href": b05}}}]);
    println!("[1] workspace: {}", w.display());

    // ── Read extension metadata without opening the file ─────────────────────
    let item_md = json!({
        "properties": {"proj:epsg": 32633},
        "assets": {"B04": {
            "href": "s3://bucket/B04.tif",
            "proj:shape": [10980, 10980],
            "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0],
            "raster:bands": [{"nodata": 0, "scale": 0.0001}],
            "eo:bands": [{"name": "B04", "common_name": "red"}],
        }},
    });
    let meta = read_extension_metadata(&item_md, Some("B04"))?;
    let gt = meta.geotransform.ok_or("the item carries proj:transform")?;
    let shape = meta.shape.ok_or("the item carries proj:shape")?;
    let names: Vec<String> = meta
        .band_names
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|n| format!("'{n}'"))
        .collect();
    println!(
        "[2] {{'crs': '{}', 'geotransform': ({}), 'shape': {}, 'band_names': {}}}",
        meta.crs.as_deref().unwrap_or("None"),
        gt.iter()
            .map(|v| py_float(*v))
            .collect::<Vec<_>>()
            .join(", "),
        py_list(&shape),
        py_list(&names),
    );

    // ── Build a cube: which_engine previews the reader without opening ────────
    println!("[3] {}", which_engine(&items[0], Some("B04"))?);
    let items_vec = items.as_array().ok_or("items is a JSON array")?.clone();
    // single asset -> time stack
    let single = DatasetCollection::from_stac(&items_vec, &["B04"], &CubeOptions::default())?;
    println!(
        "[4] ({}, {})",
        single.time_length(),
        single.datasets()?[0].band_count()
    );
    // multiple assets -> band axis; align resamples the 20 m B05 onto B04's 10 m grid
    let cube = DatasetCollection::from_stac(
        &items_vec,
        &["B04", "B05"],
        &CubeOptions::default().with_align(true),
    )?;
    let ds0 = &cube.datasets()?[0];
    let (b, r, c) = ds0.read_array::<u16>()?.dim();
    let band_names: Vec<String> = ds0.band_names().iter().map(|n| format!("'{n}'")).collect();
    println!(
        "[5] ({}, {}, ({b}, {r}, {c}))",
        ds0.band_count(),
        py_list(&band_names)
    );

    // ── Mosaic same-overpass tiles: groupby solar_day (first valid wins) ─────
    let scene = |name: &str, value: u16, when: &str| -> Result<Value> {
        let path = write_band(w, name, value, 10.0, (4, 4), [600000.0, 5300000.0])?;
        Ok(json!({"id": name, "bbox": [0.0, 0.0, 1.0, 1.0],
            "properties": {"datetime": when}, "assets": {"data": {"href": path}}}))
    };
    let day_items = vec![
        scene("t0", 1, "2021-06-01T10:00:00Z")?,
        scene("t1", 2, "2021-06-01T10:00:30Z")?, // same solar day as t0
        scene("t2", 3, "2021-06-05T10:00:00Z")?,
    ];
    let daily = DatasetCollection::from_stac(
        &day_items,
        &["data"],
        &CubeOptions::default().with_groupby(GroupBy::SolarDay),
    )?;
    println!("[6] {}", daily.time_length());

    // ── Write a raster back out as a STAC Item ────────────────────────────────
    let item = Dataset::open(&b04)?.to_stac_item(
        "scene-0",
        &ItemOptions::new(&b04)
            .with_media_type("image/tiff; application=geotiff")
            .with_datetime("2021-06-01T00:00:00Z"),
    )?;
    let bbox: Vec<String> = item["bbox"]
        .as_array()
        .ok_or("to_stac_item writes a bbox")?
        .iter()
        .map(|c| format!("{}", (c.as_f64().unwrap_or(f64::NAN) * 1e4).round() / 1e4))
        .collect();
    println!(
        "[7] ('{}', [{}])",
        item["properties"]["proj:code"].as_str().unwrap_or("None"),
        bbox.join(", ")
    );

    // ── Serialize items <-> GeoParquet ────────────────────────────────────────
    let pq = w.join("catalog.parquet");
    to_geoparquet(std::slice::from_ref(&item), &pq, &Default::default())?;
    let restored: Vec<Value> = from_geoparquet(&pq)?;
    println!(
        "[8] round-trip id: {} | proj:code: {}",
        restored[0]["id"].as_str().unwrap_or("?"),
        restored[0]["properties"]["proj:code"]
            .as_str()
            .unwrap_or("?")
    );

    // ── Mosaic an asset across items: build_vrt_from_stac ────────────────────
    let a = write_band(w, "tileA", 10, 10.0, (4, 4), [600000.0, 5300000.0])?;
    let b = write_band(w, "tileB", 20, 10.0, (4, 4), [600040.0, 5300000.0])?; // abuts tileA to the east
    let mosaic_items =
        json!([{"assets": {"data": {"href": a}}}, {"assets": {"data": {"href": b}}}]);
    let vrt = build_vrt_from_stac(
        mosaic_items.as_array().ok_or("array")?,
        "data",
        &VrtOptions::default(),
    )?;
    let arr = vrt.open()?.read_array::<u16>()?; // (bands, rows, cols)
    let (rows, cols) = (arr.shape()[1], arr.shape()[2]);
    println!(
        "[9] (({rows}, {cols}), {}, {})",
        arr[[0, 0, 0]],
        arr[[0, 0, cols - 1]]
    );

    // ── Signers (offline) ─────────────────────────────────────────────────────
    println!(
        "[10] {}",
        env_repr(
            &AwsRequesterPaysSigner::new(Some("us-west-2"))
                .gdal_env_for("s3://bucket/scene.tif")?
        )
    );
    println!(
        "[11] {}",
        env_repr(
            &BearerTokenSigner::new("demo-token")
                .with_hosts(HostList::new(["example.com"]))
                .gdal_env_for("https://example.com/scene.tif")?
        )
    );
    let pc = PlanetaryComputerSigner::new();
    println!(
        "[12] ('{}', {})",
        pc.sign_href("https://example.com/scene.tif")?,
        env_repr(&pc.gdal_env_for("https://example.com/scene.tif")?)
    );

    // ── resolved_href returns the (optionally signed) href without opening ────
    println!("[13] {}", resolved_href(&items[0], Some("B04"), None)?);

    // ── A quick-look of the first solar day (percentile stretch, PNG) ────────
    let look = daily.write_quicklook(0, w.join("daily-0.png"), &QuicklookOptions::default())?;
    println!("[quicklook] {}", look.display());
    // Keep the workspace so the files can be looked at.
    let _kept: PathBuf = work.keep();
    Ok(())
}
