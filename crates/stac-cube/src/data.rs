//! [`CubeData`]: the cube's pixels, in the cube's data type.

use ndarray::{Array4, ArrayView4};
use stac_meta::DataType;
use stac_raster::Pixel;

/// The pixels of a cube as `(time, band, y, x)`, in the cube's type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum CubeData {
    U8(Array4<u8>),
    I8(Array4<i8>),
    U16(Array4<u16>),
    I16(Array4<i16>),
    U32(Array4<u32>),
    I32(Array4<i32>),
    F32(Array4<f32>),
    F64(Array4<f64>),
}

/// Run `$body` with `$a` bound to the typed array of `$data`.
macro_rules! with_data {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            $crate::data::CubeData::U8($a) => $body,
            $crate::data::CubeData::I8($a) => $body,
            $crate::data::CubeData::U16($a) => $body,
            $crate::data::CubeData::I16($a) => $body,
            $crate::data::CubeData::U32($a) => $body,
            $crate::data::CubeData::I32($a) => $body,
            $crate::data::CubeData::F32($a) => $body,
            $crate::data::CubeData::F64($a) => $body,
        }
    };
}
pub(crate) use with_data;

/// Call a generic function with the Rust type of a cube data type.
macro_rules! dispatch_type {
    ($dt:expr, $t:ident => $body:expr) => {
        match $dt {
            stac_meta::DataType::Uint8 => {
                type $t = u8;
                $crate::data::CubeData::U8($body)
            }
            stac_meta::DataType::Int8 => {
                type $t = i8;
                $crate::data::CubeData::I8($body)
            }
            stac_meta::DataType::Uint16 => {
                type $t = u16;
                $crate::data::CubeData::U16($body)
            }
            stac_meta::DataType::Int16 => {
                type $t = i16;
                $crate::data::CubeData::I16($body)
            }
            stac_meta::DataType::Uint32 => {
                type $t = u32;
                $crate::data::CubeData::U32($body)
            }
            stac_meta::DataType::Int32 => {
                type $t = i32;
                $crate::data::CubeData::I32($body)
            }
            stac_meta::DataType::Float32 => {
                type $t = f32;
                $crate::data::CubeData::F32($body)
            }
            _ => {
                type $t = f64;
                $crate::data::CubeData::F64($body)
            }
        }
    };
}
pub(crate) use dispatch_type;

impl CubeData {
    /// The data type.
    pub fn data_type(&self) -> DataType {
        match self {
            Self::U8(_) => DataType::Uint8,
            Self::I8(_) => DataType::Int8,
            Self::U16(_) => DataType::Uint16,
            Self::I16(_) => DataType::Int16,
            Self::U32(_) => DataType::Uint32,
            Self::I32(_) => DataType::Int32,
            Self::F32(_) => DataType::Float32,
            Self::F64(_) => DataType::Float64,
        }
    }

    /// `(time, band, rows, cols)`.
    pub fn dim(&self) -> (usize, usize, usize, usize) {
        with_data!(self, a => a.dim())
    }

    /// Bytes held.
    pub fn nbytes(&self) -> usize {
        fn elem<T>(a: &Array4<T>) -> usize {
            a.len() * std::mem::size_of::<T>()
        }
        with_data!(self, a => elem(a))
    }

    /// The array's memory as a `Vec<T>` to load another block into
    /// (`load_reusing`): empty when the type is not `T`.
    pub(crate) fn into_raw_vec<T: Pixel>(self) -> Vec<T> {
        fn take<S: Pixel, T: Pixel>(a: Array4<S>) -> Vec<T> {
            let v: Box<dyn std::any::Any> = Box::new(a.into_raw_vec_and_offset().0);
            v.downcast::<Vec<T>>().map(|b| *b).unwrap_or_default()
        }
        with_data!(self, a => take(a))
    }

    /// The pixels converted to `T` (values saturate; NaN becomes 0 for integers).
    pub fn to_array<T: Pixel>(&self) -> Array4<T> {
        with_data!(self, a => convert(a.view()))
    }

    /// Timesteps `times` and bands `bands` of `window`, as a new cube
    /// array.
    pub(crate) fn block(
        &self,
        window: stac_raster::Window,
        times: std::ops::Range<usize>,
        bands: std::ops::Range<usize>,
    ) -> Self {
        let s = ndarray::s![
            times,
            bands,
            window.row_off..window.row_off + window.rows,
            window.col_off..window.col_off + window.cols
        ];
        match self {
            Self::U8(a) => Self::U8(a.slice(s).to_owned()),
            Self::I8(a) => Self::I8(a.slice(s).to_owned()),
            Self::U16(a) => Self::U16(a.slice(s).to_owned()),
            Self::I16(a) => Self::I16(a.slice(s).to_owned()),
            Self::U32(a) => Self::U32(a.slice(s).to_owned()),
            Self::I32(a) => Self::I32(a.slice(s).to_owned()),
            Self::F32(a) => Self::F32(a.slice(s).to_owned()),
            Self::F64(a) => Self::F64(a.slice(s).to_owned()),
        }
    }

    /// The typed array when `T` is the cube's type (no copy).
    pub fn as_array<T: Pixel>(&self) -> Option<ArrayView4<'_, T>> {
        fn cast_view<'a, S: Pixel, T: Pixel>(a: &'a Array4<S>) -> Option<ArrayView4<'a, T>> {
            if S::DATA_TYPE != T::DATA_TYPE {
                return None;
            }
            // SAFETY: S and T are the same type (Pixel is sealed and one
            // DATA_TYPE per Rust type), so the view is reinterpreted in place.
            let v = a.view();
            Some(unsafe { std::mem::transmute::<ArrayView4<'a, S>, ArrayView4<'a, T>>(v) })
        }
        with_data!(self, a => cast_view(a))
    }
}

fn convert<S: Pixel, T: Pixel>(a: ArrayView4<'_, S>) -> Array4<T> {
    a.mapv(|v| T::from_f64(v.to_f64()))
}
