//! Issue 15's wrong results and library messages through the `stac-gdal`
//! binary, on items shaped like the real catalogs (MODIS sinusoidal with
//! `proj:wkt2`, Landsat 15/30 m with MTL assets, ASTER VNIR, a DEM in
//! EPSG:4326, a UTM land-cover tile; `stac-cube/tests/common/shaped.rs`)
//! with real GeoTIFFs written by the test, and real HTTP (nginx) for
//! downloads.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use stac_gdal::raster;

#[path = "../../stac-cube/tests/common/shaped.rs"]
mod shaped;

fn stac_gdal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stac-gdal"))
        .args(args)
        .output()
        .expect("run stac-gdal")
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Exit 1 (runtime) or 2 (usage), one `stac-gdal: error:` line (or clap's
/// usage error) naming `needles`, no panic, no library type names.
fn fails(o: &Output, code: i32, needles: &[&str]) -> String {
    let e = err(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "stderr: {e}\nstdout: {}",
        out(o)
    );
    for n in needles {
        assert!(e.contains(n), "{n:?} missing from: {e}");
    }
    for leak in [
        "panicked",
        "CubeOptions",
        "strict(false)",
        "build_vrt_from_stac",
        "from_stac",
        "Some(",
        "OGR",
        "VrtOptions",
    ] {
        assert!(!e.contains(leak), "{leak:?} leaked into: {e}");
    }
    e
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// 1. Non-raster assets are refused by `cube`, `cube --plan`, `engine` and
///    `vrt` with one message; `download --rasters` skips them.
#[test]
fn non_raster_assets_are_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let items = shaped::write_items(dir.path(), "landsat.json", &shaped::landsat(dir.path()));
    let modis = shaped::write_items(dir.path(), "modis.json", &shaped::modis(dir.path()));
    let cube_out = dir.path().join("cube");
    for key in ["mtl.txt", "mtl.xml", "mtl.json", "tilejson"] {
        let asset = format!("red,{key}");
        let o = stac_gdal(&[
            "cube",
            p(&items),
            "--asset",
            &asset,
            "--plan",
            "--out",
            p(&cube_out),
        ]);
        fails(
            &o,
            1,
            &["not a raster band", key, "LC09_L2SP_044034_20220111_02_T1"],
        );
        let o = stac_gdal(&["cube", p(&items), "--asset", &asset, "--out", p(&cube_out)]);
        fails(&o, 1, &["not a raster band", key]);
        assert!(!cube_out.exists(), "no output for a refused cube");
        let o = stac_gdal(&["engine", p(&items), "--asset", key]);
        fails(&o, 1, &["not a raster band", key]);
        let vrt = dir.path().join(format!("{key}.vrt"));
        let o = stac_gdal(&["vrt", p(&items), "--asset", key, "-o", p(&vrt)]);
        fails(&o, 1, &["not a raster band", "--no-strict"]);
        assert!(!vrt.exists());
    }
    let o = stac_gdal(&[
        "cube",
        p(&modis),
        "--asset",
        "hdf",
        "--plan",
        "--out",
        p(&cube_out),
    ]);
    fails(&o, 1, &["not a raster band", "HDF4"]);
    let o = stac_gdal(&[
        "engine",
        p(&modis),
        "--asset",
        "hdf",
        "--item",
        "MOD09A1.A2021001.h35v08.061",
    ]);
    fails(&o, 1, &["HDF4"]);
    // The rasters themselves still work, 15 m and 30 m together.
    let o = stac_gdal(&[
        "cube",
        p(&items),
        "--asset",
        "red,pan",
        "--plan",
        "--out",
        p(&cube_out),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["bands"], json!(["red", "pan"]));
    assert_eq!(plan["grid"]["geotransform"][1], 15.0);
}

/// 1 and 2. `download --rasters` fetches the raster bands only (the same
/// rule); `download --include NOPE` fails before anything is written.
#[test]
fn download_selects_by_the_same_rule_and_refuses_unknown_keys() {
    let root = tempfile::tempdir().unwrap();
    let mut items = shaped::landsat(root.path());
    let server = stac_gdal_e2e::nginx::Nginx::start(root.path(), "tok");
    let prefix = root.path().canonicalize().unwrap();
    for a in items[0]["assets"].as_object_mut().unwrap().values_mut() {
        let href = a["href"].as_str().unwrap().to_owned();
        if let Some(name) = Path::new(&href)
            .file_name()
            .filter(|_| !href.starts_with("http"))
        {
            a["href"] = server
                .url(&format!("/public/{}", name.to_str().unwrap()))
                .into();
        } else {
            // The tilejson link: not on this server; never fetched.
            a["href"] = server.url("/public/missing/tilejson.json").into();
        }
    }
    let _ = prefix;
    let work = tempfile::tempdir().unwrap();
    let items_path = shaped::write_items(work.path(), "landsat.json", &items);
    let dest = work.path().join("dl");
    let o = stac_gdal(&["download", p(&items_path), p(&dest), "--rasters"]);
    assert!(o.status.success(), "{}", err(&o));
    let mut names: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".TIF"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "LC09_L1TP_044034_20220111_02_T1_B8.TIF",
            "LC09_L2SP_044034_20220111_02_T1_SR_B4.TIF"
        ]
    );
    assert!(!dest.join("LC09_MTL.txt").exists() && !dest.join("LC09_MTL.xml").exists());
    assert!(err(&o).contains("2 assets in"), "{}", err(&o));
    // An included key that is not a raster band while only rasters are wanted.
    let dest2 = work.path().join("dl2");
    let o = stac_gdal(&[
        "download",
        p(&items_path),
        p(&dest2),
        "--rasters",
        "--include",
        "mtl.txt",
    ]);
    fails(&o, 1, &["mtl.txt", "not a raster band"]);
    assert!(!dest2.join("LC09_L2SP_044034_20220111_02_T1.json").exists());
    // 2. An unknown key: an error, nothing written, no item JSON.
    let dest3 = work.path().join("dl3");
    let o = stac_gdal(&["download", p(&items_path), p(&dest3), "--include", "NOPE"]);
    fails(&o, 1, &["NOPE", "include"]);
    assert!(
        !dest3.join("LC09_L2SP_044034_20220111_02_T1.json").exists(),
        "no item JSON for a failed selection"
    );
    assert!(
        !dest3.exists() || std::fs::read_dir(&dest3).unwrap().next().is_none(),
        "nothing written"
    );
}

/// 3 and 4. An antimeridian `--bbox` plans about one degree of columns in
/// EPSG:4326 (not the world) and is a clear error on the sinusoidal grid;
/// a typo'd west > east is an error naming `--antimeridian`.
#[test]
fn antimeridian_and_swapped_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let modis = shaped::write_items(dir.path(), "modis.json", &shaped::modis(dir.path()));
    let cube_out = dir.path().join("cube");
    let o = stac_gdal(&[
        "cube",
        p(&modis),
        "--asset",
        "sur_refl_b01",
        "--bbox",
        "179.5,5,-179.5,10",
        "--crs",
        "EPSG:4326",
        "--resolution",
        "0.005",
        "--plan",
        "--out",
        p(&cube_out),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["grid"]["cols"], 200);
    assert_eq!(plan["grid"]["rows"], 1000);
    let o = stac_gdal(&[
        "cube",
        p(&modis),
        "--asset",
        "sur_refl_b01",
        "--bbox",
        "179.5,5,-179.5,10",
        "--resolution",
        "463.3127165279165",
        "--plan",
        "--out",
        p(&cube_out),
    ]);
    fails(&o, 1, &["cross the antimeridian", "EPSG:4326"]);
    // A swapped box is an error, naming the numbers and the flag...
    let dem = shaped::write_items(dir.path(), "dem.json", &shaped::dem(dir.path()));
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--bbox",
        "11.04,46.96,11.0,47.0",
        "--plan",
        "--out",
        p(&cube_out),
    ]);
    let e = fails(&o, 1, &["--bbox", "west 11.04 > east 11", "--antimeridian"]);
    assert_eq!(e.lines().count(), 1, "{e}");
    // ...in every subcommand that takes one.
    let vrt = dir.path().join("x.vrt");
    let o = stac_gdal(&[
        "vrt",
        p(&dem),
        "--asset",
        "data",
        "--bbox",
        "11.04,46.96,11.0,47.0",
        "-o",
        p(&vrt),
    ]);
    fails(&o, 1, &["west 11.04 > east 11", "--antimeridian"]);
    assert!(!vrt.exists());
    // ...unless asked for.
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--bbox",
        "11.04,46.96,11.0,47.0",
        "--antimeridian",
        "--plan",
        "--out",
        p(&cube_out),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!cube_out.exists(), "--plan writes nothing");
}

/// 5. `--max-items 0` is a usage error (exit 2) in `cube` and `search`.
#[test]
fn max_items_zero_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let dem = shaped::write_items(dir.path(), "dem.json", &shaped::dem(dir.path()));
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--max-items",
        "0",
        "--plan",
        "--out",
        "x",
    ]);
    fails(&o, 2, &["--max-items", "at least 1"]);
    let o = stac_gdal(&["search", p(&dem), "--max-items", "0"]);
    fails(&o, 2, &["--max-items", "at least 1"]);
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--max-items",
        "1",
        "--plan",
        "--out",
        "x",
    ]);
    assert!(o.status.success(), "{}", err(&o));
}

/// 6. `item --datetime` must be RFC 3339: no invalid item, exit 1.
#[test]
fn item_datetimes_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    shaped::dem(dir.path());
    let tif = dir
        .path()
        .join("Copernicus_DSM_COG_10_N46_00_E011_00_DEM.tif");
    for bad in ["notadate", "2021-13-45T00:00:00Z"] {
        let o = stac_gdal(&["item", p(&tif), "--id", "dem", "--datetime", bad]);
        fails(&o, 1, &["datetime", bad, "RFC 3339"]);
        assert!(o.stdout.is_empty(), "no item printed");
    }
    let o = stac_gdal(&[
        "item",
        p(&tif),
        "--id",
        "dem",
        "--datetime",
        "2021-04-22T00:00:00Z",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let item: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(item["properties"]["datetime"], "2021-04-22T00:00:00Z");
}

/// 7. `--asset VNIR.9` on a 3-band asset names the band count.
#[test]
fn band_beyond_the_asset_names_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let aster = shaped::write_items(dir.path(), "aster.json", &shaped::aster(dir.path()));
    let o = stac_gdal(&[
        "cube",
        p(&aster),
        "--asset",
        "VNIR.9",
        "--plan",
        "--out",
        "x",
    ]);
    fails(&o, 1, &["band 9 requested", "has 3 bands", "VNIR"]);
    let o = stac_gdal(&[
        "cube",
        p(&aster),
        "--asset",
        "VNIR.3",
        "--plan",
        "--out",
        "x",
    ]);
    assert!(o.status.success(), "{}", err(&o));
}

/// 8. `--plan` gives the type and the bytes in it (one header read when no
///    `data_type` is declared), and its `time` has a run's shape.
#[test]
fn plan_type_bytes_and_time_match_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let lc = shaped::write_items(dir.path(), "lc.json", &shaped::landcover(dir.path(), false));
    let out_dir = dir.path().join("cube");
    let o = stac_gdal(&[
        "cube",
        p(&lc),
        "--asset",
        "data",
        "--plan",
        "--out",
        p(&out_dir),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["dtype"], "uint8");
    assert_eq!(plan["output_bytes"], 1600);
    let o = stac_gdal(&[
        "cube",
        p(&lc),
        "--asset",
        "data",
        "--out",
        p(&out_dir),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let run: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["time"], run["time"]);
    assert!(plan["time"][0].is_object(), "{}", plan["time"]);
    assert_eq!(plan["dtype"], run["dtype"]);
    assert_eq!(plan["shape"], run["shape"]);
    assert_eq!(plan["grid"]["geotransform"], run["grid"]["geotransform"]);
}

/// 9. `--bbox` keeps the native lattice (1.13 m off): the subset's origin
///    is on the full cube's grid and the report prints the real offset.
#[test]
fn bbox_subset_is_aligned_with_the_full_cube() {
    let dir = tempfile::tempdir().unwrap();
    let lc = shaped::write_items(dir.path(), "lc.json", &shaped::landcover(dir.path(), true));
    let plan = |extra: &[&str]| -> Value {
        let mut args = vec!["cube", p(&lc), "--asset", "data", "--plan", "--out", "x"];
        args.extend_from_slice(extra);
        let o = stac_gdal(&args);
        assert!(o.status.success(), "{}", err(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let full = plan(&[]);
    let a = shaped::lonlat_of(300_062.0, 5_099_938.0, 32633);
    let b = shaped::lonlat_of(300_248.0, 5_099_752.0, 32633);
    let bbox = format!(
        "{},{},{},{}",
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[0].max(b[0]),
        a[1].max(b[1])
    );
    let sub = plan(&["--bbox", &bbox]);
    let f0 = full["grid"]["geotransform"][0].as_f64().unwrap();
    let s0 = sub["grid"]["geotransform"][0].as_f64().unwrap();
    let k = (s0 - f0) / 10.0;
    assert!((k - k.round()).abs() < 1e-6, "{s0} vs {f0}");
    let anchor = sub["grid"]["report"]["anchor"].as_str().unwrap();
    assert!(anchor.contains("offset by 1.13, 1.13"), "{anchor}");
    // --tap still asks for edges at multiples of the resolution.
    let tap = plan(&["--bbox", &bbox, "--tap"]);
    let t0 = tap["grid"]["geotransform"][0].as_f64().unwrap();
    assert_eq!(t0 % 10.0, 0.0);
}

/// 10. `--crs EPSG:4326 --resolution 60` warns on stderr.
#[test]
fn implausible_resolution_warns() {
    let dir = tempfile::tempdir().unwrap();
    let dem = shaped::write_items(dir.path(), "dem.json", &shaped::dem(dir.path()));
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--crs",
        "EPSG:4326",
        "--resolution",
        "60",
        "--plan",
        "--out",
        "x",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("stac-gdal: warning: resolution 60 is in degrees") && e.contains("EPSG:4326"),
        "{e}"
    );
    let o = stac_gdal(&["cube", p(&dem), "--asset", "data", "--plan", "--out", "x"]);
    assert!(!err(&o).contains("warning"), "{}", err(&o));
}

/// Library messages in the CLI's words: flags instead of option names, a
/// clear unknown CRS, non-items, preview formats, pixel limit, type names.
#[test]
fn messages_name_flags_not_library_internals() {
    let dir = tempfile::tempdir().unwrap();
    let dem_items = shaped::dem(dir.path());
    let dem = shaped::write_items(dir.path(), "dem.json", &dem_items);
    let cube_out = dir.path().join("cube");
    // Unknown CRS, both ways.
    for (crs, needle) in [("EPSG:99999", "unknown CRS"), ("nonsense", "unknown CRS")] {
        let o = stac_gdal(&[
            "cube",
            p(&dem),
            "--asset",
            "data",
            "--crs",
            crs,
            "--plan",
            "--out",
            "x",
        ]);
        fails(&o, 1, &["--crs", needle]);
        let vrt = dir.path().join("c.vrt");
        let o = stac_gdal(&[
            "vrt",
            p(&dem),
            "--asset",
            "data",
            "--crs",
            crs,
            "-o",
            p(&vrt),
        ]);
        fails(&o, 1, &["--crs", needle]);
    }
    // Nothing overlapping the box names --bbox.
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--bbox",
        "0,0,1,1",
        "--plan",
        "--out",
        "x",
    ]);
    fails(&o, 1, &["overlaps --bbox"]);
    // An unknown asset lists the keys present, without Rust list syntax.
    let o = stac_gdal(&["cube", p(&dem), "--asset", "nope", "--plan", "--out", "x"]);
    let e = fails(&o, 1, &["nope", "asset keys present: data"]);
    assert!(!e.contains("[\""), "{e}");
    // The pixel limit names --max-pixels.
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--max-pixels",
        "100",
        "--plan",
        "--out",
        "x",
    ]);
    fails(&o, 1, &["--max-pixels 100", "--resolution"]);
    // A VRT with a missing source names --no-strict, and the href once.
    let mut broken = dem_items.clone();
    broken.push(json!({"id": "gone", "bbox": [11.0, 46.95, 11.05, 47.0],
        "properties": {"datetime": "2021-04-22T00:00:00Z"},
        "assets": {"data": {"href": p(&dir.path().join("gone.tif")), "type": "image/tiff"}}}));
    let broken_path = shaped::write_items(dir.path(), "broken.json", &broken);
    let vrt = dir.path().join("b.vrt");
    let o = stac_gdal(&["vrt", p(&broken_path), "--asset", "data", "-o", p(&vrt)]);
    let e = fails(&o, 1, &["--no-strict", "gone"]);
    assert!(
        e.matches("gone.tif").count() <= 2,
        "the href is repeated: {e}"
    );
    assert!(!vrt.exists());
    // JSON that is not an item.
    let foo = dir.path().join("foo.json");
    std::fs::write(&foo, r#"{"foo": 1}"#).unwrap();
    let o = stac_gdal(&["meta", p(&foo), "--asset", "data"]);
    fails(&o, 1, &["not a STAC Item"]);
    let o = stac_gdal(&["cube", p(&foo), "--asset", "data", "--out", p(&cube_out)]);
    fails(&o, 1, &["not a STAC Item"]);
    // --preview p.jpg would have been PNG bytes: refused before any work.
    let jpg = dir.path().join("p.jpg");
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--out",
        p(&cube_out),
        "--preview",
        p(&jpg),
    ]);
    fails(&o, 1, &["--preview", ".png"]);
    assert!(!jpg.exists() && !cube_out.exists());
    // One type vocabulary: the raster extension's lower-case names, in
    // `vrt` as in `cube`; `vrt --dtype` fills a missing data_type without
    // opening the file.
    let lc_items = shaped::landcover(dir.path(), false);
    let lc = shaped::write_items(dir.path(), "lc.json", &lc_items);
    let vrt = dir.path().join("lc.vrt");
    let o = stac_gdal(&[
        "vrt",
        p(&lc),
        "--asset",
        "data",
        "-o",
        p(&vrt),
        "--dtype",
        "uint8",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["data_types"], json!(["uint8"]));
    assert_eq!(summary["opened"], 0);
    let o = stac_gdal(&[
        "vrt",
        p(&lc),
        "--asset",
        "data",
        "-o",
        p(&vrt),
        "--dtype",
        "uint99",
    ]);
    fails(&o, 1, &["--dtype", "uint99", "uint16"]);
    // meta: epsg from proj:code.
    let ls = shaped::write_items(dir.path(), "ls.json", &shaped::landsat(dir.path()));
    let o = stac_gdal(&["meta", p(&ls), "--asset", "red"]);
    assert!(o.status.success(), "{}", err(&o));
    let meta: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(meta["epsg"], 32610);
    // "1 item", not "1 items".
    let nd = dir.path().join("one.ndjson");
    let o = stac_gdal(&["convert", p(&dem), p(&nd)]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("1 item:"), "{}", err(&o));
}

/// Writing into a read-only folder: the OS error once, not twice.
#[test]
fn os_errors_are_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let dem = shaped::write_items(dir.path(), "dem.json", &shaped::dem(dir.path()));
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perm = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o555);
    std::fs::set_permissions(&ro, perm).unwrap();
    if std::fs::write(ro.join("probe"), b"x").is_ok() {
        // Running as root: permissions do not apply; nothing to check.
        return;
    }
    let o = stac_gdal(&[
        "cube",
        p(&dem),
        "--asset",
        "data",
        "--out",
        p(&ro.join("sub")),
    ]);
    let e = fails(&o, 1, &["Permission denied"]);
    assert_eq!(e.matches("Permission denied").count(), 1, "{e}");
}
