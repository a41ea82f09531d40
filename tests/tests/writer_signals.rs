//! `stac-gdal convert` and `stac-gdal cube --out` interrupted by `SIGINT`,
//! `SIGTERM` and `SIGKILL` (sent by PID) at two points each, reruns with
//! fewer timesteps, and bad output paths (issue 14, findings 5–8).
//!
//! - `convert` (NDJSON of real Sentinel-2 items made unique → GeoParquet,
//!   enough to spill; one file, and hive partitions): signalled while items
//!   spill, and while the Parquet file is being written.
//! - `cube --out` (GeoTIFF sources written here with GDAL, many timesteps,
//!   over a previous output of two timesteps): signalled when the first
//!   timestep file appears, and when the last one does.
//! - `cube -o X.nc` (the same sources, over a previous `X.nc`): signalled
//!   while the NetCDF file is being written.
//!
//! After `SIGINT`/`SIGTERM` the process exits 130/143 and no temp file is
//! left in or beside the destination; the output is absent (convert) or the
//! previous output, whole (cube), or, when the signal came after the swap,
//! the complete new one. After any of the three, a rerun gives byte for
//! byte the output of an uninterrupted run, with nothing else beside it.
//! Bad output paths (`--preview`, `convert`'s OUTPUT) fail before any
//! input is read, and write nothing.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ndarray::Array2;
use serde_json::{Value, json};
use stac_gdal::raster::{Dataset, GridSpec};
use stac_gdal_e2e::shared_dir;

fn wait_until(child: &mut Child, what: &str, secs: u64, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if ok() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("timed out waiting for {what}");
}

/// Every file under `dir` (relative path → bytes); hidden ones included.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

/// Names directly in `dir`, hidden ones included, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The files of a (possibly missing) folder `dir` whose names satisfy `f`,
/// with their sizes.
fn files_in(dir: &Path, f: impl Fn(&str) -> bool) -> Vec<(String, u64)> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    let len = e.metadata().ok()?.len();
                    f(&n).then_some((n, len))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Clone, Copy, Debug)]
enum Signal {
    Int,
    Term,
    Kill,
}

impl Signal {
    fn send(self, pid: u32) {
        let name = match self {
            Signal::Int => "INT",
            Signal::Term => "TERM",
            Signal::Kill => "KILL",
        };
        let sent = Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -s {name} {pid}");
    }

    fn code(self) -> Option<i32> {
        match self {
            Signal::Int => Some(130),
            Signal::Term => Some(143),
            Signal::Kill => None,
        }
    }
}

const SIGNALS: [Signal; 3] = [Signal::Int, Signal::Term, Signal::Kill];

fn finish(mut child: Child, case: &str, signal: Signal) -> String {
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), signal.code(), "{case}: {stderr}");
    stderr
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_same(case: &str, want: &BTreeMap<String, Vec<u8>>, got: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{case}: listing"
    );
    let differ: Vec<&String> = want.keys().filter(|k| want[*k] != got[*k]).collect();
    assert!(differ.is_empty(), "{case}: bytes differ in {differ:?}");
}

// ------------------------------------------------------------------ convert

/// `n` items from the ten real Sentinel-2 items: each a copy of one with a
/// unique id (so unique hrefs and links, which embed it) and its own time.
fn sentinel_items(n: usize) -> String {
    let text = std::fs::read_to_string(
        shared_dir().join("data/stac-items/earthsearch-sentinel-2-c1-l2a.json"),
    )
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let templates: Vec<(String, String)> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f.to_string()))
        .collect();
    let mut out = String::new();
    for i in 0..n {
        let (id, t) = &templates[i % templates.len()];
        let mut item: Value =
            serde_json::from_str(&t.replace(id, &format!("{id}_{i:06}"))).unwrap();
        item["properties"]["datetime"] = json!(format!(
            "2024-{:02}-{:02}T{:02}:{:02}:00Z",
            1 + (i / 1440) % 12,
            1 + (i / 60) % 24,
            i % 24,
            i % 60
        ));
        out.push_str(&item.to_string());
        out.push('\n');
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum ConvertPoint {
    /// Items are being spilled (the spill file holds over 2 MB).
    Spilling,
    /// The Parquet file is being written (its temp file has bytes).
    Writing,
}

/// Run `convert` of `input` to `<case>/<out_name>` (with `extra` flags)
/// uninterrupted, then once per case interrupted and rerun: nothing in or
/// beside the destination after the signal, byte-identical reruns.
fn convert_cases(
    work: &Path,
    input: &Path,
    out_name: &str,
    extra: &[&str],
    cases: &[(Signal, ConvertPoint)],
) {
    let cli = |out: &Path| {
        let mut cmd = Command::new(stac_gdal_e2e::stac_gdal_bin());
        cmd.arg("convert")
            .arg(input)
            .arg(out)
            .args(["--quiet", "--row-group-size", "1000"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let reference = work.join(format!("reference-{out_name}"));
    std::fs::create_dir(&reference).unwrap();
    let started = Instant::now();
    ok(
        &cli(&reference.join(out_name)).output().unwrap(),
        "reference",
    );
    eprintln!(
        "convert to {out_name}, uninterrupted: {:?}",
        started.elapsed()
    );
    let want = tree(&reference);
    assert!(
        want.keys().all(|k| k.starts_with(out_name)) && !want.is_empty(),
        "{:?}",
        want.keys()
    );
    let staging_name = format!(".stac-gdal-staging-{out_name}");
    for (n, (signal, point)) in cases.iter().enumerate() {
        let case = format!("convert to {out_name}, {signal:?} while {point:?}");
        let base = work.join(format!("case-{out_name}-{n}"));
        std::fs::create_dir(&base).unwrap();
        let out = base.join(out_name);
        let staging = base.join(&staging_name);
        // Spills are `.tmp*` files, in the staging folder or in a
        // partitioned write's folder inside it.
        let spills = |min: u64| {
            let mut found = files_in(&staging, |n| n.starts_with(".tmp"));
            for (d, _) in files_in(&staging, |n| n.starts_with(".stac-geoparquet-")) {
                found.extend(files_in(&staging.join(d), |n| n.starts_with(".tmp")));
            }
            found.iter().any(|(_, len)| *len > min)
        };
        let mut child = cli(&out).spawn().unwrap();
        let caught = match point {
            ConvertPoint::Spilling => wait_until(&mut child, "a spill", 120, || spills(2 << 20)),
            ConvertPoint::Writing => wait_until(&mut child, "the Parquet temp file", 120, || {
                files_in(&staging, |n| n.starts_with(".stac-geoparquet-"))
                    .iter()
                    .any(|(n, len)| *len > 0 && staging.join(n).is_file())
            }),
        };
        assert!(caught, "{case}: the run ended before the signal");
        signal.send(child.id());
        let stderr = finish(child, &case, *signal);
        match signal {
            Signal::Int | Signal::Term => {
                // Nothing in or beside the destination: no output, no temp file.
                assert!(
                    names(&base).is_empty(),
                    "{case}: {:?} {stderr}",
                    names(&base)
                );
            }
            Signal::Kill => {
                // Debris only inside the staging folder (for the next run).
                assert_eq!(names(&base), std::slice::from_ref(&staging_name), "{case}");
            }
        }
        ok(&cli(&out).output().unwrap(), &format!("{case}: rerun"));
        assert_same(&case, &want, &tree(&base));
    }
}

#[test]
fn interrupted_convert_leaves_no_temp_file_and_reruns_to_the_same_file() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("items.ndjson");
    std::fs::write(&input, sentinel_items(3000)).unwrap();
    let cases: Vec<(Signal, ConvertPoint)> = SIGNALS
        .iter()
        .flat_map(|s| [(*s, ConvertPoint::Spilling), (*s, ConvertPoint::Writing)])
        .collect();
    convert_cases(work.path(), &input, "out.parquet", &[], &cases);
}

#[test]
fn interrupted_partitioned_convert_leaves_no_temp_folder() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("items.ndjson");
    std::fs::write(&input, sentinel_items(3000)).unwrap();
    convert_cases(
        work.path(),
        &input,
        "parts",
        &["--partition-by", "collection,month"],
        &[
            (Signal::Int, ConvertPoint::Spilling),
            (Signal::Kill, ConvertPoint::Writing),
        ],
    );
}

// ------------------------------------------------------------------ cube

const SIDE: usize = 1024;

/// `n` GeoTIFF sources (noisy uint16, so compression takes its time) and
/// their items, one day apart.
fn cube_sources(dir: &Path, n: usize) -> Vec<Value> {
    (0..n)
        .map(|t| {
            let mut state = 0x9e37_79b9_u32.wrapping_mul(t as u32 + 1);
            let arr = Array2::from_shape_fn((SIDE, SIDE), |(r, c)| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                1 + ((state as usize + r * 3 + c) % 4000) as u16
            });
            let p = dir.join(format!("src-{t:02}.tif"));
            Dataset::create_from_array(
                &arr,
                &GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
                Some(0.0),
            )
            .unwrap()
            .to_file(&p)
            .unwrap();
            json!({"type": "Feature", "stac_version": "1.0.0", "id": format!("scene-{t:02}"),
                "bbox": [-3.0, 47.0, -2.9, 47.1], "geometry": null,
                "properties": {"datetime": format!("2021-06-{:02}T10:00:00Z", t + 1)},
                "assets": {"data": {"href": p.display().to_string(), "type": "image/tiff"}}})
        })
        .collect()
}

fn write_items(path: &Path, items: &[Value]) -> PathBuf {
    std::fs::write(path, Value::Array(items.to_vec()).to_string()).unwrap();
    path.to_path_buf()
}

fn cube_cmd(items: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(stac_gdal_e2e::stac_gdal_bin());
    cmd.arg("cube")
        .arg(items)
        .args(["--asset", "data", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[derive(Clone, Copy, Debug)]
enum CubePoint {
    /// The first timestep file is written (in the staged folder).
    First,
    /// The last timestep file is written: the preview (in the cube
    /// folder) is being made, the swap comes next.
    Last,
}

#[test]
fn interrupted_cube_keeps_the_previous_output_whole_and_reruns_to_the_same_files() {
    const T: usize = 8;
    let work = tempfile::tempdir().unwrap();
    let items = cube_sources(work.path(), T);
    let all = write_items(&work.path().join("items.json"), &items);
    let two = write_items(&work.path().join("two.json"), &items[..2]);
    // Every timestep and a preview in the cube folder.
    let full = |out: &Path| {
        let png = out.join("look.png");
        cube_cmd(&all, out, &["--preview", png.to_str().unwrap()])
    };
    let reference = work.path().join("reference");
    let started = Instant::now();
    ok(&full(&reference).output().unwrap(), "reference");
    eprintln!("cube, uninterrupted: {:?}", started.elapsed());
    let want = tree(&reference);
    assert_eq!(want.len(), T + 2, "{:?}", want.keys());
    let old_ref = work.path().join("old-reference");
    ok(&cube_cmd(&two, &old_ref, &[]).output().unwrap(), "old");
    let old = tree(&old_ref);
    assert_eq!(old.len(), 2);

    for (n, (signal, point)) in SIGNALS
        .iter()
        .flat_map(|s| [(*s, CubePoint::First), (*s, CubePoint::Last)])
        .enumerate()
    {
        let case = format!("cube, {signal:?} at {point:?}");
        let base = work.path().join(format!("case-{n}"));
        std::fs::create_dir(&base).unwrap();
        let out = base.join("cube");
        // A previous output (two timesteps) that the run replaces.
        ok(&cube_cmd(&two, &out, &[]).output().unwrap(), "previous");
        let staged = base.join(".stac-gdal-staging-cube/new");
        let mut child = full(&out).spawn().unwrap();
        let nth = match point {
            CubePoint::First => "0000_",
            CubePoint::Last => &format!("{:04}_", T - 1),
        };
        let caught = wait_until(&mut child, nth, 120, || {
            !files_in(&staged, |f| f.starts_with(nth) && f.ends_with(".tif")).is_empty()
        });
        assert!(caught, "{case}: the run ended before the signal");
        signal.send(child.id());
        let stderr = finish(child, &case, signal);
        // The output is the previous one or (the signal came after the
        // swap) the new one: whole, never mixed, never partial.
        let now = tree(&out);
        assert!(
            now == old || now == want,
            "{case}: {:?} {stderr}",
            now.keys()
        );
        if matches!(point, CubePoint::First) {
            assert!(now == old, "{case}: the previous output is intact");
        }
        let left = names(&base);
        match signal {
            Signal::Int | Signal::Term => assert_eq!(left, ["cube"], "{case}: {stderr}"),
            Signal::Kill => assert!(
                left.iter()
                    .all(|n| n == "cube" || n == ".stac-gdal-staging-cube"),
                "{case}: {left:?}"
            ),
        }
        ok(&full(&out).output().unwrap(), &format!("{case}: rerun"));
        assert_eq!(names(&base), ["cube"], "{case}: after the rerun");
        assert_same(&case, &want, &tree(&out));
    }
}

#[test]
fn a_rerun_with_fewer_timesteps_leaves_exactly_the_new_set() {
    let work = tempfile::tempdir().unwrap();
    let items = cube_sources(work.path(), 5);
    let all = write_items(&work.path().join("items.json"), &items);
    let three = write_items(&work.path().join("three.json"), &items[..3]);
    let out = work.path().join("cube");
    let png = work.path().join("cube").join("look.png");
    ok(
        &cube_cmd(&all, &out, &["--preview", png.to_str().unwrap()])
            .output()
            .unwrap(),
        "five",
    );
    assert_eq!(names(&out).len(), 7, "{:?}", names(&out));
    ok(&cube_cmd(&three, &out, &[]).output().unwrap(), "three");
    let fresh = work.path().join("fresh");
    ok(&cube_cmd(&three, &fresh, &[]).output().unwrap(), "fresh");
    assert_same("fewer timesteps", &tree(&fresh), &tree(&out));
    assert_eq!(
        names(&out),
        [
            "0000_2021-06-01T10_00_00Z.tif",
            "0001_2021-06-02T10_00_00Z.tif",
            "0002_2021-06-03T10_00_00Z.tif"
        ]
    );
    assert_eq!(
        names(work.path())
            .iter()
            .filter(|n| n.starts_with('.'))
            .count(),
        0
    );
    // A folder holding anything a cube run does not write is never
    // replaced: refused before any work, every file kept.
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    let o = cube_cmd(&three, &out, &[]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(names(&out).len(), 4);
}

/// Undoes [`make_read_only`] when dropped (so a failing test's temp
/// folder can still be removed).
struct ReadOnly(PathBuf);

impl Drop for ReadOnly {
    fn drop(&mut self) {
        undo_read_only(&self.0);
    }
}

/// Make `dir` read-only for this process (root included: `chattr +i`).
fn make_read_only(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join("probe"), b"").is_ok() {
        std::fs::remove_file(dir.join("probe")).unwrap();
        let _ = Command::new("chattr").arg("+i").arg(dir).status();
    }
    std::fs::write(dir.join("probe"), b"").is_err()
}

fn undo_read_only(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = Command::new("chattr").arg("-i").arg(dir).status();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_bad_preview_path_fails_before_any_work_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let items = cube_sources(work.path(), 8);
    let all = write_items(&work.path().join("items.json"), &items);
    let good = work.path().join("good");
    let started = Instant::now();
    ok(
        &cube_cmd(&all, &good, &["--preview", "good.png"])
            .current_dir(work.path())
            .output()
            .unwrap(),
        "good",
    );
    let full = started.elapsed();
    std::fs::remove_file(work.path().join("good.png")).unwrap();
    let ro = work.path().join("read-only");
    std::fs::create_dir(&ro).unwrap();
    let _undo = ReadOnly(ro.clone());
    assert!(make_read_only(&ro), "cannot make a read-only folder here");
    let before = names(work.path());
    for (what, preview, expect) in [
        (
            "missing folder",
            work.path().join("missing/look.png"),
            "does not exist",
        ),
        ("read-only folder", ro.join("look.png"), "cannot write in"),
        (
            "unknown extension",
            work.path().join("look.xyz"),
            "extension",
        ),
        (
            "a subfolder of --out",
            work.path().join("cube/sub/look.png"),
            "subfolder",
        ),
    ] {
        let out = work.path().join("cube");
        let started = Instant::now();
        let o = cube_cmd(&all, &out, &["--preview", preview.to_str().unwrap()])
            .output()
            .unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("--preview") && stderr.contains(expect),
            "{what}: {stderr}"
        );
        // Nothing written: no output folder, no staging folder, nothing new.
        assert_eq!(names(work.path()), before, "{what}");
        assert!(names(&ro).is_empty(), "{what}");
        eprintln!("bad preview ({what}): {took:?}, a full run {full:?}");
        assert!(
            took * 4 < full,
            "{what}: failed after {took:?}, a full run takes {full:?}"
        );
    }
}

#[test]
fn bad_convert_outputs_are_refused_before_the_input_is_read() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // The input does not exist: an output error proves the output was
    // checked first.
    let input = w.join("missing.ndjson");
    std::fs::create_dir(w.join("a-folder")).unwrap();
    std::fs::create_dir_all(w.join("parts/collection=x")).unwrap();
    std::fs::write(w.join("parts/notes.txt"), b"mine").unwrap();
    std::os::unix::fs::symlink(w.join("elsewhere.parquet"), w.join("link.parquet")).unwrap();
    let ro = w.join("read-only");
    std::fs::create_dir(&ro).unwrap();
    let _undo = ReadOnly(ro.clone());
    assert!(make_read_only(&ro), "cannot make a read-only folder here");
    let before = names(w);
    for (what, out, extra, expect) in [
        (
            "missing folder",
            w.join("nope/out.parquet"),
            &[][..],
            "does not exist",
        ),
        (
            "read-only folder",
            ro.join("out.parquet"),
            &[][..],
            "cannot write in",
        ),
        (
            "symbolic link",
            w.join("link.parquet"),
            &[][..],
            "symbolic link",
        ),
        ("a folder", w.join("a-folder"), &[][..], "unknown extension"),
        (
            "a folder named .parquet",
            w.join("a-folder.parquet"),
            &[][..],
            "is a folder",
        ),
        (
            "unknown extension",
            w.join("out.xyz"),
            &[][..],
            "unknown extension",
        ),
        (
            "a partition folder holding a file of the user's",
            w.join("parts"),
            &["--partition-by", "collection"][..],
            "notes.txt",
        ),
        (
            "partitions in a missing folder",
            w.join("nope/parts"),
            &["--partition-by", "collection"][..],
            "does not exist",
        ),
    ] {
        if what == "a folder named .parquet" {
            std::fs::create_dir_all(&out).unwrap();
        }
        let o = Command::new(stac_gdal_e2e::stac_gdal_bin())
            .arg("convert")
            .arg(&input)
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains(expect) && !stderr.contains("missing.ndjson"),
            "{what}: {stderr}"
        );
        if what == "a folder named .parquet" {
            std::fs::remove_dir(&out).unwrap();
        }
        assert_eq!(names(w), before, "{what}: nothing written");
        assert!(names(&ro).is_empty(), "{what}");
        assert_eq!(
            names(&w.join("parts")),
            ["collection=x", "notes.txt"],
            "{what}"
        );
    }
}

#[test]
fn a_partitioned_rerun_replaces_the_folder_whole() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let items = |collections: usize| -> String {
        sentinel_items(30)
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v["collection"] = json!(format!("c{}", i % collections));
                v.to_string() + "\n"
            })
            .collect()
    };
    std::fs::write(w.join("three.ndjson"), items(3)).unwrap();
    std::fs::write(w.join("two.ndjson"), items(2)).unwrap();
    let convert = |input: &str, out: &str| {
        Command::new(stac_gdal_e2e::stac_gdal_bin())
            .arg("convert")
            .arg(w.join(input))
            .arg(w.join(out))
            .args(["--quiet", "--partition-by", "collection"])
            .output()
            .unwrap()
    };
    ok(&convert("three.ndjson", "parts"), "three collections");
    assert_eq!(
        names(&w.join("parts")),
        ["collection=c0", "collection=c1", "collection=c2"]
    );
    ok(&convert("two.ndjson", "parts"), "two collections");
    ok(&convert("two.ndjson", "fresh"), "fresh");
    assert_same(
        "partitioned rerun",
        &tree(&w.join("fresh")),
        &tree(&w.join("parts")),
    );
    assert_eq!(names(&w.join("parts")), ["collection=c0", "collection=c1"]);
    assert!(
        names(w).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        names(w)
    );
}

// ------------------------------------------------------------ cube -o X.nc

/// `cube -o X.nc` (issue 19) interrupted while the file is being written
/// (its temp file in the staging folder holds a strip): after
/// `SIGINT`/`SIGTERM` nothing is left but the previous `X.nc`, byte for
/// byte; after `SIGKILL` at most the staging folder, which the rerun
/// empties; the rerun gives the file of an uninterrupted run, byte for
/// byte (netCDF-4 files carry no write time).
#[test]
fn interrupted_netcdf_cube_leaves_the_previous_file_and_reruns_to_the_same_bytes() {
    const T: usize = 8;
    let work = tempfile::tempdir().unwrap();
    let items = cube_sources(work.path(), T);
    let all = write_items(&work.path().join("items.json"), &items);
    let two = write_items(&work.path().join("two.json"), &items[..2]);
    let reference = work.path().join("reference.nc");
    let started = Instant::now();
    ok(
        &cube_cmd(&all, &reference, &[]).output().unwrap(),
        "reference",
    );
    eprintln!("cube -o X.nc, uninterrupted: {:?}", started.elapsed());
    let want = std::fs::read(&reference).unwrap();
    assert_eq!(&want[..4], b"\x89HDF", "a netCDF-4 (HDF5) file");
    let old_ref = work.path().join("old.nc");
    ok(&cube_cmd(&two, &old_ref, &[]).output().unwrap(), "old");
    let old = std::fs::read(&old_ref).unwrap();

    for (n, &signal) in SIGNALS.iter().enumerate() {
        let case = format!("cube -o X.nc, {signal:?} mid-write");
        let base = work.path().join(format!("nc-case-{n}"));
        std::fs::create_dir(&base).unwrap();
        let out = base.join("cube.nc");
        ok(&cube_cmd(&two, &out, &[]).output().unwrap(), "previous");
        let staging = base.join(".stac-gdal-staging-cube.nc");
        let mut child = cube_cmd(&all, &out, &[]).spawn().unwrap();
        // A temp file that holds more than its coordinates: a strip written.
        let caught = wait_until(&mut child, "the NetCDF temp file", 120, || {
            !files_in(&staging, |f| {
                f.starts_with(".cube.nc.tmp-") || f == "cube.nc"
            })
            .iter()
            .all(|(_, size)| *size < 256 * 1024)
        });
        assert!(caught, "{case}: the run ended before the signal");
        signal.send(child.id());
        let stderr = finish(child, &case, signal);
        assert!(
            std::fs::read(&out).unwrap() == old,
            "{case}: the previous file is intact ({stderr})"
        );
        let left = names(&base);
        match signal {
            Signal::Int | Signal::Term => assert_eq!(left, ["cube.nc"], "{case}: {stderr}"),
            Signal::Kill => assert!(
                left.iter()
                    .all(|n| n == "cube.nc" || n == ".stac-gdal-staging-cube.nc"),
                "{case}: {left:?}"
            ),
        }
        ok(
            &cube_cmd(&all, &out, &[]).output().unwrap(),
            &format!("{case}: rerun"),
        );
        assert_eq!(names(&base), ["cube.nc"], "{case}: after the rerun");
        assert!(std::fs::read(&out).unwrap() == want, "{case}: rerun bytes");
    }
}
