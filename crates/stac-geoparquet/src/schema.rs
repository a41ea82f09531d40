//! Schema inference unified over every item: a small type lattice that
//! widens as items arrive, then becomes an Arrow schema.
//!
//! Rules: a key missing from some items becomes a nullable column; integers
//! mixed with floats become float64 (integers restored as integers), unless
//! the same field also has integral floats (`1.0`); a field whose JSON types
//! conflict (number vs string, `1` vs `1.0`, object vs scalar, integers
//! beyond `i64`, or beyond 2^53 next to floats) becomes JSON text and is listed in the
//! file metadata; an object that is always empty (`"assets": {}`) becomes
//! JSON text too, because Parquet cannot store empty structs.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};

use crate::json::{Json, Object};

use crate::timestamps::{self, FormatMask};

/// The field name whose GeoJSON values are stored as WKB, in properties and
/// in assets (the stac-geoparquet specification).
pub(crate) const GEOMETRY_KEY: &str = "proj:geometry";

/// Largest integer magnitude a float64 holds exactly.
const MAX_EXACT: u64 = 1 << 53;

/// One segment of a column path: an object key, or `None` for "element of a list".
pub(crate) type Path = Vec<Option<String>>;

/// The inferred type of one JSON field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    /// Only nulls seen so far.
    Null,
    /// true / false.
    Bool,
    /// Integers that fit `i64`.
    Int,
    /// Numbers written with a fraction or exponent, possibly mixed with
    /// integers: stored as float64. `ints`: integral
    /// values were written as integers (restore them so); `integral_floats`:
    /// some were written as `1.0`. Both at once cannot be restored: JSON text.
    Num {
        /// Some integer (all within ±2^53) was seen.
        ints: bool,
        /// Some float with no fractional part was seen.
        integral_floats: bool,
    },
    /// Strings.
    Str,
    /// RFC 3339 strings of a datetime property, with compatible spellings.
    Time(FormatMask),
    /// GeoJSON geometries of a `proj:geometry` field, stored as WKB (as the
    /// stac-geoparquet specification and its reference library do).
    /// `ints`: integral coordinates were written as integers; `floats`: some
    /// as `1.0`. Both at once cannot be restored: JSON text.
    Geom {
        /// Some integral coordinate was written as an integer.
        ints: bool,
        /// Some integral coordinate was written as a float.
        floats: bool,
    },
    /// Arrays.
    List(Box<Ty>),
    /// Objects.
    Struct(StructTy),
    /// Conflicting types: stored as JSON text.
    Json,
}

/// Objects with more entries than this are looked up through a hash set
/// (see [`StructTy::mark_absent`]); smaller ones by a scan of their entries.
const SMALL_OBJECT: usize = 32;

/// Fields of an object type, in first-seen order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StructTy {
    pub fields: Vec<FieldTy>,
    index: HashMap<String, usize>,
    objects: u64,
}

/// One field of an object type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldTy {
    pub name: String,
    pub ty: Ty,
    /// Some object lacked this key.
    pub absent: bool,
    /// Some object had this key set to `null`.
    pub null: bool,
    /// Strings here are datetimes (top-level datetime properties only).
    pub time: bool,
}

impl FieldTy {
    /// Whether a null cell means an explicit JSON `null` (never absent).
    pub(crate) fn explicit_null(&self) -> bool {
        self.null && !self.absent
    }

    /// How a nested field is stored: a field that is `null` in some objects
    /// and missing from others is kept as JSON text (`"null"` vs a null
    /// cell), so that both come back as they were.
    pub(crate) fn nested_ty(&self) -> &Ty {
        if self.null && self.absent {
            &Ty::Json
        } else {
            &self.ty
        }
    }
}

impl Ty {
    /// Widen this type so that it also holds `v`.
    pub(crate) fn merge(&mut self, v: &Json<'_>, time: bool) {
        match (&mut *self, v) {
            (_, Json::Null) | (Ty::Json, _) => {}
            (Ty::Null, Json::Bool(_)) => *self = Ty::Bool,
            (Ty::Null, Json::Number(n)) => {
                *self = if n.is_i64() {
                    Ty::Int
                } else if n.is_f64() {
                    Ty::Num {
                        ints: false,
                        integral_floats: n.as_f64().is_some_and(|f| f.fract() == 0.0),
                    }
                } else {
                    Ty::Json
                }
            }
            (Ty::Null, Json::String(s)) => {
                *self = if time {
                    timestamps::parse(s).map_or(Ty::Str, |(_, m)| Ty::Time(m))
                } else {
                    Ty::Str
                }
            }
            (Ty::Null, Json::Array(a)) => {
                let mut elem = Ty::Null;
                for e in a {
                    elem.merge(e, false);
                }
                *self = Ty::List(Box::new(elem));
            }
            (Ty::Null, Json::Object(o)) => {
                let mut s = StructTy::default();
                s.merge_object(o, false);
                *self = Ty::Struct(s);
            }
            (Ty::Bool, Json::Bool(_)) | (Ty::Str, Json::String(_)) => {}
            (Ty::Int, Json::Number(n)) if n.is_i64() => {}
            // Floats, or integers meeting floats: float64, with a note on
            // how to restore integers. Mixed `1` and `1.0` cannot be: JSON text.
            (Ty::Int | Ty::Num { .. }, Json::Number(n))
                if n.is_f64() || n.as_i64().is_some_and(|i| i.unsigned_abs() <= MAX_EXACT) =>
            {
                let (mut ints, mut integral_floats) = match *self {
                    Ty::Num {
                        ints,
                        integral_floats,
                    } => (ints, integral_floats),
                    _ => (true, false),
                };
                if n.is_i64() {
                    ints = true;
                } else if n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                    integral_floats = true;
                }
                *self = if ints && integral_floats {
                    Ty::Json
                } else {
                    Ty::Num {
                        ints,
                        integral_floats,
                    }
                };
            }
            (Ty::Time(mask), Json::String(s)) => match timestamps::parse(s) {
                Some((_, m)) => *mask &= m,
                None => *self = Ty::Str,
            },
            (Ty::List(elem), Json::Array(a)) => {
                for e in a {
                    elem.merge(e, false);
                }
            }
            (Ty::Struct(s), Json::Object(o)) => s.merge_object(o, false),
            _ => *self = Ty::Json,
        }
    }

    /// Widen this `proj:geometry` type so that it also holds `v`: WKB when
    /// every value is a geometry WKB can hold, JSON text otherwise.
    pub(crate) fn merge_geometry(&mut self, v: &Json<'_>) {
        let (mut ints, mut floats) = match self {
            Ty::Json => return,
            _ if v.is_null() => return,
            Ty::Null => (false, false),
            Ty::Geom { ints, floats } => (*ints, *floats),
            _ => {
                *self = Ty::Json;
                return;
            }
        };
        let mut stats = crate::geometry::GeometryStats::default();
        if crate::geometry::to_wkb(v, &mut Vec::new(), &mut stats).is_err() {
            *self = Ty::Json;
            return;
        }
        ints |= stats.integral_as_int;
        floats |= stats.integral_as_float;
        *self = if ints && floats {
            Ty::Json
        } else {
            Ty::Geom { ints, floats }
        };
    }

    /// Whether this is stored as JSON text.
    #[cfg(test)]
    pub(crate) fn is_json(&self) -> bool {
        matches!(self, Ty::Json)
    }
}

impl StructTy {
    /// Widen with one object. `time_keys`: strings of datetime-named keys are timestamps.
    pub(crate) fn merge_object(&mut self, o: &Object<'_>, time_keys: bool) {
        self.merge_object_except(o, time_keys, &[]);
    }

    /// [`Self::merge_object`], ignoring the keys in `skip`.
    pub(crate) fn merge_object_except(&mut self, o: &Object<'_>, time_keys: bool, skip: &[&str]) {
        let mut matched = 0;
        let mut guess = 0;
        for (k, v) in o.iter() {
            if skip.contains(&k) {
                continue;
            }
            // Keys usually arrive in field order: try the next field first.
            let hit = self.fields.get(guess).is_some_and(|f| f.name == k);
            let i = match if hit { Some(&guess) } else { self.index.get(k) } {
                Some(&i) => {
                    matched += 1;
                    guess = i + 1;
                    i
                }
                None => {
                    let time = time_keys && timestamps::TIMESTAMP_KEYS.contains(&k);
                    self.fields.push(FieldTy {
                        name: k.to_string(),
                        ty: Ty::Null,
                        absent: self.objects > 0,
                        null: false,
                        time,
                    });
                    self.index.insert(k.to_string(), self.fields.len() - 1);
                    matched += 1;
                    guess = self.fields.len();
                    self.fields.len() - 1
                }
            };
            let f = &mut self.fields[i];
            if v.is_null() {
                f.null = true;
            } else if f.name == GEOMETRY_KEY {
                f.ty.merge_geometry(v);
            } else {
                let time = f.time;
                f.ty.merge(v, time);
            }
        }
        if matched < self.fields.len() {
            self.mark_absent(o);
        }
        self.objects += 1;
    }

    /// Mark the fields `o` lacks as absent. An object's key lookup is a
    /// linear scan, so a large object (a hostile item can carry any number
    /// of keys) is looked up through a set of its keys instead: the cost
    /// stays linear in fields plus keys.
    fn mark_absent(&mut self, o: &Object<'_>) {
        if o.len() <= SMALL_OBJECT {
            for f in &mut self.fields {
                if !o.contains_key(&f.name) {
                    f.absent = true;
                }
            }
            return;
        }
        let keys: std::collections::HashSet<&str> = o.keys().collect();
        for f in &mut self.fields {
            if !keys.contains(f.name.as_str()) {
                f.absent = true;
            }
        }
    }

    /// Index of the field called `key`, trying position `guess` first.
    pub(crate) fn position(&self, key: &str, guess: usize) -> Option<usize> {
        match self.fields.get(guess) {
            Some(f) if f.name == key => Some(guess),
            _ => self.index.get(key).copied(),
        }
    }

    /// The field called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&FieldTy> {
        self.index.get(name).map(|&i| &self.fields[i])
    }

    /// Mark every field absent (an object without this struct was seen).
    pub(crate) fn note_missing(&mut self) {
        for f in &mut self.fields {
            f.absent = true;
        }
        self.objects += 1;
    }

    /// Insert or replace a field (used for special root columns).
    pub(crate) fn push_field(&mut self, f: FieldTy) {
        match self.index.get(&f.name) {
            Some(&i) => self.fields[i] = f,
            None => {
                self.index.insert(f.name.clone(), self.fields.len());
                self.fields.push(f);
            }
        }
    }
}

/// Final storage type of an inferred field: `Json` for empty structs.
pub(crate) fn storage(ty: &Ty) -> &Ty {
    match ty {
        Ty::Struct(s) if s.fields.is_empty() => &Ty::Json,
        other => other,
    }
}

/// The Arrow type of an inferred type (`time`: a null-only datetime column
/// is still a timestamp).
pub(crate) fn arrow_type(ty: &Ty, time: bool) -> DataType {
    match storage(ty) {
        Ty::Null if time => timestamp_type(),
        Ty::Null | Ty::Str | Ty::Json => DataType::Utf8,
        Ty::Bool => DataType::Boolean,
        Ty::Int => DataType::Int64,
        Ty::Num { .. } => DataType::Float64,
        Ty::Geom { .. } => DataType::Binary,
        Ty::Time(_) => timestamp_type(),
        Ty::List(e) => DataType::List(Arc::new(Field::new("item", arrow_type(e, false), true))),
        Ty::Struct(s) => DataType::Struct(struct_fields(s)),
    }
}

/// Arrow fields of an object type.
pub(crate) fn struct_fields(s: &StructTy) -> Fields {
    s.fields
        .iter()
        .map(|f| Field::new(&f.name, arrow_type(f.nested_ty(), f.time), true))
        .collect()
}

/// `timestamp[µs, UTC]`.
pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// What the reader needs to restore exactly what the writer saw.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    /// Paths stored as JSON text.
    pub json: Vec<Path>,
    /// Paths where a null cell is an explicit JSON null.
    pub explicit_null: Vec<Path>,
    /// Spelling of each timestamp column.
    pub timestamp_formats: Vec<(String, String)>,
    /// Float64 paths whose integral values were written as JSON integers.
    pub int_numbers: Vec<Path>,
}

impl Hints {
    /// Collect the hints of one column.
    pub(crate) fn collect(&mut self, path: &mut Path, f: &FieldTy) {
        if f.explicit_null() {
            self.explicit_null.push(path.clone());
        }
        if f.time
            && let Ty::Time(mask) = f.ty
            && let Some(name) = timestamps::format_name(mask)
        {
            self.timestamp_formats.push((f.name.clone(), name));
        }
        self.walk(path, &f.ty);
    }

    fn walk(&mut self, path: &mut Path, ty: &Ty) {
        match storage(ty) {
            Ty::Json => self.json.push(path.clone()),
            Ty::Num { ints: true, .. } | Ty::Geom { ints: true, .. } => {
                self.int_numbers.push(path.clone())
            }
            Ty::List(e) => {
                path.push(None);
                self.walk(path, e);
                path.pop();
            }
            Ty::Struct(s) => {
                for f in &s.fields {
                    path.push(Some(f.name.clone()));
                    if f.explicit_null() {
                        self.explicit_null.push(path.clone());
                    }
                    self.walk(path, f.nested_ty());
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merge(s: &mut StructTy, v: serde_json::Value) {
        let j = Json::from_value(&v);
        s.merge_object(j.as_object().unwrap(), true);
    }

    #[test]
    fn conflicts_become_json() {
        let mut s = StructTy::default();
        merge(
            &mut s,
            json!({"a": 1, "b": 1.5, "c": "x", "d": {"e": 1}, "g": 1}),
        );
        merge(
            &mut s,
            json!({"a": 2.5, "b": 2.5, "c": 3, "d": {"f": true}, "g": 2.0}),
        );
        assert_eq!(
            s.get("a").unwrap().ty,
            Ty::Num {
                ints: true,
                integral_floats: false
            }
        );
        assert!(s.get("g").unwrap().ty.is_json());
        assert_eq!(
            s.get("b").unwrap().ty,
            Ty::Num {
                ints: false,
                integral_floats: false
            }
        );
        assert!(s.get("c").unwrap().ty.is_json());
        let Ty::Struct(d) = &s.get("d").unwrap().ty else {
            panic!()
        };
        assert!(d.get("e").unwrap().absent && d.get("f").unwrap().absent);
    }

    #[test]
    fn explicit_nulls_are_tracked() {
        let mut s = StructTy::default();
        merge(&mut s, json!({"a": null, "b": null}));
        merge(&mut s, json!({"a": 1}));
        assert!(s.get("a").unwrap().explicit_null());
        assert!(!s.get("b").unwrap().explicit_null());
    }

    /// Absent keys are found in small objects (by scan) and in large ones
    /// (through a set of their keys) alike.
    #[test]
    fn absent_fields_of_small_and_large_objects() {
        for n in [4usize, SMALL_OBJECT + 8] {
            let mut s = StructTy::default();
            let full: serde_json::Map<String, serde_json::Value> =
                (0..n).map(|i| (format!("k{i}"), json!(i))).collect();
            merge(&mut s, serde_json::Value::Object(full.clone()));
            let mut less = full;
            less.remove("k1");
            less.insert("new".into(), json!(1));
            merge(&mut s, serde_json::Value::Object(less));
            assert!(s.get("k1").unwrap().absent, "{n} keys");
            assert!(!s.get("k0").unwrap().absent, "{n} keys");
            assert!(s.get("new").unwrap().absent, "{n} keys");
        }
    }
}
