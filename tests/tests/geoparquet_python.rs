//! Files written by stac-gdal read back by pyarrow, geopandas, stac-geoparquet
//! (Python) and rustac (Python) — the real packages, in the `geoparquet` venv
//! that `cargo xtask setup` creates — to the same items.

use std::process::Command;

use serde_json::Value;
use stac_gdal::WriteOptions;
use stac_gdal_e2e::{repo_root, shared_dir, venv_bin};

/// What every reader is allowed to change: nulls it fills in or drops,
/// the spelling of datetimes, integer vs float spelling of numbers.
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
                Some(dt) => Value::from(dt.timestamp_micros()),
                None => v.clone(),
            }
        }
        other => other.clone(),
    }
}

fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys()
                .chain(y.keys())
                .find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, &format!("{path}.{k}")),
                    (p, q) => Some(format!("{path}.{k}: {p:?} vs {q:?}")),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn python_readers_see_the_same_items() {
    let python = venv_bin("geoparquet", "python");
    let script = repo_root().join("xtask/peers/geoparquet/check_our_file.py");
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "earthsearch-sentinel-2-c1-l2a.json",
        "pc-landsat-c2-l2.json",
        "pc-naip.json",
        "pc-sentinel-1-rtc.json",
    ] {
        let text =
            std::fs::read_to_string(shared_dir().join("data/stac-items").join(name)).unwrap();
        let items = stac_gdal::parse_items(&text).unwrap();
        let path = dir.path().join(format!("{name}.parquet"));
        stac_gdal::to_geoparquet(&items, &path, &WriteOptions::default()).unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .arg(&path)
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: Value = serde_json::from_slice(&out.stdout).unwrap();

        assert_eq!(seen["pyarrow"]["num_rows"], items.len(), "{name}");
        assert_eq!(
            seen["pyarrow"]["datetime_type"], "timestamp[us, tz=UTC]",
            "{name}"
        );
        assert_eq!(seen["geopandas"]["num_rows"], items.len(), "{name}");
        assert_eq!(seen["geopandas"]["crs"], "OGC:CRS84", "{name}");
        assert_eq!(
            seen["geopandas"]["geom_types"][0], items[0]["geometry"]["type"],
            "{name}"
        );
        for peer in ["stac_geoparquet", "rustac"] {
            let theirs = seen[peer]
                .as_array()
                .unwrap_or_else(|| panic!("{peer}: {}", seen[peer]));
            assert_eq!(theirs.len(), items.len(), "{name} {peer}");
            for (ours, them) in items.iter().zip(theirs) {
                if let Some(d) =
                    first_difference(&normalize(ours, None), &normalize(them, None), "")
                {
                    panic!("{name}: {peer} reads item {} differently: {d}", ours["id"]);
                }
            }
        }
    }
}
