//! GeoTIFF blocks compressed with DEFLATE, inflated by the libdeflate 1.26
//! this crate vendors (`vendor/libdeflate`, built by `build.rs` under
//! renamed, hidden symbols) instead of the one the system's libtiff links:
//! the block-by-block path of [`Dataset::read_band_rows_once`] uses it
//! where it can.
//!
//! Why: inflating is most of a cube load's CPU time (~60 % on the cube
//! benchmark's DEFLATE COGs), and libdeflate's inflate got faster after
//! 1.14, the version Debian 12's libtiff uses: on the benchmark's 864 tiles
//! of 512² uint16 (one thread), 1.14 inflates ~410 MB/s and 1.26 ~465 MB/s.
//! The Python peers' wheels (rasterio's GDAL) ship a recent libdeflate.
//!
//! What it does per block: the block's offset and size come from GDAL
//! (`BLOCK_OFFSET_x_y` / `BLOCK_SIZE_x_y`, the driver's own view of the
//! file), its bytes are read through GDAL's VSI from the same file, inflated
//! into the caller's block buffer, and horizontal differencing
//! (`PREDICTOR=2`) is undone on the rows the window needs. That is what
//! libtiff does for such a block.
//!
//! Invariants:
//! - Anything this does not decode exactly as libtiff would goes back to
//!   the caller, which reads the block with `GDALReadBlock`: a block GDAL
//!   knows no bytes of (sparse), a stream that is corrupt or does not
//!   inflate to exactly one whole block (so GDAL's own error, or its own
//!   handling of a short last strip, applies), a size beyond
//!   [`max_compressed`], a short read.
//! - Taken only for a little-endian (`II`) GeoTIFF band whose blocks are
//!   plain `DEFLATE`, with no predictor or `PREDICTOR=2`, whole bytes per
//!   sample (no `NBITS`), on a little-endian machine; and only when the
//!   band's blocks live in the file the dataset was opened from (not an
//!   external `.ovr`) and that file is local, in memory (`/vsimem/`) or
//!   staged by this crate (`/vsistac/`). A network path is never opened a
//!   second time here: its bytes come only through GDAL's own handle.
//! - Every size is bounded before a read: at most one block's bytes plus
//!   DEFLATE's worst-case overhead, into one reused buffer per thread
//!   (beside `block_read`'s block buffer: at most ~8.5 MiB per reading
//!   thread, kept for the thread's life).

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_void};

use gdal::Metadata;
use gdal::raster::RasterBand;

use crate::dataset::tiff_block_location;

/// What [`DeflateBlocks::decode`] did with a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// The block's bytes are in the buffer.
    Done,
    /// Not decoded here: read it with `GDALReadBlock`.
    Fallback,
}

/// The DEFLATE blocks of one band of one open GeoTIFF (one read call).
pub(crate) struct DeflateBlocks {
    file: VsiFile,
    /// Horizontal differencing (`PREDICTOR=2`) to undo.
    predictor: bool,
    /// Bytes per sample (1, 2, 4 or 8).
    sample: usize,
    /// Bytes per block row.
    row_bytes: usize,
}

thread_local! {
    /// This thread's inflater and compressed-bytes buffer.
    static INFLATE: RefCell<(Option<Inflater>, Vec<u8>)> =
        const { RefCell::new((None, Vec::new())) };
    /// How many blocks this thread inflated here.
    static INFLATED: Cell<u64> = const { Cell::new(0) };
}

/// How many GeoTIFF blocks the calling thread has inflated with the
/// libdeflate this crate bundles (a diagnostic: [`Dataset::read_band_rows_once`]
/// counts each DEFLATE block it decodes past libtiff; blocks read through
/// GDAL are not counted).
///
/// [`Dataset::read_band_rows_once`]: crate::Dataset::read_band_rows_once
///
/// ```
/// let before = stac_raster::deflate_blocks_inflated();
/// // ... reads on this thread ...
/// assert!(stac_raster::deflate_blocks_inflated() >= before);
/// ```
pub fn deflate_blocks_inflated() -> u64 {
    INFLATED.with(Cell::get)
}

/// The most compressed bytes read for a block of `raw` bytes: the raw
/// bytes in stored DEFLATE blocks (5 bytes per 65 535), the zlib header
/// and checksum, and some slack. A larger declared size goes to GDAL.
pub(crate) fn max_compressed(raw: usize) -> usize {
    raw + raw / 8192 + 1024
}

impl DeflateBlocks {
    /// The decoder for `band` (the level being read, whose pixels are
    /// `sample` bytes) of `ds`, or `None` where it does not apply (see the
    /// module documentation).
    pub(crate) fn for_band(
        ds: &gdal::Dataset,
        band: &RasterBand<'_>,
        sample: usize,
    ) -> Option<Self> {
        if !cfg!(target_endian = "little") || ![1, 2, 4, 8].contains(&sample) {
            return None;
        }
        // The dataset the band belongs to: the main one, or the overview's
        // (an internal overview is its own IFD of the same file).
        // SAFETY: a valid band handle; the returned dataset handle is owned
        // by GDAL and lives as long as the band's dataset.
        let owner = unsafe { gdal_sys::GDALGetBandDataset(band.c_rasterband()) };
        if owner.is_null() {
            return None;
        }
        let item = |name: &CStr| -> Option<String> {
            // SAFETY: a valid dataset handle and NUL-terminated strings;
            // the result is owned by GDAL and copied at once.
            let p = unsafe {
                gdal_sys::GDALGetMetadataItem(owner, name.as_ptr(), c"IMAGE_STRUCTURE".as_ptr())
            };
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        };
        if !item(c"COMPRESSION").is_some_and(|c| c.eq_ignore_ascii_case("DEFLATE")) {
            return None;
        }
        let predictor = match item(c"PREDICTOR").as_deref() {
            None | Some("1") => false,
            Some("2") => true,
            Some(_) => return None,
        };
        if band.metadata_item("NBITS", "IMAGE_STRUCTURE").is_some() {
            return None;
        }
        // SAFETY: valid dataset handles; descriptions are NUL-terminated
        // strings owned by GDAL, copied at once.
        let (path, main) = unsafe {
            (
                CStr::from_ptr(gdal_sys::GDALGetDescription(owner)).to_owned(),
                CStr::from_ptr(gdal_sys::GDALGetDescription(ds.c_dataset())).to_owned(),
            )
        };
        // An internal overview's dataset has no description of its own; an
        // external one (`.ovr`) is another file, whose offsets these are not.
        if !(path.is_empty() || path == main) || !local_or_staged(&main) {
            return None;
        }
        let file = VsiFile::open(&main)?;
        let mut magic = [0u8; 4];
        if file.read_at(0, &mut magic) != Some(4) || !(magic == *b"II*\0" || magic == *b"II+\0") {
            return None;
        }
        Some(Self {
            file,
            predictor,
            sample,
            row_bytes: band.block_size().0 * sample,
        })
    }

    /// Decode block `(bx, by)` of `band` into `out` (exactly one block's
    /// bytes), undoing the predictor on block rows `rows` (the ones the
    /// caller copies out).
    pub(crate) fn decode(
        &self,
        band: &RasterBand<'_>,
        (bx, by): (usize, usize),
        out: &mut [u8],
        rows: std::ops::Range<usize>,
    ) -> Decoded {
        let Some((offset, size)) = tiff_block_location(band, bx, by) else {
            return Decoded::Fallback;
        };
        let Ok(size) = usize::try_from(size) else {
            return Decoded::Fallback;
        };
        if offset == 0 || size == 0 || size > max_compressed(out.len()) {
            return Decoded::Fallback;
        }
        let inflated = INFLATE.with(|cell| {
            let (inflater, bytes) = &mut *cell.borrow_mut();
            if inflater.is_none() {
                *inflater = Inflater::new();
            }
            let Some(inflater) = inflater else {
                return false;
            };
            if bytes.len() < size {
                bytes.resize(size, 0);
            }
            if self.file.read_at(offset, &mut bytes[..size]) != Some(size) {
                return false;
            }
            inflater.zlib_exact(&bytes[..size], out)
        });
        if !inflated {
            return Decoded::Fallback;
        }
        INFLATED.with(|n| n.set(n.get() + 1));
        if self.predictor {
            let row = self.row_bytes;
            for r in rows {
                undo_differencing(&mut out[r * row..(r + 1) * row], self.sample);
            }
        }
        Decoded::Done
    }
}

/// Whether `path` names a file read without the network: a plain local
/// path, GDAL's in-memory files, or this crate's staged files. An allow-list
/// (no other `/vsi` file system, local or not), and never what
/// [`stac_meta::is_remote`] calls remote.
fn local_or_staged(path: &CStr) -> bool {
    let p = path.to_bytes();
    (!p.starts_with(b"/vsi") || p.starts_with(b"/vsimem/") || p.starts_with(b"/vsistac/"))
        && !stac_meta::is_remote(&path.to_string_lossy())
}

/// Undo TIFF horizontal differencing on one row of `sample`-byte samples
/// (one sample per pixel): each sample is the wrapping sum of itself and
/// the one before it, in the sample's integer width, as libtiff does.
fn undo_differencing(row: &mut [u8], sample: usize) {
    macro_rules! acc {
        ($t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            let mut prev: $t = 0;
            for c in row.chunks_exact_mut(N) {
                let v = <$t>::from_le_bytes(c.try_into().expect("N bytes")).wrapping_add(prev);
                c.copy_from_slice(&v.to_le_bytes());
                prev = v;
            }
        }};
    }
    match sample {
        1 => acc!(u8),
        2 => acc!(u16),
        4 => acc!(u32),
        _ => acc!(u64),
    }
}

/// A libdeflate decompressor of the vendored copy, freed on drop.
struct Inflater(*mut c_void);

unsafe extern "C" {
    fn stac_raster_libdeflate_alloc_decompressor() -> *mut c_void;
    fn stac_raster_libdeflate_free_decompressor(d: *mut c_void);
    fn stac_raster_libdeflate_zlib_decompress(
        d: *mut c_void,
        input: *const c_void,
        in_nbytes: usize,
        out: *mut c_void,
        out_nbytes_avail: usize,
        actual_out_nbytes_ret: *mut usize,
    ) -> std::ffi::c_int;
}

impl Inflater {
    /// `None` if libdeflate cannot allocate its state (out of memory).
    fn new() -> Option<Self> {
        // SAFETY: no arguments; a null result is checked.
        let d = unsafe { stac_raster_libdeflate_alloc_decompressor() };
        (!d.is_null()).then_some(Self(d))
    }

    /// Inflate the zlib stream `input` into `out`: true only if it is
    /// valid (checksum included) and fills `out` exactly.
    fn zlib_exact(&mut self, input: &[u8], out: &mut [u8]) -> bool {
        let mut n = 0usize;
        // SAFETY: a live decompressor of ours, used by one thread at a
        // time (`&mut self`); `input` is readable and `out` writable for
        // their lengths, which libdeflate never exceeds; `n` is writable.
        let rc = unsafe {
            stac_raster_libdeflate_zlib_decompress(
                self.0,
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut n,
            )
        };
        // LIBDEFLATE_SUCCESS; a short stream is success with n < len.
        rc == 0 && n == out.len()
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by `new`, freed once.
        unsafe { stac_raster_libdeflate_free_decompressor(self.0) }
    }
}

/// A file open through GDAL's VSI for reading, closed on drop.
struct VsiFile(*mut gdal_sys::VSILFILE);

impl VsiFile {
    fn open(path: &CStr) -> Option<Self> {
        let path = CString::from(path);
        // SAFETY: NUL-terminated strings; a null result is checked.
        let fp = unsafe { gdal_sys::VSIFOpenL(path.as_ptr(), c"rb".as_ptr()) };
        (!fp.is_null()).then_some(Self(fp))
    }

    /// Read `buf.len()` bytes at `offset`; the count read, or `None` if the
    /// seek fails.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Option<usize> {
        // SAFETY: an open handle of ours; `buf` is writable for its length.
        unsafe {
            if gdal_sys::VSIFSeekL(self.0, offset, libc::SEEK_SET) != 0 {
                return None;
            }
            Some(gdal_sys::VSIFReadL(
                buf.as_mut_ptr().cast::<c_void>(),
                1,
                buf.len(),
                self.0,
            ))
        }
    }
}

impl Drop for VsiFile {
    fn drop(&mut self) {
        // SAFETY: opened by `open`, closed once.
        unsafe {
            gdal_sys::VSIFCloseL(self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differencing_is_undone_in_the_sample_width_with_wrap() {
        // 16-bit: 1000, +5, -3 (as 65533), +65535 wraps.
        let mut row: Vec<u8> = [1000u16, 5, 65533, 65535]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        undo_differencing(&mut row, 2);
        let got: Vec<u16> = row
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(got, [1000, 1005, 1002, 1001]);
        let mut bytes = vec![250u8, 10, 1];
        undo_differencing(&mut bytes, 1);
        assert_eq!(bytes, [250, 4, 5]);
        let mut words: Vec<u8> = [u32::MAX, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
        undo_differencing(&mut words, 4);
        assert_eq!(&words[4..], &1u32.to_le_bytes());
    }

    #[test]
    fn only_local_and_staged_paths_are_opened_again() {
        assert!(local_or_staged(c"/data/a.tif"));
        assert!(local_or_staged(c"relative/a.tif"));
        assert!(local_or_staged(c"/vsimem/a.tif"));
        assert!(local_or_staged(c"/vsistac/3"));
        for p in [
            c"/vsicurl/http://127.0.0.1/a.tif",
            c"/vsis3/b/a.tif",
            c"/vsizip//vsicurl/x",
        ] {
            assert!(!local_or_staged(p), "{p:?}");
        }
    }

    #[test]
    fn the_compressed_bound_covers_stored_deflate() {
        // A 512² uint16 tile stored uncompressed: 9 stored blocks of 5
        // bytes' overhead each, plus zlib's 6.
        let raw = 512 * 512 * 2;
        assert!(max_compressed(raw) >= raw + raw.div_ceil(65535) * 5 + 6);
        assert!(max_compressed(raw) < raw + raw / 100);
    }
}
