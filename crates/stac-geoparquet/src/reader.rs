//! The streaming [`Reader`] and [`from_geoparquet`].
//!
//! The layout is detected from the file: a `stac_item` column without
//! `stac-geoparquet` metadata is the JSON-blob layout; `stac-geoparquet` or
//! `geo` metadata, or STAC columns (`id` plus `geometry`, `stac_version` or
//! `type`), is the spec layout. Anything else is refused.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use serde_json::{Map, Value};

use crate::decode::{Decoder, RowError, Rows};
use crate::error::{GeoParquetError, Limit, Result};
use crate::guard::guarded;
use crate::limits::{ReadOptions, human_bytes};
use crate::metadata::{self, FileHints};
use crate::nulls::NullRows;
use crate::options::Layout;

/// Rows read from Parquet at a time (one record batch).
const BATCH_ROWS: usize = 1024;

/// Rows decoded into items at a time by the iterator (few enough that the
/// items are still in the CPU cache when the caller uses them).
const BLOCK_ROWS: usize = 16;

/// Record batches each NDJSON worker may be given ahead of the output.
const AHEAD: usize = 2;

/// Threads writing NDJSON: one per core.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A compiled record batch to write as NDJSON: its first row in the file,
/// and the first of its rows left to write.
struct Batch {
    rows: Rows,
    first: u64,
    from: usize,
}

/// A batch written as NDJSON: the bytes, the end of each row's line, what
/// each row would take as a `Value` (for the row-group budget), and the
/// error that stopped it (after the rows written).
struct Written {
    first: u64,
    from: usize,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    costs: Vec<u64>,
    error: Option<RowError>,
}

impl Batch {
    /// The batch's items as NDJSON, in `bytes` (cleared first: a buffer
    /// of an earlier batch, reused).
    fn write(mut self, nulls: &NullRows, options: &ReadOptions, mut bytes: Vec<u8>) -> Written {
        bytes.clear();
        let n = self.rows.len() - self.from;
        let mut w = Written {
            first: self.first,
            from: self.from,
            bytes,
            ends: Vec::with_capacity(n),
            costs: Vec::with_capacity(n),
            error: None,
        };
        let mut extras = Vec::new();
        for row in self.from..self.rows.len() {
            extras.clear();
            nulls.extras(self.first + row as u64, &mut extras);
            match self.rows.write_item(row, &extras, &mut w.bytes, options) {
                Ok(cost) => {
                    w.ends.push(w.bytes.len());
                    w.costs.push(cost);
                }
                Err(e) => {
                    w.error = Some(e);
                    break;
                }
            }
        }
        w
    }
}

/// A streaming reader: an iterator of items (or, with
/// [`Reader::into_batches`], of Arrow record batches), one batch in memory
/// at a time.
///
/// Items are built straight from the Arrow buffers, a few rows at a time as
/// they are asked for (so they are still in the CPU cache when the caller
/// uses them).
///
/// ```
/// use serde_json::json;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("items.parquet");
/// let items: Vec<_> = (0..3).map(|i| json!({"id": format!("a{i}"), "geometry": null, "properties": {}})).collect();
/// stac_geoparquet::to_geoparquet(&items, &path, &Default::default())?;
/// let reader = stac_geoparquet::Reader::open(&path)?;
/// assert_eq!(reader.num_rows(), 3);
/// let ids: Vec<String> = reader.map(|i| Ok(i?["id"].as_str().unwrap().to_string())).collect::<stac_geoparquet::Result<_>>()?;
/// assert_eq!(ids, ["a0", "a1", "a2"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Reader {
    path: PathBuf,
    schema: SchemaRef,
    layout: Layout,
    collections: Map<String, Value>,
    num_rows: u64,
    source: Source,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.path)
            .field("layout", &self.layout)
            .field("num_rows", &self.num_rows)
            .field("row", &self.source.row)
            .finish_non_exhaustive()
    }
}

/// Record batches → items.
struct Source {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
    layout: Layout,
    decoder: Decoder,
    /// The row groups, in order: where each ends and what it may decode to.
    groups: Vec<Group>,
    /// The row group being decoded, and what its items took so far.
    group: usize,
    group_used: u64,
    /// Rows read from the file so far.
    row: u64,
    /// The record batch being decoded, its first row in the file, and the
    /// next of its rows to decode.
    rows: Option<(Rows, u64, usize)>,
    /// Items decoded and not returned yet.
    pending: VecDeque<Value>,
    /// An error met after the items in `pending`: returned after them.
    error: Option<GeoParquetError>,
    /// Nothing more to decode (the end, or an error).
    done: bool,
    /// Explicit nulls to put back, by file row.
    nulls: NullRows,
}

/// One row group: its rows, its size in the file and its decoded-size budget.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: u64,
    end: u64,
    stored: u64,
    budget: u64,
    /// The option that sets the budget.
    option: &'static str,
}

impl Group {
    fn limit_error(&self, path: &Path, index: usize, what: &str) -> GeoParquetError {
        GeoParquetError::LimitExceeded(Box::new(Limit {
            path: path.to_path_buf(),
            row: Some(self.start),
            id: None,
            column: None,
            reason: format!(
                "row group {index} (rows {}..{}, {} in the file) {what} more than its budget of {}",
                self.start,
                self.end,
                human_bytes(self.stored),
                human_bytes(self.budget)
            ),
            option: self.option,
        }))
    }
}

/// The row groups of a file with their budgets; `Err` when the footer says
/// that a row group's pages alone (uncompressed, plus a byte per value)
/// exceed its budget: refused before the decoder allocates them.
fn row_groups(
    path: &Path,
    meta: &parquet::file::metadata::ParquetMetaData,
    file_len: u64,
    options: &ReadOptions,
) -> Result<Vec<Group>> {
    let mut groups = Vec::with_capacity(meta.num_row_groups());
    let mut start = 0u64;
    let mut stored_total = 0u64;
    for (i, rg) in meta.row_groups().iter().enumerate() {
        let rows = u64::try_from(rg.num_rows()).unwrap_or(0);
        let end = start.saturating_add(rows);
        let positive = |n: i64| u64::try_from(n).unwrap_or(0);
        let mut stored = 0u64;
        let mut pages = 0u64;
        for c in rg.columns() {
            stored = stored.saturating_add(positive(c.compressed_size()));
            pages = pages
                .saturating_add(positive(c.uncompressed_size()))
                .saturating_add(positive(c.num_values()));
        }
        // What the footer claims cannot be more than the file holds.
        let stored = stored.min(file_len.saturating_sub(stored_total));
        stored_total = stored_total.saturating_add(stored);
        let budget = options.row_group_budget(stored);
        // The setter that raises this budget.
        let option = if budget == options.max_row_group_bytes()
            && options.max_expansion().saturating_mul(stored) > budget
        {
            "with_max_row_group_bytes"
        } else {
            "with_max_expansion"
        };
        let group = Group {
            start,
            end,
            stored,
            budget,
            option,
        };
        if pages > budget {
            return Err(group.limit_error(
                path,
                i,
                &format!(
                    "has {} of pages and values uncompressed,",
                    human_bytes(pages)
                ),
            ));
        }
        groups.push(group);
        start = end;
    }
    Ok(groups)
}

/// Two fields with the same name side by side (columns, or fields of one
/// struct): `Some(description)`.
fn duplicated_name(fields: &arrow_schema::Fields, at: &str) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    for f in fields {
        if !seen.insert(f.name().as_str()) {
            return Some(if at.is_empty() {
                format!(
                    "two columns are named {:?}: one would silently replace the other",
                    f.name()
                )
            } else {
                format!(
                    "two fields of {at:?} are named {:?}: one would silently replace the other",
                    f.name()
                )
            });
        }
    }
    fields.iter().find_map(|f| {
        let at = if at.is_empty() {
            f.name().clone()
        } else {
            format!("{at}.{}", f.name())
        };
        nested_fields(f.data_type()).and_then(|children| duplicated_name(&children, &at))
    })
}

/// The struct fields under a type (through lists, maps and dictionaries).
fn nested_fields(ty: &DataType) -> Option<arrow_schema::Fields> {
    match ty {
        DataType::Struct(fields) => Some(fields.clone()),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => nested_fields(f.data_type()),
        DataType::Dictionary(_, v) => nested_fields(v),
        _ => None,
    }
}

fn row_error(path: &Path, first: u64, e: RowError) -> GeoParquetError {
    let row = first + e.row as u64;
    row_error_at(path, row, e)
}

/// A decoding failure of file row `row`, typed (a passed limit is
/// [`GeoParquetError::LimitExceeded`]).
pub(crate) fn row_error_at(path: &Path, row: u64, e: RowError) -> GeoParquetError {
    match e.option {
        Some(option) => GeoParquetError::LimitExceeded(Box::new(Limit {
            path: path.to_path_buf(),
            row: Some(row),
            id: e.id,
            column: Some(e.column),
            reason: e.reason,
            option,
        })),
        None => GeoParquetError::InvalidRow {
            path: path.to_path_buf(),
            row,
            id: e.id,
            column: e.column,
            reason: e.reason,
        },
    }
}

impl Source {
    /// Make sure a record batch with rows left to decode is at hand:
    /// `Ok(false)` at the end of the file.
    fn load(&mut self) -> Result<bool> {
        if let Some((rows, _, next)) = &self.rows {
            if *next < rows.len() {
                return Ok(true);
            }
        }
        self.rows = None;
        loop {
            let next = match guarded(|| self.inner.next()) {
                Ok(None) => return Ok(false),
                Ok(Some(next)) => next.map_err(|e| e.to_string()),
                Err(message) => Err(message),
            };
            let batch = next.map_err(|e| GeoParquetError::Parquet {
                path: self.path.clone(),
                message: format!("row {}: {e}", self.row),
            })?;
            let first = self.row;
            self.row += batch.num_rows() as u64;
            if batch.num_rows() == 0 {
                continue;
            }
            let rows = match self.layout {
                Layout::Blob => Rows::blob(&batch),
                _ => self.decoder.compile(&batch),
            };
            self.rows = Some((rows.map_err(|e| row_error(&self.path, first, e))?, first, 0));
            return Ok(true);
        }
    }

    /// Make sure a record batch with rows left is at hand: `None` when
    /// nothing more can be decoded, `Some(Err)` ends the source.
    fn ready(&mut self) -> Option<Result<()>> {
        if self.done {
            return None;
        }
        match self.load() {
            Ok(true) => Some(Ok(())),
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Decode up to `max` more rows of the current record batch (never
    /// past the end of a row group), appending to `out`; an error (after
    /// the items before the bad row) is kept in `self.error` and ends the
    /// source.
    fn decode(&mut self, max: usize, out: &mut Vec<Value>) {
        let Some((rows, first, next)) = self.rows.as_mut() else {
            return;
        };
        let at = *first + *next as u64;
        while self.groups.get(self.group).is_some_and(|g| at >= g.end) {
            self.group += 1;
            self.group_used = 0;
        }
        let group = self.groups.get(self.group).copied();
        let left_in_group = group.map_or(usize::MAX, |g| {
            usize::try_from(g.end - at).unwrap_or(usize::MAX)
        });
        let end = next
            .saturating_add(max.min(left_in_group).max(1))
            .min(rows.len());
        let before = out.len();
        let start = *first + *next as u64;
        match rows.items(*next..end, out, self.decoder.options()) {
            Ok(done) => {
                *next += done.rows;
                self.group_used = self.group_used.saturating_add(done.bytes);
                if let Some(g) = group {
                    if self.group_used > g.budget {
                        // Nothing past the budget is handed out.
                        out.truncate(before);
                        self.error = Some(g.limit_error(&self.path, self.group, "decodes to"));
                        self.done = true;
                    }
                }
            }
            Err(e) => {
                *next = end;
                self.error = Some(row_error(&self.path, *first, e));
                self.done = true;
            }
        }
        for (k, item) in out[before..].iter_mut().enumerate() {
            self.nulls.restore(item, start + k as u64);
        }
    }

    /// [`Reader::write_ndjson`]: the calling thread reads the record
    /// batches and writes the output in order; `threads` workers turn
    /// batches into NDJSON bytes, at most [`AHEAD`] batches per worker
    /// ahead of the output. The row-group budgets are applied in file
    /// order on the calling thread, as the iterator applies them.
    fn write_ndjson(
        &mut self,
        out: &mut dyn std::io::Write,
        progress: &mut dyn FnMut(u64),
        threads: usize,
    ) -> Result<u64> {
        use std::collections::BTreeMap;
        use std::sync::{Mutex, mpsc};
        let io = |e: std::io::Error| GeoParquetError::io("<output>", e);
        let mut n = 0u64;
        {
            // Items the iterator already decoded come first.
            let mut buf = Vec::new();
            for item in self.pending.drain(..) {
                serde_json::to_writer(&mut buf, &item).map_err(|e| io(e.into()))?;
                buf.push(b'\n');
                n += 1;
            }
            out.write_all(&buf).map_err(io)?;
        }
        let threads = threads.max(1);
        let window = threads * AHEAD;
        let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Batch)>(threads);
        let work_rx = Mutex::new(work_rx);
        let (done_tx, done_rx) = mpsc::channel::<(usize, Written)>();
        let nulls = self.nulls.clone();
        let options = self.decoder.options().clone();
        // Output buffers written out, reused by the next batches (their
        // pages stay mapped: fresh ones cost the kernel zeroing them).
        let pool: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let done_tx = done_tx.clone();
                let (work_rx, nulls, options, pool) = (&work_rx, &nulls, &options, &pool);
                scope.spawn(move || {
                    loop {
                        let job = work_rx
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok((seq, batch)) = job else { return };
                        let (first, from) = (batch.first, batch.from);
                        // A panic must not leave the output waiting for this batch.
                        let buf = pool
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .pop()
                            .unwrap_or_default();
                        let w = crate::guard::guarded(|| batch.write(nulls, options, buf))
                            .unwrap_or_else(|reason| Written {
                                first,
                                from,
                                bytes: Vec::new(),
                                ends: Vec::new(),
                                costs: Vec::new(),
                                error: Some(RowError {
                                    row: from,
                                    column: String::new(),
                                    id: None,
                                    reason,
                                    option: None,
                                }),
                            });
                        if done_tx.send((seq, w)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut work_tx = Some(work_tx);
            let mut sent = 0usize;
            let mut written = 0usize;
            let mut ready: BTreeMap<usize, Written> = BTreeMap::new();
            // The end of the batches: Ok at the end of the file, or the
            // error reading the next batch (after the batches sent).
            let mut end: Option<Result<()>> = None;
            let mut failed = None;
            loop {
                // Write what is finished, in order; nothing after an error.
                while let Some(mut w) = ready.remove(&written) {
                    written += 1;
                    let applied = self.apply(&mut w, out, &mut n);
                    pool.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(std::mem::take(&mut w.bytes));
                    if let Err(e) = applied {
                        failed = Some(e);
                        break;
                    }
                    progress(n);
                }
                if failed.is_some() {
                    break;
                }
                let feed = end.is_none() && sent < written + window;
                if feed {
                    match self.next_batch_whole() {
                        Ok(Some(batch)) => {
                            if let Some(tx) = &work_tx {
                                if tx.send((sent, batch)).is_err() {
                                    end = Some(Ok(()));
                                }
                            }
                            sent += 1;
                            continue;
                        }
                        Ok(None) => end = Some(Ok(())),
                        Err(e) => end = Some(Err(e)),
                    }
                    continue;
                }
                if written == sent {
                    break;
                }
                // Wait for the next result.
                match done_rx.recv() {
                    Ok((seq, w)) => {
                        ready.insert(seq, w);
                    }
                    Err(_) => {
                        failed = Some(GeoParquetError::Parquet {
                            path: self.path.clone(),
                            message: "the NDJSON writer threads stopped".into(),
                        });
                        break;
                    }
                }
            }
            // Stop the workers (they end when the queue is closed).
            work_tx.take();
            match failed {
                Some(e) => Err(e),
                None => end.unwrap_or(Ok(())).map(|()| n),
            }
        })
    }

    /// The rest of the current record batch, or the next one, to write
    /// whole: `None` at the end. An error kept from an earlier call is
    /// returned.
    fn next_batch_whole(&mut self) -> Result<Option<Batch>> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.ready() {
            None => Ok(None),
            Some(Err(e)) => Err(e),
            Some(Ok(())) => {
                Ok(self
                    .rows
                    .take()
                    .map(|(rows, first, from)| Batch { rows, first, from }))
            }
        }
    }

    /// Write one batch's NDJSON, applying the row-group budgets in order;
    /// an error after the rows before it were written.
    fn apply(&mut self, w: &mut Written, out: &mut dyn std::io::Write, n: &mut u64) -> Result<()> {
        let io = |e: std::io::Error| GeoParquetError::io("<output>", e);
        let mut error = None;
        let mut keep = w.ends.len();
        for (k, cost) in w.costs.iter().enumerate() {
            let at = w.first + (w.from + k) as u64;
            while self.groups.get(self.group).is_some_and(|g| at >= g.end) {
                self.group += 1;
                self.group_used = 0;
            }
            self.group_used = self.group_used.saturating_add(*cost);
            if let Some(g) = self.groups.get(self.group) {
                if self.group_used > g.budget {
                    // Nothing past the budget is handed out.
                    keep = k;
                    error = Some(g.limit_error(&self.path, self.group, "decodes to"));
                    break;
                }
            }
        }
        let end = if keep == 0 { 0 } else { w.ends[keep - 1] };
        out.write_all(&w.bytes[..end]).map_err(io)?;
        *n += keep as u64;
        if let Some(e) = error {
            self.done = true;
            return Err(e);
        }
        if let Some(e) = w.error.take() {
            self.done = true;
            return Err(row_error(&self.path, w.first, e));
        }
        Ok(())
    }

    /// The next item.
    fn next_item(&mut self) -> Option<Result<Value>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            if let Err(e) = self.ready()? {
                return Some(Err(e));
            }
            let mut block = Vec::with_capacity(BLOCK_ROWS);
            self.decode(BLOCK_ROWS, &mut block);
            self.pending.extend(block);
        }
    }

    /// The items of the current record batch not returned yet, or of the next one.
    fn next_batch(&mut self) -> Option<Result<Vec<Value>>> {
        let mut items: Vec<Value> = self.pending.drain(..).collect();
        if items.is_empty() {
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            if let Err(e) = self.ready()? {
                return Some(Err(e));
            }
        }
        // Block by block: the decoder's buffers stay small.
        while !self.done
            && self
                .rows
                .as_ref()
                .is_some_and(|(rows, _, next)| *next < rows.len())
        {
            self.decode(BLOCK_ROWS, &mut items);
        }
        if items.is_empty() {
            return self.error.take().map(Err);
        }
        Some(Ok(items))
    }
}

/// What a file's metadata says about how to read it.
#[derive(Debug, Clone)]
pub(crate) struct FileInfo {
    pub layout: Layout,
    /// This crate's hints (files we wrote).
    pub hints: Option<FileHints>,
    /// Collections of the `stac-geoparquet` metadata, by id.
    pub collections: Map<String, Value>,
    /// The GeoParquet `geo` metadata.
    pub geo: Option<Value>,
}

impl FileInfo {
    /// Detect the layout and read the metadata keys of a file.
    pub(crate) fn read(
        path: &Path,
        metadata: &parquet::file::metadata::ParquetMetaData,
        schema: &arrow_schema::Schema,
    ) -> Result<Self> {
        // The first value of a key repeated in the footer wins.
        let mut kv = std::collections::HashMap::new();
        for e in metadata
            .file_metadata()
            .key_value_metadata()
            .into_iter()
            .flatten()
        {
            if let Some(v) = &e.value {
                kv.entry(e.key.clone()).or_insert_with(|| v.clone());
            }
        }
        Self::from_metadata(path, |k| kv.get(k).cloned(), schema)
    }

    /// Detect the layout from key-value metadata (a file's footer, an
    /// Arrow schema's metadata) and the columns.
    pub(crate) fn from_metadata(
        path: &Path,
        kv: impl Fn(&str) -> Option<String>,
        schema: &arrow_schema::Schema,
    ) -> Result<Self> {
        let path = path.to_path_buf();
        let meta =
            |key: &str| -> Option<Value> { kv(key).and_then(|v| serde_json::from_str(&v).ok()) };
        let hints = meta(metadata::HINTS_KEY).and_then(|v| FileHints::from_json(&v));
        let stac = meta(metadata::STAC_GEOPARQUET_KEY);
        let geo = meta(metadata::GEO_KEY);
        let has = |name: &str| schema.field_with_name(name).is_ok();
        let layout = match hints.as_ref().and_then(|h| h.layout) {
            Some(l) => l,
            None if stac.is_none() && has("stac_item") => Layout::Blob,
            None if stac.is_some()
                || (has("id")
                    && (geo.is_some()
                        || has("geometry")
                        || has("stac_version")
                        || has("type"))) =>
            {
                Layout::Spec
            }
            None => {
                return Err(GeoParquetError::NotStacGeoParquet {
                    path,
                    reason: "no stac-geoparquet or geo metadata and no STAC columns (id, geometry, stac_version, type, stac_item)".into(),
                });
            }
        };
        if layout == Layout::Blob {
            match schema
                .field_with_name("stac_item")
                .map(|f| f.data_type().clone())
            {
                Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {}
                _ => {
                    return Err(GeoParquetError::NotStacGeoParquet {
                        path,
                        reason: "JSON-blob layout without a string \"stac_item\" column".into(),
                    });
                }
            }
        }
        let collections = stac
            .as_ref()
            .map(|s| {
                let mut map = s
                    .get("collections")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                if let Some(c) = s.get("collection") {
                    let id = c
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    map.entry(id).or_insert_with(|| c.clone());
                }
                map
            })
            .unwrap_or_default();
        Ok(Self {
            layout,
            hints,
            collections,
            geo,
        })
    }

    /// The bbox covering columns the `geo` metadata declares for the
    /// primary geometry (`xmin`, `ymin`, `xmax`, `ymax` as column paths).
    pub(crate) fn covering(&self) -> Option<[Vec<String>; 4]> {
        let geo = self.geo.as_ref()?;
        let primary = geo.get("primary_column").and_then(Value::as_str)?;
        let bbox = geo
            .get("columns")?
            .get(primary)?
            .get("covering")?
            .get("bbox")?;
        let path = |k: &str| -> Option<Vec<String>> {
            bbox.get(k)?
                .as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        Some([path("xmin")?, path("ymin")?, path("xmax")?, path("ymax")?])
    }
}

impl Reader {
    /// Open a stac-geoparquet file (spec or JSON-blob layout) with the
    /// default [`ReadOptions`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, &ReadOptions::default())
    }

    /// Open a stac-geoparquet file with these options (limits on what the
    /// file may make the reader decode, the rule for non-finite floats).
    ///
    /// ```
    /// use serde_json::json;
    /// use stac_geoparquet::{Compression, GeoParquetError, ReadOptions, Reader, WriteOptions};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("items.parquet");
    /// let items = vec![json!({"id": "a", "geometry": null, "properties": {"note": "x".repeat(1 << 20)}})];
    /// let write = WriteOptions::default().with_compression(Compression::None);
    /// stac_geoparquet::to_geoparquet(&items, &path, &write)?;
    /// let small = ReadOptions::default().with_max_value_bytes(1 << 16);
    /// let err = Reader::open_with(&path, &small).and_then(|mut r| r.next().unwrap()).unwrap_err();
    /// assert!(matches!(&err, GeoParquetError::LimitExceeded(l) if l.option == "with_max_value_bytes"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_with(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| GeoParquetError::io(&path, e))?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let not_parquet = |message: String| GeoParquetError::NotParquet {
            path: path.clone(),
            message,
        };
        let builder = guarded(|| ParquetRecordBatchReaderBuilder::try_new(file))
            .map_err(not_parquet)?
            .map_err(|e| not_parquet(e.to_string()))?;
        let schema = builder.schema().clone();
        if let Some(reason) = duplicated_name(schema.fields(), "") {
            return Err(GeoParquetError::NotStacGeoParquet { path, reason });
        }
        let groups = row_groups(&path, builder.metadata(), file_len, options)?;
        let FileInfo {
            layout,
            hints,
            collections,
            geo,
        } = FileInfo::read(&path, builder.metadata(), &schema)?;
        let num_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let inner = guarded(|| builder.with_batch_size(BATCH_ROWS).build())
            .map_err(not_parquet)?
            .map_err(|e| not_parquet(e.to_string()))?;
        let source = Source {
            path: path.clone(),
            inner,
            layout,
            decoder: Decoder::new(hints.as_ref(), geo.as_ref(), options.clone()),
            nulls: NullRows::new(hints.as_ref()),
            groups,
            group: 0,
            group_used: 0,
            row: 0,
            rows: None,
            pending: VecDeque::new(),
            error: None,
            done: false,
        };
        Ok(Self {
            path,
            schema,
            layout,
            collections,
            num_rows,
            source,
        })
    }

    /// The detected layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of rows (items) in the file.
    pub fn num_rows(&self) -> u64 {
        self.num_rows
    }

    /// The Arrow schema of the file.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Collections stored in the `stac-geoparquet` metadata, by id.
    pub fn collections(&self) -> &Map<String, Value> {
        &self.collections
    }

    /// The raw Arrow record batches, as stored (no conversion to JSON).
    ///
    /// Called after items have been read, it gives the record batches after
    /// the one the last item came from.
    pub fn into_batches(self) -> impl Iterator<Item = Result<RecordBatch>> {
        let path = self.path;
        let mut inner = (!self.source.done).then_some(self.source.inner);
        std::iter::from_fn(move || {
            let next = match guarded(|| inner.as_mut()?.next()) {
                Ok(next) => next?.map_err(|e| GeoParquetError::parquet(&path, e)),
                Err(message) => Err(GeoParquetError::parquet(&path, message)),
            };
            if next.is_err() {
                inner = None; // the decoder is not used after an error
            }
            Some(next)
        })
    }

    /// Write every remaining item as NDJSON, one line each, straight from
    /// the Arrow columns (no [`Value`] built): the same bytes as
    /// `serde_json::to_writer` of each item the iterator gives, each
    /// followed by `\n`, with the same limits. Returns the number of items
    /// written; an error ends the reader after the items before the bad
    /// row were written.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("items.parquet");
    /// # let items: Vec<_> = (0..3).map(|i| json!({"id": format!("a{i}"), "geometry": null, "properties": {}})).collect();
    /// # stac_geoparquet::to_geoparquet(&items, &path, &Default::default())?;
    /// let mut out = Vec::new();
    /// let n = stac_geoparquet::Reader::open(&path)?.write_ndjson(&mut out)?;
    /// assert_eq!(n, 3);
    /// assert!(out.starts_with(br#"{"id":"a0","geometry":null,"properties":{}}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_ndjson(&mut self, out: &mut dyn std::io::Write) -> Result<u64> {
        self.source
            .write_ndjson(out, &mut |_| {}, default_threads())
    }

    /// [`Reader::write_ndjson`], calling `progress` with the number of
    /// items written so far after each record batch.
    pub fn write_ndjson_with(
        &mut self,
        out: &mut dyn std::io::Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        self.source.write_ndjson(out, progress, default_threads())
    }

    /// Items of the next record batch (the rest of the current one when
    /// [`Iterator::next`] already returned some of its items), or `None` at
    /// the end.
    pub fn next_batch(&mut self) -> Option<Result<Vec<Value>>> {
        self.source.next_batch()
    }
}

impl Iterator for Reader {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Self::Item> {
        self.source.next_item()
    }
}

/// Read every item of a stac-geoparquet file (either layout; files written
/// by stac-geoparquet, rustac and pyramids included).
///
/// ```no_run
/// let items = stac_geoparquet::from_geoparquet("catalog.parquet")?;
/// println!("{} items", items.len());
/// # Ok::<(), stac_geoparquet::GeoParquetError>(())
/// ```
pub fn from_geoparquet(path: impl AsRef<Path>) -> Result<Vec<Value>> {
    from_geoparquet_with(path, &ReadOptions::default())
}

/// [`from_geoparquet`] with these options.
///
/// ```no_run
/// use stac_geoparquet::{NonFinite, ReadOptions};
/// let options = ReadOptions::default().with_non_finite(NonFinite::Null);
/// let items = stac_geoparquet::from_geoparquet_with("catalog.parquet", &options)?;
/// # Ok::<(), stac_geoparquet::GeoParquetError>(())
/// ```
pub fn from_geoparquet_with(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Vec<Value>> {
    let mut reader = Reader::open_with(path, options)?;
    // The row count comes from the file's footer: a corrupt one must not
    // reserve memory that no data backs, so it is only a capped hint.
    let hint = usize::try_from(reader.num_rows()).unwrap_or(0);
    let mut items = Vec::with_capacity(hint.min(64 * BATCH_ROWS));
    while let Some(batch) = reader.next_batch() {
        items.extend(batch?);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use serde_json::json;

    use super::*;

    /// A JSON-blob file of `texts`, written `per_group` rows per row group.
    fn blob_file(dir: &Path, texts: &[&str], per_group: usize) -> PathBuf {
        let path = dir.join("blob.parquet");
        let batch = RecordBatch::try_from_iter(vec![(
            "stac_item",
            Arc::new(StringArray::from(texts.to_vec())) as ArrayRef,
        )])
        .unwrap();
        let file = File::create(&path).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(per_group))
            .build();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        path
    }

    #[test]
    fn items_before_a_bad_row_come_first_then_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = blob_file(dir.path(), &[r#"{"id":"a"}"#, "{oops", r#"{"id":"c"}"#], 10);
        let mut reader = Reader::open(&path).unwrap();
        assert_eq!(reader.next().unwrap().unwrap(), json!({"id": "a"}));
        let err = reader.next().unwrap().unwrap_err();
        assert!(
            matches!(&err, GeoParquetError::InvalidRow { row: 1, column, .. } if column == "stac_item"),
            "{err}"
        );
        assert!(reader.next().is_none());

        let mut reader = Reader::open(&path).unwrap();
        assert_eq!(reader.next_batch().unwrap().unwrap(), [json!({"id": "a"})]);
        assert!(reader.next_batch().unwrap().is_err());
        assert!(reader.next_batch().is_none());
        assert!(from_geoparquet(&path).is_err());
    }

    /// A blob row whose JSON is not an object (found by the `arrow_schema`
    /// fuzz target: `66666` came back as an item) is a row error naming the
    /// row, the column and what the value is.
    #[test]
    fn blob_rows_that_are_not_objects_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (text, kind) in [
            ("66666", "a number"),
            ("[1, 2]", "an array"),
            (r#""id""#, "a string"),
            ("null", "null"),
        ] {
            let path = blob_file(dir.path(), &[r#"{"id":"a"}"#, text], 10);
            let mut reader = Reader::open(&path).unwrap();
            assert_eq!(reader.next().unwrap().unwrap(), json!({"id": "a"}));
            let err = reader.next().unwrap().unwrap_err();
            assert!(
                matches!(&err, GeoParquetError::InvalidRow { row: 1, column, .. } if column == "stac_item"),
                "{text}: {err}"
            );
            assert!(err.to_string().contains(kind), "{text}: {err}");
            assert!(from_geoparquet(&path).is_err());
        }
    }

    #[test]
    fn next_batch_continues_where_next_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..5).map(|i| format!(r#"{{"id":"{i}"}}"#)).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let path = blob_file(dir.path(), &texts, 3);
        let mut reader = Reader::open(&path).unwrap();
        assert_eq!(reader.next().unwrap().unwrap(), json!({"id": "0"}));
        // Record batches span row groups: one batch of 5 rows.
        let rest = reader.next_batch().unwrap().unwrap();
        let ids: Vec<&str> = rest.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"]);
        assert!(reader.next_batch().is_none());
        assert!(reader.next().is_none());
        assert_eq!(from_geoparquet(&path).unwrap().len(), 5);
    }
}
