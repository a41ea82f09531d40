//! [`Dataset::warp_to`]: reproject / resample onto a target grid with
//! GDAL's warper (`GDALWarp`, the library form of `gdalwarp`).

use std::ffi::CString;

use gdal::Metadata;
use stac_meta::DataType;

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};
use crate::grid::TargetGrid;
use crate::read::last_gdal_message;
use crate::resampling::Resampling;

/// Options of [`Dataset::warp_to_with`].
///
/// ```
/// use ndarray::Array2;
/// use stac_raster::{Dataset, GridSpec};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.tif");
/// Dataset::create_from_array(&Array2::<u16>::from_elem((2, 3), 7),
///     &GridSpec::north_up([500_000.0, 4_000_020.0], 10.0, 32632), Some(0.0))?.to_file(&path)?;
/// let path = path.to_str().unwrap();
/// use stac_raster::{Crs, Resampling, TargetGrid, WarpOptions};
/// let ds = Dataset::open(path)?;
/// // Onto a 20 m grid over the same area, averaging, as float64.
/// let grid = TargetGrid::new(Crs::parse("EPSG:32632")?,
///     [500_000.0, 20.0, 0.0, 4_000_020.0, 0.0, -20.0], 1, 2);
/// let options = WarpOptions::default()
///     .with_resampling(Resampling::Average)
///     .with_output_type(stac_raster::DataType::Float64);
/// let warped = ds.warp_to_with(&grid, &options)?;
/// assert_eq!((warped.rows(), warped.cols()), (1, 2));
/// assert_eq!(warped.read_array::<f64>()?[[0, 0, 0]], 7.0);
/// # Ok::<(), stac_raster::RasterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WarpOptions {
    /// The resampling method.
    pub resampling: Resampling,
    /// Nodata of the output (`None` = the source's nodata of each band).
    /// Cells no source pixel reaches are set to it. Without any nodata,
    /// those cells are 0 and no nodata is declared.
    pub nodata: Option<f64>,
    /// Read from overviews when the target is coarser (GDAL's
    /// `-ovr AUTO`; default true).
    pub use_overviews: bool,
    /// Warp memory limit in MB (`None` = GDAL's default).
    pub memory_mb: Option<u32>,
    /// Data type of the output (`None` = the source's band-1 type). A float
    /// type keeps fractional results of averaging resamplers.
    pub output_type: Option<DataType>,
}

impl Default for WarpOptions {
    fn default() -> Self {
        Self {
            resampling: Resampling::Nearest,
            nodata: None,
            use_overviews: true,
            memory_mb: None,
            output_type: None,
        }
    }
}

impl WarpOptions {
    /// Set the resampling.
    pub fn with_resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = resampling;
        self
    }

    /// Set the output nodata.
    pub fn with_nodata(mut self, nodata: f64) -> Self {
        self.nodata = Some(nodata);
        self
    }

    /// Set the output data type (uint8..int32, float32, float64).
    pub fn with_output_type(mut self, data_type: DataType) -> Self {
        self.output_type = Some(data_type);
        self
    }

    /// Read full resolution even when the target is coarser.
    pub fn without_overviews(mut self) -> Self {
        self.use_overviews = false;
        self
    }
}

impl Dataset {
    /// Reproject / resample onto `grid` (CRS, geotransform, shape) into a
    /// new in-memory dataset, reading overviews when the target is coarser.
    /// The source's env is installed around the warp.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use stac_raster::{Crs, Dataset, GridSpec, Resampling, TargetGrid};
    /// let src = Dataset::create_from_array(
    ///     &Array2::<f32>::from_shape_fn((4, 4), |(r, c)| (r * 4 + c) as f32),
    ///     &GridSpec::north_up([0.0, 40.0], 10.0, 32630), None)?;
    /// let coarse = TargetGrid::new(Crs::Epsg(32630), [0.0, 20.0, 0.0, 40.0, 0.0, -20.0], 2, 2);
    /// let out = src.warp_to(&coarse, Resampling::Average)?;
    /// assert_eq!(out.read_array::<f32>()?.as_slice().unwrap(), &[2.5, 4.5, 10.5, 12.5]);
    /// # Ok::<(), stac_raster::RasterError>(())
    /// ```
    pub fn warp_to(&self, grid: &TargetGrid, resampling: Resampling) -> Result<Dataset> {
        self.warp_to_with(grid, &WarpOptions::default().with_resampling(resampling))
    }

    /// [`warp_to`](Self::warp_to) with options.
    pub fn warp_to_with(&self, grid: &TargetGrid, options: &WarpOptions) -> Result<Dataset> {
        let method = options.resampling.warp_name()?;
        if grid.rows == 0 || grid.cols == 0 {
            return Err(RasterError::InvalidArgument(format!(
                "target grid of {} rows x {} cols is empty",
                grid.rows, grid.cols
            )));
        }
        if self.crs().is_none() {
            return Err(RasterError::MissingGeoreference {
                path: self.label.clone(),
                what: "CRS",
            });
        }
        if self.geotransform().is_none() {
            return Err(RasterError::MissingGeoreference {
                path: self.label.clone(),
                what: "geotransform",
            });
        }
        let nbands = self.band_count();
        let band1 = self.band(1)?;
        let gdt = match options.output_type {
            None => band1.band_type() as gdal_sys::GDALDataType::Type,
            Some(t) => crate::pixel::gdal_type_of(t).ok_or_else(|| {
                RasterError::InvalidArgument(format!(
                    "warp output type {} is not supported",
                    t.as_str()
                ))
            })?,
        };
        let src_nodata = self.nodata();
        let dst_nodata: Vec<Option<f64>> = match options.nodata {
            Some(v) => vec![Some(v); nbands],
            None => src_nodata.clone(),
        };
        let dst = self.warp_target(grid, gdt, &dst_nodata)?;
        let args = warp_args(method, options, &src_nodata, &dst_nodata);
        let c_args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| RasterError::InvalidArgument(e.to_string()))?;
        let mut argv: Vec<*mut std::ffi::c_char> =
            c_args.iter().map(|a| a.as_ptr().cast_mut()).collect();
        argv.push(std::ptr::null_mut());

        let _scope = crate::thread_env::EnvScope::install(&self.env);
        let _call = self.limit_call();
        // SAFETY: argv is a NULL-terminated list of valid C strings that
        // outlive the call; GDAL copies them.
        let wopts =
            unsafe { gdal_sys::GDALWarpAppOptionsNew(argv.as_mut_ptr(), std::ptr::null_mut()) };
        if wopts.is_null() {
            return Err(RasterError::InvalidArgument(format!(
                "GDAL rejected warp options: {}",
                last_gdal_message()
            )));
        }
        let mut srcs = [self.inner.c_dataset()];
        let mut usage_error = 0;
        // SAFETY: valid source and destination handles; on success GDALWarp
        // returns the destination handle (owned by `dst`), not a new one.
        let out = unsafe {
            let out = gdal_sys::GDALWarp(
                std::ptr::null(),
                dst.c_dataset(),
                1,
                srcs.as_mut_ptr(),
                wopts,
                &mut usage_error,
            );
            gdal_sys::GDALWarpAppOptionsFree(wopts);
            out
        };
        if out.is_null() {
            return Err(self.last_gdal_error("warp"));
        }
        Ok(Dataset {
            inner: dst,
            env: self.env.clone(),
            label: format!("<warped {}>", self.label),
            keep_alive: Vec::new(),
            limit: self.limit.clone(),
        })
    }

    /// The in-memory warp target: `grid`, this dataset's band count, names
    /// and signedness, type `gdt` and nodata `dst_nodata` per band.
    fn warp_target(
        &self,
        grid: &TargetGrid,
        gdt: gdal_sys::GDALDataType::Type,
        dst_nodata: &[Option<f64>],
    ) -> Result<gdal::Dataset> {
        let nbands = self.band_count();
        let srs = grid.crs.to_spatial_ref()?;
        let driver = gdal::DriverManager::get_driver_by_name("MEM")
            .map_err(|e| RasterError::gdal("MEM driver", "<memory>", e))?;
        // SAFETY: valid driver; GDALCreate returns NULL on failure.
        let handle = unsafe {
            gdal_sys::GDALCreate(
                driver.c_driver(),
                c"".as_ptr(),
                i32::try_from(grid.cols).unwrap_or(i32::MAX),
                i32::try_from(grid.rows).unwrap_or(i32::MAX),
                nbands as i32,
                gdt,
                std::ptr::null_mut(),
            )
        };
        if handle.is_null() {
            return Err(RasterError::InvalidArgument(format!(
                "GDAL could not allocate a {nbands}x{}x{} warp target",
                grid.rows, grid.cols
            )));
        }
        // SAFETY: fresh dataset handle we own.
        let mut dst = unsafe { gdal::Dataset::from_c_dataset(handle) };
        dst.set_geo_transform(&grid.geotransform)
            .map_err(|e| RasterError::gdal("set geotransform", "<memory>", e))?;
        dst.set_spatial_ref(&srs)
            .map_err(|e| RasterError::gdal("set CRS", "<memory>", e))?;
        let names = self.band_names();
        let signed = self.data_type() == DataType::Int8;
        for (i, nd) in dst_nodata.iter().enumerate() {
            let mut band = dst
                .rasterband(i + 1)
                .map_err(|e| RasterError::gdal("band", "<memory>", e))?;
            band.set_no_data_value(*nd)
                .map_err(|e| RasterError::gdal("set nodata", "<memory>", e))?;
            band.set_description(&names[i])
                .map_err(|e| RasterError::gdal("set band name", "<memory>", e))?;
            if signed {
                band.set_metadata_item("PIXELTYPE", "SIGNEDBYTE", "IMAGE_STRUCTURE")
                    .map_err(|e| RasterError::gdal("tag signed byte", "<memory>", e))?;
            }
        }
        Ok(dst)
    }
}

/// gdalwarp's arguments for one warp (`-r`, `-ovr`, nodata, `INIT_DEST`,
/// `-wm`, `-q`).
fn warp_args(
    method: &str,
    options: &WarpOptions,
    src_nodata: &[Option<f64>],
    dst_nodata: &[Option<f64>],
) -> Vec<String> {
    let mut args: Vec<String> = vec!["-r".into(), method.into()];
    args.extend([
        "-ovr".into(),
        if options.use_overviews {
            "AUTO"
        } else {
            "NONE"
        }
        .into(),
    ]);
    let join = |v: &[Option<f64>]| {
        v.iter()
            .map(|n| n.map_or("None".to_string(), fmt_nodata))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if src_nodata.iter().any(Option::is_some) {
        args.extend(["-srcnodata".into(), join(src_nodata)]);
    }
    if dst_nodata.iter().any(Option::is_some) {
        args.extend(["-dstnodata".into(), join(dst_nodata)]);
        args.extend(["-wo".into(), "INIT_DEST=NO_DATA".into()]);
    } else {
        args.extend(["-wo".into(), "INIT_DEST=0".into()]);
    }
    if let Some(mb) = options.memory_mb {
        args.extend(["-wm".into(), mb.to_string()]);
    }
    args.push("-q".into());
    args
}

/// A nodata value as gdalwarp parses it.
fn fmt_nodata(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v == f64::INFINITY {
        "inf".into()
    } else if v == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{v:?}")
    }
}
