//! Grid planning on real STAC items from `../shared/data/stac-items`, with
//! no file opened (the hrefs point at the internet, which tests never reach).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::Value;
use stac_cube::{CubeOptions, DatasetCollection, Grid};
use stac_raster::Crs;

fn fixture(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(stac_fixtures::stac_item_file(name)).unwrap();
    stac_meta::parse_items(&text).unwrap()
}

fn big() -> CubeOptions {
    CubeOptions::default().with_max_pixels(u64::MAX)
}

#[test]
fn sentinel2_per_band_resolutions_plan_the_finest_grid_without_io() {
    let items = fixture("pc-sentinel-2-l2a-two.json");
    let plan = DatasetCollection::plan(&items, &["B04", "B05", "B01"], &big()).unwrap();
    let g = plan.grid();
    assert_eq!(g.crs, Crs::Epsg(32613));
    assert_eq!(g.geotransform, [399960.0, 10.0, 0.0, 4500000.0, 0.0, -10.0]);
    assert_eq!((g.rows, g.cols), (10980, 10980));
    assert_eq!(plan.grid_report().opened, 0);
    assert_eq!(plan.grid_report().from_metadata, 6);
    assert!(
        plan.grid_report().resolution.contains("10 x 10"),
        "{:?}",
        plan.grid_report()
    );
    assert_eq!(plan.band_names(), ["B04", "B05", "B01"]);
    assert_eq!(plan.timesteps().len(), 2);
    // A coarser explicit resolution and lon/lat bounds.
    let opts = big().with_grid(
        Grid::default()
            .with_resolution(60.0)
            .with_bounds_lonlat([-105.5, 40.0, -105.0, 40.5]),
    );
    let plan = DatasetCollection::plan(&items, &["B04"], &opts).unwrap();
    assert_eq!(plan.grid().geotransform[1], 60.0);
    assert_eq!(
        plan.grid().geotransform[0] % 60.0,
        0.0,
        "explicit bounds snap to the resolution"
    );
}

#[test]
fn earth_search_items_plan_from_proj_and_raster_metadata() {
    let items = fixture("earthsearch-sentinel-2-c1-l2a.json");
    let plan = DatasetCollection::plan(&items, &["red", "swir16"], &big()).unwrap();
    assert_eq!(plan.grid().geotransform[1], 10.0);
    assert_eq!(plan.grid_report().opened, 0);
    assert_eq!(plan.timesteps().len(), items.len());
    // Sorted by datetime.
    let dts: Vec<_> = plan
        .timesteps()
        .iter()
        .map(|t| t.datetime.unwrap())
        .collect();
    assert!(dts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn landsat_across_two_utm_zones_keeps_the_native_30m_alignment() {
    let items = fixture("pc-landsat-c2-l2.json");
    let plan = DatasetCollection::plan(&items, &["red", "nir08"], &big()).unwrap();
    let g = plan.grid();
    assert_eq!(g.crs, Crs::Epsg(32655), "3 of 4 scenes are in zone 55");
    // 2 assets x 4 items = 8 sources, 6 of them in zone 55.
    assert!(
        plan.grid_report().crs.contains("6 of 8"),
        "{:?}",
        plan.grid_report()
    );
    assert_eq!(g.geotransform[1], 30.0);
    // Landsat pixel edges sit at 15 m offsets: kept, so zone-55 scenes are copied, not resampled.
    assert_eq!(g.geotransform[0].rem_euclid(30.0), 15.0);
    assert_eq!(g.geotransform[3].rem_euclid(30.0), 15.0);
    assert_eq!(plan.grid_report().opened, 0);
    // The zone-56 scene extends the union eastwards past every zone-55 scene.
    let east = g.geotransform[0] + g.cols as f64 * 30.0;
    assert!(east > 606285.0 + 7971.0 * 30.0, "{east}");
    // uint16 from raster:bands.
    assert_eq!(plan.data_type(), Some(stac_meta::DataType::Uint16));
}

#[test]
fn goes_with_wkt2_and_nine_element_transforms() {
    let items = fixture("pc-goes-cmi.json");
    let plan = DatasetCollection::plan(&items, &["C01_1km"], &big()).unwrap();
    let g = plan.grid();
    assert!(
        matches!(g.crs, Crs::Wkt(ref w) if w.contains("Geostationary")),
        "{:?}",
        g.crs
    );
    assert!((g.geotransform[1] - 1002.0086577437705).abs() < 1e-9);
    assert_eq!((g.rows, g.cols), (3000, 5000));
    assert_eq!(plan.data_type(), Some(stac_meta::DataType::Int16));
    assert_eq!(plan.grid_report().opened, 0);
}

#[test]
fn modis_sinusoidal_plans_on_its_own_grid() {
    let items = fixture("pc-modis-09A1-061.json");
    let plan = DatasetCollection::plan(&items, &["sur_refl_b01"], &big()).unwrap();
    let g = plan.grid();
    assert!(
        matches!(g.crs, Crs::Wkt(ref w) if w.contains("Sinusoidal")),
        "{:?}",
        g.crs
    );
    assert_eq!((g.rows, g.cols), (2400, 2400));
    assert!((g.geotransform[0] - 18903158.834333).abs() < 1e-6);
    assert_eq!(plan.grid_report().opened, 0);
    // Onto a lon/lat grid instead: the sinusoidal footprint is reprojected.
    let ll = big().with_grid(Grid::default().with_crs_epsg(4326).with_resolution(0.005));
    let plan = DatasetCollection::plan(&items, &["sur_refl_b01"], &ll).unwrap();
    let gt = plan.grid().geotransform;
    assert!(gt[0] > 170.0 && gt[0] < 180.5, "{gt:?}");
    assert!(gt[3] > -10.5 && gt[3] < -9.5, "{gt:?}");
    // The tile's sinusoidal extent crosses the antimeridian: the grid
    // continues past 180 instead of wrapping to a world-wide box.
    let east = gt[0] + plan.grid().cols as f64 * gt[1];
    assert!(east > 180.0 && east < 200.0, "{east}");
    assert!(
        plan.grid_report()
            .notes
            .iter()
            .any(|n| n.contains("antimeridian"))
    );
}

#[test]
fn a_plan_describes_its_xarray_layout_without_reading_pixels() {
    let items = fixture("earthsearch-sentinel-2-c1-l2a.json");
    let plan = DatasetCollection::plan(&items, &["red", "nir"], &big()).unwrap();
    let layout = plan.layout().unwrap();
    assert_eq!(plan.grid_report().opened, 0, "no file opened");
    assert_eq!(layout.dims(), ["time", "y", "x"]);
    assert_eq!(layout.shape(), [10, 10980, 10980]);
    // Time: sorted, microseconds since the first, as xarray encodes it.
    assert_eq!(
        layout.time.units,
        "milliseconds since 2024-03-31 18:02:54.659000"
    );
    assert_eq!(layout.time.encoded[0], 0);
    assert_eq!(layout.item_ids[0], ["S2B_T13TDE_20240331T175111_L2A"]);
    assert!(layout.group_keys.is_none());
    // Pixel centres of the 10 m grid.
    assert_eq!(layout.x.values[0], 399965.0);
    assert_eq!(layout.y.values[0], 4499995.0);
    assert_eq!(layout.x.units, "metre");
    // The grid mapping: EPSG, WKT naming the zone, GeoTransform.
    assert_eq!(layout.spatial_ref.epsg, 32613);
    assert!(layout.spatial_ref.crs_wkt.contains("UTM zone 13N"));
    assert_eq!(
        layout.spatial_ref.geo_transform,
        "399960 10 0 4500000 0 -10"
    );
    // Bands: raster:bands type, nodata, scale/offset; eo:bands metadata.
    let red = &layout.bands[0];
    assert_eq!(red.name, "red");
    assert_eq!(red.dtype, stac_meta::DataType::Uint16);
    let a = red.attrs();
    assert_eq!(a["nodata"], 0);
    assert_eq!(a["scale_factor"], 0.0001);
    assert_eq!(a["add_offset"], -0.1);
    assert_eq!(a["common_name"], "red");
    assert_eq!(a["wavelength"], 0.665);
    assert_eq!(layout.bands[1].attrs()["common_name"], "nir");
    // Rescaled cubes store physical values: no scale attributes, NaN fill.
    let plan = DatasetCollection::plan(&items, &["red"], &big().with_rescale(true)).unwrap();
    let layout = plan.layout().unwrap();
    assert_eq!(layout.bands[0].dtype, stac_meta::DataType::Float32);
    assert!(!layout.bands[0].attrs().contains_key("scale_factor"));
    assert!(layout.bands[0].fill_value.unwrap().is_nan());
    // Grouped by solar day: the key per timestep.
    let plan = DatasetCollection::plan(
        &items,
        &["red"],
        &big().with_groupby(stac_cube::GroupBy::SolarDay),
    )
    .unwrap();
    let layout = plan.layout().unwrap();
    assert_eq!(layout.group_keys.as_ref().unwrap()[0], "2024-03-31");
    assert_eq!(
        layout.bands[0].attrs()["coordinates"],
        "stac_items group_key"
    );
}
