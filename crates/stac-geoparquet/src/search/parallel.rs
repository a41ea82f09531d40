//! Writing a search's items as NDJSON on several threads, in file order.
//!
//! The kept rows of every file are cut into parts of [`PART_ROWS`] rows of
//! a row group (page-aligned). First ([`plan`]), worker threads run the
//! filter's column predicates on each part, decoding only the filter's
//! columns, and keep the row numbers that pass; the matches of a row
//! group are then regrouped into jobs of at most [`PART_ROWS`] matches.
//! So the output's columns (hundreds of leaf columns in a real catalog,
//! each with its dictionary page) are decoded once per job and only on
//! the pages holding a match, not once per part of 4096 candidate rows.
//! Then worker threads each take the next job, decode and serialise its
//! items; the calling thread writes the jobs' bytes in order. Workers run
//! at most [`AHEAD`] jobs per thread ahead of the writer, so memory stays
//! bounded by a few jobs' NDJSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use parquet::arrow::arrow_reader::RowSelection;

use serde_json::Value;

use super::expr::Expr;
use super::fields;
use super::prune::Part;
use super::scan::{OpenFile, Want};
use crate::error::{GeoParquetError, Result};
use stac_meta::search::Fields;

/// Rows of a row group per part (the writer's default page size).
pub(crate) const PART_ROWS: usize = 4096;

/// Parts each worker may run ahead of the writer.
const AHEAD: usize = 2;

/// One part's output: NDJSON bytes, the end of each item in them, and the
/// rows decoded.
type Output = (Vec<u8>, Vec<usize>, u64);

struct State {
    next: usize,
    written: usize,
    done: BTreeMap<usize, Result<Output>>,
    cancel: bool,
}

/// What the workers share.
pub(crate) struct Work<'a> {
    pub files: &'a [OpenFile],
    pub jobs: &'a [(usize, Part)],
    /// Per file, the conjuncts its jobs still run.
    pub conjuncts: &'a [Vec<Expr>],
    pub fields: &'a Option<Fields>,
    pub limit: Option<usize>,
    /// Output buffers written out, for the next jobs: reused, their pages
    /// stay mapped (a fresh buffer of tens of MB costs the kernel as
    /// much time zeroing its pages as the items take to serialise).
    pub pool: Mutex<Vec<Vec<u8>>>,
}

/// The jobs of a search: the rows to decode, per file the conjuncts left
/// to run on them, and the error that stopped the filter pass.
pub(crate) struct Plan {
    pub jobs: Vec<(usize, Part)>,
    pub conjuncts: Vec<Vec<Expr>>,
    pub fail: Option<GeoParquetError>,
}

/// One part's filter result: the matching row numbers and the conjuncts
/// left, or `None` when nothing ran on columns.
type Matches = Result<Option<(Vec<u64>, Vec<Expr>)>>;

/// Run the column predicates of `conjuncts` on every part on `threads`
/// threads, then regroup the matches of each row group into jobs of at
/// most [`PART_ROWS`] rows (in file and row order). Parts of a file whose
/// filter cannot run on columns stay jobs as they are, with every conjunct.
/// An error stops the pass: the jobs before the failing part are kept.
pub(crate) fn plan(
    files: &[OpenFile],
    parts: Vec<(usize, Part)>,
    conjuncts: &[Expr],
    threads: usize,
) -> Plan {
    let next = AtomicUsize::new(0);
    let stop = AtomicUsize::new(usize::MAX);
    let found: Mutex<Vec<(usize, Matches)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= parts.len() || i > stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let (f, part) = &parts[i];
                    let r = crate::guard::guarded(|| files[*f].matching_rows(conjuncts, part))
                        .unwrap_or_else(|message| {
                            Err(GeoParquetError::Parquet {
                                path: files[*f].path.clone(),
                                message,
                            })
                        });
                    if r.is_err() {
                        stop.fetch_min(i, Ordering::Relaxed);
                    }
                    found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((i, r));
                }
            });
        }
    });
    let mut found = found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    found.sort_by_key(|(i, _)| *i);
    let mut plan = Plan {
        jobs: Vec::new(),
        conjuncts: vec![conjuncts.to_vec(); files.len()],
        fail: None,
    };
    // The matches gathered for (file, row group), not yet a job.
    let mut open: Option<(usize, usize, Vec<u64>)> = None;
    let flush = |open: &mut Option<(usize, usize, Vec<u64>)>, jobs: &mut Vec<(usize, Part)>| {
        if let Some((f, rg, rows)) = open.take() {
            if !rows.is_empty() {
                jobs.push((f, rows_part(&files[f], rg, &rows)));
            }
        }
    };
    // Every part before the first failing one was filtered: `found`
    // holds them all, in order, up to that one.
    for (i, r) in found {
        let (f, part) = &parts[i];
        let f = *f;
        match r {
            Err(e) => {
                flush(&mut open, &mut plan.jobs);
                plan.fail = Some(e);
                break;
            }
            Ok(None) => {
                flush(&mut open, &mut plan.jobs);
                plan.jobs.push((f, part.clone()));
            }
            Ok(Some((rows, residual))) => {
                plan.conjuncts[f] = residual;
                let rg = part.row_groups.first().copied().unwrap_or(0);
                if open
                    .as_ref()
                    .is_some_and(|(of, org, _)| (*of, *org) != (f, rg))
                {
                    flush(&mut open, &mut plan.jobs);
                }
                for row in rows {
                    let (_, _, held) = open.get_or_insert_with(|| (f, rg, Vec::new()));
                    held.push(row);
                    if held.len() >= PART_ROWS {
                        flush(&mut open, &mut plan.jobs);
                    }
                }
            }
        }
    }
    flush(&mut open, &mut plan.jobs);
    plan
}

/// A part reading exactly `rows` (ascending row numbers in the file) of row group `rg`.
fn rows_part(file: &OpenFile, rg: usize, rows: &[u64]) -> Part {
    let starts = file.row_group_starts();
    let first = starts.get(rg).copied().unwrap_or(0);
    let total = starts.get(rg + 1).copied().unwrap_or(first) - first;
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for &r in rows {
        let r = usize::try_from(r - first).unwrap_or(usize::MAX);
        match ranges.last_mut() {
            Some(last) if last.end == r => last.end = r + 1,
            _ => ranges.push(r..r + 1),
        }
    }
    Part {
        row_groups: vec![rg],
        selection: Some(RowSelection::from_consecutive_ranges(
            ranges.into_iter(),
            usize::try_from(total).unwrap_or(usize::MAX),
        )),
    }
}

impl Work<'_> {
    fn run(&self, job: usize) -> Result<Output> {
        let (f, part) = &self.jobs[job];
        let file = &self.files[*f];
        let mut rows = file.rows(
            &self.conjuncts[*f],
            part,
            &Want::output(self.fields.clone()),
            self.limit,
        )?;
        let mut bytes = self
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        bytes.clear();
        let mut ends = Vec::new();
        if self.fields.is_none() && rows.direct() {
            // Straight from the Arrow columns: no `Value` built.
            while rows.write_batch(&mut bytes, &mut ends)? {}
            return Ok((bytes, ends, rows.decoded));
        }
        while let Some(r) = rows.next_item() {
            let (_, item) = r?;
            let item: Value = match self.fields {
                Some(f) => fields::apply(item, f),
                None => item,
            };
            serde_json::to_writer(&mut bytes, &item)
                .map_err(|e| GeoParquetError::io(&file.path, e.into()))?;
            bytes.push(b'\n');
            ends.push(bytes.len());
        }
        Ok((bytes, ends, rows.decoded))
    }

    /// Run every job on `threads` threads; write the items in job order,
    /// at most `max` of them. Returns (items written, rows decoded).
    pub(super) fn write(
        &self,
        threads: usize,
        max: Option<u64>,
        out: &mut dyn Write,
    ) -> Result<(u64, u64)> {
        let state = Mutex::new(State {
            next: 0,
            written: 0,
            done: BTreeMap::new(),
            cancel: false,
        });
        let cv = Condvar::new();
        let window = threads * AHEAD;
        let lock = || {
            state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let job = {
                            let mut s = lock();
                            loop {
                                if s.cancel || s.next >= self.jobs.len() {
                                    return;
                                }
                                if s.next < s.written + window {
                                    break;
                                }
                                s = cv
                                    .wait(s)
                                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                            }
                            s.next += 1;
                            s.next - 1
                        };
                        let result = self.run(job);
                        let mut s = lock();
                        s.done.insert(job, result);
                        cv.notify_all();
                    }
                });
            }
            let finish = |cancel: bool| {
                let mut s = lock();
                s.cancel |= cancel;
                cv.notify_all();
            };
            let mut items = 0u64;
            let mut decoded = 0u64;
            for job in 0..self.jobs.len() {
                let result = {
                    let mut s = lock();
                    loop {
                        if let Some(r) = s.done.remove(&job) {
                            break r;
                        }
                        s = cv
                            .wait(s)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                };
                let (bytes, ends, rows) = match result {
                    Ok(o) => o,
                    Err(e) => {
                        finish(true);
                        return Err(e);
                    }
                };
                decoded += rows;
                let take = match max {
                    Some(m) => ends
                        .len()
                        .min(usize::try_from(m - items).unwrap_or(usize::MAX)),
                    None => ends.len(),
                };
                let end = if take == 0 { 0 } else { ends[take - 1] };
                if let Err(e) = out.write_all(&bytes[..end]) {
                    finish(true);
                    return Err(GeoParquetError::io("<output>", e));
                }
                items += take as u64;
                self.pool
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(bytes);
                {
                    let mut s = lock();
                    s.written = job + 1;
                    cv.notify_all();
                }
                if max.is_some_and(|m| items >= m) {
                    break;
                }
            }
            finish(true);
            Ok((items, decoded))
        })
    }
}
