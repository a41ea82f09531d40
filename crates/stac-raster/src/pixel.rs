//! `Pixel`: the Rust element types a raster can be created from and read as.

use gdal_sys::GDALDataType;
use stac_meta::DataType;

mod sealed {
    pub trait Sealed {}
}

/// A raster element type: `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `f32`, `f64`.
///
/// `i8` is stored as GDAL `Byte` with `PIXELTYPE=SIGNEDBYTE` (GDAL 3.6 has
/// no `Int8` type); reading a signed-byte band as `i8` gives the stored
/// values, reading any other band as `i8` saturates.
pub trait Pixel: Copy + Default + PartialOrd + Send + Sync + 'static + sealed::Sealed {
    /// The raster extension's name for this type.
    const DATA_TYPE: DataType;
    /// GDAL's type used for I/O of this element.
    #[doc(hidden)]
    const GDAL_TYPE: GDALDataType::Type;
    /// Lossless (or nearest) conversion to `f64`.
    fn to_f64(self) -> f64;
    /// Saturating conversion from `f64` (NaN gives 0 for integers).
    fn from_f64(v: f64) -> Self;
}

macro_rules! pixel {
    ($t:ty, $dt:ident, $gdt:ident) => {
        impl sealed::Sealed for $t {}
        impl Pixel for $t {
            const DATA_TYPE: DataType = DataType::$dt;
            const GDAL_TYPE: GDALDataType::Type = GDALDataType::$gdt;
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
        }
    };
}

pixel!(u8, Uint8, GDT_Byte);
pixel!(i8, Int8, GDT_Byte);
pixel!(u16, Uint16, GDT_UInt16);
pixel!(i16, Int16, GDT_Int16);
pixel!(u32, Uint32, GDT_UInt32);
pixel!(i32, Int32, GDT_Int32);
pixel!(f32, Float32, GDT_Float32);
pixel!(f64, Float64, GDT_Float64);

/// The raster-extension data type of a GDAL type (`signed_byte` = a `Byte`
/// band tagged `PIXELTYPE=SIGNEDBYTE`), by GDAL's name for it
/// ([`DataType::from_gdal_name`]).
pub(crate) fn data_type_of(gdt: GDALDataType::Type, signed_byte: bool) -> DataType {
    if gdt == GDALDataType::GDT_Byte && signed_byte {
        return DataType::Int8;
    }
    // SAFETY: GDAL returns a static string (or NULL for an unknown type).
    let name = unsafe { gdal_sys::GDALGetDataTypeName(gdt) };
    if name.is_null() {
        return DataType::Other;
    }
    // SAFETY: non-NULL, NUL-terminated, static.
    let name = unsafe { std::ffi::CStr::from_ptr(name) };
    name.to_str()
        .ok()
        .and_then(DataType::from_gdal_name)
        .unwrap_or(DataType::Other)
}

/// GDAL's type for a raster-extension type (`None` when this GDAL has
/// none: `float16`, `other`, and `int8` before GDAL 3.7).
pub(crate) fn gdal_type_of(t: DataType) -> Option<GDALDataType::Type> {
    if t == DataType::Int8 && crate::resampling::gdal_version_num() < 307 {
        return None;
    }
    let name = std::ffi::CString::new(t.gdal_name()?).ok()?;
    // SAFETY: a valid C string; GDAL only reads it.
    let gdt = unsafe { gdal_sys::GDALGetDataTypeByName(name.as_ptr()) };
    (gdt != GDALDataType::GDT_Unknown).then_some(gdt)
}
