//! The parallel loader, which drives a load's one-way flow: plan
//! (`collection`, `layout`) → place ([`crate::place`]) → read
//! ([`crate::read`]) → fuse ([`crate::fusion`]). The cube is cut into
//! blocks of rows of one (timestep, band) plane; each block is a task that
//! reads every source overlapping it, straight from the source window it
//! covers, and fuses the values into its slice of the output buffer.
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
use stac_raster::{Pixel, TargetGrid};

use crate::error::{CubeError, Result};
use crate::failure::Failure;
use crate::fusion::{Accum, Fuse, Fusion};
use crate::io_stage::{IoReport, IoSettings, Prepared};
use crate::options::{Progress, ProgressFn};
use crate::place::{Landing, Placement};
use crate::read::{Scratch, cast, read_source};
use crate::sources::Source;
use crate::timeline::Timestep;

/// Everything a load needs.
pub(crate) struct LoadSpec<'a> {
    pub grid: &'a TargetGrid,
    pub sources: &'a [Source],
    pub landings: &'a [Landing],
    pub timesteps: &'a [Timestep],
    /// `item_sources[item][slot]` = source index.
    pub item_sources: &'a [Vec<usize>],
    /// The slots (bands) loaded: `first_slot..first_slot + slots`.
    pub first_slot: usize,
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
    /// The plan's byte stage (headers staged once per plan).
    pub stage: &'a crate::io_stage::PlanStage,
}

impl LoadSpec<'_> {
    /// The scale and offset applied to source `si`'s pixels: its own when
    /// the load rescales, none otherwise.
    pub(crate) fn scale_offset(&self, si: usize) -> (f64, f64) {
        let src = &self.sources[si];
        if self.rescale {
            (src.scale, src.offset)
        } else {
            (1.0, 0.0)
        }
    }
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
    load_reusing(spec, Vec::new())
}

/// [`load`] into `spare`'s memory when it is large enough: a block writer
/// hands each block's buffer back for the next one (see
/// [`filled_buffer`]).
pub(crate) fn load_reusing<T: Pixel>(
    spec: &LoadSpec<'_>,
    spare: Vec<T>,
) -> Result<(Array4<T>, Vec<Failure>, IoReport)> {
    let started = Instant::now();
    let (h, w) = (spec.grid.rows, spec.grid.cols);
    let nt = spec.timesteps.len();
    let nb = spec.slots;
    let fill = spec.nodata.map_or_else(T::default, cast::<T>);
    let total_len = nt
        .checked_mul(nb)
        .and_then(|v| v.checked_mul(h))
        .and_then(|v| v.checked_mul(w))
        .ok_or_else(|| CubeError::Grid("cube size overflows".into()))?;
    let mut data = filled_buffer(total_len, fill, spare);
    let (specs, per_source_tasks) = tasks(spec, block_rows(spec));
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
        if fill == T::default() && !task.sources.is_empty() {
            // The zero-filled buffer is untouched pages: fault this task's
            // share in with one call, on this task's thread, rather than
            // one trap per page as the pixels land. A block no source
            // reaches stays untouched (not resident).
            populate(out);
        }
        let mut acc = block_accum(spec, &task, fill, out.len(), scratch);
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
                let (scale, offset) = spec.scale_offset(si);
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
        decode_here(spec, slices, &run_task, started)?
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

/// The fusion state of one task's block: first-valid without flags
/// ([`Accum::FirstByFill`]) when the block has several sources that all
/// allow it (the usual mosaic: nodata 0, fill 0), else [`Accum::new`].
fn block_accum<T: Pixel>(
    spec: &LoadSpec<'_>,
    task: &Task,
    fill: T,
    n: usize,
    scratch: &mut Scratch<T>,
) -> Accum {
    let by_fill = task.sources.len() > 1
        && crate::fusion::by_fill_eligible(
            spec.fusion,
            fill,
            task.sources.iter().map(|&si| {
                let (scale, offset) = spec.scale_offset(si);
                let direct = spec.landings[si].placement == Placement::Direct;
                (spec.sources[si].nodata, scale, offset, direct)
            }),
        );
    if by_fill {
        Accum::first_by_fill(fill.to_f64())
    } else {
        Accum::new(spec.fusion, n, scratch)
    }
}

/// Decode and fuse `slices` on this process's threads (no I/O stage): on
/// the calling thread for one thread, else on a pool of `spec.threads`.
fn decode_here<T: Pixel>(
    spec: &LoadSpec<'_>,
    slices: Vec<(Task, &mut [T])>,
    run_task: &(impl Fn(&mut Scratch<T>, Task, &mut [T], Vec<Prepared>) + Sync),
    started: Instant,
) -> Result<IoReport> {
    let decode_ns = AtomicU64::new(0);
    if spec.threads <= 1 {
        // One thread: the calling thread, with the buffers it kept from
        // its previous load (a Dask task loads one chunk per call).
        with_thread_scratch::<T, _>(|scratch| {
            for (task, out) in slices {
                let t0 = Instant::now();
                run_task(scratch, task, out, Vec::new());
                crate::io_stage::add_ns(&decode_ns, t0);
            }
        });
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(spec.threads)
            .build()
            .map_err(|e| crate::error::invalid("threads", e.to_string()))?;
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
    }
    Ok(IoReport {
        decode_threads: spec.threads,
        decode_seconds: crate::io_stage::ns_secs(&decode_ns),
        load_seconds: started.elapsed().as_secs_f64(),
        ..IoReport::default()
    })
}

/// Run `f` with this thread's [`Scratch`] for `T`, kept from one call to
/// the next. A chunked load (Dask) is one single-threaded load per chunk:
/// fresh per-call buffers (a source window in the cube's type, the
/// first-valid flags, a few MB each) are fresh pages every time, and in a
/// Dask worker, whose `MALLOC_TRIM_THRESHOLD_` fixes glibc's mmap threshold
/// at 128 KiB, each is mapped and unmapped per chunk (measured on the cube
/// benchmark's mosaic: 3.9x the page faults of an unset threshold). What
/// a thread keeps until it exits is at most one block's buffers
/// (`block_pixels`, 4 Mi by default: 8 MiB of uint16 window and 4 MiB of
/// flags, or 32 MiB of float64 for warped or scaled sources).
fn with_thread_scratch<T: Pixel, R>(f: impl FnOnce(&mut Scratch<T>) -> R) -> R {
    use std::any::Any;
    use std::cell::RefCell;
    thread_local! {
        static KEPT: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }
    let mut scratch = KEPT
        .with(|k| k.borrow_mut().take())
        .and_then(|b| b.downcast::<Scratch<T>>().ok())
        .map_or_else(Scratch::default, |b| *b);
    let r = f(&mut scratch);
    KEPT.with(|k| *k.borrow_mut() = Some(Box::new(scratch)));
    r
}

/// Rows per task: `block_pixels` of output (fewer for fusions that stack
/// every member), in whole COG tile rows when a block is taller than one.
fn block_rows(spec: &LoadSpec<'_>) -> usize {
    let (h, w) = (spec.grid.rows, spec.grid.cols);
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
    block_rows
}

/// The cube's buffer, every pixel `fill`: in `spare` when it holds
/// `len` values (a previous block's buffer, its pages already resident),
/// else a fresh allocation. A fresh 2 MiB block is 512 page faults and a
/// zeroing memset by the allocator; the Zarr writer's 72 blocks on the
/// end-to-end benchmark spent ~5 % of the run's CPU there, a refill of a
/// resident buffer is one memset.
fn filled_buffer<T: Pixel>(len: usize, fill: T, mut spare: Vec<T>) -> Vec<T> {
    if len > 0 && spare.capacity() >= len {
        spare.clear();
        spare.resize(len, fill);
        return spare;
    }
    drop(spare);
    let bytes = len.saturating_mul(std::mem::size_of::<T>());
    if fill == T::default() && bytes > POPULATE_AT_ALLOCATION {
        // Larger than glibc's largest mmap threshold: fresh zero pages
        // from the kernel (no memset), first written by the tasks in
        // parallel (each populates its own rows).
        let mut data = vec![fill; len];
        no_huge_pages(data.as_mut_ptr(), bytes);
        return data;
    }
    // A buffer this small comes from memory glibc reuses once a freed
    // buffer of its size raised its mmap threshold (a Dask worker's chunks,
    // a writer's blocks): calloc would zero it with a memset that traps
    // once per page the allocator had handed back to the kernel. Fault
    // them all in with one call, then fill. Measured on the Python
    // benchmark's threaded stack persist (72 chunks of 8 MiB, 8
    // interleaved rounds, twice): ~5 % less CPU and wall time.
    let mut data: Vec<T> = Vec::with_capacity(len);
    let capacity = data.capacity() * std::mem::size_of::<T>();
    no_huge_pages(data.as_mut_ptr(), capacity);
    advise(data.as_mut_ptr(), capacity, MADV_POPULATE_WRITE);
    if all_zero_bits(fill) {
        // SAFETY: `len` values of capacity, written as zero bytes, which
        // is `fill` exactly (every pixel type's zero is all zero bits, and
        // `fill`'s bits were checked: not -0.0). `memset` here, where
        // `resize` compiled to a 16-byte store loop (~4 % of a threaded
        // chunked load's CPU).
        unsafe {
            std::ptr::write_bytes(data.as_mut_ptr(), 0, len);
            data.set_len(len);
        }
    } else {
        data.resize(len, fill);
    }
    data
}

/// Whether every byte of `v` is zero.
fn all_zero_bits<T: Pixel>(v: T) -> bool {
    // SAFETY: `v` is a plain number (integer or float, no padding), read
    // as its `size_of::<T>()` bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts((&raw const v).cast::<u8>(), std::mem::size_of::<T>())
    };
    bytes.iter().all(|&b| b == 0)
}

/// Buffers up to this size (a chunk or a block) are faulted in where they
/// are allocated; larger ones (above glibc's largest mmap threshold, 32
/// MiB) are fresh zero pages from the kernel, faulted in by the tasks in
/// parallel.
const POPULATE_AT_ALLOCATION: usize = 64 << 20;

/// The tasks in memory order (timestep, band, row block), each with the
/// sources that overlap it in fusion order, and how many tasks read each
/// source (for progress).
fn tasks(spec: &LoadSpec<'_>, block_rows: usize) -> (Vec<Task>, Vec<usize>) {
    let h = spec.grid.rows;
    let mut per_source_tasks = vec![0usize; spec.sources.len()];
    let mut specs: Vec<Task> = Vec::new();
    for ts in spec.timesteps {
        for b in 0..spec.slots {
            let mut order: Vec<usize> = ts
                .members
                .iter()
                .map(|&i| spec.item_sources[i][spec.first_slot + b])
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
    (specs, per_source_tasks)
}

/// Ask the kernel not to back `[ptr, ptr + bytes)` with transparent huge
/// pages (Linux; a no-op elsewhere and on failure). The cube is written
/// once, so huge pages buy little, and on virtual machines whose host
/// reclaims free guest memory (free page reporting, ballooning) every fresh
/// 2 MiB page faults in the host too: measured on the cube benchmark, the
/// kernel time of filling a 604 MB cube fell from ~1.3 s to ~0.4 s.
fn no_huge_pages<T>(ptr: *mut T, bytes: usize) {
    advise(ptr, bytes, MADV_NOHUGEPAGE);
}

/// Fault every whole page of `out` in, writable, with one system call
/// (`MADV_POPULATE_WRITE`, Linux 5.14+; a no-op elsewhere, on older
/// kernels and on failure). Contents are unchanged. A fresh zeroed buffer
/// otherwise takes one page fault per 4 KiB as its pixels are written:
/// measured on the Python benchmark's eager stack (576 MiB, ~147k pages),
/// kernel time fell from a median ~0.39 s to ~0.27–0.32 s, and on its 72
/// chunk loads under Dask's threads from ~0.69 s to ~0.55 s (each task
/// populates its own rows, so the work stays parallel).
fn populate<T>(out: &mut [T]) {
    advise(
        out.as_mut_ptr(),
        std::mem::size_of_val(out),
        MADV_POPULATE_WRITE,
    );
}

/// `madvise`'s advice values used here (Linux).
const MADV_NOHUGEPAGE: i32 = 15;
const MADV_POPULATE_WRITE: i32 = 23;

/// `madvise(advice)` on the whole pages inside `[ptr, ptr + bytes)`.
#[cfg(target_os = "linux")]
fn advise<T>(ptr: *mut T, bytes: usize, advice: i32) {
    use std::ffi::{c_int, c_void};
    unsafe extern "C" {
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }
    const PAGE: usize = 4096;
    let start = (ptr as usize).next_multiple_of(PAGE);
    let end = (ptr as usize + bytes) & !(PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside one live allocation of ours, and
        // both advices leave contents and validity unchanged
        // (MADV_NOHUGEPAGE changes how the kernel backs the range,
        // MADV_POPULATE_WRITE faults its pages in as a write would); an
        // error (an older kernel, another page size) leaves everything as
        // it was.
        let _ = unsafe { madvise(start as *mut c_void, end - start, advice) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise<T>(_ptr: *mut T, _bytes: usize, _advice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_fill_is_zero_bits_and_negative_zero_is_not() {
        assert!(all_zero_bits(0u16));
        assert!(all_zero_bits(0.0f32));
        assert!(!all_zero_bits(-0.0f64));
        assert!(!all_zero_bits(1u8));
        assert!(!all_zero_bits(f32::NAN));
    }

    #[test]
    fn a_fresh_chunk_buffer_holds_the_fill_exactly() {
        // Below the populate-at-allocation size: the zero fill is a memset,
        // another fill a resize; -0.0 keeps its sign bit.
        let zero = filled_buffer(3 << 20, 0u16, Vec::new());
        assert!(zero.len() == 3 << 20 && zero.iter().all(|&v| v == 0));
        let neg = filled_buffer(1 << 20, -0.0f32, Vec::new());
        assert!(neg.iter().all(|v| v.to_bits() == (-0.0f32).to_bits()));
        let nine = filled_buffer(1 << 20, 9i16, Vec::new());
        assert!(nine.iter().all(|&v| v == 9));
        // A reused buffer is refilled.
        let again = filled_buffer(1 << 20, 7u16, zero);
        assert!(again.iter().all(|&v| v == 7));
    }
}
