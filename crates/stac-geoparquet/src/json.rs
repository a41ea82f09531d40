//! Borrowed JSON values for the writer: what schema inference and encoding
//! read an item as.
//!
//! A [`Json`] parsed from text borrows every key and string that has no
//! escape from that text, and holds objects as a vector of entries: no
//! string is copied and no map is hashed, which made building (and
//! freeing) `serde_json::Value`s, twice per item, the largest part of a
//! write. A [`Json`] can also borrow from a `serde_json::Value`
//! ([`Json::from_value`]) for the writer's `Value` entry points.
//!
//! Invariant: [`Json::parse`] sees exactly what `serde_json::Value` sees
//! in the same text (the same parser, the same number types, a repeated key
//! keeping its first position and its last value as `preserve_order` does),
//! and [`Json`]'s `Display` writes the bytes `Value`'s does. The writer's
//! output therefore does not depend on which entry point an item came in.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Number, Value};

/// One JSON value, borrowing its strings where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// The entries of a JSON object, in order, each key once.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Object<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> Json<'a> {
    /// Parse JSON text, borrowing from it.
    pub(crate) fn parse(text: &'a str) -> serde_json::Result<Self> {
        Self::parse_with(serde_json::Deserializer::from_str(text))
    }

    /// Parse JSON bytes (UTF-8), borrowing from them.
    pub(crate) fn parse_slice(text: &'a [u8]) -> serde_json::Result<Self> {
        Self::parse_with(serde_json::Deserializer::from_slice(text))
    }

    /// What `serde_json::from_str` does (one value, then only
    /// whitespace), with one scratch stack for the whole parse.
    fn parse_with<R: serde_json::de::Read<'a>>(
        mut de: serde_json::Deserializer<R>,
    ) -> serde_json::Result<Self> {
        let mut scratch = Scratch::default();
        let value = JsonSeed(&mut scratch).deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }

    /// Borrow a `serde_json::Value`.
    pub(crate) fn from_value(v: &'a Value) -> Self {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(Cow::Borrowed(s)),
            Value::Array(a) => Json::Array(a.iter().map(Json::from_value).collect()),
            Value::Object(o) => Json::Object(Object(
                o.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from_value(v)))
                    .collect(),
            )),
        }
    }

    /// An owned `serde_json::Value` of the same content.
    #[cfg(test)]
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Json::Number(_))
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn as_number(&self) -> Option<&Number> {
        match self {
            Json::Number(n) => Some(n),
            _ => None,
        }
    }

    pub(crate) fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(Number::as_f64)
    }

    pub(crate) fn is_f64(&self) -> bool {
        self.as_number().is_some_and(Number::is_f64)
    }

    pub(crate) fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The member `key` of an object (`None` for anything else).
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.as_object()?.get(key)
    }
}

impl<'a> Object<'a> {
    /// The value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Entries in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Json<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
}

/// Add an entry to the object being parsed (the entries of `stack` from
/// `start`); a key already present keeps its position and takes the new
/// value (what `serde_json::Map` does with `preserve_order`). A repeated
/// key is looked for only when [`Seen`] says it may be one, so the cost
/// stays linear in the number of keys for any object.
fn insert<'a>(
    stack: &mut Vec<(Cow<'a, str>, Json<'a>)>,
    start: usize,
    key: Cow<'a, str>,
    value: Json<'a>,
    seen: &mut Seen,
) {
    let at = stack.len() - start;
    if let Some(candidate) = seen.repeat(&key, at, &stack[start..]) {
        let slot = match candidate {
            Some(i) if stack[start + i].0 == key => Some(i),
            // A filter or hash collision: look the key up for real (small
            // objects only; a large one reaches here only on a 64-bit
            // collision of a randomly keyed hash).
            _ => stack[start..].iter().position(|(k, _)| *k == key),
        };
        if let Some(i) = slot {
            stack[start + i].1 = value;
            return;
        }
    }
    seen.add(&key, at);
    stack.push((key, value));
}

/// The keys of the object being parsed, for [`insert`]: a 256-bit filter
/// while the object is small, then (past [`Seen::INDEX_FROM`] keys) a
/// hash index from each key's randomly keyed 64-bit hash to its position.
/// Without the index, an object of n distinct keys filled the filter after
/// a few hundred and made every insert a scan: n² comparisons, which a
/// hostile item of a million keys turned into minutes.
#[derive(Default)]
struct Seen {
    filter: [u64; 4],
    index: Option<(
        std::collections::HashMap<u64, usize>,
        std::hash::RandomState,
    )>,
}

impl Seen {
    /// Objects with more keys than this get a hash index.
    const INDEX_FROM: usize = 32;

    /// `None`: `key` is certainly new. `Some(Some(i))`: it may be the key
    /// at position `i`. `Some(None)`: it may be any earlier key. `len` is
    /// the number of keys so far, `keys` the entries themselves (to build
    /// the index when the object grows past [`Self::INDEX_FROM`]).
    fn repeat(
        &mut self,
        key: &str,
        len: usize,
        keys: &[(Cow<'_, str>, Json<'_>)],
    ) -> Option<Option<usize>> {
        if self.index.is_none() && len > Self::INDEX_FROM {
            let state = std::hash::RandomState::new();
            let mut map = std::collections::HashMap::with_capacity(len * 2);
            for (i, (k, _)) in keys.iter().enumerate() {
                map.entry(hash_with(&state, k)).or_insert(i);
            }
            self.index = Some((map, state));
        }
        match &self.index {
            Some((map, state)) => map.get(&hash_with(state, key)).map(|&i| Some(i)),
            None => {
                let h = key_hash(key);
                let (word, bit) = ((h >> 6) as usize & 3, 1u64 << (h & 63));
                (self.filter[word] & bit != 0).then_some(None)
            }
        }
    }

    /// Record a new key at position `at`.
    fn add(&mut self, key: &str, at: usize) {
        match &mut self.index {
            Some((map, state)) => {
                map.entry(hash_with(state, key)).or_insert(at);
            }
            None => {
                let h = key_hash(key);
                self.filter[(h >> 6) as usize & 3] |= 1u64 << (h & 63);
            }
        }
    }
}

/// `key`'s 64-bit hash under `state`.
fn hash_with(state: &std::hash::RandomState, key: &str) -> u64 {
    use std::hash::BuildHasher;
    state.hash_one(key)
}

/// A cheap hash of a key (its length, first and last 8 bytes) for the
/// small-object filter of [`Seen`]; the top 8 bits are used.
fn key_hash(key: &str) -> u32 {
    let b = key.as_bytes();
    let word = |s: &[u8]| {
        let mut w = [0u8; 8];
        w[..s.len()].copy_from_slice(s);
        u64::from_le_bytes(w)
    };
    let n = b.len().min(8);
    let x = word(&b[..n]) ^ word(&b[b.len() - n..]).rotate_left(29) ^ (b.len() as u64);
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u32
}

impl fmt::Display for Json<'_> {
    /// Compact JSON, byte for byte what `serde_json::Value` writes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(a) => s.collect_seq(a),
            Json::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o.iter() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// The values and entries of the arrays and objects being parsed, one
/// stack for the whole parse: each array or object is built on top of its
/// parent's and moved out into a vector of its exact size when it ends
/// (no vector grows by doubling).
#[derive(Default)]
struct Scratch<'a> {
    values: Vec<Json<'a>>,
    entries: Vec<(Cow<'a, str>, Json<'a>)>,
}

/// Deserializes one value, building on the shared [`Scratch`].
struct JsonSeed<'s, 'a>(&'s mut Scratch<'a>);

impl<'de> DeserializeSeed<'de> for JsonSeed<'_, 'de> {
    type Value = Json<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonSeed<'_, 'de> {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_owned())))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        self.deserialize(d)
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let scratch = self.0;
        let start = scratch.values.len();
        while let Some(v) = seq.next_element_seed(JsonSeed(&mut *scratch))? {
            scratch.values.push(v);
        }
        Ok(Json::Array(scratch.values.drain(start..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let scratch = self.0;
        let start = scratch.entries.len();
        let mut seen = Seen::default();
        while let Some(k) = map.next_key_seed(KeySeed)? {
            let v = map.next_value_seed(JsonSeed(&mut *scratch))?;
            insert(&mut scratch.entries, start, k, v, &mut seen);
        }
        Ok(Json::Object(Object(
            scratch.entries.drain(start..).collect(),
        )))
    }
}

/// Deserializes an object key, borrowed when it has no escape.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsing text sees what `serde_json::Value` sees, and prints it back
    /// byte for byte the same: escapes, numbers of every kind, repeated
    /// keys (first position, last value), nesting, unicode.
    #[test]
    fn parse_matches_value() {
        let texts = [
            r#"{"a":1,"b":-2,"c":1.0,"d":1e3,"e":18446744073709551615,"f":-9223372036854775808,"g":0.1}"#,
            r#"{"k":"x","k2":"esc\"aped\n\u00e9\ud83d\ude00","k":"again","z":[1,[2,{"k":null}]],"\u006b3":true}"#,
            r#"{"dup":{"a":1},"other":2,"dup":{"b":[]}, "empty":{}, "arr":[]}"#,
            r#"[1.5e-7, 123456789012345678901234567890, -0.0, -0, 2.5E+10]"#,
            r#""just a string""#,
            "null",
        ];
        for text in texts {
            let value: Value = serde_json::from_str(text).unwrap();
            let json = Json::parse(text).unwrap();
            assert_eq!(json.to_string(), value.to_string(), "{text}");
            assert_eq!(json, Json::from_value(&value), "{text}");
            assert_eq!(json.to_value(), value, "{text}");
            assert_eq!(Json::parse_slice(text.as_bytes()).unwrap(), json, "{text}");
        }
        let json = Json::parse(r#"{"k":1,"j":2,"k":3}"#).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["k", "j"]);
        assert_eq!(json.get("k").and_then(Json::as_i64), Some(3));
        // Unescaped strings are borrowed, escaped ones owned.
        let text = r#"{"plain":"abc","esc":"a\"b"}"#;
        let json = Json::parse(text).unwrap();
        assert!(matches!(
            json.get("plain"),
            Some(Json::String(Cow::Borrowed(_)))
        ));
        assert!(matches!(json.get("esc"), Some(Json::String(Cow::Owned(_)))));
        assert!(Json::parse("{\"a\":1,}").is_err());
    }

    /// Repeated keys are found on both sides of the switch from the small
    /// objects' filter to the hash index, and an object of very many keys
    /// parses in linear time (a quadratic scan of 200 000 keys would take
    /// minutes here, not milliseconds).
    #[test]
    fn large_objects_keep_first_positions_and_last_values() {
        for n in [3usize, Seen::INDEX_FROM, Seen::INDEX_FROM + 1, 100, 200_000] {
            let mut text = String::from("{");
            for i in 0..n {
                text.push_str(&format!("\"key{i}\":{i},"));
            }
            // Repeat the first, a middle and the last key.
            let (mid, last) = (n / 2, n - 1);
            text.push_str(&format!("\"key0\":-1,\"key{mid}\":-2,\"key{last}\":-3}}"));
            let json = Json::parse(&text).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            let o = json.as_object().unwrap();
            assert_eq!(o.len(), n, "{n} keys");
            assert_eq!(json.to_string(), value.to_string(), "{n} keys");
            let keys: Vec<&str> = o.keys().take(2).collect();
            assert_eq!(keys[0], "key0", "{n} keys: first position kept");
            assert_eq!(
                json.get(&format!("key{last}")).and_then(Json::as_i64),
                Some(-3)
            );
        }
    }
}
