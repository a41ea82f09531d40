//! Footprints in EPSG:4326: densified raster edges, reprojected, rounded,
//! split at the antimeridian (RFC 7946).

use gdal::spatial_ref::CoordTransform;
use serde_json::{Value, json};

use crate::error::{RasterError, Result};
use crate::grid::Crs;

/// What the footprint outlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FootprintMode {
    /// The raster's extent (pyramids' default).
    #[default]
    Bbox,
    /// The valid pixels of a band (1-based): GDAL's mask band (nodata,
    /// alpha or mask) polygonised and unioned. Falls back to the extent when
    /// no pixel is valid. Reads the band.
    Data {
        /// The band whose mask is used (1-based).
        band: usize,
    },
}

/// How the footprint (`geometry` + `bbox`) of an Item is computed.
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use stac_raster::{FootprintOptions, ItemOptions};
/// let ds = Dataset::open(path)?;
/// let options = ItemOptions::new("a.tif")
///     .with_footprint(FootprintOptions::default().with_densify_points(0).with_precision(2));
/// let item = ds.to_stac_item("a", &options)?;
/// // The footprint is in lon/lat, rounded to 2 decimals.
/// let lon = item["geometry"]["coordinates"][0][0][0].as_f64().unwrap();
/// assert_eq!(lon, (lon * 100.0).round() / 100.0);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FootprintOptions {
    /// Extent or valid-data footprint.
    pub mode: FootprintMode,
    /// Topology-preserving simplification of a valid-data footprint, in
    /// degrees (`None` = none).
    pub simplify_tolerance: Option<f64>,
    /// Points inserted along each raster edge before reprojecting
    /// (default 20). Inserted points are kept in the output only on edges
    /// that actually curve in EPSG:4326 by more than the output precision,
    /// so a small north-up raster still gets a 5-point ring.
    pub densify_points: usize,
    /// Decimal places of the output coordinates (default 6).
    pub precision: u32,
}

impl Default for FootprintOptions {
    fn default() -> Self {
        Self {
            mode: FootprintMode::Bbox,
            simplify_tolerance: None,
            densify_points: 20,
            precision: 6,
        }
    }
}

impl FootprintOptions {
    /// Points inserted per edge.
    pub fn with_densify_points(mut self, n: usize) -> Self {
        self.densify_points = n;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_densify_points`")]
    pub fn densify_points(self, n: usize) -> Self {
        self.with_densify_points(n)
    }

    /// Decimal places of the output.
    pub fn with_precision(mut self, digits: u32) -> Self {
        self.precision = digits;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_precision`")]
    pub fn precision(self, digits: u32) -> Self {
        self.with_precision(digits)
    }

    /// Outline the valid pixels of `band` (1-based) instead of the extent.
    pub fn with_valid_data(mut self, band: usize) -> Self {
        self.mode = FootprintMode::Data { band };
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_valid_data`")]
    pub fn valid_data(self, band: usize) -> Self {
        self.with_valid_data(band)
    }

    /// Simplify a valid-data footprint by `tolerance` degrees.
    pub fn with_simplify(mut self, tolerance: f64) -> Self {
        self.simplify_tolerance = Some(tolerance);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_simplify`")]
    pub fn simplify(self, tolerance: f64) -> Self {
        self.with_simplify(tolerance)
    }
}

/// A footprint: GeoJSON geometry and its RFC 7946 bbox (west > east when
/// it crosses the antimeridian).
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// GeoJSON `Polygon` or `MultiPolygon`.
    pub geometry: Value,
    /// `[west, south, east, north]`.
    pub bbox: [f64; 4],
}

impl Footprint {
    /// The whole world (used when a raster has no usable CRS).
    pub fn world() -> Self {
        Self {
            geometry: json!({"type": "Polygon", "coordinates": [[
                [-180.0, -90.0], [180.0, -90.0], [180.0, 90.0], [-180.0, 90.0], [-180.0, -90.0]]]}),
            bbox: [-180.0, -90.0, 180.0, 90.0],
        }
    }
}

type Pt = [f64; 2];

/// The footprint of native `bounds` `[minx, miny, maxx, maxy]` in `crs`.
pub fn bounds_footprint(
    bounds: [f64; 4],
    crs: &Crs,
    options: &FootprintOptions,
) -> Result<Footprint> {
    let [x0, y0, x1, y1] = bounds;
    // minx,miny -> maxx,miny -> maxx,maxy -> minx,maxy (pyramids' order).
    let corners: [Pt; 4] = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    let n = options.densify_points;
    // Edges as lists of native points, each without its end corner.
    let mut native: Vec<Pt> = Vec::with_capacity(4 * (n + 1));
    let mut edge_of: Vec<usize> = Vec::new();
    for e in 0..4 {
        let a = corners[e];
        let b = corners[(e + 1) % 4];
        for k in 0..=n {
            let t = k as f64 / (n + 1) as f64;
            native.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
            edge_of.push(e);
        }
    }
    let geo = to_lonlat(&native, crs)?;
    let tol = 0.5 * 10f64.powi(-(options.precision as i32));
    // Per edge: keep the inserted points only if the edge curves.
    let mut ring: Vec<Pt> = Vec::new();
    for e in 0..4 {
        let idx: Vec<usize> = (0..geo.len()).filter(|&i| edge_of[i] == e).collect();
        let start = geo[idx[0]];
        let end = geo[(idx[idx.len() - 1] + 1) % geo.len()];
        let curved = idx[1..]
            .iter()
            .any(|&i| deviation(geo[i], start, end) > tol);
        ring.push(start);
        if curved {
            ring.extend(idx[1..].iter().map(|&i| geo[i]));
        }
    }
    Ok(polygon_footprint(ring, options.precision))
}

/// Reproject native points to lon/lat (EPSG:4326, traditional order).
pub(crate) fn to_lonlat(points: &[Pt], crs: &Crs) -> Result<Vec<Pt>> {
    let to = Crs::Epsg(4326);
    let ct = CoordTransform::new(&crs.to_spatial_ref()?, &to.to_spatial_ref()?)
        .map_err(|e| RasterError::InvalidArgument(format!("CRS transform to EPSG:4326: {e}")))?;
    let mut xs: Vec<f64> = points.iter().map(|p| p[0]).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p[1]).collect();
    let mut zs = vec![0.0; points.len()];
    ct.transform_coords(&mut xs, &mut ys, &mut zs)
        .map_err(|e| {
            RasterError::InvalidArgument(format!(
                "cannot reproject the footprint to EPSG:4326: {e}"
            ))
        })?;
    Ok(xs.into_iter().zip(ys).map(|(x, y)| [x, y]).collect())
}

/// Distance of `p` from the segment a-b (in degrees).
fn deviation(p: Pt, a: Pt, b: Pt) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return ((p[0] - a[0]).powi(2) + (p[1] - a[1]).powi(2)).sqrt();
    }
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0);
    let (qx, qy) = (a[0] + t * dx, a[1] + t * dy);
    ((p[0] - qx).powi(2) + (p[1] - qy).powi(2)).sqrt()
}

fn round_to(v: f64, precision: u32) -> f64 {
    let f = 10f64.powi(precision as i32);
    let r = (v * f).round() / f;
    if r == 0.0 { 0.0 } else { r }
}

/// Build the footprint of an open ring in lon/lat: antimeridian handling
/// (RFC 7946), rounding, closing.
pub(crate) fn polygon_footprint(ring: Vec<Pt>, precision: u32) -> Footprint {
    let (min_lon, max_lon) = lon_range(&ring);
    let global = min_lon <= -180.0 + 1e-9 && max_lon >= 180.0 - 1e-9;
    let mut ring = ring;
    if !global {
        unwrap_longitudes(&mut ring);
    }
    let (min_lon, max_lon) = lon_range(&ring);
    if !global && min_lon < 180.0 && max_lon > 180.0 {
        return split_at(&ring, 180.0, precision);
    }
    if !global && min_lon < -180.0 && max_lon > -180.0 {
        return split_at(&ring, -180.0, precision);
    }
    // Wholly beyond the seam: shift back into [-180, 180].
    let shift = if min_lon >= 180.0 {
        -360.0
    } else if max_lon <= -180.0 {
        360.0
    } else {
        0.0
    };
    let ring: Vec<Pt> = ring
        .into_iter()
        .map(|[x, y]| [round_to(x + shift, precision), round_to(y, precision)])
        .collect();
    let bbox = ring_bbox(&ring);
    Footprint {
        geometry: json!({"type": "Polygon", "coordinates": [closed(ring)]}),
        bbox,
    }
}

fn lon_range(ring: &[Pt]) -> (f64, f64) {
    ring.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p[0]), hi.max(p[0]))
    })
}

/// Make consecutive longitudes continuous (no jump over 180 degrees).
fn unwrap_longitudes(ring: &mut [Pt]) {
    for i in 1..ring.len() {
        let prev = ring[i - 1][0];
        let mut x = ring[i][0];
        while x - prev > 180.0 {
            x -= 360.0;
        }
        while prev - x > 180.0 {
            x += 360.0;
        }
        ring[i][0] = x;
    }
}

/// Cut a continuous ring at longitude `seam` into the part west of it and
/// the part east of it, shifted back into [-180, 180]; a MultiPolygon with
/// a bbox whose west > east.
fn split_at(ring: &[Pt], seam: f64, precision: u32) -> Footprint {
    let west = clip_half(ring, seam, true);
    let east = clip_half(ring, seam, false);
    // The part beyond +180 (or below -180) is shifted by -360 (+360).
    let (west_shift, east_shift) = if seam > 0.0 {
        (0.0, -360.0)
    } else {
        (360.0, 0.0)
    };
    let fix = |part: Vec<Pt>, shift: f64| -> Vec<Pt> {
        part.into_iter()
            .map(|[x, y]| [round_to(x + shift, precision), round_to(y, precision)])
            .collect()
    };
    let west = fix(west, west_shift);
    let east = fix(east, east_shift);
    // West part = the polygon next to +180 (its west edge is the bbox west).
    let (wb, eb) = (ring_bbox(&west), ring_bbox(&east));
    let bbox = [wb[0], wb[1].min(eb[1]), eb[2], wb[3].max(eb[3])];
    Footprint {
        geometry: json!({"type": "MultiPolygon", "coordinates": [[closed(west)], [closed(east)]]}),
        bbox,
    }
}

/// Sutherland–Hodgman clip of a ring against `x <= seam` (`keep_west`) or
/// `x >= seam`.
fn clip_half(ring: &[Pt], seam: f64, keep_west: bool) -> Vec<Pt> {
    let inside = |p: &Pt| {
        if keep_west {
            p[0] <= seam
        } else {
            p[0] >= seam
        }
    };
    let mut out = Vec::new();
    for i in 0..ring.len() {
        let cur = ring[i];
        let prev = ring[(i + ring.len() - 1) % ring.len()];
        let (ci, pi) = (inside(&cur), inside(&prev));
        if ci != pi {
            let t = (seam - prev[0]) / (cur[0] - prev[0]);
            out.push([seam, prev[1] + t * (cur[1] - prev[1])]);
        }
        if ci {
            out.push(cur);
        }
    }
    out
}

fn ring_bbox(ring: &[Pt]) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for p in ring {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

fn closed(mut ring: Vec<Pt>) -> Vec<Pt> {
    if let Some(&first) = ring.first()
        && ring.last() != Some(&first)
    {
        ring.push(first);
    }
    ring
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_crossing_the_antimeridian_is_split() {
        let ring = vec![[179.0, -1.0], [-179.0, -1.0], [-179.0, 1.0], [179.0, 1.0]];
        let f = polygon_footprint(ring, 6);
        assert_eq!(f.geometry["type"], "MultiPolygon");
        assert_eq!(f.bbox, [179.0, -1.0, -179.0, 1.0]);
        let parts = f.geometry["coordinates"].as_array().unwrap();
        for part in parts {
            for p in part[0].as_array().unwrap() {
                let x = p[0].as_f64().unwrap();
                assert!((-180.0..=180.0).contains(&x));
            }
        }
    }

    #[test]
    fn global_ring_is_left_alone() {
        let ring = vec![
            [-180.0, -90.0],
            [180.0, -90.0],
            [180.0, 90.0],
            [-180.0, 90.0],
        ];
        let f = polygon_footprint(ring, 6);
        assert_eq!(f.geometry["type"], "Polygon");
        assert_eq!(f.bbox, [-180.0, -90.0, 180.0, 90.0]);
    }

    #[test]
    fn ring_beyond_the_seam_is_shifted() {
        let ring = vec![[181.0, 0.0], [182.0, 0.0], [182.0, 1.0], [181.0, 1.0]];
        let f = polygon_footprint(ring, 6);
        assert_eq!(f.bbox, [-179.0, 0.0, -178.0, 1.0]);
    }
}
