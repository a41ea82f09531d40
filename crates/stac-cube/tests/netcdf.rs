//! The NetCDF output read back through GDAL: written strip by strip from
//! the plan (small chunks, a strip outside every source) it equals the
//! loaded cube pixel for pixel, through GDAL's classic netCDF access
//! (`NETCDF:"file":band`, georeferenced) and its multidimensional API
//! (dimensions, coordinates, CF time, attributes); a failed write leaves
//! nothing at the path, and no temp file beside it.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;

use gdal::cpl::CslStringList;
use ndarray::{Array2, Axis};
use serde_json::{Value, json};
use stac_cube::{CubeOptions, DatasetCollection, Grid, NetcdfOptions};
use stac_raster::{Dataset, GridSpec};

const TL: (f64, f64) = (600000.0, 5300000.0);
const ROWS: usize = 70;
const COLS: usize = 90;

/// `n` noisy uint16 scenes (nodata 0 in a corner), one day apart.
fn scenes(dir: &Path, n: usize) -> Vec<Value> {
    (0..n)
        .map(|t| {
            let mut state = 0x2545_f491_u32.wrapping_mul(t as u32 + 7);
            let arr = Array2::from_shape_fn((ROWS, COLS), |(r, c)| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if r + c < 9 {
                    0
                } else {
                    1 + ((state as usize + r * 7 + c) % 5000) as u16
                }
            });
            let p = dir.join(format!("s{t}.tif"));
            Dataset::create_from_array(
                &arr,
                &GridSpec::north_up([TL.0, TL.1], 10.0, 32630),
                Some(0.0),
            )
            .unwrap()
            .to_file(&p)
            .unwrap();
            json!({"type": "Feature", "id": format!("scene-{t}"), "bbox": [-3.0, 47.0, -2.9, 47.1],
                   "geometry": null,
                   "properties": {"datetime": format!("2021-06-0{}T10:00:00Z", t + 1),
                                  "proj:epsg": 32630},
                   "assets": {"B04": {"href": p.display().to_string(), "type": "image/tiff",
                       "proj:shape": [ROWS, COLS],
                       "proj:transform": [10.0, 0.0, TL.0, 0.0, -10.0, TL.1],
                       "raster:bands": [{"data_type": "uint16", "nodata": 0}],
                       "eo:bands": [{"name": "B04", "common_name": "red", "center_wavelength": 0.665}]}}})
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".tif"))
        .collect();
    v.sort();
    v
}

#[test]
fn strips_equal_the_whole_cube_through_gdal_classic_and_multidimensional() {
    let dir = tempfile::tempdir().unwrap();
    let items = scenes(dir.path(), 3);
    // The grid reaches 40 rows north of the scenes: the first strips of
    // 16 rows are outside every source and written as nodata.
    let opts = CubeOptions::default().with_grid(Grid::default().with_bounds([
        TL.0,
        TL.1 - ROWS as f64 * 10.0,
        TL.0 + COLS as f64 * 10.0,
        TL.1 + 400.0,
    ]));
    let plan = DatasetCollection::plan(&items, &["B04"], &opts).unwrap();
    let cube = plan.load().unwrap();
    let (nt, _, rows, cols) = cube.shape();
    assert_eq!((nt, rows, cols), (3, ROWS + 40, COLS));

    let strips = dir.path().join("strips.nc");
    let nc = NetcdfOptions::default().with_chunk(16, 32);
    let report = plan.to_netcdf(&strips, &nc).unwrap();
    assert_eq!(report.strips, (ROWS + 40).div_ceil(16));
    assert!(report.failures.is_empty());
    let whole = dir.path().join("whole.nc");
    cube.to_netcdf(&whole, &nc).unwrap();
    // Nothing but the two files (no temp file left beside them).
    assert_eq!(names(dir.path()), ["strips.nc", "whole.nc"]);

    let want = cube.read_array::<u16>();
    for file in [&strips, &whole] {
        // Classic access: one band per timestep, georeferenced.
        let ds = Dataset::open(&format!("NETCDF:\"{}\":B04", file.display())).unwrap();
        assert_eq!(ds.shape(), (nt, rows, cols), "{}", file.display());
        assert_eq!(ds.geotransform().unwrap(), cube.geotransform());
        assert_eq!(ds.epsg(), Some(32630));
        let got = ds.read_array::<u16>().unwrap();
        for t in 0..nt {
            assert_eq!(
                got.index_axis(Axis(0), t),
                want.index_axis(Axis(0), t).index_axis(Axis(0), 0),
                "{} timestep {t}",
                file.display()
            );
        }
        // The strips outside every source are nodata, the rest is not.
        assert!(got.slice(ndarray::s![.., ..40, ..]).iter().all(|&v| v == 0));
        assert!(
            got.slice(ndarray::s![.., 45.., 20..])
                .iter()
                .all(|&v| v != 0)
        );
    }

    // The multidimensional API: dims, coordinates, CF time, attributes.
    let md = gdal::Dataset::open_ex(
        &strips,
        gdal::DatasetOptions {
            open_flags: gdal::GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
            ..Default::default()
        },
    )
    .unwrap();
    let root = md.root_group().unwrap();
    // GDAL 3.6 does not list the scalar grid mapping (opened below).
    let mut arrays = root.array_names(CslStringList::new());
    arrays.retain(|a| a != "spatial_ref");
    arrays.sort();
    assert_eq!(arrays, ["B04", "stac_items", "time", "x", "y"]);
    let b04 = root.open_md_array("B04", CslStringList::new()).unwrap();
    let dims: Vec<(String, usize)> = (b04.dimensions().unwrap().iter())
        .map(|d| (d.name(), d.size()))
        .collect();
    assert_eq!(
        dims,
        [
            ("time".to_owned(), nt),
            ("y".to_owned(), rows),
            ("x".to_owned(), cols)
        ]
    );
    let all = b04
        .read_as::<u16>(vec![0, 0, 0], vec![nt, rows, cols])
        .unwrap();
    assert_eq!(all, want.iter().copied().collect::<Vec<u16>>());
    assert_eq!(
        b04.attribute("grid_mapping").unwrap().read_as_string(),
        "spatial_ref"
    );
    assert_eq!(
        b04.attribute("common_name").unwrap().read_as_string(),
        "red"
    );
    assert_eq!(b04.attribute("nodata").unwrap().read_as_f64(), 0.0);
    assert_eq!(
        b04.attribute("coordinates").unwrap().read_as_string(),
        "stac_items"
    );
    let time = root.open_md_array("time", CslStringList::new()).unwrap();
    assert_eq!(
        time.attribute("units").unwrap().read_as_string(),
        "days since 2021-06-01 10:00:00"
    );
    assert_eq!(
        time.attribute("calendar").unwrap().read_as_string(),
        "proleptic_gregorian"
    );
    assert_eq!(time.read_as::<i64>(vec![0], vec![nt]).unwrap(), [0, 1, 2]);
    let x = root.open_md_array("x", CslStringList::new()).unwrap();
    let xs = x.read_as::<f64>(vec![0], vec![cols]).unwrap();
    assert_eq!((xs[0], xs[1]), (TL.0 + 5.0, TL.0 + 15.0));
    let y = root.open_md_array("y", CslStringList::new()).unwrap();
    // Of the CF axis attributes only `long_name`: with `axis` or
    // `standard_name`, GDAL 3.12.4's classic reader misreads the strips
    // (this test, run against 3.12 by `cargo xtask gdal-3.12`, fails then).
    for arr in [&x, &y] {
        let a = |k: &str| arr.attribute(k).unwrap().read_as_string();
        assert_eq!(a("units"), "metre");
        assert!(a("long_name").contains("coordinate of projection"));
        assert!(arr.attribute("axis").is_err() && arr.attribute("standard_name").is_err());
    }
    assert_eq!(
        y.read_as::<f64>(vec![0], vec![1]).unwrap(),
        [TL.1 + 400.0 - 5.0]
    );
    let sref = root
        .open_md_array("spatial_ref", CslStringList::new())
        .unwrap();
    assert!(
        sref.attribute("crs_wkt")
            .unwrap()
            .read_as_string()
            .contains("UTM zone 30N")
    );
    assert_eq!(
        sref.attribute("GeoTransform").unwrap().read_as_string(),
        "600000 10 0 5300400 0 -10"
    );
    let ids = root
        .open_md_array("stac_items", CslStringList::new())
        .unwrap();
    assert_eq!(
        ids.read_as_string_array().unwrap(),
        ["scene-0", "scene-1", "scene-2"]
    );
}

#[test]
fn a_failed_write_leaves_no_file_and_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut items = scenes(dir.path(), 2);
    items[1]["assets"]["B04"]["href"] = json!(dir.path().join("missing.tif").display().to_string());
    let plan = DatasetCollection::plan(&items, &["B04"], &CubeOptions::default()).unwrap();
    let out = dir.path().join("cube.nc");
    let err = plan
        .to_netcdf(&out, &NetcdfOptions::default().with_chunk(16, 16))
        .unwrap_err();
    assert!(err.to_string().contains("scene-1"), "{err}");
    assert_eq!(names(dir.path()), Vec::<String>::new());
    // A folder at the path is refused, and left alone.
    std::fs::create_dir(&out).unwrap();
    let cube = DatasetCollection::plan(&items[..1], &["B04"], &CubeOptions::default())
        .unwrap()
        .load()
        .unwrap();
    assert!(cube.to_netcdf(&out, &NetcdfOptions::default()).is_err());
    assert!(out.is_dir());
    assert_eq!(names(dir.path()), ["cube.nc"]);
    // A grid no source reaches: an error, never an all-nodata file.
    let far = CubeOptions::default().with_grid(Grid::default().with_bounds([
        TL.0 + 50_000.0,
        TL.1 - 1000.0,
        TL.0 + 51_000.0,
        TL.1,
    ]));
    let plan = DatasetCollection::plan(&items[..1], &["B04"], &far).unwrap();
    let e = plan
        .to_netcdf(
            dir.path().join("far.nc"),
            &NetcdfOptions::default().with_chunk(16, 16),
        )
        .unwrap_err();
    assert!(matches!(e, stac_cube::CubeError::Empty { .. }), "{e}");
    assert_eq!(names(dir.path()), ["cube.nc"]);
    // Bad options are typed errors before anything is written.
    let e = cube
        .to_netcdf(
            dir.path().join("x.nc"),
            &NetcdfOptions::default().with_deflate_level(12),
        )
        .unwrap_err();
    assert!(e.to_string().contains("deflate_level"), "{e}");
    assert_eq!(names(dir.path()), ["cube.nc"]);
}

/// One uint16 scene of `rows` x COLS starting `row0` rows below TL, with
/// grid metadata (planning opens nothing).
fn band_scene(dir: &Path, id: &str, row0: usize, rows: usize, day: u32) -> Value {
    let arr = Array2::from_shape_fn((rows, COLS), |(r, c)| 1 + (r * 3 + c) as u16);
    let p = dir.join(format!("{id}.tif"));
    let top = TL.1 - row0 as f64 * 10.0;
    Dataset::create_from_array(
        &arr,
        &GridSpec::north_up([TL.0, top], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&p)
    .unwrap();
    json!({"type": "Feature", "id": id, "bbox": [-3.0, 47.0, -2.9, 47.1], "geometry": null,
           "properties": {"datetime": format!("2021-06-0{day}T10:00:00Z"), "proj:epsg": 32630},
           "assets": {"B04": {"href": p.display().to_string(), "type": "image/tiff",
               "proj:shape": [rows, COLS],
               "proj:transform": [10.0, 0.0, TL.0, 0.0, -10.0, top],
               "raster:bands": [{"data_type": "uint16", "nodata": 0}]}}})
}

/// `fail_on_error(false)` (the CLI's `--keep-going`): a strip whose every
/// source fails is written as nodata and reported, the file is written;
/// by default the same write is an error and leaves no file.
#[test]
fn keep_going_writes_a_strip_whose_every_source_failed_as_nodata() {
    let dir = tempfile::tempdir().unwrap();
    // "north" covers rows 0..30 (alone in the first strip of 16 rows),
    // "south" rows 30..70.
    let items = vec![
        band_scene(dir.path(), "north", 0, 30, 1),
        band_scene(dir.path(), "south", 30, 40, 2),
    ];
    let nc = NetcdfOptions::default().with_chunk(16, 32);
    let keep = CubeOptions::default().with_fail_on_error(false);
    let plan = DatasetCollection::plan(&items, &["B04"], &keep).unwrap();
    let strict = DatasetCollection::plan(&items, &["B04"], &CubeOptions::default()).unwrap();
    // The north scene becomes unreadable after planning.
    std::fs::write(dir.path().join("north.tif"), b"not a tiff any more").unwrap();
    let out = dir.path().join("kept.nc");
    let report = plan.to_netcdf(&out, &nc).unwrap();
    assert_eq!(report.strips, 70usize.div_ceil(16));
    assert_eq!(report.failed_strips, 1, "{report:?}");
    let failed: Vec<&str> = report.failures.iter().map(|f| f.item.as_str()).collect();
    assert_eq!(failed, ["north"]);
    let ds = Dataset::open(&format!("NETCDF:\"{}\":B04", out.display())).unwrap();
    let got = ds.read_array::<u16>().unwrap();
    assert_eq!(got.dim(), (2, 70, COLS));
    // The north timestep is nodata everywhere; the south one has its data.
    assert!(got.index_axis(Axis(0), 0).iter().all(|&v| v == 0));
    let south = got.index_axis(Axis(0), 1);
    assert_eq!(south[[30, 0]], 1);
    assert_eq!(south[[69, 5]], 1 + 39 * 3 + 5);
    // Without --keep-going: an error, no file.
    let strict_out = dir.path().join("strict.nc");
    assert!(strict.to_netcdf(&strict_out, &nc).is_err());
    assert!(!strict_out.exists());
}
