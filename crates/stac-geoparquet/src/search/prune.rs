//! Pruning with Parquet statistics: which row groups, and which pages of
//! the row groups kept, can hold a match.
//!
//! A filter is evaluated on column *ranges* (min, max, null count) instead
//! of values: [`may`] answers whether some row of the range can make the
//! filter true, and whether some row can make it false (`NOT` swaps the
//! two). A row group or page is skipped only when no row can be true, so
//! pruning never drops a match; fields without statistics (or with
//! statistics that do not bound the comparison, e.g. text compared as
//! numbers) keep everything.
//!
//! Statistics used: the row-group column statistics and the page index
//! (column index + offset index) of the filter's columns, the GeoParquet
//! bbox covering for spatial filters, and the datetime columns for the
//! temporal range.

use std::cmp::Ordering;
use std::collections::HashMap;

use arrow_schema::{DataType, Schema, TimeUnit};
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use parquet::file::metadata::{ParquetMetaData, RowGroupMetaData};
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::statistics::Statistics;

use super::arrow_row::FieldMap;
use super::eval::{Val, compare};
use super::expr::{CmpOp, Expr, Operand, Prop, SpatialOp, TemporalOp};

/// What the statistics say about one column over a range of rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stat {
    /// The file has no such column: every value is null.
    Absent,
    /// No usable statistics.
    Unknown,
    /// Bounds of the non-null values (`None`: not recorded) and the null count.
    Known {
        min: Option<Val<'static>>,
        max: Option<Val<'static>>,
        nulls: Option<u64>,
        rows: u64,
    },
}

impl Stat {
    fn all_null(&self) -> bool {
        match self {
            Stat::Absent => true,
            Stat::Known { nulls, rows, .. } => *nulls == Some(*rows),
            Stat::Unknown => false,
        }
    }

    fn bounds(&self) -> Option<(&Val<'static>, &Val<'static>)> {
        match self {
            Stat::Known {
                min: Some(a),
                max: Some(b),
                ..
            } => Some((a, b)),
            _ => None,
        }
    }
}

/// Statistics of the columns over one range of rows.
pub(crate) trait Stats {
    /// The statistics of a column (a top-level name or a dotted leaf path).
    fn stat(&self, column: &str) -> Stat;
}

/// What a filter is pruned against.
pub(crate) struct Ctx<'a> {
    pub map: &'a FieldMap,
    /// Dotted paths of the bbox covering (xmin, ymin, xmax, ymax).
    pub covering: Option<&'a [String; 4]>,
    pub stats: &'a dyn Stats,
}

const MAYBE: (bool, bool) = (true, true);

/// `(can be true, can be false)` for some row of the range.
pub(crate) fn may(e: &Expr, ctx: &Ctx) -> (bool, bool) {
    match e {
        Expr::Const(b) => (*b, !*b),
        Expr::And(parts) => parts.iter().fold((true, false), |(t, f), p| {
            let (pt, pf) = may(p, ctx);
            (t && pt, f || pf)
        }),
        Expr::Or(parts) => parts.iter().fold((false, true), |(t, f), p| {
            let (pt, pf) = may(p, ctx);
            (t || pt, f && pf)
        }),
        Expr::Not(inner) => {
            let (t, f) = may(inner, ctx);
            (f, t)
        }
        Expr::Cmp(op, a, b) => match (a, b) {
            (Operand::Prop(p), lit) if literal(lit).is_some() => cmp(*op, &stat(p, ctx), lit),
            (lit, Operand::Prop(p)) if literal(lit).is_some() => cmp(op.flip(), &stat(p, ctx), lit),
            _ => MAYBE,
        },
        Expr::In(Operand::Prop(p), list) if list.iter().all(|l| literal(l).is_some()) => {
            let s = stat(p, ctx);
            if s.all_null() {
                return (false, false);
            }
            let t = list.iter().any(|l| cmp(CmpOp::Eq, &s, l).0);
            (t, true)
        }
        Expr::Between(Operand::Prop(p), lo, hi)
            if literal(lo).is_some() && literal(hi).is_some() =>
        {
            let s = stat(p, ctx);
            let (a, _) = cmp(CmpOp::Ge, &s, lo);
            let (b, _) = cmp(CmpOp::Le, &s, hi);
            if s.all_null() {
                (false, false)
            } else {
                (a && b, true)
            }
        }
        Expr::IsNull(Operand::Prop(p)) => match stat(p, ctx) {
            Stat::Absent => (true, false),
            Stat::Known { nulls, rows, .. } if !matches!(p, Prop::Start | Prop::End) => {
                (nulls.is_none_or(|n| n > 0), nulls.is_none_or(|n| n < rows))
            }
            _ => MAYBE,
        },
        Expr::Like(Operand::Prop(p), Operand::Str(pattern)) => {
            let s = stat(p, ctx);
            if s.all_null() {
                return (false, false);
            }
            let prefix = literal_prefix(pattern);
            match s.bounds() {
                Some((Val::Str(min), Val::Str(max))) if !prefix.is_empty() => {
                    let below = max.as_ref() < prefix.as_str();
                    let above = !min.starts_with(prefix.as_str()) && min.as_ref() > prefix.as_str();
                    (!(below || above), true)
                }
                _ => MAYBE,
            }
        }
        Expr::Temporal(op, Operand::Prop(p), other) => {
            let Some((rl, rh)) = literal_range(other) else {
                return MAYBE;
            };
            let s = stat(p, ctx);
            if s.all_null() {
                return (false, false);
            }
            let Some((Val::Time(lo), Val::Time(hi))) = s.bounds() else {
                return MAYBE;
            };
            let (lo, hi) = (*lo, *hi);
            // The field is an instant t in [lo, hi].
            let t = match op {
                TemporalOp::Intersects => lo <= rh && hi >= rl,
                TemporalOp::Before => lo < rl,
                TemporalOp::After => hi > rh,
                TemporalOp::During => hi > rl && lo < rh,
                TemporalOp::Meets | TemporalOp::Starts | TemporalOp::StartedBy => {
                    lo <= rl && hi >= rl
                }
                TemporalOp::MetBy | TemporalOp::Finishes | TemporalOp::FinishedBy => {
                    lo <= rh && hi >= rh
                }
                TemporalOp::Equals => rl == rh && lo <= rl && hi >= rl,
                _ => true,
            };
            (t, true)
        }
        Expr::Spatial(SpatialOp::Intersects, Operand::Prop(Prop::Geometry), Operand::Geom(g))
        | Expr::Spatial(SpatialOp::Intersects, Operand::Geom(g), Operand::Prop(Prop::Geometry)) => {
            let Some(cov) = ctx.covering else {
                return MAYBE;
            };
            let s: Vec<Stat> = cov.iter().map(|c| ctx.stats.stat(c)).collect();
            let mut b = [0.0f64; 4];
            for (i, st) in s.iter().enumerate() {
                match st {
                    Stat::Known {
                        min: Some(Val::Num(lo)),
                        max: Some(Val::Num(hi)),
                        nulls: Some(0),
                        ..
                    } => {
                        // xmin, ymin: the smallest; xmax, ymax: the largest.
                        b[i] = if i < 2 { *lo } else { *hi };
                    }
                    _ => return MAYBE,
                }
            }
            let t = g
                .part_envelopes()
                .iter()
                .any(|e| b[0] <= e[2] && b[2] >= e[0] && b[1] <= e[3] && b[3] >= e[1]);
            (t, true)
        }
        _ => MAYBE,
    }
}

/// The leading literal characters of a LIKE pattern.
fn literal_prefix(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' | '_' => break,
            '\\' => match chars.next() {
                Some(n) => out.push(n),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

/// The closed range of instants a temporal literal spells.
fn literal_range(o: &Operand) -> Option<(i64, i64)> {
    match o {
        Operand::Time(t) => Some((*t, *t)),
        Operand::Date(d) => Some((*d, d + super::cql2_json::DAY - 1)),
        Operand::Interval(a, b) => Some((a.unwrap_or(i64::MIN), b.unwrap_or(i64::MAX))),
        Operand::Str(s) => super::cql2_json::text_range(s).ok(),
        _ => None,
    }
}

/// A literal operand's value.
fn literal(o: &Operand) -> Option<Val<'_>> {
    Some(match o {
        Operand::Num(n) => Val::Num(*n),
        Operand::Str(s) => Val::Str(std::borrow::Cow::Borrowed(s)),
        Operand::Time(t) | Operand::Date(t) => Val::Time(*t),
        Operand::Bool(b) => Val::Bool(*b),
        _ => return None,
    })
}

/// The ordering of a column bound and a literal, when the comparison is
/// monotonic in the column's own order (so bounds bound it).
fn ord(bound: &Val, lit: &Val) -> Option<Ordering> {
    let ok = matches!(
        (bound, lit),
        (Val::Num(_), Val::Num(_) | Val::Str(_))
            | (Val::Time(_), Val::Time(_) | Val::Str(_))
            | (Val::Str(_), Val::Str(_))
            | (Val::Bool(_), Val::Bool(_))
    );
    if ok { compare(bound, lit) } else { None }
}

fn cmp(op: CmpOp, s: &Stat, lit: &Operand) -> (bool, bool) {
    if s.all_null() {
        return (false, false);
    }
    let Some(v) = literal(lit) else {
        return MAYBE;
    };
    let Some((min, max)) = s.bounds() else {
        return MAYBE;
    };
    let (Some(lo), Some(hi)) = (ord(min, &v), ord(max, &v)) else {
        return MAYBE;
    };
    use Ordering::*;
    let all_equal = lo == Equal && hi == Equal;
    let contains = lo != Greater && hi != Less;
    match op {
        CmpOp::Eq => (contains, !all_equal),
        CmpOp::Ne => (!all_equal, contains),
        CmpOp::Lt => (lo == Less, hi != Less),
        CmpOp::Le => (lo != Greater, hi == Greater),
        CmpOp::Gt => (hi == Greater, lo != Greater),
        CmpOp::Ge => (hi != Less, lo == Less),
    }
}

/// The statistics of a field: its column, or for the temporal range the
/// union of the datetime columns it comes from.
fn stat(p: &Prop, ctx: &Ctx) -> Stat {
    match p {
        Prop::Start | Prop::End => {
            let cols: &[&str] = if matches!(p, Prop::Start) {
                &["datetime", "start_datetime"]
            } else {
                &["datetime", "end_datetime"]
            };
            let mut out: Option<(i64, i64)> = None;
            let mut any = false;
            for c in cols {
                match ctx.stats.stat(c) {
                    Stat::Absent => {}
                    Stat::Known {
                        min: Some(Val::Time(a)),
                        max: Some(Val::Time(b)),
                        ..
                    } => {
                        any = true;
                        out = Some(match out {
                            Some((x, y)) => (x.min(a), y.max(b)),
                            None => (a, b),
                        });
                    }
                    Stat::Known { nulls, rows, .. } if nulls == Some(rows) => any = true,
                    _ => return Stat::Unknown,
                }
            }
            match out {
                Some((a, b)) => Stat::Known {
                    min: Some(Val::Time(a)),
                    max: Some(Val::Time(b)),
                    nulls: None,
                    rows: 0,
                },
                // Every datetime column is null in the range.
                None if any => Stat::Known {
                    min: None,
                    max: None,
                    nulls: Some(1),
                    rows: 1,
                },
                None => Stat::Absent,
            }
        }
        other => match ctx.map.column(other) {
            None => Stat::Unknown,
            Some(c) if ctx.map.json_columns.contains(&c) || ctx.map.injected(&c) => Stat::Unknown,
            Some(c) => ctx.stats.stat(&c),
        },
    }
}

/// Where each column's statistics live in a file: leaf index and Arrow type.
pub(crate) struct Leaves {
    by_name: HashMap<String, (usize, DataType)>,
}

impl Leaves {
    /// The primitive leaves of top-level columns and of the covering struct.
    pub(super) fn new(
        metadata: &ParquetMetaData,
        schema: &Schema,
        covering: Option<&[String; 4]>,
    ) -> Self {
        let descr = metadata.file_metadata().schema_descr();
        let mut by_name = HashMap::new();
        for i in 0..descr.num_columns() {
            let path = descr.column(i).path().string();
            let parts = descr.column(i).path().parts().to_vec();
            if parts.len() == 1 {
                if let Ok(f) = schema.field_with_name(&parts[0]) {
                    by_name.insert(path, (i, f.data_type().clone()));
                }
            } else if covering.is_some_and(|c| c.contains(&path)) {
                by_name.insert(path, (i, DataType::Float64));
            }
        }
        Self { by_name }
    }

    /// The leaf index of a column.
    pub(super) fn index(&self, column: &str) -> Option<usize> {
        self.by_name.get(column).map(|(i, _)| *i)
    }
}

/// Statistics of one row group (column-chunk statistics).
pub(crate) struct RowGroupStats<'a> {
    pub leaves: &'a Leaves,
    pub schema: &'a Schema,
    pub rg: &'a RowGroupMetaData,
}

impl Stats for RowGroupStats<'_> {
    fn stat(&self, column: &str) -> Stat {
        let Some((i, t)) = self.leaves.by_name.get(column) else {
            return absent_or_unknown(self.schema, column);
        };
        let rows = u64::try_from(self.rg.num_rows()).unwrap_or(0);
        match self.rg.column(*i).statistics() {
            Some(s) => from_statistics(s, t, rows),
            None => Stat::Unknown,
        }
    }
}

fn absent_or_unknown(schema: &Schema, column: &str) -> Stat {
    let top = column.split('.').next().unwrap_or(column);
    if schema.field_with_name(top).is_err() {
        Stat::Absent
    } else {
        Stat::Unknown
    }
}

/// µs per unit of an Int64 timestamp column.
fn time_scale(t: &DataType) -> Option<(i64, i64)> {
    match t {
        DataType::Timestamp(TimeUnit::Second, _) => Some((1_000_000, 1)),
        DataType::Timestamp(TimeUnit::Millisecond, _) => Some((1000, 1)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => Some((1, 1)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some((1, 1000)),
        _ => None,
    }
}

fn int64_val(v: i64, t: &DataType) -> Option<Val<'static>> {
    match time_scale(t) {
        Some((mul, div)) => Some(Val::Time(v.saturating_mul(mul).div_euclid(div))),
        None if matches!(t, DataType::Int64 | DataType::UInt64) => Some(Val::Num(v as f64)),
        None => None,
    }
}

fn int32_val(v: i32, t: &DataType) -> Option<Val<'static>> {
    match t {
        DataType::Date32 => Some(Val::Time(i64::from(v) * 86_400_000_000)),
        DataType::Int8 | DataType::Int16 | DataType::Int32 => Some(Val::Num(f64::from(v))),
        DataType::UInt8 | DataType::UInt16 => Some(Val::Num(f64::from(v))),
        _ => None,
    }
}

fn str_val(b: &[u8], t: &DataType) -> Option<Val<'static>> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => std::str::from_utf8(b)
            .ok()
            .map(|s| Val::Str(std::borrow::Cow::Owned(s.to_owned()))),
        _ => None,
    }
}

fn from_statistics(s: &Statistics, t: &DataType, rows: u64) -> Stat {
    let nulls = s.null_count_opt();
    let (min, max) = match s {
        Statistics::Boolean(v) if *t == DataType::Boolean => (
            v.min_opt().map(|b| Val::Bool(*b)),
            v.max_opt().map(|b| Val::Bool(*b)),
        ),
        Statistics::Int32(v) => (
            v.min_opt().and_then(|x| int32_val(*x, t)),
            v.max_opt().and_then(|x| int32_val(*x, t)),
        ),
        Statistics::Int64(v) => (
            v.min_opt().and_then(|x| int64_val(*x, t)),
            v.max_opt().and_then(|x| int64_val(*x, t)),
        ),
        Statistics::Float(v) if *t == DataType::Float32 => (
            v.min_opt().map(|x| Val::Num(f64::from(*x))),
            v.max_opt().map(|x| Val::Num(f64::from(*x))),
        ),
        Statistics::Double(v) if *t == DataType::Float64 => (
            v.min_opt().map(|x| Val::Num(*x)),
            v.max_opt().map(|x| Val::Num(*x)),
        ),
        // Old writers ordered byte arrays as signed bytes: unusable.
        Statistics::ByteArray(v) if !s.is_min_max_deprecated() => (
            v.min_opt().and_then(|x| str_val(x.data(), t)),
            v.max_opt().and_then(|x| str_val(x.data(), t)),
        ),
        _ => return Stat::Unknown,
    };
    Stat::Known {
        min,
        max,
        nulls,
        rows,
    }
}

/// Statistics of one page range, from the page index.
struct PageStats<'a> {
    /// column → (its statistics in this segment).
    stats: HashMap<&'a str, Stat>,
    fallback: &'a dyn Stats,
}

impl Stats for PageStats<'_> {
    fn stat(&self, column: &str) -> Stat {
        match self.stats.get(column) {
            Some(s) => s.clone(),
            None => self.fallback.stat(column),
        }
    }
}

fn page_stat(ci: &ColumnIndexMetaData, page: usize, t: &DataType, rows: u64) -> Stat {
    let nulls = ci.null_count(page).and_then(|n| u64::try_from(n).ok());
    if ci.is_null_page(page) {
        return Stat::Known {
            min: None,
            max: None,
            nulls: Some(rows),
            rows,
        };
    }
    let (min, max) = match ci {
        ColumnIndexMetaData::INT64(c) => (
            c.min_value(page).and_then(|x| int64_val(*x, t)),
            c.max_value(page).and_then(|x| int64_val(*x, t)),
        ),
        ColumnIndexMetaData::INT32(c) => (
            c.min_value(page).and_then(|x| int32_val(*x, t)),
            c.max_value(page).and_then(|x| int32_val(*x, t)),
        ),
        ColumnIndexMetaData::DOUBLE(c) if *t == DataType::Float64 => (
            c.min_value(page).map(|x| Val::Num(*x)),
            c.max_value(page).map(|x| Val::Num(*x)),
        ),
        ColumnIndexMetaData::FLOAT(c) if *t == DataType::Float32 => (
            c.min_value(page).map(|x| Val::Num(f64::from(*x))),
            c.max_value(page).map(|x| Val::Num(f64::from(*x))),
        ),
        ColumnIndexMetaData::BOOLEAN(c) if *t == DataType::Boolean => (
            c.min_value(page).map(|x| Val::Bool(*x)),
            c.max_value(page).map(|x| Val::Bool(*x)),
        ),
        ColumnIndexMetaData::BYTE_ARRAY(c) => (
            c.min_value(page).and_then(|x| str_val(x, t)),
            c.max_value(page).and_then(|x| str_val(x, t)),
        ),
        _ => return Stat::Unknown,
    };
    Stat::Known {
        min,
        max,
        nulls,
        rows,
    }
}

/// What pruning decided for one file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pruned {
    /// Row groups that may hold a match.
    pub row_groups: Vec<usize>,
    /// Row groups skipped by their statistics.
    pub skipped_row_groups: Vec<usize>,
    /// The rows of the kept row groups to read (page index), when it skips any.
    pub selection: Option<RowSelection>,
    /// Rows skipped by the page index inside kept row groups.
    pub rows_skipped_by_pages: u64,
    /// Per kept row group: its rows and the row ranges (within it) kept.
    pub kept: Vec<(usize, usize, Vec<std::ops::Range<usize>>)>,
}

/// The rows one reader reads: row groups and, within them, a selection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    pub row_groups: Vec<usize>,
    pub selection: Option<RowSelection>,
}

impl Pruned {
    /// Everything kept, as one part.
    pub(super) fn whole(&self) -> Part {
        Part {
            row_groups: self.row_groups.clone(),
            selection: self.selection.clone(),
        }
    }

    /// The kept rows cut into parts of windows of `rows` rows of a row
    /// group (aligned on multiples of `rows`, as pages are), each with
    /// something to read.
    pub(super) fn parts(&self, rows: usize) -> Vec<Part> {
        let rows = rows.max(1);
        let mut out = Vec::new();
        for (rg, total, kept) in &self.kept {
            let mut start = 0;
            while start < *total {
                let end = (start + rows).min(*total);
                let mut selectors = Vec::new();
                let mut at = 0;
                for r in kept {
                    let (a, b) = (r.start.max(start), r.end.min(end));
                    if a >= b {
                        continue;
                    }
                    if a > at {
                        selectors.push(RowSelector::skip(a - at));
                    }
                    selectors.push(RowSelector::select(b - a));
                    at = b;
                }
                if at > 0 {
                    if at < *total {
                        selectors.push(RowSelector::skip(total - at));
                    }
                    out.push(Part {
                        row_groups: vec![*rg],
                        selection: Some(RowSelection::from(selectors)),
                    });
                }
                start = end;
            }
        }
        out
    }
}

/// Prune the row groups, then the pages, of a file.
pub(crate) fn prune(
    expr: &Expr,
    map: &FieldMap,
    covering: Option<&[String; 4]>,
    metadata: &ParquetMetaData,
    schema: &Schema,
) -> Pruned {
    let leaves = Leaves::new(metadata, schema, covering);
    let mut columns: Vec<String> = Vec::new();
    {
        let mut props = Vec::new();
        expr.props(&mut props);
        for p in props {
            if matches!(p, Prop::Geometry) {
                if let Some(c) = covering {
                    columns.extend(c.iter().cloned());
                }
            }
            columns.extend(map.columns(p));
        }
        columns.sort();
        columns.dedup();
    }
    let leaf_ids: Vec<(&str, usize)> = columns
        .iter()
        .filter_map(|c| leaves.index(c).map(|i| (c.as_str(), i)))
        .collect();
    let mut out = Pruned::default();
    let mut selectors: Vec<RowSelector> = Vec::new();
    let mut page_pruned = false;
    for (rg_idx, rg) in metadata.row_groups().iter().enumerate() {
        let rg_stats = RowGroupStats {
            leaves: &leaves,
            schema,
            rg,
        };
        let ctx = Ctx {
            map,
            covering,
            stats: &rg_stats,
        };
        if !may(expr, &ctx).0 {
            out.skipped_row_groups.push(rg_idx);
            continue;
        }
        out.row_groups.push(rg_idx);
        let rows = usize::try_from(rg.num_rows()).unwrap_or(0);
        let kept = page_ranges(
            expr, map, covering, metadata, rg_idx, rows, &leaf_ids, &rg_stats,
        );
        let mut at = 0;
        for r in &kept {
            if r.start > at {
                selectors.push(RowSelector::skip(r.start - at));
                page_pruned = true;
            }
            selectors.push(RowSelector::select(r.end - r.start));
            at = r.end;
        }
        if at < rows {
            selectors.push(RowSelector::skip(rows - at));
            page_pruned = true;
        }
        out.rows_skipped_by_pages +=
            (rows - kept.iter().map(|r| r.end - r.start).sum::<usize>()) as u64;
        out.kept.push((rg_idx, rows, kept));
    }
    if page_pruned {
        out.selection = Some(RowSelection::from(selectors));
    }
    out
}

/// The row ranges of one row group whose pages may hold a match.
#[allow(clippy::too_many_arguments)]
fn page_ranges(
    expr: &Expr,
    map: &FieldMap,
    covering: Option<&[String; 4]>,
    metadata: &ParquetMetaData,
    rg_idx: usize,
    rows: usize,
    leaf_ids: &[(&str, usize)],
    rg_stats: &dyn Stats,
) -> Vec<std::ops::Range<usize>> {
    let whole = std::iter::once(0..rows).collect::<Vec<_>>();
    let index = metadata.page_index_for_row_group(rg_idx);
    // (column, arrow type, page first rows, column index) of columns with a page index.
    let mut cols = Vec::new();
    for (name, leaf) in leaf_ids {
        let (Some(ci), Some(oi)) = (index.column_index(*leaf), index.offset_index(*leaf)) else {
            continue;
        };
        let starts: Vec<usize> = oi
            .page_locations()
            .iter()
            .map(|p| usize::try_from(p.first_row_index).unwrap_or(0))
            .collect();
        if starts.is_empty() || starts.len() as u64 != ci.num_pages() {
            continue;
        }
        let t = match metadata
            .file_metadata()
            .schema_descr()
            .column(*leaf)
            .path()
            .parts()
        {
            [top] => match rg_stats_type(map, top) {
                Some(t) => t,
                None => continue,
            },
            _ => DataType::Float64,
        };
        cols.push((*name, t, starts, ci));
    }
    if cols.is_empty() {
        return whole;
    }
    let mut bounds: Vec<usize> = cols
        .iter()
        .flat_map(|(_, _, s, _)| s.iter().copied())
        .collect();
    bounds.push(rows);
    bounds.sort_unstable();
    bounds.dedup();
    let mut kept: Vec<std::ops::Range<usize>> = Vec::new();
    for w in bounds.windows(2) {
        let (start, end) = (w[0], w[1]);
        if start >= end || start >= rows {
            continue;
        }
        let mut stats = HashMap::new();
        for (name, t, starts, ci) in &cols {
            let page = starts.partition_point(|s| *s <= start).saturating_sub(1);
            let page_end = starts.get(page + 1).copied().unwrap_or(rows);
            let page_rows = page_end.saturating_sub(starts[page]) as u64;
            stats.insert(*name, page_stat(ci, page, t, page_rows));
        }
        let ps = PageStats {
            stats,
            fallback: rg_stats,
        };
        let ctx = Ctx {
            map,
            covering,
            stats: &ps,
        };
        if may(expr, &ctx).0 {
            match kept.last_mut() {
                Some(last) if last.end == start => last.end = end,
                _ => kept.push(start..end),
            }
        }
    }
    kept
}

/// The Arrow type of a top-level column (through the field map's schema).
fn rg_stats_type(map: &FieldMap, top: &str) -> Option<DataType> {
    map.types.get(top).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::cql2_json;
    use crate::search::cql2_text;

    struct Fixed(Vec<(&'static str, Stat)>);

    impl Stats for Fixed {
        fn stat(&self, column: &str) -> Stat {
            self.0
                .iter()
                .find(|(c, _)| *c == column)
                .map_or(Stat::Absent, |(_, s)| s.clone())
        }
    }

    fn known(min: Val<'static>, max: Val<'static>, nulls: u64) -> Stat {
        Stat::Known {
            min: Some(min),
            max: Some(max),
            nulls: Some(nulls),
            rows: 10,
        }
    }

    fn can_match(text: &str, stats: &Fixed) -> bool {
        let e = cql2_json::parse(&cql2_text::to_json(text).unwrap()).unwrap();
        let map = FieldMap {
            spec: true,
            ..FieldMap::default()
        };
        may(
            &e,
            &Ctx {
                map: &map,
                covering: None,
                stats,
            },
        )
        .0
    }

    #[test]
    fn ranges_decide_comparisons() {
        let s = Fixed(vec![
            ("cc", known(Val::Num(10.0), Val::Num(20.0), 0)),
            ("name", known(Val::Str("b".into()), Val::Str("d".into()), 2)),
            ("datetime", known(Val::Time(100), Val::Time(200), 0)),
        ]);
        assert!(can_match("cc < 11", &s));
        assert!(!can_match("cc < 10", &s));
        assert!(!can_match("cc > 20", &s));
        assert!(can_match("cc = 15", &s));
        assert!(!can_match("cc = 25", &s));
        assert!(can_match("NOT cc = 25", &s));
        assert!(!can_match("NOT cc <= 20", &s), "every row has cc <= 20");
        assert!(can_match("cc BETWEEN 0 AND 10", &s));
        assert!(!can_match("cc BETWEEN 21 AND 30", &s));
        assert!(can_match("cc IN (1, 12)", &s));
        assert!(!can_match("cc IN (1, 2)", &s));
        assert!(!can_match("name LIKE 'x%'", &s));
        assert!(can_match("name LIKE 'c%'", &s));
        assert!(can_match("name IS NULL", &s));
        assert!(!can_match("cc IS NULL", &s));
        assert!(
            !can_match("missing = 1", &s),
            "an absent column is all null"
        );
        assert!(can_match("missing IS NULL", &s));
        assert!(can_match("cc < 11 OR missing = 1", &s));
        assert!(!can_match("cc < 10 AND name = 'c'", &s));
        assert!(
            can_match("cc < '11'", &s),
            "text literals are read as numbers"
        );
        assert!(
            can_match("name < 5", &s),
            "text compared as a number: no bound"
        );
    }
}
