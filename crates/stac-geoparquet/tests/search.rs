//! Search over catalog files: pruning read from the Parquet metadata, rows
//! filtered before their JSON is built, the sources a search accepts, and
//! bad input. (Result equality with an independent implementation, pgstac,
//! is `tests/tests/geoparquet_search_pgstac.rs` in the e2e package.)
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};
use stac_geoparquet::search::{Filter, SearchParams, Sources, search};
use stac_geoparquet::{GeoParquetError, Layout, WriteOptions};

/// 2000 items: a 40 x 50 grid of 0.5° boxes, one a day, written tile row by
/// tile row (so row groups are compact in space and time).
fn items() -> Vec<Value> {
    (0..2000)
        .map(|i| {
            let x = (i % 40) as f64 * 0.5;
            let y = (i / 40) as f64 * 0.5;
            let day = chrono::DateTime::from_timestamp(1_672_531_200 + i as i64 * 3600, 0).unwrap();
            json!({"type": "Feature", "stac_version": "1.1.0", "id": format!("scene-{i:05}"),
                "collection": if i < 1000 { "first" } else { "second" },
                "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.5, y], [x + 0.5, y + 0.5], [x, y + 0.5], [x, y]]]},
                "bbox": [x, y, x + 0.5, y + 0.5],
                "properties": {"datetime": day.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "eo:cloud_cover": (i * 7) % 100, "platform": if i % 2 == 0 { "s2a" } else { "s2b" }},
                "assets": {"B04": {"href": format!("s3://bucket/scene-{i:05}/B04.tif")}},
                "links": [{"rel": "self", "href": format!("https://example.com/scene-{i:05}.json")}]})
        })
        .collect()
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn run(
    src: impl Into<Sources>,
    params: &SearchParams,
) -> (Vec<Value>, stac_geoparquet::search::SearchStats) {
    let mut s = search(src, params).unwrap();
    let found: Vec<Value> = s.by_ref().collect::<Result<_, _>>().unwrap();
    (found, s.stats().clone())
}

/// The ids stored in one row group, read with the parquet crate.
fn row_group_ids(path: &Path, rg: usize) -> Vec<String> {
    let b = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let id = b.schema().index_of("id").unwrap();
    let mask = ProjectionMask::roots(b.parquet_schema(), [id]);
    let r = b
        .with_row_groups(vec![rg])
        .with_projection(mask)
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in r {
        let batch = batch.unwrap();
        out.extend(
            batch
                .column(0)
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_owned()),
        );
    }
    out
}

#[test]
fn selective_queries_skip_row_groups_that_hold_no_match() {
    let dir = tempfile::tempdir().unwrap();
    let items = items();
    let path = dir.path().join("catalog.parquet");
    stac_geoparquet::to_geoparquet(
        &items,
        &path,
        &WriteOptions::default().with_row_group_size(100),
    )
    .unwrap();
    // The reference: the JSON-blob layout has no column statistics, so
    // nothing is pruned and every item is decoded and tested.
    let blob = dir.path().join("blob.parquet");
    stac_geoparquet::to_geoparquet(
        &items,
        &blob,
        &WriteOptions::default().with_layout(Layout::Blob),
    )
    .unwrap();

    let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
    let row_groups = meta.metadata().num_row_groups();
    assert_eq!(row_groups, 20, "the file has 20 row groups of 100 rows");

    let params = SearchParams::new()
        .with_bbox([3.2, 10.1, 5.4, 12.6])
        .with_datetime("2023-01-20T00:00:00Z/2023-02-10T00:00:00Z")
        .with_filter(Filter::Text("\"eo:cloud_cover\" < 60".into()));
    let (found, stats) = run(&path, &params);
    let (reference, ref_stats) = run(&blob, &params);
    assert!(!found.is_empty());
    assert_eq!(ids(&found), ids(&reference));
    assert_eq!(ref_stats.skipped_row_groups.len(), 0);
    assert_eq!(stats.row_groups, row_groups);
    let skipped: Vec<usize> = stats.skipped_row_groups.iter().map(|(_, rg)| *rg).collect();
    assert!(
        skipped.len() >= 17,
        "only {} of 20 row groups skipped: {skipped:?}",
        skipped.len()
    );
    // The skipped row groups held no match.
    let matches = ids(&reference);
    for rg in &skipped {
        let held = row_group_ids(&path, *rg);
        assert_eq!(held.len(), 100);
        assert!(
            held.iter().all(|id| !matches.contains(id)),
            "row group {rg} held a match"
        );
    }
    // Rows were filtered on their columns before any JSON was built: only
    // the matches were decoded.
    assert_eq!(stats.rows_decoded, found.len() as u64);
    assert!(ref_stats.rows_decoded >= 2000);
}

#[test]
fn page_index_skips_pages_inside_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let items = items();
    let path = dir.path().join("one-group.parquet");
    // One row group of 2000 rows, pages of 100 rows.
    stac_geoparquet::to_geoparquet(&items, &path, &WriteOptions::default().with_page_rows(100))
        .unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
    assert_eq!(meta.metadata().num_row_groups(), 1);
    let params = SearchParams::new()
        .with_datetime("2023-01-10T00:00:00Z/2023-01-12T00:00:00Z")
        .with_bbox([0.0, 0.0, 20.0, 30.0]);
    let (found, stats) = run(&path, &params);
    assert_eq!(
        found.len(),
        49,
        "one item an hour over two days, plus the end"
    );
    assert!(stats.skipped_row_groups.is_empty());
    // Every page but the one or two holding those hours is skipped.
    assert!(stats.rows_skipped_by_pages >= 1800, "{stats:?}");
    assert_eq!(stats.rows_decoded, 49);
}

#[test]
fn lists_globs_and_folders_search_the_same_items() {
    let dir = tempfile::tempdir().unwrap();
    let items = items();
    let mut files = Vec::new();
    for (i, chunk) in items.chunks(500).enumerate() {
        let sub = dir.path().join(format!("part={i}"));
        std::fs::create_dir_all(&sub).unwrap();
        let p = sub.join("items.parquet");
        stac_geoparquet::to_geoparquet(chunk, &p, &WriteOptions::default().with_row_group_size(50))
            .unwrap();
        files.push(p);
    }
    // Files a folder search must pass over.
    std::fs::write(dir.path().join("part=0/_SUCCESS"), b"").unwrap();
    std::fs::write(dir.path().join("part=0/.items.parquet.crc"), b"junk").unwrap();
    let params = SearchParams::new()
        .with_collections(["second"])
        .with_filter(Filter::Text(
            "platform = 's2a' AND \"eo:cloud_cover\" BETWEEN 10 AND 20".into(),
        ))
        .with_sortby("-id")
        .with_max_items(25);
    let (a, sa) = run(files.clone(), &params);
    let (b, _) = run(dir.path(), &params);
    let (c, _) = run(format!("{}/*/*.parquet", dir.path().display()), &params);
    let (d, _) = run(
        PathBuf::from(format!("{}/**/items.parquet", dir.path().display())),
        &params,
    );
    assert_eq!(a.len(), 25);
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a, d);
    let got: Vec<&str> = a.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let mut sorted = got.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(got, sorted, "sorted by id, descending");
    assert!(
        a.iter()
            .all(|i| i["collection"] == "second" && i["properties"]["platform"] == "s2a")
    );
    // The files of the first collection were never read past their footers.
    assert!(sa.files_skipped >= 2, "{sa:?}");
}

#[test]
fn fields_keep_only_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.parquet");
    stac_geoparquet::to_geoparquet(&items(), &path, &WriteOptions::default()).unwrap();
    let params = SearchParams::new().with_ids(["scene-00001"]).with_fields(
        stac_geoparquet::search::Fields::parse("properties.platform,-links"),
    );
    let (found, _) = run(&path, &params);
    assert_eq!(
        found,
        [json!({"id": "scene-00001", "collection": "first", "properties": {"platform": "s2b"}})]
    );
}

#[test]
fn bad_queries_and_bad_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.parquet");
    stac_geoparquet::to_geoparquet(&items()[..10], &path, &WriteOptions::default()).unwrap();
    for (params, parameter) in [
        (
            SearchParams::new().with_filter(Filter::Text("\"eo:cloud_cover\" <".into())),
            "filter",
        ),
        (
            SearchParams::new().with_filter(Filter::Text("S_WITHIN(geometry, POINT(0 0))".into())),
            "filter",
        ),
        (SearchParams::new().with_datetime("soon"), "datetime"),
        (SearchParams::new().with_bbox([1.0, 2.0, 3.0]), "bbox"),
        (
            SearchParams::new()
                .with_intersects(json!({"type": "Polygon", "coordinates": [[["x", 0]]]})),
            "intersects",
        ),
    ] {
        match search(&path, &params) {
            Err(GeoParquetError::InvalidQuery { parameter: p, .. }) => assert_eq!(p, parameter),
            other => panic!("{parameter}: {other:?}"),
        }
    }
    // A file that is not Parquet, in a folder: the error names it.
    let folder = dir.path().join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(&path, folder.join("a.parquet")).unwrap();
    std::fs::write(folder.join("b.parquet"), b"PAR1 not really").unwrap();
    let results: Vec<_> = search(&folder, &SearchParams::new()).unwrap().collect();
    let err = results.last().unwrap().as_ref().unwrap_err();
    assert!(err.to_string().contains("b.parquet"), "{err}");
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 10);
    // Nothing to search.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(search(&empty, &SearchParams::new()).is_err());
    assert!(search(dir.path().join("*.nothing"), &SearchParams::new()).is_err());
}

#[test]
fn partitioned_output_is_searched_like_one_file() {
    use stac_geoparquet::{PartitionKey, write_partitioned};
    let dir = tempfile::tempdir().unwrap();
    let items = items();
    let out = dir.path().join("catalog");
    let keys = [PartitionKey::Collection, PartitionKey::Month];
    let files = write_partitioned(&items, &out, &keys, &WriteOptions::default()).unwrap();
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    assert_eq!(names[0], "collection=first/month=01/part-0.parquet");
    assert_eq!(files.iter().map(|(_, n)| n).sum::<u64>(), 2000);
    // Nothing else was left next to the folder.
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(siblings.len(), 1);
    let params = SearchParams::new()
        .with_collections(["second"])
        .with_datetime("2023-03-01T00:00:00Z/2023-03-05T00:00:00Z")
        .with_sortby("datetime");
    let single = dir.path().join("single.parquet");
    stac_geoparquet::to_geoparquet(&items, &single, &WriteOptions::default()).unwrap();
    let (a, sa) = run(&out, &params);
    let (b, _) = run(&single, &params);
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(sa.files, files.len());
    assert!(sa.files_skipped >= files.len() - 2, "{sa:?}");
    // Every item comes back from the folder.
    let (all, _) = run(&out, &SearchParams::new());
    assert_eq!(ids(&all), ids(&items));

    // A write that fails leaves nothing behind; a non-empty folder is not overwritten.
    let mut bad = items[..10].to_vec();
    bad[7]["geometry"] = json!({"type": "Polygon", "coordinates": "nope"});
    let failed = dir.path().join("failed");
    let err = write_partitioned(&bad, &failed, &keys, &WriteOptions::default()).unwrap_err();
    assert!(
        matches!(err, GeoParquetError::InvalidItem { index: 7, .. }),
        "{err}"
    );
    assert!(!failed.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    assert!(write_partitioned(&items, &out, &keys, &WriteOptions::default()).is_err());
}

#[test]
fn ndjson_written_on_several_threads_equals_the_iterator() {
    use stac_geoparquet::search::{SearchOptions, search_with};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.parquet");
    // Parts of 4096 rows: 3 row groups of 700 rows and pages of 100 make
    // the parallel writer cut, order and stop at max_items across parts.
    let items: Vec<Value> = items()
        .into_iter()
        .chain(items().into_iter().map(|mut i| {
            i["id"] = json!(format!("b-{}", i["id"].as_str().unwrap()));
            i
        }))
        .collect();
    stac_geoparquet::to_geoparquet(
        &items,
        &path,
        &WriteOptions::default()
            .with_row_group_size(700)
            .with_page_rows(100),
    )
    .unwrap();
    let cases = [
        SearchParams::new(),
        SearchParams::new().with_filter(Filter::Text("\"eo:cloud_cover\" < 30".into())),
        SearchParams::new()
            .with_bbox([1.0, 1.0, 8.0, 20.0])
            .with_max_items(77),
        // Filtered first on columns, then the matches regrouped into jobs.
        SearchParams::new().with_bbox([1.0, 1.0, 8.0, 20.0]),
        SearchParams::new()
            .with_bbox([1.0, 1.0, 8.0, 20.0])
            .with_filter(Filter::Text("id LIKE 'b-%'".into())),
        // A conjunct on a nested field runs on the decoded items.
        SearchParams::new().with_filter(Filter::Text(
            "\"eo:cloud_cover\" < 60 AND \"proj:code\" IS NULL".into(),
        )),
        SearchParams::new()
            .with_fields(stac_geoparquet::search::Fields::parse("-assets"))
            .with_max_items(1500),
    ];
    for params in cases {
        let expected: Vec<u8> = search(&path, &params)
            .unwrap()
            .flat_map(|i| {
                let mut line = serde_json::to_vec(&i.unwrap()).unwrap();
                line.push(b'\n');
                line
            })
            .collect();
        for threads in [1, 2, 4] {
            let mut s = search_with(
                &path,
                &params,
                &SearchOptions::default().with_threads(threads),
            )
            .unwrap();
            let mut out = Vec::new();
            let n = s.write_ndjson(&mut out).unwrap();
            assert_eq!(out, expected, "{threads} threads");
            assert_eq!(n as usize, out.iter().filter(|b| **b == b'\n').count());
            assert_eq!(s.stats().items, n);
        }
    }
}

/// The NDJSON a search writes through the `Value` path (the iterator, then
/// serde_json) and straight from the Arrow columns (`write_ndjson`,
/// unsorted, no `fields`): (value path, direct path on 2 threads).
fn both_paths(src: &Path, read: &stac_geoparquet::ReadOptions) -> (Vec<u8>, Vec<u8>) {
    use stac_geoparquet::search::{SearchOptions, search_with};
    let options = SearchOptions::default()
        .with_threads(2)
        .with_read_options(read.clone());
    let params = SearchParams::new();
    let mut expected = Vec::new();
    for item in search_with(src, &params, &options).unwrap() {
        serde_json::to_writer(&mut expected, &item.unwrap()).unwrap();
        expected.push(b'\n');
    }
    let mut direct = Vec::new();
    search_with(src, &params, &options)
        .unwrap()
        .write_ndjson(&mut direct)
        .unwrap();
    (expected, direct)
}

fn assert_same_ndjson(src: &Path, what: &str) {
    let (expected, direct) = both_paths(src, &Default::default());
    assert!(!expected.is_empty(), "{what}: no items");
    if direct != expected {
        let e = String::from_utf8_lossy(&expected);
        let d = String::from_utf8_lossy(&direct);
        let (a, b) = e
            .lines()
            .zip(d.lines())
            .find(|(a, b)| a != b)
            .unwrap_or_default();
        panic!(
            "{what}: direct NDJSON differs ({} vs {} lines)\nvalue:  {a}\ndirect: {b}",
            e.lines().count(),
            d.lines().count()
        );
    }
}

/// Items whose strings need escaping, explicit nulls and absences at every
/// level, mixed integers and floats, nested lists of objects.
fn awkward_items() -> Vec<Value> {
    (0..300)
        .map(|i| {
            let x = ((i * 37) % 100) as f64 + 0.125;
            let mut item = json!({"type": "Feature", "stac_version": "1.1.0",
                "id": format!("i\"{i:03}\\/\u{7}\té\u{1F600}"),
                "bbox": [x, 1.0, x + 1.0, 2.0],
                "geometry": {"type": "Polygon", "coordinates": [[[x, 1.0], [x + 1.0, 1.0], [x + 1.0, 2.0], [x, 1.0]]]},
                "properties": {"datetime": format!("2023-{:02}-{:02}T00:00:00.{:06}Z", 1 + (i * 7) % 12, 1 + i % 28, i * 1001),
                    "title": format!("line\nbreak \u{1} {i} </script>"),
                    "gsd": if i % 2 == 0 { json!(10) } else { json!(10.5) },
                    "big": i64::MAX - i as i64,
                    "tiny": 1e-300 * i as f64,
                    "flags": [true, false, null],
                    "nested": {"a": [{"b": i, "c": null}, {"b": null}], "d": if i % 3 == 0 { json!(null) } else { json!("x") }}},
                "assets": {"B04": {"href": format!("s3://b/{i}/B04 \"q\".tif"), "roles": ["data"], "raster:bands": [{"nodata": 0, "scale": 0.0001 * i as f64}]}},
                "links": [{"rel": "self", "href": format!("https://x/{i}?a=1&b=\u{0}")}]});
            let obj = item.as_object_mut().unwrap();
            match i % 3 {
                0 => obj["properties"]["platform"] = Value::Null,
                1 => {}
                _ => obj["properties"]["platform"] = "s2a".into(),
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
                    obj.remove("bbox");
                }
                _ => {}
            }
            if i % 2 == 0 {
                let g = json!({"type": "Polygon", "coordinates": [[[500000.5, 4000000.5], [510000.5, 4000000.5], [510000.5, 4010000.5], [500000.5, 4000000.5]]]});
                obj["properties"]["proj:geometry"] = g.clone();
                obj["assets"]["B04"]["proj:geometry"] = g;
            }
            if i % 11 == 0 {
                obj.insert("extra_top".into(), json!({"k": [1, 2.5, "z"]}));
            }
            item
        })
        .collect()
}

/// The NDJSON written straight from the Arrow columns is byte-identical to
/// the `Value` path's, for every shared fixture (one file each, and all in
/// one file), both layouts, the awkward generated items in file and
/// Hilbert order, the files other tools wrote, and a hive folder of a
/// foreign file (fields from the folder names).
#[test]
fn ndjson_from_columns_equals_the_value_path_for_every_fixture() {
    use stac_geoparquet::SortOrder;
    let dir = tempfile::tempdir().unwrap();
    let mut sets: Vec<(String, Vec<Value>)> = stac_fixtures::stac_item_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let items = stac_meta::parse_items(&std::fs::read_to_string(&p).ok()?).ok()?;
            Some((p.file_name()?.to_string_lossy().into_owned(), items))
        })
        .collect();
    assert!(sets.len() >= 20, "fixtures missing");
    let all: Vec<Value> = sets.iter().flat_map(|(_, i)| i.clone()).collect();
    sets.push(("all fixtures".into(), all));
    sets.push(("awkward".into(), awkward_items()));
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
                .with_row_group_size(100)
                .with_page_rows(50);
            if stac_geoparquet::to_geoparquet(items, &path, &options).is_err() {
                continue; // items the writer refuses (documented exceptions)
            }
            assert_same_ndjson(&path, &format!("{name} {layout:?} {sort:?}"));
        }
    }
    let shared = stac_fixtures::stac_items_dir();
    let foreign = [
        shared.join("rustac-100-landsat-items.parquet"),
        shared.join("rustac-100-sentinel-2-items.parquet"),
        shared.join("pc-naip.parquet"),
        stac_fixtures::shared_file("reference/pyramids-outputs/catalog.parquet"),
    ];
    for f in &foreign {
        assert_same_ndjson(f, &f.display().to_string());
    }
    let hive = dir.path().join("hive");
    let part = hive.join("year=2023").join("region=a \"b\"");
    std::fs::create_dir_all(&part).unwrap();
    std::fs::copy(&foreign[0], part.join("part-0.parquet")).unwrap();
    assert_same_ndjson(&hive, "hive folder of a rustac file");
}

/// A row past the per-item memory limit is refused by both paths, with
/// the same typed error naming the file and row.
#[test]
fn ndjson_from_columns_refuses_what_the_value_path_refuses() {
    use stac_geoparquet::search::{SearchOptions, search_with};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.parquet");
    let mut items = items();
    items[1500]["properties"]["title"] = json!("x".repeat(100_000));
    stac_geoparquet::to_geoparquet(&items, &path, &WriteOptions::default()).unwrap();
    let read = stac_geoparquet::ReadOptions::default().with_max_value_bytes(50_000);
    let options = SearchOptions::default()
        .with_threads(2)
        .with_read_options(read);
    // Every row before the bad one comes out of the iterator (none skipped).
    let before = search_with(&path, &SearchParams::new(), &options)
        .unwrap()
        .take_while(Result::is_ok)
        .count();
    assert_eq!(before, 1500);
    let by_value = search_with(&path, &SearchParams::new(), &options)
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    let direct = search_with(&path, &SearchParams::new(), &options)
        .unwrap()
        .write_ndjson(&mut Vec::new())
        .unwrap_err();
    assert_eq!(direct.to_string(), by_value.to_string());
    assert!(direct.to_string().contains("row 1500"), "{direct}");
}

/// A selective search decompresses the pages holding its matches and, when
/// those are dictionary-encoded, the whole dictionary page: the writer keeps
/// dictionaries small for columns of mostly distinct values (checksums,
/// hrefs) and small pages in every column, nested ones included.
#[test]
fn mostly_distinct_columns_drop_their_dictionary_early_and_pages_stay_small() {
    use parquet::arrow::arrow_reader::ArrowReaderOptions;
    use parquet::basic::Encoding;
    use parquet::file::metadata::PageIndexPolicy;
    let items: Vec<Value> = (0..6000)
        .map(|i| {
            let checksum = format!(
                "1220{:064x}",
                (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
            );
            json!({"type": "Feature", "stac_version": "1.1.0", "id": format!("scene-{i:05}"),
                "geometry": {"type": "Point", "coordinates": [i as f64 * 0.001, 0.0]},
                "bbox": [i as f64 * 0.001, 0.0, i as f64 * 0.001, 0.0],
                "properties": {"datetime": "2023-01-01T00:00:00Z"},
                "assets": {"B04": {"href": format!("s3://bucket/scene-{i:05}/B04.tif"),
                    "type": "image/tiff; application=geotiff", "file:checksum": checksum}}})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("distinct.parquet");
    stac_geoparquet::to_geoparquet(&items, &path, &WriteOptions::default()).unwrap();
    let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
    let b =
        ParquetRecordBatchReaderBuilder::try_new_with_options(File::open(&path).unwrap(), options)
            .unwrap();
    let meta = b.metadata();
    assert_eq!(meta.num_row_groups(), 1);
    let group = meta.row_group(0);
    let leaf = |name: &str| {
        (0..group.num_columns())
            .find(|&c| group.column(c).column_path().string() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let dictionary_bytes = |c: usize| {
        let col = group.column(c);
        col.dictionary_page_offset()
            .map_or(0, |d| col.data_page_offset() - d)
    };
    let data_encodings = |c: usize| group.column(c).page_encoding_stats_mask().cloned().unwrap();
    // 6000 distinct 68-byte checksums fit in a 1 MiB dictionary (arrow-rs's
    // default, the whole chunk dictionary-encoded); with 64 KiB the chunk
    // falls back to plain pages after about a thousand values.
    let checksum = leaf("assets.B04.file:checksum");
    assert!(
        dictionary_bytes(checksum) < 100_000,
        "{}",
        dictionary_bytes(checksum)
    );
    assert!(
        data_encodings(checksum).is_set(Encoding::PLAIN),
        "{:?}",
        data_encodings(checksum)
    );
    // A column of one value keeps its dictionary for every page.
    let kind = leaf("assets.B04.type");
    assert!(dictionary_bytes(kind) > 0);
    assert!(
        !data_encodings(kind).is_set(Encoding::PLAIN),
        "{:?}",
        data_encodings(kind)
    );
    // Nested columns have pages of about 4096 rows, found by the offset index.
    let index = meta.page_index_for_row_group(0);
    for c in [checksum, kind, leaf("assets.B04.href")] {
        let pages = index.offset_index(c).unwrap().page_locations();
        let mut starts: Vec<i64> = pages.iter().map(|p| p.first_row_index).collect();
        starts.push(6000);
        let name = group.column(c).column_path().string();
        assert!(starts.len() >= 3, "{name}: {starts:?}");
        // arrow-rs checks the row limit after each write batch of 1024 rows
        // (the dictionary fallback can start a page mid-batch); the old
        // 20 000-row pages of nested columns made one page of all 6000.
        assert!(
            starts.windows(2).all(|w| w[1] - w[0] <= 4096 + 1024),
            "{name}: {starts:?}"
        );
    }
    // And a search of a few rows reads them back.
    let params = SearchParams::new().with_bbox([4.9995, -1.0, 5.0025, 1.0]);
    let (found, _) = run(&path, &params);
    let found_ids: Vec<&str> = found.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(found_ids, ["scene-05000", "scene-05001", "scene-05002"]);
    assert_eq!(found[1]["assets"], items[5001]["assets"]);
}
