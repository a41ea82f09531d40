//! A [`Row`] over Arrow columns, so filters run on the few columns they
//! read before any item's JSON is built (the parquet `RowFilter`).
//!
//! [`Columns::bind`] resolves every field a filter reads to a column of the
//! record batch once; [`ArrowRow`] then reads one row. Which fields can be
//! read this way is decided per file by [`readable`]: scalar columns
//! (strings, numbers, booleans, timestamps, dates, JSON text), the WKB
//! geometry and the datetime columns; anything else (nested structs, lists)
//! is evaluated on the decoded item instead.

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use serde_json::Value;

use super::eval::{Row, Val};
use super::expr::Prop;
use super::spatial::Geometry;
use crate::geometry;

/// How the fields of one file map to its columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldMap {
    /// Column names holding JSON text (this crate's hints).
    pub json_columns: Vec<String>,
    /// Column names that are top-level keys, not properties.
    pub root_columns: Vec<String>,
    /// Spec layout (blob files have no field columns).
    pub spec: bool,
    /// Arrow type of each top-level column.
    pub types: std::collections::HashMap<String, DataType>,
    /// Fields given by the folder names of a hive-partitioned dataset
    /// (`collection=a/`) that the file itself lacks: read from the item.
    pub injected: Vec<String>,
    /// Limits on what a value may decode to (WKB read by filters too).
    pub read: crate::limits::ReadOptions,
}

impl FieldMap {
    /// The field map of a file.
    pub(super) fn new(
        schema: &Schema,
        hints: Option<&crate::metadata::FileHints>,
        spec: bool,
        injected: Vec<String>,
    ) -> Self {
        let key = |p: &crate::schema::Path| match p.as_slice() {
            [Some(name)] => Some(name.clone()),
            _ => None,
        };
        Self {
            json_columns: hints
                .map(|h| h.json_columns.iter().filter_map(key).collect())
                .unwrap_or_default(),
            root_columns: hints
                .map(|h| h.root_columns.iter().map(|(c, _)| c.clone()).collect())
                .unwrap_or_default(),
            spec,
            types: schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect(),
            injected,
            read: crate::limits::ReadOptions::default(),
        }
    }

    /// Whether a column name is a field injected from the folder names.
    pub(super) fn injected(&self, column: &str) -> bool {
        self.injected.iter().any(|c| c == column)
    }

    /// The column a field is stored in, if it has one of its own.
    pub(super) fn column(&self, prop: &Prop) -> Option<String> {
        if !self.spec {
            return None;
        }
        match prop {
            Prop::Id => Some("id".into()),
            Prop::Collection => Some("collection".into()),
            Prop::Geometry => Some("geometry".into()),
            Prop::Property(path) if path.len() == 1 => {
                let name = &path[0];
                (!crate::layout::RESERVED.contains(&name.as_str())
                    && !self.root_columns.contains(name))
                .then(|| name.clone())
            }
            Prop::Root(path) if path.len() == 1 && path[0] == "stac_version" => {
                Some("stac_version".into())
            }
            _ => None,
        }
    }

    /// The columns a field is read from (the datetime fields read three).
    pub(super) fn columns(&self, prop: &Prop) -> Vec<String> {
        match prop {
            Prop::Start | Prop::End if self.spec => ["datetime", "start_datetime", "end_datetime"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            other => self.column(other).into_iter().collect(),
        }
    }
}

/// Whether a field can be read from the columns of a file with this schema
/// (a missing column reads as null, which is right for the spec layout).
pub(crate) fn readable(map: &FieldMap, schema: &Schema, prop: &Prop) -> bool {
    if !map.spec || map.columns(prop).iter().any(|c| map.injected(c)) {
        return false;
    }
    match prop {
        Prop::Start | Prop::End => ["datetime", "start_datetime", "end_datetime"]
            .iter()
            .all(|c| {
                schema
                    .field_with_name(c)
                    .map_or(true, |f| time_type(f.data_type()))
            }),
        Prop::Geometry => schema.field_with_name("geometry").map_or(true, |f| {
            matches!(
                f.data_type(),
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView
            )
        }),
        other => match map.column(other) {
            None => false,
            Some(c) => schema
                .field_with_name(&c)
                .map_or(true, |f| scalar_type(f.data_type())),
        },
    }
}

fn time_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(_, _)
            | DataType::Date32
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Null
    )
}

fn scalar_type(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(_, v) => matches!(**v, DataType::Utf8 | DataType::LargeUtf8),
        t => t.is_numeric() || time_type(t) || matches!(t, DataType::Boolean),
    }
}

/// One column, typed.
enum Col {
    Missing,
    Str(StrCol),
    /// JSON text: parsed per row.
    Json(StrCol),
    F64(Float64Array),
    /// Other numbers, widened.
    Num(Vec<Option<f64>>),
    Bool(BooleanArray),
    /// µs since the epoch.
    Time(Vec<Option<i64>>),
    Wkb(ArrayRef),
}

/// A string column of any encoding.
enum StrCol {
    Utf8(arrow_array::StringArray),
    Large(arrow_array::LargeStringArray),
    View(arrow_array::StringViewArray),
    /// Dictionary: keys → values.
    Dict(Vec<Option<usize>>, Box<StrCol>),
}

impl StrCol {
    fn new(a: &dyn Array) -> Option<Self> {
        Some(match a.data_type() {
            DataType::Utf8 => StrCol::Utf8(a.as_string::<i32>().clone()),
            DataType::LargeUtf8 => StrCol::Large(a.as_string::<i64>().clone()),
            DataType::Utf8View => StrCol::View(a.as_string_view().clone()),
            DataType::Dictionary(_, _) => {
                let d = a.as_any_dictionary();
                let keys = d.normalized_keys();
                let keys = (0..a.len())
                    .map(|i| a.is_valid(i).then(|| keys[i]))
                    .collect();
                StrCol::Dict(keys, Box::new(StrCol::new(d.values().as_ref())?))
            }
            _ => return None,
        })
    }

    fn get(&self, row: usize) -> Option<&str> {
        match self {
            StrCol::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            StrCol::Large(a) => a.is_valid(row).then(|| a.value(row)),
            StrCol::View(a) => a.is_valid(row).then(|| a.value(row)),
            StrCol::Dict(keys, values) => values.get((*keys.get(row)?)?),
        }
    }
}

fn micros(t: &DataType, a: &dyn Array) -> Option<Vec<Option<i64>>> {
    let conv = |mul: i64, div: i64| -> Box<dyn Fn(i64) -> i64> {
        Box::new(move |v: i64| v.saturating_mul(mul).div_euclid(div))
    };
    macro_rules! ts {
        ($ty:ty, $f:expr) => {{
            let arr = a.as_primitive::<$ty>();
            let f = $f;
            Some(arr.iter().map(|v| v.map(|v| f(i64::from(v)))).collect())
        }};
    }
    match t {
        DataType::Timestamp(TimeUnit::Second, _) => ts!(TimestampSecondType, conv(1_000_000, 1)),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            ts!(TimestampMillisecondType, conv(1000, 1))
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => ts!(TimestampMicrosecondType, conv(1, 1)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => ts!(TimestampNanosecondType, conv(1, 1000)),
        DataType::Date32 => ts!(Date32Type, conv(86_400_000_000, 1)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = StrCol::new(a)?;
            Some(
                (0..a.len())
                    .map(|i| {
                        s.get(i)
                            .and_then(stac_meta::parse_datetime)
                            .map(|d| d.timestamp_micros())
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

fn numbers(a: &dyn Array) -> Option<Vec<Option<f64>>> {
    macro_rules! n {
        ($ty:ty) => {
            Some(
                a.as_primitive::<$ty>()
                    .iter()
                    .map(|v| v.map(|v| v as f64))
                    .collect(),
            )
        };
    }
    match a.data_type() {
        DataType::Int8 => n!(Int8Type),
        DataType::Int16 => n!(Int16Type),
        DataType::Int32 => n!(Int32Type),
        DataType::Int64 => n!(Int64Type),
        DataType::UInt8 => n!(UInt8Type),
        DataType::UInt16 => n!(UInt16Type),
        DataType::UInt32 => n!(UInt32Type),
        DataType::UInt64 => n!(UInt64Type),
        DataType::Float32 => n!(Float32Type),
        _ => None,
    }
}

fn column(a: &ArrayRef, json: bool) -> Col {
    let t = a.data_type();
    if json {
        return StrCol::new(a.as_ref()).map_or(Col::Missing, Col::Json);
    }
    match t {
        DataType::Float64 => Col::F64(a.as_primitive::<Float64Type>().clone()),
        DataType::Boolean => Col::Bool(a.as_boolean().clone()),
        DataType::Timestamp(_, _) | DataType::Date32 => {
            micros(t, a.as_ref()).map_or(Col::Missing, Col::Time)
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Col::Wkb(a.clone()),
        DataType::Null => Col::Missing,
        _ => {
            if let Some(s) = StrCol::new(a.as_ref()) {
                Col::Str(s)
            } else {
                numbers(a.as_ref()).map_or(Col::Missing, Col::Num)
            }
        }
    }
}

/// The columns of one record batch a filter reads.
pub(crate) struct Columns {
    fields: Vec<(Prop, Col)>,
    read: crate::limits::ReadOptions,
    datetime: Option<Vec<Option<i64>>>,
    start: Option<Vec<Option<i64>>>,
    end: Option<Vec<Option<i64>>>,
}

impl Columns {
    /// Resolve `props` against `batch` (columns by name).
    pub(super) fn bind(batch: &RecordBatch, map: &FieldMap, props: &[&Prop]) -> Self {
        let time = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|a| micros(a.data_type(), a.as_ref()))
        };
        let mut fields: Vec<(Prop, Col)> = Vec::new();
        let mut needs_range = false;
        for p in props {
            if matches!(p, Prop::Start | Prop::End) {
                needs_range = true;
                continue;
            }
            if fields.iter().any(|(q, _)| q == *p) {
                continue;
            }
            let col = map
                .column(p)
                .and_then(|c| {
                    let json = map.json_columns.contains(&c);
                    batch.column_by_name(&c).map(|a| column(a, json))
                })
                .unwrap_or(Col::Missing);
            fields.push(((*p).clone(), col));
        }
        Self {
            fields,
            read: map.read.clone(),
            datetime: needs_range.then(|| time("datetime")).flatten(),
            start: needs_range.then(|| time("start_datetime")).flatten(),
            end: needs_range.then(|| time("end_datetime")).flatten(),
        }
    }

    fn col(&self, prop: &Prop) -> &Col {
        self.fields
            .iter()
            .find(|(p, _)| p == prop)
            .map_or(&Col::Missing, |(_, c)| c)
    }
}

/// One row of bound columns.
pub(crate) struct ArrowRow<'a> {
    pub cols: &'a Columns,
    pub row: usize,
}

fn at<T: Copy>(v: &Option<Vec<Option<T>>>, row: usize) -> Option<T> {
    v.as_ref().and_then(|v| v.get(row).copied().flatten())
}

impl Row for ArrowRow<'_> {
    fn value(&self, prop: &Prop) -> Result<Val<'_>, String> {
        let row = self.row;
        Ok(match self.cols.col(prop) {
            Col::Missing => Val::Null,
            Col::Str(s) => s.get(row).map_or(Val::Null, |s| Val::Str(Cow::Borrowed(s))),
            Col::Json(s) => match s.get(row) {
                None => Val::Null,
                Some(text) => Val::from_owned_json(
                    serde_json::from_str::<Value>(text)
                        .map_err(|e| format!("bad JSON text: {e}"))?,
                ),
            },
            Col::F64(a) => {
                if a.is_valid(row) {
                    Val::Num(a.value(row))
                } else {
                    Val::Null
                }
            }
            Col::Num(v) => v.get(row).copied().flatten().map_or(Val::Null, Val::Num),
            Col::Bool(a) => {
                if a.is_valid(row) {
                    Val::Bool(a.value(row))
                } else {
                    Val::Null
                }
            }
            Col::Time(v) => v.get(row).copied().flatten().map_or(Val::Null, Val::Time),
            Col::Wkb(_) => match self.geometry_json(prop)? {
                Some(v) => Val::from_owned_json(v),
                None => Val::Null,
            },
        })
    }

    fn range(&self) -> Result<Option<(i64, i64)>, String> {
        let c = self.cols;
        Ok(match (at(&c.start, self.row), at(&c.end, self.row)) {
            (Some(s), Some(e)) => Some((s, e)),
            _ => at(&c.datetime, self.row).map(|t| (t, t)),
        })
    }

    fn geometry(&self, prop: &Prop) -> Result<Option<Geometry>, String> {
        match self.geometry_json(prop)? {
            Some(v) => Geometry::from_geojson(&v).map(Some),
            None => Ok(None),
        }
    }
}

impl ArrowRow<'_> {
    fn geometry_json(&self, prop: &Prop) -> Result<Option<Value>, String> {
        let Col::Wkb(a) = self.cols.col(prop) else {
            return Ok(None);
        };
        let row = self.row;
        if !a.is_valid(row) {
            return Ok(None);
        }
        let bytes = match a.data_type() {
            DataType::Binary => a.as_binary::<i32>().value(row),
            DataType::LargeBinary => a.as_binary::<i64>().value(row),
            _ => a.as_binary_view().value(row),
        };
        let mut budget = stac_meta::budget::Budget::new(self.cols.read.max_value_bytes());
        geometry::from_wkb(bytes, false, &self.cols.read, &mut budget)
            .map(Some)
            .map_err(|e| e.reason)
    }
}
