//! Arrow arrays → JSON values, for files we wrote (guided by their hints)
//! and for files written by others (stac-geoparquet, rustac, geopandas).

use std::collections::{HashMap, HashSet};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
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

    /// Decode one record batch into items. `Err((row, column, reason))`.
    pub fn decode(&self, batch: &RecordBatch) -> Result<Vec<Value>, (usize, String, String)> {
        let n = batch.num_rows();
        let schema = batch.schema();
        let mut columns: Vec<(String, bool, Vec<Option<Value>>)> = Vec::new();
        let mut explicit: Vec<bool> = Vec::new();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name();
            if name.starts_with("__") {
                continue; // pandas index columns
            }
            let fail = |(row, reason): (usize, String)| (row, name.clone(), reason);
            let values = match name.as_str() {
                "geometry" => self.geometry(array).map_err(fail)?,
                "bbox" => self.bbox(array).map_err(fail)?,
                _ => {
                    let fmt = self.formats.get(name).copied().unwrap_or(DEFAULT_FORMAT);
                    let mut path = vec![Some(name.clone())];
                    self.array(array, &mut path, fmt).map_err(fail)?
                }
            };
            let is_root = RESERVED.contains(&name.as_str()) || self.root.contains_key(name);
            let key = self.root.get(name).unwrap_or(name).clone();
            explicit.push(if self.ours {
                self.explicit
                    .contains(&self::key(&vec![Some(name.clone())]))
            } else {
                (is_root && name == "geometry") || (!is_root && name == "datetime")
            });
            columns.push((key, is_root, values));
        }
        let order = |name: &str| -> usize {
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
        };
        let mut root_order: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].1).collect();
        root_order.sort_by_key(|&i| order(&columns[i].0));
        let props_at = root_order
            .iter()
            .position(|&i| order(&columns[i].0) > 5)
            .unwrap_or(root_order.len());
        let prop_cols: Vec<usize> = (0..columns.len()).filter(|&i| !columns[i].1).collect();
        let mut items = Vec::with_capacity(n);
        for row in 0..n {
            let mut item = Map::new();
            for (pos, &i) in root_order.iter().enumerate() {
                if pos == props_at {
                    item.insert(
                        "properties".into(),
                        self.props(&mut columns, &prop_cols, &explicit, row),
                    );
                }
                let (name, _, values) = &mut columns[i];
                match values[row].take() {
                    Some(v) => {
                        item.insert(name.clone(), v);
                    }
                    None if explicit[i] => {
                        item.insert(name.clone(), Value::Null);
                    }
                    None => {}
                }
            }
            if props_at == root_order.len() {
                item.insert(
                    "properties".into(),
                    self.props(&mut columns, &prop_cols, &explicit, row),
                );
            }
            items.push(Value::Object(item));
        }
        Ok(items)
    }

    fn props(
        &self,
        columns: &mut [(String, bool, Vec<Option<Value>>)],
        prop_cols: &[usize],
        explicit: &[bool],
        row: usize,
    ) -> Value {
        let mut props = Map::new();
        for &i in prop_cols {
            let (name, _, values) = &mut columns[i];
            match values[row].take() {
                Some(v) => {
                    props.insert(name.clone(), v);
                }
                None if explicit[i] => {
                    props.insert(name.clone(), Value::Null);
                }
                None => {}
            }
        }
        Value::Object(props)
    }

    fn geometry(&self, array: &ArrayRef) -> Result<Vec<Option<Value>>, (usize, String)> {
        let decode = |row: usize, bytes: Option<&[u8]>| -> Result<Option<Value>, (usize, String)> {
            bytes
                .map(|b| geometry::from_wkb(b, self.geometry_ints).map_err(|e| (row, e)))
                .transpose()
        };
        match array.data_type() {
            DataType::Binary => array
                .as_binary::<i32>()
                .iter()
                .enumerate()
                .map(|(r, b)| decode(r, b))
                .collect(),
            DataType::LargeBinary => array
                .as_binary::<i64>()
                .iter()
                .enumerate()
                .map(|(r, b)| decode(r, b))
                .collect(),
            DataType::BinaryView => array
                .as_binary_view()
                .iter()
                .enumerate()
                .map(|(r, b)| decode(r, b))
                .collect(),
            other => Err((
                0,
                format!("geometry column of type {other} (expected WKB binary)"),
            )),
        }
    }

    fn bbox(&self, array: &ArrayRef) -> Result<Vec<Option<Value>>, (usize, String)> {
        let DataType::Struct(_) = array.data_type() else {
            let mut path = vec![Some("bbox".to_string())];
            return self.array(array, &mut path, DEFAULT_FORMAT);
        };
        let s = array.as_struct();
        let get = |name: &str| -> Option<&arrow_array::Float64Array> {
            s.column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<Float64Type>())
        };
        let names = ["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"];
        let cols: Vec<Option<&arrow_array::Float64Array>> = names.iter().map(|n| get(n)).collect();
        if cols[0].is_none() || cols[1].is_none() || cols[3].is_none() || cols[4].is_none() {
            return Err((
                0,
                "bbox struct without xmin/ymin/xmax/ymax float64 fields".into(),
            ));
        }
        Ok((0..s.len())
            .map(|row| {
                if s.is_null(row) {
                    return None;
                }
                let order: &[usize] = if cols[2].is_some_and(|c| c.is_valid(row)) {
                    &[0, 1, 2, 3, 4, 5]
                } else {
                    &[0, 1, 3, 4]
                };
                Some(Value::Array(
                    order
                        .iter()
                        .map(|&i| {
                            let c = cols[i].expect("checked above");
                            if c.is_null(row) {
                                Value::Null
                            } else {
                                geometry::bbox_number(c.value(row), self.bbox_ints)
                            }
                        })
                        .collect(),
                ))
            })
            .collect())
    }

    fn array(
        &self,
        array: &dyn Array,
        path: &mut Path,
        fmt: u32,
    ) -> Result<Vec<Option<Value>>, (usize, String)> {
        let n = array.len();
        let valid = |i: usize| array.is_valid(i);
        if self.ours && self.json.contains(&key(path)) {
            let strings: Vec<Option<&str>> = match array.data_type() {
                DataType::Utf8 => array.as_string::<i32>().iter().collect(),
                DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
                _ => return Err((0, "JSON-text column is not a string column".into())),
            };
            return strings
                .into_iter()
                .enumerate()
                .map(|(r, s)| {
                    s.map(|s| {
                        serde_json::from_str(s).map_err(|e| (r, format!("bad JSON text: {e}")))
                    })
                    .transpose()
                })
                .collect();
        }
        macro_rules! prim {
            ($t:ty) => {
                array
                    .as_primitive::<$t>()
                    .iter()
                    .map(|v| v.map(Value::from))
                    .collect()
            };
        }
        Ok(match array.data_type() {
            DataType::Null => vec![None; n],
            DataType::Boolean => array
                .as_boolean()
                .iter()
                .map(|v| v.map(Value::Bool))
                .collect(),
            DataType::Int8 => prim!(Int8Type),
            DataType::Int16 => prim!(Int16Type),
            DataType::Int32 => prim!(Int32Type),
            DataType::Int64 => prim!(Int64Type),
            DataType::UInt8 => prim!(UInt8Type),
            DataType::UInt16 => prim!(UInt16Type),
            DataType::UInt32 => prim!(UInt32Type),
            DataType::UInt64 => prim!(UInt64Type),
            DataType::Float64 => {
                let ints = self.ours && self.int_numbers.contains(&key(path));
                array
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| v.map(|f| geometry::bbox_number(f, ints)))
                    .collect()
            }
            DataType::Float32 => array
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| {
                    v.map(|f| {
                        let f: f64 = f.to_string().parse().unwrap_or(f64::from(f));
                        Number::from_f64(f).map_or(Value::Null, Value::Number)
                    })
                })
                .collect(),
            DataType::Utf8 => array
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(Value::from))
                .collect(),
            DataType::LargeUtf8 => array
                .as_string::<i64>()
                .iter()
                .map(|v| v.map(Value::from))
                .collect(),
            DataType::Utf8View => array
                .as_string_view()
                .iter()
                .map(|v| v.map(Value::from))
                .collect(),
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                let arr: ArrayRef = arrow_array::make_array(array.to_data());
                self.geometry(&arr)?
            }
            DataType::Timestamp(unit, _) => {
                let micros: Vec<Option<i64>> = match unit {
                    TimeUnit::Second => array
                        .as_primitive::<arrow_array::types::TimestampSecondType>()
                        .iter()
                        .map(|v| v.map(|s| s * 1_000_000))
                        .collect(),
                    TimeUnit::Millisecond => array
                        .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                        .iter()
                        .map(|v| v.map(|s| s * 1000))
                        .collect(),
                    TimeUnit::Microsecond => array
                        .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
                        .iter()
                        .collect(),
                    TimeUnit::Nanosecond => array
                        .as_primitive::<arrow_array::types::TimestampNanosecondType>()
                        .iter()
                        .map(|v| v.map(|s| s.div_euclid(1000)))
                        .collect(),
                };
                micros
                    .into_iter()
                    .enumerate()
                    .map(|(r, m)| {
                        m.map(|m| {
                            timestamps::render(m, fmt)
                                .map(Value::from)
                                .ok_or((r, format!("timestamp {m} out of range")))
                        })
                        .transpose()
                    })
                    .collect::<Result<_, _>>()?
            }
            DataType::Date32 => array
                .as_primitive::<arrow_array::types::Date32Type>()
                .iter()
                .map(|v| {
                    v.and_then(|d| {
                        chrono::DateTime::from_timestamp(i64::from(d) * 86_400, 0)
                            .map(|dt| Value::from(dt.format("%Y-%m-%d").to_string()))
                    })
                })
                .collect(),
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
                let (values, offsets): (ArrayRef, Vec<usize>) = match array.data_type() {
                    DataType::List(_) => {
                        let l = array.as_list::<i32>();
                        (
                            l.values().clone(),
                            l.value_offsets().iter().map(|o| *o as usize).collect(),
                        )
                    }
                    DataType::LargeList(_) => {
                        let l = array.as_list::<i64>();
                        (
                            l.values().clone(),
                            l.value_offsets().iter().map(|o| *o as usize).collect(),
                        )
                    }
                    _ => {
                        let l = array.as_fixed_size_list();
                        let size = l.value_length() as usize;
                        (
                            l.values().clone(),
                            (0..=n).map(|i| (i + l.offset()) * size).collect(),
                        )
                    }
                };
                path.push(None);
                let mut children = self.array(values.as_ref(), path, fmt)?;
                path.pop();
                (0..n)
                    .map(|i| {
                        valid(i).then(|| {
                            Value::Array(
                                children[offsets[i]..offsets[i + 1]]
                                    .iter_mut()
                                    .map(|c| c.take().unwrap_or(Value::Null))
                                    .collect(),
                            )
                        })
                    })
                    .collect()
            }
            DataType::Struct(fields) => {
                let s = array.as_struct();
                let mut children = Vec::with_capacity(fields.len());
                for (f, c) in fields.iter().zip(s.columns()) {
                    path.push(Some(f.name().clone()));
                    let explicit = self.explicit.contains(&key(path));
                    children.push((
                        f.name().clone(),
                        explicit,
                        self.array(c.as_ref(), path, fmt)?,
                    ));
                    path.pop();
                }
                (0..n)
                    .map(|i| {
                        valid(i).then(|| {
                            let mut obj = Map::new();
                            for (name, explicit, values) in &mut children {
                                match values[i].take() {
                                    Some(v) => {
                                        obj.insert(name.clone(), v);
                                    }
                                    None if *explicit => {
                                        obj.insert(name.clone(), Value::Null);
                                    }
                                    None => {}
                                }
                            }
                            Value::Object(obj)
                        })
                    })
                    .collect()
            }
            DataType::Map(_, _) => {
                let m = array.as_map();
                let keys = self.array(m.keys().as_ref(), path, fmt)?;
                path.push(None);
                let mut values = self.array(m.values().as_ref(), path, fmt)?;
                path.pop();
                let offsets = m.value_offsets();
                (0..n)
                    .map(|i| {
                        valid(i).then(|| {
                            let mut obj = Map::new();
                            for j in offsets[i] as usize..offsets[i + 1] as usize {
                                let k = match &keys[j] {
                                    Some(Value::String(s)) => s.clone(),
                                    Some(other) => other.to_string(),
                                    None => continue,
                                };
                                obj.insert(k, values[j].take().unwrap_or(Value::Null));
                            }
                            Value::Object(obj)
                        })
                    })
                    .collect()
            }
            DataType::Dictionary(_, _) => {
                let d = array.as_any_dictionary();
                let values = self.array(d.values().as_ref(), path, fmt)?;
                let keys = d.normalized_keys();
                (0..n)
                    .map(|i| {
                        if valid(i) {
                            values.get(keys[i]).cloned().flatten()
                        } else {
                            None
                        }
                    })
                    .collect()
            }
            other => return Err((0, format!("unsupported Arrow type {other}"))),
        })
    }
}
