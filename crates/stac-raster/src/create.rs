//! [`Dataset::create_from_array`]: an in-memory raster from an ndarray.

use gdal::Metadata;
use ndarray::{ArrayBase, Axis, Data, Dimension, Ix3};
use stac_meta::DataType;
use stac_signers::GdalEnv;

use crate::dataset::Dataset;
use crate::error::{RasterError, Result};
use crate::grid::GridSpec;
use crate::pixel::Pixel;

impl Dataset {
    /// An in-memory (GDAL `MEM`) raster from a 2-D `(rows, cols)` or 3-D
    /// `(bands, rows, cols)` array, placed by `grid` (geotransform + CRS),
    /// with `nodata` declared on every band (`None` = no nodata).
    ///
    /// The pixels are copied. A nodata value the element type cannot hold
    /// (e.g. NaN or -1 for `u16`) is an error, never silently changed.
    ///
    /// ```
    /// use ndarray::Array3;
    /// use stac_raster::{Dataset, GridSpec, Crs};
    /// let arr = Array3::<f32>::zeros((2, 3, 5));
    /// let grid = GridSpec::from_geotransform([10.0, 0.5, 0.0, 20.0, 0.0, -0.5], Some(Crs::Epsg(4326)));
    /// let ds = Dataset::create_from_array(&arr, &grid, Some(f64::NAN))?;
    /// assert_eq!(ds.shape(), (2, 3, 5));
    /// assert_eq!(ds.bounds(), Some([10.0, 18.5, 12.5, 20.0]));
    /// assert!(ds.nodata()[1].unwrap().is_nan());
    /// assert!(Dataset::create_from_array(&ndarray::Array2::<u16>::zeros((2, 2)), &grid, Some(-1.0)).is_err());
    /// # Ok::<(), stac_raster::RasterError>(())
    /// ```
    pub fn create_from_array<T, S, D>(
        array: &ArrayBase<S, D>,
        grid: &GridSpec,
        nodata: Option<f64>,
    ) -> Result<Self>
    where
        T: Pixel,
        S: Data<Elem = T>,
        D: Dimension,
    {
        let view = array.view().into_dyn();
        let view3 = match view.ndim() {
            2 => view.insert_axis(Axis(0)),
            3 => view,
            n => {
                return Err(RasterError::InvalidArgument(format!(
                    "create_from_array needs a 2-D or 3-D array, got {n}-D"
                )));
            }
        }
        .into_dimensionality::<Ix3>()
        .map_err(|e| RasterError::InvalidArgument(e.to_string()))?;
        let (bands, rows, cols) = view3.dim();
        if bands == 0 || rows == 0 || cols == 0 {
            return Err(RasterError::InvalidArgument(format!(
                "create_from_array needs a non-empty array, got shape ({bands}, {rows}, {cols})"
            )));
        }
        if let Some(v) = nodata {
            check_nodata(T::DATA_TYPE, v)?;
        }
        let driver = gdal::DriverManager::get_driver_by_name("MEM")
            .map_err(|e| RasterError::gdal("MEM driver", "<memory>", e))?;
        let path = "<memory>";
        // SAFETY: arguments are valid; GDALCreate returns NULL on failure.
        let handle = unsafe {
            gdal_sys::GDALCreate(
                driver.c_driver(),
                c"".as_ptr(),
                cols as i32,
                rows as i32,
                bands as i32,
                T::GDAL_TYPE,
                std::ptr::null_mut(),
            )
        };
        if handle.is_null() {
            return Err(RasterError::InvalidArgument(format!(
                "GDAL could not create a {bands}x{rows}x{cols} {} raster",
                T::DATA_TYPE.as_str()
            )));
        }
        // SAFETY: a fresh, open dataset handle that we now own.
        let mut inner = unsafe { gdal::Dataset::from_c_dataset(handle) };
        inner
            .set_geo_transform(&grid.geotransform)
            .map_err(|e| RasterError::gdal("set geotransform", path, e))?;
        if let Some(crs) = &grid.crs {
            let srs = crs.to_spatial_ref()?;
            inner
                .set_spatial_ref(&srs)
                .map_err(|e| RasterError::gdal("set CRS", path, e))?;
        }
        for (b, plane) in view3.outer_iter().enumerate() {
            let mut data: Vec<T> = plane.iter().copied().collect();
            let mut band = inner
                .rasterband(b + 1)
                .map_err(|e| RasterError::gdal("band", path, e))?;
            // SAFETY: `data` holds rows*cols elements of GDAL type T::GDAL_TYPE.
            let rv = unsafe {
                gdal_sys::GDALRasterIO(
                    band.c_rasterband(),
                    gdal_sys::GDALRWFlag::GF_Write,
                    0,
                    0,
                    cols as i32,
                    rows as i32,
                    data.as_mut_ptr().cast(),
                    cols as i32,
                    rows as i32,
                    T::GDAL_TYPE,
                    0,
                    0,
                )
            };
            if rv != gdal_sys::CPLErr::CE_None {
                return Err(RasterError::InvalidArgument(format!(
                    "GDAL could not write band {}",
                    b + 1
                )));
            }
            if T::DATA_TYPE == DataType::Int8 {
                band.set_metadata_item("PIXELTYPE", "SIGNEDBYTE", "IMAGE_STRUCTURE")
                    .map_err(|e| RasterError::gdal("tag signed byte", path, e))?;
            }
            band.set_no_data_value(nodata)
                .map_err(|e| RasterError::gdal("set nodata", path, e))?;
        }
        Ok(Self {
            inner,
            env: GdalEnv::new(),
            label: path.to_owned(),
            keep_alive: Vec::new(),
            limit: None,
        })
    }
}

/// Reject a nodata value the data type cannot hold exactly
/// ([`DataType::holds`]; `other` types are not judged).
pub(crate) fn check_nodata(dt: DataType, v: f64) -> Result<()> {
    if dt == DataType::Other || dt.holds(v) {
        return Ok(());
    }
    Err(RasterError::InvalidArgument(format!(
        "nodata {v} cannot be stored in a {} band",
        dt.as_str()
    )))
}
