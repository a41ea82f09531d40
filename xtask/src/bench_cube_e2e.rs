//! `cargo xtask bench cube-e2e`: what a CLI user waits for. The quick cube
//! (the first 6 scenes of the cube benchmark's `stack` case: 6 x 3 bands,
//! 2048², uint16) through `stac-gdal cube` (release), load only
//! (`--no-write`) and then written to every output format: a folder of
//! DEFLATE GeoTIFFs, of COGs, a NetCDF file, and a Zarr store when the
//! binary has the Zarr output. Each run is a whole process timed from the
//! outside (start, items, plan, load, write, exit), best of [`RUNS`],
//! interleaved; the ratio is to the load-only process, the target of issue
//! 19 being at most 1.5x for Zarr with the default codec. No run passes
//! `--checksum`: that flag adds a serial sum of every pixel (~0.25 s of
//! CPU on this cube, ~0.35 s of wall on 2 cores) which the load-only and
//! GeoTIFF runs paid and the Zarr and NetCDF runs did not, so it inflated
//! the ratio's denominator. The in-process load is the summary's
//! `io.load_seconds` (runs that keep the whole cube).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::bench_cube::{ASSETS, ensure_data, loadavg, measured};
use crate::process::{cargo, step};

/// Runs per variant (interleaved; the best time is reported).
const RUNS: usize = 3;
/// Scenes of the quick cube.
const SCENES: usize = 6;

/// One way of running the cube: a label, the output name (`None`: load only), extra flags.
struct Variant {
    label: &'static str,
    out: Option<&'static str>,
    extra: &'static [&'static str],
}

const VARIANTS: &[Variant] = &[
    Variant {
        label: "load only (`--no-write`)",
        out: None,
        extra: &["--no-write"],
    },
    Variant {
        label: "GeoTIFF folder (DEFLATE, tiled)",
        out: Some("e2e-tif"),
        extra: &[],
    },
    Variant {
        label: "COG folder (`--cog`)",
        out: Some("e2e-cog"),
        extra: &["--cog"],
    },
    Variant {
        label: "NetCDF (`-o X.nc`, DEFLATE 1, 512² chunks)",
        out: Some("e2e.nc"),
        extra: &[],
    },
    Variant {
        label: "Zarr (`-o X.zarr`, default codec)",
        out: Some("e2e.zarr"),
        extra: &[],
    },
];

fn remove(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
    let _ = std::fs::remove_file(path);
}

/// Run the comparison and append its section to `report`.
pub(crate) fn append(report: &mut String) -> Result<(), String> {
    step(
        "build stac-gdal (release)",
        cargo(&["build", "--release", "-p", "stac-gdal-cli"]),
    )?;
    let bin = crate::bench::target_dir().join("release/stac-gdal");
    let dir = crate::bench::target_dir().join("bench-data/cube");
    ensure_data(&dir)?;
    let items = dir.join("stack.json");
    let rss_file = dir.join("rss-e2e.txt");
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let before = loadavg();
    // (best wall seconds, peak RSS KiB, in-process load seconds, skipped reason)
    let mut best: Vec<(f64, u64, Option<f64>, Option<String>)> = VARIANTS
        .iter()
        .map(|_| (f64::INFINITY, 0, None, None))
        .collect();
    for r in 0..RUNS {
        for k in 0..VARIANTS.len() {
            let i = (k + r) % VARIANTS.len();
            let v = &VARIANTS[i];
            if best[i].3.is_some() {
                continue;
            }
            let mut cmd = Command::new(&bin);
            cmd.arg("cube")
                .arg(&items)
                .args(["--asset", ASSETS, "--quiet"])
                .args(["--max-items", &SCENES.to_string()])
                .args(["--threads", &threads.to_string()])
                .args(v.extra);
            if let Some(o) = v.out {
                remove(&dir.join(o));
                cmd.arg("--out").arg(dir.join(o));
            }
            let started = Instant::now();
            let result = measured(v.label, &cmd, &rss_file);
            let seconds = started.elapsed().as_secs_f64();
            if let Some(o) = v.out {
                remove(&dir.join(o));
            }
            let zarr = v.out.is_some_and(|o| o.ends_with(".zarr"));
            match result {
                // A binary without the Zarr output writes a GeoTIFF folder
                // named X.zarr; its summary has no `zarr` report.
                Ok((out, _)) if zarr && out.get("zarr").is_none() => {
                    best[i].3 = Some("no Zarr output: wrote a GeoTIFF folder".into());
                }
                Ok((out, rss)) => {
                    let b = &mut best[i];
                    if seconds < b.0 {
                        b.0 = seconds;
                        b.2 = out["io"]["load_seconds"].as_f64();
                    }
                    b.1 = b.1.max(rss);
                }
                // An output this binary does not have (Zarr before it lands).
                Err(e) if zarr => {
                    best[i].3 = Some(e.lines().last().unwrap_or("").to_owned());
                }
                Err(e) => return Err(e),
            }
        }
    }
    let _ = std::fs::remove_file(&rss_file);
    let after = loadavg();
    let load = best[0].0;
    writeln!(
        report,
        "## stac-cube: end-to-end CLI time per output format\n\n\
         `stac-gdal cube` (release) on the cube benchmark's first {SCENES} `stack` scenes \
         ({SCENES} x 3 bands, 2048², uint16, {threads} threads), each run a whole process \
         timed from outside (start, items, plan, load, write), best of {RUNS} interleaved runs; \
         the ratio is to the load-only process. No run computes `--checksum` (a serial pass \
         over every pixel that only the load-only and GeoTIFF runs paid before this table). GeoTIFF timesteps are compressed in parallel \
         (one writer per core); NetCDF strips are written on a writer thread while the next \
         strip loads. Load average before / after: {before} / {after}.\n"
    )
    .unwrap();
    writeln!(
        report,
        "| output | end-to-end | in-process load | ratio to load only | peak RSS |\n|---|---|---|---|---|"
    )
    .unwrap();
    for (v, (secs, rss, inside, skipped)) in VARIANTS.iter().zip(&best) {
        if let Some(why) = skipped {
            writeln!(report, "| {} | not in this build ({why}) | | | |", v.label).unwrap();
            continue;
        }
        writeln!(
            report,
            "| {} | {secs:.2} s | {} | {:.2}x | {} MiB |",
            v.label,
            inside.map_or("-".into(), |s| format!("{s:.2} s")),
            secs / load,
            rss / 1024
        )
        .unwrap();
    }
    writeln!(report).unwrap();
    Ok(())
}
