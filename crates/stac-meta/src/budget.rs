//! JSON parsed within a memory budget.
//!
//! `serde_json::from_slice::<Value>` can turn a few bytes into many: `[0,0,…]`
//! takes 72 bytes of [`Value`] per 2 bytes of text, `{}` in an array 72 per
//! 3. A hostile search page or Parquet cell can use this to take tens of
//! times its size in memory. The parsers here build the same [`Value`]
//! (same key order, the last of duplicated keys wins, the same numbers) but
//! count, while they build, what the tree costs in memory, and stop with
//! [`JsonBudgetError::TooLarge`] as soon as it would exceed the budget: the
//! memory they take is bounded by the budget, whatever the input.
//!
//! The cost is an estimate of the bytes a `Value` tree holds (this build of
//! serde_json keeps key order, so objects are index maps):
//! [`VALUE_BYTES`] per value, plus [`ALLOC_BYTES`] per heap block, plus the
//! bytes of every string and key, plus [`ENTRY_BYTES`] per object member.
//! [`value_cost`] gives the same figure for a tree that exists already.
//!
//! Nesting is bounded by serde_json's recursion limit (128), as with
//! `serde_json::from_slice`.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Bytes of one [`Value`] (inline, in its parent's buffer).
pub const VALUE_BYTES: u64 = std::mem::size_of::<Value>() as u64;
/// Bytes an allocator adds to each heap block (a string's or an array's).
pub const ALLOC_BYTES: u64 = 16;
/// Bytes of one object member beyond its value and its key's text: the
/// index-map bucket (hash and key `String`), its slot in the hash index,
/// and the key's heap block.
pub const ENTRY_BYTES: u64 = 8 + std::mem::size_of::<String>() as u64 + 24 + ALLOC_BYTES;

/// Why a bounded parse failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonBudgetError {
    /// Not JSON (syntax, invalid UTF-8, nesting deeper than 128 levels,
    /// trailing characters).
    #[error("{0}")]
    Json(serde_json::Error),
    /// The value would take more than `budget` bytes in memory.
    #[error(
        "the JSON value would take more than {budget} bytes in memory (about {} MiB)",
        budget >> 20
    )]
    TooLarge {
        /// The budget in bytes.
        budget: u64,
    },
}

/// A memory budget: what was spent so far and the limit.
///
/// ```
/// use stac_meta::budget::{Budget, from_slice_within};
/// let mut budget = Budget::new(1 << 20);
/// let v = from_slice_within(br#"{"id": "a", "bbox": [0, 1, 2, 3]}"#, &mut budget)?;
/// assert_eq!(v["id"], "a");
/// assert_eq!(budget.used(), stac_meta::budget::value_cost(&v));
/// # Ok::<(), stac_meta::budget::JsonBudgetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    limit: u64,
    used: u64,
    exceeded: bool,
}

impl Budget {
    /// A budget of `limit` bytes, nothing spent.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            used: 0,
            exceeded: false,
        }
    }

    /// Bytes spent.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The limit.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes left.
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    /// Whether a spend was refused.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// Spend `bytes`; `false` (and nothing spent) when that would pass the limit.
    pub fn take(&mut self, bytes: u64) -> bool {
        match self.used.checked_add(bytes) {
            Some(total) if total <= self.limit => {
                self.used = total;
                true
            }
            _ => {
                self.exceeded = true;
                false
            }
        }
    }

    fn spend<E: de::Error>(&mut self, bytes: u64) -> Result<(), E> {
        if self.take(bytes) {
            Ok(())
        } else {
            Err(E::custom(format_args!(
                "the JSON value would take more than {} bytes in memory",
                self.limit
            )))
        }
    }

    fn error(&self, e: serde_json::Error) -> JsonBudgetError {
        if self.exceeded {
            JsonBudgetError::TooLarge { budget: self.limit }
        } else {
            JsonBudgetError::Json(e)
        }
    }
}

/// Cost of a string value of `len` bytes.
fn string_cost(len: usize) -> u64 {
    VALUE_BYTES + len as u64 + if len > 0 { ALLOC_BYTES } else { 0 }
}

/// What `value` costs in memory, by the model of this module.
pub fn value_cost(value: &Value) -> u64 {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => VALUE_BYTES,
        Value::String(s) => string_cost(s.len()),
        Value::Array(a) => {
            let own = VALUE_BYTES + if a.is_empty() { 0 } else { ALLOC_BYTES };
            own + a.iter().map(value_cost).sum::<u64>()
        }
        Value::Object(m) => {
            VALUE_BYTES
                + m.iter()
                    .map(|(k, v)| ENTRY_BYTES + k.len() as u64 + value_cost(v))
                    .sum::<u64>()
        }
    }
}

/// Parse `bytes` into a [`Value`], spending from `budget` as the tree grows.
pub fn from_slice_within(bytes: &[u8], budget: &mut Budget) -> Result<Value, JsonBudgetError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Build(budget)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| budget.error(e))?;
    Ok(value)
}

/// [`from_slice_within`] for text.
pub fn from_str_within(text: &str, budget: &mut Budget) -> Result<Value, JsonBudgetError> {
    from_slice_within(text.as_bytes(), budget)
}

/// Parse `bytes` into a [`Value`] that may take at most `limit` bytes.
///
/// ```
/// use stac_meta::budget::{JsonBudgetError, from_slice_bounded};
/// let page = format!("[{}0]", "0,".repeat(10_000));
/// assert_eq!(from_slice_bounded(page.as_bytes(), 1 << 20)?.as_array().unwrap().len(), 10_001);
/// // 20 kB of text, 720 kB as a Value: over a 100 kB budget.
/// assert!(matches!(from_slice_bounded(page.as_bytes(), 100_000), Err(JsonBudgetError::TooLarge { .. })));
/// # Ok::<(), JsonBudgetError>(())
/// ```
pub fn from_slice_bounded(bytes: &[u8], limit: u64) -> Result<Value, JsonBudgetError> {
    from_slice_within(bytes, &mut Budget::new(limit))
}

/// What parsing `bytes` would cost, without building anything (the text is
/// checked as [`from_slice_within`] would check it).
///
/// ```
/// let text = br#"{"a": [1, "xy"]}"#;
/// let cost = stac_meta::budget::measure(text)?;
/// assert_eq!(cost, stac_meta::budget::value_cost(&serde_json::from_slice(text)?));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn measure(bytes: &[u8]) -> Result<u64, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let cost = Measure.deserialize(&mut de)?;
    de.end()?;
    Ok(cost)
}

/// A [`DeserializeSeed`] that builds a [`Value`] within a budget: for use
/// with any serde_json deserializer (a stream, a sub-slice). A refusal is a
/// deserializer error; [`Budget::exceeded`] tells it from a syntax error.
#[derive(Debug)]
pub struct Build<'a>(pub &'a mut Budget);

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.spend(VALUE_BYTES)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.spend(VALUE_BYTES)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.spend(VALUE_BYTES)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.spend(VALUE_BYTES)?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.spend(string_cost(v.len()))?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.0.spend(string_cost(v.len()))?;
        Ok(Value::String(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.0.spend(VALUE_BYTES)?;
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.spend(VALUE_BYTES)?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Build(&mut *self.0))? {
            out.push(v);
        }
        if !out.is_empty() {
            self.0.spend(ALLOC_BYTES)?;
            out.shrink_to_fit();
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.spend(VALUE_BYTES)?;
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key_seed(Key(&mut *self.0))? {
            let value = map.next_value_seed(Build(&mut *self.0))?;
            entries.push((key, value));
        }
        let mut out = Map::with_capacity(entries.len());
        for (k, v) in entries {
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// An object key: its cost is checked before the key is allocated.
struct Key<'a>(&'a mut Budget);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.0.spend(ENTRY_BYTES + v.len() as u64)?;
        Ok(v.to_owned())
    }
}

/// A [`DeserializeSeed`] that only counts what [`Build`] would spend.
#[derive(Debug)]
pub struct Measure;

impl<'de> DeserializeSeed<'de> for Measure {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Measure {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<u64, E> {
        Ok(VALUE_BYTES)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<u64, E> {
        Ok(VALUE_BYTES)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<u64, E> {
        Ok(VALUE_BYTES)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<u64, E> {
        Ok(VALUE_BYTES)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        Ok(string_cost(v.len()))
    }

    fn visit_none<E: de::Error>(self) -> Result<u64, E> {
        Ok(VALUE_BYTES)
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(VALUE_BYTES)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut cost = VALUE_BYTES;
        let mut any = false;
        while let Some(c) = seq.next_element_seed(Measure)? {
            cost = cost.saturating_add(c);
            any = true;
        }
        Ok(cost + if any { ALLOC_BYTES } else { 0 })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut cost = VALUE_BYTES;
        while let Some(key_len) = map.next_key_seed(KeyLen)? {
            let c = map.next_value_seed(Measure)?;
            cost = cost.saturating_add(ENTRY_BYTES + key_len + c);
        }
        Ok(cost)
    }
}

/// The length of a key, without allocating it.
struct KeyLen;

impl<'de> DeserializeSeed<'de> for KeyLen {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyLen {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        Ok(v.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_value_as_serde_json() {
        for text in [
            r#"{"b": 1, "a": [1.5, -2, 18446744073709551615, "x\u00e9", null, true, {}, []], "b": 2}"#,
            "[]",
            "\"\"",
            "1e308",
            r#"{"k": {"k": {"k": [[[]]]}}}"#,
        ] {
            let mut budget = Budget::new(u64::MAX);
            let ours = from_str_within(text, &mut budget).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            assert_eq!(
                ours.as_object().map(|m| m.keys().collect::<Vec<_>>()),
                theirs.as_object().map(|m| m.keys().collect::<Vec<_>>())
            );
            assert_eq!(budget.used(), measure(text.as_bytes()).unwrap(), "{text}");
        }
    }

    #[test]
    fn cost_matches_the_tree_except_for_duplicated_keys() {
        let v = json!({"id": "S2A", "bbox": [1, 2.5, 3, 4], "p": {"x": null, "y": [{}]}});
        let text = v.to_string();
        let mut budget = Budget::new(u64::MAX);
        assert_eq!(from_str_within(&text, &mut budget).unwrap(), v);
        assert_eq!(budget.used(), value_cost(&v));
    }

    #[test]
    fn stops_at_the_budget() {
        let text = format!("[{}0]", "0,".repeat(100_000));
        let err = from_slice_bounded(text.as_bytes(), 1 << 20).unwrap_err();
        assert!(
            matches!(err, JsonBudgetError::TooLarge { budget } if budget == 1 << 20),
            "{err}"
        );
        // A huge key is refused before it is copied.
        let key = format!("{{\"{}\": 1}}", "k".repeat(1 << 20));
        assert!(matches!(
            from_slice_bounded(key.as_bytes(), 1 << 19),
            Err(JsonBudgetError::TooLarge { .. })
        ));
        // Syntax errors stay syntax errors.
        assert!(matches!(
            from_slice_bounded(b"[1,", 1 << 20),
            Err(JsonBudgetError::Json(_))
        ));
        assert!(matches!(
            from_slice_bounded(b"[1] x", 1 << 20),
            Err(JsonBudgetError::Json(_))
        ));
    }

    #[test]
    fn nesting_is_limited_like_serde_json() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            from_slice_bounded(deep.as_bytes(), u64::MAX),
            Err(JsonBudgetError::Json(_))
        ));
        assert!(measure(deep.as_bytes()).is_err());
    }
}
