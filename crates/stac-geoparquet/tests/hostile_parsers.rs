//! Crafted GeoParquet files that used to crash the reader, fill memory or
//! change data silently (issue 14, findings 9–13; docs/reliability.md,
//! "Parsers"). Every file is generated here; each test names the finding it
//! reproduces.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::sync::Arc;

use arrow_array::Array;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BinaryArray, DictionaryArray, Float32Array, Float64Array, Int32Array, ListArray,
    RecordBatch, StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};
use stac_geoparquet::{
    GeoParquetError, Limit, NonFinite, ReadOptions, Reader, from_geoparquet_with,
};

/// Write `columns` as one row group (zstd, dictionaries on), with `kv`
/// file metadata.
fn write(path: &Path, columns: Vec<(&str, ArrayRef)>, kv: &[(&str, Value)]) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap()))
        .set_dictionary_enabled(true);
    let kv: Vec<_> = kv
        .iter()
        .map(|(k, v)| parquet::file::metadata::KeyValue::new((*k).to_owned(), v.to_string()))
        .collect();
    props = props.set_key_value_metadata(Some(kv));
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, schema, Some(props.build())).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn strings(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn wkb(values: Vec<Option<Vec<u8>>>) -> ArrayRef {
    Arc::new(BinaryArray::from(
        values.iter().map(|v| v.as_deref()).collect::<Vec<_>>(),
    ))
}

fn point(x: f64, y: f64) -> Vec<u8> {
    let mut b = vec![1, 1, 0, 0, 0];
    b.extend(x.to_le_bytes());
    b.extend(y.to_le_bytes());
    b
}

/// A GeometryCollection nested `depth` levels around a point.
fn nested_collections(depth: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(depth * 9 + 21);
    for _ in 0..depth {
        b.extend([1, 7, 0, 0, 0, 1, 0, 0, 0]);
    }
    b.extend(point(1.5, 2.5));
    b
}

fn geo(columns: &[&str]) -> Value {
    let columns: serde_json::Map<String, Value> = columns
        .iter()
        .map(|c| {
            (
                (*c).to_owned(),
                json!({"encoding": "WKB", "geometry_types": []}),
            )
        })
        .collect();
    json!({"version": "1.1.0", "primary_column": columns.keys().next(), "columns": columns})
}

fn read(path: &Path, options: &ReadOptions) -> Result<Vec<Value>, GeoParquetError> {
    from_geoparquet_with(path, options)
}

fn limit(e: &GeoParquetError) -> &Limit {
    match e {
        GeoParquetError::LimitExceeded(l) => l,
        other => panic!("not a limit: {other}"),
    }
}

/// Finding 9: WKB nested 20,000 deep (a 9 kB file) aborted the process with
/// a stack overflow. Now: a typed error at the depth limit, from every read
/// path; nesting up to the limit still reads.
#[test]
fn deeply_nested_wkb_is_a_typed_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.parquet");
    write(
        &path,
        vec![
            ("id", strings(&["deep"])),
            ("geometry", wkb(vec![Some(nested_collections(20_000))])),
        ],
        &[],
    );
    assert!(std::fs::metadata(&path).unwrap().len() < 16_000);
    let err = read(&path, &ReadOptions::default()).unwrap_err();
    let l = limit(&err);
    assert_eq!(
        (l.row, l.id.as_deref(), l.column.as_deref(), l.option),
        (
            Some(0),
            Some("deep"),
            Some("geometry"),
            "with_wkb_max_depth"
        )
    );
    assert!(err.to_string().contains("nested deeper than 32"), "{err}");
    let err = Reader::open(&path).unwrap().next().unwrap().unwrap_err();
    limit(&err);

    // At the limit: read; one more: refused; a raised limit reads it.
    for (depth, ok) in [(32, true), (33, false)] {
        let path = dir.path().join(format!("d{depth}.parquet"));
        write(
            &path,
            vec![
                ("id", strings(&["a"])),
                ("geometry", wkb(vec![Some(nested_collections(depth))])),
            ],
            &[],
        );
        let got = read(&path, &ReadOptions::default());
        assert_eq!(got.is_ok(), ok, "depth {depth}: {got:?}");
        if let Ok(items) = got {
            let mut g = &items[0]["geometry"];
            for _ in 0..depth {
                assert_eq!(g["type"], "GeometryCollection");
                g = &g["geometries"][0];
            }
            assert_eq!(*g, json!({"type": "Point", "coordinates": [1.5, 2.5]}));
        }
    }
    let raised = ReadOptions::default().with_wkb_max_depth(40);
    assert!(read(&dir.path().join("d33.parquet"), &raised).is_ok());
}

/// WKB counts and sizes: a count larger than the bytes left, a Multi*
/// holding a collection (the other way to nest), and the count and size
/// limits.
#[test]
fn wkb_counts_sizes_and_part_types_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut line = vec![1, 2, 0, 0, 0];
    line.extend(20u32.to_le_bytes());
    for i in 0..20 {
        line.extend(f64::from(i).to_le_bytes());
        line.extend(0.5f64.to_le_bytes());
    }
    let mut huge_count = vec![1, 2, 0, 0, 0];
    huge_count.extend(u32::MAX.to_le_bytes());
    huge_count.extend(point(0.0, 0.0));
    let path = dir.path().join("wkb.parquet");
    write(
        &path,
        vec![
            ("id", strings(&["line", "count"])),
            ("geometry", wkb(vec![Some(line), Some(huge_count)])),
        ],
        &[],
    );
    let err = |options: &ReadOptions| read(&path, options).unwrap_err().to_string();
    // Row 0 reads; row 1 claims 4 billion positions in 21 bytes.
    let e = err(&ReadOptions::default());
    assert!(
        e.contains("row 1 (id \"count\")") && e.contains("larger than the"),
        "{e}"
    );
    let e = err(&ReadOptions::default().with_wkb_max_count(10));
    assert!(
        e.contains("row 0") && e.contains("ReadOptions::with_wkb_max_count"),
        "{e}"
    );
    let e = err(&ReadOptions::default().with_wkb_max_bytes(100));
    assert!(
        e.contains("row 0") && e.contains("ReadOptions::with_wkb_max_bytes"),
        "{e}"
    );
    // A MultiPoint holding a GeometryCollection.
    let mut multi_of_collection = vec![1, 4, 0, 0, 0, 1, 0, 0, 0];
    multi_of_collection.extend(nested_collections(1));
    let path = dir.path().join("multi.parquet");
    write(
        &path,
        vec![
            ("id", strings(&["multi"])),
            ("geometry", wkb(vec![Some(multi_of_collection)])),
        ],
        &[],
    );
    let e = read(&path, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("MultiPoint holds a part of WKB type 7"), "{e}");
}

/// Finding 10: every binary column was decoded as WKB, so a thumbnail
/// failed the whole file. Now only the columns `geo` names (or `geometry`
/// without `geo`) are geometry; other binary columns are base64 text.
#[test]
fn only_the_columns_geo_names_are_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let footprint = point(3.0, 4.5);
    let columns = || {
        vec![
            ("id", strings(&["a"])),
            ("geometry", wkb(vec![Some(point(1.5, 2.5))])),
            ("footprint", wkb(vec![Some(footprint.clone())])),
            ("thumbnail", wkb(vec![Some(png.to_vec())])),
        ]
    };
    // geo names geometry and footprint.
    let path = dir.path().join("geo.parquet");
    write(
        &path,
        columns(),
        &[("geo", geo(&["geometry", "footprint"]))],
    );
    let items = read(&path, &ReadOptions::default()).unwrap();
    assert_eq!(
        items[0],
        json!({"id": "a", "geometry": {"type": "Point", "coordinates": [1.5, 2.5]},
        "properties": {
            "footprint": {"type": "Point", "coordinates": [3.0, 4.5]},
            "thumbnail": "iVBORw0KGgoAAAANSUhEUg==",
        }})
    );
    // No geo metadata: only `geometry`; the other WKB column is bytes too.
    let path = dir.path().join("plain.parquet");
    write(&path, columns(), &[]);
    let items = read(&path, &ReadOptions::default()).unwrap();
    assert_eq!(
        items[0]["properties"]["footprint"],
        "AQEAAAAAAAAAAAAIQAAAAAAAABJA"
    );
    assert_eq!(
        items[0]["geometry"],
        json!({"type": "Point", "coordinates": [1.5, 2.5]})
    );
    // geo naming a column that does not hold WKB is still an error, naming it.
    let path = dir.path().join("bad.parquet");
    write(
        &path,
        columns(),
        &[("geo", geo(&["geometry", "thumbnail"]))],
    );
    let e = read(&path, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"thumbnail\""), "{e}");
}

/// Finding 11: a 12.8 kB file (one 100 MiB string in a dictionary, used by
/// 30 rows) decoded to 3 GB at 1.9 GB peak RSS. Here the same file at 1/10
/// scale (10 MiB) with limits at 1/10 too, and the two places it is
/// stopped: the footer (pages far larger than the file) before any page is
/// read, and the decoded size per item and per row group.
#[test]
fn amplification_is_refused_before_the_memory_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(10 << 20);
    let rows = 30;
    let path = dir.path().join("dict.parquet");
    let dict = DictionaryArray::<Int32Type>::new(
        Int32Array::from(vec![0; rows]),
        Arc::new(StringArray::from(vec![big.as_str()])),
    );
    let ids: Vec<String> = (0..rows).map(|i| format!("i{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let types = vec!["Feature"; rows];
    write(
        &path,
        vec![
            ("id", strings(&ids)),
            ("type", strings(&types)),
            ("note", Arc::new(dict)),
        ],
        &[],
    );
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 20_000, "{size}");
    let scaled = ReadOptions::default().with_max_value_bytes(64 << 20 >> 4);

    // The footer says 10 MiB of pages in a few kB: over 1000× its size.
    let e = Reader::open_with(&path, &scaled).unwrap_err();
    let l = limit(&e);
    assert_eq!((l.option, l.row), ("with_max_expansion", Some(0)));
    assert!(e.to_string().contains("row group 0"), "{e}");

    // Past the footer check: the first item alone is over its budget.
    let lenient = scaled.clone().with_max_expansion(1 << 20);
    let e = read(&path, &lenient).unwrap_err();
    let l = limit(&e);
    assert_eq!(
        (l.row, l.id.as_deref(), l.column.as_deref(), l.option),
        (Some(0), Some("i0"), Some("note"), "with_max_value_bytes")
    );

    // Items within their budget, but a row group that decodes to more than
    // its budget: stopped there, after the items before.
    let items_ok = lenient.clone().with_max_value_bytes(16 << 20);
    let e = read(&path, &items_ok.clone().with_max_row_group_bytes(64 << 20)).unwrap_err();
    assert_eq!(limit(&e).option, "with_max_row_group_bytes");
    let mut reader =
        Reader::open_with(&path, &items_ok.with_max_row_group_bytes(64 << 20)).unwrap();
    let mut read_before = 0;
    for item in reader.by_ref() {
        match item {
            Ok(item) => {
                assert_eq!(
                    item["properties"]["note"].as_str().map(str::len),
                    Some(10 << 20)
                );
                read_before += 1;
            }
            Err(_) => break,
        }
    }
    // Two items of 10 MiB a block: 6 items (60 MiB) fit in 64 MiB.
    assert_eq!(read_before, 6);
    // Everything raised: the file is valid, and reads.
    let all = lenient
        .with_max_value_bytes(16 << 20)
        .with_max_row_group_bytes(1 << 40);
    let mut n = 0;
    for item in Reader::open_with(&path, &all).unwrap() {
        assert_eq!(
            item.unwrap()["properties"]["note"].as_str().map(str::len),
            Some(10 << 20)
        );
        n += 1;
    }
    assert_eq!(n, rows);
}

/// Run-length encoding: a list column whose one row holds half a million
/// zeros (a few kB on disk) is refused from the footer, before the Parquet
/// decoder materialises it.
#[test]
fn a_footer_announcing_more_values_than_the_budget_is_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rle.parquet");
    let zeros =
        ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(0); 500_000])]);
    write(
        &path,
        vec![
            ("id", strings(&["a"])),
            ("type", strings(&["Feature"])),
            ("zeros", Arc::new(zeros)),
        ],
        &[],
    );
    let options = ReadOptions::default()
        .with_max_value_bytes(256 << 10)
        .with_max_expansion(10);
    let e = Reader::open_with(&path, &options).unwrap_err();
    assert!(
        e.to_string().contains("of pages and values uncompressed"),
        "{e}"
    );
    // With the default budget it is a valid, if odd, file.
    let items = read(&path, &ReadOptions::default()).unwrap();
    assert_eq!(
        items[0]["properties"]["zeros"].as_array().unwrap().len(),
        500_000
    );
}

/// Finding 12: duplicated column names were resolved silently (the later
/// one won). Now an error, for columns, struct fields, and columns that the
/// file's hints map onto the same key.
#[test]
fn duplicated_names_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.parquet");
    write(
        &path,
        vec![
            ("id", strings(&["a"])),
            ("eo:cloud_cover", Arc::new(Float64Array::from(vec![1.0]))),
            ("eo:cloud_cover", Arc::new(Float64Array::from(vec![99.0]))),
        ],
        &[],
    );
    let e = read(&path, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, GeoParquetError::NotStacGeoParquet { reason, .. }
            if reason.contains("two columns are named \"eo:cloud_cover\"")),
        "{e}"
    );

    let path = dir.path().join("dup-field.parquet");
    let assets = StructArray::from(vec![
        (
            Arc::new(Field::new("href", DataType::Utf8, true)),
            strings(&["a.tif"]),
        ),
        (
            Arc::new(Field::new("href", DataType::Utf8, true)),
            strings(&["/etc/passwd"]),
        ),
    ]);
    let outer = StructArray::from(vec![(
        Arc::new(Field::new("B04", assets.data_type().clone(), true)),
        Arc::new(assets) as ArrayRef,
    )]);
    write(
        &path,
        vec![("id", strings(&["a"])), ("assets", Arc::new(outer))],
        &[],
    );
    let e = read(&path, &ReadOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("two fields of \"assets.B04\" are named \"href\""),
        "{e}"
    );

    // Our hints map column `x` to the top-level key `id`, which a column
    // already gives.
    let path = dir.path().join("dup-key.parquet");
    let hints = json!({"version": 1, "layout": "spec", "root_columns": {"x": "id"},
        "geometry_integers": false});
    write(
        &path,
        vec![("id", strings(&["a"])), ("x", strings(&["b"]))],
        &[("stac-gdal:geoparquet", hints)],
    );
    let e = read(&path, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("duplicated name"), "{e}");
    assert!(e.to_string().contains("\"id\""), "{e}");
}

/// Finding 13: NaN and ±inf became `null` silently. Now an error naming the
/// row, the item and the field by default; `NonFinite::Null` writes null. A
/// point whose coordinates are all NaN is WKB's `POINT EMPTY` and reads as
/// an empty position either way.
#[test]
fn non_finite_floats_are_an_error_by_default_and_null_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut half_nan = vec![1, 1, 0, 0, 0];
    half_nan.extend(1.0f64.to_le_bytes());
    half_nan.extend(f64::NAN.to_le_bytes());
    let cases: Vec<(&str, ArrayRef, &str, Value)> = vec![
        (
            "f64",
            Arc::new(Float64Array::from(vec![1.5, f64::NAN])),
            "eo:cloud_cover",
            json!({"eo:cloud_cover": null}),
        ),
        (
            "f32",
            Arc::new(Float32Array::from(vec![1.5, f32::INFINITY])),
            "gsd",
            json!({"gsd": null}),
        ),
        (
            "bbox",
            Arc::new(StructArray::from(
                ["xmin", "ymin", "xmax", "ymax"]
                    .map(|n| {
                        (
                            Arc::new(Field::new(n, DataType::Float64, true)),
                            Arc::new(Float64Array::from(vec![0.0, f64::NEG_INFINITY])) as ArrayRef,
                        )
                    })
                    .to_vec(),
            )),
            "bbox",
            json!([null, null, null, null]),
        ),
        (
            "wkb",
            wkb(vec![Some(point(0.0, 0.0)), Some(half_nan)]),
            "geometry",
            json!({"type": "Point", "coordinates": [1.0, null]}),
        ),
    ];
    for (case, array, column, nulled) in cases {
        let path = dir.path().join(format!("{case}.parquet"));
        write(
            &path,
            vec![
                ("id", strings(&["ok", "bad"])),
                ("type", strings(&["Feature", "Feature"])),
                (column, array),
            ],
            &[],
        );
        let e = read(&path, &ReadOptions::default()).unwrap_err();
        match &e {
            GeoParquetError::InvalidRow {
                row: 1,
                id: Some(id),
                column: c,
                reason,
                ..
            } if id == "bad" && c == column && reason.contains("non-finite") => {}
            other => panic!("{case}: {other}"),
        }
        let items = read(
            &path,
            &ReadOptions::default().with_non_finite(NonFinite::Null),
        )
        .unwrap();
        let got = if column == "bbox" || column == "geometry" {
            items[1][column].clone()
        } else {
            items[1]["properties"].clone()
        };
        assert_eq!(got, nulled, "{case}");
    }
    // POINT EMPTY (every coordinate NaN) is not a non-finite number.
    let path = dir.path().join("empty.parquet");
    write(
        &path,
        vec![
            ("id", strings(&["e"])),
            ("geometry", wkb(vec![Some(point(f64::NAN, f64::NAN))])),
        ],
        &[],
    );
    let items = read(&path, &ReadOptions::default()).unwrap();
    assert_eq!(
        items[0]["geometry"],
        json!({"type": "Point", "coordinates": []})
    );
}

/// Writing: JSON has no non-finite numbers, so none can reach a file. The
/// forms they take in text (`NaN`, `Infinity`, `1e400`) are JSON errors
/// naming the line.
#[test]
fn non_finite_numbers_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.parquet");
    for text in [
        r#"{"id": "a", "properties": {"x": NaN}}"#,
        r#"{"id": "a", "properties": {"x": Infinity}}"#,
        r#"{"id": "a", "properties": {"x": 1e400}}"#,
    ] {
        let mut w = stac_geoparquet::Writer::create(&path, Default::default()).unwrap();
        let e = w.push_json(text).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{text}: {e}");
    }
    assert!(!path.exists());
}

/// An all-null dictionary column whose dictionary is empty (found by the
/// `arrow_schema` fuzz target: arrow's `normalized_keys` asserts a
/// non-empty dictionary, so the reader panicked).
#[test]
fn an_all_null_dictionary_column_with_an_empty_dictionary_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty-dict.parquet");
    let dict = DictionaryArray::<Int32Type>::new(
        Int32Array::from(vec![None, None]),
        Arc::new(StringArray::from(Vec::<&str>::new())),
    );
    write(
        &path,
        vec![
            ("id", strings(&["a", "b"])),
            ("type", strings(&["Feature", "Feature"])),
            ("platform", Arc::new(dict)),
        ],
        &[],
    );
    let items = read(&path, &ReadOptions::default()).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["properties"].get("platform"), None);
}
