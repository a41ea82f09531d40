//! A stac-geoparquet catalog as the input of every command, as a user runs
//! them: `convert` writes it (sorted, or hive-partitioned), then `search`,
//! `vrt`, `cube`, `download` and `point` read the file or the folder
//! directly, with `--bbox`/`--datetime`/`--filter` pushed down to the
//! catalog search. The rasters are real GeoTIFFs served by nginx on
//! 127.0.0.1.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::{Command, Output};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::raster::{Dataset, GridSpec};
use stac_gdal_e2e::nginx::Nginx;

fn stac_gdal(args: &[&str]) -> Output {
    let out = Command::new(stac_gdal_e2e::stac_gdal_bin())
        .args(args)
        .output()
        .expect("run stac-gdal");
    assert!(
        out.status.success(),
        "stac-gdal {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Four 100x100 rasters at 20 m in EPSG:32632 around (46°N, 11°E), values
/// 10, 20, 30, 40, and their items (hrefs on nginx).
fn catalog(dir: &Path, nginx: &Nginx) -> Vec<Value> {
    let specs = [
        ("i0", "c1", "2021-06-01T10:00:00Z", "a", 10u16),
        ("i1", "c1", "2021-06-05T10:00:00Z", "b", 20),
        ("i2", "c1", "2021-06-10T10:00:00Z", "a", 30),
        ("i3", "c2", "2021-07-01T10:00:00Z", "a", 40),
    ];
    let (w, s, e, n) = (10.98, 45.98, 11.02, 46.01);
    specs
        .iter()
        .map(|(id, coll, when, platform, value)| {
            let arr = Array2::from_elem((100, 100), *value);
            Dataset::create_from_array(&arr, &GridSpec::north_up([654000.0, 5097000.0], 20.0, 32632), Some(0.0))
                .unwrap()
                .to_file(dir.join(format!("{id}.tif")))
                .unwrap();
            json!({"type": "Feature", "stac_version": "1.1.0", "id": id, "collection": coll,
                "bbox": [w, s, e, n],
                "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
                "properties": {"datetime": when, "platform": platform},
                "assets": {"data": {"href": nginx.url(&format!("/public/{id}.tif")), "type": "image/tiff",
                    "proj:epsg": 32632, "proj:shape": [100, 100],
                    "proj:transform": [20.0, 0.0, 654000.0, 0.0, -20.0, 5097000.0]}},
                "links": []})
        })
        .collect()
}

#[test]
fn every_command_reads_a_catalog_file_or_folder_with_pushdown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rasters = d.join("rasters");
    std::fs::create_dir_all(&rasters).unwrap();
    let nginx = Nginx::start(&rasters, "token");
    let items = catalog(&rasters, &nginx);
    let ndjson = d.join("items.ndjson");
    std::fs::write(
        &ndjson,
        items.iter().map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
    let file = d.join("catalog.parquet");
    let folder = d.join("catalog");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    stac_gdal(&[
        "convert",
        &s(&ndjson),
        &s(&file),
        "--sort",
        "time",
        "--quiet",
    ]);
    stac_gdal(&[
        "convert",
        &s(&ndjson),
        &s(&folder),
        "--partition-by",
        "collection,year",
        "--sort",
        "hilbert",
        "--quiet",
    ]);
    assert!(
        folder
            .join("collection=c1/year=2021/part-0.parquet")
            .is_file()
    );
    assert!(
        folder
            .join("collection=c2/year=2021/part-0.parquet")
            .is_file()
    );

    let june = "2021-06-01/2021-06-30";
    let platform_a = "platform = 'a'";

    // search: file and folder, same flags as an API search.
    for src in [&file, &folder] {
        let out = stac_gdal(&[
            "search",
            &s(src),
            "--datetime",
            june,
            "--filter",
            platform_a,
            "--sortby",
            "datetime",
            "--ndjson",
        ]);
        let ids: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(ids, ["i0", "i2"], "{}", src.display());
    }
    let out = stac_gdal(&["search", &s(&folder), "--collections", "c2"]);
    let fc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["features"].as_array().unwrap().len(), 1);

    // vrt: only the selected items become sources.
    let vrt = d.join("mosaic.vrt");
    stac_gdal(&[
        "vrt",
        &s(&file),
        "--asset",
        "data",
        "-o",
        &s(&vrt),
        "--datetime",
        june,
        "--filter",
        platform_a,
    ]);
    let xml = std::fs::read_to_string(&vrt).unwrap();
    assert!(
        xml.contains("public%2Fi0.tif") && xml.contains("public%2Fi2.tif"),
        "{xml}"
    );
    assert!(
        !xml.contains("public%2Fi1.tif") && !xml.contains("public%2Fi3.tif"),
        "{xml}"
    );
    let out = stac_gdal(&[
        "vrt",
        &s(&folder),
        "--asset",
        "data",
        "-o",
        &s(&d.join("none.vrt")),
        "--bbox",
        "10.98,45.98,11.0,46.0",
        "--filter",
        "platform = 'b'",
    ]);
    assert!(out.status.success());
    let xml = std::fs::read_to_string(d.join("none.vrt")).unwrap();
    assert!(
        xml.contains("public%2Fi1.tif") && !xml.contains("public%2Fi0.tif"),
        "{xml}"
    );

    // cube: two timesteps, read over HTTP.
    let out = stac_gdal(&[
        "cube",
        &s(&folder),
        "--asset",
        "data",
        "--datetime",
        june,
        "--filter",
        platform_a,
        "--out",
        &s(&d.join("cube")),
        "--quiet",
    ]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["shape"][0], 2, "{summary}");
    let files: Vec<String> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    let second = Dataset::open(&files[1])
        .unwrap()
        .read_array::<u16>()
        .unwrap();
    assert_eq!(second[[0, 50, 50]], 30);

    // download: one selected item.
    let dest = d.join("downloaded");
    stac_gdal(&[
        "download",
        &s(&file),
        &s(&dest),
        "--filter",
        "id = 'i1'",
        "--quiet",
    ]);
    let mut got: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    got.sort();
    assert_eq!(got, ["i1.json", "i1.tif", "stac-gdal-manifest.json"]);
    assert_eq!(
        std::fs::read(dest.join("i1.tif")).unwrap(),
        std::fs::read(rasters.join("i1.tif")).unwrap()
    );

    // point: the search around the point runs on the catalog.
    let out = stac_gdal(&[
        "point",
        &s(&folder),
        "--collection",
        "c1",
        "--bands",
        "data",
        "--lat",
        "46",
        "--lon",
        "11",
        "--start",
        "2021-06-01",
        "--end",
        "2021-06-07",
        "--edge-size",
        "8",
        "--resolution",
        "20",
        "--out",
        &s(&d.join("point")),
    ]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["shape"], json!([2, 1, 8, 8]), "{summary}");
    let files: Vec<String> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        Dataset::open(&files[0])
            .unwrap()
            .read_array::<u16>()
            .unwrap()[[0, 4, 4]],
        10
    );
    assert_eq!(
        Dataset::open(&files[1])
            .unwrap()
            .read_array::<u16>()
            .unwrap()[[0, 4, 4]],
        20
    );
    // Every read went to nginx (the catalog itself was read locally).
    assert!(nginx.access_log().contains("/public/i0.tif"));
}

/// `convert` to the spec layout sorts rows along the Hilbert curve unless
/// told otherwise (so searches, DuckDB and GDAL prune row groups and pages by
/// bbox); `--sort none` and the blob layout (which cannot sort) keep the
/// input order. Nothing is lost either way.
#[test]
fn convert_sorts_spec_parquet_along_hilbert_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A 4 x 4 grid of 1° tiles listed row by row: not the Hilbert order.
    let items: Vec<Value> = (0..16)
        .map(|k| {
            let (x, y) = (f64::from(k % 4), f64::from(k / 4));
            json!({"type": "Feature", "stac_version": "1.1.0", "id": format!("t{k:02}"),
                "bbox": [x, y, x + 1.0, y + 1.0],
                "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 1.0, y], [x + 1.0, y + 1.0], [x, y + 1.0], [x, y]]]},
                "properties": {"datetime": "2021-06-01T10:00:00Z"}, "assets": {}, "links": []})
        })
        .collect();
    let ndjson = d.join("items.ndjson");
    std::fs::write(
        &ndjson,
        items.iter().map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let ids_of = |parquet: &Path| -> Vec<String> {
        let out = stac_gdal(&["convert", &s(parquet), "-", "--to", "ndjson", "--quiet"]);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let input: Vec<String> = (0..16).map(|k| format!("t{k:02}")).collect();
    let write = |name: &str, extra: &[&str]| {
        let out = d.join(name);
        let mut args = vec![
            "convert".to_owned(),
            s(&ndjson),
            s(&out),
            "--quiet".to_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        stac_gdal(&args.iter().map(String::as_str).collect::<Vec<_>>());
        ids_of(&out)
    };
    let default = write("default.parquet", &[]);
    let hilbert = write("hilbert.parquet", &["--sort", "hilbert"]);
    assert_eq!(default, hilbert);
    assert_ne!(default, input, "the default order is not the input order");
    // Along the curve, consecutive tiles are neighbours (one step apart).
    let xy = |id: &str| {
        let k: i32 = id[1..].parse().unwrap();
        (k % 4, k / 4)
    };
    for pair in default.windows(2) {
        let ((x0, y0), (x1, y1)) = (xy(&pair[0]), xy(&pair[1]));
        assert_eq!((x0 - x1).abs() + (y0 - y1).abs(), 1, "{default:?}");
    }
    let mut sorted = default.clone();
    sorted.sort();
    assert_eq!(sorted, input, "every item is kept");
    assert_eq!(write("none.parquet", &["--sort", "none"]), input);
    assert_eq!(write("blob.parquet", &["--layout", "blob"]), input);
}
