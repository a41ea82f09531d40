//! `RasterError`: the one error type of this crate.

use stac_meta::{Location, MetaError};
use stac_signers::SignerError;

/// Everything that can go wrong in `stac-raster`.
///
/// Every href in a message went through [`stac_meta::redact`]; no variant
/// carries a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RasterError {
    /// GDAL failed on a dataset (open, read, write, warp ...).
    #[error("{operation} failed{}: {message}", for_path(path, message))]
    Gdal {
        /// What we were doing (`open`, `read`, `write`, `warp` ...).
        operation: &'static str,
        /// The dataset path, redacted.
        path: String,
        /// GDAL's message, with query strings of any URL in it removed.
        message: String,
    },
    /// A STAC asset could not be opened or read.
    #[error("{}: {message}", at.unless_named_in(message))]
    Asset {
        /// The item, asset and redacted href.
        at: Location,
        /// What went wrong.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<RasterError>>,
    },
    /// The href policy refused a source before anything was opened.
    #[error("{at}: refused by the href policy ({rule}): {reason}")]
    Refused {
        /// The item, asset and redacted href.
        at: Location,
        /// The rule that refused it.
        rule: stac_meta::HrefRule,
        /// Why.
        reason: String,
    },
    /// A source's deadline (the time its opens and reads may take in
    /// total) was spent before they ended.
    #[error("{at}: not read within its {seconds} s deadline (time spent on the source)")]
    Deadline {
        /// The item, asset and redacted href.
        at: Location,
        /// The deadline, in seconds.
        seconds: f64,
    },
    /// Bad STAC metadata (missing asset, unknown media type ...).
    #[error(transparent)]
    Meta(Box<MetaError>),
    /// A signer failed (href hook or GDAL env).
    #[error(transparent)]
    Signer(Box<SignerError>),
    /// An argument is invalid (shape, window, band index, option ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A requested window lies outside the raster.
    #[error("window {window:?} lies outside the raster of {rows} rows x {cols} cols")]
    OutOfBounds {
        /// The requested window (col_off, row_off, cols, rows), clipped or not.
        window: [i64; 4],
        /// Raster rows.
        rows: usize,
        /// Raster cols.
        cols: usize,
    },
    /// The raster's data type cannot be read as the requested Rust type or
    /// is not supported.
    #[error("unsupported data type: {0}")]
    UnsupportedDataType(String),
    /// A resampling method this GDAL version does not have.
    #[error("resampling '{method}' needs GDAL >= {needs}, this is GDAL {have}")]
    UnsupportedResampling {
        /// The method name.
        method: String,
        /// Minimum GDAL version.
        needs: &'static str,
        /// The running GDAL version.
        have: String,
    },
    /// The raster has no CRS or no geotransform where one is needed.
    #[error("'{path}' has no {what}")]
    MissingGeoreference {
        /// The dataset path, redacted.
        path: String,
        /// `CRS` or `geotransform`.
        what: &'static str,
    },
    /// A filesystem operation failed (temp file, rename).
    #[error("{operation} '{path}': {source}")]
    Io {
        /// What we were doing.
        operation: &'static str,
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl From<MetaError> for RasterError {
    fn from(e: MetaError) -> Self {
        Self::Meta(Box::new(e))
    }
}

impl From<SignerError> for RasterError {
    fn from(e: SignerError) -> Self {
        Self::Signer(Box::new(e))
    }
}

impl RasterError {
    /// The href-policy rule, when the policy refused the source.
    pub fn rule(&self) -> Option<stac_meta::HrefRule> {
        match self {
            Self::Refused { rule, .. } => Some(*rule),
            Self::Meta(m) => m.rule(),
            Self::Asset {
                source: Some(s), ..
            } => s.rule(),
            _ => None,
        }
    }

    /// Whether this is (or wraps) a hit deadline.
    pub fn is_deadline(&self) -> bool {
        match self {
            Self::Deadline { .. } => true,
            Self::Asset {
                source: Some(s), ..
            } => s.is_deadline(),
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = RasterError> = std::result::Result<T, E>;

impl RasterError {
    /// A GDAL error on `path` (redacted here).
    pub(crate) fn gdal(
        operation: &'static str,
        path: &str,
        source: gdal::errors::GdalError,
    ) -> Self {
        // GDAL's own message, without the Rust binding's framing
        // ("GDAL method 'GDALOpenEx' returned a NULL pointer. Error msg: ...").
        let message = match &source {
            gdal::errors::GdalError::NullPointer { msg, .. }
            | gdal::errors::GdalError::CplError { msg, .. }
                if !msg.is_empty() =>
            {
                msg.clone()
            }
            other => other.to_string(),
        };
        Self::Gdal {
            operation,
            path: stac_meta::redact(path).into_owned(),
            message: crate::secrets::redact_message(&message),
        }
    }
}

/// ` for '<path>'`, unless the message already names the path (GDAL's
/// messages usually do): each path once in a message.
fn for_path(path: &str, message: &str) -> String {
    if path.is_empty() || message.contains(path) {
        String::new()
    } else {
        format!(" for '{path}'")
    }
}

pub(crate) use stac_meta::redact_text;

#[cfg(test)]
mod tests {
    use super::redact_text;

    #[test]
    fn query_strings_in_messages_are_redacted() {
        assert_eq!(
            redact_text("'/vsicurl/https://h/a.tif?sig=x&se=1': 403"),
            "'/vsicurl/https://h/a.tif?<redacted>': 403"
        );
        assert_eq!(
            redact_text("/x/a.tif?sig=SECRET: No such file"),
            "/x/a.tif?<redacted> No such file"
        );
        assert_eq!(
            redact_text("at https://u:pw@h/a.tif failed"),
            "at https://<redacted>@h/a.tif failed"
        );
        assert_eq!(redact_text("what? nothing"), "what? nothing");
        assert_eq!(redact_text("no query"), "no query");
    }
}
