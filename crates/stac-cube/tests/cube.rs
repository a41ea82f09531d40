//! DatasetCollection::from_stac on generated rasters: the seed cells, every
//! fusion method pixel by pixel, alignment, failures, time order, grids.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array2, Array3, Axis};
use serde_json::{Value, json};
use stac_cube::{
    CubeError, CubeOptions, DatasetCollection, Fusion, Grid, GroupBy, QuicklookOptions, Resampling,
    TimeOrder, Window,
};
use stac_raster::{Crs, Dataset, GridSpec};

struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// The seed's write_band: constant uint16 EPSG:32630, nodata 0.
    fn band(
        &self,
        name: &str,
        value: u16,
        cell: f64,
        shape: (usize, usize),
        top_left: (f64, f64),
    ) -> String {
        self.raster(
            name,
            &Array2::from_elem(shape, value),
            cell,
            top_left,
            32630,
            Some(0.0),
        )
    }
    fn raster<T: stac_raster::Pixel>(
        &self,
        name: &str,
        arr: &Array2<T>,
        cell: f64,
        top_left: (f64, f64),
        epsg: u32,
        nodata: Option<f64>,
    ) -> String {
        let p = self.path(&format!("{name}.tif"));
        Dataset::create_from_array(
            arr,
            &GridSpec::north_up([top_left.0, top_left.1], cell, epsg),
            nodata,
        )
        .unwrap()
        .to_file(&p)
        .unwrap();
        p.to_string_lossy().into_owned()
    }
}

fn scene(id: &str, href: &str, when: &str) -> Value {
    json!({"id": id, "bbox": [0.0, 0.0, 1.0, 1.0], "properties": {"datetime": when},
           "assets": {"data": {"href": href}}})
}

const TL: (f64, f64) = (600000.0, 5300000.0);

#[test]
fn seed_cell_4_single_asset_time_stack() {
    let w = Work::new();
    let b04 = w.band("B04", 1, 10.0, (4, 4), TL);
    let b05 = w.band("B05", 2, 20.0, (2, 2), TL);
    let items = vec![json!({"id": "scene-0", "bbox": [0.0, 0.0, 1.0, 1.0],
        "assets": {"B04": {"href": b04}, "B05": {"href": b05}}})];
    let single = DatasetCollection::from_stac(&items, &["B04"], &CubeOptions::default()).unwrap();
    assert_eq!(
        (
            single.time_length(),
            single.datasets().unwrap()[0].band_count()
        ),
        (1, 1)
    );
    assert_eq!(single.shape(), (1, 1, 4, 4));
    assert_eq!(single.crs().epsg(), Some(32630));
    assert_eq!(
        single.geotransform(),
        [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0]
    );
    assert!(single.read_array::<u16>().iter().all(|&v| v == 1));
    // No proj:* on the items: the two files were opened for their grids.
    assert_eq!(single.grid_report().opened, 1);
}

#[test]
fn seed_cell_5_multi_asset_align_resamples_20m_onto_10m() {
    let w = Work::new();
    let b04 = w.band("B04", 1, 10.0, (4, 4), TL);
    let b05 = w.band("B05", 2, 20.0, (2, 2), TL);
    let items = vec![json!({"id": "scene-0", "bbox": [0.0, 0.0, 1.0, 1.0],
        "assets": {"B04": {"href": b04}, "B05": {"href": b05}}})];
    let cube = DatasetCollection::from_stac(
        &items,
        &["B04", "B05"],
        &CubeOptions::default().with_align(true),
    )
    .unwrap();
    let ds0 = &cube.datasets().unwrap()[0];
    assert_eq!(ds0.band_count(), 2);
    assert_eq!(ds0.band_names(), ["B04", "B05"]);
    assert_eq!(ds0.read_array::<u16>().unwrap().dim(), (2, 4, 4));
    assert_eq!(ds0.nodata(), vec![Some(0.0), Some(0.0)]);
    let arr = cube.read_array::<u16>();
    assert!(arr.index_axis(Axis(1), 0).iter().all(|&v| v == 1));
    assert!(arr.index_axis(Axis(1), 1).iter().all(|&v| v == 2));
}

#[test]
fn seed_cell_6_solar_day_first_valid_mosaic() {
    let w = Work::new();
    let items = vec![
        scene(
            "t0",
            &w.band("t0", 1, 10.0, (4, 4), TL),
            "2021-06-01T10:00:00Z",
        ),
        scene(
            "t1",
            &w.band("t1", 2, 10.0, (4, 4), TL),
            "2021-06-01T10:00:30Z",
        ),
        scene(
            "t2",
            &w.band("t2", 3, 10.0, (4, 4), TL),
            "2021-06-05T10:00:00Z",
        ),
    ];
    let daily = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_groupby(GroupBy::SolarDay),
    )
    .unwrap();
    assert_eq!(daily.time_length(), 2);
    assert_eq!(daily.time_labels(), ["2021-06-01", "2021-06-05"]);
    assert_eq!(daily.timesteps()[0].items, ["t0", "t1"]);
    let arr = daily.read_array::<u16>();
    assert_eq!([arr[[0, 0, 0, 0]], arr[[1, 0, 0, 0]]], [1, 3]);
}

/// uint16 tiles whose assets declare nodata 0 (the cube's fill): the
/// mosaic path without per-pixel flags. Tiles overlap in rows and columns
/// with holes, one at 20 m, one stored as int16 (fused through the
/// converting path, which needs flags again) and, with `odd`, one whose
/// nodata is 7 (the block falls back to flags). First and last valid must
/// equal a closure fusion over float64 planes (an independent path), for
/// blocks of a few rows and of the whole grid.
fn by_fill_items(w: &Work, odd: bool) -> Vec<Value> {
    let tile = |k: usize, rows: usize, cols: usize| {
        Array2::from_shape_fn((rows, cols), move |(r, c)| {
            if (r * 3 + c + k) % 5 == 0 || (k == 1 && c < 3) {
                0u16
            } else {
                (100 * (k + 1) + r * cols + c) as u16
            }
        })
    };
    let mut items = Vec::new();
    // (id, cell, rows, cols, east, south in 10 m pixels, nodata)
    let layout: [(usize, f64, usize, usize, usize, usize, f64); 5] = [
        (0, 10.0, 12, 16, 0, 0, 0.0),
        (1, 10.0, 12, 16, 6, 4, 0.0),
        (2, 20.0, 5, 6, 2, 8, 0.0),
        (3, 10.0, 10, 10, 10, 0, 0.0),
        (4, 10.0, 9, 12, 0, 9, if odd { 7.0 } else { 0.0 }),
    ];
    for (k, cell, rows, cols, east, south, nd) in layout {
        let tl = (TL.0 + 10.0 * east as f64, TL.1 - 10.0 * south as f64);
        let name = format!("bf{k}{}", u8::from(odd));
        let href = if k == 3 {
            let a = tile(k, rows, cols).mapv(|v| v as i16);
            w.raster(&name, &a, cell, tl, 32630, Some(0.0))
        } else {
            w.raster(&name, &tile(k, rows, cols), cell, tl, 32630, Some(nd))
        };
        items.push(json!({"id": name, "bbox": [0.0, 0.0, 1.0, 1.0],
            "properties": {"datetime": format!("2021-06-01T10:00:0{k}Z"), "group": "g"},
            "assets": {"data": {"href": href,
                "raster:bands": [{"data_type": if k == 3 { "int16" } else { "uint16" }, "nodata": nd}]}}}));
    }
    items
}

#[test]
fn first_valid_mosaic_without_flags_equals_a_closure_fusion() {
    let w = Work::new();
    for odd in [false, true] {
        let items = by_fill_items(&w, odd);
        for (fusion, oracle) in [
            (
                Fusion::First,
                Fusion::custom(|dst, src| {
                    for (d, s) in dst.iter_mut().zip(src) {
                        if d.is_nan() {
                            *d = *s;
                        }
                    }
                }),
            ),
            (
                Fusion::Last,
                Fusion::custom(|dst, src| {
                    for (d, s) in dst.iter_mut().zip(src) {
                        if !s.is_nan() {
                            *d = *s;
                        }
                    }
                }),
            ),
        ] {
            for block in [40, 1 << 20] {
                let load = |f: Fusion| {
                    let opts = CubeOptions::default()
                        .with_groupby(GroupBy::Property("group".into()))
                        .with_fusion(f)
                        .with_nodata(0.0)
                        .with_data_type(stac_meta::DataType::Uint16)
                        .with_threads(2)
                        .with_block_pixels(block);
                    let cube = DatasetCollection::from_stac(&items, &["data"], &opts).unwrap();
                    cube.read_array::<u16>()
                };
                let name = fusion.name();
                let (got, want) = (load(fusion.clone()), load(oracle.clone()));
                assert_eq!(got.shape(), [1, 1, 18, 22], "{name}");
                assert!(
                    want.iter().filter(|&&v| v == 0).count() > 10,
                    "the grid has holes no tile fills"
                );
                assert_eq!(
                    got, want,
                    "{name}, odd nodata {odd}, block of {block} pixels"
                );
            }
        }
    }
}

/// Three overlapping 6x6 tiles with nodata holes, for the fusion tests.
fn fusion_inputs(w: &Work) -> (Vec<Value>, Vec<Array2<f32>>) {
    let nd = -9999.0f32;
    let mut arrays = Vec::new();
    for k in 0..3usize {
        let a = Array2::from_shape_fn((6, 6), |(r, c)| {
            // A different hole pattern per tile.
            if (r + c + k) % 4 == 0 || (k == 2 && r < 2) {
                nd
            } else {
                (10 * (k + 1) + r * 6 + c) as f32 * if k == 1 { -1.0 } else { 1.0 }
            }
        });
        arrays.push(a);
    }
    // Tiles shifted by 0, 1 and 2 pixels east: partial overlaps.
    let items = arrays
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let href = w.raster(
                &format!("f{k}"),
                a,
                10.0,
                (TL.0 + 10.0 * k as f64, TL.1),
                32630,
                Some(nd as f64),
            );
            json!({"id": format!("f{k}"), "bbox": [0.0, 0.0, 1.0, 1.0],
                   "properties": {"datetime": format!("2021-06-01T10:00:0{k}Z"), "group": "g"},
                   "assets": {"data": {"href": href}}})
        })
        .collect();
    (items, arrays)
}

/// The valid contributions at cube pixel (r, c), in item order.
fn contributions(arrays: &[Array2<f32>], r: usize, c: usize) -> Vec<f64> {
    arrays
        .iter()
        .enumerate()
        .filter_map(|(k, a)| {
            let sc = c.checked_sub(k)?;
            let v = *a.get((r, sc))?;
            (v != -9999.0).then_some(v as f64)
        })
        .collect()
}

#[test]
fn every_fusion_method_pixel_by_pixel() {
    let w = Work::new();
    let (items, arrays) = fusion_inputs(&w);
    type Reduce = fn(&[f64]) -> f64;
    let cases: Vec<(Fusion, Reduce)> = vec![
        (Fusion::First, |v| v[0]),
        (Fusion::Last, |v| v[v.len() - 1]),
        (Fusion::Min, |v| {
            v.iter().copied().fold(f64::INFINITY, f64::min)
        }),
        (Fusion::Max, |v| {
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        }),
        (Fusion::Sum, |v| v.iter().sum()),
        (Fusion::Mean, |v| v.iter().sum::<f64>() / v.len() as f64),
        (Fusion::Median, |v| {
            let mut s = v.to_vec();
            s.sort_by(f64::total_cmp);
            let m = s.len() / 2;
            if s.len() % 2 == 1 {
                s[m]
            } else {
                (s[m - 1] + s[m]) / 2.0
            }
        }),
        (Fusion::Count, |v| v.len() as f64),
        // A closure: keep the value with the largest magnitude.
        (
            Fusion::custom(|dst, src| {
                for (d, s) in dst.iter_mut().zip(src) {
                    if !s.is_nan() && (d.is_nan() || s.abs() > d.abs()) {
                        *d = *s;
                    }
                }
            }),
            |v| {
                v.iter()
                    .copied()
                    .fold(0.0, |a: f64, b| if b.abs() > a.abs() { b } else { a })
            },
        ),
    ];
    for (fusion, reduce) in cases {
        let name = fusion.name();
        let opts = CubeOptions::default()
            .with_groupby(GroupBy::Property("group".into()))
            .with_fusion(fusion)
            .with_threads(2)
            .with_block_pixels(12);
        let cube = DatasetCollection::from_stac(&items, &["data"], &opts).unwrap();
        assert_eq!(cube.shape(), (1, 1, 6, 8), "{name}");
        let arr = cube.read_array::<f64>();
        let nodata = cube.nodata();
        for r in 0..6 {
            for c in 0..8 {
                let got = arr[[0, 0, r, c]];
                let v = contributions(&arrays, r, c);
                if v.is_empty() {
                    if name == "count" {
                        assert_eq!(got, 0.0, "{name} at ({r}, {c})");
                    } else {
                        assert_eq!(Some(got), nodata, "{name} at ({r}, {c}) must be nodata");
                    }
                } else {
                    let want = reduce(&v);
                    assert!(
                        (got - want).abs() < 1e-3,
                        "{name} at ({r}, {c}): got {got}, want {want} from {v:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn nan_is_never_a_valid_contribution() {
    let w = Work::new();
    let a = Array2::from_shape_fn(
        (2, 2),
        |(r, c)| if r == 0 && c == 0 { f32::NAN } else { 1.0 },
    );
    let b = Array2::from_elem((2, 2), 5.0f32);
    let items = vec![
        scene(
            "a",
            &w.raster("a", &a, 10.0, TL, 32630, None),
            "2021-06-01T10:00:00Z",
        ),
        scene(
            "b",
            &w.raster("b", &b, 10.0, TL, 32630, None),
            "2021-06-01T11:00:00Z",
        ),
    ];
    let cube = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_groupby(GroupBy::SolarDay),
    )
    .unwrap();
    let arr = cube.read_array::<f32>();
    assert_eq!(arr.as_slice().unwrap(), &[5.0, 1.0, 1.0, 1.0]);
    let cube = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default()
            .with_groupby(GroupBy::SolarDay)
            .with_fusion(Fusion::Min),
    )
    .unwrap();
    assert_eq!(
        cube.read_array::<f32>().as_slice().unwrap(),
        &[5.0, 1.0, 1.0, 1.0]
    );
}

#[test]
fn time_axis_sorted_by_datetime_then_id_or_input_order() {
    let w = Work::new();
    let items = vec![
        scene(
            "c",
            &w.band("c", 3, 10.0, (2, 2), TL),
            "2021-06-03T00:00:00Z",
        ),
        scene(
            "b",
            &w.band("b", 2, 10.0, (2, 2), TL),
            "2021-06-01T00:00:00Z",
        ),
        scene(
            "a",
            &w.band("a", 1, 10.0, (2, 2), TL),
            "2021-06-01T00:00:00Z",
        ),
    ];
    let cube = DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap();
    let ids: Vec<&str> = cube
        .timesteps()
        .iter()
        .map(|t| t.items[0].as_str())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(
        cube.time_labels(),
        [
            "2021-06-01T00:00:00Z",
            "2021-06-01T00:00:00Z",
            "2021-06-03T00:00:00Z"
        ]
    );
    let arr = cube.read_array::<u16>();
    assert_eq!(
        [arr[[0, 0, 0, 0]], arr[[1, 0, 0, 0]], arr[[2, 0, 0, 0]]],
        [1, 2, 3]
    );
    let input = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_time_order(TimeOrder::Input),
    )
    .unwrap();
    let ids: Vec<&str> = input
        .timesteps()
        .iter()
        .map(|t| t.items[0].as_str())
        .collect();
    assert_eq!(ids, ["c", "b", "a"]);
    assert_eq!(input.read_array::<u16>()[[0, 0, 1, 1]], 3);
}

#[test]
fn align_false_with_differing_grids_is_an_alignment_error() {
    let w = Work::new();
    let items = vec![json!({"id": "scene-0",
        "assets": {"B04": {"href": w.band("B04", 1, 10.0, (4, 4), TL)}, "B05": {"href": w.band("B05", 2, 20.0, (2, 2), TL)}}})];
    let err = DatasetCollection::from_stac(
        &items,
        &["B04", "B05"],
        &CubeOptions::default().with_align(false),
    )
    .unwrap_err();
    assert!(matches!(err, CubeError::Alignment { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("'B05'") && msg.contains("20x20") && msg.contains("10x10"),
        "{msg}"
    );
    assert!(!msg.contains("\"B04\""), "B04 is on the grid: {msg}");
    // Pixel-aligned neighbours on the same lattice need no warping.
    let tiles = vec![
        scene(
            "l",
            &w.band("l", 1, 10.0, (4, 4), TL),
            "2021-06-01T00:00:00Z",
        ),
        scene(
            "r",
            &w.band("r", 2, 10.0, (4, 4), (TL.0 + 40.0, TL.1)),
            "2021-06-01T00:00:00Z",
        ),
    ];
    let cube = DatasetCollection::from_stac(
        &tiles,
        &["data"],
        &CubeOptions::default()
            .with_align(false)
            .with_groupby(GroupBy::SolarDay),
    )
    .unwrap();
    let row: Vec<u16> = cube
        .read_array::<u16>()
        .index_axis(Axis(0), 0)
        .index_axis(Axis(0), 0)
        .row(0)
        .to_vec();
    assert_eq!(row, [1, 1, 1, 1, 2, 2, 2, 2]);
}

#[test]
fn unreadable_sources_are_listed_or_fail_the_load() {
    let w = Work::new();
    let good = w.band("good", 7, 10.0, (4, 4), TL);
    let corrupt = w.path("corrupt.tif");
    let bytes = std::fs::read(&good).unwrap();
    // A valid header followed by garbage: opens, fails on read... or on open.
    let mut bad = bytes[..bytes.len() / 2].to_vec();
    bad.extend(std::iter::repeat_n(0xAB, 64));
    std::fs::write(&corrupt, &bad).unwrap();
    let items = vec![
        scene("ok", &good, "2021-06-01T00:00:00Z"),
        scene(
            "missing",
            &w.path("nope.tif").to_string_lossy(),
            "2021-06-02T00:00:00Z",
        ),
        scene(
            "corrupt",
            &w.path("junk.tif").to_string_lossy(),
            "2021-06-03T00:00:00Z",
        ),
    ];
    std::fs::write(w.path("junk.tif"), b"this is not a tiff").unwrap();
    let err = DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap_err();
    match &err {
        CubeError::Read { failures } => {
            let ids: Vec<&str> = failures.iter().map(|f| f.item.as_str()).collect();
            assert_eq!(ids, ["missing", "corrupt"]);
        }
        other => panic!("expected a read error, got {other}"),
    }
    assert!(err.to_string().contains("nope.tif"), "{err}");
    // With items carrying proj:* nothing is opened at plan time: the
    // failures happen during the parallel load and are listed the same way.
    let with_proj = |mut v: Value| {
        v["properties"]["proj:epsg"] = json!(32630);
        v["assets"]["data"]["proj:shape"] = json!([4, 4]);
        v["assets"]["data"]["proj:transform"] = json!([10.0, 0.0, TL.0, 0.0, -10.0, TL.1]);
        v
    };
    let mut items: Vec<Value> = items.into_iter().map(with_proj).collect();
    items.push(with_proj(scene(
        "truncated",
        &corrupt.to_string_lossy(),
        "2021-06-04T00:00:00Z",
    )));
    let cube = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_fail_on_error(false),
    )
    .unwrap();
    let ids: Vec<&str> = cube.failures().iter().map(|f| f.item.as_str()).collect();
    assert_eq!(
        ids,
        ["missing", "corrupt", "truncated"],
        "{:?}",
        cube.failures()
    );
    assert_eq!(cube.grid_report().opened, 0);
    let arr = cube.read_array::<u16>();
    assert!(arr.index_axis(Axis(0), 0).iter().all(|&v| v == 7));
    for t in 1..4 {
        assert!(
            arr.index_axis(Axis(0), t).iter().all(|&v| v == 0),
            "timestep {t} must be nodata"
        );
    }
    assert_eq!(cube.nodata(), Some(0.0));
}

#[test]
fn footprints_outside_the_grid_are_reported_and_an_empty_cube_is_an_error() {
    let w = Work::new();
    let items = vec![
        scene(
            "in",
            &w.band("in", 1, 10.0, (4, 4), TL),
            "2021-06-01T00:00:00Z",
        ),
        scene(
            "far",
            &w.band("far", 2, 10.0, (4, 4), (TL.0 + 10_000.0, TL.1)),
            "2021-06-02T00:00:00Z",
        ),
    ];
    let grid = Grid::default()
        .with_crs_epsg(32630)
        .with_resolution(10.0)
        .with_bounds([600000.0, 5299960.0, 600040.0, 5300000.0]);
    let cube =
        DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default().with_grid(grid))
            .unwrap();
    let outside: Vec<&str> = cube
        .grid_report()
        .outside
        .iter()
        .map(|o| o.item.as_str())
        .collect();
    assert_eq!(outside, ["far"]);
    let nowhere = Grid::default()
        .with_crs_epsg(32630)
        .with_resolution(10.0)
        .with_bounds([0.0, 0.0, 40.0, 40.0]);
    let err = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_grid(nowhere),
    )
    .unwrap_err();
    assert!(matches!(err, CubeError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("in/data"), "{err}");
}

#[test]
fn grids_over_the_pixel_limit_are_refused_with_their_size() {
    let w = Work::new();
    let items = vec![scene(
        "a",
        &w.band("a", 1, 10.0, (4, 4), TL),
        "2021-06-01T00:00:00Z",
    )];
    let grid = Grid::default().with_resolution(0.01);
    let err = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default()
            .with_grid(grid)
            .with_max_pixels(1_000_000),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("4000 rows x 4000 cols = 16000000 pixels"),
        "{msg}"
    );
}

#[test]
fn mixed_utm_zones_are_warped_onto_one_grid() {
    let w = Work::new();
    // Zone 30 and zone 31 tiles near the 0° meridian, 1 km pixels.
    let a = w.raster(
        "z30",
        &Array2::from_elem((20, 20), 30u16),
        1000.0,
        (780000.0, 5560000.0),
        32630,
        Some(0.0),
    );
    let b = w.raster(
        "z31",
        &Array2::from_elem((20, 20), 31u16),
        1000.0,
        (290000.0, 5560000.0),
        32631,
        Some(0.0),
    );
    let c = w.raster(
        "z31b",
        &Array2::from_elem((20, 20), 32u16),
        1000.0,
        (300000.0, 5560000.0),
        32631,
        Some(0.0),
    );
    let items = vec![
        scene("z30", &a, "2021-06-01T00:00:00Z"),
        scene("z31", &b, "2021-06-02T00:00:00Z"),
        scene("z31b", &c, "2021-06-03T00:00:00Z"),
    ];
    let cube = DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap();
    // Most common CRS wins.
    assert_eq!(cube.crs().epsg(), Some(32631));
    assert!(
        cube.grid_report().crs.contains("most common"),
        "{:?}",
        cube.grid_report()
    );
    let arr = cube.read_array::<u16>();
    let gt = cube.geotransform();
    // The zone-30 tile, reprojected, is present at the place of its centre.
    let centre =
        stac_raster::transform_point(790000.0, 5550000.0, &Crs::Epsg(32630), &Crs::Epsg(32631))
            .unwrap();
    let col = ((centre[0] - gt[0]) / gt[1]) as usize;
    let row = ((centre[1] - gt[3]) / gt[5]) as usize;
    assert_eq!(arr[[0, 0, row, col]], 30);
    let valid = arr
        .index_axis(Axis(0), 0)
        .iter()
        .filter(|&&v| v == 30)
        .count();
    assert!(
        (300..=500).contains(&valid),
        "a 20x20 km tile covers ~400 1-km pixels, got {valid}"
    );
    assert!(
        arr.index_axis(Axis(0), 0)
            .iter()
            .all(|&v| v == 0 || v == 30)
    );
    // The native-zone tile is copied without resampling.
    assert_eq!(
        arr.index_axis(Axis(0), 1)
            .iter()
            .filter(|&&v| v == 31)
            .count(),
        400
    );
}

#[test]
fn multi_band_assets_select_bands_by_index_or_name() {
    let w = Work::new();
    let p = w.path("rgb.tif");
    let arr = Array3::from_shape_fn((3, 2, 2), |(b, _, _)| (b + 1) as u8 * 10);
    Dataset::create_from_array(&arr, &GridSpec::north_up([TL.0, TL.1], 10.0, 32630), None)
        .unwrap()
        .to_file(&p)
        .unwrap();
    let items = vec![
        json!({"id": "x", "assets": {"visual": {"href": p.to_string_lossy(),
        "eo:bands": [{"name": "red"}, {"name": "green"}, {"name": "blue"}]}}}),
    ];
    let all = DatasetCollection::from_stac(&items, &["visual"], &CubeOptions::default()).unwrap();
    assert_eq!(
        all.band_names(),
        ["visual.red", "visual.green", "visual.blue"]
    );
    let a = all.read_array::<u8>();
    assert_eq!(
        [a[[0, 0, 0, 0]], a[[0, 1, 0, 0]], a[[0, 2, 0, 0]]],
        [10, 20, 30]
    );
    let pick = DatasetCollection::from_stac(
        &items,
        &["visual.blue", "visual.1"],
        &CubeOptions::default(),
    )
    .unwrap();
    assert_eq!(pick.band_names(), ["visual.blue", "visual.1"]);
    let a = pick.read_array::<u8>();
    assert_eq!([a[[0, 0, 1, 1]], a[[0, 1, 1, 1]]], [30, 10]);
    let err =
        DatasetCollection::from_stac(&items, &["visual.nir"], &CubeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no band named nir in"), "{err}");
    let err = DatasetCollection::from_stac(&items, &["B99"], &CubeOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("'B99'") && err.to_string().contains("visual"),
        "{err}"
    );
}

#[test]
fn rescale_nodata_and_dtype_overrides() {
    let w = Work::new();
    let href = w.raster(
        "dn",
        &Array2::from_shape_fn((2, 2), |(r, c)| (r * 2 + c) as u16 * 1000),
        10.0,
        TL,
        32630,
        None,
    );
    let items = vec![json!({"id": "s", "assets": {"data": {"href": href,
        "raster:bands": [{"nodata": 0, "scale": 0.0001, "offset": -0.1, "data_type": "uint16"}]}}})];
    let cube = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_rescale(true),
    )
    .unwrap();
    assert_eq!(cube.data_type(), stac_meta::DataType::Float32);
    let a = cube.read_array::<f32>();
    assert!(
        a[[0, 0, 0, 0]].is_nan(),
        "nodata 0 from raster:bands becomes NaN"
    );
    assert!(
        (a[[0, 0, 0, 1]] - 0.0).abs() < 1e-6 && (a[[0, 0, 1, 1]] - 0.2).abs() < 1e-6,
        "{a:?}"
    );
    let raw = DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap();
    assert_eq!(raw.data_type(), stac_meta::DataType::Uint16);
    assert_eq!(
        raw.read_array::<u16>().as_slice().unwrap(),
        &[0, 1000, 2000, 3000]
    );
    let over = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default()
            .with_asset(
                "data",
                stac_cube::AssetOptions::default().with_nodata(1000.0),
            )
            .with_data_type(stac_meta::DataType::Int32)
            .with_nodata(-1.0),
    )
    .unwrap();
    assert_eq!(
        over.read_array::<i32>().as_slice().unwrap(),
        &[0, -1, 2000, 3000]
    );
}

#[test]
fn patch_url_progress_windowed_load_and_outputs() {
    let w = Work::new();
    let real = w.band("real", 5, 10.0, (8, 8), TL);
    let items: Vec<Value> = (0..4)
        .map(|k| {
            scene(
                &format!("s{k}"),
                &format!("https://example.invalid/s{k}.tif"),
                &format!("2021-06-0{}T00:00:00Z", k + 1),
            )
        })
        .collect();
    let seen = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(AtomicUsize::new(0));
    let (s2, l2) = (seen.clone(), last.clone());
    let real2 = real.clone();
    let opts = CubeOptions::default()
        .with_patch_url(move |_| real2.clone())
        .with_progress(move |p| {
            s2.fetch_add(1, Ordering::SeqCst);
            l2.store(p.done * 100 + p.total, Ordering::SeqCst);
        });
    let plan = DatasetCollection::plan(&items, &["data"], &opts).unwrap();
    let cube = plan.load().unwrap();
    assert_eq!(cube.shape(), (4, 1, 8, 8));
    assert!(cube.read_array::<u16>().iter().all(|&v| v == 5));
    assert!(seen.load(Ordering::SeqCst) >= 4);
    assert_eq!(
        last.load(Ordering::SeqCst),
        4 * 100 + 4,
        "final progress is done = total = 4"
    );
    // A window of the plan equals the same window of the whole cube.
    let win = Window::new(2, 3, 4, 5);
    let part = plan.load_window(win).unwrap();
    assert_eq!(part.shape(), (4, 1, 5, 4));
    assert_eq!(
        part.read_array::<u16>(),
        cube.read_window::<u16>(win).unwrap()
    );
    assert_eq!(part.geotransform()[0], 600020.0);
    assert_eq!(plan.windows(5, 5).len(), 4);
    // One GeoTIFF per timestep with band descriptions, and a PNG quick-look.
    let files = cube.to_files(w.path("out")).unwrap();
    assert_eq!(files.len(), 4);
    assert!(
        files[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("0000_2021-06-01T00_00_00Z")
    );
    let back = Dataset::open(files[3].to_str().unwrap()).unwrap();
    assert_eq!(back.band_names(), ["data"]);
    assert_eq!(back.nodata(), vec![Some(0.0)]);
    assert!(back.read_array::<u16>().unwrap().iter().all(|&v| v == 5));
    let png = cube
        .write_quicklook(0, w.path("look.png"), &QuicklookOptions::default())
        .unwrap();
    let look = Dataset::open(png.to_str().unwrap()).unwrap();
    assert_eq!(look.shape(), (2, 8, 8));
    assert_eq!(look.driver_name(), "PNG");

    // A timestep that cannot be written (a folder holds its name): the
    // files this call wrote are removed, no temp file stays, and what was
    // in the folder before is untouched.
    let out = w.path("failing");
    std::fs::create_dir_all(out.join("0002_2021-06-03T00_00_00Z.tif/x")).unwrap();
    std::fs::write(out.join("keep.txt"), b"mine").unwrap();
    assert!(cube.to_files(&out).is_err());
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["0002_2021-06-03T00_00_00Z.tif", "keep.txt"]);
}

/// A block's only source covering part of each of its rows (offset in x
/// and y, inside the grid) is decoded straight into its rectangle of the
/// block, rows a block width apart (`read_band_rows_into`): every pixel in
/// its place, the rest of the block left as fill, in whole loads and in
/// windows that cut the source.
#[test]
fn a_source_covering_part_of_each_row_lands_in_its_rectangle() {
    let w = Work::new();
    let big = w.band("big", 7, 10.0, (8, 8), TL);
    let pattern = Array2::from_shape_fn((3, 4), |(r, c)| (100 + r * 10 + c) as u16);
    let small = w.raster(
        "small",
        &pattern,
        10.0,
        (TL.0 + 20.0, TL.1 - 30.0),
        32630,
        Some(0.0),
    );
    let items = vec![
        scene("a", &big, "2021-06-01T00:00:00Z"),
        scene("b", &small, "2021-06-02T00:00:00Z"),
    ];
    let plan = DatasetCollection::plan(&items, &["data"], &CubeOptions::default()).unwrap();
    let cube = plan.load().unwrap();
    assert_eq!(cube.shape(), (2, 1, 8, 8));
    let a = cube.read_array::<u16>();
    for r in 0..8 {
        for c in 0..8 {
            assert_eq!(a[[0, 0, r, c]], 7);
            let want = if (3..6).contains(&r) && (2..6).contains(&c) {
                pattern[[r - 3, c - 2]]
            } else {
                0
            };
            assert_eq!(a[[1, 0, r, c]], want, "row {r} col {c}");
        }
    }
    // Windows cutting the small source on every side, and one inside it.
    for win in [
        Window::new(3, 4, 5, 4),
        Window::new(0, 0, 4, 5),
        Window::new(3, 3, 2, 2),
    ] {
        let part = plan.load_window(win).unwrap();
        assert_eq!(
            part.read_array::<u16>(),
            cube.read_window::<u16>(win).unwrap(),
            "{win:?}"
        );
    }
}

#[test]
fn explicit_grid_in_lonlat_and_like() {
    let w = Work::new();
    let href = w.raster(
        "g",
        &Array2::from_shape_fn((10, 10), |(r, c)| (r * 10 + c) as u16 + 1),
        10.0,
        TL,
        32630,
        Some(0.0),
    );
    let items = vec![scene("g", &href, "2021-06-01T00:00:00Z")];
    let src = Dataset::open(&href).unwrap();
    let like = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_grid(Grid::like(&src).unwrap()),
    )
    .unwrap();
    assert_eq!(
        like.read_array::<u16>()
            .index_axis(Axis(0), 0)
            .index_axis(Axis(0), 0),
        src.read_array::<u16>().unwrap().index_axis(Axis(0), 0)
    );
    // Coarser grid by nearest: 20 m pixels take the source pixel at their centre.
    let coarse = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_grid(Grid::default().with_resolution(20.0)),
    )
    .unwrap();
    assert_eq!(coarse.shape(), (1, 1, 5, 5));
    let a = coarse.read_array::<u16>();
    let s = src.read_array::<u16>().unwrap();
    for r in 0..5 {
        for c in 0..5 {
            assert_eq!(a[[0, 0, r, c]], s[[0, 2 * r + 1, 2 * c + 1]], "({r}, {c})");
        }
    }
    // Average resampling goes through GDAL's warper.
    let avg = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default()
            .with_grid(Grid::default().with_resolution(20.0))
            .with_resampling(Resampling::Average)
            .with_data_type(stac_meta::DataType::Float32),
    )
    .unwrap();
    let a = avg.read_array::<f32>();
    let want = (s[[0, 0, 0]] + s[[0, 0, 1]] + s[[0, 1, 0]] + s[[0, 1, 1]]) as f32 / 4.0;
    assert!(
        (a[[0, 0, 0, 0]] - want).abs() < 1e-3,
        "{} vs {want}",
        a[[0, 0, 0, 0]]
    );
    // Lon/lat bounds are transformed to the grid CRS.
    let ll = stac_raster::transform_bounds(
        &[600000.0, 5299900.0, 600100.0, 5300000.0],
        &Crs::Epsg(32630),
        &Crs::Epsg(4326),
    )
    .unwrap();
    let g = Grid::default()
        .with_crs_epsg(32630)
        .with_resolution(10.0)
        .with_bounds_lonlat(ll);
    let cube =
        DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default().with_grid(g))
            .unwrap();
    let (_, _, h, wd) = cube.shape();
    assert!(
        (10..=12).contains(&h) && (10..=12).contains(&wd),
        "{h}x{wd}"
    );
}

#[test]
fn bbox_and_max_items_filter_and_fusion_needs_groupby() {
    let w = Work::new();
    let href = w.band("a", 1, 10.0, (2, 2), TL);
    let mut items: Vec<Value> = (0..5)
        .map(|k| {
            scene(
                &format!("i{k}"),
                &href,
                &format!("2021-06-0{}T00:00:00Z", k + 1),
            )
        })
        .collect();
    items[0]["bbox"] = json!([170.0, 0.0, -170.0, 1.0]); // crosses the antimeridian
    items[1]["bbox"] = json!([50.0, 50.0, 51.0, 51.0]);
    let cube = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default()
            .with_bbox([-179.0, -1.0, 2.0, 2.0])
            .with_max_items(2),
    )
    .unwrap();
    let ids: Vec<&str> = cube
        .timesteps()
        .iter()
        .map(|t| t.items[0].as_str())
        .collect();
    assert_eq!(ids, ["i0", "i2"]);
    let err = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_fusion(Fusion::Mean),
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs a groupby"), "{err}");
    let err = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_bbox([10.0, 80.0, 20.0, 95.0]),
    )
    .unwrap_err();
    assert!(
        matches!(err, CubeError::InvalidOption { option: "bbox", .. }),
        "{err}"
    );
    let err = DatasetCollection::from_stac(&[], &["data"], &CubeOptions::default()).unwrap_err();
    assert!(matches!(err, CubeError::NoItems { .. }), "{err}");
}

#[test]
fn coarser_grids_read_cog_overviews() {
    let w = Work::new();
    let p = w.path("ovr.tif");
    let arr = Array2::from_shape_fn((8, 8), |(r, c)| (r * 8 + c) as f32);
    Dataset::create_from_array(&arr, &GridSpec::north_up([TL.0, TL.1], 10.0, 32630), None)
        .unwrap()
        .to_file(&p)
        .unwrap();
    {
        let mut ds = gdal::Dataset::open_ex(
            &p,
            gdal::DatasetOptions {
                open_flags: gdal::GdalOpenFlags::GDAL_OF_UPDATE,
                ..Default::default()
            },
        )
        .unwrap();
        ds.build_overviews("AVERAGE", &[2], &[]).unwrap();
    }
    let items = vec![scene("o", &p.to_string_lossy(), "2021-06-01T00:00:00Z")];
    let grid = Grid::default().with_resolution(20.0);
    let with = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default().with_grid(grid.clone()),
    )
    .unwrap();
    let without = DatasetCollection::from_stac(
        &items,
        &["data"],
        &CubeOptions::default()
            .with_grid(grid)
            .with_use_overviews(false),
    )
    .unwrap();
    let (a, b) = (with.read_array::<f32>(), without.read_array::<f32>());
    assert_eq!(a.dim(), (1, 1, 4, 4));
    // The 2x overview holds 2x2 averages; full resolution gives the pixel at each centre.
    let avg = (arr[[0, 0]] + arr[[0, 1]] + arr[[1, 0]] + arr[[1, 1]]) / 4.0;
    assert_eq!(a[[0, 0, 0, 0]], avg);
    assert_eq!(b[[0, 0, 0, 0]], arr[[1, 1]]);
}

#[test]
fn href_policy_and_implausible_metadata() {
    let w = Work::new();
    let href = w.band("a", 4, 10.0, (2, 2), TL);
    let mut item = scene("a", &href, "2021-06-01T00:00:00Z");
    // proj:shape [0, 0]: the metadata grid is ignored and the file opened.
    item["properties"]["proj:epsg"] = json!(32630);
    item["assets"]["data"]["proj:shape"] = json!([0, 0]);
    item["assets"]["data"]["proj:transform"] = json!([10.0, 0.0, TL.0, 0.0, -10.0, TL.1]);
    let items = vec![item];
    let cube = DatasetCollection::from_stac(&items, &["data"], &CubeOptions::default()).unwrap();
    assert_eq!(cube.shape(), (1, 1, 2, 2));
    assert_eq!(cube.grid_report().opened, 1);
    // A local file where only remote hrefs are allowed is a listed failure.
    let opts = CubeOptions::default().with_href_policy(stac_meta::HrefPolicy::remote_only());
    let err = DatasetCollection::from_stac(&items, &["data"], &opts).unwrap_err();
    match err {
        CubeError::Read { failures } => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].rule.as_deref(), Some("local-path"));
            assert!(
                failures[0].error.contains("item 'a'"),
                "{}",
                failures[0].error
            );
        }
        other => panic!("expected a read error, got {other}"),
    }
}

#[test]
fn one_thread_loads_keep_their_buffers_across_loads_types_and_windows() {
    // One-thread loads (a Dask chunk each) run on the calling thread with
    // buffers kept from its previous load: loads of another pixel type and
    // of smaller windows in between must not leak values into each other.
    let w = Work::new();
    let mut a = Array2::from_shape_fn((6, 6), |(r, c)| (10 + r * 6 + c) as u16);
    a[[1, 4]] = 0;
    a[[2, 5]] = 0;
    let mut b = Array2::from_shape_fn((6, 6), |(r, c)| (100 + r * 6 + c) as u16);
    b[[0, 0]] = 0;
    b[[3, 5]] = 0;
    let ha = w.raster("a", &a, 10.0, TL, 32630, Some(0.0));
    let hb = w.raster("b", &b, 10.0, (TL.0 + 30.0, TL.1), 32630, Some(0.0));
    let items = vec![
        scene("a", &ha, "2021-06-01T10:00:00Z"),
        scene("b", &hb, "2021-06-01T10:00:30Z"),
    ];
    let opts = |threads| {
        CubeOptions::default()
            .with_groupby(GroupBy::SolarDay)
            .with_threads(threads)
    };
    let pooled = DatasetCollection::plan(&items, &["data"], &opts(2))
        .unwrap()
        .load()
        .unwrap()
        .read_array::<u16>();
    assert_eq!(pooled.dim(), (1, 1, 6, 9));
    // First valid in group order: a where valid, b in a's holes and east
    // of a, fill (0) where neither is valid.
    assert_eq!(pooled[[0, 0, 0, 3]], a[[0, 3]]);
    assert_eq!(pooled[[0, 0, 1, 4]], b[[1, 1]]);
    assert_eq!(pooled[[0, 0, 2, 5]], b[[2, 2]]);
    assert_eq!(pooled[[0, 0, 3, 8]], 0);
    assert_eq!(pooled[[0, 0, 0, 8]], b[[0, 5]]);
    let one = DatasetCollection::plan(&items, &["data"], &opts(1)).unwrap();
    let as_f32 = DatasetCollection::plan(
        &items,
        &["data"],
        &opts(1).with_data_type(stac_meta::DataType::Float32),
    )
    .unwrap();
    for _ in 0..2 {
        assert_eq!(one.load().unwrap().read_array::<u16>(), pooled);
        let f = as_f32.load().unwrap().read_array::<f32>();
        assert_eq!(f.mapv(|v| v as u16), pooled);
        let win = one
            .load_window(Window::new(2, 1, 5, 3))
            .unwrap()
            .read_array::<u16>();
        assert_eq!(win, pooled.slice(ndarray::s![.., .., 1..4, 2..7]));
    }
}
