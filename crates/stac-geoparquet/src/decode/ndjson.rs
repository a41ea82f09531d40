//! Items written as NDJSON straight from the compiled columns, with no
//! [`Value`] built on the way: the search's and the reader's fast output
//! path.
//!
//! Invariant: for every row, [`Rows::write_item`] writes exactly the bytes
//! `serde_json::to_writer` writes for the item the [`Value`] path
//! ([`Rows::items`], then the explicit nulls and folder fields put back)
//! builds, followed by `\n`. That holds because:
//! - keys come in the same order (slot order, then the keys put back at the
//!   end of their object, as `Map::entry` appends them with
//!   `preserve_order`), and a slot is written exactly when the `Value` path
//!   would hold it (present, or absent but explicit → `null`);
//! - strings are escaped by serde_json's own `format_escaped_str`, floats
//!   and integers by its `CompactFormatter` (ryu, itoa), as `Value`
//!   serialisation does;
//! - the rare column types (JSON text, dictionaries, maps, dates, float32,
//!   base64 bytes, WKB) build their `Value` with the same code as the
//!   `Value` path and serialise it.
//!
//! The same memory budget is spent per row as the row-by-row `Value` path
//! spends ([`ReadOptions::max_value_bytes`]), so a file refused there is
//! refused here, with an error naming the row and column.

use arrow_array::Array;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter};
use stac_meta::budget::{ALLOC_BYTES, Budget, VALUE_BYTES};

use super::{
    Ctx, Fail, Node, Object, RowError, Rows, RowsKind, string_bytes, timestamp_text, valid,
};
use crate::limits::ReadOptions;

/// A key the `Value` path adds to an item after decoding it when absent
/// (an explicit `null` listed in the file hints, or a field given by a
/// hive folder name): appended at the end of its object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extra<'a> {
    /// The key.
    pub key: &'a str,
    /// A top-level key (else a property).
    pub root: bool,
    /// The string value (`None`: `null`).
    pub value: Option<&'a str>,
}

/// Which object of an item is being written (for [`Extra`] keys).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Properties,
    Nested,
}

/// Whether `s` holds a byte serde_json escapes (`"`, `\\`, a control
/// character), tested 8 bytes at a time.
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether a byte of `v` is zero / below `n` (exact as a whole: a
    // false bit only ever follows a true one).
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let has_less = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH != 0;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let w = u64::from_le_bytes(word);
        if has_less(w, 0x20)
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Write `s` as a JSON string, escaped as serde_json escapes it.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes `"`, `\\` and control characters only; most
    // strings (hrefs, ids, dates) hold none and are copied as they are.
    if needs_escape(s.as_bytes()) {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    // A `Value` always serialises (string keys only); into a Vec, no I/O error.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// A float as the `Value` path writes it (`float_number`, then serde_json).
fn write_float(out: &mut Vec<u8>, f: f64, ints: bool, ctx: &Ctx<'_>) -> Result<(), Fail> {
    if ints && f.fract() == 0.0 && f.abs() < 9.0e15 {
        let _ = CompactFormatter.write_i64(out, f as i64);
    } else if f.is_finite() {
        let _ = CompactFormatter.write_f64(out, f);
    } else {
        write_value(out, &ctx.float(f, ints)?);
    }
    Ok(())
}

impl Rows {
    /// Write the item of `row` as one line of NDJSON (the item, then
    /// `\n`), with the `extras` keys added where absent: returns the
    /// memory budget the row spent (what its `Value` would take). On `Err`,
    /// nothing of the row is left in `out`.
    pub(crate) fn write_item(
        &mut self,
        row: usize,
        extras: &[Extra<'_>],
        out: &mut Vec<u8>,
        options: &ReadOptions,
    ) -> Result<u64, RowError> {
        let start = out.len();
        let mut ctx = Ctx {
            options,
            budget: Budget::new(options.max_value_bytes()),
        };
        let result = match &mut self.kind {
            RowsKind::Spec(item) => ctx
                .spend(VALUE_BYTES)
                .and_then(|()| write_object(item, row, &mut ctx, out, extras, Level::Root))
                .map(drop),
            RowsKind::Blob(_) => self.fill(row..row + 1, &mut ctx).map(|()| {
                let mut item = self.buf.pop().flatten().unwrap_or_default();
                add_extras(&mut item, extras);
                write_value(out, &item);
            }),
        };
        match result {
            Ok(()) => {
                out.push(b'\n');
                Ok(ctx.budget.used())
            }
            Err(f) => {
                out.truncate(start);
                let mut e = RowError::new(row, f.column(), f.refused);
                e.id = self.id(row);
                Err(e)
            }
        }
    }
}

/// Add the `extras` keys to a decoded item where absent, as the `Value`
/// path does (`NullRows::restore`, then the folder fields).
pub(crate) fn add_extras(item: &mut Value, extras: &[Extra<'_>]) {
    let Value::Object(obj) = item else { return };
    for e in extras {
        let v = e.value.map_or(Value::Null, |s| Value::String(s.to_owned()));
        if e.root {
            obj.entry(e.key).or_insert(v);
        } else if let Value::Object(p) = obj
            .entry("properties")
            .or_insert_with(|| Value::Object(serde_json::Map::new()))
        {
            p.entry(e.key).or_insert(v);
        }
    }
}

/// Write the object of `row` (false, nothing written, for a null struct).
fn write_object(
    o: &mut Object,
    row: usize,
    ctx: &mut Ctx<'_>,
    out: &mut Vec<u8>,
    extras: &[Extra<'_>],
    level: Level,
) -> Result<bool, Fail> {
    if !valid(o.nulls.as_ref(), row) {
        return Ok(false);
    }
    let mine = |e: &&Extra<'_>| match level {
        Level::Root => e.root,
        Level::Properties => !e.root,
        Level::Nested => false,
    };
    let has_extras = extras.iter().any(|e| mine(&e));
    let mut wrote: Vec<&str> = Vec::new();
    out.push(b'{');
    let mut any = false;
    for slot in &mut o.slots {
        let mark = out.len();
        if any {
            out.push(b',');
        }
        out.extend_from_slice(&slot.json_key);
        let written = match &mut slot.node {
            Node::Object(p)
                if level == Level::Root && slot.column.is_none() && slot.key == "properties" =>
            {
                write_object(p, row, ctx, out, extras, Level::Properties)
            }
            node => node.write(row, ctx, out),
        }
        .map_err(|mut f| {
            if let Some(label) = &slot.label {
                f.path.push(label.clone());
            }
            f
        })?;
        if written || slot.explicit {
            if !written {
                out.extend_from_slice(b"null");
            }
            ctx.spend(slot.cost)?;
            any = true;
            if has_extras {
                wrote.push(&slot.key);
            }
        } else {
            out.truncate(mark);
        }
    }
    if has_extras {
        for e in extras.iter().filter(mine) {
            if wrote.contains(&e.key) {
                continue;
            }
            if any {
                out.push(b',');
            }
            write_str(out, e.key);
            out.push(b':');
            match e.value {
                Some(s) => write_str(out, s),
                None => out.extend_from_slice(b"null"),
            }
            any = true;
            wrote.push(e.key);
        }
    }
    out.push(b'}');
    Ok(true)
}

impl Node {
    /// Write the value of `row` (false, nothing written, when the `Value`
    /// path gives no value), spending what the `Value` path spends.
    fn write(&mut self, row: usize, ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> Result<bool, Fail> {
        match self {
            Node::Null => Ok(false),
            Node::Bool(a) => {
                if !a.is_valid(row) {
                    return Ok(false);
                }
                out.extend_from_slice(if a.value(row) { b"true" } else { b"false" });
                Ok(true)
            }
            Node::Int(i) => {
                let Some(v) = i.get(row) else {
                    return Ok(false);
                };
                write_value(out, &v);
                Ok(true)
            }
            Node::F64(a, ints) => {
                if !a.is_valid(row) {
                    return Ok(false);
                }
                write_float(out, a.value(row), *ints, ctx)?;
                Ok(true)
            }
            Node::Str(s) => match s.get(row) {
                None => Ok(false),
                Some(text) => {
                    ctx.spend(string_bytes(text.len()))?;
                    write_str(out, text);
                    Ok(true)
                }
            },
            Node::Timestamp {
                values,
                nulls,
                unit,
                fmt,
            } => {
                if !valid(nulls.as_ref(), row) {
                    return Ok(false);
                }
                let text = timestamp_text(values[row], *unit, *fmt)?;
                ctx.spend(string_bytes(text.len()))?;
                write_str(out, &text);
                Ok(true)
            }
            Node::Object(o) => write_object(o, row, ctx, out, &[], Level::Nested),
            Node::List(l) => {
                // The Value path spends a heap block for every row, null or not.
                ctx.spend(ALLOC_BYTES)?;
                if !valid(l.nulls.as_ref(), row) {
                    return Ok(false);
                }
                let (start, end) = l.offsets.range(row);
                let n = end.saturating_sub(start);
                ctx.spend(VALUE_BYTES.saturating_mul(n as u64))?;
                out.push(b'[');
                for (k, j) in (start..end).enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    if !l.child.write(j, ctx, out)? {
                        out.extend_from_slice(b"null");
                    }
                }
                out.push(b']');
                Ok(true)
            }
            Node::Bbox(b) => {
                if !valid(b.nulls.as_ref(), row) {
                    return Ok(false);
                }
                let order: &[usize] = if b.cols[2].as_ref().is_some_and(|c| c.is_valid(row)) {
                    &[0, 1, 2, 3, 4, 5]
                } else {
                    &[0, 1, 3, 4]
                };
                ctx.spend(ALLOC_BYTES + VALUE_BYTES * order.len() as u64)?;
                out.push(b'[');
                for (k, &i) in order.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    match &b.cols[i] {
                        Some(c) if c.is_valid(row) => write_float(out, c.value(row), b.ints, ctx)?,
                        _ => out.extend_from_slice(b"null"),
                    }
                }
                out.push(b']');
                Ok(true)
            }
            // The rare types: the Value path's own value, serialised.
            Node::Json(_)
            | Node::F32(_)
            | Node::Wkb(..)
            | Node::Base64(_)
            | Node::Date(_)
            | Node::Map(_)
            | Node::Dict(_) => match self.value(row, ctx)? {
                Some(v) => {
                    write_value(out, &v);
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write_str;

    /// Every byte class at every position of a word, and long strings:
    /// the same bytes as serde_json.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let specials = [
            '"', '\\', '\u{0}', '\u{1f}', '\n', ' ', '!', '#', '[', ']', '\u{7f}', 'é', '€', '😀',
            'a',
        ];
        let mut cases: Vec<String> = Vec::new();
        for len in 0..20 {
            for at in 0..len {
                for c in specials {
                    let mut s: String = "x".repeat(len);
                    s.replace_range(at..at + 1, &c.to_string());
                    cases.push(s);
                }
            }
        }
        cases.push("https://example.com/a/b?c=d&e=f#g".repeat(9));
        cases.push(format!("{}\"", "é".repeat(33)));
        for s in cases {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{s:?}");
        }
    }
}
