//! How the process allocates: mimalloc for Rust (the global allocator in
//! `main.rs`), and two settings, made once at start-up before any other
//! work, that keep memory freed during a remote cube load from staying
//! resident (issue 20: peak RSS ≤ 1.3 × the output + the in-flight cap).
//!
//! Measured on the latency benchmark's 604 MB time stack over a 20 ms
//! nginx (`cargo xtask bench latency`), the I/O stage's 16 fetcher threads
//! raised the peak from 747 MB (no stage) to ~975 MB although the fetched
//! bytes are capped at 64 MiB. The excess was freed memory kept by the
//! allocators, not live data:
//! - **glibc (GDAL's allocations).** `/vsicurl/` downloads each range into
//!   a buffer grown by `realloc`, copies it into a `std::string` and then
//!   into the caller's buffer: a few multi-MB transients per request, on up
//!   to 16 threads (so up to 16 malloc arenas). glibc's *dynamic* mmap
//!   threshold rises to the size of the first such block freed, after which
//!   every later one is carved from an arena and kept there. A fixed
//!   threshold of [`MMAP_THRESHOLD`] (which also fixes the trim threshold)
//!   returns them to the kernel on free: ~−125 MB.
//! - **mimalloc (our fetched ranges).** A range fetched on an I/O thread is
//!   freed on a decode thread; mimalloc keeps the pages committed for its
//!   purge delay (10 ms) and purges them only when the owning (I/O) thread
//!   next allocates. Purging at once: ~−75 MB.
//!
//! Blocks below 1 MiB (GDAL's decoded 512² tiles, our per-thread scratch)
//! keep coming from the arenas, so local loads pay no extra page faults.
//! - **glibc's trim threshold.** Fixing the mmap threshold also stops the
//!   trim threshold from following it, so it stays at 128 KiB: every
//!   dataset a cube task closes frees its decoded tiles (a few MiB) at the
//!   top of an arena, glibc gives them back to the kernel and the next task
//!   faults them in again. [`TRIM_THRESHOLD`] keeps up to that much free
//!   top of an arena resident: on the cube benchmark's local mosaic (issue
//!   20) the page faults of a load fell from 188k to 158k (2 threads; 185k
//!   to 136k on one, where 129k are the output's own first touch).
//!
//! - **Transparent huge pages (issue 19).** mimalloc asks for huge pages on
//!   its arenas (`MADV_HUGEPAGE`, honoured where THP is `madvise` or
//!   `always`): a few bytes touched in a 2 MiB stretch make all of it
//!   resident, and a freed stretch stays so. On the Zarr write benchmark's
//!   scenes (`MIMALLOC_ALLOW_THP=0`, one thread) the anonymous peak fell
//!   from 36 to 20 MiB at the same speed. THP is turned off for the process
//!   (`PR_SET_THP_DISABLE`); the cube's own buffer was already kept off
//!   huge pages (`load.rs`, `no_huge_pages`), which was faster there too.

use std::ffi::{c_int, c_long};

/// Allocations of GDAL (glibc malloc) at or above this size are mapped
/// and unmapped on their own.
const MMAP_THRESHOLD: c_int = 1 << 20;

/// Free memory at the top of a glibc arena is returned to the kernel only
/// beyond this size.
const TRIM_THRESHOLD: c_int = 8 << 20;

/// glibc's `M_MMAP_THRESHOLD` parameter of `mallopt`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_MMAP_THRESHOLD: c_int = -3;

/// glibc's `M_TRIM_THRESHOLD` parameter of `mallopt`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_TRIM_THRESHOLD: c_int = -1;

/// mimalloc's `mi_option_purge_delay` (v2: 15).
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    /// From the mimalloc library linked by the `mimalloc` crate.
    fn mi_option_set(option: c_int, value: c_long);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: c_int, value: c_int) -> c_int;
}

/// `prctl`'s `PR_SET_THP_DISABLE` (Linux).
#[cfg(target_os = "linux")]
const PR_SET_THP_DISABLE: c_int = 41;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn prctl(option: c_int, ...) -> c_int;
}

/// Apply the settings described in the module docs; call first in `main`.
pub(crate) fn return_freed_memory() {
    #[cfg(target_os = "linux")]
    {
        let (one, zero): (std::ffi::c_ulong, std::ffi::c_ulong) = (1, 0);
        // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process's
        // memory map (later faults get base pages); on failure nothing
        // changes.
        let _ = unsafe { prctl(PR_SET_THP_DISABLE, one, zero, zero, zero) };
    }
    // SAFETY: both calls only change allocator tuning parameters; they are
    // made before any other thread exists. An unsupported value leaves the
    // default (mallopt returns 0, mimalloc ignores unknown options).
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        let _ = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        let _ = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (MMAP_THRESHOLD, TRIM_THRESHOLD);
}
