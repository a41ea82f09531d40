//! Steps 6 and 7: every source placed on the mosaic grid (gdalbuildvrt's
//! rectangles for a north-up source in the target CRS, an inline warped VRT
//! on a window otherwise), then the VRT bands over them.

use super::{
    Candidate, CrsInfo, MosaicGrid, Placement, PlanBand, PlanSource, Planner, SourceRect, short,
};
use crate::report::SourceSummary;
use crate::sources::{self, Grid};
use crate::warp::{WarpSpec, warped_vrt};

impl Planner<'_> {
    /// Step 6: every source on the mosaic grid, in painting order (last on top).
    pub(super) fn place_all(
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
    pub(super) fn place_warped(
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
                "{}: warped source has no nodata, so its empty corners are painted as 0 \
                 over other sources (set src_nodata)",
                stac_meta::Location::item(&c.item)
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
    pub(super) fn vrt_bands(
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
    pub(super) fn band(
        &mut self,
        members: Vec<SourceRect>,
        description: Option<String>,
    ) -> PlanBand {
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
