//! A bound on GDAL's raster block cache for a scope ([`limit_block_cache`]).
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
