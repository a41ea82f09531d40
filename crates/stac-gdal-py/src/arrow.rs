//! Arrow tables exchanged with other Python libraries through the Arrow
//! PyCapsule interface (`__arrow_c_stream__`, `__arrow_c_schema__`), without
//! copying: arrow-rs's C stream interface (`FFI_ArrowArrayStream`) in
//! capsules named `arrow_array_stream` / `arrow_schema`.
//!
//! [`ArrowTable`] holds record batches in Rust; pyarrow, polars, arro3 or
//! DuckDB import them through `__arrow_c_stream__` and point at the same
//! buffers. Any object with `__arrow_c_stream__` (a pyarrow Table or
//! RecordBatchReader, stac-geoparquet's or rustac's tables, an
//! `ArrowTable`) is imported the same way ([`import_stream`]). The encoding
//! and decoding rules are `stac_geoparquet`'s ([`to_record_batches`],
//! [`BatchDecoder`]); this module only moves batches across the boundary.
//!
//! Invariant: a capsule we make owns its stream until a consumer moves it
//! out (`FFI_ArrowArrayStream::from_raw` leaves a released stream behind);
//! the capsule's destructor releases whatever is still there. A capsule we
//! import is checked by name before its pointer is used.
//!
//! [`to_record_batches`]: stac_gdal::geoparquet::to_record_batches
//! [`BatchDecoder`]: stac_gdal::geoparquet::BatchDecoder

use std::ffi::CStr;
use std::path::PathBuf;

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{ArrowError, SchemaRef};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};
use stac_gdal::geoparquet::{
    ARROW_SOURCE, BatchDecoder, GeoParquetError, Reader, WriteOptions, Writer,
};

use crate::errors::{self, py_err};

/// The capsule name of an `ArrowArrayStream` (the PyCapsule interface).
const STREAM: &CStr = c"arrow_array_stream";
/// The capsule name of an `ArrowSchema`.
const SCHEMA: &CStr = c"arrow_schema";

/// A stac-geoparquet table held in Rust as Arrow record batches. Other
/// Arrow libraries read it without copying (`pyarrow.table(t)`,
/// `pyarrow.RecordBatchReader.from_stream(t)`, `polars.DataFrame(t)`),
/// as many times as they like.
#[pyclass(module = "stac_gdal._native", frozen)]
pub struct ArrowTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

#[pymethods]
impl ArrowTable {
    /// `__arrow_c_stream__(requested_schema=None)`: a capsule holding a
    /// stream of the batches (the requested schema is not applied: the
    /// PyCapsule interface lets a producer ignore it).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches: Vec<Result<RecordBatch, ArrowError>> =
            self.batches.iter().cloned().map(Ok).collect();
        let reader = RecordBatchIterator::new(batches, self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    /// `__arrow_c_schema__()`: a capsule holding the schema.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref())
            .map_err(|e| errors::raise::<errors::GeoParquetError>(&e))?;
        PyCapsule::new_with_value(py, schema, SCHEMA)
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Number of record batches.
    #[getter]
    fn num_batches(&self) -> usize {
        self.batches.len()
    }

    /// The column names.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The schema's key-value metadata (`geo`, `stac-geoparquet`, ... as
    /// JSON text).
    #[getter]
    fn metadata(&self) -> std::collections::HashMap<String, String> {
        self.schema
            .metadata()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "ArrowTable({} rows, {} batches, columns {:?})",
            self.num_rows(),
            self.batches.len(),
            self.column_names()
        )
    }

    /// Import any object with `__arrow_c_stream__` (no copy).
    #[staticmethod]
    fn from_arrow(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let reader = import_stream(data)?;
        let schema = reader.schema();
        let batches = py
            .detach(|| reader.collect::<Result<Vec<_>, _>>())
            .map_err(|e| stream_error(&e))?;
        Ok(Self { schema, batches })
    }

    /// Pickling: not supported (the buffers live in this process).
    fn __reduce__(&self) -> PyResult<Bound<'_, PyTuple>> {
        Err(PyTypeError::new_err(
            "an ArrowTable cannot be pickled: pass it through pyarrow (pyarrow.table(t)) or write it with to_geoparquet",
        ))
    }
}

/// An error of the stream a producer gave us.
fn stream_error(e: &ArrowError) -> PyErr {
    let e = GeoParquetError::Parquet {
        path: PathBuf::from(ARROW_SOURCE),
        message: format!("reading the Arrow stream: {e}"),
    };
    py_err(e)
}

/// The stream of an object with `__arrow_c_stream__`: a `TypeError` when
/// it has none, a `GeoParquetError` when its capsule or schema is not a
/// valid stream.
pub fn import_stream(data: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    let method = data.getattr("__arrow_c_stream__").map_err(|_| {
        PyTypeError::new_err(format!(
            "expected an object with __arrow_c_stream__ (a pyarrow Table or RecordBatchReader, ...), got {}",
            data.get_type().name().map_or_else(|_| "?".into(), |n| n.to_string())
        ))
    })?;
    let capsule = method.call0()?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        py_err(GeoParquetError::Parquet {
            path: PathBuf::from(ARROW_SOURCE),
            message: "__arrow_c_stream__ did not return a PyCapsule".into(),
        })
    })?;
    let ptr = capsule.pointer_checked(Some(STREAM)).map_err(|_| {
        py_err(GeoParquetError::Parquet {
            path: PathBuf::from(ARROW_SOURCE),
            message: "__arrow_c_stream__ returned a capsule not named \"arrow_array_stream\""
                .into(),
        })
    })?;
    // SAFETY: the capsule is named "arrow_array_stream", so (by the
    // PyCapsule interface) it points at a valid `ArrowArrayStream`;
    // `from_raw` moves it out and leaves a released one for the capsule's
    // destructor.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
    RecordBatchStreamReader::try_new(stream).map_err(|e| stream_error(&e))
}

/// `to_arrow_table(items_json, layout)`: items encoded as a table.
#[pyfunction]
#[pyo3(signature = (items_json, blob=false))]
fn items_to_arrow(py: Python<'_>, items_json: &str, blob: bool) -> PyResult<ArrowTable> {
    let items: Vec<serde_json::Value> = serde_json::from_str(items_json)
        .map_err(|e| errors::MetaError::new_err(format!("items JSON: {e}")))?;
    let mut options = WriteOptions::default();
    if blob {
        options = options.with_layout(stac_gdal::geoparquet::Layout::Blob);
    }
    let (schema, batches) = py
        .detach(|| stac_gdal::geoparquet::to_record_batches(&items, &options))
        .map_err(py_err)?;
    Ok(ArrowTable { schema, batches })
}

/// `read_geoparquet_arrow(path)`: a file's record batches, as stored.
#[pyfunction]
fn read_geoparquet_arrow(py: Python<'_>, path: PathBuf) -> PyResult<ArrowTable> {
    py.detach(|| {
        let reader = Reader::open(&path)?;
        let file_schema = reader.schema();
        let batches = reader.into_batches().collect::<Result<Vec<_>, _>>()?;
        // The batches carry the file's schema without the footer's
        // metadata on some paths: one schema for all, the file's.
        let batches = batches
            .into_iter()
            .map(|b| {
                b.with_schema(file_schema.clone())
                    .map_err(|e| GeoParquetError::Parquet {
                        path: path.clone(),
                        message: e.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, GeoParquetError>(ArrowTable {
            schema: file_schema,
            batches,
        })
    })
    .map_err(py_err)
}

/// `arrow_to_items_json(data)`: the items of a stac-geoparquet table, as
/// the text of a JSON array.
#[pyfunction]
fn arrow_to_items_json(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<String> {
    let reader = import_stream(data)?;
    py.detach(|| {
        let mut decoder = BatchDecoder::new(&reader.schema())?;
        let mut items = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| GeoParquetError::Parquet {
                path: PathBuf::from(ARROW_SOURCE),
                message: format!("reading the Arrow stream: {e}"),
            })?;
            items.extend(decoder.decode(&batch)?);
        }
        Ok::<_, GeoParquetError>(serde_json::Value::Array(items).to_string())
    })
    .map_err(py_err)
}

/// `arrow_to_geoparquet(data, path)`: a stac-geoparquet table (any
/// `__arrow_c_stream__` object) written as a file; returns the row count.
#[pyfunction]
fn arrow_to_geoparquet(py: Python<'_>, data: &Bound<'_, PyAny>, path: PathBuf) -> PyResult<u64> {
    let reader = import_stream(data)?;
    py.detach(|| {
        let mut decoder = BatchDecoder::new(&reader.schema())?;
        let mut writer = Writer::create(&path, WriteOptions::default())?;
        for batch in reader {
            let batch = batch.map_err(|e| GeoParquetError::Parquet {
                path: PathBuf::from(ARROW_SOURCE),
                message: format!("reading the Arrow stream: {e}"),
            })?;
            writer.extend(decoder.decode(&batch)?)?;
        }
        writer.finish()
    })
    .map_err(py_err)
}

/// Add the class and functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ArrowTable>()?;
    m.add_function(wrap_pyfunction!(items_to_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(read_geoparquet_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_to_items_json, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_to_geoparquet, m)?)?;
    Ok(())
}
