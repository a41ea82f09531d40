//! The cube loader over HTTP with object-storage latency (issue 20): real
//! nginx on 127.0.0.1 answering every request after a fixed delay
//! (`latency_nginx`), real COGs, the default settings.
//!
//! What it proves, from nginx's access log (not from wall time):
//! - the load keeps at least 8 requests in flight on average (the I/O
//!   stage runs apart from the two-ish decode threads);
//! - every file's header is fetched once (one HEAD and one header read per
//!   file), and every request carries `stac-gdal/<version>` and no
//!   `Upgrade: h2c`;
//! - the pixels equal a local load of the same files, for a time stack and
//!   for a same-day mosaic (two items per day, each file read by two tasks);
//! - the load's JSON summary counts what nginx saw (requests, bytes) and
//!   reports no misses;
//! - header fetches are no barrier: with fewer I/O threads than files,
//!   the first tile fetch starts before the last header read ends.
#![allow(unused_crate_dependencies)] // a test/bench/example target shares its package's dev-dependencies

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use stac_gdal::cube::{CubeOptions, DatasetCollection, GroupBy};
use stac_gdal_e2e::latency_nginx::{DelayedNginx, Request, Traffic};

/// Files: 1024 x 1024 uint16 DEFLATE COGs in 256-px tiles.
const SIZE: usize = 1024;
const DAYS: usize = 12;

/// A COG whose pixels depend on `k` (so a mix-up between files shows).
fn write_cog(dir: &Path, name: &str, k: usize) {
    let arr = ndarray::Array2::from_shape_fn((SIZE, SIZE), |(r, c)| {
        ((r * 7 + c * 3 + k * 101) % 60000 + 1) as u16
    });
    let tif = dir.join(format!("{name}.src.tif"));
    stac_gdal::raster::Dataset::create_from_array(
        &arr,
        &stac_gdal::raster::GridSpec::north_up(
            [600000.0 + (k % 2) as f64 * 5120.0, 5300000.0],
            10.0,
            32630,
        ),
        Some(0.0),
    )
    .unwrap()
    .to_file(&tif)
    .unwrap();
    let out = Command::new("gdal_translate")
        .args([
            "-q",
            "-of",
            "COG",
            "-co",
            "BLOCKSIZE=256",
            "-co",
            "COMPRESS=DEFLATE",
        ])
        .arg(&tif)
        .arg(dir.join(format!("{name}.tif")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&tif).unwrap();
}

/// Item `k`: day `k / 2`, the west (even) or east (odd) half of the strip.
fn item(k: usize, href: String) -> Value {
    let x0 = 600000.0 + (k % 2) as f64 * 5120.0;
    json!({
        "type": "Feature", "stac_version": "1.0.0", "id": format!("scene-{k:02}"),
        "bbox": [-3.0, 47.0, -2.0, 48.0],
        "geometry": null,
        "properties": {
            "datetime": format!("2024-05-{:02}T10:{:02}:00Z", 1 + k / 2, k % 2),
            "proj:epsg": 32630,
            "proj:shape": [SIZE, SIZE],
            "proj:transform": [10.0, 0.0, x0, 0.0, -10.0, 5300000.0],
        },
        "assets": {"B04": {
            "href": href,
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "raster:bands": [{"data_type": "uint16", "nodata": 0}],
        }},
        "links": [],
    })
}

fn load(items: &[Value], options: &CubeOptions) -> DatasetCollection {
    DatasetCollection::from_stac(items, &["B04"], options).unwrap()
}

/// The test files, under `dir`.
fn write_cogs(dir: &Path) {
    for k in 0..DAYS * 2 {
        write_cog(dir, &format!("s{k:02}"), k);
    }
}

/// Items of the test files read from `base` (a directory or a URL).
fn items_at(base: impl Fn(&str) -> String) -> Vec<Value> {
    (0..DAYS * 2)
        .map(|k| item(k, base(&format!("s{k:02}.tif"))))
        .collect()
}

/// With fewer I/O threads than files, the header fetches are no barrier:
/// the first tile fetch starts while headers of later files are still
/// being fetched (measured from nginx's log: request order, not wall
/// time). Before, every header was fetched before any tile, so at 60 ms a
/// load of 72 files with 16 I/O threads waited ~10 round trips for its
/// first bytes to decode. The pixels still equal a local load, and each
/// file's header is still fetched once.
#[test]
fn headers_do_not_hold_back_the_first_tile_fetch() {
    let dir = tempfile::tempdir().unwrap();
    write_cogs(dir.path());
    let server = DelayedNginx::start(dir.path(), Duration::from_millis(20));
    let options = CubeOptions::default().with_io_concurrency(2);
    let want = load(
        &items_at(|f| dir.path().join(f).display().to_string()),
        &options,
    );
    let mark = server.mark();
    let got = load(&items_at(|f| server.url(f)), &options);
    let log = server.requests_since(mark);
    let traffic = Traffic::of(&log);
    assert!(
        got.read_array::<u16>() == want.read_array::<u16>(),
        "the pixels over HTTP differ from the local load"
    );
    assert_eq!(traffic.errors, 0);
    assert_eq!(traffic.files, DAYS * 2);
    assert_eq!(traffic.heads, traffic.files, "one HEAD per file");
    assert_eq!(
        traffic.header_reads, traffic.files,
        "one header read per file"
    );
    let first_tile = log
        .iter()
        .filter(|r| r.method == "GET" && !r.is_header_read())
        .map(|r| r.start)
        .fold(f64::INFINITY, f64::min);
    let last_header = log
        .iter()
        .filter(|r| r.is_header_read())
        .map(Request::end)
        .fold(0.0, f64::max);
    assert!(
        first_tile < last_header,
        "the first tile fetch started {:.3} s after the last header read ended: \
         headers were fetched as a barrier",
        first_tile - last_header
    );
}

#[test]
fn default_load_keeps_requests_in_flight_and_matches_local() {
    let dir = tempfile::tempdir().unwrap();
    write_cogs(dir.path());
    // A copy per case: GDAL's /vsicurl/ cache is process-wide, and the
    // second case must fetch from the server as a fresh process would.
    for case in ["stack", "mosaic"] {
        std::fs::create_dir(dir.path().join(case)).unwrap();
        for k in 0..DAYS * 2 {
            let name = format!("s{k:02}.tif");
            std::fs::copy(dir.path().join(&name), dir.path().join(case).join(&name)).unwrap();
        }
    }
    let server = DelayedNginx::start(dir.path(), Duration::from_millis(80));
    let local: Vec<Value> = (0..DAYS * 2)
        .map(|k| {
            item(
                k,
                dir.path()
                    .join(format!("s{k:02}.tif"))
                    .display()
                    .to_string(),
            )
        })
        .collect();

    for (case, options) in [
        ("stack", CubeOptions::default()),
        (
            "mosaic",
            CubeOptions::default()
                .with_groupby(GroupBy::SolarDay)
                .with_block_pixels(SIZE * 1024),
        ),
    ] {
        let remote: Vec<Value> = (0..DAYS * 2)
            .map(|k| item(k, server.url(&format!("{case}/s{k:02}.tif"))))
            .collect();
        let want = load(&local, &options);
        assert!(
            !want.io_report().staged,
            "{case}: local files take the local path"
        );
        let mark = server.mark();
        let got = load(&remote, &options);
        let traffic = Traffic::of(&server.requests_since(mark));
        let io = got.io_report().clone();
        eprintln!("{case}: nginx {} / summary {:?}", traffic.to_json(), io);

        assert_eq!(got.shape(), want.shape(), "{case}");
        assert!(
            got.read_array::<u16>() == want.read_array::<u16>(),
            "{case}: the pixels over HTTP differ from the local load"
        );
        assert!(io.staged, "{case}: remote files go through the I/O stage");
        assert_eq!(traffic.errors, 0, "{case}");
        assert!(
            traffic.mean_in_flight >= 8.0,
            "{case}: {:.1} requests in flight on average (nginx log), want >= 8",
            traffic.mean_in_flight
        );
        // Headers once per file, whatever the concurrency.
        assert_eq!(traffic.files, DAYS * 2, "{case}");
        assert!(
            traffic.heads <= traffic.files,
            "{case}: {} HEADs",
            traffic.heads
        );
        assert!(
            traffic.header_reads <= traffic.files,
            "{case}: {} header reads for {} files",
            traffic.header_reads,
            traffic.files
        );
        // Request hygiene.
        assert_eq!(traffic.without_user_agent, 0, "{case}");
        assert_eq!(traffic.h2c_upgrades, 0, "{case}");
        let ua = server.requests_since(mark)[0]
            .user_agent
            .clone()
            .unwrap_or_default();
        assert!(ua.starts_with("stac-gdal/"), "{case}: User-Agent {ua:?}");
        // The summary counts what the server saw.
        assert_eq!(io.misses, Some(0), "{case}");
        assert_eq!(io.requests, Some(traffic.requests as u64), "{case}");
        let fetched = io.bytes_fetched.unwrap_or(0);
        assert!(
            fetched <= traffic.body_bytes && traffic.body_bytes <= fetched + fetched / 4,
            "{case}: summary {fetched} bytes, nginx {} body bytes",
            traffic.body_bytes
        );
        assert!(io.peak_bytes_in_flight <= io.io_bytes_cap.max(1), "{case}");
        let summary = got.summary();
        assert_eq!(summary["io"]["requests"], json!(traffic.requests), "{case}");
    }
}
