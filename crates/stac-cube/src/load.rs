//! The parallel loader: the cube is cut into blocks of rows of one
//! (timestep, band) plane; each block is a task that reads every source
//! overlapping it, straight from the source window it covers, and fuses
//! the values into its slice of the output buffer.
//!
//! Invariants: each task owns a disjoint slice of the output (no locks on
//! pixels); every source handle is opened by the task that reads it and
//! closed when the task is done with it (so GDAL's block cache never holds
//! more than the tasks in flight); per-thread memory is one source window
//! plus the fusion accumulators of one block.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ndarray::Array4;
use rayon::prelude::*;
use stac_raster::{
    Dataset, GdalEnv, OpenOptions, Pixel, Resampling, TargetGrid, WarpOptions, Window,
};

use crate::error::{CubeError, Result};
use crate::failure::Failure;
use crate::fusion::{FuseFn, Fusion};
use crate::grid::{SameCrs, close, near_integer};
use crate::options::{Progress, ProgressFn};
use crate::sources::Source;
use crate::timeline::Timestep;

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
pub(crate) fn place(sources: &[Source], grid: &TargetGrid, same: &mut SameCrs) -> Vec<Landing> {
    let gt = grid.geotransform;
    let (rows, cols) = (grid.rows as f64, grid.cols as f64);
    sources
        .iter()
        .map(|s| {
            let none = Landing {
                placement: Placement::Broken,
                extent: [0; 4],
            };
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
            let aligned = same_crs && g.north_up() && aligned_with(g.gt, gt);
            let placement =
                if same_crs && g.north_up() && (s.resampling == Resampling::Nearest || aligned) {
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

/// Everything a load needs.
pub(crate) struct LoadSpec<'a> {
    pub grid: &'a TargetGrid,
    pub sources: &'a [Source],
    pub landings: &'a [Landing],
    pub timesteps: &'a [Timestep],
    /// `item_sources[item][slot]` = source index.
    pub item_sources: &'a [Vec<usize>],
    pub slots: usize,
    pub fusion: &'a Fusion,
    pub nodata: Option<f64>,
    pub rescale: bool,
    pub env: &'a GdalEnv,
    pub threads: usize,
    pub block_pixels: usize,
    pub fail_on_error: bool,
    pub use_overviews: bool,
    pub progress: Option<&'a ProgressFn>,
}

struct Task {
    r0: usize,
    rows: usize,
    sources: Vec<usize>,
}

/// Load the cube as `T`. Failures of individual sources are returned
/// (and turn into an error when `fail_on_error`).
pub(crate) fn load<T: Pixel>(spec: &LoadSpec<'_>) -> Result<(Array4<T>, Vec<Failure>)> {
    let (h, w) = (spec.grid.rows, spec.grid.cols);
    let nt = spec.timesteps.len();
    let nb = spec.slots;
    let group_max = spec
        .timesteps
        .iter()
        .map(|t| t.members.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let per_block = match spec.fusion {
        Fusion::Median | Fusion::Custom(_) => spec.block_pixels / group_max.min(16),
        _ => spec.block_pixels,
    };
    let block_rows = (per_block / w.max(1)).clamp(1, h.max(1));
    let fill = spec.nodata.map_or_else(T::default, cast::<T>);
    let total_len = nt
        .checked_mul(nb)
        .and_then(|v| v.checked_mul(h))
        .and_then(|v| v.checked_mul(w))
        .ok_or_else(|| CubeError::Grid("cube size overflows".into()))?;
    let mut data = vec![fill; total_len];

    // Tasks in memory order: timestep, band, row block.
    let mut per_source_tasks = vec![0usize; spec.sources.len()];
    let mut specs: Vec<Task> = Vec::new();
    for ts in spec.timesteps {
        for b in 0..nb {
            let mut order: Vec<usize> = ts
                .members
                .iter()
                .map(|&i| spec.item_sources[i][b])
                .collect();
            if matches!(spec.fusion, Fusion::Last) {
                order.reverse();
            }
            let mut r0 = 0;
            while r0 < h {
                let rows = block_rows.min(h - r0);
                let srcs: Vec<usize> = order
                    .iter()
                    .copied()
                    .filter(|&s| {
                        let l = &spec.landings[s];
                        matches!(l.placement, Placement::Direct | Placement::Warp)
                            && l.extent[0] < r0 + rows
                            && l.extent[1] > r0
                    })
                    .collect();
                for &s in &srcs {
                    per_source_tasks[s] += 1;
                }
                specs.push(Task {
                    r0,
                    rows,
                    sources: srcs,
                });
                r0 += rows;
            }
        }
    }
    let remaining: Vec<AtomicUsize> = per_source_tasks
        .iter()
        .map(|&n| AtomicUsize::new(n))
        .collect();
    let total = spec.sources.len();
    let done = AtomicUsize::new(per_source_tasks.iter().filter(|&&n| n == 0).count());
    if let Some(p) = spec.progress {
        p(Progress {
            done: done.load(Ordering::Relaxed),
            total,
        });
    }
    let failures: Mutex<Vec<(usize, Failure)>> = Mutex::new(Vec::new());
    let abort = AtomicBool::new(false);

    let mut slices: Vec<(Task, &mut [T])> = Vec::with_capacity(specs.len());
    let mut rest: &mut [T] = &mut data;
    for t in specs {
        let (head, tail) = rest.split_at_mut(t.rows * w);
        slices.push((t, head));
        rest = tail;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(spec.threads)
        .build()
        .map_err(|e| crate::error::invalid("threads", e.to_string()))?;
    pool.install(|| {
        slices.into_par_iter().for_each(|(task, out)| {
            let mut acc = Accum::new(spec.fusion, out.len());
            let mut wbuf: Vec<f64> = Vec::new();
            for &si in &task.sources {
                let skip = abort.load(Ordering::Relaxed) || acc.complete();
                if !skip {
                    let src = &spec.sources[si];
                    let (scale, offset) = if spec.rescale {
                        (src.scale, src.offset)
                    } else {
                        (1.0, 0.0)
                    };
                    acc.begin_source();
                    let r = read_source(
                        spec,
                        src,
                        spec.landings[si],
                        task.r0,
                        task.rows,
                        &mut wbuf,
                        |idx, v| acc.push(out, idx, v * scale + offset),
                    );
                    acc.end_source();
                    if let Err(e) = r {
                        let mut f = failures.lock().unwrap_or_else(|p| p.into_inner());
                        if !f.iter().any(|(i, _)| *i == si) {
                            f.push((si, Failure::new(&src.item_id, &src.asset, &src.href, e)));
                        }
                        if spec.fail_on_error {
                            abort.store(true, Ordering::Relaxed);
                        }
                    }
                }
                if remaining[si].fetch_sub(1, Ordering::AcqRel) == 1 {
                    let d = done.fetch_add(1, Ordering::AcqRel) + 1;
                    if let Some(p) = spec.progress {
                        p(Progress { done: d, total });
                    }
                }
            }
            acc.finish(out);
        });
    });
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by_key(|(i, _)| *i);
    let failures: Vec<Failure> = failures.into_iter().map(|(_, f)| f).collect();
    if spec.fail_on_error && !failures.is_empty() {
        return Err(CubeError::Read { failures });
    }
    let arr =
        Array4::from_shape_vec((nt, nb, h, w), data).map_err(|e| CubeError::Grid(e.to_string()))?;
    Ok((arr, failures))
}

/// Read the part of `src` that falls in grid rows `[r0, r0 + rows)` and
/// hand every valid pixel to `sink(index in the block, value)`.
fn read_source(
    spec: &LoadSpec<'_>,
    src: &Source,
    landing: Landing,
    r0: usize,
    rows: usize,
    wbuf: &mut Vec<f64>,
    mut sink: impl FnMut(usize, f64),
) -> std::result::Result<(), String> {
    let ds = Dataset::open_with(
        &src.href,
        &OpenOptions::default().with_env(spec.env.clone()),
    )
    .map_err(|e| e.to_string())?;
    if src.band > ds.band_count() {
        return Err(format!(
            "band {} requested, the file has {}",
            src.band,
            ds.band_count()
        ));
    }
    let nodata = src.nodata.or(ds.nodata()[src.band - 1]);
    let grid = spec.grid;
    let g = grid.geotransform;
    let w = grid.cols;
    match landing.placement {
        Placement::Direct => {
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
                return Ok(());
            };
            let (Some(rmin), Some(rmax)) = (
                rowmap.iter().map(|p| p.1).min(),
                rowmap.iter().map(|p| p.1).max(),
            ) else {
                return Ok(());
            };
            let (wc, wr) = (cmax - cmin + 1, rmax - rmin + 1);
            wbuf.clear();
            wbuf.resize(wc * wr, 0.0);
            ds.read_band_into(src.band, level, Window::new(cmin, rmin, wc, wr), wbuf)
                .map_err(|e| e.to_string())?;
            for &(r, sr) in &rowmap {
                let out_base = (r - r0) * w;
                let in_row = &wbuf[(sr - rmin) * wc..(sr - rmin + 1) * wc];
                for &(c, sc) in &colmap {
                    let v = in_row[sc - cmin];
                    if !v.is_nan() && Some(v) != nodata {
                        sink(out_base + c, v);
                    }
                }
            }
            Ok(())
        }
        Placement::Warp => {
            let rr0 = r0.max(landing.extent[0]);
            let rr1 = (r0 + rows).min(landing.extent[1]);
            if rr0 >= rr1 {
                return Ok(());
            }
            let (c0, c1) = (landing.extent[2], landing.extent[3]);
            let tg = TargetGrid::new(
                grid.crs.clone(),
                [
                    g[0] + c0 as f64 * g[1],
                    g[1],
                    g[2],
                    g[3] + rr0 as f64 * g[5],
                    g[4],
                    g[5],
                ],
                rr1 - rr0,
                c1 - c0,
            );
            // Warp into float64 so averaging resamplers keep fractions and NaN
            // can mark cells no source pixel reaches.
            let wn = nodata.unwrap_or(f64::NAN);
            let mut wo = WarpOptions::default()
                .with_resampling(src.resampling)
                .with_nodata(wn)
                .with_output_type(stac_meta::DataType::Float64);
            if !spec.use_overviews {
                wo = wo.without_overviews();
            }
            let warped = ds.warp_to_with(&tg, &wo).map_err(|e| e.to_string())?;
            let (wr, wc) = (rr1 - rr0, c1 - c0);
            wbuf.clear();
            wbuf.resize(wr * wc, 0.0);
            warped
                .read_band_into(src.band, None, Window::new(0, 0, wc, wr), wbuf)
                .map_err(|e| e.to_string())?;
            for i in 0..wr {
                let out_base = (rr0 + i - r0) * w + c0;
                for j in 0..wc {
                    let v = wbuf[i * wc + j];
                    if !v.is_nan() && v != wn {
                        sink(out_base + j, v);
                    }
                }
            }
            Ok(())
        }
        Placement::Outside | Placement::Broken => Ok(()),
    }
}

/// Round to the nearest integer for integer types, then convert.
pub(crate) fn cast<T: Pixel>(v: f64) -> T {
    if is_float::<T>() {
        T::from_f64(v)
    } else {
        T::from_f64(v.round())
    }
}

pub(crate) fn is_float<T: Pixel>() -> bool {
    matches!(
        T::DATA_TYPE,
        stac_meta::DataType::Float32 | stac_meta::DataType::Float64
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stat {
    Min,
    Max,
    Sum,
    Mean,
    Count,
}

/// Per-block fusion state.
enum Accum {
    First {
        filled: Vec<bool>,
        remaining: usize,
    },
    Stats {
        kind: Stat,
        acc: Vec<f64>,
        n: Vec<u32>,
    },
    Stack {
        layers: Vec<Vec<f64>>,
        cur: Vec<f64>,
        custom: Option<FuseFn>,
    },
}

impl Accum {
    fn new(fusion: &Fusion, n: usize) -> Self {
        let stats = |kind: Stat, init: f64| Self::Stats {
            kind,
            acc: vec![init; n],
            n: vec![0; n],
        };
        match fusion {
            Fusion::First | Fusion::Last => Self::First {
                filled: vec![false; n],
                remaining: n,
            },
            Fusion::Min => stats(Stat::Min, f64::INFINITY),
            Fusion::Max => stats(Stat::Max, f64::NEG_INFINITY),
            Fusion::Sum => stats(Stat::Sum, 0.0),
            Fusion::Mean => stats(Stat::Mean, 0.0),
            Fusion::Count => stats(Stat::Count, 0.0),
            Fusion::Median => Self::Stack {
                layers: Vec::new(),
                cur: Vec::new(),
                custom: None,
            },
            Fusion::Custom(f) => Self::Stack {
                layers: Vec::new(),
                cur: Vec::new(),
                custom: Some(f.clone()),
            },
        }
    }

    /// Every pixel already has its final value (first-valid mosaics).
    fn complete(&self) -> bool {
        matches!(self, Self::First { remaining: 0, .. })
    }

    fn begin_source(&mut self) {
        if let Self::Stack { cur, .. } = self {
            cur.clear();
        }
    }

    #[inline]
    fn push<T: Pixel>(&mut self, out: &mut [T], idx: usize, v: f64) {
        match self {
            Self::First { filled, remaining } => {
                if !filled[idx] {
                    filled[idx] = true;
                    *remaining -= 1;
                    out[idx] = cast(v);
                }
            }
            Self::Stats { kind, acc, n } => {
                let a = &mut acc[idx];
                match kind {
                    Stat::Min => *a = a.min(v),
                    Stat::Max => *a = a.max(v),
                    Stat::Sum | Stat::Mean => *a += v,
                    Stat::Count => {}
                }
                n[idx] += 1;
            }
            Self::Stack { cur, .. } => {
                if cur.len() < out.len() {
                    cur.resize(out.len(), f64::NAN);
                }
                cur[idx] = v;
            }
        }
    }

    fn end_source(&mut self) {
        if let Self::Stack {
            layers,
            cur,
            custom,
        } = self
        {
            if cur.is_empty() {
                return;
            }
            let layer = std::mem::take(cur);
            match custom {
                Some(f) => match layers.first_mut() {
                    Some(dst) => f(dst, &layer),
                    None => layers.push(layer),
                },
                None => layers.push(layer),
            }
        }
    }

    fn finish<T: Pixel>(self, out: &mut [T]) {
        match self {
            Self::First { .. } => {}
            Self::Stats { kind, acc, n } => {
                for i in 0..out.len() {
                    let k = n[i];
                    if kind == Stat::Count {
                        out[i] = cast(k as f64);
                    } else if k > 0 {
                        out[i] = cast(match kind {
                            Stat::Mean => acc[i] / k as f64,
                            _ => acc[i],
                        });
                    }
                }
            }
            Self::Stack { layers, custom, .. } => {
                if custom.is_some() {
                    if let Some(dst) = layers.first() {
                        for (o, v) in out.iter_mut().zip(dst) {
                            if !v.is_nan() {
                                *o = cast(*v);
                            }
                        }
                    }
                    return;
                }
                let mut vals: Vec<f64> = Vec::with_capacity(layers.len());
                for (i, o) in out.iter_mut().enumerate() {
                    vals.clear();
                    vals.extend(layers.iter().map(|l| l[i]).filter(|v| !v.is_nan()));
                    if vals.is_empty() {
                        continue;
                    }
                    vals.sort_by(f64::total_cmp);
                    let m = vals.len() / 2;
                    let med = if vals.len() % 2 == 1 {
                        vals[m]
                    } else {
                        (vals[m - 1] + vals[m]) / 2.0
                    };
                    *o = cast(med);
                }
            }
        }
    }
}
