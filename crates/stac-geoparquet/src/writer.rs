//! The streaming [`Writer`] and [`to_geoparquet`].
//!
//! Spec layout: items pushed are validated and folded into one schema
//! inferred over *all* of them. Up to one row group of items is held in
//! memory; beyond that they are spilled to a temporary NDJSON file and
//! encoded in a second pass once the schema is final. Memory is bounded by
//! the row-group size whatever the number of items.
//!
//! Blob layout: the schema is fixed, so each full row group is encoded and
//! written as soon as it is complete.
//!
//! Either way the Parquet file is written to a temporary file next to the
//! destination (or in [`WriteOptions::with_temp_dir`]) and renamed over it
//! only when complete: a failed write leaves no partial file behind. Every
//! temporary file is a `NamedTempFile`, removed when the writer is dropped
//! (an error, a panic unwinding); only a killed process leaves them, which
//! is why a caller can put them all in one directory of its own.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as PqCompression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde_json::Value;
use tempfile::NamedTempFile;

use crate::error::{GeoParquetError, Result};
use crate::geometry::GeometryStats;
use crate::json::Json;
use crate::layout::{self, Inference};
use crate::metadata::{self, FileHints};
use crate::options::{Compression, Layout, WriteOptions};
use crate::order::{RowKey, SortOrder};

/// Progress callback: `(items_done, stage)`.
pub type ProgressFn = Box<dyn FnMut(Progress) + Send>;

/// What a progress callback is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Items accepted by [`Writer::push`] so far.
    Pushed(u64),
    /// Items encoded and written to Parquet so far, out of the total.
    Written {
        /// Written so far.
        done: u64,
        /// Total number of items.
        total: u64,
    },
}

/// A streaming stac-geoparquet writer with bounded memory.
///
/// ```
/// use serde_json::json;
/// use stac_geoparquet::{WriteOptions, Writer};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("items.parquet");
/// let mut writer = Writer::create(&path, WriteOptions::default().with_row_group_size(2))?;
/// for i in 0..5 {
///     writer.push(json!({"type": "Feature", "id": format!("item-{i}"), "geometry": null,
///                        "properties": {"datetime": "2021-06-01T00:00:00Z", "n": i}}))?;
/// }
/// assert_eq!(writer.finish()?, 5);
/// assert_eq!(stac_geoparquet::from_geoparquet(&path)?.len(), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Writer {
    path: PathBuf,
    options: WriteOptions,
    inference: Inference,
    /// Blob layout: items not written yet.
    buffer: Vec<Value>,
    /// Spec layout: JSON text (one line each) of the items held before
    /// the spill is opened.
    held: Vec<String>,
    spill: Option<BufWriter<NamedTempFile>>,
    pushed: u64,
    /// Blob layout: the open Parquet writer and how many rows it holds.
    blob: Option<(ArrowWriter<File>, NamedTempFile, u64)>,
    stats: GeometryStats,
    progress: Option<ProgressFn>,
    /// Items held before they spill (at most one encoding batch).
    hold: usize,
    /// Sorted output: each item's sort key and (offset, length) in the spill.
    keys: Vec<RowKey>,
    spilled: Vec<(u64, u32)>,
    /// Bytes written to the spill so far.
    spill_pos: u64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.path)
            .field("options", &self.options)
            .field("pushed", &self.pushed)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Start writing to `path` (nothing appears there before [`Writer::finish`]).
    pub fn create(path: impl AsRef<Path>, options: WriteOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let dir = parent_dir(&path);
        if !dir.is_dir() {
            return Err(GeoParquetError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "directory does not exist"),
            ));
        }
        if options.sort() != SortOrder::None && options.layout() == Layout::Blob {
            return Err(GeoParquetError::InvalidOptions {
                path,
                reason: "sorting rows needs the spec layout (the JSON-blob layout writes rows as they come)".into(),
            });
        }
        let hold = batch_rows(&options);
        Ok(Self {
            path,
            options,
            inference: Inference::default(),
            buffer: Vec::new(),
            held: Vec::new(),
            spill: None,
            pushed: 0,
            blob: None,
            stats: GeometryStats::default(),
            progress: None,
            hold,
            keys: Vec::new(),
            spilled: Vec::new(),
            spill_pos: 0,
        })
    }

    /// Spill items after `n` are held (partitioned writes hold few).
    pub(crate) fn with_hold(mut self, n: usize) -> Self {
        self.hold = n.clamp(1, batch_rows(&self.options));
        self
    }

    fn sorted(&self) -> bool {
        self.options.sort() != SortOrder::None
    }

    /// Call `f` as items are pushed and written (for progress bars).
    pub fn with_progress(mut self, f: impl FnMut(Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Number of items pushed so far.
    pub fn len(&self) -> u64 {
        self.pushed
    }

    /// Whether no item was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Add one item. Errors name the item (position and id).
    pub fn push(&mut self, item: Value) -> Result<()> {
        if self.options.layout() == Layout::Blob {
            layout::check_item(&self.path, self.pushed, &item)?;
            self.buffer.push(item);
            return self.pushed_one();
        }
        let text = item.to_string();
        self.push_spec(&text, &Json::from_value(&item))
    }

    /// Count one more item; spill or write what is held when it is full.
    fn pushed_one(&mut self) -> Result<()> {
        self.pushed += 1;
        if self.buffer.len() >= self.hold || self.held.len() >= self.hold {
            self.flush_buffer()?;
        }
        if self.pushed % 1000 == 0
            && let Some(p) = &mut self.progress
        {
            p(Progress::Pushed(self.pushed));
        }
        Ok(())
    }

    /// Add one item given as JSON text (e.g. an NDJSON line). Faster than
    /// [`Writer::push`]: the spec layout reads the text without building
    /// a `serde_json::Value`, and keeps it as it is until the encoding pass.
    pub fn push_json(&mut self, text: &str) -> Result<()> {
        if self.options.layout() == Layout::Blob {
            let item = serde_json::from_str(text).map_err(|e| self.json_error(&e.to_string()))?;
            return self.push(item);
        }
        let item = Json::parse(text).map_err(|e| self.json_error(&e.to_string()))?;
        self.push_spec(text, &item)
    }

    /// Add every item of an NDJSON stream (blank lines are skipped); returns
    /// how many were added: [`Writer::push_json`] on each line. Errors name
    /// the item.
    ///
    /// ```
    /// use stac_geoparquet::{WriteOptions, Writer};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("items.parquet");
    /// let ndjson = (0..3)
    ///     .map(|i| format!(r#"{{"type": "Feature", "id": "item-{i}", "geometry": null, "properties": {{"n": {i}}}}}"#))
    ///     .collect::<Vec<_>>()
    ///     .join("\n");
    /// let mut writer = Writer::create(&path, WriteOptions::default())?;
    /// assert_eq!(writer.push_ndjson(ndjson.as_bytes())?, 3);
    /// assert_eq!(writer.finish()?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_ndjson(&mut self, mut input: impl BufRead) -> Result<u64> {
        let before = self.pushed;
        let mut line = String::new();
        loop {
            line.clear();
            let n = input
                .read_line(&mut line)
                .map_err(|e| GeoParquetError::io(&self.path, e))?;
            if n == 0 {
                break;
            }
            if !line.trim().is_empty() {
                self.push_json(&line)?;
            }
        }
        Ok(self.pushed - before)
    }

    fn json_error(&self, reason: &str) -> GeoParquetError {
        GeoParquetError::Json {
            path: self.path.clone(),
            message: format!("item {}: {reason}", self.pushed),
        }
    }

    /// Spec layout: widen the schema with `item` (read from `text`), and
    /// hold or spill its text for the encoding pass.
    fn push_spec(&mut self, text: &str, item: &Json<'_>) -> Result<()> {
        self.inference.push(&self.path, self.pushed, item)?;
        if self.sorted() {
            self.keys.push(RowKey::of(item));
        }
        let text = text.trim_end();
        // The spill holds one item per line: re-print text over several.
        let compact;
        let text = if text.contains('\n') {
            compact = item.to_string();
            compact.as_str()
        } else {
            text
        };
        match self.spill.as_mut() {
            None => self.held.push(text.to_owned()),
            Some(spill) => {
                let len = u32::try_from(text.len()).map_err(|_| GeoParquetError::Json {
                    path: self.path.clone(),
                    message: format!("item {}: larger than 4 GiB", self.pushed),
                })?;
                spill
                    .write_all(text.as_bytes())
                    .and_then(|()| spill.write_all(b"\n"))
                    .map_err(|e| GeoParquetError::io(&self.path, e))?;
                if self.options.sort() != SortOrder::None {
                    self.spilled.push((self.spill_pos, len));
                }
                self.spill_pos += u64::from(len) + 1;
            }
        }
        self.pushed_one()
    }

    /// Add every item of an iterator.
    pub fn extend(&mut self, items: impl IntoIterator<Item = Value>) -> Result<()> {
        for item in items {
            self.push(item)?;
        }
        Ok(())
    }

    fn flush_buffer(&mut self) -> Result<()> {
        match self.options.layout() {
            Layout::Blob => {
                if self.blob.is_none() {
                    let (w, tmp) = open_parquet(&self.path, &self.options, layout::blob_schema())?;
                    self.blob = Some((w, tmp, 0));
                }
                let first = self.pushed - self.buffer.len() as u64;
                let batch = layout::encode_blob(&self.path, first, &self.buffer, &mut self.stats)?;
                let (w, _, rows) = self.blob.as_mut().expect("opened above");
                write_batch(&self.path, w, &batch)?;
                *rows += batch.num_rows() as u64;
                let done = *rows;
                self.buffer.clear();
                if let Some(p) = &mut self.progress {
                    p(Progress::Written {
                        done,
                        total: self.pushed,
                    });
                }
            }
            _ => {
                if self.spill.is_none() {
                    let tmp = NamedTempFile::new_in(temp_dir(&self.path, &self.options))
                        .map_err(|e| GeoParquetError::io(&self.path, e))?;
                    self.spill = Some(BufWriter::with_capacity(1 << 20, tmp));
                }
                let spill = self.spill.as_mut().expect("opened above");
                let sorted = self.options.sort() != SortOrder::None;
                for text in self.held.drain(..) {
                    spill
                        .write_all(text.as_bytes())
                        .and_then(|()| spill.write_all(b"\n"))
                        .map_err(|e| GeoParquetError::io(&self.path, e))?;
                    if sorted {
                        let len = u32::try_from(text.len()).map_err(|_| GeoParquetError::Json {
                            path: self.path.clone(),
                            message: "an item larger than 4 GiB".into(),
                        })?;
                        self.spilled.push((self.spill_pos, len));
                    }
                    self.spill_pos += text.len() as u64 + 1;
                }
            }
        }
        Ok(())
    }

    /// Write everything out and move the file into place. Returns the number
    /// of items written. An error leaves no file at the destination.
    pub fn finish(self) -> Result<u64> {
        if self.pushed == 0 {
            return Err(GeoParquetError::Empty { path: self.path });
        }
        match self.options.layout() {
            Layout::Blob => self.finish_blob(),
            _ => self.finish_spec(),
        }
    }

    fn finish_blob(mut self) -> Result<u64> {
        if !self.buffer.is_empty() {
            self.flush_buffer()?;
        }
        let (writer, tmp, rows) = self.blob.take().expect("at least one item was flushed");
        let hints = FileHints {
            layout: Some(Layout::Blob),
            geometry_integers: self.stats.restore_ints(),
            ..FileHints::default()
        };
        let geo = metadata::geo(
            self.stats.types.iter().cloned().collect(),
            self.stats.bbox,
            None,
            false,
        );
        close(
            &self.path,
            writer,
            tmp,
            &[
                (metadata::GEO_KEY, geo),
                (metadata::HINTS_KEY, hints.to_json()),
            ],
        )?;
        Ok(rows)
    }

    fn finish_spec(mut self) -> Result<u64> {
        if self.sorted() {
            return self.finish_sorted();
        }
        let plan = self.inference.plan();
        let rows = batch_rows(&self.options);
        let spill = match self.spill.take() {
            Some(spill) => {
                let mut file = spill
                    .into_inner()
                    .map_err(|e| GeoParquetError::io(&self.path, e.into_error()))?;
                file.rewind()
                    .map_err(|e| GeoParquetError::io(&self.path, e))?;
                Some(file)
            }
            None => None,
        };
        let mut reader = spill
            .as_ref()
            .map(|f| BufReader::with_capacity(1 << 20, f.as_file()));
        let mut held = std::mem::take(&mut self.held).into_iter();
        let mut first = 0u64;
        let path = self.path.clone();
        // The spill in batches of `rows` lines, then the items held.
        let next = || -> Result<Option<Job>> {
            if let Some(r) = &mut reader {
                let mut chunk = Vec::with_capacity(rows);
                while chunk.len() < rows {
                    let mut line = Vec::new();
                    let n = r
                        .read_until(b'\n', &mut line)
                        .map_err(|e| GeoParquetError::io(&path, e))?;
                    if n == 0 {
                        break;
                    }
                    chunk.push(line);
                }
                if !chunk.is_empty() {
                    let job = Job {
                        first,
                        texts: chunk,
                    };
                    first += job.texts.len() as u64;
                    return Ok(Some(job));
                }
                reader = None;
            }
            let chunk: Vec<Vec<u8>> = held.by_ref().take(rows).map(String::into_bytes).collect();
            if chunk.is_empty() {
                return Ok(None);
            }
            let job = Job {
                first,
                texts: chunk,
            };
            first += job.texts.len() as u64;
            Ok(Some(job))
        };
        let (writer, tmp, done) = self.encode_all(&plan, next)?;
        self.close_spec(&plan, writer, tmp)?;
        Ok(done)
    }

    /// Spill everything, then encode the items in sorted order, read back
    /// from the spill by offset.
    fn finish_sorted(mut self) -> Result<u64> {
        if !self.held.is_empty() {
            self.flush_buffer()?;
        }
        let order = crate::order::permutation(&self.keys, self.options.sort());
        let mut position = vec![0u32; order.len()];
        for (k, &i) in order.iter().enumerate() {
            position[i as usize] = k as u32;
        }
        let mut plan = self.inference.plan();
        for (_, runs) in &mut plan.hints.null_rows {
            *runs = crate::nulls::remap(runs, &position);
        }
        let spill = self.spill.take().expect("sorted writes spill every item");
        let file = spill
            .into_inner()
            .map_err(|e| GeoParquetError::io(&self.path, e.into_error()))?;
        let rows = batch_rows(&self.options);
        let spilled = std::mem::take(&mut self.spilled);
        let path = self.path.clone();
        let mut at = 0usize;
        let next = || -> Result<Option<Job>> {
            let end = (at + rows).min(order.len());
            let mut chunk = Vec::with_capacity(end - at);
            for &i in &order[at..end] {
                let (offset, len) = spilled[i as usize];
                let mut text = vec![0; len as usize];
                read_at(file.as_file(), &mut text, offset)
                    .map_err(|e| GeoParquetError::io(&path, e))?;
                chunk.push(text);
            }
            let first = at as u64;
            at = end;
            Ok((!chunk.is_empty()).then_some(Job {
                first,
                texts: chunk,
            }))
        };
        let (writer, tmp, done) = self.encode_all(&plan, next)?;
        self.close_spec(&plan, writer, tmp)?;
        Ok(done)
    }

    /// Encode every batch `next` gives on [`WriteOptions::threads`]
    /// workers and write the record batches in order. Returns the open
    /// Parquet writer, its temp file and the number of rows written.
    fn encode_all(
        &mut self,
        plan: &layout::Plan,
        next: impl FnMut() -> Result<Option<Job>>,
    ) -> Result<(ArrowWriter<File>, NamedTempFile, u64)> {
        let (mut writer, tmp) = open_parquet(&self.path, &self.options, plan.schema.clone())?;
        let total = self.pushed;
        let mut done = 0u64;
        let path = self.path.clone();
        let (stats, progress) = (&mut self.stats, &mut self.progress);
        crate::pipeline::ordered(
            self.options.threads(),
            next,
            |job| job.encode(&path, plan),
            |reason| {
                Err(GeoParquetError::Parquet {
                    path: path.clone(),
                    message: format!("encoding a batch of items failed: {reason}"),
                })
            },
            |encoded| {
                let (batch, batch_stats) = encoded?;
                write_batch(&path, &mut writer, &batch)?;
                stats.merge(batch_stats);
                done += batch.num_rows() as u64;
                if let Some(p) = progress {
                    p(Progress::Written { done, total });
                }
                Ok(())
            },
        )?;
        Ok((writer, tmp, done))
    }

    /// Write the spec layout's metadata and move the file into place.
    fn close_spec(
        &self,
        plan: &layout::Plan,
        writer: ArrowWriter<File>,
        tmp: NamedTempFile,
    ) -> Result<()> {
        let mut hints = plan.hints.clone();
        hints.geometry_integers = self.stats.restore_ints();
        let geo = metadata::geo(
            self.stats.types.iter().cloned().collect(),
            self.stats.bbox,
            plan.covering,
            plan.proj_geometry,
        );
        close(
            &self.path,
            writer,
            tmp,
            &[
                (metadata::GEO_KEY, geo),
                (
                    metadata::STAC_GEOPARQUET_KEY,
                    metadata::stac_geoparquet(self.options.collections()),
                ),
                (metadata::HINTS_KEY, hints.to_json()),
            ],
        )
    }
}

/// One batch of the encoding pass: the input number of its first item,
/// and the items' JSON text.
struct Job {
    first: u64,
    texts: Vec<Vec<u8>>,
}

impl Job {
    /// Parse and encode the batch, with its geometry statistics.
    fn encode(
        self,
        path: &Path,
        plan: &layout::Plan,
    ) -> Result<(arrow_array::RecordBatch, GeometryStats)> {
        let mut items = Vec::with_capacity(self.texts.len());
        for text in &self.texts {
            let item = Json::parse_slice(text)
                .map_err(|e| GeoParquetError::io(path, std::io::Error::other(e)))?;
            items.push(item);
        }
        let mut stats = GeometryStats::default();
        let batch = plan.encode(path, self.first, &items, &mut stats)?;
        Ok((batch, stats))
    }
}

/// Read `buf.len()` bytes at `offset`.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// Items held and encoded at a time: at most one row group, and at most
/// [`BATCH_ROWS`] (JSON values of large items take ~10× their text size;
/// the Parquet writer cuts row groups itself from smaller batches).
fn batch_rows(options: &WriteOptions) -> usize {
    options.row_group_size().min(BATCH_ROWS)
}

/// Upper bound of items held in memory as JSON values (per worker thread).
const BATCH_ROWS: usize = 500;

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Where the temporary files of a write to `path` go: the options'
/// [`WriteOptions::temp_dir`], else the output's directory.
pub(crate) fn temp_dir(path: &Path, options: &WriteOptions) -> PathBuf {
    options
        .temp_dir()
        .map_or_else(|| parent_dir(path), Path::to_path_buf)
}

/// The temp file that becomes the output on rename. `NamedTempFile` creates
/// files readable by the owner only (0600); an output file gets the usual
/// 0644 instead.
fn output_tempfile(dir: &Path) -> std::io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".stac-geoparquet-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder.tempfile_in(dir)
}

fn open_parquet(
    path: &Path,
    options: &WriteOptions,
    schema: arrow_schema::SchemaRef,
) -> Result<(ArrowWriter<File>, NamedTempFile)> {
    let tmp =
        output_tempfile(&temp_dir(path, options)).map_err(|e| GeoParquetError::io(path, e))?;
    let file = tmp.reopen().map_err(|e| GeoParquetError::io(path, e))?;
    let compression = match options.compression() {
        Compression::None => PqCompression::UNCOMPRESSED,
        Compression::Snappy => PqCompression::SNAPPY,
        Compression::Zstd(level) => PqCompression::ZSTD(
            ZstdLevel::try_new(level).map_err(|e| GeoParquetError::parquet(path, e))?,
        ),
    };
    let mut props = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(options.row_group_size()))
        .set_data_page_row_count_limit(options.page_rows())
        .set_write_batch_size(options.page_rows().min(1024))
        .set_dictionary_page_size_limit(DICTIONARY_PAGE_BYTES);
    // Timestamps are mostly distinct and ordered: delta encoding beats a
    // dictionary by far (µs timestamps stay as small as rustac's ms ones).
    for field in schema.fields() {
        if matches!(field.data_type(), arrow_schema::DataType::Timestamp(_, _)) {
            let column = ColumnPath::from(field.name().as_str());
            props = props
                .set_column_dictionary_enabled(column.clone(), false)
                .set_column_encoding(column, Encoding::DELTA_BINARY_PACKED);
        }
    }
    props = chunk_statistics_only(path, &schema, props)?;
    let props = props.build();
    let writer = ArrowWriter::try_new(file, schema, Some(props))
        .map_err(|e| GeoParquetError::parquet(path, e))?;
    Ok((writer, tmp))
}

/// Dictionary page size limit of every column (arrow-rs's default: 1 MiB).
///
/// A column chunk's values are dictionary-encoded until its dictionary
/// reaches this size, then written plain. Columns of mostly distinct values
/// (checksums, file sizes, hrefs, angles) filled a 1 MiB dictionary before
/// falling back: 28 MB of dictionary pages per 100 000 realistic items,
/// which a reader must decompress whole to decode any dictionary-encoded
/// page, so a selective search decompressed ~1 MB per column per file for
/// a few matching rows. With 64 KiB such columns fall back after a few
/// hundred to a few thousand rows (2.2 MB of dictionaries per 100 000
/// items) and the file is 4 % smaller (a dictionary of distinct values
/// costs its indices on top of the values); columns with few values
/// (roles, types, band names) keep their dictionary whole.
const DICTIONARY_PAGE_BYTES: usize = 64 * 1024;

/// Columns nested in `assets` and `links` keep their column-chunk
/// statistics but get no page index: no search prunes pages on them (ours
/// prunes pages on top-level columns only; DuckDB, GDAL and GeoPandas on
/// the bbox, datetime and plain columns), and their per-page min/max text
/// (hrefs, checksums) was most of the page index. Their pages have the
/// same row limit as the others (the offset index still lets a reader
/// skip to the pages of the rows it wants): pages of 20 000 rows made a
/// selective search decompress 5× more of these columns, and the file is
/// no smaller with them once mostly distinct columns drop their
/// dictionaries ([`DICTIONARY_PAGE_BYTES`]).
fn chunk_statistics_only(
    path: &Path,
    schema: &arrow_schema::SchemaRef,
    mut props: parquet::file::properties::WriterPropertiesBuilder,
) -> Result<parquet::file::properties::WriterPropertiesBuilder> {
    let descr = parquet::arrow::ArrowSchemaConverter::new()
        .convert(schema)
        .map_err(|e| GeoParquetError::parquet(path, e))?;
    for column in descr.columns() {
        if matches!(
            column.path().parts().first().map(String::as_str),
            Some("assets" | "links")
        ) {
            props = props.set_column_statistics_enabled(
                column.path().clone(),
                parquet::file::properties::EnabledStatistics::Chunk,
            );
        }
    }
    Ok(props)
}

fn write_batch(
    path: &Path,
    writer: &mut ArrowWriter<File>,
    batch: &arrow_array::RecordBatch,
) -> Result<()> {
    writer
        .write(batch)
        .map_err(|e| GeoParquetError::parquet(path, e))
}

fn close(
    path: &Path,
    mut writer: ArrowWriter<File>,
    tmp: NamedTempFile,
    metadata: &[(&str, Value)],
) -> Result<()> {
    for (key, value) in metadata {
        writer.append_key_value_metadata(KeyValue::new(key.to_string(), value.to_string()));
    }
    writer
        .close()
        .map_err(|e| GeoParquetError::parquet(path, e))?;
    tmp.persist(path)
        .map_err(|e| GeoParquetError::io(path, e.error))?;
    Ok(())
}

/// Write `items` to `path` as stac-geoparquet (atomically: temp file + rename).
///
/// The schema is unified over all items. Returns the number of rows written.
///
/// ```
/// use serde_json::json;
/// let item = json!({"type": "Feature", "stac_version": "1.0.0", "id": "scene-0",
///     "geometry": {"type": "Point", "coordinates": [-1.66, 47.84]},
///     "bbox": [-1.66, 47.84, -1.66, 47.84],
///     "properties": {"datetime": "2021-06-01T00:00:00Z", "proj:code": "EPSG:32630"},
///     "links": [], "assets": {}});
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("catalog.parquet");
/// stac_geoparquet::to_geoparquet(&[item.clone()], &path, &Default::default())?;
/// assert_eq!(stac_geoparquet::from_geoparquet(&path)?, vec![item]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_geoparquet(
    items: &[Value],
    path: impl AsRef<Path>,
    options: &WriteOptions,
) -> Result<u64> {
    let path = path.as_ref();
    if items.is_empty() {
        return Err(GeoParquetError::Empty {
            path: path.to_path_buf(),
        });
    }
    if options.sort() != SortOrder::None {
        // Sorting reads the items back by offset: the streaming writer does it.
        let mut w = Writer::create(path, options.clone())?;
        for item in items {
            w.push(item.clone())?;
        }
        return w.finish();
    }
    // All items are in memory already: infer over the slice, then encode it
    // in row groups, without a spill file.
    let mut inference = Inference::default();
    for (i, item) in items.iter().enumerate() {
        match options.layout() {
            Layout::Blob => {
                layout::check_item(path, i as u64, item)?;
            }
            _ => inference.push(path, i as u64, &Json::from_value(item))?,
        }
    }
    let rows = batch_rows(options);
    match options.layout() {
        Layout::Blob => {
            let (mut w, tmp) = open_parquet(path, options, layout::blob_schema())?;
            let mut stats = GeometryStats::default();
            for (n, chunk) in items.chunks(rows).enumerate() {
                let batch = layout::encode_blob(path, (n * rows) as u64, chunk, &mut stats)?;
                write_batch(path, &mut w, &batch)?;
            }
            let hints = FileHints {
                layout: Some(Layout::Blob),
                geometry_integers: stats.restore_ints(),
                ..FileHints::default()
            };
            let geo = metadata::geo(
                stats.types.iter().cloned().collect(),
                stats.bbox,
                None,
                false,
            );
            close(
                path,
                w,
                tmp,
                &[
                    (metadata::GEO_KEY, geo),
                    (metadata::HINTS_KEY, hints.to_json()),
                ],
            )?;
        }
        _ => {
            let plan = inference.plan();
            let (mut w, tmp) = open_parquet(path, options, plan.schema.clone())?;
            let mut stats = GeometryStats::default();
            for (n, chunk) in items.chunks(rows).enumerate() {
                let chunk: Vec<Json<'_>> = chunk.iter().map(Json::from_value).collect();
                let batch = plan.encode(path, (n * rows) as u64, &chunk, &mut stats)?;
                write_batch(path, &mut w, &batch)?;
            }
            let mut hints = plan.hints.clone();
            hints.geometry_integers = stats.restore_ints();
            let geo = metadata::geo(
                stats.types.iter().cloned().collect(),
                stats.bbox,
                plan.covering,
                plan.proj_geometry,
            );
            close(
                path,
                w,
                tmp,
                &[
                    (metadata::GEO_KEY, geo),
                    (
                        metadata::STAC_GEOPARQUET_KEY,
                        metadata::stac_geoparquet(options.collections()),
                    ),
                    (metadata::HINTS_KEY, hints.to_json()),
                ],
            )?;
        }
    }
    Ok(items.len() as u64)
}
