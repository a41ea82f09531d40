//! Planar geometry for spatial filters: GeoJSON (or WKB decoded to GeoJSON)
//! into points, lines and polygons, and an exact `intersects` (boundaries
//! touching count, as in PostGIS' `ST_Intersects`, which pgstac uses).
//!
//! Coordinates are taken as planar lon/lat, like pgstac's `geometry(4326)`;
//! only a search `bbox` crossing the antimeridian (west > east) is split in
//! two, as the STAC API spec asks.

use serde_json::Value;

/// Deepest GeometryCollection nesting accepted.
const MAX_DEPTH: usize = 32;

/// A geometry as flat lists of parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Geometry {
    points: Vec<[f64; 2]>,
    lines: Vec<Vec<[f64; 2]>>,
    /// Rings of each polygon, exterior first.
    polygons: Vec<Vec<Vec<[f64; 2]>>>,
    /// xmin, ymin, xmax, ymax of every coordinate; `None` when empty.
    envelope: Option<[f64; 4]>,
}

impl Geometry {
    /// A geometry from GeoJSON (any type, GeometryCollections nested up to
    /// [`MAX_DEPTH`]). Positions need at least two numbers; a third (z) is ignored.
    pub(super) fn from_geojson(v: &Value) -> Result<Self, String> {
        let mut g = Self::default();
        g.add(v, 0)?;
        g.envelope = envelope_of(&g);
        Ok(g)
    }

    /// The rectangle of a search `bbox` (4 or 6 numbers; z ignored). A box
    /// whose west edge is east of its east edge crosses the antimeridian
    /// and becomes two rectangles.
    pub(super) fn from_bbox(b: &[f64]) -> Result<Self, String> {
        let (w, s, e, n) = match b.len() {
            4 => (b[0], b[1], b[2], b[3]),
            6 => (b[0], b[1], b[3], b[4]),
            n => return Err(format!("a bbox has 4 or 6 numbers, not {n}")),
        };
        if b.iter().any(|v| !v.is_finite()) {
            return Err("bbox numbers must be finite".into());
        }
        let mut g = Self::default();
        if w > e {
            g.polygons.push(vec![rect(w, s, 180.0, n)]);
            g.polygons.push(vec![rect(-180.0, s, e, n)]);
        } else {
            g.polygons.push(vec![rect(w, s, e, n)]);
        }
        g.envelope = envelope_of(&g);
        Ok(g)
    }

    /// The envelope (xmin, ymin, xmax, ymax); `None` for an empty geometry.
    #[cfg(test)]
    pub(super) fn envelope(&self) -> Option<[f64; 4]> {
        self.envelope
    }

    /// The envelopes of the parts: one per polygon, line or point; a
    /// bbox split at the antimeridian gives two. Used to prune by the
    /// bbox covering columns.
    pub(super) fn part_envelopes(&self) -> Vec<[f64; 4]> {
        let mut out = Vec::new();
        for p in &self.polygons {
            if let Some(e) = p.first().and_then(|r| ring_envelope(r)) {
                out.push(e);
            }
        }
        for l in &self.lines {
            if let Some(e) = ring_envelope(l) {
                out.push(e);
            }
        }
        for p in &self.points {
            out.push([p[0], p[1], p[0], p[1]]);
        }
        out
    }

    fn add(&mut self, v: &Value, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "GeometryCollections nested deeper than {MAX_DEPTH}"
            ));
        }
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .ok_or("a geometry needs a string \"type\"")?;
        if kind == "GeometryCollection" {
            let parts = v
                .get("geometries")
                .and_then(Value::as_array)
                .ok_or("a GeometryCollection needs a \"geometries\" array")?;
            for p in parts {
                self.add(p, depth + 1)?;
            }
            return Ok(());
        }
        let coords = v
            .get("coordinates")
            .ok_or_else(|| format!("a {kind} needs \"coordinates\""))?;
        match kind {
            "Point" => self.points.extend(position_opt(coords)?),
            "MultiPoint" => {
                for p in array(coords)? {
                    self.points.extend(position_opt(p)?);
                }
            }
            "LineString" => self.lines.push(positions(coords)?),
            "MultiLineString" => {
                for l in array(coords)? {
                    self.lines.push(positions(l)?);
                }
            }
            "Polygon" => self.polygons.push(rings(coords)?),
            "MultiPolygon" => {
                for p in array(coords)? {
                    self.polygons.push(rings(p)?);
                }
            }
            other => return Err(format!("unknown geometry type {other:?}")),
        }
        self.lines.retain(|l| !l.is_empty());
        self.polygons
            .retain(|p| p.first().is_some_and(|r| !r.is_empty()));
        Ok(())
    }

    /// Whether the two geometries share at least one point (boundaries
    /// included). Empty geometries intersect nothing.
    pub(super) fn intersects(&self, other: &Geometry) -> bool {
        let (Some(a), Some(b)) = (self.envelope, other.envelope) else {
            return false;
        };
        if !boxes_overlap(&a, &b) {
            return false;
        }
        self.edges_meet(other) || self.reaches_inside(other) || other.reaches_inside(self)
    }

    /// Any segment of one meets any segment of the other (points are
    /// degenerate segments).
    fn edges_meet(&self, other: &Geometry) -> bool {
        let mine = self.segments();
        let theirs = other.segments();
        for (p, q) in &mine {
            let e = seg_env(p, q);
            for (r, s) in &theirs {
                if boxes_overlap(&e, &seg_env(r, s)) && segments_meet(p, q, r, s) {
                    return true;
                }
            }
        }
        false
    }

    /// Some part of `self` lies inside one of `other`'s polygons: a
    /// vertex of each part is enough once no edges meet.
    fn reaches_inside(&self, other: &Geometry) -> bool {
        if other.polygons.is_empty() {
            return false;
        }
        let probes = self
            .points
            .iter()
            .chain(self.lines.iter().filter_map(|l| l.first()))
            .chain(
                self.polygons
                    .iter()
                    .filter_map(|p| p.first().and_then(|r| r.first())),
            );
        for pt in probes {
            if other.polygons.iter().any(|poly| in_polygon(pt, poly)) {
                return true;
            }
        }
        false
    }

    fn segments(&self) -> Vec<([f64; 2], [f64; 2])> {
        let mut out: Vec<([f64; 2], [f64; 2])> = self.points.iter().map(|p| (*p, *p)).collect();
        let lines = self
            .lines
            .iter()
            .chain(self.polygons.iter().flat_map(|p| p.iter()));
        for l in lines {
            if l.len() == 1 {
                out.push((l[0], l[0]));
            }
            out.extend(l.windows(2).map(|w| (w[0], w[1])));
        }
        out
    }
}

fn rect(w: f64, s: f64, e: f64, n: f64) -> Vec<[f64; 2]> {
    vec![[w, s], [e, s], [e, n], [w, n], [w, s]]
}

fn array(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| "coordinates are not an array".into())
}

/// A position, or `None` for the empty position `[]` (an empty Point).
fn position_opt(v: &Value) -> Result<Option<[f64; 2]>, String> {
    let a = array(v)?;
    if a.is_empty() {
        return Ok(None);
    }
    let num = |i: usize| {
        a.get(i)
            .and_then(Value::as_f64)
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("position {v} needs finite numbers"))
    };
    Ok(Some([num(0)?, num(1)?]))
}

fn positions(v: &Value) -> Result<Vec<[f64; 2]>, String> {
    let mut out = Vec::new();
    for p in array(v)? {
        out.extend(position_opt(p)?);
    }
    Ok(out)
}

fn rings(v: &Value) -> Result<Vec<Vec<[f64; 2]>>, String> {
    array(v)?.iter().map(positions).collect()
}

fn ring_envelope(r: &[[f64; 2]]) -> Option<[f64; 4]> {
    let first = r.first()?;
    let mut e = [first[0], first[1], first[0], first[1]];
    for p in r {
        e[0] = e[0].min(p[0]);
        e[1] = e[1].min(p[1]);
        e[2] = e[2].max(p[0]);
        e[3] = e[3].max(p[1]);
    }
    Some(e)
}

fn envelope_of(g: &Geometry) -> Option<[f64; 4]> {
    let mut all = g
        .points
        .iter()
        .map(|p| [p[0], p[1], p[0], p[1]])
        .chain(g.lines.iter().filter_map(|l| ring_envelope(l)))
        .chain(
            g.polygons
                .iter()
                .flat_map(|p| p.iter())
                .filter_map(|r| ring_envelope(r)),
        );
    let mut e = all.next()?;
    for b in all {
        e = [
            e[0].min(b[0]),
            e[1].min(b[1]),
            e[2].max(b[2]),
            e[3].max(b[3]),
        ];
    }
    Some(e)
}

/// Closed boxes overlap (touching counts).
pub(crate) fn boxes_overlap(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

fn seg_env(p: &[f64; 2], q: &[f64; 2]) -> [f64; 4] {
    [
        p[0].min(q[0]),
        p[1].min(q[1]),
        p[0].max(q[0]),
        p[1].max(q[1]),
    ]
}

/// Sign of the cross product (q - p) × (r - p).
fn orient(p: &[f64; 2], q: &[f64; 2], r: &[f64; 2]) -> i8 {
    let v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

/// `r` is on the closed segment `p q`, given that the three are collinear.
fn on_segment(p: &[f64; 2], q: &[f64; 2], r: &[f64; 2]) -> bool {
    r[0] >= p[0].min(q[0])
        && r[0] <= p[0].max(q[0])
        && r[1] >= p[1].min(q[1])
        && r[1] <= p[1].max(q[1])
}

/// The closed segments `p q` and `r s` share a point.
fn segments_meet(p: &[f64; 2], q: &[f64; 2], r: &[f64; 2], s: &[f64; 2]) -> bool {
    let (o1, o2, o3, o4) = (
        orient(p, q, r),
        orient(p, q, s),
        orient(r, s, p),
        orient(r, s, q),
    );
    if o1 != o2 && o3 != o4 {
        // A proper crossing, or an endpoint of one on the other.
        return true;
    }
    (o1 == 0 && on_segment(p, q, r))
        || (o2 == 0 && on_segment(p, q, s))
        || (o3 == 0 && on_segment(r, s, p))
        || (o4 == 0 && on_segment(r, s, q))
}

/// Strictly inside the ring (even-odd rule; boundary points are found by
/// the segment test).
fn in_ring(pt: &[f64; 2], ring: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > pt[1]) != (b[1] > pt[1]) {
            let x = (b[0] - a[0]) * (pt[1] - a[1]) / (b[1] - a[1]) + a[0];
            if pt[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Inside the exterior ring and outside every hole.
fn in_polygon(pt: &[f64; 2], rings: &[Vec<[f64; 2]>]) -> bool {
    match rings.split_first() {
        Some((outer, holes)) => in_ring(pt, outer) && !holes.iter().any(|h| in_ring(pt, h)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn g(v: Value) -> Geometry {
        Geometry::from_geojson(&v).unwrap()
    }

    #[test]
    fn intersects_like_st_intersects() {
        let square = g(
            json!({"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]]}),
        );
        let holed = g(
            json!({"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]}),
        );
        let inner = g(
            json!({"type": "Polygon", "coordinates": [[[1.5, 1.5], [2.5, 1.5], [2.5, 2.5], [1.5, 1.5]]]}),
        );
        let touching =
            g(json!({"type": "Polygon", "coordinates": [[[4, 1], [5, 1], [5, 2], [4, 1]]]}));
        let apart =
            g(json!({"type": "Polygon", "coordinates": [[[5, 5], [6, 5], [6, 6], [5, 5]]]}));
        // A triangle whose bbox overlaps the square's but whose shape does not.
        let diagonal =
            g(json!({"type": "Polygon", "coordinates": [[[4.5, 0], [8, 0], [8, 3.5], [4.5, 0]]]}));
        let pt_in = g(json!({"type": "Point", "coordinates": [2, 2]}));
        let pt_edge = g(json!({"type": "Point", "coordinates": [4, 2]}));
        let line_across = g(json!({"type": "LineString", "coordinates": [[-1, 2], [5, 2]]}));
        assert!(square.intersects(&inner) && inner.intersects(&square));
        assert!(!holed.intersects(&inner), "inside the hole");
        assert!(holed.intersects(&line_across));
        assert!(square.intersects(&touching), "touching edges intersect");
        assert!(!square.intersects(&apart));
        assert!(!square.intersects(&diagonal) && !diagonal.intersects(&square));
        assert!(square.intersects(&pt_in) && pt_in.intersects(&square));
        assert!(square.intersects(&pt_edge));
        assert!(!holed.intersects(&pt_in));
        let multi = g(json!({"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [10, 10]},
            {"type": "MultiPolygon", "coordinates": [[[[1.8, 1.8], [2.2, 1.8], [2.2, 2.2], [1.8, 1.8]]]]}]}));
        assert!(square.intersects(&multi));
        let empty = g(json!({"type": "Point", "coordinates": []}));
        assert!(!square.intersects(&empty) && empty.envelope().is_none());
    }

    #[test]
    fn bbox_crossing_the_antimeridian_is_two_boxes() {
        let b = Geometry::from_bbox(&[170.0, -10.0, -170.0, 10.0]).unwrap();
        assert_eq!(b.part_envelopes().len(), 2);
        let fiji = g(json!({"type": "Point", "coordinates": [178, 0]}));
        let samoa = g(json!({"type": "Point", "coordinates": [-172, 0]}));
        let africa = g(json!({"type": "Point", "coordinates": [20, 0]}));
        assert!(b.intersects(&fiji) && b.intersects(&samoa) && !b.intersects(&africa));
        assert!(Geometry::from_bbox(&[0.0, 0.0, 1.0]).is_err());
        assert!(Geometry::from_bbox(&[0.0, 0.0, f64::NAN, 1.0]).is_err());
    }

    #[test]
    fn hostile_geometries_are_errors() {
        let mut deep = json!({"type": "Point", "coordinates": [0, 0]});
        for _ in 0..40 {
            deep = json!({"type": "GeometryCollection", "geometries": [deep]});
        }
        assert!(Geometry::from_geojson(&deep).is_err());
        assert!(
            Geometry::from_geojson(&json!({"type": "Point", "coordinates": ["a", 1]})).is_err()
        );
        assert!(Geometry::from_geojson(&json!({"type": "Blob", "coordinates": []})).is_err());
        assert!(Geometry::from_geojson(&json!([1, 2])).is_err());
    }
}
