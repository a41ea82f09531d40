//! The write limit of the Zarr benchmark (`cargo xtask bench
//! stac-cube-zarr`): load a cube into memory, then time only
//! [`DatasetCollection::write_zarr`] of that in-memory array (chunk
//! encoding, zstd, files, metadata) — what `stac-gdal cube -o X.zarr` would
//! spend if loading were free.
//!
//! `zarr_write_limit ITEMS.json OUT.zarr THREADS MINX,MINY,MAXX,MAXY T,Y,X
//! ASSET...` plans the items' assets on the grid of those bounds (10 m,
//! every item its own timestep, as `stac-gdal cube --groupby none
//! --bounds ...`), loads it with THREADS threads, writes it to OUT.zarr
//! with chunks `T,Y,X`, the default codec (zstd level 1) and THREADS
//! threads, and prints
//! `{"load_seconds", "write_seconds", "shape", "units", "bytes_written"}`.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::time::Instant;

use stac_cube::zarr::{Codec, LocalStore, ZarrOptions};
use stac_cube::{CubeOptions, DatasetCollection, Grid, GroupBy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage =
        "usage: zarr_write_limit ITEMS.json OUT.zarr THREADS MINX,MINY,MAXX,MAXY T,Y,X ASSET...";
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 6 {
        return Err(usage.into());
    }
    let text = std::fs::read_to_string(&args[0]).map_err(|e| format!("{}: {e}", args[0]))?;
    let doc: serde_json::Value = serde_json::from_str(&text)?;
    let items = doc["features"]
        .as_array()
        .ok_or("ITEMS.json: no features")?;
    let threads: usize = args[2].parse()?;
    let nums = |s: &str| -> Result<Vec<f64>, std::num::ParseFloatError> {
        s.split(',').map(str::parse).collect()
    };
    let bounds = <[f64; 4]>::try_from(nums(&args[3])?).map_err(|_| usage)?;
    let chunks: Vec<usize> = args[4]
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let chunks = <[usize; 3]>::try_from(chunks).map_err(|_| usage)?;
    let assets: Vec<&str> = args[5..].iter().map(String::as_str).collect();

    let options = CubeOptions::default()
        .with_grid(Grid::default().with_resolution(10.0).with_bounds(bounds))
        .with_groupby(GroupBy::parse("none"))
        .with_threads(threads);
    let start = Instant::now();
    let cube = DatasetCollection::plan(items, &assets, &options)?.load()?;
    let load_seconds = start.elapsed().as_secs_f64();

    let zarr = ZarrOptions::default()
        .with_chunks(chunks)
        .with_codec(Codec::default())
        .with_threads(threads);
    let start = Instant::now();
    let report = cube.write_zarr(&LocalStore::new(&args[1]), &zarr)?;
    let write_seconds = start.elapsed().as_secs_f64();
    if !report.finalized {
        return Err("the store was not finalized".into());
    }
    let (t, b, y, x) = cube.shape();
    let out = serde_json::json!({
        "load_seconds": load_seconds,
        "write_seconds": write_seconds,
        "shape": [t, b, y, x],
        "units": report.units_written,
        "bytes_written": report.bytes_written,
    });
    println!("{out}");
    Ok(())
}
