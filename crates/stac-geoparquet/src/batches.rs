//! Items ↔ Arrow record batches in memory, with no Parquet file:
//! [`to_record_batches`] and [`BatchDecoder`].
//!
//! These are what a Parquet file of this crate holds, for callers that hand
//! tables to other Arrow libraries (pyarrow, polars, DuckDB, through the
//! Arrow C stream interface) or get tables from them. [`to_record_batches`]
//! gives exactly the batches [`crate::Writer`] would write, and a schema
//! whose metadata carries the file's key-value metadata (`geo`,
//! `stac-geoparquet`, this crate's hints). [`BatchDecoder`] reads batches in
//! either layout, written by this crate, by stac-geoparquet (Python) or by
//! rustac, the way [`crate::Reader`] reads a file's.
//!
//! Invariant: `BatchDecoder` of `to_record_batches(items)` gives `items`
//! back, with the exceptions of the crate docs plus one: a top-level field
//! that is an explicit `null` in some items and missing in others comes back
//! missing (the file's hints locate those nulls by row, and an Arrow table
//! may have been filtered or re-chunked since; a file keeps them).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use serde_json::{Map, Value, json};

use crate::decode::{Decoder, Rows};
use crate::error::{GeoParquetError, Result};
use crate::geometry::GeometryStats;
use crate::guard::guarded;
use crate::json::Json;
use crate::layout::{self, Inference};
use crate::limits::ReadOptions;
use crate::metadata::{self, FileHints};
use crate::options::{Layout, WriteOptions};
use crate::order::{RowKey, SortOrder};
use crate::reader::{FileInfo, row_error_at};

/// What errors about in-memory batches name instead of a file.
pub const ARROW_SOURCE: &str = "<arrow>";

/// Rows encoded per record batch by [`to_record_batches`].
const BATCH_ROWS: usize = 1024;

/// The Arrow extension name of WKB geometry columns.
const WKB_EXTENSION: &str = "geoarrow.wkb";

/// Encode items as Arrow record batches in the layout of
/// [`WriteOptions::layout`] (sorted as [`WriteOptions::with_sort`] asks),
/// the batches a file written with these options holds. The schema's
/// metadata holds the file's key-value metadata (`geo`, `stac-geoparquet`
/// and this crate's hints, as JSON text).
///
/// ```
/// use serde_json::json;
/// use stac_geoparquet::{BatchDecoder, WriteOptions};
/// let items: Vec<_> = (0..3).map(|i| json!({"type": "Feature", "id": format!("a{i}"),
///     "geometry": {"type": "Point", "coordinates": [1.5, 2.5]},
///     "properties": {"datetime": "2021-06-01T00:00:00Z", "n": i}})).collect();
/// let (schema, batches) = stac_geoparquet::to_record_batches(&items, &WriteOptions::default())?;
/// assert!(schema.metadata().contains_key("geo"));
/// let mut decoder = BatchDecoder::new(&schema)?;
/// let mut back = Vec::new();
/// for batch in &batches {
///     back.extend(decoder.decode(batch)?);
/// }
/// assert_eq!(back, items);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_record_batches(
    items: &[Value],
    options: &WriteOptions,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let path = Path::new(ARROW_SOURCE);
    if items.is_empty() {
        return Err(GeoParquetError::Empty {
            path: path.to_path_buf(),
        });
    }
    let rows = options.row_group_size().clamp(1, BATCH_ROWS);
    let mut stats = GeometryStats::default();
    let mut batches = Vec::with_capacity(items.len().div_ceil(rows));
    let kv = if options.layout() == Layout::Blob {
        if options.sort() != SortOrder::None {
            return Err(GeoParquetError::InvalidOptions {
                path: path.to_path_buf(),
                reason: "sorting rows needs the spec layout".into(),
            });
        }
        for (k, chunk) in items.chunks(rows).enumerate() {
            for (j, item) in chunk.iter().enumerate() {
                layout::check_item(path, (k * rows + j) as u64, item)?;
            }
            let first = (k * rows) as u64;
            batches.push(layout::encode_blob(path, first, chunk, &mut stats)?);
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
        vec![
            (metadata::GEO_KEY, geo),
            (metadata::HINTS_KEY, hints.to_json()),
        ]
    } else {
        let items: Vec<Json<'_>> = items.iter().map(Json::from_value).collect();
        let mut inference = Inference::default();
        for (i, item) in items.iter().enumerate() {
            inference.push(path, i as u64, item)?;
        }
        let mut plan = inference.plan();
        if options.sort() == SortOrder::None {
            for (k, chunk) in items.chunks(rows).enumerate() {
                let first = (k * rows) as u64;
                batches.push(plan.encode(path, first, chunk, &mut stats)?);
            }
        } else {
            let keys: Vec<RowKey> = items.iter().map(RowKey::of).collect();
            let order = crate::order::permutation(&keys, options.sort());
            let mut position = vec![0u32; order.len()];
            for (k, &i) in order.iter().enumerate() {
                position[i as usize] = k as u32;
            }
            for (_, runs) in &mut plan.hints.null_rows {
                *runs = crate::nulls::remap(runs, &position);
            }
            for (k, chunk) in order.chunks(rows).enumerate() {
                let chunk: Vec<Json<'_>> =
                    chunk.iter().map(|&i| items[i as usize].clone()).collect();
                let first = (k * rows) as u64;
                batches.push(plan.encode(path, first, &chunk, &mut stats)?);
            }
        }
        let mut hints = plan.hints.clone();
        hints.geometry_integers = stats.restore_ints();
        let geo = metadata::geo(
            stats.types.iter().cloned().collect(),
            stats.bbox,
            plan.covering,
            plan.proj_geometry,
        );
        vec![
            (metadata::GEO_KEY, geo),
            (
                metadata::STAC_GEOPARQUET_KEY,
                metadata::stac_geoparquet(options.collections()),
            ),
            (metadata::HINTS_KEY, hints.to_json()),
        ]
    };
    let schema = batches[0].schema();
    let meta: HashMap<String, String> = kv
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_string()))
        .collect();
    let schema = Arc::new(Schema::new(schema.fields().clone()).with_metadata(meta));
    let batches = batches
        .into_iter()
        .map(|b| {
            b.with_schema(schema.clone())
                .map_err(|e| GeoParquetError::parquet(path, e))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((schema, batches))
}

/// Decodes Arrow record batches of a stac-geoparquet table (either layout;
/// tables of this crate, of stac-geoparquet (Python) and of rustac) back to
/// items, the way [`crate::Reader`] decodes a file's batches.
///
/// The layout and the decoding hints come from the schema's metadata (the
/// `geo`, `stac-geoparquet` and this crate's keys a file would hold), else
/// from the columns: a `stac_item` text column is the JSON-blob layout, `id`
/// with `geometry`, `stac_version` or `type` the spec layout. Without `geo`
/// metadata, the columns tagged `geoarrow.wkb` (and `geometry`) hold WKB.
/// Errors name the row counted from the first batch decoded.
#[derive(Debug)]
pub struct BatchDecoder {
    source: PathBuf,
    layout: Layout,
    decoder: Decoder,
    schema: SchemaRef,
    row: u64,
}

impl BatchDecoder {
    /// A decoder of batches with this schema, with the default
    /// [`ReadOptions`].
    pub fn new(schema: &Schema) -> Result<Self> {
        Self::new_with(schema, &ReadOptions::default())
    }

    /// A decoder of batches with this schema, with these options (the
    /// limit on what one item may decode to, the rule for non-finite
    /// floats).
    pub fn new_with(schema: &Schema, options: &ReadOptions) -> Result<Self> {
        let source = PathBuf::from(ARROW_SOURCE);
        let mut info =
            FileInfo::from_metadata(&source, |k| schema.metadata().get(k).cloned(), schema)?;
        if info.geo.is_none() {
            let mut columns = Map::new();
            for f in schema.fields() {
                let wkb = f
                    .metadata()
                    .get("ARROW:extension:name")
                    .is_some_and(|n| n == WKB_EXTENSION);
                if wkb || f.name() == "geometry" {
                    columns.insert(f.name().clone(), json!({"encoding": "WKB"}));
                }
            }
            info.geo = Some(json!({"columns": columns}));
        }
        let decoder = Decoder::new(info.hints.as_ref(), info.geo.as_ref(), options.clone());
        Ok(Self {
            source,
            layout: info.layout,
            decoder,
            schema: Arc::new(schema.clone()),
            row: 0,
        })
    }

    /// The detected layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The items of one batch (whose fields must be the decoder's schema's).
    pub fn decode(&mut self, batch: &RecordBatch) -> Result<Vec<Value>> {
        let first = self.row;
        if batch.schema().fields() != self.schema.fields() {
            return Err(GeoParquetError::NotStacGeoParquet {
                path: self.source.clone(),
                reason: format!(
                    "a record batch at row {first} has other columns than the stream's schema"
                ),
            });
        }
        self.row += batch.num_rows() as u64;
        if batch.num_rows() == 0 {
            return Ok(Vec::new());
        }
        let source = &self.source;
        let panicked = |message: String| GeoParquetError::Parquet {
            path: source.clone(),
            message: format!("row {first}: {message}"),
        };
        let layout = self.layout;
        let decoder = &self.decoder;
        let mut rows = guarded(|| match layout {
            Layout::Blob => Rows::blob(batch),
            _ => decoder.compile(batch),
        })
        .map_err(panicked)?
        .map_err(|e| row_error_at(source, first + e.row as u64, e))?;
        let len = rows.len();
        let mut out = Vec::with_capacity(len);
        let options = decoder.options();
        let mut next = 0;
        while next < len {
            // `items` may stop early (its memory budget): on from there.
            let done = guarded(|| rows.items(next..len, &mut out, options))
                .map_err(panicked)?
                .map_err(|e| row_error_at(source, first + e.row as u64, e))?;
            next += done.rows.max(1);
        }
        Ok(out)
    }
}
