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
//!
//! Hostile files are met here (docs/reliability.md, "Parsers"):
//! - **Sizes.** Every value spends what it will take in memory from a
//!   [`Budget`] *before* it is allocated (string lengths come from the
//!   offsets, dictionary values are measured once, WKB and JSON text are
//!   parsed within the budget), so a dictionary value repeated in every row
//!   or a string inflated by compression is refused at
//!   [`ReadOptions::max_value_bytes`] per item instead of filling memory.
//! - **Geometry columns** are the columns the `geo` metadata names (or
//!   `geometry` without it). Other binary columns (thumbnails, checksums)
//!   are read as base64 strings (standard alphabet, padded).
//! - **Names.** Two columns (or struct fields) that give the same JSON key
//!   are an error, never one value silently replacing the other.
//! - **Non-finite floats** follow [`ReadOptions::non_finite`].

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
use arrow_schema::{DataType, Fields, TimeUnit};
use serde_json::{Map, Value};
use stac_meta::budget::{
    ALLOC_BYTES, Budget, ENTRY_BYTES, JsonBudgetError, VALUE_BYTES, from_str_within,
};

use crate::geometry::{self, float_number};
use crate::layout::RESERVED;
use crate::limits::{ReadOptions, Refused, too_large};
use crate::metadata::FileHints;
use crate::schema::Path;
use crate::timestamps::{self, DEFAULT_FORMAT};

mod ndjson;
pub(crate) use ndjson::Extra;

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
    /// The top-level columns holding WKB geometries.
    geometry_columns: HashSet<String>,
    options: ReadOptions,
}

fn key(path: &Path) -> String {
    serde_json::to_string(path).unwrap_or_default()
}

/// A decoding failure of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowError {
    /// The row in the record batch.
    pub row: usize,
    /// The column, with the struct fields below it (`assets.B04.href`).
    pub column: String,
    /// The item's id, when the row has a readable one.
    pub id: Option<String>,
    /// What is wrong.
    pub reason: String,
    /// The [`ReadOptions`] setter whose limit was passed, if that is why.
    pub option: Option<&'static str>,
}

impl RowError {
    fn new(row: usize, column: impl Into<String>, refused: Refused) -> Self {
        Self {
            row,
            column: column.into(),
            id: None,
            reason: refused.reason,
            option: refused.option,
        }
    }
}

/// A failure inside one column: the path of keys to it (innermost first,
/// filled in on the way up) and what is wrong.
struct Fail {
    path: Vec<String>,
    refused: Refused,
}

impl Fail {
    fn column(&self) -> String {
        let parts: Vec<&str> = self.path.iter().rev().map(String::as_str).collect();
        parts.join(".")
    }
}

impl From<Refused> for Fail {
    fn from(refused: Refused) -> Self {
        Self {
            path: Vec::new(),
            refused,
        }
    }
}

impl From<String> for Fail {
    fn from(reason: String) -> Self {
        Refused::from(reason).into()
    }
}

/// What decoding needs besides the arrays: the options and the budget of
/// the rows being decoded.
struct Ctx<'a> {
    options: &'a ReadOptions,
    budget: Budget,
}

impl Ctx<'_> {
    /// Spend `bytes` of the budget, or refuse.
    fn spend(&mut self, bytes: u64) -> Result<(), Fail> {
        if self.budget.take(bytes) {
            Ok(())
        } else {
            Err(too_large(&self.budget).into())
        }
    }

    fn float(&self, f: f64, ints: bool) -> Result<Value, Fail> {
        float_number(f, ints, self.options.non_finite()).map_err(Fail::from)
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

/// The top-level columns that hold WKB geometries: those the `geo`
/// metadata names, or `geometry` when there is no usable `geo` metadata.
pub(crate) fn geometry_columns(geo: Option<&Value>) -> HashSet<String> {
    match geo
        .and_then(|g| g.get("columns"))
        .and_then(Value::as_object)
    {
        Some(columns) => columns.keys().cloned().collect(),
        None => HashSet::from(["geometry".to_owned()]),
    }
}

impl Decoder {
    pub(crate) fn new(
        hints: Option<&FileHints>,
        geo: Option<&Value>,
        options: ReadOptions,
    ) -> Self {
        let geometry_columns = geometry_columns(geo);
        let Some(h) = hints else {
            return Self {
                geometry_columns,
                options,
                ..Self::default()
            };
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
            geometry_columns,
            options,
        }
    }

    /// The options the decoder applies.
    pub(crate) fn options(&self) -> &ReadOptions {
        &self.options
    }

    /// Prepare one spec-layout record batch for row-by-row decoding.
    pub(crate) fn compile(&self, batch: &RecordBatch) -> Result<Rows, RowError> {
        let schema = batch.schema();
        let mut root = Vec::new();
        let mut props = Vec::new();
        let mut id = None;
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name();
            if name.starts_with("__") {
                continue; // pandas index columns
            }
            let fail = |(row, reason): (usize, String)| RowError::new(row, name, reason.into());
            let node = if self.geometry_columns.contains(name) && name != "geometry" {
                // Another geometry column of `geo` (`proj:geometry`): its own integer hint.
                let ints = self.ours && self.int_numbers.contains(&key(&vec![Some(name.clone())]));
                Node::Wkb(Bins::new(array.as_ref(), "geometry").map_err(fail)?, ints)
            } else if self.geometry_columns.contains(name) {
                self.geometry(array.as_ref()).map_err(fail)?
            } else if name == "bbox" {
                self.bbox(array.as_ref()).map_err(fail)?
            } else {
                let fmt = self.formats.get(name).copied().unwrap_or(DEFAULT_FORMAT);
                let mut path = vec![Some(name.clone())];
                self.node(array.as_ref(), &mut path, fmt).map_err(fail)?
            };
            let is_root = RESERVED.contains(&name.as_str()) || self.root.contains_key(name);
            let key = self.root.get(name).unwrap_or(name).clone();
            if key == "id" && is_root {
                id = Strs::new(array.as_ref()).ok();
            }
            let explicit = if self.ours {
                self.explicit
                    .contains(&self::key(&vec![Some(name.clone())]))
            } else {
                (is_root && name == "geometry") || (!is_root && name == "datetime")
            };
            let slot = Slot::new(key, explicit, Some(name.clone()), node);
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
        let properties = Object::new(None, props)
            .map_err(|(column, reason)| RowError::new(0, column, reason.into()))?;
        let mut properties = Slot::new("properties".into(), true, None, Node::Object(properties));
        properties.label = None;
        root.insert(props_at, properties);
        let item = Object::new(None, root)
            .map_err(|(column, reason)| RowError::new(0, column, reason.into()))?;
        Ok(Rows {
            len: batch.num_rows(),
            kind: RowsKind::Spec(item),
            id,
            buf: Vec::new(),
        })
    }

    fn geometry(&self, array: &dyn Array) -> Result<Node, (usize, String)> {
        Ok(Node::Wkb(Bins::new(array, "geometry")?, self.geometry_ints))
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
            // WKB where the stac-geoparquet specification puts it
            // (`proj:geometry`, in properties or assets), integers restored
            // where this crate's hints say so; other bytes as base64 text.
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView
                if path.last() == Some(&Some(crate::schema::GEOMETRY_KEY.to_owned())) =>
            {
                Node::Wkb(
                    Bins::new(array, "geometry")?,
                    self.ours && self.int_numbers.contains(&key(path)),
                )
            }
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                Node::Base64(Bins::new(array, "binary")?)
            }
            DataType::Timestamp(unit, _) => timestamp_node(array, *unit, fmt),
            DataType::Date32 => Node::Date(array.as_primitive::<Date32Type>().clone()),
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
                self.list_node(array, path, fmt)?
            }
            DataType::Struct(fields) => self.struct_node(array, fields, path, fmt)?,
            DataType::Map(_, _) => self.map_node(array, path, fmt)?,
            DataType::Dictionary(_, _) => self.dict_node(array, path, fmt)?,
            other => return Err((0, format!("unsupported Arrow type {other}"))),
        })
    }

    /// A list column (any offset width, or fixed size) and its elements.
    fn list_node(
        &self,
        array: &dyn Array,
        path: &mut Path,
        fmt: u32,
    ) -> Result<Node, (usize, String)> {
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
        Ok(Node::List(Box::new(List {
            nulls: array.nulls().cloned(),
            offsets,
            child,
            children: Vec::new(),
        })))
    }

    /// A struct column: one slot per field, explicit nulls as the hints say.
    fn struct_node(
        &self,
        array: &dyn Array,
        fields: &Fields,
        path: &mut Path,
        fmt: u32,
    ) -> Result<Node, (usize, String)> {
        let s = array.as_struct();
        let mut slots = Vec::with_capacity(fields.len());
        for (f, c) in fields.iter().zip(s.columns()) {
            path.push(Some(f.name().clone()));
            let explicit = self.explicit.contains(&key(path));
            let node = self.node(c.as_ref(), path, fmt)?;
            slots.push(Slot::new(f.name().clone(), explicit, None, node));
            path.pop();
        }
        let object = Object::new(array.nulls().cloned(), slots).map_err(|(k, reason)| {
            let at = path.iter().flatten().cloned().collect::<Vec<_>>().join(".");
            (0, format!("{at}.{k}: {reason}"))
        })?;
        Ok(Node::Object(object))
    }

    /// A map column: keys and values.
    fn map_node(
        &self,
        array: &dyn Array,
        path: &mut Path,
        fmt: u32,
    ) -> Result<Node, (usize, String)> {
        let m = array.as_map();
        let keys = self.node(m.keys().as_ref(), path, fmt)?;
        path.push(None);
        let values = self.node(m.values().as_ref(), path, fmt)?;
        path.pop();
        Ok(Node::Map(Box::new(MapNode {
            nulls: array.nulls().cloned(),
            offsets: m.offsets().clone(),
            keys,
            values,
        })))
    }

    /// A dictionary column: the values, decoded once, and the keys.
    fn dict_node(
        &self,
        array: &dyn Array,
        path: &mut Path,
        fmt: u32,
    ) -> Result<Node, (usize, String)> {
        let d = array.as_any_dictionary();
        let values = self.node(d.values().as_ref(), path, fmt)?;
        let len = d.values().len();
        // arrow's normalized_keys asserts a non-empty dictionary; an
        // all-null column may have an empty one (found by the
        // `arrow_schema` fuzz target).
        let keys = if len == 0 {
            vec![usize::MAX; array.len()]
        } else {
            d.normalized_keys()
        };
        Ok(Node::Dict(Box::new(Dict {
            nulls: array.nulls().cloned(),
            keys,
            len,
            values,
            cache: HashMap::new(),
            cached: 0,
        })))
    }
}

/// A timestamp column of any unit, written with spelling `fmt`.
fn timestamp_node(array: &dyn Array, unit: TimeUnit, fmt: u32) -> Node {
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

/// One compiled record batch: decode its items, a block of rows at a time.
pub(crate) struct Rows {
    len: usize,
    kind: RowsKind,
    /// The `id` column, to name items in errors.
    id: Option<Strs>,
    /// Reused buffer for the items of a block of rows.
    buf: Vec<Option<Value>>,
}

enum RowsKind {
    /// Spec layout: the item object (with a `properties` object inside).
    Spec(Object),
    /// JSON-blob layout: the whole item as JSON text.
    Blob(Strs),
}

/// What [`Rows::items`] did: rows decoded and the memory their items take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub rows: usize,
    pub bytes: u64,
}

impl Rows {
    /// A JSON-blob layout batch (its `stac_item` column).
    pub(crate) fn blob(batch: &RecordBatch) -> Result<Self, RowError> {
        let col = batch
            .column_by_name("stac_item")
            .ok_or_else(|| RowError::new(0, "stac_item", Refused::from("column missing")))?;
        let texts =
            Strs::new(col.as_ref()).map_err(|(r, e)| RowError::new(r, "stac_item", e.into()))?;
        Ok(Self {
            len: batch.num_rows(),
            kind: RowsKind::Blob(texts),
            id: batch
                .column_by_name("id")
                .and_then(|c| Strs::new(c.as_ref()).ok()),
            buf: Vec::new(),
        })
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The id of `row`, for error messages.
    fn id(&self, row: usize) -> Option<String> {
        self.id.as_ref()?.get(row).map(|s| {
            let mut s = s.to_owned();
            if s.len() > 200 {
                let mut cut = 200;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push('…');
            }
            s
        })
    }

    /// Append the items of `rows` to `out`, or of as many of them as fit
    /// in about twice [`ReadOptions::max_value_bytes`] (at least one):
    /// returns how many rows were decoded and what their items take. On
    /// `Err`, the items before the bad row are in `out`.
    ///
    /// The whole block is decoded at once within one item's budget; when it
    /// does not fit (or a row is bad), row by row, each with its own budget.
    pub(crate) fn items(
        &mut self,
        rows: Range<usize>,
        out: &mut Vec<Value>,
        options: &ReadOptions,
    ) -> Result<Decoded, RowError> {
        let limit = options.max_value_bytes();
        let mut ctx = Ctx {
            options,
            budget: Budget::new(limit),
        };
        let result = self.fill(rows.clone(), &mut ctx);
        if result.is_ok() {
            self.emit(out);
            return Ok(Decoded {
                rows: rows.len(),
                bytes: ctx.budget.used(),
            });
        }
        // Row by row, keeping the items before a bad row.
        let mut done = Decoded::default();
        for row in rows {
            let mut ctx = Ctx {
                options,
                budget: Budget::new(limit),
            };
            if let Err(f) = self.fill(row..row + 1, &mut ctx) {
                let mut e = RowError::new(row, f.column(), f.refused);
                e.id = self.id(row);
                return Err(e);
            }
            self.emit(out);
            done.rows += 1;
            done.bytes += ctx.budget.used();
            if done.bytes >= limit {
                break;
            }
        }
        Ok(done)
    }

    /// Decode `rows` into `self.buf`.
    fn fill(&mut self, rows: Range<usize>, ctx: &mut Ctx<'_>) -> Result<(), Fail> {
        self.buf.clear();
        match &mut self.kind {
            RowsKind::Spec(object) => {
                ctx.spend(VALUE_BYTES * rows.len() as u64)?;
                object.fill(rows, &mut self.buf, ctx)
            }
            RowsKind::Blob(texts) => {
                for row in rows {
                    let fail = |refused: Refused| Fail {
                        path: vec!["stac_item".into()],
                        refused,
                    };
                    let text = texts.get(row).ok_or_else(|| fail("null".into()))?;
                    let item = from_str_within(text, &mut ctx.budget).map_err(|e| match e {
                        JsonBudgetError::TooLarge { .. } => fail(too_large(&ctx.budget)),
                        other => fail(format!("bad JSON: {other}").into()),
                    })?;
                    // An item is a JSON object; `42` or `[..]` in the blob is not one.
                    if !item.is_object() {
                        return Err(fail(
                            format!("not a JSON object but {}", json_kind(&item)).into(),
                        ));
                    }
                    self.buf.push(Some(item));
                }
                Ok(())
            }
        }
    }

    fn emit(&mut self, out: &mut Vec<Value>) {
        out.extend(
            self.buf
                .drain(..)
                .map(|v| v.unwrap_or_else(|| Value::Object(Map::new()))),
        );
    }

    /// The item of row `row`.
    #[cfg(test)]
    pub(crate) fn item(&mut self, row: usize) -> Result<Value, RowError> {
        let mut out = Vec::with_capacity(1);
        self.items(row..row + 1, &mut out, &ReadOptions::default())?;
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
    /// What names this slot in an error's column path (`None`: nothing,
    /// for the `properties` object the reader builds).
    label: Option<String>,
    /// What a present member costs besides its value's contents.
    cost: u64,
    /// The key as JSON text followed by `:` (for the NDJSON writer).
    json_key: Vec<u8>,
    node: Node,
}

impl Slot {
    fn new(key: String, explicit: bool, column: Option<String>, node: Node) -> Self {
        let mut json_key = Vec::with_capacity(key.len() + 3);
        ndjson::write_str(&mut json_key, &key);
        json_key.push(b':');
        Self {
            cost: ENTRY_BYTES + key.len() as u64 + VALUE_BYTES,
            json_key,
            label: Some(column.clone().unwrap_or_else(|| key.clone())),
            key,
            explicit,
            column,
            node,
        }
    }
}

/// A struct column (or the item itself): a JSON object per row.
struct Object {
    nulls: Option<NullBuffer>,
    slots: Vec<Slot>,
    /// Every key, in order, with `null` values: cloned when a row has all
    /// of them (cloning copies the hash table instead of hashing each key).
    template: Map<String, Value>,
    /// The values of each slot for the rows being decoded (reused).
    columns: Vec<Vec<Option<Value>>>,
}

impl Object {
    /// An object of `slots`; two slots with the same key are an error
    /// `(column, reason)`: one would silently replace the other.
    fn new(nulls: Option<NullBuffer>, slots: Vec<Slot>) -> Result<Self, (String, String)> {
        let mut template = Map::with_capacity(slots.len());
        for slot in &slots {
            if template.insert(slot.key.clone(), Value::Null).is_some() {
                let columns: Vec<&str> = slots
                    .iter()
                    .filter(|s| s.key == slot.key)
                    .map(|s| s.column.as_deref().unwrap_or(&s.key))
                    .collect();
                return Err((
                    slot.column.clone().unwrap_or_else(|| slot.key.clone()),
                    format!(
                        "duplicated name: {} columns give the key {:?} ({})",
                        columns.len(),
                        slot.key,
                        columns.join(", ")
                    ),
                ));
            }
        }
        Ok(Self {
            nulls,
            columns: slots.iter().map(|_| Vec::new()).collect(),
            slots,
            template,
        })
    }

    /// Append the objects of `rows` to `out`: each slot's column first, then
    /// the objects.
    fn fill(
        &mut self,
        rows: Range<usize>,
        out: &mut Vec<Option<Value>>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Fail> {
        for (slot, column) in self.slots.iter_mut().zip(&mut self.columns) {
            column.clear();
            slot.node.fill(rows.clone(), column, ctx).map_err(|mut f| {
                if let Some(label) = &slot.label {
                    f.path.push(label.clone());
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
            let mut present = 0;
            let mut cost = 0;
            for (slot, column) in self.slots.iter().zip(&self.columns) {
                if slot.explicit || column[k].is_some() {
                    present += 1;
                    cost += slot.cost;
                }
            }
            ctx.spend(cost)?;
            let map = if present == self.slots.len() {
                let mut map = self.template.clone();
                for (out, column) in map.values_mut().zip(&mut self.columns) {
                    if let Some(v) = column[k].take() {
                        *out = v;
                    }
                }
                map
            } else {
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
    /// Bytes that are not a geometry, read as base64 text.
    Base64(Bins),
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

/// What a string of `len` bytes holds besides its [`Value`].
fn string_bytes(len: usize) -> u64 {
    len as u64 + if len > 0 { ALLOC_BYTES } else { 0 }
}

impl Node {
    /// Append the values of `rows` to `out`, spending what they hold
    /// (besides their own [`Value`], which the parent spends) from the
    /// budget before allocating it.
    ///
    /// The common leaf types have a loop of their own, writing straight into
    /// `out`.
    fn fill(
        &mut self,
        rows: Range<usize>,
        out: &mut Vec<Option<Value>>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Fail> {
        out.reserve(rows.len());
        match self {
            Node::Object(o) => return o.fill(rows, out, ctx),
            Node::List(l) => return l.fill(rows, out, ctx),
            Node::Null => out.extend(rows.map(|_| None)),
            Node::Bool(a) => {
                out.extend(rows.map(|r| a.is_valid(r).then(|| Value::Bool(a.value(r)))));
            }
            Node::Int(i) => i.fill(rows, out),
            Node::F64(a, ints) => {
                let ints = *ints;
                for r in rows {
                    out.push(if a.is_valid(r) {
                        Some(ctx.float(a.value(r), ints)?)
                    } else {
                        None
                    });
                }
            }
            Node::Str(s) => {
                ctx.spend(s.bytes(rows.clone()))?;
                s.fill(rows, out);
            }
            _ => {
                for row in rows {
                    out.push(self.value(row, ctx)?);
                }
            }
        }
        Ok(())
    }

    /// The value of one row.
    fn value(&mut self, row: usize, ctx: &mut Ctx<'_>) -> Result<Option<Value>, Fail> {
        Ok(match self {
            Node::Null => None,
            Node::Json(s) => match s.get(row) {
                None => None,
                Some(text) => {
                    Some(from_str_within(text, &mut ctx.budget).map_err(|e| match e {
                        JsonBudgetError::TooLarge { .. } => Fail::from(too_large(&ctx.budget)),
                        other => Fail::from(format!("bad JSON text: {other}")),
                    })?)
                }
            },
            Node::Bool(a) => a.is_valid(row).then(|| Value::Bool(a.value(row))),
            Node::Int(i) => i.get(row),
            Node::F64(a, ints) => {
                if a.is_valid(row) {
                    Some(ctx.float(a.value(row), *ints)?)
                } else {
                    None
                }
            }
            Node::F32(a) => {
                if a.is_valid(row) {
                    let f = a.value(row);
                    // The shortest decimal that reads back as this f32.
                    let f: f64 = if f.is_finite() {
                        f.to_string().parse().unwrap_or(f64::from(f))
                    } else {
                        f64::from(f)
                    };
                    Some(ctx.float(f, false)?)
                } else {
                    None
                }
            }
            Node::Str(s) => match s.get(row) {
                None => None,
                Some(s) => {
                    ctx.spend(string_bytes(s.len()))?;
                    Some(Value::String(s.to_owned()))
                }
            },
            Node::Wkb(b, ints) => match b.get(row) {
                None => None,
                Some(bytes) => {
                    let v = geometry::from_wkb(bytes, *ints, ctx.options, &mut ctx.budget)?;
                    Some(v)
                }
            },
            Node::Base64(b) => match b.get(row) {
                None => None,
                Some(bytes) => {
                    ctx.spend(string_bytes(bytes.len().div_ceil(3) * 4))?;
                    Some(Value::String(base64(bytes)))
                }
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
                let text = timestamp_text(values[row], *unit, *fmt)?;
                ctx.spend(string_bytes(text.len()))?;
                Some(Value::String(text))
            }
            Node::Date(a) => {
                if a.is_valid(row) {
                    ctx.spend(string_bytes(10))?;
                    chrono::DateTime::from_timestamp(i64::from(a.value(row)) * 86_400, 0)
                        .map(|dt| Value::from(dt.format("%Y-%m-%d").to_string()))
                } else {
                    None
                }
            }
            Node::List(_) | Node::Object(_) => {
                let mut out = Vec::with_capacity(1);
                self.fill(row..row + 1, &mut out, ctx)?;
                out.pop().flatten()
            }
            Node::Map(m) => {
                if !valid(m.nulls.as_ref(), row) {
                    return Ok(None);
                }
                let start = usize::try_from(m.offsets[row]).unwrap_or(0);
                let end = usize::try_from(m.offsets[row + 1]).unwrap_or(0);
                let n = end.saturating_sub(start);
                ctx.spend((ENTRY_BYTES + VALUE_BYTES).saturating_mul(n as u64))?;
                let mut obj = Map::with_capacity(n);
                for j in start..end {
                    let k = match m.keys.value(j, ctx)? {
                        Some(Value::String(s)) => s,
                        Some(other) => other.to_string(),
                        None => continue,
                    };
                    obj.insert(k, m.values.value(j, ctx)?.unwrap_or(Value::Null));
                }
                Some(Value::Object(obj))
            }
            Node::Dict(d) => {
                if !valid(d.nulls.as_ref(), row) {
                    return Ok(None);
                }
                let key = d.keys.get(row).copied().unwrap_or(usize::MAX);
                d.value(key, ctx)?
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
                ctx.spend(ALLOC_BYTES + VALUE_BYTES * order.len() as u64)?;
                let mut out = Vec::with_capacity(order.len());
                for &i in order {
                    out.push(match &b.cols[i] {
                        Some(c) if c.is_valid(row) => ctx.float(c.value(row), b.ints)?,
                        _ => Value::Null,
                    });
                }
                Some(Value::Array(out))
            }
        })
    }
}

/// Standard base64 (RFC 4648, padded).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Unit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// A timestamp column's value as the item's text (microseconds, rendered in
/// the column's recorded format), or why it cannot be: the one rendering of
/// both the `Value` and the NDJSON paths.
fn timestamp_text(v: i64, unit: Unit, fmt: u32) -> Result<String, String> {
    let micros = match unit {
        Unit::Seconds => v.checked_mul(1_000_000),
        Unit::Millis => v.checked_mul(1000),
        Unit::Micros => Some(v),
        Unit::Nanos => Some(v.div_euclid(1000)),
    };
    micros
        .and_then(|m| timestamps::render(m, fmt))
        .ok_or_else(|| format!("timestamp {} out of range", micros.unwrap_or(v)))
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
    fn fill(
        &mut self,
        rows: Range<usize>,
        out: &mut Vec<Option<Value>>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Fail> {
        if rows.is_empty() {
            return Ok(());
        }
        let (first, _) = self.offsets.range(rows.start);
        let (_, last) = self.offsets.range(rows.end - 1);
        let children = last.saturating_sub(first);
        // The children's slots, and a heap block per list (upper bound).
        ctx.spend(
            VALUE_BYTES
                .saturating_mul(children as u64)
                .saturating_add(ALLOC_BYTES * rows.len() as u64),
        )?;
        self.children.clear();
        self.child
            .fill(first..last.max(first), &mut self.children, ctx)?;
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

/// A dictionary-encoded column: each dictionary value is decoded once (when
/// a row first uses it), then cloned for each row that uses it, its size
/// spent again each time.
struct Dict {
    nulls: Option<NullBuffer>,
    keys: Vec<usize>,
    /// Number of dictionary values.
    len: usize,
    values: Node,
    /// Decoded values by dictionary index, with what each takes.
    cache: HashMap<usize, (Option<Value>, u64)>,
    /// What the cached values take (the cache is emptied past one item's
    /// budget).
    cached: u64,
}

impl Dict {
    fn value(&mut self, key: usize, ctx: &mut Ctx<'_>) -> Result<Option<Value>, Fail> {
        if key >= self.len {
            return Err(format!("dictionary key {key} out of range ({} values)", self.len).into());
        }
        if let Some((v, cost)) = self.cache.get(&key) {
            ctx.spend(*cost)?;
            return Ok(v.clone());
        }
        // Decode it within what is left of this item's budget.
        let before = ctx.budget.used();
        let v = self.values.value(key, ctx)?;
        let cost = ctx.budget.used() - before;
        if self.cached.saturating_add(cost) > ctx.options.max_value_bytes() {
            self.cache.clear();
            self.cached = 0;
        }
        self.cached += cost;
        self.cache.insert(key, (v.clone(), cost));
        Ok(v)
    }
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

    /// What the strings of `rows` hold (an upper bound: nulls and empty
    /// strings are counted a heap block), from the offsets alone.
    fn bytes(&self, rows: Range<usize>) -> u64 {
        let n = rows.len() as u64;
        let text = match self {
            Strs::Utf8(a) => {
                let o = a.value_offsets();
                i64::from(o[rows.end]) - i64::from(o[rows.start])
            }
            Strs::Large(a) => {
                let o = a.value_offsets();
                o[rows.end] - o[rows.start]
            }
            Strs::View(a) => rows.map(|r| a.views()[r] as u32 as i64).sum(),
        };
        u64::try_from(text).unwrap_or(0) + ALLOC_BYTES * n
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

/// A binary column of any offset width.
enum Bins {
    Binary(BinaryArray),
    Large(LargeBinaryArray),
    View(BinaryViewArray),
}

impl Bins {
    fn new(array: &dyn Array, what: &str) -> Result<Self, (usize, String)> {
        Ok(match array.data_type() {
            DataType::Binary => Bins::Binary(array.as_binary::<i32>().clone()),
            DataType::LargeBinary => Bins::Large(array.as_binary::<i64>().clone()),
            DataType::BinaryView => Bins::View(array.as_binary_view().clone()),
            other => {
                return Err((
                    0,
                    if what == "geometry" {
                        format!("geometry column of type {other} (expected WKB binary)")
                    } else {
                        format!("column of type {other} (expected binary)")
                    },
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

/// What kind of JSON value `v` is, for error messages.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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

    use super::{Decoder, ReadOptions};

    /// A decoder for a foreign file without `geo` metadata.
    fn decoder() -> Decoder {
        Decoder::new(None, None, ReadOptions::default())
    }

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
        let mut rows = decoder().compile(&batch).unwrap();
        assert_eq!(rows.len(), 2);
        // One block of both rows gives the same items as one row at a time.
        let mut both = Vec::new();
        rows.items(0..2, &mut both, &ReadOptions::default())
            .unwrap();
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
                    // Not a geometry column (no geo metadata names it): base64.
                    "wkb": "AQEAAAAAAAAAAADwPwAAAAAAAABA",
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
        let mut rows = decoder().compile(&batch).unwrap();
        let mut out = Vec::new();
        let e = rows
            .items(0..2, &mut out, &ReadOptions::default())
            .unwrap_err();
        assert_eq!((e.row, e.column.as_str(), out.len()), (0, "geometry", 0));
        assert_eq!(e.id.as_deref(), Some("a"));
        let e = rows.item(0).unwrap_err();
        assert_eq!((e.row, e.column.as_str()), (0, "geometry"));
        assert!(e.reason.contains("truncated"), "{}", e.reason);
        assert_eq!(
            rows.item(1).unwrap(),
            json!({"id": "b", "geometry": null, "properties": {}})
        );
        let batch = RecordBatch::try_from_iter(vec![(
            "geometry",
            Arc::new(StringArray::from(vec!["POINT (1 2)"])) as ArrayRef,
        )])
        .unwrap();
        let err = decoder().compile(&batch).err().unwrap();
        assert_eq!(err.column, "geometry");
    }
}
