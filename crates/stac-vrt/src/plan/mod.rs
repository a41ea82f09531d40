//! Planning the mosaic: resolve every item's source, choose the target CRS,
//! resolution and extent, and place each source on the mosaic grid (direct
//! rectangles, the same arithmetic as `gdalbuildvrt`, or a warped window).
//!
//! [`plan`] runs seven steps, each a method of [`Planner`] in the module
//! named for it: `resolve` (1: sources and the shared env), `crs` (2: each
//! source's CRS and the target; 3: footprints), `grid` (4: bands; 5:
//! resolution and extent), `place` (6: sources on the grid; 7: VRT bands).
//! The types handed from one step to the next are defined here.

mod crs;
mod grid;
mod place;
mod resolve;

use std::collections::HashMap;

use gdal::spatial_ref::SpatialRef;
use serde_json::Value;
use stac_signers::GdalEnv;

use crate::error::{Result, VrtError};
use crate::options::{MosaicOrder, Resampling, Resolution, VrtOptions};
use crate::report::{SkippedSource, SourceSummary};
use crate::sources::Grid;

/// One source as the VRT names it.
#[derive(Debug, Clone)]
pub(crate) struct PlanSource {
    /// `SourceFilename`: a GDAL path, or an inline warped VRT document.
    pub filename: String,
    /// The same without the HTTP headers embedded for this process
    /// ([`sources::without_headers`]), when it has any: what a VRT written
    /// to a file names.
    pub public_filename: Option<String>,
    /// Size of what `filename` opens.
    pub cols: usize,
    /// Size of what `filename` opens.
    pub rows: usize,
    /// What the report says about it.
    pub summary: SourceSummary,
}

/// One source band placed in one VRT band.
#[derive(Debug, Clone)]
pub(crate) struct SourceRect {
    /// Index into [`Plan::sources`].
    pub source: usize,
    /// 1-based band of what `filename` opens.
    pub source_band: usize,
    /// Its data type.
    pub data_type: &'static str,
    /// `SrcRect` (xoff, yoff, xsize, ysize).
    pub src_rect: [f64; 4],
    /// `DstRect`.
    pub dst_rect: [f64; 4],
    /// `NODATA` of the source (transparent in the mosaic).
    pub nodata: Option<f64>,
}

/// One VRT band.
#[derive(Debug, Clone)]
pub(crate) struct PlanBand {
    /// GDAL data type name.
    pub data_type: &'static str,
    /// `NoDataValue`.
    pub nodata: Option<f64>,
    /// Band description (item id with `separate`).
    pub description: Option<String>,
    /// Sources painted in order (last on top).
    pub sources: Vec<SourceRect>,
}

/// The whole mosaic.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub cols: usize,
    pub rows: usize,
    pub geotransform: [f64; 6],
    pub srs_wkt: String,
    pub crs: String,
    pub resampling: Resampling,
    pub sources: Vec<PlanSource>,
    pub bands: Vec<PlanBand>,
    pub skipped: Vec<SkippedSource>,
    pub outside_bounds: Vec<String>,
    pub warnings: Vec<String>,
    pub opened: usize,
    pub env: GdalEnv,
}

fn validate(options: &VrtOptions) -> Result<()> {
    if crate::options::vrt_names(options.resampling).is_none() {
        return Err(VrtError::InvalidOption {
            option: "resampling",
            reason: format!(
                "{} is not available for VRT sources (nearest, bilinear, cubic, cubicspline, \
                 lanczos, average, mode)",
                options.resampling
            ),
        });
    }
    if let Some(b) = options.bounds {
        if !(b.iter().all(|v| v.is_finite()) && b[0] < b[2] && b[1] < b[3]) {
            return Err(VrtError::InvalidOption {
                option: "bounds",
                reason: format!(
                    "must be finite [minx, miny, maxx, maxy] with min < max, got {b:?}"
                ),
            });
        }
    }
    if let Resolution::Explicit(x, y) = options.resolution {
        if !(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0) {
            return Err(VrtError::InvalidOption {
                option: "resolution",
                reason: format!("must be two positive numbers, got ({x}, {y})"),
            });
        }
    }
    if let Some(bands) = &options.bands {
        if bands.is_empty() || bands.contains(&0) {
            return Err(VrtError::InvalidOption {
                option: "bands",
                reason: format!("must be a non-empty list of 1-based band numbers, got {bands:?}"),
            });
        }
    }
    Ok(())
}

/// Plan the mosaic of `asset` over `items`, in seven steps (each a method of
/// [`Planner`], which collects what was skipped and the warnings in order).
pub(crate) fn plan(items: &[&Value], asset: &str, options: &VrtOptions) -> Result<Plan> {
    if items.is_empty() {
        return Err(VrtError::NoItems);
    }
    validate(options)?;
    let mut planner = Planner::new(asset, items.len(), options);
    // 1. Every source through the source layer; the env all of them share.
    let resolved = planner.resolve_all(items);
    let env = planner.shared_env(&resolved);
    let opened = resolved.opened;
    // 2. CRSs: each source's, then the target.
    let understood = planner.understand_crss(resolved.sources);
    let target = planner.target_crs(&understood)?;
    // 3. Footprints and pixel sizes in the target CRS.
    let mut placed = planner.footprints(understood, &target);
    // 4. Bands.
    let selection = planner.select_bands(&mut placed)?;
    // 5. Resolution and extent (gdalbuildvrt's arithmetic).
    let grid = planner.mosaic_grid(&mut placed)?;
    // 6. Place every source.
    if options.order == MosaicOrder::EarlierOnTop && !options.separate {
        placed.reverse();
    }
    let placement = planner.place_all(&placed, &selection, &grid, &target.info);
    if placement.sources.is_empty() {
        if !planner.skipped.is_empty() {
            return Err(planner.all_skipped());
        }
        return Err(VrtError::NoSources {
            asset: asset.to_owned(),
            reason: "no source intersects the bounds".into(),
        });
    }
    if options.fail_on_error && !planner.skipped.is_empty() {
        return Err(skipped_error(asset, planner.total, &planner.skipped));
    }
    // 7. VRT bands.
    let bands = planner.vrt_bands(placement.rects, &placement.sources, &selection);

    Ok(Plan {
        cols: grid.cols,
        rows: grid.rows,
        geotransform: grid.geotransform(),
        srs_wkt: target.info.wkt,
        crs: target.info.key,
        resampling: options.resampling,
        sources: placement.sources,
        bands,
        skipped: planner.skipped,
        outside_bounds: placement.outside_bounds,
        warnings: planner.warnings,
        opened,
        // Headers travel inside each source path (origin-scoped); what every
        // source's env shares is installed around reads.
        env,
    })
}

/// What the planning steps share: the request, the sources skipped and the
/// warnings so far (in the order the steps produce them), and the CRS caches.
struct Planner<'a> {
    asset: &'a str,
    /// How many items were asked for (for the skipped-sources errors).
    total: usize,
    options: &'a VrtOptions,
    skipped: Vec<SkippedSource>,
    warnings: Vec<String>,
    /// GDAL's `IsSame`, once per pair of CRSs.
    crs_equality: stac_raster::CrsCache,
    /// Each CRS definition understood once.
    crs_infos: HashMap<String, std::result::Result<CrsInfo, String>>,
}

impl<'a> Planner<'a> {
    fn new(asset: &'a str, total: usize, options: &'a VrtOptions) -> Self {
        Planner {
            asset,
            total,
            options,
            skipped: Vec::new(),
            warnings: Vec::new(),
            crs_equality: stac_raster::CrsCache::new(),
            crs_infos: HashMap::new(),
        }
    }

    fn skip(&mut self, item: String, href: Option<String>, reason: String) {
        self.skipped.push(SkippedSource { item, href, reason });
    }

    /// Every source was skipped: the strict error, or a `NoSources` error
    /// naming the first reason.
    fn all_skipped(&self) -> VrtError {
        if self.options.fail_on_error && !self.skipped.is_empty() {
            return skipped_error(self.asset, self.total, &self.skipped);
        }
        VrtError::NoSources {
            asset: self.asset.to_owned(),
            reason: self
                .skipped
                .first()
                .map(|s| format!("all {} skipped; first: {}", self.total, s.describe()))
                .unwrap_or_else(|| "no source".into()),
        }
    }
}

/// A source whose grid is known, from metadata or by opening it (step 1).
struct ResolvedSource {
    item: String,
    /// Redacted href, for the report.
    href: String,
    /// The VRT source path (credentials for this process embedded).
    path: String,
    grid: Grid,
    from_metadata: bool,
}

/// What step 1 learnt about all sources.
struct ResolvedSources {
    sources: Vec<ResolvedSource>,
    /// The env of every source the source layer resolved (also those
    /// skipped afterwards for their grid).
    envs: Vec<GdalEnv>,
    any_remote: bool,
    /// Whether the signer rewrote a remote href (a SAS or presigned query),
    /// which then sits in the XML.
    signed_hrefs: bool,
    /// How many sources were opened for their grid.
    opened: usize,
}

/// A CRS as GDAL understands it: a comparison key (`EPSG:32630`, else WKT) and WKT.
#[derive(Clone)]
struct CrsInfo {
    key: String,
    wkt: String,
}

/// A resolved source and its CRS as GDAL understands it (step 2).
struct UnderstoodSource {
    source: ResolvedSource,
    crs: CrsInfo,
}

/// The mosaic's CRS (step 2).
struct TargetCrs {
    info: CrsInfo,
    /// The same, in traditional GIS axis order, for transforming footprints.
    srs: SpatialRef,
}

struct Candidate {
    item: String,
    href: String,
    path: String,
    grid: Grid,
    from_metadata: bool,
    crs_key: String,
    /// Footprint in the target CRS.
    bounds: [f64; 4],
    /// Pixel size in the target CRS.
    res: (f64, f64),
    warped: bool,
}

/// The mosaic grid (step 5).
struct MosaicGrid {
    xres: f64,
    /// Pixel height, positive.
    yres: f64,
    /// `[minx, miny, maxx, maxy]`.
    bounds: [f64; 4],
    cols: usize,
    rows: usize,
}

impl MosaicGrid {
    fn geotransform(&self) -> [f64; 6] {
        let [minx, _, _, maxy] = self.bounds;
        [minx, self.xres, 0.0, maxy, 0.0, -self.yres]
    }
}

/// The VRT's sources (step 6).
#[derive(Default)]
struct Placement {
    sources: Vec<PlanSource>,
    /// Per source in [`Placement::sources`]: one rectangle per selected band.
    rects: Vec<Vec<SourceRect>>,
    /// Items whose footprint misses the mosaic.
    outside_bounds: Vec<String>,
}

fn short(def: &str) -> String {
    if def.len() > 60 {
        let mut end = 60;
        while !def.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &def[..end])
    } else {
        def.to_owned()
    }
}

fn skipped_error(asset: &str, total: usize, skipped: &[SkippedSource]) -> VrtError {
    let mut listing: Vec<String> = skipped
        .iter()
        .take(5)
        .map(SkippedSource::describe)
        .collect();
    if skipped.len() > 5 {
        listing.push(format!("... (+{} more)", skipped.len() - 5));
    }
    VrtError::SkippedSources {
        asset: asset.to_owned(),
        skipped: skipped.len(),
        total,
        listing: listing.join("; "),
    }
}
