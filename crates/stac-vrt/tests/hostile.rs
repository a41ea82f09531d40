//! Hostile input to `build_vrt_from_stac` (docs/reliability.md): each case
//! is a typed error or a documented result, the XML stays well-formed (GDAL
//! opens it), and no source is opened on the metadata path.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::{Map, Value, json};
use stac_meta::HrefPolicy;
use stac_vrt::{VrtError, VrtOptions, build_vrt_from_stac};

fn item(id: &str, href: &str, shape: [f64; 2], pixel: f64, crs: &str) -> Value {
    json!({
        "id": id,
        "properties": {"proj:code": crs},
        "assets": {"data": {
            "href": href,
            "proj:shape": shape,
            "proj:transform": [pixel, 0.0, 600000.0, 0.0, -pixel, 5300000.0],
            "raster:bands": [{"data_type": "uint16", "nodata": 0}],
        }}
    })
}

fn utm(id: &str, href: &str) -> Value {
    item(id, href, [4.0, 4.0], 10.0, "EPSG:32630")
}

#[test]
fn shapes_beyond_gdal_limits_are_skipped_not_opened() {
    let items = [
        utm("ok", "/nowhere/ok.tif"),
        item("huge", "/nowhere/huge.tif", [3e9, 3e9], 10.0, "EPSG:32630"),
    ];
    let e = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, VrtError::SkippedSources { skipped: 1, .. }),
        "{text}"
    );
    assert!(text.contains("beyond GDAL's limit"), "{text}");
    let vrt = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_fail_on_error(false),
    )
    .unwrap();
    assert_eq!(vrt.summary().opened, 0);
    assert_eq!(vrt.skipped().len(), 1);
    assert_eq!(vrt.open().unwrap().shape(), (1, 4, 4));
}

#[test]
fn a_billion_pixels_per_side_is_a_valid_lazy_mosaic() {
    let items = [item(
        "big",
        "/nowhere/big.tif",
        [1e9, 1e9],
        10.0,
        "EPSG:32630",
    )];
    let vrt = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap();
    assert_eq!(vrt.summary().shape, [1_000_000_000, 1_000_000_000]);
    assert_eq!(vrt.summary().opened, 0);
    assert_eq!(
        vrt.open().unwrap().shape(),
        (1, 1_000_000_000, 1_000_000_000)
    );
}

#[test]
fn a_mosaic_too_large_for_gdal_is_an_error() {
    // Two tiny-pixel sources far apart: the union would be ~10^14 pixels a side.
    let near = item("a", "/nowhere/a.tif", [4.0, 4.0], 1e-6, "EPSG:32630");
    let mut far = near.clone();
    far["id"] = json!("b");
    far["assets"]["data"]["proj:transform"] = json!([1e-6, 0.0, 6e7, 0.0, -1e-6, 5300000.0]);
    let e = build_vrt_from_stac([near, far], "data", &VrtOptions::default()).unwrap_err();
    assert!(matches!(e, VrtError::NoSources { .. }), "{e}");
    assert!(e.to_string().contains("beyond GDAL's limit"), "{e}");
}

#[test]
fn zero_sized_or_zero_pixel_grids_fall_back_to_opening() {
    // Documented: an asset without a usable grid is opened to read it; a
    // missing file is then a skipped source, never a panic or a bad VRT.
    for bad in [
        item("zero", "/nowhere/zero.tif", [0.0, 0.0], 10.0, "EPSG:32630"),
        item("flat", "/nowhere/flat.tif", [4.0, 4.0], 0.0, "EPSG:32630"),
    ] {
        let items = [utm("ok", "/nowhere/ok.tif"), bad];
        let vrt = build_vrt_from_stac(
            &items,
            "data",
            &VrtOptions::default().with_fail_on_error(false),
        )
        .unwrap();
        assert_eq!(vrt.summary().opened, 1);
        assert_eq!(vrt.skipped().len(), 1);
        assert!(vrt.open().is_ok());
    }
}

#[test]
fn huge_shapes_in_another_crs_do_not_overflow() {
    // The warped path multiplied cols * rows as usize (overflow panic in debug).
    let items = [
        utm("a", "/nowhere/a.tif"),
        item("b", "/nowhere/b.tif", [2e9, 2e9], 1e-3, "EPSG:32631"),
    ];
    let _ = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_fail_on_error(false),
    );
}

#[test]
fn hrefs_with_nul_bytes_are_refused() {
    let items = [
        utm("ok", "/nowhere/ok.tif"),
        utm("nul", "/nowhere/a\0b.tif"),
    ];
    let e = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap_err();
    assert!(e.to_string().contains("NUL byte"), "{e}");
    assert!(!e.to_string().contains('\0'));
    let vrt = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_fail_on_error(false),
    )
    .unwrap();
    assert!(!vrt.xml().contains('\0') && !vrt.xml().contains("a%00b"));
    assert_eq!(vrt.summary().sources.len(), 1);
}

#[test]
fn scheme_restriction_skips_local_sources() {
    let items = [
        utm("remote", "https://h/a.tif"),
        utm("local", "file:///etc/passwd"),
        utm("mem", "/vsimem/x.tif"),
    ];
    let options = VrtOptions::default()
        .with_fail_on_error(false)
        .with_href_policy(HrefPolicy::remote_only());
    let vrt = build_vrt_from_stac(&items, "data", &options).unwrap();
    let skipped: Vec<&str> = vrt.skipped().iter().map(|s| s.item.as_str()).collect();
    assert_eq!(skipped, ["local", "mem"]);
    assert!(!vrt.xml().contains("passwd"));
}

#[test]
fn markup_and_non_xml_characters_in_hrefs_and_ids_stay_well_formed() {
    let hrefs = [
        "/nowhere/a\"b<c&d]]>e'.tif",
        "/nowhere/ctl\u{1}\u{7}\u{1b}.tif",
        "/nowhere/non\u{fffe}char\u{ffff}.tif",
        "https://h/a.tif?x=<y>&z=\"w\"",
    ];
    let items: Vec<Value> = hrefs
        .iter()
        .enumerate()
        .map(|(i, h)| utm(&format!("id<{i}>&\"\u{2}]]>"), h))
        .collect();
    for separate in [false, true] {
        let options = VrtOptions::default().with_separate(separate);
        let vrt = build_vrt_from_stac(&items, "data", &options).unwrap();
        assert!(!vrt.xml().contains('\u{fffe}') && !vrt.xml().contains('\u{1}'));
        // GDAL's own XML parser takes the document.
        let ds = vrt.open().unwrap();
        assert_eq!(ds.band_count(), if separate { 4 } else { 1 });
    }
}

#[test]
fn an_item_with_a_million_assets() {
    let mut assets = Map::new();
    for i in 0..1_000_000 {
        assets.insert(
            format!("a{i}"),
            json!({"href": format!("/nowhere/{i}.tif")}),
        );
    }
    let mut big = utm("many", "/nowhere/many.tif");
    let data = big["assets"]["data"].clone();
    assets.insert("data".into(), data);
    big["assets"] = Value::Object(assets);
    let vrt = build_vrt_from_stac([big], "data", &VrtOptions::default()).unwrap();
    assert_eq!(vrt.summary().sources.len(), 1);
    // A missing asset: the error lists a bounded number of keys.
    let mut many = Map::new();
    for i in 0..1_000_000 {
        many.insert(format!("k{i}"), json!({"href": "x"}));
    }
    let e = build_vrt_from_stac(
        [json!({"id": "m", "assets": many})],
        "data",
        &VrtOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().len() < 4_000, "{} bytes", e.to_string().len());
}

#[test]
fn absurd_coordinates_are_not_warped() {
    // Found by the `vrt` fuzz target: a 1e300 pixel size in a CRS other than
    // the target's made PROJ's transform_bounds run for minutes.
    let items = [
        item("geo", "/nowhere/geo.tif", [4.0, 4.0], 0.1, "EPSG:4326"),
        item(
            "far",
            "/nowhere/far.tif",
            [65535.0, 1.0],
            1e300,
            "EPSG:32631",
        ),
    ];
    let start = std::time::Instant::now();
    let vrt = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_fail_on_error(false),
    )
    .unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    let skipped = vrt.skipped();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].reason.contains("beyond"),
        "{}",
        skipped[0].reason
    );
}

#[test]
fn hrefs_gdal_would_parse_as_documents_are_refused() {
    // Found by the `vrt` fuzz target: an href starting with `<` went into
    // `SourceFilename`, where GDAL parses it as an inline XML document (a
    // `<VRTDataset>` there could read any local file).
    let inline = r#"<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1"><SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource></VRTRasterBand></VRTDataset>"#;
    let items = [
        utm("ok", "/nowhere/ok.tif"),
        utm("inline", inline),
        utm("mem", "MEM:::DATAPOINTER=0x1000,PIXELS=4,LINES=4"),
    ];
    let vrt = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_fail_on_error(false),
    )
    .unwrap();
    let skipped: Vec<&str> = vrt.skipped().iter().map(|s| s.item.as_str()).collect();
    assert_eq!(skipped, ["inline", "mem"]);
    assert!(!vrt.xml().contains("passwd") && !vrt.xml().contains("DATAPOINTER"));
}
