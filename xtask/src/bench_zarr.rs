//! `cargo xtask bench stac-cube-zarr`: a cube written to Zarr, stac-gdal
//! against odc-stac + dask and against the write limit (issue 19).
//!
//! The cube: the cube benchmark's `mosaic` scenes (24 scenes x 3 bands,
//! uint16 DEFLATE COGs, two overlapping UTM tiles), every scene its own
//! timestep, on a 3072² 10 m grid (the scenes cover part of it, as scenes
//! of a real catalog do): 24 x 3 x 3072 x 3072 uint16. Written as Zarr v2
//! with consolidated metadata, chunks [`CHUNKS`] and zstd level
//! [`ZSTD_LEVEL`] (stac-gdal's default codec) by
//!
//! - stac-gdal: `stac-gdal cube -o X.zarr` (release), loading and writing
//!   block by block;
//! - odc-stac: `odc.stac.load(chunks=...)` then xarray's `to_zarr` on
//!   dask's threaded scheduler, the same chunks and codec (numcodecs `Zstd`)
//!   (`xtask/peers/cube/zarr_peer.py`, venv `cube-peers`);
//! - the write limit: the `zarr_write_limit` example of stac-cube, which
//!   loads the cube into memory and times only
//!   `DatasetCollection::write_zarr` of it.
//!
//! Whole processes timed from outside (start, items, load, write, exit),
//! best of [`RUNS`] interleaved runs (order rotated every run; the worst is
//! shown too), peak RSS
//! from `/usr/bin/time`. The last run's two stores are then opened with
//! xarray and compared pixel for pixel (and their `time`, `y`, `x`).
//!
//! `STAC_GDAL_BENCH_BIN=/path/to/stac-gdal` uses that release binary
//! instead of building one (it must come from the same source).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::bench_cube::{ASSETS, ensure_data, loadavg, measured, venv_python};
use crate::process::{cargo, output, root, step};

/// Runs per tool (interleaved; the best time is reported).
const RUNS: usize = 3;
/// The grid: 3072² at 10 m from the tiles' top-left corner (EPSG:32632).
const BOUNDS: &str = "399960,5269320,430680,5300040";
/// Chunk shape `(time, y, x)`: stac-gdal's default for uint16 (1 timestep
/// x the largest power-of-two square of at most 4 MiB).
const CHUNKS: [usize; 3] = [1, 1024, 1024];
/// The zstd level of every side: stac-gdal's default codec
/// (`stac_cube::zarr::DEFAULT_ZSTD_LEVEL`), given to odc-stac's `to_zarr` too.
const ZSTD_LEVEL: i32 = 1;
/// Targets of issue 19.
const TARGET_VS_ODC: f64 = 2.0;
const TARGET_RSS: f64 = 1.5;

fn remove(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
    let _ = std::fs::remove_file(path);
}

/// Bytes of the files under `path` (a store).
fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The largest `RssAnon` (KiB) seen in `/proc/PID/status` of `/usr/bin/time`'s
/// child while it runs, sampled every millisecond: the anonymous memory
/// (heap, stacks: what the process holds) apart from file-backed pages
/// (the binary's and shared libraries' code and data, mapped on first use
/// and shared with every process using them), which `/usr/bin/time`'s peak
/// counts together.
fn anon_peak(child: &mut std::process::Child) -> u64 {
    let tpid = child.id();
    let mut pid: Option<u32> = None;
    let mut peak = 0u64;
    loop {
        if pid.is_none() {
            pid = std::fs::read_to_string(format!("/proc/{tpid}/task/{tpid}/children"))
                .ok()
                .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()));
        }
        if let Some(p) = pid {
            let anon = std::fs::read_to_string(format!("/proc/{p}/status"))
                .ok()
                .and_then(|t| {
                    let line = t.lines().find(|l| l.starts_with("RssAnon:"))?.to_owned();
                    line.split_whitespace().nth(1)?.parse::<u64>().ok()
                });
            peak = peak.max(anon.unwrap_or(0));
        }
        if matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// All of a pipe, read on a thread (so the child never blocks on it).
fn drain(p: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = p {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

/// [`measured`], plus the anonymous peak ([`anon_peak`], KiB).
fn measured_split(
    name: &str,
    cmd: &Command,
    rss_file: &Path,
) -> Result<(serde_json::Value, u64, u64), String> {
    use std::process::Stdio;
    let mut timed = crate::bench_cube::under_time(cmd, rss_file);
    timed.stdout(Stdio::piped()).stderr(Stdio::piped());
    eprintln!("xtask:    {name}");
    let mut child = timed
        .spawn()
        .map_err(|e| format!("{name}: cannot start /usr/bin/time: {e}"))?;
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let anon = anon_peak(&mut child);
    let status = child.wait().map_err(|e| format!("{name}: {e}"))?;
    let (stdout, stderr) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    if !status.success() {
        return Err(format!("{name} failed ({status}): {stderr}"));
    }
    let (json, rss) = crate::bench_cube::summary_and_rss(name, &stdout, rss_file)?;
    Ok((json, rss, anon))
}

/// Best wall seconds and max peak RSS (KiB) of one tool, and its last output.
#[derive(Default)]
struct Best {
    seconds: Option<f64>,
    worst: f64,
    rss_kb: u64,
    out: serde_json::Value,
}

impl Best {
    fn merge(&mut self, seconds: f64, rss_kb: u64, out: serde_json::Value) {
        if self.seconds.is_none_or(|s| seconds < s) {
            self.seconds = Some(seconds);
            self.out = out;
        }
        self.worst = self.worst.max(seconds);
        self.rss_kb = self.rss_kb.max(rss_kb);
    }

    /// `best (worst)`: the spread shows how noisy the machine was.
    fn spread(&self) -> String {
        format!("{:.2} (worst {:.2})", self.secs(), self.worst)
    }

    fn secs(&self) -> f64 {
        self.seconds.unwrap_or(f64::NAN)
    }
}

/// Run the comparison and append its section to `report`.
pub(crate) fn append(report: &mut String) -> Result<(), String> {
    // A release binary built elsewhere from the same source (e.g. main's,
    // while another build holds the machine) saves a full release build.
    let prebuilt = std::env::var_os("STAC_GDAL_BENCH_BIN").map(std::path::PathBuf::from);
    if prebuilt.is_none() {
        step(
            "build stac-gdal (release)",
            cargo(&["build", "--release", "-p", "stac-gdal-cli"]),
        )?;
    }
    step(
        "build zarr_write_limit (release)",
        cargo(&[
            "build",
            "--release",
            "-p",
            "stac-cube",
            "--example",
            "zarr_write_limit",
        ]),
    )?;
    let release = crate::bench::target_dir().join("release");
    let bin = prebuilt.unwrap_or_else(|| release.join("stac-gdal"));
    let limit_bin = release.join("examples/zarr_write_limit");
    let dir = crate::bench::target_dir().join("bench-data/cube");
    ensure_data(&dir)?;
    let items = dir.join("mosaic.json");
    let rss_file = dir.join("rss-zarr.txt");
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunks = CHUNKS.map(|c| c.to_string()).join(",");
    let (ours_out, peer_out, limit_out) = (
        dir.join("bench-ours.zarr"),
        dir.join("bench-odc.zarr"),
        dir.join("bench-limit.zarr"),
    );
    let ours_cmd = |plan: bool, threads: usize| {
        let mut cmd = Command::new(&bin);
        cmd.arg("cube")
            .arg(&items)
            .args(["--asset", ASSETS, "--quiet", "--groupby", "none"])
            .args(["--resolution", "10", "--bounds", BOUNDS])
            .args([
                "--chunks",
                &chunks,
                "--codec",
                &format!("zstd:{ZSTD_LEVEL}"),
            ])
            .args(["--threads", &threads.to_string()]);
        if plan {
            cmd.arg("--plan");
        }
        cmd.arg("-o").arg(&ours_out);
        cmd
    };
    // The process without the cube: binary, GDAL, items, plan.
    let (_, base_rss, base_anon) = measured_split(
        "stac-gdal cube --plan (baseline)",
        &ours_cmd(true, threads),
        &rss_file,
    )?;
    let before = loadavg();
    let (mut ours, mut odc, mut limit) = (Best::default(), Best::default(), Best::default());
    let mut ours_anon = 0u64;
    for r in 0..RUNS {
        for k in 0..3 {
            match (k + r) % 3 {
                0 => {
                    remove(&ours_out);
                    let started = Instant::now();
                    let (out, rss, anon) = measured_split(
                        "stac-gdal cube -o X.zarr",
                        &ours_cmd(false, threads),
                        &rss_file,
                    )?;
                    let secs = started.elapsed().as_secs_f64();
                    if out["zarr"]["finalized"] != true {
                        return Err(format!("stac-gdal cube: store not finalized: {out}"));
                    }
                    ours.merge(secs, rss, out);
                    ours_anon = ours_anon.max(anon);
                }
                1 => {
                    remove(&peer_out);
                    let mut cmd = Command::new(venv_python());
                    cmd.arg(root().join("xtask/peers/cube/zarr_peer.py"))
                        .arg("write")
                        .arg(&items)
                        .arg(&peer_out)
                        .arg(threads.to_string())
                        .args([BOUNDS, &chunks, &ZSTD_LEVEL.to_string()]);
                    let started = Instant::now();
                    let (out, rss) = measured("odc-stac load(chunks) + to_zarr", &cmd, &rss_file)?;
                    odc.merge(started.elapsed().as_secs_f64(), rss, out);
                }
                _ => {
                    remove(&limit_out);
                    let mut cmd = Command::new(&limit_bin);
                    cmd.arg(&items)
                        .arg(&limit_out)
                        .arg(threads.to_string())
                        .args([BOUNDS, &chunks])
                        .args(ASSETS.split(','));
                    let (out, rss) = measured("write limit (zarr_write_limit)", &cmd, &rss_file)?;
                    let write = out["write_seconds"].as_f64().unwrap_or(f64::NAN);
                    limit.merge(write, rss, out);
                    remove(&limit_out);
                }
            }
        }
    }
    let after = loadavg();
    // The last run's stores, pixel for pixel.
    let mut compare = Command::new(venv_python());
    compare
        .arg(root().join("xtask/peers/cube/zarr_peer.py"))
        .arg("compare")
        .arg(&ours_out)
        .arg(&peer_out);
    eprintln!("xtask:    compare the two stores with xarray");
    let same: serde_json::Value = serde_json::from_str(&output(compare)?)
        .map_err(|e| format!("zarr_peer.py compare: {e}"))?;
    let (ours_bytes, odc_bytes) = (dir_bytes(&ours_out), dir_bytes(&peer_out));
    remove(&ours_out);
    remove(&peer_out);
    // One thread, once: what a thread adds to the peak, and what is fixed.
    let (_, one_rss, one_anon) = measured_split(
        "stac-gdal cube -o X.zarr --threads 1 (RSS)",
        &ours_cmd(false, 1),
        &rss_file,
    )?;
    remove(&ours_out);
    let _ = std::fs::remove_file(&rss_file);

    let shape = &ours.out["shape"];
    let dims: Vec<u64> = shape
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default();
    let cube_bytes = dims.iter().product::<u64>() * 2;
    let bands = dims.get(1).copied().unwrap_or(3) as usize;
    // One unit in flight per thread: a chunk of every band (the unit of
    // work, manifest and `--part`; since issue 19's RSS work a worker
    // loads and writes it one band at a time, so this is an upper bound).
    let unit_bytes = bands * CHUNKS.iter().product::<usize>() * 2;
    let rss_target = TARGET_RSS * threads as f64 * unit_bytes as f64;
    let mib = |b: f64| b / (1024.0 * 1024.0);
    let rss = ours.rss_kb as f64 * 1024.0;
    let base = base_rss as f64 * 1024.0;
    let valid: u64 = same["bands"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v["valid_pixels"].as_u64()).sum())
        .unwrap_or(0);
    let versions = &odc.out["versions"];
    let v = |k: &str| versions[k].as_str().unwrap_or("?").to_owned();
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    let vs_odc = odc.secs() / ours.secs();
    let stores_same = same["same"] == true;

    writeln!(
        report,
        "## stac-cube: a cube written to Zarr vs odc-stac + dask and the write limit\n\n\
         The cube benchmark's `mosaic` scenes (24 scenes x 3 bands: B02, B03 at 10 m 2048², B05 at \
         20 m 1024²; uint16 DEFLATE COGs of two overlapping UTM tiles), every scene its own \
         timestep, on a 3072² 10 m grid (bounds {BOUNDS}, EPSG:32632; the scenes cover {:.0}% of \
         the cube's pixels, the rest is fill 0): a {} uint16 cube ({:.0} MB in memory), written as \
         a Zarr v2 store with consolidated metadata, chunks {} and zstd level {ZSTD_LEVEL} (numcodecs \
         `Zstd`; stac-gdal's default codec), {threads} threads everywhere. stac-gdal: `stac-gdal cube -o X.zarr` (release; \
         loads and writes block by block). odc-stac: `odc.stac.load(geobox=..., \
         chunks={{time: {}, y: {}, x: {}}})` then `to_zarr(zarr_format=2, consolidated=True)` with \
         `compressors=(Zstd(level={ZSTD_LEVEL}),)` on dask's threaded scheduler \
         (`xtask/peers/cube/zarr_peer.py`; odc-stac {}, dask {}, xarray {}, zarr {}, numcodecs {}). \
         Write limit: `cargo run --release -p stac-cube --example zarr_write_limit` loads the cube \
         into memory, then times only `DatasetCollection::write_zarr` of that array (same chunks, \
         codec, threads). Times are whole processes measured from outside (start, items, load, \
         write, exit; for the write limit the write alone), best of {RUNS} interleaved runs (order \
         rotated each run; the worst in parentheses); peak RSS from `/usr/bin/time`, max over runs. Load average before / \
         after: {before} / {after}.\n",
        100.0 * valid as f64 / (dims.iter().product::<u64>().max(1)) as f64,
        dims.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" x "),
        cube_bytes as f64 / 1e6,
        chunks,
        CHUNKS[0],
        CHUNKS[1],
        CHUNKS[2],
        v("odc-stac"),
        v("dask"),
        v("xarray"),
        v("zarr"),
        v("numcodecs"),
    )
    .unwrap();
    let one = one_rss as f64 * 1024.0;
    let per_thread = if threads > 1 {
        (rss - one) / (threads - 1) as f64
    } else {
        f64::NAN
    };
    writeln!(
        report,
        "| run | seconds | vs stac-gdal | peak RSS | store on disk |\n|---|---|---|---|---|"
    )
    .unwrap();
    writeln!(
        report,
        "| **stac-gdal** `cube -o X.zarr` | {} | 1.00x | {:.0} MiB | {:.0} MB |",
        ours.spread(),
        mib(rss),
        ours_bytes as f64 / 1e6
    )
    .unwrap();
    writeln!(
        report,
        "| odc-stac `load(chunks=...)` + dask `to_zarr` | {}; in process {:.2} | {:.2}x | {:.0} MiB | {:.0} MB |",
        odc.spread(),
        odc.out["seconds"].as_f64().unwrap_or(f64::NAN),
        vs_odc,
        mib(odc.rss_kb as f64 * 1024.0),
        odc_bytes as f64 / 1e6
    )
    .unwrap();
    writeln!(
        report,
        "| write limit: `DatasetCollection::write_zarr` of the loaded cube alone | {}; its load {:.2} | {:.2}x | {:.0} MiB (holds the whole cube) | {:.0} MB of chunks |",
        limit.spread(),
        limit.out["load_seconds"].as_f64().unwrap_or(f64::NAN),
        limit.secs() / ours.secs(),
        mib(limit.rss_kb as f64 * 1024.0),
        limit.out["bytes_written"].as_f64().unwrap_or(f64::NAN) / 1e6
    )
    .unwrap();
    // What the write adds, split: anonymous (what it holds) and
    // file-backed (code pages mapped once on first use).
    let kib = |k: u64| k as f64 * 1024.0;
    let anon_added = kib(ours_anon) - kib(base_anon);
    let file_added = (rss - base) - anon_added;
    let anon_per_thread = if threads > 1 {
        (kib(ours_anon) - kib(one_anon)) / (threads - 1) as f64
    } else {
        f64::NAN
    };
    let unit_target = TARGET_RSS * unit_bytes as f64;
    writeln!(
        report,
        "\nstac-gdal is **{vs_odc:.2}x faster than odc-stac + dask** (target ≥ {TARGET_VS_ODC}x: {}); \
         its whole run takes **{:.2}x the write limit's time** (the write of the in-memory array \
         alone; the limit's own load is not counted).\n\n\
         **Peak RSS {:.0} MiB** (`/usr/bin/time`), of which {:.0} MiB is the process without the \
         cube (`cube --plan` of the same items: the binary, GDAL, PROJ, the items and the plan; \
         it opens no raster) and **{:.0} MiB is what the write adds** (peak minus that \
         baseline). The target, {TARGET_RSS} x {threads} threads x a {:.1} MiB chunk working set \
         (one unit in flight per thread: a {} chunk of each of the {bands} bands, {} bytes each; \
         a worker loads and writes it one band at a time, so this is an upper bound) = {:.0} MiB, \
         is applied to what the write adds; the baseline is the process's fixed cost, reported \
         here and not counted. What the write adds splits into **{:.0} MiB of anonymous memory** \
         (`RssAnon` sampled every millisecond, peak minus the baseline's: the blocks, read \
         buffers, codec state and GDAL's decoder buffers the write holds) and {:.0} MiB of \
         file-backed pages (the code and read-only data of GDAL, whose drivers are registered by \
         the first raster open, libtiff, the codecs and the binary: mapped once on first use, \
         shared with every process using those libraries, the same whatever the threads or the \
         cube). Against the target: the anonymous memory the write holds: {}; everything the \
         write adds, code pages included: {}. Split by threads: the same write with 1 thread \
         peaks at {:.0} MiB ({:.0} MiB anonymous above the baseline), so each further thread \
         adds {:.1} MiB ({:.1} MiB anonymous; {:.1}x its unit; per-thread target {:.0} MiB: {}) \
         and {:.0} MiB is paid once by the first load (of it {:.0} MiB file-backed). For scale, \
         the write limit, which holds the whole cube in memory, peaks at {:.0} MiB. The two \
         stores, opened with xarray: {}.\n",
        met(vs_odc >= TARGET_VS_ODC),
        ours.secs() / limit.secs(),
        mib(rss),
        mib(base),
        mib(rss - base),
        mib(unit_bytes as f64),
        chunks.replace(',', "x"),
        CHUNKS.iter().product::<usize>() * 2,
        mib(rss_target),
        mib(anon_added),
        mib(file_added),
        met(anon_added <= rss_target),
        met(rss - base <= rss_target),
        mib(one),
        mib(kib(one_anon) - kib(base_anon)),
        mib(per_thread),
        mib(anon_per_thread),
        per_thread / unit_bytes as f64,
        mib(unit_target),
        met(per_thread <= unit_target),
        mib(one - base - per_thread),
        mib((one - base) - (kib(one_anon) - kib(base_anon))),
        mib(limit.rss_kb as f64 * 1024.0),
        if stores_same {
            "every band equal pixel for pixel, `time`, `y` and `x` equal".to_owned()
        } else {
            format!("**they differ**: {same}")
        },
    )
    .unwrap();
    if !stores_same {
        eprintln!(
            "xtask: WARNING: the stac-gdal and odc-stac Zarr stores differ (see docs/benchmarks.md)"
        );
    }
    Ok(())
}
