//! Arrow arrays → JSON values, for files we wrote (guided by their hints)
//! and for files written by others (stac-geoparquet, rustac, geopandas).
//!
//! A record batch is first compiled ([`Decoder::compile`]) into a tree of
//! typed column readers ([`Rows`]), then items are built a few rows at a
//! time straight from the Arrow buffers: each column is read sequentially
//! over those rows (cache- and prefetch-friendly) into small reused
//! buffers, arrays and objects are allocated at their final size, and
//! objects whose keys are all present are cloned from a per-column template
//! (so no key is hashed).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, BinaryArray, BinaryViewArray, BooleanArray, Date32Array, Float32Array, Float64Array,
    LargeBinaryArray, LargeStringArray, PrimitiveArray, RecordBatch, StringArray, StringViewArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, TimeUnit};
use serde_json::{Map, Number, Value};

use crate::geometry;
use crate::layout::RESERVED;
use crate::metadata::FileHints;
use crate::schema::Path;
use crate::timestamps::{self, DEFAULT_FORMAT};

/// How to read one spec-layout file.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    json: HashSet<String>,
    explicit: HashSet<String>,
    int_numbers: HashSet<String>,
    formats: HashMap<String, u32>,
    /// Column name → top-level key, for non-reserved top-level keys.
    root: HashMap<String, String>,
    geometry_ints: bool,
    bbox_ints: bool,
    /// Written by this crate (hints present).
    ours: bool,
}

fn key(path: &Path) -> String {
    serde_json::to_string(path).unwrap_or_default()
}

/// A decoding failure: (row in the batch, column, reason).
pub(crate) type RowError = (usize, String, String);

/// A failure inside one column: the top-level column it belongs to (filled
/// in on the way up) and what is wrong.
struct Fail {
    column: Option<String>,
    reason: String,
}

impl From<String> for Fail {
    fn from(reason: String) -> Self {
        Self {
            column: None,
            reason,
        }
    }
}

/// Position of a top-level key in an item.
fn root_order(name: &str) -> usize {
    match name {
        "type" => 0,
        "stac_version" => 1,
        "stac_extensions" => 2,
        "id" => 3,
        "geometry" => 4,
        "bbox" => 5,
        "links" => 7,
        "assets" => 8,
        "collection" => 9,
        _ => 10,
    }
}

impl Decoder {
    pub fn new(hints: Option<&FileHints>) -> Self {
        let Some(h) = hints else {
            return Self::default();
        };
        Self {
            json: h.json_columns.iter().map(key).collect(),
            explicit: h.explicit_nulls.iter().map(key).collect(),
            int_numbers: h.int_numbers.iter().map(key).collect(),
            formats: h
                .timestamp_formats
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), timestamps::format_index(v)?)))
                .collect(),
            root: h.root_columns.iter().cloned().collect(),
            geometry_ints: h.geometry_integers,
            bbox_ints: h.bbox_integers,
            ours: true,
        }
    }

    /// Prepare one spec-layout record batch for row-by-row decoding.
    pub fn compile(&self, batch: &RecordBatch) -> Result<Rows, RowError> {
        let schema = batch.schema();
        let mut root = Vec::new();
        let mut props = Vec::new();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name();
            if name.starts_with("__") {
                continue; // pandas index columns
            }
            let fail = |(row, reason): (usize, String)| (row, name.clone(), reason);
            let node = match name.as_str() {
                "geometry" => self.geometry(array.as_ref()).map_err(fail)?,
                "bbox" => self.bbox(array.as_ref()).map_err(fail)?,
                _ => {
                    let fmt = self.formats.get(name).copied().unwrap_or(DEFAULT_FORMAT);
                    let mut path = vec![Some(name.clone())];
                    self.node(array.as_ref(), &mut path, fmt).map_err(fail)?
                }
            };
            let is_root = RESERVED.contains(&name.as_str()) || self.root.contains_key(name);
            let key = self.root.get(name).unwrap_or(name).clone();
            let explicit = if self.ours {
                self.explicit
                    .contains(&self::key(&vec![Some(name.clone())]))
            } else {
                (is_root && name == "geometry") || (!is_root && name == "datetime")
            };
            let slot = Slot {
                key,
                explicit,
                column: Some(name.clone()),
                node,
            };
            if is_root {
                root.push(slot);
            } else {
                props.push(slot);
            }
        }
        root.sort_by_key(|s| root_order(&s.key));
        let props_at = root
            .iter()
            .position(|s| root_order(&s.key) > 5)
            .unwrap_or(root.len());
        let properties = Slot {
            key: "properties".into(),
            explicit: true,
            column: None,
            node: Node::Object(Object::new(None, props)),
        };
        root.insert(props_at, properties);
        Ok(Rows {
            len: batch.num_rows(),
            kind: RowsKind::Spec(Object::new(None, root)),
            buf: Vec::new(),
        })
    }

    fn geometry(&self, array: &dyn Array) -> Result<Node, (usize, String)> {
        Ok(Node::Wkb(Bins::new(array)?, self.geometry_ints))
    }

    fn bbox(&self, array: &dyn Array) -> Result<Node, (usize, String)> {
        let DataType::Struct(_) = array.data_type() else {
            let mut path = vec![Some("bbox".to_string())];
            return self.node(array, &mut path, DEFAULT_FORMAT);
        };
        let s = array.as_struct();
        let get = |name: &str| -> Option<Float64Array> {
            s.column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<Float64Type>())
                .cloned()
        };
        let cols = ["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"].map(get);
        if cols[0].is_none() || cols[1].is_none() || cols[3].is_none() || cols[4].is_none() {
            return Err((
                0,
                "bbox struct without xmin/ymin/xmax/ymax float64 fields".into(),
            ));
        }
        Ok(Node::Bbox(Box::new(Bbox {
            nulls: s.nulls().cloned(),
            cols,
            ints: self.bbox_ints,
        })))
    }

    fn node(&self, array: &dyn Array, path: &mut Path, fmt: u32) -> Result<Node, (usize, String)> {
        if self.ours && self.json.contains(&key(path)) {
            return match array.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 => Ok(Node::Json(Strs::new(array)?)),
                _ => Err((0, "JSON-text column is not a string column".into())),
            };
        }
        Ok(match array.data_type() {
            DataType::Null => Node::Null,
            DataType::Boolean => Node::Bool(array.as_boolean().clone()),
            DataType::Int8 => Node::Int(Ints::I8(array.as_primitive::<Int8Type>().clone())),
            DataType::Int16 => Node::Int(Ints::I16(array.as_primitive::<Int16Type>().clone())),
            DataType::Int32 => Node::Int(Ints::I32(array.as_primitive::<Int32Type>().clone())),
            DataType::Int64 => Node::Int(Ints::I64(array.as_primitive::<Int64Type>().clone())),
            DataType::UInt8 => Node::Int(Ints::U8(array.as_primitive::<UInt8Type>().clone())),
            DataType::UInt16 => Node::Int(Ints::U16(array.as_primitive::<UInt16Type>().clone())),
            DataType::UInt32 => Node::Int(Ints::U32(array.as_primitive::<UInt32Type>().clone())),
            DataType::UInt64 => Node::Int(Ints::U64(array.as_primitive::<UInt64Type>().clone())),
            DataType::Float64 => {
                let ints = self.ours && self.int_numbers.contains(&key(path));
                Node::F64(array.as_primitive::<Float64Type>().clone(), ints)
            }
            DataType::Float32 => Node::F32(array.as_primitive::<Float32Type>().clone()),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Node::Str(Strs::new(array)?)
            }
            // WKB (`proj:geometry`, or a foreign file's geometry column):
            // integers restored where this crate's hints say so.
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Node::Wkb(
                Bins::new(array)?,
                self.ours && self.int_numbers.contains(&key(path)),
            ),
            DataType::Timestamp(unit, _) => {
                let (values, unit) = match unit {
                    TimeUnit::Second => (
                        array.as_primitive::<TimestampSecondType>().values().clone(),
                        Unit::Seconds,
                    ),
                    TimeUnit::Millisecond => (
                        array
                            .as_primitive::<TimestampMillisecondType>()
                            .values()
                            .clone(),
                        Unit::Millis,
                    ),
                    TimeUnit::Microsecond => (
                        array
                            .as_primitive::<TimestampMicrosecondType>()
                            .values()
                            .clone(),
                        Unit::Micros,
                    ),
                    TimeUnit::Nanosecond => (
                        array
                            .as_primitive::<TimestampNanosecondType>()
                            .values()
                            .clone(),
                        Unit::Nanos,
                    ),
                };
                Node::Timestamp {
                    values,
                    nulls: array.nulls().cloned(),
                    unit,
                    fmt,
                }
            }
            DataType::Date32 => Node::Date(array.as_primitive::<Date32Type>().clone()),
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
                let (values, offsets) = match array.data_type() {
                    DataType::List(_) => {
                        let l = array.as_list::<i32>();
                        (l.values().clone(), Offsets::I32(l.offsets().clone()))
                    }
                    DataType::LargeList(_) => {
                        let l = array.as_list::<i64>();
                        (l.values().clone(), Offsets::I64(l.offsets().clone()))
                    }
                    _ => {
                        let l = array.as_fixed_size_list();
                        let size = usize::try_from(l.value_length()).unwrap_or(0);
                        (l.values().clone(), Offsets::Fixed(size))
                    }
                };
                path.push(None);
                let child = self.node(values.as_ref(), path, fmt)?;
                path.pop();
                Node::List(Box::new(List {
                    nulls: array.nulls().cloned(),
                    offsets,
                    child,
                    children: Vec::new(),
                }))
            }
            DataType::Struct(fields) => {
                let s = array.as_struct();
                let mut slots = Vec::with_capacity(fields.len());
                for (f, c) in fields.iter().zip(s.columns()) {
                    path.push(Some(f.name().clone()));
                    let explicit = self.explicit.contains(&key(path));
                    slots.push(Slot {
                        key: f.name().clone(),
                        explicit,
                        column: None,
                        node: self.node(c.as_ref(), path, fmt)?,
                    });
                    path.pop();
                }
                Node::Object(Object::new(array.nulls().cloned(), slots))
            }
            DataType::Map(_, _) => {
                let m = array.as_map();
                let keys = self.node(m.keys().as_ref(), path, fmt)?;
                path.push(None);
                let values = self.node(m.values().as_ref(), path, fmt)?;
                path.pop();
                Node::Map(Box::new(MapNode {
                    nulls: array.nulls().cloned(),
                    offsets: m.offsets().clone(),
                    keys,
                    values,
                }))
            }
            DataType::Dictionary(_, _) => {
                let d = array.as_any_dictionary();
                let mut values = self.node(d.values().as_ref(), path, fmt)?;
                let decoded = (0..d.values().len())
                    .map(|i| values.value(i).map_err(|f| (i, f.reason)))
                    .collect::<Result<Vec<_>, _>>()?;
                Node::Dict(Box::new(Dict {
                    nulls: array.nulls().cloned(),
                    keys: d.normalized_keys(),
                    values: decoded,
                }))
            }
            other => return Err((0, format!("unsupported Arrow type {other}"))),
        })
    }
}

/// One compiled record batch: decode its items, a block of rows at a time.
pub(crate) struct Rows {
    len: usize,
    kind: RowsKind,
    /// Reused buffer for the items of a block of rows.
    buf: Vec<Option<Value>>,
}

enum RowsKind {
    /// Spec layout: the item object (with a `properties` object inside).
    Spec(Object),
    /// JSON-blob layout: the whole item as JSON text.
    Blob(Strs),
}

impl Rows {
    /// A JSON-blob layout batch (its `stac_item` column).
    pub fn blob(batch: &RecordBatch) -> Result<Self, RowError> {
        let col = batch
            .column_by_name("stac_item")
            .ok_or_else(|| (0, "stac_item".to_string(), "column missing".to_string()))?;
        let texts = Strs::new(col.as_ref()).map_err(|(r, e)| (r, "stac_item".to_string(), e))?;
        Ok(Self {
            len: batch.num_rows(),
            kind: RowsKind::Blob(texts),
            buf: Vec::new(),
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Append the items of `rows` to `out`. On `Err`, the items before the
    /// bad row are in `out`.
    pub fn items(&mut self, rows: Range<usize>, out: &mut Vec<Value>) -> Result<(), RowError> {
        let object = match &mut self.kind {
            RowsKind::Spec(object) => object,
            RowsKind::Blob(texts) => {
                for row in rows {
                    let fail = |reason: String| (row, "stac_item".to_string(), reason);
                    let text = texts.get(row).ok_or_else(|| fail("null".into()))?;
                    out.push(
                        serde_json::from_str(text).map_err(|e| fail(format!("bad JSON: {e}")))?,
                    );
                }
                return Ok(());
            }
        };
        let mut emit = |buf: &mut Vec<Option<Value>>| {
            out.extend(
                buf.drain(..)
                    .map(|v| v.unwrap_or_else(|| Value::Object(Map::new()))),
            );
        };
        self.buf.clear();
        if object.fill(rows.clone(), &mut self.buf).is_ok() {
            emit(&mut self.buf);
            return Ok(());
        }
        // Find the bad row, keeping the items before it.
        for row in rows {
            self.buf.clear();
            match object.fill(row..row + 1, &mut self.buf) {
                Ok(()) => emit(&mut self.buf),
                Err(f) => return Err((row, f.column.unwrap_or_default(), f.reason)),
            }
        }
        Ok(())
    }

    /// The item of row `row`.
    #[cfg(test)]
    pub fn item(&mut self, row: usize) -> Result<Value, RowError> {
        let mut out = Vec::with_capacity(1);
        self.items(row..row + 1, &mut out)?;
        Ok(out.pop().unwrap_or_default())
    }
}

/// A key of an object and how to fill it.
struct Slot {
    key: String,
    /// A missing value is written as `null` (rather than the key left out).
    explicit: bool,
    /// The top-level column (for error messages), when this is one.
    column: Option<String>,
    node: Node,
}

/// A struct column (or the item itself): a JSON object per row.
struct Object {
    nulls: Option<NullBuffer>,
    slots: Vec<Slot>,
    /// Every key, in order, with `null` values: cloned when a row has all
    /// of them (cloning copies the hash table instead of hashing each key).
    template: Option<Map<String, Value>>,
    /// The values of each slot for the rows being decoded (reused).
    columns: Vec<Vec<Option<Value>>>,
}

impl Object {
    fn new(nulls: Option<NullBuffer>, slots: Vec<Slot>) -> Self {
        let template: Map<String, Value> =
            slots.iter().map(|s| (s.key.clone(), Value::Null)).collect();
        // Duplicate keys (one overwriting the other) are left to `insert`.
        let template = (template.len() == slots.len()).then_some(template);
        Self {
            nulls,
            columns: slots.iter().map(|_| Vec::new()).collect(),
            slots,
            template,
        }
    }

    /// Append the objects of `rows` to `out`: each slot's column first, then
    /// the objects.
    fn fill(&mut self, rows: Range<usize>, out: &mut Vec<Option<Value>>) -> Result<(), Fail> {
        for (slot, column) in self.slots.iter_mut().zip(&mut self.columns) {
            column.clear();
            slot.node.fill(rows.clone(), column).map_err(|mut f| {
                if f.column.is_none() {
                    f.column.clone_from(&slot.column);
                }
                f
            })?;
        }
        out.reserve(rows.len());
        for (k, row) in rows.enumerate() {
            if !valid(self.nulls.as_ref(), row) {
                out.push(None);
                continue;
            }
            let present = self
                .slots
                .iter()
                .zip(&self.columns)
                .filter(|(slot, column)| slot.explicit || column[k].is_some())
                .count();
            let map = match &self.template {
                Some(template) if present == self.slots.len() => {
                    let mut map = template.clone();
                    for (out, column) in map.values_mut().zip(&mut self.columns) {
                        if let Some(v) = column[k].take() {
                            *out = v;
                        }
                    }
                    map
                }
                _ => {
                    let mut map = Map::with_capacity(present);
                    for (slot, column) in self.slots.iter().zip(&mut self.columns) {
                        match column[k].take() {
                            Some(v) => {
                                map.insert(slot.key.clone(), v);
                            }
                            None if slot.explicit => {
                                map.insert(slot.key.clone(), Value::Null);
                            }
                            None => {}
                        }
                    }
                    map
                }
            };
            out.push(Some(Value::Object(map)));
        }
        Ok(())
    }
}

fn valid(nulls: Option<&NullBuffer>, row: usize) -> bool {
    nulls.is_none_or(|n| n.is_valid(row))
}

/// A compiled column.
enum Node {
    Null,
    /// JSON text, parsed per row.
    Json(Strs),
    Bool(BooleanArray),
    Int(Ints),
    /// float64 (true: integral values come back as JSON integers).
    F64(Float64Array, bool),
    F32(Float32Array),
    Str(Strs),
    /// WKB geometry (true: integral coordinates come back as integers).
    Wkb(Bins, bool),
    Timestamp {
        values: ScalarBuffer<i64>,
        nulls: Option<NullBuffer>,
        unit: Unit,
        fmt: u32,
    },
    Date(Date32Array),
    List(Box<List>),
    Object(Object),
    Map(Box<MapNode>),
    Dict(Box<Dict>),
    Bbox(Box<Bbox>),
}

impl Node {
    /// Append the values of `rows` to `out`.
    ///
    /// The common leaf types have a loop of their own, writing straight into
    /// `out`.
    fn fill(&mut self, rows: Range<usize>, out: &mut Vec<Option<Value>>) -> Result<(), Fail> {
        out.reserve(rows.len());
        match self {
            Node::Object(o) => return o.fill(rows, out),
            Node::List(l) => return l.fill(rows, out),
            Node::Null => out.extend(rows.map(|_| None)),
            Node::Bool(a) => {
                out.extend(rows.map(|r| a.is_valid(r).then(|| Value::Bool(a.value(r)))));
            }
            Node::Int(i) => i.fill(rows, out),
            Node::F64(a, ints) => {
                let ints = *ints;
                out.extend(rows.map(|r| {
                    a.is_valid(r)
                        .then(|| geometry::bbox_number(a.value(r), ints))
                }));
            }
            Node::Str(s) => s.fill(rows, out),
            _ => {
                for row in rows {
                    out.push(self.value(row)?);
                }
            }
        }
        Ok(())
    }

    /// The value of one row.
    fn value(&mut self, row: usize) -> Result<Option<Value>, Fail> {
        Ok(match self {
            Node::Null => None,
            Node::Json(s) => match s.get(row) {
                None => None,
                Some(text) => {
                    Some(serde_json::from_str(text).map_err(|e| format!("bad JSON text: {e}"))?)
                }
            },
            Node::Bool(a) => a.is_valid(row).then(|| Value::Bool(a.value(row))),
            Node::Int(i) => i.get(row),
            Node::F64(a, ints) => a
                .is_valid(row)
                .then(|| geometry::bbox_number(a.value(row), *ints)),
            Node::F32(a) => a.is_valid(row).then(|| {
                let f = a.value(row);
                let f: f64 = f.to_string().parse().unwrap_or(f64::from(f));
                Number::from_f64(f).map_or(Value::Null, Value::Number)
            }),
            Node::Str(s) => s.get(row).map(|s| Value::String(s.to_owned())),
            Node::Wkb(b, ints) => match b.get(row) {
                None => None,
                Some(bytes) => Some(geometry::from_wkb(bytes, *ints)?),
            },
            Node::Timestamp {
                values,
                nulls,
                unit,
                fmt,
            } => {
                if !valid(nulls.as_ref(), row) {
                    return Ok(None);
                }
                let v = values[row];
                let micros = match unit {
                    Unit::Seconds => v.checked_mul(1_000_000),
                    Unit::Millis => v.checked_mul(1000),
                    Unit::Micros => Some(v),
                    Unit::Nanos => Some(v.div_euclid(1000)),
                };
                let text = micros
                    .and_then(|m| timestamps::render(m, *fmt))
                    .ok_or_else(|| format!("timestamp {} out of range", micros.unwrap_or(v)))?;
                Some(Value::String(text))
            }
            Node::Date(a) => {
                if a.is_valid(row) {
                    chrono::DateTime::from_timestamp(i64::from(a.value(row)) * 86_400, 0)
                        .map(|dt| Value::from(dt.format("%Y-%m-%d").to_string()))
                } else {
                    None
                }
            }
            Node::List(_) | Node::Object(_) => {
                let mut out = Vec::with_capacity(1);
                self.fill(row..row + 1, &mut out)?;
                out.pop().flatten()
            }
            Node::Map(m) => {
                if !valid(m.nulls.as_ref(), row) {
                    return Ok(None);
                }
                let start = usize::try_from(m.offsets[row]).unwrap_or(0);
                let end = usize::try_from(m.offsets[row + 1]).unwrap_or(0);
                let mut obj = Map::with_capacity(end.saturating_sub(start));
                for j in start..end {
                    let k = match m.keys.value(j)? {
                        Some(Value::String(s)) => s,
                        Some(other) => other.to_string(),
                        None => continue,
                    };
                    obj.insert(k, m.values.value(j)?.unwrap_or(Value::Null));
                }
                Some(Value::Object(obj))
            }
            Node::Dict(d) => {
                if valid(d.nulls.as_ref(), row) {
                    d.values.get(d.keys[row]).cloned().flatten()
                } else {
                    None
                }
            }
            Node::Bbox(b) => {
                if !valid(b.nulls.as_ref(), row) {
                    return Ok(None);
                }
                let order: &[usize] = if b.cols[2].as_ref().is_some_and(|c| c.is_valid(row)) {
                    &[0, 1, 2, 3, 4, 5]
                } else {
                    &[0, 1, 3, 4]
                };
                Some(Value::Array(
                    order
                        .iter()
                        .map(|&i| match &b.cols[i] {
                            Some(c) if c.is_valid(row) => {
                                geometry::bbox_number(c.value(row), b.ints)
                            }
                            _ => Value::Null,
                        })
                        .collect(),
                ))
            }
        })
    }
}

enum Unit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

struct List {
    nulls: Option<NullBuffer>,
    offsets: Offsets,
    child: Node,
    /// The child values of the rows being decoded (reused).
    children: Vec<Option<Value>>,
}

impl List {
    /// Append the lists of `rows` to `out`: the child values of all the
    /// rows first, then the lists.
    fn fill(&mut self, rows: Range<usize>, out: &mut Vec<Option<Value>>) -> Result<(), Fail> {
        if rows.is_empty() {
            return Ok(());
        }
        let (first, _) = self.offsets.range(rows.start);
        let (_, last) = self.offsets.range(rows.end - 1);
        self.children.clear();
        self.child
            .fill(first..last.max(first), &mut self.children)?;
        let mut children = self.children.drain(..);
        out.reserve(rows.len());
        for row in rows {
            let (start, end) = self.offsets.range(row);
            let n = end.saturating_sub(start);
            if valid(self.nulls.as_ref(), row) {
                let list = children
                    .by_ref()
                    .take(n)
                    .map(|v| v.unwrap_or(Value::Null))
                    .collect();
                out.push(Some(Value::Array(list)));
            } else {
                children.by_ref().take(n).for_each(drop);
                out.push(None);
            }
        }
        Ok(())
    }
}

enum Offsets {
    I32(OffsetBuffer<i32>),
    I64(OffsetBuffer<i64>),
    /// Fixed-size lists: the size.
    Fixed(usize),
}

impl Offsets {
    fn range(&self, row: usize) -> (usize, usize) {
        let conv = |o: i64| usize::try_from(o).unwrap_or(0);
        match self {
            Offsets::I32(o) => (conv(i64::from(o[row])), conv(i64::from(o[row + 1]))),
            Offsets::I64(o) => (conv(o[row]), conv(o[row + 1])),
            Offsets::Fixed(size) => (row * size, (row + 1) * size),
        }
    }
}

struct MapNode {
    nulls: Option<NullBuffer>,
    offsets: OffsetBuffer<i32>,
    keys: Node,
    values: Node,
}

struct Dict {
    nulls: Option<NullBuffer>,
    keys: Vec<usize>,
    values: Vec<Option<Value>>,
}

struct Bbox {
    nulls: Option<NullBuffer>,
    /// xmin, ymin, zmin, xmax, ymax, zmax.
    cols: [Option<Float64Array>; 6],
    ints: bool,
}

/// An integer column of any width.
enum Ints {
    I8(PrimitiveArray<Int8Type>),
    I16(PrimitiveArray<Int16Type>),
    I32(PrimitiveArray<Int32Type>),
    I64(PrimitiveArray<Int64Type>),
    U8(PrimitiveArray<UInt8Type>),
    U16(PrimitiveArray<UInt16Type>),
    U32(PrimitiveArray<UInt32Type>),
    U64(PrimitiveArray<UInt64Type>),
}

impl Ints {
    fn fill(&self, rows: Range<usize>, out: &mut Vec<Option<Value>>) {
        macro_rules! fill {
            ($a:expr) => {
                out.extend(rows.map(|r| $a.is_valid(r).then(|| Value::from($a.value(r)))))
            };
        }
        match self {
            Ints::I8(a) => fill!(a),
            Ints::I16(a) => fill!(a),
            Ints::I32(a) => fill!(a),
            Ints::I64(a) => fill!(a),
            Ints::U8(a) => fill!(a),
            Ints::U16(a) => fill!(a),
            Ints::U32(a) => fill!(a),
            Ints::U64(a) => fill!(a),
        }
    }

    fn get(&self, row: usize) -> Option<Value> {
        macro_rules! get {
            ($a:expr) => {
                $a.is_valid(row).then(|| Value::from($a.value(row)))
            };
        }
        match self {
            Ints::I8(a) => get!(a),
            Ints::I16(a) => get!(a),
            Ints::I32(a) => get!(a),
            Ints::I64(a) => get!(a),
            Ints::U8(a) => get!(a),
            Ints::U16(a) => get!(a),
            Ints::U32(a) => get!(a),
            Ints::U64(a) => get!(a),
        }
    }
}

/// A string column of any offset width.
enum Strs {
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
}

impl Strs {
    fn new(array: &dyn Array) -> Result<Self, (usize, String)> {
        Ok(match array.data_type() {
            DataType::Utf8 => Strs::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Strs::Large(array.as_string::<i64>().clone()),
            DataType::Utf8View => Strs::View(array.as_string_view().clone()),
            other => return Err((0, format!("column of type {other} (expected strings)"))),
        })
    }

    /// Append the strings of `rows` to `out` as JSON strings.
    fn fill(&self, rows: Range<usize>, out: &mut Vec<Option<Value>>) {
        macro_rules! fill {
            ($a:expr) => {
                out.extend(rows.map(|r| {
                    $a.is_valid(r)
                        .then(|| Value::String($a.value(r).to_owned()))
                }))
            };
        }
        match self {
            Strs::Utf8(a) => fill!(a),
            Strs::Large(a) => fill!(a),
            Strs::View(a) => fill!(a),
        }
    }

    fn get(&self, row: usize) -> Option<&str> {
        match self {
            Strs::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            Strs::Large(a) => a.is_valid(row).then(|| a.value(row)),
            Strs::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// A binary (WKB) column of any offset width.
enum Bins {
    Binary(BinaryArray),
    Large(LargeBinaryArray),
    View(BinaryViewArray),
}

impl Bins {
    fn new(array: &dyn Array) -> Result<Self, (usize, String)> {
        Ok(match array.data_type() {
            DataType::Binary => Bins::Binary(array.as_binary::<i32>().clone()),
            DataType::LargeBinary => Bins::Large(array.as_binary::<i64>().clone()),
            DataType::BinaryView => Bins::View(array.as_binary_view().clone()),
            other => {
                return Err((
                    0,
                    format!("geometry column of type {other} (expected WKB binary)"),
                ));
            }
        })
    }

    fn get(&self, row: usize) -> Option<&[u8]> {
        match self {
            Bins::Binary(a) => a.is_valid(row).then(|| a.value(row)),
            Bins::Large(a) => a.is_valid(row).then(|| a.value(row)),
            Bins::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, BinaryViewArray, BooleanArray, Date32Array, DictionaryArray, FixedSizeListArray,
        Float32Array, Float64Array, Int32Array, Int64Array, LargeBinaryArray, LargeListArray,
        LargeStringArray, NullArray, RecordBatch, StringArray, StringViewArray, StructArray,
        TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt8Array,
    };
    use arrow_buffer::NullBuffer;
    use arrow_schema::{DataType, Field};
    use serde_json::json;

    use super::Decoder;

    fn point(x: f64, y: f64) -> Vec<u8> {
        let mut wkb = vec![1, 1, 0, 0, 0];
        wkb.extend(x.to_le_bytes());
        wkb.extend(y.to_le_bytes());
        wkb
    }

    /// Every Arrow type a foreign file may use, decoded row by row.
    #[test]
    fn foreign_arrow_types_decode_to_json() {
        let wkb = point(1.0, 2.0);
        let bbox = FixedSizeListArray::try_new(
            Arc::new(Field::new_list_field(DataType::Float64, true)),
            4,
            Arc::new(Float64Array::from(vec![
                1.5, 2.5, 1.5, 2.5, 0.0, 0.0, 0.0, 0.0,
            ])),
            Some(NullBuffer::from(vec![true, false])),
        )
        .unwrap();
        let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
        map.keys().append_value("k1");
        map.values().append_value(1);
        map.keys().append_value("k2");
        map.values().append_null();
        map.append(true).unwrap();
        map.append(false).unwrap();
        let dict = DictionaryArray::<Int32Type>::new(
            Int32Array::from(vec![Some(1), None]),
            Arc::new(StringArray::from(vec!["x", "y"])),
        );
        let list = LargeListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            Some(vec![]),
        ]);
        let object = StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int64, true)),
                Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("b", DataType::Utf8View, true)),
                Arc::new(StringViewArray::from(vec!["z", "w"])) as ArrayRef,
            ),
        ]);
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("id", Arc::new(LargeStringArray::from(vec!["a", "b"]))),
            (
                "geometry",
                Arc::new(LargeBinaryArray::from(vec![Some(wkb.as_slice()), None])),
            ),
            ("bbox", Arc::new(bbox)),
            (
                "datetime",
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(1_579_022_780_437), None])
                        .with_timezone("UTC"),
                ),
            ),
            (
                "start_datetime",
                Arc::new(TimestampNanosecondArray::from(vec![
                    Some(1_579_022_780_477_296_123),
                    Some(-1),
                ])),
            ),
            (
                "created",
                Arc::new(TimestampSecondArray::from(vec![Some(0), None])),
            ),
            ("f32", Arc::new(Float32Array::from(vec![Some(0.1), None]))),
            ("day", Arc::new(Date32Array::from(vec![Some(18_275), None]))),
            ("u8", Arc::new(UInt8Array::from(vec![Some(7), None]))),
            ("flag", Arc::new(BooleanArray::from(vec![true, false]))),
            ("dict", Arc::new(dict)),
            ("map", Arc::new(map.finish())),
            ("list", Arc::new(list)),
            ("object", Arc::new(object)),
            (
                "wkb",
                Arc::new(BinaryViewArray::from(vec![None, Some(wkb.as_slice())])),
            ),
            ("__index_level_0__", Arc::new(Int64Array::from(vec![0, 1]))),
            ("nothing", Arc::new(NullArray::new(2))),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut rows = Decoder::default().compile(&batch).unwrap();
        assert_eq!(rows.len(), 2);
        // One block of both rows gives the same items as one row at a time.
        let mut both = Vec::new();
        rows.items(0..2, &mut both).unwrap();
        assert_eq!(both, [rows.item(0).unwrap(), rows.item(1).unwrap()]);
        assert_eq!(
            rows.item(0).unwrap(),
            json!({
                "id": "a",
                "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
                "bbox": [1.5, 2.5, 1.5, 2.5],
                "properties": {
                    "datetime": "2020-01-14T17:26:20.437Z",
                    "start_datetime": "2020-01-14T17:26:20.477296Z",
                    "created": "1970-01-01T00:00:00Z",
                    "f32": 0.1,
                    "day": "2020-01-14",
                    "u8": 7,
                    "flag": true,
                    "dict": "y",
                    "map": {"k1": 1, "k2": null},
                    "list": [1, null],
                    "object": {"a": 1, "b": "z"},
                },
            })
        );
        assert_eq!(
            rows.item(1).unwrap(),
            json!({
                "id": "b",
                "geometry": null,
                "properties": {
                    "datetime": null,
                    "start_datetime": "1969-12-31T23:59:59.999999Z",
                    "flag": false,
                    "list": [],
                    "object": {"b": "w"},
                    "wkb": {"type": "Point", "coordinates": [1.0, 2.0]},
                },
            })
        );
    }

    #[test]
    fn bad_cells_name_their_row_and_column() {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            ),
            (
                "geometry",
                Arc::new(LargeBinaryArray::from(vec![
                    Some([1u8, 1, 0, 0, 0].as_slice()),
                    None,
                ])),
            ),
        ])
        .unwrap();
        let mut rows = Decoder::default().compile(&batch).unwrap();
        let mut out = Vec::new();
        let (row, column, _) = rows.items(0..2, &mut out).unwrap_err();
        assert_eq!((row, column.as_str(), out.len()), (0, "geometry", 0));
        let (row, column, reason) = rows.item(0).unwrap_err();
        assert_eq!((row, column.as_str()), (0, "geometry"));
        assert!(reason.contains("truncated"), "{reason}");
        assert_eq!(
            rows.item(1).unwrap(),
            json!({"id": "b", "geometry": null, "properties": {}})
        );
        let batch = RecordBatch::try_from_iter(vec![(
            "geometry",
            Arc::new(StringArray::from(vec!["POINT (1 2)"])) as ArrayRef,
        )])
        .unwrap();
        let err = Decoder::default().compile(&batch).err().unwrap();
        assert_eq!(err.1, "geometry");
    }
}
