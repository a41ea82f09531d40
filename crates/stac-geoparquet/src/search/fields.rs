//! The fields extension on returned items, as pgstac applies it: with an
//! `include` list, only the listed (dotted) paths are kept, plus `id` and
//! `collection`; then every `exclude` path is removed. A path missing from
//! the item is skipped (pgstac writes `null` there; the STAC API spec and
//! this crate leave it out).
//!
//! [`columns`] tells which top-level columns a search must decode at all,
//! so that excluded `assets` or `links` are never read from the file.

use serde_json::{Map, Value};
use stac_meta::search::Fields;

/// Keep and drop fields of one item.
pub(crate) fn apply(item: Value, fields: &Fields) -> Value {
    let Value::Object(source) = item else {
        return item;
    };
    let mut out = if fields.include.is_empty() {
        source
    } else {
        let mut out = Map::new();
        let extra = ["id", "collection"];
        for path in fields.include.iter().map(String::as_str).chain(extra) {
            let parts: Vec<&str> = path.split('.').collect();
            if let Some(v) = get(&source, &parts) {
                set(&mut out, &parts, v.clone());
            }
        }
        out
    };
    for path in &fields.exclude {
        let parts: Vec<&str> = path.split('.').collect();
        remove(&mut out, &parts);
    }
    Value::Object(out)
}

fn get<'a>(m: &'a Map<String, Value>, parts: &[&str]) -> Option<&'a Value> {
    let (first, rest) = parts.split_first()?;
    let v = m.get(*first)?;
    if rest.is_empty() {
        Some(v)
    } else {
        get(v.as_object()?, rest)
    }
}

fn set(m: &mut Map<String, Value>, parts: &[&str], v: Value) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        m.insert((*first).to_owned(), v);
        return;
    }
    let child = m
        .entry((*first).to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        *child = Value::Object(Map::new());
    }
    if let Value::Object(c) = child {
        set(c, rest, v);
    }
}

fn remove(m: &mut Map<String, Value>, parts: &[&str]) {
    match parts {
        [] => {}
        [last] => {
            m.remove(*last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(c)) = m.get_mut(*first) {
                remove(c, rest);
            }
        }
    }
}

/// Whether the top-level item key `key` (or, for `properties`, the
/// property `name`) can appear in the output: the columns a search must
/// decode. `None`: every column.
pub(crate) fn keeps(fields: &Fields, key: &str, property: Option<&str>) -> bool {
    let path = match property {
        Some(p) => format!("properties.{p}"),
        None => key.to_owned(),
    };
    // Excluded as a whole (or through its parent).
    let excluded = fields
        .exclude
        .iter()
        .any(|e| path == *e || path.starts_with(&format!("{e}.")));
    if excluded {
        return false;
    }
    if fields.include.is_empty() || matches!(key, "id" | "collection") {
        return true;
    }
    fields.include.iter().any(|i| {
        path == *i || path.starts_with(&format!("{i}.")) || i.starts_with(&format!("{path}."))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn include_then_exclude() {
        let item = json!({"type": "Feature", "id": "a", "collection": "c", "geometry": null,
            "properties": {"datetime": "x", "cc": 1, "p": {"q": 1, "r": 2}},
            "assets": {"B04": {"href": "h", "type": "t"}}, "links": []});
        let f = Fields::parse("properties.cc,properties.p.q,assets.B04.href,properties.missing");
        assert_eq!(
            apply(item.clone(), &f),
            json!({"id": "a", "collection": "c", "properties": {"cc": 1, "p": {"q": 1}}, "assets": {"B04": {"href": "h"}}})
        );
        let f = Fields::parse("-assets,-properties.cc,-links");
        assert_eq!(
            apply(item.clone(), &f),
            json!({"type": "Feature", "id": "a", "collection": "c", "geometry": null,
                   "properties": {"datetime": "x", "p": {"q": 1, "r": 2}}})
        );
        assert_eq!(apply(item.clone(), &Fields::default()), item);
        assert!(!keeps(&Fields::parse("-assets"), "assets", None));
        assert!(keeps(&Fields::parse("assets.B04.href"), "assets", None));
        assert!(!keeps(&Fields::parse("properties.cc"), "links", None));
        assert!(keeps(
            &Fields::parse("properties.cc"),
            "properties",
            Some("cc")
        ));
        assert!(!keeps(
            &Fields::parse("properties.cc"),
            "properties",
            Some("dd")
        ));
        assert!(keeps(
            &Fields::parse("properties"),
            "properties",
            Some("dd")
        ));
        assert!(!keeps(
            &Fields::parse("-properties"),
            "properties",
            Some("dd")
        ));
    }
}
