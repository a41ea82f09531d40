//! The seed notebook ("STAC with pyramids (offline)") in Rust, cell by cell.
//!
//! Run with `cargo xtask tour`. Everything is offline: the tour builds a temp
//! workspace and wraps local files as raw STAC item JSON. Cells print the
//! values the Python library printed (see docs/tutorial.md). Cells whose
//! capability has not landed yet say so instead of printing.

use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ── Setup ────────────────────────────────────────────────────────────────
    let work = std::env::temp_dir().join(format!("stac_gdal_tour_{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let b04 = work.join("B04.tif").display().to_string();
    let b05 = work.join("B05.tif").display().to_string();
    let items = json!([{"id": "scene-0", "bbox": [0.0, 0.0, 1.0, 1.0],
        "assets": {"B04": {"href": b04}, "B05": {"href": b05}}}]);
    println!("workspace: {}", work.display());

    // ── Read extension metadata without opening the file ──────────────────────
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
    let meta = stac_gdal::read_extension_metadata(&item_md, Some("B04"))?;
    let gt = meta.geotransform.expect("the item carries proj:transform");
    println!(
        "{{'crs': '{}', 'geotransform': ({:?}, {:?}, {:?}, {:?}, {:?}, {:?}), 'shape': {:?}, 'band_names': {:?}}}",
        meta.crs.as_deref().unwrap_or("None"),
        gt[0],
        gt[1],
        gt[2],
        gt[3],
        gt[4],
        gt[5],
        meta.shape.expect("the item carries proj:shape"),
        meta.band_names.clone().unwrap_or_default(),
    );

    // ── Build a cube: which_engine previews the reader without opening ────────
    println!("{}", stac_gdal::which_engine(&items[0], Some("B04"))?);

    // ── resolved_href returns the (optionally signed) href without opening ────
    #[cfg(feature = "signers")]
    println!(
        "{}",
        stac_gdal::resolved_href(&items[0], Some("B04"), None)?
    );

    std::fs::remove_dir_all(&work)?;
    Ok(())
}
