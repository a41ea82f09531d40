//! Issue 15's wrong results, at the library level, on items shaped like the
//! real catalogs (`common/shaped.rs`: MODIS sinusoidal with `proj:wkt2`,
//! Landsat 15/30 m with MTL assets, ASTER VNIR, a DEM in EPSG:4326, a UTM
//! land-cover tile) and real GeoTIFFs written by the test.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::Value;
use stac_cube::{CubeError, CubeOptions, DatasetCollection, Grid};
use stac_meta::DataType;
use stac_raster as raster;

#[path = "common/shaped.rs"]
mod shaped;

fn plan_err(items: &[Value], assets: &[&str], o: &CubeOptions) -> String {
    DatasetCollection::plan(items, assets, o)
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

/// 1. Non-raster assets (MTL text/XML/JSON, tilejson, an HDF4 container, XML
///    granule metadata) are refused as bands, naming item, asset and what
///    they are; the raster bands next to them still plan.
#[test]
fn non_raster_assets_are_not_bands() {
    let dir = tempfile::tempdir().unwrap();
    let landsat = shaped::landsat(dir.path());
    let modis = shaped::modis(dir.path());
    let o = CubeOptions::default();
    for key in ["mtl.txt", "mtl.xml", "mtl.json", "tilejson"] {
        let e = DatasetCollection::plan(&landsat, &["red", key], &o).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, CubeError::Meta(stac_meta::MetaError::NotRaster { .. }))
                && msg.contains(key)
                && msg.contains("LC09_L2SP_044034_20220111_02_T1")
                && msg.contains("not a raster band"),
            "{key}: {msg}"
        );
    }
    for key in ["hdf", "metadata"] {
        let msg = plan_err(&modis, &[key], &o);
        assert!(
            msg.contains("not a raster band") && msg.contains(key),
            "{msg}"
        );
    }
    assert!(plan_err(&modis, &["hdf"], &o).contains("HDF4"));
    // The same rule in which_engine.
    assert!(stac_meta::which_engine(&landsat[0], Some("mtl.xml")).is_err());
    // The raster bands plan, 15 m and 30 m together.
    let plan = DatasetCollection::plan(&landsat, &["red", "pan"], &o).unwrap();
    assert_eq!(plan.band_names(), ["red", "pan"]);
    assert_eq!(plan.grid().geotransform[1], 15.0);
}

/// 3. An antimeridian lon/lat box: in EPSG:4326 and UTM zone 60 the grid is
///    about one degree wide (not the world); on the sinusoidal grid, whose
///    edge is the antimeridian, it is a clear error with the alternatives
///    instead of a world-wide grid of 83,824 columns.
#[test]
fn antimeridian_bounds_plan_the_box_not_the_world() {
    let dir = tempfile::tempdir().unwrap();
    let modis = shaped::modis(dir.path());
    let b = [179.5, 5.0, -179.5, 10.0];
    let lonlat = CubeOptions::default().with_bbox(b).with_grid(
        Grid::default()
            .with_crs_epsg(4326)
            .with_resolution(0.005)
            .with_bounds_lonlat(b),
    );
    let plan = DatasetCollection::plan(&modis, &["sur_refl_b01"], &lonlat).unwrap();
    let g = plan.grid();
    assert_eq!((g.cols, g.rows), (200, 1000), "{:?}", g.geotransform);
    assert!((g.geotransform[0] - 179.5).abs() < 1e-9);
    // Both tiles, one on each side of 180°, are kept by the bbox filter.
    assert_eq!(plan.source_count(), 2);
    let utm = CubeOptions::default().with_grid(
        Grid::default()
            .with_crs_epsg(32660)
            .with_resolution(shaped::MODIS_RES)
            .with_bounds_lonlat(b),
    );
    let g = DatasetCollection::plan(&modis, &["sur_refl_b01"], &utm)
        .unwrap()
        .grid()
        .clone();
    assert!((200..300).contains(&g.cols), "{} columns", g.cols);
    let sinu = CubeOptions::default().with_grid(
        Grid::default()
            .with_resolution(shaped::MODIS_RES)
            .with_bounds_lonlat(b),
    );
    let msg = plan_err(&modis, &["sur_refl_b01"], &sinu);
    assert!(
        msg.contains("cross the antimeridian")
            && msg.contains("EPSG:4326")
            && msg.contains("split the box at 180"),
        "{msg}"
    );
    // Still a sinusoidal grid of the tile itself without bounds.
    let own =
        DatasetCollection::plan(&modis[..1], &["sur_refl_b01"], &CubeOptions::default()).unwrap();
    assert_eq!((own.grid().cols, own.grid().rows), (24, 24));
}

/// 4. West > east is an error naming both numbers unless it is a real
///    crossing (at most 180° wide) or crossing was asked for.
#[test]
fn west_greater_than_east_is_a_typo_unless_meant() {
    let dir = tempfile::tempdir().unwrap();
    let dem = shaped::dem(dir.path());
    let typo = [11.04, 46.96, 11.0, 47.0];
    for o in [
        CubeOptions::default().with_bbox(typo),
        CubeOptions::default().with_grid(Grid::default().with_bounds_lonlat(typo)),
    ] {
        let msg = plan_err(&dem, &["data"], &o);
        assert!(
            msg.contains("west 11.04 > east 11") && msg.contains("swap west and east"),
            "{msg}"
        );
    }
    // Explicitly asked for: read as a 359.96° box east from 11.04°E, which
    // the DEM overlaps (it is kept) and the grid spans.
    let o = CubeOptions::default()
        .with_bbox(typo)
        .with_antimeridian(true)
        .with_grid(Grid::default().with_bounds_lonlat(typo));
    let plan = DatasetCollection::plan(&dem, &["data"], &o).unwrap();
    assert_eq!(plan.source_count(), 1);
    assert_eq!((plan.grid().cols, plan.grid().rows), (359_960, 40));
    // Limited by the pixel limit like any large grid.
    let msg = plan_err(&dem, &["data"], &o.with_max_pixels(1_000_000));
    assert!(msg.contains("pixel limit"), "{msg}");
}

/// 5. `max_items(0)` is refused, not read as 1.
#[test]
fn max_items_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dem = shaped::dem(dir.path());
    let e = DatasetCollection::plan(&dem, &["data"], &CubeOptions::default().with_max_items(0))
        .unwrap_err();
    assert!(
        matches!(
            e,
            CubeError::InvalidOption {
                option: "max_items",
                ..
            }
        ),
        "{e}"
    );
    let plan = DatasetCollection::plan(&dem, &["data"], &CubeOptions::default().with_max_items(1))
        .unwrap();
    assert_eq!(plan.timesteps().len(), 1);
}

/// 7. `key.N` beyond the asset's band count is an error naming the count.
#[test]
fn band_beyond_the_asset_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let aster = shaped::aster(dir.path());
    let msg = plan_err(&aster, &["VNIR.9"], &CubeOptions::default());
    assert!(
        msg.contains("band 9 requested") && msg.contains("has 3 bands") && msg.contains("VNIR"),
        "{msg}"
    );
    let cube = DatasetCollection::from_stac(&aster, &["VNIR.3"], &CubeOptions::default()).unwrap();
    assert_eq!(cube.read_array::<u8>()[[0, 0, 0, 0]], 30);
    let whole = DatasetCollection::plan(&aster, &["VNIR"], &CubeOptions::default()).unwrap();
    assert_eq!(
        whole.band_names(),
        ["VNIR.VNIR_Band1", "VNIR.VNIR_Band2", "VNIR.VNIR_Band3N"]
    );
}

/// 8. The plan's type and `output_bytes` agree: from metadata, or (no
///    `data_type` declared) from one file's header, never 8 bytes assumed.
#[test]
fn plan_type_and_bytes_agree() {
    let dir = tempfile::tempdir().unwrap();
    let typed = shaped::landcover(dir.path(), true);
    let plan = DatasetCollection::plan(&typed, &["data"], &CubeOptions::default()).unwrap();
    assert_eq!(plan.data_type(), Some(DataType::Uint8));
    assert_eq!(plan.output_bytes(), Some(40 * 40));
    let untyped = shaped::landcover(dir.path(), false);
    let mut plan = DatasetCollection::plan(&untyped, &["data"], &CubeOptions::default()).unwrap();
    assert_eq!(plan.data_type(), None);
    assert_eq!(plan.output_bytes(), None);
    assert_eq!(plan.summary()["dtype"], Value::Null);
    assert_eq!(plan.resolve_data_type().unwrap(), DataType::Uint8);
    assert_eq!(plan.output_bytes(), Some(40 * 40));
    let s = plan.summary();
    assert_eq!(s["dtype"], "uint8");
    assert_eq!(s["output_bytes"], 1600);
    // The plan's time axis has the shape of a run's.
    let run = plan.load().unwrap().summary();
    assert_eq!(s["time"], run["time"]);
    assert_eq!(s["shape"], run["shape"]);
    assert_eq!(s["dtype"], run["dtype"]);
}

/// 9. A subset (`bounds`) or a coarser multiple (`resolution`) of the UTM
///    land-cover cube stays on the full cube's lattice (1.13 m off the 10 m
///    multiples), and the pixels match; MODIS' whole-pixel origin is
///    reported as no offset.
#[test]
fn subset_cubes_stay_on_the_full_cubes_lattice() {
    let dir = tempfile::tempdir().unwrap();
    let lc = shaped::landcover(dir.path(), true);
    let full = DatasetCollection::from_stac(&lc, &["data"], &CubeOptions::default()).unwrap();
    let fgt = full.geotransform();
    assert_eq!(fgt[0], 300_001.13);
    assert!(
        full.grid_report().anchor.contains("offset by 1.13, 1.13"),
        "{}",
        full.grid_report().anchor
    );
    // A lon/lat box inside the tile.
    let a = shaped::lonlat_of(300_062.0, 5_099_938.0, 32633);
    let b = shaped::lonlat_of(300_248.0, 5_099_752.0, 32633);
    let bbox = [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[0].max(b[0]),
        a[1].max(b[1]),
    ];
    let sub = DatasetCollection::from_stac(
        &lc,
        &["data"],
        &CubeOptions::default().with_grid(Grid::default().with_bounds_lonlat(bbox)),
    )
    .unwrap();
    let sgt = sub.geotransform();
    let dx = (sgt[0] - fgt[0]) / 10.0;
    let dy = (fgt[3] - sgt[3]) / 10.0;
    assert!(
        (dx - dx.round()).abs() < 1e-6 && (dy - dy.round()).abs() < 1e-6,
        "subset origin {sgt:?} is off the full grid {fgt:?}"
    );
    // Same pixels at the same place.
    let (c0, r0) = (dx.round() as usize, dy.round() as usize);
    let fa = full.read_array::<u8>();
    let sa = sub.read_array::<u8>();
    let (_, _, h, w) = sub.shape();
    for r in 0..h {
        for c in 0..w {
            assert_eq!(sa[[0, 0, r, c]], fa[[0, 0, r0 + r, c0 + c]]);
        }
    }
    // Grid-CRS bounds and a coarser resolution keep the lattice too.
    let coarse = DatasetCollection::plan(
        &lc,
        &["data"],
        &CubeOptions::default().with_grid(Grid::default().with_resolution(20.0).with_bounds([
            300_050.0,
            5_099_750.0,
            300_250.0,
            5_099_950.0,
        ])),
    )
    .unwrap();
    let cgt = coarse.grid().geotransform;
    assert!((cgt[0] - 300_041.13).abs() < 1e-6, "{cgt:?}");
    assert!((cgt[3] - 5_099_961.13).abs() < 1e-6, "{cgt:?}");
    // MODIS: -20015109.354 is 43200 whole pixels; no "offset 463.31".
    let modis = shaped::modis(dir.path());
    let plan =
        DatasetCollection::plan(&modis[..1], &["sur_refl_b01"], &CubeOptions::default()).unwrap();
    let anchor = &plan.grid_report().anchor;
    assert!(!anchor.contains("463"), "{anchor}");
    assert!(anchor.contains("native alignment"), "{anchor}");
}

/// 10. A resolution implausible for the CRS's units is warned about (in
///     the report the CLI prints); plausible ones are not.
#[test]
fn implausible_resolutions_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let dem = shaped::dem(dir.path());
    let plan = DatasetCollection::plan(
        &dem,
        &["data"],
        &CubeOptions::default()
            .with_grid(Grid::default().with_crs_epsg(4326).with_resolution(60.0)),
    )
    .unwrap();
    let w = &plan.grid_report().warnings;
    assert!(
        w.len() == 1 && w[0].contains("resolution 60 is in degrees") && w[0].contains("EPSG:4326"),
        "{w:?}"
    );
    let ok = DatasetCollection::plan(
        &dem,
        &["data"],
        &CubeOptions::default()
            .with_grid(Grid::default().with_crs_epsg(4326).with_resolution(0.0005)),
    )
    .unwrap();
    assert!(ok.grid_report().warnings.is_empty());
    let lc = shaped::landcover(dir.path(), true);
    let tiny = DatasetCollection::plan(
        &lc,
        &["data"],
        &CubeOptions::default().with_max_pixels(u64::MAX).with_grid(
            Grid::default().with_resolution(0.0001).with_bounds([
                300_010.0,
                5_099_990.0,
                300_010.1,
                5_099_990.1,
            ]),
        ),
    )
    .unwrap();
    assert!(
        tiny.grid_report()
            .warnings
            .iter()
            .any(|w| w.contains("meant in degrees")),
        "{:?}",
        tiny.grid_report().warnings
    );
}

/// Messages: an unknown requested CRS says so; the pixel limit and an empty
/// selection name no library type.
#[test]
fn planning_messages_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let dem = shaped::dem(dir.path());
    let msg = plan_err(
        &dem,
        &["data"],
        &CubeOptions::default().with_grid(Grid::default().with_crs_epsg(99999)),
    );
    assert!(msg.contains("unknown CRS EPSG:99999"), "{msg}");
    let msg = plan_err(
        &dem,
        &["data"],
        &CubeOptions::default()
            .with_max_pixels(10)
            .with_grid(Grid::default()),
    );
    assert!(
        !msg.contains("CubeOptions") && msg.contains("pixel limit"),
        "{msg}"
    );
    let msg = plan_err(
        &dem,
        &["data"],
        &CubeOptions::default().with_bbox([0.0, 0.0, 1.0, 1.0]),
    );
    assert!(
        !msg.contains("from_stac") && msg.contains("overlaps the bbox"),
        "{msg}"
    );
}
