//! `cargo xtask bench stac-gdal-py`: the Python package `stac_gdal`
//! against odc-stac, in one Python process (`xtask/peers/cube/python_bench.py`),
//! on the cube benchmark's data: eager (`chunks=None`, `pool=N`), chunked
//! on Dask's threaded scheduler, chunked on a `LocalCluster` of N worker
//! processes, the same chunks for both. The extension is built in release
//! (`maturin develop --release`) for the run. A chunked load is timed when
//! persisted (the chunks loaded and held: the load itself) and when
//! computed (plus Dask's assembly of one array per band, and on the cluster
//! the gather to the client, which both tools pay alike). A fourth mode,
//! `cluster-nothp`, repeats the cluster cell with NumPy's huge-page advice
//! off in every process (both tools alike; not a target cell): it shows what
//! the gather costs on a VM whose host reclaims free guest memory.

use std::fmt::Write as _;
use std::process::Command;

use serde_json::Value;

use crate::process::{output, root};

/// Issue 17's targets: 2x odc-stac in each mode, peak memory no higher.
const TARGET_SPEEDUP: f64 = 2.0;

/// Run the comparison and append its section to `report`.
pub(crate) fn append(report: &mut String) -> Result<(), String> {
    crate::python_pkg::install_release()?;
    let dir = crate::bench::target_dir().join("bench-data/cube");
    crate::bench_cube::ensure_data(&dir)?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let load_before = crate::bench_cube::loadavg();
    let mut cmd = Command::new(crate::bench_cube::venv_python());
    cmd.arg(root().join("xtask/peers/cube/python_bench.py"))
        .arg(&dir)
        .arg(threads.to_string());
    eprintln!("xtask: ── stac_gdal vs odc-stac (Python, one process)");
    let text = output(cmd)?;
    let out: Value = serde_json::from_str(text.lines().last().unwrap_or(""))
        .map_err(|e| format!("python_bench.py: no JSON ({e}): {text}"))?;
    let load_after = crate::bench_cube::loadavg();
    writeln!(
        report,
        "## stac-gdal-py: stac_gdal.load vs odc.stac.load\n\n\
         The cube benchmark's data (24 scenes x 3 bands for `stack`, 12 days x 2 tiles \
         grouped by solar day for `mosaic`; uint16 DEFLATE COGs), loaded in one Python \
         process by `stac_gdal.load` (extension built in release) and `odc.stac.load` with \
         the same arguments and chunks (`time` 1, 2048 x 2048): eager with `pool={threads}`, \
         chunked on Dask's threaded scheduler ({threads} workers), chunked on a LocalCluster \
         of {threads} worker processes (1 thread each; result gathered to the client). \
         A chunked load is timed in the same run when persisted (`ds.persist()`: every \
         chunk loaded and held, in this process or on the workers; the *persisted* columns) \
         and when computed (`.compute()` of the persisted Dataset: Dask assembles one \
         NumPy array per band, after gathering the chunks to the client on the cluster; \
         that part is the same work for both tools). \
         Best of 5 runs, tools alternated; before each run Python's garbage is collected \
         and glibc's freed memory handed back to the system (`malloc_trim(0)`) in this \
         process and the workers, so that no run starts on memory an earlier run (of either \
         tool) freed but the process kept; peak = sampled RSS (this process, plus the \
         workers on the cluster) above its level before the load, lower of the runs \
         (the first also imports); *persisted peak* is the same read when the persist ends \
         (every chunk loaded and held, nothing gathered: the load's own memory). CPU = user + system time of the same processes over the \
         load (lower of the runs; on a shared machine it moves less than the wall time). \
         Target: at least {TARGET_SPEEDUP}x odc-stac, peak memory no higher. \
         *cluster-nothp* (not a target cell) is the cluster cell on a second LocalCluster \
         whose workers, and this process during the run, keep NumPy from advising its large \
         buffers as transparent huge pages (`NUMPY_MADVISE_HUGEPAGE=0`, both tools alike): \
         on this virtual machine the host reclaims free guest memory, so every fresh 2 MiB \
         page of Dask's receive buffers and per-band concatenation also faults in the host, \
         and most of the computed - persisted time of the cluster cell is that (profiled: \
         `clear_page_erms` under the page faults was 43% of the CPU of the gather). \
         Load average before/after: {load_before} / {load_after} (the machine was shared).\n"
    )
    .unwrap();
    writeln!(
        report,
        "| case | mode | stac_gdal | odc-stac | speed-up | CPU s (ours / odc) | CPU ratio | persisted s (ours / odc) | persisted speed-up | persisted CPU ratio | peak MiB (ours / odc) | persisted peak MiB (ours / odc) | same pixels |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    .unwrap();
    let below = |speedup: f64, mode: &str| {
        if speedup >= TARGET_SPEEDUP || mode == "cluster-nothp" {
            ""
        } else {
            " (below target)"
        }
    };
    for case in ["stack", "mosaic"] {
        for mode in ["eager", "threads", "cluster", "cluster-nothp"] {
            let r = &out["cases"][case][mode];
            if r.is_null() {
                // Not run (`STAC_GDAL_BENCH_CASES` / `STAC_GDAL_BENCH_MODES`).
                continue;
            }
            let s = |t: &str, k: &str| r[t][k].as_f64().unwrap_or(f64::NAN);
            let (ours, odc) = (s("stac_gdal", "seconds"), s("odc-stac", "seconds"));
            let (ours_cpu, odc_cpu) = (s("stac_gdal", "cpu_seconds"), s("odc-stac", "cpu_seconds"));
            let persisted = if mode == "eager" {
                "— | — | —".to_owned()
            } else {
                let (p_ours, p_odc) = (
                    s("stac_gdal", "persist_seconds"),
                    s("odc-stac", "persist_seconds"),
                );
                let (pc_ours, pc_odc) = (
                    s("stac_gdal", "persist_cpu_seconds"),
                    s("odc-stac", "persist_cpu_seconds"),
                );
                format!(
                    "{p_ours:.2} / {p_odc:.2} s | {:.2}x{} | {:.2}x",
                    p_odc / p_ours,
                    below(p_odc / p_ours, mode),
                    pc_odc / pc_ours
                )
            };
            let persisted_peak = if mode == "eager" {
                "—".to_owned()
            } else {
                format!(
                    "{:.0} / {:.0}",
                    s("stac_gdal", "persist_peak_mib"),
                    s("odc-stac", "persist_peak_mib")
                )
            };
            writeln!(
                report,
                "| {case} | {mode} | {ours:.2} s | {odc:.2} s | {:.2}x{} | {ours_cpu:.2} / {odc_cpu:.2} | {:.2}x | {persisted} | {:.0} / {:.0} | {persisted_peak} | {} |",
                odc / ours,
                below(odc / ours, mode),
                odc_cpu / ours_cpu,
                s("stac_gdal", "peak_mib"),
                s("odc-stac", "peak_mib"),
                if r["same"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "**no**"
                },
            )
            .unwrap();
        }
    }
    writeln!(report).unwrap();
    Ok(())
}
