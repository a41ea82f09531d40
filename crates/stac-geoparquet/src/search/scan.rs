//! Reading the matches of one file: prune, filter rows on their columns,
//! then build the JSON of the rows left.
//!
//! The filter's top-level conjuncts are split per file: those whose fields
//! all have columns [`readable`] as Arrow go into the parquet `RowFilter`
//! (first the cheap ones, with a bbox-covering pre-check for spatial
//! filters; then the exact geometry tests, which decode WKB only for rows
//! the first predicate kept); the others are evaluated on the decoded
//! item. Only the columns the output needs are decoded (`fields`).

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowPredicate, ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions,
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder, RowFilter, RowSelection,
};
use parquet::file::metadata::PageIndexPolicy;
use serde_json::{Map, Value};
use stac_meta::search::Fields;

use super::arrow_row::{ArrowRow, Columns, FieldMap, readable};
use super::eval::{JsonRow, eval};
use super::expr::{Expr, Operand, Prop, SpatialOp};
use super::fields;
use super::prune::{self, Part, Pruned};
use super::sources::SourceFile;
use crate::decode::{Decoder, Extra, Rows};
use crate::error::{GeoParquetError, Result};
use crate::guard::guarded;
use crate::layout::RESERVED;
use crate::limits::ReadOptions;
use crate::nulls::NullRows;
use crate::options::Layout;
use crate::reader::{FileInfo, row_error_at};

/// The virtual row-number column (its `__` prefix keeps it out of items).
const ROW_COLUMN: &str = "__stac_gdal_row";

/// Rows per record batch (the filter runs a batch at a time; the output
/// holds one batch of full rows).
const BATCH_ROWS: usize = 1024;

/// Rows per record batch of the filter pass (row numbers only).
const FILTER_BATCH_ROWS: usize = 8192;

/// Rows turned into JSON at a time.
const BLOCK_ROWS: usize = 64;

/// One file, open, with its metadata.
pub(crate) struct OpenFile {
    pub path: PathBuf,
    meta: ArrowReaderMetadata,
    pub info: FileInfo,
    pub map: FieldMap,
    /// Fields of the folder names the file lacks: (key, value).
    pub partition: Vec<(String, String)>,
    covering: Option<[String; 4]>,
}

fn not_parquet(path: &Path, message: String) -> GeoParquetError {
    GeoParquetError::NotParquet {
        path: path.to_path_buf(),
        message,
    }
}

impl OpenFile {
    /// Open a file and read its footer and page index.
    pub(super) fn open(src: &SourceFile, read: &ReadOptions) -> Result<Self> {
        let path = src.path.clone();
        let file = File::open(&path).map_err(|e| GeoParquetError::io(&path, e))?;
        let row_field = Arc::new(
            Field::new(ROW_COLUMN, DataType::Int64, false)
                .with_extension_type(parquet::arrow::RowNumber),
        );
        let options = ArrowReaderOptions::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .with_virtual_columns(vec![row_field])
            .map_err(|e| GeoParquetError::parquet(&path, e))?;
        let meta = guarded(|| ArrowReaderMetadata::load(&file, options))
            .map_err(|m| not_parquet(&path, m))?
            .map_err(|e| not_parquet(&path, e.to_string()))?;
        let schema = meta.schema().clone();
        let info = FileInfo::read(&path, meta.metadata(), &schema)?;
        let spec = info.layout != Layout::Blob;
        let partition: Vec<(String, String)> = if info.hints.is_some() {
            Vec::new() // our own files hold every field
        } else {
            src.partition
                .iter()
                .filter(|(k, _)| schema.field_with_name(k).is_err())
                .cloned()
                .collect()
        };
        let mut map = FieldMap::new(
            &schema,
            info.hints.as_ref(),
            spec,
            partition.iter().map(|(k, _)| k.clone()).collect(),
        );
        map.read = read.clone();
        let covering = info.covering().map(|c| c.map(|p| p.join(".")));
        Ok(Self {
            path,
            meta,
            info,
            map,
            partition,
            covering,
        })
    }

    /// Rows in the file.
    pub(super) fn num_rows(&self) -> u64 {
        u64::try_from(self.meta.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Row groups in the file.
    pub(super) fn num_row_groups(&self) -> usize {
        self.meta.metadata().num_row_groups()
    }

    /// What the statistics allow to skip.
    pub(super) fn prune(&self, expr: &Expr) -> Pruned {
        if !self.map.spec {
            // Nothing to prune with, but every row group is kept whole (the
            // parallel writer cuts its parts from `kept`).
            let groups = self.meta.metadata().row_groups();
            return Pruned {
                row_groups: (0..groups.len()).collect(),
                kept: groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| {
                        let rows = usize::try_from(g.num_rows()).unwrap_or(0);
                        (i, rows, std::iter::once(0..rows).collect())
                    })
                    .collect(),
                ..Pruned::default()
            };
        }
        prune::prune(
            expr,
            &self.map,
            self.covering.as_ref(),
            self.meta.metadata(),
            self.meta.schema(),
        )
    }

    /// The top-level item key of a column, and the property name for property columns.
    fn key_of(&self, column: &str) -> (String, Option<String>) {
        if RESERVED.contains(&column) || !self.map.spec {
            return (column.to_owned(), None);
        }
        if let Some(h) = &self.info.hints {
            if let Some((_, key)) = h.root_columns.iter().find(|(c, _)| c == column) {
                return (key.clone(), None);
            }
        }
        ("properties".to_owned(), Some(column.to_owned()))
    }

    /// Root column indices to decode for the output.
    fn projection(&self, want: &Want) -> ProjectionMask {
        let descr = self.meta.metadata().file_metadata().schema_descr();
        if !self.map.spec {
            return ProjectionMask::all();
        }
        let schema = self.meta.schema();
        let mut roots = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            if f.name() == ROW_COLUMN {
                continue;
            }
            let (key, prop) = self.key_of(f.name());
            if want.keeps(&key, prop.as_deref()) {
                roots.push(i);
            }
        }
        ProjectionMask::roots(descr, roots)
    }

    /// The row filter of `conjuncts` on this file: the predicates run on
    /// columns (the cheap ones with the bbox-covering pre-check first,
    /// then the exact geometry tests), and the conjuncts left to run on
    /// the decoded items.
    fn filters(&self, conjuncts: &[Expr]) -> (Vec<Box<dyn ArrowPredicate>>, Vec<Expr>) {
        let schema = self.meta.schema().clone();
        let mut cheap = Vec::new();
        let mut exact = Vec::new();
        let mut residual = Vec::new();
        let mut envelopes: Vec<[f64; 4]> = Vec::new();
        let mut bounded = true;
        for c in conjuncts {
            let mut props = Vec::new();
            c.props(&mut props);
            if props.iter().all(|p| readable(&self.map, &schema, p)) {
                if c.reads_geometry() {
                    match spatial_envelopes(c) {
                        Some(e) => envelopes.extend(e),
                        None => bounded = false,
                    }
                    exact.push(c.clone());
                } else {
                    cheap.push(c.clone());
                }
            } else {
                residual.push(c.clone());
            }
        }
        // The covering pre-check holds only if every spatial conjunct is bounded.
        let precheck = (bounded && !envelopes.is_empty())
            .then_some(())
            .and(self.covering.clone())
            .map(|c| (c, envelopes));
        let mut predicates: Vec<Box<dyn ArrowPredicate>> = Vec::new();
        if !cheap.is_empty() || precheck.is_some() {
            let mut cols = self.columns_of(&cheap);
            if let Some((cov, _)) = &precheck {
                cols.extend(
                    cov.iter()
                        .map(|c| c.split('.').next().unwrap_or(c).to_owned()),
                );
            }
            match self.predicate(cols, cheap.clone(), precheck) {
                Some(p) => predicates.push(p),
                None => residual.extend(cheap),
            }
        }
        if !exact.is_empty() {
            let cols = self.columns_of(&exact);
            match self.predicate(cols, exact.clone(), None) {
                Some(p) => predicates.push(p),
                None => residual.extend(exact),
            }
        }
        (predicates, residual)
    }

    /// A reader of the rows passing `conjuncts` in the kept row groups and
    /// pages, decoding the columns `want` names.
    pub(super) fn rows(
        &self,
        conjuncts: &[Expr],
        part: &Part,
        want: &Want,
        limit: Option<usize>,
    ) -> Result<FileRows> {
        let file = File::open(&self.path).map_err(|e| GeoParquetError::io(&self.path, e))?;
        let (predicates, residual) = self.filters(conjuncts);
        let mut builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
                .with_batch_size(BATCH_ROWS)
                .with_row_groups(part.row_groups.clone())
                .with_projection(self.projection(&want.with_residual(&residual, &self.map)));
        if let Some(sel) = &part.selection {
            builder = builder.with_row_selection(sel.clone());
        }
        if !predicates.is_empty() {
            builder = builder.with_row_filter(RowFilter::new(predicates));
        }
        if let (Some(n), true) = (limit, residual.is_empty()) {
            builder = builder.with_limit(n);
        }
        let inner = guarded(|| builder.build())
            .map_err(|m| not_parquet(&self.path, m))?
            .map_err(|e| not_parquet(&self.path, e.to_string()))?;
        Ok(self.file_rows(inner, residual))
    }

    /// The rows of `part` passing the conjuncts that run on columns, as
    /// row numbers in the file (ascending), with the conjuncts left for
    /// the decoded items; `None` when no conjunct runs on columns. Only
    /// the filter's columns are decoded.
    pub(super) fn matching_rows(
        &self,
        conjuncts: &[Expr],
        part: &Part,
    ) -> Result<Option<(Vec<u64>, Vec<Expr>)>> {
        let (predicates, residual) = self.filters(conjuncts);
        if predicates.is_empty() {
            return Ok(None);
        }
        let file = File::open(&self.path).map_err(|e| GeoParquetError::io(&self.path, e))?;
        let descr = self.meta.metadata().file_metadata().schema_descr();
        let mut builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
                .with_batch_size(FILTER_BATCH_ROWS)
                .with_row_groups(part.row_groups.clone())
                .with_projection(ProjectionMask::roots(descr, []))
                .with_row_filter(RowFilter::new(predicates));
        if let Some(sel) = &part.selection {
            builder = builder.with_row_selection(sel.clone());
        }
        let reader = guarded(|| builder.build())
            .map_err(|m| not_parquet(&self.path, m))?
            .map_err(|e| not_parquet(&self.path, e.to_string()))?;
        let mut rows = Vec::new();
        let mut reader = reader;
        loop {
            let failed = |message: String| GeoParquetError::Parquet {
                path: self.path.clone(),
                message,
            };
            let batch = match guarded(|| reader.next()) {
                Ok(None) => break,
                Ok(Some(Ok(b))) => b,
                Ok(Some(Err(e))) => return Err(failed(e.to_string())),
                Err(message) => return Err(failed(message)),
            };
            let Some(c) = batch.column_by_name(ROW_COLUMN) else {
                return Err(failed("no row numbers".to_owned()));
            };
            rows.extend(
                c.as_primitive::<Int64Type>()
                    .values()
                    .iter()
                    .map(|v| u64::try_from(*v).unwrap_or(0)),
            );
        }
        Ok(Some((rows, residual)))
    }

    /// The first row (in the file) of each row group, and the file's row count last.
    pub(super) fn row_group_starts(&self) -> Vec<u64> {
        let mut at = 0u64;
        let mut out = vec![0];
        for g in self.meta.metadata().row_groups() {
            at += u64::try_from(g.num_rows()).unwrap_or(0);
            out.push(at);
        }
        out
    }

    /// A reader of the given rows (sorted, distinct row numbers), every column `want` names.
    pub(super) fn rows_at(&self, rows: &[u64], want: &Want) -> Result<FileRows> {
        let file = File::open(&self.path).map_err(|e| GeoParquetError::io(&self.path, e))?;
        let total = usize::try_from(self.num_rows()).unwrap_or(0);
        let ranges = rows.iter().map(|r| {
            let r = usize::try_from(*r).unwrap_or(usize::MAX);
            r..r.saturating_add(1)
        });
        let selection = RowSelection::from_consecutive_ranges(ranges, total);
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_batch_size(BATCH_ROWS)
            .with_row_selection(selection)
            .with_projection(self.projection(want));
        let inner = guarded(|| builder.build())
            .map_err(|m| not_parquet(&self.path, m))?
            .map_err(|e| not_parquet(&self.path, e.to_string()))?;
        Ok(self.file_rows(inner, Vec::new()))
    }

    fn file_rows(&self, inner: ParquetRecordBatchReader, residual: Vec<Expr>) -> FileRows {
        FileRows {
            path: self.path.clone(),
            inner: Some(inner),
            layout: self.info.layout,
            decoder: Decoder::new(
                self.info.hints.as_ref(),
                self.info.geo.as_ref(),
                self.map.read.clone(),
            ),
            nulls: NullRows::new(self.info.hints.as_ref()),
            residual,
            partition: self.partition.clone(),
            rows: None,
            pending: VecDeque::new(),
            error: None,
            read: self.map.read.clone(),
            decoded: 0,
        }
    }

    /// The top-level columns the conjuncts read.
    fn columns_of(&self, conjuncts: &[Expr]) -> Vec<String> {
        let mut props = Vec::new();
        for c in conjuncts {
            c.props(&mut props);
        }
        props.iter().flat_map(|p| self.map.columns(p)).collect()
    }

    /// A row-filter predicate over `cols` (missing ones ignored); `None`
    /// when none of them exists (the conjuncts then run on the items).
    fn predicate(
        &self,
        mut cols: Vec<String>,
        conjuncts: Vec<Expr>,
        precheck: Option<([String; 4], Vec<[f64; 4]>)>,
    ) -> Option<Box<dyn ArrowPredicate>> {
        let schema = self.meta.schema();
        cols.sort();
        cols.dedup();
        let roots: Vec<usize> = cols
            .iter()
            .filter_map(|c| schema.index_of(c).ok())
            .collect();
        if roots.is_empty() {
            return None;
        }
        let mask =
            ProjectionMask::roots(self.meta.metadata().file_metadata().schema_descr(), roots);
        let map = self.map.clone();
        let props: Vec<Prop> = {
            let mut v = Vec::new();
            for c in &conjuncts {
                c.props(&mut v);
            }
            v.into_iter().cloned().collect()
        };
        let f = move |batch: RecordBatch| -> std::result::Result<BooleanArray, ArrowError> {
            let refs: Vec<&Prop> = props.iter().collect();
            let cols = Columns::bind(&batch, &map, &refs);
            let bbox = precheck
                .as_ref()
                .map(|(cov, envs)| (BboxCols::new(&batch, cov), envs));
            let mut keep = Vec::with_capacity(batch.num_rows());
            for row in 0..batch.num_rows() {
                let mut ok = match &bbox {
                    Some((b, envs)) => b.may_intersect(row, envs),
                    None => true,
                };
                if ok {
                    let r = ArrowRow { cols: &cols, row };
                    for c in &conjuncts {
                        match eval(c, &r) {
                            Ok(Some(true)) => {}
                            Ok(_) => {
                                ok = false;
                                break;
                            }
                            Err(e) => return Err(ArrowError::ComputeError(e)),
                        }
                    }
                }
                keep.push(ok);
            }
            Ok(BooleanArray::from(keep))
        };
        Some(Box::new(ArrowPredicateFn::new(mask, f)))
    }
}

/// The envelopes of the geometry literals of a spatial conjunct, when the
/// conjunct can only be true for items whose bbox overlaps one of them.
fn spatial_envelopes(e: &Expr) -> Option<Vec<[f64; 4]>> {
    match e {
        Expr::Spatial(SpatialOp::Intersects, Operand::Prop(Prop::Geometry), Operand::Geom(g))
        | Expr::Spatial(SpatialOp::Intersects, Operand::Geom(g), Operand::Prop(Prop::Geometry)) => {
            Some(g.part_envelopes())
        }
        _ => None,
    }
}

/// The bbox covering columns of one batch.
struct BboxCols {
    cols: Option<[arrow_array::Float64Array; 4]>,
}

impl BboxCols {
    fn new(batch: &RecordBatch, covering: &[String; 4]) -> Self {
        let get = |path: &str| -> Option<arrow_array::Float64Array> {
            let mut parts = path.split('.');
            let mut col = batch.column_by_name(parts.next()?)?.clone();
            for p in parts {
                col = col.as_struct_opt()?.column_by_name(p)?.clone();
            }
            let nulls = col.logical_nulls();
            let mut values = col.as_primitive_opt::<Float64Type>()?.clone();
            if let Some(n) = nulls {
                // A null parent struct makes the child null too.
                values = arrow_array::Float64Array::new(values.values().clone(), Some(n));
            }
            Some(values)
        };
        let cols = (|| {
            Some([
                get(&covering[0])?,
                get(&covering[1])?,
                get(&covering[2])?,
                get(&covering[3])?,
            ])
        })();
        Self { cols }
    }

    /// The row's bbox overlaps one of `envs` (or the row has no bbox: the
    /// exact test decides).
    fn may_intersect(&self, row: usize, envs: &[[f64; 4]]) -> bool {
        let Some(c) = &self.cols else {
            return true;
        };
        if c.iter().any(|a| a.is_null(row)) {
            return true;
        }
        let (x0, y0, x1, y1) = (
            c[0].value(row),
            c[1].value(row),
            c[2].value(row),
            c[3].value(row),
        );
        envs.iter()
            .any(|e| x0 <= e[2] && x1 >= e[0] && y0 <= e[3] && y1 >= e[1])
    }
}

/// Which columns to decode.
#[derive(Debug, Clone, Default)]
pub(crate) struct Want {
    /// Every column.
    all: bool,
    /// The output's columns, as the fields extension keeps them.
    output: Option<Option<Fields>>,
    /// Columns these fields read (sort keys, residual filters).
    props: Vec<Prop>,
}

impl Want {
    /// The columns of the returned items (`fields` applied).
    pub(super) fn output(fields: Option<Fields>) -> Self {
        Self {
            output: Some(fields),
            ..Self::default()
        }
    }

    /// Only what these fields read (and `id`).
    pub(super) fn props(props: Vec<Prop>) -> Self {
        Self {
            props,
            ..Self::default()
        }
    }

    fn keeps(&self, key: &str, property: Option<&str>) -> bool {
        if self.all || key == "id" {
            return true;
        }
        if let Some(f) = &self.output {
            if f.as_ref().is_none_or(|f| fields::keeps(f, key, property)) {
                return true;
            }
        }
        self.props.iter().any(|p| match p {
            Prop::Id => key == "id",
            Prop::Collection => key == "collection",
            Prop::Geometry => key == "geometry",
            Prop::Start | Prop::End => matches!(
                property,
                Some("datetime" | "start_datetime" | "end_datetime")
            ),
            Prop::Property(path) => property == Some(path[0].as_str()),
            Prop::Root(path) => key == path[0],
        })
    }

    /// This, plus what the residual conjuncts read from the decoded item.
    fn with_residual(&self, residual: &[Expr], map: &FieldMap) -> Want {
        let mut out = self.clone();
        if residual.is_empty() {
            return out;
        }
        if !map.spec {
            out.all = true;
            return out;
        }
        let mut props = Vec::new();
        for r in residual {
            r.props(&mut props);
        }
        out.props.extend(props.into_iter().cloned());
        out
    }
}

/// The decoded, residual-filtered items of one file, with their row numbers.
pub(crate) struct FileRows {
    path: PathBuf,
    inner: Option<ParquetRecordBatchReader>,
    layout: Layout,
    decoder: Decoder,
    nulls: NullRows,
    residual: Vec<Expr>,
    partition: Vec<(String, String)>,
    /// The batch being decoded: its rows, their row numbers, the next row.
    rows: Option<(Rows, Vec<u64>, usize)>,
    pending: VecDeque<(u64, Value)>,
    /// An error met after the items in `pending`: returned after them.
    error: Option<GeoParquetError>,
    /// Limits on what one item may decode to.
    read: ReadOptions,
    /// Rows turned into JSON so far.
    pub decoded: u64,
}

impl FileRows {
    fn load(&mut self) -> Result<bool> {
        if let Some((rows, _, next)) = &self.rows {
            if *next < rows.len() {
                return Ok(true);
            }
        }
        self.rows = None;
        loop {
            let Some(inner) = self.inner.as_mut() else {
                return Ok(false);
            };
            let next = match guarded(|| inner.next()) {
                Ok(None) => {
                    self.inner = None;
                    return Ok(false);
                }
                Ok(Some(next)) => next.map_err(|e| e.to_string()),
                Err(message) => Err(message),
            };
            let batch = match next {
                Ok(b) => b,
                Err(e) => {
                    self.inner = None;
                    return Err(GeoParquetError::Parquet {
                        path: self.path.clone(),
                        message: e,
                    });
                }
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let numbers: Vec<u64> = match batch.column_by_name(ROW_COLUMN) {
                Some(c) => c
                    .as_primitive::<Int64Type>()
                    .values()
                    .iter()
                    .map(|v| u64::try_from(*v).unwrap_or(0))
                    .collect(),
                None => vec![0; batch.num_rows()],
            };
            let compiled = match self.layout {
                Layout::Blob => Rows::blob(&batch),
                _ => self.decoder.compile(&batch),
            };
            let rows = compiled.map_err(|e| {
                let row = numbers.get(e.row).copied().unwrap_or(0);
                row_error_at(&self.path, row, e)
            })?;
            self.rows = Some((rows, numbers, 0));
            return Ok(true);
        }
    }

    /// The next matching item and its row number.
    pub(super) fn next_item(&mut self) -> Option<Result<(u64, Value)>> {
        loop {
            if let Some(x) = self.pending.pop_front() {
                return Some(Ok(x));
            }
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            match self.load() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
            let (rows, numbers, next) = self.rows.as_mut().expect("loaded");
            let end = (*next + BLOCK_ROWS).min(rows.len());
            let mut items = Vec::with_capacity(end - *next);
            let first = *next;
            let result = rows.items(first..end, &mut items, &self.read);
            // `items` may stop early (a block past the memory budget): the
            // rows it did not decode come in the next round, never skipped.
            let end = match &result {
                Ok(done) => first + done.rows,
                Err(_) => end,
            };
            *next = end;
            self.decoded += items.len() as u64;
            let numbers = numbers[first..end].to_vec();
            for (mut item, row) in items.into_iter().zip(numbers.iter().copied()) {
                self.nulls.restore(&mut item, row);
                self.inject(&mut item);
                let keep = self.residual.iter().try_fold(true, |acc, c| {
                    if !acc {
                        return Ok(false);
                    }
                    eval(c, &JsonRow(&item)).map(|r| r == Some(true))
                });
                match keep {
                    Ok(true) => self.pending.push_back((row, item)),
                    Ok(false) => {}
                    Err(reason) => {
                        self.inner = None;
                        self.rows = None;
                        self.error = Some(GeoParquetError::InvalidRow {
                            path: self.path.clone(),
                            row,
                            id: Some(stac_meta::item_id(&item).to_owned()),
                            column: String::new(),
                            reason,
                        });
                        break;
                    }
                }
            }
            if let Err(e) = result {
                // The items before the bad row come first, then the error.
                self.inner = None;
                self.rows = None;
                // `numbers` holds the rows of this block only.
                let row = numbers.get(e.row.wrapping_sub(first)).copied().unwrap_or(0);
                self.error.get_or_insert(row_error_at(&self.path, row, e));
            }
        }
    }

    /// Whether [`FileRows::write_batch`] may write this file's items
    /// (no filter left to run on the decoded items).
    pub(super) fn direct(&self) -> bool {
        self.residual.is_empty()
    }

    /// Write the items of the next record batch as NDJSON lines into
    /// `out`, pushing the end of each line to `ends`, straight from the
    /// Arrow columns (the same bytes as `next_item` then serde_json):
    /// false once the file is done. Only when [`FileRows::direct`].
    pub(super) fn write_batch(&mut self, out: &mut Vec<u8>, ends: &mut Vec<usize>) -> Result<bool> {
        if !self.load()? {
            return Ok(false);
        }
        let (rows, numbers, next) = self.rows.as_mut().expect("loaded");
        let mut extras = Vec::new();
        let partition: Vec<Extra<'_>> = self
            .partition
            .iter()
            .map(|(k, v)| Extra {
                key: k,
                root: RESERVED.contains(&k.as_str()),
                value: Some(v),
            })
            .collect();
        for k in *next..rows.len() {
            extras.clear();
            self.nulls.extras(numbers[k], &mut extras);
            extras.extend_from_slice(&partition);
            if let Err(e) = rows.write_item(k, &extras, out, &self.read) {
                self.inner = None;
                let row = numbers.get(e.row).copied().unwrap_or(0);
                let err = row_error_at(&self.path, row, e);
                self.rows = None;
                return Err(err);
            }
            ends.push(out.len());
            self.decoded += 1;
        }
        *next = rows.len();
        Ok(true)
    }

    /// Add the fields the folder names give (`collection=a/`).
    fn inject(&self, item: &mut Value) {
        if self.partition.is_empty() {
            return;
        }
        let Value::Object(obj) = item else { return };
        for (k, v) in &self.partition {
            if RESERVED.contains(&k.as_str()) {
                obj.entry(k.clone())
                    .or_insert_with(|| Value::String(v.clone()));
            } else {
                let props = obj
                    .entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(p) = props {
                    p.entry(k.clone())
                        .or_insert_with(|| Value::String(v.clone()));
                }
            }
        }
    }
}
