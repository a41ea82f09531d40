//! The Zarr writer from the library: a loaded cube writes the store its
//! plan writes (byte for byte), chunk contents are the cube's pixels, and
//! stores that are not this cube's are refused.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::Array2;
use serde_json::{Value, json};
use stac_cube::zarr::{Codec, Part, ZarrOptions};
use stac_cube::{CubeOptions, DatasetCollection, GroupBy};
use stac_raster::{Dataset, GridSpec};

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Three items, two on the same day (a mosaic when grouped), 40 x 50 px.
fn items(dir: &Path) -> Vec<Value> {
    (0..3)
        .map(|k| {
            let a = Array2::from_shape_fn((40, 50), |(r, c)| {
                if (r + c + k) % 11 == 0 {
                    0
                } else {
                    (r * 50 + c + 1000 * k) as u16
                }
            });
            let p = dir.join(format!("s{k}.tif"));
            Dataset::create_from_array(
                &a,
                &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
                Some(0.0),
            )
            .unwrap()
            .to_file(&p)
            .unwrap();
            json!({"id": format!("s{k}"), "bbox": [0.0, 0.0, 1.0, 1.0],
                   "properties": {"datetime": format!("2021-06-0{}T10:0{k}:00Z", 1 + k / 2)},
                   "assets": {"B04": {"href": p.to_str().unwrap(),
                       "raster:bands": [{"data_type": "uint16", "nodata": 0}]}}})
        })
        .collect()
}

#[test]
fn a_loaded_cube_writes_the_store_its_plan_writes() {
    let dir = tempfile::tempdir().unwrap();
    let items = items(dir.path());
    let opts = CubeOptions::default().with_groupby(GroupBy::SolarDay);
    let plan = DatasetCollection::plan(&items, &["B04"], &opts).unwrap();
    let z = ZarrOptions::default().with_chunks([1, 16, 32]);
    let a = plan.to_zarr(dir.path().join("plan.zarr"), &z).unwrap();
    assert!(a.finalized);
    assert_eq!(a.units_total, 2 * 3 * 2);
    let cube = plan.load().unwrap();
    let b = cube.to_zarr(dir.path().join("cube.zarr"), &z).unwrap();
    assert_eq!(a.units_written, b.units_written);
    assert_eq!(
        files(&dir.path().join("plan.zarr")),
        files(&dir.path().join("cube.zarr"))
    );
    // Chunk 1.2.1 of B04 (timestep 1, rows 32..48, cols 32..64) holds the
    // cube's pixels, padded with nodata past the 40 x 50 grid.
    let z = std::fs::read(dir.path().join("cube.zarr/B04/1.2.1")).unwrap();
    let raw = zstd::bulk::decompress(&z, 16 * 32 * 2).unwrap();
    let px: Vec<u16> = raw
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let want = cube.read_array::<u16>();
    for r in 0..16 {
        for c in 0..32 {
            let v = if 32 + r < 40 && 32 + c < 50 {
                want[[1, 0, 32 + r, 32 + c]]
            } else {
                0
            };
            assert_eq!(px[r * 32 + c], v, "({r}, {c})");
        }
    }
}

#[test]
fn parts_finalize_once_every_unit_is_there_and_foreign_stores_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let items = items(dir.path());
    let plan = DatasetCollection::plan(&items, &["B04"], &CubeOptions::default()).unwrap();
    let store = dir.path().join("parts.zarr");
    let z = ZarrOptions::default()
        .with_chunks([1, 16, 16])
        .with_codec(Codec::None);
    let first = plan
        .to_zarr(&store, &z.clone().with_part(Part::new(1, 2).unwrap()))
        .unwrap();
    assert!(!first.finalized);
    assert!(!store.join(".zmetadata").exists() && !store.join(".zgroup").exists());
    let local = stac_cube::zarr::LocalStore::new(&store);
    let err = plan.finalize_zarr(&local, &z).unwrap_err().to_string();
    assert!(err.contains("units are not written yet"), "{err}");
    let second = plan
        .to_zarr(&store, &z.clone().with_part(Part::new(2, 2).unwrap()))
        .unwrap();
    assert!(second.finalized);
    assert_eq!(
        first.units_written + second.units_written,
        first.units_total
    );
    assert!(plan.finalize_zarr(&local, &z).unwrap());
    // Uncompressed chunks are the raw little-endian pixels.
    let raw = std::fs::read(store.join("B04/2.0.0")).unwrap();
    assert_eq!(raw.len(), 16 * 16 * 2);
    // Another chunking into the same store: refused.
    let err = plan
        .to_zarr(&store, &ZarrOptions::default().with_chunks([1, 8, 8]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds another cube"), "{err}");
    // A folder with someone's files: refused, untouched.
    let foreign = dir.path().join("foreign.zarr");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), b"mine").unwrap();
    let err = plan.to_zarr(&foreign, &z).unwrap_err().to_string();
    assert!(err.contains("not started by stac-gdal"), "{err}");
    assert_eq!(files(&foreign).len(), 1);
}
