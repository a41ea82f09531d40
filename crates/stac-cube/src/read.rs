//! Reading, the third step of a load (plan → place → **read** → fuse): one
//! source's pixels for one block of grid rows, by index from the source
//! window when the source is on the grid's lattice, through GDAL's warper
//! otherwise, each valid pixel handed to the block's fusion.

use stac_raster::{Dataset, Pixel, TargetGrid, WarpOptions, Window};

use crate::fusion::{Accum, Fuse, take_first, take_first_fill};
use crate::load::LoadSpec;
use crate::place::{DirectMap, Landing, Placement, direct_map};
use crate::sources::Source;

/// Per-thread buffers, reused from one task to the next.
pub(crate) struct Scratch<T> {
    /// A source window as `f64` (general path and warps).
    pub(crate) wide: Vec<f64>,
    /// A source window in the cube's type (typed path).
    pub(crate) typed: Vec<T>,
    /// One source row expanded onto grid columns (typed path).
    pub(crate) row: Vec<T>,
    /// First/last fusion: which pixels of the block are filled.
    pub(crate) flags: Vec<bool>,
    /// Statistic fusions: accumulators and counts.
    pub(crate) acc: Vec<f64>,
    pub(crate) counts: Vec<u32>,
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

/// Read the part of `src` that falls in grid rows `[r0, r0 + rows)` and
/// fuse every valid pixel into the block.
pub(crate) fn read_source<T: Pixel>(
    spec: &LoadSpec<'_>,
    src: &Source,
    landing: Landing,
    (r0, rows): (usize, usize),
    scratch: &mut Scratch<T>,
    pre: Option<Dataset>,
    fuse: Fuse<'_, T>,
) -> std::result::Result<(), String> {
    // GDAL itself reads this file over the network (not staged): one
    // RasterIO per window, so that it merges the tiles into as few
    // requests as before.
    let one_read = pre.is_none()
        && src
            .raster
            .as_deref()
            .is_some_and(|r| stac_raster::stage::stageable(r.gdal_path()));
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
    let at = Block {
        r0,
        rows,
        nodata,
        one_read,
    };
    match landing.placement {
        Placement::Direct => read_direct(spec, src, landing, at, &ds, scratch, fuse),
        Placement::Warp => read_warped(spec, src, landing, at, &ds, scratch, fuse),
        Placement::Outside | Placement::Broken => Ok(()),
    }
}

/// The block being read (grid rows `[r0, r0 + rows)`) and the source's
/// nodata (the asset's, else the file's).
#[derive(Debug, Clone, Copy)]
struct Block {
    r0: usize,
    rows: usize,
    nodata: Option<f64>,
    /// Read each window with one RasterIO (a network file GDAL reads).
    one_read: bool,
}

/// A source on the grid's CRS and lattice: pixels mapped by index from the
/// source (or overview) window.
fn read_direct<T: Pixel>(
    spec: &LoadSpec<'_>,
    src: &Source,
    landing: Landing,
    at: Block,
    ds: &Dataset,
    scratch: &mut Scratch<T>,
    mut fuse: Fuse<'_, T>,
) -> std::result::Result<(), String> {
    let Block {
        r0, rows, nodata, ..
    } = at;
    let w = spec.grid.cols;
    let Some(map) = direct_map(spec, src, landing, ds, r0, rows)? else {
        return Ok(());
    };
    if fuse.typed() && ds.data_types().get(src.band - 1) == Some(&T::DATA_TYPE) {
        return copy_typed(src, ds, &map, at, w, scratch, fuse);
    }
    fuse.acc.need_flags(fuse.out);
    let DirectMap {
        level,
        colmap,
        rowmap,
        window,
    } = map;
    let (cmin, rmin, wc, wr) = (window.col_off, window.row_off, window.cols, window.rows);
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

/// The typed path of [`read_direct`]: same type in and out, no scaling.
fn copy_typed<T: Pixel>(
    src: &Source,
    ds: &Dataset,
    map: &DirectMap,
    Block {
        r0,
        nodata,
        one_read,
        ..
    }: Block,
    w: usize,
    scratch: &mut Scratch<T>,
    fuse: Fuse<'_, T>,
) -> std::result::Result<(), String> {
    let DirectMap {
        level,
        colmap,
        rowmap,
        window,
    } = map;
    let (level, window) = (*level, *window);
    let (cmin, rmin, wc, wr) = (window.col_off, window.row_off, window.cols, window.rows);
    let cmax = cmin + wc - 1;
    // Same type in and out, no scaling: read in the cube's type
    // (a quarter of the f64 window for uint16, no conversions)
    // and copy valid pixels, whole rows at a time when source
    // columns map one to one onto grid columns.
    let nd = nodata.and_then(|n| {
        let t = T::from_f64(n);
        (t.to_f64() == n).then_some(t)
    });
    if matches!(fuse.acc, Accum::FirstByFill { .. }) {
        if nd == Some(fuse.fill) {
            return copy_by_fill(src, ds, map, (r0, one_read), w, scratch, fuse);
        }
        fuse.acc.need_flags(fuse.out);
    }
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
        && s0 == 0
        && colmap.len() == wc
        && rowmap.len() == wr
        && r_last - r_first + 1 == wr
    {
        // The window lands one to one on a rectangle of the block (whole
        // grid rows or part of each): read straight into the cube, rows
        // `w` apart, with no window-sized buffer (in a block-by-block
        // write, none per thread); each tile is copied into place once,
        // from GDAL's block cache or (read once) the thread's tile buffer.
        let a = (r_first - r0) * w + c_first;
        let end = a + (wr - 1) * w + wc;
        return read_rows(
            ds,
            (src.band, level, window),
            &mut fuse.out[a..end],
            w,
            !one_read,
        );
    }
    let buf = &mut scratch.typed;
    buf.clear();
    buf.resize(wc * wr, T::default());
    read_rows(ds, (src.band, level, window), buf, wc, !one_read)?;
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
    for &(r, sr) in rowmap {
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
    Ok(())
}

/// The typed path of a block fused by [`Accum::FirstByFill`] (the source's
/// nodata is the cube's fill): where no earlier source of the block
/// reached, the source's pixels are copied as they are (read straight
/// into the block when grid and source pixels match one to one);
/// where one did, only pixels still at the fill take the source's value,
/// and a stretch with none left is not read at all. With `one_read` (a
/// network file GDAL reads itself) the runs are read as one window.
fn copy_by_fill<T: Pixel>(
    src: &Source,
    ds: &Dataset,
    map: &DirectMap,
    (r0, one_read): (usize, bool),
    w: usize,
    scratch: &mut Scratch<T>,
    fuse: Fuse<'_, T>,
) -> std::result::Result<(), String> {
    let DirectMap {
        level,
        colmap,
        rowmap,
        window,
    } = map;
    let (level, window) = (*level, *window);
    let (fill, out) = (fuse.fill, fuse.out);
    let Accum::FirstByFill { touched, .. } = fuse.acc else {
        return Err("first-valid fusion without flags expected".into());
    };
    let (c_first, s_first) = colmap[0];
    let n = colmap.len();
    let (r_first, r_last) = (rowmap[0].0, rowmap[rowmap.len() - 1].0);
    let rect = [r_first - r0, r_last - r0 + 1, c_first, c_first + n];
    // Grid column runs of the source, each with whether an earlier source
    // reached it; a reached run with no pixel left at the fill is dropped
    // (with `one_read`, only when all are: a narrower window of a network
    // file can cost more requests, its tile rows no longer adjacent).
    let all = column_runs(touched, rect);
    let kept: Vec<(usize, usize, bool)> = all
        .iter()
        .copied()
        .filter(|&(a, b, reached)| {
            !reached
                || rowmap
                    .iter()
                    .any(|&(r, _)| out[(r - r0) * w + a..(r - r0) * w + b].contains(&fill))
        })
        .collect();
    let runs = if one_read && !kept.is_empty() {
        all
    } else {
        kept
    };
    touched.push(rect);
    if runs.is_empty() {
        return Ok(());
    }
    let (cmin, rmin, wc, wr) = (window.col_off, window.row_off, window.cols, window.rows);
    let one_to_one = colmap[n - 1].0 - c_first + 1 == n && colmap[n - 1].1 - s_first + 1 == n;
    let rows_one_to_one = rowmap.len() == wr && r_last - r_first + 1 == wr && rowmap[0].1 == rmin;
    let buf = &mut scratch.typed;
    if one_to_one && rows_one_to_one && one_read && runs.len() > 1 {
        // One window over the runs, in the source's columns.
        let (a0, b0) = (runs[0].0, runs[runs.len() - 1].1);
        let sub = Window::new(s_first + (a0 - c_first), rmin, b0 - a0, wr);
        buf.clear();
        buf.resize(sub.cols * wr, T::default());
        ds.read_band_into(src.band, level, sub, buf)
            .map_err(|e| e.to_string())?;
        for (i, in_row) in buf.chunks_exact(sub.cols).enumerate() {
            let base = (r_first - r0 + i) * w;
            for &(a, b, reached) in &runs {
                let (o, from) = (&mut out[base + a..base + b], &in_row[a - a0..b - a0]);
                if reached {
                    take_first_fill(o, from, fill);
                } else {
                    o.copy_from_slice(from);
                }
            }
        }
        return Ok(());
    }
    if one_to_one && rows_one_to_one {
        // One window per run, in the source's columns of that run; GDAL's
        // block cache keeps a tile two runs share decoded once (a single
        // run, read once, decodes past it).
        let once = !one_read && runs.len() == 1;
        for (a, b, reached) in runs {
            let sub = Window::new(s_first + (a - c_first), rmin, b - a, wr);
            let at = (r_first - r0) * w + a;
            if !reached {
                read_rows(ds, (src.band, level, sub), &mut out[at..], w, once)?;
                continue;
            }
            buf.clear();
            buf.resize(sub.cols * wr, T::default());
            read_rows(ds, (src.band, level, sub), buf, sub.cols, once)?;
            for (i, in_row) in buf.chunks_exact(sub.cols).enumerate() {
                let o = at + i * w;
                take_first_fill(&mut out[o..o + sub.cols], in_row, fill);
            }
        }
        return Ok(());
    }
    // Resampled by index (e.g. 20 m onto 10 m): the window once, each
    // source row expanded onto the grid's columns once.
    buf.clear();
    buf.resize(wc * wr, T::default());
    read_rows(ds, (src.band, level, window), buf, wc, !one_read)?;
    let row = &mut scratch.row;
    let mut expanded = None;
    for &(r, sr) in rowmap {
        if expanded != Some(sr) {
            let in_row = &buf[(sr - rmin) * wc..(sr - rmin + 1) * wc];
            row.clear();
            row.extend(colmap.iter().map(|&(_, sc)| in_row[sc - cmin]));
            expanded = Some(sr);
        }
        let base = (r - r0) * w;
        for &(a, b, reached) in &runs {
            let (o, from) = (&mut out[base + a..base + b], &row[a - c_first..b - c_first]);
            if reached {
                take_first_fill(o, from, fill);
            } else {
                o.copy_from_slice(from);
            }
        }
    }
    Ok(())
}

/// Read `window` of `band` at `level` into `buf`, rows `stride` apart.
/// `once` (the window's tiles are read once by this handle, and the file
/// is not one GDAL fetches over the network itself) decodes each tile past
/// GDAL's block cache (`Dataset::read_band_rows_once`: no cached copy, no
/// fresh memory per tile); otherwise through GDAL's RasterIO, which keeps
/// a tile read twice decoded once and fetches a network window's tiles in
/// one request.
fn read_rows<T: Pixel>(
    ds: &Dataset,
    (band, level, window): (usize, Option<usize>, Window),
    buf: &mut [T],
    stride: usize,
    once: bool,
) -> std::result::Result<(), String> {
    let read = if once {
        ds.read_band_rows_once(band, level, window, buf, stride)
    } else {
        ds.read_band_rows_into(band, level, window, buf, stride)
    };
    read.map_err(|e| e.to_string())
}

/// The columns `[rect[2], rect[3])` cut into runs `(from, to, reached)`:
/// whether a rectangle of `touched` that shares rows with `rect` covers
/// them.
fn column_runs(touched: &[[usize; 4]], rect: [usize; 4]) -> Vec<(usize, usize, bool)> {
    let [r0, r1, c0, c1] = rect;
    let mut cuts = vec![c0, c1];
    let overlapping = || {
        touched
            .iter()
            .filter(move |t| t[0] < r1 && t[1] > r0 && t[2] < c1 && t[3] > c0)
    };
    for t in overlapping() {
        cuts.extend([t[2].max(c0), t[3].min(c1)]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut runs: Vec<(usize, usize, bool)> = Vec::new();
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let reached = overlapping().any(|t| t[2] <= a && t[3] >= b);
        match runs.last_mut() {
            Some(last) if last.1 == a && last.2 == reached => last.1 = b,
            _ => runs.push((a, b, reached)),
        }
    }
    runs
}

/// A source in another CRS, rotated, or resampled: warped onto the part of
/// the grid it covers.
fn read_warped<T: Pixel>(
    spec: &LoadSpec<'_>,
    src: &Source,
    landing: Landing,
    Block {
        r0, rows, nodata, ..
    }: Block,
    ds: &Dataset,
    scratch: &mut Scratch<T>,
    mut fuse: Fuse<'_, T>,
) -> std::result::Result<(), String> {
    fuse.acc.need_flags(fuse.out);
    let grid = spec.grid;
    let g = grid.geotransform;
    let w = grid.cols;
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

/// Round to the nearest integer for integer types, then convert.
pub(crate) fn cast<T: Pixel>(v: f64) -> T {
    if is_float::<T>() {
        T::from_f64(v)
    } else {
        T::from_f64(v.round())
    }
}

/// Whether the cube's type is a float type (NaN can mark nodata).
pub(crate) fn is_float<T: Pixel>() -> bool {
    matches!(
        T::DATA_TYPE,
        stac_meta::DataType::Float32 | stac_meta::DataType::Float64
    )
}
