//! Which columns make up a spec-layout file, in which order, and how one
//! batch of items becomes one Arrow record batch.

use std::path::Path as FsPath;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geoarrow_schema::WkbType;
use serde_json::{Map, Value};

use crate::json::{Json, Object};

use crate::encode;
use crate::error::{GeoParquetError, Result};
use crate::geometry::GeometryStats;
use crate::metadata::FileHints;
use crate::options::Layout;
use crate::schema::{FieldTy, Hints, StructTy, Ty, arrow_type};
use crate::timestamps::TIMESTAMP_KEYS;

/// Top-level keys of the spec layout that are not properties.
pub const RESERVED: &[&str] = &[
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

/// Column-name prefix of a top-level key whose name is also a property name.
pub(crate) const ROOT_PREFIX: &str = "stac-gdal:root:";

/// Everything learnt from the items pushed so far (spec layout).
#[derive(Debug, Default)]
pub(crate) struct Inference {
    root: StructTy,
    props: StructTy,
    geometry_absent: bool,
    geometry_null: bool,
    bbox_absent: bool,
    bbox_null: bool,
    bbox_any: bool,
    bbox_missing: bool,
    bbox_3d: bool,
    bbox_int: bool,
    bbox_float_integral: bool,
    /// Rows (input order) where a top-level key is an explicit `null`:
    /// (top level (else a property), key) → runs.
    null_rows: std::collections::HashMap<(bool, String), crate::nulls::RunBuilder>,
}

fn invalid(path: &FsPath, index: u64, item: &Value, reason: impl Into<String>) -> GeoParquetError {
    invalid_id(path, index, item.get("id").and_then(Value::as_str), reason)
}

/// [`invalid`] of an item read as [`Json`].
fn invalid_json(
    path: &FsPath,
    index: u64,
    item: &Json<'_>,
    reason: impl Into<String>,
) -> GeoParquetError {
    invalid_id(path, index, item.get("id").and_then(Json::as_str), reason)
}

fn invalid_id(
    path: &FsPath,
    index: u64,
    id: Option<&str>,
    reason: impl Into<String>,
) -> GeoParquetError {
    GeoParquetError::InvalidItem {
        path: path.to_path_buf(),
        index,
        id: id.unwrap_or_default().to_string(),
        reason: reason.into(),
    }
}

/// Checks every layout needs: a JSON object with a string id.
pub(crate) fn check_item<'a>(
    path: &FsPath,
    index: u64,
    item: &'a Value,
) -> Result<&'a Map<String, Value>> {
    let obj = item
        .as_object()
        .ok_or_else(|| invalid(path, index, item, "not a JSON object"))?;
    match obj.get("id") {
        Some(Value::String(_)) => Ok(obj),
        Some(_) => Err(invalid(path, index, item, "\"id\" is not a string")),
        None => Err(invalid(path, index, item, "has no \"id\"")),
    }
}

/// [`check_item`] of an item read as [`Json`].
pub(crate) fn check_object<'j, 'a>(
    path: &FsPath,
    index: u64,
    item: &'j Json<'a>,
) -> Result<&'j Object<'a>> {
    let obj = item
        .as_object()
        .ok_or_else(|| invalid_json(path, index, item, "not a JSON object"))?;
    match obj.get("id") {
        Some(Json::String(_)) => Ok(obj),
        Some(_) => Err(invalid_json(path, index, item, "\"id\" is not a string")),
        None => Err(invalid_json(path, index, item, "has no \"id\"")),
    }
}

impl Inference {
    /// Validate one item and widen the schema with it.
    pub(crate) fn push(&mut self, path: &FsPath, index: u64, item: &Json<'_>) -> Result<()> {
        let obj = check_object(path, index, item)?;
        let props = match obj.get("properties") {
            None | Some(Json::Null) => None,
            Some(Json::Object(p)) => Some(p),
            Some(_) => {
                return Err(invalid_json(
                    path,
                    index,
                    item,
                    "\"properties\" is not an object",
                ));
            }
        };
        let collide = |key: &str| GeoParquetError::ReservedColumn {
            path: path.to_path_buf(),
            index,
            id: item
                .get("id")
                .and_then(Json::as_str)
                .unwrap_or(stac_meta::item::UNKNOWN_ID)
                .to_string(),
            key: key.to_string(),
        };
        if let Some(p) = props {
            for key in p.keys() {
                if RESERVED.contains(&key) {
                    return Err(collide(key));
                }
            }
        }
        match obj.get("bbox") {
            None => {
                self.bbox_absent = true;
                self.bbox_missing = true;
            }
            Some(Json::Null) => {
                self.bbox_null = true;
                self.bbox_missing = true;
            }
            Some(Json::Array(a))
                if (a.len() == 4 || a.len() == 6) && a.iter().all(Json::is_number) =>
            {
                self.bbox_any = true;
                self.bbox_3d |= a.len() == 6;
                for n in a {
                    if n.is_f64() {
                        if n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                            self.bbox_float_integral = true;
                        }
                    } else {
                        self.bbox_int = true;
                    }
                }
            }
            Some(_) => {
                return Err(invalid_json(
                    path,
                    index,
                    item,
                    "\"bbox\" is not an array of 4 or 6 numbers",
                ));
            }
        }
        match obj.get("geometry") {
            None => self.geometry_absent = true,
            Some(Json::Null) => self.geometry_null = true,
            Some(_) => {}
        }
        for (k, v) in obj.iter() {
            if v.is_null() && k != "properties" {
                self.null_rows
                    .entry((true, k.to_string()))
                    .or_default()
                    .push(index);
            }
        }
        if let Some(p) = props {
            for (k, v) in p.iter() {
                if v.is_null() {
                    self.null_rows
                        .entry((false, k.to_string()))
                        .or_default()
                        .push(index);
                }
            }
        }
        self.root
            .merge_object_except(obj, false, &["geometry", "bbox", "properties"]);
        match props {
            Some(p) => self.props.merge_object(p, true),
            None => self.props.note_missing(),
        }
        Ok(())
    }

    /// A field whose explicit nulls and absences are spread over too many
    /// runs of rows is stored as JSON text.
    fn as_json(&self, root: bool, f: &FieldTy) -> FieldTy {
        let too_many = self
            .null_rows
            .get(&(root, f.name.clone()))
            .is_some_and(|r| r.runs.len() > crate::nulls::MAX_RUNS);
        let mut f = f.clone();
        if f.null && f.absent && too_many {
            f.ty = Ty::Json;
        }
        f
    }

    /// The output columns in file order, and the (column name, key) of the
    /// non-reserved top-level keys.
    fn columns(&self) -> (Vec<Column>, Vec<(String, String)>) {
        let mut columns = Vec::new();
        for key in ["type", "stac_version", "stac_extensions", "id"] {
            if let Some(f) = self.root.get(key) {
                columns.push(Column::Root(self.as_json(true, f)));
            }
        }
        columns.push(Column::Geometry);
        if self.bbox_any {
            columns.push(Column::Bbox(self.bbox_3d));
        }
        if let Some(f) = self.root.get("collection") {
            columns.push(Column::Root(self.as_json(true, f)));
        }
        for key in TIMESTAMP_KEYS {
            if let Some(f) = self.props.get(key) {
                columns.push(Column::Prop(self.as_json(false, f)));
            }
        }
        for f in &self.props.fields {
            if !f.time {
                columns.push(Column::Prop(self.as_json(false, f)));
            }
        }
        let mut root_columns = Vec::new();
        for f in &self.root.fields {
            if !RESERVED.contains(&f.name.as_str()) {
                // A top-level key that is also a property name somewhere gets
                // its own column name; the hints map it back.
                let column = if self.props.get(&f.name).is_some() {
                    format!("{ROOT_PREFIX}{}", f.name)
                } else {
                    f.name.clone()
                };
                root_columns.push((column.clone(), f.name.clone()));
                columns.push(Column::Extra(column, self.as_json(true, f)));
            }
        }
        if let Some(f) = self.root.get("links") {
            let mut f = f.clone();
            if f.ty == Ty::List(Box::new(Ty::Null)) {
                // Every link list is empty: type it as links anyway (not list<null>).
                let mut link = StructTy::default();
                for name in ["href", "rel"] {
                    link.push_field(FieldTy {
                        name: name.into(),
                        ty: Ty::Str,
                        absent: true,
                        null: false,
                        time: false,
                    });
                }
                f.ty = Ty::List(Box::new(Ty::Struct(link)));
            }
            columns.push(Column::Root(f));
        }
        if let Some(f) = self.root.get("assets") {
            columns.push(Column::Root(f.clone()));
        }

        (columns, root_columns)
    }

    /// The Arrow fields of `columns`, and the read-back hints they need.
    fn fields(&self, columns: &[Column]) -> (Vec<Field>, Hints) {
        let mut hints = Hints::default();
        let mut explicit_root = Vec::new();
        if self.geometry_null && !self.geometry_absent {
            explicit_root.push(vec![Some("geometry".to_string())]);
        }
        if self.bbox_null && !self.bbox_absent {
            explicit_root.push(vec![Some("bbox".to_string())]);
        }
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| match c {
                Column::Root(f) | Column::Prop(f) => {
                    hints.collect(&mut vec![Some(f.name.clone())], f);
                    Field::new(&f.name, arrow_type(&f.ty, f.time), true)
                }
                Column::Extra(column, f) => {
                    let mut f = f.clone();
                    f.name = column.clone();
                    hints.collect(&mut vec![Some(column.clone())], &f);
                    Field::new(column, arrow_type(&f.ty, f.time), true)
                }
                Column::Geometry => geometry_field(),
                Column::Bbox(three_d) => Field::new(
                    "bbox",
                    DataType::Struct(encode::bbox_fields(*three_d)),
                    true,
                ),
            })
            .collect();
        hints.explicit_null.extend(explicit_root);
        (fields, hints)
    }

    /// The runs of rows where a column that mixes explicit nulls and
    /// absences holds a null, by column name.
    fn null_rows(&self, root_columns: &[(String, String)]) -> Vec<(String, Vec<(u64, u64)>)> {
        let mut null_rows = Vec::new();
        for ((root, key), runs) in &self.null_rows {
            let mixed = if *root {
                match key.as_str() {
                    "geometry" => self.geometry_null && self.geometry_absent,
                    "bbox" => self.bbox_null && self.bbox_absent,
                    k => self.root.get(k).is_some_and(|f| f.null && f.absent),
                }
            } else {
                self.props.get(key).is_some_and(|f| f.null && f.absent)
            };
            if !mixed
                || (runs.runs.len() > crate::nulls::MAX_RUNS
                    && !matches!(key.as_str(), "geometry" | "bbox"))
            {
                continue;
            }
            let column = if *root {
                root_columns
                    .iter()
                    .find(|(_, k)| k == key)
                    .map_or_else(|| key.clone(), |(c, _)| c.clone())
            } else {
                key.clone()
            };
            null_rows.push((column, runs.runs.clone()));
        }
        null_rows.sort();
        null_rows
    }

    /// The columns and schema for everything pushed.
    pub(crate) fn plan(&self) -> Plan {
        let (columns, root_columns) = self.columns();
        let (fields, hints) = self.fields(&columns);
        let null_rows = self.null_rows(&root_columns);
        let file_hints = FileHints {
            layout: Some(Layout::Spec),
            json_columns: hints.json,
            explicit_nulls: hints.explicit_null,
            int_numbers: hints.int_numbers,
            root_columns,
            timestamp_formats: hints.timestamp_formats,
            geometry_integers: false,
            bbox_integers: self.bbox_int && !self.bbox_float_integral,
            null_rows,
        };
        Plan {
            schema: Arc::new(Schema::new(fields)),
            columns,
            hints: file_hints,
            covering: (self.bbox_any && !self.bbox_missing).then_some(self.bbox_3d),
            proj_geometry: self
                .props
                .get(crate::schema::GEOMETRY_KEY)
                .is_some_and(|f| matches!(f.nested_ty(), Ty::Geom { .. })),
        }
    }
}

/// The WKB geometry field, tagged `geoarrow.wkb`.
pub(crate) fn geometry_field() -> Field {
    Field::new("geometry", DataType::Binary, true)
        .with_extension_type(WkbType::new(Default::default()))
}

/// One output column.
#[derive(Debug, Clone)]
pub(crate) enum Column {
    /// A top-level item key.
    Root(FieldTy),
    /// A property lifted to the top level.
    Prop(FieldTy),
    /// A non-reserved top-level key: (column name, field).
    Extra(String, FieldTy),
    /// WKB geometry.
    Geometry,
    /// bbox struct (true: 3-D).
    Bbox(bool),
}

/// The schema of a spec-layout file and how to fill it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub schema: SchemaRef,
    pub columns: Vec<Column>,
    pub hints: FileHints,
    /// `Some(three_d)` when every row has a bbox (so a covering can be declared).
    pub covering: Option<bool>,
    /// The `proj:geometry` property column holds WKB (declared in `geo`).
    pub proj_geometry: bool,
}

impl Plan {
    /// Encode a batch of items (the first is item number `first` of the input).
    pub(crate) fn encode(
        &self,
        path: &FsPath,
        first: u64,
        items: &[Json<'_>],
        stats: &mut GeometryStats,
    ) -> Result<RecordBatch> {
        // Every column's cells, gathered in one pass over each item (and
        // one over its properties) instead of a lookup per column.
        let mut root_names = vec!["geometry", "bbox"];
        let mut prop_names = Vec::new();
        for column in &self.columns {
            match column {
                Column::Root(f) | Column::Extra(_, f) => root_names.push(f.name.as_str()),
                Column::Prop(f) => prop_names.push(f.name.as_str()),
                Column::Geometry | Column::Bbox(_) => {}
            }
        }
        let root = gather(&root_names, items.iter().map(Json::as_object));
        let props = gather(
            &prop_names,
            items
                .iter()
                .map(|i| i.get("properties").and_then(Json::as_object)),
        );
        let (mut next_root, mut next_prop) = (2, 0);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let parquet = |e: String| GeoParquetError::parquet(path, e);
            let array = match column {
                Column::Root(f) | Column::Extra(_, f) => {
                    next_root += 1;
                    encode::build(&f.ty, f.time, &root[next_root - 1]).map_err(parquet)?
                }
                Column::Prop(f) => {
                    next_prop += 1;
                    encode::build(&f.ty, f.time, &props[next_prop - 1]).map_err(parquet)?
                }
                Column::Geometry => {
                    encode::geometry_column(&root[0], stats).map_err(|(row, reason)| {
                        invalid_json(path, first + row as u64, &items[row], reason)
                    })?
                }
                Column::Bbox(three_d) => encode::bbox_column(&root[1], *three_d),
            };
            arrays.push(array);
        }
        RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| GeoParquetError::parquet(path, e))
    }
}

/// The cells of the members `names` of each object (`None`: absent, or
/// no object), one column per name. Members usually come in the order of
/// `names`: the next name is tried first, a hash lookup only on a miss.
fn gather<'j, 'a: 'j>(
    names: &[&str],
    objects: impl ExactSizeIterator<Item = Option<&'j Object<'a>>>,
) -> Vec<Vec<Option<&'j Json<'a>>>> {
    let index: std::collections::HashMap<&str, usize> =
        names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let rows = objects.len();
    let mut columns: Vec<Vec<Option<&Json<'a>>>> =
        names.iter().map(|_| Vec::with_capacity(rows)).collect();
    let mut slots: Vec<Option<&Json<'a>>> = vec![None; names.len()];
    for o in objects {
        if let Some(o) = o {
            let mut guess = 0;
            for (k, v) in o.iter() {
                let i = match names.get(guess) {
                    Some(n) if *n == k => Some(guess),
                    _ => index.get(k).copied(),
                };
                if let Some(i) = i {
                    slots[i] = Some(v);
                    guess = i + 1;
                }
            }
        }
        for (slot, column) in slots.iter_mut().zip(&mut columns) {
            column.push(slot.take());
        }
    }
    columns
}

/// The JSON-blob layout's schema: `id`, `stac_item`, `geometry`.
pub(crate) fn blob_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("stac_item", DataType::Utf8, false),
        geometry_field(),
    ]))
}

/// Encode a batch of items in the JSON-blob layout.
pub(crate) fn encode_blob(
    path: &FsPath,
    first: u64,
    items: &[Value],
    stats: &mut GeometryStats,
) -> Result<RecordBatch> {
    let ids = StringArray::from_iter_values(items.iter().map(stac_meta::item_id));
    let texts = StringArray::from_iter_values(items.iter().map(Value::to_string));
    let rects: Vec<Option<Value>> = items
        .iter()
        .map(|i| match i.get("geometry") {
            Some(g) if !g.is_null() => None,
            _ => i.get("bbox").and_then(bbox_polygon),
        })
        .collect();
    let geoms: Vec<Option<&Value>> = items
        .iter()
        .zip(&rects)
        .map(|(i, r)| r.as_ref().or_else(|| i.get("geometry")))
        .collect();
    let geoms: Vec<Option<Json<'_>>> = geoms.iter().map(|g| g.map(Json::from_value)).collect();
    let geoms: Vec<Option<&Json<'_>>> = geoms.iter().map(Option::as_ref).collect();
    let geometry = encode::geometry_column(&geoms, stats)
        .map_err(|(row, reason)| invalid(path, first + row as u64, &items[row], reason))?;
    RecordBatch::try_new(
        blob_schema(),
        vec![Arc::new(ids), Arc::new(texts), geometry],
    )
    .map_err(|e| GeoParquetError::parquet(path, e))
}

/// The rectangle of a bbox as a GeoJSON Polygon (horizontal members only).
fn bbox_polygon(bbox: &Value) -> Option<Value> {
    let b: Vec<f64> = bbox.as_array()?.iter().filter_map(Value::as_f64).collect();
    let (x0, y0, x1, y1) = match b.len() {
        4 => (b[0], b[1], b[2], b[3]),
        6 => (b[0], b[1], b[3], b[4]),
        _ => return None,
    };
    Some(
        serde_json::json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}),
    )
}
