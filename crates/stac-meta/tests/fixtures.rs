//! stac-meta over every real-world fixture in `../shared/data/stac-items`.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::PathBuf;

use serde_json::Value;
use stac_meta::{
    asset_href, assets, item_id, parse_items, properties, read_extension_metadata, which_engine,
};

fn fixture_files() -> Vec<PathBuf> {
    let files = stac_fixtures::stac_item_files();
    assert!(
        files.len() >= 20,
        "expected the full fixture set, found {}",
        files.len()
    );
    files
}

fn load(name: &str) -> Vec<Value> {
    parse_items(&std::fs::read_to_string(stac_fixtures::stac_item_file(name)).unwrap()).unwrap()
}

#[test]
fn every_container_parses_into_items_with_ids() {
    let mut total = 0;
    for file in fixture_files() {
        let items = parse_items(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!items.is_empty(), "{}", file.display());
        for item in &items {
            assert_ne!(item_id(item), "?", "{}: item without id", file.display());
            assert!(
                assets(item).is_some(),
                "{}: {} has no assets",
                file.display(),
                item_id(item)
            );
        }
        total += items.len();
    }
    // 4-item arrays, FC pages and single Items: the README's table adds up to 69.
    assert_eq!(total, 69);
}

#[test]
fn ndjson_of_the_fixtures_parses_to_the_same_items() {
    let items = load("pc-landsat-c2-l2.json");
    let ndjson: String = items
        .iter()
        .map(|i| format!("{}\n", serde_json::to_string(i).unwrap()))
        .collect();
    assert_eq!(parse_items(&ndjson).unwrap(), items);
}

/// Every asset that carries projection metadata (on itself or through the item's
/// properties) yields a geotransform and a shape, and a CRS unless the item has none.
#[test]
fn every_asset_with_proj_metadata_yields_a_grid() {
    let mut with_grid = 0;
    for file in fixture_files() {
        for item in parse_items(&std::fs::read_to_string(&file).unwrap()).unwrap() {
            let props = properties(&item).cloned().unwrap_or_default();
            for (key, asset) in assets(&item).unwrap() {
                let has = |k: &str| asset.get(k).is_some() || props.get(k).is_some();
                let meta = read_extension_metadata(&item, Some(key))
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                if has("proj:transform") {
                    assert!(
                        meta.geotransform.is_some(),
                        "{} {} {key}",
                        file.display(),
                        item_id(&item)
                    );
                }
                if has("proj:shape") {
                    assert!(
                        meta.shape.is_some(),
                        "{} {} {key}",
                        file.display(),
                        item_id(&item)
                    );
                }
                if meta.geotransform.is_some() && meta.shape.is_some() {
                    with_grid += 1;
                    assert!(
                        meta.crs.is_some(),
                        "{} {} {key}: grid without CRS",
                        file.display(),
                        item_id(&item)
                    );
                    let b = meta.bounds().unwrap();
                    assert!(
                        b[0] < b[2] && b[1] < b[3],
                        "{} {key}: degenerate bounds {b:?}",
                        file.display()
                    );
                }
            }
        }
    }
    assert!(with_grid > 700, "only {with_grid} assets had a grid");
}

#[test]
fn null_epsg_with_wkt2_or_projjson_still_yields_a_crs() {
    // MODIS sinusoidal: proj:epsg null + proj:wkt2.
    let modis = load("pc-modis-09A1-061.json");
    let key = assets(&modis[0])
        .unwrap()
        .keys()
        .find(|k| k.starts_with("sur_refl_b01"))
        .unwrap()
        .clone();
    let m = read_extension_metadata(&modis[0], Some(&key)).unwrap();
    assert_eq!(m.epsg, None);
    let crs = m.crs.as_deref().unwrap();
    assert!(
        crs.contains("Sinusoidal") || crs.contains("sinusoidal"),
        "{crs}"
    );
    assert_eq!(m.wkt2, Some(crs));

    // GOES: proj:epsg null + wkt2 in properties; per-asset shapes at 1 km and 2 km.
    let goes = load("pc-goes-cmi.json");
    let one = read_extension_metadata(&goes[0], Some("C01_1km")).unwrap();
    let two = read_extension_metadata(&goes[0], Some("C01_2km")).unwrap();
    assert!(one.crs.as_deref().unwrap().starts_with("PROJCRS"));
    assert_eq!(one.shape, Some([3000, 5000]));
    assert_eq!(two.shape, Some([1500, 2500]));
    assert!((one.resolution().unwrap().0 - 1002.0086577437705).abs() < 1e-9);
    assert!((two.resolution().unwrap().0 - 2004.017315487541).abs() < 1e-9);

    // 3DEP: proj:epsg null + proj:projjson (compound CRS).
    let dep = load("pc-3dep-lidar-dsm.json");
    let key = assets(&dep[0]).unwrap().keys().next().unwrap().clone();
    let m = read_extension_metadata(&dep[0], Some(&key)).unwrap();
    assert!(m.projjson.is_some());
    // NAD83 / UTM 11N + NAVD88 height, as GDAL's compound-code syntax.
    assert_eq!(m.crs.as_deref(), Some("EPSG:26911+5703"));
}

#[test]
fn stac_1_1_bands_name_the_bands_and_code_wins() {
    let items = load("stac-spec-v1.1.0-proj-example.json");
    let b1 = read_extension_metadata(&items[0], Some("B1")).unwrap();
    assert_eq!(b1.band_names, Some(vec!["B1"]));
    assert_eq!(b1.bands[0].common_name, Some("coastal"));
    assert_eq!(b1.eo_bands, None);
    // proj:code wins over wkt2/projjson also present.
    assert_eq!(b1.crs.as_deref(), Some("EPSG:32614"));
    assert_eq!(b1.epsg_code(), Some(32614));
    // 9-element integer transform on B8 overrides the item's.
    let b8 = read_extension_metadata(&items[0], Some("B8")).unwrap();
    assert_eq!(
        b8.geotransform,
        Some([224992.5, 15.0, 0.0, 6790207.5, 0.0, -15.0])
    );
    assert_eq!(b8.shape, Some([16781, 16621]));
}

#[test]
fn sentinel_2_per_band_resolutions_come_from_the_assets() {
    let items = load("pc-sentinel-2-l2a.json");
    let res = |k: &str| {
        read_extension_metadata(&items[0], Some(k))
            .unwrap()
            .resolution()
            .unwrap()
            .0
    };
    assert_eq!(res("B04"), 10.0);
    assert_eq!(res("B05"), 20.0);
    assert_eq!(res("B01"), 60.0);
}

#[test]
fn raster_bands_typed_values() {
    let items = load("earthsearch-sentinel-2-c1-l2a.json");
    let m = read_extension_metadata(&items[0], Some("red")).unwrap();
    let band = &m.bands[0];
    assert_eq!(band.data_type, Some(stac_meta::DataType::Uint16));
    assert_eq!(band.nodata, Some(0.0));
    assert_eq!(band.scale, Some(0.0001));
    assert_eq!(band.offset, Some(-0.1));
    assert_eq!(band.common_name, Some("red"));
    assert_eq!(m.band_names, Some(vec!["B04"]));
}

#[test]
fn engines_of_real_assets() {
    let items = load("pc-sentinel-2-l2a.json");
    assert_eq!(
        which_engine(&items[0], Some("B04")).unwrap().as_str(),
        "gdal"
    );
    // Sentinel-2 metadata XML: no reader.
    let err = which_engine(&items[0], Some("granule-metadata"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a raster band"), "{err}");
    assert!(err.contains("granule-metadata"), "{err}");
}

#[test]
fn alternate_s3_hrefs_of_usgs_landsat() {
    let items = load("usgs-landsat-c2l2-sr-LC08_028030_20200114.json");
    let item = &items[0];
    let key = assets(item)
        .unwrap()
        .iter()
        .find(|(_, a)| a.get("alternate").is_some())
        .unwrap()
        .0
        .clone();
    let canonical = asset_href(item, &key).unwrap();
    let src = stac_meta::asset_source(item, Some(&key), &["s3"]).unwrap();
    assert!(src.href.starts_with("s3://"), "{}", src.href);
    assert_ne!(src.href, canonical);
    assert_eq!(src.alternate, Some("s3"));
    // Unknown alternate names fall back to the canonical href.
    assert_eq!(
        stac_meta::asset_source(item, Some(&key), &["nope"])
            .unwrap()
            .href,
        canonical
    );
}

/// The raster-band rule over every asset of the real catalogs: every
/// GeoTIFF/NetCDF data asset is a raster, every XML/JSON/text/HDF4 asset
/// (MTL files, granule metadata, tilejson, MODIS HDF4) is not.
#[test]
fn raster_band_rule_over_real_catalogs() {
    use stac_meta::{AssetKind, item_asset_kind};
    let (mut rasters, mut not) = (0, 0);
    for name in [
        "pc-landsat-c2-l1.json",
        "pc-landsat-c2-l2.json",
        "pc-modis-09A1-061.json",
        "pc-cop-dem-glo-30.json",
        "pc-esa-worldcover.json",
        "pc-io-lulc-annual-v02.json",
        "pc-goes-cmi.json",
        "earthsearch-sentinel-2-c1-l2a.json",
        "pc-sentinel-2-l2a.json",
    ] {
        for item in load(name) {
            for (key, a) in assets(&item).unwrap() {
                let mt = a.get("type").and_then(Value::as_str).unwrap_or("");
                let kind = item_asset_kind(&item, key, &[]).unwrap();
                if mt.starts_with("image/tiff") || mt.contains("netcdf") {
                    assert!(
                        matches!(kind, AssetKind::Raster(_)),
                        "{name} {key}: {kind:?}"
                    );
                    rasters += 1;
                } else if mt.contains("xml")
                    || mt.contains("json")
                    || mt.starts_with("text/")
                    || mt.contains("x-hdf")
                {
                    assert!(
                        matches!(kind, AssetKind::NotRaster(_)),
                        "{name} {key}: {kind:?}"
                    );
                    not += 1;
                }
            }
        }
    }
    assert!(rasters > 100 && not > 15, "{rasters} rasters, {not} not");
}
