//! Sources: one (item, asset band) read each, with its href (patched,
//! signed, GDAL path), its grid and band metadata from `proj:*` /
//! `raster:bands`, or from opening the file when the item has none.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use stac_meta::{DataType, HrefRule, assets, item_id, read_extension_metadata};
use stac_raster::{Crs, RasterError, RasterSource, Resampling};

use stac_meta::Location;

use crate::error::{CubeError, Result};
use crate::failure::Failure;
use crate::grid::SrcGrid;
use crate::options::CubeOptions;

/// One band of the cube: an asset, and a band inside it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slot {
    /// The band name in the cube.
    pub name: String,
    /// The asset key.
    pub asset: String,
    /// The band inside the asset's file (1-based).
    pub band: usize,
    /// Its STAC band metadata (common name, wavelength, unit), from the
    /// first item that has the asset.
    pub meta: BandMeta,
}

/// STAC band metadata of a cube band, for the layout's attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct BandMeta {
    pub common_name: Option<String>,
    pub wavelength: Option<f64>,
    pub unit: Option<String>,
}

/// The metadata of band `band` (1-based) of `item`'s asset `key`:
/// `common_name` and `unit` as stac-meta reads them, the wavelength from
/// `eo:bands` `center_wavelength` or STAC 1.1 `bands` `eo:center_wavelength`.
fn band_meta(item: &Value, key: &str, band: usize) -> BandMeta {
    let Ok(md) = read_extension_metadata(item, Some(key)) else {
        return BandMeta::default();
    };
    let b = md.bands.get(band - 1);
    let from = |list: Option<&[Value]>, field: &str| {
        list.and_then(|l| l.get(band - 1))
            .and_then(|v| v.get(field))
            .and_then(stac_meta::parse_number)
    };
    let common = assets(item)
        .and_then(|a| a.get(key))
        .and_then(|a| a.get("bands"))
        .and_then(Value::as_array)
        .map(Vec::as_slice);
    BandMeta {
        common_name: b.and_then(|b| b.common_name).map(str::to_owned),
        wavelength: from(md.eo_bands, "center_wavelength")
            .or_else(|| from(common, "eo:center_wavelength")),
        unit: b.and_then(|b| b.unit).map(str::to_owned),
    }
}

/// One read: item x slot.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub item: usize,
    pub item_id: String,
    pub slot: usize,
    pub asset: String,
    pub band: usize,
    /// The resolved href, redacted (for messages).
    pub href: String,
    /// The resolved source (patched, signed, judged, env scoped to its
    /// origin); `None` when it could not be resolved.
    pub raster: Option<Arc<RasterSource>>,
    /// The policy rule that refused it.
    pub rule: Option<HrefRule>,
    pub grid: Option<SrcGrid>,
    pub from_metadata: bool,
    pub nodata: Option<f64>,
    pub dtype: Option<DataType>,
    pub scale: f64,
    pub offset: f64,
    pub resampling: Resampling,
    /// Why this source cannot be read at all (missing asset, href, open failure).
    pub broken: Option<String>,
}

/// What opening a file told us.
#[derive(Debug, Clone)]
pub(crate) struct Opened {
    pub grid: Option<SrcGrid>,
    pub bands: usize,
    pub nodata: Vec<Option<f64>>,
    pub dtypes: Vec<DataType>,
}

/// Files opened during planning, by GDAL path: each file is opened at
/// most once per plan (band count, grid and type all come from one open).
pub(crate) type OpenCache = HashMap<String, std::result::Result<Opened, String>>;

/// Resolves one (item, asset key) through the source layer.
pub(crate) type Resolve<'a> =
    dyn Fn(&Value, &str) -> std::result::Result<RasterSource, RasterError> + 'a;

pub(crate) fn open_info(source: &RasterSource) -> std::result::Result<Opened, String> {
    let info = source.describe().map_err(|e| e.to_string())?;
    let grid = info.grid.and_then(|g| {
        Some(SrcGrid {
            crs: g.crs?,
            gt: g.geotransform,
            rows: info.rows,
            cols: info.cols,
        })
    });
    Ok(Opened {
        grid,
        bands: info.bands.len(),
        nodata: info.bands.iter().map(|b| b.nodata).collect(),
        dtypes: info.bands.iter().map(|b| b.data_type).collect(),
    })
}

/// [`open_info`] through the plan's cache.
pub(crate) fn cached_info(
    source: &RasterSource,
    cache: &mut OpenCache,
) -> std::result::Result<Opened, String> {
    cache
        .entry(source.gdal_path().to_owned())
        .or_insert_with(|| open_info(source))
        .clone()
}

fn has_asset(item: &Value, key: &str) -> bool {
    assets(item).is_some_and(|a| a.contains_key(key))
}

/// Turn the requested asset strings into cube bands. `key` is a whole asset
/// (one band per band of the file); `key.N` band N (1-based) of a
/// multi-band asset; `key.name` the band with that `eo:bands`/`bands` name
/// or common name.
pub(crate) fn resolve_slots(
    items: &[&Value],
    requested: &[&str],
    resolve: &Resolve<'_>,
    cache: &mut OpenCache,
) -> Result<Vec<Slot>> {
    if requested.is_empty() {
        return Err(crate::error::invalid("assets", "no asset requested"));
    }
    let mut slots = Vec::new();
    for req in requested {
        if let Some(item) = items.iter().find(|it| has_asset(it, req)) {
            require_raster_everywhere(items, req)?;
            let md = read_extension_metadata(item, Some(req))?;
            // Band count from the metadata; a file is opened only when its
            // item has neither band nor grid metadata.
            let mut count = md.bands.len();
            // A source the policy refuses counts as one band here; it is
            // listed as a failure (naming the rule) with the other sources.
            if count == 0
                && !md.has_grid()
                && let Ok(source) = resolve(item, req)
            {
                count = cached_info(&source, cache)
                    .map_err(|e| CubeError::Asset {
                        at: Location::asset(item_id(item), *req),
                        message: format!("cannot open to count its bands: {e}"),
                    })?
                    .bands;
            }
            if count <= 1 {
                slots.push(Slot {
                    name: req.to_string(),
                    asset: req.to_string(),
                    band: 1,
                    meta: band_meta(item, req, 1),
                });
            } else {
                let names = md.band_names.clone();
                for b in 1..=count {
                    let suffix = names
                        .as_ref()
                        .and_then(|n| n.get(b - 1))
                        .map_or_else(|| b.to_string(), |s| s.to_string());
                    slots.push(Slot {
                        name: format!("{req}.{suffix}"),
                        asset: req.to_string(),
                        band: b,
                        meta: band_meta(item, req, b),
                    });
                }
            }
            continue;
        }
        let Some((key, sel)) = req.rsplit_once('.') else {
            return Err(no_item_has(items, req));
        };
        let Some(item) = items.iter().find(|it| has_asset(it, key)) else {
            return Err(no_item_has(items, req));
        };
        require_raster_everywhere(items, key)?;
        let band = match sel.parse::<usize>() {
            Ok(0) => {
                return Err(CubeError::Asset {
                    at: Location::asset(item_id(item), *req),
                    message: "band numbers start at 1".into(),
                });
            }
            Ok(n) => {
                // The band must exist: counted from `raster:bands`/`eo:bands`/
                // `bands`, or (items without band or grid metadata) from the
                // file, opened once.
                let md = read_extension_metadata(item, Some(key))?;
                let mut count = md.bands.len();
                if count == 0
                    && !md.has_grid()
                    && let Ok(source) = resolve(item, key)
                    && let Ok(info) = cached_info(&source, cache)
                {
                    count = info.bands;
                }
                if count > 0 && n > count {
                    return Err(CubeError::Asset {
                        at: Location::asset(item_id(item), *req),
                        message: format!(
                            "band {n} requested, but asset {key:?} has {count} band{}",
                            if count == 1 { "" } else { "s" }
                        ),
                    });
                }
                n
            }
            Err(_) => {
                let md = read_extension_metadata(item, Some(key))?;
                md.bands
                    .iter()
                    .position(|b| b.name == Some(sel) || b.common_name == Some(sel))
                    .map(|p| p + 1)
                    .ok_or_else(|| CubeError::Asset {
                        at: Location::asset(item_id(item), key),
                        message: format!(
                            "no band named {sel} in eo:bands/bands (names: {})",
                            md.bands
                                .iter()
                                .map(|b| b.name.or(b.common_name).unwrap_or("?"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })?
            }
        };
        slots.push(Slot {
            name: req.to_string(),
            asset: key.to_owned(),
            band,
            meta: band_meta(item, key, band),
        });
    }
    Ok(slots)
}

/// Every item's asset `key` must be a raster band by the one rule
/// ([`stac_meta::require_raster`]): media type, roles, extension.
fn require_raster_everywhere(items: &[&Value], key: &str) -> Result<()> {
    for item in items.iter().filter(|it| has_asset(it, key)) {
        stac_meta::require_raster(item, key, &[])?;
    }
    Ok(())
}

fn no_item_has(items: &[&Value], req: &str) -> CubeError {
    let mut keys: Vec<&str> = items
        .iter()
        .filter_map(|it| assets(it))
        .flat_map(|a| a.keys().map(String::as_str))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    CubeError::Asset {
        at: Location::asset(items.first().map_or("", |i| item_id(i)), req),
        message: format!(
            "no item has this asset (asset keys present: {})",
            keys.join(", ")
        ),
    }
}

/// Parse a `crs` string from `read_extension_metadata`.
fn metadata_crs(text: &str, item: &Value, asset: &str) -> Result<Crs> {
    Crs::parse(text).map_err(|e| CubeError::Asset {
        at: Location::asset(item_id(item), asset),
        message: format!("field proj:code/proj:epsg/proj:wkt2/proj:projjson: {e}"),
    })
}

/// Build every source of the cube, reading metadata without I/O.
pub(crate) fn build_sources(
    items: &[&Value],
    slots: &[Slot],
    options: &CubeOptions,
    resolve: &Resolve<'_>,
) -> Result<Vec<Source>> {
    let mut out = Vec::with_capacity(items.len() * slots.len());
    for (i, item) in items.iter().enumerate() {
        let id = item_id(item);
        for (s, slot) in slots.iter().enumerate() {
            let aopts = options.asset_options(&slot.asset);
            let mut src = Source {
                item: i,
                item_id: id.to_owned(),
                slot: s,
                asset: slot.asset.clone(),
                band: slot.band,
                href: String::new(),
                raster: None,
                rule: None,
                grid: None,
                from_metadata: false,
                nodata: aopts.and_then(|a| a.nodata),
                dtype: aopts.and_then(|a| a.dtype),
                scale: 1.0,
                offset: 0.0,
                resampling: aopts
                    .and_then(|a| a.resampling)
                    .unwrap_or(options.resampling),
                broken: None,
            };
            if !has_asset(item, &slot.asset) {
                src.broken = Some("the item has no such asset".into());
                out.push(src);
                continue;
            }
            match resolve(item, &slot.asset) {
                Ok(r) => {
                    src.href = r.redacted_href().to_owned();
                    src.raster = Some(Arc::new(r));
                }
                Err(e) => {
                    src.rule = e.rule();
                    if let RasterError::Refused { at, .. } | RasterError::Asset { at, .. } = &e
                        && let Some(href) = &at.href
                    {
                        src.href = href.to_string();
                    }
                    src.broken = Some(e.to_string());
                    out.push(src);
                    continue;
                }
            }
            let md = read_extension_metadata(item, Some(&slot.asset))?;
            if md.has_grid()
                && let (Some(crs), Some(gt), Some(shape)) = (&md.crs, md.geotransform, md.shape)
            {
                let grid = SrcGrid {
                    crs: metadata_crs(crs, item, &slot.asset)?,
                    gt,
                    rows: usize::try_from(shape[0]).unwrap_or(usize::MAX),
                    cols: usize::try_from(shape[1]).unwrap_or(usize::MAX),
                };
                // Implausible metadata ([0, 0] shapes, NaN transforms): the
                // file itself is opened for its grid instead.
                if grid.check().is_ok() {
                    src.grid = Some(grid);
                    src.from_metadata = true;
                }
            }
            if let Some(b) = md.bands.get(slot.band - 1) {
                if src.nodata.is_none() {
                    src.nodata = b.nodata;
                }
                if src.dtype.is_none() {
                    src.dtype = b.data_type;
                }
                src.scale = b.scale.unwrap_or(1.0);
                src.offset = b.offset.unwrap_or(0.0);
            }
            out.push(src);
        }
    }
    Ok(out)
}

/// Open the sources whose items carry no grid (in parallel, each file
/// once, reusing what planning already opened) and fill in grid, nodata
/// and type. Returns the failures.
pub(crate) fn open_missing(sources: &mut [Source], cache: &mut OpenCache) -> Vec<Failure> {
    use rayon::prelude::*;
    let mut todo: Vec<&RasterSource> = sources
        .iter()
        .filter(|s| s.broken.is_none() && s.grid.is_none())
        .filter_map(|s| s.raster.as_deref())
        .filter(|r| !cache.contains_key(r.gdal_path()))
        .collect();
    todo.sort_unstable_by(|a, b| a.gdal_path().cmp(b.gdal_path()));
    todo.dedup_by(|a, b| a.gdal_path() == b.gdal_path());
    let opened: Vec<(String, std::result::Result<Opened, String>)> = todo
        .par_iter()
        .map(|r| (r.gdal_path().to_owned(), open_info(r)))
        .collect();
    cache.extend(opened);
    let mut failures = Vec::new();
    for s in sources.iter_mut() {
        if s.broken.is_some() || s.grid.is_some() {
            continue;
        }
        let key = s.raster.as_ref().map(|r| r.gdal_path().to_owned());
        match key.as_ref().and_then(|k| cache.get(k)) {
            Some(Ok(info)) => {
                if s.band > info.bands {
                    s.broken = Some(format!(
                        "band {} requested, the file has {}",
                        s.band, info.bands
                    ));
                } else if info.grid.is_none() {
                    s.broken = Some("the file has no CRS or geotransform".into());
                } else if let Some(Err(e)) = info.grid.as_ref().map(SrcGrid::check) {
                    s.broken = Some(e);
                } else {
                    s.grid = info.grid.clone();
                    if s.nodata.is_none() {
                        s.nodata = info.nodata[s.band - 1];
                    }
                    if s.dtype.is_none() {
                        s.dtype = Some(info.dtypes[s.band - 1]);
                    }
                }
            }
            Some(Err(e)) => s.broken = Some(e.clone()),
            None => s.broken = Some("not opened".into()),
        }
        if let Some(msg) = &s.broken {
            let timed_out = s.raster.as_ref().is_some_and(|r| r.expired());
            failures.push(
                Failure::new(&s.item_id, &s.asset, &s.href, msg)
                    .with_rule(s.rule)
                    .with_timed_out(timed_out),
            );
        }
    }
    failures
}

/// The numpy-style common type of two raster types (64-bit integers and
/// complex types are not cube types: they widen to float64 / error).
pub(crate) fn promote(a: DataType, b: DataType) -> DataType {
    use DataType::*;
    fn norm(t: DataType) -> DataType {
        match t {
            Int64 | Uint64 => Float64,
            Float16 => Float32,
            other => other,
        }
    }
    let (a, b) = (norm(a), norm(b));
    if a == b {
        return a;
    }
    // (float, signed, bits); what is not a cube type counts as float64.
    let info = |t: DataType| -> (bool, bool, u32) {
        match t.bits() {
            Some(bits) if !t.is_complex() && bits <= 32 => (t.is_float(), t.is_signed(), bits),
            _ => (true, true, 64),
        }
    };
    let (fa, sa, ba) = info(a);
    let (fb, sb, bb) = info(b);
    if fa || fb {
        let int_bits = match (fa, fb) {
            (true, false) => bb,
            (false, true) => ba,
            _ => 0,
        };
        return if ba == 64 && fa || bb == 64 && fb || int_bits >= 32 {
            Float64
        } else {
            Float32
        };
    }
    if sa == sb {
        return if ba >= bb { a } else { b };
    }
    // Mixed signedness: a signed type wide enough for the unsigned one.
    let (ub, sbits) = if sa { (bb, ba) } else { (ba, bb) };
    let need = sbits.max(ub * 2);
    match need {
        0..=8 => Int8,
        9..=16 => Int16,
        17..=32 => Int32,
        _ => Float64,
    }
}

/// Whether `v` can be stored in `t` exactly (for the cube's types: the
/// real types up to 32-bit integers and 64-bit floats).
pub(crate) fn representable(v: f64, t: DataType) -> bool {
    !t.is_complex() && t.holds(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DataType::*;

    #[test]
    fn promotion_follows_numpy() {
        assert_eq!(promote(Uint16, Uint16), Uint16);
        assert_eq!(promote(Uint8, Uint16), Uint16);
        assert_eq!(promote(Uint16, Int16), Int32);
        assert_eq!(promote(Uint8, Int8), Int16);
        assert_eq!(promote(Uint16, Float32), Float32);
        assert_eq!(promote(Int32, Float32), Float64);
        assert_eq!(promote(Uint32, Int32), Float64);
        assert_eq!(promote(Int64, Uint8), Float64);
    }

    #[test]
    fn nodata_representability() {
        assert!(representable(0.0, Uint16));
        assert!(!representable(-9999.0, Uint16));
        assert!(!representable(f64::NAN, Int16));
        assert!(representable(f64::NAN, Float32));
    }
}
