//! Items ↔ Arrow record batches in memory (`to_record_batches`,
//! `BatchDecoder`): the batches are a file's, and decode as the file's do.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{Value, json};
use stac_geoparquet::{
    BatchDecoder, GeoParquetError, Layout, Reader, SortOrder, WriteOptions, from_geoparquet,
    to_geoparquet, to_record_batches,
};

fn fixture_items() -> Vec<(String, Vec<Value>)> {
    stac_fixtures::stac_item_files()
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).ok()?;
            let items = stac_meta::parse_items(&text).ok()?;
            Some((name, items))
        })
        .collect()
}

fn decode(schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<Value>, GeoParquetError> {
    let mut decoder = BatchDecoder::new(schema)?;
    let mut out = Vec::new();
    for b in batches {
        out.extend(decoder.decode(b)?);
    }
    Ok(out)
}

/// Top-level and property keys whose value is `null` removed (the one
/// documented difference from a file: explicit nulls come back missing).
fn without_nulls(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(o) = item.as_object_mut() {
        o.retain(|_, v| !v.is_null());
        if let Some(Value::Object(p)) = o.get_mut("properties") {
            p.retain(|_, v| !v.is_null());
        }
    }
    item
}

#[test]
fn batches_of_every_fixture_decode_as_its_file_does() {
    let fixtures = fixture_items();
    assert!(fixtures.len() >= 20, "fixtures missing");
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for (name, items) in &fixtures {
        if items.is_empty() {
            continue;
        }
        all.extend(items.iter().cloned());
        for layout in [Layout::Spec, Layout::Blob] {
            let options = WriteOptions::default().with_layout(layout);
            let path = dir.path().join("f.parquet");
            to_geoparquet(items, &path, &options).unwrap();
            let from_file = from_geoparquet(&path).unwrap();
            let (schema, batches) = to_record_batches(items, &options).unwrap();
            // The batches are the file's: same columns, same metadata keys.
            let file_schema = Reader::open(&path).unwrap().schema();
            assert_eq!(schema.fields(), file_schema.fields(), "{name} {layout:?}");
            for key in ["geo", "stac-gdal:geoparquet"] {
                assert_eq!(
                    schema.metadata().get(key),
                    file_schema.metadata().get(key),
                    "{name} {layout:?} {key}"
                );
            }
            let back = decode(&schema, &batches).unwrap();
            assert_eq!(back.len(), items.len(), "{name}");
            for (a, b) in back.iter().zip(&from_file) {
                assert_eq!(without_nulls(a), without_nulls(b), "{name} {layout:?}");
            }
            if layout == Layout::Blob {
                assert_eq!(&back, items, "{name}: the JSON-blob layout is exact");
            }
        }
    }
    // All fixtures in one table (the heterogeneous schema), sorted.
    let options = WriteOptions::default().with_sort(SortOrder::Hilbert);
    let path = dir.path().join("all.parquet");
    to_geoparquet(&all, &path, &options).unwrap();
    let (schema, batches) = to_record_batches(&all, &options).unwrap();
    let back = decode(&schema, &batches).unwrap();
    let from_file = from_geoparquet(&path).unwrap();
    assert_eq!(back.len(), all.len());
    for (a, b) in back.iter().zip(&from_file) {
        assert_eq!(without_nulls(a), without_nulls(b));
    }
}

#[test]
fn stored_batches_of_other_writers_files_decode_as_the_files_do() {
    for path in [
        stac_fixtures::stac_item_file("rustac-100-sentinel-2-items.parquet"),
        stac_fixtures::stac_item_file("rustac-100-landsat-items.parquet"),
        stac_fixtures::shared_file("data/stac-items/pc-naip.parquet"),
        stac_fixtures::shared_file("reference/pyramids-outputs/catalog.parquet"),
    ] {
        let reader = Reader::open(&path).unwrap();
        let schema = reader.schema();
        let batches: Vec<RecordBatch> = reader.into_batches().map(Result::unwrap).collect();
        let back = decode(&schema, &batches).unwrap();
        assert_eq!(back, from_geoparquet(&path).unwrap(), "{}", path.display());
        assert!(!back.is_empty());
    }
}

#[test]
fn bad_batches_are_typed_errors_naming_row_and_column() {
    // No STAC column at all.
    let schema = Schema::new(vec![Field::new("x", DataType::Utf8, true)]);
    let err = BatchDecoder::new(&schema).unwrap_err();
    assert!(
        matches!(err, GeoParquetError::NotStacGeoParquet { .. }),
        "{err}"
    );
    // Garbage WKB in row 1 of the second batch: the row counts from the first.
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("geometry", DataType::Binary, true),
    ]));
    let point = {
        let mut b = vec![1u8, 1, 0, 0, 0];
        b.extend(1.5f64.to_le_bytes());
        b.extend(2.5f64.to_le_bytes());
        b
    };
    let batch = |ids: [&str; 2], geoms: [&[u8]; 2]| {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(ids.to_vec())) as ArrayRef,
                Arc::new(BinaryArray::from(geoms.to_vec())) as ArrayRef,
            ],
        )
        .unwrap()
    };
    let good = batch(["a", "b"], [&point, &point]);
    let bad = batch(["c", "d"], [&point, &[1, 2, 3]]);
    let mut decoder = BatchDecoder::new(&schema).unwrap();
    let items = decoder.decode(&good).unwrap();
    assert_eq!(
        items[1]["geometry"],
        json!({"type": "Point", "coordinates": [1.5, 2.5]})
    );
    let err = decoder.decode(&bad).unwrap_err();
    match &err {
        GeoParquetError::InvalidRow { row, column, .. } => {
            assert_eq!(*row, 3, "{err}");
            assert_eq!(column, "geometry");
        }
        other => panic!("expected InvalidRow, got {other:?}"),
    }
    assert!(err.to_string().contains("<arrow>"), "{err}");
    // A batch whose columns are not the schema's.
    let other = RecordBatch::try_from_iter(vec![(
        "id",
        Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
    )])
    .unwrap();
    let err = BatchDecoder::new(&schema)
        .unwrap()
        .decode(&other)
        .unwrap_err();
    assert!(
        matches!(err, GeoParquetError::NotStacGeoParquet { .. }),
        "{err}"
    );
    // Nothing to encode.
    let err = to_record_batches(&[], &WriteOptions::default()).unwrap_err();
    assert!(matches!(err, GeoParquetError::Empty { .. }), "{err}");
    // An item that cannot be written names its position.
    let err = to_record_batches(
        &[json!({"id": "a"}), json!({"no": "id"})],
        &WriteOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, GeoParquetError::InvalidItem { index: 1, .. }),
        "{err}"
    );
}
