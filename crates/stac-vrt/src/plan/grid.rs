//! Steps 4 and 5: the bands every source must have, and the mosaic grid:
//! resolution and extent with gdalbuildvrt's arithmetic, warped footprints
//! snapped to the native sources' grid, and GDAL's size limit.

use super::{Candidate, MosaicGrid, Planner};
use crate::error::{Result, VrtError};
use crate::options::Resolution;
use crate::report::SkippedSource;

/// One more than the largest raster side GDAL takes (`INT_MAX`).
const MAX_SIZE: f64 = 2_147_483_648.0;

impl Planner<'_> {
    /// Step 4: the source bands every VRT band (or, with `separate`, every
    /// source) takes; sources with too few bands are skipped.
    pub(super) fn select_bands(&mut self, placed: &mut Vec<Candidate>) -> Result<Vec<usize>> {
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
    pub(super) fn mosaic_grid(&self, placed: &mut [Candidate]) -> Result<MosaicGrid> {
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
