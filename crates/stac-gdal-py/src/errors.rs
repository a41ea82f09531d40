//! Python exceptions mirroring the Rust error enums: one class per enum
//! (`CubeError` for `stac_cube::CubeError`, ...), all under
//! `StacGdalError`, with the Rust error's message unchanged and the
//! variant's name in `.kind`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _native,
    StacGdalError,
    PyException,
    "Base class of every stac_gdal error."
);
create_exception!(_native, MetaError, StacGdalError, "stac_meta::MetaError.");
create_exception!(_native, CubeError, StacGdalError, "stac_cube::CubeError.");
create_exception!(
    _native,
    RasterError,
    StacGdalError,
    "stac_raster::RasterError."
);
create_exception!(
    _native,
    SignerError,
    StacGdalError,
    "stac_signers::SignerError."
);
create_exception!(_native, VrtError, StacGdalError, "stac_vrt::VrtError.");
create_exception!(
    _native,
    GeoParquetError,
    StacGdalError,
    "stac_geoparquet::GeoParquetError."
);

create_exception!(
    _native,
    ClientError,
    StacGdalError,
    "stac_client::ClientError."
);

/// Add the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("StacGdalError", py.get_type::<StacGdalError>())?;
    m.add("MetaError", py.get_type::<MetaError>())?;
    m.add("CubeError", py.get_type::<CubeError>())?;
    m.add("RasterError", py.get_type::<RasterError>())?;
    m.add("SignerError", py.get_type::<SignerError>())?;
    m.add("VrtError", py.get_type::<VrtError>())?;
    m.add("GeoParquetError", py.get_type::<GeoParquetError>())?;
    m.add("ClientError", py.get_type::<ClientError>())?;
    Ok(())
}

/// The variant name of an error's `Debug` (`Read { .. }` gives `Read`).
fn kind(debug: &str) -> String {
    debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("")
        .to_owned()
}

/// An exception of class `E` with the error's message and `.kind`.
pub(crate) fn raise<E: pyo3::PyTypeInfo>(e: &(impl std::fmt::Display + std::fmt::Debug)) -> PyErr {
    let err = PyErr::new::<E, _>(e.to_string());
    let k = kind(&format!("{e:?}"));
    Python::attach(|py| {
        let _ = err.value(py).setattr("kind", k);
    });
    err
}

/// Rust errors that become Python exceptions.
pub(crate) trait ToPyErr {
    /// The exception.
    fn to_py(&self) -> PyErr;
}

impl ToPyErr for stac_gdal::cube::CubeError {
    fn to_py(&self) -> PyErr {
        raise::<CubeError>(self)
    }
}
impl ToPyErr for stac_gdal::meta::MetaError {
    fn to_py(&self) -> PyErr {
        raise::<MetaError>(self)
    }
}
impl ToPyErr for stac_gdal::RasterError {
    fn to_py(&self) -> PyErr {
        raise::<RasterError>(self)
    }
}
impl ToPyErr for stac_gdal::SignerError {
    fn to_py(&self) -> PyErr {
        raise::<SignerError>(self)
    }
}
impl ToPyErr for stac_gdal::vrt::VrtError {
    fn to_py(&self) -> PyErr {
        raise::<VrtError>(self)
    }
}
impl ToPyErr for stac_gdal::GeoParquetError {
    fn to_py(&self) -> PyErr {
        raise::<GeoParquetError>(self)
    }
}

/// `map_err` helper: `.map_err(py_err)`.
pub(crate) fn py_err<E: ToPyErr>(e: E) -> PyErr {
    e.to_py()
}
