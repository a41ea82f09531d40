//! Read options: how far a file may make the reader go (WKB nesting and
//! size, decoded bytes per item and per row group), and what non-finite
//! floats become.
//!
//! A Parquet file is small on disk and large in memory by design
//! (compression, dictionaries, run-length encoding), so a hostile file of a
//! few kilobytes can ask for gigabytes. Every limit here is checked before
//! (or while) the memory it protects is taken, and a file that passes one is
//! a typed [`GeoParquetError::LimitExceeded`](crate::GeoParquetError::LimitExceeded)
//! naming the option that would allow it, never an abort.
//!
//! Decoded sizes are estimates of the memory the items take as
//! [`serde_json::Value`]s (the model of [`stac_meta::budget`]): 72 bytes per
//! value plus the bytes of strings and keys. A typical Sentinel-2 item
//! (about 12 kB of compact JSON) is about 50 kB decoded.

use std::str::FromStr;

/// What a non-finite float (NaN, +inf, -inf) read from a file becomes. JSON
/// has no such numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NonFinite {
    /// An error naming the row, the item id and the field (the default:
    /// nothing is changed silently).
    #[default]
    Error,
    /// `null` in place of the number (what earlier versions did silently).
    Null,
}

impl FromStr for NonFinite {
    type Err = String;

    /// `error` or `null`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(Self::Error),
            "null" => Ok(Self::Null),
            other => Err(format!("{other:?} is not a non-finite rule (error, null)")),
        }
    }
}

/// Options of [`Reader::open_with`](crate::Reader::open_with) and
/// [`from_geoparquet_with`](crate::from_geoparquet_with).
///
/// ```
/// use stac_geoparquet::{NonFinite, ReadOptions};
/// let options = ReadOptions::default()
///     .with_non_finite(NonFinite::Null)
///     .with_max_value_bytes(256 << 20)
///     .with_wkb_max_depth(8);
/// assert_eq!(options.max_value_bytes(), 256 << 20);
/// assert_eq!(ReadOptions::default().non_finite(), NonFinite::Error);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    non_finite: NonFinite,
    wkb_max_depth: u32,
    wkb_max_count: u64,
    wkb_max_bytes: u64,
    max_value_bytes: u64,
    max_row_group_bytes: u64,
    max_expansion: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            non_finite: NonFinite::Error,
            wkb_max_depth: 32,
            wkb_max_count: 10_000_000,
            wkb_max_bytes: 64 << 20,
            max_value_bytes: 64 << 20,
            max_row_group_bytes: 16 << 30,
            max_expansion: 1000,
        }
    }
}

impl ReadOptions {
    /// What NaN and ±inf become (default [`NonFinite::Error`]). Applies to
    /// float columns, bbox values and WKB coordinates (a position whose
    /// coordinates are all NaN is an empty point, as WKB spells `POINT
    /// EMPTY`, and is not affected).
    pub fn with_non_finite(mut self, rule: NonFinite) -> Self {
        self.non_finite = rule;
        self
    }

    /// How deeply WKB geometries may nest (GeometryCollections and Multi*
    /// geometries; default 32). WKB is parsed without recursion, so deeper
    /// input is a typed error, never a stack overflow.
    pub fn with_wkb_max_depth(mut self, depth: u32) -> Self {
        self.wkb_max_depth = depth;
        self
    }

    /// How many elements (positions, rings, parts) one WKB geometry may
    /// hold (default 10,000,000). Every count is also checked against the
    /// bytes left in the value before anything is allocated.
    pub fn with_wkb_max_count(mut self, count: u64) -> Self {
        self.wkb_max_count = count;
        self
    }

    /// The largest WKB value read, in bytes (default 64 MiB).
    pub fn with_wkb_max_bytes(mut self, bytes: u64) -> Self {
        self.wkb_max_bytes = bytes;
        self
    }

    /// The most memory one item may take once decoded (default 64 MiB): a
    /// dictionary value repeated in every row, a string inflated by
    /// compression, a huge geometry or JSON text. The reader holds at most
    /// about twice this in decoded items at a time.
    pub fn with_max_value_bytes(mut self, bytes: u64) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// The most memory the items of one row group may take once decoded, in
    /// total (default 16 GiB; the reader streams, so this bounds what a row
    /// group can make a caller write, not what is held at once). See also
    /// [`with_max_expansion`](Self::with_max_expansion).
    pub fn with_max_row_group_bytes(mut self, bytes: u64) -> Self {
        self.max_row_group_bytes = bytes;
        self
    }

    /// How many times its size in the file a row group may grow when decoded
    /// (default 1000; real catalogs stay under 100). A row group may always
    /// decode to [`max_value_bytes`](Self::max_value_bytes), whatever its
    /// size. The footer is checked against the same budget before any page
    /// is read: a row group whose uncompressed pages (plus one byte per
    /// value) exceed it is refused before the Parquet decoder allocates them.
    pub fn with_max_expansion(mut self, ratio: u64) -> Self {
        self.max_expansion = ratio;
        self
    }

    /// What non-finite floats become.
    pub fn non_finite(&self) -> NonFinite {
        self.non_finite
    }

    /// WKB nesting limit.
    pub fn wkb_max_depth(&self) -> u32 {
        self.wkb_max_depth
    }

    /// WKB element-count limit.
    pub fn wkb_max_count(&self) -> u64 {
        self.wkb_max_count
    }

    /// WKB size limit in bytes.
    pub fn wkb_max_bytes(&self) -> u64 {
        self.wkb_max_bytes
    }

    /// Decoded bytes per item.
    pub fn max_value_bytes(&self) -> u64 {
        self.max_value_bytes
    }

    /// Decoded bytes per row group (absolute cap).
    pub fn max_row_group_bytes(&self) -> u64 {
        self.max_row_group_bytes
    }

    /// Decoded size ÷ stored size allowed per row group.
    pub fn max_expansion(&self) -> u64 {
        self.max_expansion
    }

    /// The decoded-size budget of a row group that takes `stored` bytes in
    /// the file.
    pub(crate) fn row_group_budget(&self, stored: u64) -> u64 {
        self.max_expansion
            .saturating_mul(stored)
            .min(self.max_row_group_bytes)
            .max(self.max_value_bytes)
    }
}

/// Why a value could not be decoded: a reason, and the option whose limit
/// it passed (`None`: the data is malformed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub reason: String,
    pub option: Option<&'static str>,
}

impl Refused {
    /// A limit of [`ReadOptions`] was passed; `option` names its setter.
    pub(crate) fn limit(option: &'static str, reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            option: Some(option),
        }
    }
}

impl From<String> for Refused {
    fn from(reason: String) -> Self {
        Self {
            reason,
            option: None,
        }
    }
}

impl From<&str> for Refused {
    fn from(reason: &str) -> Self {
        reason.to_owned().into()
    }
}

/// The refusal of a value whose decoded size passed `budget`.
pub(crate) fn too_large(budget: &stac_meta::budget::Budget) -> Refused {
    Refused::limit(
        "with_max_value_bytes",
        format!(
            "decodes to more than {} in memory",
            human_bytes(budget.limit())
        ),
    )
}

/// `64 MiB`, `12.8 kB`-style sizes for messages.
pub(crate) fn human_bytes(n: u64) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}
