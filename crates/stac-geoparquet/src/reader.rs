//! The streaming [`Reader`] and [`from_geoparquet`].
//!
//! The layout is detected from the file: a `stac_item` column without
//! `stac-geoparquet` metadata is the JSON-blob layout; `stac-geoparquet` or
//! `geo` metadata, or STAC columns (`id` plus `geometry`, `stac_version` or
//! `type`), is the spec layout. Anything else is refused.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use serde_json::{Map, Value};

use crate::decode::Decoder;
use crate::error::{GeoParquetError, Result};
use crate::metadata::{self, FileHints};
use crate::options::Layout;

/// Rows decoded at a time.
const BATCH_ROWS: usize = 1024;

/// A streaming reader: an iterator of items (or, with
/// [`Reader::into_batches`], of Arrow record batches), one batch in memory
/// at a time.
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
    inner: ParquetRecordBatchReader,
    schema: SchemaRef,
    layout: Layout,
    decoder: Decoder,
    collections: Map<String, Value>,
    num_rows: u64,
    row: u64,
    pending: VecDeque<Value>,
    failed: bool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.path)
            .field("layout", &self.layout)
            .field("num_rows", &self.num_rows)
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// Open a stac-geoparquet file (spec or JSON-blob layout).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| GeoParquetError::io(&path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            GeoParquetError::NotParquet {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
        let kv: Vec<(String, String)> = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .map(|kv| {
                kv.iter()
                    .filter_map(|e| Some((e.key.clone(), e.value.clone()?)))
                    .collect()
            })
            .unwrap_or_default();
        let meta = |key: &str| -> Option<Value> {
            kv.iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| serde_json::from_str(v).ok())
        };
        let hints = meta(metadata::HINTS_KEY).and_then(|v| FileHints::from_json(&v));
        let stac = meta(metadata::STAC_GEOPARQUET_KEY);
        let geo = meta(metadata::GEO_KEY);
        let schema = builder.schema().clone();
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
        let num_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let inner = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| {
            GeoParquetError::NotParquet {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
        Ok(Self {
            path,
            inner,
            schema,
            layout,
            decoder: Decoder::new(hints.as_ref()),
            collections,
            num_rows,
            row: 0,
            pending: VecDeque::new(),
            failed: false,
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
    pub fn into_batches(self) -> impl Iterator<Item = Result<RecordBatch>> {
        let path = self.path;
        self.inner
            .map(move |b| b.map_err(|e| GeoParquetError::parquet(&path, e)))
    }

    /// Items of the next record batch, or `None` at the end.
    pub fn next_batch(&mut self) -> Option<Result<Vec<Value>>> {
        let batch = match self.inner.next()? {
            Ok(b) => b,
            Err(e) => {
                return Some(Err(GeoParquetError::Parquet {
                    path: self.path.clone(),
                    message: format!("row {}: {e}", self.row),
                }));
            }
        };
        let first = self.row;
        self.row += batch.num_rows() as u64;
        Some(self.decode(&batch, first))
    }

    fn decode(&self, batch: &RecordBatch, first: u64) -> Result<Vec<Value>> {
        let row_error = |row: usize, column: &str, reason: String| GeoParquetError::InvalidRow {
            path: self.path.clone(),
            row: first + row as u64,
            column: column.to_string(),
            reason,
        };
        match self.layout {
            Layout::Blob => {
                let col = batch
                    .column_by_name("stac_item")
                    .ok_or_else(|| row_error(0, "stac_item", "column missing".into()))?;
                let texts: Vec<Option<&str>> = match col.data_type() {
                    DataType::Utf8 => col.as_string::<i32>().iter().collect(),
                    DataType::LargeUtf8 => col.as_string::<i64>().iter().collect(),
                    _ => col.as_string_view().iter().collect(),
                };
                texts
                    .into_iter()
                    .enumerate()
                    .map(|(r, t)| {
                        let t = t.ok_or_else(|| row_error(r, "stac_item", "null".into()))?;
                        serde_json::from_str(t)
                            .map_err(|e| row_error(r, "stac_item", format!("bad JSON: {e}")))
                    })
                    .collect()
            }
            _ => self
                .decoder
                .decode(batch)
                .map_err(|(row, column, reason)| row_error(row, &column, reason)),
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            match self.next_batch()? {
                Ok(items) => self.pending.extend(items),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
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
    let mut reader = Reader::open(path)?;
    let mut items = Vec::with_capacity(usize::try_from(reader.num_rows()).unwrap_or(0));
    while let Some(batch) = reader.next_batch() {
        items.extend(batch?);
    }
    Ok(items)
}
