//! `Dataset::to_stac_item` against pyramids' reference output and the STAC
//! Item / projection / raster JSON schemas.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::PathBuf;

use ndarray::Array2;
use serde_json::Value;
use stac_raster::{BandOptions, Crs, Dataset, FootprintOptions, GridSpec, ItemOptions};

fn seed_b04(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("B04.tif");
    Dataset::create_from_array(
        &Array2::<u16>::from_elem((4, 4), 1),
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&path)
    .unwrap();
    path
}

#[test]
fn seed_cell_equals_pyramids_reference_except_href() {
    let dir = tempfile::tempdir().unwrap();
    let b04 = seed_b04(dir.path());
    let href = b04.to_str().unwrap();
    let item = Dataset::open(href)
        .unwrap()
        .to_stac_item(
            "scene-0",
            &ItemOptions::new(href)
                .with_media_type("image/tiff; application=geotiff")
                .with_datetime("2021-06-01T00:00:00Z"),
        )
        .unwrap();
    let text = std::fs::read_to_string(stac_fixtures::shared_file(
        "reference/pyramids-outputs/to_stac_item.json",
    ))
    .unwrap();
    let mut expected: Value = serde_json::from_str(&text).unwrap();
    expected["assets"]["data"]["href"] = Value::String(href.to_owned());
    assert_eq!(item, expected);
    // Key order too (serde_json preserve_order): compare serialisations.
    assert_eq!(
        serde_json::to_string_pretty(&item).unwrap(),
        serde_json::to_string_pretty(&expected).unwrap()
    );
    // The seed cell's printed values.
    assert_eq!(item["properties"]["proj:code"], "EPSG:32630");
    let rounded: Vec<f64> = item["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_f64().unwrap() * 1e4).round() / 1e4)
        .collect();
    assert_eq!(rounded, [-1.6634, 47.8452, -1.6629, 47.8456]);
}

#[test]
fn seed_bbox_holds_without_densification_and_with_heavy_densification() {
    let ds = Dataset::create_from_array(
        &Array2::<u16>::from_elem((4, 4), 1),
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap();
    for n in [0, 5, 100] {
        let item = ds
            .to_stac_item(
                "s",
                &ItemOptions::new("x.tif")
                    .with_datetime("2021-06-01T00:00:00Z")
                    .with_footprint(FootprintOptions::default().with_densify_points(n)),
            )
            .unwrap();
        assert_eq!(
            item["bbox"],
            serde_json::json!([-1.663418, 47.845195, -1.662875, 47.845561]),
            "densify {n}"
        );
    }
}

#[test]
fn large_raster_footprint_keeps_densified_points_on_curved_edges() {
    // A 1000 km wide UTM raster: its edges curve in lon/lat.
    let ds = Dataset::create_from_array(
        &Array2::<u8>::zeros((10, 10)),
        &GridSpec::north_up([0.0, 8_000_000.0], 100_000.0, 32630),
        None,
    )
    .unwrap();
    let opts = ItemOptions::new("x.tif").with_datetime("2021-06-01T00:00:00Z");
    let dense = ds.to_stac_item("d", &opts).unwrap();
    let ring = dense["geometry"]["coordinates"][0].as_array().unwrap();
    assert!(
        ring.len() > 5,
        "curved edges keep inserted points: {}",
        ring.len()
    );
    let plain = ds
        .to_stac_item(
            "p",
            &opts
                .clone()
                .with_footprint(FootprintOptions::default().with_densify_points(0)),
        )
        .unwrap();
    assert_eq!(
        plain["geometry"]["coordinates"][0]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // The densified bbox reaches further than the corners alone.
    let (d, p) = (&dense["bbox"], &plain["bbox"]);
    assert!(d[3].as_f64().unwrap() >= p[3].as_f64().unwrap());
    assert_ne!(d, p);
}

#[test]
fn antimeridian_crossing_raster_is_split_into_multipolygon() {
    // UTM zone 60N (EPSG:32660) raster straddling 180 degrees.
    let ds = Dataset::create_from_array(
        &Array2::<u8>::from_elem((10, 10), 1),
        &GridSpec::north_up([600_000.0, 7_000_000.0], 10_000.0, 32660),
        None,
    )
    .unwrap();
    let item = ds
        .to_stac_item(
            "am",
            &ItemOptions::new("x.tif").with_datetime("2021-06-01T00:00:00Z"),
        )
        .unwrap();
    assert_eq!(item["geometry"]["type"], "MultiPolygon");
    let bbox: Vec<f64> = item["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(bbox[0] > bbox[2], "RFC 7946 bbox west > east: {bbox:?}");
    assert!(bbox[0] > 170.0 && bbox[2] < -170.0, "{bbox:?}");
    for poly in item["geometry"]["coordinates"].as_array().unwrap() {
        let ring = poly[0].as_array().unwrap();
        assert_eq!(ring.first(), ring.last());
        for p in ring {
            let lon = p[0].as_f64().unwrap();
            assert!((-180.0..=180.0).contains(&lon), "{lon}");
        }
    }
}

#[test]
fn crs_without_epsg_writes_wkt2_and_authority_code() {
    // World Mollweide: ESRI authority, no EPSG code.
    let ds = Dataset::create_from_array(
        &Array2::<f32>::zeros((3, 3)),
        &GridSpec::from_geotransform(
            [0.0, 1000.0, 0.0, 5_000_000.0, 0.0, -1000.0],
            Some(Crs::parse("ESRI:54009").unwrap()),
        ),
        Some(f64::NAN),
    )
    .unwrap();
    assert_eq!(ds.epsg(), None);
    let item = ds
        .to_stac_item(
            "moll",
            &ItemOptions::new("m.tif").with_datetime("2021-06-01T00:00:00Z"),
        )
        .unwrap();
    let props = &item["properties"];
    assert!(props.get("proj:epsg").is_none());
    assert_eq!(props["proj:code"], "ESRI:54009");
    let wkt2 = props["proj:wkt2"].as_str().unwrap();
    assert!(wkt2.starts_with("PROJCRS["), "{wkt2}");
    assert!(wkt2.contains("Mollweide"));
    assert_eq!(item["assets"]["data"]["raster:bands"][0]["nodata"], "nan");
    assert_eq!(
        item["assets"]["data"]["raster:bands"][0]["data_type"],
        "float32"
    );
    // A custom CRS with no authority at all: wkt2 only.
    let custom = "+proj=tmerc +lat_0=0 +lon_0=3.3 +k=0.9996 +x_0=500000 +y_0=0 +datum=WGS84 +units=m +no_defs";
    let ds2 = Dataset::create_from_array(
        &Array2::<f32>::zeros((2, 2)),
        &GridSpec::from_geotransform(
            [500000.0, 10.0, 0.0, 100.0, 0.0, -10.0],
            Some(Crs::parse(custom).unwrap()),
        ),
        None,
    )
    .unwrap();
    let item2 = ds2
        .to_stac_item(
            "c",
            &ItemOptions::new("c.tif").with_datetime("2021-06-01T00:00:00Z"),
        )
        .unwrap();
    assert!(item2["properties"].get("proj:code").is_none());
    assert!(
        item2["properties"]["proj:wkt2"]
            .as_str()
            .unwrap()
            .contains("3.3")
    );
}

#[test]
fn band_options_write_stats_histogram_eo_and_packing() {
    let arr = Array2::<i16>::from_shape_fn((4, 4), |(r, c)| (r * 4 + c) as i16);
    let mut ds = Dataset::create_from_array(
        &arr,
        &GridSpec::north_up([500000.0, 0.0], 10.0, 32633),
        Some(0.0),
    )
    .unwrap();
    ds.set_band_names(&["red"]).unwrap();
    {
        let mut band = ds.inner_mut().rasterband(1).unwrap();
        band.set_scale(0.5).unwrap();
        band.set_offset(-1.0).unwrap();
    }
    let item = ds
        .to_stac_item(
            "stats",
            &ItemOptions::new("s.tif")
                .with_range("2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z")
                .with_bands(BandOptions {
                    with_stats: true,
                    with_histogram: true,
                    histogram_bins: 3,
                    with_eo: true,
                    stats_approx_ok: false,
                }),
        )
        .unwrap();
    assert_eq!(item["properties"]["datetime"], Value::Null);
    assert_eq!(item["properties"]["start_datetime"], "2021-01-01T00:00:00Z");
    let band = &item["assets"]["data"]["raster:bands"][0];
    assert_eq!(band["data_type"], "int16");
    assert_eq!(band["scale"], 0.5);
    assert_eq!(band["offset"], -1.0);
    // Values 1..=15 (0 is nodata).
    assert_eq!(band["statistics"]["minimum"], 1.0);
    assert_eq!(band["statistics"]["maximum"], 15.0);
    assert_eq!(band["statistics"]["mean"], 8.0);
    assert_eq!(band["histogram"]["buckets"], serde_json::json!([5, 5, 5]));
    assert_eq!(
        item["assets"]["data"]["eo:bands"],
        serde_json::json!([{"name": "red"}])
    );
    assert_eq!(
        item["stac_extensions"].as_array().unwrap().last().unwrap(),
        stac_raster::EO_SCHEMA
    );
}

#[test]
fn valid_data_footprint_outlines_only_valid_pixels() {
    // 10 x 10 cells of 0.1 degree; the left 4 columns and the bottom 2 rows are nodata.
    let arr = Array2::<u8>::from_shape_fn((10, 10), |(r, c)| if c < 4 || r >= 8 { 0 } else { 5 });
    let ds = Dataset::create_from_array(
        &arr,
        &GridSpec::north_up([10.0, 50.0], 0.1, 4326),
        Some(0.0),
    )
    .unwrap();
    let opts = ItemOptions::new("v.tif").with_datetime("2021-06-01T00:00:00Z");
    let extent = ds.to_stac_item("e", &opts).unwrap();
    assert_eq!(extent["bbox"], serde_json::json!([10.0, 49.0, 11.0, 50.0]));
    let data = ds
        .to_stac_item(
            "d",
            &opts
                .clone()
                .with_footprint(FootprintOptions::default().with_valid_data(1)),
        )
        .unwrap();
    assert_eq!(data["bbox"], serde_json::json!([10.4, 49.2, 11.0, 50.0]));
    assert_eq!(data["geometry"]["type"], "Polygon");
    // An L-shaped valid area keeps its concavity (no convex hull).
    let l_shape = Array2::<u8>::from_shape_fn((10, 10), |(r, c)| u8::from(r >= 5 || c < 5));
    let ds2 = Dataset::create_from_array(
        &l_shape,
        &GridSpec::north_up([10.0, 50.0], 0.1, 4326),
        Some(0.0),
    )
    .unwrap();
    let item2 = ds2
        .to_stac_item(
            "l",
            &opts.clone().with_footprint(
                FootprintOptions::default()
                    .with_valid_data(1)
                    .with_densify_points(0),
            ),
        )
        .unwrap();
    let ring = item2["geometry"]["coordinates"][0].as_array().unwrap();
    assert_eq!(ring.len(), 7, "6 corners of an L + closing point: {ring:?}");
    assert!(
        ring.contains(&serde_json::json!([10.5, 49.5])),
        "inner corner: {ring:?}"
    );
    // No valid pixel: falls back to the extent.
    let empty = Dataset::create_from_array(
        &Array2::<u8>::zeros((4, 4)),
        &GridSpec::north_up([10.0, 50.0], 0.1, 4326),
        Some(0.0),
    )
    .unwrap();
    let item3 = empty
        .to_stac_item(
            "z",
            &opts.with_footprint(FootprintOptions::default().with_valid_data(1)),
        )
        .unwrap();
    assert_eq!(item3["bbox"], serde_json::json!([10.0, 49.6, 10.4, 50.0]));
}

/// A datetime that is not RFC 3339 is refused, naming the field: the item
/// would be invalid STAC (issue 15, wrong result 6).
#[test]
fn datetimes_that_are_not_rfc3339_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b04 = seed_b04(dir.path());
    let href = b04.to_str().unwrap();
    let ds = Dataset::open(href).unwrap();
    for bad in ["notadate", "2021-13-45T00:00:00Z", "2021-06-01", ""] {
        let e = ds
            .to_stac_item("s", &ItemOptions::new(href).with_datetime(bad))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("datetime") && e.contains("RFC 3339"),
            "{bad}: {e}"
        );
    }
    let e = ds
        .to_stac_item(
            "s",
            &ItemOptions::new(href).with_range("2021-06-01T00:00:00Z", "June"),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("end_datetime \"June\""), "{e}");
    let ok = ds
        .to_stac_item(
            "s",
            &ItemOptions::new(href).with_datetime("2021-06-01T10:00:00+02:00"),
        )
        .unwrap();
    assert_eq!(ok["properties"]["datetime"], "2021-06-01T10:00:00+02:00");
}
