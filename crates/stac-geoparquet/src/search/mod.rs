//! Search over stac-geoparquet catalog files: the STAC API Item Search
//! parameters ([`SearchParams`]) evaluated on one file, a list, a glob or a
//! (hive-partitioned) folder, with the results pgstac gives for the same
//! items.
//!
//! ```
//! use serde_json::json;
//! use stac_geoparquet::search::{search, SearchParams};
//! let items: Vec<_> = (0..100).map(|i| json!({"type": "Feature", "id": format!("i{i:03}"),
//!     "collection": if i % 2 == 0 { "even" } else { "odd" },
//!     "geometry": {"type": "Point", "coordinates": [i as f64, 0.0]},
//!     "bbox": [i as f64, 0.0, i as f64, 0.0],
//!     "properties": {"datetime": format!("2023-01-{:02}T00:00:00Z", 1 + i % 28), "eo:cloud_cover": i}}))
//!     .collect();
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("catalog.parquet");
//! stac_geoparquet::to_geoparquet(&items, &path, &Default::default())?;
//!
//! let params = SearchParams::new()
//!     .with_collections(["even"])
//!     .with_bbox([10.0, -1.0, 20.0, 1.0])
//!     .with_filter("\"eo:cloud_cover\" < 15".parse()?)
//!     .with_sortby("-id");
//! let found: Vec<_> = search(&path, &params)?.collect::<Result<_, _>>()?;
//! let ids: Vec<&str> = found.iter().map(|i| i["id"].as_str().unwrap()).collect();
//! assert_eq!(ids, ["i014", "i012", "i010"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How a search runs
//!
//! 1. The parameters compile to one filter (`ids`, `collections`, `bbox`,
//!    `intersects`, `datetime`, `query`, CQL2 text or JSON `filter`), with
//!    pgstac's semantics (see the `expr` and `eval` modules): `datetime`
//!    matches the item's range (`start_datetime`..`end_datetime` when both
//!    are set, else `datetime`), spatial tests are exact on the geometry,
//!    missing fields are SQL nulls.
//! 2. Each file's row groups, then pages, are pruned with their statistics
//!    (bbox covering columns, datetime columns, collection, id, any scalar
//!    property the filter compares).
//! 3. The rows left are filtered on their own columns (a parquet
//!    `RowFilter`) before any JSON is built; only conditions on nested
//!    fields (`assets.*`) run on the decoded items.
//! 4. Without `sortby`, items stream in file order. With it, the keys of
//!    every match are read first, sorted (pgstac's order: `id` descending
//!    as a tie-breaker, nulls last ascending), and the items then read in
//!    that order a chunk at a time.
//!
//! `fields` is applied to each item, and columns the output does not need
//! (excluded `assets`, `links`, properties) are never decoded. `limit`
//! (the API page size) has no meaning for a file; `max_items` caps the
//! results.
//!
//! Where this differs from pgstac, on purpose: a `bbox` whose west edge is
//! east of its east edge crosses the antimeridian (the STAC API spec; pgstac
//! builds a box the other way round); an included field that is missing is
//! left out (pgstac writes `null`); property comparisons follow the values'
//! types rather than the collection's queryables; `s_within`,
//! `s_contains` and the other spatial operators but `s_intersects` and
//! `s_disjoint` are refused with an error.

mod arrow_row;
mod cql2_json;
mod cql2_text;
mod eval;
mod expr;
mod fields;
mod parallel;
mod prune;
mod query;
mod scan;
mod sort;
mod sources;
mod spatial;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use serde_json::Value;
pub use stac_meta::search::{Direction, Fields, Filter, SearchParams, SortBy};

use crate::error::{GeoParquetError, Result};
use eval::Val;
use expr::Expr;
use scan::{FileRows, OpenFile, Want};
use sort::Order;
use sources::SourceFile;
pub use sources::Sources;

/// The search parameters as a test on single items, with exactly the
/// semantics of [`search`] (for items that are not in a catalog file:
/// JSON files, API results).
///
/// ```
/// use serde_json::json;
/// use stac_geoparquet::search::{Matcher, SearchParams};
/// let m = Matcher::new(&SearchParams::new().with_datetime("2023-06").with_filter("platform = 's2a'".parse()?))?;
/// let item = json!({"id": "a", "properties": {"datetime": "2023-06-10T10:00:00Z", "platform": "s2a"}});
/// assert!(m.matches(&item)?);
/// assert!(!m.matches(&json!({"id": "b", "properties": {"datetime": "2023-07-01T00:00:00Z", "platform": "s2a"}}))?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Matcher {
    expr: Expr,
}

impl Matcher {
    /// Compile the parameters (their filters only: `sortby`, `fields` and
    /// `max_items` do not apply to one item).
    pub fn new(params: &SearchParams) -> Result<Self> {
        let expr = query::compile(params)
            .map_err(|(parameter, reason)| GeoParquetError::InvalidQuery { parameter, reason })?;
        Ok(Self { expr })
    }

    /// Whether the item matches (an error for a field the filter cannot
    /// read, e.g. a geometry that is not GeoJSON).
    pub fn matches(&self, item: &Value) -> Result<bool> {
        eval::eval(&self.expr, &eval::JsonRow(item))
            .map(|r| r == Some(true))
            .map_err(|reason| GeoParquetError::InvalidItem {
                path: PathBuf::new(),
                index: 0,
                id: stac_meta::item_id(item).to_owned(),
                reason,
            })
    }
}

/// What a search read and skipped (for `--verbose` output and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchStats {
    /// Files opened.
    pub files: usize,
    /// Files whose every row group was skipped.
    pub files_skipped: usize,
    /// Row groups in the files opened.
    pub row_groups: usize,
    /// Row groups skipped by their statistics: (file, row-group index).
    pub skipped_row_groups: Vec<(PathBuf, usize)>,
    /// Rows in the files opened.
    pub rows: u64,
    /// Rows of kept row groups skipped by the page index.
    pub rows_skipped_by_pages: u64,
    /// Rows whose JSON was built (after the column filter).
    pub rows_decoded: u64,
    /// Items returned.
    pub items: u64,
}

/// Search a catalog: an iterator of the matching items.
///
/// The parameters are checked (and compiled) before any file is opened:
/// a bad filter or datetime is a [`GeoParquetError::InvalidQuery`] naming
/// the parameter. A file that is not stac-geoparquet, or a row that cannot
/// be decoded, ends the iteration with an error naming the file and row.
pub fn search(sources: impl Into<Sources>, params: &SearchParams) -> Result<Search> {
    search_with(sources, params, &SearchOptions::default())
}

/// Options of [`search_with`].
///
/// ```
/// use stac_geoparquet::search::SearchOptions;
/// assert_eq!(SearchOptions::default().with_threads(3).threads(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    threads: usize,
    read: crate::ReadOptions,
}

impl Default for SearchOptions {
    /// As many threads as cores; the default read limits.
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            read: crate::ReadOptions::default(),
        }
    }
}

impl SearchOptions {
    /// Threads decoding items in [`Search::write_ndjson`] (at least 1).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Threads decoding items.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Limits on what a file may make the search decode (as
    /// [`Reader::open_with`](crate::Reader::open_with) applies them per item).
    pub fn with_read_options(mut self, read: crate::ReadOptions) -> Self {
        self.read = read;
        self
    }
}

/// [`search`] with options.
pub fn search_with(
    sources: impl Into<Sources>,
    params: &SearchParams,
    options: &SearchOptions,
) -> Result<Search> {
    let expr = query::compile(params)
        .map_err(|(parameter, reason)| GeoParquetError::InvalidQuery { parameter, reason })?;
    let files = sources::resolve(&sources.into())?;
    let order = (!params.sortby.is_empty()).then(|| Order::new(&params.sortby));
    Ok(Search {
        conjuncts: expr.clone().conjuncts(),
        expr,
        fields: params.fields.clone(),
        order,
        remaining: params.max_items,
        files: files.into(),
        current: None,
        sorted: None,
        stats: SearchStats::default(),
        done: false,
        threads: options.threads,
        read: options.read.clone(),
    })
}

/// The items of a search, in file order (or in `sortby` order).
pub struct Search {
    expr: Expr,
    conjuncts: Vec<Expr>,
    fields: Option<Fields>,
    order: Option<Order>,
    remaining: Option<usize>,
    files: VecDeque<SourceFile>,
    current: Option<FileRows>,
    sorted: Option<Sorted>,
    stats: SearchStats,
    done: bool,
    threads: usize,
    read: crate::ReadOptions,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("files_left", &self.files.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Search {
    /// What was read and skipped so far (complete once the iterator ended).
    pub fn stats(&self) -> &SearchStats {
        &self.stats
    }

    /// Write every (remaining) item as NDJSON, one per line, in the order
    /// the iterator gives them: when the search is not sorted, items are
    /// written on [`SearchOptions::threads`] threads, straight from the
    /// Arrow columns (no `Value` built) unless `fields` is given or a
    /// filter must run on decoded items; the bytes are the same as
    /// serde_json's for the iterator's items.
    /// Returns the number of items written; [`Search::stats`] is complete
    /// afterwards.
    ///
    /// ```
    /// # use serde_json::json;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("c.parquet");
    /// # let items: Vec<_> = (0..10).map(|i| json!({"type": "Feature", "id": format!("{i}"), "geometry": null, "properties": {"datetime": "2023-01-01T00:00:00Z"}})).collect();
    /// # stac_geoparquet::to_geoparquet(&items, &path, &Default::default())?;
    /// use stac_geoparquet::search::{search, SearchParams};
    /// let mut out = Vec::new();
    /// let n = search(&path, &SearchParams::new().with_ids(["3", "4"]))?.write_ndjson(&mut out)?;
    /// assert_eq!((n, out.iter().filter(|b| **b == b'\n').count()), (2, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_ndjson(&mut self, out: &mut dyn std::io::Write) -> Result<u64> {
        let io = |e: std::io::Error| GeoParquetError::io("<output>", e);
        let mut n = 0u64;
        // Unsorted searches go through the part writer even on one thread:
        // it writes straight from the Arrow columns.
        if self.order.is_some() || self.current.is_some() {
            for item in self.by_ref() {
                serde_json::to_writer(&mut *out, &item?).map_err(|e| io(e.into()))?;
                out.write_all(b"\n").map_err(io)?;
                n += 1;
            }
            return Ok(n);
        }
        if self.done || self.remaining == Some(0) {
            return Ok(0);
        }
        self.done = true;
        let mut files = Vec::new();
        let mut parts = Vec::new();
        while let Some(next) = self.open_next() {
            let (file, pruned) = next?;
            if pruned.row_groups.is_empty() {
                continue;
            }
            let idx = files.len();
            parts.extend(
                pruned
                    .parts(parallel::PART_ROWS)
                    .into_iter()
                    .map(|p| (idx, p)),
            );
            files.push(file);
        }
        // With a `max_items`, parts are filtered as they are written, so
        // that the search stops reading once it has enough.
        let plan = match self.remaining {
            None => parallel::plan(&files, parts, &self.conjuncts, self.threads),
            Some(_) => parallel::Plan {
                jobs: parts,
                conjuncts: vec![self.conjuncts.clone(); files.len()],
                fail: None,
            },
        };
        let work = parallel::Work {
            files: &files,
            jobs: &plan.jobs,
            conjuncts: &plan.conjuncts,
            fields: &self.fields,
            limit: self.remaining,
            pool: std::sync::Mutex::default(),
        };
        let (items, decoded) = work.write(self.threads, self.remaining.map(|m| m as u64), out)?;
        self.stats.items += items;
        self.stats.rows_decoded += decoded;
        if let Some(e) = plan.fail {
            // The items of the rows before the failing part came first.
            return Err(e);
        }
        Ok(items)
    }

    /// Open the next file and prune it: `None` when none is left.
    fn open_next(&mut self) -> Option<Result<(OpenFile, prune::Pruned)>> {
        let src = self.files.pop_front()?;
        let file = match OpenFile::open(&src, &self.read) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        let pruned = file.prune(&self.expr);
        self.stats.files += 1;
        self.stats.row_groups += file.num_row_groups();
        self.stats.rows += file.num_rows();
        self.stats.rows_skipped_by_pages += pruned.rows_skipped_by_pages;
        self.stats.skipped_row_groups.extend(
            pruned
                .skipped_row_groups
                .iter()
                .map(|i| (file.path.clone(), *i)),
        );
        if pruned.row_groups.is_empty() {
            self.stats.files_skipped += 1;
        }
        Some(Ok((file, pruned)))
    }

    fn next_unsorted(&mut self) -> Option<Result<Value>> {
        loop {
            if let Some(cur) = self.current.as_mut() {
                match cur.next_item() {
                    Some(Ok((_, item))) => {
                        return Some(Ok(match &self.fields {
                            Some(f) => fields::apply(item, f),
                            None => item,
                        }));
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        self.stats.rows_decoded += cur.decoded;
                        self.current = None;
                    }
                }
            }
            let (file, pruned) = match self.open_next()? {
                Ok(x) => x,
                Err(e) => return Some(Err(e)),
            };
            if pruned.row_groups.is_empty() {
                continue;
            }
            match file.rows(
                &self.conjuncts,
                &pruned.whole(),
                &Want::output(self.fields.clone()),
                self.remaining,
            ) {
                Ok(rows) => self.current = Some(rows),
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Read the sort keys of every match, and sort them.
    fn sort_keys(&mut self, order: &Order) -> Result<Sorted> {
        let mut files = Vec::new();
        let mut keys: Vec<(Vec<Val<'static>>, usize, u64)> = Vec::new();
        let want = Want::props(order.props().into_iter().cloned().collect());
        while let Some(next) = self.open_next() {
            let (file, pruned) = next?;
            if pruned.row_groups.is_empty() {
                continue;
            }
            let idx = files.len();
            let mut rows = file.rows(&self.conjuncts, &pruned.whole(), &want, None)?;
            while let Some(r) = rows.next_item() {
                let (row, item) = r?;
                let key = order
                    .key(&item)
                    .map_err(|reason| GeoParquetError::InvalidRow {
                        path: file.path.clone(),
                        row,
                        id: Some(stac_meta::item_id(&item).to_owned()),
                        column: "sortby".into(),
                        reason,
                    })?;
                keys.push((key, idx, row));
            }
            self.stats.rows_decoded += rows.decoded;
            files.push(file);
        }
        keys.sort_by(|a, b| order.cmp(&a.0, &b.0));
        if let Some(n) = self.remaining {
            keys.truncate(n);
        }
        Ok(Sorted {
            files,
            order: keys.into_iter().map(|(_, f, r)| (f, r)).collect(),
            ready: VecDeque::new(),
        })
    }

    fn next_sorted(&mut self) -> Option<Result<Value>> {
        if self.sorted.is_none() {
            let order = self.order.clone().expect("sorted search");
            match self.sort_keys(&order) {
                Ok(s) => self.sorted = Some(s),
                Err(e) => return Some(Err(e)),
            }
        }
        let sorted = self.sorted.as_mut().expect("set above");
        if sorted.ready.is_empty() {
            if let Err(e) = sorted.fill(&self.fields) {
                return Some(Err(e));
            }
        }
        let item = sorted.ready.pop_front()?;
        Some(Ok(match &self.fields {
            Some(f) => fields::apply(item, f),
            None => item,
        }))
    }
}

/// Items read by row number, in sort order, a chunk at a time.
struct Sorted {
    files: Vec<OpenFile>,
    /// (file, row) in output order, not read yet.
    order: VecDeque<(usize, u64)>,
    ready: VecDeque<Value>,
}

/// Items read at a time in sort order.
const SORT_CHUNK: usize = 4096;

impl Sorted {
    fn fill(&mut self, fields: &Option<Fields>) -> Result<()> {
        let n = self.order.len().min(SORT_CHUNK);
        if n == 0 {
            return Ok(());
        }
        let chunk: Vec<(usize, u64)> = self.order.drain(..n).collect();
        let mut by_file: HashMap<usize, Vec<u64>> = HashMap::new();
        for (f, r) in &chunk {
            by_file.entry(*f).or_default().push(*r);
        }
        let mut got: HashMap<(usize, u64), Value> = HashMap::with_capacity(n);
        let want = Want::output(fields.clone());
        for (f, mut rows) in by_file {
            rows.sort_unstable();
            rows.dedup();
            let file = &self.files[f];
            let mut reader = file.rows_at(&rows, &want)?;
            while let Some(r) = reader.next_item() {
                let (row, item) = r?;
                got.insert((f, row), item);
            }
        }
        for key in chunk {
            match got.remove(&key) {
                Some(item) => self.ready.push_back(item),
                None => {
                    return Err(GeoParquetError::InvalidRow {
                        path: self.files[key.0].path.clone(),
                        row: key.1,
                        id: None,
                        column: String::new(),
                        reason: "the row changed between the two passes of a sorted search".into(),
                    });
                }
            }
        }
        Ok(())
    }
}

impl Iterator for Search {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        if self.done || self.remaining == Some(0) {
            return None;
        }
        let next = if self.order.is_some() {
            self.next_sorted()
        } else {
            self.next_unsorted()
        };
        match &next {
            Some(Ok(_)) => {
                self.stats.items += 1;
                if let Some(r) = self.remaining.as_mut() {
                    *r -= 1;
                }
            }
            Some(Err(_)) | None => self.done = true,
        }
        next
    }
}
