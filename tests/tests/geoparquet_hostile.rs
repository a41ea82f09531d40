//! `stac-gdal convert` on crafted GeoParquet files (issue 14, findings
//! 9–13, as seen in the CLI): each exits 1 with a one-line message, writes
//! no output file and leaves nothing behind, within bounded memory. The
//! files are generated here.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BinaryArray, DictionaryArray, Float64Array, Int32Array, RecordBatch, StringArray,
};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde_json::Value;
use stac_gdal_e2e::rss::{Measured, run_measured};

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap()))
        .build();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn strings(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn point(x: f64, y: f64) -> Vec<u8> {
    let mut b = vec![1, 1, 0, 0, 0];
    b.extend(x.to_le_bytes());
    b.extend(y.to_le_bytes());
    b
}

fn convert(input: &Path, output: &Path, extra: &[&str]) -> Measured {
    let mut args = vec!["convert".as_ref(), input.as_os_str(), output.as_os_str()];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    run_measured(stac_gdal_e2e::stac_gdal_bin(), &args)
}

/// The files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Exit 1 (not a signal), one line on stderr containing `expected`, no
/// output, nothing left in the directory but the input.
fn refused(m: &Measured, dir: &Path, input: &str, expected: &str) -> String {
    let stderr = String::from_utf8_lossy(&m.stderr).into_owned();
    eprintln!(
        "{input}: exit {:?}, peak RSS {:.1} MiB: {}",
        m.status.code(),
        m.peak_rss as f64 / 1048576.0,
        stderr.trim_end()
    );
    assert_eq!(m.status.code(), Some(1), "status {:?}: {stderr}", m.status);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert_eq!(listing(dir), [input], "{stderr}");
    stderr
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// Finding 9: a 9 kB file with WKB nested 20,000 deep aborted `convert`
/// with a stack overflow (exit 134).
#[test]
fn deeply_nested_wkb_exits_1_with_a_message() {
    let (_guard, dir) = tmp();
    let mut deep = Vec::new();
    for _ in 0..20_000 {
        deep.extend([1, 7, 0, 0, 0, 1, 0, 0, 0]);
    }
    deep.extend(point(1.0, 2.0));
    let input = dir.join("deep.parquet");
    write(
        &input,
        vec![
            ("id", strings(&["deep"])),
            (
                "geometry",
                Arc::new(BinaryArray::from(vec![deep.as_slice()])),
            ),
        ],
    );
    assert!(std::fs::metadata(&input).unwrap().len() < 12_000);
    for out in ["out.ndjson", "out.json", "out.parquet"] {
        let m = convert(&input, &dir.join(out), &[]);
        let e = refused(
            &m,
            &dir,
            "deep.parquet",
            "nested deeper than 32 collections",
        );
        assert!(
            e.contains("row 0 (id \"deep\")") && e.contains("--wkb-max-depth"),
            "{e}"
        );
    }
}

/// Finding 10: a thumbnail column (binary, not WKB) failed the whole file.
#[test]
fn a_binary_thumbnail_column_converts_as_base64() {
    let (_guard, dir) = tmp();
    let input = dir.join("thumb.parquet");
    write(
        &input,
        vec![
            ("id", strings(&["a"])),
            (
                "geometry",
                Arc::new(BinaryArray::from(vec![point(1.5, 2.5).as_slice()])),
            ),
            (
                "thumbnail",
                Arc::new(BinaryArray::from(vec![b"\x89PNG\r\n".as_slice()])),
            ),
        ],
    );
    let out = dir.join("out.ndjson");
    let m = convert(&input, &out, &["--quiet"]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let item: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(item["properties"]["thumbnail"], "iVBORw0K");
    assert_eq!(
        item["geometry"]["coordinates"],
        serde_json::json!([1.5, 2.5])
    );
}

/// Finding 11: a 12.8 kB file (one 100 MiB string, dictionary-encoded, in
/// 30 rows) became 3 GB of NDJSON at 1.9 GB peak RSS. Now refused from the
/// footer; with that check lifted, refused at the first item, before it is
/// copied. Peak RSS of each run is printed (docs/reliability.md) and bounded.
#[test]
fn dictionary_amplification_is_refused_in_bounded_memory() {
    let (_guard, dir) = tmp();
    let input = dir.join("amp.parquet");
    {
        let big = "x".repeat(100 << 20);
        let dict = DictionaryArray::<Int32Type>::new(
            Int32Array::from(vec![0; 30]),
            Arc::new(StringArray::from(vec![big.as_str()])),
        );
        let ids: Vec<String> = (0..30).map(|i| format!("i{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        write(
            &input,
            vec![
                ("id", strings(&ids)),
                ("type", strings(&["Feature"; 30])),
                ("note", Arc::new(dict)),
            ],
        );
    }
    let size = std::fs::metadata(&input).unwrap().len();
    assert!(size < 16_000, "{size}");
    let out = dir.join("out.ndjson");
    let m = convert(&input, &out, &[]);
    refused(&m, &dir, "amp.parquet", "row group 0");
    let footer_rss = m.peak_rss;
    // The footer check lifted: the Parquet decoder materialises the
    // dictionary (100 MiB); the first item is refused before its copy.
    let m = convert(&input, &out, &["--max-expansion", "100000000"]);
    let e = refused(&m, &dir, "amp.parquet", "--max-value-bytes");
    assert!(e.contains("row 0 (id \"i0\"): column \"note\""), "{e}");
    let item_rss = m.peak_rss;
    eprintln!(
        "amplification: peak RSS {:.1} MiB (footer check), {:.1} MiB (item check)",
        footer_rss as f64 / 1048576.0,
        item_rss as f64 / 1048576.0
    );
    assert!(footer_rss < 64 << 20, "{footer_rss}");
    // The decoder's copy of the dictionary (100 MiB) and its pages, and no
    // decoded item: under 3 × 100 MiB.
    assert!(item_rss < 300 << 20, "{item_rss}");
}

/// Finding 12: duplicated column names were resolved silently.
#[test]
fn duplicated_columns_exit_1() {
    let (_guard, dir) = tmp();
    let input = dir.join("dup.parquet");
    write(
        &input,
        vec![
            ("id", strings(&["a"])),
            ("type", strings(&["Feature"])),
            ("gsd", Arc::new(Float64Array::from(vec![10.0]))),
            ("gsd", Arc::new(Float64Array::from(vec![60.0]))),
        ],
    );
    let m = convert(&input, &dir.join("out.json"), &[]);
    refused(&m, &dir, "dup.parquet", "two columns are named \"gsd\"");
}

/// Finding 13: NaN and ±inf became null silently. Now an error naming the
/// row, the item and the column; `--non-finite null` writes null.
#[test]
fn non_finite_numbers_exit_1_unless_asked_for_null() {
    let (_guard, dir) = tmp();
    let input = dir.join("nan.parquet");
    write(
        &input,
        vec![
            ("id", strings(&["ok", "bad"])),
            ("type", strings(&["Feature", "Feature"])),
            (
                "eo:cloud_cover",
                Arc::new(Float64Array::from(vec![1.5, f64::NAN])),
            ),
        ],
    );
    let out = dir.join("out.ndjson");
    let m = convert(&input, &out, &[]);
    let e = refused(
        &m,
        &dir,
        "nan.parquet",
        "row 1 (id \"bad\"): column \"eo:cloud_cover\"",
    );
    assert!(
        e.contains("non-finite number NaN") && e.contains("--non-finite null"),
        "{e}"
    );
    let m = convert(&input, &out, &["--non-finite", "null", "--quiet"]);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let items: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items[1]["properties"]["eo:cloud_cover"], Value::Null);
    assert_eq!(items[0]["properties"]["eo:cloud_cover"], 1.5);
}
