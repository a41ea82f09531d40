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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use ndarray::Array4;
use rayon::prelude::*;
use stac_raster::{CrsCache, Dataset, Pixel, Resampling, TargetGrid, WarpOptions, Window};

use crate::error::{CubeError, Result};
use crate::failure::Failure;
use crate::fusion::{FuseFn, Fusion};
use crate::grid::{close, near_integer};
use crate::io_stage::{IoReport, IoSettings, Prepared};
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
pub(crate) fn place(sources: &[Source], grid: &TargetGrid, same: &mut CrsCache) -> Vec<Landing> {
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
    pub threads: usize,
    pub block_pixels: usize,
    pub fail_on_error: bool,
    pub use_overviews: bool,
    pub progress: Option<&'a ProgressFn>,
    /// The I/O stage for remote sources (`concurrency` 0: none).
    pub io: IoSettings,
}

/// The usual tile height of COGs (GDAL's default `BLOCKSIZE`).
const COG_TILE: usize = 512;

pub(crate) struct Task {
    pub r0: usize,
    pub rows: usize,
    pub sources: Vec<usize>,
}

/// Load the cube as `T`. Failures of individual sources are returned
/// (and turn into an error when `fail_on_error`).
pub(crate) fn load<T: Pixel>(spec: &LoadSpec<'_>) -> Result<(Array4<T>, Vec<Failure>, IoReport)> {
    let started = Instant::now();
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
    let mut block_rows = (per_block / w.max(1)).clamp(1, h.max(1));
    if block_rows < h && block_rows > COG_TILE {
        // Whole multiples of the usual COG tile height: a tile row of a
        // source on the grid's lattice is then decoded by one task, not two.
        block_rows -= block_rows % COG_TILE;
    }
    let fill = spec.nodata.map_or_else(T::default, cast::<T>);
    let total_len = nt
        .checked_mul(nb)
        .and_then(|v| v.checked_mul(h))
        .and_then(|v| v.checked_mul(w))
        .ok_or_else(|| CubeError::Grid("cube size overflows".into()))?;
    // A zero fill comes from the allocator as untouched zero pages; the
    // pages are first written by the tasks, in parallel.
    let mut data: Vec<T> = if fill == T::default() {
        vec![fill; total_len]
    } else {
        Vec::with_capacity(total_len)
    };
    no_huge_pages(
        data.as_mut_ptr(),
        data.capacity() * std::mem::size_of::<T>(),
    );
    data.resize(total_len, fill);

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
    // Decode and fuse one task; `pre` are sources the I/O stage opened.
    let run_task = |scratch: &mut Scratch<T>, task: Task, out: &mut [T], mut pre: Vec<Prepared>| {
        let mut acc = Accum::new(spec.fusion, out.len(), scratch);
        if task.sources.len() > 1 && matches!(acc, Accum::First { .. }) {
            // First-valid fusion reads pixels back (`take_first`): a
            // first access that is a read maps the shared zero page
            // and the write after it faults again, with a TLB
            // shootdown. Writing the (unchanged) fill first costs a
            // memset and leaves one plain fault per page.
            out.fill(fill);
        }
        for &si in &task.sources {
            let skip = abort.load(Ordering::Relaxed) || acc.complete();
            // The handle the I/O stage opened, and its fetched bytes (kept
            // until the read below is done).
            let (opened, _bytes) = pre
                .iter()
                .position(|p| p.source == si)
                .map(|k| pre.swap_remove(k))
                .map_or((None, None), |p| (Some(p.dataset), p.fetched));
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
                    (task.r0, task.rows),
                    scratch,
                    opened,
                    Fuse {
                        acc: &mut acc,
                        out: &mut *out,
                        scale,
                        offset,
                        fill,
                        alone: task.sources.len() == 1,
                    },
                );
                acc.end_source();
                if let Err(e) = r {
                    let mut f = failures.lock().unwrap_or_else(|p| p.into_inner());
                    if !f.iter().any(|(i, _)| *i == si) {
                        f.push((
                            si,
                            Failure::new(&src.item_id, &src.asset, &src.href, e)
                                .with_timed_out(src.raster.as_ref().is_some_and(|r| r.expired())),
                        ));
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
        acc.finish(out, scratch);
    };
    let report = if spec.io.concurrency > 0 && crate::io_stage::wanted(spec) {
        crate::io_stage::run(spec, slices, spec.io, &abort, &run_task)
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(spec.threads)
            .build()
            .map_err(|e| crate::error::invalid("threads", e.to_string()))?;
        let decode_ns = AtomicU64::new(0);
        pool.install(|| {
            // Buffers are reused across the tasks a thread runs: a fresh
            // multi-megabyte allocation per task costs page faults and kernel
            // page zeroing that rival the decoding itself.
            slices
                .into_par_iter()
                .for_each_init(Scratch::<T>::default, |scratch, (task, out)| {
                    let t0 = Instant::now();
                    run_task(scratch, task, out, Vec::new());
                    crate::io_stage::add_ns(&decode_ns, t0);
                });
        });
        IoReport {
            decode_threads: spec.threads,
            decode_seconds: crate::io_stage::ns_secs(&decode_ns),
            load_seconds: started.elapsed().as_secs_f64(),
            ..IoReport::default()
        }
    };
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by_key(|(i, _)| *i);
    let failures: Vec<Failure> = failures.into_iter().map(|(_, f)| f).collect();
    if spec.fail_on_error && !failures.is_empty() {
        return Err(CubeError::Read { failures });
    }
    let arr =
        Array4::from_shape_vec((nt, nb, h, w), data).map_err(|e| CubeError::Grid(e.to_string()))?;
    Ok((arr, failures, report))
}

/// Per-thread buffers, reused from one task to the next.
pub(crate) struct Scratch<T> {
    /// A source window as `f64` (general path and warps).
    wide: Vec<f64>,
    /// A source window in the cube's type (typed path).
    typed: Vec<T>,
    /// One source row expanded onto grid columns (typed path).
    row: Vec<T>,
    /// First/last fusion: which pixels of the block are filled.
    flags: Vec<bool>,
    /// Statistic fusions: accumulators and counts.
    acc: Vec<f64>,
    counts: Vec<u32>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Self {
            wide: Vec::new(),
            typed: Vec::new(),
            row: Vec::new(),
            flags: Vec::new(),
            acc: Vec::new(),
            counts: Vec::new(),
        }
    }
}

/// Where one source's valid pixels go: the block's fusion state and output.
struct Fuse<'a, T> {
    acc: &'a mut Accum,
    out: &'a mut [T],
    scale: f64,
    offset: f64,
    /// The cube's fill value (its nodata).
    fill: T,
    /// The only source of its block: nothing was or will be fused with it.
    alone: bool,
}

impl<T: Pixel> Fuse<'_, T> {
    #[inline]
    fn push(&mut self, idx: usize, v: f64) {
        self.acc.push(self.out, idx, v * self.scale + self.offset);
    }

    /// First/last-valid fusion of unscaled values: pixels can be copied in
    /// the cube's type when the source stores that same type.
    fn typed(&self) -> bool {
        matches!(self.acc, Accum::First { .. }) && self.scale == 1.0 && self.offset == 0.0
    }
}

/// First-valid fusion of one contiguous run of pixels (valid: not the
/// source's nodata, not NaN); returns how many pixels it filled.
#[inline]
fn take_first<T: Pixel>(
    out: &mut [T],
    filled: &mut [bool],
    src: &[T],
    nodata: Option<T>,
    float: bool,
) -> usize {
    /// Branch-free, with a 16-bit count per chunk, so that it vectorizes
    /// at the width of 16-bit pixels.
    #[inline(always)]
    fn run<T: Pixel>(
        out: &mut [T],
        filled: &mut [bool],
        src: &[T],
        valid: impl Fn(T) -> bool,
    ) -> usize {
        const CHUNK: usize = 1 << 15;
        let mut n = 0;
        for ((out, filled), src) in out
            .chunks_mut(CHUNK)
            .zip(filled.chunks_mut(CHUNK))
            .zip(src.chunks(CHUNK))
        {
            let mut k: u16 = 0;
            for ((o, f), &v) in out.iter_mut().zip(filled.iter_mut()).zip(src) {
                let take = !*f & valid(v);
                *o = if take { v } else { *o };
                *f |= take;
                k += u16::from(take);
            }
            n += usize::from(k);
        }
        n
    }
    #[allow(clippy::eq_op)] // `v == v` is false for NaN only
    match (nodata, float) {
        (Some(nd), false) => run(out, filled, src, |v| v != nd),
        (None, false) => run(out, filled, src, |_| true),
        (nd, true) => run(out, filled, src, |v| v == v && Some(v) != nd),
    }
}

/// Ask the kernel not to back `[ptr, ptr + bytes)` with transparent huge
/// pages (Linux; a no-op elsewhere and on failure). The cube is written
/// once, so huge pages buy little, and on virtual machines whose host
/// reclaims free guest memory (free page reporting, ballooning) every fresh
/// 2 MiB page faults in the host too: measured on the cube benchmark, the
/// kernel time of filling a 604 MB cube fell from ~1.3 s to ~0.4 s.
#[cfg(target_os = "linux")]
fn no_huge_pages<T>(ptr: *mut T, bytes: usize) {
    use std::ffi::{c_int, c_void};
    unsafe extern "C" {
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }
    const MADV_NOHUGEPAGE: c_int = 15;
    const PAGE: usize = 4096;
    let start = (ptr as usize).next_multiple_of(PAGE);
    let end = (ptr as usize + bytes) & !(PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside one live allocation of ours, and
        // MADV_NOHUGEPAGE only changes how the kernel backs it (contents
        // and validity are unchanged); an error (e.g. another page size)
        // leaves everything as it was.
        let _ = unsafe { madvise(start as *mut c_void, end - start, MADV_NOHUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages<T>(_ptr: *mut T, _bytes: usize) {}

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

/// Read the part of `src` that falls in grid rows `[r0, r0 + rows)` and
/// fuse every valid pixel into the block.
fn read_source<T: Pixel>(
    spec: &LoadSpec<'_>,
    src: &Source,
    landing: Landing,
    (r0, rows): (usize, usize),
    scratch: &mut Scratch<T>,
    pre: Option<Dataset>,
    mut fuse: Fuse<'_, T>,
) -> std::result::Result<(), String> {
    let ds = match pre {
        Some(ds) => ds,
        None => src
            .raster
            .as_deref()
            .ok_or_else(|| "the source was not resolved".to_string())?
            .open()
            .map_err(|e| e.to_string())?,
    };
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
            let Some(DirectMap {
                level,
                colmap,
                rowmap,
                window,
            }) = direct_map(spec, src, landing, &ds, r0, rows)?
            else {
                return Ok(());
            };
            let (cmin, rmin, wc, wr) = (window.col_off, window.row_off, window.cols, window.rows);
            let cmax = cmin + wc - 1;
            if fuse.typed() && ds.data_types().get(src.band - 1) == Some(&T::DATA_TYPE) {
                // Same type in and out, no scaling: read in the cube's type
                // (a quarter of the f64 window for uint16, no conversions)
                // and copy valid pixels, whole rows at a time when source
                // columns map one to one onto grid columns.
                let nd = nodata.and_then(|n| {
                    let t = T::from_f64(n);
                    (t.to_f64() == n).then_some(t)
                });
                let float = is_float::<T>();
                let (c_first, s_first) = colmap[0];
                let one_to_one = colmap.len() == colmap[colmap.len() - 1].0 - c_first + 1
                    && colmap.len() == cmax - s_first + 1;
                let s0 = s_first - cmin;
                // The block's only source, and its nodata (if any) is the
                // cube's fill: its pixels need no per-pixel checks.
                let plain = fuse.alone && !float && nd.is_none_or(|n| n == fuse.fill);
                let (r_first, r_last) = (rowmap[0].0, rowmap[rowmap.len() - 1].0);
                if plain
                    && one_to_one
                    && c_first == 0
                    && wc == w
                    && rowmap.len() == wr
                    && r_last - r_first + 1 == wr
                {
                    // Whole grid rows, one to one: GDAL decodes straight
                    // into the cube, no intermediate buffer or copy.
                    let a = (r_first - r0) * w;
                    return ds
                        .read_band_into(src.band, level, window, &mut fuse.out[a..a + wr * w])
                        .map_err(|e| e.to_string());
                }
                let buf = &mut scratch.typed;
                buf.clear();
                buf.resize(wc * wr, T::default());
                ds.read_band_into(src.band, level, window, buf)
                    .map_err(|e| e.to_string())?;
                // Grid columns are one run [c_first, c_first + n) (source
                // columns grow with them); when they are not one to one
                // (e.g. 20 m onto 10 m), each source row is expanded once
                // into `row` and reused by the grid rows it covers.
                let n = colmap.len();
                debug_assert_eq!(colmap[n - 1].0 - c_first + 1, n, "grid columns are one run");
                let row = &mut scratch.row;
                let mut expanded = None;
                let mut flags = if plain { None } else { fuse.acc.first_parts() };
                let out = &mut *fuse.out;
                for &(r, sr) in &rowmap {
                    let in_row = &buf[(sr - rmin) * wc..(sr - rmin + 1) * wc];
                    let src_run: &[T] = if one_to_one {
                        &in_row[s0..s0 + n]
                    } else {
                        if expanded != Some(sr) {
                            row.clear();
                            row.extend(colmap.iter().map(|&(_, sc)| in_row[sc - cmin]));
                            expanded = Some(sr);
                        }
                        row
                    };
                    let a = (r - r0) * w + c_first;
                    match flags.as_mut() {
                        None if plain => out[a..a + n].copy_from_slice(src_run),
                        None => return Ok(()),
                        Some((filled, remaining)) => {
                            **remaining -= take_first(
                                &mut out[a..a + n],
                                &mut filled[a..a + n],
                                src_run,
                                nd,
                                float,
                            );
                        }
                    }
                }
                return Ok(());
            }
            let wbuf = &mut scratch.wide;
            wbuf.clear();
            wbuf.resize(wc * wr, 0.0);
            ds.read_band_into(src.band, level, window, wbuf)
                .map_err(|e| e.to_string())?;
            for &(r, sr) in &rowmap {
                let out_base = (r - r0) * w;
                let in_row = &wbuf[(sr - rmin) * wc..(sr - rmin + 1) * wc];
                for &(c, sc) in &colmap {
                    let v = in_row[sc - cmin];
                    if !v.is_nan() && Some(v) != nodata {
                        fuse.push(out_base + c, v);
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
            let wbuf = &mut scratch.wide;
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
                        fuse.push(out_base + j, v);
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
    /// The state of a block of `n` pixels, in buffers recycled from `scratch`.
    fn new<T>(fusion: &Fusion, n: usize, scratch: &mut Scratch<T>) -> Self {
        fn reuse<V: Copy>(spare: &mut Vec<V>, n: usize, init: V) -> Vec<V> {
            let mut v = std::mem::take(spare);
            v.clear();
            v.resize(n, init);
            v
        }
        let mut stats = |kind: Stat, init: f64| Self::Stats {
            kind,
            acc: reuse(&mut scratch.acc, n, init),
            n: reuse(&mut scratch.counts, n, 0),
        };
        match fusion {
            Fusion::First | Fusion::Last => Self::First {
                filled: reuse(&mut scratch.flags, n, false),
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

    /// The filled flags and the count of unfilled pixels (first/last fusion).
    fn first_parts(&mut self) -> Option<(&mut [bool], &mut usize)> {
        match self {
            Self::First { filled, remaining } => Some((filled, remaining)),
            _ => None,
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

    /// Write the block's final values and give the buffers back to `scratch`.
    fn finish<T: Pixel>(self, out: &mut [T], scratch: &mut Scratch<T>) {
        match self {
            Self::First { filled, .. } => scratch.flags = filled,
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
                (scratch.acc, scratch.counts) = (acc, n);
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
