//! `stac-gdal cube -o X.zarr` end to end: the stores equal `odc.stac.load`
//! on the same items and grid (xarray and odc-stac in the `cube-peers`
//! venv, `tests/py/zarr_vs_odc.py`), GDAL's multidimensional API opens
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
    repo_root().join("tests/py/zarr_vs_odc.py")
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
    let done = manifests();
    let mut args = vec![s(&items), "-o", s(&store), "--part", "1/1"];
    args.extend(common);
    let v = ok(&cube(&args));
    // Exactly the units whose manifest was written before the kill are
    // skipped (each verified chunk by chunk), the rest written.
    assert_eq!(v["zarr"]["units_skipped"], done, "{v}");
    assert_eq!(v["zarr"]["units_written"], 256 - done, "{v}");
    assert_eq!(v["zarr"]["finalized"], true);
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
