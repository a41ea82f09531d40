//! `read_extension_metadata`: grid and band metadata from the projection,
//! raster and eo extensions (and STAC 1.1 `bands`), with zero I/O.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Location, MetaError, Result, invalid};
use crate::item::{asset, item_id, properties};

/// Grid and band metadata of one asset, read from STAC fields only.
///
/// Serialises with the key names `pyramids.stac.read_extension_metadata`
/// returns (`epsg`, `crs`, `transform`, `geotransform`, `shape`,
/// `raster_bands`, `eo_bands`, `band_names`), always all eight; the fields
/// pyramids does not read (`wkt2`, `projjson`, `proj_bbox`) are added only
/// when the item has them. Typed per-band metadata is in [`bands`](Self::bands)
/// (not serialised, since `raster_bands`/`eo_bands` carry the raw lists).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ExtensionMetadata {
    /// `proj:epsg` (asset, else item properties).
    pub epsg: Option<u32>,
    /// A CRS string GDAL understands: `proj:code`, else `EPSG:<proj:epsg>`,
    /// else `proj:wkt2`, else `proj:projjson` as JSON text.
    pub crs: Option<String>,
    /// `proj:transform` as given (6 or 9 coefficients, affine order).
    pub transform: Option<Vec<f64>>,
    /// The GDAL geotransform `(c, a, b, f, d, e)` derived from `transform`.
    pub geotransform: Option<[f64; 6]>,
    /// `proj:shape` as `[rows, cols]`.
    pub shape: Option<[u64; 2]>,
    /// Asset-level `raster:bands`, verbatim.
    pub raster_bands: Option<Vec<Value>>,
    /// Asset-level `eo:bands`, verbatim.
    pub eo_bands: Option<Vec<Value>>,
    /// One name per band (`eo:bands` name or common name, else STAC 1.1
    /// `bands`); `None` unless every band has one.
    pub band_names: Option<Vec<String>>,
    /// `proj:wkt2`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wkt2: Option<String>,
    /// `proj:projjson`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projjson: Option<Value>,
    /// `proj:bbox` in the asset's CRS, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proj_bbox: Option<Vec<f64>>,
    /// Typed per-band metadata merged from `raster:bands`, `eo:bands` and STAC 1.1 `bands`.
    #[serde(skip)]
    pub bands: Vec<BandMetadata>,
}

impl ExtensionMetadata {
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
        let gt = self.geotransform?;
        let [rows, cols] = self.shape?;
        let (r, c) = (rows as f64, cols as f64);
        let corners = [(0.0, 0.0), (c, 0.0), (0.0, r), (c, r)];
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (px, py) in corners {
            let x = gt[0] + px * gt[1] + py * gt[2];
            let y = gt[3] + px * gt[4] + py * gt[5];
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        }
        Some(b)
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
        Some(match name {
            "int8" => Self::Int8,
            "int16" => Self::Int16,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            "uint8" => Self::Uint8,
            "uint16" => Self::Uint16,
            "uint32" => Self::Uint32,
            "uint64" => Self::Uint64,
            "float16" => Self::Float16,
            "float32" => Self::Float32,
            "float64" => Self::Float64,
            "cint16" => Self::Cint16,
            "cint32" => Self::Cint32,
            "cfloat32" => Self::Cfloat32,
            "cfloat64" => Self::Cfloat64,
            "other" => Self::Other,
            _ => return None,
        })
    }

    /// The extension's name for this type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Uint8 => "uint8",
            Self::Uint16 => "uint16",
            Self::Uint32 => "uint32",
            Self::Uint64 => "uint64",
            Self::Float16 => "float16",
            Self::Float32 => "float32",
            Self::Float64 => "float64",
            Self::Cint16 => "cint16",
            Self::Cint32 => "cint32",
            Self::Cfloat32 => "cfloat32",
            Self::Cfloat64 => "cfloat64",
            Self::Other => "other",
        }
    }
}

/// Typed metadata of one band.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BandMetadata {
    /// `name` (eo:bands or STAC 1.1 bands).
    pub name: Option<String>,
    /// `common_name` / `eo:common_name`.
    pub common_name: Option<String>,
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
    pub unit: Option<String>,
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

struct Lookup<'a> {
    asset: &'a Map<String, Value>,
    props: Option<&'a Map<String, Value>>,
    loc: Location,
}

impl<'a> Lookup<'a> {
    /// Asset value, else item property; explicit nulls count as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        match self.asset.get(key) {
            Some(v) if !v.is_null() => Some(v),
            _ => self.props.and_then(|p| p.get(key)).filter(|v| !v.is_null()),
        }
    }

    fn err(&self, field: &str, reason: impl Into<String>) -> MetaError {
        invalid(self.loc.clone().with_field(field), reason)
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

    fn string(&self, field: &str) -> Result<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(field, format!("must be a string, found {other}"))),
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
/// assert_eq!(meta.band_names, Some(vec!["B04".to_string()]));
/// assert_eq!(meta.bands[0].scale, Some(0.0001));
/// # Ok::<(), stac_meta::MetaError>(())
/// ```
pub fn read_extension_metadata(item: &Value, asset_key: Option<&str>) -> Result<ExtensionMetadata> {
    let (asset_value, props) = match asset_key {
        Some(key) => (asset(item, key)?, properties(item)),
        None => (item, None),
    };
    let loc = Location::item(item_id(item)).with_asset(asset_key);
    let asset_map = asset_value
        .as_object()
        .ok_or_else(|| invalid(loc.clone(), "the asset must be a JSON object"))?;
    let l = Lookup {
        asset: asset_map,
        props,
        loc,
    };

    let epsg = match l.get("proj:epsg") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f > 0.0 && *f < u32::MAX as f64)
                        .map(|f| f as u32)
                })
                .ok_or_else(|| {
                    l.err(
                        "proj:epsg",
                        format!("must be a positive integer, found {v}"),
                    )
                })?,
        ),
    };
    let code = l.string("proj:code")?;
    let wkt2 = l.string("proj:wkt2")?;
    let projjson = match l.get("proj:projjson") {
        None => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(other) => {
            return Err(l.err(
                "proj:projjson",
                format!("must be a JSON object, found {}", short(other)),
            ));
        }
    };
    let crs = code
        .or_else(|| epsg.map(|e| format!("EPSG:{e}")))
        .or_else(|| wkt2.clone())
        .or_else(|| projjson.as_ref().map(Value::to_string));

    let transform = match l.get("proj:transform") {
        None => None,
        Some(v) => Some(l.numbers("proj:transform", v)?),
    };
    let geotransform = match &transform {
        Some(t) if !t.is_empty() => {
            Some(affine_to_geotransform(t).map_err(|reason| l.err("proj:transform", reason))?)
        }
        _ => None,
    };

    let shape = match l.get("proj:shape") {
        None => None,
        Some(v) => {
            let arr = v
                .as_array()
                .ok_or_else(|| l.err("proj:shape", "must be an array [rows, cols]"))?;
            let dims: Option<Vec<u64>> = arr
                .iter()
                .map(|x| {
                    x.as_u64().or_else(|| {
                        x.as_f64()
                            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                            .map(|f| f as u64)
                    })
                })
                .collect();
            match dims.as_deref() {
                Some(&[rows, cols]) => Some([rows, cols]),
                Some(d) => {
                    return Err(l.err(
                        "proj:shape",
                        format!("must have 2 dimensions [rows, cols], got {}", d.len()),
                    ));
                }
                None => {
                    return Err(l.err(
                        "proj:shape",
                        format!("must contain non-negative integers, found {v}"),
                    ));
                }
            }
        }
    };

    let proj_bbox = match l.get("proj:bbox") {
        None => None,
        Some(v) => {
            let b = l.numbers("proj:bbox", v)?;
            if b.len() != 4 && b.len() != 6 {
                return Err(l.err(
                    "proj:bbox",
                    format!("must have 4 or 6 numbers, got {}", b.len()),
                ));
            }
            Some(b)
        }
    };

    // Band lists: asset level only (as pyramids), verbatim.
    let band_list = |key: &str| -> Result<Option<Vec<Value>>> {
        match asset_map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(other) => Err(l.err(key, format!("must be an array, found {}", short(other)))),
        }
    };
    let raster_bands = band_list("raster:bands")?;
    let eo_bands = band_list("eo:bands")?;
    let common_bands = band_list("bands")?;

    let bands = typed_bands(
        &l,
        raster_bands.as_deref(),
        eo_bands.as_deref(),
        common_bands.as_deref(),
    )?;
    let band_names = names_from(eo_bands.as_deref(), &["name", "common_name"]).or_else(|| {
        if eo_bands.is_none() {
            names_from(common_bands.as_deref(), &["name", "eo:common_name"])
        } else {
            None
        }
    });

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

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!("{}...", &s[..s.floor_char_boundary(60)])
    } else {
        s
    }
}

fn names_from(list: Option<&[Value]>, keys: &[&str]) -> Option<Vec<String>> {
    let list = list?;
    if list.is_empty() {
        return None;
    }
    list.iter()
        .map(|b| {
            keys.iter()
                .find_map(|k| b.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
                .map(str::to_owned)
        })
        .collect()
}

fn typed_bands(
    l: &Lookup<'_>,
    raster: Option<&[Value]>,
    eo: Option<&[Value]>,
    common: Option<&[Value]>,
) -> Result<Vec<BandMetadata>> {
    let n = [raster, eo, common]
        .iter()
        .map(|x| x.map_or(0, <[Value]>::len))
        .max()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let r = raster.and_then(|b| b.get(i));
        let e = eo.and_then(|b| b.get(i));
        let c = common.and_then(|b| b.get(i));
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let field = |name: &str| format!("raster:bands[{i}].{name}");
        let number = |v: Option<&Value>, name: &str| -> Result<Option<f64>> {
            match v {
                None => Ok(None),
                Some(v) => parse_number(v).map(Some).ok_or_else(|| {
                    l.err(
                        &field(name),
                        format!("must be a number, found {}", short(v)),
                    )
                }),
            }
        };
        let data_type = match pick(&[(r, "data_type"), (c, "data_type")]) {
            None => None,
            Some(v) => Some(v.as_str().and_then(DataType::parse).ok_or_else(|| {
                l.err(
                    &field("data_type"),
                    format!("unknown data type {}", short(v)),
                )
            })?),
        };
        let nodata_value = pick(&[(r, "nodata"), (c, "nodata")]);
        let nodata = match nodata_value {
            None => None,
            Some(v) => Some(parse_number(v).ok_or_else(|| {
                l.err(
                    &field("nodata"),
                    format!(
                        "must be a number or \"nan\"/\"inf\"/\"-inf\", found {}",
                        short(v)
                    ),
                )
            })?),
        };
        out.push(BandMetadata {
            name: text(pick(&[(e, "name"), (c, "name")])),
            common_name: text(pick(&[
                (e, "common_name"),
                (c, "eo:common_name"),
                (c, "common_name"),
            ])),
            data_type,
            nodata,
            scale: number(
                pick(&[(r, "scale"), (c, "raster:scale"), (c, "scale")]),
                "scale",
            )?,
            offset: number(
                pick(&[(r, "offset"), (c, "raster:offset"), (c, "offset")]),
                "offset",
            )?,
            spatial_resolution: number(
                pick(&[(r, "spatial_resolution"), (c, "raster:spatial_resolution")]),
                "spatial_resolution",
            )?,
            unit: text(pick(&[(r, "unit"), (c, "unit")])),
        });
    }
    Ok(out)
}

/// The first source that has the key (non-null) wins.
fn pick<'v>(keys: &[(Option<&'v Value>, &str)]) -> Option<&'v Value> {
    keys.iter()
        .find_map(|(src, k)| src.and_then(|s| s.get(*k)).filter(|v| !v.is_null()))
}
