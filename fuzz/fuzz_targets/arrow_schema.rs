//! `arrow_schema`: arbitrary Arrow schemas and data (the `arbitrary`
//! crate), written to Parquet by arrow's own writer → `stac_geoparquet`'s
//! reader, with arbitrary read limits.
//!
//! An input draws up to 8 columns of any type the reader meets (every
//! integer and float width, strings and binaries of each offset size and
//! views, timestamps of each unit, dates, lists, large and fixed-size lists,
//! structs, maps, dictionaries) nested up to 4 deep, with names from a pool
//! that includes the STAC names and repeats (so duplicated names happen);
//! data with nulls, NaN and ±inf, long repeated strings (amplification),
//! WKB and non-WKB bytes; optional `geo` metadata naming some columns;
//! optional reader hints (JSON-text columns, top-level key mappings, the
//! JSON-blob layout); compression, dictionary encoding and row-group size.
//!
//! Invariants: never a panic; two top-level columns with one name are
//! refused at open; every item returned is an object that takes at most
//! `max_value_bytes` by `stac_meta::budget::value_cost`; a binary column that
//! the `geo` metadata does not name is never decoded as a geometry.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use arbitrary::{Arbitrary, Unstructured};
use arrow_array::types::{Int32Type, UInt8Type};
use arrow_array::{
    ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, Date32Array, DictionaryArray,
    FixedSizeListArray, Float32Array, Float64Array, Int8Array, Int32Array, Int64Array,
    LargeBinaryArray, LargeListArray, LargeStringArray, ListArray, MapArray, NullArray,
    PrimitiveArray, RecordBatch, StringArray, StringViewArray, StructArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use stac_geoparquet::{NonFinite, ReadOptions, Reader};

#[derive(Debug, Clone, Copy, Arbitrary, PartialEq, Eq)]
enum Name {
    Id,
    Geometry,
    Bbox,
    Type,
    StacVersion,
    Assets,
    Links,
    Datetime,
    Href,
    StacItem,
    Footprint,
    Thumbnail,
    A,
    B,
    PandasIndex,
    Custom(u8),
}

impl Name {
    fn text(self) -> String {
        match self {
            Name::Id => "id".into(),
            Name::Geometry => "geometry".into(),
            Name::Bbox => "bbox".into(),
            Name::Type => "type".into(),
            Name::StacVersion => "stac_version".into(),
            Name::Assets => "assets".into(),
            Name::Links => "links".into(),
            Name::Datetime => "datetime".into(),
            Name::Href => "href".into(),
            Name::StacItem => "stac_item".into(),
            Name::Footprint => "footprint".into(),
            Name::Thumbnail => "thumbnail".into(),
            Name::A => "a".into(),
            Name::B => "b".into(),
            Name::PandasIndex => "__index_level_0__".into(),
            Name::Custom(n) => format!("c{}", n % 16),
        }
    }
}

#[derive(Debug, Clone, Arbitrary)]
enum Ty {
    Null,
    Bool,
    I8,
    I32,
    I64,
    U8,
    U64,
    F32,
    F64,
    Utf8,
    LargeUtf8,
    Utf8View,
    Binary,
    LargeBinary,
    BinaryView,
    TsS,
    TsMs,
    TsUs,
    TsNsUtc,
    Date32,
    List(Box<Ty>),
    LargeList(Box<Ty>),
    FixedList(u8, Box<Ty>),
    Struct(Vec<(Name, Ty)>),
    Map(Box<Ty>),
    DictUtf8,
    DictBinary,
}

/// The Arrow type of `ty`, nesting cut at `depth` 4.
fn data_type(ty: &Ty, depth: usize) -> DataType {
    if depth >= 4 {
        return DataType::Utf8;
    }
    let item = |t: &Ty| Arc::new(Field::new("item", data_type(t, depth + 1), true));
    match ty {
        Ty::Null => DataType::Null,
        Ty::Bool => DataType::Boolean,
        Ty::I8 => DataType::Int8,
        Ty::I32 => DataType::Int32,
        Ty::I64 => DataType::Int64,
        Ty::U8 => DataType::UInt8,
        Ty::U64 => DataType::UInt64,
        Ty::F32 => DataType::Float32,
        Ty::F64 => DataType::Float64,
        Ty::Utf8 => DataType::Utf8,
        Ty::LargeUtf8 => DataType::LargeUtf8,
        Ty::Utf8View => DataType::Utf8View,
        Ty::Binary => DataType::Binary,
        Ty::LargeBinary => DataType::LargeBinary,
        Ty::BinaryView => DataType::BinaryView,
        Ty::TsS => DataType::Timestamp(arrow_schema::TimeUnit::Second, None),
        Ty::TsMs => DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, None),
        Ty::TsUs => DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into())),
        Ty::TsNsUtc => DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, Some("UTC".into())),
        Ty::Date32 => DataType::Date32,
        Ty::List(t) => DataType::List(item(t)),
        Ty::LargeList(t) => DataType::LargeList(item(t)),
        Ty::FixedList(n, t) => DataType::FixedSizeList(item(t), i32::from(n % 4 + 1)),
        Ty::Struct(fields) => {
            let fields: Vec<Field> = fields
                .iter()
                .take(6)
                .map(|(n, t)| Field::new(n.text(), data_type(t, depth + 1), true))
                .collect();
            if fields.is_empty() {
                DataType::Utf8
            } else {
                DataType::Struct(Fields::from(fields))
            }
        }
        Ty::Map(t) => DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    Field::new("keys", DataType::Utf8, false),
                    Field::new("values", data_type(t, depth + 1), true),
                ])),
                false,
            )),
            false,
        ),
        Ty::DictUtf8 => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        Ty::DictBinary => {
            DataType::Dictionary(Box::new(DataType::UInt8), Box::new(DataType::Binary))
        }
    }
}

/// Values drawn from the input, within a total size.
struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    /// Bytes of strings and binaries left to generate.
    bytes_left: usize,
}

impl Gen<'_, '_> {
    fn valid(&mut self) -> bool {
        self.u.ratio(7, 8).unwrap_or(true)
    }

    fn nulls(&mut self, len: usize) -> Option<NullBuffer> {
        if self.u.ratio(1, 2).unwrap_or(false) {
            return None;
        }
        Some(NullBuffer::from(
            (0..len).map(|_| self.valid()).collect::<Vec<_>>(),
        ))
    }

    fn float(&mut self) -> f64 {
        match self.u.int_in_range(0..=7u8).unwrap_or(0) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => f64::from(self.u.int_in_range(-1000..=1000i32).unwrap_or(0)),
            _ => f64::from_bits(self.u.arbitrary().unwrap_or(0)),
        }
    }

    fn text(&mut self) -> String {
        match self.u.int_in_range(0..=9u8).unwrap_or(0) {
            // A long run of one character: amplification through
            // compression and dictionaries.
            0 => {
                let n =
                    (usize::from(self.u.arbitrary::<u16>().unwrap_or(0)) * 64).min(self.bytes_left);
                self.bytes_left -= n;
                "x".repeat(n)
            }
            1 => r#"{"type": "Point", "coordinates": [1, 2]}"#.into(),
            2 => "2021-06-01T10:00:00.123456Z".into(),
            3 => format!("[{}]", "[".repeat(150)),
            _ => {
                let s: String = self.u.arbitrary().unwrap_or_default();
                let s: String = s.chars().take(64).collect();
                self.bytes_left = self.bytes_left.saturating_sub(s.len());
                s
            }
        }
    }

    fn bytes(&mut self) -> Vec<u8> {
        match self.u.int_in_range(0..=5u8).unwrap_or(0) {
            0 => {
                let mut b = vec![1, 1, 0, 0, 0];
                b.extend(self.float().to_le_bytes());
                b.extend(self.float().to_le_bytes());
                b
            }
            1 => {
                let depth = usize::from(self.u.arbitrary::<u8>().unwrap_or(0)) * 8;
                let mut b = Vec::new();
                for _ in 0..depth {
                    b.extend([1, 7, 0, 0, 0, 1, 0, 0, 0]);
                }
                b.extend([1, 1, 0, 0, 0]);
                b.extend([0; 16]);
                self.bytes_left = self.bytes_left.saturating_sub(b.len());
                b
            }
            2 => b"\x89PNG\r\n\x1a\n".to_vec(),
            _ => {
                let b: Vec<u8> = self.u.arbitrary().unwrap_or_default();
                b.into_iter().take(64).collect()
            }
        }
    }

    fn opt<T>(&mut self, f: impl Fn(&mut Self) -> T) -> Option<T> {
        if self.valid() { Some(f(self)) } else { None }
    }

    fn array(&mut self, ty: &DataType, len: usize) -> ArrayRef {
        macro_rules! prim {
            ($arr:ty, $t:ty) => {{
                let v: Vec<Option<$t>> = (0..len)
                    .map(|_| self.opt(|g| g.u.arbitrary::<$t>().unwrap_or_default()))
                    .collect();
                Arc::new(<$arr>::from(v)) as ArrayRef
            }};
        }
        match ty {
            DataType::Null => Arc::new(NullArray::new(len)),
            DataType::Boolean => prim!(BooleanArray, bool),
            DataType::Int8 => prim!(Int8Array, i8),
            DataType::Int32 => prim!(Int32Array, i32),
            DataType::Int64 => prim!(Int64Array, i64),
            DataType::UInt8 => prim!(PrimitiveArray<UInt8Type>, u8),
            DataType::UInt64 => prim!(UInt64Array, u64),
            DataType::Float32 => {
                let v: Vec<Option<f32>> =
                    (0..len).map(|_| self.opt(|g| g.float() as f32)).collect();
                Arc::new(Float32Array::from(v))
            }
            DataType::Float64 => {
                let v: Vec<Option<f64>> = (0..len).map(|_| self.opt(Self::float)).collect();
                Arc::new(Float64Array::from(v))
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let v: Vec<Option<String>> = (0..len).map(|_| self.opt(Self::text)).collect();
                match ty {
                    DataType::Utf8 => Arc::new(StringArray::from(v)),
                    DataType::LargeUtf8 => Arc::new(LargeStringArray::from(v)),
                    _ => Arc::new(StringViewArray::from(v)),
                }
            }
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                let v: Vec<Option<Vec<u8>>> = (0..len).map(|_| self.opt(Self::bytes)).collect();
                let v: Vec<Option<&[u8]>> = v.iter().map(|b| b.as_deref()).collect();
                match ty {
                    DataType::Binary => Arc::new(BinaryArray::from(v)),
                    DataType::LargeBinary => Arc::new(LargeBinaryArray::from(v)),
                    _ => Arc::new(BinaryViewArray::from(v)),
                }
            }
            DataType::Timestamp(unit, tz) => {
                let v: Vec<Option<i64>> = (0..len)
                    .map(|_| self.opt(|g| g.u.arbitrary::<i64>().unwrap_or(0)))
                    .collect();
                let a: ArrayRef = match unit {
                    arrow_schema::TimeUnit::Second => {
                        Arc::new(TimestampSecondArray::from(v).with_timezone_opt(tz.clone()))
                    }
                    arrow_schema::TimeUnit::Millisecond => {
                        Arc::new(TimestampMillisecondArray::from(v).with_timezone_opt(tz.clone()))
                    }
                    arrow_schema::TimeUnit::Microsecond => {
                        Arc::new(TimestampMicrosecondArray::from(v).with_timezone_opt(tz.clone()))
                    }
                    arrow_schema::TimeUnit::Nanosecond => {
                        Arc::new(TimestampNanosecondArray::from(v).with_timezone_opt(tz.clone()))
                    }
                };
                a
            }
            DataType::Date32 => prim!(Date32Array, i32),
            DataType::List(f) | DataType::LargeList(f) => {
                let lens: Vec<usize> = (0..len)
                    .map(|_| usize::from(self.u.int_in_range(0..=6u8).unwrap_or(0)))
                    .collect();
                let total: usize = lens.iter().sum();
                let child = self.array(f.data_type(), total);
                let nulls = self.nulls(len);
                if matches!(ty, DataType::List(_)) {
                    ok(
                        ListArray::try_new(
                            f.clone(),
                            OffsetBuffer::from_lengths(lens),
                            child,
                            nulls,
                        ),
                        len,
                    )
                } else {
                    ok(
                        LargeListArray::try_new(
                            f.clone(),
                            OffsetBuffer::from_lengths(lens),
                            child,
                            nulls,
                        ),
                        len,
                    )
                }
            }
            DataType::FixedSizeList(f, n) => {
                let child = self.array(f.data_type(), len * usize::try_from(*n).unwrap_or(1));
                let nulls = self.nulls(len);
                ok(
                    FixedSizeListArray::try_new(f.clone(), *n, child, nulls),
                    len,
                )
            }
            DataType::Struct(fields) => {
                let children: Vec<ArrayRef> = fields
                    .iter()
                    .map(|f| self.array(f.data_type(), len))
                    .collect();
                let nulls = self.nulls(len);
                ok(StructArray::try_new(fields.clone(), children, nulls), len)
            }
            DataType::Map(entries, _) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    return Arc::new(NullArray::new(len));
                };
                let lens: Vec<usize> = (0..len)
                    .map(|_| usize::from(self.u.int_in_range(0..=4u8).unwrap_or(0)))
                    .collect();
                let total: usize = lens.iter().sum();
                let keys: Vec<String> = (0..total)
                    .map(|_| self.text().chars().take(8).collect())
                    .collect();
                let keys = Arc::new(StringArray::from(keys)) as ArrayRef;
                let values = self.array(kv[1].data_type(), total);
                let Ok(entries_array) = StructArray::try_new(kv.clone(), vec![keys, values], None)
                else {
                    return Arc::new(NullArray::new(len));
                };
                let nulls = self.nulls(len);
                ok(
                    MapArray::try_new(
                        entries.clone(),
                        OffsetBuffer::from_lengths(lens),
                        entries_array,
                        nulls,
                        false,
                    ),
                    len,
                )
            }
            DataType::Dictionary(k, v) => {
                let n = usize::from(self.u.int_in_range(1..=4u8).unwrap_or(1));
                let values = self.array(v, n);
                let keys: Vec<Option<usize>> = (0..len)
                    .map(|_| self.opt(|g| g.u.int_in_range(0..=n - 1).unwrap_or(0)))
                    .collect();
                if **k == DataType::Int32 {
                    let keys: Int32Array = keys.iter().map(|k| k.map(|k| k as i32)).collect();
                    ok(DictionaryArray::<Int32Type>::try_new(keys, values), len)
                } else {
                    let keys: PrimitiveArray<UInt8Type> =
                        keys.iter().map(|k| k.map(|k| k as u8)).collect();
                    ok(DictionaryArray::<UInt8Type>::try_new(keys, values), len)
                }
            }
            _ => Arc::new(NullArray::new(len)),
        }
    }
}

/// An array built by a fallible constructor; a null array (whose type
/// then does not match, so the batch is skipped) when arrow refuses it.
fn ok<A: arrow_array::Array + 'static>(
    built: Result<A, arrow_schema::ArrowError>,
    len: usize,
) -> ArrayRef {
    match built {
        Ok(a) => Arc::new(a),
        Err(_) => Arc::new(NullArray::new(len)),
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    columns: Vec<(Name, Ty)>,
    rows: u8,
    geo: Option<Vec<Name>>,
    hints: Option<(bool, Vec<Name>, Vec<(Name, Name)>, bool)>,
    compression: u8,
    dictionary: bool,
    row_group_rows: u8,
    value_limit_kib: u16,
    expansion: u8,
    wkb_depth: u8,
    null_non_finite: bool,
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // The reader contains panics of the Parquet decoder; the hook
        // libfuzzer-sys installs would abort on them even when caught.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("panic (caught unless followed by a crash): {info}")
        }));
        let root = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = root.join(format!("stac-gdal-fuzz-arrow-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

/// Where a top-level column lands in an item.
fn find<'v>(item: &'v Value, column: &str) -> Option<&'v Value> {
    const ROOT: &[&str] = &[
        "type",
        "stac_version",
        "stac_extensions",
        "id",
        "geometry",
        "bbox",
        "links",
        "assets",
        "collection",
    ];
    if ROOT.contains(&column) {
        item.get(column)
    } else {
        item.get("properties")?.get(column)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    let columns: Vec<(String, DataType)> = input
        .columns
        .iter()
        .take(8)
        .map(|(n, t)| (n.text(), data_type(t, 0)))
        .collect();
    if columns.is_empty() {
        return;
    }
    let rows = usize::from(input.rows % 41);
    let mut values = Gen {
        u: &mut u,
        bytes_left: 4 << 20,
    };
    let arrays: Vec<ArrayRef> = columns.iter().map(|(_, t)| values.array(t, rows)).collect();
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, t)| Field::new(n.clone(), t.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let Ok(batch) = RecordBatch::try_new(schema.clone(), arrays) else {
        return;
    };
    let mut kv = Vec::new();
    let geo_columns: Option<Vec<String>> = input
        .geo
        .as_ref()
        .map(|g| g.iter().take(3).map(|n| n.text()).collect());
    if let Some(g) = &geo_columns {
        let cols: serde_json::Map<String, Value> = g
            .iter()
            .map(|c| (c.clone(), json!({"encoding": "WKB", "geometry_types": []})))
            .collect();
        kv.push((
            "geo",
            json!({"version": "1.1.0", "primary_column": g.first(), "columns": cols}),
        ));
    }
    if let Some((blob, json_columns, roots, ints)) = &input.hints {
        let json_columns: Vec<Value> = json_columns
            .iter()
            .take(3)
            .map(|n| json!([n.text()]))
            .collect();
        let roots: serde_json::Map<String, Value> = roots
            .iter()
            .take(3)
            .map(|(c, k)| (c.text(), json!(k.text())))
            .collect();
        kv.push((
            "stac-gdal:geoparquet",
            json!({"version": 1,
            "layout": if *blob { "blob" } else { "spec" },
            "json_columns": json_columns, "explicit_nulls": [], "int_numbers": [],
            "root_columns": roots, "timestamp_formats": {}, "geometry_integers": *ints,
            "bbox_integers": false}),
        ));
    }
    let compression = match input.compression % 3 {
        0 => parquet::basic::Compression::UNCOMPRESSED,
        1 => parquet::basic::Compression::SNAPPY,
        _ => parquet::basic::Compression::ZSTD(parquet::basic::ZstdLevel::default()),
    };
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(input.dictionary)
        .set_max_row_group_row_count(Some(usize::from(input.row_group_rows % 16) + 1))
        .set_key_value_metadata(Some(
            kv.iter()
                .map(|(k, v)| {
                    parquet::file::metadata::KeyValue::new((*k).to_owned(), v.to_string())
                })
                .collect(),
        ))
        .build();
    let path = dir().join("f.parquet");
    let Ok(file) = std::fs::File::create(&path) else {
        return;
    };
    let Ok(mut w) = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props)) else {
        return;
    };
    if w.write(&batch).is_err() || w.close().is_err() {
        return;
    }

    let limit = (u64::from(input.value_limit_kib) % 4096 + 1) * 1024;
    let options = ReadOptions::default()
        .with_max_value_bytes(limit)
        .with_max_expansion([1, 10, 1000][usize::from(input.expansion % 3)])
        .with_wkb_max_depth(u32::from(input.wkb_depth % 40))
        .with_non_finite(if input.null_non_finite {
            NonFinite::Null
        } else {
            NonFinite::Error
        });
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let duplicated = names
        .iter()
        .enumerate()
        .any(|(i, n)| names[..i].contains(n));
    let reader = Reader::open_with(&path, &options);
    if duplicated {
        assert!(
            reader.is_err(),
            "duplicated column names were accepted: {names:?}"
        );
        return;
    }
    let Ok(reader) = reader else {
        return;
    };
    let geometry: Vec<String> = geo_columns.unwrap_or_else(|| vec!["geometry".into()]);
    let blob = matches!(&input.hints, Some((true, ..)));
    for item in reader.take(200) {
        let Ok(item) = item else {
            break;
        };
        assert!(item.is_object(), "{item}");
        let cost = stac_meta::budget::value_cost(&item);
        assert!(
            cost <= limit,
            "an item of {cost} bytes passed the {limit}-byte budget"
        );
        if blob {
            continue;
        }
        for (name, ty) in &columns {
            let binary = matches!(
                ty,
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView
            );
            if binary && !geometry.contains(name) && !name.starts_with("__") {
                if let Some(v) = find(&item, name) {
                    assert!(
                        v.is_string() || v.is_null(),
                        "binary column {name} decoded as {v}"
                    );
                }
            }
        }
    }
    let _ = stac_geoparquet::from_geoparquet_with(&path, &options);
    if let Ok(reader) = Reader::open_with(&path, &options) {
        for batch in reader.into_batches().take(50) {
            if batch.is_err() {
                break;
            }
        }
    }
});
