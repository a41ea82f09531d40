//! The byte stage: remote COG bytes fetched ahead of decoding, served to
//! GDAL from memory.
//!
//! A [`ByteStage`] belongs to one load. [`ByteStage::stage_header`] fetches
//! a remote file's size and its first [`HEADER_BYTES`] once (any thread;
//! the loader does every file concurrently); [`ByteStage::open`] then opens
//! the file as `/vsistac/<n>`, a path of our own VSI file system (installed
//! once per process), which GDAL parses from memory. [`ByteStage::fetch`]
//! reads byte ranges (a task's tiles, from [`Dataset::tile_ranges`])
//! through GDAL's VSI on the file's real path (one request per range,
//! copied by GDAL straight into reused 256 KiB chunks), on the caller's
//! thread (the loader's I/O threads), and keeps them until the returned
//! [`Fetched`] is dropped. A read GDAL makes outside what was fetched (a *miss*) goes to
//! the real path and is counted; it is correct, only slower.
//!
//! Invariants:
//! - Every network read (header, range, miss) runs with the source's own
//!   env installed (its origin-scoped credentials, timeouts, read preset)
//!   and is charged to the source's time budget; nothing else reaches the
//!   network from here.
//! - Only GeoTIFF is opened through the stage (the GTiff driver, when the
//!   source's policy allows it for the real path); the stage never widens
//!   what the policy allows.
//! - A staged file lives in the process-wide table while its stage lives
//!   (open handles keep their file alive after that); fetched ranges live
//!   while their [`Fetched`] does, so memory is bounded by the caller.
//! - The counters count what the stage asked GDAL for: a header is two
//!   requests (size, first bytes), a range one, a miss one. GDAL may split
//!   or retry a request; the server's log is the ground truth.

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use crate::dataset::Dataset;
use crate::error::Result;
use crate::limits::Limit;
use crate::source::RasterSource;
use crate::thread_env::EnvScope;

/// How much of each file the header fetch reads: a COG's IFDs and tile
/// index arrays sit at its start ("ghost" layout); 64 KiB holds them for
/// tiled files up to about 40 000² pixels in 512² tiles with overviews.
pub const HEADER_BYTES: usize = 64 << 10;

/// The VSI prefix of staged files. GDAL 3.6 keeps the pointer to the
/// prefix string it was installed with, so it must be `'static`.
const PREFIX: &CStr = c"/vsistac/";

/// Network file systems a file can be staged from (the path starts with
/// one of them directly: chained paths such as `/vsizip//vsicurl/…` are
/// read as they are).
const STAGEABLE: &[&str] = &[
    "/vsicurl/",
    "/vsis3/",
    "/vsigs/",
    "/vsiaz/",
    "/vsiadls/",
    "/vsioss/",
    "/vsiswift/",
];

/// Whether `path` (a GDAL path) can be read through a [`ByteStage`].
pub fn stageable(path: &str) -> bool {
    STAGEABLE.iter().any(|p| path.starts_with(p))
}

/// What a stage asked the network for (see the module docs for how each
/// is counted).
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
    request_nanos: AtomicU64,
    headers: AtomicU64,
    misses: AtomicU64,
    miss_bytes: AtomicU64,
}

impl Counters {
    fn record(&self, requests: u64, bytes: u64, started: Instant) {
        self.requests.fetch_add(requests, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.request_nanos.fetch_add(ns, Ordering::Relaxed);
    }
}

/// A snapshot of a stage's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct StageStats {
    /// Requests the stage issued (headers count two, ranges and misses one).
    pub requests: u64,
    /// Bytes received.
    pub bytes: u64,
    /// The sum of the requests' durations, in seconds (divided by the
    /// load's wall time: the mean number of requests in flight).
    pub request_seconds: f64,
    /// Files whose header was fetched.
    pub headers: u64,
    /// Reads GDAL made outside the fetched bytes (served from the real path).
    pub misses: u64,
    /// Bytes of those reads.
    pub miss_bytes: u64,
}

/// Fetched bytes: (offset, bytes, the ticket of the [`Fetched`] owning them).
type Range = (u64, Vec<u8>, u64);

/// Fetched bytes are held in buffers of this size (a range spans as many
/// as it needs; GDAL's reads cross from one to the next). One size lets
/// every released buffer serve any later fetch, whatever its length.
const CHUNK: usize = 256 << 10;

/// The [`CHUNK`] buffers of fetched ranges, kept for the next fetches once
/// their [`Fetched`] drops. A fresh buffer costs a page fault and the
/// kernel's zeroing for every 4 KiB of it: on the latency benchmark's stack
/// (320 MB fetched) buffers sized to each range were rarely reused (a kept
/// buffer seldom fitted the next range under the bound) and their first
/// touch was a third of the page faults of the load.
///
/// Bound: the bytes handed out plus the bytes kept stay at most
/// `max_bytes` (the load's in-flight cap), except while the handed-out
/// bytes alone exceed it (a task larger than the cap runs alone), so
/// the stage never holds more than it did without reuse.
#[derive(Debug, Default)]
struct BufferPool {
    /// (kept buffers, capacity handed out and not yet returned).
    state: Mutex<(Vec<Vec<u8>>, u64)>,
    /// 0: keep nothing.
    max_bytes: AtomicU64,
}

impl BufferPool {
    /// An empty buffer with room for [`CHUNK`] bytes: a kept one, else a
    /// new one (after dropping kept ones while it would not fit under the
    /// bound with them). `None` when it cannot be allocated.
    fn take(&self) -> Option<Vec<u8>> {
        let max = self.max_bytes.load(Ordering::Relaxed);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (kept, out) = &mut *st;
        let buf = match kept.pop() {
            Some(b) => b,
            None => {
                let mut b = Vec::new();
                b.try_reserve_exact(CHUNK).ok()?;
                b
            }
        };
        *out += buf.capacity() as u64;
        let mut held: u64 = kept.iter().map(|b| b.capacity() as u64).sum();
        while !kept.is_empty() && *out + held > max {
            held -= kept.pop().map_or(0, |b| b.capacity() as u64);
        }
        Some(buf)
    }

    /// Return a buffer from [`take`](Self::take): kept if the bound allows.
    fn give(&self, mut buf: Vec<u8>) {
        buf.clear();
        let max = self.max_bytes.load(Ordering::Relaxed);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (kept, out) = &mut *st;
        *out = out.saturating_sub(buf.capacity() as u64);
        let held: u64 = kept.iter().map(|b| b.capacity() as u64).sum();
        if *out + held + buf.capacity() as u64 <= max {
            kept.push(buf);
        }
    }
}

/// One remote file: its size, header and the ranges fetched for tasks in flight.
struct StagedFile {
    real: CString,
    env: stac_signers::GdalEnv,
    limit: Option<Limit>,
    size: u64,
    header: Vec<u8>,
    ranges: Mutex<Vec<Range>>,
    counters: Arc<Counters>,
    pool: Arc<BufferPool>,
}

/// The process-wide table the VSI callbacks read: staged file number → file.
fn table() -> &'static RwLock<HashMap<u64, Arc<StagedFile>>> {
    static TABLE: OnceLock<RwLock<HashMap<u64, Arc<StagedFile>>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        install();
        RwLock::new(HashMap::new())
    })
}

static NEXT_FILE: AtomicU64 = AtomicU64::new(1);
static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

fn file_of(name: &CStr) -> Option<Arc<StagedFile>> {
    let name = name.to_str().ok()?;
    let n: u64 = name
        .strip_prefix(PREFIX.to_str().ok()?)
        .unwrap_or(name)
        .parse()
        .ok()?;
    table().read().ok()?.get(&n).cloned()
}

/// A staged file of a [`ByteStage`], by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StagedId(u64);

/// The byte stage of one load: see the module docs.
///
/// ```
/// use stac_raster::stage::{ByteStage, stageable};
/// let stage = ByteStage::new();
/// assert!(stageable("/vsicurl/https://example.com/a.tif"));
/// assert!(!stageable("/data/a.tif"));
/// assert_eq!(stage.stats().requests, 0);
/// ```
#[derive(Default)]
pub struct ByteStage {
    files: Mutex<Vec<u64>>,
    counters: Arc<Counters>,
    pool: Arc<BufferPool>,
}

impl std::fmt::Debug for ByteStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStage")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ByteStage {
    /// An empty stage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fetch the size and header of `source`'s file (a stageable remote
    /// GeoTIFF path). `None` when the source cannot be staged or the fetch
    /// failed: read it through its real path then (which reports the error).
    pub fn stage_header(&self, source: &RasterSource) -> Option<StagedId> {
        let path = source.gdal_path();
        if !stageable(path) || !source.allows_gtiff() || source.expired() {
            return None;
        }
        let real = CString::new(path).ok()?;
        let env = crate::limits::guarded_env(source.env());
        let limit = source.limit();
        let started = Instant::now();
        let (header, size) = {
            let _scope = EnvScope::install(&env);
            let _call = limit.as_ref().map(Limit::call);
            // SAFETY: a valid C string; the handle is closed below.
            let fp = unsafe { gdal_sys::VSIFOpenL(real.as_ptr(), c"rb".as_ptr()) };
            if fp.is_null() {
                // The real open (on the decode thread) reports the error:
                // GDAL must not answer it from its "does not exist" cache.
                crate::dataset::forget_failed_remote(path);
                return None;
            }
            let mut buf = vec![0u8; HEADER_BYTES];
            // SAFETY: `fp` is open; `buf` holds HEADER_BYTES bytes.
            let (n, size) = unsafe {
                let n = gdal_sys::VSIFReadL(buf.as_mut_ptr().cast(), 1, HEADER_BYTES, fp);
                let end = gdal_sys::VSIFSeekL(fp, 0, 2);
                let size = if end == 0 { gdal_sys::VSIFTellL(fp) } else { 0 };
                gdal_sys::VSIFCloseL(fp);
                (n, size)
            };
            buf.truncate(n);
            (buf, size)
        };
        self.counters.record(2, header.len() as u64, started);
        self.counters.headers.fetch_add(1, Ordering::Relaxed);
        if header.len() < 8 || size < header.len() as u64 {
            crate::dataset::forget_failed_remote(path);
            return None;
        }
        let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
        let file = Arc::new(StagedFile {
            real,
            env,
            limit,
            size,
            header,
            ranges: Mutex::new(Vec::new()),
            counters: self.counters.clone(),
            pool: self.pool.clone(),
        });
        table()
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(n, file);
        self.files.lock().unwrap_or_else(|e| e.into_inner()).push(n);
        Some(StagedId(n))
    }

    /// Open a staged file (GTiff only) as `source`: its env and time
    /// budget, errors naming it.
    pub fn open(&self, source: &RasterSource, id: StagedId) -> Result<Dataset> {
        source.open_staged(&format!("{}{}", PREFIX.to_string_lossy(), id.0))
    }

    /// Fetch `ranges` (offset, length) of a staged file through its real
    /// path, on this thread; they serve GDAL's reads until the returned
    /// guard drops. Ranges that fail to arrive are left out (reads of them
    /// are misses, which report the error).
    pub fn fetch(&self, id: StagedId, ranges: &[(u64, u64)]) -> Fetched {
        let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
        let Some(file) = table().read().ok().and_then(|t| t.get(&id.0).cloned()) else {
            return Fetched { file: None, ticket };
        };
        let mut got = Vec::with_capacity(ranges.len());
        {
            let _scope = EnvScope::install(&file.env);
            let _call = file.limit.as_ref().map(Limit::call);
            if !file.limit.as_ref().is_some_and(Limit::passed) {
                // SAFETY: a valid C string; closed below.
                let fp = unsafe { gdal_sys::VSIFOpenL(file.real.as_ptr(), c"rb".as_ptr()) };
                if !fp.is_null() {
                    let held = file.header.len() as u64;
                    for &(off, len) in ranges {
                        // The header already holds the start of the file.
                        let end = off.saturating_add(len).min(file.size);
                        let off = off.max(held);
                        let len = end.saturating_sub(off);
                        let Ok(len) = usize::try_from(len) else {
                            continue;
                        };
                        if len == 0 {
                            continue;
                        }
                        let started = Instant::now();
                        // SAFETY: `fp` is open.
                        let n = unsafe { self.read_range(fp, off, len, ticket, &mut got) };
                        self.counters.record(1, n as u64, started);
                    }
                    // SAFETY: opened above.
                    unsafe { gdal_sys::VSIFCloseL(fp) };
                }
            }
        }
        file.ranges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(got);
        Fetched {
            file: Some(file),
            ticket,
        }
    }

    /// Keep the buffers of released ranges for later fetches, up to
    /// `max_bytes` handed out and kept together (the loader passes its
    /// in-flight cap; 0, the default, keeps none).
    pub fn reuse_buffers(&self, max_bytes: u64) {
        self.pool.max_bytes.store(max_bytes, Ordering::Relaxed);
    }

    /// The counters so far.
    pub fn stats(&self) -> StageStats {
        let c = &self.counters;
        StageStats {
            requests: c.requests.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            request_seconds: c.request_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            headers: c.headers.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            miss_bytes: c.miss_bytes.load(Ordering::Relaxed),
        }
    }
}

impl ByteStage {
    /// Read `len` bytes at `off` of the open network file `fp` into
    /// [`CHUNK`] buffers from the pool, pushed onto `got` (with `ticket`);
    /// the bytes read: `len`, or 0 when the read failed or the buffers
    /// could not be allocated (nothing is pushed then).
    ///
    /// The read is one GDAL multi-range read of the chunks' consecutive
    /// pieces of the range (a range within one chunk is read as its two
    /// halves: `/vsicurl/` serves a one-range call by its plain read, the
    /// path with the extra copies below), which GDAL merges into one request
    /// (`GDAL_HTTP_MERGE_CONSECUTIVE_RANGES`, on by default) and copies
    /// from its download buffer straight into the chunks. A plain
    /// `VSIFReadL` of the same range (GDAL 3.6) also copies the bytes into
    /// `/vsicurl/`'s block cache (16 KiB regions, evicted again at once:
    /// the cache is 16 MiB, a stack's ranges 320 MB) and into a string
    /// returned to the read: two more copies of every fetched byte, into
    /// freshly mapped pages. The requests and their ranges are the same.
    ///
    /// # Safety
    /// `fp` is an open GDAL file.
    unsafe fn read_range(
        &self,
        fp: *mut gdal_sys::VSILFILE,
        off: u64,
        len: usize,
        ticket: u64,
        got: &mut Vec<Range>,
    ) -> usize {
        // Lengths come from the file: never abort on one.
        let mut bufs: Vec<Vec<u8>> = Vec::with_capacity(len.div_ceil(CHUNK));
        while bufs.len() * CHUNK < len {
            match self.pool.take() {
                Some(b) => bufs.push(b),
                None => {
                    bufs.into_iter().for_each(|b| self.pool.give(b));
                    return 0;
                }
            }
        }
        // The pieces: (buffer, offset in it, file offset, length).
        let mut pieces: Vec<(usize, usize, u64, usize)> = (0..bufs.len())
            .map(|i| {
                let at = i * CHUNK;
                (i, 0, off + at as u64, (len - at).min(CHUNK))
            })
            .collect();
        if let [(_, _, o, l)] = pieces[..]
            && l >= 2
        {
            pieces = vec![(0, 0, o, l / 2), (0, l / 2, o + (l / 2) as u64, l - l / 2)];
        }
        let mut ptrs: Vec<*mut c_void> = pieces
            .iter()
            .map(|&(i, at, _, _)| {
                let base: *mut u8 = bufs[i].spare_capacity_mut().as_mut_ptr().cast();
                // SAFETY: `at` < CHUNK, the buffer's capacity.
                unsafe { base.add(at) }.cast()
            })
            .collect();
        let offs: Vec<u64> = pieces.iter().map(|p| p.2).collect();
        let sizes: Vec<usize> = pieces.iter().map(|p| p.3).collect();
        let n = c_int::try_from(pieces.len()).unwrap_or(c_int::MAX);
        // SAFETY: `fp` is open (the caller's contract); each piece lies
        // inside its buffer's spare capacity and GDAL writes at most
        // `sizes[i]` bytes at `ptrs[i]`.
        let rc = unsafe {
            gdal_sys::VSIFReadMultiRangeL(n, ptrs.as_mut_ptr(), offs.as_ptr(), sizes.as_ptr(), fp)
        };
        if rc != 0 {
            bufs.into_iter().for_each(|b| self.pool.give(b));
            return 0;
        }
        for (i, mut b) in bufs.into_iter().enumerate() {
            let at = i * CHUNK;
            // SAFETY: GDAL filled every piece, so the buffer's first
            // `min(CHUNK, len - at)` bytes are written.
            unsafe { b.set_len((len - at).min(CHUNK)) };
            got.push((off + at as u64, b, ticket));
        }
        len
    }
}

impl Drop for ByteStage {
    fn drop(&mut self) {
        let files = std::mem::take(&mut *self.files.lock().unwrap_or_else(|e| e.into_inner()));
        let mut t = table().write().unwrap_or_else(|e| e.into_inner());
        for n in files {
            t.remove(&n);
        }
    }
}

/// Fetched ranges of one staged file; they are released when this drops.
pub struct Fetched {
    file: Option<Arc<StagedFile>>,
    ticket: u64,
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched")
            .field("ticket", &self.ticket)
            .finish_non_exhaustive()
    }
}

impl Fetched {
    /// The bytes held.
    pub fn bytes(&self) -> u64 {
        self.file.as_ref().map_or(0, |f| {
            f.ranges
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|r| r.2 == self.ticket)
                .map(|r| r.1.len() as u64)
                .sum()
        })
    }
}

impl Drop for Fetched {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            let mine: Vec<Range> = {
                let mut rs = f.ranges.lock().unwrap_or_else(|e| e.into_inner());
                let (mine, rest) = std::mem::take(&mut *rs)
                    .into_iter()
                    .partition(|r| r.2 == self.ticket);
                *rs = rest;
                mine
            };
            for (_, buf, _) in mine {
                f.pool.give(buf);
            }
        }
    }
}

/// An open handle on a staged file.
struct Handle {
    file: Arc<StagedFile>,
    pos: u64,
    /// The real file, opened on the first miss.
    real: *mut gdal_sys::VSILFILE,
}

impl Handle {
    /// Copy `out.len()` bytes at `pos` from the header or a fetched range;
    /// the number copied (0 when neither holds `pos`).
    fn read_memory(&self, pos: u64, out: &mut [u8]) -> usize {
        let hl = self.file.header.len() as u64;
        if pos < hl {
            let n = ((hl - pos) as usize).min(out.len());
            out[..n].copy_from_slice(&self.file.header[pos as usize..pos as usize + n]);
            return n;
        }
        let rs = self.file.ranges.lock().unwrap_or_else(|e| e.into_inner());
        for (o, d, _) in rs.iter() {
            if *o <= pos && pos < *o + d.len() as u64 {
                let a = (pos - o) as usize;
                let n = (d.len() - a).min(out.len());
                out[..n].copy_from_slice(&d[a..a + n]);
                return n;
            }
        }
        0
    }

    /// Read from the real file (a miss); the number of bytes read.
    fn read_real(&mut self, pos: u64, out: &mut [u8]) -> usize {
        let f = &self.file;
        let _scope = EnvScope::install(&f.env);
        let _call = f.limit.as_ref().map(Limit::call);
        let started = Instant::now();
        if self.real.is_null() {
            // SAFETY: a valid C string; closed in `cb_close`.
            self.real = unsafe { gdal_sys::VSIFOpenL(f.real.as_ptr(), c"rb".as_ptr()) };
            if self.real.is_null() {
                return 0;
            }
        }
        // SAFETY: `self.real` is open; `out` has room for `out.len()` bytes.
        let n = unsafe {
            gdal_sys::VSIFSeekL(self.real, pos, 0);
            gdal_sys::VSIFReadL(out.as_mut_ptr().cast(), 1, out.len(), self.real)
        };
        f.counters.record(1, n as u64, started);
        f.counters.misses.fetch_add(1, Ordering::Relaxed);
        f.counters.miss_bytes.fetch_add(n as u64, Ordering::Relaxed);
        n
    }
}

unsafe extern "C" fn cb_open(
    _: *mut c_void,
    name: *const c_char,
    access: *const c_char,
) -> *mut c_void {
    // SAFETY: GDAL passes valid C strings.
    let (name, access) = unsafe { (CStr::from_ptr(name), CStr::from_ptr(access)) };
    if access
        .to_bytes()
        .iter()
        .any(|b| matches!(b, b'w' | b'a' | b'+'))
    {
        return std::ptr::null_mut();
    }
    match file_of(name) {
        Some(file) => Box::into_raw(Box::new(Handle {
            file,
            pos: 0,
            real: std::ptr::null_mut(),
        }))
        .cast(),
        None => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn cb_stat(
    _: *mut c_void,
    name: *const c_char,
    st: *mut gdal_sys::VSIStatBufL,
    _flags: c_int,
) -> c_int {
    // SAFETY: GDAL passes a valid C string.
    let name = unsafe { CStr::from_ptr(name) };
    match file_of(name) {
        Some(f) => {
            // SAFETY: GDAL passes a stat buffer it owns.
            // (gdal-sys declares the struct opaque: it is the C library's `stat64`.)
            #[cfg(target_os = "linux")]
            unsafe {
                let st = st.cast::<libc::stat64>();
                std::ptr::write_bytes(st, 0, 1);
                (*st).st_size = f.size as _;
                (*st).st_mode = libc::S_IFREG | 0o444;
            }
            #[cfg(not(target_os = "linux"))]
            unsafe {
                let st = st.cast::<libc::stat>();
                std::ptr::write_bytes(st, 0, 1);
                (*st).st_size = f.size as _;
                (*st).st_mode = (libc::S_IFREG | 0o444) as _;
            }
            0
        }
        None => -1,
    }
}

unsafe extern "C" fn cb_seek(h: *mut c_void, off: u64, whence: c_int) -> c_int {
    // SAFETY: `h` is a `Handle` from `cb_open`, used by one thread at a time.
    let h = unsafe { &mut *h.cast::<Handle>() };
    h.pos = match whence {
        0 => off,
        1 => h.pos.saturating_add(off),
        _ => h.file.size.saturating_add(off),
    };
    0
}

unsafe extern "C" fn cb_tell(h: *mut c_void) -> u64 {
    // SAFETY: as in `cb_seek`.
    unsafe { &*h.cast::<Handle>() }.pos
}

unsafe extern "C" fn cb_eof(h: *mut c_void) -> c_int {
    // SAFETY: as in `cb_seek`.
    let h = unsafe { &*h.cast::<Handle>() };
    c_int::from(h.pos >= h.file.size)
}

unsafe extern "C" fn cb_close(h: *mut c_void) -> c_int {
    // SAFETY: `h` is a `Handle` from `cb_open`, closed once.
    let h = unsafe { Box::from_raw(h.cast::<Handle>()) };
    if !h.real.is_null() {
        // SAFETY: opened in `read_real`, closed once.
        unsafe { gdal_sys::VSIFCloseL(h.real) };
    }
    0
}

unsafe extern "C" fn cb_read(h: *mut c_void, buf: *mut c_void, size: usize, count: usize) -> usize {
    // SAFETY: as in `cb_seek`.
    let h = unsafe { &mut *h.cast::<Handle>() };
    if size == 0 {
        return 0;
    }
    let end = h
        .pos
        .saturating_add(size.saturating_mul(count) as u64)
        .min(h.file.size);
    let len = end.saturating_sub(h.pos) as usize;
    // SAFETY: GDAL's buffer holds `size * count` >= `len` bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    let mut w = 0;
    while w < len {
        let pos = h.pos + w as u64;
        let n = h.read_memory(pos, &mut out[w..]);
        if n > 0 {
            w += n;
            continue;
        }
        // A miss: the rest of this read up to the next fetched byte comes
        // from the real file (one request).
        let next = {
            let rs = h.file.ranges.lock().unwrap_or_else(|e| e.into_inner());
            rs.iter()
                .map(|r| r.0)
                .filter(|&o| o > pos)
                .min()
                .unwrap_or(u64::MAX)
        };
        let upto = (next.min(end) - pos) as usize;
        let n = h.read_real(pos, &mut out[w..w + upto]);
        w += n;
        if n < upto {
            break;
        }
    }
    h.pos += w as u64;
    w / size
}

/// Install the `/vsistac/` file system (once per process).
fn install() {
    // SAFETY: GDAL allocates the struct, we fill it, GDAL copies it when
    // installing, and we free it; the prefix is a 'static C string.
    unsafe {
        let cb = gdal_sys::VSIAllocFilesystemPluginCallbacksStruct();
        if cb.is_null() {
            return;
        }
        (*cb).open = Some(cb_open);
        (*cb).stat = Some(cb_stat);
        (*cb).seek = Some(cb_seek);
        (*cb).tell = Some(cb_tell);
        (*cb).read = Some(cb_read);
        (*cb).eof = Some(cb_eof);
        (*cb).close = Some(cb_close);
        gdal_sys::VSIInstallPluginHandler(PREFIX.as_ptr(), cb);
        gdal_sys::VSIFreeFilesystemPluginCallbacksStruct(cb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(pool: &BufferPool) -> (u64, u64) {
        let st = pool.state.lock().unwrap();
        (st.0.iter().map(|b| b.capacity() as u64).sum(), st.1)
    }

    #[test]
    fn pool_reuses_released_chunks_without_growing_past_the_bound() {
        let pool = BufferPool::default();
        let c = CHUNK as u64;
        pool.max_bytes.store(3 * c, Ordering::Relaxed);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        assert!(a.capacity() >= CHUNK && a.is_empty());
        pool.give(a);
        pool.give(b);
        assert_eq!(held(&pool), (2 * c, 0));
        // Released chunks are handed out again, empty.
        let mut again = [pool.take().unwrap(), pool.take().unwrap()];
        again.sort_by_key(|v| v.as_ptr());
        let mut want = [pa, pb];
        want.sort();
        assert_eq!([again[0].as_ptr(), again[1].as_ptr()], want);
        assert_eq!(held(&pool), (0, 2 * c));
        // Past the bound nothing is kept: 4 out, then all back.
        let more = [pool.take().unwrap(), pool.take().unwrap()];
        assert_eq!(held(&pool), (0, 4 * c));
        for v in again.into_iter().chain(more) {
            pool.give(v);
            let (kept, out) = held(&pool);
            assert!(
                kept + out <= 4 * c && kept <= 3 * c,
                "kept {kept} + out {out}"
            );
        }
        assert_eq!(held(&pool), (3 * c, 0));
    }

    #[test]
    fn pool_keeps_nothing_by_default() {
        let pool = BufferPool::default();
        let a = pool.take().unwrap();
        pool.give(a);
        assert_eq!(held(&pool), (0, 0));
    }
}
