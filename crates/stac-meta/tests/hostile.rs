//! Hostile input (docs/reliability.md): every case gets a typed error or a
//! documented result, in bounded time and memory, never a panic.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use stac_meta::{
    Bbox, GroupBy, HrefPolicy, MetaError, gdal_path, href_kind, parse_datetime, parse_items,
    read_extension_metadata, solar_day,
};

/// A generous bound: these cases take milliseconds; a regression to
/// quadratic behaviour would take minutes.
const BOUND: Duration = Duration::from_secs(60);

fn invalid_field(e: &MetaError, field: &str) -> bool {
    matches!(e, MetaError::InvalidField { location, .. } if location.field.as_deref() == Some(field))
}

#[test]
fn an_item_with_a_million_assets() {
    let mut assets = Map::new();
    for i in 0..1_000_000 {
        assets.insert(format!("a{i}"), json!({"href": format!("s3://b/{i}.tif")}));
    }
    assets.insert(
        "B04".into(),
        json!({"href": "s3://b/B04.tif", "proj:epsg": 32633, "proj:shape": [2, 2],
               "proj:transform": [10.0, 0.0, 0.0, 0.0, -10.0, 20.0]}),
    );
    let text = json!({"id": "many", "assets": assets}).to_string();
    let start = Instant::now();
    let items = parse_items(&text).unwrap();
    let item = &items[0];
    let meta = read_extension_metadata(item, Some("B04")).unwrap();
    assert_eq!(meta.shape, Some([2, 2]));
    assert_eq!(
        stac_meta::which_engine(item, Some("a999999"))
            .unwrap()
            .as_str(),
        "gdal"
    );
    // The not-found error lists a bounded number of keys and counts the rest.
    let e = stac_meta::asset(item, "missing").unwrap_err();
    match &e {
        MetaError::AssetNotFound {
            available, more, ..
        } => {
            assert_eq!(available.len(), stac_meta::error::MAX_LISTED_ASSETS);
            assert_eq!(available.len() + more, 1_000_001);
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(text.len() < 2_000, "{} bytes", text.len());
    assert!(text.ends_with(", ... (+999951 more)]"), "{text}");
    assert!(start.elapsed() < BOUND);
}

#[test]
fn non_finite_and_out_of_range_bboxes() {
    // JSON has no NaN or infinity: spelt as strings they are not numbers.
    let item = json!({"id": "x", "bbox": ["NaN", 0, "inf", 1]});
    assert!(invalid_field(&stac_meta::bbox(&item).unwrap_err(), "bbox"));
    // A literal beyond f64 is refused by the JSON parser.
    assert!(matches!(
        parse_items(r#"{"id": "x", "bbox": [1e400, 0, 1, 1]}"#),
        Err(MetaError::Json { .. })
    ));
    // Built in Rust, non-finite numbers never make a Bbox.
    assert_eq!(Bbox::from_slice(&[f64::NAN, 0.0, 1.0, 1.0]), None);
    assert_eq!(Bbox::from_slice(&[0.0, 0.0, f64::INFINITY, 1.0]), None);
    // Finite but absurd longitudes: the solar day wraps them (a shift of
    // more than chrono's range made `DateTime + TimeDelta` panic).
    let t = parse_datetime("2021-06-01T20:00:00Z").unwrap();
    let huge = Bbox::from_slice(&[1e308, -90.0, 1.7e308, 90.0]).unwrap();
    let _ = solar_day(t, Some(&huge));
    let off = Bbox::from_slice(&[509.0, 0.0, 511.0, 1.0]).unwrap(); // 510 ≡ 150 E
    assert_eq!(solar_day(t, Some(&off)).to_string(), "2021-06-02");
}

#[test]
fn datetimes_at_and_beyond_the_ends_of_the_calendar() {
    // RFC 3339 has 4-digit years, so items cannot reach chrono's ends, but
    // `solar_day` is public: it panicked on `DateTime + TimeDelta` overflow.
    let last = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    let first = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let east = Bbox::from_slice(&[170.0, 0.0, 179.0, 1.0]).unwrap();
    let west = Bbox::from_slice(&[-179.0, 0.0, -170.0, 1.0]).unwrap();
    // The shifted time does not exist: the UTC date is the documented result.
    assert_eq!(solar_day(last, Some(&east)), last.date_naive());
    assert_eq!(solar_day(first, Some(&west)), first.date_naive());
    let item = json!({"id": "end", "bbox": [170.0, 0.0, 179.0, 1.0],
                      "properties": {"datetime": "9999-12-31T23:59:59Z"}});
    assert_eq!(
        GroupBy::SolarDay.key(&item).unwrap().unwrap().to_string(),
        "+10000-01-01"
    );
    // Beyond RFC 3339's years: a typed error naming the field.
    for text in [
        "+262144-01-01T00:00:00",
        "+10000-01-01T00:00:00Z",
        "0000-00-00",
    ] {
        let item = json!({"id": "beyond", "properties": {"datetime": text}});
        assert!(
            invalid_field(
                &stac_meta::item_datetime(&item).unwrap_err(),
                "properties.datetime"
            ),
            "{text}"
        );
    }
    let item = json!({"id": "junk", "properties": {"datetime": "2021-13-45T99:00:00Z"}});
    assert!(stac_meta::item_interval(&item).is_err());
}

#[test]
fn transforms_with_zero_or_non_finite_pixel_sizes() {
    let with = |transform: Value| json!({"id": "t", "assets": {"a": {"href": "x.tif", "proj:transform": transform}}});
    for t in [
        json!([0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        json!([10.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        json!([1e-200, 0.0, 0.0, 0.0, -1e-200, 0.0]), // the determinant underflows to 0
        json!(["NaN", 0.0, 0.0, 0.0, -10.0, 0.0]),
        json!([10.0, 0.0, 0.0, 0.0, -10.0, 0.0, 1.0, 0.0, 1.0]),
        json!([10.0, 0.0, 0.0]),
    ] {
        let item = with(t.clone());
        let e = read_extension_metadata(&item, Some("a")).unwrap_err();
        assert!(invalid_field(&e, "proj:transform"), "{t}: {e}");
    }
    assert!(stac_meta::affine_to_geotransform(&[f64::NAN, 0.0, 0.0, 0.0, -1.0, 0.0]).is_err());
    assert!(stac_meta::affine_to_geotransform(&[f64::INFINITY, 0.0, 0.0, 0.0, -1.0, 0.0]).is_err());
}

#[test]
fn proj_shape_extremes() {
    let with =
        |shape: Value| json!({"id": "s", "assets": {"a": {"href": "x.tif", "proj:shape": shape}}});
    // Documented results: a zero side is kept (consumers treat the grid as
    // unusable); 10^9 is a valid shape (metadata costs nothing).
    let zero = with(json!([0, 0]));
    assert_eq!(
        read_extension_metadata(&zero, Some("a")).unwrap().shape,
        Some([0, 0])
    );
    let big = with(json!([1_000_000_000u64, 1e9]));
    assert_eq!(
        read_extension_metadata(&big, Some("a")).unwrap().shape,
        Some([1_000_000_000, 1_000_000_000])
    );
    // Not integers, negative, or beyond 2^53 (would saturate silently): errors.
    for s in [
        json!([-1, 5]),
        json!([1.5, 2]),
        json!([1e30, 1]),
        json!([1, 2, 3]),
        json!("10x10"),
    ] {
        let item = with(s.clone());
        let e = read_extension_metadata(&item, Some("a")).unwrap_err();
        assert!(invalid_field(&e, "proj:shape"), "{s}: {e}");
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    // serde_json's recursion limit (128) holds on every parse path.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        parse_items(&deep),
        Err(MetaError::Json { line: None, .. })
    ));
    let deep_item = format!(
        r#"{{"id":"d","assets":{{"a":{}1{}}}}}"#,
        r#"{"x":"#.repeat(200),
        "}".repeat(200)
    );
    assert!(matches!(
        parse_items(&deep_item),
        Err(MetaError::Json { .. })
    ));
    // NDJSON: the deep line is named.
    let ndjson = format!("{{\"id\":\"a\"}}\n{deep_item}\n");
    assert!(matches!(
        parse_items(&ndjson),
        Err(MetaError::Json { line: Some(2), .. })
    ));
    // Within the limit, nesting is fine.
    let ok = format!(
        r#"{{"id":"d","x":{}1{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    assert_eq!(parse_items(&ok).unwrap().len(), 1);
}

#[test]
fn text_that_is_not_unicode() {
    // A lone surrogate escape cannot become a Rust string: a typed error.
    assert!(matches!(
        parse_items(r#"{"id": "\ud800"}"#),
        Err(MetaError::Json { .. })
    ));
    // Bytes that are not UTF-8 never reach `parse_items` (a `&str`); through
    // serde_json's byte parser they are a JSON error too.
    assert!(serde_json::from_slice::<Value>(b"{\"id\": \"\xff\xfe\"}").is_err());
}

#[test]
fn hrefs_with_nul_bytes() {
    let any = HrefPolicy::any();
    for href in [
        "/data/a\0.tif",
        "https://h/a\0.tif",
        "file:///data/a%00.tif",
    ] {
        match any.check(href) {
            Err(MetaError::HrefNotAllowed {
                href: shown,
                reason,
                ..
            }) => {
                assert!(reason.contains("NUL"), "{reason}");
                assert!(!shown.contains('\0'));
            }
            other => panic!("{href:?}: {other:?}"),
        }
    }
    // The pure mapping functions keep it (they do no I/O); the policy is the gate.
    assert_eq!(gdal_path("s3://b/a\0.tif"), "/vsis3/b/a\0.tif");
    assert!(any.check("/data/a.tif").is_ok());
}

#[test]
fn hrefs_that_are_not_file_names() {
    // Found by the `vrt` fuzz target: an href starting with `<` became a
    // VRT source name, and GDAL parses such a name as an inline XML document
    // (a `<VRTDataset>` there can read any local file); `MEM:::` names a raw
    // memory pointer. Every policy refuses them.
    for href in [
        "<VRTDataset rasterXSize=\"1\" rasterYSize=\"1\"></VRTDataset>",
        "  <GDAL_WMS><Service name=\"TMS\"/></GDAL_WMS>",
        "x.tif<VRTDataset>",
        "<https://h/a.tif",
        "MEM:::DATAPOINTER=0x1000,PIXELS=1,LINES=1",
        "mem:::datapointer=0",
    ] {
        match HrefPolicy::any().check(href) {
            Err(MetaError::HrefNotAllowed { reason, .. }) => {
                assert!(reason.contains("not a file"), "{reason}")
            }
            other => panic!("{href:?}: {other:?}"),
        }
    }
    assert!(HrefPolicy::any().check("/data/a<b.tif").is_ok());
}

#[test]
fn scheme_restriction() {
    let remote = HrefPolicy::remote_only();
    for refused in [
        "file:///etc/passwd",
        "/etc/passwd",
        "../../etc/passwd",
        "C:/Windows/win.ini",
        "/vsimem/x.tif",
        "/vsizip//etc/x.zip/a.tif",
        "/vsicurl/file:///etc/passwd",
        "/vsicurl?url=file:///etc/passwd",
        "NETCDF:\"/etc/x.nc\":t2m",
    ] {
        let e = remote.check(refused).unwrap_err();
        assert!(
            matches!(e, MetaError::HrefNotAllowed { .. }),
            "{refused}: {e}"
        );
    }
    for allowed in [
        "https://h/a.tif",
        "http://127.0.0.1:8080/a.tif",
        "s3://b/k.tif",
        "gs://b/k.tif",
        "gcs://b/k.tif",
        "abfss://fs@acct.dfs.core.windows.net/p.tif",
        "https://h/a.zip/b.tif",
        "/vsizip//vsicurl/https://h/a.zip/b.tif",
        "dods://h/x.nc",
    ] {
        remote
            .check(allowed)
            .unwrap_or_else(|e| panic!("{allowed}: {e}"));
    }
    // Judged by where GDAL reads: this `file:` URL is a /vsicurl/ path.
    assert_eq!(
        href_kind("file://localhost/vsicurl/https://h/a.tif"),
        "https"
    );
    // Error text: the href is redacted.
    let only_s3 = HrefPolicy::allow(["S3"]);
    let e = only_s3
        .check("https://u:pw@h/a.tif?sig=SECRET")
        .unwrap_err();
    let text = e.to_string();
    assert!(!text.contains("SECRET") && !text.contains("pw"), "{text}");
    assert!(
        text.contains("https href") && text.contains("only s3"),
        "{text}"
    );
}

#[test]
fn file_urls_map_to_absolute_paths_idempotently() {
    // Found while writing the `href` fuzz target's idempotence invariant:
    // `file://s3://b/x` mapped to `s3://b/x`, which maps again to
    // `/vsis3/b/x`, and `file://host/x` became the relative path `host/x`.
    for (href, path) in [
        ("file://host/srv/x.tif", "/srv/x.tif"),
        ("file://localhost/srv/x.tif", "/srv/x.tif"),
        ("file://s3://b/x", "//b/x"),
        ("file://host", "/"),
        ("file:///srv/x.tif", "/srv/x.tif"),
        ("file:///C:/x.tif", "C:/x.tif"),
    ] {
        assert_eq!(gdal_path(href), path, "{href}");
        assert_eq!(gdal_path(&gdal_path(href)), path, "{href}");
    }
}
