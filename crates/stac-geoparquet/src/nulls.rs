//! Explicit `null` versus absent, for top-level columns where both occur.
//!
//! A Parquet null cannot say whether the item had `"key": null` or no
//! `key` at all. Nested fields keep the difference by being stored as JSON
//! text; a top-level column (a property, or a top-level key) keeps its
//! native type, and the writer lists in the file metadata the rows whose
//! null is an explicit `null` (as `[first, count]` runs, in file order).
//! The reader puts the `null` back on those rows ([`NullRows::restore`]).
//! Other readers see an ordinary nullable column.

use serde_json::{Map, Value};

use crate::decode::Extra;
use crate::layout::RESERVED;
use crate::metadata::FileHints;

/// Runs of rows: `(first row, count)`.
pub(crate) type Runs = Vec<(u64, u64)>;

/// Rows with explicit nulls, per column, as the reader applies them.
#[derive(Debug, Default, Clone)]
pub(crate) struct NullRows {
    /// (item key, at the top level (else a property), sorted runs).
    columns: Vec<(String, bool, Runs)>,
}

impl NullRows {
    /// From a file's hints (nothing for files without them).
    pub(crate) fn new(hints: Option<&FileHints>) -> Self {
        let Some(h) = hints else {
            return Self::default();
        };
        let columns = h
            .null_rows
            .iter()
            .map(|(column, runs)| {
                if RESERVED.contains(&column.as_str()) {
                    return (column.clone(), true, runs.clone());
                }
                match h.root_columns.iter().find(|(c, _)| c == column) {
                    Some((_, key)) => (key.clone(), true, runs.clone()),
                    None => (column.clone(), false, runs.clone()),
                }
            })
            .collect();
        Self { columns }
    }

    /// The explicit nulls of file row `row`, as keys the NDJSON writer
    /// adds where absent (in the order [`NullRows::restore`] adds them).
    pub(crate) fn extras<'a>(&'a self, row: u64, out: &mut Vec<Extra<'a>>) {
        for (key, root, runs) in &self.columns {
            let i = runs.partition_point(|(first, _)| *first <= row);
            if i > 0 && {
                let (first, count) = runs[i - 1];
                row < first.saturating_add(count)
            } {
                out.push(Extra {
                    key,
                    root: *root,
                    value: None,
                });
            }
        }
    }

    /// Put back the explicit nulls of file row `row` into its item.
    pub(crate) fn restore(&self, item: &mut Value, row: u64) {
        for (key, root, runs) in &self.columns {
            let i = runs.partition_point(|(first, _)| *first <= row);
            let hit = i > 0 && {
                let (first, count) = runs[i - 1];
                row < first.saturating_add(count)
            };
            if !hit {
                continue;
            }
            let Value::Object(obj) = item else { return };
            let target = if *root {
                obj
            } else {
                let props = obj
                    .entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
                match props {
                    Value::Object(p) => p,
                    _ => continue,
                }
            };
            target.entry(key.clone()).or_insert(Value::Null);
        }
    }
}

/// Builds the runs of rows with explicit nulls for one column while rows
/// are written in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct RunBuilder {
    pub runs: Vec<(u64, u64)>,
}

impl RunBuilder {
    /// Row `row` (rows arrive in increasing order) holds an explicit null.
    pub(crate) fn push(&mut self, row: u64) {
        match self.runs.last_mut() {
            Some((first, count)) if *first + *count == row => *count += 1,
            _ => self.runs.push((row, 1)),
        }
    }
}

/// Runs of input rows, renumbered to output rows: `position[i]` is where
/// input row `i` was written.
pub(crate) fn remap(runs: &[(u64, u64)], position: &[u32]) -> Vec<(u64, u64)> {
    let mut rows: Vec<u64> = runs
        .iter()
        .flat_map(|(first, count)| *first..first + count)
        .filter_map(|r| {
            position
                .get(usize::try_from(r).ok()?)
                .map(|p| u64::from(*p))
        })
        .collect();
    rows.sort_unstable();
    let mut b = RunBuilder::default();
    for r in rows {
        b.push(r);
    }
    b.runs
}

/// Most runs of explicit-null rows kept in the metadata for one column; a
/// column with more is stored as JSON text instead (which keeps the
/// difference in each cell).
pub(crate) const MAX_RUNS: usize = 10_000;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn runs_follow_a_permutation() {
        // Input rows 0 and 1 are written at positions 3 and 0.
        assert_eq!(remap(&[(0, 2)], &[3, 0, 1, 2]), [(0, 1), (3, 1)]);
    }

    #[test]
    fn runs_restore_nulls_on_their_rows_only() {
        let mut b = RunBuilder::default();
        for r in [1, 2, 3, 7] {
            b.push(r);
        }
        assert_eq!(b.runs, [(1, 3), (7, 1)]);
        let hints = FileHints {
            null_rows: vec![
                ("cc".into(), b.runs.clone()),
                ("collection".into(), vec![(0, 1)]),
            ],
            ..FileHints::default()
        };
        let n = NullRows::new(Some(&hints));
        for row in 0..9u64 {
            let mut item = json!({"id": "x", "properties": {}});
            n.restore(&mut item, row);
            let want = [1, 2, 3, 7].contains(&row);
            assert_eq!(item["properties"].get("cc").is_some(), want, "row {row}");
            assert_eq!(item.get("collection").is_some(), row == 0, "row {row}");
        }
        let mut item = json!({"id": "x", "properties": {"cc": 5}});
        n.restore(&mut item, 2);
        assert_eq!(item["properties"]["cc"], 5, "a value is never replaced");
    }
}
