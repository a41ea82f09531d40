//! Placement, the second step of a load (plan → **place** → read → fuse):
//! where each source lands on the cube's grid ([`place`]), and for a source
//! on the grid's CRS and lattice, which source rows and columns feed which
//! grid pixels ([`direct_map`]). Pure arithmetic on geotransforms: nothing
//! here reads a pixel.

use stac_raster::{CrsCache, Dataset, Resampling, TargetGrid, Window};

use crate::grid::{close, near_integer};
use crate::load::LoadSpec;
use crate::sources::Source;

/// How one source reaches the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Its footprint misses the grid.
    Outside,
    /// Cannot be read (missing asset, failed open).
    Broken,
    /// Same CRS, north-up, nearest (or exactly aligned): pixels are mapped
    /// by index from the source (or overview) window.
    Direct,
    /// Reprojected or resampled with GDAL's warper.
    Warp,
}

/// Where a source lands: placement and grid pixel extent `[r0, r1, c0, c1)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Landing {
    pub placement: Placement,
    pub extent: [usize; 4],
}

/// Work out each source's placement and extent on `grid`.
pub(crate) fn place(sources: &[Source], grid: &TargetGrid, same: &mut CrsCache) -> Vec<Landing> {
    place_where(sources, grid, same, |_| true)
}

/// [`place`] for the sources `keep` selects (by index); the others are
/// [`Placement::Outside`] (a block load of some bands skips the rest).
pub(crate) fn place_where(
    sources: &[Source],
    grid: &TargetGrid,
    same: &mut CrsCache,
    keep: impl Fn(usize) -> bool,
) -> Vec<Landing> {
    let gt = grid.geotransform;
    let (rows, cols) = (grid.rows as f64, grid.cols as f64);
    sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let none = Landing {
                placement: Placement::Broken,
                extent: [0; 4],
            };
            if !keep(i) {
                return Landing {
                    placement: Placement::Outside,
                    extent: [0; 4],
                };
            }
            let Some(g) = (if s.broken.is_none() {
                s.grid.as_ref()
            } else {
                None
            }) else {
                return none;
            };
            let same_crs = same.same(&g.crs, &grid.crs);
            let b = if same_crs {
                Some(g.bounds())
            } else {
                stac_raster::transform_bounds(&g.bounds(), &g.crs, &grid.crs)
                    .ok()
                    .filter(|b| b.iter().all(|v| v.is_finite()))
                    // Across the antimeridian GDAL gives west > east.
                    .map(|b| {
                        if b[0] > b[2] {
                            [b[0], b[1], b[2] + 360.0, b[3]]
                        } else {
                            b
                        }
                    })
            };
            let extent = match b {
                Some(b) => {
                    let c0 = ((b[0] - gt[0]) / gt[1] + 1e-6).floor().clamp(0.0, cols);
                    let c1 = ((b[2] - gt[0]) / gt[1] - 1e-6).ceil().clamp(0.0, cols);
                    let r0 = ((b[3] - gt[3]) / gt[5] + 1e-6).floor().clamp(0.0, rows);
                    let r1 = ((b[1] - gt[3]) / gt[5] - 1e-6).ceil().clamp(0.0, rows);
                    [r0 as usize, r1 as usize, c0 as usize, c1 as usize]
                }
                // Footprint unknown in the grid CRS: try the whole grid.
                None => [0, grid.rows, 0, grid.cols],
            };
            if extent[0] >= extent[1] || extent[2] >= extent[3] {
                return Landing {
                    placement: Placement::Outside,
                    extent,
                };
            }
            let aligned = same_crs && g.is_north_up() && aligned_with(g.gt, gt);
            let placement = if same_crs
                && g.is_north_up()
                && (s.resampling == Resampling::Nearest || aligned)
            {
                Placement::Direct
            } else {
                Placement::Warp
            };
            Landing { placement, extent }
        })
        .collect()
}

/// Same pixel size and origin on the same lattice.
pub(crate) fn aligned_with(src: [f64; 6], grid: [f64; 6]) -> bool {
    close(src[1], grid[1])
        && close(src[5], grid[5])
        && near_integer((src[0] - grid[0]) / grid[1])
        && near_integer((src[3] - grid[3]) / grid[5])
}

/// How a `Placement::Direct` source maps onto grid rows `[r0, r0 + rows)`:
/// the level read (`None`: full resolution), grid column → source column
/// and grid row → source row (both in that level's pixels), and the
/// source window covering them. `None` when the block misses the source.
pub(crate) struct DirectMap {
    pub level: Option<usize>,
    pub colmap: Vec<(usize, usize)>,
    pub rowmap: Vec<(usize, usize)>,
    pub window: Window,
}

/// See [`DirectMap`]; the I/O stage uses it to know the bytes a task will
/// read, so it is the one place this arithmetic lives.
pub(crate) fn direct_map(
    spec: &LoadSpec<'_>,
    src: &Source,
    landing: Landing,
    ds: &Dataset,
    r0: usize,
    rows: usize,
) -> std::result::Result<Option<DirectMap>, String> {
    let g = spec.grid.geotransform;
    let sgt = ds
        .geotransform()
        .ok_or_else(|| "the file has no geotransform".to_string())?;
    let (srows, scols) = (ds.rows(), ds.cols());
    let (mut lgt, mut lrows, mut lcols, mut level) = (sgt, srows, scols, None);
    if spec.use_overviews && g[1] > sgt[1] * (1.0 + 1e-9) {
        for (i, (ovr, ovc)) in ds
            .overview_shapes(src.band)
            .map_err(|e| e.to_string())?
            .into_iter()
            .enumerate()
        {
            let rx = sgt[1] * scols as f64 / ovc as f64;
            let ry = sgt[5] * srows as f64 / ovr as f64;
            if rx <= g[1] * (1.0 + 1e-6) && ry.abs() <= g[5].abs() * (1.0 + 1e-6) {
                lgt = [sgt[0], rx, 0.0, sgt[3], 0.0, ry];
                (lrows, lcols, level) = (ovr, ovc, Some(i));
            }
        }
    }
    let colmap: Vec<(usize, usize)> = (landing.extent[2]..landing.extent[3])
        .filter_map(|c| {
            let x = g[0] + (c as f64 + 0.5) * g[1];
            let f = ((x - lgt[0]) / lgt[1]).floor();
            (f >= 0.0 && f < lcols as f64).then_some((c, f as usize))
        })
        .collect();
    let rowmap: Vec<(usize, usize)> = (r0.max(landing.extent[0])
        ..(r0 + rows).min(landing.extent[1]))
        .filter_map(|r| {
            let y = g[3] + (r as f64 + 0.5) * g[5];
            let f = ((y - lgt[3]) / lgt[5]).floor();
            (f >= 0.0 && f < lrows as f64).then_some((r, f as usize))
        })
        .collect();
    let (Some(cmin), Some(cmax)) = (
        colmap.iter().map(|p| p.1).min(),
        colmap.iter().map(|p| p.1).max(),
    ) else {
        return Ok(None);
    };
    let (Some(rmin), Some(rmax)) = (
        rowmap.iter().map(|p| p.1).min(),
        rowmap.iter().map(|p| p.1).max(),
    ) else {
        return Ok(None);
    };
    Ok(Some(DirectMap {
        level,
        colmap,
        rowmap,
        window: Window::new(cmin, rmin, cmax - cmin + 1, rmax - rmin + 1),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::SrcGrid;
    use stac_raster::Crs;

    /// A source of `rows` x `cols` pixels of `res` m at (`x0`, `y0`) in `epsg`.
    fn source(epsg: u32, x0: f64, y0: f64, res: f64, (rows, cols): (usize, usize)) -> Source {
        Source {
            item: 0,
            item_id: "it".into(),
            slot: 0,
            asset: "B04".into(),
            band: 1,
            href: "b04.tif".into(),
            raster: None,
            rule: None,
            grid: Some(SrcGrid {
                crs: Crs::parse(&format!("EPSG:{epsg}")).unwrap(),
                gt: [x0, res, 0.0, y0, 0.0, -res],
                rows,
                cols,
            }),
            from_metadata: true,
            nodata: None,
            dtype: None,
            scale: 1.0,
            offset: 0.0,
            resampling: Resampling::Nearest,
            broken: None,
        }
    }

    /// A 100 x 100 grid of 10 m from (500000, 4000000) in UTM 32N.
    fn grid() -> TargetGrid {
        TargetGrid::new(
            Crs::parse("EPSG:32632").unwrap(),
            [500_000.0, 10.0, 0.0, 4_000_000.0, 0.0, -10.0],
            100,
            100,
        )
    }

    fn one(s: Source) -> Landing {
        place(&[s], &grid(), &mut CrsCache::new())[0]
    }

    #[test]
    fn a_source_on_the_lattice_is_direct_with_its_pixel_extent() {
        // 20 x 30 pixels starting 5 columns right and 10 rows down.
        let l = one(source(32632, 500_050.0, 3_999_900.0, 10.0, (20, 30)));
        assert_eq!(l.placement, Placement::Direct);
        assert_eq!(l.extent, [10, 30, 5, 35]);
    }

    #[test]
    fn extents_are_clamped_to_the_grid() {
        // Starts 5 pixels left of and above the grid, ends past it.
        let l = one(source(32632, 499_950.0, 4_000_050.0, 10.0, (200, 200)));
        assert_eq!(l.placement, Placement::Direct);
        assert_eq!(l.extent, [0, 100, 0, 100]);
    }

    #[test]
    fn a_source_beside_the_grid_is_outside() {
        let l = one(source(32632, 600_000.0, 4_000_000.0, 10.0, (10, 10)));
        assert_eq!(l.placement, Placement::Outside);
    }

    #[test]
    fn a_coarser_source_is_direct_for_nearest_and_warped_otherwise() {
        let s = source(32632, 500_000.0, 4_000_000.0, 20.0, (50, 50));
        assert_eq!(one(s.clone()).placement, Placement::Direct);
        let mut bilinear = s;
        bilinear.resampling = Resampling::Bilinear;
        assert_eq!(one(bilinear).placement, Placement::Warp);
        // Exactly aligned: any resampling reads by index.
        let mut aligned = source(32632, 500_000.0, 4_000_000.0, 10.0, (10, 10));
        aligned.resampling = Resampling::Bilinear;
        assert_eq!(one(aligned).placement, Placement::Direct);
    }

    #[test]
    fn another_crs_is_warped_onto_the_extent_of_its_reprojected_footprint() {
        // The grid's own footprint in UTM 33N: it must land (roughly) on
        // the whole grid, not outside.
        let g = grid();
        let b = stac_raster::transform_bounds(
            &[500_000.0, 3_999_000.0, 501_000.0, 4_000_000.0],
            &g.crs,
            &Crs::parse("EPSG:32633").unwrap(),
        )
        .unwrap();
        let res = 10.0;
        let (cols, rows) = (
            ((b[2] - b[0]) / res).ceil() as usize,
            ((b[3] - b[1]) / res).ceil() as usize,
        );
        let l = one(source(32633, b[0], b[3], res, (rows, cols)));
        assert_eq!(l.placement, Placement::Warp);
        assert_eq!(l.extent, [0, 100, 0, 100]);
    }

    #[test]
    fn broken_or_gridless_sources_are_broken() {
        let mut s = source(32632, 500_000.0, 4_000_000.0, 10.0, (10, 10));
        s.broken = Some("missing".into());
        assert_eq!(one(s).placement, Placement::Broken);
        let mut s = source(32632, 500_000.0, 4_000_000.0, 10.0, (10, 10));
        s.grid = None;
        assert_eq!(one(s).placement, Placement::Broken);
    }

    #[test]
    fn a_rotated_source_is_warped() {
        let mut s = source(32632, 500_000.0, 4_000_000.0, 10.0, (10, 10));
        if let Some(g) = s.grid.as_mut() {
            g.gt[2] = 1.0;
        }
        assert_eq!(one(s).placement, Placement::Warp);
    }

    #[test]
    fn alignment_needs_equal_pixels_and_an_origin_on_the_lattice() {
        let g = [0.0, 10.0, 0.0, 100.0, 0.0, -10.0];
        assert!(aligned_with([30.0, 10.0, 0.0, 50.0, 0.0, -10.0], g));
        assert!(!aligned_with([35.0, 10.0, 0.0, 50.0, 0.0, -10.0], g));
        assert!(!aligned_with([30.0, 20.0, 0.0, 50.0, 0.0, -20.0], g));
    }
}
