//! [`Grid`]: what the caller asks of the output grid, and the planner that
//! turns it plus the sources' own grids into a [`TargetGrid`] without I/O.

use serde::Serialize;
use stac_raster::{Crs, CrsCache, Dataset, TargetGrid, transform_bounds};

use crate::error::{CubeError, Result};
use crate::failure::Outside;

/// Where the grid's pixel edges sit when it is derived from the sources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anchor {
    /// Keep the finest sources' own pixel alignment when they agree (so
    /// native pixels are copied, not resampled, e.g. Landsat's 15 m offset);
    /// otherwise edges at multiples of the resolution.
    #[default]
    Auto,
    /// Pixel edges at integer multiples of the resolution (like `gdalwarp -tap`).
    Edge,
}

/// Bounds of a [`Grid`] request.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Bounds {
    /// `[minx, miny, maxx, maxy]` in the grid's CRS.
    Grid([f64; 4]),
    /// `[west, south, east, north]` in degrees (EPSG:4326), transformed to the grid's CRS.
    LonLat([f64; 4]),
}

/// The requested output grid. Every part left `None` is planned from the
/// sources (see [`DatasetCollection::from_stac`](crate::DatasetCollection::from_stac)).
///
/// ```
/// use stac_cube::Grid;
/// let g = Grid::default().with_crs_epsg(32630).with_resolution(10.0).with_bounds([600000.0, 5299960.0, 600040.0, 5300000.0]);
/// assert_eq!(g.resolution, Some([10.0, 10.0]));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Grid {
    /// A complete grid to use as is (overrides everything else).
    pub like: Option<TargetGrid>,
    /// The CRS (default: the most common among the sources).
    pub crs: Option<Crs>,
    /// Pixel size `[x, y]` (positive; default: the finest source's).
    pub resolution: Option<[f64; 2]>,
    /// Bounds (default: the union of the sources' footprints).
    pub bounds: Option<Bounds>,
    /// Pixel alignment when derived.
    pub anchor: Anchor,
}

impl Grid {
    /// The grid of an existing raster (CRS, geotransform, shape).
    pub fn like(dataset: &Dataset) -> Result<Self> {
        let crs = dataset
            .crs()
            .ok_or_else(|| CubeError::Grid(format!("{} has no CRS", dataset.path())))?;
        let gt = dataset
            .geotransform()
            .ok_or_else(|| CubeError::Grid(format!("{} has no geotransform", dataset.path())))?;
        Ok(Self::from_target(TargetGrid::new(
            crs,
            gt,
            dataset.rows(),
            dataset.cols(),
        )))
    }

    /// Use `grid` as is.
    pub fn from_target(grid: TargetGrid) -> Self {
        Self {
            like: Some(grid),
            ..Self::default()
        }
    }

    /// Set the CRS.
    pub fn with_crs(mut self, crs: Crs) -> Self {
        self.crs = Some(crs);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_crs`")]
    pub fn crs(self, crs: Crs) -> Self {
        self.with_crs(crs)
    }

    /// Set the CRS by EPSG code.
    pub fn with_crs_epsg(self, code: u32) -> Self {
        self.with_crs(Crs::Epsg(code))
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_crs_epsg`")]
    pub fn crs_epsg(self, code: u32) -> Self {
        self.with_crs_epsg(code)
    }

    /// Square pixels of `res` CRS units.
    pub fn with_resolution(mut self, res: f64) -> Self {
        self.resolution = Some([res, res]);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_resolution`")]
    pub fn resolution(self, res: f64) -> Self {
        self.with_resolution(res)
    }

    /// Pixels of `x` by `y` CRS units.
    pub fn with_resolution_xy(mut self, x: f64, y: f64) -> Self {
        self.resolution = Some([x, y]);
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_resolution_xy`")]
    pub fn resolution_xy(self, x: f64, y: f64) -> Self {
        self.with_resolution_xy(x, y)
    }

    /// Bounds in the grid's CRS.
    pub fn with_bounds(mut self, bounds: [f64; 4]) -> Self {
        self.bounds = Some(Bounds::Grid(bounds));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bounds`")]
    pub fn bounds(self, bounds: [f64; 4]) -> Self {
        self.with_bounds(bounds)
    }

    /// Bounds in lon/lat degrees.
    pub fn with_bounds_lonlat(mut self, bounds: [f64; 4]) -> Self {
        self.bounds = Some(Bounds::LonLat(bounds));
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_bounds_lonlat`")]
    pub fn bounds_lonlat(self, bounds: [f64; 4]) -> Self {
        self.with_bounds_lonlat(bounds)
    }

    /// Set the anchor.
    pub fn with_anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `with_anchor`")]
    pub fn anchor(self, anchor: Anchor) -> Self {
        self.with_anchor(anchor)
    }
}

/// The grid one source sits on (from `proj:*` or from opening it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SrcGrid {
    pub crs: Crs,
    pub gt: [f64; 6],
    pub rows: usize,
    pub cols: usize,
}

impl SrcGrid {
    pub(crate) fn bounds(&self) -> [f64; 4] {
        stac_meta::geotransform::bounds(&self.gt, self.rows, self.cols)
    }

    /// Whether the grid is north-up without rotation.
    pub(crate) fn is_north_up(&self) -> bool {
        self.gt[2] == 0.0 && self.gt[4] == 0.0 && self.gt[1] > 0.0 && self.gt[5] < 0.0
    }

    /// `[|dx|, |dy|]` (for rotated grids, the lengths of the pixel edges).
    pub(crate) fn res(&self) -> [f64; 2] {
        [self.gt[1].hypot(self.gt[4]), self.gt[2].hypot(self.gt[5])]
    }

    /// Refuse grids no real raster has: non-finite or zero pixel sizes,
    /// sides beyond GDAL's `INT_MAX`, footprints beyond ±1e9 CRS units
    /// (which make PROJ spin for minutes).
    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.gt.iter().all(|v| v.is_finite()) {
            return Err(format!("geotransform {:?} is not finite", self.gt));
        }
        let [rx, ry] = self.res();
        if rx == 0.0 || ry == 0.0 {
            return Err(format!("pixel size {rx} x {ry} is zero"));
        }
        if self.rows == 0
            || self.cols == 0
            || self.rows > i32::MAX as usize
            || self.cols > i32::MAX as usize
        {
            return Err(format!(
                "shape {} x {} is empty or beyond GDAL's limit",
                self.rows, self.cols
            ));
        }
        let b = self.bounds();
        if b.iter().any(|v| !v.is_finite() || v.abs() > 1e9) {
            return Err(format!("footprint {b:?} lies beyond ±1e9 CRS units"));
        }
        Ok(())
    }

    pub(crate) fn describe(&self) -> String {
        let [rx, ry] = self.res();
        format!(
            "{} {}x{} px of {}x{} at ({}, {})",
            self.crs.short(),
            self.cols,
            self.rows,
            rx,
            ry,
            self.gt[0],
            self.gt[3]
        )
    }
}

/// How the cube's grid was chosen, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GridReport {
    /// Why this CRS.
    pub crs: String,
    /// Why this resolution.
    pub resolution: String,
    /// Why these bounds.
    pub bounds: String,
    /// How pixel edges were aligned.
    pub anchor: String,
    /// Sources whose grid came from `proj:*` metadata (no I/O).
    pub from_metadata: usize,
    /// Sources opened because their items carry no grid metadata.
    pub opened: usize,
    /// Sources left out because their footprint misses the grid.
    pub outside: Vec<Outside>,
    /// Other decisions worth knowing (nodata defaults, skipped transforms).
    pub notes: Vec<String>,
    /// Requests that are valid but probably not what was meant (a
    /// resolution implausible for the CRS's units); the CLI prints them.
    pub warnings: Vec<String>,
}

/// Whether two floats agree to a relative tolerance.
pub(crate) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Is `v` a whole number within a tolerance suited to pixel arithmetic?
pub(crate) fn near_integer(v: f64) -> bool {
    (v - v.round()).abs() < 1e-6
}

/// `v` modulo `res` in `[0, res)`, with offsets within a millionth of a
/// pixel of either end read as 0 (a MODIS origin of -20015109.354 at
/// 463.3127... m is 43200 whole pixels, not an offset of 463.31).
fn offset_in(v: f64, res: f64) -> f64 {
    let o = v.rem_euclid(res);
    if o < 1e-6 * res || res - o < 1e-6 * res {
        0.0
    } else {
        o
    }
}

/// A number for the report: at most 6 decimals.
fn round_report(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// A warning when a requested resolution does not fit the CRS's units: more
/// than 5 units per pixel in a geographic CRS (degrees: `60` was probably
/// metres), or under a millimetre in a projected one (`0.0001` was
/// probably degrees).
fn implausible_resolution(r: [f64; 2], crs: &Crs) -> Option<String> {
    let srs = crs.to_spatial_ref().ok()?;
    let label = crs_label(crs);
    if srs.is_geographic() {
        let m = r[0].max(r[1]);
        if m > 5.0 {
            return Some(format!(
                "resolution {m} is in degrees (the units of {label}): one pixel spans {m}° \
                 (about {:.0} km); for {m} m give about {:.6}",
                m * 111.32,
                m / 111_320.0
            ));
        }
    } else {
        let metres = srs.linear_units();
        let m = r[0].min(r[1]) * if metres > 0.0 { metres } else { 1.0 };
        if m < 1e-3 {
            return Some(format!(
                "resolution {} is {m} m per pixel in {label}; was it meant in degrees (about {:.0} m)?",
                r[0].min(r[1]),
                r[0].min(r[1]) * 111_320.0
            ));
        }
    }
    None
}

/// Bounds in `crs` of a lon/lat box that crosses the antimeridian
/// (`west > east`, already accepted by `check_lonlat_bbox`): the parts east
/// and west of 180° are transformed separately. In a geographic CRS the box
/// continues east past 180°; in a CRS continuous across 180° (a UTM zone
/// 1 or 60, a Pacific-centred projection) the two parts are joined; in a CRS
/// whose edge is the antimeridian (sinusoidal, Web Mercator, Plate Carrée)
/// the parts fall on opposite edges of the world, and one grid would span
/// the whole world: an error with the alternatives, never a silent
/// world-wide grid.
fn crossing_bounds(b: [f64; 4], crs: &Crs, report: &mut GridReport) -> Result<[f64; 4]> {
    let lonlat = Crs::Epsg(4326);
    if crs.to_spatial_ref().is_ok_and(|s| s.is_geographic()) {
        let east = transform_bounds(&[b[0], b[1], 180.0, b[3]], &lonlat, crs)?;
        report
            .notes
            .push("the bounds cross the antimeridian; the grid extends east past 180".into());
        return Ok([east[0], east[1], east[2] + (b[2] + 180.0), east[3]]);
    }
    let a = transform_bounds(&[b[0], b[1], 180.0, b[3]], &lonlat, crs)?;
    let w = transform_bounds(&[-180.0, b[1], b[2], b[3]], &lonlat, crs)?;
    let width_a = a[2] - a[0];
    let width_w = w[2] - w[0];
    let tol = 1e-6 * width_a.abs().max(width_w.abs()).max(1.0);
    let joined = [
        a[0].min(w[0]),
        a[1].min(w[1]),
        a[2].max(w[2]),
        a[3].max(w[3]),
    ];
    if w[0] <= a[2] + tol && w[2] >= a[2] - tol {
        // The western part continues the eastern one.
        report.notes.push(format!(
            "the bounds cross the antimeridian; {} is continuous across it",
            crs_label(crs)
        ));
        return Ok(joined);
    }
    Err(CubeError::Grid(format!(
        "the lon/lat bounds [{}, {}, {}, {}] cross the antimeridian, which is an edge of {}: \
         there the box falls on both edges of the world and one grid would span {:.0} CRS units \
         instead of about {:.0}; choose a CRS continuous across 180° (EPSG:4326, EPSG:3832 or \
         the local UTM zone) or split the box at 180°",
        b[0],
        b[1],
        b[2],
        b[3],
        crs_label(crs),
        joined[2] - joined[0],
        width_a + width_w
    )))
}

fn snap_down(v: f64, anchor: f64, res: f64) -> f64 {
    anchor + ((v - anchor) / res + 1e-6).floor() * res
}

fn snap_up(v: f64, anchor: f64, res: f64) -> f64 {
    anchor + ((v - anchor) / res - 1e-6).ceil() * res
}

/// A readable CRS label: `AUTH:CODE` when GDAL can identify it, else the
/// start of the definition.
pub(crate) fn crs_label(crs: &Crs) -> String {
    match crs.authority() {
        Some((auth, code)) => format!("{auth}:{code}"),
        None => crs.short(),
    }
}

/// Plan the output grid from the request and the sources' grids (labels
/// name them in messages). Pure arithmetic plus CRS transforms; no raster I/O.
pub(crate) fn plan_grid(
    request: &Grid,
    sources: &[(String, &SrcGrid)],
    max_pixels: u64,
    same: &mut CrsCache,
    report: &mut GridReport,
) -> Result<TargetGrid> {
    if let Some(like) = &request.like {
        report.crs = format!("{} from the template grid", like.crs.short());
        report.resolution = format!("{} from the template grid", like.geotransform[1]);
        report.bounds = "the template grid".into();
        report.anchor = "the template grid".into();
        check_size(like.rows as u64, like.cols as u64, max_pixels)?;
        return Ok(like.clone());
    }
    let crs = choose_crs(request, sources, report)?;
    let in_crs: Vec<&(String, &SrcGrid)> = sources
        .iter()
        .filter(|(_, g)| same.same(&g.crs, &crs))
        .collect();
    let res = choose_resolution(request, sources, &in_crs, &crs, report)?;
    let bounds = choose_bounds(request, sources, &crs, same, report)?;
    let anchor = choose_anchor(request, &in_crs, res, report);
    let minx = snap_down(bounds[0], anchor[0], res[0]);
    let maxx = snap_up(bounds[2], anchor[0], res[0]);
    let miny = snap_down(bounds[1], anchor[1], res[1]);
    let maxy = snap_up(bounds[3], anchor[1], res[1]);
    let cols = ((maxx - minx) / res[0]).round().max(1.0);
    let rows = ((maxy - miny) / res[1]).round().max(1.0);
    check_size(rows as u64, cols as u64, max_pixels)?;
    Ok(TargetGrid::new(
        crs,
        [minx, res[0], 0.0, maxy, 0.0, -res[1]],
        rows as usize,
        cols as usize,
    ))
}

/// The grid's CRS: the requested one (checked), else the most common
/// among the sources.
fn choose_crs(
    request: &Grid,
    sources: &[(String, &SrcGrid)],
    report: &mut GridReport,
) -> Result<Crs> {
    Ok(match &request.crs {
        Some(c) => {
            if c.to_spatial_ref().is_err() {
                return Err(CubeError::Grid(format!(
                    "unknown CRS {} (GDAL/PROJ cannot build it)",
                    c.short()
                )));
            }
            report.crs = format!("{} (requested)", crs_label(c));
            c.clone()
        }
        None => {
            let mut counts: Vec<(String, usize, &Crs)> = Vec::new();
            for (_, g) in sources {
                let k = CrsCache::key(&g.crs);
                match counts.iter_mut().find(|(key, _, _)| *key == k) {
                    Some(e) => e.1 += 1,
                    None => counts.push((k, 1, &g.crs)),
                }
            }
            let best = counts
                .iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(std::cmp::Ordering::Greater))
                .ok_or_else(|| CubeError::Grid("no source has a grid".into()))?;
            report.crs = if counts.len() == 1 {
                format!("{} (every source)", crs_label(best.2))
            } else {
                format!(
                    "{} (most common: {} of {} sources; {} CRSs in all)",
                    crs_label(best.2),
                    best.1,
                    sources.len(),
                    counts.len()
                )
            };
            best.2.clone()
        }
    })
}

/// The grid's resolution: the requested one (checked), else the finest of
/// the sources in `crs`, else estimated from reprojected footprints.
fn choose_resolution(
    request: &Grid,
    sources: &[(String, &SrcGrid)],
    in_crs: &[&(String, &SrcGrid)],
    crs: &Crs,
    report: &mut GridReport,
) -> Result<[f64; 2]> {
    Ok(match request.resolution {
        Some(r) => {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] > 0.0 && r[1] > 0.0) {
                return Err(CubeError::Grid(format!(
                    "resolution {r:?} must be positive and finite"
                )));
            }
            report.resolution = format!("{} x {} (requested)", r[0], r[1]);
            if let Some(w) = implausible_resolution(r, crs) {
                report.warnings.push(w);
            }
            r
        }
        None => {
            let mut best: Option<([f64; 2], &str)> = None;
            for (label, g) in in_crs {
                let r = g.res();
                best = match best {
                    Some((b, l)) => Some(([b[0].min(r[0]), b[1].min(r[1])], {
                        if r[0] < b[0] { label.as_str() } else { l }
                    })),
                    None => Some((r, label.as_str())),
                };
            }
            match best {
                Some((r, label)) => {
                    report.resolution = format!(
                        "{} x {} (finest of the requested assets, e.g. {label})",
                        r[0], r[1]
                    );
                    r
                }
                None => {
                    // No source in the chosen CRS: estimate from transformed footprints.
                    let mut r = [f64::INFINITY, f64::INFINITY];
                    for (_, g) in sources {
                        if let Ok(b) = transform_bounds(&g.bounds(), &g.crs, crs) {
                            r[0] = r[0].min((b[2] - b[0]) / g.cols as f64);
                            r[1] = r[1].min((b[3] - b[1]) / g.rows as f64);
                        }
                    }
                    if !(r[0].is_finite() && r[1].is_finite() && r[0] > 0.0 && r[1] > 0.0) {
                        return Err(CubeError::Grid(format!(
                            "no source is in {} and no resolution was given",
                            crs.short()
                        )));
                    }
                    report.resolution = format!(
                        "{} x {} (estimated from sources reprojected to {})",
                        r[0],
                        r[1],
                        crs.short()
                    );
                    r
                }
            }
        }
    })
}

/// The grid's bounds in `crs`: requested (grid CRS or lon/lat, across the
/// antimeridian too), else the union of the source footprints.
fn choose_bounds(
    request: &Grid,
    sources: &[(String, &SrcGrid)],
    crs: &Crs,
    same: &mut CrsCache,
    report: &mut GridReport,
) -> Result<[f64; 4]> {
    let bounds = match request.bounds {
        Some(Bounds::Grid(b)) => {
            report.bounds = format!("{b:?} (requested, grid CRS)");
            b
        }
        Some(Bounds::LonLat(b)) => {
            let t = if b[0] > b[2] {
                crossing_bounds(b, crs, report)?
            } else {
                transform_bounds(&b, &Crs::Epsg(4326), crs)?
            };
            report.bounds = format!("{b:?} lon/lat (requested) = {t:?} in {}", crs.short());
            t
        }
        None => {
            let mut u = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            let mut skipped = Vec::new();
            for (label, g) in sources {
                let b = if same.same(&g.crs, crs) {
                    g.bounds()
                } else {
                    match transform_bounds(&g.bounds(), &g.crs, crs) {
                        // GDAL reports a box across the antimeridian as
                        // west > east: continue eastwards past 180.
                        Ok(b) if b.iter().all(|v| v.is_finite()) && b[0] > b[2] => {
                            report.notes.push(format!(
                                "{label} crosses the antimeridian; the grid extends east past 180"
                            ));
                            [b[0], b[1], b[2] + 360.0, b[3]]
                        }
                        Ok(b) if b.iter().all(|v| v.is_finite()) => b,
                        _ => {
                            skipped.push(label.clone());
                            continue;
                        }
                    }
                };
                u = [
                    u[0].min(b[0]),
                    u[1].min(b[1]),
                    u[2].max(b[2]),
                    u[3].max(b[3]),
                ];
            }
            if !skipped.is_empty() {
                report.notes.push(format!(
                    "footprints that could not be transformed to {} were left out of the bounds: {}",
                    crs.short(),
                    skipped.join(", ")
                ));
            }
            report.bounds = format!(
                "union of {} source footprints",
                sources.len() - skipped.len()
            );
            u
        }
    };
    if !bounds.iter().all(|v| v.is_finite()) || bounds[2] <= bounds[0] || bounds[3] <= bounds[1] {
        return Err(CubeError::Grid(format!(
            "empty or invalid bounds {bounds:?}"
        )));
    }
    Ok(bounds)
}

/// The offset of the grid's pixel edges from multiples of `res`: the
/// sources' native alignment when they agree (with `Anchor::Auto`), else 0.
fn choose_anchor(
    request: &Grid,
    in_crs: &[&(String, &SrcGrid)],
    res: [f64; 2],
    report: &mut GridReport,
) -> [f64; 2] {
    // The sources' own pixel edges are kept whenever they agree,
    // whether the bounds and resolution were derived or requested, so a
    // subset (`bounds`) or a coarser multiple (`resolution`) of a cube stays
    // on the full cube's lattice.
    let mut anchor = [0.0, 0.0];
    report.anchor = "edge (pixel edges at multiples of the resolution)".into();
    if request.anchor == Anchor::Auto {
        // Sources whose pixel size equals the resolution or divides it
        // exactly: their edges are edges of the grid.
        let divides = |native: f64, target: f64| {
            let k = target / native;
            k > 1.0 - 1e-9 && near_integer(k)
        };
        let natives: Vec<[f64; 2]> = in_crs
            .iter()
            .filter(|(_, g)| {
                g.is_north_up() && divides(g.res()[0], res[0]) && divides(g.res()[1], res[1])
            })
            .map(|(_, g)| [g.gt[0].rem_euclid(res[0]), g.gt[3].rem_euclid(res[1])])
            .collect();
        if let Some(first) = natives.first() {
            let agree = natives.iter().all(|a| {
                let dx = (a[0] - first[0]).abs();
                let dy = (a[1] - first[1]).abs();
                (dx < 1e-6 * res[0] || (res[0] - dx) < 1e-6 * res[0])
                    && (dy < 1e-6 * res[1] || (res[1] - dy) < 1e-6 * res[1])
            });
            if agree {
                // Snap with the exact offset; report it as 0 when it is a
                // whole pixel to within float error.
                anchor = *first;
                let shown = [offset_in(anchor[0], res[0]), offset_in(anchor[1], res[1])];
                if shown != [0.0, 0.0] {
                    report.anchor = format!(
                        "the sources' native alignment (pixel edges offset by {}, {} from multiples of the resolution)",
                        round_report(shown[0]),
                        round_report(shown[1])
                    );
                } else {
                    report.anchor = "edge (the sources' native alignment)".into();
                }
            } else {
                report.notes.push(
                    "sources at the chosen resolution disagree on pixel alignment; using edge anchor"
                        .into(),
                );
            }
        }
    }
    anchor
}

fn check_size(rows: u64, cols: u64, limit: u64) -> Result<()> {
    let pixels = rows as u128 * cols as u128;
    let side = i32::MAX as u64;
    if pixels > limit as u128 || rows == 0 || cols == 0 || rows > side || cols > side {
        return Err(CubeError::GridTooLarge {
            rows,
            cols,
            pixels,
            limit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x0: f64, y0: f64, res: f64, n: usize) -> SrcGrid {
        SrcGrid {
            crs: Crs::Epsg(32630),
            gt: [x0, res, 0.0, y0, 0.0, -res],
            rows: n,
            cols: n,
        }
    }

    #[test]
    fn finest_resolution_and_union() {
        let a = g(600000.0, 5300000.0, 10.0, 4);
        let b = g(600000.0, 5300000.0, 20.0, 2);
        let c = g(600040.0, 5300000.0, 10.0, 4);
        let srcs = vec![
            ("a".to_string(), &a),
            ("b".to_string(), &b),
            ("c".to_string(), &c),
        ];
        let mut r = GridReport::default();
        let grid = plan_grid(
            &Grid::default(),
            &srcs,
            1_000_000,
            &mut CrsCache::default(),
            &mut r,
        )
        .unwrap();
        assert_eq!(
            grid.geotransform,
            [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0]
        );
        assert_eq!((grid.rows, grid.cols), (4, 8));
        assert!(r.resolution.contains("10"), "{}", r.resolution);
    }

    #[test]
    fn native_anchor_is_kept_and_edge_snaps() {
        let a = g(224085.0, 4000005.0, 30.0, 10);
        let srcs = vec![("a".to_string(), &a)];
        let mut r = GridReport::default();
        let auto = plan_grid(
            &Grid::default(),
            &srcs,
            1 << 30,
            &mut CrsCache::default(),
            &mut r,
        )
        .unwrap();
        assert_eq!(auto.geotransform[0], 224085.0);
        assert_eq!((auto.rows, auto.cols), (10, 10));
        let edge = plan_grid(
            &Grid::default().with_anchor(Anchor::Edge),
            &srcs,
            1 << 30,
            &mut CrsCache::default(),
            &mut r,
        )
        .unwrap();
        assert_eq!(edge.geotransform[0], 224070.0);
        assert_eq!((edge.rows, edge.cols), (11, 11));
    }

    #[test]
    fn pixel_limit_gives_the_size() {
        let a = g(0.0, 100000.0, 1.0, 100000);
        let srcs = vec![("a".to_string(), &a)];
        let err = plan_grid(
            &Grid::default(),
            &srcs,
            1000,
            &mut CrsCache::default(),
            &mut GridReport::default(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("100000 rows x 100000 cols") && msg.contains("1000-pixel limit"),
            "{msg}"
        );
    }
}
