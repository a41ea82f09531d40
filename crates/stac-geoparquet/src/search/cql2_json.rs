//! CQL2 JSON (and CQL2 text, once [`super::cql2_text`] turned it into
//! JSON) to an [`Expr`].
//!
//! Supported: `and`, `or`, `not`; comparisons (`=`, `<>`, `<`, `<=`, `>`,
//! `>=`, and pgstac's `eq`/`lt`/... spellings); `like`; `between`; `in`;
//! `isNull`; `s_intersects`/`s_disjoint` with GeoJSON or `{"bbox": [...]}`;
//! every `t_*` operator (and `anyinteracts`) with `{"timestamp": ...}`,
//! `{"date": ...}` and `{"interval": [a, b]}`; `a_equals`, `a_contains`,
//! `a_containedBy`, `a_overlaps`; the functions `casei`, `accenti`,
//! `upper`, `lower` and the arithmetic operators. Anything else is an error
//! that names it, never a silently different filter.

use serde_json::Value;

use super::expr::{ArithOp, ArrayOp, CmpOp, Expr, Operand, Prop, SpatialOp, TemporalOp, TextFn};
use super::spatial::Geometry;

/// Deepest nesting of a filter accepted (a hostile filter cannot exhaust the stack).
pub(crate) const MAX_DEPTH: usize = 64;

/// A CQL2 JSON boolean expression.
pub(crate) fn parse(v: &Value) -> Result<Expr, String> {
    boolean(v, 0)
}

fn deeper(depth: usize) -> Result<usize, String> {
    if depth >= MAX_DEPTH {
        Err(format!(
            "the filter is nested deeper than {MAX_DEPTH} levels"
        ))
    } else {
        Ok(depth + 1)
    }
}

fn args(v: &Value) -> Result<&[Value], String> {
    match v.get("args") {
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("\"args\" of {v} is not an array")),
        None => Err(format!("{v} has no \"args\"")),
    }
}

fn arity<'a>(op: &str, a: &'a [Value], n: usize) -> Result<&'a [Value], String> {
    if a.len() == n {
        Ok(a)
    } else {
        Err(format!("{op} takes {n} arguments, got {}", a.len()))
    }
}

fn boolean(v: &Value, depth: usize) -> Result<Expr, String> {
    let depth = deeper(depth)?;
    if let Value::Bool(b) = v {
        return Ok(Expr::Const(*b));
    }
    if let Some(inner) = v.get("filter") {
        return boolean(inner, depth);
    }
    let Some(op) = v.get("op").and_then(Value::as_str) else {
        return Err(format!("{v} is not a boolean expression"));
    };
    let lower = op.to_ascii_lowercase();
    let a = args(v)?;
    let operand = |x: &Value| self::operand(x, depth);
    Ok(match lower.as_str() {
        "and" | "or" => {
            if a.is_empty() {
                return Err(format!("{op} needs arguments"));
            }
            let parts = a
                .iter()
                .map(|x| boolean(x, depth))
                .collect::<Result<Vec<_>, _>>()?;
            if lower == "and" {
                Expr::And(parts)
            } else {
                Expr::Or(parts)
            }
        }
        "not" => Expr::Not(Box::new(boolean(&arity(op, a, 1)?[0], depth)?)),
        "=" | "eq" | "<>" | "!=" | "ne" | "neq" | "<" | "lt" | "<=" | "lte" | "le" | ">" | "gt"
        | ">=" | "gte" | "ge" => {
            let cmp = match lower.as_str() {
                "=" | "eq" => CmpOp::Eq,
                "<>" | "!=" | "ne" | "neq" => CmpOp::Ne,
                "<" | "lt" => CmpOp::Lt,
                "<=" | "lte" | "le" => CmpOp::Le,
                ">" | "gt" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let a = arity(op, a, 2)?;
            Expr::Cmp(cmp, operand(&a[0])?, operand(&a[1])?)
        }
        "like" | "ilike" => {
            let a = arity(op, a, 2)?;
            let (x, p) = (operand(&a[0])?, operand(&a[1])?);
            if lower == "ilike" {
                Expr::Like(
                    Operand::Text(TextFn::Upper, Box::new(x)),
                    Operand::Text(TextFn::Upper, Box::new(p)),
                )
            } else {
                Expr::Like(x, p)
            }
        }
        "between" => match a {
            [x, lo, hi] => Expr::Between(operand(x)?, operand(lo)?, operand(hi)?),
            // The CQL2 draft form: [value, [low, high]].
            [x, Value::Array(range)] if range.len() == 2 => {
                Expr::Between(operand(x)?, operand(&range[0])?, operand(&range[1])?)
            }
            _ => return Err(format!("between takes 3 arguments, got {}", a.len())),
        },
        "in" => {
            let a = arity(op, a, 2)?;
            let Value::Array(list) = &a[1] else {
                return Err("the second argument of in must be a list".into());
            };
            Expr::In(
                operand(&a[0])?,
                list.iter().map(operand).collect::<Result<_, _>>()?,
            )
        }
        "isnull" => Expr::IsNull(operand(&arity(op, a, 1)?[0])?),
        "s_intersects" | "intersects" | "s_disjoint" => {
            let a = arity(op, a, 2)?;
            let sop = if lower == "s_disjoint" {
                SpatialOp::Disjoint
            } else {
                SpatialOp::Intersects
            };
            Expr::Spatial(sop, operand(&a[0])?, operand(&a[1])?)
        }
        "s_equals" | "s_touches" | "s_within" | "s_overlaps" | "s_crosses" | "s_contains" => {
            return Err(format!(
                "spatial operator {op} is not supported in catalog-file search (s_intersects and s_disjoint are)"
            ));
        }
        "a_equals" | "a_contains" | "a_containedby" | "a_contained_by" | "a_overlaps" => {
            let a = arity(op, a, 2)?;
            let aop = match lower.as_str() {
                "a_equals" => ArrayOp::Equals,
                "a_contains" => ArrayOp::Contains,
                "a_overlaps" => ArrayOp::Overlaps,
                _ => ArrayOp::ContainedBy,
            };
            Expr::Array(aop, operand(&a[0])?, operand(&a[1])?)
        }
        other => match TemporalOp::parse(other) {
            Some(top) => {
                let a = arity(op, a, 2)?;
                Expr::Temporal(top, operand(&a[0])?, operand(&a[1])?)
            }
            None => return Err(format!("unsupported CQL2 operator {op:?}")),
        },
    })
}

/// An instant (`2023-01-01T00:00:00Z`, or a date: its midnight) as µs since the epoch.
pub(crate) fn instant(text: &str) -> Result<i64, String> {
    stac_meta::parse_datetime(text)
        .map(|d| d.timestamp_micros())
        .ok_or_else(|| format!("{text:?} is not a date-time"))
}

/// µs in a day.
pub(crate) const DAY: i64 = 86_400_000_000;

/// A bare `YYYY-MM-DD`.
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The closed range a temporal operand spells (pgstac's `temporal_operand`):
/// a bare date is the whole day, anything else the instant it names.
fn instant_range(text: &str) -> Result<(i64, i64), String> {
    let t = instant(text)?;
    Ok(if is_date(text) {
        (t, t + DAY - 1)
    } else {
        (t, t)
    })
}

/// A temporal operand given as text: `a/b` an interval, a bare date the
/// day, a date-time the instant.
pub(crate) fn text_range(text: &str) -> Result<(i64, i64), String> {
    match text.split_once('/') {
        Some((a, b)) => {
            let lo = interval_end(&Value::String(a.to_owned()))?.map_or(i64::MIN, |r| r.0);
            let hi = interval_end(&Value::String(b.to_owned()))?.map_or(i64::MAX, |r| r.1);
            Ok((lo, hi))
        }
        None => instant_range(text),
    }
}

/// One end of an interval: `(low, high)` of what it names; `None` when open.
fn interval_end(v: &Value) -> Result<Option<(i64, i64)>, String> {
    match v {
        Value::String(s) if s == ".." || s.is_empty() => Ok(None),
        Value::String(s) => instant_range(s).map(Some),
        Value::Object(o) => match (o.get("timestamp"), o.get("date")) {
            (Some(Value::String(s)), _) => instant(s).map(|t| Some((t, t))),
            (_, Some(Value::String(s))) => instant(s).map(|t| Some((t, t + DAY - 1))),
            _ => Err(format!("interval end {v} is not a date-time")),
        },
        _ => Err(format!("interval end {v} is not a date-time")),
    }
}

fn operand(v: &Value, depth: usize) -> Result<Operand, String> {
    let depth = deeper(depth)?;
    Ok(match v {
        Value::Null => Operand::Null,
        Value::Bool(b) => Operand::Bool(*b),
        Value::Number(n) => Operand::Num(n.as_f64().ok_or("number out of range")?),
        Value::String(s) => Operand::Str(s.clone()),
        Value::Array(a) => Operand::List(
            a.iter()
                .map(|x| operand(x, depth))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            if let Some(p) = o.get("property") {
                let name = p.as_str().ok_or("\"property\" must be a string")?;
                return Ok(Operand::Prop(Prop::parse(name)));
            }
            if let Some(t) = o.get("timestamp") {
                let text = t.as_str().ok_or("a timestamp must be a string")?;
                return Ok(Operand::Time(instant(text)?));
            }
            if let Some(t) = o.get("date") {
                let text = t.as_str().ok_or("a date must be a string")?;
                return Ok(Operand::Date(instant(text)?));
            }
            if let Some(i) = o.get("interval") {
                return match i.as_array().map(Vec::as_slice) {
                    Some([a, b]) => {
                        let (lo, hi) = (interval_end(a)?, interval_end(b)?);
                        let (lo, hi) = (lo.map(|r| r.0), hi.map(|r| r.1));
                        if let (Some(l), Some(h)) = (lo, hi) {
                            if l > h {
                                return Err(format!("interval {i} ends before it starts"));
                            }
                        }
                        Ok(Operand::Interval(lo, hi))
                    }
                    _ => Err("an interval has two ends".into()),
                };
            }
            if let Some(b) = o.get("bbox") {
                let nums: Option<Vec<f64>> = b
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_f64).collect());
                let nums = nums.ok_or("bbox must be an array of numbers")?;
                return Ok(Operand::Geom(Box::new(Geometry::from_bbox(&nums)?)));
            }
            if o.contains_key("type")
                && (o.contains_key("coordinates") || o.contains_key("geometries"))
            {
                return Ok(Operand::Geom(Box::new(Geometry::from_geojson(v)?)));
            }
            if let Some(op) = o.get("op").and_then(Value::as_str) {
                let a = args(v)?;
                let lower = op.to_ascii_lowercase();
                let text = match lower.as_str() {
                    "casei" | "upper" => Some(TextFn::Upper),
                    "lower" => Some(TextFn::Lower),
                    "accenti" => Some(TextFn::Accenti),
                    _ => None,
                };
                if let Some(f) = text {
                    return Ok(Operand::Text(
                        f,
                        Box::new(operand(&arity(op, a, 1)?[0], depth)?),
                    ));
                }
                let arith = match lower.as_str() {
                    "+" => Some(ArithOp::Add),
                    "-" => Some(ArithOp::Sub),
                    "*" => Some(ArithOp::Mul),
                    "/" => Some(ArithOp::Div),
                    _ => None,
                };
                if let Some(f) = arith {
                    let a = arity(op, a, 2)?;
                    return Ok(Operand::Arith(
                        f,
                        Box::new(operand(&a[0], depth)?),
                        Box::new(operand(&a[1], depth)?),
                    ));
                }
                return Err(format!("{op:?} cannot be used as a value"));
            }
            return Err(format!("{v} is not a CQL2 value"));
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_the_operators() {
        let e = parse(&json!({"op": "and", "args": [
            {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
            {"op": "in", "args": [{"property": "collection"}, ["a", "b"]]},
            {"op": "t_intersects", "args": [{"property": "datetime"}, {"interval": ["2023-01-01T00:00:00Z", ".."]}]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [0, 0, 1, 1]}]},
            {"op": "not", "args": [{"op": "isNull", "args": [{"property": "platform"}]}]},
            {"op": "between", "args": [{"property": "x"}, 1, 2]},
            {"op": "like", "args": [{"op": "casei", "args": [{"property": "id"}]}, "A%"]}
        ]}))
        .unwrap();
        let Expr::And(parts) = e else { panic!() };
        assert_eq!(parts.len(), 7);
        assert_eq!(
            parts[0],
            Expr::Cmp(
                CmpOp::Lt,
                Operand::Prop(Prop::Property(vec!["eo:cloud_cover".into()])),
                Operand::Num(10.0)
            )
        );
        assert!(matches!(
            &parts[2],
            Expr::Temporal(
                TemporalOp::Intersects,
                Operand::Prop(Prop::Start),
                Operand::Interval(Some(_), None)
            )
        ));
    }

    #[test]
    fn unsupported_and_hostile_filters_are_errors() {
        for bad in [
            json!({"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [0, 0, 1, 1]}]}),
            json!({"op": "frobnicate", "args": []}),
            json!({"op": "=", "args": [1]}),
            json!({"op": "and"}),
            json!("text"),
            json!({"op": "=", "args": [{"property": 3}, 1]}),
            json!({"op": "=", "args": [{"timestamp": "yesterday"}, 1]}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        let mut deep = json!(true);
        for _ in 0..200 {
            deep = json!({"op": "not", "args": [deep]});
        }
        assert!(parse(&deep).unwrap_err().contains("nested deeper"));
    }
}
