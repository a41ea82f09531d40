//! `stac_gdal._native`: the compiled half of the Python package `stac_gdal`.
//!
//! Thin bindings over the facade crate `stac-gdal`: every rule lives in the
//! Rust crates; this module converts arguments, releases the GIL around
//! work, hands pixel buffers to NumPy without copying, and maps the Rust
//! error enums to Python exceptions (`errors`). The Python half
//! (`python/stac_gdal/`) builds xarray Datasets and Dask graphs from it.
#![cfg_attr(test, allow(unused_crate_dependencies))] // unit tests share the dev-dependencies

// Named in Cargo.toml only so this build gets the features `cargo test
// --workspace --all-features` gives them, and reuses that build (see the
// comment there).
use {ahash as _, either as _, idna as _, ndarray as _, serde as _, stac_signers as _};

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
