//! Round trips of every fixture item, one file per fixture and all fixtures
//! in one file (the heterogeneous case), in both layouts.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use serde_json::{Map, Value};
use stac_geoparquet::{Layout, Reader, WriteOptions, Writer, from_geoparquet, to_geoparquet};

fn fixtures() -> Vec<(String, Vec<Value>)> {
    let files = stac_fixtures::stac_item_files();
    assert!(
        files.len() >= 20,
        "fixtures missing in {}",
        stac_fixtures::stac_items_dir().display()
    );
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let items = stac_meta::parse_items(&text).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), items)
        })
        .collect()
}

/// Apply the documented exceptions (crate docs, "What a round trip does not
/// preserve") to both sides: canonicalise datetime properties, make
/// geometry/bbox numbers floats, add missing `properties`. (Explicit nulls
/// and absent keys are *not* normalised: both are kept.)
fn normalize(item: &Value) -> Value {
    fn floats(v: &Value) -> Value {
        match v {
            Value::Array(a) => Value::Array(a.iter().map(floats).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), floats(v))).collect())
            }
            Value::Number(n) => {
                serde_json::Number::from_f64(n.as_f64().unwrap()).map_or(Value::Null, Value::Number)
            }
            other => other.clone(),
        }
    }
    let mut item = item.clone();
    let obj = item.as_object_mut().unwrap();
    for key in ["geometry", "bbox"] {
        if let Some(v) = obj.get_mut(key) {
            *v = floats(v);
        }
    }
    let props = obj
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    for (k, v) in props.as_object_mut().unwrap() {
        if [
            "datetime",
            "start_datetime",
            "end_datetime",
            "created",
            "updated",
            "expires",
            "published",
            "unpublished",
        ]
        .contains(&k.as_str())
            && let Some(s) = v.as_str()
            && let Some(dt) = stac_meta::parse_datetime(s)
        {
            *v = Value::from(dt.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        }
    }
    item
}

fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    (p, q) => return Some(format!("{path}.{k}: {p:?} vs {q:?}")),
                }
            }
            None
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
fn every_fixture_round_trips_exactly_in_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (name, items) in fixtures() {
        for layout in [Layout::Spec, Layout::Blob] {
            let path = dir.path().join(format!("{name}.parquet"));
            to_geoparquet(&items, &path, &WriteOptions::default().with_layout(layout)).unwrap();
            let back = from_geoparquet(&path).unwrap();
            assert_eq!(back.len(), items.len(), "{name}");
            for (a, b) in items.iter().zip(&back) {
                if let Some(d) = first_difference(a, b, "") {
                    panic!("{name} ({layout:?}) item {}: {d}", a["id"]);
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
}

#[test]
fn all_fixtures_in_one_file_differ_only_by_documented_exceptions() {
    let all: Vec<Value> = fixtures()
        .into_iter()
        .flat_map(|(_, items)| items)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.parquet");
    to_geoparquet(&all, &path, &WriteOptions::default().with_row_group_size(7)).unwrap();
    let back = from_geoparquet(&path).unwrap();
    assert_eq!(back.len(), all.len());
    // Datetimes are real timestamps (µs, UTC) across all 69 items.
    let schema = Reader::open(&path).unwrap().schema();
    for name in [
        "datetime",
        "start_datetime",
        "end_datetime",
        "created",
        "updated",
    ] {
        assert_eq!(
            schema
                .field_with_name(name)
                .unwrap()
                .data_type()
                .to_string(),
            "Timestamp(µs, \"UTC\")",
            "{name}"
        );
    }
    let mut exact = 0;
    for (a, b) in all.iter().zip(&back) {
        if a == b {
            exact += 1;
        }
        if let Some(d) = first_difference(&normalize(a), &normalize(b), "") {
            panic!("item {}: {d}", a["id"]);
        }
    }
    // Fixtures spell datetimes differently (`.036Z`, `.036000Z`, `+00:00`), so
    // in one file only the items whose spelling matches the column's first
    // value come back character for character; the others differ only there.
    assert!(exact >= 20, "only {exact} of {} exact", all.len());
    // Blob layout: exact for all.
    let blob = dir.path().join("all-blob.parquet");
    to_geoparquet(
        &all,
        &blob,
        &WriteOptions::default().with_layout(Layout::Blob),
    )
    .unwrap();
    assert_eq!(from_geoparquet(&blob).unwrap(), all);
}

#[test]
fn streaming_writer_spills_and_unifies_late_schema_changes() {
    let all: Vec<Value> = fixtures()
        .into_iter()
        .flat_map(|(_, items)| items)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("slice.parquet");
    let b = dir.path().join("stream.parquet");
    to_geoparquet(&all, &a, &WriteOptions::default()).unwrap();
    let mut w = Writer::create(&b, WriteOptions::default().with_row_group_size(5)).unwrap();
    w.extend(all.iter().cloned()).unwrap();
    assert_eq!(w.finish().unwrap(), all.len() as u64);
    assert_eq!(from_geoparquet(&a).unwrap(), from_geoparquet(&b).unwrap());
    let reader = Reader::open(&b).unwrap();
    assert_eq!(reader.num_rows(), all.len() as u64);
    let batches: Vec<_> = reader.into_batches().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        batches.iter().map(|b| b.num_rows()).sum::<usize>(),
        all.len()
    );
}

/// Outputs are ordinary files (0644), not the owner-only 0600 of temp files,
/// in both layouts and through the streaming writer.
#[cfg(unix)]
#[test]
fn written_files_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (_, items) = fixtures().into_iter().next().unwrap();
    for layout in [Layout::Spec, Layout::Blob] {
        let path = dir.path().join(format!("{layout:?}.parquet"));
        to_geoparquet(&items, &path, &WriteOptions::default().with_layout(layout)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{layout:?}: {mode:o}");
    }
    let path = dir.path().join("streamed.parquet");
    let mut writer = Writer::create(&path, WriteOptions::default()).unwrap();
    for item in &items {
        writer.push(item.clone()).unwrap();
    }
    writer.finish().unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

/// Items where the same key is an explicit `null` in some and absent in
/// others (a property, `collection`, `geometry`), with `proj:geometry` in
/// properties and assets.
fn nulls_and_absences() -> Vec<Value> {
    (0..300)
        .map(|i| {
            let x = ((i * 37) % 100) as f64;
            let y = ((i * 11) % 50) as f64;
            let mut item = serde_json::json!({"type": "Feature", "stac_version": "1.1.0",
                "id": format!("i{i:03}"), "bbox": [x, y, x + 1.0, y + 1.0],
                "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 1.0, y], [x + 1.0, y + 1.0], [x, y]]]},
                "properties": {"datetime": format!("2023-{:02}-{:02}T00:00:00Z", 1 + (i * 7) % 12, 1 + i % 28)},
                "assets": {"B04": {"href": format!("B04-{i}.tif")}}, "links": []});
            let obj = item.as_object_mut().unwrap();
            match i % 3 {
                0 => {
                    obj["properties"]["platform"] = Value::Null;
                }
                1 => {}
                _ => {
                    obj["properties"]["platform"] = "s2a".into();
                }
            }
            match i % 5 {
                0 => {
                    obj.insert("collection".into(), Value::Null);
                }
                1 => {}
                _ => {
                    obj.insert("collection".into(), "c".into());
                }
            }
            match i % 7 {
                0 => {
                    obj.insert("geometry".into(), Value::Null);
                }
                1 => {
                    obj.remove("geometry");
                }
                _ => {}
            }
            if i % 2 == 0 {
                let g = serde_json::json!({"type": "Polygon", "coordinates": [[[500000.5, 4000000.5], [510000.5, 4000000.5], [510000.5, 4010000.5], [500000.5, 4000000.5]]]});
                obj["properties"]["proj:geometry"] = g.clone();
                obj["assets"]["B04"]["proj:geometry"] = g;
            }
            item
        })
        .collect()
}

#[test]
fn explicit_nulls_and_absent_keys_both_survive_in_any_row_order() {
    use stac_geoparquet::SortOrder;
    let items = nulls_and_absences();
    let dir = tempfile::tempdir().unwrap();
    for sort in [SortOrder::None, SortOrder::Hilbert, SortOrder::Time] {
        let path = dir.path().join(format!("{sort:?}.parquet"));
        let options = WriteOptions::default()
            .with_row_group_size(40)
            .with_sort(sort);
        to_geoparquet(&items, &path, &options).unwrap();
        let back = from_geoparquet(&path).unwrap();
        if sort == SortOrder::None {
            assert_eq!(back, items);
        } else {
            assert_ne!(back, items, "{sort:?}: rows are reordered");
        }
        let by_id = |v: &[Value]| -> std::collections::BTreeMap<String, Value> {
            v.iter()
                .map(|i| (i["id"].as_str().unwrap().to_owned(), i.clone()))
                .collect()
        };
        assert_eq!(by_id(&back), by_id(&items), "{sort:?}");
        // The search path restores them too (rows read out of order).
        let found: Vec<Value> = stac_geoparquet::search::search(&path, &Default::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(by_id(&found), by_id(&items), "{sort:?} (search)");
        // proj:geometry is WKB, declared in `geo` as stac-geoparquet does.
        let reader = Reader::open(&path).unwrap();
        let schema = reader.schema();
        assert_eq!(
            schema.field_with_name("proj:geometry").unwrap().data_type(),
            &arrow_schema::DataType::Binary
        );
        if sort == SortOrder::Time {
            let times: Vec<&str> = back
                .iter()
                .map(|i| i["properties"]["datetime"].as_str().unwrap())
                .collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
        }
    }
}

#[test]
fn nulls_alternating_with_absences_on_every_row_fall_back_to_json_text() {
    // 20 002 items, `platform` null / absent / null / ...: more runs of
    // explicit nulls than the metadata keeps (10 000), so the column is
    // stored as JSON text, which keeps the difference in every cell.
    let items: Vec<Value> = (0..20_002)
        .map(|i| {
            let mut item = serde_json::json!({"type": "Feature", "id": format!("{i}"), "geometry": null,
                "properties": {"datetime": "2023-01-01T00:00:00Z"}});
            if i % 2 == 0 {
                item["properties"]["platform"] = Value::Null;
            }
            item
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alternating.parquet");
    to_geoparquet(&items, &path, &WriteOptions::default()).unwrap();
    assert_eq!(from_geoparquet(&path).unwrap(), items);
    let schema = Reader::open(&path).unwrap().schema();
    assert_eq!(
        schema.field_with_name("platform").unwrap().data_type(),
        &arrow_schema::DataType::Utf8
    );
}

/// `Reader::write_ndjson` (straight from the Arrow columns) writes the
/// bytes serde_json writes for the iterator's items, for every fixture in
/// its own file and all in one, both layouts, the explicit-null items in
/// Hilbert order, and the files other tools wrote; after the iterator
/// took some items, it writes the rest.
#[test]
fn reader_ndjson_from_columns_equals_the_value_path() {
    use stac_geoparquet::SortOrder;
    fn value_path(path: &std::path::Path) -> Vec<u8> {
        let mut out = Vec::new();
        for item in Reader::open(path).unwrap() {
            serde_json::to_writer(&mut out, &item.unwrap()).unwrap();
            out.push(b'\n');
        }
        out
    }
    fn check(path: &std::path::Path, what: &str) {
        let expected = value_path(path);
        let mut direct = Vec::new();
        let n = Reader::open(path)
            .unwrap()
            .write_ndjson(&mut direct)
            .unwrap();
        assert_eq!(n as usize, expected.iter().filter(|b| **b == b'\n').count());
        assert!(n > 0, "{what}");
        assert!(direct == expected, "{what}: direct NDJSON differs");
        // Three items through the iterator, then the rest written.
        let mut reader = Reader::open(path).unwrap();
        let mut mixed = Vec::new();
        for item in reader.by_ref().take(3) {
            serde_json::to_writer(&mut mixed, &item.unwrap()).unwrap();
            mixed.push(b'\n');
        }
        reader.write_ndjson(&mut mixed).unwrap();
        assert!(
            mixed == expected,
            "{what}: iterator then write_ndjson differs"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut sets = fixtures();
    let all: Vec<Value> = sets.iter().flat_map(|(_, i)| i.clone()).collect();
    sets.push(("all".into(), all));
    sets.push(("nulls".into(), nulls_and_absences()));
    for (name, items) in &sets {
        for (layout, sort) in [
            (Layout::Spec, SortOrder::None),
            (Layout::Blob, SortOrder::None),
            (Layout::Spec, SortOrder::Hilbert),
        ] {
            let path = dir.path().join("f.parquet");
            let options = WriteOptions::default()
                .with_layout(layout)
                .with_sort(sort)
                .with_row_group_size(40);
            to_geoparquet(items, &path, &options).unwrap();
            check(&path, &format!("{name} {layout:?} {sort:?}"));
        }
    }
    let shared = stac_fixtures::stac_items_dir();
    for f in [
        shared.join("rustac-100-landsat-items.parquet"),
        shared.join("rustac-100-sentinel-2-items.parquet"),
        shared.join("pc-naip.parquet"),
        stac_fixtures::shared_file("reference/pyramids-outputs/catalog.parquet"),
    ] {
        check(&f, &f.display().to_string());
    }
}

/// A row past the per-item memory limit ends `write_ndjson` with the
/// iterator's typed error, after the rows before it were written.
#[test]
fn reader_ndjson_from_columns_refuses_what_the_iterator_refuses() {
    let mut items = nulls_and_absences();
    items[250]["properties"]["title"] = Value::from("x".repeat(100_000));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.parquet");
    to_geoparquet(&items, &path, &WriteOptions::default()).unwrap();
    let read = stac_geoparquet::ReadOptions::default().with_max_value_bytes(50_000);
    let by_value = Reader::open_with(&path, &read)
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    let mut out = Vec::new();
    let direct = Reader::open_with(&path, &read)
        .unwrap()
        .write_ndjson(&mut out)
        .unwrap_err();
    assert_eq!(direct.to_string(), by_value.to_string());
    assert!(direct.to_string().contains("row 250"), "{direct}");
    assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 250);
}

/// Every fixture item, then 1100 generated items whose schema changes after
/// the writer has started spilling (an integer property turns float, then
/// text; a new property and a new asset appear near the end).
fn schema_changing_stream() -> Vec<Value> {
    let mut all: Vec<Value> = fixtures()
        .into_iter()
        .flat_map(|(_, items)| items)
        .collect();
    for i in 0..1100u32 {
        let n = match i {
            0..600 => serde_json::json!(i),
            600..900 => serde_json::json!(f64::from(i) + 0.5),
            _ => serde_json::json!(format!("n-{i}")),
        };
        let x = f64::from(i % 90) - 45.0;
        let mut item = serde_json::json!({
            "type": "Feature", "stac_version": "1.0.0", "id": format!("gen-{i}"),
            "geometry": {"type": "Point", "coordinates": [x, 10.0 + f64::from(i % 7)]},
            "bbox": [x, 10.0, x, 16.0],
            "properties": {"datetime": format!("2021-06-{:02}T00:00:{:02}.123456Z", 1 + i % 28, i % 60), "n": n},
            "links": [{"rel": "self", "href": format!("https://example.com/gen-{i}.json")}],
            "assets": {"data": {"href": format!("s3://bucket/gen-{i}.tif")}}
        });
        if i >= 1000 {
            item["properties"]["late"] = serde_json::json!(format!("late-{i}"));
            item["assets"]["extra"] = serde_json::json!({"href": format!("s3://bucket/gen-{i}-extra.tif"), "file:size": i});
        }
        all.push(item);
    }
    all
}

/// The parallel writer (`push_ndjson`, any number of threads) writes the
/// same bytes as the sequential in-memory `to_geoparquet` and as
/// `push_json` line by line, for several batch sizes, in input and in
/// Hilbert order, with the schema changing mid-stream.
#[test]
fn parallel_writer_output_equals_the_sequential_writers() {
    use stac_geoparquet::SortOrder;
    let all = schema_changing_stream();
    let ndjson: String = all.iter().map(|i| format!("{i}\n\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    for (rows, sort) in [
        (97, SortOrder::None),
        (97, SortOrder::Hilbert),
        (100_000, SortOrder::None),
    ] {
        {
            let options = WriteOptions::default()
                .with_row_group_size(rows)
                .with_sort(sort);
            let reference = dir.path().join("reference.parquet");
            to_geoparquet(&all, &reference, &options.clone().with_threads(1)).unwrap();
            let expected = std::fs::read(&reference).unwrap();
            let by_line = dir.path().join("by-line.parquet");
            let mut w = Writer::create(&by_line, options.clone().with_threads(1)).unwrap();
            for line in ndjson.lines().filter(|l| !l.is_empty()) {
                w.push_json(line).unwrap();
            }
            assert_eq!(w.finish().unwrap(), all.len() as u64);
            assert!(
                std::fs::read(&by_line).unwrap() == expected,
                "push_json differs from to_geoparquet (rows {rows}, {sort:?})"
            );
            for threads in [1, 3] {
                let path = dir.path().join(format!("parallel-{threads}.parquet"));
                let mut w = Writer::create(&path, options.clone().with_threads(threads)).unwrap();
                assert_eq!(w.push_ndjson(ndjson.as_bytes()).unwrap(), all.len() as u64);
                assert_eq!(w.finish().unwrap(), all.len() as u64);
                assert!(
                    std::fs::read(&path).unwrap() == expected,
                    "{threads} threads differ from to_geoparquet (rows {rows}, {sort:?})"
                );
            }
        }
        let got = from_geoparquet(dir.path().join("parallel-3.parquet")).unwrap();
        assert_eq!(got.len(), all.len());
    }
}

/// A bad line in the middle of a parallel write is refused with the
/// item's number, as `push_json` refuses it, and no file is left.
#[test]
fn parallel_writer_names_the_bad_item() {
    let all = schema_changing_stream();
    let mut ndjson: String = all.iter().map(|i| format!("{i}\n")).collect();
    ndjson.push_str("{\"id\": \"broken\", \"type\": \n");
    ndjson.extend(all.iter().take(900).map(|i| format!("{i}\n")));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.parquet");
    let mut w = Writer::create(&path, WriteOptions::default().with_threads(2)).unwrap();
    let e = w.push_ndjson(ndjson.as_bytes()).unwrap_err().to_string();
    assert!(e.contains(&format!("item {}", all.len())), "{e}");
    assert_eq!(w.len(), all.len() as u64);
    drop(w);
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The writer reads JSON text without building `serde_json::Value`s (a
/// borrowed parse). What it writes from the text equals, byte for byte,
/// what it writes from the `Value`s serde_json parses from the same text
/// (`push` and the in-memory `to_geoparquet`): over every fixture, the
/// schema-changing stream (µs datetimes), explicit nulls next to absent
/// keys, `proj:geometry`, and text spelled in ways a `Value` normalises
/// away: `\u` escapes in keys and values, a repeated key (the first
/// position, the last value), an item pretty-printed over several lines.
#[test]
fn text_entry_point_writes_what_the_value_entry_points_write() {
    let mut lines: Vec<String> = schema_changing_stream()
        .iter()
        .chain(&nulls_and_absences())
        .map(Value::to_string)
        .collect();
    let id13: Value = serde_json::from_str::<Value>(&lines[13]).unwrap()["id"].clone();
    for (k, line) in lines.iter_mut().enumerate() {
        if k % 13 == 0 {
            *line = line
                .replacen('{', r#"{"id":"repeated-first","#, 1)
                .replacen(
                    r#""type":"Feature""#,
                    r#""\u0074ype":"Fe\u0061ture","a\"b":"x\ny""#,
                    1,
                );
        } else if k % 17 == 0 {
            let v: Value = serde_json::from_str(line).unwrap();
            *line = serde_json::to_string_pretty(&v).unwrap();
        }
    }
    assert!(lines.iter().any(|l| l.contains("repeated-first")));
    let values: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(values[13]["id"], id13, "the last value of a repeated key");
    let keys: Vec<&String> = values[13].as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "id", "the first position of a repeated key");
    let dir = tempfile::tempdir().unwrap();
    let options = WriteOptions::default().with_row_group_size(97);
    let reference = dir.path().join("values.parquet");
    to_geoparquet(&values, &reference, &options).unwrap();
    let expected = std::fs::read(&reference).unwrap();
    let pushed = dir.path().join("push.parquet");
    let mut w = Writer::create(&pushed, options.clone()).unwrap();
    for v in &values {
        w.push(v.clone()).unwrap();
    }
    w.finish().unwrap();
    assert!(std::fs::read(&pushed).unwrap() == expected, "push differs");
    let text = dir.path().join("text.parquet");
    let mut w = Writer::create(&text, options.clone()).unwrap();
    for l in &lines {
        w.push_json(l).unwrap();
    }
    w.finish().unwrap();
    assert!(
        std::fs::read(&text).unwrap() == expected,
        "push_json differs"
    );
    let back = from_geoparquet(&text).unwrap();
    assert_eq!(back.len(), values.len());
    assert_eq!(back[13]["id"], id13);
    assert_eq!(back[13]["a\"b"], "x\ny");
}
