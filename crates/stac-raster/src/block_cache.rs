//! A bound on GDAL's raster block cache for a scope ([`limit_block_cache`]),
//! and [`release_freed_heap`], which hands the C allocator's freed pages
//! back between the blocks of a windowed write.
//!
//! GDAL keeps decoded blocks in one process-wide cache (`GDAL_CACHEMAX`,
//! 5 % of RAM by default), freed when their dataset closes or the cache is
//! full. A windowed write reads each source block once, through a handle it
//! closes right after, so a large cache buys nothing there; but the blocks
//! it briefly holds, 512 KiB tiles from the C allocator on every decoding
//! thread, leave that allocator's per-thread arenas larger than the data
//! ever live. Measured on the Zarr write benchmark's scenes (2 threads),
//! a 1 MiB cache lowered the peak RSS by ~7 MiB at the same speed.
//!
//! The cache is process-wide, so the bound holds for every GDAL read in the
//! process while a guard lives; the previous size comes back when the
//! last guard is dropped (guards may overlap, from any thread).

use std::sync::Mutex;

/// Live guards and the cache size to restore after the last one.
static STATE: Mutex<(usize, i64)> = Mutex::new((0, 0));

/// Keeps GDAL's block cache at most `bytes` until dropped.
#[derive(Debug)]
#[must_use = "the bound is lifted when the guard is dropped"]
pub struct BlockCacheLimit(());

/// Bound GDAL's block cache to at most `bytes` (never raising it) until
/// the returned guard is dropped.
///
/// ```
/// let before = stac_raster::block_cache_max();
/// {
///     let _small = stac_raster::limit_block_cache(1 << 20);
///     assert_eq!(stac_raster::block_cache_max(), (1 << 20).min(before));
/// }
/// assert_eq!(stac_raster::block_cache_max(), before);
/// ```
pub fn limit_block_cache(bytes: i64) -> BlockCacheLimit {
    let mut st = STATE.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: GDAL's cache size getter and setter take GDAL's own lock.
    let current = unsafe { gdal_sys::GDALGetCacheMax64() };
    if st.0 == 0 {
        st.1 = current;
    }
    st.0 += 1;
    if bytes < current {
        // SAFETY: as above; shrinking flushes unlocked blocks.
        unsafe { gdal_sys::GDALSetCacheMax64(bytes.max(0)) };
    }
    BlockCacheLimit(())
}

/// GDAL's block cache size now, in bytes.
pub fn block_cache_max() -> i64 {
    // SAFETY: a getter under GDAL's own lock.
    unsafe { gdal_sys::GDALGetCacheMax64() }
}

/// The bytes GDAL's block cache holds now (decoded blocks of every open
/// dataset in the process).
///
/// ```
/// assert!(stac_raster::block_cache_used() >= 0);
/// ```
pub fn block_cache_used() -> i64 {
    // SAFETY: a getter under GDAL's own lock.
    unsafe { gdal_sys::GDALGetCacheUsed64() }
}

impl Drop for BlockCacheLimit {
    fn drop(&mut self) {
        let mut st = STATE.lock().unwrap_or_else(|p| p.into_inner());
        st.0 = st.0.saturating_sub(1);
        if st.0 == 0 {
            // SAFETY: as in `limit_block_cache`.
            unsafe { gdal_sys::GDALSetCacheMax64(st.1) };
        }
    }
}

/// Return the pages the C allocator holds free to the kernel (glibc's
/// `malloc_trim(0)`, every arena; nothing on other C libraries).
///
/// GDAL allocates through the C allocator, one arena per thread: the
/// tiles, compressed tile buffers and dataset structures of a block read
/// are freed when its dataset closes, but glibc keeps freed chunks inside
/// an arena resident. A windowed write (stac-cube's Zarr writer) calls this
/// after each block it stores, so a thread does not keep its previous
/// block's GDAL buffers resident while another thread peaks. Measured on
/// the Zarr write benchmark's scenes (issue 19), it took the anonymous
/// memory each further thread adds from 8.4 to 6.4 MiB. Its cost is a
/// walk of the arenas' free lists and the page faults of reusing the
/// returned pages: the benchmark's time moved by less than the shared
/// machine's noise (24.8 s against 24.2 s, load 10–11).
///
/// ```
/// stac_raster::release_freed_heap(); // always safe to call
/// ```
pub fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim is thread-safe (it takes each arena's lock)
        // and only gives free pages of the allocator's own arenas back to
        // the kernel; no live allocation moves.
        let _ = unsafe { malloc_trim(0) };
    }
}
