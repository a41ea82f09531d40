//! [`CubeError`]: everything `from_stac` and the cube methods can fail with.

use crate::failure::Failure;

/// The result type of this crate.
pub type Result<T, E = CubeError> = std::result::Result<T, E>;

/// Errors of cube planning, loading and writing. Messages name the item,
/// asset and field involved; hrefs are redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CubeError {
    /// Nothing to build a cube from (no items, or all filtered out).
    #[error("no items to build a cube from: {reason}")]
    NoItems {
        /// Why nothing was left.
        reason: String,
    },
    /// Invalid STAC metadata (item, asset and field in the message).
    #[error(transparent)]
    Meta(#[from] stac_meta::MetaError),
    /// A GDAL operation failed outside a per-source read (writing, warping a grid).
    #[error(transparent)]
    Raster(#[from] stac_raster::RasterError),
    /// The signer could not sign an href or produce its GDAL env.
    #[error("signer: {0}")]
    Signer(#[from] stac_signers::SignerError),
    /// A requested asset or band does not exist on an item.
    #[error("{at}: {message}")]
    Asset {
        /// The item and the asset key (as requested).
        at: stac_meta::Location,
        /// What is wrong.
        message: String,
    },
    /// The output grid cannot be planned from the items and options.
    #[error("cannot plan the cube grid: {0}")]
    Grid(String),
    /// The planned grid is larger than the configured pixel limit.
    #[error(
        "the cube grid of {rows} rows x {cols} cols = {pixels} pixels per plane exceeds the \
         {limit}-pixel limit (raise the pixel limit to allow it, or give a coarser \
         resolution or smaller bounds)"
    )]
    GridTooLarge {
        /// Planned rows.
        rows: u64,
        /// Planned columns.
        cols: u64,
        /// rows x cols.
        pixels: u128,
        /// The configured limit.
        limit: u64,
    },
    /// `align(false)` with sources on different grids.
    #[error("alignment: {message}")]
    Alignment {
        /// The assets and grids that disagree.
        message: String,
    },
    /// An option value is invalid or options conflict.
    #[error("invalid option {option}: {message}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why.
        message: String,
    },
    /// Sources could not be read (with `fail_on_error(true)`, the default).
    #[error("{} source(s) could not be read: {}", failures.len(), summarize(failures))]
    Read {
        /// Every failed source: item, asset, redacted href, error.
        failures: Vec<Failure>,
    },
    /// No source overlaps the grid: the cube would be all nodata.
    #[error("no source overlaps the cube grid ({reason}); refusing to return an all-nodata cube")]
    Empty {
        /// Which sources missed and where the grid is.
        reason: String,
    },
    /// File system error while writing outputs.
    #[error("I/O on {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A Zarr store cannot be written, or holds something this write would
    /// contradict (another plan, a chunk whose checksum does not match).
    #[error("zarr store {store}: {key}: {message}")]
    Store {
        /// The store (path, or redacted URL).
        store: String,
        /// The key (object) involved.
        key: String,
        /// What went wrong.
        message: String,
    },
}

fn summarize(failures: &[Failure]) -> String {
    let mut parts: Vec<String> = failures.iter().take(5).map(ToString::to_string).collect();
    if failures.len() > 5 {
        parts.push(format!("... and {} more", failures.len() - 5));
    }
    parts.join("; ")
}

pub(crate) fn invalid(option: &'static str, message: impl Into<String>) -> CubeError {
    CubeError::InvalidOption {
        option,
        message: message.into(),
    }
}
