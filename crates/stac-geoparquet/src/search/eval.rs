//! Evaluating an [`Expr`] on one item, seen through the [`Row`] trait: a
//! JSON item ([`JsonRow`]) or a row of Arrow columns
//! (`super::arrow_row::ArrowRow`), so the same rules decide a row before
//! its JSON is built and an item after.
//!
//! Comparisons follow pgstac: when one side is a number the other is read
//! as a number; when one is an instant the other is read as a date-time;
//! otherwise both are compared as text (numbers and booleans as their JSON
//! text). Missing fields and JSON `null` are SQL `NULL`: every comparison
//! with them is unknown, and an item matches only when the filter is true.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::expr::{ArithOp, ArrayOp, Expr, Operand, Prop, SpatialOp, TextFn};
use super::spatial::Geometry;

/// A value read from an item or a literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    /// µs since the epoch, UTC.
    Time(i64),
    /// An array or object.
    Json(Cow<'a, Value>),
    List(Vec<Val<'a>>),
}

impl<'a> Val<'a> {
    /// A JSON value, borrowed.
    pub(super) fn from_json(v: &'a Value) -> Self {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(Val::Null, Val::Num),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            other => Val::Json(Cow::Borrowed(other)),
        }
    }

    /// A JSON value, owned.
    pub(super) fn from_owned_json(v: Value) -> Val<'static> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => n.as_f64().map_or(Val::Null, Val::Num),
            Value::String(s) => Val::Str(Cow::Owned(s)),
            other => Val::Json(Cow::Owned(other)),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// pgstac's `to_text`: strings as they are, other values as JSON text.
    fn text(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            Val::Null => return None,
            Val::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Val::Num(n) => Cow::Owned(num_text(*n)),
            Val::Str(s) => Cow::Borrowed(s.as_ref()),
            Val::Time(t) => Cow::Owned(
                chrono::DateTime::from_timestamp_micros(*t)?
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ),
            Val::Json(v) => Cow::Owned(v.to_string()),
            Val::List(items) => Cow::Owned(format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| i.text().map(|t| t.into_owned()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        })
    }

    /// pgstac's `to_float`: numbers, and text that spells one.
    fn num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// An instant: a time, or text that parses as a date-time.
    fn time(&self) -> Option<i64> {
        match self {
            Val::Time(t) => Some(*t),
            Val::Str(s) => stac_meta::parse_datetime(s).map(|d| d.timestamp_micros()),
            _ => None,
        }
    }

    /// The elements of an array as text (pgstac's `to_text_array`); a
    /// scalar is a one-element array.
    fn texts(&self) -> Option<Vec<String>> {
        match self {
            Val::Null => None,
            Val::List(items) => items
                .iter()
                .map(|i| i.text().map(Cow::into_owned))
                .collect(),
            Val::Json(v) => match v.as_ref() {
                Value::Array(a) => Some(
                    a.iter()
                        .map(|e| match e {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect(),
                ),
                other => Some(vec![other.to_string()]),
            },
            other => other.text().map(|t| vec![t.into_owned()]),
        }
    }
}

fn num_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Compare two values with pgstac's coercions; `None` when either is null
/// or they cannot be compared.
pub(crate) fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Time(x), y) => y.time().map(|y| x.cmp(&y)),
        (x, Val::Time(y)) => x.time().map(|x| x.cmp(y)),
        (Val::Num(x), y) => y.num().and_then(|y| x.partial_cmp(&y)),
        (x, Val::Num(y)) => x.num().and_then(|x| x.partial_cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (x, y) => Some(x.text()?.as_ref().cmp(y.text()?.as_ref())),
    }
}

/// What a filter reads from an item.
pub(crate) trait Row {
    /// The value of a field (a missing field is [`Val::Null`]).
    fn value(&self, prop: &Prop) -> Result<Val<'_>, String>;
    /// The item's temporal range in µs: `start_datetime`..`end_datetime`
    /// when both are set, `datetime`..`datetime` otherwise.
    fn range(&self) -> Result<Option<(i64, i64)>, String>;
    /// A geometry-valued field, decoded (`None` when missing or null).
    fn geometry(&self, prop: &Prop) -> Result<Option<Geometry>, String>;
}

/// Three-valued AND.
fn and3(
    parts: impl IntoIterator<Item = Result<Option<bool>, String>>,
) -> Result<Option<bool>, String> {
    let mut unknown = false;
    for p in parts {
        match p? {
            Some(false) => return Ok(Some(false)),
            None => unknown = true,
            Some(true) => {}
        }
    }
    Ok(if unknown { None } else { Some(true) })
}

/// Whether the item matches: `Some(true)`, `Some(false)`, or `None` (unknown,
/// which does not match).
pub(crate) fn eval(expr: &Expr, row: &dyn Row) -> Result<Option<bool>, String> {
    Ok(match expr {
        Expr::Const(b) => Some(*b),
        Expr::And(parts) => return and3(parts.iter().map(|p| eval(p, row))),
        Expr::Or(parts) => {
            let mut unknown = false;
            for p in parts {
                match eval(p, row)? {
                    Some(true) => return Ok(Some(true)),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            if unknown { None } else { Some(false) }
        }
        Expr::Not(e) => eval(e, row)?.map(|b| !b),
        Expr::Cmp(op, a, b) => {
            let (a, b) = (value(a, row)?, value(b, row)?);
            compare(&a, &b).map(|o| op.holds(o))
        }
        Expr::Like(a, p) => {
            let (a, p) = (value(a, row)?, value(p, row)?);
            match (a.text(), p.text()) {
                (Some(a), Some(p)) => Some(like(&a, &p)),
                _ => None,
            }
        }
        Expr::Between(a, lo, hi) => {
            let (a, lo, hi) = (value(a, row)?, value(lo, row)?, value(hi, row)?);
            return and3([
                Ok(compare(&a, &lo).map(|o| o != Ordering::Less)),
                Ok(compare(&a, &hi).map(|o| o != Ordering::Greater)),
            ]);
        }
        Expr::In(a, list) => {
            let a = value(a, row)?;
            if a.is_null() {
                return Ok(None);
            }
            let mut unknown = false;
            for item in list {
                match compare(&a, &value(item, row)?) {
                    Some(Ordering::Equal) => return Ok(Some(true)),
                    None => unknown = true,
                    Some(_) => {}
                }
            }
            if unknown { None } else { Some(false) }
        }
        Expr::IsNull(a) => Some(match a {
            Operand::Prop(Prop::Start | Prop::End) => row.range()?.is_none(),
            Operand::Prop(p @ Prop::Geometry) => row.geometry(p)?.is_none(),
            other => value(other, row)?.is_null(),
        }),
        Expr::Spatial(op, a, b) => {
            let (a, b) = (geometry(a, row)?, geometry(b, row)?);
            match (a, b) {
                (Some(a), Some(b)) => {
                    let hit = a.intersects(&b);
                    Some(match op {
                        SpatialOp::Intersects => hit,
                        SpatialOp::Disjoint => !hit,
                    })
                }
                _ => None,
            }
        }
        Expr::Temporal(op, a, b) => match (range(a, row)?, range(b, row)?) {
            (Some((ll, lh)), Some((rl, rh))) => Some(op.holds(ll, lh, rl, rh)),
            _ => None,
        },
        Expr::Array(op, a, b) => {
            let (a, b) = (value(a, row)?, value(b, row)?);
            match (a.texts(), b.texts()) {
                (Some(a), Some(b)) => Some(match op {
                    ArrayOp::Equals => a == b,
                    ArrayOp::Contains => b.iter().all(|x| a.contains(x)),
                    ArrayOp::ContainedBy => a.iter().all(|x| b.contains(x)),
                    ArrayOp::Overlaps => a.iter().any(|x| b.contains(x)),
                }),
                _ => None,
            }
        }
    })
}

/// The value of an operand on `row`.
pub(crate) fn value<'a>(o: &'a Operand, row: &'a dyn Row) -> Result<Val<'a>, String> {
    Ok(match o {
        Operand::Prop(Prop::Start) => row.range()?.map_or(Val::Null, |(s, _)| Val::Time(s)),
        Operand::Prop(Prop::End) => row.range()?.map_or(Val::Null, |(_, e)| Val::Time(e)),
        Operand::Prop(p) => row.value(p)?,
        Operand::Null => Val::Null,
        Operand::Bool(b) => Val::Bool(*b),
        Operand::Num(n) => Val::Num(*n),
        Operand::Str(s) => Val::Str(Cow::Borrowed(s)),
        Operand::Time(t) | Operand::Date(t) => Val::Time(*t),
        Operand::Interval(..) => {
            return Err("an interval can only be used in a temporal operator (t_*)".into());
        }
        Operand::Geom(_) => {
            return Err("a geometry can only be used in a spatial operator (s_*)".into());
        }
        Operand::List(items) => Val::List(
            items
                .iter()
                .map(|i| value(i, row))
                .collect::<Result<_, _>>()?,
        ),
        Operand::Text(f, inner) => match value(inner, row)?.text() {
            None => Val::Null,
            Some(t) => Val::Str(Cow::Owned(match f {
                TextFn::Upper => t.to_uppercase(),
                TextFn::Lower => t.to_lowercase(),
                TextFn::Accenti => unaccent(&t),
            })),
        },
        Operand::Arith(op, a, b) => match (value(a, row)?.num(), value(b, row)?.num()) {
            (Some(x), Some(y)) => {
                let r = match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                };
                if r.is_finite() {
                    Val::Num(r)
                } else {
                    Val::Null
                }
            }
            _ => Val::Null,
        },
    })
}

fn geometry(o: &Operand, row: &dyn Row) -> Result<Option<Geometry>, String> {
    match o {
        Operand::Geom(g) => Ok(Some((**g).clone())),
        Operand::Prop(p) => row.geometry(p),
        _ => Err("a spatial operator needs a geometry property or literal".into()),
    }
}

/// A temporal operand as a closed range of instants (pgstac 0.10's
/// `temporal_operand`): a field is the instant it holds (`datetime` the
/// start of the item's range, `end_datetime` its end), a date the whole
/// day, an interval itself, a text `a/b` an interval.
fn range(o: &Operand, row: &dyn Row) -> Result<Option<(i64, i64)>, String> {
    match o {
        Operand::Interval(a, b) => Ok(Some((a.unwrap_or(i64::MIN), b.unwrap_or(i64::MAX)))),
        Operand::Date(d) => Ok(Some((*d, d + super::cql2_json::DAY - 1))),
        Operand::Str(s) => super::cql2_json::text_range(s).map(Some),
        other => Ok(value(other, row)?.time().map(|t| (t, t))),
    }
}

/// SQL `LIKE`: `%` matches any run, `_` one character, `\` escapes the next.
pub(crate) fn like(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Lit(char),
    }
    let mut pat = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        pat.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Lit(chars.next().unwrap_or('\\')),
            c => P::Lit(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with backtracking to the last `%`.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(P::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(P::One) => {
                t += 1;
                p += 1;
            }
            Some(P::Lit(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|x| *x == P::Any)
}

/// Accents removed from Latin letters (CQL2 `accenti`).
fn unaccent(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'À'..='Å' => 'A',
            'à'..='å' => 'a',
            'Ç' => 'C',
            'ç' => 'c',
            'È'..='Ë' => 'E',
            'è'..='ë' => 'e',
            'Ì'..='Ï' => 'I',
            'ì'..='ï' => 'i',
            'Ñ' => 'N',
            'ñ' => 'n',
            'Ò'..='Ö' | 'Ø' => 'O',
            'ò'..='ö' | 'ø' => 'o',
            'Ù'..='Ü' => 'U',
            'ù'..='ü' => 'u',
            'Ý' => 'Y',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .collect()
}

/// An item's field by path (object keys only).
fn path<'a>(mut v: &'a Value, keys: &[String]) -> Option<&'a Value> {
    for k in keys {
        v = v.as_object()?.get(k)?;
    }
    Some(v)
}

/// An item as JSON.
pub(crate) struct JsonRow<'a>(pub &'a Value);

impl JsonRow<'_> {
    fn field(&self, prop: &Prop) -> Option<&Value> {
        let item = self.0;
        match prop {
            Prop::Id => item.get("id"),
            Prop::Collection => item.get("collection"),
            Prop::Geometry => item.get("geometry"),
            Prop::Property(p) => item.get("properties").and_then(|props| path(props, p)),
            Prop::Root(p) => path(item, p),
            Prop::Start | Prop::End => None,
        }
    }
}

/// An item's temporal range from its properties (pgstac's `stac_daterange`).
pub(crate) fn item_range(props: Option<&Value>) -> Option<(i64, i64)> {
    let props = props?;
    let time = |k: &str| {
        props
            .get(k)
            .and_then(Value::as_str)
            .and_then(stac_meta::parse_datetime)
            .map(|d| d.timestamp_micros())
    };
    match (time("start_datetime"), time("end_datetime")) {
        (Some(s), Some(e)) => Some((s, e)),
        _ => time("datetime").map(|t| (t, t)),
    }
}

impl Row for JsonRow<'_> {
    fn value(&self, prop: &Prop) -> Result<Val<'_>, String> {
        Ok(self.field(prop).map_or(Val::Null, Val::from_json))
    }

    fn range(&self) -> Result<Option<(i64, i64)>, String> {
        Ok(item_range(self.0.get("properties")))
    }

    fn geometry(&self, prop: &Prop) -> Result<Option<Geometry>, String> {
        match self.field(prop) {
            None | Some(Value::Null) => Ok(None),
            Some(g) => Geometry::from_geojson(g).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::search::cql2_json;

    fn matches(filter: Value, item: &Value) -> Option<bool> {
        eval(&cql2_json::parse(&filter).unwrap(), &JsonRow(item)).unwrap()
    }

    #[test]
    fn sql_three_valued_logic() {
        let item = json!({"id": "a", "properties": {"datetime": "2023-01-01T00:00:00Z", "cc": 5, "n": null}});
        let lt = |p: &str, v: f64| json!({"op": "<", "args": [{"property": p}, v]});
        assert_eq!(matches(lt("cc", 10.0), &item), Some(true));
        assert_eq!(matches(lt("missing", 10.0), &item), None);
        assert_eq!(
            matches(json!({"op": "not", "args": [lt("missing", 10.0)]}), &item),
            None
        );
        assert_eq!(
            matches(
                json!({"op": "or", "args": [lt("missing", 10.0), lt("cc", 10.0)]}),
                &item
            ),
            Some(true)
        );
        assert_eq!(
            matches(
                json!({"op": "and", "args": [lt("missing", 10.0), lt("cc", 1.0)]}),
                &item
            ),
            Some(false)
        );
        assert_eq!(
            matches(json!({"op": "isNull", "args": [{"property": "n"}]}), &item),
            Some(true)
        );
        assert_eq!(
            matches(
                json!({"op": "isNull", "args": [{"property": "missing"}]}),
                &item
            ),
            Some(true)
        );
        assert_eq!(
            matches(json!({"op": "isNull", "args": [{"property": "cc"}]}), &item),
            Some(false)
        );
        assert_eq!(
            matches(
                json!({"op": "in", "args": [{"property": "cc"}, [1, 5]]}),
                &item
            ),
            Some(true)
        );
        assert_eq!(
            matches(
                json!({"op": "between", "args": [{"property": "cc"}, 5, 6]}),
                &item
            ),
            Some(true)
        );
        assert_eq!(
            matches(
                json!({"op": ">", "args": [{"property": "datetime"}, {"timestamp": "2022-12-31T23:59:59Z"}]}),
                &item
            ),
            Some(true)
        );
        assert_eq!(
            matches(
                json!({"op": "=", "args": [{"property": "datetime"}, "2023-01-01T00:00:00+00:00"]}),
                &item
            ),
            Some(true)
        );
    }

    #[test]
    fn like_patterns() {
        assert!(like("S2A_T32", "S2%"));
        assert!(like("S2A_T32", "S2__T32"));
        assert!(!like("S2A_T32", "S2_T32"));
        assert!(like("a%b", "a\\%b"));
        assert!(!like("axb", "a\\%b"));
        assert!(like("abcabd", "%abd"));
        assert!(like("", "%"));
        assert!(!like("abc", ""));
    }

    #[test]
    fn temporal_operands_follow_pgstac() {
        // datetime is the start of the range, end_datetime its end, each an instant.
        let item = json!({"properties": {"datetime": null,
            "start_datetime": "2023-01-01T00:00:00Z", "end_datetime": "2023-01-31T00:00:00Z"}});
        let t = |op: &str, p: &str, iv: Value| {
            matches(json!({"op": op, "args": [{"property": p}, iv]}), &item)
        };
        assert_eq!(
            t(
                "t_intersects",
                "datetime",
                json!({"timestamp": "2023-01-15T00:00:00Z"})
            ),
            Some(false)
        );
        assert_eq!(
            t(
                "t_intersects",
                "datetime",
                json!({"interval": ["2022-12-01T00:00:00Z", "2023-01-02T00:00:00Z"]})
            ),
            Some(true)
        );
        assert_eq!(
            t(
                "t_intersects",
                "end_datetime",
                json!({"timestamp": "2023-01-31T00:00:00Z"})
            ),
            Some(true)
        );
        assert_eq!(
            t("t_intersects", "datetime", json!({"date": "2023-01-01"})),
            Some(true)
        );
        assert_eq!(
            t(
                "t_intersects",
                "end_datetime",
                json!({"interval": ["2023-01-29", "2023-01-30"]})
            ),
            Some(false)
        );
        assert_eq!(
            t(
                "t_intersects",
                "end_datetime",
                json!({"interval": ["2023-01-30", "2023-01-31"]})
            ),
            Some(true)
        );
        assert_eq!(
            t(
                "t_during",
                "datetime",
                json!({"interval": ["2022-12-01T00:00:00Z", ".."]})
            ),
            Some(true)
        );
        assert_eq!(
            t(
                "t_before",
                "datetime",
                json!({"interval": ["2023-02-01T00:00:00Z", ".."]})
            ),
            Some(true)
        );
        assert_eq!(
            t(
                "t_after",
                "datetime",
                json!({"timestamp": "2023-01-15T00:00:00Z"})
            ),
            Some(false)
        );
        let none = json!({"properties": {}});
        assert_eq!(
            matches(
                json!({"op": "t_intersects", "args": [{"property": "datetime"}, {"timestamp": "2023-01-15T00:00:00Z"}]}),
                &none
            ),
            None
        );
    }
}
