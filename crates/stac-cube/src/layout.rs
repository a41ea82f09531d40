//! [`CubeLayout`]: a cube described as the `xarray.Dataset` odc-stac would
//! give for it (`odc.stac.load(...)`), and as xarray writes that dataset
//! with `to_zarr`/`to_netcdf`: variable names, dimensions, data types,
//! coordinate values and attributes. No pixel, no GDAL, no I/O: the Zarr
//! and NetCDF writers (and the Python bindings) build their output from it.
//!
//! What it holds, and where each rule comes from:
//!
//! - dimensions `(time, y, x)`, or `(time, latitude, longitude)` for a
//!   geographic CRS (odc-geo's `GeoBox.dimensions`);
//! - one data variable per band ([`BandVariable`]): name, type, the
//!   `nodata` attribute (odc-stac's), `_FillValue` NaN for floating types
//!   only (what xarray writes for a float array without an encoding;
//!   integer bands get none, so xarray opens them with their own type and
//!   values, as odc-stac loaded them), `scale_factor`/`add_offset` when the
//!   cube was not rescaled and the band declares them, `common_name` and
//!   `wavelength` (µm) when the STAC `eo`/`bands` metadata has them,
//!   `grid_mapping = "spatial_ref"`, and `coordinates` naming the
//!   per-timestep string coordinates;
//! - `time` ([`TimeCoord`]): one value per timestep, the datetime of the
//!   timestep's first item, naive UTC with microsecond precision (odc-stac
//!   drops the time zone of Python `datetime`s), stored as `int64` with the
//!   CF `units`/`calendar` xarray infers for `datetime64[ns]` (the largest
//!   of days … nanoseconds that divides every step, since the first value;
//!   `proleptic_gregorian`);
//! - `y`/`x` ([`SpatialCoord`]): pixel centres as odc-geo computes them
//!   (`arange(n) * res + (origin + res / 2)`, float64), with `units`,
//!   `resolution` and `crs` attributes;
//! - `spatial_ref` ([`GridMapping`]): an `int32` scalar (the EPSG code, or
//!   0) whose attributes are `spatial_ref` and `crs_wkt` (the WKT) and
//!   `GeoTransform` (GDAL order, rendered as odc-geo does), the attributes
//!   rioxarray and odc-geo read the CRS and transform from;
//! - per timestep, the STAC item ids ([`CubeLayout::item_ids`], the string
//!   coordinate `stac_items`: ids joined by `,`; the lossless JSON list is
//!   the global attribute `stac_items`) and, for grouped cubes, the group
//!   key (string coordinate `group_key`).
//!
//! Built from a [`CubePlan`](crate::CubePlan) with
//! [`CubePlan::layout`](crate::CubePlan::layout) (no pixel read) or from a
//! loaded [`DatasetCollection`](crate::DatasetCollection); or from its parts
//! with [`CubeLayout::new`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use stac_meta::DataType;

use crate::timeline::Timestep;

/// The name of the grid-mapping variable (odc-geo's and rioxarray's default).
pub const GRID_MAPPING: &str = "spatial_ref";
/// The name of the per-timestep item-ids coordinate.
pub const ITEMS_COORD: &str = "stac_items";
/// The name of the per-timestep group-key coordinate (grouped cubes).
pub const GROUP_KEY_COORD: &str = "group_key";

/// What a band of the cube is, beyond its pixels: the STAC band metadata
/// the layout turns into attributes.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct BandInfo {
    /// The band's name in the cube (the data variable's name).
    pub name: String,
    /// The `eo:bands`/`bands` `common_name` (`red`, `nir`, ...).
    pub common_name: Option<String>,
    /// The `eo:bands` `center_wavelength` (STAC 1.1 `eo:center_wavelength`), µm.
    pub wavelength: Option<f64>,
    /// `raster:bands` `scale` of the stored values (`None`: 1, or rescaled).
    pub scale: Option<f64>,
    /// `raster:bands` `offset` of the stored values (`None`: 0, or rescaled).
    pub offset: Option<f64>,
    /// `raster:bands` `unit`.
    pub unit: Option<String>,
}

impl BandInfo {
    /// A band with only a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// With the band's common name.
    pub fn with_common_name(mut self, name: Option<String>) -> Self {
        self.common_name = name;
        self
    }

    /// With the band's centre wavelength (µm).
    pub fn with_wavelength(mut self, wavelength: Option<f64>) -> Self {
        self.wavelength = wavelength;
        self
    }

    /// With the scale and offset of its stored values (a scale of 1 and
    /// an offset of 0 are dropped).
    pub fn with_scale_offset(mut self, scale: Option<f64>, offset: Option<f64>) -> Self {
        self.scale = scale.filter(|s| *s != 1.0);
        self.offset = offset.filter(|o| *o != 0.0);
        self
    }

    /// With the unit of its values.
    pub fn with_unit(mut self, unit: Option<String>) -> Self {
        self.unit = unit;
        self
    }
}

/// The CRS and grid, as plain values (the GDAL-facing caller fills them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GridDescription {
    /// The CRS as WKT (WKT2 2019 preferred, as pyproj writes it).
    pub crs_wkt: String,
    /// The EPSG code, when the CRS is one.
    pub epsg: Option<u32>,
    /// A short CRS label (`EPSG:32630`), odc-geo's `str(crs)`.
    pub crs_label: String,
    /// Whether the CRS is geographic (dimensions `latitude`/`longitude`).
    pub geographic: bool,
    /// Unit names of the `y` and `x` axes (`metre`; `degrees_north`/`degrees_east`).
    pub units: [String; 2],
    /// The grid's GDAL geotransform.
    pub geotransform: [f64; 6],
    /// Rows (y).
    pub rows: usize,
    /// Columns (x).
    pub cols: usize,
}

impl GridDescription {
    /// A grid description; the axis units follow `geographic`
    /// (`degrees_north`/`degrees_east`) or are `linear_unit` for both.
    pub fn new(
        crs_wkt: impl Into<String>,
        epsg: Option<u32>,
        geographic: bool,
        linear_unit: &str,
        geotransform: [f64; 6],
        rows: usize,
        cols: usize,
    ) -> Self {
        let units = if geographic {
            ["degrees_north".to_owned(), "degrees_east".to_owned()]
        } else {
            [linear_unit.to_owned(), linear_unit.to_owned()]
        };
        let crs_wkt = crs_wkt.into();
        let crs_label = match epsg {
            Some(c) => format!("EPSG:{c}"),
            None => crs_wkt.clone(),
        };
        Self {
            crs_wkt,
            epsg,
            crs_label,
            geographic,
            units,
            geotransform,
            rows,
            cols,
        }
    }
}

/// The `time` coordinate: values and their CF encoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TimeCoord {
    /// Nanoseconds since 1970-01-01T00:00:00 UTC (`datetime64[ns]`), at
    /// microsecond precision; `None` (NaT) for a timestep without datetime.
    pub values: Vec<Option<i64>>,
    /// CF units, as xarray infers them (`"seconds since 2021-06-01 10:00:00"`).
    pub units: String,
    /// CF calendar (`proleptic_gregorian`).
    pub calendar: String,
    /// The stored `int64` values in `units` (NaT as [`NAT`]).
    pub encoded: Vec<i64>,
}

/// The stored value of a missing time (numpy's NaT), and the time
/// variable's `_FillValue` when some timestep has no datetime.
pub const NAT: i64 = i64::MIN;

/// A spatial coordinate (`y`/`x` or `latitude`/`longitude`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SpatialCoord {
    /// Its name, also its dimension's.
    pub name: String,
    /// Pixel-centre values.
    pub values: Vec<f64>,
    /// The cell size along it (negative for north-up `y`).
    pub resolution: f64,
    /// Its `units` attribute.
    pub units: String,
    /// Its `crs` attribute.
    pub crs: String,
}

impl SpatialCoord {
    /// Its attributes as odc-geo sets them: `units`, `resolution`, `crs`.
    pub fn attrs(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("units".into(), json!(self.units));
        m.insert("resolution".into(), json!(self.resolution));
        m.insert("crs".into(), json!(self.crs));
        m
    }

    /// The CF axis attributes a NetCDF reader (GDAL's classic netCDF
    /// driver, CF checkers) looks for, as rioxarray writes them from
    /// pyproj's `CRS.cs_to_cf()`: `axis`, `standard_name`
    /// (`projection_x_coordinate`/`projection_y_coordinate`, or
    /// `longitude`/`latitude`) and `long_name` (`units` is in
    /// [`attrs`](Self::attrs)). Empty for a coordinate of another name.
    /// The NetCDF writer writes only `long_name` of these: GDAL 3.12.4's
    /// classic reader misreads strips of a file whose `y` has `axis` or
    /// `standard_name`.
    pub fn cf_attrs(&self) -> Map<String, Value> {
        let (axis, standard, long) = match self.name.as_str() {
            "x" => ("X", "projection_x_coordinate", "x coordinate of projection"),
            "y" => ("Y", "projection_y_coordinate", "y coordinate of projection"),
            "longitude" => ("X", "longitude", "longitude coordinate"),
            "latitude" => ("Y", "latitude", "latitude coordinate"),
            _ => return Map::new(),
        };
        let mut m = Map::new();
        m.insert("axis".into(), json!(axis));
        m.insert("standard_name".into(), json!(standard));
        m.insert("long_name".into(), json!(long));
        m
    }
}

/// The `spatial_ref` grid-mapping variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GridMapping {
    /// The scalar's value: the EPSG code, or 0.
    pub epsg: i32,
    /// The CRS as WKT.
    pub crs_wkt: String,
    /// The geotransform, rendered as odc-geo does (`"500000 10 0 5316790 0 -10"`).
    pub geo_transform: String,
}

impl GridMapping {
    /// Its attributes: `spatial_ref`, `crs_wkt`, `GeoTransform`.
    pub fn attrs(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("spatial_ref".into(), json!(self.crs_wkt));
        m.insert("crs_wkt".into(), json!(self.crs_wkt));
        m.insert("GeoTransform".into(), json!(self.geo_transform));
        m
    }
}

/// One data variable: a band, dims `(time, y, x)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BandVariable {
    /// The variable's name (the band's name in the cube).
    pub name: String,
    /// Its element type.
    pub dtype: DataType,
    /// The cube's nodata (attribute `nodata`).
    pub nodata: Option<f64>,
    /// `_FillValue`: NaN for floating types, none for integers (xarray's
    /// default encoding; see the module docs).
    pub fill_value: Option<f64>,
    /// The STAC band metadata.
    pub info: BandInfo,
    /// The string coordinates along `time` (the `coordinates` attribute).
    pub coordinates: Vec<String>,
}

impl BandVariable {
    /// Its attributes, as they are stored (without `_FillValue`, which a
    /// Zarr store keeps in `.zarray`'s `fill_value`, and without
    /// `_ARRAY_DIMENSIONS`): `nodata`, `scale_factor`, `add_offset`,
    /// `units`, `common_name`, `wavelength`, `grid_mapping`, `coordinates`.
    pub fn attrs(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(v) = self.nodata {
            m.insert("nodata".into(), number(v, self.dtype));
        }
        if let Some(s) = self.info.scale {
            m.insert("scale_factor".into(), json!(s));
        }
        if let Some(o) = self.info.offset {
            m.insert("add_offset".into(), json!(o));
        }
        if let Some(u) = &self.info.unit {
            m.insert("units".into(), json!(u));
        }
        if let Some(c) = &self.info.common_name {
            m.insert("common_name".into(), json!(c));
        }
        if let Some(w) = self.info.wavelength {
            m.insert("wavelength".into(), json!(w));
            m.insert("wavelength_units".into(), json!("micrometers"));
        }
        m.insert("grid_mapping".into(), json!(GRID_MAPPING));
        if !self.coordinates.is_empty() {
            m.insert("coordinates".into(), json!(self.coordinates.join(" ")));
        }
        m
    }
}

/// A JSON number as xarray stores an attribute of the array's type: an
/// integer for integer types, a float otherwise (NaN/inf as the strings
/// `"NaN"`, `"Infinity"`, `"-Infinity"`, as zarr-python writes them).
pub fn number(v: f64, dtype: DataType) -> Value {
    if v.is_nan() {
        return json!("NaN");
    }
    if v.is_infinite() {
        return json!(if v > 0.0 { "Infinity" } else { "-Infinity" });
    }
    if !dtype.is_float() && v.fract() == 0.0 && v.abs() < 9.0e15 {
        return json!(v as i64);
    }
    json!(v)
}

/// A cube as an xarray Dataset (see the module docs).
///
/// ```
/// use stac_cube::layout::{BandInfo, CubeLayout, GridDescription};
/// use stac_meta::DataType;
/// let grid = GridDescription::new("PROJCRS[...]", Some(32630), false, "metre",
///     [600000.0, 10.0, 0.0, 5300000.0, 0.0, -10.0], 2, 3);
/// let t = chrono::DateTime::parse_from_rfc3339("2021-06-01T10:00:00Z")?.to_utc();
/// let layout = CubeLayout::new(&grid, &[(Some(t), vec!["scene-1".into()], None)],
///     &[BandInfo::new("B04").with_common_name(Some("red".into()))], DataType::Uint16, Some(0.0));
/// assert_eq!(layout.dims(), ["time", "y", "x"]);
/// assert_eq!(layout.x.values, [600005.0, 600015.0, 600025.0]);
/// assert_eq!(layout.time.units, "days since 2021-06-01 10:00:00");
/// assert_eq!(layout.bands[0].attrs()["common_name"], "red");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CubeLayout {
    /// The `time` coordinate.
    pub time: TimeCoord,
    /// The `y` (or `latitude`) coordinate.
    pub y: SpatialCoord,
    /// The `x` (or `longitude`) coordinate.
    pub x: SpatialCoord,
    /// The `spatial_ref` grid-mapping variable.
    pub spatial_ref: GridMapping,
    /// One data variable per band, in cube order.
    pub bands: Vec<BandVariable>,
    /// Per timestep, the ids of the items fused into it, in priority order.
    pub item_ids: Vec<Vec<String>>,
    /// Per timestep, the group key (grouped cubes only).
    pub group_keys: Option<Vec<String>>,
    /// The grid, as given.
    pub grid: GridDescription,
}

/// One timestep as [`CubeLayout::new`] takes it: datetime, item ids, group key.
pub type TimestepParts = (Option<DateTime<Utc>>, Vec<String>, Option<String>);

impl CubeLayout {
    /// The layout of a cube on `grid`, with these timesteps (datetime of
    /// the first item, item ids, group key) and bands, all of type `dtype`
    /// with the cube's `nodata`.
    pub fn new(
        grid: &GridDescription,
        timesteps: &[TimestepParts],
        bands: &[BandInfo],
        dtype: DataType,
        nodata: Option<f64>,
    ) -> Self {
        let gt = grid.geotransform;
        let (ydim, xdim) = if grid.geographic {
            ("latitude", "longitude")
        } else {
            ("y", "x")
        };
        let axis = |n: usize, origin: f64, res: f64| -> Vec<f64> {
            // odc-geo: numpy.arange(n) * res + (origin + res / 2)
            let start = origin + res / 2.0;
            (0..n).map(|i| i as f64 * res + start).collect()
        };
        let y = SpatialCoord {
            name: ydim.into(),
            values: axis(grid.rows, gt[3], gt[5]),
            resolution: gt[5],
            units: grid.units[0].clone(),
            crs: grid.crs_label.clone(),
        };
        let x = SpatialCoord {
            name: xdim.into(),
            values: axis(grid.cols, gt[0], gt[1]),
            resolution: gt[1],
            units: grid.units[1].clone(),
            crs: grid.crs_label.clone(),
        };
        let spatial_ref = GridMapping {
            epsg: grid.epsg.and_then(|c| i32::try_from(c).ok()).unwrap_or(0),
            crs_wkt: grid.crs_wkt.clone(),
            geo_transform: render_geo_transform(&gt),
        };
        let grouped = timesteps.iter().any(|t| t.2.is_some());
        let group_keys = grouped.then(|| {
            timesteps
                .iter()
                .map(|t| t.2.clone().unwrap_or_default())
                .collect()
        });
        let mut coordinates = vec![ITEMS_COORD.to_owned()];
        if grouped {
            coordinates.push(GROUP_KEY_COORD.to_owned());
        }
        let bands = bands
            .iter()
            .map(|b| BandVariable {
                name: b.name.clone(),
                dtype,
                nodata,
                fill_value: dtype.is_float().then_some(f64::NAN),
                info: b.clone(),
                coordinates: coordinates.clone(),
            })
            .collect();
        Self {
            time: time_coord(timesteps.iter().map(|t| t.0)),
            y,
            x,
            spatial_ref,
            bands,
            item_ids: timesteps.iter().map(|t| t.1.clone()).collect(),
            group_keys,
            grid: grid.clone(),
        }
    }

    /// The layout of these cube timesteps (see [`CubeLayout::new`]).
    pub(crate) fn from_timesteps(
        grid: &GridDescription,
        timesteps: &[Timestep],
        bands: &[BandInfo],
        dtype: DataType,
        nodata: Option<f64>,
    ) -> Self {
        let parts: Vec<TimestepParts> = timesteps
            .iter()
            .map(|t| {
                (
                    t.datetime,
                    t.items.clone(),
                    t.key.as_ref().map(|k| k.to_string()),
                )
            })
            .collect();
        Self::new(grid, &parts, bands, dtype, nodata)
    }

    /// The dimension names of every data variable: `time`, then y, then x.
    pub fn dims(&self) -> [&str; 3] {
        ["time", &self.y.name, &self.x.name]
    }

    /// The shape of every data variable: `(time, y, x)`.
    pub fn shape(&self) -> [usize; 3] {
        [
            self.time.values.len(),
            self.y.values.len(),
            self.x.values.len(),
        ]
    }

    /// The `time` variable's attributes: `units`, `calendar` (and
    /// `_FillValue` when a timestep has no datetime).
    pub fn time_attrs(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("units".into(), json!(self.time.units));
        m.insert("calendar".into(), json!(self.time.calendar));
        if self.time.values.iter().any(Option::is_none) {
            m.insert("_FillValue".into(), json!(NAT));
        }
        m
    }

    /// The per-timestep string coordinates: (`stac_items`, ids joined by
    /// `,`) and, grouped, (`group_key`, the key).
    pub fn string_coords(&self) -> Vec<(&'static str, Vec<String>)> {
        let mut out = vec![(
            ITEMS_COORD,
            self.item_ids.iter().map(|ids| ids.join(",")).collect(),
        )];
        if let Some(keys) = &self.group_keys {
            out.push((GROUP_KEY_COORD, keys.clone()));
        }
        out
    }

    /// The dataset's global attributes: `stac_items`, the per-timestep
    /// item ids as JSON text (lossless, whatever the ids hold).
    pub fn global_attrs(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            ITEMS_COORD.into(),
            json!(serde_json::to_string(&self.item_ids).unwrap_or_default()),
        );
        m
    }
}

/// The `time` coordinate of these datetimes, encoded as xarray encodes
/// `datetime64[ns]` (see the module docs).
fn time_coord(datetimes: impl Iterator<Item = Option<DateTime<Utc>>>) -> TimeCoord {
    // odc-stac's timestamps are Python datetimes: microseconds.
    let values: Vec<Option<i64>> = datetimes
        .map(|d| d.and_then(|d| d.timestamp_micros().checked_mul(1000)))
        .collect();
    let valid: Vec<i64> = values.iter().flatten().copied().collect();
    let reference = valid.first().copied().unwrap_or(0);
    // xarray: np.unique(np.diff(dates)), the first unit dividing all.
    const UNITS: [(&str, i64); 7] = [
        ("days", 86_400_000_000_000),
        ("hours", 3_600_000_000_000),
        ("minutes", 60_000_000_000),
        ("seconds", 1_000_000_000),
        ("milliseconds", 1_000_000),
        ("microseconds", 1_000),
        ("nanoseconds", 1),
    ];
    let diffs: Vec<i128> = valid
        .windows(2)
        .map(|w| i128::from(w[1]) - i128::from(w[0]))
        .collect();
    let (unit, per) = UNITS
        .iter()
        .copied()
        .find(|(_, per)| diffs.iter().all(|d| d % i128::from(*per) == 0))
        .unwrap_or(("seconds", 1_000_000_000));
    let encoded = values
        .iter()
        .map(|v| v.map_or(NAT, |v| (v - reference) / per))
        .collect();
    TimeCoord {
        values,
        units: format!("{unit} since {}", pandas_timestamp(reference)),
        calendar: "proleptic_gregorian".into(),
        encoded,
    }
}

/// `str(pd.Timestamp(ns))`: `YYYY-MM-DD HH:MM:SS`, then `.ffffff` when
/// there are microseconds, `.fffffffff` when there are nanoseconds.
fn pandas_timestamp(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let sub = ns.rem_euclid(1_000_000_000);
    let dt = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    let base = dt.format("%Y-%m-%d %H:%M:%S").to_string();
    if sub == 0 {
        base
    } else if sub % 1000 == 0 {
        format!("{base}.{:06}", sub / 1000)
    } else {
        format!("{base}.{sub:09}")
    }
}

/// odc-geo's `_render_geo_transform`: each of the six numbers with 24
/// decimals, trailing zeros and point removed, joined by spaces.
pub fn render_geo_transform(gt: &[f64; 6]) -> String {
    gt.iter()
        .map(|v| {
            let s = format!("{v:.24}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" {
                "-0".to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utm(rows: usize, cols: usize) -> GridDescription {
        GridDescription::new(
            "PROJCRS[\"WGS 84 / UTM zone 30N\"]",
            Some(32630),
            false,
            "metre",
            [500000.0, 10.0, 0.0, 5316790.0, 0.0, -10.0],
            rows,
            cols,
        )
    }

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().to_utc())
    }

    #[test]
    fn time_units_are_the_largest_dividing_every_step_since_the_first() {
        // Seen from xarray 2026.9 on odc-stac output: steps of 5 s and
        // 2 days 30 min 0.5 s give milliseconds since the first value.
        let t = time_coord(
            [
                at("2021-06-01T10:00:00Z"),
                at("2021-06-01T10:00:05Z"),
                at("2021-06-03T10:30:00.5Z"),
            ]
            .into_iter(),
        );
        assert_eq!(t.units, "milliseconds since 2021-06-01 10:00:00");
        assert_eq!(t.encoded, [0, 5000, 174_600_500]);
        assert_eq!(t.calendar, "proleptic_gregorian");
        let days = time_coord([at("2021-06-01T00:00:00Z"), at("2021-06-03T00:00:00Z")].into_iter());
        assert_eq!(days.units, "days since 2021-06-01 00:00:00");
        assert_eq!(days.encoded, [0, 2]);
        // One value: no step, days (numpy's all() of nothing).
        let one = time_coord([at("2021-06-01T10:00:00.5Z")].into_iter());
        assert_eq!(one.units, "days since 2021-06-01 10:00:00.500000");
        assert_eq!(one.encoded, [0]);
        assert_eq!(one.values, [Some(1_622_541_600_500_000_000)]);
    }

    #[test]
    fn times_are_kept_at_microseconds_as_python_datetimes_are() {
        let t = time_coord([at("2021-06-01T10:00:00.123456789Z")].into_iter());
        assert_eq!(t.values[0].unwrap() % 1_000_000_000, 123_456_000);
        assert_eq!(t.units, "days since 2021-06-01 10:00:00.123456");
    }

    #[test]
    fn a_timestep_without_datetime_is_nat() {
        let g = utm(1, 1);
        let l = CubeLayout::new(
            &g,
            &[
                (at("2021-06-01T00:00:00Z"), vec!["a".into()], None),
                (None, vec!["b".into()], None),
            ],
            &[BandInfo::new("B")],
            DataType::Uint8,
            Some(0.0),
        );
        assert_eq!(l.time.encoded, [0, NAT]);
        assert_eq!(l.time_attrs()["_FillValue"], json!(NAT));
    }

    #[test]
    fn coordinates_are_pixel_centres_as_odc_geo_computes_them() {
        let l = CubeLayout::new(&utm(3, 2), &[], &[], DataType::Uint16, None);
        assert_eq!(l.dims(), ["time", "y", "x"]);
        assert_eq!(l.shape(), [0, 3, 2]);
        assert_eq!(l.x.values, [500005.0, 500015.0]);
        assert_eq!(l.y.values, [5316785.0, 5316775.0, 5316765.0]);
        assert_eq!(l.y.resolution, -10.0);
        assert_eq!(
            Value::Object(l.x.attrs()),
            json!({"units": "metre", "resolution": 10.0, "crs": "EPSG:32630"})
        );
    }

    #[test]
    fn geographic_grids_have_latitude_and_longitude() {
        let g = GridDescription::new(
            "GEOGCRS[]",
            Some(4326),
            true,
            "degree",
            [-10.0, 0.25, 0.0, 50.0, 0.0, -0.25],
            2,
            2,
        );
        let l = CubeLayout::new(&g, &[], &[], DataType::Float32, None);
        assert_eq!(l.dims(), ["time", "latitude", "longitude"]);
        assert_eq!(l.y.units, "degrees_north");
        assert_eq!(l.x.units, "degrees_east");
        assert_eq!(l.x.values, [-9.875, -9.625]);
    }

    #[test]
    fn spatial_ref_carries_the_wkt_twice_and_the_geotransform() {
        let l = CubeLayout::new(&utm(1, 1), &[], &[], DataType::Uint16, None);
        assert_eq!(l.spatial_ref.epsg, 32630);
        let a = l.spatial_ref.attrs();
        assert_eq!(a["spatial_ref"], a["crs_wkt"]);
        assert_eq!(a["crs_wkt"], "PROJCRS[\"WGS 84 / UTM zone 30N\"]");
        // As odc-geo rendered it for the same grid.
        assert_eq!(a["GeoTransform"], "500000 10 0 5316790 0 -10");
        assert_eq!(
            render_geo_transform(&[0.5, 0.1, 0.0, -1.25, 0.0, -0.1]),
            // Python: f"{0.1:.24f}".rstrip("0").rstrip(".")
            "0.5 0.100000000000000005551115 0 -1.25 0 -0.100000000000000005551115"
        );
    }

    #[test]
    fn band_attributes_follow_odc_stac_and_cf() {
        let info = BandInfo::new("B04")
            .with_common_name(Some("red".into()))
            .with_wavelength(Some(0.665))
            .with_scale_offset(Some(0.0001), Some(-0.1));
        let l = CubeLayout::new(
            &utm(1, 1),
            &[(
                at("2021-06-01T00:00:00Z"),
                vec!["s1".into(), "s2".into()],
                Some("2021-06-01".into()),
            )],
            &[
                info,
                BandInfo::new("F").with_scale_offset(Some(1.0), Some(0.0)),
            ],
            DataType::Uint16,
            Some(0.0),
        );
        let b = &l.bands[0];
        assert_eq!(b.fill_value, None, "integer bands get no _FillValue");
        assert_eq!(
            Value::Object(b.attrs()),
            json!({"nodata": 0, "scale_factor": 0.0001, "add_offset": -0.1,
                   "common_name": "red", "wavelength": 0.665, "wavelength_units": "micrometers",
                   "grid_mapping": "spatial_ref", "coordinates": "stac_items group_key"})
        );
        // Scale 1 and offset 0 are not written.
        assert!(!l.bands[1].attrs().contains_key("scale_factor"));
        assert_eq!(
            l.string_coords(),
            [
                (ITEMS_COORD, vec!["s1,s2".to_owned()]),
                (GROUP_KEY_COORD, vec!["2021-06-01".to_owned()])
            ]
        );
        assert_eq!(l.global_attrs()[ITEMS_COORD], "[[\"s1\",\"s2\"]]");
        let f = CubeLayout::new(
            &utm(1, 1),
            &[],
            &[BandInfo::new("F")],
            DataType::Float32,
            Some(f64::NAN),
        );
        assert!(f.bands[0].fill_value.unwrap().is_nan());
        assert_eq!(f.bands[0].attrs()["nodata"], "NaN");
        assert_eq!(f.bands[0].attrs()["coordinates"], "stac_items");
    }

    #[test]
    fn attribute_numbers_keep_the_array_type() {
        assert_eq!(number(0.0, DataType::Uint16), json!(0));
        assert_eq!(number(-9999.0, DataType::Float32), json!(-9999.0));
        assert_eq!(
            number(f64::NEG_INFINITY, DataType::Float64),
            json!("-Infinity")
        );
    }
}
