//! Write options: layout, compression, row-group size, collection.

use serde_json::Value;

use crate::GeoParquetError;

/// How items are laid out in the Parquet file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Layout {
    /// The stac-geoparquet specification: one column per top-level key and
    /// per property, native types, `geo` + `stac-geoparquet` metadata.
    #[default]
    Spec,
    /// The pyramids JSON-blob layout: `id`, `stac_item` (the whole item as
    /// JSON text) and `geometry` (WKB). Lossless by construction.
    Blob,
}

impl std::str::FromStr for Layout {
    type Err = GeoParquetError;

    /// `spec` or `blob` (`json` is an alias), any case.
    ///
    /// ```
    /// use stac_geoparquet::Layout;
    /// assert_eq!("blob".parse::<Layout>()?, Layout::Blob);
    /// assert!("parquet".parse::<Layout>().is_err());
    /// # Ok::<(), stac_geoparquet::GeoParquetError>(())
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "spec" => Ok(Self::Spec),
            "blob" | "json" => Ok(Self::Blob),
            _ => Err(GeoParquetError::UnknownName {
                what: "layout",
                name: text.to_owned(),
                expected: "spec or blob",
            }),
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Spec => "spec",
            Self::Blob => "blob",
        })
    }
}

impl Layout {
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "use `str::parse` (`FromStr`)")]
    pub fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// Parquet page compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// No compression.
    None,
    /// Snappy.
    Snappy,
    /// Zstandard at the given level (1..=22).
    Zstd(i32),
}

impl Default for Compression {
    /// Zstandard level 3: small files, fast to write.
    fn default() -> Self {
        Self::Zstd(3)
    }
}

impl std::str::FromStr for Compression {
    type Err = GeoParquetError;

    /// `none`, `snappy`, `zstd` or `zstd:LEVEL` (1..=22), any case.
    ///
    /// ```
    /// use stac_geoparquet::Compression;
    /// assert_eq!("zstd:9".parse::<Compression>()?, Compression::Zstd(9));
    /// assert!("zstd:40".parse::<Compression>().is_err());
    /// # Ok::<(), stac_geoparquet::GeoParquetError>(())
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.to_ascii_lowercase();
        let parsed = match lower.as_str() {
            "none" | "uncompressed" => Some(Self::None),
            "snappy" => Some(Self::Snappy),
            "zstd" => Some(Self::default()),
            _ => lower
                .strip_prefix("zstd:")
                .and_then(|level| level.parse().ok())
                .filter(|level| (1..=22).contains(level))
                .map(Self::Zstd),
        };
        parsed.ok_or_else(|| GeoParquetError::UnknownName {
            what: "compression",
            name: text.to_owned(),
            expected: "none, snappy, zstd or zstd:1..22",
        })
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::Snappy => f.write_str("snappy"),
            Self::Zstd(level) => write!(f, "zstd:{level}"),
        }
    }
}

impl Compression {
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "use `str::parse` (`FromStr`)")]
    pub fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// Options for [`crate::to_geoparquet`] and [`crate::Writer`].
///
/// ```
/// use stac_geoparquet::{Compression, Layout, WriteOptions};
/// let options = WriteOptions::default()
///     .with_layout(Layout::Blob)
///     .with_compression(Compression::Snappy)
///     .with_row_group_size(10_000);
/// assert_eq!(options.row_group_size(), 10_000);
/// ```
#[derive(Debug, Clone)]
pub struct WriteOptions {
    layout: Layout,
    compression: Compression,
    row_group_size: usize,
    page_rows: usize,
    sort: crate::order::SortOrder,
    collections: Vec<Value>,
    temp_dir: Option<std::path::PathBuf>,
    threads: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            layout: Layout::Spec,
            compression: Compression::default(),
            row_group_size: 100_000,
            page_rows: 4096,
            sort: crate::order::SortOrder::None,
            collections: Vec::new(),
            temp_dir: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl WriteOptions {
    /// The layout (default [`Layout::Spec`]).
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The compression (default zstd level 3).
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Rows per row group (default 100 000; at least 1). The writer holds at
    /// most 500 items as JSON; a row group's encoded columns stay in memory
    /// until it is flushed, so this bounds the rest of the memory use. For
    /// 100 000 Sentinel-2 items (17 KB of JSON each) the default peaks at
    /// about 330 MB RSS and gives a file smaller than rustac's; 10 000 peaks
    /// at about 230 MB with a file about 2.5× larger.
    pub fn with_row_group_size(mut self, rows: usize) -> Self {
        self.row_group_size = rows.max(1);
        self
    }

    /// Rows per data page at most (default 4096; at least 1). Pages are
    /// also cut at 1 MiB. Every page has min/max statistics in the page
    /// index, so smaller pages let a search (ours, DuckDB, arrow) skip
    /// more rows inside a row group, for a slightly larger file.
    pub fn with_page_rows(mut self, rows: usize) -> Self {
        self.page_rows = rows.max(1);
        self
    }

    /// The row order (default: as given). [`SortOrder::Hilbert`](crate::SortOrder::Hilbert)
    /// or [`SortOrder::Time`](crate::SortOrder::Time) make row groups and
    /// pages cover compact areas or periods, so that searches (ours,
    /// DuckDB, GDAL, GeoPandas) skip most of the file. Items are then
    /// spilled to a temporary file next to the output (or in
    /// [`with_temp_dir`](Self::with_temp_dir)) and read back in order (spec
    /// layout only).
    pub fn with_sort(mut self, sort: crate::order::SortOrder) -> Self {
        self.sort = sort;
        self
    }

    /// Add a STAC Collection (JSON) to the file's `stac-geoparquet` metadata.
    pub fn with_collection(mut self, collection: Value) -> Self {
        self.collections.push(collection);
        self
    }

    /// Where temporary files go (default: the output's directory): the
    /// spill of items, the Parquet file until it is complete (renamed over
    /// the output then, so `dir` must be on the output's file system), and a
    /// partitioned write's temporary folder. A caller that must clean up
    /// after an interrupted process (the CLI on `SIGINT`) points this at a
    /// directory of its own, and removes it. Every temporary file is also
    /// removed when the writer is dropped or fails.
    ///
    /// ```
    /// use stac_geoparquet::WriteOptions;
    /// let options = WriteOptions::default().with_temp_dir("out/.staging");
    /// assert_eq!(options.temp_dir(), Some(std::path::Path::new("out/.staging")));
    /// ```
    pub fn with_temp_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }

    /// Worker threads that parse and encode items (default: as many as
    /// cores; at least 1). The calling thread reads the input, widens the
    /// schema and writes the Parquet pages meanwhile. The file is the same
    /// whatever the number: items are encoded in the same batches and
    /// written in input (or sorted) order. Each worker holds at most one
    /// batch of 500 items as JSON values.
    ///
    /// ```
    /// use stac_geoparquet::WriteOptions;
    /// assert_eq!(WriteOptions::default().with_threads(3).threads(), 3);
    /// assert_eq!(WriteOptions::default().with_threads(0).threads(), 1);
    /// ```
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Worker threads of a write.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Where temporary files go, when set ([`with_temp_dir`](Self::with_temp_dir)).
    pub fn temp_dir(&self) -> Option<&std::path::Path> {
        self.temp_dir.as_deref()
    }

    /// The layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Rows per row group.
    pub fn row_group_size(&self) -> usize {
        self.row_group_size
    }

    /// The row order.
    pub fn sort(&self) -> crate::order::SortOrder {
        self.sort
    }

    /// Rows per data page at most.
    pub fn page_rows(&self) -> usize {
        self.page_rows
    }

    /// The collections written to the metadata.
    pub fn collections(&self) -> &[Value] {
        &self.collections
    }
}
