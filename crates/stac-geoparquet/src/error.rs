//! The crate's error type: every failure names the file and, when it is
//! about one item or row, which one.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = GeoParquetError> = std::result::Result<T, E>;

/// Everything that can go wrong reading or writing stac-geoparquet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GeoParquetError {
    /// Reading or writing a file failed at the operating-system level.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a readable Parquet file (wrong magic, truncated, corrupt).
    #[error("{path}: not a readable Parquet file: {message}")]
    NotParquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        message: String,
    },
    /// A Parquet file with neither `geo` / `stac-geoparquet` metadata nor STAC columns.
    #[error("{path}: not a stac-geoparquet file: {reason}")]
    NotStacGeoParquet {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// One item cannot be written (no id, bad geometry or bbox, reserved key...).
    #[error("{path}: item {index} (id {id:?}): {reason}")]
    InvalidItem {
        /// The destination file.
        path: PathBuf,
        /// 0-based position of the item in the input.
        index: u64,
        /// The item's id (empty when it has none).
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A property name collides with a reserved top-level column.
    #[error(
        "{path}: item {index} (id {id:?}): property {key:?} collides with the top-level column of the same name"
    )]
    ReservedColumn {
        /// The destination file.
        path: PathBuf,
        /// 0-based position of the item in the input.
        index: u64,
        /// The item's id.
        id: String,
        /// The colliding property name.
        key: String,
    },
    /// A row of a file cannot be turned back into an item.
    #[error("{path}: row {row}{}: column {column:?}: {reason}", id_note(.id.as_deref()))]
    InvalidRow {
        /// The file.
        path: PathBuf,
        /// 0-based row number in the file.
        row: u64,
        /// The item's id, when the row has a readable one.
        id: Option<String>,
        /// The column at fault, with the struct fields below it
        /// (`assets.B04.href`).
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A file asks for more than a limit of
    /// [`ReadOptions`](crate::ReadOptions) allows (WKB nested too deep or too
    /// large, an item or a row group that would decode to too much memory):
    /// refused before that memory is taken.
    #[error("{0}")]
    LimitExceeded(Box<Limit>),
    /// Arrow or Parquet failed while encoding or decoding.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What arrow/parquet said.
        message: String,
    },
    /// Write options that cannot be honoured together.
    #[error("{path}: {reason}")]
    InvalidOptions {
        /// The destination.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A name that is not one of an enum's names (`"zst"` for a compression).
    #[error("unknown {what} {name:?}: expected {expected}")]
    UnknownName {
        /// What was named (`layout`, `compression`).
        what: &'static str,
        /// The name given.
        name: String,
        /// The names accepted.
        expected: &'static str,
    },
    /// No items were given where at least one is needed.
    #[error("{path}: no items to write")]
    Empty {
        /// The destination file.
        path: PathBuf,
    },
    /// A search parameter that cannot be evaluated (bad CQL2, datetime,
    /// geometry, or an unsupported operator), checked before any file is read.
    #[error("invalid search parameter `{parameter}`: {reason}")]
    InvalidQuery {
        /// The parameter (`filter`, `datetime`, `bbox`, ...).
        parameter: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Input that is not STAC JSON (a collection file, a bad NDJSON line...).
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Where and how a file passed a limit of [`ReadOptions`](crate::ReadOptions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}{reason} (the limit of ReadOptions::{option})", path.display(), location(*.row, .id.as_deref(), .column.as_deref()))]
#[non_exhaustive]
pub struct Limit {
    /// The file.
    pub path: PathBuf,
    /// 0-based row number in the file (the first row of the row group for
    /// a row-group limit), when one row is at fault.
    pub row: Option<u64>,
    /// The item's id, when known.
    pub id: Option<String>,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is too large.
    pub reason: String,
    /// The setter of [`ReadOptions`](crate::ReadOptions) that raises the limit.
    pub option: &'static str,
}

/// ` (id "x")` when an id is known.
fn id_note(id: Option<&str>) -> String {
    id.map(|id| format!(" (id {id:?})")).unwrap_or_default()
}

/// `row 3 (id "x"): column "c": ` as far as it is known.
fn location(row: Option<u64>, id: Option<&str>, column: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(row) = row {
        out.push_str(&format!("row {row}{}: ", id_note(id)));
    }
    if let Some(column) = column {
        out.push_str(&format!("column {column:?}: "));
    }
    out
}

impl GeoParquetError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn parquet(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        Self::Parquet {
            path: path.into(),
            message: e.to_string(),
        }
    }
}
