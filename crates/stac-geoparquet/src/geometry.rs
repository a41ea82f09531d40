//! GeoJSON geometry ⇄ WKB (ISO, little-endian), plus what the `geo`
//! metadata needs: geometry types, the overall bbox, and whether integral
//! coordinates were written as JSON integers.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

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
    pub fn restore_ints(&self) -> bool {
        self.integral_as_int && !self.integral_as_float
    }

    fn number(&mut self, v: &Value) -> Result<f64, String> {
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

/// Encode a GeoJSON geometry as ISO WKB (little-endian) into `out`.
pub(crate) fn to_wkb(
    geometry: &Value,
    out: &mut Vec<u8>,
    stats: &mut GeometryStats,
) -> Result<(), String> {
    let obj = geometry
        .as_object()
        .ok_or_else(|| "geometry is not a JSON object".to_string())?;
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| "geometry has no string \"type\"".to_string())?;
    let c = code(kind).ok_or_else(|| format!("unknown geometry type {kind:?}"))?;
    if let Some(extra) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "type" | "coordinates" | "geometries"))
    {
        return Err(format!(
            "geometry member {extra:?} cannot be stored in WKB (only type and coordinates)"
        ));
    }
    let dims = if c == COLLECTION {
        let parts = obj
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or_else(|| "GeometryCollection without a \"geometries\" array".to_string())?;
        write_header(out, c, 2);
        out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
        for part in parts {
            to_wkb(part, out, stats)?;
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
fn dimensions(coords: &Value) -> Result<usize, String> {
    fn first(v: &Value) -> Option<usize> {
        let a = v.as_array()?;
        match a.first() {
            Some(Value::Array(_)) => a.iter().find_map(first),
            Some(_) => Some(a.len()),
            None => None,
        }
    }
    match first(coords) {
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
    coords: &Value,
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

/// Decode WKB (ISO or EWKB, either byte order) into GeoJSON.
pub(crate) fn from_wkb(bytes: &[u8], restore_ints: bool) -> Result<Value, String> {
    let mut r = WkbReader {
        bytes,
        pos: 0,
        restore_ints,
    };
    let v = r.geometry()?;
    Ok(v)
}

struct WkbReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    restore_ints: bool,
}

impl WkbReader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.pos + N;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| "WKB is truncated".to_string())?;
        self.pos = end;
        Ok(slice.try_into().expect("slice of length N"))
    }

    fn u32(&mut self, le: bool) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    fn number(&self, f: f64) -> Value {
        if self.restore_ints && f.fract() == 0.0 && f.abs() < 9.0e15 {
            Value::from(f as i64)
        } else {
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
    }

    fn position(&mut self, le: bool, dims: usize, skip: usize) -> Result<Value, String> {
        let mut out = Vec::with_capacity(dims);
        for _ in 0..dims {
            out.push(self.f64(le)?);
        }
        for _ in 0..skip {
            self.f64(le)?;
        }
        if out.iter().all(|f| f.is_nan()) {
            return Ok(Value::Array(Vec::new()));
        }
        Ok(Value::Array(
            out.into_iter().map(|f| self.number(f)).collect(),
        ))
    }

    fn list(&mut self, le: bool, dims: usize, skip: usize, depth: usize) -> Result<Value, String> {
        if depth == 0 {
            return self.position(le, dims, skip);
        }
        let n = self.u32(le)? as usize;
        if n > self.bytes.len() {
            return Err("WKB count larger than the data".into());
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.list(le, dims, skip, depth - 1)?);
        }
        Ok(Value::Array(out))
    }

    fn header(&mut self) -> Result<(bool, u32, usize, usize), String> {
        let le = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            b => return Err(format!("bad WKB byte order {b}")),
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

    fn geometry(&mut self) -> Result<Value, String> {
        let (le, code, dims, skip) = self.header()?;
        let kind = name(code).ok_or_else(|| format!("unknown WKB geometry type {code}"))?;
        let mut obj = Map::new();
        obj.insert("type".into(), Value::from(kind));
        match code {
            COLLECTION => {
                let n = self.u32(le)? as usize;
                let mut parts = Vec::new();
                for _ in 0..n {
                    parts.push(self.geometry()?);
                }
                obj.insert("geometries".into(), Value::Array(parts));
            }
            MULTIPOINT | MULTILINESTRING | MULTIPOLYGON => {
                let n = self.u32(le)? as usize;
                if n > self.bytes.len() {
                    return Err("WKB count larger than the data".into());
                }
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    let part = self.geometry()?;
                    parts.push(part.get("coordinates").cloned().unwrap_or(json!([])));
                }
                obj.insert("coordinates".into(), Value::Array(parts));
            }
            _ => {
                let depth = match code {
                    POINT => 0,
                    LINESTRING => 1,
                    _ => 2,
                };
                obj.insert("coordinates".into(), self.list(le, dims, skip, depth)?);
            }
        }
        Ok(Value::Object(obj))
    }
}

/// Number in a bbox: JSON integers come back when the file said so.
pub(crate) fn bbox_number(f: f64, restore_ints: bool) -> Value {
    if restore_ints && f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(g: Value) {
        let mut out = Vec::new();
        let mut stats = GeometryStats::default();
        to_wkb(&g, &mut out, &mut stats).unwrap();
        assert_eq!(from_wkb(&out, stats.restore_ints()).unwrap(), g);
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
        assert!(to_wkb(&json!({"type": "Blob"}), &mut out, &mut stats).is_err());
        assert!(
            to_wkb(
                &json!({"type": "Point", "coordinates": ["a", 1]}),
                &mut out,
                &mut stats
            )
            .is_err()
        );
        assert!(from_wkb(&[1, 3, 0], false).is_err());
    }
}
