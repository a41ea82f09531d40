//! [`MdWriter`]: a file written through GDAL's multidimensional API
//! (dimensions, typed arrays, attributes, slabs written window by window),
//! used by the cube's NetCDF output.
//!
//! The `gdal` crate (0.19) reads multidimensional datasets but cannot
//! create them; this is the small, safe part of the C API
//! (`GDALCreateMultiDimensional`, `GDALGroupCreateDimension`,
//! `GDALGroupCreateMDArray`, `GDALMDArrayWrite`, attributes) that writing
//! needs. Every call runs with a thread-local env scope installed, so GDAL's
//! messages go through the redacting handler; a failure is
//! [`RasterError::Gdal`] with GDAL's message and the file's path.
//!
//! The writer owns raw GDAL handles: it is neither `Send` nor `Sync`, and
//! lives on the thread that created it. [`MdWriter::close`] flushes and
//! closes the file and reports an error GDAL raised while doing so.

use std::ffi::CString;
use std::path::Path;

use gdal_sys::{
    GDALAttributeH, GDALDataType, GDALDatasetH, GDALDimensionH, GDALExtendedDataTypeH, GDALGroupH,
    GDALMDArrayH,
};
use stac_meta::DataType;
use stac_signers::GdalEnv;

use crate::error::{RasterError, Result};
use crate::read::last_gdal_message;
use crate::thread_env::EnvScope;

/// An attribute value: text, an integer (stored as a 64-bit integer), a
/// double, or a list of doubles.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AttrValue {
    /// A string.
    Text(String),
    /// An integer (`NC_INT64` in NetCDF).
    Int(i64),
    /// A double.
    Float(f64),
    /// A list of doubles.
    Floats(Vec<f64>),
}

/// The element type of an array of [`MdWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MdType {
    /// A raster type (`uint8` ... `float64`).
    Raster(DataType),
    /// 64-bit signed integers (CF time values).
    Int64,
    /// Variable-length strings.
    String,
}

/// A dimension created by [`MdWriter::dimension`].
#[derive(Debug)]
pub struct MdDimension {
    handle: GDALDimensionH,
    size: u64,
}

impl Drop for MdDimension {
    fn drop(&mut self) {
        // SAFETY: a handle GDALGroupCreateDimension returned, released once.
        unsafe { gdal_sys::GDALDimensionRelease(self.handle) };
    }
}

impl MdDimension {
    /// Its length.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// An array created by [`MdWriter::array`].
#[derive(Debug)]
pub struct MdArray {
    handle: GDALMDArrayH,
    dims: Vec<u64>,
    name: String,
}

impl Drop for MdArray {
    fn drop(&mut self) {
        // SAFETY: a handle GDALGroupCreateMDArray returned, released once.
        unsafe { gdal_sys::GDALMDArrayRelease(self.handle) };
    }
}

/// An extended data type handle, released on drop.
struct Edt(GDALExtendedDataTypeH);

impl Drop for Edt {
    fn drop(&mut self) {
        // SAFETY: a handle GDALExtendedDataTypeCreate* returned.
        unsafe { gdal_sys::GDALExtendedDataTypeRelease(self.0) };
    }
}

impl Edt {
    fn of(t: MdType) -> Result<Self> {
        // SAFETY: plain constructors; NULL checked below.
        let h = unsafe {
            match t {
                MdType::String => gdal_sys::GDALExtendedDataTypeCreateString(0),
                MdType::Int64 => gdal_sys::GDALExtendedDataTypeCreate(GDALDataType::GDT_Int64),
                MdType::Raster(d) => gdal_sys::GDALExtendedDataTypeCreate(gdal_type(d)?),
            }
        };
        if h.is_null() {
            return Err(RasterError::UnsupportedDataType(format!("{t:?}")));
        }
        Ok(Self(h))
    }
}

/// GDAL's type for a raster type.
fn gdal_type(d: DataType) -> Result<GDALDataType::Type> {
    Ok(match d {
        // GDAL 3.6 has no signed byte type in its multidimensional API
        // (GDT_Int8 is 3.7's); int8 is refused rather than stored unsigned.
        DataType::Uint8 => GDALDataType::GDT_Byte,
        DataType::Uint16 => GDALDataType::GDT_UInt16,
        DataType::Int16 => GDALDataType::GDT_Int16,
        DataType::Uint32 => GDALDataType::GDT_UInt32,
        DataType::Int32 => GDALDataType::GDT_Int32,
        DataType::Float32 => GDALDataType::GDT_Float32,
        DataType::Float64 => GDALDataType::GDT_Float64,
        other => return Err(RasterError::UnsupportedDataType(other.as_str().into())),
    })
}

/// A `KEY=VALUE` list for GDAL, kept alive while the pointer is used.
struct Options {
    _owned: Vec<CString>,
    ptrs: Vec<*mut std::ffi::c_char>,
}

impl Options {
    fn new(options: &[String]) -> Result<Self> {
        let owned = options
            .iter()
            .map(|o| {
                if !o.contains('=') {
                    return Err(RasterError::InvalidArgument(format!(
                        "option '{o}' is not KEY=VALUE"
                    )));
                }
                cstring(o)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut ptrs: Vec<*mut std::ffi::c_char> =
            owned.iter().map(|c| c.as_ptr().cast_mut()).collect();
        ptrs.push(std::ptr::null_mut());
        Ok(Self {
            _owned: owned,
            ptrs,
        })
    }

    fn as_ptr(&self) -> gdal_sys::CSLConstList {
        self.ptrs.as_ptr().cast_mut().cast()
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| RasterError::InvalidArgument(format!("{s:?} holds a NUL byte")))
}

/// A multidimensional file being written (see the module docs).
///
/// ```
/// use stac_raster::multidim::{AttrValue, MdType, MdWriter};
/// use stac_raster::DataType;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.nc");
/// let mut w = MdWriter::create("netCDF", &path, &[])?;
/// let x = w.dimension("x", "HORIZONTAL_X", 3)?;
/// let a = w.array("v", &[&x], MdType::Raster(DataType::Uint16), &[])?;
/// w.array_attribute(&a, "units", &AttrValue::Text("m".into()))?;
/// w.write(&a, &[0], &[3], &[1u16, 2, 3])?;
/// drop((a, x));
/// w.close()?;
/// assert!(path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MdWriter {
    // Field order is drop order: the root group before the dataset, the
    // scope (the redacting handler) last.
    root: GDALGroupH,
    dataset: GDALDatasetH,
    path: String,
    _scope: EnvScope,
}

impl std::fmt::Debug for MdWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MdWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Drop for MdWriter {
    fn drop(&mut self) {
        // SAFETY: handles we own; each released once (close() nulls them).
        unsafe {
            if !self.root.is_null() {
                gdal_sys::GDALGroupRelease(self.root);
            }
            if !self.dataset.is_null() {
                gdal_sys::GDALClose(self.dataset);
            }
        }
    }
}

impl MdWriter {
    /// Create `path` with the multidimensional driver `driver` (`netCDF`,
    /// `Zarr`) and its dataset creation options (`FORMAT=NC4`, ...).
    pub fn create(driver: &str, path: &Path, options: &[String]) -> Result<Self> {
        let scope = EnvScope::install(&GdalEnv::default());
        let shown = path.display().to_string();
        let drv = gdal::DriverManager::get_driver_by_name(driver)
            .map_err(|e| RasterError::gdal("driver", &shown, e))?;
        let name = cstring(&path.to_string_lossy())?;
        let opts = Options::new(options)?;
        // SAFETY: valid driver, NUL-terminated name, NULL-terminated list.
        let dataset = unsafe {
            gdal_sys::GDALCreateMultiDimensional(
                drv.c_driver(),
                name.as_ptr(),
                std::ptr::null_mut(),
                opts.as_ptr(),
            )
        };
        if dataset.is_null() {
            return Err(fail("create", &shown));
        }
        // SAFETY: an open multidimensional dataset.
        let root = unsafe { gdal_sys::GDALDatasetGetRootGroup(dataset) };
        if root.is_null() {
            // SAFETY: the dataset we just created.
            unsafe { gdal_sys::GDALClose(dataset) };
            return Err(fail("open the root group of", &shown));
        }
        Ok(Self {
            root,
            dataset,
            path: shown,
            _scope: scope,
        })
    }

    /// Create a dimension. `kind` is GDAL's dimension type
    /// (`HORIZONTAL_X`, `HORIZONTAL_Y`, `TEMPORAL`, or empty).
    pub fn dimension(&mut self, name: &str, kind: &str, size: u64) -> Result<MdDimension> {
        let (n, k) = (cstring(name)?, cstring(kind)?);
        // SAFETY: valid group and strings; NULL checked.
        let handle = unsafe {
            gdal_sys::GDALGroupCreateDimension(
                self.root,
                n.as_ptr(),
                k.as_ptr(),
                std::ptr::null(),
                size,
                std::ptr::null_mut(),
            )
        };
        if handle.is_null() {
            return Err(fail("create dimension", &self.path));
        }
        Ok(MdDimension { handle, size })
    }

    /// Create an array over `dims` (none: a scalar) with array creation
    /// options (`BLOCKSIZE=1,512,512`, `COMPRESS=DEFLATE`, ...).
    pub fn array(
        &mut self,
        name: &str,
        dims: &[&MdDimension],
        dtype: MdType,
        options: &[String],
    ) -> Result<MdArray> {
        let n = cstring(name)?;
        let edt = Edt::of(dtype)?;
        let opts = Options::new(options)?;
        let mut handles: Vec<GDALDimensionH> = dims.iter().map(|d| d.handle).collect();
        // SAFETY: valid group, dimension handles of this group, type; NULL checked.
        let handle = unsafe {
            gdal_sys::GDALGroupCreateMDArray(
                self.root,
                n.as_ptr(),
                handles.len(),
                handles.as_mut_ptr(),
                edt.0,
                opts.as_ptr(),
            )
        };
        if handle.is_null() {
            return Err(fail("create array", &self.path));
        }
        Ok(MdArray {
            handle,
            dims: dims.iter().map(|d| d.size).collect(),
            name: name.to_owned(),
        })
    }

    /// Set an attribute of the file (a global attribute).
    pub fn attribute(&mut self, name: &str, value: &AttrValue) -> Result<()> {
        let root = self.root;
        self.write_attribute(name, value, |n, count, dims, edt| {
            // SAFETY: valid group, name, dims and type.
            unsafe {
                gdal_sys::GDALGroupCreateAttribute(root, n, count, dims, edt, std::ptr::null_mut())
            }
        })
    }

    /// Set an attribute of `array`.
    pub fn array_attribute(
        &mut self,
        array: &MdArray,
        name: &str,
        value: &AttrValue,
    ) -> Result<()> {
        let h = array.handle;
        self.write_attribute(name, value, |n, count, dims, edt| {
            // SAFETY: valid array, name, dims and type.
            unsafe {
                gdal_sys::GDALMDArrayCreateAttribute(h, n, count, dims, edt, std::ptr::null_mut())
            }
        })
    }

    fn write_attribute(
        &mut self,
        name: &str,
        value: &AttrValue,
        create: impl FnOnce(
            *const std::ffi::c_char,
            usize,
            *const u64,
            GDALExtendedDataTypeH,
        ) -> GDALAttributeH,
    ) -> Result<()> {
        let n = cstring(name)?;
        let (edt, len) = match value {
            AttrValue::Text(_) => (Edt::of(MdType::String)?, 0),
            AttrValue::Int(_) => (Edt::of(MdType::Int64)?, 0),
            AttrValue::Float(_) => (Edt::of(MdType::Raster(DataType::Float64))?, 0),
            AttrValue::Floats(v) => (Edt::of(MdType::Raster(DataType::Float64))?, v.len()),
        };
        let dims = [len as u64];
        let attr = create(n.as_ptr(), usize::from(len > 0), dims.as_ptr(), edt.0);
        if attr.is_null() {
            return Err(fail("create attribute", &self.path));
        }
        // SAFETY: a fresh attribute handle; buffers match its type and size.
        let ok = unsafe {
            let ok = match value {
                AttrValue::Text(s) => {
                    let c = cstring(s)?;
                    gdal_sys::GDALAttributeWriteString(attr, c.as_ptr())
                }
                AttrValue::Int(i) => {
                    gdal_sys::GDALAttributeWriteRaw(attr, (i as *const i64).cast(), 8)
                }
                AttrValue::Float(f) => gdal_sys::GDALAttributeWriteDouble(attr, *f),
                AttrValue::Floats(v) => {
                    gdal_sys::GDALAttributeWriteDoubleArray(attr, v.as_ptr(), v.len())
                }
            };
            gdal_sys::GDALAttributeRelease(attr);
            ok
        };
        if ok == 0 {
            return Err(fail("write attribute", &self.path));
        }
        Ok(())
    }

    /// Set `array`'s nodata value (`_FillValue` in NetCDF and Zarr).
    pub fn set_nodata(&mut self, array: &MdArray, value: f64) -> Result<()> {
        // SAFETY: a valid array handle.
        if unsafe { gdal_sys::GDALMDArraySetNoDataValueAsDouble(array.handle, value) } == 0 {
            return Err(fail("set the fill value of", &self.path));
        }
        Ok(())
    }

    /// Write `data` (row-major, `count` elements along each dimension)
    /// at `start`, converting from `T` to the array's type.
    pub fn write<T: crate::Pixel>(
        &mut self,
        array: &MdArray,
        start: &[u64],
        count: &[usize],
        data: &[T],
    ) -> Result<()> {
        let edt = Edt::of(MdType::Raster(T::DATA_TYPE))?;
        self.write_raw(array, start, count, data.len(), edt, data.as_ptr().cast())
    }

    /// Write 64-bit integers (see [`write`](Self::write)).
    pub fn write_i64(
        &mut self,
        array: &MdArray,
        start: &[u64],
        count: &[usize],
        data: &[i64],
    ) -> Result<()> {
        let edt = Edt::of(MdType::Int64)?;
        self.write_raw(array, start, count, data.len(), edt, data.as_ptr().cast())
    }

    /// Write a whole 1-D string array.
    pub fn write_strings(&mut self, array: &MdArray, values: &[String]) -> Result<()> {
        let owned = values
            .iter()
            .map(|s| cstring(s))
            .collect::<Result<Vec<_>>>()?;
        let ptrs: Vec<*const std::ffi::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let edt = Edt::of(MdType::String)?;
        self.write_raw(
            array,
            &[0],
            &[values.len()],
            ptrs.len(),
            edt,
            ptrs.as_ptr().cast(),
        )
    }

    fn write_raw(
        &mut self,
        array: &MdArray,
        start: &[u64],
        count: &[usize],
        elements: usize,
        edt: Edt,
        buffer: *const std::ffi::c_void,
    ) -> Result<()> {
        let n = array.dims.len();
        let fits = start.len() == n
            && count.len() == n
            && start
                .iter()
                .zip(count)
                .zip(&array.dims)
                .all(|((s, c), d)| s.checked_add(*c as u64).is_some_and(|e| e <= *d));
        let total: usize = count.iter().product();
        if !fits || total != elements {
            return Err(RasterError::InvalidArgument(format!(
                "a write of {count:?} at {start:?} ({elements} values) does not fit array '{}' of shape {:?}",
                array.name, array.dims
            )));
        }
        // A scalar still needs non-NULL index pointers.
        let start: Vec<u64> = if n == 0 { vec![0] } else { start.to_vec() };
        let count: Vec<usize> = if n == 0 { vec![1] } else { count.to_vec() };
        // SAFETY: the buffer holds `elements` = product(count) values of
        // type `edt`, contiguous row-major (NULL strides); indices checked.
        let ok = unsafe {
            gdal_sys::GDALMDArrayWrite(
                array.handle,
                start.as_ptr(),
                count.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                edt.0,
                buffer,
                std::ptr::null(),
                0,
            )
        };
        if ok == 0 {
            return Err(fail("write", &self.path));
        }
        Ok(())
    }

    /// Flush and close the file; an error GDAL reports while closing (a
    /// full disk) is returned. Drop every [`MdArray`] and [`MdDimension`]
    /// first: GDAL keeps the file open while one of them lives, so the
    /// close (and its errors) would happen only when the last is dropped.
    pub fn close(mut self) -> Result<()> {
        // SAFETY: handles we own, released once and nulled for Drop.
        unsafe {
            gdal_sys::GDALGroupRelease(self.root);
            self.root = std::ptr::null_mut();
            gdal_sys::CPLErrorReset();
            gdal_sys::GDALClose(self.dataset);
            self.dataset = std::ptr::null_mut();
            if gdal_sys::CPLGetLastErrorType() >= gdal_sys::CPLErr::CE_Failure {
                return Err(fail("close", &self.path));
            }
        }
        Ok(())
    }
}

fn fail(operation: &'static str, path: &str) -> RasterError {
    let message = crate::redact_message(&last_gdal_message());
    RasterError::Gdal {
        operation,
        path: path.to_owned(),
        message: if message.is_empty() {
            "GDAL gave no reason".into()
        } else {
            message
        },
    }
}
