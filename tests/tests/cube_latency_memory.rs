//! The memory bound of a remote cube load (issue 20): `stac-gdal cube
//! --no-write` over a real nginx that answers every request after 20 ms
//! (`latency_nginx`), with the default settings (an I/O stage of 16 fetcher
//! threads ahead of the decode threads), loads a 604 MB cube, the size of
//! the latency benchmark's time stack: 24 timesteps × 3 bands × 2048²
//! uint16, from 72 DEFLATE COGs in 512-px tiles (three files of noisy
//! pixels, each served under 24 names, so every URL is a file of its own
//! to GDAL and to the stage).
//!
//! While it runs, the test polls the process's peak resident set
//! (`VmHWM` in `/proc/<pid>/status`) and asserts that it stays at or below
//! 1.3 × the output + the stage's in-flight cap (from the summary). The
//! bound is the issue's; before the allocator settings of
//! `stac-gdal-cli/src/allocator.rs` the same load peaked ~100 MB above it
//! (freed GDAL download buffers and fetched ranges kept by glibc and
//! mimalloc). It also checks the load really went through the stage over
//! HTTP (nginx saw every file's bytes, the summary counts no miss) and that
//! the pixels are the files' (band sums).
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stac_gdal_e2e::latency_nginx::{DelayedNginx, Traffic};
use stac_gdal_e2e::stac_gdal_bin;

const SIDE: usize = 2048;
const TIMESTEPS: usize = 24;
const BANDS: [&str; 3] = ["B1", "B2", "B3"];

/// Pixel of band `b` at (r, c): hashed, so DEFLATE keeps ~70 % of the
/// bytes (like real reflectances, unlike a gradient).
fn pixel(b: usize, r: usize, c: usize) -> u16 {
    let h =
        (r as u64 * 7919 + c as u64 * 104_729 + b as u64 * 1_000_003).wrapping_mul(2_654_435_761);
    ((h >> 20) % 4000 + 1) as u16
}

fn write_cog(dir: &Path, b: usize) {
    let arr = ndarray::Array2::from_shape_fn((SIDE, SIDE), |(r, c)| pixel(b, r, c));
    let tif = dir.join(format!("b{b}.src.tif"));
    stac_gdal::raster::Dataset::create_from_array(
        &arr,
        &stac_gdal::raster::GridSpec::north_up([600000.0, 5300000.0], 10.0, 32630),
        Some(0.0),
    )
    .unwrap()
    .to_file(&tif)
    .unwrap();
    let out = Command::new("gdal_translate")
        .args(["-q", "-of", "COG", "-co", "BLOCKSIZE=512"])
        .args(["-co", "COMPRESS=DEFLATE", "-co", "OVERVIEWS=NONE"])
        .arg(&tif)
        .arg(dir.join(format!("b{b}.tif")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&tif).unwrap();
}

/// `VmHWM` (peak resident set) of a live process, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn a_remote_load_stays_under_one_point_three_times_the_output_plus_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    for b in 0..BANDS.len() {
        write_cog(&files, b);
        for t in 0..TIMESTEPS {
            std::os::unix::fs::symlink(
                files.join(format!("b{b}.tif")),
                files.join(format!("t{t:02}_b{b}.tif")),
            )
            .unwrap();
        }
    }
    let server = DelayedNginx::start(&files, Duration::from_millis(20));
    let items: Vec<Value> = (0..TIMESTEPS)
        .map(|t| {
            let assets: serde_json::Map<String, Value> = BANDS
                .iter()
                .enumerate()
                .map(|(b, key)| {
                    (
                        (*key).to_string(),
                        json!({
                            "href": server.url(&format!("t{t:02}_b{b}.tif")),
                            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                            "proj:epsg": 32630, "proj:shape": [SIDE, SIDE],
                            "proj:transform": [10.0, 0.0, 600000.0, 0.0, -10.0, 5300000.0],
                            "raster:bands": [{"data_type": "uint16", "nodata": 0}],
                        }),
                    )
                })
                .collect();
            json!({
                "type": "Feature", "stac_version": "1.0.0", "id": format!("scene-{t:02}"),
                "bbox": [-3.0, 47.0, -2.0, 48.0], "geometry": null,
                "properties": {"datetime": format!("2024-05-{:02}T10:00:00Z", t + 1)},
                "assets": assets, "links": [],
            })
        })
        .collect();
    let items_path = dir.path().join("items.json");
    std::fs::write(&items_path, serde_json::to_vec(&items).unwrap()).unwrap();

    let mark = server.mark();
    let started = Instant::now();
    let mut child = Command::new(stac_gdal_bin())
        .arg("cube")
        .arg(&items_path)
        .args([
            "--asset",
            &BANDS.join(","),
            "-q",
            "--no-write",
            "--checksum",
        ])
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // stdout is small (the summary): read after the exit.
    let mut peak = 0u64;
    loop {
        if let Some(hwm) = peak_rss(pid) {
            peak = peak.max(hwm);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("no end in 300 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let traffic = Traffic::of(&server.requests_since(mark));

    let output_bytes = (TIMESTEPS * BANDS.len() * SIDE * SIDE * 2) as u64;
    assert_eq!(
        summary["shape"],
        json!([TIMESTEPS, BANDS.len(), SIDE, SIDE])
    );
    let io = &summary["io"];
    assert_eq!(io["staged"], true, "{io}");
    assert_eq!(io["misses"], 0, "{io}");
    let cap = io["io_bytes_cap"].as_u64().unwrap();
    assert!(cap > 0 && cap <= 256 << 20, "cap {cap}");
    // Every file's bytes came over HTTP, once.
    let file_bytes = std::fs::metadata(files.join("b0.tif")).unwrap().len();
    assert_eq!(traffic.files, TIMESTEPS * BANDS.len());
    assert!(
        traffic.body_bytes >= TIMESTEPS as u64 * 3 * file_bytes * 9 / 10,
        "nginx sent {} bytes",
        traffic.body_bytes
    );
    // The pixels are the files' (their sums, computed here).
    for (b, sum) in summary["checksum"]["band_sums"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let want: u64 = (0..SIDE)
            .flat_map(|r| (0..SIDE).map(move |c| u64::from(pixel(b, r, c))))
            .sum::<u64>()
            * TIMESTEPS as u64;
        assert_eq!(sum.as_f64().unwrap(), want as f64, "band {b}");
    }

    let bound = output_bytes + output_bytes * 3 / 10 + cap;
    eprintln!(
        "remote load of {} MB: peak RSS {} MB, bound {} MB (1.3 x output + cap {} MB); \
         {} requests, {:.1} in flight",
        output_bytes / 1_000_000,
        peak / 1_000_000,
        bound / 1_000_000,
        cap / 1_000_000,
        traffic.requests,
        traffic.mean_in_flight,
    );
    assert!(
        peak <= bound,
        "peak RSS {} MB > 1.3 x output {} MB + cap {} MB",
        peak / 1_000_000,
        output_bytes / 1_000_000,
        cap / 1_000_000
    );
}
