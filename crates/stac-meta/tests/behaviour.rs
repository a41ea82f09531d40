//! The cases of pyramids' test_extensions / test_item / test_loader that need
//! no GDAL, plus malformed input: every bad field is a typed error, never a panic.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::{Value, json};
use stac_meta::*;

fn s2_item() -> Value {
    json!({
        "id": "S2A_x",
        "properties": {"proj:epsg": 32633, "datetime": "2021-06-01T10:00:00Z"},
        "assets": {"B04": {
            "href": "s3://bucket/B04.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "proj:shape": [10980, 10980],
            "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0],
            "raster:bands": [{"nodata": 0, "scale": 0.0001}],
            "eo:bands": [{"name": "B04", "common_name": "red"}],
        }},
    })
}

#[test]
fn metadata_of_a_full_item() {
    let item = s2_item();
    let m = read_extension_metadata(&item, Some("B04")).unwrap();
    assert_eq!(m.epsg, Some(32633));
    assert_eq!(m.crs.as_deref(), Some("EPSG:32633"));
    assert_eq!(
        m.transform,
        Some(vec![10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0])
    );
    assert_eq!(
        m.geotransform,
        Some([600000.0, 10.0, 0.0, 5300040.0, 0.0, -10.0])
    );
    assert_eq!(m.shape, Some([10980, 10980]));
    assert_eq!(
        m.raster_bands,
        Some(&[json!({"nodata": 0, "scale": 0.0001})][..])
    );
    assert_eq!(m.band_names, Some(vec!["B04"]));
    assert_eq!(m.bounds(), Some([600000.0, 5190240.0, 709800.0, 5300040.0]));
}

#[test]
fn proj_code_beats_proj_epsg_and_asset_beats_item() {
    let mut item = s2_item();
    item["properties"]["proj:code"] = json!("EPSG:32632");
    assert_eq!(
        read_extension_metadata(&item, Some("B04"))
            .unwrap()
            .crs
            .as_deref(),
        Some("EPSG:32632")
    );
    item["assets"]["B04"]["proj:epsg"] = json!(32631);
    let m = read_extension_metadata(&item, Some("B04")).unwrap();
    assert_eq!(m.epsg, Some(32631));
    assert_eq!(
        m.crs.as_deref(),
        Some("EPSG:32632"),
        "code still wins over epsg"
    );
    item["properties"]["proj:transform"] = json!([20.0, 0.0, 1.0, 0.0, -20.0, 2.0]);
    assert_eq!(
        read_extension_metadata(&item, Some("B04"))
            .unwrap()
            .transform
            .unwrap()[0],
        10.0
    );
}

#[test]
fn absent_fields_are_none_and_bare_assets_work() {
    let item = json!({"id": "a", "assets": {"x": {"href": "a.tif"}}});
    let m = read_extension_metadata(&item, Some("x")).unwrap();
    assert_eq!(
        (
            m.epsg,
            m.crs.clone(),
            m.transform.clone(),
            m.geotransform,
            m.shape
        ),
        (None, None, None, None, None)
    );
    assert_eq!(m.band_names, None);
    let bare = json!({"href": "a.tif", "proj:epsg": 4326, "proj:shape": [2, 3]});
    let m = read_extension_metadata(&bare, None).unwrap();
    assert_eq!((m.epsg, m.shape), (Some(4326), Some([2, 3])));
    // Serialised: always the eight pyramids keys, nothing else when absent.
    let keys: Vec<String> = serde_json::to_value(&m)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "epsg",
            "crs",
            "transform",
            "geotransform",
            "shape",
            "raster_bands",
            "eo_bands",
            "band_names"
        ]
    );
}

#[test]
fn incomplete_eo_names_give_no_band_names() {
    let item = json!({"id": "a", "assets": {"x": {"href": "a.tif",
        "eo:bands": [{"name": "B1"}, {"center_wavelength": 0.6}]}}});
    assert_eq!(
        read_extension_metadata(&item, Some("x"))
            .unwrap()
            .band_names,
        None
    );
    let item = json!({"id": "a", "assets": {"x": {"href": "a.tif",
        "eo:bands": [{"common_name": "red"}, {"name": "B2"}]}}});
    assert_eq!(
        read_extension_metadata(&item, Some("x"))
            .unwrap()
            .band_names,
        Some(vec!["red", "B2"])
    );
}

#[test]
fn item_level_eo_bands_are_ignored_like_pyramids() {
    let item = json!({"id": "a", "properties": {"eo:bands": [{"name": "Z"}]}, "assets": {"x": {"href": "a.tif"}}});
    assert_eq!(
        read_extension_metadata(&item, Some("x"))
            .unwrap()
            .band_names,
        None
    );
}

#[test]
fn nodata_spellings() {
    let item = json!({"id": "a", "assets": {"x": {"href": "a.tif", "raster:bands": [
        {"nodata": "nan", "data_type": "float32"}, {"nodata": "inf"}, {"nodata": "-inf"}, {"nodata": -9999}]}}});
    let m = read_extension_metadata(&item, Some("x")).unwrap();
    assert!(m.bands[0].nodata.unwrap().is_nan());
    assert_eq!(m.bands[0].data_type, Some(DataType::Float32));
    assert_eq!(m.bands[1].nodata, Some(f64::INFINITY));
    assert_eq!(m.bands[2].nodata, Some(f64::NEG_INFINITY));
    assert_eq!(m.bands[3].nodata, Some(-9999.0));
}

#[test]
fn parse_number_rules() {
    for (v, want) in [
        (json!(1), Some(1.0)),
        (json!(" 2.5 "), Some(2.5)),
        (json!("Infinity"), Some(f64::INFINITY)),
        (json!("-INF"), Some(f64::NEG_INFINITY)),
        (json!(null), None),
        (json!(false), None),
        (json!("abc"), None),
        (json!([1]), None),
    ] {
        assert_eq!(parse_number(&v), want, "{v}");
    }
    assert!(parse_number(&json!("+nan")).unwrap().is_nan());
}

#[test]
fn affine_and_geotransform_convert_both_ways() {
    let t = [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0];
    let gt = affine_to_geotransform(&t).unwrap();
    assert_eq!(geotransform_to_affine(&gt), t);
    let nine = [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0, 0.0, 0.0, 1.0];
    assert_eq!(affine_to_geotransform(&nine).unwrap(), gt);
    assert!(
        affine_to_geotransform(&t[..5])
            .unwrap_err()
            .contains("6 or 9")
    );
}

/// Every malformed input gets a typed error naming the item, asset and field.
#[test]
fn malformed_inputs_are_typed_errors() {
    let bad_field = |field: &str, value: Value| {
        let mut item = s2_item();
        item["assets"]["B04"][field] = value;
        let err = read_extension_metadata(&item, Some("B04")).unwrap_err();
        match &err {
            MetaError::InvalidField { location, .. } => {
                assert_eq!(location.item, "S2A_x");
                assert_eq!(location.asset.as_deref(), Some("B04"));
                assert!(
                    location.field.as_deref().unwrap().starts_with(field),
                    "{err}"
                );
            }
            other => panic!("{field}: expected InvalidField, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("S2A_x") && text.contains("B04") && text.contains(field),
            "{text}"
        );
    };
    bad_field("proj:transform", json!([10.0, 0.0, 600000.0, 0.0, -10.0])); // 5 numbers
    bad_field(
        "proj:transform",
        json!([0.0, 0.0, 600000.0, 0.0, 0.0, 5300040.0]),
    ); // zero pixel size
    bad_field("proj:transform", json!("10,0,0,0,-10,0"));
    bad_field("proj:shape", json!(["10980", "10980"])); // shape of strings
    bad_field("proj:shape", json!([1, 2, 3]));
    bad_field("proj:shape", json!([-1, 2]));
    bad_field("proj:epsg", json!("EPSG:32633"));
    bad_field("proj:bbox", json!([1, 2, 3]));
    bad_field("proj:projjson", json!("not an object"));
    bad_field("raster:bands", json!({"nodata": 0}));
    bad_field("raster:bands", json!([{"nodata": "zero"}]));
    bad_field("raster:bands", json!([{"data_type": "uint7"}]));

    // bbox of 5 numbers / non-numbers
    for b in [
        json!([0, 0, 1, 1, 2]),
        json!([0, 0, "1", 1]),
        json!("0,0,1,1"),
    ] {
        let item = json!({"id": "b", "bbox": b, "assets": {}});
        let err = bbox(&item).unwrap_err();
        assert!(
            matches!(&err, MetaError::InvalidField { location, .. } if location.field.as_deref() == Some("bbox")),
            "{err}"
        );
    }
    // asset without href
    let item = json!({"id": "c", "assets": {"x": {"type": "image/tiff"}}});
    let err = asset_href(&item, "x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "item 'c', asset 'x': the asset has no 'href'"
    );
    assert!(which_engine(&item, Some("x")).is_err());
    // missing asset names what exists
    let err = asset(&s2_item(), "B05").unwrap_err();
    assert_eq!(
        err.to_string(),
        "item 'S2A_x', asset 'B05': no such asset; available: [B04]"
    );
    // truncated JSON, non-item JSON
    assert!(matches!(
        parse_items(r#"{"type": "Feature", "id": "x", "assets": {"#),
        Err(MetaError::Json { .. })
    ));
    assert!(matches!(parse_items("42"), Err(MetaError::NotItems { .. })));
    assert!(matches!(
        parse_items(r#"{"type": "Collection", "id": "c"}"#),
        Err(MetaError::NotItems { .. })
    ));
    assert!(matches!(
        parse_items("{\"id\": \"a\"}\n{\"id\": "),
        Err(MetaError::Json { line: Some(2), .. })
    ));
    assert!(matches!(
        parse_items("[{\"id\": \"a\"}, 3]"),
        Err(MetaError::NotItems { .. })
    ));
    // bad datetimes
    let item = json!({"id": "d", "properties": {"datetime": "tomorrow"}});
    assert!(matches!(
        item_datetime(&item),
        Err(MetaError::InvalidField { .. })
    ));
    assert!(matches!(
        GroupBy::SolarDay.key(&json!({"id": "e", "properties": {}})),
        Err(MetaError::MissingDatetime { .. })
    ));
    assert!(matches!(
        GroupBy::Property("platform".into()).key(&json!({"id": "e"})),
        Err(MetaError::MissingGroupKey { .. })
    ));
    // an asset that is not an object
    let item = json!({"id": "f", "assets": {"x": "a.tif"}});
    assert!(matches!(
        read_extension_metadata(&item, Some("x")),
        Err(MetaError::InvalidField { .. })
    ));
}

#[test]
fn containers() {
    let one = parse_items(r#"{"type": "Feature", "id": "a", "assets": {}}"#).unwrap();
    assert_eq!(one.len(), 1);
    let fc =
        parse_items(r#"{"type": "FeatureCollection", "features": [{"id": "a"}, {"id": "b"}]}"#)
            .unwrap();
    assert_eq!(fc.iter().map(item_id).collect::<Vec<_>>(), ["a", "b"]);
    let arr = parse_items(r#"[{"id": "a"}]"#).unwrap();
    assert_eq!(item_id(&arr[0]), "a");
    let nd = parse_items("{\"id\": \"a\"}\r\n\r\n{\"id\": \"b\"}\r\n").unwrap();
    assert_eq!(nd.len(), 2);
    assert_eq!(item_id(&json!({})), "?");
    assert_eq!(collection_id(&json!({"collection": "c"})), Some("c"));
    let v = json!([{"id": "a"}, {"id": "b"}]);
    assert_eq!(item_slice(&v).unwrap().len(), 2);
}

#[test]
fn engine_tables() {
    let e = |mt: Option<&str>, href: &str| engine_for(mt, href);
    assert_eq!(
        e(
            Some("image/tiff; application=geotiff; profile=cloud-optimized"),
            "x"
        ),
        Some(Engine::Gdal)
    );
    assert_eq!(e(Some(" IMAGE/JP2 "), "x"), Some(Engine::Gdal));
    assert_eq!(
        e(Some("application/x-netcdf"), "x.bin"),
        Some(Engine::NetCdf)
    );
    assert_eq!(e(Some("application/wmo-GRIB2"), "x"), Some(Engine::Grib));
    assert_eq!(e(Some("application/vnd+zarr"), "x"), Some(Engine::Zarr));
    // media type wins over extension
    assert_eq!(
        e(Some("application/x-netcdf"), "a.tif"),
        Some(Engine::NetCdf)
    );
    // extension fallback: case, query and trailing slash
    assert_eq!(e(None, "https://h/A.TIF?sig=1"), Some(Engine::Gdal));
    assert_eq!(e(None, "s3://b/store.zarr/"), Some(Engine::Zarr));
    assert_eq!(e(None, "x.grib2"), Some(Engine::Grib));
    assert_eq!(e(None, "x.nc4"), Some(Engine::NetCdf));
    assert_eq!(
        e(Some("application/octet-stream"), "a.jp2"),
        Some(Engine::Gdal)
    );
    // a media type merely containing a token is not mis-routed
    assert_eq!(e(Some("application/x-hdf5; image/tiff"), "x.h5"), None);
    assert_eq!(e(Some("image/png"), "x.png"), None);
    let item = json!({"id": "i", "assets": {"x": {"href": "https://h/x.parquet?sig=SECRET", "type": "application/x-parquet"}}});
    let err = which_engine(&item, Some("x")).unwrap_err().to_string();
    assert!(
        err.contains("not a raster band") && err.contains("application/x-parquet"),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "href must be redacted: {err}");
    // Nothing known either way: no reader, named without Rust Debug text.
    let item = json!({"id": "i", "assets": {"x": {"href": "https://h/x.bin?sig=SECRET", "type": "application/x-foo"}}});
    let err = which_engine(&item, Some("x")).unwrap_err().to_string();
    assert!(
        err.contains("(https://h/x.bin?<redacted>): no reader for type application/x-foo")
            && err.contains("JPEG2000"),
        "{err}"
    );
    assert!(!err.contains("Some(") && !err.contains('"'), "{err}");
    assert!(!err.contains("SECRET"), "href must be redacted: {err}");
}

/// The one raster-band rule on assets shaped like real catalogs' (Landsat
/// Collection 2 metadata assets, a MODIS HDF4 container, a tilejson link,
/// ASTER and DEM COGs, MODIS HDF5-less items without a type).
#[test]
fn raster_band_rule_on_real_asset_shapes() {
    let item = json!({"id": "LC09_L2SP_044034_20220111_02_T1", "assets": {
        "red": {"href": "https://h/LC09_SR_B4.TIF", "type": "image/tiff; application=geotiff; profile=cloud-optimized", "roles": ["data"]},
        "pan": {"href": "https://h/LC09_B8.TIF", "type": "image/vnd.stac.geotiff; cloud-optimized=true", "roles": ["data"]},
        "mtl.txt": {"href": "https://h/LC09_MTL.txt", "type": "text/plain", "roles": ["metadata"]},
        "mtl.xml": {"href": "https://h/LC09_MTL.xml", "type": "application/xml", "roles": ["metadata"]},
        "mtl.json": {"href": "https://h/LC09_MTL.json", "type": "application/json", "roles": ["metadata"]},
        "ang": {"href": "https://h/LC09_ANG.txt", "roles": ["metadata"]},
        "tilejson": {"href": "https://tiles/x/tilejson.json", "type": "application/json", "roles": ["tiles"]},
        "rendered_preview": {"href": "https://tiles/x/preview.png", "type": "image/png", "roles": ["overview"]},
        "thumbnail": {"href": "https://h/thumb.jpg", "type": "image/jpeg", "roles": ["thumbnail"]},
        "hdf": {"href": "https://h/MOD13Q1.A2021001.h35v08.061.hdf", "type": "application/x-hdf", "roles": ["data"]},
        "hdf_notype": {"href": "https://h/MOD13Q1.A2021001.h35v08.061.hdf"},
        "dem": {"href": "s3://b/Copernicus_DSM_COG_10_N46_00_E011_00_DEM.tif"},
        "noext": {"href": "https://h/data/B04"},
        "meta_tif": {"href": "https://h/qa.tif", "type": "image/tiff", "roles": ["metadata"]}
    }});
    let kind = |k: &str| item_asset_kind(&item, k, &[]).unwrap();
    for raster in ["red", "pan", "dem", "meta_tif"] {
        assert_eq!(kind(raster), AssetKind::Raster(Engine::Gdal), "{raster}");
        assert!(require_raster(&item, raster, &[]).is_ok());
    }
    assert_eq!(kind("noext"), AssetKind::Unknown);
    assert!(require_raster(&item, "noext", &[]).is_ok());
    assert_eq!(kind("rendered_preview"), AssetKind::Unknown);
    for not in [
        "mtl.txt",
        "mtl.xml",
        "mtl.json",
        "ang",
        "tilejson",
        "thumbnail",
        "hdf",
        "hdf_notype",
    ] {
        let e = require_raster(&item, not, &[]).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, MetaError::NotRaster { .. })
                && msg.contains(not)
                && msg.contains("LC09_L2SP_044034_20220111_02_T1")
                && msg.contains("not a raster band"),
            "{not}: {msg}"
        );
        // which_engine follows the same rule.
        assert!(
            matches!(
                which_engine(&item, Some(not)),
                Err(MetaError::NotRaster { .. })
            ),
            "{not}"
        );
    }
    assert!(
        require_raster(&item, "hdf", &[])
            .unwrap_err()
            .to_string()
            .contains("HDF4")
    );
}

#[test]
fn gdal_paths() {
    for (href, want) in [
        ("s3://b/k.tif", "/vsis3/b/k.tif"),
        ("gs://b/k.tif", "/vsigs/b/k.tif"),
        ("gcs://b/k.tif", "/vsigs/b/k.tif"),
        ("az://c/b.tif", "/vsiaz/c/b.tif"),
        (
            "abfss://fs@acct.dfs.core.windows.net/p.tif",
            "/vsiadls/fs/p.tif",
        ),
        (
            "abfs://fs@acct.dfs.core.windows.net/d/p.tif",
            "/vsiadls/fs/d/p.tif",
        ),
        ("https://h/a.tif?x=1", "/vsicurl/https://h/a.tif?x=1"),
        ("http://h/a.tif", "/vsicurl/http://h/a.tif"),
        ("HTTPS://h/a.tif", "/vsicurl/HTTPS://h/a.tif"),
        ("file:///srv/x.tif", "/srv/x.tif"),
        ("file:///C:/x.tif", "C:/x.tif"),
        ("file:///srv/a%20b.tif", "/srv/a b.tif"),
        ("dods://h/x.nc", "NETCDF:\"https://h/x.nc\""),
        (
            "https://h/a.zip/b.tif",
            "/vsizip//vsicurl/https://h/a.zip/b.tif",
        ),
        ("s3://b/a.tar.gz/b.tif", "/vsitar//vsis3/b/a.tar.gz/b.tif"),
        (
            "https://h/a.gz/b.tif",
            "/vsigzip//vsicurl/https://h/a.gz/b.tif",
        ),
        ("https://h/a.zip", "/vsicurl/https://h/a.zip"),
        ("/vsis3/b/k.tif", "/vsis3/b/k.tif"),
        (
            "/vsicurl?url=https%3A%2F%2Fh",
            "/vsicurl?url=https%3A%2F%2Fh",
        ),
        ("C:/data/x.tif", "C:/data/x.tif"),
        ("./rel/x.tif", "./rel/x.tif"),
        ("/abs/x.tif", "/abs/x.tif"),
    ] {
        assert_eq!(gdal_path(href), want, "{href}");
        assert_eq!(gdal_path(&gdal_path(href)), want, "idempotent for {href}");
    }
    assert!(
        is_remote("s3://b/k")
            && is_remote("/vsicurl/https://h")
            && is_remote("/vsizip//vsicurl/https://h/a.zip/b")
    );
    assert!(!is_remote("/data/x.tif") && !is_remote("/vsimem/x.tif") && !is_remote("file:///x"));
}

#[test]
fn redaction() {
    assert_eq!(
        redact("https://acct.blob.core.windows.net/c/b.tif?se=2034&sig=abc"),
        "https://acct.blob.core.windows.net/c/b.tif?<redacted>"
    );
    assert_eq!(
        redact("/vsicurl?header.Authorization=Bearer%20t&url=x"),
        "/vsicurl?<redacted>"
    );
    assert_eq!(
        redact("https://user:pass@h/x?y"),
        "https://<redacted>@h/x?<redacted>"
    );
    assert_eq!(redact("/local/file.tif"), "/local/file.tif");
    assert_eq!(redact(""), "");
}

#[test]
fn relative_hrefs_resolve_against_self() {
    assert_eq!(
        resolve_relative("./a.tif", Some("https://h/c/i/item.json")),
        "https://h/c/i/a.tif"
    );
    assert_eq!(
        resolve_relative("../../a.tif", Some("https://h/c/i/item.json")),
        "https://h/a.tif"
    );
    assert_eq!(
        resolve_relative("../../../../a.tif", Some("https://h/c/item.json")),
        "https://h/a.tif"
    );
    assert_eq!(
        resolve_relative("a.tif", Some("/data/items/item.json")),
        "/data/items/a.tif"
    );
    assert_eq!(resolve_relative("a.tif", Some("item.json")), "a.tif");
    assert_eq!(resolve_relative("a.tif", None), "a.tif");
    assert_eq!(
        resolve_relative("https://x/a.tif", Some("/data/i.json")),
        "https://x/a.tif"
    );
    assert_eq!(
        resolve_relative("a.tif", Some("s3://bucket/dir/item.json?x=1")),
        "s3://bucket/dir/a.tif"
    );
}

#[test]
fn solar_day_rules() {
    let t = parse_datetime("2021-06-01T20:00:00Z").unwrap();
    let day = |bbox: Option<[f64; 4]>| {
        solar_day(t, bbox.and_then(|b| Bbox::from_slice(&b)).as_ref()).to_string()
    };
    assert_eq!(day(None), "2021-06-01", "no bbox, no shift");
    assert_eq!(
        day(Some([-1.0, 0.0, 1.0, 1.0])),
        "2021-06-01",
        "UTC date at lon 0"
    );
    assert_eq!(
        day(Some([149.0, 0.0, 151.0, 1.0])),
        "2021-06-02",
        "+10 h at lon 150 crosses midnight"
    );
    // antimeridian: west 170, east -170 → centre 180 → +12 h
    assert_eq!(day(Some([170.0, 0.0, -170.0, 1.0])), "2021-06-02");
    // antimeridian: west 175, east -165 → centre -175 → -11h40 → still 06-01
    assert_eq!(day(Some([175.0, 0.0, -165.0, 1.0])), "2021-06-01");
    let early = parse_datetime("2021-06-01T05:00:00Z").unwrap();
    assert_eq!(
        solar_day(
            early,
            Bbox::from_slice(&[-121.0, 0.0, -119.0, 1.0]).as_ref()
        )
        .to_string(),
        "2021-05-31"
    );
}

#[test]
fn seed_solar_day_groups_three_items_into_two_days() {
    let items: Vec<Value> = [("t0", "2021-06-01T10:00:00Z"), ("t1", "2021-06-01T10:00:30Z"), ("t2", "2021-06-05T10:00:00Z")]
        .iter()
        .map(|(id, t)| json!({"id": id, "bbox": [0.0, 0.0, 1.0, 1.0], "properties": {"datetime": t}, "assets": {}}))
        .collect();
    let mut keys: Vec<GroupKey> = items
        .iter()
        .map(|i| GroupBy::SolarDay.key(i).unwrap().unwrap())
        .collect();
    keys.dedup();
    assert_eq!(
        keys.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["2021-06-01", "2021-06-05"]
    );
    assert_eq!(
        GroupBy::parse("solar_day").key(&items[0]).unwrap(),
        GroupBy::SolarDay.key(&items[0]).unwrap()
    );
    assert_eq!(
        GroupBy::Time.key(&items[0]).unwrap().unwrap().to_string(),
        "2021-06-01T10:00:00Z"
    );
    assert_eq!(
        GroupBy::Id.key(&items[1]).unwrap().unwrap().to_string(),
        "t1"
    );
    assert!(GroupBy::None.key(&items[0]).unwrap().is_none());
}

#[test]
fn group_keys_order_naturally() {
    let mut keys = [
        GroupKey::Number(10.0),
        GroupKey::Number(9.0),
        GroupKey::Number(2.5),
    ];
    keys.sort();
    assert_eq!(
        keys.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["2.5", "9", "10"]
    );
    let p = GroupBy::Property("platform".into());
    let k = p
        .key(&json!({"id": "a", "properties": {"platform": "sentinel-2a"}}))
        .unwrap()
        .unwrap();
    assert_eq!(k, GroupKey::Text("sentinel-2a".into()));
    let custom = GroupBy::Custom(std::sync::Arc::new(|i: &Value| {
        Ok(GroupKey::Text(item_id(i)[..1].to_owned()))
    }));
    assert_eq!(
        custom
            .key(&json!({"id": "xyz"}))
            .unwrap()
            .unwrap()
            .to_string(),
        "x"
    );
    assert_eq!(format!("{custom:?}"), "Custom(<fn>)");
}

#[test]
fn datetimes_and_intervals() {
    let it = json!({"id": "r", "properties": {"datetime": null,
        "start_datetime": "2020-01-01T00:00:00Z", "end_datetime": "2020-12-31T23:59:59.999999Z"}});
    let start = item_datetime(&it).unwrap().unwrap();
    assert_eq!(start.to_rfc3339(), "2020-01-01T00:00:00+00:00");
    let (s, e) = item_interval(&it).unwrap().unwrap();
    assert_eq!(s, start);
    assert_eq!(e.timestamp_subsec_micros(), 999_999);
    assert!(item_datetime(&json!({"id": "n"})).unwrap().is_none());
    assert_eq!(
        parse_datetime("2021-06-01T10:00:00+02:00")
            .unwrap()
            .to_rfc3339(),
        "2021-06-01T08:00:00+00:00"
    );
    assert_eq!(
        parse_datetime("2021-06-01").unwrap().to_rfc3339(),
        "2021-06-01T00:00:00+00:00"
    );
}

#[test]
fn json_that_is_not_an_item_is_said_so() {
    for text in [r#"{"foo": 1}"#, "{}"] {
        let e = parse_items(text).unwrap_err();
        assert!(matches!(e, MetaError::NotItems { .. }), "{text}: {e}");
        assert!(
            e.to_string().contains("not a STAC Item, FeatureCollection"),
            "{e}"
        );
    }
    assert!(
        parse_items(r#"{"foo": 1}"#)
            .unwrap_err()
            .to_string()
            .contains("keys foo")
    );
    assert_eq!(parse_items(r#"{"id": "a"}"#).unwrap().len(), 1);
    assert_eq!(parse_items(r#"{"type": "Feature"}"#).unwrap().len(), 1);
}

#[test]
fn requested_bboxes_cross_the_antimeridian_only_when_meant() {
    // Real crossings (a Fiji scene, a 20° box) are accepted and reported.
    assert!(check_lonlat_bbox([179.5, -17.0, -179.5, -16.0], false).unwrap());
    assert!(check_lonlat_bbox([170.0, -10.0, -170.0, 10.0], false).unwrap());
    // A typo (west and east swapped) is an error naming both numbers...
    for b in [
        [12.0, 45.0, 11.0, 46.0],
        [-10.0, 0.0, -12.0, 1.0],
        [100.0, 0.0, -50.0, 1.0],
    ] {
        let e = check_lonlat_bbox(b, false).unwrap_err().to_string();
        assert!(e.contains(&format!("west {} > east {}", b[0], b[2])), "{e}");
        assert!(e.contains("explicitly"), "{e}");
        // ...unless crossing was asked for.
        assert!(check_lonlat_bbox(b, true).unwrap());
    }
    assert!(
        check_lonlat_bbox([0.0, 46.0, 1.0, 45.0], true)
            .unwrap_err()
            .to_string()
            .contains("south 46 > north 45")
    );
    assert!(check_lonlat_bbox([0.0, 0.0, 190.0, 1.0], false).is_err());
    assert!(check_lonlat_bbox([0.0, 0.0, f64::NAN, 1.0], false).is_err());
    assert!(!check_lonlat_bbox([-180.0, -90.0, 180.0, 90.0], false).unwrap());
}
