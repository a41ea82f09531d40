//! GeoParquet side by side: stac-gdal (`ndjson_io` example, release) vs
//! rustac (its CLI from the Python package; Rust does the work) vs
//! stac-geoparquet (Python), on the same generated Sentinel-2-like items.
//! Each tool converts NDJSON → Parquet (write) and Parquet → NDJSON (read),
//! file to file, zstd level 3, timed as whole processes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::process::{cargo, root, step};

/// Items generated (override with `STAC_GDAL_BENCH_GP_ITEMS`).
const DEFAULT_ITEMS: u64 = 100_000;

struct Run {
    tool: &'static str,
    write_s: f64,
    read_s: f64,
    bytes: u64,
}

fn timed(name: &str, mut cmd: Command) -> Result<f64, String> {
    eprintln!("xtask: ── {name}");
    let start = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("{name}: cannot start {:?}: {e}", cmd.get_program()))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    eprintln!("xtask:    {name}: {secs:.1}s");
    Ok(secs)
}

fn venv(program: &str) -> PathBuf {
    root().join("target/venvs/geoparquet/bin").join(program)
}

/// Run the comparison and append its section to `report`.
pub fn append(report: &mut String) -> Result<(), String> {
    let n: u64 = std::env::var("STAC_GDAL_BENCH_GP_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_ITEMS);
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
    let ours = crate::bench::target_dir().join("release/examples/ndjson_io");
    let dir = crate::bench::target_dir().join("bench-geoparquet");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let items = dir.join(format!("sentinel-2-{n}.ndjson"));
    let peers = root().join("xtask/peers/geoparquet");
    if !items.exists() {
        let mut generate = Command::new(venv("python"));
        generate
            .arg(peers.join("generate.py"))
            .arg(
                crate::process::root()
                    .join("../shared/data/stac-items/earthsearch-sentinel-2-c1-l2a.json"),
            )
            .arg(&items)
            .arg(n.to_string());
        step(&format!("generate {n} Sentinel-2-like items"), generate)?;
    }
    let out = |tool: &str, ext: &str| dir.join(format!("{tool}.{ext}"));
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut runs = Vec::new();

    let mut w = Command::new(&ours);
    w.arg("write")
        .arg(&items)
        .arg(out("stac-gdal", "parquet"))
        .arg("zstd");
    let write_s = timed("stac-gdal write", w)?;
    let mut r = Command::new(&ours);
    r.arg("read")
        .arg(out("stac-gdal", "parquet"))
        .arg(out("stac-gdal", "ndjson"));
    let read_s = timed("stac-gdal read", r)?;
    runs.push(Run {
        tool: "stac-gdal",
        write_s,
        read_s,
        bytes: size(&out("stac-gdal", "parquet")),
    });

    let mut w = Command::new(venv("rustac"));
    w.arg("translate")
        .arg(&items)
        .arg(out("rustac", "parquet"))
        .args(["--parquet-compression", "zstd(3)"]);
    let write_s = timed("rustac write", w)?;
    let mut r = Command::new(venv("rustac"));
    r.arg("translate")
        .arg(out("rustac", "parquet"))
        .arg(out("rustac", "ndjson"));
    let read_s = timed("rustac read", r)?;
    runs.push(Run {
        tool: "rustac 0.9.18 (CLI of the Python package)",
        write_s,
        read_s,
        bytes: size(&out("rustac", "parquet")),
    });

    let script = peers.join("peer_stac_geoparquet.py");
    let mut w = Command::new(venv("python"));
    w.arg(&script)
        .arg("write")
        .arg(&items)
        .arg(out("stac-geoparquet", "parquet"));
    let write_s = timed("stac-geoparquet write", w)?;
    let mut r = Command::new(venv("python"));
    r.arg(&script)
        .arg("read")
        .arg(out("stac-geoparquet", "parquet"))
        .arg(out("stac-geoparquet", "ndjson"));
    let read_s = timed("stac-geoparquet read", r)?;
    runs.push(Run {
        tool: "stac-geoparquet 0.8.3 (Python)",
        write_s,
        read_s,
        bytes: size(&out("stac-geoparquet", "parquet")),
    });

    let input_mb = size(&items) as f64 / 1e6;
    writeln!(
        report,
        "## stac-geoparquet: write and read {n} Sentinel-2-like items, side by side\n"
    )
    .unwrap();
    writeln!(
        report,
        "Items generated from `earthsearch-sentinel-2-c1-l2a.json` (varied ids, µs datetimes, geometries; {input_mb:.0} MB of NDJSON) by `xtask/peers/geoparquet/generate.py`. \
         Each tool converts NDJSON → Parquet (write) and its own Parquet → NDJSON (read), file to file, zstd level 3, timed as a whole process on the same machine in one run. \
         stac-gdal: `cargo run --release -p stac-geoparquet --example ndjson_io` (streaming Writer/Reader, schema unified over all items). \
         rustac truncates datetimes to milliseconds; stac-gdal keeps microseconds.\n"
    )
    .unwrap();
    writeln!(report, "| tool | write items/s | read items/s | file size | stac-gdal write speed-up | stac-gdal read speed-up | size vs stac-gdal |\n|---|---|---|---|---|---|---|").unwrap();
    let base = &runs[0];
    for r in &runs {
        writeln!(
            report,
            "| {} | {:.0} | {:.0} | {:.2} MB | {:.2}× | {:.2}× | {:.2}× |",
            r.tool,
            n as f64 / r.write_s,
            n as f64 / r.read_s,
            r.bytes as f64 / 1e6,
            r.write_s / base.write_s,
            r.read_s / base.read_s,
            r.bytes as f64 / base.bytes.max(1) as f64,
        )
        .unwrap();
    }
    writeln!(report, "\nTargets: ≥ 1.5× rustac and ≥ 5× stac-geoparquet on write and read; file no larger than rustac's.\n").unwrap();
    Ok(())
}
