//! Reading pixels: [`Dataset::read_array`], windows and decimated reads.

use ndarray::Array3;
use stac_meta::DataType;

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};
use crate::pixel::Pixel;
use crate::resampling::Resampling;

/// A pixel window: offsets from the top-left cell and a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First column.
    pub col_off: usize,
    /// First row.
    pub row_off: usize,
    /// Number of columns.
    pub cols: usize,
    /// Number of rows.
    pub rows: usize,
}

impl Window {
    /// A window of `cols` x `rows` cells starting at (`col_off`, `row_off`).
    pub fn new(col_off: usize, row_off: usize, cols: usize, rows: usize) -> Self {
        Self {
            col_off,
            row_off,
            cols,
            rows,
        }
    }
}

/// What [`Dataset::read_with`] reads.
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use stac_raster::{ReadOptions, Resampling, Window};
/// let ds = Dataset::open(path)?;
/// // The last two columns of the first row, read at twice the size.
/// let a = ds.read_with::<u16>(
///     &ReadOptions::default()
///         .with_window(Window::new(1, 0, 2, 1))
///         .with_out_shape(2, 4)
///         .with_resampling(Resampling::Nearest),
/// )?;
/// assert_eq!(a.shape(), &[1, 2, 4]);
/// assert!(a.iter().all(|&v| v == 7));
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// The source window (`None` = the whole raster).
    pub window: Option<Window>,
    /// Output `(rows, cols)` (`None` = the window's size). A smaller output
    /// is read from overviews when the raster has them.
    pub out_shape: Option<(usize, usize)>,
    /// 1-based band indexes (`None` = all bands, in order).
    pub bands: Option<Vec<usize>>,
    /// Resampling when the output size differs from the window.
    pub resampling: Resampling,
}

impl ReadOptions {
    /// Read `window`.
    pub fn with_window(mut self, window: Window) -> Self {
        self.window = Some(window);
        self
    }

    /// Read into `(rows, cols)`.
    pub fn with_out_shape(mut self, rows: usize, cols: usize) -> Self {
        self.out_shape = Some((rows, cols));
        self
    }

    /// Read only these 1-based bands.
    pub fn with_bands(mut self, bands: Vec<usize>) -> Self {
        self.bands = Some(bands);
        self
    }

    /// Resampling for decimated reads.
    pub fn with_resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = resampling;
        self
    }
}

impl Dataset {
    /// All bands as `(bands, rows, cols)`, converted to `T` by GDAL
    /// (values are clamped to `T`'s range). Reads the pixels.
    pub fn read_array<T: Pixel>(&self) -> Result<Array3<T>> {
        self.read_with(&ReadOptions::default())
    }

    /// One window of all bands as `(bands, window.rows, window.cols)`.
    pub fn read_window<T: Pixel>(&self, window: Window) -> Result<Array3<T>> {
        self.read_with(&ReadOptions::default().with_window(window))
    }

    /// The general read: window, output shape (overview-aware decimation),
    /// band selection, resampling. The dataset's env is installed around it.
    pub fn read_with<T: Pixel>(&self, options: &ReadOptions) -> Result<Array3<T>> {
        let (nbands, rows, cols) = self.shape();
        let window = options.window.unwrap_or(Window::new(0, 0, cols, rows));
        check_window(window, rows, cols)?;
        let (out_rows, out_cols) = options.out_shape.unwrap_or((window.rows, window.cols));
        if out_rows == 0 || out_cols == 0 {
            return Err(RasterError::InvalidArgument(format!(
                "output shape ({out_rows}, {out_cols}) is empty"
            )));
        }
        let bands: Vec<usize> = match &options.bands {
            Some(b) => b.clone(),
            None => (1..=nbands).collect(),
        };
        if let Some(bad) = bands.iter().find(|&&b| b == 0 || b > nbands) {
            return Err(RasterError::InvalidArgument(format!(
                "band {bad} out of range 1..={nbands}"
            )));
        }
        let alg = if (out_rows, out_cols) == (window.rows, window.cols) {
            gdal_sys::GDALRIOResampleAlg::GRIORA_NearestNeighbour
        } else {
            options.resampling.to_rasterio()?
        };
        let plane = out_rows * out_cols;
        let mut data: Vec<T> = vec![T::default(); plane * bands.len()];
        let _scope = crate::thread_env::EnvScope::install(&self.env);
        let _call = self.limit_call();
        for (i, &b) in bands.iter().enumerate() {
            let chunk = &mut data[i * plane..(i + 1) * plane];
            let stored = self.data_type_of_band(b);
            if T::DATA_TYPE == DataType::Int8 && stored != DataType::Int8 {
                // GDAL 3.6 has no Int8: go through f64 and saturate.
                let mut wide = vec![0f64; plane];
                self.raster_io(b, window, (out_rows, out_cols), &mut wide, alg)?;
                for (dst, src) in chunk.iter_mut().zip(wide) {
                    *dst = T::from_f64(src);
                }
            } else {
                self.raster_io(b, window, (out_rows, out_cols), chunk, alg)?;
            }
        }
        Array3::from_shape_vec((bands.len(), out_rows, out_cols), data)
            .map_err(|e| RasterError::InvalidArgument(e.to_string()))
    }

    /// Overview levels of band `band` (1-based) as `(rows, cols)`, finest
    /// first. Empty when the band has none.
    pub fn overview_shapes(&self, band: usize) -> Result<Vec<(usize, usize)>> {
        let b = self.band(band)?;
        let n = b.overview_count().unwrap_or(0).max(0) as usize;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            if let Ok(ov) = b.overview(i) {
                let (cols, rows) = ov.size();
                out.push((rows, cols));
            }
        }
        Ok(out)
    }

    /// Read `window` of band `band` (1-based) at full resolution, or of its
    /// overview level `overview` (0 = the first overview; the window is in
    /// that level's pixels), 1:1 into `buf` (`window.rows * window.cols`
    /// elements, row-major), converting to `T` as [`read_array`](Self::read_array)
    /// does. The dataset's env is installed around the read.
    ///
    /// This is the zero-copy path the cube loader uses: the caller owns the
    /// buffer and can reuse it.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use stac_raster::{Dataset, GridSpec, Window};
    /// let ds = Dataset::create_from_array(
    ///     &Array2::<u16>::from_shape_fn((4, 4), |(r, c)| (r * 4 + c) as u16),
    ///     &GridSpec::north_up([0.0, 40.0], 10.0, 32630), None)?;
    /// let mut buf = [0u16; 4];
    /// ds.read_band_into(1, None, Window::new(1, 2, 2, 2), &mut buf)?;
    /// assert_eq!(buf, [9, 10, 13, 14]);
    /// # Ok::<(), stac_raster::RasterError>(())
    /// ```
    pub fn read_band_into<T: Pixel>(
        &self,
        band: usize,
        overview: Option<usize>,
        window: Window,
        buf: &mut [T],
    ) -> Result<()> {
        if buf.len() != window.rows * window.cols {
            return Err(RasterError::InvalidArgument(format!(
                "buffer of {} elements for a {}x{} window",
                buf.len(),
                window.rows,
                window.cols
            )));
        }
        self.read_band_rows_into(band, overview, window, buf, window.cols)
    }

    /// [`read_band_into`](Self::read_band_into) with rows `stride`
    /// elements apart in `buf` (`stride >= window.cols`; `buf` holds at
    /// least `(window.rows - 1) * stride + window.cols` elements): window
    /// row `i` lands at `buf[i * stride..i * stride + window.cols]` and the
    /// elements between rows are left as they are. This reads a window
    /// straight into its place in a larger row-major array (GDAL's line
    /// spacing), with no intermediate buffer.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use stac_raster::{Dataset, GridSpec, Window};
    /// let ds = Dataset::create_from_array(
    ///     &Array2::<u16>::from_shape_fn((4, 4), |(r, c)| (r * 4 + c) as u16),
    ///     &GridSpec::north_up([0.0, 40.0], 10.0, 32630), None)?;
    /// let mut buf = [0u16; 6];
    /// ds.read_band_rows_into(1, None, Window::new(1, 2, 2, 2), &mut buf, 3)?;
    /// assert_eq!(buf, [9, 10, 0, 13, 14, 0]);
    /// # Ok::<(), stac_raster::RasterError>(())
    /// ```
    pub fn read_band_rows_into<T: Pixel>(
        &self,
        band: usize,
        overview: Option<usize>,
        window: Window,
        buf: &mut [T],
        stride: usize,
    ) -> Result<()> {
        self.read_rows(band, overview, window, (buf, stride), false)
    }

    /// [`read_band_rows_into`](Self::read_band_rows_into) for a window this
    /// handle reads once: where it gives the same pixels, each block (a
    /// COG tile) is decoded past GDAL's block cache into a per-thread
    /// buffer and copied into place, with no cached copy of the tile and no
    /// fresh memory per tile. A later read of the same blocks decodes them
    /// again, so a caller that reads a block twice (or a network file GDAL
    /// fetches itself, whose window's tiles `read_band_rows_into` gets in
    /// one request) should use `read_band_rows_into`. Same arguments,
    /// checks and errors. The direct path is taken for a GeoTIFF open
    /// read-only, its band stored in `T`, with one band or bands stored apart
    /// (`INTERLEAVE=BAND`), and blocks of at most
    /// [`MAX_DIRECT_BLOCK_BYTES`](crate::MAX_DIRECT_BLOCK_BYTES); anything
    /// else reads as `read_band_rows_into` does.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use stac_raster::{Dataset, GridSpec, Window};
    /// let ds = Dataset::create_from_array(
    ///     &Array2::<u16>::from_shape_fn((4, 4), |(r, c)| (r * 4 + c) as u16),
    ///     &GridSpec::north_up([0.0, 40.0], 10.0, 32630), None)?;
    /// let mut buf = [0u16; 6];
    /// ds.read_band_rows_once(1, None, Window::new(1, 2, 2, 2), &mut buf, 3)?;
    /// assert_eq!(buf, [9, 10, 0, 13, 14, 0]);
    /// # Ok::<(), stac_raster::RasterError>(())
    /// ```
    pub fn read_band_rows_once<T: Pixel>(
        &self,
        band: usize,
        overview: Option<usize>,
        window: Window,
        buf: &mut [T],
        stride: usize,
    ) -> Result<()> {
        self.read_rows(band, overview, window, (buf, stride), true)
    }

    /// The body of `read_band_rows_into` (`once`: false) and
    /// `read_band_rows_once` (true).
    fn read_rows<T: Pixel>(
        &self,
        band: usize,
        overview: Option<usize>,
        window: Window,
        (buf, stride): (&mut [T], usize),
        once: bool,
    ) -> Result<()> {
        let nbands = self.band_count();
        if band == 0 || band > nbands {
            return Err(RasterError::InvalidArgument(format!(
                "band {band} out of range 1..={nbands}"
            )));
        }
        let needed = window
            .rows
            .saturating_sub(1)
            .saturating_mul(stride)
            .saturating_add(window.cols);
        if stride < window.cols || buf.len() < needed {
            return Err(RasterError::InvalidArgument(format!(
                "buffer of {} elements, rows {stride} apart, for a {}x{} window",
                buf.len(),
                window.rows,
                window.cols
            )));
        }
        let _scope = crate::thread_env::EnvScope::install(&self.env);
        let _call = self.limit_call();
        let b = self.band(band)?;
        let target = match overview {
            None => b,
            Some(i) => b
                .overview(i)
                .map_err(|e| RasterError::gdal("overview", &self.label, e))?,
        };
        let (cols, rows) = target.size();
        check_window(window, rows, cols)?;
        let alg = gdal_sys::GDALRIOResampleAlg::GRIORA_NearestNeighbour;
        let stored = self.data_type_of_band(band);
        let shape = (window.rows, window.cols);
        if T::DATA_TYPE == DataType::Int8 && stored != DataType::Int8 {
            let mut wide = vec![0f64; window.rows * window.cols];
            self.raster_io_band(&target, window, shape, (&mut wide, window.cols), alg)?;
            for (i, src) in wide.chunks_exact(window.cols).enumerate() {
                let dst = &mut buf[i * stride..i * stride + window.cols];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = T::from_f64(*s);
                }
            }
            Ok(())
        } else if once && self.blocks_direct::<T>(&target) {
            self.read_blocks_direct(&target, window, (buf, stride))
        } else {
            self.raster_io_band(&target, window, shape, (buf, stride), alg)
        }
    }

    /// GDALRasterIOEx into `buf` (no env handling: the caller installs it).
    fn raster_io<T: Pixel>(
        &self,
        band: usize,
        window: Window,
        (out_rows, out_cols): (usize, usize),
        buf: &mut [T],
        alg: gdal_sys::GDALRIOResampleAlg::Type,
    ) -> Result<()> {
        let b = self.band(band)?;
        self.raster_io_band(&b, window, (out_rows, out_cols), (buf, out_cols), alg)
    }

    /// GDALRasterIOEx of one band handle into `buf`, its rows `stride`
    /// elements apart (no env handling).
    fn raster_io_band<T: Pixel>(
        &self,
        b: &gdal::raster::RasterBand<'_>,
        window: Window,
        (out_rows, out_cols): (usize, usize),
        (buf, stride): (&mut [T], usize),
        alg: gdal_sys::GDALRIOResampleAlg::Type,
    ) -> Result<()> {
        let needed = out_rows.saturating_sub(1) * stride + out_cols;
        if stride < out_cols || buf.len() < needed {
            return Err(RasterError::InvalidArgument(format!(
                "buffer of {} elements for {out_rows} rows of {out_cols}, {stride} apart",
                buf.len()
            )));
        }
        // Rows `stride` elements apart; 0 is GDAL's default (packed rows).
        let line_space = if stride == out_cols {
            0
        } else {
            (stride * std::mem::size_of::<T>()) as gdal_sys::GSpacing
        };
        let pixel_space = if line_space == 0 {
            0
        } else {
            std::mem::size_of::<T>() as gdal_sys::GSpacing
        };
        // Not a struct literal: the C struct gains fields across GDAL
        // versions (`bUseOnlyThisScale` in 3.12), so a literal compiles
        // against one version's bindings only. Version 1 reads none of them.
        // SAFETY: all zeros is a valid value of this C struct (integers,
        // floats, a `None` callback and a null pointer).
        let mut extra: gdal_sys::GDALRasterIOExtraArg = unsafe { std::mem::zeroed() };
        extra.nVersion = 1;
        extra.eResampleAlg = alg;
        let to_i32 = |v: usize| {
            i32::try_from(v).map_err(|_| RasterError::InvalidArgument(format!("{v} exceeds i32")))
        };
        // SAFETY: `buf` holds (out_rows - 1) * stride + out_cols elements
        // of GDAL type T::GDAL_TYPE (checked above), which is every element
        // GDAL writes with this line spacing; the window was checked
        // against the raster size.
        let rv = unsafe {
            gdal_sys::GDALRasterIOEx(
                b.c_rasterband(),
                gdal_sys::GDALRWFlag::GF_Read,
                to_i32(window.col_off)?,
                to_i32(window.row_off)?,
                to_i32(window.cols)?,
                to_i32(window.rows)?,
                buf.as_mut_ptr().cast(),
                to_i32(out_cols)?,
                to_i32(out_rows)?,
                T::GDAL_TYPE,
                pixel_space,
                line_space,
                &mut extra,
            )
        };
        if rv != gdal_sys::CPLErr::CE_None {
            return Err(self.last_gdal_error("read"));
        }
        Ok(())
    }
}

/// A non-empty `window` inside a `rows` x `cols` raster, else `OutOfBounds`.
fn check_window(window: Window, rows: usize, cols: usize) -> Result<()> {
    if window.cols == 0
        || window.rows == 0
        || window.col_off + window.cols > cols
        || window.row_off + window.rows > rows
    {
        return Err(RasterError::OutOfBounds {
            window: [
                window.col_off as i64,
                window.row_off as i64,
                window.cols as i64,
                window.rows as i64,
            ],
            rows,
            cols,
        });
    }
    Ok(())
}

impl Dataset {
    /// `operation` on this dataset failed in a GDAL call that reports
    /// through CPLError: the error with GDAL's last message on this
    /// thread, redacted, and this dataset's (redacted) path.
    pub(crate) fn last_gdal_error(&self, operation: &'static str) -> RasterError {
        RasterError::Gdal {
            operation,
            path: self.label.clone(),
            message: crate::error::redact_text(&last_gdal_message()),
        }
    }
}

/// GDAL's last error message on this thread.
pub(crate) fn last_gdal_message() -> String {
    // SAFETY: returns a pointer to GDAL's thread-local buffer (never NULL).
    let p = unsafe { gdal_sys::CPLGetLastErrorMsg() };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: NUL-terminated string owned by GDAL, copied at once.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}
