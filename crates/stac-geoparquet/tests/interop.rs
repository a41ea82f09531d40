//! Reading files written by others, the seed cell, and bad input.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::{Value, json};
use stac_geoparquet::{
    GeoParquetError, Layout, Reader, WriteOptions, Writer, from_geoparquet, to_geoparquet,
};

fn seed_item() -> Value {
    let text = std::fs::read_to_string(stac_fixtures::shared_file(
        "reference/pyramids-outputs/to_stac_item.json",
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn seed_cell_round_trips_scene_0() {
    let item = seed_item();
    let dir = tempfile::tempdir().unwrap();
    for layout in [Layout::Spec, Layout::Blob] {
        let path = dir.path().join("catalog.parquet");
        to_geoparquet(
            std::slice::from_ref(&item),
            &path,
            &WriteOptions::default().with_layout(layout),
        )
        .unwrap();
        let restored = from_geoparquet(&path).unwrap();
        assert_eq!(restored[0]["id"], "scene-0");
        assert_eq!(restored[0]["properties"]["proj:code"], "EPSG:32630");
        assert_eq!(restored[0], item, "{layout:?}");
        println!(
            "round-trip id: {} | proj:code: {}",
            restored[0]["id"].as_str().unwrap(),
            restored[0]["properties"]["proj:code"].as_str().unwrap()
        );
    }
    // pyramids' own round trip of the same item agrees with ours.
    let text = std::fs::read_to_string(stac_fixtures::shared_file(
        "reference/pyramids-outputs/geoparquet_roundtrip_item.json",
    ))
    .unwrap();
    let pyramids: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(pyramids, item);
}

#[test]
fn reads_the_pyramids_blob_catalog() {
    let path = stac_fixtures::shared_file("reference/pyramids-outputs/catalog.parquet");
    let reader = Reader::open(&path).unwrap();
    assert_eq!(reader.layout(), Layout::Blob);
    let items = from_geoparquet(&path).unwrap();
    assert_eq!(items.len(), 1);
    let mut expected = seed_item();
    // The parquet file keeps the raw temp path where the JSON has {WORK}.
    let href = items[0]["assets"]["data"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(href.ends_with("/B04.tif"), "{href}");
    expected["assets"]["data"]["href"] = Value::from(href);
    assert_eq!(items[0], expected);
}

#[test]
fn reads_geoparquet_0_4_from_geopandas() {
    let path = stac_fixtures::shared_file("data/stac-items/pc-naip.parquet");
    let items = from_geoparquet(&path).unwrap();
    assert_eq!(items.len(), 5);
    for item in &items {
        assert!(
            item["id"].as_str().unwrap().starts_with("ok_m_34099"),
            "{}",
            item["id"]
        );
        assert_eq!(item["collection"], "naip");
        assert_eq!(item["geometry"]["type"], "Polygon");
        assert_eq!(item["bbox"].as_array().unwrap().len(), 4);
        assert!(item["properties"]["proj:epsg"].is_i64());
        assert!(
            stac_meta::parse_datetime(item["properties"]["datetime"].as_str().unwrap()).is_some()
        );
        assert!(
            item["assets"]["image"]["href"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
        assert!(item.get("__index_level_0__").is_none());
    }
}

#[test]
fn reads_rustac_files_and_rewrites_them_identically() {
    for name in [
        "rustac-100-sentinel-2-items.parquet",
        "rustac-100-landsat-items.parquet",
    ] {
        let path = stac_fixtures::stac_item_file(name);
        let items = from_geoparquet(&path).unwrap();
        assert_eq!(items.len(), 100, "{name}");
        for item in &items {
            assert_eq!(item["type"], "Feature");
            assert!(item["geometry"]["coordinates"].is_array());
            assert_eq!(item["bbox"].as_array().unwrap().len(), 4);
            assert!(
                item["properties"]["datetime"]
                    .as_str()
                    .unwrap()
                    .ends_with('Z')
            );
            assert!(item["assets"].as_object().unwrap().len() > 5);
            assert!(item["properties"].get("bbox").is_none());
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("again.parquet");
        to_geoparquet(&items, &out, &WriteOptions::default()).unwrap();
        assert_eq!(from_geoparquet(&out).unwrap(), items, "{name}");
    }
}

#[test]
fn microseconds_are_never_truncated() {
    let item = json!({"type": "Feature", "id": "us", "geometry": null,
        "properties": {"datetime": "2020-01-14T17:26:20.477296Z", "created": "2020-01-14T17:26:20.000001Z"}});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("us.parquet");
    to_geoparquet(std::slice::from_ref(&item), &path, &WriteOptions::default()).unwrap();
    let reader = Reader::open(&path).unwrap();
    let schema = reader.schema();
    assert_eq!(
        schema
            .field_with_name("datetime")
            .unwrap()
            .data_type()
            .to_string(),
        "Timestamp(µs, \"UTC\")"
    );
    assert_eq!(from_geoparquet(&path).unwrap(), vec![item]);
}

#[test]
fn file_metadata_follows_geoparquet_1_1_and_stac_geoparquet() {
    let collection = json!({"type": "Collection", "id": "c1", "description": "d", "license": "MIT",
        "extent": {}, "links": [], "stac_version": "1.1.0"});
    let items: Vec<Value> = (0..3)
        .map(|i| json!({"type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": format!("i{i}"),
            "geometry": {"type": "Polygon", "coordinates": [[[0.5, 0.5], [1.5, 0.5], [1.5, 1.5 + i as f64], [0.5, 0.5]]]},
            "bbox": [0.5, 0.5, 1.5, 1.5 + i as f64], "collection": "c1",
            "properties": {"datetime": "2021-06-01T00:00:00Z", "n": i}, "links": [], "assets": {}}))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.parquet");
    to_geoparquet(
        &items,
        &path,
        &WriteOptions::default().with_collection(collection.clone()),
    )
    .unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let meta = parquet::file::reader::FileReader::metadata(
        &parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap(),
    )
    .clone();
    let kv = meta.file_metadata().key_value_metadata().unwrap();
    let get = |k: &str| -> Value {
        serde_json::from_str(
            kv.iter()
                .find(|e| e.key == k)
                .unwrap()
                .value
                .as_deref()
                .unwrap(),
        )
        .unwrap()
    };
    let geo = get("geo");
    assert_eq!(geo["version"], "1.1.0");
    assert_eq!(geo["primary_column"], "geometry");
    let g = &geo["columns"]["geometry"];
    assert_eq!(g["encoding"], "WKB");
    assert_eq!(g["geometry_types"], json!(["Polygon"]));
    assert_eq!(g["crs"]["id"], json!({"authority": "OGC", "code": "CRS84"}));
    assert_eq!(g["bbox"], json!([0.5, 0.5, 1.5, 3.5]));
    assert_eq!(g["covering"]["bbox"]["xmin"], json!(["bbox", "xmin"]));
    let stac = get("stac-geoparquet");
    assert_eq!(stac["version"], "1.1.0");
    assert_eq!(stac["collections"]["c1"], collection);
    let reader = Reader::open(&path).unwrap();
    assert_eq!(reader.collections()["c1"], collection);
    let schema = reader.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "type",
            "stac_version",
            "stac_extensions",
            "id",
            "geometry",
            "bbox",
            "collection",
            "datetime",
            "n",
            "links",
            "assets"
        ]
    );
    assert_eq!(
        schema
            .field_with_name("bbox")
            .unwrap()
            .data_type()
            .to_string(),
        "Struct(\"xmin\": Float64, \"ymin\": Float64, \"xmax\": Float64, \"ymax\": Float64)"
    );
    assert!(
        matches!(schema.field_with_name("links").unwrap().data_type(), arrow_schema::DataType::List(f) if matches!(f.data_type(), arrow_schema::DataType::Struct(_)))
    );
    assert_eq!(
        schema
            .field_with_name("geometry")
            .unwrap()
            .metadata()
            .get("ARROW:extension:name")
            .map(String::as_str),
        Some("geoarrow.wkb")
    );
    assert_eq!(from_geoparquet(&path).unwrap(), items);
}

#[test]
fn conflicting_types_are_json_text_and_restored() {
    let items = vec![
        json!({"id": "a", "geometry": null, "properties": {"v": 1, "u": 1, "w": "x", "s": {"a": 1}, "big": 18446744073709551615u64}, "assets": {}}),
        json!({"id": "b", "geometry": null, "properties": {"v": 1.5, "u": 2.0, "w": 2, "s": "flat", "big": 1}, "assets": {"x": {"href": "x"}}}),
        json!({"id": "c", "geometry": null, "properties": {"late": [1, "two", null]}}),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.parquet");
    let mut w = Writer::create(&path, WriteOptions::default().with_row_group_size(1)).unwrap();
    w.extend(items.clone()).unwrap();
    w.finish().unwrap();
    let schema = Reader::open(&path).unwrap().schema();
    // Integers next to floats: float64, integers restored as integers.
    assert_eq!(
        schema.field_with_name("v").unwrap().data_type(),
        &arrow_schema::DataType::Float64
    );
    for name in ["u", "w", "s", "big"] {
        assert_eq!(
            schema.field_with_name(name).unwrap().data_type(),
            &arrow_schema::DataType::Utf8,
            "{name}"
        );
    }
    // Only the conflicting part becomes JSON text: here the list elements.
    assert_eq!(
        schema
            .field_with_name("late")
            .unwrap()
            .data_type()
            .to_string(),
        "List(Utf8)"
    );
    assert_eq!(from_geoparquet(&path).unwrap(), items);
}

#[test]
fn bad_input_gives_typed_errors_naming_file_and_item() {
    let dir = tempfile::tempdir().unwrap();
    // Not parquet.
    let text = dir.path().join("not.parquet");
    std::fs::write(&text, "hello").unwrap();
    let e = from_geoparquet(&text).unwrap_err();
    assert!(matches!(e, GeoParquetError::NotParquet { .. }), "{e}");
    assert!(e.to_string().contains("not.parquet"));
    // Truncated.
    let good = dir.path().join("good.parquet");
    to_geoparquet(&[seed_item()], &good, &WriteOptions::default()).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = from_geoparquet(&cut).unwrap_err();
    assert!(matches!(e, GeoParquetError::NotParquet { .. }), "{e}");
    assert!(e.to_string().contains("cut.parquet"));
    // Parquet without geo metadata or STAC columns.
    let plain = dir.path().join("plain.parquet");
    {
        use std::sync::Arc;
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "x",
            arrow_schema::DataType::Int64,
            false,
        )]));
        let batch = arrow_array::RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(arrow_array::Int64Array::from(vec![1, 2]))],
        )
        .unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&plain).unwrap(),
            schema,
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let e = from_geoparquet(&plain).unwrap_err();
    assert!(
        matches!(e, GeoParquetError::NotStacGeoParquet { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("plain.parquet"));
    // Item without id: error names the position; nothing is left at the destination.
    let out = dir.path().join("out.parquet");
    let items = vec![
        seed_item(),
        json!({"type": "Feature", "geometry": null, "properties": {}}),
    ];
    let e = to_geoparquet(&items, &out, &WriteOptions::default()).unwrap_err();
    assert!(
        matches!(e, GeoParquetError::InvalidItem { index: 1, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("out.parquet") && e.to_string().contains("item 1"),
        "{e}"
    );
    assert!(!out.exists());
    // Property colliding with a reserved column.
    let mut bad = seed_item();
    bad["properties"]["collection"] = json!("x");
    let e = to_geoparquet(&[seed_item(), bad], &out, &WriteOptions::default()).unwrap_err();
    match &e {
        GeoParquetError::ReservedColumn { index, id, key, .. } => {
            assert_eq!(
                (*index, id.as_str(), key.as_str()),
                (1, "scene-0", "collection")
            );
        }
        other => panic!("{other}"),
    }
    assert!(!out.exists());
    // A bad geometry found while encoding (streaming, after a spill) fails the
    // whole write and leaves the previous file untouched.
    std::fs::write(&out, b"previous").unwrap();
    let mut w = Writer::create(&out, WriteOptions::default().with_row_group_size(2)).unwrap();
    for i in 0..5 {
        let mut item = seed_item();
        item["id"] = json!(format!("s{i}"));
        if i == 3 {
            item["geometry"] = json!({"type": "Polygon", "coordinates": "nope"});
        }
        w.push(item).unwrap();
    }
    let e = w.finish().unwrap_err();
    assert!(
        matches!(e, GeoParquetError::InvalidItem { index: 3, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("s3"), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 5, "temp files left: {leftovers:?}");
    // Empty input.
    assert!(matches!(
        to_geoparquet(&[], &out, &WriteOptions::default()),
        Err(GeoParquetError::Empty { .. })
    ));
}

#[test]
fn progress_callback_reports_pushed_and_written_items() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.parquet");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let mut w = Writer::create(&path, WriteOptions::default().with_row_group_size(700))
        .unwrap()
        .with_progress(move |p| sink.lock().unwrap().push(p));
    for i in 0..2500 {
        let mut item = seed_item();
        item["id"] = json!(format!("p{i}"));
        w.push(item).unwrap();
    }
    w.finish().unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.contains(&stac_geoparquet::Progress::Pushed(2000)));
    assert_eq!(
        seen.last(),
        Some(&stac_geoparquet::Progress::Written {
            done: 2500,
            total: 2500
        })
    );
}
