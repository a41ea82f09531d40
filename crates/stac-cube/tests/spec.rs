//! `CubeSpec`: a cube request as JSON. A pinned spec re-planned from its
//! JSON, whole or as subsets of timesteps and bands, loads exactly the
//! pixels of the original plan (what each Dask task of `stac_gdal` does).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use ndarray::{Array2, s};
use serde_json::{Value, json};
use stac_cube::{CubeOptions, CubeSpec, DatasetCollection, Fusion, Grid};
use stac_meta::GroupBy;
use stac_raster::{Dataset, GridSpec};

/// Two days x two overlapping tiles (10 m B04 and 20 m B05), values that
/// differ per scene and a nodata stripe on the west tile.
fn items(dir: &std::path::Path) -> Vec<Value> {
    let mut out = Vec::new();
    for (day, date) in ["2023-06-01", "2023-06-04"].iter().enumerate() {
        for (tile, x0) in [(0, 600000.0), (1, 600160.0)] {
            let id = format!("d{day}-t{tile}");
            let mut assets = serde_json::Map::new();
            for (key, cell, n) in [("B04", 10.0, 32), ("B05", 20.0, 16)] {
                let mut a = Array2::from_shape_fn((n, n), |(r, c)| {
                    (100 * (day + 1) + 10 * tile + (r + c) % 7 + 1) as u16
                });
                if tile == 0 {
                    a.slice_mut(s![.., n - n / 4..]).fill(0);
                }
                let p = dir.join(format!("{id}_{key}.tif"));
                Dataset::create_from_array(
                    &a,
                    &GridSpec::north_up([x0, 5300000.0], cell, 32630),
                    Some(0.0),
                )
                .unwrap()
                .to_file(&p)
                .unwrap();
                assets.insert(
                    key.into(),
                    json!({"href": p.to_string_lossy(), "proj:epsg": 32630, "proj:shape": [n, n],
                           "proj:transform": [cell, 0.0, x0, 0.0, -cell, 5300000.0],
                           "raster:bands": [{"data_type": "uint16", "nodata": 0}]}),
                );
            }
            out.push(json!({"id": id, "bbox": [-3.0, 47.0, -2.9, 47.1],
                "properties": {"datetime": format!("{date}T10:{:02}:00Z", tile)},
                "assets": assets}));
        }
    }
    out
}

#[test]
fn a_pinned_spec_from_json_loads_the_same_pixels_whole_and_by_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let items = items(dir.path());
    let options = CubeOptions::default()
        .with_groupby(GroupBy::SolarDay)
        .with_fusion(Fusion::First)
        .with_grid(Grid::default().with_resolution(10.0));
    let whole = DatasetCollection::from_stac(&items, &["B04", "B05"], &options).unwrap();

    let spec = CubeSpec::from_options(items.clone(), &["B04", "B05"], &options).unwrap();
    let mut plan = spec.plan_with(&spec.options().unwrap()).unwrap();
    let pinned = spec.pinned(&mut plan).unwrap();
    let back = CubeSpec::from_json(&pinned.to_json()).unwrap();
    assert_eq!(back, pinned);
    assert!(back.options.grid.is_some());
    assert_eq!(back.options.dtype.as_deref(), Some("uint16"));
    assert_eq!(back.options.nodata, Some(0.0));

    let again = back
        .plan_with(&back.options().unwrap())
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(again.data(), whole.data());
    assert_eq!(again.grid(), whole.grid());

    // Every (timestep, band, window) chunk, planned from only its items
    // and band, equals that part of the whole cube.
    let expected = whole.read_array::<u16>();
    let timesteps = plan.timesteps().to_vec();
    let (nt, nb, _, _) = whole.shape();
    assert_eq!((nt, nb), (2, 2));
    for t in 0..nt {
        for b in 0..nb {
            let sub = back.subset(&timesteps, t..t + 1, &[b]).unwrap();
            assert!(sub.items.len() == 2 && sub.assets.len() == 1);
            let p = sub.plan_with(&sub.options().unwrap()).unwrap();
            for w in p.windows(13, 11) {
                let got = p.load_window(w).unwrap().read_array::<u16>();
                let want = expected.slice(s![
                    t..t + 1,
                    b..b + 1,
                    w.row_off..w.row_off + w.rows,
                    w.col_off..w.col_off + w.cols
                ]);
                assert_eq!(got.view(), want, "t {t} b {b} {w:?}");
            }
        }
    }
}

#[test]
fn what_is_not_data_is_refused_and_bad_json_is_a_typed_error() {
    let items = vec![json!({"id": "a", "assets": {"B": {"href": "a.tif"}}})];
    let custom = CubeOptions::default().with_fusion(Fusion::custom(|_, _| {}));
    let e = CubeSpec::from_options(items.clone(), &["B"], &custom).unwrap_err();
    assert!(e.to_string().contains("fusion"), "{e}");
    let e = CubeSpec::from_json(r#"{"items": [], "assets": ["B"], "optoins": {}}"#).unwrap_err();
    assert!(e.to_string().contains("optoins"), "{e}");
    let spec =
        CubeSpec::from_json(r#"{"items": [], "assets": ["B"], "options": {"fusion": "avg"}}"#)
            .unwrap();
    assert!(spec.options().unwrap_err().to_string().contains("avg"));
    let spec = CubeSpec::from_json(
        r#"{"items": [], "assets": ["B"], "options": {"resolution": [-1, 10]}}"#,
    )
    .unwrap();
    assert!(
        spec.options()
            .unwrap_err()
            .to_string()
            .contains("resolution")
    );
}

#[test]
fn per_asset_nodata_is_data_and_loads_as_the_options_do() {
    let dir = tempfile::tempdir().unwrap();
    let items = items(dir.path());
    // 101 is a real value of day 0, tile 0 (where (r + c) % 7 == 0); the
    // cube's own nodata stays 0.
    let options = CubeOptions::default()
        .asset("B04", stac_cube::AssetOptions::default().nodata(101.0))
        .nodata(0.0)
        .grid(Grid::default().resolution(10.0));
    let direct = DatasetCollection::from_stac(&items, &["B04", "B05"], &options).unwrap();
    let spec = CubeSpec::from_options(items.clone(), &["B04", "B05"], &options).unwrap();
    let text = spec.to_json();
    assert!(text.contains(r#""asset_nodata":{"B04":101.0}"#), "{text}");
    let back = CubeSpec::from_json(&text).unwrap();
    let mut plan = back.plan_with(&back.options().unwrap()).unwrap();
    let pinned = back.pinned(&mut plan).unwrap();
    let again = CubeSpec::from_json(&pinned.to_json())
        .unwrap()
        .plan_with(&pinned.options().unwrap())
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(again.data(), direct.data());
    // The override took effect on B04 only: its 101 pixels are gone.
    let without = DatasetCollection::from_stac(
        &items,
        &["B04", "B05"],
        &CubeOptions::default()
            .nodata(0.0)
            .grid(Grid::default().resolution(10.0)),
    )
    .unwrap()
    .read_array::<u16>();
    let with = again.read_array::<u16>();
    let b04 = |a: &ndarray::Array4<u16>, v: u16| {
        a.slice(s![.., 0, .., ..])
            .iter()
            .filter(|&&x| x == v)
            .count()
    };
    assert!(b04(&without, 101) > 0);
    assert_eq!(b04(&with, 101), 0);
    assert_eq!(
        with.slice(s![.., 1, .., ..]),
        without.slice(s![.., 1, .., ..])
    );
}
