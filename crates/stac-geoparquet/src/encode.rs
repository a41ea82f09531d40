//! JSON values → Arrow arrays, driven by the inferred types of [`crate::schema`].

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float64Builder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, StringArray, StructArray,
    TimestampMicrosecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields};

use crate::geometry::{self, GeometryStats};
use crate::json::{Json, Object};
use crate::schema::{Ty, arrow_type, storage, struct_fields};
use crate::timestamps;

/// One column of `values` (one entry per row; `None` = absent or parent null).
pub(crate) fn build(ty: &Ty, time: bool, values: &[Option<&Json<'_>>]) -> Result<ArrayRef, String> {
    Ok(match storage(ty) {
        Ty::Null if time => {
            Arc::new(TimestampMicrosecondArray::from(vec![None; values.len()]).with_timezone("UTC"))
        }
        Ty::Null | Ty::Str => Arc::new(StringArray::from_iter(
            values.iter().map(|v| v.and_then(Json::as_str)),
        )),
        Ty::Json => Arc::new(StringArray::from_iter(
            values.iter().map(|v| v.map(|v| v.to_string())),
        )),
        Ty::Bool => Arc::new(BooleanArray::from_iter(
            values.iter().map(|v| v.and_then(Json::as_bool)),
        )),
        Ty::Int => Arc::new(Int64Array::from_iter(
            values.iter().map(|v| v.and_then(Json::as_i64)),
        )),
        Ty::Num { .. } => Arc::new(Float64Array::from_iter(
            values.iter().map(|v| v.and_then(Json::as_f64)),
        )),
        Ty::Geom { .. } => {
            let mut stats = GeometryStats::default();
            geometry_column(values, &mut stats).map_err(|(_, e)| e)?
        }
        Ty::Time(_) => Arc::new(
            TimestampMicrosecondArray::from_iter(values.iter().map(|v| {
                v.and_then(Json::as_str)
                    .and_then(timestamps::parse)
                    .map(|(micros, _)| micros)
            }))
            .with_timezone("UTC"),
        ),
        Ty::List(elem) => {
            let mut offsets = Vec::with_capacity(values.len() + 1);
            offsets.push(0i32);
            let mut children: Vec<Option<&Json<'_>>> = Vec::new();
            let mut valid = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Some(Json::Array(a)) => {
                        children.extend(a.iter().map(Some));
                        valid.push(true);
                    }
                    _ => valid.push(false),
                }
                let end = i32::try_from(children.len())
                    .map_err(|_| "more than 2^31 list elements in one row group".to_string())?;
                offsets.push(end);
            }
            let child = build(elem, false, &children)?;
            let field = Arc::new(Field::new("item", arrow_type(elem, false), true));
            Arc::new(
                ListArray::try_new(
                    field,
                    OffsetBuffer::new(offsets.into()),
                    child,
                    nulls(valid),
                )
                .map_err(|e| e.to_string())?,
            )
        }
        Ty::Struct(s) => {
            let objects: Vec<Option<&Object<'_>>> =
                values.iter().map(|v| v.and_then(Json::as_object)).collect();
            // Gather every field's column in one pass over each object. Keys
            // usually come in the same order as the fields, so try the next
            // position first and hash only on a miss.
            let mut columns: Vec<Vec<Option<&Json<'_>>>> = (0..s.fields.len())
                .map(|_| Vec::with_capacity(values.len()))
                .collect();
            let mut slots: Vec<Option<&Json<'_>>> = vec![None; s.fields.len()];
            for o in &objects {
                if let Some(o) = o {
                    let mut guess = 0;
                    for (k, v) in o.iter() {
                        if let Some(i) = s.position(k, guess) {
                            slots[i] = Some(v);
                            guess = i + 1;
                        }
                    }
                }
                for (slot, column) in slots.iter_mut().zip(&mut columns) {
                    column.push(slot.take());
                }
            }
            let mut arrays = Vec::with_capacity(s.fields.len());
            for (f, column) in s.fields.iter().zip(&columns) {
                arrays.push(build(f.nested_ty(), f.time, column)?);
            }
            let valid = objects.iter().map(Option::is_some).collect();
            Arc::new(
                StructArray::try_new(struct_fields(s), arrays, nulls(valid))
                    .map_err(|e| e.to_string())?,
            )
        }
    })
}

fn nulls(valid: Vec<bool>) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

/// The WKB `geometry` column; `Err((row, reason))` names the bad row.
pub(crate) fn geometry_column(
    values: &[Option<&Json<'_>>],
    stats: &mut GeometryStats,
) -> Result<ArrayRef, (usize, String)> {
    let mut b = BinaryBuilder::with_capacity(values.len(), values.len() * 128);
    let mut buf = Vec::with_capacity(256);
    for (row, v) in values.iter().enumerate() {
        match v {
            None | Some(Json::Null) => b.append_null(),
            Some(g) => {
                buf.clear();
                geometry::to_wkb(g, &mut buf, stats).map_err(|e| (row, e))?;
                b.append_value(&buf);
            }
        }
    }
    Ok(Arc::new(b.finish()))
}

/// Names of the bbox struct's fields.
pub(crate) fn bbox_names(three_d: bool) -> &'static [&'static str] {
    if three_d {
        &["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"]
    } else {
        &["xmin", "ymin", "xmax", "ymax"]
    }
}

/// The fields of the bbox struct.
pub(crate) fn bbox_fields(three_d: bool) -> Fields {
    bbox_names(three_d)
        .iter()
        .map(|n| Field::new(*n, DataType::Float64, true))
        .collect()
}

/// The bbox struct column (2-D boxes have null z members in a 3-D column).
pub(crate) fn bbox_column(values: &[Option<&Json<'_>>], three_d: bool) -> ArrayRef {
    let n = if three_d { 6 } else { 4 };
    let mut builders: Vec<Float64Builder> = (0..n)
        .map(|_| Float64Builder::with_capacity(values.len()))
        .collect();
    let mut valid = Vec::with_capacity(values.len());
    for v in values {
        let nums: Option<Vec<f64>> = v
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_f64).collect());
        match nums {
            Some(b) if b.len() == 4 || b.len() == 6 => {
                valid.push(true);
                let full: Vec<Option<f64>> = match (b.len(), three_d) {
                    (4, true) => vec![Some(b[0]), Some(b[1]), None, Some(b[2]), Some(b[3]), None],
                    _ => b.iter().map(|x| Some(*x)).collect(),
                };
                for (builder, x) in builders.iter_mut().zip(full) {
                    builder.append_option(x);
                }
            }
            _ => {
                valid.push(false);
                for builder in &mut builders {
                    builder.append_null();
                }
            }
        }
    }
    let fields = bbox_fields(three_d);
    let arrays: Vec<ArrayRef> = builders
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    Arc::new(StructArray::new(fields, arrays, nulls(valid)))
}
