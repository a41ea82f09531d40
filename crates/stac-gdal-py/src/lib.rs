//! `stac_gdal._native`: the compiled half of the Python package `stac_gdal`.
//!
//! Thin bindings over the facade crate `stac-gdal`: every rule lives in the
//! Rust crates; this module converts arguments, releases the GIL around
//! work, hands pixel buffers to NumPy without copying, and maps the Rust
//! error enums to Python exceptions (`errors`). The Python half
//! (`python/stac_gdal/`) builds xarray Datasets and Dask graphs from it.

use pyo3::prelude::*;

mod arrow;
mod client;
mod cube;
mod errors;
mod io;
mod meta;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<cube::Cube>()?;
    meta::register(m)?;
    io::register(m)?;
    arrow::register(m)?;
    client::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
