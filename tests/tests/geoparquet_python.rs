//! Interop: every shared fixture (the JSON items and the Parquet files of
//! other tools), the generated benchmark items and items with the hard
//! cases (`proj:geometry`, explicit nulls next to absent keys) are written
//! by stac-gdal, then read by stac-geoparquet (Python), rustac, GeoPandas
//! and DuckDB — the real packages, in the `geoparquet` venv that `cargo
//! xtask setup` creates — which write their own files back, and stac-gdal
//! reads those. Both directions must give the same items (up to what each
//! peer is allowed to change, below).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use stac_gdal::geoparquet::SortOrder;
use stac_gdal::geoparquet::WriteOptions;
use stac_gdal_e2e::{repo_root, shared_dir, venv_bin};

/// What every peer is allowed to change: nulls it fills in or drops,
/// the spelling of datetimes (and rustac's millisecond precision),
/// integer vs float spelling of numbers.
fn normalize(v: &Value, key: Option<&str>) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v, Some(k))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, None)).collect()),
        Value::Number(n) => Value::from(n.as_f64().unwrap()),
        Value::String(s)
            if key.is_some_and(|k| {
                [
                    "datetime",
                    "start_datetime",
                    "end_datetime",
                    "created",
                    "updated",
                ]
                .contains(&k)
            }) =>
        {
            match stac_gdal::meta::parse_datetime(s) {
                Some(dt) => Value::from(dt.timestamp_millis()),
                None => v.clone(),
            }
        }
        other => other.clone(),
    }
}

/// The first difference between our item (`a`) and a peer's (`b`). A field
/// stac-gdal stores as JSON text (conflicting types, a nested field both
/// `null` and absent, documented in the crate) is text to other readers:
/// a peer's string is compared parsed where ours is not a string, and a
/// peer's `"null"` text counts as absent.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys()
                .chain(y.keys())
                .find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, &format!("{path}.{k}")),
                    (None, Some(Value::String(t))) if t == "null" => None,
                    (p, q) => Some(format!("{path}.{k}: {p:?} vs {q:?}")),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        (x, Value::String(t)) if !x.is_string() => match serde_json::from_str::<Value>(t) {
            Ok(parsed) => first_difference(x, &normalize(&parsed, None), path),
            Err(_) => Some(format!("{path}: {a} vs {b}")),
        },
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}

/// The items each file holds: every shared fixture, generated items, and
/// the hard cases.
fn inputs(dir: &Path) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    let data = shared_dir().join("data/stac-items");
    let mut names: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            (n.ends_with(".json") || n.ends_with(".geojson") || n.ends_with(".parquet"))
                && !n.ends_with(".collection.json")
        })
        .collect();
    names.sort();
    for name in names {
        let path = data.join(&name);
        let items = if name.ends_with(".parquet") {
            stac_gdal::from_geoparquet(&path).unwrap()
        } else {
            stac_gdal::parse_items(&std::fs::read_to_string(&path).unwrap()).unwrap()
        };
        let stem = name.replace('.', "_");
        out.push((stem, items));
    }
    // Generated benchmark items (unique ids, hrefs, links; varying assets).
    let nd = dir.join("generated.ndjson");
    let generated = Command::new(venv_bin("geoparquet", "python"))
        .arg(repo_root().join("xtask/peers/geoparquet/generate.py"))
        .arg(data.join("earthsearch-sentinel-2-c1-l2a.json"))
        .arg(&nd)
        .arg("40")
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    out.push((
        "generated".into(),
        stac_gdal::parse_items(&std::fs::read_to_string(&nd).unwrap()).unwrap(),
    ));
    // proj:geometry in properties and assets; null and absent properties.
    let hard: Vec<Value> = (0..12)
        .map(|i| {
            let x = i as f64;
            let g = json!({"type": "Polygon", "coordinates": [[[600000.5 + x, 4000000.5], [600100.5, 4000000.5], [600100.5, 4000100.5], [600000.5 + x, 4000000.5]]]});
            let mut item = json!({"type": "Feature", "stac_version": "1.1.0", "id": format!("hard-{i}"),
                "collection": "hard", "bbox": [x, 0.0, x + 1.0, 1.0],
                "geometry": {"type": "Polygon", "coordinates": [[[x, 0.0], [x + 1.0, 0.0], [x + 1.0, 1.0], [x, 0.0]]]},
                "properties": {"datetime": format!("2023-01-{:02}T00:00:00.123456Z", i + 1), "proj:geometry": g.clone(),
                    "proj:code": "EPSG:32630"},
                "assets": {"data": {"href": format!("s3://bucket/{i}.tif"), "proj:geometry": g}},
                "links": [{"rel": "self", "href": format!("https://example.com/{i}.json")}]});
            match i % 3 {
                0 => item["properties"]["platform"] = Value::Null,
                1 => {}
                _ => item["properties"]["platform"] = json!("s2a"),
            }
            item
        })
        .collect();
    out.push(("hard-cases".into(), hard));
    out
}

/// rustac migrates what it writes to STAC 1.1.0 (`stac_version` changes),
/// writes a column mixing Polygons and MultiPolygons as MultiPolygons, and
/// writes geometries in 2-D (z dropped).
fn migrated(v: &Value) -> Value {
    fn xy(c: &Value) -> Value {
        match c.as_array() {
            Some(a) if a.first().is_some_and(Value::is_number) => {
                Value::Array(a.iter().take(2).cloned().collect())
            }
            Some(a) => Value::Array(a.iter().map(xy).collect()),
            None => c.clone(),
        }
    }
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("stac_version");
        if let Some(g) = o.get_mut("geometry") {
            if g["type"] == "Polygon" {
                *g = json!({"type": "MultiPolygon", "coordinates": [g["coordinates"].clone()]});
            }
            if let Some(c) = g.get_mut("coordinates") {
                *c = xy(c);
            }
        }
    }
    v
}

/// GeoPandas drops the bbox covering column when it reads a file.
fn no_bbox(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("bbox");
    }
    v
}

/// A top-level key that is not an Item field (`description` in a USGS
/// item) is a column like any property: other readers give it back as a
/// property.
fn foreign_keys_as_properties(v: &Value) -> Value {
    const ITEM: &[&str] = &[
        "type",
        "stac_version",
        "stac_extensions",
        "id",
        "geometry",
        "bbox",
        "properties",
        "links",
        "assets",
        "collection",
    ];
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        let extra: Vec<String> = o
            .keys()
            .filter(|k| !ITEM.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in extra {
            let value = o.remove(&k).unwrap();
            o.entry("properties").or_insert_with(|| json!({}))[&k] = value;
        }
    }
    v
}

fn same(name: &str, what: &str, ours: &[Value], theirs: &[Value]) {
    let ours: Vec<Value> = ours.iter().map(foreign_keys_as_properties).collect();
    let change: fn(&Value) -> Value = if what.contains("rustac") {
        migrated
    } else if what.starts_with("geopandas") {
        no_bbox
    } else {
        Value::clone
    };
    let ours: Vec<Value> = ours.iter().map(change).collect();
    let theirs: Vec<Value> = theirs.iter().map(change).collect();
    assert_eq!(theirs.len(), ours.len(), "{name}: {what}: item count");
    let key = |v: &Value| v["id"].as_str().unwrap_or_default().to_owned();
    let mut a: Vec<&Value> = ours.iter().collect();
    let mut b: Vec<&Value> = theirs.iter().collect();
    a.sort_by_key(|v| key(v));
    b.sort_by_key(|v| key(v));
    for (x, y) in a.iter().zip(&b) {
        if let Some(d) = first_difference(&normalize(x, None), &normalize(y, None), "") {
            panic!("{name}: {what}: item {}: {d}", x["id"]);
        }
    }
}

#[test]
fn every_fixture_round_trips_through_every_peer() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs(dir.path());
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for (i, (name, items)) in inputs.iter().enumerate() {
        // Sorted files too: every third is written along the Hilbert curve.
        let sort = if i % 3 == 0 {
            SortOrder::Hilbert
        } else {
            SortOrder::None
        };
        stac_gdal::to_geoparquet(
            items,
            files.join(format!("{name}.parquet")),
            &WriteOptions::default().with_sort(sort),
        )
        .unwrap();
    }
    let out = Command::new(venv_bin("geoparquet", "python"))
        .arg(repo_root().join("xtask/peers/geoparquet/roundtrip.py"))
        .arg(&files)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut checked = 0;
    for (name, items) in &inputs {
        let r = &seen[name.as_str()];
        for peer in ["stac_geoparquet", "rustac", "geopandas", "duckdb"] {
            assert!(
                r[peer].get("error").is_none(),
                "{name}: {peer} failed: {}",
                r[peer]["error"]
            );
            // Their file, read back by us.
            let theirs = files.join(format!("{name}.{peer}.parquet"));
            let back = stac_gdal::from_geoparquet(&theirs)
                .unwrap_or_else(|e| panic!("{name}: reading {peer}'s file: {e}"));
            same(
                name,
                &format!("{peer}'s file read by stac-gdal"),
                items,
                &back,
            );
            checked += 1;
        }
        for peer in ["stac_geoparquet", "rustac"] {
            let theirs = r[peer]["items"].as_array().unwrap();
            same(name, &format!("our file read by {peer}"), items, theirs);
        }
        assert_eq!(r["geopandas"]["rows"], items.len(), "{name}");
        assert_eq!(r["geopandas"]["crs"], "OGC:CRS84", "{name}");
        assert_eq!(r["duckdb"]["rows"], items.len(), "{name}");
        if items
            .iter()
            .all(|i| i.get("bbox").is_some_and(Value::is_array))
        {
            // DuckDB queries the bbox covering columns, no extension needed.
            assert_eq!(r["duckdb"]["bbox_rows"], items.len(), "{name}");
        }
    }
    assert!(checked >= 4 * 25, "{checked}");
}
