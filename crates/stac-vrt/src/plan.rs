//! Planning the mosaic: resolve every item's source, choose the target CRS,
//! resolution and extent, and place each source on the mosaic grid (direct
//! rectangles, the same arithmetic as `gdalbuildvrt`, or a warped window).

use std::collections::HashMap;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use serde_json::Value;
use stac_signers::GdalEnv;

use crate::error::{Result, VrtError};
use crate::options::{MosaicOrder, Resampling, Resolution, VrtOptions};
use crate::report::{SkippedSource, SourceSummary};
use crate::sources::{self, Grid};
use crate::warp::{WarpSpec, warped_vrt};

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

/// A CRS as GDAL understands it: a comparison key (`EPSG:32630`, else WKT) and WKT.
#[derive(Clone)]
struct CrsInfo {
    key: String,
    wkt: String,
}

fn crs_info(def: &str) -> std::result::Result<CrsInfo, String> {
    let srs = SpatialRef::from_definition(def).map_err(|e| e.to_string())?;
    let wkt = srs.to_wkt().map_err(|e| e.to_string())?;
    let key = srs.authority().unwrap_or_else(|_| wkt.clone());
    Ok(CrsInfo { key, wkt })
}

fn gis_srs(wkt: &str) -> std::result::Result<SpatialRef, String> {
    let mut srs = SpatialRef::from_wkt(wkt).map_err(|e| e.to_string())?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
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

/// The options every env holds with the same value (no `GDAL_HTTP_HEADERS`:
/// headers travel inside source paths). Installing these around a read of
/// the whole VRT gives no source anything its own env lacks.
fn common_env(envs: &[GdalEnv]) -> GdalEnv {
    let Some((first, rest)) = envs.split_first() else {
        return GdalEnv::new();
    };
    first
        .iter()
        .filter(|(k, _)| *k != "GDAL_HTTP_HEADERS")
        .filter(|(k, v)| rest.iter().all(|e| e.get(k) == Some(*v)))
        .collect()
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

/// Coordinates of a footprint to be warped must lie within ±this (CRS
/// units): ten times the largest coordinates any CRS uses (metres, feet,
/// degrees), far beyond which PROJ's transforms can run for minutes.
const MAX_COORDINATE: f64 = 1e9;

/// One more than the largest raster side GDAL takes (`INT_MAX`).
const MAX_SIZE: f64 = 2_147_483_648.0;

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
    if options.strict && !planner.skipped.is_empty() {
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

/// The redacted href of `asset` in `item`, when it has one.
fn asset_href(item: &Value, asset: &str) -> Option<String> {
    stac_meta::asset(item, asset)
        .ok()
        .and_then(|a| a.get("href"))
        .and_then(Value::as_str)
        .map(|h| stac_raster::redact_message(&stac_meta::redact(h)))
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
        if self.options.strict && !self.skipped.is_empty() {
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

    /// Step 1: every source through the source layer (resolved, signed,
    /// judged by the policy, env scoped to its origin); grids from
    /// metadata; open only what lacks a grid.
    fn resolve_all(&mut self, items: &[&Value]) -> ResolvedSources {
        let source_options = self.options.source_options();
        let alternates: Vec<&str> = source_options
            .alternates
            .iter()
            .map(String::as_str)
            .collect();
        let mut out = ResolvedSources {
            sources: Vec::new(),
            envs: Vec::new(),
            any_remote: false,
            signed_hrefs: false,
            opened: 0,
        };
        for item in items {
            if let Some(source) = self.resolve_one(item, &alternates, &source_options, &mut out) {
                out.sources.push(source);
            }
        }
        out
    }

    /// One item of step 1: its source, or `None` once it is skipped.
    fn resolve_one(
        &mut self,
        item: &Value,
        alternates: &[&str],
        source_options: &stac_raster::SourceOptions,
        out: &mut ResolvedSources,
    ) -> Option<ResolvedSource> {
        let asset = self.asset;
        let id = sources::item_label(item);
        // The one raster-band rule (media type, roles, extension) the cube
        // and `which_engine` use: an XML/JSON/text/HDF4 asset is skipped,
        // named, and never opened.
        if let Err(e @ stac_meta::MetaError::NotRaster { .. }) =
            stac_meta::require_raster(item, asset, alternates)
        {
            self.skip(id, asset_href(item, asset), e.to_string());
            return None;
        }
        let source = match stac_raster::RasterSource::resolve(item, Some(asset), source_options) {
            Ok(s) => s,
            Err(e) => {
                let href = match &e {
                    stac_raster::RasterError::Refused { href, .. }
                    | stac_raster::RasterError::Asset { href, .. } => Some(href.clone()),
                    _ => asset_href(item, asset),
                };
                self.skip(id, href, stac_raster::redact_message(&e.to_string()));
                return None;
            }
        };
        let gdal_path = source.gdal_path().to_owned();
        let remote = stac_meta::is_remote(&gdal_path);
        out.any_remote |= remote;
        if self.options.signer.is_some() && remote && !out.signed_hrefs {
            out.signed_hrefs = stac_signers::resolved_href(item, Some(asset), None)
                .is_ok_and(|unsigned| stac_meta::gdal_path(&unsigned) != gdal_path);
        }
        let src_env = source.env().clone();
        let path = sources::vrt_source_path(&gdal_path, &src_env);
        out.envs.push(src_env);
        let href = source.redacted_href().to_owned();
        let meta_grid = match stac_meta::read_extension_metadata(item, Some(asset)) {
            Ok(meta) => match sources::grid_from_metadata(&meta, self.options) {
                Ok(grid) => grid,
                Err(reason) => {
                    self.skip(id, Some(href), reason);
                    return None;
                }
            },
            Err(e) => {
                self.warnings
                    .push(format!("{e}; opening the source to read its grid instead"));
                None
            }
        };
        let (grid, from_metadata) = match meta_grid {
            Some(grid) => (grid, true),
            None => {
                out.opened += 1;
                match sources::grid_from_source(&source) {
                    Ok(grid) => (grid, false),
                    Err(reason) => {
                        let reason = format!("could not open the source: {reason}");
                        self.skip(id, Some(href), reason);
                        return None;
                    }
                }
            }
        };
        Some(ResolvedSource {
            item: id,
            href,
            path,
            grid,
            from_metadata,
        })
    }

    /// The env installed around reads of the VRT, and warnings about the
    /// credentials that cannot travel with it.
    ///
    /// Every source's env: what is equal in all of them is installed around
    /// reads of the VRT; what differs (credentials scoped to some origins)
    /// travels only inside source paths, or not at all.
    fn shared_env(&mut self, resolved: &ResolvedSources) -> GdalEnv {
        let envs = &resolved.envs;
        let any_remote = resolved.any_remote;
        let mut env = common_env(envs);
        // Headers travel inside source paths, so the shared env may lack them;
        // any source with credentials keeps GDAL off cached redirect targets.
        if envs.iter().any(stac_raster::carries_http_credentials) {
            stac_raster::guard_redirects(&mut env);
        }
        let mut lost: Vec<String> = envs
            .iter()
            .flat_map(sources::untravelled_credentials)
            .collect();
        lost.sort();
        lost.dedup();
        let (installed, scoped): (Vec<String>, Vec<String>) =
            lost.into_iter().partition(|k| env.get(k).is_some());
        if any_remote && !scoped.is_empty() {
            self.warnings.push(format!(
                "the signer's GDAL options {} are scoped to some of the sources' origins and \
                 cannot travel inside a VRT source path, so reads of those sources get no \
                 credential (read them through the cube or load_asset instead)",
                scoped.join(", ")
            ));
        }
        if any_remote && !installed.is_empty() {
            self.warnings.push(format!(
                "the signer's GDAL options {} cannot travel inside a VRT file: every source's \
                 origin gets them, so Vrt::open installs them around its reads, but a copy of \
                 this VRT written to disk reads without them",
                installed.join(", ")
            ));
        }
        if resolved.signed_hrefs {
            self.warnings.push(
                "the signer rewrote hrefs (e.g. a SAS or presigned query): the signed URLs are \
                 embedded in the VRT's source paths, so writing this VRT to a file writes those \
                 credentials in clear text (and they stop working when they expire)"
                    .to_owned(),
            );
        }
        let headers_embedded = envs.iter().any(|e| e.get("GDAL_HTTP_HEADERS").is_some());
        if headers_embedded && any_remote {
            self.warnings.push(if sources::header_option_supported() {
                "HTTP headers of the signer travel inside the VRT's /vsicurl? source paths for \
                 reads in this process; Vrt::to_file writes the VRT without them (a reader must \
                 bring its own credentials), Vrt::to_file_with_credentials writes them in clear text"
                    .to_owned()
            } else {
                "HTTP headers of the signer travel through an in-memory header file (GDAL < 3.7 \
                 has no /vsicurl?header.<Name>= option): the VRT authenticates in this process \
                 only; a copy written to a file names its sources without credentials"
                    .to_owned()
            });
        }
        env
    }

    /// Step 2a: understand each source's CRS definition (once per
    /// definition); a source GDAL cannot read the CRS of is skipped.
    fn understand_crss(&mut self, resolved: Vec<ResolvedSource>) -> Vec<UnderstoodSource> {
        let mut understood = Vec::new();
        for source in resolved {
            let info = self
                .crs_infos
                .entry(source.grid.crs.clone())
                .or_insert_with(|| crs_info(&source.grid.crs))
                .clone();
            match info {
                Ok(crs) => understood.push(UnderstoodSource { source, crs }),
                Err(msg) => {
                    let reason = format!(
                        "GDAL does not understand its CRS {:?}: {msg}",
                        short(&source.grid.crs)
                    );
                    self.skip(source.item, Some(source.href), reason);
                }
            }
        }
        understood
    }

    /// Step 2b: the target CRS: the option, else the most common one.
    fn target_crs(&mut self, understood: &[UnderstoodSource]) -> Result<TargetCrs> {
        let info = match &self.options.crs {
            Some(def) => crs_info(def).map_err(|message| VrtError::Crs {
                context: "option crs".into(),
                crs: short(def),
                message,
            })?,
            None => self.most_common_crs(understood)?,
        };
        let srs = gis_srs(&info.wkt).map_err(|message| VrtError::Crs {
            context: "target".into(),
            crs: short(&info.key),
            message,
        })?;
        Ok(TargetCrs { info, srs })
    }

    /// The CRS most sources are in (GDAL's `IsSame`; the first on a tie),
    /// with a warning when there are several.
    fn most_common_crs(&mut self, understood: &[UnderstoodSource]) -> Result<CrsInfo> {
        let mut counts: Vec<(CrsInfo, usize)> = Vec::new();
        for c in understood {
            let equality = &mut self.crs_equality;
            let mut same = |k: &CrsInfo| {
                k.key == c.crs.key
                    || equality.same(
                        &stac_raster::Crs::Wkt(k.wkt.clone()),
                        &stac_raster::Crs::Wkt(c.crs.wkt.clone()),
                    )
            };
            match counts.iter_mut().find(|(k, _)| same(k)) {
                Some(slot) => slot.1 += 1,
                None => counts.push((c.crs.clone(), 1)),
            }
        }
        let Some(best) = counts
            .iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| a.1.cmp(&b.1).then(ib.cmp(ia)))
            .map(|(_, c)| c.0.clone())
        else {
            return Err(self.all_skipped());
        };
        if counts.len() > 1 {
            let listing: Vec<String> = counts
                .iter()
                .map(|(k, n)| format!("{} x{n}", short(&k.key)))
                .collect();
            self.warnings.push(format!(
                "sources are in {} CRSs ({}); using the most common, {}, and warping the others \
                 (set a target CRS to choose)",
                counts.len(),
                listing.join(", "),
                short(&best.key)
            ));
        }
        Ok(best)
    }

    /// Step 3: each source's footprint and pixel size in the target CRS;
    /// a source in another CRS, or on a rotated grid, is warped.
    fn footprints(
        &mut self,
        understood: Vec<UnderstoodSource>,
        target: &TargetCrs,
    ) -> Vec<Candidate> {
        let mut transforms: HashMap<String, std::result::Result<CoordTransform, String>> =
            HashMap::new();
        let mut placed = Vec::new();
        for UnderstoodSource { source, crs } in understood {
            let same = crs.key == target.info.key
                || self.crs_equality.same(
                    &stac_raster::Crs::Wkt(crs.wkt.clone()),
                    &stac_raster::Crs::Wkt(target.info.wkt.clone()),
                );
            let warped = !same || !source.grid.is_north_up();
            let footprint = if warped {
                let ct = transforms.entry(crs.key.clone()).or_insert_with(|| {
                    let src = gis_srs(&crs.wkt)?;
                    CoordTransform::new(&src, &target.srs).map_err(|e| e.to_string())
                });
                warped_footprint(&source.grid, ct)
            } else {
                let gt = source.grid.geotransform;
                Ok((source.grid.bounds(), (gt[1], -gt[5])))
            };
            match footprint {
                Ok((bounds, res)) => placed.push(Candidate {
                    item: source.item,
                    href: source.href,
                    path: source.path,
                    grid: source.grid,
                    from_metadata: source.from_metadata,
                    crs_key: crs.key,
                    bounds,
                    res,
                    warped,
                }),
                Err(why) => {
                    let reason = format!(
                        "its footprint cannot be transformed from {} to {}{why}",
                        short(&crs.key),
                        short(&target.info.key)
                    );
                    self.skip(source.item, Some(source.href), reason);
                }
            }
        }
        placed
    }

    /// Step 4: the source bands every VRT band (or, with `separate`, every
    /// source) takes; sources with too few bands are skipped.
    fn select_bands(&mut self, placed: &mut Vec<Candidate>) -> Result<Vec<usize>> {
        let Some(first) = placed.first() else {
            return Err(self.all_skipped());
        };
        let selection: Vec<usize> = match (&self.options.bands, self.options.separate) {
            (Some(b), _) => b.clone(),
            (None, true) => vec![1],
            (None, false) => (1..=first.grid.bands.len()).collect(),
        };
        let needed = selection.iter().copied().max().unwrap_or(1);
        let skipped = &mut self.skipped;
        placed.retain(|c| {
            if c.grid.bands.len() >= needed {
                true
            } else {
                skipped.push(SkippedSource {
                    item: c.item.clone(),
                    href: Some(c.href.clone()),
                    reason: format!(
                        "it has {} band(s), band {needed} is needed",
                        c.grid.bands.len()
                    ),
                });
                false
            }
        });
        if placed.is_empty() {
            return Err(self.all_skipped());
        }
        Ok(selection)
    }

    /// Step 5: resolution and extent (gdalbuildvrt's arithmetic); warped
    /// footprints are snapped to the grid of the native sources.
    fn mosaic_grid(&self, placed: &mut [Candidate]) -> Result<MosaicGrid> {
        let (xres, yres) = pixel_size(&self.options.resolution, placed);
        if self.options.bounds.is_none() {
            snap_warped(placed, xres, yres);
        }
        let bounds = self.options.bounds.unwrap_or_else(|| union_bounds(placed));
        let [minx, miny, maxx, maxy] = bounds;
        let cols_f = 0.5 + (maxx - minx) / xres;
        let rows_f = 0.5 + (maxy - miny) / yres;
        // GDAL's raster sizes are C ints: a larger mosaic (a huge extent or a
        // tiny pixel size) cannot be opened, so it is refused here.
        if !(cols_f < MAX_SIZE && rows_f < MAX_SIZE) {
            return Err(VrtError::NoSources {
                asset: self.asset.to_owned(),
                reason: format!(
                    "the mosaic would be {rows_f:.0} x {cols_f:.0} pixels of {xres} x {yres}, \
                     beyond GDAL's limit of {} per side",
                    i32::MAX
                ),
            });
        }
        let cols = cols_f as usize;
        let rows = rows_f as usize;
        if cols == 0 || rows == 0 {
            return Err(VrtError::NoSources {
                asset: self.asset.to_owned(),
                reason: format!("the extent is smaller than one pixel of {xres} x {yres}"),
            });
        }
        Ok(MosaicGrid {
            xres,
            yres,
            bounds,
            cols,
            rows,
        })
    }

    /// Step 6: every source on the mosaic grid, in painting order (last on top).
    fn place_all(
        &mut self,
        placed: &[Candidate],
        selection: &[usize],
        grid: &MosaicGrid,
        target: &CrsInfo,
    ) -> Placement {
        let mut out = Placement::default();
        for c in placed {
            let src_nodata: Vec<Option<f64>> = selection
                .iter()
                .map(|b| self.options.src_nodata.or(c.grid.bands[b - 1].nodata))
                .collect();
            if c.warped {
                self.place_warped(c, selection, &src_nodata, grid, target, &mut out);
            } else {
                place_direct(c, selection, &src_nodata, grid, &mut out);
            }
        }
        out
    }

    /// A warped source: an inline `VRTWarpedDataset` on the window of the
    /// mosaic grid its footprint covers.
    fn place_warped(
        &mut self,
        c: &Candidate,
        selection: &[usize],
        src_nodata: &[Option<f64>],
        grid: &MosaicGrid,
        target: &CrsInfo,
        out: &mut Placement,
    ) {
        let MosaicGrid {
            xres,
            yres,
            cols,
            rows,
            ..
        } = *grid;
        let [minx, _, _, maxy] = grid.bounds;
        let eps = 1e-9;
        let c0 = (((c.bounds[0] - minx) / xres) + eps).floor().max(0.0);
        let c1 = (((c.bounds[2] - minx) / xres) - eps)
            .ceil()
            .min(cols as f64);
        let r0 = (((maxy - c.bounds[3]) / yres) + eps).floor().max(0.0);
        let r1 = (((maxy - c.bounds[1]) / yres) - eps)
            .ceil()
            .min(rows as f64);
        if c1 <= c0 || r1 <= r0 {
            out.outside_bounds.push(c.item.clone());
            return;
        }
        let (w, h) = ((c1 - c0) as usize, (r1 - r0) as usize);
        let dst_gt = [minx + c0 * xres, xres, 0.0, maxy - r0 * yres, 0.0, -yres];
        let src_info = self
            .crs_infos
            .get(&c.grid.crs)
            .and_then(|r| r.as_ref().ok())
            .map(|i| i.wkt.clone())
            .unwrap_or_default();
        if src_nodata.iter().any(Option::is_none) {
            self.warnings.push(format!(
                "item {}: warped source has no nodata, so its empty corners are painted as 0 \
                 over other sources (set src_nodata)",
                c.item
            ));
        }
        let public_path = sources::without_headers(&c.path);
        let spec = |path| WarpSpec {
            path,
            grid: &c.grid,
            src_wkt: &src_info,
            dst_wkt: &target.wkt,
            dst_geotransform: dst_gt,
            size: (w, h),
            bands: selection,
            nodata: src_nodata,
            resampling: self.options.resampling,
        };
        let public_doc = public_path.as_deref().and_then(|p| warped_vrt(&spec(p)));
        let Some(doc) = warped_vrt(&spec(&c.path)) else {
            self.skip(
                c.item.clone(),
                Some(c.href.clone()),
                "its geotransform is not invertible".into(),
            );
            return;
        };
        let bounds = [
            dst_gt[0],
            dst_gt[3] - h as f64 * yres,
            dst_gt[0] + w as f64 * xres,
            dst_gt[3],
        ];
        let idx = out.sources.len();
        out.sources.push(PlanSource {
            filename: doc,
            public_filename: public_doc,
            cols: w,
            rows: h,
            summary: summary(c, bounds),
        });
        let full = [0.0, 0.0, w as f64, h as f64];
        let dst = [c0, r0, w as f64, h as f64];
        out.rects.push(
            selection
                .iter()
                .enumerate()
                .zip(src_nodata)
                .map(|((i, b), nd)| SourceRect {
                    source: idx,
                    source_band: i + 1,
                    data_type: c.grid.bands[b - 1].data_type,
                    src_rect: full,
                    dst_rect: dst,
                    nodata: *nd,
                })
                .collect(),
        );
    }

    /// Step 7: the VRT bands: one per selected band over all sources, or
    /// with `separate`, one per source and selected band.
    fn vrt_bands(
        &mut self,
        rects: Vec<Vec<SourceRect>>,
        plan_sources: &[PlanSource],
        selection: &[usize],
    ) -> Vec<PlanBand> {
        let mut bands = Vec::new();
        if self.options.separate {
            for (idx, per_band) in rects.into_iter().enumerate() {
                let n = per_band.len();
                for (k, r) in per_band.into_iter().enumerate() {
                    let item = &plan_sources[idx].summary.item;
                    let desc = if n > 1 {
                        format!("{item}:{}", selection[k])
                    } else {
                        item.clone()
                    };
                    bands.push(self.band(vec![r], Some(desc)));
                }
            }
        } else {
            for k in 0..selection.len() {
                let members: Vec<SourceRect> = rects.iter().map(|r| r[k].clone()).collect();
                bands.push(self.band(members, None));
            }
        }
        bands
    }

    /// One VRT band: the forced data type or the union of its sources',
    /// and the forced nodata or the first source's (warning on disagreement).
    fn band(&mut self, members: Vec<SourceRect>, description: Option<String>) -> PlanBand {
        let forced_type = self.options.data_type.and_then(sources::gdal_type_name);
        let data_type = forced_type.unwrap_or_else(|| {
            members
                .iter()
                .map(|r| r.data_type)
                .reduce(sources::union_type)
                .unwrap_or("Float64")
        });
        let nodata = self.options.vrt_nodata.or_else(|| {
            let first = members.first().and_then(|r| r.nodata)?;
            let agree = members
                .iter()
                .all(|r| r.nodata.is_some_and(|v| v == first || (v.is_nan() && first.is_nan())));
            if !agree {
                self.warnings.push(format!(
                    "sources disagree on nodata; the VRT band uses {first} (set vrt_nodata to choose)"
                ));
            }
            Some(first)
        });
        PlanBand {
            data_type,
            nodata,
            description,
            sources: members,
        }
    }
}

/// The report's summary of a placed source covering `bounds` of the mosaic.
fn summary(c: &Candidate, bounds: [f64; 4]) -> SourceSummary {
    SourceSummary {
        item: c.item.clone(),
        href: c.href.clone(),
        from_metadata: c.from_metadata,
        warped: c.warped,
        crs: short(&c.crs_key),
        bounds,
    }
}

/// A north-up source in the target CRS: `gdalbuildvrt`'s rectangles.
fn place_direct(
    c: &Candidate,
    selection: &[usize],
    src_nodata: &[Option<f64>],
    grid: &MosaicGrid,
    out: &mut Placement,
) {
    let MosaicGrid {
        xres,
        yres,
        bounds,
        cols,
        rows,
    } = *grid;
    let [minx, _, _, maxy] = bounds;
    let Some((src, dst)) = src_dst_window(&c.grid, xres, yres, bounds, cols, rows) else {
        out.outside_bounds.push(c.item.clone());
        return;
    };
    let covered = [
        minx + dst[0] * xres,
        maxy - (dst[1] + dst[3]) * yres,
        minx + (dst[0] + dst[2]) * xres,
        maxy - dst[1] * yres,
    ];
    let idx = out.sources.len();
    out.sources.push(PlanSource {
        filename: c.path.clone(),
        public_filename: sources::without_headers(&c.path),
        cols: c.grid.cols,
        rows: c.grid.rows,
        summary: summary(c, covered),
    });
    out.rects.push(
        selection
            .iter()
            .zip(src_nodata)
            .map(|(b, nd)| SourceRect {
                source: idx,
                source_band: *b,
                data_type: c.grid.bands[b - 1].data_type,
                src_rect: src,
                dst_rect: dst,
                nodata: *nd,
            })
            .collect(),
    );
}

/// A warped source's footprint (transformed with 21 points per edge) and
/// square pixel size in the target CRS; the error is the reason's tail
/// (`": <why>"`, or empty for a degenerate footprint).
fn warped_footprint(
    grid: &Grid,
    ct: &std::result::Result<CoordTransform, String>,
) -> std::result::Result<([f64; 4], (f64, f64)), String> {
    let source_bounds = grid.bounds();
    let b = match ct {
        // PROJ can take minutes on absurd coordinates (found by the
        // `vrt` fuzz target: a 1e300 pixel size); no CRS has them.
        _ if !source_bounds.iter().all(|v| v.abs() <= MAX_COORDINATE) => Err(format!(
            "its footprint {source_bounds:?} is beyond ±{MAX_COORDINATE:e} CRS units"
        )),
        Ok(ct) => ct
            .transform_bounds(&source_bounds, 21)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    };
    match b {
        Ok(b) if b.iter().all(|v| v.is_finite()) && b[0] < b[2] && b[1] < b[3] => {
            let r = ((b[2] - b[0]) * (b[3] - b[1]) / (grid.cols as f64 * grid.rows as f64)).sqrt();
            Ok((b, (r, r)))
        }
        other => Err(other.err().map(|e| format!(": {e}")).unwrap_or_default()),
    }
}

/// The mosaic's pixel size (x, y; both positive) under `resolution`.
fn pixel_size(resolution: &Resolution, placed: &[Candidate]) -> (f64, f64) {
    match *resolution {
        Resolution::Explicit(x, y) => (x, y),
        Resolution::Highest => placed.iter().fold((f64::INFINITY, f64::INFINITY), |a, c| {
            (a.0.min(c.res.0), a.1.min(c.res.1))
        }),
        Resolution::Lowest => placed.iter().fold((0.0_f64, 0.0_f64), |a, c| {
            (a.0.max(c.res.0), a.1.max(c.res.1))
        }),
        Resolution::Average => {
            let n = placed.len() as f64;
            let s = placed
                .iter()
                .fold((0.0, 0.0), |a, c| (a.0 + c.res.0, a.1 + c.res.1));
            (s.0 / n, s.1 / n)
        }
    }
}

/// Warped footprints snapped outward to the grid of the native sources (of
/// all sources when every one is warped), so the union (and a peer warping
/// onto it) stays aligned.
fn snap_warped(placed: &mut [Candidate], xres: f64, yres: f64) {
    let natives: Vec<[f64; 4]> = placed
        .iter()
        .filter(|c| !c.warped)
        .map(|c| c.bounds)
        .collect();
    let pool = if natives.is_empty() {
        placed.iter().map(|c| c.bounds).collect()
    } else {
        natives
    };
    let (ax, ay) = pool
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, b| {
            (a.0.min(b[0]), a.1.max(b[3]))
        });
    let eps = 1e-9;
    for c in placed.iter_mut().filter(|c| c.warped) {
        c.bounds = [
            ax + ((c.bounds[0] - ax) / xres + eps).floor() * xres,
            ay - ((ay - c.bounds[1]) / yres - eps).ceil() * yres,
            ax + ((c.bounds[2] - ax) / xres - eps).ceil() * xres,
            ay - ((ay - c.bounds[3]) / yres + eps).floor() * yres,
        ];
    }
}

/// The union of every source's footprint.
fn union_bounds(placed: &[Candidate]) -> [f64; 4] {
    placed.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, c| {
            [
                b[0].min(c.bounds[0]),
                b[1].min(c.bounds[1]),
                b[2].max(c.bounds[2]),
                b[3].max(c.bounds[3]),
            ]
        },
    )
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

/// `gdalbuildvrt`'s `GetSrcDstWin`: source and destination rectangles of a
/// north-up source on the mosaic grid, clipped to it; `None` when outside.
fn src_dst_window(
    grid: &Grid,
    we_res: f64,
    ns_res_abs: f64,
    [min_x, min_y, max_x, max_y]: [f64; 4],
    target_cols: usize,
    target_rows: usize,
) -> Option<([f64; 4], [f64; 4])> {
    let gt = grid.geotransform;
    let ns_res = -ns_res_abs;
    let (nx, ny) = (grid.cols as f64, grid.rows as f64);
    if gt[0] + nx * gt[1] <= min_x
        || gt[0] >= max_x
        || gt[3] + ny * gt[5] >= max_y
        || gt[3] <= min_y
    {
        return None;
    }
    let (src_x_off, dst_x_off) = if gt[0] < min_x {
        ((min_x - gt[0]) / gt[1], 0.0)
    } else {
        (0.0, (gt[0] - min_x) / we_res)
    };
    let (src_y_off, dst_y_off) = if max_y < gt[3] {
        ((gt[3] - max_y) / -gt[5], 0.0)
    } else {
        (0.0, (max_y - gt[3]) / -ns_res)
    };
    let mut src_x_size = nx;
    let mut src_y_size = ny;
    if src_x_off > 0.0 {
        src_x_size -= src_x_off;
    }
    if src_y_off > 0.0 {
        src_y_size -= src_y_off;
    }
    let sx = gt[1] / we_res;
    let mut dst_x_size = src_x_size * sx;
    let sy = gt[5] / ns_res;
    let mut dst_y_size = src_y_size * sy;
    if dst_x_off + dst_x_size > target_cols as f64 {
        dst_x_size = target_cols as f64 - dst_x_off;
        src_x_size = dst_x_size / sx;
    }
    if dst_y_off + dst_y_size > target_rows as f64 {
        dst_y_size = target_rows as f64 - dst_y_off;
        src_y_size = dst_y_size / sy;
    }
    (src_x_size > 0.0 && dst_x_size > 0.0 && src_y_size > 0.0 && dst_y_size > 0.0).then_some((
        [src_x_off, src_y_off, src_x_size, src_y_size],
        [dst_x_off, dst_y_off, dst_x_size, dst_y_size],
    ))
}
