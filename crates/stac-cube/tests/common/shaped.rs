//! Items shaped like the real catalogs of issue 15, with real GeoTIFFs (and
//! real metadata files) written into a temporary folder: a MODIS-like
//! sinusoidal pair with `proj:wkt2` on both edges of the world, a
//! Landsat-like scene with 15 m and 30 m assets and MTL/XML/JSON metadata
//! assets, an ASTER-like 3-band VNIR asset, a Copernicus-DEM-like tile in
//! EPSG:4326 and a UTM land-cover tile whose origin is 1.13 m off the 10 m
//! lattice. Shared by stac-cube's library tests and the CLI's tests (which
//! include this file by path, with `raster` bound to `stac_gdal::raster`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3};
use serde_json::{Value, json};

use super::raster::{Crs, Dataset, GridSpec};

/// The MODIS sinusoidal CRS as Planetary Computer's items give it (`proj:wkt2`).
pub(crate) const SINUSOIDAL: &str = r#"PROJCS["unnamed",GEOGCS["Unknown datum based upon the custom spheroid",DATUM["Not specified (based on custom spheroid)",SPHEROID["Custom spheroid",6371007.181,0]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]]],PROJECTION["Sinusoidal"],PARAMETER["longitude_of_center",0],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["Meter",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]"#;

/// MODIS' 500 m pixel, and a tile's side in metres (2400 pixels).
pub(crate) const MODIS_RES: f64 = 463.312_716_527_916_5;
const MODIS_TILE: f64 = 1_111_950.519_667;
const MODIS_EDGE: f64 = 20_015_109.354;

fn write_u16(path: &Path, gt: [f64; 6], crs: Crs, rows: usize, cols: usize, value: u16) {
    let arr = Array2::from_shape_fn((rows, cols), |(r, c)| value + ((r + c) % 3) as u16);
    Dataset::create_from_array(&arr, &GridSpec::from_geotransform(gt, Some(crs)), Some(0.0))
        .unwrap()
        .to_file(path)
        .unwrap();
}

fn affine(gt: [f64; 6]) -> Value {
    json!([gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]])
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Two MODIS-like 09A1 items, tiles h35v08 (east edge) and h00v08 (west
/// edge), 24 x 24 pixels of 100 MODIS pixels each so the files stay small,
/// grid from `proj:wkt2` + `proj:transform` + `proj:shape`, with the
/// HDF4 container and its XML metadata as assets too.
pub(crate) fn modis(dir: &Path) -> Vec<Value> {
    let res = MODIS_RES * 100.0;
    let mut items = Vec::new();
    for (h, x0) in [("h35v08", MODIS_EDGE - MODIS_TILE), ("h00v08", -MODIS_EDGE)] {
        let gt = [x0, res, 0.0, MODIS_TILE, 0.0, -res];
        let tif = dir.join(format!("MOD09A1.A2021001.{h}.061_sur_refl_b01.tif"));
        write_u16(&tif, gt, Crs::Wkt(SINUSOIDAL.into()), 24, 24, 100);
        let hdf = dir.join(format!("MOD09A1.A2021001.{h}.061.hdf"));
        std::fs::write(&hdf, b"\x0e\x03\x13\x01 HDF4 container").unwrap();
        let xml = dir.join(format!("MOD09A1.A2021001.{h}.061.hdf.xml"));
        std::fs::write(&xml, "<GranuleMetaDataFile/>").unwrap();
        let (w, e) = if h == "h35v08" {
            (169.0, 180.0)
        } else {
            (-180.0, -169.0)
        };
        items.push(json!({
            "type": "Feature", "stac_version": "1.0.0",
            "id": format!("MOD09A1.A2021001.{h}.061"),
            "collection": "modis-09A1-061",
            "bbox": [w, 0.0, e, 10.0],
            "geometry": null,
            "properties": {
                "datetime": "2021-01-01T00:00:00Z",
                "proj:epsg": null,
                "proj:wkt2": SINUSOIDAL,
                "proj:shape": [24, 24],
                "proj:transform": affine(gt)
            },
            "assets": {
                "sur_refl_b01": {"href": s(&tif), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                                 "roles": ["data", "reflectance"],
                                 "raster:bands": [{"data_type": "uint16", "nodata": 0}]},
                "hdf": {"href": s(&hdf), "type": "application/x-hdf", "roles": ["data"]},
                "metadata": {"href": s(&xml), "type": "application/xml", "roles": ["metadata"]}
            }
        }));
    }
    items
}

/// A Landsat-like Collection 2 Level-2 scene in EPSG:32610 (`proj:code`
/// only): `red` at 30 m (origin on the xx85 lattice, 15 m off multiples of
/// 30), `pan` at 15 m, and the MTL text/XML/JSON metadata assets and a
/// tilejson link the catalogs carry.
pub(crate) fn landsat(dir: &Path) -> Vec<Value> {
    let (x0, y0) = (224_085.0, 4_100_715.0);
    let red = dir.join("LC09_L2SP_044034_20220111_02_T1_SR_B4.TIF");
    write_u16(
        &red,
        [x0, 30.0, 0.0, y0, 0.0, -30.0],
        Crs::Epsg(32610),
        8,
        8,
        7000,
    );
    let pan = dir.join("LC09_L1TP_044034_20220111_02_T1_B8.TIF");
    write_u16(
        &pan,
        [x0, 15.0, 0.0, y0, 0.0, -15.0],
        Crs::Epsg(32610),
        16,
        16,
        9000,
    );
    let mtl_txt = dir.join("LC09_MTL.txt");
    std::fs::write(&mtl_txt, "GROUP = LANDSAT_METADATA_FILE\nEND_GROUP\nEND\n").unwrap();
    let mtl_xml = dir.join("LC09_MTL.xml");
    std::fs::write(&mtl_xml, "<LANDSAT_METADATA_FILE/>").unwrap();
    let mtl_json = dir.join("LC09_MTL.json");
    std::fs::write(&mtl_json, "{\"LANDSAT_METADATA_FILE\": {}}").unwrap();
    let cog = "image/tiff; application=geotiff; profile=cloud-optimized";
    vec![json!({
        "type": "Feature", "stac_version": "1.0.0",
        "id": "LC09_L2SP_044034_20220111_02_T1",
        "collection": "landsat-c2-l2",
        "bbox": [-124.1, 36.9, -124.0, 37.0],
        "geometry": null,
        "properties": {"datetime": "2022-01-11T18:50:00Z", "proj:code": "EPSG:32610"},
        "assets": {
            "red": {"href": s(&red), "type": cog, "roles": ["data", "reflectance"],
                    "proj:shape": [8, 8], "proj:transform": [30.0, 0.0, x0, 0.0, -30.0, y0],
                    "raster:bands": [{"data_type": "uint16", "nodata": 0, "scale": 2.75e-05, "offset": -0.2}]},
            "pan": {"href": s(&pan), "type": cog, "roles": ["data"],
                    "proj:shape": [16, 16], "proj:transform": [15.0, 0.0, x0, 0.0, -15.0, y0],
                    "raster:bands": [{"data_type": "uint16", "nodata": 0}]},
            "mtl.txt": {"href": s(&mtl_txt), "type": "text/plain", "roles": ["metadata"]},
            "mtl.xml": {"href": s(&mtl_xml), "type": "application/xml", "roles": ["metadata"]},
            "mtl.json": {"href": s(&mtl_json), "type": "application/json", "roles": ["metadata"]},
            "tilejson": {"href": "https://planetarycomputer.microsoft.com/api/data/v1/item/tilejson.json?collection=landsat-c2-l2",
                         "type": "application/json", "roles": ["tiles"]}
        }
    })]
}

/// An ASTER-like L1T item: a 3-band VNIR asset (15 m, uint8) with
/// `eo:bands` and `raster:bands`, in EPSG:32617.
pub(crate) fn aster(dir: &Path) -> Vec<Value> {
    let (x0, y0) = (500_000.0, 4_000_000.0);
    let vnir = dir.join("AST_L1T_00305032000040446_VNIR.tif");
    let arr = Array3::from_shape_fn((3, 8, 8), |(b, r, c)| (10 * (b + 1) + (r + c) % 2) as u8);
    Dataset::create_from_array(
        &arr,
        &GridSpec::from_geotransform([x0, 15.0, 0.0, y0, 0.0, -15.0], Some(Crs::Epsg(32617))),
        Some(0.0),
    )
    .unwrap()
    .to_file(&vnir)
    .unwrap();
    vec![json!({
        "type": "Feature", "stac_version": "1.0.0",
        "id": "AST_L1T_00305032000040446_20150409135350_78838",
        "collection": "aster-l1t",
        "bbox": [-81.01, 36.13, -80.99, 36.14],
        "geometry": null,
        "properties": {"datetime": "2000-05-03T04:04:46Z", "proj:epsg": 32617},
        "assets": {
            "VNIR": {"href": s(&vnir), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                     "roles": ["data"],
                     "proj:shape": [8, 8], "proj:transform": [15.0, 0.0, x0, 0.0, -15.0, y0],
                     "eo:bands": [{"name": "VNIR_Band1", "common_name": "green"},
                                  {"name": "VNIR_Band2", "common_name": "red"},
                                  {"name": "VNIR_Band3N", "common_name": "nir"}],
                     "raster:bands": [{"data_type": "uint8", "nodata": 0},
                                      {"data_type": "uint8", "nodata": 0},
                                      {"data_type": "uint8", "nodata": 0}]}
        }
    })]
}

/// A Copernicus-DEM-like tile in EPSG:4326: 50 x 50 float32 pixels of
/// 0.001°, top-left at (11°E, 47°N).
pub(crate) fn dem(dir: &Path) -> Vec<Value> {
    let tif = dir.join("Copernicus_DSM_COG_10_N46_00_E011_00_DEM.tif");
    let arr = Array2::from_shape_fn((50, 50), |(r, c)| 1000.0f32 + (r * 50 + c) as f32);
    Dataset::create_from_array(
        &arr,
        &GridSpec::north_up([11.0, 47.0], 0.001, 4326),
        Some(-32767.0),
    )
    .unwrap()
    .to_file(&tif)
    .unwrap();
    vec![json!({
        "type": "Feature", "stac_version": "1.0.0",
        "id": "Copernicus_DSM_COG_10_N46_00_E011_00",
        "collection": "cop-dem-glo-30",
        "bbox": [11.0, 46.95, 11.05, 47.0],
        "geometry": null,
        "properties": {"datetime": "2021-04-22T00:00:00Z", "proj:epsg": 4326,
                       "proj:shape": [50, 50], "proj:transform": [0.001, 0.0, 11.0, 0.0, -0.001, 47.0]},
        "assets": {
            "data": {"href": s(&tif), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                     "roles": ["data"], "raster:bands": [{"data_type": "float32", "nodata": -32767}]}
        }
    })]
}

/// A UTM land-cover tile (io-lulc-like, EPSG:32633, 10 m, uint8) whose
/// origin sits 1.13 m off the multiples of 10 m. `with_type` = whether
/// `raster:bands` declares the data type.
pub(crate) fn landcover(dir: &Path, with_type: bool) -> Vec<Value> {
    let (x0, y0) = (300_001.13, 5_100_001.13);
    let tif = dir.join(format!("33T_20230101-20240101_{with_type}.tif"));
    let arr = Array2::from_shape_fn((40, 40), |(r, c)| 1 + ((r / 10 + c / 10) % 9) as u8);
    Dataset::create_from_array(
        &arr,
        &GridSpec::from_geotransform([x0, 10.0, 0.0, y0, 0.0, -10.0], Some(Crs::Epsg(32633))),
        Some(0.0),
    )
    .unwrap()
    .to_file(&tif)
    .unwrap();
    // The item's bbox from the tile's corners (the CLI's --bbox filters on it).
    let a = lonlat_of(x0, y0 - 400.0, 32633);
    let b = lonlat_of(x0 + 400.0, y0, 32633);
    let bbox = json!([
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[0].max(b[0]),
        a[1].max(b[1])
    ]);
    let bands = if with_type {
        json!([{"data_type": "uint8", "nodata": 0}])
    } else {
        json!([{"nodata": 0}])
    };
    vec![json!({
        "type": "Feature", "stac_version": "1.0.0",
        "id": "33T-2023",
        "collection": "io-lulc-annual-v02",
        "bbox": bbox,
        "geometry": null,
        "properties": {"datetime": null, "start_datetime": "2023-01-01T00:00:00Z",
                       "end_datetime": "2024-01-01T00:00:00Z", "proj:epsg": 32633},
        "assets": {
            "data": {"href": s(&tif), "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                     "roles": ["data"],
                     "proj:shape": [40, 40], "proj:transform": [10.0, 0.0, x0, 0.0, -10.0, y0],
                     "raster:bands": bands},
            "tilejson": {"href": "https://planetarycomputer.microsoft.com/api/data/v1/item/tilejson.json",
                         "type": "application/json", "roles": ["tiles"]}
        }
    })]
}

/// Write `items` as a FeatureCollection file and return its path.
pub(crate) fn write_items(dir: &Path, name: &str, items: &[Value]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        json!({"type": "FeatureCollection", "features": items}).to_string(),
    )
    .unwrap();
    p
}

/// The lon/lat of a point in `epsg`.
pub(crate) fn lonlat_of(x: f64, y: f64, epsg: u32) -> [f64; 2] {
    super::raster::transform_point(x, y, &Crs::Epsg(epsg), &Crs::Epsg(4326)).unwrap()
}
