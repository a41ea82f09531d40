//! Writing a search's items as NDJSON on several threads, in file order.
//!
//! The kept rows of every file are cut into parts of [`PART_ROWS`] rows of
//! a row group (page-aligned). Worker threads each take the next part,
//! filter, decode and serialise its items; the calling thread writes the
//! parts' bytes in order. Workers run at most [`AHEAD`] parts per thread
//! ahead of the writer, so memory stays bounded by a few parts' NDJSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Condvar, Mutex};

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
    pub conjuncts: &'a [Expr],
    pub fields: &'a Option<Fields>,
    pub limit: Option<usize>,
}

impl Work<'_> {
    fn run(&self, job: usize) -> Result<Output> {
        let (file, part) = &self.jobs[job];
        let file = &self.files[*file];
        let mut rows = file.rows(
            self.conjuncts,
            part,
            &Want::output(self.fields.clone()),
            self.limit,
        )?;
        let mut bytes = Vec::new();
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
