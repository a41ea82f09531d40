//! `load_asset` on real files GDAL writes: GeoTIFF, NetCDF (two variables),
//! GRIB2 and Zarr, plus rescaling and item-level windowed reads.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::Array2;
use serde_json::{Value, json};
use stac_raster::{
    Crs, Dataset, GridSpec, LoadOptions, PartOptions, RasterError, load_asset, read_item_part,
    read_item_point, read_item_preview,
};

/// 4 x 6 float32 ramp (value = 10 * row + col + base) on a 1-degree lon/lat grid.
fn write_ramp(path: &Path, base: f32) -> Array2<f32> {
    let arr = Array2::from_shape_fn((4, 6), |(r, c)| base + (10 * r + c) as f32);
    Dataset::create_from_array(
        &arr,
        &GridSpec::north_up([10.0, 50.0], 1.0, 4326),
        Some(-9999.0),
    )
    .unwrap()
    .to_file(path)
    .unwrap();
    arr
}

fn gdal(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn item(href: &str, media_type: Option<&str>) -> Value {
    let mut asset = json!({"href": href});
    if let Some(t) = media_type {
        asset["type"] = json!(t);
    }
    json!({"type": "Feature", "id": "it-1", "assets": {"data": asset}})
}

fn data(ds: &Dataset) -> Array2<f32> {
    ds.read_array::<f32>()
        .unwrap()
        .index_axis_move(ndarray::Axis(0), 0)
}

#[test]
fn geotiff_by_media_type_and_by_extension_relative_to_self_link() {
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("a.tif");
    let arr = write_ramp(&tif, 0.0);
    let ds = load_asset(
        &item(s(&tif), Some("image/tiff; application=geotiff")),
        Some("data"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(data(&ds), arr);
    assert_eq!(ds.epsg(), Some(4326));
    // Relative href against the item's self link; engine from the extension.
    let rel = json!({"id": "rel", "assets": {"data": {"href": "./a.tif"}},
        "links": [{"rel": "self", "href": s(&dir.path().join("item.json"))}]});
    assert_eq!(
        data(&load_asset(&rel, Some("data"), &LoadOptions::default()).unwrap()),
        arr
    );
    // Local hrefs get no HTTP read preset; every source gets its time
    // bounds and the security options.
    assert_eq!(ds.env().get("GDAL_HTTP_MULTIRANGE"), None);
    assert_eq!(ds.env().get("GDAL_VRT_ENABLE_PYTHON"), Some("NO"));
    assert!(ds.env().get("GDAL_HTTP_LOW_SPEED_TIME").is_some());
}

#[test]
fn netcdf_subdataset_by_variable_name() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.tif"), dir.path().join("b.tif"));
    let t2m = write_ramp(&a, 0.0);
    let sp = write_ramp(&b, 1000.0);
    let (a_nc, b_nc) = (dir.path().join("a.nc"), dir.path().join("b.nc"));
    gdal("gdal_translate", &["-q", "-of", "netCDF", s(&a), s(&a_nc)]);
    gdal("gdal_translate", &["-q", "-of", "netCDF", s(&b), s(&b_nc)]);
    // Two variables in one file, through a multidimensional VRT.
    let vrt = dir.path().join("two.vrt");
    std::fs::write(
        &vrt,
        format!(
            r#"<VRTDataset><Group name="/">
  <Dimension name="lat" size="4" type="HORIZONTAL_Y" indexingVariable="lat"/>
  <Dimension name="lon" size="6" type="HORIZONTAL_X" indexingVariable="lon"/>
  <Array name="lat"><DataType>Float64</DataType><DimensionRef ref="lat"/>
    <Attribute name="standard_name"><DataType>String</DataType><Value>latitude</Value></Attribute>
    <Attribute name="units"><DataType>String</DataType><Value>degrees_north</Value></Attribute>
    <Source><SourceFilename>{a}</SourceFilename><SourceArray>/lat</SourceArray></Source></Array>
  <Array name="lon"><DataType>Float64</DataType><DimensionRef ref="lon"/>
    <Attribute name="standard_name"><DataType>String</DataType><Value>longitude</Value></Attribute>
    <Attribute name="units"><DataType>String</DataType><Value>degrees_east</Value></Attribute>
    <Source><SourceFilename>{a}</SourceFilename><SourceArray>/lon</SourceArray></Source></Array>
  <Array name="t2m"><DataType>Float32</DataType><DimensionRef ref="lat"/><DimensionRef ref="lon"/>
    <Source><SourceFilename>{a}</SourceFilename><SourceArray>/Band1</SourceArray></Source></Array>
  <Array name="sp"><DataType>Float32</DataType><DimensionRef ref="lat"/><DimensionRef ref="lon"/>
    <Source><SourceFilename>{b}</SourceFilename><SourceArray>/Band1</SourceArray></Source></Array>
</Group></VRTDataset>"#,
            a = s(&a_nc),
            b = s(&b_nc)
        ),
    )
    .unwrap();
    let nc = dir.path().join("two.nc");
    gdal("gdalmdimtranslate", &["-q", s(&vrt), s(&nc)]);
    let it = item(s(&nc), Some("application/x-netcdf"));
    for (var, expected) in [("t2m", &t2m), ("sp", &sp)] {
        let ds = load_asset(
            &it,
            Some("data"),
            &LoadOptions::default().with_variable(var),
        )
        .unwrap();
        assert_eq!(ds.driver_name(), "netCDF");
        assert_eq!(&data(&ds), expected, "{var}");
        assert_eq!(
            ds.geotransform(),
            Some([10.0, 1.0, 0.0, 50.0, 0.0, -1.0]),
            "{var}"
        );
    }
    // Without a variable: an error that lists them, with item and asset.
    let err = load_asset(&it, Some("data"), &LoadOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("it-1") && msg.contains("t2m") && msg.contains("sp"),
        "{msg}"
    );
    // A single-variable file opens without naming it.
    let single = load_asset(&item(s(&a_nc), None), Some("data"), &LoadOptions::default()).unwrap();
    assert_eq!(data(&single), t2m);
}

#[test]
fn grib2_written_by_gdal() {
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("a.tif");
    let arr = write_ramp(&tif, 0.0);
    let grib = dir.path().join("a.grib2");
    gdal("gdal_translate", &["-q", "-of", "GRIB", s(&tif), s(&grib)]);
    let ds = load_asset(
        &item(s(&grib), Some("application/wmo-grib2")),
        Some("data"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(ds.driver_name(), "GRIB");
    assert_eq!(data(&ds), arr);
    let gt = ds.geotransform().unwrap();
    assert!(
        (gt[0] - 10.0).abs() < 1e-6 && (gt[3] - 50.0).abs() < 1e-6,
        "{gt:?}"
    );
}

#[test]
fn zarr_store_written_by_gdal() {
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("a.tif");
    let arr = write_ramp(&tif, 0.0);
    let zarr = dir.path().join("a.zarr");
    gdal("gdal_translate", &["-q", "-of", "Zarr", s(&tif), s(&zarr)]);
    let it = item(s(&zarr), None);
    let ds = load_asset(&it, Some("data"), &LoadOptions::default()).unwrap();
    assert_eq!(ds.driver_name(), "Zarr");
    assert_eq!(data(&ds), arr);
    assert_eq!(ds.nodata(), vec![Some(-9999.0)]);
    // By array name too.
    let named = load_asset(
        &it,
        Some("data"),
        &LoadOptions::default().with_variable("a"),
    )
    .unwrap();
    assert_eq!(data(&named), arr);
    assert!(
        load_asset(
            &it,
            Some("data"),
            &LoadOptions::default().with_variable("nope")
        )
        .is_err()
    );
}

#[test]
fn rescale_applies_raster_bands_scale_offset_and_masks_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("counts.tif");
    let arr = Array2::from_shape_fn((3, 3), |(r, c)| (r * 3 + c) as u16);
    Dataset::create_from_array(
        &arr,
        &GridSpec::north_up([0.0, 30.0], 10.0, 32633),
        Some(0.0),
    )
    .unwrap()
    .to_file(&tif)
    .unwrap();
    let it = json!({"id": "s2", "assets": {"B04": {"href": s(&tif), "type": "image/tiff",
        "raster:bands": [{"nodata": 0, "scale": 0.0001, "offset": -0.1}]}}});
    let plain = load_asset(&it, Some("B04"), &LoadOptions::default()).unwrap();
    assert_eq!(plain.data_type(), stac_raster::DataType::Uint16);
    let ds = load_asset(&it, Some("B04"), &LoadOptions::default().with_rescale(true)).unwrap();
    assert_eq!(ds.data_type(), stac_raster::DataType::Float32);
    let out = data(&ds);
    assert!(out[[0, 0]].is_nan(), "nodata becomes NaN");
    assert!((out[[2, 2]] - (8.0 * 0.0001 - 0.1)).abs() < 1e-7);
    assert!(ds.nodata()[0].unwrap().is_nan());
    assert_eq!(ds.epsg(), Some(32633));
}

#[test]
fn missing_and_unsupported_assets_are_typed_errors() {
    let it = json!({"id": "x", "assets": {"a": {"href": "/tmp/x.parquet"}, "b": {"type": "image/tiff"}}});
    let e = load_asset(&it, Some("a"), &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, RasterError::Meta(_)), "{e}");
    assert!(load_asset(&it, Some("b"), &LoadOptions::default()).is_err());
    assert!(load_asset(&it, Some("zz"), &LoadOptions::default()).is_err());
    let gone = json!({"id": "g", "assets": {"a": {"href": "/nonexistent/a.tif?sig=SECRET"}}});
    let e = load_asset(&gone, Some("a"), &LoadOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("'g'") && msg.contains("'a'"), "{msg}");
    assert!(!msg.contains("SECRET"), "{msg}");
}

#[test]
fn item_level_part_point_and_preview() {
    let dir = tempfile::tempdir().unwrap();
    let tif: PathBuf = dir.path().join("a.tif");
    let arr = write_ramp(&tif, 0.0);
    let it = item(s(&tif), None);
    // bbox in EPSG:4326 covering columns 1..3 and rows 1..2.
    let part = read_item_part::<f32>(
        &it,
        Some("data"),
        [11.2, 47.5, 13.8, 48.9],
        Some(&Crs::Epsg(4326)),
        &PartOptions::default(),
    )
    .unwrap();
    assert_eq!(part.window, stac_raster::Window::new(1, 1, 3, 2));
    assert_eq!(
        part.data.index_axis(ndarray::Axis(0), 0),
        arr.slice(ndarray::s![1..3, 1..4])
    );
    assert_eq!(part.geotransform, [11.0, 1.0, 0.0, 49.0, 0.0, -1.0]);
    assert_eq!(part.nodata, vec![Some(-9999.0)]);
    // The same cells from a Web Mercator bbox (x = R * lon, in radians).
    let r = 6378137.0f64;
    let merc_bbox = [
        11.2f64.to_radians() * r,
        6_100_000.0,
        13.8f64.to_radians() * r,
        6_250_000.0,
    ];
    let merc = read_item_part::<f32>(
        &it,
        Some("data"),
        merc_bbox,
        Some(&Crs::Epsg(3857)),
        &PartOptions::default(),
    )
    .unwrap();
    assert_eq!(merc.window, stac_raster::Window::new(1, 1, 3, 2));
    // Raster coordinates when no bbox CRS is given, decimated on request.
    let native = read_item_part::<f32>(
        &it,
        Some("data"),
        [10.0, 46.0, 16.0, 50.0],
        None,
        &PartOptions::default().with_out_shape(2, 3),
    )
    .unwrap();
    assert_eq!(native.data.dim(), (1, 2, 3));
    assert_eq!(native.geotransform, [10.0, 2.0, 0.0, 50.0, 0.0, -2.0]);
    let outside = read_item_part::<f32>(
        &it,
        Some("data"),
        [100.0, 0.0, 101.0, 1.0],
        Some(&Crs::Epsg(4326)),
        &PartOptions::default(),
    )
    .unwrap_err();
    assert!(outside.to_string().contains("outside"), "{outside}");
    let v = read_item_point::<f32>(&it, Some("data"), 12.5, 48.5, &LoadOptions::default()).unwrap();
    assert_eq!(v, vec![arr[[1, 2]]]);
    assert!(read_item_point::<f32>(&it, Some("data"), 0.0, 0.0, &LoadOptions::default()).is_err());
    let prev = read_item_preview::<f32>(&it, Some("data"), 3, &PartOptions::default()).unwrap();
    assert_eq!(prev.data.dim(), (1, 2, 3));
    assert_eq!(prev.geotransform, [10.0, 2.0, 0.0, 50.0, 0.0, -2.0]);
}
