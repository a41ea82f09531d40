//! The remote load path: an I/O stage of `io_concurrency` threads that
//! fetches each task's bytes ahead of a decode stage of `threads` threads
//! (the cores), with the bytes in flight capped.
//!
//! 1. **Headers once.** The size and first 64 KiB of every distinct remote
//!    file read by index (`Placement::Direct`) are fetched once into the
//!    plan's [`PlanStage`], by header prefetch threads (half as many as
//!    the I/O threads) that run beside the I/O and decode threads, not before
//!    them, files in the order the tasks first read them; an I/O thread
//!    that needs a header the prefetchers have not reached fetches it
//!    itself (so the first tiles are fetched after about two round trips,
//!    not after every header); every later open of the file parses them
//!    from memory. The stage belongs to
//!    the plan, not to one load: the windows of a Zarr or NetCDF write (or
//!    any `load_window` calls on one plan, concurrent or not) share it, so
//!    a file's header is fetched once per plan, however many blocks read
//!    it (concurrent first readers wait for one fetch).
//! 2. **I/O apart from decode.** I/O threads take tasks in the order the
//!    decode threads will, open each source of the task from the stage
//!    (no network), work out the tiles of the window the task reads
//!    (`Dataset::tile_ranges`, the same window arithmetic as the read) and
//!    fetch them through GDAL's VSI on the real path (one request per run
//!    of consecutive tiles). Decode threads wait for their task's bytes,
//!    then decode and fuse exactly as the local path does, on the handles
//!    the I/O thread opened (a handle still lives only inside its task).
//! 3. **Memory cap.** A task is admitted for fetching, in task order, only
//!    while the fetched-but-not-decoded bytes stay under `io_bytes` (a task
//!    larger than the cap runs alone; a single source whose tiles claim more
//!    than the cap is not fetched ahead at all, GDAL reads it through the
//!    stage's misses); the decode stage returns a task's bytes when it is
//!    done with it.
//!
//! What the stage cannot predict falls back to today's behaviour: sources
//! that are warped, not TIFF, or whose header fetch failed are opened on
//! their real path by the decode thread (which reports any error, typed,
//! as before); reads outside the fetched bytes are served from the real
//! path and counted as misses.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use stac_raster::stage::{ByteStage, Fetched, StageStats, StagedId, stageable};
use stac_raster::{Dataset, Pixel, RasterSource};
use stac_signers::GdalEnv;

use crate::load::{LoadSpec, Task};
use crate::place::{Placement, direct_map};
use crate::read::Scratch;

/// Gaps between tiles up to this many bytes are fetched with them (COG
/// tiles are separated by 8 bytes; one request beats two round trips).
const MERGE_GAP: u64 = 64 << 10;

/// The I/O settings of one load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IoSettings {
    /// I/O threads (0: no I/O stage).
    pub concurrency: usize,
    /// Cap on fetched-but-not-decoded bytes.
    pub max_bytes: u64,
}

/// How the load spent its time and what it fetched: the `io` part of
/// [`DatasetCollection::summary`](crate::DatasetCollection::summary).
///
/// Counting: `requests` and `bytes_fetched` are what the byte stage asked
/// GDAL for (a file header counts two requests: its size and its first
/// bytes; each run of tiles one; each miss one); `request_seconds` is the
/// sum of their durations and `mean_requests_in_flight` that sum divided
/// by `load_seconds`. `io_wait_seconds` is the time decode threads waited
/// for their task's bytes, `decode_seconds` the time they spent opening,
/// decoding and fusing (both summed over decode threads). Without the
/// stage (local loads, or `io_concurrency` 0) the network fields are
/// `None`: GDAL's own reads are not counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct IoReport {
    /// Whether the I/O stage ran (some source was remote and
    /// `io_concurrency` > 0).
    pub staged: bool,
    /// I/O threads (0 without the stage).
    pub io_concurrency: usize,
    /// Decode threads.
    pub decode_threads: usize,
    /// The cap on fetched-but-not-decoded bytes (0 without the stage).
    pub io_bytes_cap: u64,
    /// The most bytes fetched but not yet decoded at any time.
    pub peak_bytes_in_flight: u64,
    /// Requests issued by the stage.
    pub requests: Option<u64>,
    /// Bytes received by the stage.
    pub bytes_fetched: Option<u64>,
    /// Sum of the requests' durations.
    pub request_seconds: Option<f64>,
    /// `request_seconds / load_seconds`.
    pub mean_requests_in_flight: Option<f64>,
    /// File headers fetched (one per distinct remote file).
    pub headers: Option<u64>,
    /// Reads served from the real path because they were not prefetched.
    pub misses: Option<u64>,
    /// Bytes of those reads.
    pub miss_bytes: Option<u64>,
    /// Decode threads waiting for bytes, summed.
    pub io_wait_seconds: f64,
    /// Decode threads opening, decoding and fusing, summed.
    pub decode_seconds: f64,
    /// Wall time of the load (headers, fetches and decoding).
    pub load_seconds: f64,
}

/// A file's staged header, fetched by its first reader (the others wait).
type HeaderCell = Arc<OnceLock<Option<StagedId>>>;

/// The byte stage of one plan and the headers staged in it, by GDAL path
/// and env (one URL under two envs, i.e. two signers' origins, is two
/// files). Shared by every load of the plan (clones of a plan share it);
/// staged files live until the last clone drops.
#[derive(Default)]
pub(crate) struct PlanStage {
    stage: ByteStage,
    headers: Mutex<HashMap<String, Vec<(GdalEnv, HeaderCell)>>>,
}

impl PlanStage {
    /// Whether `source`'s file header was fetched (or found unstageable)
    /// already: a later load of the plan (the next block of a Zarr write)
    /// starts no prefetcher for it.
    fn has_header(&self, source: &RasterSource) -> bool {
        let m = self.headers.lock().unwrap_or_else(|e| e.into_inner());
        m.get(source.gdal_path()).is_some_and(|cells| {
            cells
                .iter()
                .any(|(env, c)| env == source.env() && c.get().is_some())
        })
    }

    /// The staged id of `source`'s file, fetching its header on first use
    /// (`None`: not stageable or the fetch failed; such a file is read on
    /// its real path, which reports the error, for the rest of the plan).
    fn header(&self, source: &RasterSource) -> Option<StagedId> {
        let cell = {
            let mut m = self.headers.lock().unwrap_or_else(|e| e.into_inner());
            let cells = m.entry(source.gdal_path().to_string()).or_default();
            match cells.iter().find(|(env, _)| env == source.env()) {
                Some((_, c)) => c.clone(),
                None => {
                    let c = HeaderCell::default();
                    cells.push((source.env().clone(), c.clone()));
                    c
                }
            }
        };
        *cell.get_or_init(|| self.stage.stage_header(source))
    }
}

/// `after - before`, field by field (a shared stage's counters during one load).
fn stats_since(after: StageStats, before: StageStats) -> StageStats {
    let mut d = after;
    d.requests = after.requests.saturating_sub(before.requests);
    d.bytes = after.bytes.saturating_sub(before.bytes);
    d.request_seconds = (after.request_seconds - before.request_seconds).max(0.0);
    d.headers = after.headers.saturating_sub(before.headers);
    d.misses = after.misses.saturating_sub(before.misses);
    d.miss_bytes = after.miss_bytes.saturating_sub(before.miss_bytes);
    d
}

/// A task's sources opened from the stage, with their fetched bytes.
pub(crate) struct Prepared {
    pub source: usize,
    pub dataset: Dataset,
    /// The task's bytes of this source: keep it until the read is done.
    pub fetched: Option<Fetched>,
}

/// A task and its slice of the output, until a decode thread takes it.
type TaskSlot<'a, T> = Mutex<Option<(Task, &'a mut [T])>>;

/// One source of a task, opened from the stage, with the byte ranges its
/// read needs.
struct Planned {
    source: usize,
    dataset: Dataset,
    ranges: Vec<(u64, u64)>,
    id: StagedId,
}

/// Admission of tasks for fetching: in task order, under the byte cap.
struct Admission {
    next: usize,
    bytes: u64,
    peak: u64,
}

/// Whether any readable source of the load can go through the stage.
pub(crate) fn wanted(spec: &LoadSpec<'_>) -> bool {
    spec.sources.iter().zip(spec.landings).any(|(s, l)| {
        matches!(l.placement, Placement::Direct | Placement::Warp)
            && s.raster.as_ref().is_some_and(|r| stageable(r.gdal_path()))
    })
}

/// Run the tasks through the I/O and decode stages; `run_task` is the
/// decode and fusion of one task (as on the local path), given the
/// handles the I/O stage opened.
pub(crate) fn run<T: Pixel, F>(
    spec: &LoadSpec<'_>,
    slices: Vec<(Task, &mut [T])>,
    io: IoSettings,
    abort: &AtomicBool,
    run_task: &F,
) -> IoReport
where
    F: Fn(&mut Scratch<T>, Task, &mut [T], Vec<Prepared>) + Sync,
{
    let started = Instant::now();
    let before = spec.stage.stage.stats();
    spec.stage.stage.reuse_buffers(io.max_bytes);
    let n_io = io.concurrency.max(1);
    let pipe = Pipeline::new(spec, slices, io, abort);
    let mut order = header_order(spec, &pipe.plans);
    order.retain(|&si| stageable_source(spec, si).is_some_and(|r| !spec.stage.has_header(r)));
    let next_header = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..header_threads(n_io).min(order.len()) {
            s.spawn(|| pipe.prefetch_headers(&order, &next_header));
        }
        for _ in 0..n_io {
            s.spawn(|| pipe.fetch_loop());
        }
        for _ in 0..spec.threads.max(1) {
            s.spawn(|| pipe.decode_loop(run_task));
        }
    });
    pipe.report(before, started, n_io)
}

/// The state the I/O and decode threads of one load share: task `j` is
/// planned and fetched by an I/O thread (in task order, under the byte
/// cap), marked ready, then taken by a decode thread (in task order).
struct Pipeline<'s, 'a, T> {
    spec: &'s LoadSpec<'a>,
    io: IoSettings,
    abort: &'s AtomicBool,
    /// Each task's rows and sources (read by the I/O threads).
    plans: Vec<(usize, usize, Vec<usize>)>,
    /// Each task and its output slice, until a decode thread takes it.
    tasks: Vec<TaskSlot<'s, T>>,
    /// The handles an I/O thread opened for each task, with their bytes.
    prepared: Vec<Mutex<Vec<Prepared>>>,
    /// The bytes each task was admitted with.
    task_bytes: Vec<AtomicU64>,
    /// Whether each task's fetch is done (or given up).
    ready: Vec<AtomicBool>,
    admission: Mutex<Admission>,
    changed: Condvar,
    next_io: AtomicUsize,
    next_decode: AtomicUsize,
    wait_ns: AtomicU64,
    decode_ns: AtomicU64,
}

impl<'s, 'a, T: Pixel> Pipeline<'s, 'a, T> {
    fn new(
        spec: &'s LoadSpec<'a>,
        slices: Vec<(Task, &'s mut [T])>,
        io: IoSettings,
        abort: &'s AtomicBool,
    ) -> Self {
        let n = slices.len();
        Self {
            spec,
            io,
            abort,
            plans: slices
                .iter()
                .map(|(t, _)| (t.r0, t.rows, t.sources.clone()))
                .collect(),
            tasks: slices.into_iter().map(|s| Mutex::new(Some(s))).collect(),
            prepared: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
            task_bytes: (0..n).map(|_| AtomicU64::new(0)).collect(),
            ready: (0..n).map(|_| AtomicBool::new(false)).collect(),
            admission: Mutex::new(Admission {
                next: 0,
                bytes: 0,
                peak: 0,
            }),
            changed: Condvar::new(),
            next_io: AtomicUsize::new(0),
            next_decode: AtomicUsize::new(0),
            wait_ns: AtomicU64::new(0),
            decode_ns: AtomicU64::new(0),
        }
    }

    /// An I/O thread: take tasks in order and fetch each one's bytes.
    fn fetch_loop(&self) {
        loop {
            let j = self.next_io.fetch_add(1, Ordering::AcqRel);
            if j >= self.plans.len() {
                break;
            }
            // Marks the task ready (and admits it, if the planning below
            // failed to) even if this thread unwinds.
            let done = ReadyOnDrop {
                ready: &self.ready[j],
                admission: &self.admission,
                changed: &self.changed,
                index: j,
            };
            let (r0, rows, sources) = &self.plans[j];
            let planned = if self.abort.load(Ordering::Relaxed) {
                Vec::new()
            } else {
                plan_task(
                    self.spec,
                    &self.spec.stage.stage,
                    |si| staged_header(self.spec, si),
                    *r0,
                    *rows,
                    sources,
                    self.io.max_bytes,
                )
            };
            let est: u64 = planned
                .iter()
                .flat_map(|p| p.ranges.iter().map(|r| r.1))
                .sum();
            self.admit(j, est);
            let out = self.fetch(planned);
            *self.prepared[j].lock().unwrap_or_else(|e| e.into_inner()) = out;
            drop(done);
        }
    }

    /// A header prefetch thread: stage the headers of `order` (source
    /// indices), taking them in turn with the other prefetchers, until all
    /// are staged or the load is aborted.
    fn prefetch_headers(&self, order: &[usize], next: &AtomicUsize) {
        while !self.abort.load(Ordering::Relaxed) {
            let Some(&si) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let _ = staged_header(self.spec, si);
        }
    }

    /// Wait until task `j` is next in order and its `est` bytes fit under
    /// the cap (a task alone may exceed it), then count them in flight.
    fn admit(&self, j: usize, est: u64) {
        let mut a = lock(&self.admission);
        while a.next != j || (a.bytes > 0 && a.bytes + est > self.io.max_bytes) {
            a = self
                .changed
                .wait_timeout(a, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        a.next += 1;
        a.bytes += est;
        a.peak = a.peak.max(a.bytes);
        self.task_bytes[j].store(est, Ordering::Relaxed);
        self.changed.notify_all();
    }

    /// Fetch the planned ranges of a task's sources (nothing once the
    /// load is aborted).
    fn fetch(&self, planned: Vec<Planned>) -> Vec<Prepared> {
        let stage = &self.spec.stage.stage;
        planned
            .into_iter()
            .map(|p| Prepared {
                source: p.source,
                dataset: p.dataset,
                fetched: (!p.ranges.is_empty() && !self.abort.load(Ordering::Relaxed))
                    .then(|| stage.fetch(p.id, &p.ranges)),
            })
            .collect()
    }

    /// A decode thread: take tasks in order, wait for their bytes, decode
    /// and fuse them.
    fn decode_loop<F>(&self, run_task: &F)
    where
        F: Fn(&mut Scratch<T>, Task, &mut [T], Vec<Prepared>) + Sync,
    {
        let mut scratch = Scratch::<T>::default();
        loop {
            let i = self.next_decode.fetch_add(1, Ordering::AcqRel);
            if i >= self.plans.len() {
                break;
            }
            self.wait_ready(i);
            let _release = ReleaseOnDrop {
                bytes: self.task_bytes[i].load(Ordering::Relaxed),
                admission: &self.admission,
                changed: &self.changed,
            };
            let handles =
                std::mem::take(&mut *self.prepared[i].lock().unwrap_or_else(|e| e.into_inner()));
            let taken = self.tasks[i]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some((task, out)) = taken {
                let t1 = Instant::now();
                run_task(&mut scratch, task, out, handles);
                add_ns(&self.decode_ns, t1);
            }
        }
    }

    /// Block until task `i`'s fetch is done; the wait counts as I/O wait.
    fn wait_ready(&self, i: usize) {
        let t0 = Instant::now();
        let mut a = lock(&self.admission);
        while !self.ready[i].load(Ordering::Acquire) {
            a = self
                .changed
                .wait_timeout(a, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(a);
        add_ns(&self.wait_ns, t0);
    }

    /// The load's [`IoReport`]: the stage's counters since `before`.
    fn report(&self, before: StageStats, started: Instant, n_io: usize) -> IoReport {
        let st = stats_since(self.spec.stage.stage.stats(), before);
        let load_seconds = started.elapsed().as_secs_f64();
        IoReport {
            staged: true,
            io_concurrency: n_io,
            decode_threads: self.spec.threads.max(1),
            io_bytes_cap: self.io.max_bytes,
            peak_bytes_in_flight: lock(&self.admission).peak,
            requests: Some(st.requests),
            bytes_fetched: Some(st.bytes),
            request_seconds: Some(st.request_seconds),
            mean_requests_in_flight: Some(if load_seconds > 0.0 {
                st.request_seconds / load_seconds
            } else {
                0.0
            }),
            headers: Some(st.headers),
            misses: Some(st.misses),
            miss_bytes: Some(st.miss_bytes),
            io_wait_seconds: ns_secs(&self.wait_ns),
            decode_seconds: ns_secs(&self.decode_ns),
            load_seconds,
        }
    }
}

pub(crate) fn add_ns(counter: &AtomicU64, since: Instant) {
    let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(ns, Ordering::Relaxed);
}

pub(crate) fn ns_secs(counter: &AtomicU64) -> f64 {
    counter.load(Ordering::Relaxed) as f64 / 1e9
}

/// Header prefetch threads beside `n_io` I/O threads: half as many (at
/// least one). A header is two round trips (size, then first bytes); at
/// 60 ms, 8 prefetchers stage ~67 files/s, about the decode stage's pace
/// on the latency benchmark, and an I/O thread whose task's header is not
/// staged yet fetches it itself, so the I/O threads' first tasks never
/// queue behind the prefetchers. As many prefetchers as I/O threads
/// started the first tiles no sooner on the benchmark (shared machine)
/// and ran more threads at once beside the fetches, against the thin
/// margin of the remote RSS bound (`cube_latency_memory.rs`).
fn header_threads(n_io: usize) -> usize {
    (n_io / 2).max(1)
}

/// The source whose file goes through the stage: read by index, on a
/// path the stage can serve.
fn stageable_source<'a>(spec: &LoadSpec<'a>, si: usize) -> Option<&'a RasterSource> {
    let r = spec.sources[si].raster.as_deref()?;
    (spec.landings[si].placement == Placement::Direct && stageable(r.gdal_path())).then_some(r)
}

/// Source `si`'s staged file, its header fetched on first use, once per
/// plan (`None`: read on its real path).
fn staged_header(spec: &LoadSpec<'_>, si: usize) -> Option<StagedId> {
    stageable_source(spec, si).and_then(|r| spec.stage.header(r))
}

/// One source per distinct stageable file (path and env: the same URL
/// under two envs, two signers' origins, is two files), in the order the
/// tasks first read them. The prefetchers start at the first file, not
/// past the files of the I/O threads' first tasks: a task reading several
/// files (a mosaic) would otherwise fetch their headers one after the
/// other on its I/O thread (measured at 60 ms: first tile fetch 0.25 s
/// after the first request, against 0.14 s from the first file).
fn header_order(spec: &LoadSpec<'_>, plans: &[(usize, usize, Vec<usize>)]) -> Vec<usize> {
    let mut seen: HashMap<&str, Vec<&GdalEnv>> = HashMap::new();
    let mut order = Vec::new();
    for &si in plans.iter().flat_map(|(_, _, sources)| sources) {
        if let Some(r) = stageable_source(spec, si) {
            let envs = seen.entry(r.gdal_path()).or_default();
            if !envs.contains(&r.env()) {
                envs.push(r.env());
                order.push(si);
            }
        }
    }
    order
}

/// Open a task's staged sources and work out their tile ranges (no
/// network: headers are in memory).
fn plan_task(
    spec: &LoadSpec<'_>,
    stage: &ByteStage,
    staged: impl Fn(usize) -> Option<StagedId>,
    r0: usize,
    rows: usize,
    sources: &[usize],
    max_bytes: u64,
) -> Vec<Planned> {
    let mut out = Vec::new();
    for &si in sources {
        let Some(id) = staged(si) else { continue };
        let src = &spec.sources[si];
        let Some(raster) = src.raster.as_deref() else {
            continue;
        };
        let Ok(ds) = stage.open(raster, id) else {
            continue;
        };
        if src.band == 0 || src.band > ds.band_count() {
            continue;
        }
        let mut ranges = match direct_map(spec, src, spec.landings[si], &ds, r0, rows) {
            Ok(Some(m)) => ds
                .tile_ranges(src.band, m.level, m.window, MERGE_GAP)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        // The sizes come from the file: a source whose tiles claim more
        // than the whole cap is not fetched ahead (GDAL reads it through
        // the stage's misses, with its own limits), so a hostile header
        // cannot make the stage allocate what it names.
        if ranges.iter().map(|r| r.1).sum::<u64>() > max_bytes {
            ranges.clear();
        }
        out.push(Planned {
            source: si,
            dataset: ds,
            ranges,
            id,
        });
    }
    out
}

/// Marks an I/O task ready when dropped (after its fetch, or when its
/// thread unwinds), admitting it first if it was not.
struct ReadyOnDrop<'a> {
    ready: &'a AtomicBool,
    admission: &'a Mutex<Admission>,
    changed: &'a Condvar,
    index: usize,
}

impl Drop for ReadyOnDrop<'_> {
    fn drop(&mut self) {
        let mut a = self.admission.lock().unwrap_or_else(|e| e.into_inner());
        if a.next == self.index {
            a.next += 1;
        }
        self.ready.store(true, Ordering::Release);
        self.changed.notify_all();
    }
}

/// Returns a task's bytes to the admission when its decode is done.
struct ReleaseOnDrop<'a> {
    bytes: u64,
    admission: &'a Mutex<Admission>,
    changed: &'a Condvar,
}

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        let mut a = self.admission.lock().unwrap_or_else(|e| e.into_inner());
        a.bytes = a.bytes.saturating_sub(self.bytes);
        self.changed.notify_all();
    }
}

fn lock(m: &Mutex<Admission>) -> std::sync::MutexGuard<'_, Admission> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
