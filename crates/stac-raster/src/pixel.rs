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
/// band tagged `PIXELTYPE=SIGNEDBYTE`).
pub(crate) fn data_type_of(gdt: GDALDataType::Type, signed_byte: bool) -> DataType {
    match gdt {
        GDALDataType::GDT_Byte if signed_byte => DataType::Int8,
        GDALDataType::GDT_Byte => DataType::Uint8,
        GDALDataType::GDT_UInt16 => DataType::Uint16,
        GDALDataType::GDT_Int16 => DataType::Int16,
        GDALDataType::GDT_UInt32 => DataType::Uint32,
        GDALDataType::GDT_Int32 => DataType::Int32,
        GDALDataType::GDT_UInt64 => DataType::Uint64,
        GDALDataType::GDT_Int64 => DataType::Int64,
        GDALDataType::GDT_Float32 => DataType::Float32,
        GDALDataType::GDT_Float64 => DataType::Float64,
        GDALDataType::GDT_CInt16 => DataType::Cint16,
        GDALDataType::GDT_CInt32 => DataType::Cint32,
        GDALDataType::GDT_CFloat32 => DataType::Cfloat32,
        GDALDataType::GDT_CFloat64 => DataType::Cfloat64,
        _ => DataType::Other,
    }
}
