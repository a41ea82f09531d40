//! Where a write's temporary files live ([`WriteOptions::with_temp_dir`]),
//! and that nothing is left behind by a write that is dropped or fails.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;

use serde_json::{Value, json};
use stac_geoparquet::{PartitionKey, PartitionedWriter, WriteOptions, Writer};

fn item(i: usize) -> Value {
    json!({"type": "Feature", "stac_version": "1.0.0", "id": format!("item-{i:05}"),
        "collection": if i % 2 == 0 { "even" } else { "odd" },
        "geometry": {"type": "Point", "coordinates": [i as f64 * 0.001, 45.0]},
        "bbox": [i as f64 * 0.001, 45.0, i as f64 * 0.001, 45.0],
        "properties": {"datetime": "2021-06-01T00:00:00Z", "n": i},
        "assets": {"data": {"href": format!("https://example.com/{i}.tif")}},
        "links": []})
}

/// Every name under `dir`, hidden ones included, relative and sorted.
fn names(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn spill_and_output_temp_files_go_to_the_temp_dir_and_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::create_dir_all(&staging).unwrap();
    let path = out_dir.join("items.parquet");
    let options = WriteOptions::default()
        .with_row_group_size(300)
        .with_temp_dir(&staging);
    // 1200 items spill (more than 500 are never held as JSON).
    let mut w = Writer::create(&path, options.clone()).unwrap();
    for i in 0..1200 {
        w.push(item(i)).unwrap();
    }
    assert!(names(&out_dir).is_empty(), "{:?}", names(&out_dir));
    assert_eq!(names(&staging).len(), 1, "the spill: {:?}", names(&staging));
    assert_eq!(w.finish().unwrap(), 1200);
    assert_eq!(names(&out_dir), ["items.parquet"]);
    assert!(names(&staging).is_empty(), "{:?}", names(&staging));

    // A writer dropped midway (an error in the caller) removes its spill.
    let mut w = Writer::create(out_dir.join("other.parquet"), options.clone()).unwrap();
    for i in 0..800 {
        w.push(item(i)).unwrap();
    }
    assert_eq!(names(&staging).len(), 1);
    drop(w);
    assert!(names(&staging).is_empty(), "{:?}", names(&staging));
    assert_eq!(names(&out_dir), ["items.parquet"]);

    // A finish failing at the last step (the destination is a folder, so
    // the rename fails) too.
    let bad = out_dir.join("bad.parquet");
    std::fs::create_dir_all(bad.join("x")).unwrap();
    let mut w = Writer::create(&bad, options.clone()).unwrap();
    for i in 0..700 {
        w.push(item(i)).unwrap();
    }
    assert!(w.finish().is_err());
    assert!(names(&staging).is_empty(), "{:?}", names(&staging));
    std::fs::remove_dir_all(&bad).unwrap();
    assert_eq!(names(&out_dir), ["items.parquet"]);

    // Partitioned: the temporary folder is in the temp dir, then moved.
    let parts = dir.path().join("parts");
    let mut w = PartitionedWriter::create(
        &parts,
        vec!["collection".parse::<PartitionKey>().unwrap()],
        options.clone(),
    )
    .unwrap();
    for i in 0..900 {
        w.push(item(i)).unwrap();
    }
    assert!(!parts.exists());
    assert_eq!(
        names(&staging).len(),
        2,
        "folder and spill: {:?}",
        names(&staging)
    );
    w.finish().unwrap();
    assert!(names(&staging).is_empty(), "{:?}", names(&staging));
    assert_eq!(
        names(&parts),
        [
            "collection=even",
            "collection=even/part-0.parquet",
            "collection=odd",
            "collection=odd/part-0.parquet"
        ]
    );
    // Dropped midway: nothing left.
    let mut w = PartitionedWriter::create(
        dir.path().join("parts2"),
        vec!["collection".parse::<PartitionKey>().unwrap()],
        options,
    )
    .unwrap();
    for i in 0..900 {
        w.push(item(i)).unwrap();
    }
    drop(w);
    assert!(names(&staging).is_empty(), "{:?}", names(&staging));
    assert!(!dir.path().join("parts2").exists());
}
