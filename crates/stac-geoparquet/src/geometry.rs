//! GeoJSON geometry ⇄ WKB (ISO, little-endian), plus what the `geo`
//! metadata needs: geometry types, the overall bbox, and whether integral
//! coordinates were written as JSON integers.
//!
//! Neither direction recurses on the input's nesting: the decoder keeps its
//! own stack of open collections (bounded by
//! [`ReadOptions::wkb_max_depth`]), and the encoder refuses geometries
//! nested deeper than [`MAX_WRITE_DEPTH`] collections.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use stac_meta::budget::{ALLOC_BYTES, Budget, ENTRY_BYTES, VALUE_BYTES};

use crate::json::Json;
use crate::limits::{NonFinite, ReadOptions, Refused, human_bytes, too_large};

/// What the writer learns from the geometries it encodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct GeometryStats {
    /// GeoJSON type names (with a ` Z` suffix for 3-D), sorted.
    pub types: BTreeSet<String>,
    /// xmin, ymin, xmax, ymax of every coordinate seen.
    pub bbox: Option<[f64; 4]>,
    /// An integral coordinate was written as a JSON integer (`10`).
    pub integral_as_int: bool,
    /// An integral coordinate was written as a JSON float (`10.0`).
    pub integral_as_float: bool,
}

impl GeometryStats {
    /// Whether integral numbers should be restored as JSON integers.
    pub(crate) fn restore_ints(&self) -> bool {
        self.integral_as_int && !self.integral_as_float
    }

    /// Fold in the statistics of another batch (order does not matter).
    pub(crate) fn merge(&mut self, other: GeometryStats) {
        self.types.extend(other.types);
        if let Some([x0, y0, x1, y1]) = other.bbox {
            self.extend(x0, y0);
            self.extend(x1, y1);
        }
        self.integral_as_int |= other.integral_as_int;
        self.integral_as_float |= other.integral_as_float;
    }

    fn number(&mut self, v: &Json<'_>) -> Result<f64, String> {
        let n = v
            .as_number()
            .ok_or_else(|| format!("coordinate {v} is not a number"))?;
        let f = n
            .as_f64()
            .ok_or_else(|| format!("coordinate {v} is not finite"))?;
        if n.is_f64() {
            if f.fract() == 0.0 {
                self.integral_as_float = true;
            }
        } else {
            self.integral_as_int = true;
        }
        Ok(f)
    }

    fn extend(&mut self, x: f64, y: f64) {
        if x.is_nan() || y.is_nan() {
            return;
        }
        let b = self.bbox.get_or_insert([x, y, x, y]);
        b[0] = b[0].min(x);
        b[1] = b[1].min(y);
        b[2] = b[2].max(x);
        b[3] = b[3].max(y);
    }
}

const POINT: u32 = 1;
const LINESTRING: u32 = 2;
const POLYGON: u32 = 3;
const MULTIPOINT: u32 = 4;
const MULTILINESTRING: u32 = 5;
const MULTIPOLYGON: u32 = 6;
const COLLECTION: u32 = 7;

fn code(name: &str) -> Option<u32> {
    Some(match name {
        "Point" => POINT,
        "LineString" => LINESTRING,
        "Polygon" => POLYGON,
        "MultiPoint" => MULTIPOINT,
        "MultiLineString" => MULTILINESTRING,
        "MultiPolygon" => MULTIPOLYGON,
        "GeometryCollection" => COLLECTION,
        _ => return None,
    })
}

fn name(code: u32) -> Option<&'static str> {
    Some(match code {
        POINT => "Point",
        LINESTRING => "LineString",
        POLYGON => "Polygon",
        MULTIPOINT => "MultiPoint",
        MULTILINESTRING => "MultiLineString",
        MULTIPOLYGON => "MultiPolygon",
        COLLECTION => "GeometryCollection",
        _ => return None,
    })
}

/// GeometryCollections nested deeper than this are refused when writing
/// (the reader's default [`ReadOptions::wkb_max_depth`] is the same).
pub(crate) const MAX_WRITE_DEPTH: usize = 32;

/// Encode a GeoJSON geometry as ISO WKB (little-endian) into `out`.
pub(crate) fn to_wkb(
    geometry: &Json<'_>,
    out: &mut Vec<u8>,
    stats: &mut GeometryStats,
) -> Result<(), String> {
    write_geometry(geometry, out, stats, 0)
}

fn write_geometry(
    geometry: &Json<'_>,
    out: &mut Vec<u8>,
    stats: &mut GeometryStats,
    depth: usize,
) -> Result<(), String> {
    let obj = geometry
        .as_object()
        .ok_or_else(|| "geometry is not a JSON object".to_string())?;
    let kind = obj
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| "geometry has no string \"type\"".to_string())?;
    let c = code(kind).ok_or_else(|| format!("unknown geometry type {kind:?}"))?;
    if let Some(extra) = obj
        .keys()
        .find(|k| !matches!(*k, "type" | "coordinates" | "geometries"))
    {
        return Err(format!(
            "geometry member {extra:?} cannot be stored in WKB (only type and coordinates)"
        ));
    }
    let dims = if c == COLLECTION {
        let parts = obj
            .get("geometries")
            .and_then(Json::as_array)
            .ok_or_else(|| "GeometryCollection without a \"geometries\" array".to_string())?;
        if depth >= MAX_WRITE_DEPTH {
            return Err(format!(
                "GeometryCollection nested deeper than {MAX_WRITE_DEPTH} levels"
            ));
        }
        write_header(out, c, 2);
        out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
        for part in parts {
            write_geometry(part, out, stats, depth + 1)?;
        }
        stats.types.insert(kind.to_string());
        return Ok(());
    } else {
        let coords = obj
            .get("coordinates")
            .ok_or_else(|| format!("{kind} without \"coordinates\""))?;
        let dims = dimensions(coords)?;
        write_header(out, c, dims);
        match c {
            MULTIPOINT | MULTILINESTRING | MULTIPOLYGON => {
                let parts = coords
                    .as_array()
                    .ok_or_else(|| "coordinates are not an array".to_string())?;
                out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
                for part in parts {
                    write_header(out, c - 3, dims);
                    write_coords(out, part, depth_of(c - 3), dims, stats)?;
                }
            }
            _ => write_coords(out, coords, depth_of(c), dims, stats)?,
        }
        dims
    };
    stats.types.insert(if dims == 3 {
        format!("{kind} Z")
    } else {
        kind.to_string()
    });
    Ok(())
}

/// Coordinate dimension (2 or 3) of the first position; every position must match.
fn dimensions(coords: &Json<'_>) -> Result<usize, String> {
    /// Positions lie at most 3 arrays deep (MultiPolygon); deeper arrays
    /// are not looked into (they fail later as misplaced positions).
    fn first(v: &Json<'_>, depth: usize) -> Option<usize> {
        let a = v.as_array()?;
        match a.first() {
            Some(Json::Array(_)) if depth < 4 => a.iter().find_map(|p| first(p, depth + 1)),
            Some(Json::Array(_)) => None,
            Some(_) => Some(a.len()),
            None => None,
        }
    }
    match first(coords, 0) {
        None => Ok(2),
        Some(n @ (2 | 3)) => Ok(n),
        Some(n) => Err(format!("positions with {n} coordinates are not supported")),
    }
}

fn write_header(out: &mut Vec<u8>, code: u32, dims: usize) {
    out.push(1);
    let iso = if dims == 3 { code + 1000 } else { code };
    out.extend_from_slice(&iso.to_le_bytes());
}

fn depth_of(code: u32) -> usize {
    match code {
        POINT => 0,
        LINESTRING => 1,
        _ => 2,
    }
}

fn write_coords(
    out: &mut Vec<u8>,
    coords: &Json<'_>,
    depth: usize,
    dims: usize,
    stats: &mut GeometryStats,
) -> Result<(), String> {
    let arr = coords
        .as_array()
        .ok_or_else(|| "coordinates are not an array".to_string())?;
    if depth == 0 {
        if arr.is_empty() {
            for _ in 0..dims {
                out.extend_from_slice(&f64::NAN.to_le_bytes());
            }
            return Ok(());
        }
        if arr.len() != dims {
            return Err(format!(
                "position with {} coordinates in a {dims}-D geometry",
                arr.len()
            ));
        }
        let mut xy = [0.0; 2];
        for (i, v) in arr.iter().enumerate() {
            let f = stats.number(v)?;
            if i < 2 {
                xy[i] = f;
            }
            out.extend_from_slice(&f.to_le_bytes());
        }
        stats.extend(xy[0], xy[1]);
        return Ok(());
    }
    out.extend_from_slice(&(arr.len() as u32).to_le_bytes());
    for p in arr {
        write_coords(out, p, depth - 1, dims, stats)?;
    }
    Ok(())
}

/// Decode WKB (ISO or EWKB, either byte order) into GeoJSON, within the
/// limits of `options` and spending the decoded size from `budget`.
///
/// The parser keeps its own stack of open collections (no recursion), so
/// nesting is bounded by [`ReadOptions::wkb_max_depth`], never by the
/// thread's stack. Every count is checked against the bytes left before
/// anything is allocated. Multi* geometries must hold parts of their own
/// simple type.
pub(crate) fn from_wkb(
    bytes: &[u8],
    restore_ints: bool,
    options: &ReadOptions,
    budget: &mut Budget,
) -> Result<Value, Refused> {
    if bytes.len() as u64 > options.wkb_max_bytes() {
        return Err(Refused::limit(
            "with_wkb_max_bytes",
            format!(
                "WKB value of {} is larger than the limit of {}",
                human_bytes(bytes.len() as u64),
                human_bytes(options.wkb_max_bytes())
            ),
        ));
    }
    let mut r = WkbReader {
        bytes,
        pos: 0,
        restore_ints,
        non_finite: options.non_finite(),
        count: 0,
        max_count: options.wkb_max_count(),
        budget,
    };
    let v = r.geometry(options.wkb_max_depth())?;
    Ok(v)
}

struct WkbReader<'a, 'b> {
    bytes: &'a [u8],
    pos: usize,
    restore_ints: bool,
    non_finite: NonFinite,
    /// Elements (positions, rings, parts) read so far.
    count: u64,
    max_count: u64,
    budget: &'b mut Budget,
}

/// A collection being read: its parts so far and how many are left.
struct Open {
    code: u32,
    /// Parts still to read.
    left: usize,
    parts: Vec<Value>,
}

impl WkbReader<'_, '_> {
    fn spend(&mut self, bytes: u64) -> Result<(), Refused> {
        if self.budget.take(bytes) {
            Ok(())
        } else {
            Err(too_large(self.budget))
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], Refused> {
        let end = self.pos.saturating_add(N);
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| Refused::from("WKB is truncated"))?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u32(&mut self, le: bool) -> Result<u32, Refused> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, Refused> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A count of elements of at least `min_size` bytes each: checked
    /// against the bytes left and the element limit before any allocation.
    fn count(&mut self, le: bool, min_size: usize) -> Result<usize, Refused> {
        let n = self.u32(le)? as usize;
        let left = self.bytes.len() - self.pos;
        if n > left / min_size.max(1) {
            return Err(
                format!("WKB count {n} is larger than the {left} bytes left can hold").into(),
            );
        }
        self.count = self.count.saturating_add(n as u64);
        if self.count > self.max_count {
            return Err(Refused::limit(
                "with_wkb_max_count",
                format!(
                    "WKB geometry with more than {} elements (positions, rings, parts)",
                    self.max_count
                ),
            ));
        }
        Ok(n)
    }

    fn number(&self, f: f64) -> Result<Value, Refused> {
        if self.restore_ints && f.fract() == 0.0 && f.abs() < 9.0e15 {
            return Ok(Value::from(f as i64));
        }
        match serde_json::Number::from_f64(f) {
            Some(n) => Ok(Value::Number(n)),
            None => non_finite(f, self.non_finite),
        }
    }

    fn position(&mut self, le: bool, dims: usize, skip: usize) -> Result<Value, Refused> {
        let mut out = [0.0; 3];
        for slot in out.iter_mut().take(dims) {
            *slot = self.f64(le)?;
        }
        for _ in 0..skip {
            self.f64(le)?;
        }
        let out = &out[..dims];
        if out.iter().all(|f| f.is_nan()) {
            return Ok(Value::Array(Vec::new()));
        }
        self.spend(ALLOC_BYTES + VALUE_BYTES * dims as u64)?;
        let mut coords = Vec::with_capacity(dims);
        for &f in out {
            coords.push(self.number(f)?);
        }
        Ok(Value::Array(coords))
    }

    /// Spend the array of `n` values (their slots; what they hold is spent
    /// as it is built). Costs are spent before anything is allocated: this
    /// function's caller, and each builder, spend what is inside a value,
    /// and the value's own [`VALUE_BYTES`] is spent by the array holding it.
    fn array(&mut self, n: usize) -> Result<(), Refused> {
        if n == 0 {
            return Ok(());
        }
        self.spend(ALLOC_BYTES + VALUE_BYTES.saturating_mul(n as u64))
    }

    /// `n` positions (a LineString or a ring).
    fn positions(&mut self, le: bool, dims: usize, skip: usize) -> Result<Value, Refused> {
        let n = self.count(le, 8 * (dims + skip))?;
        self.array(n)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.position(le, dims, skip)?);
        }
        Ok(Value::Array(out))
    }

    fn header(&mut self) -> Result<(bool, u32, usize, usize), Refused> {
        let le = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            b => return Err(format!("bad WKB byte order {b}").into()),
        };
        let raw = self.u32(le)?;
        let (mut z, mut m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
        let mut code = raw & 0x0FFF_FFFF;
        if raw & 0x2000_0000 != 0 {
            self.u32(le)?; // EWKB SRID
        }
        match code / 1000 {
            1 => z = true,
            2 => m = true,
            3 => {
                z = true;
                m = true
            }
            _ => {}
        }
        code %= 1000;
        Ok((le, code, if z { 3 } else { 2 }, usize::from(m)))
    }

    /// A GeoJSON object `{"type": kind, member: value}`, spending its
    /// members (what `value` holds was spent when it was built).
    fn object(&mut self, kind: &'static str, member: &str, value: Value) -> Result<Value, Refused> {
        self.spend(
            2 * ENTRY_BYTES
                + "type".len() as u64
                + member.len() as u64
                + 2 * VALUE_BYTES
                + kind.len() as u64
                + ALLOC_BYTES,
        )?;
        let mut obj = Map::with_capacity(2);
        obj.insert("type".into(), Value::from(kind));
        obj.insert(member.into(), value);
        Ok(Value::Object(obj))
    }

    /// A whole geometry, with a stack of open collections instead of
    /// recursion.
    fn geometry(&mut self, max_depth: u32) -> Result<Value, Refused> {
        self.spend(VALUE_BYTES)?;
        let mut stack: Vec<Open> = Vec::new();
        loop {
            let (le, code, dims, skip) = self.header()?;
            if let Some(parent) = stack.last() {
                if parent.code != COLLECTION && code != parent.code - 3 {
                    return Err(format!(
                        "a {} holds a part of WKB type {code}",
                        name(parent.code).unwrap_or("collection")
                    )
                    .into());
                }
            }
            let kind = name(code).ok_or_else(|| format!("unknown WKB geometry type {code}"))?;
            let mut done = match code {
                COLLECTION | MULTIPOINT | MULTILINESTRING | MULTIPOLYGON => {
                    if stack.len() >= max_depth as usize {
                        return Err(Refused::limit(
                            "with_wkb_max_depth",
                            format!("WKB geometry nested deeper than {max_depth} collections"),
                        ));
                    }
                    // A part is at least a header (5 bytes) and a count or a
                    // coordinate (4 bytes).
                    let n = self.count(le, 9)?;
                    self.array(n)?;
                    if n > 0 {
                        stack.push(Open {
                            code,
                            left: n,
                            parts: Vec::with_capacity(n),
                        });
                        continue;
                    }
                    let member = if code == COLLECTION {
                        "geometries"
                    } else {
                        "coordinates"
                    };
                    self.object(kind, member, Value::Array(Vec::new()))?
                }
                _ => {
                    let coords = match code {
                        POINT => self.position(le, dims, skip)?,
                        LINESTRING => self.positions(le, dims, skip)?,
                        _ => {
                            // Polygon: rings of positions.
                            let n = self.count(le, 4)?;
                            self.array(n)?;
                            let mut rings = Vec::with_capacity(n);
                            for _ in 0..n {
                                rings.push(self.positions(le, dims, skip)?);
                            }
                            Value::Array(rings)
                        }
                    };
                    // A part of a Multi* geometry is only its coordinates.
                    if stack.last().is_some_and(|p| p.code != COLLECTION) {
                        coords
                    } else {
                        self.object(kind, "coordinates", coords)?
                    }
                }
            };
            // Hand the finished geometry to the open collections.
            loop {
                let Some(mut full) = stack.pop() else {
                    return Ok(done);
                };
                full.parts.push(done);
                full.left -= 1;
                if full.left > 0 {
                    stack.push(full);
                    break;
                }
                let kind = name(full.code).unwrap_or("GeometryCollection");
                let member = if full.code == COLLECTION {
                    "geometries"
                } else {
                    "coordinates"
                };
                done = self.object(kind, member, Value::Array(full.parts))?;
            }
        }
    }
}

/// Decode one WKB value into GeoJSON as the reader does, within the limits
/// of `options` (one item's budget): the geometry and the memory it was
/// counted as taking, or why it was refused. Exposed for the `wkb` fuzz
/// target; not part of the stable API.
#[doc(hidden)]
pub fn wkb_to_geojson(bytes: &[u8], options: &ReadOptions) -> Result<(Value, u64), String> {
    let mut budget = Budget::new(options.max_value_bytes());
    match from_wkb(bytes, false, options, &mut budget) {
        Ok(v) => Ok((v, budget.used())),
        Err(r) => Err(match r.option {
            Some(option) => format!("{} (ReadOptions::{option})", r.reason),
            None => r.reason,
        }),
    }
}

/// Encode a GeoJSON geometry as the writer does (ISO WKB, little-endian).
/// Exposed for the `wkb` fuzz target; not part of the stable API.
#[doc(hidden)]
pub fn geojson_to_wkb(geometry: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    to_wkb(
        &Json::from_value(geometry),
        &mut out,
        &mut GeometryStats::default(),
    )?;
    Ok(out)
}

/// A non-finite float under `rule`: `null`, or the refusal naming it.
pub(crate) fn non_finite(f: f64, rule: NonFinite) -> Result<Value, Refused> {
    match rule {
        NonFinite::Null => Ok(Value::Null),
        _ => Err(format!(
            "non-finite number {f} (JSON has none; ReadOptions::with_non_finite(NonFinite::Null) reads it as null)"
        )
        .into()),
    }
}

/// A float read from a file (a bbox value, a float64 column): JSON integers
/// come back when the file said so; non-finite values follow `rule`.
pub(crate) fn float_number(f: f64, restore_ints: bool, rule: NonFinite) -> Result<Value, Refused> {
    if restore_ints && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Ok(Value::from(f as i64))
    } else {
        match serde_json::Number::from_f64(f) {
            Some(n) => Ok(Value::Number(n)),
            None => non_finite(f, rule),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round(g: Value) {
        let mut out = Vec::new();
        let mut stats = GeometryStats::default();
        to_wkb(&Json::from_value(&g), &mut out, &mut stats).unwrap();
        let mut budget = Budget::new(u64::MAX);
        let back = from_wkb(
            &out,
            stats.restore_ints(),
            &ReadOptions::default(),
            &mut budget,
        );
        assert_eq!(back.unwrap(), g);
        assert_eq!(budget.used(), stac_meta::budget::value_cost(&g), "{g}");
    }

    #[test]
    fn round_trips_every_type() {
        round(json!({"type": "Point", "coordinates": [1.5, 2.5]}));
        round(json!({"type": "Point", "coordinates": [1.5, 2.5, 3.5]}));
        round(json!({"type": "LineString", "coordinates": [[1.5, 2.5], [3.5, 4.5]]}));
        round(
            json!({"type": "Polygon", "coordinates": [[[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 0.5]]]}),
        );
        round(json!({"type": "MultiPoint", "coordinates": [[1.5, 2.5], [3.5, 4.5]]}));
        round(json!({"type": "MultiLineString", "coordinates": [[[1.5, 2.5], [3.5, 4.5]]]}));
        round(
            json!({"type": "MultiPolygon", "coordinates": [[[[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 0.5]]], [[[5.5, 5.5], [6.5, 5.5], [6.5, 6.5], [5.5, 5.5]]]]}),
        );
        round(
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1.5, 2.5]}]}),
        );
        round(json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}));
    }

    #[test]
    fn rejects_bad_geometry() {
        let mut out = Vec::new();
        let mut stats = GeometryStats::default();
        assert!(geojson_to_wkb(&json!({"type": "Blob"})).is_err());
        assert!(
            to_wkb(
                &Json::from_value(&json!({"type": "Point", "coordinates": ["a", 1]})),
                &mut out,
                &mut stats
            )
            .is_err()
        );
        let mut budget = Budget::new(u64::MAX);
        assert!(from_wkb(&[1, 3, 0], false, &ReadOptions::default(), &mut budget).is_err());
    }
}
