//! `read_extension_metadata`: grid and band metadata from the projection,
//! raster and eo extensions (and STAC 1.1 `bands`), with zero I/O.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Location, MetaError, Result, invalid};
use crate::item::{asset, item_id, properties};

/// Grid and band metadata of one asset, read from STAC fields only.
///
/// Borrows from the item it was read from (no JSON is copied), so reading
/// metadata for millions of assets stays cheap.
///
/// Serialises with the key names `pyramids.stac.read_extension_metadata`
/// returns (`epsg`, `crs`, `transform`, `geotransform`, `shape`,
/// `raster_bands`, `eo_bands`, `band_names`), always all eight; the fields
/// pyramids does not read (`wkt2`, `projjson`, `proj_bbox`) are added only
/// when the item has them. Typed per-band metadata is in [`bands`](Self::bands)
/// (not serialised, since `raster_bands`/`eo_bands` carry the raw lists).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ExtensionMetadata<'a> {
    /// `proj:epsg` (asset, else item properties).
    pub epsg: Option<u32>,
    /// A CRS string GDAL understands: `proj:code`, else `EPSG:<proj:epsg>`,
    /// else `proj:wkt2`, else `proj:projjson` as JSON text.
    pub crs: Option<Cow<'a, str>>,
    /// `proj:transform` as given (6 or 9 coefficients, affine order).
    pub transform: Option<Vec<f64>>,
    /// The GDAL geotransform `(c, a, b, f, d, e)` derived from `transform`.
    pub geotransform: Option<[f64; 6]>,
    /// `proj:shape` as `[rows, cols]`. A zero side is kept as given (the
    /// grid is empty: the VRT and cube builders treat such an asset as having
    /// no usable grid); sides must be integers up to 2^53.
    pub shape: Option<[u64; 2]>,
    /// Asset-level `raster:bands`, verbatim.
    pub raster_bands: Option<&'a [Value]>,
    /// Asset-level `eo:bands`, verbatim.
    pub eo_bands: Option<&'a [Value]>,
    /// One name per band (`eo:bands` name or common name, else STAC 1.1
    /// `bands`); `None` unless every band has one.
    pub band_names: Option<Vec<&'a str>>,
    /// `proj:wkt2`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wkt2: Option<&'a str>,
    /// `proj:projjson`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projjson: Option<&'a Value>,
    /// `proj:bbox` in the asset's CRS, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proj_bbox: Option<Vec<f64>>,
    /// Typed per-band metadata merged from `raster:bands`, `eo:bands` and STAC 1.1 `bands`.
    #[serde(skip)]
    pub bands: Vec<BandMetadata<'a>>,
}

impl ExtensionMetadata<'_> {
    /// The EPSG code from `proj:epsg`, or parsed from a `proj:code` of the form `EPSG:<n>`.
    pub fn epsg_code(&self) -> Option<u32> {
        self.epsg
            .or_else(|| self.crs.as_deref()?.strip_prefix("EPSG:")?.parse().ok())
    }

    /// Pixel size `(x, y)` as positive numbers, for a north-up or rotated grid.
    pub fn resolution(&self) -> Option<(f64, f64)> {
        let gt = self.geotransform?;
        Some((gt[1].hypot(gt[4]), gt[2].hypot(gt[5])))
    }

    /// The footprint `[minx, miny, maxx, maxy]` in the asset's CRS, from
    /// transform and shape (all four corners, so rotated grids work).
    pub fn bounds(&self) -> Option<[f64; 4]> {
        let [rows, cols] = self.shape?;
        Some(crate::geotransform::bounds(
            &self.geotransform?,
            rows as usize,
            cols as usize,
        ))
    }

    /// Whether the grid is fully described (CRS, transform and shape).
    pub fn has_grid(&self) -> bool {
        self.crs.is_some() && self.geotransform.is_some() && self.shape.is_some()
    }
}

/// A raster data type as named by the raster extension (`raster:bands[].data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum DataType {
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float16,
    Float32,
    Float64,
    Cint16,
    Cint32,
    Cfloat32,
    Cfloat64,
    Other,
}

impl DataType {
    /// Parse the extension's name (`uint16`, `float32`, ...).
    pub fn parse(name: &str) -> Option<Self> {
        NAMES.iter().find(|n| n.1 == name).map(|n| n.0)
    }

    /// The extension's name for this type.
    pub fn as_str(self) -> &'static str {
        NAMES.iter().find(|n| n.0 == self).map_or("other", |n| n.1)
    }

    /// Bits per value (a complex value counts both parts); `None` for
    /// `other`.
    ///
    /// ```
    /// use stac_meta::DataType;
    /// assert_eq!(DataType::Uint16.bits(), Some(16));
    /// assert_eq!(DataType::Cfloat32.bits(), Some(64));
    /// assert_eq!(DataType::Other.bits(), None);
    /// ```
    pub fn bits(self) -> Option<u32> {
        Some(match self {
            Self::Int8 | Self::Uint8 => 8,
            Self::Int16 | Self::Uint16 | Self::Float16 => 16,
            Self::Int32 | Self::Uint32 | Self::Float32 | Self::Cint16 => 32,
            Self::Int64 | Self::Uint64 | Self::Float64 | Self::Cint32 | Self::Cfloat32 => 64,
            Self::Cfloat64 => 128,
            Self::Other => return None,
        })
    }

    /// Whether values are floating point (real or complex).
    pub fn is_float(self) -> bool {
        matches!(
            self,
            Self::Float16 | Self::Float32 | Self::Float64 | Self::Cfloat32 | Self::Cfloat64
        )
    }

    /// Whether values are complex.
    pub fn is_complex(self) -> bool {
        matches!(
            self,
            Self::Cint16 | Self::Cint32 | Self::Cfloat32 | Self::Cfloat64
        )
    }

    /// Whether values can be negative (every float and complex type too).
    pub fn is_signed(self) -> bool {
        !matches!(
            self,
            Self::Uint8 | Self::Uint16 | Self::Uint32 | Self::Uint64 | Self::Other
        )
    }

    /// The type of each part of a complex type (`cint16` → `int16`); a
    /// real type is its own.
    pub fn component(self) -> Self {
        match self {
            Self::Cint16 => Self::Int16,
            Self::Cint32 => Self::Int32,
            Self::Cfloat32 => Self::Float32,
            Self::Cfloat64 => Self::Float64,
            other => other,
        }
    }

    /// Whether `v` is stored exactly by this type (as a nodata value, say):
    /// integer types hold finite whole numbers in their range; float types
    /// hold NaN, the infinities and finite numbers within their range;
    /// complex types hold what their parts do; `other` holds nothing.
    ///
    /// ```
    /// use stac_meta::DataType;
    /// assert!(DataType::Uint16.holds(65535.0) && !DataType::Uint16.holds(-1.0));
    /// assert!(!DataType::Int8.holds(0.5));
    /// assert!(DataType::Float32.holds(f64::NAN) && !DataType::Float32.holds(1e39));
    /// assert!(DataType::Float64.holds(1e300));
    /// ```
    pub fn holds(self, v: f64) -> bool {
        let (lo, hi) = match self.component() {
            Self::Uint8 => (0.0, 255.0),
            Self::Int8 => (-128.0, 127.0),
            Self::Uint16 => (0.0, 65535.0),
            Self::Int16 => (-32768.0, 32767.0),
            Self::Uint32 => (0.0, 4294967295.0),
            Self::Int32 => (-2147483648.0, 2147483647.0),
            Self::Uint64 => (0.0, 18446744073709551615.0),
            Self::Int64 => (-9223372036854775808.0, 9223372036854775807.0),
            Self::Float16 => return !v.is_finite() || v.abs() <= 65504.0,
            Self::Float32 => return !v.is_finite() || v.abs() <= f32::MAX as f64,
            Self::Float64 => return true,
            _ => return false,
        };
        v.is_finite() && v.fract() == 0.0 && v >= lo && v <= hi
    }

    /// GDAL's name for this type (`Byte`, `Int8`, `UInt16`, ...,
    /// `CFloat64`); `None` for `float16` (GDAL < 3.11 has none; callers
    /// widen it to `Float32`) and `other`. (`Int8` needs GDAL >= 3.7.)
    ///
    /// ```
    /// use stac_meta::DataType;
    /// assert_eq!(DataType::Uint8.gdal_name(), Some("Byte"));
    /// assert_eq!(DataType::from_gdal_name("UInt16"), Some(DataType::Uint16));
    /// assert_eq!(DataType::from_gdal_name("Unknown"), None);
    /// ```
    pub fn gdal_name(self) -> Option<&'static str> {
        NAMES.iter().find(|n| n.0 == self).and_then(|n| n.2)
    }

    /// The type GDAL's name stands for (see [`gdal_name`](Self::gdal_name)).
    pub fn from_gdal_name(name: &str) -> Option<Self> {
        NAMES
            .iter()
            .find(|n| n.2.is_some_and(|g| g.eq_ignore_ascii_case(name)))
            .map(|n| n.0)
    }
}

/// Every data type: the raster extension's name, and GDAL's.
const NAMES: [(DataType, &str, Option<&str>); 16] = [
    (DataType::Int8, "int8", Some("Int8")),
    (DataType::Int16, "int16", Some("Int16")),
    (DataType::Int32, "int32", Some("Int32")),
    (DataType::Int64, "int64", Some("Int64")),
    (DataType::Uint8, "uint8", Some("Byte")),
    (DataType::Uint16, "uint16", Some("UInt16")),
    (DataType::Uint32, "uint32", Some("UInt32")),
    (DataType::Uint64, "uint64", Some("UInt64")),
    (DataType::Float16, "float16", None),
    (DataType::Float32, "float32", Some("Float32")),
    (DataType::Float64, "float64", Some("Float64")),
    (DataType::Cint16, "cint16", Some("CInt16")),
    (DataType::Cint32, "cint32", Some("CInt32")),
    (DataType::Cfloat32, "cfloat32", Some("CFloat32")),
    (DataType::Cfloat64, "cfloat64", Some("CFloat64")),
    (DataType::Other, "other", None),
];

/// Typed metadata of one band.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BandMetadata<'a> {
    /// `name` (eo:bands or STAC 1.1 bands).
    pub name: Option<&'a str>,
    /// `common_name` / `eo:common_name`.
    pub common_name: Option<&'a str>,
    /// `data_type`.
    pub data_type: Option<DataType>,
    /// `nodata`: a number, or NaN / ±inf from the strings `"nan"`, `"inf"`, `"-inf"`.
    pub nodata: Option<f64>,
    /// `scale` (`raster:scale` in STAC 1.1 bands).
    pub scale: Option<f64>,
    /// `offset` (`raster:offset`).
    pub offset: Option<f64>,
    /// `spatial_resolution` (`raster:spatial_resolution`).
    pub spatial_resolution: Option<f64>,
    /// `unit`.
    pub unit: Option<&'a str>,
}

/// Parse a STAC number: JSON numbers, numeric strings, and the spellings
/// `nan`, `inf`, `-inf`, `infinity` (any case, optional sign). Booleans,
/// null and anything else give `None`.
///
/// ```
/// use serde_json::json;
/// assert_eq!(stac_meta::parse_number(&json!(0)), Some(0.0));
/// assert!(stac_meta::parse_number(&json!("NaN")).unwrap().is_nan());
/// assert_eq!(stac_meta::parse_number(&json!("-inf")), Some(f64::NEG_INFINITY));
/// assert_eq!(stac_meta::parse_number(&json!(true)), None);
/// ```
pub fn parse_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim().to_ascii_lowercase();
            match t.as_str() {
                "nan" | "+nan" | "-nan" => Some(f64::NAN),
                "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
                "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
                _ => t.parse::<f64>().ok().filter(|v| v.is_finite()),
            }
        }
        _ => None,
    }
}

/// Convert a STAC `proj:transform` (`[a, b, c, d, e, f]`, optionally with a
/// trailing `0, 0, 1`) into a GDAL geotransform `(c, a, b, f, d, e)`.
///
/// ```
/// let gt = stac_meta::affine_to_geotransform(&[10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0])?;
/// assert_eq!(gt, [600000.0, 10.0, 0.0, 5300040.0, 0.0, -10.0]);
/// # Ok::<(), String>(())
/// ```
pub fn affine_to_geotransform(t: &[f64]) -> std::result::Result<[f64; 6], String> {
    if t.len() != 6 && t.len() != 9 {
        return Err(format!("must have 6 or 9 coefficients, got {}", t.len()));
    }
    if t.iter().any(|v| !v.is_finite()) {
        return Err("coefficients must be finite numbers".into());
    }
    if t.len() == 9 && (t[6] != 0.0 || t[7] != 0.0 || t[8] != 1.0) {
        return Err("a 9-coefficient transform must end with 0, 0, 1".into());
    }
    let det = t[0] * t[4] - t[1] * t[3];
    if det == 0.0 {
        return Err("pixel size is zero (the transform is not invertible)".into());
    }
    Ok([t[2], t[0], t[1], t[5], t[3], t[4]])
}

/// Inverse of [`affine_to_geotransform`]: GDAL geotransform → STAC affine order.
pub fn geotransform_to_affine(gt: &[f64; 6]) -> [f64; 6] {
    [gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]]
}

/// The extension fields of one asset, found in one pass over the asset and
/// (for what the asset lacks) one pass over the item properties.
#[derive(Default)]
struct Fields<'a> {
    epsg: Option<&'a Value>,
    code: Option<&'a Value>,
    wkt2: Option<&'a Value>,
    projjson: Option<&'a Value>,
    transform: Option<&'a Value>,
    shape: Option<&'a Value>,
    bbox: Option<&'a Value>,
    // Asset level only:
    raster_bands: Option<&'a Value>,
    eo_bands: Option<&'a Value>,
    bands: Option<&'a Value>,
}

impl<'a> Fields<'a> {
    /// Fill every field from the asset's map in one pass (explicit nulls count as absent).
    fn fill_from_asset(&mut self, map: &'a Map<String, Value>) {
        for (k, v) in map {
            if v.is_null() {
                continue;
            }
            let slot = match k.as_str() {
                "raster:bands" => &mut self.raster_bands,
                "eo:bands" => &mut self.eo_bands,
                "bands" => &mut self.bands,
                _ => match self.proj_slot(k) {
                    Some(slot) => slot,
                    None => continue,
                },
            };
            *slot = Some(v);
        }
    }

    fn proj_slot(&mut self, key: &str) -> Option<&mut Option<&'a Value>> {
        // The length sits in the map entry; checking it first skips the
        // (cache-missing) read of most keys' bytes.
        if !matches!(key.len(), 9 | 10 | 13 | 14) {
            return None;
        }
        Some(match key.strip_prefix("proj:")? {
            "epsg" => &mut self.epsg,
            "code" => &mut self.code,
            "wkt2" => &mut self.wkt2,
            "projjson" => &mut self.projjson,
            "transform" => &mut self.transform,
            "shape" => &mut self.shape,
            "bbox" => &mut self.bbox,
            _ => return None,
        })
    }

    /// Fill the `proj:*` fields the asset lacks from the item properties.
    /// A scan (a 5-byte prefix test per key) costs less than seven SipHash
    /// lookups up to a few dozen keys; huge maps use keyed lookups.
    fn fill_missing_from(&mut self, map: &'a Map<String, Value>) {
        if map.len() > 64 {
            return self.lookup_missing(map);
        }
        for (k, v) in map {
            if v.is_null() {
                continue;
            }
            if let Some(slot) = self.proj_slot(k) {
                slot.get_or_insert(v);
            }
        }
    }

    /// Fill the fields still empty by keyed lookups.
    fn lookup_missing(&mut self, map: &'a Map<String, Value>) {
        let slots: [(&mut Option<&'a Value>, &str); 7] = [
            (&mut self.epsg, "proj:epsg"),
            (&mut self.code, "proj:code"),
            (&mut self.wkt2, "proj:wkt2"),
            (&mut self.projjson, "proj:projjson"),
            (&mut self.transform, "proj:transform"),
            (&mut self.shape, "proj:shape"),
            (&mut self.bbox, "proj:bbox"),
        ];
        for (slot, key) in slots {
            if slot.is_none() {
                *slot = map.get(key).filter(|v| !v.is_null());
            }
        }
    }
}

struct Ctx<'a> {
    item: &'a Value,
    asset: Option<&'a str>,
}

impl Ctx<'_> {
    #[cold]
    fn err(&self, field: &str, reason: impl Into<String>) -> MetaError {
        invalid(
            Location::item(item_id(self.item))
                .with_asset(self.asset)
                .with_field(field),
            reason,
        )
    }

    /// `proj:epsg`: a positive integer (an integral float is accepted).
    fn epsg(&self, v: &Value) -> Result<u32> {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .or_else(|| {
                v.as_f64()
                    .filter(|x| x.fract() == 0.0 && *x > 0.0 && *x < f64::from(u32::MAX))
                    .map(|x| x as u32)
            })
            .ok_or_else(|| {
                self.err(
                    "proj:epsg",
                    format!("must be a positive integer, found {}", short(v)),
                )
            })
    }

    /// `proj:shape`: `[rows, cols]` of non-negative integers.
    fn shape(&self, v: &Value) -> Result<[u64; 2]> {
        let arr = v
            .as_array()
            .ok_or_else(|| self.err("proj:shape", "must be an array [rows, cols]"))?;
        // Integral floats are accepted up to 2^53 (exact in f64); beyond,
        // `as u64` would saturate silently, so they are errors.
        let dim = |x: &Value| {
            x.as_u64().or_else(|| {
                x.as_f64()
                    .filter(|f| f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(f))
                    .map(|f| f as u64)
            })
        };
        match arr.as_slice() {
            [r, c] => match (dim(r), dim(c)) {
                (Some(r), Some(c)) => Ok([r, c]),
                _ => Err(self.err(
                    "proj:shape",
                    format!("must contain non-negative integers, found {}", short(v)),
                )),
            },
            other => Err(self.err(
                "proj:shape",
                format!("must have 2 dimensions [rows, cols], got {}", other.len()),
            )),
        }
    }

    /// `proj:bbox`: 4 or 6 numbers.
    fn proj_bbox(&self, v: &Value) -> Result<Vec<f64>> {
        let b = self.numbers("proj:bbox", v)?;
        if b.len() != 4 && b.len() != 6 {
            return Err(self.err(
                "proj:bbox",
                format!("must have 4 or 6 numbers, got {}", b.len()),
            ));
        }
        Ok(b)
    }

    fn numbers(&self, field: &str, v: &Value) -> Result<Vec<f64>> {
        let arr = v
            .as_array()
            .ok_or_else(|| self.err(field, "must be an array of numbers"))?;
        arr.iter()
            .map(|x| {
                x.as_f64()
                    .ok_or_else(|| self.err(field, format!("must contain only numbers, found {x}")))
            })
            .collect()
    }

    fn string<'v>(&self, field: &str, v: Option<&'v Value>) -> Result<Option<&'v str>> {
        match v {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.err(field, format!("must be a string, found {}", short(other))))
            }
        }
    }
}

/// Read the projection / raster / eo metadata of an asset (or of the item
/// itself when `asset_key` is `None`), without any I/O.
///
/// Precedence follows pyramids: asset fields override item properties;
/// `proj:code` wins over `proj:epsg`. Beyond pyramids, `proj:wkt2` and
/// `proj:projjson` are CRS sources, 9-element transforms are accepted,
/// `proj:bbox` is read, and STAC 1.1 `bands` name the bands when `eo:bands`
/// is absent. Malformed fields are errors naming the item, asset and field.
///
/// ```
/// use serde_json::json;
/// let item = json!({
///     "id": "x",
///     "properties": {"proj:epsg": 32633},
///     "assets": {"B04": {
///         "href": "s3://bucket/B04.tif",
///         "proj:shape": [10980, 10980],
///         "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0],
///         "raster:bands": [{"nodata": 0, "scale": 0.0001}],
///         "eo:bands": [{"name": "B04", "common_name": "red"}]
///     }}
/// });
/// let meta = stac_meta::read_extension_metadata(&item, Some("B04"))?;
/// assert_eq!(meta.crs.as_deref(), Some("EPSG:32633"));
/// assert_eq!(meta.geotransform, Some([600000.0, 10.0, 0.0, 5300040.0, 0.0, -10.0]));
/// assert_eq!(meta.shape, Some([10980, 10980]));
/// assert_eq!(meta.band_names, Some(vec!["B04"]));
/// assert_eq!(meta.bands[0].scale, Some(0.0001));
/// # Ok::<(), stac_meta::MetaError>(())
/// ```
pub fn read_extension_metadata<'a>(
    item: &'a Value,
    asset_key: Option<&str>,
) -> Result<ExtensionMetadata<'a>> {
    let (asset_value, props) = match asset_key {
        Some(key) => (asset(item, key)?, properties(item)),
        None => (item, None),
    };
    let cx = Ctx {
        item,
        asset: asset_key,
    };
    let asset_map = asset_value.as_object().ok_or_else(|| {
        invalid(
            Location::item(item_id(item)).with_asset(asset_key),
            "the asset must be a JSON object",
        )
    })?;
    let mut f = Fields::default();
    f.fill_from_asset(asset_map);
    if let Some(p) = props {
        f.fill_missing_from(p);
    }

    let epsg = f.epsg.map(|v| cx.epsg(v)).transpose()?;
    let code = cx.string("proj:code", f.code)?;
    let wkt2 = cx.string("proj:wkt2", f.wkt2)?;
    let projjson = match f.projjson {
        None => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(other) => {
            return Err(cx.err(
                "proj:projjson",
                format!("must be a JSON object, found {}", short(other)),
            ));
        }
    };
    let crs: Option<Cow<'a, str>> = match (code, epsg, wkt2, projjson) {
        (Some(c), ..) => Some(Cow::Borrowed(c)),
        (None, Some(e), ..) => Some(Cow::Owned(epsg_string(e))),
        (None, None, Some(w), _) => Some(Cow::Borrowed(w)),
        (None, None, None, Some(p)) => Some(projjson_crs(p)),
        (None, None, None, None) => None,
    };

    let transform = match f.transform {
        None => None,
        Some(v) => Some(cx.numbers("proj:transform", v)?),
    };
    let geotransform = match &transform {
        Some(t) if !t.is_empty() => {
            Some(affine_to_geotransform(t).map_err(|reason| cx.err("proj:transform", reason))?)
        }
        _ => None,
    };

    let shape = f.shape.map(|v| cx.shape(v)).transpose()?;

    let proj_bbox = f.bbox.map(|v| cx.proj_bbox(v)).transpose()?;

    // Band lists: asset level only (as pyramids), borrowed verbatim.
    let band_list = |key: &str, v: Option<&'a Value>| -> Result<Option<&'a [Value]>> {
        match v {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.as_slice())),
            Some(other) => Err(cx.err(key, format!("must be an array, found {}", short(other)))),
        }
    };
    let raster_bands = band_list("raster:bands", f.raster_bands)?;
    let eo_bands = band_list("eo:bands", f.eo_bands)?;
    let common_bands = band_list("bands", f.bands)?;

    let bands = typed_bands(&cx, raster_bands, eo_bands, common_bands)?;
    let band_names = match eo_bands {
        Some(eo) => names_from(eo, &["name", "common_name"]),
        None => common_bands.and_then(|c| names_from(c, &["name", "eo:common_name"])),
    };

    Ok(ExtensionMetadata {
        epsg,
        crs,
        transform,
        geotransform,
        shape,
        raster_bands,
        eo_bands,
        band_names,
        wkt2,
        projjson,
        proj_bbox,
        bands,
    })
}

/// `EPSG:<code>` without the formatting machinery (this is on the hot path).
fn epsg_string(code: u32) -> String {
    let mut digits = [0u8; 10];
    let mut n = code;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut s = String::with_capacity(5 + digits.len() - i);
    s.push_str("EPSG:");
    s.extend(digits[i..].iter().map(|d| char::from(*d)));
    s
}

/// A CRS string for a PROJJSON object: `AUTH:CODE` when it carries an id,
/// `AUTH:H+V` for a compound CRS whose components do, else the JSON text.
/// (GDAL's `SetFromUserInput` understands all three.)
fn projjson_crs(p: &Value) -> Cow<'_, str> {
    let id = |v: &Value| -> Option<(String, String)> {
        let id = v.get("id")?;
        let auth = id.get("authority")?.as_str()?.to_owned();
        let code = match id.get("code")? {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return None,
        };
        Some((auth, code))
    };
    if let Some((auth, code)) = id(p) {
        return Cow::Owned(format!("{auth}:{code}"));
    }
    if p.get("type").and_then(Value::as_str) == Some("CompoundCRS")
        && let Some(parts) = p.get("components").and_then(Value::as_array)
        && let Some(ids) = parts.iter().map(id).collect::<Option<Vec<_>>>()
        && ids.len() == 2
        && ids[0].0 == ids[1].0
    {
        return Cow::Owned(format!("{}:{}+{}", ids[0].0, ids[0].1, ids[1].1));
    }
    Cow::Owned(p.to_string())
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s,
    }
}

fn names_from<'a>(list: &'a [Value], keys: &[&str]) -> Option<Vec<&'a str>> {
    if list.is_empty() {
        return None;
    }
    list.iter()
        .map(|b| {
            keys.iter()
                .find_map(|k| b.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
        })
        .collect()
}

/// Raw per-band fields, filled from the band objects in precedence order
/// (`raster:bands`, then `eo:bands`, then STAC 1.1 `bands`), one pass each.
#[derive(Default)]
struct RawBand<'a> {
    name: Option<&'a Value>,
    common_name: Option<&'a Value>,
    data_type: Option<&'a Value>,
    nodata: Option<&'a Value>,
    scale: Option<&'a Value>,
    offset: Option<&'a Value>,
    spatial_resolution: Option<&'a Value>,
    unit: Option<&'a Value>,
}

impl<'a> RawBand<'a> {
    fn fill(&mut self, band: Option<&'a Value>) {
        let Some(map) = band.and_then(Value::as_object) else {
            return;
        };
        for (k, v) in map {
            if v.is_null() {
                continue;
            }
            let slot = match k.as_str() {
                "name" => &mut self.name,
                "common_name" | "eo:common_name" => &mut self.common_name,
                "data_type" => &mut self.data_type,
                "nodata" => &mut self.nodata,
                "scale" | "raster:scale" => &mut self.scale,
                "offset" | "raster:offset" => &mut self.offset,
                "spatial_resolution" | "raster:spatial_resolution" => &mut self.spatial_resolution,
                "unit" => &mut self.unit,
                _ => continue,
            };
            slot.get_or_insert(v);
        }
    }
}

fn typed_bands<'a>(
    cx: &Ctx<'_>,
    raster: Option<&'a [Value]>,
    eo: Option<&'a [Value]>,
    common: Option<&'a [Value]>,
) -> Result<Vec<BandMetadata<'a>>> {
    let n = [raster, eo, common]
        .iter()
        .map(|x| x.map_or(0, <[Value]>::len))
        .max()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut raw = RawBand::default();
        raw.fill(raster.and_then(|b| b.get(i)));
        raw.fill(eo.and_then(|b| b.get(i)));
        raw.fill(common.and_then(|b| b.get(i)));
        let number = |v: Option<&Value>, name: &str| -> Result<Option<f64>> {
            match v {
                None => Ok(None),
                Some(v) => parse_number(v).map(Some).ok_or_else(|| {
                    cx.err(
                        &format!("raster:bands[{i}].{name}"),
                        format!(
                            "must be a number or \"nan\"/\"inf\"/\"-inf\", found {}",
                            short(v)
                        ),
                    )
                }),
            }
        };
        let data_type = match raw.data_type {
            None => None,
            Some(v) => Some(v.as_str().and_then(DataType::parse).ok_or_else(|| {
                cx.err(
                    &format!("raster:bands[{i}].data_type"),
                    format!("unknown data type {}", short(v)),
                )
            })?),
        };
        out.push(BandMetadata {
            name: raw.name.and_then(Value::as_str),
            common_name: raw.common_name.and_then(Value::as_str),
            data_type,
            nodata: number(raw.nodata, "nodata")?,
            scale: number(raw.scale, "scale")?,
            offset: number(raw.offset, "offset")?,
            spatial_resolution: number(raw.spatial_resolution, "spatial_resolution")?,
            unit: raw.unit.and_then(Value::as_str),
        });
    }
    Ok(out)
}
