//! `stac-gdal cube -o X.zarr` end to end: the stores equal `odc.stac.load`
//! on the same items and grid (xarray and odc-stac in the `cube-peers`
//! venv, `tests/python/zarr_vs_odc.py`), GDAL's multidimensional API opens
//! them, N concurrent `--part K/N` processes write the store one process
//! writes, byte for byte, and a killed part (or a damaged chunk) is
//! repaired by a rerun that skips only verified chunks.
//!
//! Data: small COGs from the cube benchmark's generator
//! (`xtask/peers/cube/generate.py`, scenes of 256 px): a time stack with
//! mixed resolutions (B02/B03 at 10 m, B05 at 20 m), a solar-day mosaic of
//! overlapping tiles, and a 3-band asset.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use stac_gdal_e2e::{repo_root, stac_gdal_bin, venv_bin};

fn script() -> PathBuf {
    repo_root().join("tests/python/zarr_vs_odc.py")
}

/// The generated items and COGs (once per test binary).
fn data() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(venv_bin("cube-peers", "python"))
            .arg(script())
            .arg("generate")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "generate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn cube(args: &[&str]) -> Output {
    Command::new(stac_gdal_bin())
        .arg("cube")
        .args(args)
        .arg("-q")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stac-gdal failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file of a store: relative path → bytes (temporaries excluded).
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if !rel.contains(".stac-gdal-tmp-") {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}

/// Temporary files and folders (`.stac-gdal-tmp-*`) anywhere in a store.
fn temps(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(".stac-gdal-tmp-")
            {
                out.push(e.path());
            } else if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    out
}

fn assert_same_store(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    let ka: Vec<&String> = fa.keys().collect();
    let kb: Vec<&String> = fb.keys().collect();
    assert_eq!(ka, kb, "the stores hold different files");
    for (k, v) in &fa {
        assert!(
            v == &fb[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn compare_with_odc(store: &Path, items: &str, bands: &str, groupby: &str) -> serde_json::Value {
    compare_as(store, items, bands, groupby, &[])
}

fn compare_as(
    store: &Path,
    items: &str,
    bands: &str,
    groupby: &str,
    dtype: &[&str],
) -> serde_json::Value {
    let out = Command::new(venv_bin("cube-peers", "python"))
        .arg(script())
        .args(["compare", s(store)])
        .arg(data().join(items))
        .args([bands, groupby])
        .args(dtype)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{store:?} differs from odc-stac: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
fn zarr_stores_equal_odc_stac_loads_of_the_same_items() {
    let tmp = tempfile::tempdir().unwrap();
    // Time stack, mixed resolutions; small chunks, so edge chunks and
    // several blocks per band are exercised.
    let stack = tmp.path().join("stack.zarr");
    let summary = ok(&cube(&[
        s(&data().join("stack.json")),
        "--asset",
        "B02,B03,B05",
        "-o",
        s(&stack),
        "--chunks",
        "1,100,96",
    ]));
    assert_eq!(summary["zarr"]["chunks"], serde_json::json!([1, 100, 96]));
    assert_eq!(summary["zarr"]["units_total"], 4 * 3 * 3);
    assert_eq!(summary["zarr"]["finalized"], true);
    let r = compare_with_odc(&stack, "stack.json", "B02,B03,B05", "none");
    assert_eq!(r["shape"], serde_json::json!([4, 256, 256]));
    assert_eq!(r["epsg"], 32632);
    assert_eq!(r["time_units"], "seconds since 2023-01-01 10:30:00");
    // A float cube (odc-stac's dtype=float32): NaN fill_value, nodata 0.
    let float = tmp.path().join("float.zarr");
    ok(&cube(&[
        s(&data().join("stack.json")),
        "--asset",
        "B02,B05",
        "--dtype",
        "float32",
        "-o",
        s(&float),
    ]));
    compare_as(&float, "stack.json", "B02,B05", "none", &["float32"]);
    // LZ4 chunks (numcodecs' framing) read by zarr-python as well.
    let lz4 = tmp.path().join("lz4.zarr");
    ok(&cube(&[
        s(&data().join("stack.json")),
        "--asset",
        "B02,B05",
        "--codec",
        "lz4",
        "-o",
        s(&lz4),
    ]));
    compare_with_odc(&lz4, "stack.json", "B02,B05", "none");
    // Solar-day mosaic of overlapping tiles (first valid pixel wins).
    let mosaic = tmp.path().join("mosaic.zarr");
    ok(&cube(&[
        s(&data().join("mosaic.json")),
        "--asset",
        "B02,B03,B05",
        "--groupby",
        "solar_day",
        "-o",
        s(&mosaic),
    ]));
    let r = compare_with_odc(&mosaic, "mosaic.json", "B02,B03,B05", "solar_day");
    assert_eq!(r["shape"], serde_json::json!([2, 256, 448]));
    // A 3-band asset: odc-stac's visual.N are our visual.<eo:bands name>.
    let rgb = tmp.path().join("rgb.zarr");
    ok(&cube(&[
        s(&data().join("multiband.json")),
        "--asset",
        "visual",
        "-o",
        s(&rgb),
    ]));
    let r = compare_with_odc(&rgb, "multiband.json", "visual.1,visual.2,visual.3", "none");
    assert_eq!(r["variables"]["visual.1"], "visual.red");
    let attrs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rgb.join("visual.red/.zattrs")).unwrap()).unwrap();
    assert_eq!(attrs["common_name"], "red");
    assert_eq!(attrs["wavelength"], 0.665);
    // GDAL's multidimensional API (Zarr driver) opens the store and reads
    // the zstd chunks: dimensions, the time unit and the pixel statistics.
    let info = Command::new("gdalmdiminfo")
        .args([s(&stack), "-array", "B05", "-stats"])
        .output()
        .unwrap();
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["dimension_size"], serde_json::json!([4, 256, 256]));
    assert_eq!(info["attributes"]["nodata"], 0);
    assert_eq!(info["attributes"]["grid_mapping"], "spatial_ref");
    assert!(
        info["statistics"]["max"].as_f64().unwrap() > 2000.0,
        "{info}"
    );
    let group = Command::new("gdalmdiminfo")
        .arg(s(&stack))
        .output()
        .unwrap();
    let group: serde_json::Value = serde_json::from_slice(&group.stdout).unwrap();
    assert_eq!(group["driver"], "Zarr");
    assert_eq!(
        group["arrays"]["time"]["unit"],
        "seconds since 2023-01-01 10:30:00"
    );
}

fn same_chunks(blosc: &Path, raw: &Path) -> serde_json::Value {
    let out = Command::new(venv_bin("cube-peers", "python"))
        .arg(script())
        .args(["same-chunks", s(blosc), s(raw)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "numcodecs' Blosc decodes {blosc:?} differently: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

/// Zarr v3 (sharded, consolidated root `zarr.json`) and blosc stores,
/// read by xarray through zarr-python 3 and numcodecs, equal odc-stac.
#[test]
fn zarr_v3_sharded_and_blosc_stores_equal_odc_stac_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = data().join("stack.json");
    // v3, inner chunks 50 x 48 in shards of 100 x 96: edge shards hold
    // inner chunks wholly outside the 256 x 256 grid (not stored).
    let v3 = tmp.path().join("v3.zarr");
    let summary = ok(&cube(&[
        s(&stack),
        "--asset",
        "B02,B03,B05",
        "-o",
        s(&v3),
        "--zarr-format",
        "3",
        "--chunks",
        "1,50,48",
        "--shards",
        "1,100,96",
    ]));
    assert_eq!(summary["zarr"]["zarr_format"], 3);
    assert_eq!(summary["zarr"]["shards"], serde_json::json!([1, 100, 96]));
    assert_eq!(summary["zarr"]["units_total"], 4 * 3 * 3);
    let r = compare_with_odc(&v3, "stack.json", "B02,B03,B05", "none");
    assert_eq!(r["shape"], serde_json::json!([4, 256, 256]));
    assert_eq!(r["time_units"], "seconds since 2023-01-01 10:30:00");
    assert!(v3.join("zarr.json").exists() && v3.join("B05/c/3/2/2").exists());
    assert!(!v3.join(".zmetadata").exists() && !v3.join("B05/.zattrs").exists());
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(v3.join("zarr.json")).unwrap()).unwrap();
    let b05 = &root["consolidated_metadata"]["metadata"]["B05"];
    assert_eq!(
        b05["dimension_names"],
        serde_json::json!(["time", "y", "x"])
    );
    assert_eq!(b05["codecs"][0]["name"], "sharding_indexed");
    // The float cube (NaN fill), v3 with blosc-lz4 and default sharding.
    let float = tmp.path().join("float3.zarr");
    ok(&cube(&[
        s(&stack),
        "--asset",
        "B02,B05",
        "--dtype",
        "float32",
        "-o",
        s(&float),
        "--zarr-format",
        "3",
        "--codec",
        "blosc-lz4",
    ]));
    compare_as(&float, "stack.json", "B02,B05", "none", &["float32"]);
    // A solar-day mosaic and a 3-band uint8 asset in v3 (blosc-zstd).
    let mosaic = tmp.path().join("mosaic3.zarr");
    ok(&cube(&[
        s(&data().join("mosaic.json")),
        "--asset",
        "B02,B03,B05",
        "--groupby",
        "solar_day",
        "-o",
        s(&mosaic),
        "--zarr-format",
        "3",
        "--chunks",
        "1,64,64",
        "--codec",
        "blosc-zstd",
    ]));
    compare_with_odc(&mosaic, "mosaic.json", "B02,B03,B05", "solar_day");
    let rgb = tmp.path().join("rgb3.zarr");
    ok(&cube(&[
        s(&data().join("multiband.json")),
        "--asset",
        "visual",
        "-o",
        s(&rgb),
        "--zarr-format",
        "3",
    ]));
    compare_with_odc(&rgb, "multiband.json", "visual.1,visual.2,visual.3", "none");
    // Blosc in v2: numcodecs' c-blosc decodes every chunk to the bytes of
    // an uncompressed store, and xarray reads the store equal to odc-stac.
    let common = ["--asset", "B02,B05", "--chunks", "1,100,96"];
    let raw = tmp.path().join("raw.zarr");
    let mut a = vec![s(&stack), "-o", s(&raw), "--codec", "none"];
    a.extend(common);
    ok(&cube(&a));
    for codec in ["blosc-lz4", "blosc-zstd:9", "blosc-lz4:noshuffle"] {
        let b = tmp.path().join(format!("{}.zarr", codec.replace(':', "-")));
        let mut a = vec![s(&stack), "-o", s(&b), "--codec", codec];
        a.extend(common);
        ok(&cube(&a));
        let r = same_chunks(&b, &raw);
        assert_eq!(r["chunks"], 2 * 4 * 3 * 3, "{codec}: {r}");
        if codec == "blosc-lz4" {
            compare_with_odc(&b, "stack.json", "B02,B05", "none");
        }
    }
}

#[test]
fn four_concurrent_parts_write_the_store_one_process_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let items = data().join("stack.json");
    let common = [
        "--asset",
        "B02,B03,B05",
        "--chunks",
        "1,64,64",
        "--threads",
        "1",
    ];
    let one = tmp.path().join("one.zarr");
    let mut args = vec![s(&items), "-o", s(&one)];
    args.extend(common);
    ok(&cube(&args));
    let split = tmp.path().join("split.zarr");
    let children: Vec<_> = (1..=4)
        .map(|k| {
            Command::new(stac_gdal_bin())
                .arg("cube")
                .args([
                    s(&items),
                    "-o",
                    s(&split),
                    "-q",
                    "--part",
                    &format!("{k}/4"),
                ])
                .args(common)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut finalized = 0;
    for c in children {
        let v = ok(&c.wait_with_output().unwrap());
        assert_eq!(v["zarr"]["units_in_part"], 16);
        assert_eq!(v["zarr"]["units_written"], 16);
        finalized += usize::from(v["zarr"]["finalized"] == true);
    }
    assert!(
        finalized >= 1,
        "the last part to finish completes the store"
    );
    assert_same_store(&one, &split);
    // --finalize alone on the complete store is idempotent.
    let mut args = vec![s(&items), "-o", s(&split), "--finalize"];
    args.extend(common);
    ok(&cube(&args));
    assert_same_store(&one, &split);
}

/// v3: a shard is the unit of a part; 4 concurrent parts write the
/// store one process writes, and a damaged shard is rewritten alone.
#[test]
fn four_concurrent_v3_parts_write_the_sharded_store_one_process_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let items = data().join("stack.json");
    let common = [
        "--asset",
        "B02,B05",
        "--zarr-format",
        "3",
        "--chunks",
        "1,32,32",
        "--shards",
        "1,64,128",
        "--threads",
        "1",
    ];
    let one = tmp.path().join("one.zarr");
    let mut args = vec![s(&items), "-o", s(&one)];
    args.extend(common);
    let v = ok(&cube(&args));
    assert_eq!(v["zarr"]["units_total"], 4 * 4 * 2);
    let split = tmp.path().join("split.zarr");
    let children: Vec<_> = (1..=4)
        .map(|k| {
            Command::new(stac_gdal_bin())
                .arg("cube")
                .args([s(&items), "-o", s(&split), "-q"])
                .args(["--part", &format!("{k}/4")])
                .args(common)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let v = ok(&c.wait_with_output().unwrap());
        assert_eq!(v["zarr"]["units_written"], 8);
    }
    assert_same_store(&one, &split);
    // One byte of one shard changed: found by its checksum, rewritten.
    let shard = split.join("B05/c/2/1/0");
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes[3] ^= 0x5a;
    std::fs::write(&shard, &bytes).unwrap();
    let mut args = vec![s(&items), "-o", s(&split), "--part", "1/1"];
    args.extend(common);
    let v = ok(&cube(&args));
    assert_eq!(v["zarr"]["units_written"], 1, "{v}");
    assert_same_store(&one, &split);
    // Another shard shape into the same store is refused, never mixed.
    let mut args = vec![s(&items), "-o", s(&split), "--part", "1/1"];
    args.extend(common);
    let i = args.iter().position(|a| *a == "1,64,128").unwrap();
    args[i] = "1,64,64";
    let out = cube(&args);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds another cube"));
}

#[test]
fn a_killed_part_or_a_damaged_chunk_is_repaired_by_a_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let items = data().join("stack.json");
    let common = [
        "--asset",
        "B02,B03,B05",
        "--chunks",
        "1,32,32",
        "--threads",
        "1",
    ];
    let reference = tmp.path().join("ref.zarr");
    let mut args = vec![s(&items), "-o", s(&reference)];
    args.extend(common);
    ok(&cube(&args));
    // A part killed (SIGKILL) once some of its units are written.
    let store = tmp.path().join("killed.zarr");
    let units = store.join(".stac-gdal/units");
    let mut child = Command::new(stac_gdal_bin())
        .arg("cube")
        .args([s(&items), "-o", s(&store), "-q", "--part", "1/1"])
        .args(common)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let manifests = || {
        std::fs::read_dir(&units).map_or(0, |d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json"))
            })
            .count()
        })
    };
    while manifests() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "no unit written in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Not a store that looks complete: no group metadata yet.
    assert!(
        !store.join(".zmetadata").exists(),
        "killed after the end; make the cube larger"
    );
    assert!(!store.join(".zgroup").exists());
    // The killed run's temporary folder is left (SIGKILL cannot be
    // caught)...
    assert!(
        !temps(&store).is_empty(),
        "no temporary folder after SIGKILL"
    );
    let done = manifests();
    let mut args = vec![s(&items), "-o", s(&store), "--part", "1/1"];
    args.extend(common);
    let v = ok(&cube(&args));
    // Exactly the units whose manifest was written before the kill are
    // skipped (each verified chunk by chunk), the rest written.
    assert_eq!(v["zarr"]["units_skipped"], done, "{v}");
    assert_eq!(v["zarr"]["units_written"], 256 - done, "{v}");
    assert_eq!(v["zarr"]["finalized"], true);
    // ... and the rerun removes it (its process is gone) and its own.
    assert_eq!(temps(&store), Vec::<PathBuf>::new());
    assert_same_store(&reference, &store);
    // A chunk damaged after the fact (same size, one byte changed) is
    // found by its checksum and rewritten; nothing else is.
    let chunk = store.join("B03/2.3.4");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    std::fs::write(&chunk, &bytes).unwrap();
    let v = ok(&cube(&args));
    assert_eq!(v["zarr"]["units_written"], 1, "{v}");
    assert_same_store(&reference, &store);
    // Another cube into the same store is refused, never mixed.
    let mut other = vec![
        s(&items),
        "-o",
        s(&store),
        "--part",
        "1/1",
        "--asset",
        "B02",
    ];
    other.extend(["--chunks", "1,32,32"]);
    let out = cube(&other);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds another cube"), "{err}");
    assert_same_store(&reference, &store);
}

/// Every object under `prefix` in the SeaweedFS bucket, read back through
/// the same signed client (relative key → bytes).
fn s3_objects(server: &stac_gdal_e2e::seaweed::Seaweed, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    use stac_gdal::cube::zarr::{S3Store, Store};
    let store = S3Store::new(
        &format!("s3://{}/{prefix}", stac_gdal_e2e::seaweed::BUCKET),
        &format!("http://{}", server.endpoint()),
        aws_signer(server, stac_gdal_e2e::seaweed::SECRET_KEY),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    store
        .list("")
        .unwrap()
        .into_iter()
        .map(|k| {
            let b = store.get(&k).unwrap().unwrap();
            (k, b)
        })
        .collect()
}

fn aws_signer(
    server: &stac_gdal_e2e::seaweed::Seaweed,
    secret: &str,
) -> std::sync::Arc<dyn stac_gdal::signers::Signer> {
    use stac_gdal::signers::{AwsCredentials, AwsOptions, AwsRequesterPaysSigner, HostList};
    std::sync::Arc::new(AwsRequesterPaysSigner::with_options(
        Some(stac_gdal_e2e::seaweed::REGION),
        AwsOptions::default()
            .with_credentials(AwsCredentials::new(
                stac_gdal_e2e::seaweed::ACCESS_KEY,
                secret,
            ))
            .with_hosts(HostList::new([server.endpoint()])),
    ))
}

#[test]
fn an_s3_store_through_sigv4_equals_the_local_store_in_one_or_four_parts() {
    use stac_gdal_e2e::seaweed::{ACCESS_KEY, BUCKET, SECRET_KEY, Seaweed};
    let server = Seaweed::start();
    let tmp = tempfile::tempdir().unwrap();
    let items = data().join("stack.json");
    let common = [
        "--asset",
        "B02,B03,B05",
        "--chunks",
        "1,128,128",
        "--threads",
        "1",
    ];
    let local = tmp.path().join("local.zarr");
    let mut args = vec![s(&items), "-o", s(&local)];
    args.extend(common);
    ok(&cube(&args));
    let endpoint = format!("http://{}", server.endpoint());
    let run = |url: &str, extra: &[&str], secret: &str| {
        Command::new(stac_gdal_bin())
            .arg("cube")
            .args([
                s(&items),
                "-o",
                url,
                "-q",
                "--signer",
                "aws",
                "--host",
                &server.endpoint(),
            ])
            .args(["--s3-endpoint", &endpoint])
            .args(common)
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // One process.
    let v = ok(&run(&format!("s3://{BUCKET}/one.zarr"), &[], SECRET_KEY)
        .wait_with_output()
        .unwrap());
    assert_eq!(v["zarr"]["finalized"], true);
    let one = s3_objects(&server, "one.zarr");
    assert_eq!(
        one,
        files(&local),
        "the S3 store differs from the local one"
    );
    // Four concurrent parts.
    let parts: Vec<_> = (1..=4)
        .map(|k| {
            run(
                &format!("s3://{BUCKET}/split.zarr"),
                &["--part", &format!("{k}/4")],
                SECRET_KEY,
            )
        })
        .collect();
    for p in parts {
        ok(&p.wait_with_output().unwrap());
    }
    assert_eq!(s3_objects(&server, "split.zarr"), one);
    // A sharded v3 store on S3, in two parts, equals the local one.
    let v3 = ["--zarr-format", "3", "--shards", "1,256,256"];
    let local3 = tmp.path().join("local3.zarr");
    let mut args = vec![s(&items), "-o", s(&local3)];
    args.extend(common);
    args.extend(v3);
    ok(&cube(&args));
    let parts: Vec<_> = (1..=2)
        .map(|k| {
            let part = format!("{k}/2");
            let mut extra = vec!["--part", part.as_str()];
            extra.extend(v3);
            run(&format!("s3://{BUCKET}/v3.zarr"), &extra, SECRET_KEY)
        })
        .collect();
    for p in parts {
        ok(&p.wait_with_output().unwrap());
    }
    assert_eq!(
        s3_objects(&server, "v3.zarr"),
        files(&local3),
        "the S3 v3 store differs from the local one"
    );
    // A wrong secret: the server refuses the signature, the CLI says so
    // (no secret in the message) and writes nothing.
    let out = run(
        &format!("s3://{BUCKET}/denied.zarr"),
        &[],
        "wrong-secret-0000000000000000000000000000",
    )
    .wait_with_output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("403") && err.contains("SignatureDoesNotMatch"),
        "{err}"
    );
    assert!(
        !err.contains("wrong-secret") && !err.contains(SECRET_KEY),
        "{err}"
    );
    assert!(s3_objects(&server, "denied.zarr").is_empty());
}

/// Ctrl-C (SIGINT) during an in-place `--part` run: exit 130, no
/// temporary file or folder left in the store, no metadata; the rerun
/// completes it.
#[test]
fn ctrl_c_during_a_part_run_leaves_no_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let items = data().join("stack.json");
    let store = tmp.path().join("parts.zarr");
    let common = [
        "--asset",
        "B02,B03,B05",
        "--chunks",
        "1,32,32",
        "--threads",
        "2",
        "--part",
        "1/1",
    ];
    let child = Command::new(stac_gdal_bin())
        .arg("cube")
        .args([s(&items), "-o", s(&store), "-q"])
        .args(common)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let units = store.join(".stac-gdal/units");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_dir(&units).map_or(0, Iterator::count) < 3 {
        assert!(std::time::Instant::now() < deadline, "no unit in 60 s");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(
        !temps(&store).is_empty(),
        "the run has its temporary folder"
    );
    // SAFETY: a plain kill(2) on our own child's PID.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(temps(&store), Vec::<PathBuf>::new());
    assert!(
        !store.join(".zmetadata").exists(),
        "finished before the signal"
    );
    let mut args = vec![s(&items), "-o", s(&store)];
    args.extend(common);
    let v = ok(&cube(&args));
    assert_eq!(v["zarr"]["finalized"], true);
    assert_eq!(temps(&store), Vec::<PathBuf>::new());
}

#[test]
fn a_signal_mid_write_leaves_no_store_and_bad_flags_fail_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let items = data().join("stack.json");
    // SIGTERM while the staged store is being written (1 thread, small
    // chunks: 256 blocks): exit 143, no store, no staging folder.
    let store = tmp.path().join("cube.zarr");
    let staging = tmp.path().join(".stac-gdal-staging-cube.zarr");
    let child = Command::new(stac_gdal_bin())
        .arg("cube")
        .args([s(&items), "-o", s(&store), "-q", "--asset", "B02,B03,B05"])
        .args(["--chunks", "1,32,32", "--threads", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let units = staging.join("new/.stac-gdal/units");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_dir(&units).map_or(0, Iterator::count) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no block written in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // SAFETY: a plain kill(2) on our own child's PID.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!store.exists(), "a store appeared after SIGTERM");
    assert!(!staging.exists(), "the staging folder was left");
    // Bad flags: one line naming the flag, nothing created.
    for (args, says) in [
        (vec!["--chunks", "0,1,1"], "--chunks"),
        (vec!["--chunks", "1,2"], "--chunks"),
        (vec!["--codec", "gzip"], "--codec"),
        (vec!["--part", "5/4"], "--part"),
        (vec!["--zarr-format", "4"], "--zarr-format"),
        (vec!["--shards", "1,64,64"], "--shards"),
        (vec!["--zarr-format", "3", "--codec", "lz4"], "--codec"),
        (vec!["--codec", "blosc-lz4:12"], "--codec"),
        (
            vec![
                "--zarr-format",
                "3",
                "--chunks",
                "1,32,32",
                "--shards",
                "1,48,64",
            ],
            "shards",
        ),
    ] {
        let mut a = vec![s(&items), "--asset", "B02", "-o", s(&store)];
        a.extend(args.iter().copied());
        let out = cube(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !store.exists() && !staging.exists(),
            "{args:?} created something"
        );
    }
    let dir = tmp.path().join("tifs");
    let out = cube(&[
        s(&items),
        "--asset",
        "B02",
        "-o",
        s(&dir),
        "--chunks",
        "1,8,8",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("for a Zarr output"));
    assert!(!dir.exists());
    // Zarr flags on a NetCDF output are refused too, before any work.
    let nc = tmp.path().join("cube.nc");
    let out = cube(&[s(&items), "--asset", "B02", "-o", s(&nc), "--codec", "lz4"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("for a Zarr output"));
    assert!(!nc.exists());
}

/// A link planted at the staging name of a Zarr or NetCDF output (or at
/// the staged store's folder inside a staging folder a killed run left)
/// is refused or removed, never followed: nothing is written through it.
#[test]
fn a_link_planted_at_the_staging_name_is_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let items = data().join("stack.json");
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let nothing_outside = || std::fs::read_dir(&outside).unwrap().count() == 0;
    for name in ["cube.zarr", "cube.nc"] {
        let out = tmp.path().join(name);
        let staging = tmp.path().join(format!(".stac-gdal-staging-{name}"));
        std::os::unix::fs::symlink(&outside, &staging).unwrap();
        let o = cube(&[s(&items), "--asset", "B02", "-o", s(&out)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}: written through a link");
        assert!(
            err.contains("link") || err.contains("not a folder"),
            "{name}: {err}"
        );
        assert!(
            nothing_outside(),
            "{name}: something was written through the link"
        );
        assert!(!out.exists(), "{name}: an output appeared");
        std::fs::remove_file(&staging).unwrap();
    }
    // A staging folder left by a killed run, with a link at the store's
    // name inside it: the next run removes the link, writes its own store.
    let out = tmp.path().join("again.zarr");
    let staging = tmp.path().join(".stac-gdal-staging-again.zarr");
    std::fs::create_dir(&staging).unwrap();
    std::os::unix::fs::symlink(&outside, staging.join("new")).unwrap();
    ok(&cube(&[s(&items), "--asset", "B02", "-o", s(&out)]));
    assert!(nothing_outside(), "written through the planted link");
    assert!(out.join(".zmetadata").is_file());
    assert!(!staging.exists());
}
