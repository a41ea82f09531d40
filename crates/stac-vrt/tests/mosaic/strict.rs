//! Skipped sources: `strict` (default) fails naming them, redacted;
//! `strict(false)` builds a partial mosaic and lists them.

use crate::support::{Tile, read_u16};
use serde_json::json;
use stac_vrt::{VrtError, VrtOptions, build_vrt_from_stac};

fn inputs(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let a = Tile::new(dir, "good-a", 32630, (600000.0, 5300000.0), 10.0, 10);
    let b = Tile::new(dir, "good-b", 32630, (600040.0, 5300000.0), 10.0, 20);
    a.write();
    b.write();
    let missing = format!("{}/missing.tif?token=SECRET123", dir.display());
    vec![
        a.item(),
        json!({"id": "gone", "assets": {"data": {"href": missing}}}),
        b.item(),
        json!({"id": "no-asset", "assets": {"other": {"href": "/x.tif"}}}),
    ]
}

#[test]
fn strict_fails_naming_the_skipped_sources_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let items = inputs(dir.path());
    let err = build_vrt_from_stac(&items, "data", &VrtOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            VrtError::SkippedSources {
                skipped: 2,
                total: 4,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("skipped 2 of 4"), "{msg}");
    assert!(msg.contains("gone") && msg.contains("no-asset"), "{msg}");
    assert!(msg.contains("missing.tif?<redacted>"), "{msg}");
    assert!(!msg.contains("SECRET123"), "{msg}");
    assert!(!format!("{err:?}").contains("SECRET123"));
}

#[test]
fn non_strict_builds_a_partial_mosaic_and_lists_the_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let items = inputs(dir.path());
    let vrt = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_fail_on_error(false),
    )
    .expect("partial");
    let skipped: Vec<&str> = vrt.skipped().iter().map(|s| s.item.as_str()).collect();
    assert_eq!(skipped, ["gone", "no-asset"]);
    assert!(vrt.skipped()[0].reason.contains("could not open"));
    assert_eq!(
        vrt.skipped()[0]
            .href
            .as_deref()
            .map(|h| h.ends_with("missing.tif?<redacted>")),
        Some(true)
    );
    assert!(!format!("{vrt:?}").contains("SECRET123"));
    assert_eq!(vrt.summary().sources.len(), 2);
    assert_eq!(vrt.summary().shape, [4, 8]);
    let (px, _) = read_u16(vrt.open().unwrap().inner(), 1);
    assert_eq!(&px[..8], [10, 10, 10, 10, 20, 20, 20, 20]);
}

#[test]
fn nothing_usable_is_an_error_even_when_not_strict() {
    let items = vec![json!({"id": "x", "assets": {"data": {"href": "/definitely/not/here.tif"}}})];
    let err = build_vrt_from_stac(
        &items,
        "data",
        &VrtOptions::default().with_fail_on_error(false),
    )
    .unwrap_err();
    assert!(matches!(err, VrtError::NoSources { .. }), "{err}");
    let none: Vec<serde_json::Value> = Vec::new();
    let err = build_vrt_from_stac(&none, "data", &VrtOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no items"), "{err}");
}
