//! `to_stac_item` output against the vendored STAC Item 1.0.0, projection
//! and raster extension JSON schemas (tests/data/schemas, see its README).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::PathBuf;

use jsonschema::{Resource, Validator};
use ndarray::Array2;
use serde_json::{Value, json};
use stac_raster::{BandOptions, Crs, Dataset, GridSpec, ItemOptions, ProjectionVersion};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/schemas")
}

fn load(rel: &str) -> Value {
    let text = std::fs::read_to_string(schemas_dir().join(rel)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A validator for `root` with every vendored schema registered by its `$id`.
fn validator(root: &str) -> Validator {
    let mut opts = jsonschema::options().should_validate_formats(true);
    for rel in [
        "geojson/Feature.json",
        "geojson/Geometry.json",
        "stac-spec/v1.0.0/item-spec/json-schema/basics.json",
        "stac-spec/v1.0.0/item-spec/json-schema/datetime.json",
        "stac-spec/v1.0.0/item-spec/json-schema/instrument.json",
        "stac-spec/v1.0.0/item-spec/json-schema/licensing.json",
        "stac-spec/v1.0.0/item-spec/json-schema/provider.json",
    ] {
        let schema = load(rel);
        let id = schema["$id"]
            .as_str()
            .unwrap()
            .trim_end_matches('#')
            .to_owned();
        opts = opts.with_resource(id, Resource::from_contents(schema).unwrap());
    }
    // Never written by us; a permissive stand-in so the projection schema builds offline.
    opts = opts.with_resource(
        "https://proj.org/schemas/v0.5/projjson.schema.json",
        Resource::from_contents(json!({"type": "object"})).unwrap(),
    );
    opts.build(&load(root)).unwrap()
}

const ITEM: &str = "stac-spec/v1.0.0/item-spec/json-schema/item.json";
const PROJ_V1_1: &str = "stac-extensions/projection/v1.1.0/schema.json";
const PROJ_V2: &str = "stac-extensions/projection/v2.0.0/schema.json";
const RASTER: &str = "stac-extensions/raster/v1.1.0/schema.json";

fn errors(v: &Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn seed_dataset() -> Dataset {
    Dataset::create_from_array(
        &Array2::<u16>::from_elem((4, 4), 1),
        &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
}

fn opts() -> ItemOptions {
    ItemOptions::new("/data/B04.tif")
        .with_media_type("image/tiff; application=geotiff")
        .with_datetime("2021-06-01T00:00:00Z")
}

#[test]
fn seed_item_validates_against_item_and_raster_schemas() {
    let item = seed_dataset().to_stac_item("scene-0", &opts()).unwrap();
    assert_eq!(errors(&validator(ITEM), &item), Vec::<String>::new());
    assert_eq!(errors(&validator(RASTER), &item), Vec::<String>::new());
}

#[test]
fn validators_reject_broken_items() {
    // The validators are not vacuous.
    let mut item = seed_dataset().to_stac_item("scene-0", &opts()).unwrap();
    item["assets"]["data"]["raster:bands"][0]["data_type"] = json!("u16");
    assert!(!validator(RASTER).is_valid(&item));
    item["stac_version"] = json!("0.9.0");
    assert!(!validator(ITEM).is_valid(&item));
    let mut no_dt = seed_dataset().to_stac_item("scene-0", &opts()).unwrap();
    no_dt["properties"]["datetime"] = Value::Null;
    assert!(!validator(ITEM).is_valid(&no_dt));
}

#[test]
fn pyramids_compatible_item_breaks_projection_v1_1_only_by_proj_code() {
    let item = seed_dataset().to_stac_item("scene-0", &opts()).unwrap();
    let proj = validator(PROJ_V1_1);
    // proj:code is a v2.0.0 field that pyramids writes under v1.1.0.
    assert!(!proj.is_valid(&item));
    let mut without_code = item.clone();
    without_code["properties"]
        .as_object_mut()
        .unwrap()
        .remove("proj:code");
    assert_eq!(errors(&proj, &without_code), Vec::<String>::new());
}

#[test]
fn projection_v2_output_validates_against_all_schemas() {
    let item = seed_dataset()
        .to_stac_item("scene-0", &opts().with_projection(ProjectionVersion::V2))
        .unwrap();
    assert_eq!(item["properties"]["proj:code"], "EPSG:32630");
    assert!(item["properties"].get("proj:epsg").is_none());
    for schema in [ITEM, PROJ_V2, RASTER] {
        assert_eq!(
            errors(&validator(schema), &item),
            Vec::<String>::new(),
            "{schema}"
        );
    }
}

#[test]
fn richer_items_validate() {
    // Float band with NaN nodata, stats + histogram + eo, a date range,
    // a CRS without EPSG code (wkt2), and an antimeridian MultiPolygon.
    let arr = Array2::<f32>::from_shape_fn((8, 8), |(r, c)| (r * 8 + c) as f32);
    let moll = Dataset::create_from_array(
        &arr,
        &GridSpec::from_geotransform(
            [0.0, 1000.0, 0.0, 5_000_000.0, 0.0, -1000.0],
            Some(Crs::parse("ESRI:54009").unwrap()),
        ),
        Some(f64::NAN),
    )
    .unwrap();
    let am = Dataset::create_from_array(
        &arr,
        &GridSpec::north_up([600_000.0, 7_000_000.0], 12_500.0, 32660),
        Some(-9999.0),
    )
    .unwrap();
    let bands = BandOptions {
        with_stats: true,
        with_histogram: true,
        with_eo: true,
        ..BandOptions::default()
    };
    for ds in [moll, am] {
        for projection in [ProjectionVersion::V1_1, ProjectionVersion::V2] {
            let item = ds
                .to_stac_item(
                    "rich",
                    &ItemOptions::new("r.tif")
                        .with_range("2021-01-01T00:00:00Z", "2021-02-01T00:00:00Z")
                        .with_bands(bands.clone())
                        .with_projection(projection),
                )
                .unwrap();
            assert_eq!(errors(&validator(ITEM), &item), Vec::<String>::new());
            assert_eq!(errors(&validator(RASTER), &item), Vec::<String>::new());
            if projection == ProjectionVersion::V2 {
                assert_eq!(errors(&validator(PROJ_V2), &item), Vec::<String>::new());
            }
        }
    }
}
