//! [`SearchParams`] to one [`Expr`]: the conjunction of `ids`,
//! `collections`, `bbox` / `intersects`, `datetime`, `query` and `filter`,
//! with pgstac's meaning for each.

use serde_json::Value;
use stac_meta::search::{Filter, Interval, SearchParams};

use super::cql2_json;
use super::cql2_text;
use super::expr::{CmpOp, Expr, Operand, Prop, SpatialOp};
use super::spatial::Geometry;

/// A parameter that cannot be evaluated: (parameter, reason).
pub(crate) type ParamError = (&'static str, String);

/// The filter the parameters describe.
pub(crate) fn compile(p: &SearchParams) -> Result<Expr, ParamError> {
    p.validate().map_err(|e| match e {
        stac_meta::MetaError::InvalidParameter { parameter, reason } => (parameter, reason),
        other => ("search", other.to_string()),
    })?;
    if p.query.is_some() && p.filter.is_some() {
        return Err((
            "query",
            "use either query or filter, not both (as pgstac)".into(),
        ));
    }
    let mut parts = Vec::new();
    if !p.ids.is_empty() {
        parts.push(Expr::In(
            Operand::Prop(Prop::Id),
            p.ids.iter().cloned().map(Operand::Str).collect(),
        ));
    }
    if !p.collections.is_empty() {
        parts.push(Expr::In(
            Operand::Prop(Prop::Collection),
            p.collections.iter().cloned().map(Operand::Str).collect(),
        ));
    }
    if let Some(b) = &p.bbox {
        let g = Geometry::from_bbox(b).map_err(|e| ("bbox", e))?;
        parts.push(intersects(g));
    }
    if let Some(g) = &p.intersects {
        let g = Geometry::from_geojson(g).map_err(|e| ("intersects", e))?;
        parts.push(intersects(g));
    }
    if let Some(d) = &p.datetime {
        // The item's range meets the interval (pgstac: `datetime <= end AND
        // end_datetime >= start`).
        let i = Interval::parse(d).map_err(|e| ("datetime", e.to_string()))?;
        if let Some(end) = i.end {
            parts.push(Expr::Cmp(
                CmpOp::Le,
                Operand::Prop(Prop::Start),
                Operand::Time(end.timestamp_micros()),
            ));
        }
        if let Some(start) = i.start {
            parts.push(Expr::Cmp(
                CmpOp::Ge,
                Operand::Prop(Prop::End),
                Operand::Time(start.timestamp_micros()),
            ));
        }
    }
    if let Some(q) = &p.query {
        parts.push(query_extension(q).map_err(|e| ("query", e))?);
    }
    if let Some(f) = &p.filter {
        let json = match f {
            Filter::Json(v) => v.clone(),
            Filter::Text(t) => cql2_text::to_json(t).map_err(|e| ("filter", e))?,
        };
        parts.push(cql2_json::parse(&json).map_err(|e| ("filter", e))?);
    }
    Ok(Expr::and(parts))
}

fn intersects(g: Geometry) -> Expr {
    Expr::Spatial(
        SpatialOp::Intersects,
        Operand::Prop(Prop::Geometry),
        Operand::Geom(Box::new(g)),
    )
}

/// The query extension (`{"eo:cloud_cover": {"lt": 10}}`): `eq`, `neq`,
/// `lt`, `lte`, `gt`, `gte`, `startsWith`, `endsWith`, `contains`, `in`; a
/// bare value means `eq`.
fn query_extension(q: &Value) -> Result<Expr, String> {
    let q = q.as_object().ok_or("query must be an object")?;
    let mut parts = Vec::new();
    for (name, ops) in q {
        let prop = || Operand::Prop(Prop::parse(name));
        let Some(ops) = ops.as_object() else {
            parts.push(Expr::Cmp(CmpOp::Eq, prop(), literal(ops)?));
            continue;
        };
        for (op, v) in ops {
            let text = |v: &Value| -> Result<String, String> {
                v.as_str()
                    .map(|s| {
                        s.replace('\\', "\\\\")
                            .replace('%', "\\%")
                            .replace('_', "\\_")
                    })
                    .ok_or_else(|| format!("{op} needs a string"))
            };
            parts.push(match op.as_str() {
                "eq" => Expr::Cmp(CmpOp::Eq, prop(), literal(v)?),
                "neq" => Expr::Cmp(CmpOp::Ne, prop(), literal(v)?),
                "lt" => Expr::Cmp(CmpOp::Lt, prop(), literal(v)?),
                "lte" => Expr::Cmp(CmpOp::Le, prop(), literal(v)?),
                "gt" => Expr::Cmp(CmpOp::Gt, prop(), literal(v)?),
                "gte" => Expr::Cmp(CmpOp::Ge, prop(), literal(v)?),
                "startsWith" => Expr::Like(prop(), Operand::Str(format!("{}%", text(v)?))),
                "endsWith" => Expr::Like(prop(), Operand::Str(format!("%{}", text(v)?))),
                "contains" => Expr::Like(prop(), Operand::Str(format!("%{}%", text(v)?))),
                "in" => {
                    let list = v.as_array().ok_or("in needs a list")?;
                    Expr::In(prop(), list.iter().map(literal).collect::<Result<_, _>>()?)
                }
                other => return Err(format!("unknown query operator {other:?} on {name:?}")),
            });
        }
    }
    Ok(Expr::and(parts))
}

fn literal(v: &Value) -> Result<Operand, String> {
    Ok(match v {
        Value::Null => Operand::Null,
        Value::Bool(b) => Operand::Bool(*b),
        Value::Number(n) => Operand::Num(n.as_f64().ok_or("number out of range")?),
        Value::String(s) => Operand::Str(s.clone()),
        other => return Err(format!("{other} is not a scalar")),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::search::eval::{JsonRow, eval};

    #[test]
    fn parameters_combine() {
        let p = SearchParams::new()
            .with_collections(["a"])
            .with_bbox([0.0, 0.0, 1.0, 1.0])
            .with_datetime("2023-01")
            .with_query(json!({"cc": {"lt": 10}, "platform": "s2a"}));
        let e = compile(&p).unwrap();
        let item = json!({"id": "x", "collection": "a",
            "geometry": {"type": "Point", "coordinates": [0.5, 0.5]},
            "properties": {"datetime": "2023-01-31T12:00:00Z", "cc": 3, "platform": "s2a"}});
        assert_eq!(eval(&e, &JsonRow(&item)).unwrap(), Some(true));
        let mut late = item.clone();
        late["properties"]["datetime"] = json!("2023-02-01T00:00:00Z");
        assert_eq!(eval(&e, &JsonRow(&late)).unwrap(), Some(false));
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let p = SearchParams::new().with_datetime("yesterday");
        assert_eq!(compile(&p).unwrap_err().0, "datetime");
        let p = SearchParams::new().with_filter(Filter::Text("a = ".into()));
        assert_eq!(compile(&p).unwrap_err().0, "filter");
        let p = SearchParams::new().with_query(json!({"a": {"near": 1}}));
        assert_eq!(compile(&p).unwrap_err().0, "query");
        let p = SearchParams::new().with_intersects(json!({"type": "Polygon", "coordinates": 3}));
        assert_eq!(compile(&p).unwrap_err().0, "intersects");
    }
}
