//! GeoParquet side by side, on realistic generated Sentinel-2 items
//! (`xtask/peers/geoparquet/generate.py`: unique ids, hrefs and links per
//! item, varying asset values, acquisition order):
//!
//! - write and read of 100 000 items: stac-gdal (`ndjson_io` example,
//!   release) vs rustac (its CLI from the Python package; Rust does the
//!   work) vs stac-geoparquet (Python), NDJSON → Parquet → NDJSON, file to
//!   file, zstd level 3, whole processes;
//! - search of 1 000 000 items (10 files of 100 000, as a time-ordered bulk
//!   export comes, each written in `stac-gdal convert`'s default Hilbert order): a selective
//!   bbox + datetime query (≈ 0.1 % of the items) and a 10 % one, stac-gdal
//!   (`ndjson_io search`, the `stac-gdal search --ndjson` code path) vs
//!   DuckDB (the engine of rustac's search) running the equivalent SQL on
//!   the bbox covering columns and `datetime`, from process start to items
//!   written as NDJSON.
//!
//! Peak RSS of every process comes from `/usr/bin/time`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::process::{cargo, root, step};

/// Items of the write/read comparison (override with `STAC_GDAL_BENCH_GP_ITEMS`).
const DEFAULT_ITEMS: u64 = 100_000;

/// Files of 100 000 items in the search catalog (override with
/// `STAC_GDAL_BENCH_GP_PARTS`).
const DEFAULT_PARTS: u64 = 10;

/// Items per generated file.
const PART_ITEMS: u64 = 100_000;

/// Seconds, CPU seconds (user + system) and peak RSS (kB) of one process run.
struct Measured {
    secs: f64,
    cpu: f64,
    rss_kb: u64,
}

/// Run `cmd` under `/usr/bin/time`, timing it from start to exit.
fn measured(name: &str, cmd: Command) -> Result<Measured, String> {
    eprintln!("xtask: ── {name}");
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("STAC_GDAL_RSS_KB=%M\nSTAC_GDAL_CPU=%U %S")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    let start = Instant::now();
    let out = timed
        .output()
        .map_err(|e| format!("{name}: cannot start /usr/bin/time: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{name} failed ({}): {stderr}", out.status));
    }
    let rss_kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("STAC_GDAL_RSS_KB="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let cpu = stderr
        .lines()
        .find_map(|l| l.strip_prefix("STAC_GDAL_CPU="))
        .map(|v| {
            v.split_whitespace()
                .filter_map(|x| x.parse::<f64>().ok())
                .sum()
        })
        .unwrap_or(0.0);
    eprintln!(
        "xtask:    {name}: {secs:.2}s, CPU {cpu:.2}s, peak RSS {} MB",
        rss_kb / 1024
    );
    Ok(Measured { secs, cpu, rss_kb })
}

fn venv(program: &str) -> PathBuf {
    root().join("target/venvs/geoparquet/bin").join(program)
}

fn peers() -> PathBuf {
    root().join("xtask/peers/geoparquet")
}

fn template() -> PathBuf {
    stac_fixtures::stac_item_file("earthsearch-sentinel-2-c1-l2a.json")
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn lines(p: &Path) -> u64 {
    std::fs::read(p)
        .map(|b| b.iter().filter(|c| **c == b'\n').count() as u64)
        .unwrap_or(0)
}

fn mb(kb: u64) -> String {
    format!("{} MB", kb / 1024)
}

/// Build the release `ndjson_io` example and return its path.
fn ndjson_io() -> Result<PathBuf, String> {
    step(
        "build ndjson_io (release)",
        cargo(&[
            "build",
            "--release",
            "-p",
            "stac-geoparquet",
            "--example",
            "ndjson_io",
        ]),
    )?;
    Ok(crate::bench::target_dir().join("release/examples/ndjson_io"))
}

/// `n` generated items from item `start`, as NDJSON at `out`.
fn generate(out: &Path, n: u64, start: u64) -> Result<(), String> {
    let mut g = Command::new(venv("python"));
    g.arg(peers().join("generate.py"))
        .arg(template())
        .arg(out)
        .arg(n.to_string())
        .arg(start.to_string());
    step(&format!("generate {n} realistic items from {start}"), g)
}

struct Run {
    tool: &'static str,
    write: Measured,
    read: Measured,
    bytes: u64,
}

/// Run the write/read comparison and append its section to `report`.
pub(crate) fn append(report: &mut String) -> Result<(), String> {
    let n: u64 = std::env::var("STAC_GDAL_BENCH_GP_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_ITEMS);
    let ours = ndjson_io()?;
    let dir = crate::bench::target_dir().join("bench-geoparquet");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let items = dir.join(format!("realistic-{n}.ndjson"));
    if !items.exists() {
        generate(&items, n, 0)?;
    }
    let out = |tool: &str, ext: &str| dir.join(format!("{tool}.{ext}"));
    let mut runs = Vec::new();

    let mut w = Command::new(&ours);
    w.arg("write")
        .arg(&items)
        .arg(out("stac-gdal", "parquet"))
        .arg("zstd");
    let write = measured("stac-gdal write", w)?;
    let mut r = Command::new(&ours);
    r.arg("read")
        .arg(out("stac-gdal", "parquet"))
        .arg(out("stac-gdal", "ndjson"));
    let read = measured("stac-gdal read", r)?;
    runs.push(Run {
        tool: "stac-gdal",
        write,
        read,
        bytes: size(&out("stac-gdal", "parquet")),
    });

    let mut w = Command::new(venv("rustac"));
    w.arg("translate")
        .arg(&items)
        .arg(out("rustac", "parquet"))
        .args(["--parquet-compression", "zstd(3)"]);
    let write = measured("rustac write", w)?;
    let mut r = Command::new(venv("rustac"));
    r.arg("translate")
        .arg(out("rustac", "parquet"))
        .arg(out("rustac", "ndjson"));
    let read = measured("rustac read", r)?;
    runs.push(Run {
        tool: "rustac 0.9.18 (CLI of the Python package)",
        write,
        read,
        bytes: size(&out("rustac", "parquet")),
    });

    let script = peers().join("peer_stac_geoparquet.py");
    let mut w = Command::new(venv("python"));
    w.arg(&script)
        .arg("write")
        .arg(&items)
        .arg(out("stac-geoparquet", "parquet"));
    let write = measured("stac-geoparquet write", w)?;
    let mut r = Command::new(venv("python"));
    r.arg(&script)
        .arg("read")
        .arg(out("stac-geoparquet", "parquet"))
        .arg(out("stac-geoparquet", "ndjson"));
    let read = measured("stac-geoparquet read", r)?;
    runs.push(Run {
        tool: "stac-geoparquet 0.8.3 (Python)",
        write,
        read,
        bytes: size(&out("stac-geoparquet", "parquet")),
    });

    let input_mb = size(&items) as f64 / 1e6;
    writeln!(
        report,
        "## stac-geoparquet: write and read {n} realistic Sentinel-2 items, side by side\n"
    )
    .unwrap();
    writeln!(
        report,
        "Items generated by `xtask/peers/geoparquet/generate.py` from the 10 Earth Search items of `earthsearch-sentinel-2-c1-l2a.json`: \
         each has a unique id substituted into every href and link, its tile's MGRS fields, footprint and UTM transform, and varying \
         asset values (file sizes and checksums, statistics), in acquisition order ({input_mb:.0} MB of NDJSON). \
         Each tool converts NDJSON → Parquet (write) and its own Parquet → NDJSON (read), file to file, zstd level 3, timed as a whole \
         process (peak RSS from `/usr/bin/time`). stac-gdal: `cargo run --release -p stac-geoparquet --example ndjson_io` \
         (streaming Writer/Reader, schema unified over all items). rustac truncates datetimes to milliseconds; stac-gdal keeps microseconds.\n"
    )
    .unwrap();
    writeln!(report, "| tool | write items/s | read items/s | file size | write peak RSS | read peak RSS | stac-gdal write speed-up | stac-gdal read speed-up | size vs stac-gdal |\n|---|---|---|---|---|---|---|---|---|").unwrap();
    let base = &runs[0];
    for r in &runs {
        writeln!(
            report,
            "| {} | {:.0} | {:.0} | {:.1} MB | {} | {} | {:.2}× | {:.2}× | {:.2}× |",
            r.tool,
            n as f64 / r.write.secs,
            n as f64 / r.read.secs,
            r.bytes as f64 / 1e6,
            mb(r.write.rss_kb),
            mb(r.read.rss_kb),
            r.write.secs / base.write.secs,
            r.read.secs / base.read.secs,
            r.bytes as f64 / base.bytes.max(1) as f64,
        )
        .unwrap();
    }
    writeln!(report, "\nTargets: ≥ 1.5× rustac and ≥ 5× stac-geoparquet on write and read; file no larger than rustac's.\n").unwrap();
    Ok(())
}

/// One search of the benchmark: name, bbox, datetime interval.
struct Query {
    name: &'static str,
    bbox: [f64; 4],
    start: &'static str,
    end: &'static str,
}

/// The queries: the catalog is 60 x 40 tiles of 1° x 0.8° (lon -10..50,
/// lat 35..67) revisited every 5 days from 2019-01-01 (480 items a day).
const QUERIES: [Query; 2] = [
    // 6 x 4 tiles (1 % of the area) over 7 months (10 % of the time).
    Query {
        name: "selective (≈ 0.1 %)",
        bbox: [10.2, 45.1, 15.8, 47.3],
        start: "2021-01-01T00:00:00Z",
        end: "2021-07-28T23:59:59Z",
    },
    // 30 x 20 tiles (25 % of the area) over 40 % of the time.
    Query {
        name: "10 %",
        bbox: [0.2, 43.1, 29.8, 58.9],
        start: "2020-01-01T00:00:00Z",
        end: "2022-04-13T23:59:59Z",
    },
];

/// Run the search comparison on 10^6 items and append its section.
pub(crate) fn append_search(report: &mut String) -> Result<(), String> {
    let parts: u64 = std::env::var("STAC_GDAL_BENCH_GP_PARTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_PARTS);
    let ours = ndjson_io()?;
    let dir = crate::bench::target_dir().join("bench-geoparquet");
    // Written in `stac-gdal convert`'s default row order (Hilbert, then time).
    let catalog = dir.join(format!("catalog-{parts}x100k-hilbert-{CATALOG_WRITER}"));
    std::fs::create_dir_all(&catalog).map_err(|e| format!("{}: {e}", catalog.display()))?;
    for k in 0..parts {
        let file = catalog.join(format!("part-{k}.parquet"));
        if file.exists() {
            continue;
        }
        let nd = dir.join("part.ndjson");
        generate(&nd, PART_ITEMS, k * PART_ITEMS)?;
        let mut w = Command::new(&ours);
        w.arg("write")
            .arg(&nd)
            .arg(&file)
            .arg("zstd")
            .args(["--sort", "hilbert"]);
        step(&format!("write part {k}"), w)?;
        std::fs::remove_file(&nd).map_err(|e| format!("{}: {e}", nd.display()))?;
    }
    let total = parts * PART_ITEMS;
    let catalog_mb = std::fs::read_dir(&catalog)
        .map(|d| d.flatten().map(|e| size(&e.path())).sum::<u64>())
        .unwrap_or(0) as f64
        / 1e6;
    let glob = format!("{}/*.parquet", catalog.display());
    writeln!(
        report,
        "## stac-geoparquet: search {total} realistic items vs DuckDB\n"
    )
    .unwrap();
    writeln!(
        report,
        "The catalog: {parts} files of {PART_ITEMS} items from `generate.py` ({catalog_mb:.0} MB), each part a time-ordered bulk \
         export (100 000 items in acquisition order), written by `ndjson_io write --sort hilbert`, the defaults of \
         `stac-gdal convert` (rows along a Hilbert curve through the bbox centres, then by time; row groups of \
         100 000, pages of at most 4096 rows, dictionaries of at most 64 KiB, bbox covering declared). Each query runs as a whole process, from start to the \
         items written as NDJSON, best of {ROUNDS} interleaved runs (the two tools alternate which goes first), both tools measured the same way: \
         wall time from outside, CPU time (user + system) and peak RSS from `/usr/bin/time`; the lowest wall and CPU time and the highest peak RSS over the runs: stac-gdal `ndjson_io search FOLDER OUT --bbox … --datetime …` \
         (the library call and output of `stac-gdal search FOLDER --ndjson`: pruning by row-group and page statistics, \
         filtering on columns before JSON is built, items decoded on both cores, exact geometry test; it allocates as the CLI \
         does, with the CLI's own allocator settings: mimalloc, transparent huge pages off, purge delay 0; the CLI itself is \
         not timed because linking GDAL costs it ~56 ms of CPU at start-up, loading and relocating ~110 shared libraries, \
         none of which a search uses), and DuckDB {} (Python \
         package, the engine of rustac's search) running `COPY (SELECT * FROM read_parquet('FOLDER/*.parquet') WHERE \
         bbox.xmin <= E AND bbox.xmax >= W AND bbox.ymin <= N AND bbox.ymax >= S AND datetime BETWEEN …) TO OUT (FORMAT JSON)` \
         (`xtask/peers/geoparquet/duckdb_search.py`; bbox overlap only, so it may return a few items whose footprint misses \
         the box). On a shared machine the CPU ratio moves less than the wall ratio. Load average before: {}.\n",
        duckdb_version().unwrap_or_else(|| "?".into()),
        loadavg()
    )
    .unwrap();
    writeln!(report, "| query | tool | seconds | CPU seconds | items | peak RSS | time vs stac-gdal | CPU vs stac-gdal |\n|---|---|---|---|---|---|---|---|").unwrap();
    for q in &QUERIES {
        let our_out = dir.join("search-ours.ndjson");
        let duck_out = dir.join("search-duckdb.ndjson");
        let mut best_ours: Option<Measured> = None;
        let mut best_duck: Option<Measured> = None;
        let best = |best: &mut Option<Measured>, m: Measured| match best {
            Some(b) => {
                b.secs = b.secs.min(m.secs);
                b.cpu = b.cpu.min(m.cpu);
                b.rss_kb = b.rss_kb.max(m.rss_kb);
            }
            None => *best = Some(m),
        };
        for round in 0..ROUNDS {
            let mut o = Command::new(&ours);
            o.arg("search")
                .arg(&catalog)
                .arg(&our_out)
                .arg("--bbox")
                .arg(q.bbox.map(|v| v.to_string()).join(","))
                .arg("--datetime")
                .arg(format!("{}/{}", q.start, q.end));
            let mut d = Command::new(venv("python"));
            d.arg(peers().join("duckdb_search.py"))
                .arg(&glob)
                .arg(&duck_out)
                .args(q.bbox.map(|v| v.to_string()))
                .arg(q.start)
                .arg(q.end);
            let ours_name = format!("stac-gdal search {} #{round}", q.name);
            let duck_name = format!("duckdb search {} #{round}", q.name);
            if round % 2 == 0 {
                best(&mut best_ours, measured(&ours_name, o)?);
                best(&mut best_duck, measured(&duck_name, d)?);
            } else {
                best(&mut best_duck, measured(&duck_name, d)?);
                best(&mut best_ours, measured(&ours_name, o)?);
            }
        }
        let (o, d) = (best_ours.expect("ran"), best_duck.expect("ran"));
        let (no, nd) = (lines(&our_out), lines(&duck_out));
        writeln!(
            report,
            "| {} | **stac-gdal** | {:.2} | {:.2} | {no} | {} | 1.00× | 1.00× |",
            q.name,
            o.secs,
            o.cpu,
            mb(o.rss_kb)
        )
        .unwrap();
        writeln!(
            report,
            "| {} | DuckDB | {:.2} | {:.2} | {nd} | {} | {:.2}× | {:.2}× |",
            q.name,
            d.secs,
            d.cpu,
            mb(d.rss_kb),
            d.secs / o.secs,
            d.cpu / o.cpu
        )
        .unwrap();
        let _ = std::fs::remove_file(&our_out);
        let _ = std::fs::remove_file(&duck_out);
    }
    writeln!(report, "\nLoad average after: {}. Targets: the selective query ≥ 3× faster than DuckDB end to end, the 10 % query ≥ 1.5×.\n", loadavg()).unwrap();
    Ok(())
}

/// The writer defaults the search catalog was written with: a new name
/// when they change, so that the bench writes the catalog again (v2:
/// 64 KiB dictionaries, 4096-row pages in every column; the folder of v1
/// is left alone and may be deleted).
const CATALOG_WRITER: &str = "v2";

/// Runs of each search per tool (interleaved).
const ROUNDS: usize = 3;

/// The load averages of `/proc/loadavg` (1, 5, 15 minutes).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn duckdb_version() -> Option<String> {
    let mut c = Command::new(venv("python"));
    c.args(["-c", "import duckdb; print(duckdb.__version__)"]);
    crate::process::output(c).ok().map(|s| s.trim().to_owned())
}
