//! Planning, the first step of a load (**plan** → place → read → fuse):
//! from items, asset keys and options to a [`CubePlan`] — the filters, the
//! bands and their sources (resolved through the source layer), the grid,
//! the data type and nodata policy, the time axis and the alignment check.
//! No pixel is read; a file is opened only when its item carries no grid
//! metadata, and then once ([`OpenCache`]).

use serde_json::Value;
use stac_meta::{Bbox, DataType, GroupBy, bbox as item_bbox};
use stac_raster::{CrsCache, RasterSource, TargetGrid};

use crate::collection::CubePlan;
use crate::error::{CubeError, Result, invalid};
use crate::failure::Failure;
use crate::fusion::Fusion;
use crate::grid::{GridReport, close, plan_grid};
use crate::options::CubeOptions;
use crate::place::aligned_with;
use stac_meta::Location;

use crate::sources::{
    OpenCache, Source, build_sources, cached_info, open_missing, promote, representable,
    resolve_slots,
};
use crate::timeline::build_timeline;

/// Plan a cube without reading pixels (see [`crate::DatasetCollection::plan`]).
pub(crate) fn plan(items: &[Value], assets: &[&str], options: &CubeOptions) -> Result<CubePlan> {
    // 1. Filters and option checks.
    let kept = filter_items(items, options)?;
    // 2. Sources go through the source layer: resolved, patched,
    // signed, judged by the policy, env scoped to each source's origin.
    let source_options = options.source_options();
    let resolve = |item: &Value, key: &str| RasterSource::resolve(item, Some(key), &source_options);
    let mut opened = OpenCache::new();
    // 3. Bands and sources.
    let slots = resolve_slots(&kept, assets, &resolve, &mut opened)?;
    let mut sources = build_sources(&kept, &slots, options, &resolve)?;
    let mut report = GridReport {
        from_metadata: sources.iter().filter(|s| s.from_metadata).count(),
        ..GridReport::default()
    };
    let needs_open = sources
        .iter()
        .filter(|s| s.broken.is_none() && s.grid.is_none())
        .count();
    let mut plan_failures = open_missing(&mut sources, &mut opened);
    report.opened = needs_open;
    // Missing assets are failures too.
    for s in &sources {
        if let Some(msg) = &s.broken
            && !plan_failures
                .iter()
                .any(|f| f.item == s.item_id && f.asset == s.asset)
        {
            plan_failures.push(Failure::new(&s.item_id, &s.asset, &s.href, msg).with_rule(s.rule));
        }
    }
    if options.fail_on_error && !plan_failures.is_empty() {
        return Err(CubeError::Read {
            failures: plan_failures,
        });
    }
    // 4. Grid.
    let mut same = CrsCache::default();
    let with_grid: Vec<(String, &crate::grid::SrcGrid)> = sources
        .iter()
        .filter_map(|s| {
            s.grid
                .as_ref()
                .map(|g| (format!("{}/{}", s.item_id, s.asset), g))
        })
        .collect();
    if with_grid.is_empty() && options.grid.like.is_none() {
        return Err(CubeError::NoItems {
            reason: format!(
                "no source could be located ({} failures)",
                plan_failures.len()
            ),
        });
    }
    let grid = plan_grid(
        &options.grid,
        &with_grid,
        options.max_pixels,
        &mut same,
        &mut report,
    )?;
    // 5. Type (nodata follows it at load time).
    let dtype = declared_dtype(&sources, options)?;
    // 6. Time axis.
    let timesteps = build_timeline(&kept, &options.groupby, options.time_order)?;
    let mut item_sources = vec![vec![usize::MAX; slots.len()]; kept.len()];
    for (i, s) in sources.iter().enumerate() {
        item_sources[s.item][s.slot] = i;
    }
    // 7. Alignment check.
    if !options.align {
        check_aligned(&sources, &grid, &mut same)?;
    }
    Ok(CubePlan {
        sources,
        item_sources,
        slots,
        timesteps,
        grid,
        dtype,
        opened,
        options: options.clone(),
        report,
        plan_failures,
        stage: Default::default(),
    })
}

/// The items a cube is built from: those overlapping `options.bbox`, at
/// most `options.max_items`; and the option checks that need no source.
fn filter_items<'a>(items: &'a [Value], options: &CubeOptions) -> Result<Vec<&'a Value>> {
    // A lon/lat box with west > east crosses the
    // antimeridian only when meant (`antimeridian`, or at most 180°).
    if let Some(b) = options.bbox {
        stac_meta::check_lonlat_bbox(b, options.antimeridian)
            .map_err(|e| invalid("bbox", strip_parameter(&e)))?;
    }
    if let Some(crate::grid::Bounds::LonLat(b)) = options.grid.bounds {
        stac_meta::check_lonlat_bbox(b, options.antimeridian)
            .map_err(|e| invalid("bounds", strip_parameter(&e)))?;
    }
    if options.max_items == Some(0) {
        return Err(invalid(
            "max_items",
            "must be at least 1 (0 would leave no item to build a cube from)",
        ));
    }
    let mut kept: Vec<&Value> = Vec::with_capacity(items.len());
    for item in items {
        if let Some(b) = &options.bbox
            && let Some(ib) = item_bbox(item)?
            && !overlaps(&ib, b)
        {
            continue;
        }
        kept.push(item);
        if options.max_items.is_some_and(|n| kept.len() >= n) {
            break;
        }
    }
    if kept.is_empty() {
        return Err(CubeError::NoItems {
            reason: if items.is_empty() {
                "no items were given".into()
            } else {
                format!("none of the {} item(s) overlaps the bbox", items.len())
            },
        });
    }
    if matches!(options.groupby, GroupBy::None) && !matches!(options.fusion, Fusion::First) {
        return Err(invalid(
            "fusion",
            format!(
                "fusion {:?} needs a groupby (without one, each item is its own timestep)",
                options.fusion
            ),
        ));
    }
    Ok(kept)
}

/// The reason of a stac-meta parameter error, without its "invalid search
/// parameter" framing (the cube names its own option).
fn strip_parameter(e: &stac_meta::MetaError) -> String {
    match e {
        stac_meta::MetaError::InvalidParameter { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// Does the item's bbox overlap `b` (lon/lat; antimeridian-aware)?
fn overlaps(item: &Bbox, b: &[f64; 4]) -> bool {
    if item.north < b[1] || item.south > b[3] {
        return false;
    }
    let spans = |w: f64, e: f64| -> Vec<(f64, f64)> {
        if w > e {
            vec![(w, 180.0), (-180.0, e)]
        } else {
            vec![(w, e)]
        }
    };
    let a = spans(item.west, item.east);
    let q = spans(b[0], b[2]);
    a.iter()
        .any(|(w1, e1)| q.iter().any(|(w2, e2)| w1 <= e2 && w2 <= e1))
}

pub(crate) fn is_int(t: DataType) -> bool {
    !matches!(t, DataType::Float32 | DataType::Float64)
}

/// The type the options or the metadata decide; `None` when no source
/// declares one (then the first file decides, at load time).
fn declared_dtype(sources: &[Source], options: &CubeOptions) -> Result<Option<DataType>> {
    if let Some(t) = options.dtype {
        return match t {
            DataType::Uint8
            | DataType::Int8
            | DataType::Uint16
            | DataType::Int16
            | DataType::Uint32
            | DataType::Int32
            | DataType::Float32
            | DataType::Float64 => Ok(Some(t)),
            other => Err(invalid(
                "dtype",
                format!(
                    "{} is not a cube type (uint8..int32, float32, float64)",
                    other.as_str()
                ),
            )),
        };
    }
    if matches!(options.fusion, Fusion::Count) {
        return Ok(Some(DataType::Uint32));
    }
    let mut t: Option<DataType> = None;
    for s in sources.iter().filter(|s| s.broken.is_none()) {
        if let Some(d) = s.dtype {
            if matches!(
                d,
                DataType::Cint16
                    | DataType::Cint32
                    | DataType::Cfloat32
                    | DataType::Cfloat64
                    | DataType::Other
            ) {
                return Err(CubeError::Asset {
                    at: Location::asset(&s.item_id, &s.asset),
                    message: format!(
                        "raster:bands data_type {} cannot be loaded into a cube",
                        d.as_str()
                    ),
                });
            }
            t = Some(t.map_or(d, |c| promote(c, d)));
        }
    }
    Ok(t.map(|t| adjust_dtype(promote(t, t), options)))
}

/// Floats for rescaled cubes and for mean/median/closure fusion of integers.
fn adjust_dtype(t: DataType, options: &CubeOptions) -> DataType {
    if options.rescale
        || (matches!(
            options.fusion,
            Fusion::Mean | Fusion::Median | Fusion::Custom(_)
        ) && is_int(t))
    {
        if t == DataType::Float64 {
            DataType::Float64
        } else {
            DataType::Float32
        }
    } else {
        t
    }
}

/// The first readable source's type (from what planning opened, or by
/// opening it now).
pub(crate) fn dtype_from_file(
    sources: &[Source],
    opened: &OpenCache,
    options: &CubeOptions,
) -> Result<DataType> {
    let s = sources
        .iter()
        .find(|s| s.broken.is_none() && s.raster.is_some())
        .ok_or_else(|| CubeError::NoItems {
            reason: "no readable source".into(),
        })?;
    let raster = s.raster.as_deref().ok_or_else(|| CubeError::NoItems {
        reason: "no readable source".into(),
    })?;
    let mut cache = opened.clone();
    let info = cached_info(raster, &mut cache).map_err(|e| CubeError::Read {
        failures: vec![
            Failure::new(&s.item_id, &s.asset, &s.href, e).with_timed_out(raster.expired()),
        ],
    })?;
    let t = info
        .dtypes
        .get(s.band - 1)
        .copied()
        .unwrap_or(DataType::Float32);
    Ok(adjust_dtype(promote(t, t), options))
}

pub(crate) fn choose_nodata(
    sources: &[Source],
    options: &CubeOptions,
    dtype: DataType,
    report: &mut GridReport,
) -> Option<f64> {
    if let Some(v) = options.nodata {
        return Some(v);
    }
    if matches!(options.fusion, Fusion::Count) {
        return None;
    }
    if options.rescale {
        return Some(f64::NAN);
    }
    if let Some(v) = sources
        .iter()
        .filter(|s| s.broken.is_none())
        .find_map(|s| s.nodata)
    {
        if representable(v, dtype) {
            return Some(v);
        }
        report.notes.push(format!(
            "source nodata {v} cannot be stored as {}; using {}",
            dtype.as_str(),
            if is_int(dtype) { "0" } else { "NaN" }
        ));
    }
    if is_int(dtype) {
        report.notes.push(
            "no source declares nodata: cells without data are 0 (declared as nodata)".into(),
        );
        Some(0.0)
    } else {
        Some(f64::NAN)
    }
}

fn check_aligned(sources: &[Source], grid: &TargetGrid, same: &mut CrsCache) -> Result<()> {
    let mut bad = Vec::new();
    for s in sources.iter().filter(|s| s.broken.is_none()) {
        let Some(g) = &s.grid else { continue };
        let ok = same.same(&g.crs, &grid.crs)
            && g.is_north_up()
            && close(g.gt[1], grid.geotransform[1])
            && aligned_with(g.gt, grid.geotransform);
        if !ok {
            bad.push(format!(
                "{}: {}",
                Location::asset(&s.item_id, &s.asset),
                g.describe()
            ));
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let gt = grid.geotransform;
    let n = bad.len();
    bad.truncate(10);
    Err(CubeError::Alignment {
        message: format!(
            "align(false) needs every source on the grid {} {}x{} px of {}x{} at ({}, {}); \
             {n} source(s) differ: {}{}",
            grid.crs.short(),
            grid.cols,
            grid.rows,
            gt[1],
            -gt[5],
            gt[0],
            gt[3],
            bad.join("; "),
            if n > 10 { " ..." } else { "" }
        ),
    })
}
