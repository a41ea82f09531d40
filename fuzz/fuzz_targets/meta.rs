//! `meta`: arbitrary bytes → JSON → every stac-meta accessor.
//!
//! The input is parsed both as text (`parse_items`: Item, FeatureCollection,
//! array or NDJSON) and as bytes (`serde_json::from_slice` +
//! `items_from_value`); then, for every item and every asset key: `asset`,
//! `asset_href`, `asset_source`, `which_engine`, `read_extension_metadata`
//! (and the derived resolution, bounds, EPSG code, serialisation), `bbox`,
//! `item_datetime` / `item_interval`, `solar_day` and every `GroupBy` key.
//! Invariants: nothing panics; errors display; a bbox and a geotransform
//! survive their round trips; group keys order totally.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stac_meta::{Bbox, GroupBy, GroupKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        match stac_meta::items_from_value(value) {
            Ok(items) => items.iter().for_each(exercise),
            Err(e) => drop(e.to_string()),
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match stac_meta::parse_items(text) {
        Ok(items) => items.iter().for_each(exercise),
        Err(e) => drop(e.to_string()),
    }
});

fn exercise(item: &Value) {
    let _ = stac_meta::item_id(item);
    let _ = stac_meta::properties(item);
    let _ = stac_meta::collection_id(item);
    let _ = stac_meta::self_href(item);
    let _ = stac_meta::item_slice(item);
    let bbox = match stac_meta::bbox(item) {
        Ok(b) => b,
        Err(e) => {
            let _ = e.to_string();
            None
        }
    };
    if let Some(b) = &bbox {
        assert_eq!(Bbox::from_slice(&b.to_vec()).as_ref(), Some(b));
        let _ = b.center_lon();
    }
    let datetime = stac_meta::item_datetime(item);
    let _ = stac_meta::item_interval(item).map_err(|e| e.to_string());
    if let Ok(Some(t)) = datetime {
        let _ = stac_meta::solar_day(t, bbox.as_ref());
        let _ = stac_meta::solar_day(t, None);
    }
    let mut keys: Vec<GroupKey> = Vec::new();
    for by in [
        GroupBy::None,
        GroupBy::SolarDay,
        GroupBy::Time,
        GroupBy::Id,
        GroupBy::parse("platform"),
        GroupBy::parse("eo:cloud_cover"),
    ] {
        match by.key(item) {
            Ok(Some(k)) => {
                let _ = k.to_string();
                keys.push(k);
            }
            Ok(None) => {}
            Err(e) => drop(e.to_string()),
        }
    }
    for a in &keys {
        assert_eq!(a.cmp(a), std::cmp::Ordering::Equal);
        for b in &keys {
            assert_eq!(a.cmp(b), b.cmp(a).reverse());
        }
    }

    // The item itself as a bare asset, then every asset.
    exercise_asset(item, None);
    let _ = stac_meta::asset(item, "\u{0}no such asset").map_err(|e| e.to_string());
    if let Some(assets) = stac_meta::assets(item) {
        for key in assets.keys().take(64) {
            exercise_asset(item, Some(key));
        }
    }
}

fn exercise_asset(item: &Value, key: Option<&str>) {
    if let Some(k) = key {
        let a = stac_meta::asset(item, k).expect("a listed asset key exists");
        let _ = stac_meta::media_type(a);
        let _ = stac_meta::alternate_href(a, "s3");
        if let Ok(href) = stac_meta::asset_href(item, k) {
            let _ = stac_meta::gdal_path(href);
            let _ = stac_meta::redact(href);
            let _ = stac_meta::href_kind(href);
        }
    }
    let _ = stac_meta::asset_source(item, key, &["s3", "https"]).map_err(|e| e.to_string());
    let _ = stac_meta::which_engine(item, key).map_err(|e| e.to_string());
    let _ = stac_meta::which_engine_with(item, key, &["s3"]).map_err(|e| e.to_string());
    match stac_meta::read_extension_metadata(item, key) {
        Ok(meta) => {
            let _ = meta.epsg_code();
            let _ = meta.resolution();
            let _ = meta.bounds();
            let _ = meta.has_grid();
            let _ = serde_json::to_value(&meta).expect("metadata serialises");
            if let Some(gt) = meta.geotransform {
                let back =
                    stac_meta::affine_to_geotransform(&stac_meta::geotransform_to_affine(&gt))
                        .expect("a geotransform read from an item converts back");
                assert_eq!(back, gt);
            }
            if let Some(names) = &meta.band_names {
                assert!(names.iter().all(|n| !n.is_empty()));
            }
        }
        Err(e) => drop(e.to_string()),
    }
}
