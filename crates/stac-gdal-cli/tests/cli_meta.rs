//! `stac-gdal meta | engine | href` as a user runs them: real files, real process.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::process::{Command, Output};

fn stac_gdal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stac-gdal"))
        .args(args)
        .output()
        .expect("run stac-gdal")
}

fn fixture(name: &str) -> String {
    stac_fixtures::stac_item_file(name).display().to_string()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}, stderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn meta_prints_the_seed_metadata_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("item.json");
    std::fs::write(
        &file,
        r#"{"id": "x", "properties": {"proj:epsg": 32633}, "assets": {"B04": {"href": "s3://bucket/B04.tif",
        "proj:shape": [10980, 10980], "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300040.0],
        "raster:bands": [{"nodata": 0, "scale": 0.0001}], "eo:bands": [{"name": "B04", "common_name": "red"}]}}}"#,
    )
    .unwrap();
    let out: serde_json::Value = serde_json::from_str(&stdout(&stac_gdal(&[
        "meta",
        file.to_str().unwrap(),
        "--asset",
        "B04",
    ])))
    .unwrap();
    assert_eq!(out["crs"], "EPSG:32633");
    assert_eq!(
        out["geotransform"],
        serde_json::json!([600000.0, 10.0, 0.0, 5300040.0, 0.0, -10.0])
    );
    assert_eq!(out["band_names"], serde_json::json!(["B04"]));
}

#[test]
fn meta_on_a_feature_collection_lists_every_item_or_picks_one() {
    let file = fixture("earthsearch-sentinel-2-c1-l2a.json");
    let items = stac_gdal::parse_items(&std::fs::read_to_string(&file).unwrap()).unwrap();
    // Without --item: NDJSON, one line per item, each the metadata of that item's asset.
    let listed = stdout(&stac_gdal(&["meta", &file, "--asset", "red"]));
    let lines: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10);
    for (line, item) in lines.iter().zip(&items) {
        assert_eq!(line["item"], stac_gdal::meta::item_id(item));
        assert_eq!(line["asset"], "red");
        let want =
            serde_json::to_value(stac_gdal::read_extension_metadata(item, Some("red")).unwrap())
                .unwrap();
        assert_eq!(line["meta"], want);
    }
    // Without --asset either: one line per item and asset.
    let all = stdout(&stac_gdal(&["meta", &file]));
    let assets: usize = items
        .iter()
        .map(|i| i["assets"].as_object().unwrap().len())
        .sum();
    assert_eq!(all.lines().count(), assets);
    let id = stac_gdal::meta::item_id(&items[3]).to_owned();
    let out: serde_json::Value = serde_json::from_str(&stdout(&stac_gdal(&[
        "meta", &file, "--asset", "red", "--item", &id,
    ])))
    .unwrap();
    let want =
        serde_json::to_value(stac_gdal::read_extension_metadata(&items[3], Some("red")).unwrap())
            .unwrap();
    assert_eq!(out, want);
}

#[test]
fn engine_and_href_on_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("items.ndjson");
    std::fs::write(
        &file,
        "{\"id\": \"a\", \"assets\": {\"t\": {\"href\": \"s3://b/t.nc\", \"type\": \"application/x-netcdf\"}}}\n\
         {\"id\": \"b\", \"assets\": {\"d\": {\"href\": \"./d.tif\"}}, \"links\": [{\"rel\": \"self\", \"href\": \"https://h/c/b.json\"}]}\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    assert_eq!(
        stdout(&stac_gdal(&["engine", f, "--asset", "t", "--item", "a"])).trim(),
        "netcdf"
    );
    assert_eq!(
        stdout(&stac_gdal(&["href", f, "--asset", "t", "--item", "a"])).trim(),
        "s3://b/t.nc"
    );
    assert_eq!(
        stdout(&stac_gdal(&[
            "href", f, "--asset", "t", "--item", "a", "--gdal"
        ]))
        .trim(),
        "/vsis3/b/t.nc"
    );
    assert_eq!(
        stdout(&stac_gdal(&["href", f, "--asset", "d", "--item", "b"])).trim(),
        "https://h/c/d.tif"
    );
    assert_eq!(
        stdout(&stac_gdal(&[
            "href", f, "--asset", "d", "--item", "b", "--gdal"
        ]))
        .trim(),
        "/vsicurl/https://h/c/d.tif"
    );
}

#[test]
fn errors_name_item_asset_and_field_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(&file, r#"{"id": "S2_bad", "assets": {"B04": {"href": "x.tif", "proj:transform": [1, 0, 0, 0, -1]}}}"#)
        .unwrap();
    let f = file.to_str().unwrap();
    let o = stac_gdal(&["meta", f, "--asset", "B04"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("S2_bad") && err.contains("B04") && err.contains("proj:transform"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let o = stac_gdal(&["engine", f, "--asset", "B99"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("item 'S2_bad', asset 'B99': no such asset; available: [B04]")
    );

    std::fs::write(&file, r#"{"id": "t", "assets": {"#).unwrap();
    let o = stac_gdal(&["engine", f, "--asset", "x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid JSON"));
}

#[test]
fn help_lists_every_subcommand_and_each_has_an_example() {
    let help = stdout(&stac_gdal(&["--help"]));
    let expected = [
        "meta",
        "engine",
        "href",
        "convert",
        "sign",
        "env",
        "vrt",
        "item",
        "cube",
        "point",
        "search",
        "download",
        "completions",
    ];
    let listed: Vec<(String, String)> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            let l = l.trim();
            let (name, desc) = l.split_once(char::is_whitespace)?;
            Some((name.to_owned(), desc.trim().to_owned()))
        })
        .filter(|(n, _)| n != "help")
        .collect();
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, expected, "{help}");
    for (name, desc) in &listed {
        assert!(
            desc.len() > 20,
            "{name} needs a one-line description: {desc:?}"
        );
        let sub = stdout(&stac_gdal(&[name, "--help"]));
        assert!(
            sub.contains("Example") && sub.contains(&format!("stac-gdal {name} ")),
            "`stac-gdal {name} --help` shows an example:\n{sub}"
        );
    }
}
