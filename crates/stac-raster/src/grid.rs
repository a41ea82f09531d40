//! Georeferencing: [`Crs`], [`GridSpec`] (CRS + geotransform) and
//! [`TargetGrid`] (a grid with a shape, for warping).

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};

use crate::error::{RasterError, Result};

/// A coordinate reference system, by EPSG code or by definition (WKT,
/// PROJJSON, `AUTH:CODE` ...).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Crs {
    /// An EPSG code.
    Epsg(u32),
    /// Any definition GDAL's `SetFromUserInput` accepts (WKT1/2, PROJJSON,
    /// PROJ string, `ESRI:54009` ...).
    Wkt(String),
}

impl Crs {
    /// Parse user input: `EPSG:4326` (any case) or a bare number gives
    /// [`Crs::Epsg`]; anything else is kept as a definition and checked by
    /// GDAL.
    ///
    /// ```
    /// use stac_raster::Crs;
    /// assert_eq!(Crs::parse("EPSG:32630")?, Crs::Epsg(32630));
    /// assert_eq!(Crs::parse("4326")?.epsg(), Some(4326));
    /// assert!(Crs::parse("not a crs").is_err());
    /// # Ok::<(), stac_raster::RasterError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let code = t
            .strip_prefix("EPSG:")
            .or_else(|| t.strip_prefix("epsg:"))
            .unwrap_or(t);
        if let Ok(n) = code.parse::<u32>() {
            return Ok(Self::Epsg(n));
        }
        let crs = Self::Wkt(t.to_owned());
        crs.to_spatial_ref()?;
        Ok(crs)
    }

    /// A GDAL spatial reference with traditional GIS axis order (x = east /
    /// longitude, y = north / latitude).
    pub fn to_spatial_ref(&self) -> Result<SpatialRef> {
        let mut srs = match self {
            Self::Epsg(code) => SpatialRef::from_epsg(*code),
            Self::Wkt(def) => SpatialRef::from_definition(def),
        }
        .map_err(|e| RasterError::InvalidArgument(format!("CRS {}: {e}", self.short())))?;
        srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        Ok(srs)
    }

    /// The CRS as WKT (WKT1 as GDAL writes it to datasets).
    pub fn to_wkt(&self) -> Result<String> {
        self.to_spatial_ref()?
            .to_wkt()
            .map_err(|e| RasterError::InvalidArgument(format!("CRS {}: {e}", self.short())))
    }

    /// The CRS as WKT2 (2019).
    pub fn to_wkt2(&self) -> Result<String> {
        let srs = self.to_spatial_ref()?;
        wkt2_of(&srs)
    }

    /// The EPSG code: the code itself, or the root authority of a definition
    /// when it is EPSG (identified by GDAL if the definition names none).
    pub fn epsg(&self) -> Option<u32> {
        match self {
            Self::Epsg(code) => Some(*code),
            Self::Wkt(_) => {
                let (name, code) = self.authority()?;
                if name.eq_ignore_ascii_case("EPSG") {
                    code.parse().ok()
                } else {
                    None
                }
            }
        }
    }

    /// The root authority and code (`("EPSG", "32630")`, `("ESRI", "54009")`),
    /// trying GDAL's EPSG identification when the definition names none.
    pub fn authority(&self) -> Option<(String, String)> {
        if let Self::Epsg(code) = self {
            return Some(("EPSG".into(), code.to_string()));
        }
        let mut srs = self.to_spatial_ref().ok()?;
        if let (Some(name), Ok(code)) = (srs.auth_name(), srs.auth_code()) {
            return Some((name, code.to_string()));
        }
        srs.auto_identify_epsg().ok()?;
        match (srs.auth_name(), srs.auth_code()) {
            (Some(name), Ok(code)) => Some((name, code.to_string())),
            _ => None,
        }
    }

    /// A short label for messages: `EPSG:n` or the first 40 characters.
    pub fn short(&self) -> String {
        match self {
            Self::Epsg(code) => format!("EPSG:{code}"),
            Self::Wkt(def) => def.chars().take(40).collect(),
        }
    }

    /// Whether two CRSs are the same (GDAL's `IsSame`).
    pub fn is_same(&self, other: &Crs) -> bool {
        if self == other {
            return true;
        }
        match (self.to_spatial_ref(), other.to_spatial_ref()) {
            // SAFETY: both handles are valid for the call.
            (Ok(a), Ok(b)) => unsafe { gdal_sys::OSRIsSame(a.to_c_hsrs(), b.to_c_hsrs()) != 0 },
            _ => false,
        }
    }
}

/// CRS equality with memory: GDAL's comparison (`OSRIsSame`) runs once
/// per pair of definitions, since it is not free and planning a cube or a
/// mosaic asks it for every source. The one CRS-equality cache of the
/// workspace (cube planning and placement, VRT planning).
///
/// ```
/// use stac_raster::{Crs, CrsCache};
/// let mut same = CrsCache::default();
/// assert!(same.same(&Crs::Epsg(32630), &Crs::parse("EPSG:32630")?));
/// let wkt = Crs::Epsg(32630).to_wkt()?;
/// assert!(same.same(&Crs::Epsg(32630), &Crs::Wkt(wkt)));
/// assert!(!same.same(&Crs::Epsg(32630), &Crs::Epsg(32631)));
/// assert_eq!(CrsCache::key(&Crs::Epsg(4326)), "EPSG:4326");
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct CrsCache {
    same: std::collections::HashMap<(String, String), bool>,
}

impl CrsCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// A key for grouping CRSs without calling GDAL: `EPSG:n`, or the
    /// definition itself.
    pub fn key(crs: &Crs) -> String {
        match crs {
            Crs::Epsg(c) => format!("EPSG:{c}"),
            Crs::Wkt(def) => def.clone(),
        }
    }

    /// Whether `a` and `b` are the same CRS ([`Crs::is_same`]), remembered
    /// per pair of keys.
    pub fn same(&mut self, a: &Crs, b: &Crs) -> bool {
        let key = (Self::key(a), Self::key(b));
        if key.0 == key.1 {
            return true;
        }
        *self.same.entry(key).or_insert_with(|| a.is_same(b))
    }
}

pub(crate) fn wkt2_of(srs: &SpatialRef) -> Result<String> {
    let opts = [
        c"FORMAT=WKT2_2019".as_ptr(),
        c"MULTILINE=NO".as_ptr(),
        std::ptr::null(),
    ];
    let mut out: *mut std::ffi::c_char = std::ptr::null_mut();
    // SAFETY: valid handle, NULL-terminated option list; GDAL allocates `out`.
    let rv = unsafe { gdal_sys::OSRExportToWktEx(srs.to_c_hsrs(), &mut out, opts.as_ptr()) };
    if rv != gdal_sys::OGRErr::OGRERR_NONE || out.is_null() {
        if !out.is_null() {
            // SAFETY: allocated by GDAL.
            unsafe { gdal_sys::VSIFree(out.cast()) };
        }
        return Err(RasterError::InvalidArgument(
            "CRS cannot be exported as WKT2".into(),
        ));
    }
    // SAFETY: NUL-terminated string allocated by GDAL, freed right after copying.
    let s = unsafe { std::ffi::CStr::from_ptr(out) }
        .to_string_lossy()
        .into_owned();
    unsafe { gdal_sys::VSIFree(out.cast()) };
    Ok(s)
}

/// Where a raster sits: its CRS and GDAL geotransform
/// `[x0, dx, rx, y0, ry, dy]`.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    /// GDAL geotransform.
    pub geotransform: [f64; 6],
    /// The CRS (`None` leaves the raster without one).
    pub crs: Option<Crs>,
}

impl GridSpec {
    /// A north-up grid: top-left corner `[x, y]`, square cells of `cell`
    /// units, CRS `EPSG:epsg`.
    ///
    /// ```
    /// let g = stac_raster::GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630);
    /// assert_eq!(g.geotransform, [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0]);
    /// ```
    pub fn north_up(top_left: [f64; 2], cell: f64, epsg: u32) -> Self {
        Self {
            geotransform: [top_left[0], cell, 0.0, top_left[1], 0.0, -cell],
            crs: Some(Crs::Epsg(epsg)),
        }
    }

    /// A grid from a full geotransform and a CRS.
    pub fn from_geotransform(geotransform: [f64; 6], crs: Option<Crs>) -> Self {
        Self { geotransform, crs }
    }

    /// Replace the CRS.
    pub fn with_crs(mut self, crs: Crs) -> Self {
        self.crs = Some(crs);
        self
    }

    /// Rectangular (`dx`, `dy`) cell sizes when the grid is not rotated.
    pub fn cell_size(&self) -> (f64, f64) {
        (self.geotransform[1], self.geotransform[5])
    }
}

/// A target grid for [`Dataset::warp_to`](crate::Dataset::warp_to): CRS,
/// geotransform and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetGrid {
    /// The target CRS.
    pub crs: Crs,
    /// The target geotransform.
    pub geotransform: [f64; 6],
    /// Rows of the target.
    pub rows: usize,
    /// Columns of the target.
    pub cols: usize,
}

impl TargetGrid {
    /// A grid of `rows` x `cols` cells.
    pub fn new(crs: Crs, geotransform: [f64; 6], rows: usize, cols: usize) -> Self {
        Self {
            crs,
            geotransform,
            rows,
            cols,
        }
    }

    /// The north-up grid covering `bounds` `[minx, miny, maxx, maxy]` with
    /// square cells of `cell` (rounded up to whole cells).
    pub fn from_bounds(crs: Crs, bounds: [f64; 4], cell: f64) -> Result<Self> {
        if !cell.is_finite() || cell <= 0.0 || bounds[2] <= bounds[0] || bounds[3] <= bounds[1] {
            return Err(RasterError::InvalidArgument(format!(
                "grid from bounds {bounds:?} with cell {cell}"
            )));
        }
        let cols = ((bounds[2] - bounds[0]) / cell - 1e-9).ceil().max(1.0) as usize;
        let rows = ((bounds[3] - bounds[1]) / cell - 1e-9).ceil().max(1.0) as usize;
        Ok(Self::new(
            crs,
            [bounds[0], cell, 0.0, bounds[3], 0.0, -cell],
            rows,
            cols,
        ))
    }
}
