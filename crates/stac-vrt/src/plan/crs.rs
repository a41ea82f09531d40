//! Steps 2 and 3: each source's CRS as GDAL understands it, the target CRS
//! (the option, else the most common), and every footprint and pixel size
//! in the target CRS (warping the sources in another CRS or on a rotated
//! grid).

use std::collections::HashMap;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

use super::{Candidate, CrsInfo, Planner, ResolvedSource, TargetCrs, UnderstoodSource, short};
use crate::error::{Result, VrtError};
use crate::sources::Grid;

/// Coordinates of a footprint to be warped must lie within ±this (CRS
/// units): ten times the largest coordinates any CRS uses (metres, feet,
/// degrees), far beyond which PROJ's transforms can run for minutes.
const MAX_COORDINATE: f64 = 1e9;

impl Planner<'_> {
    /// Step 2a: understand each source's CRS definition (once per
    /// definition); a source GDAL cannot read the CRS of is skipped.
    pub(super) fn understand_crss(
        &mut self,
        resolved: Vec<ResolvedSource>,
    ) -> Vec<UnderstoodSource> {
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
    pub(super) fn target_crs(&mut self, understood: &[UnderstoodSource]) -> Result<TargetCrs> {
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
    pub(super) fn most_common_crs(&mut self, understood: &[UnderstoodSource]) -> Result<CrsInfo> {
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
    pub(super) fn footprints(
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
