//! The one error type of this crate.

/// Errors of `build_vrt_from_stac`. Hrefs inside are always redacted (query
/// string and user info removed), so a message never carries a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VrtError {
    /// The input held no items.
    #[error("no items to build a VRT from")]
    NoItems,
    /// An option is out of range or inconsistent.
    #[error("invalid VRT option {option}: {reason}")]
    InvalidOption {
        /// The option's name (`resolution`, `bounds`, `crs`, `bands`, ...).
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Some sources could not be placed in the mosaic and `fail_on_error` is on.
    #[error(
        "skipped {skipped} of {total} source(s) for asset '{asset}': {listing}; \
         build a partial mosaic without them (fail_on_error off) to get the skipped list instead"
    )]
    SkippedSources {
        /// The asset key.
        asset: String,
        /// How many sources were skipped.
        skipped: usize,
        /// How many items were given.
        total: usize,
        /// Up to five `item (redacted href): reason` entries, then `(+K more)`.
        listing: String,
    },
    /// No source at all could be placed (every item was skipped, or none
    /// intersects the requested bounds).
    #[error("no usable source for asset '{asset}' ({reason})")]
    NoSources {
        /// The asset key.
        asset: String,
        /// Why (e.g. the first skip reason, or "no source intersects the bounds").
        reason: String,
    },
    /// The items could not be read (not an Item, FeatureCollection or array).
    #[error(transparent)]
    Items(#[from] stac_meta::MetaError),
    /// A CRS definition could not be understood by GDAL/PROJ.
    #[error("{context}: GDAL does not understand the CRS {crs:?}: {message}")]
    Crs {
        /// Where the CRS came from (option or item/asset).
        context: String,
        /// The CRS definition (shortened).
        crs: String,
        /// GDAL's message.
        message: String,
    },
    /// Writing the VRT file failed.
    #[error("writing the VRT to {path}: {source}")]
    Io {
        /// The path written to.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// GDAL failed to open the built VRT.
    #[error("GDAL could not open the built VRT: {message}")]
    Gdal {
        /// GDAL's message (redacted).
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = VrtError> = std::result::Result<T, E>;

pub(crate) use stac_raster::redact_message as redact_text;
